//! The producer (`dcx status report`): commands run in order with a
//! timeout, the verdict follows them, artifacts are hashed, and the report
//! plus its sidecar are written valid.

use std::path::PathBuf;
use std::time::Duration;

use dcx_contracts::Timestamp;
use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::document::load;
use dcx_contracts::status::{CommandStatus, LaneClass, OverallStatus, RunnerStatusReport};
use dcx_status_ingest::{
    CommandRun, ProducerError, ReportIdentity, build_report, hash_artifacts, report_sidecar_path,
    report_supervision, run_commands, write_report,
};
use dcx_sys::{Cancel, CancelReason, Termination};

fn identity() -> ReportIdentity {
    ReportIdentity {
        runner_id: "rust".to_owned(),
        implementation_repo: "dc-runner-rust".to_owned(),
        release_version: "v1.4.0".to_owned(),
        commit_sha: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        lane_class: LaneClass::Required,
    }
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn commands(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| (*c).to_owned()).collect()
}

/// One command, run the way `dcx status report` runs each of its commands.
fn run_one(command: &str, timeout: Duration) -> CommandRun {
    let mut runs = run_commands(
        &commands(&[command]),
        &report_supervision(timeout),
        &Cancel::new(),
        |_| {},
    )
    .unwrap();
    assert_eq!(runs.len(), 1);
    runs.remove(0)
}

/// The verdict a report of `runs` carries.
fn verdict(runs: &[CommandRun]) -> OverallStatus {
    build_report(
        &identity(),
        runs,
        Vec::new(),
        at("2026-02-20T00:00:00Z"),
        Duration::from_secs(72 * 3600),
    )
    .unwrap()
    .overall_status
}

#[test]
fn commands_run_in_order_and_the_report_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    let runs = run_commands(
        &commands(&[
            &format!("echo first >> '{}'", trail.display()),
            &format!("echo second >> '{}'; exit 0", trail.display()),
        ]),
        &report_supervision(Duration::from_secs(30)),
        &Cancel::new(),
        |_| {},
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&trail).unwrap(), "first\nsecond\n");
    assert!(runs.iter().all(|r| r.result.status == CommandStatus::Pass));

    let artifact = dir.path().join("dc-runner-rust-linux-x86_64.tar.gz");
    std::fs::write(&artifact, b"release bytes").unwrap();
    let artifacts = hash_artifacts(
        std::slice::from_ref(&artifact),
        "https://github.com/o/dc-runner-rust/releases/download/v1.4.0/",
    )
    .unwrap();
    assert_eq!(
        artifacts[0].url,
        "https://github.com/o/dc-runner-rust/releases/download/v1.4.0/dc-runner-rust-linux-x86_64.tar.gz"
    );
    assert_eq!(artifacts[0].sha256, sha256_bytes(b"release bytes"));

    let report = build_report(
        &identity(),
        &runs,
        artifacts,
        at("2026-02-20T00:00:00Z"),
        Duration::from_secs(72 * 3600),
    )
    .unwrap();
    assert_eq!(report.overall_status, OverallStatus::Pass);
    assert_eq!(report.fresh_until, at("2026-02-23T00:00:00Z"));

    let out = dir.path().join("out/runner-status-report-v1.json");
    let digest = write_report(&out, &report).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(sha256_bytes(&bytes), digest);
    assert_eq!(
        std::fs::read_to_string(report_sidecar_path(&out)).unwrap(),
        format!("{digest}  runner-status-report-v1.json\n")
    );
    // What ingest will read: the same report, warning-free.
    let loaded = load::<RunnerStatusReport>(&out).unwrap();
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.document, report);
}

#[test]
fn a_failure_outranks_a_timeout_and_every_command_still_runs() {
    let runs = run_commands(
        // Long enough for `exit 3` and `true` on a busy machine.
        &commands(&["exit 3", "sleep 30", "true"]),
        &report_supervision(Duration::from_secs(3)),
        &Cancel::new(),
        |_| {},
    )
    .unwrap();
    let summary: Vec<(CommandStatus, i32, bool)> = runs
        .iter()
        .map(|r| (r.result.status, r.result.exit_code, r.timed_out))
        .collect();
    assert_eq!(
        summary,
        [
            (CommandStatus::Fail, 3, false),
            (CommandStatus::Fail, Termination::TIMED_OUT_EXIT_CODE, true),
            (CommandStatus::Pass, 0, false),
        ]
    );
    assert_eq!(verdict(&runs), OverallStatus::Fail);
    assert_eq!(verdict(&runs[1..]), OverallStatus::Degraded);
    assert_eq!(verdict(&runs[2..]), OverallStatus::Pass);
    assert_eq!(verdict(&[]), OverallStatus::Unknown);
}

#[cfg(target_os = "linux")]
#[test]
fn a_timeout_kills_what_the_command_started() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
    // Long enough for the shell to start `sleep` and write its pid.
    let run = run_one(&script, Duration::from_secs(2));
    assert!(run.timed_out);
    assert_gone(&pid_file, "the timeout");
}

