use std::fs::File;
use std::process::Command;
use std::time::{Duration, Instant};

use dcx_sys::{Cancel, CancelReason, Supervision, Termination, run};

use crate::{alive, dies_within, read_pid};

fn sh(script: &str) -> Command {
    let mut command = Command::new("/bin/sh");
    command.arg("-c").arg(script);
    command
}

fn supervision(deadline: Option<u64>) -> Supervision {
    Supervision::new(deadline.map(Duration::from_millis), Duration::from_millis(500))
}

#[test]
fn exit_codes_and_signals_from_elsewhere() {
    let finished = run(sh("exit 3"), &supervision(None), &Cancel::new()).unwrap();
    assert_eq!(finished.termination, Termination::Exited(3));
    assert_eq!(finished.termination.exit_code(), 3);
    let finished = run(sh("kill -SEGV $$"), &supervision(None), &Cancel::new()).unwrap();
    assert_eq!(finished.termination, Termination::Signaled(11));
    assert_eq!(finished.termination.exit_code(), 139);
    assert_eq!(dcx_sys::signal_name(11), Some("SIGSEGV"));
}

#[test]
fn output_goes_where_the_caller_says_and_stdin_is_null() {
    let dir = tempfile::tempdir().unwrap();
    let log = File::create(dir.path().join("log")).unwrap();
    let mut command = sh("echo out; echo err >&2; cat; echo done");
    command.stdout(log.try_clone().unwrap()).stderr(log);
    let finished = run(command, &supervision(None), &Cancel::new()).unwrap();
    assert!(finished.termination.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("log")).unwrap(),
        "out\nerr\ndone\n"
    );
}

#[test]
fn a_deadline_stops_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild");
    let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let started = Instant::now();
    let finished = run(sh(&script), &supervision(Some(300)), &Cancel::new()).unwrap();
    assert_eq!(finished.termination, Termination::TimedOut);
    assert_eq!(finished.termination.exit_code(), 124);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(dies_within(read_pid(&pid_file), Duration::from_secs(5)));
}

#[test]
fn a_member_still_exiting_after_a_deadline_is_not_a_straggler() {
    // The deadline signals the whole group at once; the leader dies at
    // once, a member with a slow TERM handler a moment later. That member
    // was stopped by dcx, not left behind: the count is 0 whichever the
    // kernel finished first, and the member is gone when `run` returns.
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("slow");
    let script = format!(
        "sh -c 'trap \"sleep 0.5; exit 0\" TERM; echo $$ > {}; while :; do sleep 0.05; done' & sleep 0.2; exec sleep 30",
        pid_file.display()
    );
    let finished = run(sh(&script), &supervision(Some(600)), &Cancel::new()).unwrap();
    assert_eq!(finished.termination, Termination::TimedOut);
    assert_eq!(finished.stragglers, 0);
    let pid = read_pid(&pid_file);
    assert!(
        dies_within(pid, Duration::from_secs(1)),
        "slow member {pid} survived"
    );
}

#[test]
fn a_passing_command_takes_its_background_children_with_it() {
    // `status report --command "sh -c 'sleep 100 & echo bg'"`: the shell
    // exits 0 at once, its `sleep` must not outlive it.
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("bg");
    let script = format!("sleep 100 & echo $! > '{}'; echo bg", pid_file.display());
    let finished = run(sh(&script), &supervision(None), &Cancel::new()).unwrap();
    assert_eq!(finished.termination, Termination::Exited(0));
    assert_eq!(finished.stragglers, 1);
    let pid = read_pid(&pid_file);
    assert!(
        dies_within(pid, Duration::from_secs(5)),
        "background child {pid} survived"
    );
}

#[test]
fn a_straggler_that_ignores_term_is_killed_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("bg");
    let script = format!(
        "sh -c 'trap \"\" TERM; echo $$ > {}; sleep 100' & sleep 0.2; exit 0",
        pid_file.display()
    );
    let started = Instant::now();
    let finished = run(sh(&script), &supervision(None), &Cancel::new()).unwrap();
    assert!(finished.termination.success());
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(dies_within(read_pid(&pid_file), Duration::from_secs(5)));
}

#[test]
fn a_cancellation_forwards_the_signal_dcx_received() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen");
    let script = format!(
        "trap 'echo INT > {}; exit 7' INT; while :; do sleep 0.05; done",
        seen.display()
    );
    let cancel = Cancel::new();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            cancel.cancel_by_signal(2);
        })
    };
    let finished = run(sh(&script), &supervision(None), &cancel).unwrap();
    canceller.join().unwrap();
    assert_eq!(
        finished.termination,
        Termination::Cancelled(CancelReason::Signal(2))
    );
    assert_eq!(finished.termination.exit_code(), 130);
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "INT\n");
}

#[test]
fn a_requested_stop_terminates_and_kills_after_the_grace() {
    let cancel = Cancel::new();
    cancel.cancel("kill switch engaged: flaky");
    let finished = run(sh("trap '' TERM; sleep 30"), &supervision(None), &cancel).unwrap();
    assert_eq!(
        finished.termination,
        Termination::Cancelled(CancelReason::Requested("kill switch engaged: flaky".into()))
    );
    assert_eq!(finished.termination.exit_code(), 143);
}

#[test]
fn a_program_that_cannot_start_is_an_error() {
    let err = run(
        Command::new("/nonexistent/program"),
        &supervision(None),
        &Cancel::new(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

/// Not a test of its own: the body of a dcx-like process that
/// `the_command_dies_with_dcx_even_on_sigkill` starts and then kills.
#[test]
#[ignore = "helper process for the_command_dies_with_dcx_even_on_sigkill"]
fn helper_supervisor() {
    let Ok(pid_file) = std::env::var("DCX_SYS_HELPER_PID_FILE") else {
        return;
    };
    let script = format!("echo $$ > '{pid_file}'; exec sleep 30");
    let _ = run(sh(&script), &supervision(None), &Cancel::new());
}

#[test]
fn the_command_dies_with_dcx_even_on_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child");
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "process::helper_supervisor",
            "--ignored",
            "--nocapture",
        ])
        .env("DCX_SYS_HELPER_PID_FILE", &pid_file)
        .spawn()
        .unwrap();
    let child = read_pid(&pid_file);
    assert!(alive(child));
    helper.kill().unwrap();
    helper.wait().unwrap();
    assert!(
        dies_within(child, Duration::from_secs(5)),
        "the command {child} outlived its supervisor"
    );
}
