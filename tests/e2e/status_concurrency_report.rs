//! `dcx status report` and its children: nothing a command starts outlives
//! it (the issue's `sh -c 'sleep 100 & echo bg'`), SIGINT/SIGTERM to dcx
//! stop the running command's group and write no report (exit 130/143),
//! and a closed stdout or /dev/full never panics. Real `dcx`, real
//! signals, real processes.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::output::{dev_full, output_with_stdout};
use crate::support::process::{read_pid, signal, survivors};
use crate::support::text;

/// `dcx status report` in `dir` running `commands`, writing `report.json`.
fn report(dir: &Path, commands: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command.current_dir(dir).args([
        "status",
        "report",
        "--runner-id",
        "rust",
        "--implementation-repo",
        "dc-runner-rust",
        "--release-version",
        "v1.4.0",
        "--commit-sha",
        "0123456789abcdef0123456789abcdef01234567",
        "--lane-class",
        "required",
        "--now",
        "2026-02-20T00:00:00Z",
        "--out",
        "report.json",
    ]);
    for c in commands {
        command.args(["--command", c]);
    }
    command
}

/// Waits (bounded) until the process in `file` is gone: signals are
/// delivered asynchronously.
fn assert_gone(file: &Path, what: &str) {
    let pid = read_pid(file);
    assert!(
        survivors(&[pid], Duration::from_secs(10)).is_empty(),
        "{what} survived"
    );
}

/// The table: the command passes and leaves `sleep 100` behind,
/// holding dcx's stdout. dcx stops it when the command ends: the run
/// finishes at once (a reader of its output is not kept waiting 100 s),
/// the report says pass, and the sleep is gone.
#[cfg(target_os = "linux")]
#[test]
fn a_passing_command_leaves_no_background_child_behind() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = report(dir.path(), &["sh -c 'sleep 100 & echo $! > bg.pid; echo bg'"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        took < Duration::from_secs(30),
        "dcx waited for the background sleep: {took:?}"
    );
    assert_gone(&dir.path().join("bg.pid"), "the background sleep");
    assert_eq!(
        text(&out.stdout),
        "bg\noverall_status: pass (fresh until 2026-02-23T00:00:00Z)\n"
    );
    assert!(
        stderr.contains(
            "note: command \"sh -c 'sleep 100 & echo $! > bg.pid; echo bg'\" left 1 process(es) running; \
             they were stopped\n"
        ),
        "{stderr}"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(written["overall_status"], "pass");
    assert_eq!(written["command_results"][0]["exit_code"], 0);
}

/// SIGTERM and SIGINT to `dcx status report` while a command runs: the
/// command's whole group is stopped (the shell and what it started), no
/// report or sidecar is written, and dcx exits 143 / 130. Three times each.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_to_dcx_stops_the_command_group_and_writes_no_report() {
    for (signal_name, code, name) in [("TERM", 143, "SIGTERM"), ("INT", 130, "SIGINT")] {
        for round in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let script = "echo $$ > sh.pid; sleep 100 & echo $! > bg.pid; wait";
            let mut child = report(dir.path(), &[script, "touch second-ran"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // The command runs once its background sleep has written its pid.
            read_pid(&dir.path().join("bg.pid"));
            let started = Instant::now();
            signal(child.id(), signal_name);
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            let status = child.wait().unwrap();
            assert_eq!(status.code(), Some(code), "{name} round {round}: {stderr}");
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{:?}",
                started.elapsed()
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert!(
                stderr.ends_with(&format!(
                    "error: cancelled ({name}) while running command \"{script}\"; no report was written\n"
                )),
                "{name}: {stderr}"
            );
            assert_gone(&dir.path().join("sh.pid"), "the command's shell");
            assert_gone(&dir.path().join("bg.pid"), "the command's background sleep");
            assert!(
                !dir.path().join("report.json").exists(),
                "{name}: a report was written"
            );
            assert!(!dir.path().join("report.json.sha256").exists());
            assert!(
                !dir.path().join("second-ran").exists(),
                "{name}: the next command ran"
            );
            let left: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".dcx-"))
                .collect();
            assert!(left.is_empty(), "{left:?}");
        }
    }
}

/// A closed stdout: exit 141, no message, no panic; /dev/full: exit 2 and
/// one line. The report is written in both cases (it is the artifact; the
/// summary line is only a courtesy).
#[test]
fn report_survives_a_closed_stdout_and_dev_full() {
    let dir = tempfile::tempdir().unwrap();
    let closed = output_with_stdout(report(dir.path(), &["true"]), Stdio::piped());
    let stderr = text(&closed.stderr);
    assert_eq!(closed.status.code(), Some(141), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error"),
        "{stderr}"
    );
    assert!(dir.path().join("report.json").is_file());

    std::fs::remove_file(dir.path().join("report.json")).unwrap();
    let full = output_with_stdout(report(dir.path(), &["true"]), dev_full());
    let stderr = text(&full.stderr);
    assert_eq!(full.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("error"))
            .collect::<Vec<_>>(),
        ["error: cannot write to standard output: No space left on device (os error 28)"],
        "{stderr}"
    );
    assert!(dir.path().join("report.json").is_file());
}