/// The process whose pid is in `pid_file` is gone, or a zombie waiting for
/// its new parent to reap it. SIGKILL is delivered asynchronously, so the
/// process may still show as running for a moment after the kill: wait for
/// it (bounded), never sample once.
#[cfg(target_os = "linux")]
fn assert_gone(pid_file: &std::path::Path, after: &str) {
    let pid = std::fs::read_to_string(pid_file).unwrap();
    let state = || {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .ok()
            .and_then(|stat| stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next()))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut last = state();
    while !matches!(last, None | Some(Some('Z'))) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        last = state();
    }
    assert!(
        matches!(last, None | Some(Some('Z'))),
        "the background sleep survived {after} (10 s after the kill): {last:?}"
    );
}

/// The issue's `sh -c 'sleep 100 & echo bg'`: the command passes, and the
/// `sleep` it left behind is stopped with it rather than outliving it.
#[cfg(target_os = "linux")]
#[test]
fn a_passing_command_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let script = format!("sleep 100 & echo $! > '{}'; echo bg", pid_file.display());
    let started = std::time::Instant::now();
    let run = run_one(&script, Duration::from_secs(60));
    assert_eq!(run.termination, Termination::Exited(0));
    assert_eq!(
        (run.result.status, run.result.exit_code),
        (CommandStatus::Pass, 0)
    );
    assert!(!run.timed_out);
    assert_eq!(run.stragglers, 1, "the background sleep was found and stopped");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "waited for the background sleep: {:?}",
        started.elapsed()
    );
    assert_gone(&pid_file, "the passing run");
}

/// A cancellation (what dcx does on SIGINT/SIGTERM) stops the running
/// command's whole group, records how it ended, and runs nothing after it.
#[cfg(target_os = "linux")]
#[test]
fn a_cancel_stops_the_running_group_and_runs_nothing_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let trail = dir.path().join("trail");
    let cancel = Cancel::new();
    let canceller = {
        let (cancel, pid_file) = (cancel.clone(), pid_file.clone());
        std::thread::spawn(move || {
            let until = std::time::Instant::now() + Duration::from_secs(20);
            while !pid_file.exists() && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            cancel.cancel_by_signal(15);
        })
    };
    let mut seen = Vec::new();
    let started = std::time::Instant::now();
    let error = run_commands(
        &commands(&[
            &format!("sleep 30 & echo $! > '{}'; wait", pid_file.display()),
            &format!("echo never >> '{}'", trail.display()),
        ]),
        &report_supervision(Duration::from_secs(60)),
        &cancel,
        |run| seen.push(run.clone()),
    )
    .unwrap_err();
    canceller.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    match &error {
        ProducerError::Cancelled { command, reason } => {
            assert!(command.starts_with("sleep 30 &"), "{command}");
            assert_eq!(*reason, CancelReason::Signal(15));
        }
        other => panic!("{other}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("cancelled (SIGTERM) while running command \"sleep 30 &"),
        "{error}"
    );
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].termination,
        Termination::Cancelled(CancelReason::Signal(15))
    );
    assert_eq!(
        (seen[0].result.status, seen[0].result.exit_code),
        (CommandStatus::Fail, 143)
    );
    assert!(!trail.exists(), "a command after the cancellation ran");
    assert_gone(&pid_file, "the cancellation");
}

#[test]
fn a_signal_is_128_plus_its_number() {
    let run = run_one("kill -TERM $$", Duration::from_secs(30));
    assert_eq!(
        (run.result.status, run.result.exit_code),
        (CommandStatus::Fail, 128 + 15)
    );
}

#[test]
fn an_invalid_report_is_never_written() {
    let mut identity = identity();
    identity.commit_sha = "HEAD".to_owned();
    let error = build_report(
        &identity,
        &[],
        Vec::new(),
        at("2026-02-20T00:00:00Z"),
        Duration::from_secs(3600),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the report would be invalid: /commit_sha: expected a git commit id (40 or 64 lowercase hex characters), got \"HEAD\""
    );
}

#[test]
fn duplicate_artifact_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join("tool.tar.gz"), sub).unwrap();
    }
    let paths: Vec<PathBuf> = ["a", "b"]
        .iter()
        .map(|s| dir.path().join(s).join("tool.tar.gz"))
        .collect();
    let artifacts = hash_artifacts(&paths, "https://example.invalid/dl").unwrap();
    let error = build_report(
        &identity(),
        &[],
        artifacts,
        at("2026-02-20T00:00:00Z"),
        Duration::from_secs(3600),
    )
    .unwrap_err();
    assert!(matches!(error, ProducerError::Invalid { .. }), "{error}");
    assert!(error.to_string().contains("/artifact_refs/1/name"), "{error}");
}

#[test]
fn a_missing_artifact_is_named() {
    let error = hash_artifacts(
        &[PathBuf::from("/nonexistent/dcx/tool.tar.gz")],
        "https://x.invalid",
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot hash artifact /nonexistent/dcx/tool.tar.gz: No such file or directory (os error 2)"
    );
}
