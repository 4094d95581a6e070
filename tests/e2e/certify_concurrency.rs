//! `dcx certify` under signals, concurrency and closed output, with the real
//! binary, real adapter processes and real signals:
//!
//! - SIGINT / SIGTERM while an adapter runs: the adapter's whole process
//!   group is stopped (a child that ignores SIGTERM included), no
//!   certificate appears or changes, and dcx exits 130 / 143;
//! - an adapter that leaves `sleep &` behind on a passing run: the child is
//!   gone when dcx exits, and the evidence log ends with dcx's footer;
//! - 20 concurrent certifications into one out dir are serialized (each
//!   waits with one line) and leave one consistent set: the JSON, the
//!   Markdown and every evidence log from the same run;
//! - a closed stdout pipe exits 141, stdout on `/dev/full` exits 2 with one
//!   line, never a panic.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::certify::{COMMIT, NOW, registry, set_executable, workdir};
use crate::support::files::leftovers;
use crate::support::output::{closed_pipe, dev_full};
use crate::support::process::{read_pid, signal, survivors, wait_until, wait_with_limit};
use crate::support::text;
use dcx_contracts::certification::ExecutionCertificate;

/// An adapter `name` in `dir` that runs `special` (shell) for the
/// invocation `when` and is the fixture adapter otherwise.
fn adapter(dir: &Path, name: &str, when: &str, special: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("#!/bin/sh\nif [ \"$*\" = '{when}' ]; then\n{special}\nfi\nexec ./adapter.sh \"$@\"\n"),
    )
    .unwrap();
    set_executable(&path);
    format!("./{name}")
}

fn certify(dir: &Path, adapter: &str, out: &str, now: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command
        .args(["certify", "--runner", "rust", "--registry"])
        .arg(registry())
        .args([
            "--adapter",
            adapter,
            "--spec-root",
            "spec",
            "--out-dir",
            out,
            "--commit-sha",
            COMMIT,
            "--now",
            now,
            "--timeout",
            "60s",
        ])
        .current_dir(dir);
    command
}

/// Waits for `files` to exist (the adapter wrote its pids), failing at
/// once if dcx ends first.
fn wait_for(files: &[PathBuf], child: &mut Child) {
    wait_until(&format!("the adapter to write {files:?}"), || {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("dcx ended ({status}) before the adapter started");
        }
        files
            .iter()
            .all(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 0))
    });
}

/// Every file below `dir`, with its bytes; the lock file (which names its
/// last holder) excepted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in read {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == ".dcx-certify.lock") {
                continue;
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The adapter hangs in `docs-generate-check`, with a child that ignores
/// SIGTERM and a plain `sleep`; dcx gets `signal` there.
fn interrupted_run(dir: &Path, out: &str, signal_name: &str, expected_code: i32) {
    let pids = dir.join(format!("pids-{signal_name}"));
    std::fs::create_dir_all(&pids).unwrap();
    let (adapter_pid, stubborn_pid, sleeper_pid) =
        (pids.join("adapter"), pids.join("stubborn"), pids.join("sleeper"));
    let hang = adapter(
        dir,
        &format!("hang-{signal_name}.sh"),
        "docs-generate-check",
        &format!(
            "echo $$ > '{}'\n\
             sh -c 'trap \"\" TERM INT; echo $$ > \"{}\"; while :; do sleep 1; done' &\n\
             sleep 120 &\n\
             echo $! > '{}'\n\
             wait",
            adapter_pid.display(),
            stubborn_pid.display(),
            sleeper_pid.display()
        ),
    );
    let mut child = certify(dir, &hang, out, NOW)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(
        &[adapter_pid.clone(), stubborn_pid.clone(), sleeper_pid.clone()],
        &mut child,
    );
    let started = Instant::now();
    signal(child.id(), signal_name);
    let output = wait_with_limit(child, Duration::from_secs(30));
    let elapsed = started.elapsed();

    assert_eq!(
        output.status.code(),
        Some(expected_code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: cancelled (dcx received SIG{signal_name}): the adapter's process group was stopped and no certificate was written; the previous one, if any, is unchanged\n"
        )
    );
    // The grace is 2 s, then SIGKILL for the one that ignores SIGTERM.
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    let pids = [
        read_pid(&adapter_pid),
        read_pid(&stubborn_pid),
        read_pid(&sleeper_pid),
    ];
    // dcx has exited, so anything of the group still alive now survived it.
    assert_eq!(
        survivors(&pids, Duration::from_millis(500)),
        Vec::<u32>::new(),
        "adapter, stubborn child, sleeper: {pids:?}"
    );
}

