//! Many writers and interruptions on one dash directory, with the real
//! `dcx` binary, real processes and real signals: concurrent `fleet
//! register`, `runs record`, `runs gc`, `runs kill-switch` and `dash render`;
//! SIGKILL, SIGTERM and SIGINT to a recorder; leftovers of killed writers.
//! Every scenario is repeated, and the next run after it is checked.

#![cfg(unix)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::files::leftovers_below;
use crate::support::process::{alive, read_pid, signal, wait_until};
use crate::support::{NOW, assert_exit, example_fleet, stderr, stdout};
use serde_json::Value;

const N: usize = 20;

fn dcx(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn dcx_run(dir: &Path, args: &[&str]) -> Output {
    dcx(dir).args(args).output().unwrap()
}

fn register_args(id: &str) -> Vec<String> {
    [
        "fleet",
        "register",
        id,
        "--display-name",
        "Concurrency",
        "--owner",
        "nexus",
        "--status",
        "active",
        "--now",
        NOW,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn register(dir: &Path, id: &str) {
    let out = dcx(dir).args(register_args(id)).output().unwrap();
    assert_exit(&out, 0, &format!("register {id}"));
}

fn record_command(dir: &Path, product: &str, extra: &[&str], script: &str) -> Command {
    let mut command = dcx(dir);
    command
        .args(["runs", "record", product, "--now", NOW])
        .args(extra)
        .args(["--", "sh", "-c", script]);
    command
}

fn record(dir: &Path, product: &str, script: &str) -> Output {
    record_command(dir, product, &[], script).output().unwrap()
}

fn last_run(dir: &Path, product: &str) -> Value {
    let path = dir.join("dash/runs").join(product).join("last_run.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn run_dirs(dir: &Path, product: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("dash/runs").join(product)) else {
        return Vec::new();
    };
    let mut runs: Vec<String> = entries
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("run_"))
        .collect();
    runs.sort();
    runs
}

/// The run directory, not one of `before`, whose log starts with
/// `started`: the run in flight.
fn started_run(dir: &Path, product: &str, before: &[String]) -> String {
    let mut found = None;
    wait_until("the command to start", || {
        found = run_dirs(dir, product)
            .into_iter()
            .rev()
            .filter(|run| !before.contains(run))
            .find(|run| {
                std::fs::read_to_string(
                    dir.join("dash/runs")
                        .join(product)
                        .join(run)
                        .join("pytest_output.log"),
                )
                .is_ok_and(|log| log.starts_with("started"))
            });
        found.is_some()
    });
    found.unwrap()
}

fn wait_all(children: Vec<Child>) -> Vec<Output> {
    children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect()
}

// -------------------------------------------------------- fleet register

/// N concurrent registrations keep N products (the issue: 1 of 10), and
/// pairs of them (20 of 40) too; repeated.
#[test]
fn concurrent_registrations_keep_every_product() {
    for (round, per_id) in [(0, 1), (1, 1), (2, 2)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dash")).unwrap();
        let children: Vec<Child> = (0..N)
            .flat_map(|i| (0..per_id).map(move |pair| format!("p{i}-{pair}")))
            .map(|id| dcx(dir.path()).args(register_args(&id)).spawn().unwrap())
            .collect();
        for out in wait_all(children) {
            assert_exit(&out, 0, &format!("round {round}"));
        }
        let registry: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("dash/products.json")).unwrap()).unwrap();
        let ids: BTreeSet<String> = registry["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["product_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), N * per_id, "round {round}: {ids:?}");
        assert_eq!(registry["products"].as_array().unwrap().len(), N * per_id);
        assert_eq!(leftovers_below(&dir.path().join("dash")), Vec::<PathBuf>::new());
        let list = dcx_run(dir.path(), &["fleet", "list"]);
        assert_exit(&list, 0, "fleet list");
        assert_eq!(stdout(&list).lines().count(), N * per_id + 1);
    }
}

// ----------------------------------------------------------- kill switch

/// A switch engaged while a run is in flight stops that run (its group is
/// stopped, the run is `cancelled` with the reason), survives it, and the
/// next record is refused. Three times, released in between.
#[test]
fn a_kill_switch_engaged_mid_run_stops_the_run_and_survives() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "ks");
    assert_exit(&record(dir, "ks", "true"), 0, "first run");
    for round in 0..3 {
        let reason = format!("Budget exhausted, round {round}");
        let _ = std::fs::remove_file(dir.join("cmd.pid"));
        let before = run_dirs(dir, "ks");
        let child = record_command(
            dir,
            "ks",
            &["--kill-grace", "2"],
            "echo started; echo $$ > cmd.pid; sleep 5 & wait",
        )
        .spawn()
        .unwrap();
        let run = started_run(dir, "ks", &before);
        let command_pid = read_pid(&dir.join("cmd.pid"));
        std::thread::sleep(Duration::from_millis(200));
        let engaged_at = Instant::now();
        let out = dcx_run(dir, &["runs", "kill-switch", "ks", "--on", "--reason", &reason]);
        assert_exit(&out, 0, "kill-switch --on");
        assert_eq!(stdout(&out), format!("kill switch engaged for ks: {reason}\n"));
        let out = child.wait_with_output().unwrap();
        let stopped_after = engaged_at.elapsed();
        assert_exit(&out, 3, "the stopped run");
        assert!(
            stopped_after < Duration::from_secs(3),
            "stopped {stopped_after:?} after the switch"
        );
        assert!(!alive(command_pid), "the command outlived its run");
        let report = last_run(dir, "ks");
        assert_eq!(report["run_id"], run.as_str());
        assert_eq!(report["status"], "cancelled");
        assert_eq!(
            report["summary"],
            format!("Cancelled: kill switch engaged during the run: {reason}")
        );
        assert_eq!(
            report["kill_switch"]["enabled"], true,
            "the switch was overwritten"
        );
        assert_eq!(report["kill_switch"]["reason"], reason.as_str());
        let log =
            std::fs::read_to_string(dir.join("dash/runs/ks").join(&run).join("pytest_output.log")).unwrap();
        assert_eq!(
            log,
            format!("started\n[dcx] stopped: the kill switch was engaged during the run: {reason}\n")
        );
        assert!(stdout(&out).starts_with(&format!(
            "ks {run}: cancelled: Cancelled: kill switch engaged during the run: {reason}\n"
        )));

        let runs_before = run_dirs(dir, "ks");
        let out = record(dir, "ks", "echo must not run");
        assert_exit(&out, 3, "the next record");
        assert_eq!(
            stderr(&out),
            format!(
                "error: kill switch engaged for ks: {reason}; not running (override with --override-kill-switch)\n"
            )
        );
        assert_eq!(run_dirs(dir, "ks"), runs_before, "a refused run has no directory");
        assert_exit(&dcx_run(dir, &["runs", "kill-switch", "ks", "--off"]), 0, "--off");
        assert_exit(&record(dir, "ks", "true"), 0, "after release");
    }
}

/// However the switch and a run's end interleave, the operator's switch is
/// never overwritten by the run's report: the report reads it under the
/// product lock, and the switch command holds that lock too.
#[test]
fn a_switch_engaged_at_any_moment_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "race");
    assert_exit(&record(dir, "race", "true"), 0, "first run");
    let mut rng = fastrand::Rng::with_seed(11);
    let mut outcomes = BTreeSet::new();
    for round in 0..12 {
        let child = record_command(dir, "race", &[], "sleep 0.15").spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(0..300)));
        let reason = format!("round {round}");
        let out = dcx_run(dir, &["runs", "kill-switch", "race", "--on", "--reason", &reason]);
        assert_exit(&out, 0, "kill-switch --on");
        let recorded = child.wait_with_output().unwrap();
        let code = recorded.status.code();
        assert!(
            matches!(code, Some(0 | 3)),
            "round {round}: {code:?} {}",
            stderr(&recorded)
        );
        outcomes.insert(code);
        let report = last_run(dir, "race");
        assert_eq!(report["kill_switch"]["enabled"], true, "round {round}: {report}");
        assert_eq!(report["kill_switch"]["reason"], reason.as_str(), "round {round}");
        assert_exit(
            &dcx_run(dir, &["runs", "kill-switch", "race", "--off"]),
            0,
            "--off",
        );
    }
    assert!(!outcomes.is_empty());
}