#[test]
fn sigint_and_sigterm_stop_the_adapter_group_and_write_no_certificate() {
    let dir = workdir();
    let dir = dir.path();

    // SIGINT with a previous certificate in place: it stays byte for byte,
    // evidence included.
    let first = certify(dir, "./adapter.sh", "out", NOW).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let before = tree(&dir.join("out"));
    assert!(
        before
            .iter()
            .any(|(name, _)| name == "runner-certification-rust.json")
    );
    interrupted_run(dir, "out", "INT", 130);
    let after = tree(&dir.join("out"));
    let changed: Vec<&String> = after
        .iter()
        .chain(&before)
        .filter(|entry| !before.contains(entry) || !after.contains(entry))
        .map(|(name, _)| name)
        .collect();
    assert!(changed.is_empty(), "the out dir changed: {changed:?}");
    assert_eq!(leftovers(&dir.join("out")), Vec::<String>::new());

    // SIGTERM into a fresh out dir: no certificate appears.
    interrupted_run(dir, "fresh", "TERM", 143);
    let fresh = dir.join("fresh");
    assert!(!fresh.join("runner-certification-rust.json").exists());
    assert!(!fresh.join("runner-certification-rust.md").exists());
    assert_eq!(
        tree(&fresh.join("runner-certification-rust")),
        Vec::<(String, Vec<u8>)>::new(),
        "evidence of the cancelled run was published"
    );
    assert_eq!(leftovers(&fresh), Vec::<String>::new());

    // And the next run works.
    let again = certify(dir, "./adapter.sh", "fresh", NOW).output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(fresh.join("runner-certification-rust.json").exists());
}

#[test]
fn a_background_child_of_a_passing_adapter_does_not_outlive_the_run() {
    let dir = workdir();
    let dir = dir.path();
    let pid_file = dir.join("background.pid");
    // The child (a subshell and its `sleep`) would write to the log a
    // second after the adapter exits.
    let leaky = adapter(
        dir,
        "leaky.sh",
        "governance",
        &format!(
            "(sleep 1; echo late; sleep 60) &\n\
             echo $! > '{}'\n\
             echo 'leaving a child behind'\n\
             exit 0",
            pid_file.display()
        ),
    );
    let started = Instant::now();
    let output = certify(dir, &leaky, "out", NOW).output().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    let pid = read_pid(&pid_file);
    assert_eq!(survivors(&[pid], Duration::from_millis(200)), Vec::<u32>::new());

    // Had the child survived, "late" would follow the footer.
    std::thread::sleep(Duration::from_millis(1500));
    let log =
        std::fs::read_to_string(dir.join("out/runner-certification-rust/command.governance.log")).unwrap();
    // The subshell, and its `sleep` once it has started one: 1 or 2.
    let stopped = ["1", "2"].map(|n| {
        format!(
            "# dcx certify: {leaky} governance (timeout 1m)\n\
             leaving a child behind\n\
             # dcx certify: exited with code 0; {n} process(es) it left running in its group were stopped\n"
        )
    });
    assert!(stopped.contains(&log), "{log}");
}