// -------------------------------------------------------------------- gc

/// `gc --keep 0 --all`, over and over and concurrently, while a run is
/// recorded: the run is never removed, and its report and log agree.
#[test]
fn gc_never_removes_a_run_being_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "gc");
    for _ in 0..3 {
        assert_exit(&record(dir, "gc", "true"), 0, "earlier run");
    }
    for round in 0..3 {
        let before = run_dirs(dir, "gc");
        let child = record_command(dir, "gc", &[], "echo started; sleep 1; echo done")
            .spawn()
            .unwrap();
        let run_id = started_run(dir, "gc", &before);
        let run_dir = dir.join("dash/runs/gc").join(&run_id);
        let mut collectors = Vec::new();
        for _ in 0..5 {
            collectors.extend((0..4).map(|_| {
                dcx(dir)
                    .args(["runs", "gc", "--keep", "0", "--all"])
                    .spawn()
                    .unwrap()
            }));
            std::thread::sleep(Duration::from_millis(100));
            assert!(run_dir.is_dir(), "round {round}: the run in flight was removed");
        }
        for out in wait_all(collectors) {
            assert_exit(&out, 0, "gc during the run");
            if stdout(&out).contains("runs, keeping") {
                assert!(
                    stdout(&out).contains(&format!("(left {run_id}: being recorded)")),
                    "{}",
                    stdout(&out)
                );
            }
        }
        let out = child.wait_with_output().unwrap();
        assert_exit(&out, 0, "the run");
        let report = last_run(dir, "gc");
        assert_eq!(report["run_id"], run_id.as_str());
        assert_eq!(report["status"], "success");
        for path in report["evidence"]["paths"].as_array().unwrap() {
            let file = dir.join("dash").join(path.as_str().unwrap());
            assert!(file.is_file(), "round {round}: {} is gone", file.display());
        }
        assert_eq!(
            std::fs::read_to_string(run_dir.join("pytest_output.log")).unwrap(),
            "started\ndone\n"
        );
        // Now it is an ordinary run: the one last_run.json points to.
        assert_exit(
            &dcx_run(dir, &["runs", "gc", "--keep", "0", "--all"]),
            0,
            "gc after",
        );
        assert_eq!(run_dirs(dir, "gc"), std::slice::from_ref(&run_id));
        let validate = dcx_run(dir, &["runs", "validate"]);
        assert_exit(&validate, 0, "validate");
        assert_eq!(stderr(&validate), "", "round {round}");
    }
}

/// Concurrent gc runs all succeed (the issue: both exit 1 "No such file")
/// and leave the same state a single one would.
#[test]
fn concurrent_gcs_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "many");
    assert_exit(&record(dir, "many", "true"), 0, "the reported run");
    let reported = last_run(dir, "many")["run_id"].as_str().unwrap().to_owned();
    for round in 0..3 {
        for day in 0..30 {
            let run = dir.join(format!(
                "dash/runs/many/run_202512{:02}_{round}0{day:02}00",
                day % 28 + 1
            ));
            std::fs::create_dir_all(&run).unwrap();
            std::fs::write(run.join("pytest_output.log"), "1 passed\n").unwrap();
        }
        let before = run_dirs(dir, "many").len();
        let children: Vec<Child> = (0..N)
            .map(|_| dcx(dir).args(["runs", "gc", "--keep", "2"]).spawn().unwrap())
            .collect();
        let outputs = wait_all(children);
        let mut removed = 0;
        for out in &outputs {
            assert_exit(out, 0, &format!("round {round}"));
            assert_eq!(stderr(out), "", "round {round}");
            removed += stdout(out).lines().filter(|l| l.starts_with("removing ")).count();
        }
        let left = run_dirs(dir, "many");
        assert_eq!(left.len(), 2, "round {round}: {left:?}");
        assert!(left.contains(&reported), "round {round}: {left:?}");
        // Each directory was removed by exactly one of them.
        assert_eq!(removed, before - 2, "round {round}");
    }
}