#[test]
fn twenty_concurrent_certifications_into_one_out_dir_leave_one_consistent_set() {
    const RUNS: usize = 20;
    let dir = workdir();
    let dir = dir.path();
    // Each run's adapter prints the run's number into every evidence log.
    let tagged = dir.join("tagged.sh");
    std::fs::write(
        &tagged,
        "#!/bin/sh\necho \"run $CERTIFY_RUN\"\nexec ./adapter.sh \"$@\"\n",
    )
    .unwrap();
    set_executable(&tagged);
    let out = dir.join("out");

    for round in 0..2 {
        // Hold the lock while they all start, so every one of them waits.
        let lock = dcx_sys::lock_exclusive(
            &out.join(dcx_certification::OUT_DIR_LOCK_FILE_NAME),
            dcx_sys::Wait::Fail,
            |_| {},
        )
        .unwrap();
        let children: Vec<(usize, Child)> = (0..RUNS)
            .map(|i| {
                let now = format!("2026-02-20T00:{round:02}:{i:02}Z");
                let child = certify(dir, "./tagged.sh", "out", &now)
                    .env("CERTIFY_RUN", i.to_string())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (i, child)
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !out.join("runner-certification-rust.json").exists() || round > 0,
            "a certification ran while the out dir was locked"
        );
        drop(lock);
        for (i, child) in children {
            let output = wait_with_limit(child, Duration::from_secs(120));
            assert_eq!(output.status.code(), Some(0), "run {i}: {}", text(&output.stderr));
            let stderr = text(&output.stderr);
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "run {i}: {stderr}");
            assert!(
                lines[0].starts_with(&format!(
                    "waiting: {} is locked by another dcx certify (pid ",
                    Path::new("out").join(".dcx-certify.lock").display()
                )) && lines[0].ends_with("); continuing when it has finished"),
                "run {i}: {stderr}"
            );
        }

        // One run's JSON, the same run's Markdown, the same run's logs.
        let json = std::fs::read_to_string(out.join("runner-certification-rust.json")).unwrap();
        let certificate: ExecutionCertificate =
            dcx_contracts::from_str(&json, dcx_contracts::Format::Json, "certificate")
                .unwrap()
                .document;
        let md = std::fs::read_to_string(out.join("runner-certification-rust.md")).unwrap();
        assert_eq!(
            md,
            dcx_certification::render_markdown(&certificate),
            "round {round}"
        );
        let certified_at = certificate.runner.certified_at.to_string();
        let run: usize = certified_at[17..19].parse().unwrap();
        assert_eq!(&certified_at[14..16], format!("{round:02}"));
        let logs = tree(&out.join("runner-certification-rust"));
        let mut referenced: Vec<String> = certificate
            .checks
            .iter()
            .filter_map(|check| check.evidence_ref.clone())
            .collect();
        referenced.sort();
        let names: Vec<String> = logs
            .iter()
            .map(|(name, _)| format!("runner-certification-rust/{name}"))
            .collect();
        assert_eq!(names, referenced, "round {round}");
        assert!(!names.is_empty());
        for (name, bytes) in &logs {
            assert!(
                text(bytes).contains(&format!("\nrun {run}\n")),
                "round {round}: {name} is not from run {run}: {}",
                text(bytes)
            );
        }
        let verified = Command::new(env!("CARGO_BIN_EXE_dcx"))
            .args(["certify", "verify", "--strict"])
            .arg(out.join("runner-certification-rust.json"))
            .output()
            .unwrap();
        assert_eq!(verified.status.code(), Some(0), "{}", text(&verified.stderr));
        assert_eq!(leftovers(&out), Vec::<String>::new());
    }
}

#[test]
fn a_closed_pipe_exits_141_and_a_full_disk_exits_2_without_a_panic() {
    let dir = workdir();
    let dir = dir.path();
    let verify = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
        command
            .args(["certify", "verify", "out/runner-certification-rust.json"])
            .current_dir(dir);
        command
    };
    for (what, mut command) in [
        ("certify", certify(dir, "./adapter.sh", "out", NOW)),
        ("certify verify", verify()),
    ] {
        let output = command.stdout(closed_pipe()).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(141), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert_eq!(stderr, "", "{what}");
    }
    for (what, mut command) in [
        ("certify", certify(dir, "./adapter.sh", "out", NOW)),
        ("certify verify", verify()),
    ] {
        let output = command.stdout(dev_full()).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
        assert!(
            stderr.starts_with("error: cannot write to standard output: "),
            "{what}: {stderr}"
        );
    }
    // The certificate written under a closed stdout is whole.
    let verified = verify().output().unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified.stderr));
}