// ---------------------------------------------------------------- record

/// N concurrent records of one product: unique run ids, every run
/// directory there, and `last_run.json` names the newest run (never an
/// older one, whatever order they finish in). Twice.
#[test]
fn concurrent_records_keep_last_run_at_the_newest_run() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "cc");
    let mut all = BTreeSet::new();
    for round in 0..2 {
        let children: Vec<Child> = (0..N)
            .map(|i| {
                let script = format!("sleep 0.{:02}; echo '{i} passed'", (N - i) * 3);
                record_command(dir, "cc", &[], &script).spawn().unwrap()
            })
            .collect();
        let mut ids = BTreeSet::new();
        for out in wait_all(children) {
            assert_exit(&out, 0, &format!("round {round}"));
            let first = stdout(&out).lines().next().unwrap().to_owned();
            let id = first.split(' ').nth(1).unwrap().trim_end_matches(':').to_owned();
            assert!(ids.insert(id), "round {round}: duplicate run id: {first}");
        }
        assert_eq!(ids.len(), N);
        all.extend(ids);
        let runs: BTreeSet<String> = run_dirs(dir, "cc").into_iter().collect();
        assert_eq!(runs, all, "round {round}");
        let report = last_run(dir, "cc");
        assert_eq!(
            report["run_id"].as_str(),
            all.last().map(String::as_str),
            "round {round}: last_run.json is not the newest run"
        );
        let newest = dir.join("dash/runs/cc").join(all.last().unwrap());
        assert!(!newest.join(".dcx-recording").exists());
        let validate = dcx_run(dir, &["runs", "validate"]);
        assert_exit(&validate, 0, "validate");
        assert_eq!(stderr(&validate), "", "round {round}");
    }
}

/// What killed recorders leave (19 `.dcx-tmp-*` files, as in the issue):
/// the next record sweeps those no live process holds, in the product
/// directory, its run directories and their evidence; one held by a live
/// process stays until that process is gone, then gc sweeps it.
#[test]
fn leftovers_of_killed_writers_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "tidy");
    assert_exit(&record(dir, "tidy", "true"), 0, "first run");
    let product = dir.join("dash/runs/tidy");
    let run = product.join(&run_dirs(dir, "tidy")[0]);
    std::fs::create_dir_all(run.join("evidence")).unwrap();
    let mut planted = Vec::new();
    let places = [product.clone(), run.clone(), run.join("evidence")];
    for i in 0..19 {
        let place = &places[i % 3];
        let path = place.join(format!(".dcx-tmp-killed{i}"));
        std::fs::write(&path, "half a file").unwrap();
        planted.push(path);
    }
    // A writer that is alive (this test process) holds its lock, as a dcx
    // writer does.
    let held = product.join(".dcx-tmp-alive");
    std::fs::write(&held, "being written").unwrap();
    let holder = std::fs::File::open(&held).unwrap();
    holder.lock().unwrap();

    assert_exit(&record(dir, "tidy", "true"), 0, "the next run");
    assert_eq!(leftovers_below(&product), std::slice::from_ref(&held));
    assert!(planted.iter().all(|path| !path.exists()));

    drop(holder);
    let out = dcx_run(dir, &["runs", "gc"]);
    assert_exit(&out, 0, "gc");
    assert_eq!(
        stdout(&out).lines().last().unwrap(),
        "removed 0 run directories and 1 leftover temp file of killed processes in 1 product"
    );
    assert_eq!(leftovers_below(&product), Vec::<PathBuf>::new());
}

/// SIGKILL to `dcx runs record`: the command dies with it (it would run on,
/// unbudgeted); the run directory without a report is a validate warning,
/// takes no `gc --keep` slot, and gc removes it; the next run works. Then
/// kills at random moments, each followed by a record that must succeed
/// and leave no leftovers.
#[test]
fn a_killed_recorder_takes_its_command_along_and_leaves_an_unfinished_run() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "kill");
    assert_exit(&record(dir, "kill", "true"), 0, "first run");
    let finished = run_dirs(dir, "kill")[0].clone();
    let before = run_dirs(dir, "kill");
    let mut child = record_command(dir, "kill", &[], "echo started; echo $$ > cmd.pid; exec sleep 30")
        .spawn()
        .unwrap();
    let unfinished = started_run(dir, "kill", &before);
    let command = read_pid(&dir.join("cmd.pid"));
    assert!(alive(command));
    signal(child.id(), "KILL");
    child.wait().unwrap();
    wait_until("the command to die with dcx", || !alive(command));

    let validate = dcx_run(dir, &["runs", "validate"]);
    assert_exit(&validate, 0, "validate");
    assert_eq!(
        stderr(&validate),
        format!(
            "warning: kill: Unfinished run, no report (its recorder was stopped before writing one; \
             dcx runs gc removes it): runs/kill/{unfinished}/\n"
        )
    );
    // `--keep 1`: the unfinished run is newer but takes no slot.
    let out = dcx_run(dir, &["runs", "gc", "--keep", "1"]);
    assert_exit(&out, 0, "gc");
    assert_eq!(
        stdout(&out),
        format!(
            "removing dash/runs/kill/{unfinished}\n\
             kill: 2 runs, keeping 1, removing 1 ({unfinished}: unfinished, its recorder was stopped)\n\
             removed 1 run directory in 1 product\n"
        )
    );
    assert_eq!(run_dirs(dir, "kill"), [finished]);
    assert_eq!(stderr(&dcx_run(dir, &["runs", "validate"])), "");

    let mut rng = fastrand::Rng::with_seed(7);
    let evidence = dir.join("coverage.xml");
    std::fs::write(&evidence, "<line/>\n".repeat(1 << 19)).unwrap();
    for kill in 0..10 {
        let mut child = record_command(
            dir,
            "kill",
            &["--evidence", "coverage.xml"],
            "echo '3 passed, 0 failed'",
        )
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(0..40)));
        let _ = child.kill();
        child.wait().unwrap();
        let out = record_command(
            dir,
            "kill",
            &["--evidence", "coverage.xml"],
            "echo '3 passed, 0 failed'",
        )
        .output()
        .unwrap();
        assert_exit(&out, 0, &format!("the run after kill {kill}"));
        assert_eq!(last_run(dir, "kill")["summary"], "3 passed, 0 failed");
        assert_eq!(
            leftovers_below(&dir.join("dash")),
            Vec::<PathBuf>::new(),
            "after kill {kill}"
        );
    }
    let out = dcx_run(dir, &["runs", "gc", "--keep", "1"]);
    assert_exit(&out, 0, "gc after the kills");
    assert_eq!(run_dirs(dir, "kill").len(), 1);
    assert_eq!(stderr(&dcx_run(dir, &["runs", "validate"])), "");
}

/// SIGTERM and SIGINT to `dcx runs record`: the command's whole group is
/// stopped first (a background child included), then the `cancelled`
/// report is written, then dcx exits 143 / 130.
#[test]
fn sigterm_and_sigint_stop_the_group_then_write_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "sig");
    for (round, (name, code)) in [("TERM", 143), ("INT", 130), ("TERM", 143)]
        .into_iter()
        .enumerate()
    {
        let _ = std::fs::remove_file(dir.join("cmd.pid"));
        let _ = std::fs::remove_file(dir.join("bg.pid"));
        let before = run_dirs(dir, "sig");
        let child = record_command(
            dir,
            "sig",
            &["--kill-grace", "1"],
            "sleep 30 & echo $! > bg.pid; echo $$ > cmd.pid; echo started; wait",
        )
        .spawn()
        .unwrap();
        let run_id = started_run(dir, "sig", &before);
        let (command, background) = (read_pid(&dir.join("cmd.pid")), read_pid(&dir.join("bg.pid")));
        signal(child.id(), name);
        let out = child.wait_with_output().unwrap();
        assert_exit(&out, code, &format!("round {round}: SIG{name}"));
        // Stopped before dcx exited: nothing of the group is left.
        assert!(!alive(command), "round {round}: the command outlived dcx");
        assert!(
            !alive(background),
            "round {round}: its background child outlived dcx"
        );
        let report = last_run(dir, "sig");
        assert_eq!(report["run_id"], run_id.as_str());
        assert_eq!(report["status"], "cancelled");
        assert_eq!(
            report["summary"],
            "Cancelled: interrupted before the command finished"
        );
        assert!(
            std::fs::read_to_string(dir.join("dash/runs/sig").join(&run_id).join("pytest_output.log"))
                .unwrap()
                .ends_with("[dcx] stopped: the run was cancelled\n")
        );
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        assert!(
            !dir.join("dash/runs/sig")
                .join(&run_id)
                .join(".dcx-recording")
                .exists()
        );
    }
    assert_exit(&record(dir, "sig", "true"), 0, "the next run");
    assert_eq!(stderr(&dcx_run(dir, &["runs", "validate"])), "");
}

// ------------------------------------------------------------------ dash

/// Concurrent renders into one directory: a reader only ever sees a whole
/// page of one render, and the page left is one of them; no temp file is
/// left behind. Repeated.
#[test]
fn concurrent_renders_never_leave_a_mixed_page() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    example_fleet(dir);
    let index = dir.join("dash/index.html");
    let times: Vec<String> = (0..N).map(|i| format!("2026-02-20T12:{i:02}:00Z")).collect();
    let mut pages = BTreeSet::new();
    for now in &times {
        let out = dcx_run(dir, &["dash", "render", "--now", now]);
        assert_exit(&out, 0, "render alone");
        pages.insert(std::fs::read(&index).unwrap());
    }
    assert_eq!(pages.len(), N, "the pages differ by their time");
    for round in 0..3 {
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let mut reads = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let bytes = std::fs::read(&index).unwrap();
                    assert!(pages.contains(&bytes), "round {round}: a partial or mixed page");
                    reads += 1;
                }
                reads
            });
            let children: Vec<Child> = times
                .iter()
                .map(|now| dcx(dir).args(["dash", "render", "--now", now]).spawn().unwrap())
                .collect();
            for out in wait_all(children) {
                assert_exit(&out, 0, "concurrent render");
            }
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            assert!(reader.join().unwrap() > 0);
        });
        assert!(pages.contains(&std::fs::read(&index).unwrap()));
        assert_eq!(leftovers_below(&dir.join("dash")), Vec::<PathBuf>::new());
    }
}

// ---------------------------------------------------------------- output

/// `fleet list` into a closed pipe ends quietly with 141; into a full disk
/// with one line and exit 2; never a panic.
#[test]
fn fleet_list_into_a_closed_pipe_or_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    example_fleet(dir);
    for _ in 0..3 {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = dcx(dir).args(["fleet", "list"]).stdout(writer).output().unwrap();
        assert_exit(&out, 141, "closed pipe");
        assert_eq!(stderr(&out), "", "closed pipe");
    }
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = dcx(dir).args(["fleet", "list"]).stdout(full).output().unwrap();
    assert_exit(&out, 2, "/dev/full");
    assert_eq!(
        stderr(&out),
        "error: cannot write to standard output: No space left on device (os error 28)\n"
    );
}
