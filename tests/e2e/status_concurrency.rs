//! Many `dcx status ingest` at once into one out directory, ingests killed
//! at random moments, a full disk, leftovers: the matrix, log, Markdown and
//! state file stay one whole set (one set id), the state's
//! read–modify–write is never lost, and what a killed writer leaves behind
//! is swept by the next one. Real `dcx` processes, real signals, real files
//! (and a real tmpfs for the full disk, where this test may mount one).

#![allow(
    clippy::print_stderr,
    reason = "seeds, figures and skips must reach the test log"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::files::leftovers;
use crate::support::output::{dev_full, output_with_stdout};
use crate::support::{repo, text};
use dcx_testkit::{Canned, Gate, Lane, Server, registry_yaml};
use serde_json::Value;

fn catalog() -> String {
    repo("specs/schema_catalog_v1.yaml").display().to_string()
}

const MATRIX: &str = "out/runner-status-matrix.json";
const MD: &str = "out/runner-status-matrix.md";
const LOG: &str = "out/runner-status-ingest-log.json";
const STATE: &str = "out/runner-status-ingest-state.json";

/// `dcx` in `dir`, with no GitHub variables and no proxy (the test servers
/// are on 127.0.0.1).
fn dcx(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command.current_dir(dir);
    for name in [
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_TOKEN",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(name);
    }
    command.env("NO_PROXY", "127.0.0.1,localhost");
    command
}

/// `dcx status ingest` of `registry` into `out/` (the state file included)
/// at `now`, printing its summary.
fn printing_ingest(dir: &Path, registry: &str, now: &str) -> Command {
    let mut command = dcx(dir);
    command
        .args([
            "status",
            "ingest",
            "--registry",
            registry,
            "--catalog",
            &catalog(),
        ])
        .args([
            "--out-json",
            MATRIX,
            "--out-md",
            MD,
            "--log-json",
            LOG,
            "--state-file",
            STATE,
        ])
        .args(["--now", now]);
    command
}

/// `dcx status ingest` of `registry` into `out/` (the state file included)
/// at `now`, quiet, with `extra` arguments.
fn ingest_command(dir: &Path, registry: &str, now: &str, extra: &[&str]) -> Command {
    let mut command = printing_ingest(dir, registry, now);
    command.arg("-q").args(extra);
    command
}

fn ingest(dir: &Path, registry: &str, now: &str, extra: &[&str]) -> Output {
    ingest_command(dir, registry, now, extra).output().unwrap()
}

fn gate(dir: &Path, now: &str) -> Output {
    dcx(dir)
        .args(["status", "check-freshness", "--matrix", MATRIX, "--now", now])
        .output()
        .unwrap()
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

/// The instant `hours` after 2026-03-01T00:00:00Z.
fn at(hours: u32) -> String {
    format!("2026-03-{:02}T{:02}:00:00Z", 1 + hours / 24, hours % 24)
}

/// A report for lane `id`, generated before any `at(…)`.
fn report(id: &str, class: &str) -> String {
    serde_json::json!({
        "version": 1,
        "runner_id": id,
        "implementation_repo": format!("dc-runner-{id}"),
        "release_version": "v1.0.0",
        "commit_sha": "0".repeat(40),
        "generated_at": "2026-02-28T00:00:00Z",
        "lane_class": class,
        "overall_status": "pass",
        "fresh_until": "2036-02-28T00:00:00Z",
        "command_results": [],
        "artifact_refs": [],
    })
    .to_string()
}

fn release(asset_url: &str) -> String {
    serde_json::json!({
        "tag_name": "v1.0.0",
        "assets": [{"name": "runner-status-report-v1.json", "browser_download_url": asset_url}],
    })
    .to_string()
}

/// Writes `registry-<id>.yaml` with the one lane `id`, whose release
/// metadata is `release_api_url`; returns the registry's file name.
fn registry(dir: &Path, id: &str, class: &'static str, release_api_url: &str) -> String {
    let name = format!("registry-{id}.yaml");
    let lane = Lane::active(id, class, release_api_url).with_slo_hours(Some(87600));
    std::fs::write(dir.join(&name), registry_yaml(&[lane])).unwrap();
    name
}

/// A lane whose release and report are local files under `lanes/<id>/`.
fn local_lane(dir: &Path, id: &str, class: &'static str) -> String {
    let lane = dir.join("lanes").join(id);
    std::fs::create_dir_all(&lane).unwrap();
    std::fs::write(lane.join("report.json"), report(id, class)).unwrap();
    std::fs::write(
        lane.join("release.json"),
        release(&format!("lanes/{id}/report.json")),
    )
    .unwrap();
    registry(dir, id, class, &format!("lanes/{id}/release.json"))
}

/// The set id each file of the set carries (`None`: no id, or no file).
#[derive(Debug, PartialEq, Eq)]
struct SetIds {
    matrix: Option<String>,
    log: Option<String>,
    markdown: Option<String>,
    state: Option<String>,
}

fn set_ids(dir: &Path) -> SetIds {
    let of_json = |relative: &str| {
        let path = dir.join(relative);
        path.exists()
            .then(|| json(&path)["set_id"].as_str().map(str::to_owned))
            .flatten()
    };
    let markdown = std::fs::read_to_string(dir.join(MD)).ok().and_then(|text| {
        text.trim_end()
            .lines()
            .last()?
            .strip_prefix("<!-- dcx-set-id: ")?
            .strip_suffix(" -->")
            .map(str::to_owned)
    });
    SetIds {
        matrix: of_json(MATRIX),
        log: of_json(LOG),
        markdown,
        state: of_json(STATE),
    }
}

/// The set in `out/` is whole: every file carries one set id, and the
/// matrix, log, state and Markdown are of one ingest (one `now`). Returns
/// that `now`.
fn assert_whole_set(dir: &Path) -> String {
    let ids = set_ids(dir);
    let id = ids.matrix.clone().expect("the matrix carries a set id");
    assert_eq!(
        ids,
        SetIds {
            matrix: Some(id.clone()),
            log: Some(id.clone()),
            markdown: Some(id.clone()),
            state: Some(id),
        },
        "a mixed set"
    );
    let now = json(&dir.join(MATRIX))["updated_at"].as_str().unwrap().to_owned();
    assert_eq!(json(&dir.join(LOG))["generated_at"], now.as_str());
    assert_eq!(json(&dir.join(STATE))["updated_at"], now.as_str());
    let markdown = std::fs::read_to_string(dir.join(MD)).unwrap();
    assert!(markdown.contains(&format!("Updated {now}:")), "{markdown}");
    now
}

fn lanes_in_state(dir: &Path) -> Vec<String> {
    json(&dir.join(STATE))["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|lane| lane["runner_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A loopback HTTP server for one lane, `/rust/release.json` and
/// `/rust/report.json`, that can hold the release metadata back until the
/// test opens its gate: an ingest waiting on it holds its out directory.
struct GatedServer {
    server: Server,
    gate: Gate,
}

impl GatedServer {
    fn start() -> Self {
        let server = Server::start();
        let gate = Gate::new();
        let json = |body: String| Canned::ok(body).header("content-type", "application/json");
        server.route(
            "/rust/release.json",
            vec![json(release(&server.url("/rust/report.json"))).gated(&gate)],
        );
        server.route("/rust/report.json", vec![json(report("rust", "required"))]);
        Self { server, gate }
    }

    fn release_url(&self) -> String {
        self.server.url("/rust/release.json")
    }

    fn set_open(&self, open: bool) {
        self.gate.set_open(open);
    }

    /// Waits until an ingest asked for the release metadata.
    fn wait_for_request(&self) {
        assert!(
            self.gate.wait_for_request(Duration::from_secs(30)),
            "the gated ingest never asked for its release metadata"
        );
    }
}

/// A spawned ingest whose stderr lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .expect("no line on stderr within 30 s")
    }

    fn finish(mut self) -> (i32, Vec<String>) {
        let status = self.child.wait().unwrap();
        let rest = self.lines.iter().collect();
        (status.code().expect("exited, not killed"), rest)
    }
}

/// The table: two ingests with different `--now` into one out dir,
/// 20 times. The second always finds the first holding the directory (the
/// first is held back by its release server until the second says it is
/// waiting), waits for it, then reads the state the first wrote: every set
/// is whole, the second's, and the state keeps both runs' lanes.
#[test]
fn two_ingests_into_one_out_dir_take_turns_and_never_mix_20_times() {
    let dir = tempfile::tempdir().unwrap();
    let server = GatedServer::start();
    let first_registry = registry(dir.path(), "rust", "required", &server.release_url());
    let second_registry = local_lane(dir.path(), "python", "compatibility_non_blocking");
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    let lock = dir.path().canonicalize().unwrap().join("out/.dcx-ingest.lock");

    for round in 0..20 {
        let (first_now, second_now) = (at(2 * round), at(2 * round + 1));
        server.set_open(false);
        let first = Running::spawn(ingest_command(dir.path(), &first_registry, &first_now, &[]));
        // The first holds the out dir from before it reads the state until
        // its set is published; it is now fetching.
        server.wait_for_request();
        let second = Running::spawn(ingest_command(dir.path(), &second_registry, &second_now, &[]));
        assert_eq!(
            second.next_line(),
            format!(
                "waiting for {} (held by pid {})",
                lock.display(),
                first.child.id()
            ),
            "round {round}"
        );
        server.set_open(true);
        let (first_code, first_err) = first.finish();
        assert_eq!(first_code, 0, "round {round}: {first_err:?}");
        assert!(
            !first_err.iter().any(|l| l.starts_with("waiting")),
            "{first_err:?}"
        );
        let (second_code, second_err) = second.finish();
        assert_eq!(second_code, 0, "round {round}: {second_err:?}");

        assert_eq!(
            assert_whole_set(dir.path()),
            second_now,
            "round {round}: the second ingest's set"
        );
        let rows = json(&dir.path().join(MATRIX))["matrix_rows"].clone();
        assert_eq!(rows.as_array().unwrap().len(), 1);
        assert_eq!(rows[0]["runner_id"], "python");
        // The second read the state the first wrote, and moved it forward.
        assert_eq!(lanes_in_state(dir.path()), ["python", "rust"], "round {round}");
        assert_eq!(leftovers(&dir.path().join("out")), Vec::<String>::new());
        let judged = gate(dir.path(), &second_now);
        assert_eq!(judged.status.code(), Some(0), "{}", text(&judged.stderr));
    }
}

/// `--no-wait`: while another ingest holds the out dir, exit 2 at once
/// with one clear line, having read and written nothing.
#[test]
fn no_wait_fails_fast_while_another_ingest_holds_the_out_dir() {
    let dir = tempfile::tempdir().unwrap();
    let server = GatedServer::start();
    let held = registry(dir.path(), "rust", "required", &server.release_url());
    let other = local_lane(dir.path(), "python", "compatibility_non_blocking");
    let before = ingest(dir.path(), &other, &at(0), &[]);
    assert_eq!(before.status.code(), Some(0), "{}", text(&before.stderr));
    let set_before: Vec<Vec<u8>> = [MATRIX, MD, LOG, STATE]
        .iter()
        .map(|f| std::fs::read(dir.path().join(f)).unwrap())
        .collect();

    server.set_open(false);
    let holder = Running::spawn(ingest_command(dir.path(), &held, &at(2), &[]));
    server.wait_for_request();
    let started = Instant::now();
    let refused = ingest(dir.path(), &other, &at(3), &["--no-wait"]);
    let took = started.elapsed();
    let out = dir.path().canonicalize().unwrap().join("out");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert_eq!(
        text(&refused.stderr),
        format!(
            "error: another ingest (pid {}) is writing into {}: {}/.dcx-ingest.lock is held; nothing was read or \
             written (--no-wait); try again when it has finished, or leave out --no-wait to wait for it\n",
            holder.child.id(),
            out.display(),
            out.display()
        )
    );
    assert!(took < Duration::from_secs(10), "--no-wait waited {took:?}");
    let set_now: Vec<Vec<u8>> = [MATRIX, MD, LOG, STATE]
        .iter()
        .map(|f| std::fs::read(dir.path().join(f)).unwrap())
        .collect();
    assert!(set_now == set_before, "--no-wait changed the set");

    server.set_open(true);
    let (code, err) = holder.finish();
    assert_eq!(code, 0, "{err:?}");
    assert_eq!(assert_whole_set(dir.path()), at(2));
    assert_eq!(lanes_in_state(dir.path()), ["python", "rust"]);
}

/// 20 ingests at once, each of its own lane and `--now`, into one out dir
/// and one state file, three times over: every run exits 0, the set left is
/// whole, and the state holds every lane (no read–modify–write was lost).
#[test]
fn twenty_concurrent_ingests_keep_every_lane_and_leave_a_whole_set() {
    const N: u32 = 20;
    let dir = tempfile::tempdir().unwrap();
    let registries: Vec<String> = (0..N)
        .map(|i| local_lane(dir.path(), &format!("lane{i:02}"), "required"))
        .collect();
    let mut waited = 0;
    for round in 0..3 {
        let children: Vec<Running> = registries
            .iter()
            .enumerate()
            .map(|(i, registry)| {
                let now = at(round * N + i as u32);
                Running::spawn(ingest_command(dir.path(), registry, &now, &[]))
            })
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let (code, err) = child.finish();
            assert_eq!(code, 0, "round {round}, ingest {i}: {err:?}");
            waited += err.iter().filter(|l| l.starts_with("waiting for ")).count();
        }
        let now = assert_whole_set(dir.path());
        // The set is the one of the ingest whose `now` it carries.
        let i = (0..N)
            .find(|i| at(round * N + i) == now)
            .expect("a `now` of this round");
        let rows = json(&dir.path().join(MATRIX))["matrix_rows"].clone();
        assert_eq!(rows[0]["runner_id"], format!("lane{i:02}"));
        let expected: Vec<String> = (0..N).map(|i| format!("lane{i:02}")).collect();
        assert_eq!(
            lanes_in_state(dir.path()),
            expected,
            "round {round}: a lost state update"
        );
        assert_eq!(leftovers(&dir.path().join("out")), Vec::<String>::new());
    }
    // With 20 at once, most of them had to wait.
    assert!(
        waited >= 3 * (N as usize) / 2,
        "only {waited} of {} waited",
        3 * N
    );
    eprintln!("{waited} of {} concurrent ingests waited for the out dir", 3 * N);
}

/// SIGKILL at random moments of an ingest, 25 times: the set left is the
/// previous whole one or the new whole one, or (killed between two
/// renames) one check-freshness refuses as mixed; the state file always
/// loads; the next ingest sweeps what the killed one left and publishes a
/// whole set.
#[test]
fn ingests_killed_at_random_moments_leave_a_whole_or_detected_set_and_no_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let registries: Vec<String> = ["rust", "python", "php", "go"]
        .iter()
        .map(|id| local_lane(dir.path(), id, "required"))
        .collect();
    let multi = {
        // One registry with all four lanes: a longer ingest, more to write.
        let mut text = std::fs::read_to_string(dir.path().join(&registries[0])).unwrap();
        for other in &registries[1..] {
            let lane = std::fs::read_to_string(dir.path().join(other)).unwrap();
            text.push_str(&lane[lane.find("  - runner_id").unwrap()..]);
        }
        std::fs::write(dir.path().join("registry-all.yaml"), text).unwrap();
        "registry-all.yaml".to_owned()
    };
    let started = Instant::now();
    let first = ingest(dir.path(), &multi, &at(0), &[]);
    let clean = started.elapsed();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));

    let seed = fastrand::u64(..);
    eprintln!("seed {seed}; a clean ingest took {clean:?}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut mixed, mut swept, mut killed_alive) = (0, 0, 0);
    for round in 1..=25u32 {
        let now = at(2 * round);
        let mut child = ingest_command(dir.path(), &multi, &now, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = Duration::from_micros(rng.u64(0..=(clean.as_micros() as u64 * 12 / 10).max(1)));
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_alive += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();

        // The state file always loads (it is renamed into place whole).
        let validate = dcx(dir.path())
            .args(["validate", "--kind", "runner_status_ingest_state_v1", STATE])
            .output()
            .unwrap();
        assert_eq!(validate.status.code(), Some(0), "{}", text(&validate.stderr));
        let ids = set_ids(dir.path());
        let judged = gate(dir.path(), &now);
        let artifacts_agree = ids.log == ids.matrix && ids.markdown == ids.matrix;
        if artifacts_agree {
            assert_ne!(
                judged.status.code(),
                Some(2),
                "seed {seed}: {}",
                text(&judged.stderr)
            );
        } else {
            mixed += 1;
            assert_eq!(judged.status.code(), Some(2), "seed {seed}");
            assert!(
                text(&judged.stderr).starts_with("error: mixed artifact set: "),
                "seed {seed}: {}",
                text(&judged.stderr)
            );
        }

        let left = leftovers(&dir.path().join("out"));
        let next = ingest(dir.path(), &multi, &at(2 * round + 1), &[]);
        assert_eq!(next.status.code(), Some(0), "seed {seed}: {}", text(&next.stderr));
        let removed = text(&next.stderr)
            .lines()
            .filter(|l| l.starts_with("removed ") && l.ends_with("(left by a killed writer)"))
            .count();
        assert_eq!(
            removed,
            left.len(),
            "seed {seed}: {left:?}\n{}",
            text(&next.stderr)
        );
        swept += removed;
        assert_eq!(assert_whole_set(dir.path()), at(2 * round + 1));
        assert_eq!(leftovers(&dir.path().join("out")), Vec::<String>::new());
        assert_eq!(lanes_in_state(dir.path()), ["go", "php", "python", "rust"]);
    }
    eprintln!(
        "seed {seed}: {killed_alive} of 25 ingests killed while running, {swept} leftovers swept, \
         {mixed} mixed sets detected"
    );
}

/// A mixed set (as a kill between two renames leaves it) is refused by
/// check-freshness with exit 2 and the exact files and ids; the next
/// ingest says so and replaces it. A matrix from before set ids, alone,
/// is still judged.
#[test]
fn a_mixed_set_is_refused_by_check_freshness_and_replaced_by_the_next_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let registry = local_lane(dir.path(), "rust", "required");
    assert_eq!(ingest(dir.path(), &registry, &at(0), &[]).status.code(), Some(0));
    let older_log = std::fs::read(dir.path().join(LOG)).unwrap();
    let older = set_ids(dir.path()).log.unwrap();
    assert_eq!(ingest(dir.path(), &registry, &at(1), &[]).status.code(), Some(0));
    let newer = set_ids(dir.path()).matrix.unwrap();
    assert_ne!(older, newer);
    let judged = gate(dir.path(), &at(2));
    assert_eq!(judged.status.code(), Some(0), "{}", text(&judged.stderr));

    std::fs::write(dir.path().join(LOG), &older_log).unwrap();
    let judged = gate(dir.path(), &at(2));
    assert_eq!(judged.status.code(), Some(2));
    assert!(judged.stdout.is_empty());
    assert_eq!(
        text(&judged.stderr),
        format!(
            "error: mixed artifact set: {MATRIX} carries set id {newer} but {LOG} carries set id {older}; an \
             ingest was interrupted while publishing, or something else rewrote one of the files; run `dcx \
             status ingest` again\n"
        )
    );
    // --log-json points the check elsewhere: the matrix and its Markdown agree.
    let elsewhere = dcx(dir.path())
        .args(["status", "check-freshness", "--matrix", MATRIX, "--now", &at(2)])
        .args(["--log-json", "out/none.json"])
        .output()
        .unwrap();
    assert_eq!(elsewhere.status.code(), Some(0), "{}", text(&elsewhere.stderr));

    let next = ingest(dir.path(), &registry, &at(3), &[]);
    assert_eq!(next.status.code(), Some(0));
    assert!(
        text(&next.stderr).starts_with(&format!(
            "warning: mixed artifact set: {MATRIX} carries set id {newer} but {LOG} carries set id {older}; "
        )),
        "{}",
        text(&next.stderr)
    );
    assert!(text(&next.stderr).contains("; this ingest replaces the set\n"));
    assert_whole_set(dir.path());

    // A matrix written before set ids, with no log or Markdown beside it.
    let mut old = json(&dir.path().join(MATRIX));
    old.as_object_mut().unwrap().remove("set_id");
    let alone = dir.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    std::fs::write(alone.join("m.json"), old.to_string()).unwrap();
    let judged = dcx(dir.path())
        .args([
            "status",
            "check-freshness",
            "--matrix",
            "alone/m.json",
            "--now",
            &at(4),
        ])
        .output()
        .unwrap();
    assert_eq!(judged.status.code(), Some(0), "{}", text(&judged.stderr));
    // … but beside a log that carries one, it is a mixed set.
    std::fs::copy(dir.path().join(LOG), alone.join("runner-status-ingest-log.json")).unwrap();
    let judged = dcx(dir.path())
        .args([
            "status",
            "check-freshness",
            "--matrix",
            "alone/m.json",
            "--now",
            &at(4),
        ])
        .output()
        .unwrap();
    assert_eq!(judged.status.code(), Some(2));
    assert!(
        text(&judged.stderr).starts_with("error: mixed artifact set: alone/m.json carries no set id but "),
        "{}",
        text(&judged.stderr)
    );
}

/// What killed writers leave (`.dcx-tmp-*` nobody holds) is removed by the
/// next ingest, under its lock; a temp file a live process holds stays.
#[test]
fn the_next_ingest_sweeps_abandoned_temp_files_and_keeps_held_ones() {
    let dir = tempfile::tempdir().unwrap();
    let registry = local_lane(dir.path(), "rust", "required");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(".dcx-tmp-abandoned"), b"half a matrix").unwrap();
    std::fs::create_dir_all(out.join(".dcx-staging-tree-abandoned/deep")).unwrap();
    // A temp file a live writer holds (flock, as dcx's own temp files are).
    let held = out.join(".dcx-tmp-held");
    std::fs::write(&held, b"in progress").unwrap();
    let holder = std::fs::File::open(&held).unwrap();
    holder.lock().unwrap();

    let swept = ingest(dir.path(), &registry, &at(0), &[]);
    assert_eq!(swept.status.code(), Some(0), "{}", text(&swept.stderr));
    let canonical = out.canonicalize().unwrap();
    let stderr = text(&swept.stderr);
    for name in [".dcx-staging-tree-abandoned", ".dcx-tmp-abandoned"] {
        assert!(
            stderr.contains(&format!(
                "removed {} (left by a killed writer)\n",
                canonical.join(name).display()
            )),
            "{stderr}"
        );
    }
    assert_eq!(leftovers(&dir.path().join("out")), [".dcx-tmp-held"]);
    drop(holder);
    let again = ingest(dir.path(), &registry, &at(1), &[]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(leftovers(&dir.path().join("out")), Vec::<String>::new());
}

/// Unmounts the tmpfs when the test ends, however it ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The full disk: the out dir on a 256 KiB tmpfs, filled but for
/// two pages. The ingest exits 2 naming the file it could not write, the
/// previous set is byte for byte what it was (no file of the new one was
/// renamed into place), no temp file is left, and once there is room the
/// next ingest publishes.
#[test]
fn a_full_disk_leaves_the_previous_set_whole() {
    let dir = tempfile::tempdir().unwrap();
    let registry = local_lane(dir.path(), "rust", "required");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mount = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&out)
        .output();
    match mount {
        Ok(done) if done.status.success() => {}
        Ok(done) => {
            eprintln!(
                "SKIPPED a_full_disk_leaves_the_previous_set_whole: mounting a tmpfs was refused: {}",
                text(&done.stderr).trim()
            );
            return;
        }
        Err(e) => {
            eprintln!("SKIPPED a_full_disk_leaves_the_previous_set_whole: cannot run mount: {e}");
            return;
        }
    }
    let _mounted = Mounted(out.clone());

    let first = ingest(dir.path(), &registry, &at(0), &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let previous: Vec<(String, Vec<u8>)> = [MATRIX, MD, LOG, STATE]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.path().join(f)).unwrap()))
        .collect();

    // Fill the disk, then free two pages: room for a file or two of the
    // set, not for all four.
    let mut filler = std::fs::File::create(out.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    while filler.write_all(&chunk).is_ok() {}
    let filled = filler.metadata().unwrap().len();
    filler.set_len(filled.saturating_sub(2 * 4096)).unwrap();
    drop(filler);

    let full = ingest(dir.path(), &registry, &at(1), &[]);
    let stderr = text(&full.stderr);
    assert_eq!(full.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let error: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(
        error[0].starts_with("error: cannot write out/") && error[0].contains("No space left on device"),
        "{stderr}"
    );
    assert!(
        error[0]
            .ends_with("; nothing of this ingest was published: the previous artifact set is left as it was"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrote "), "{stderr}");
    for (file, bytes) in &previous {
        assert!(
            std::fs::read(dir.path().join(file)).unwrap() == *bytes,
            "{file} changed on a full disk"
        );
    }
    assert_eq!(leftovers(&dir.path().join("out")), Vec::<String>::new());
    let judged = gate(dir.path(), &at(1));
    assert_eq!(judged.status.code(), Some(0), "{}", text(&judged.stderr));

    std::fs::remove_file(out.join("filler")).unwrap();
    let roomy = ingest(dir.path(), &registry, &at(2), &[]);
    assert_eq!(roomy.status.code(), Some(0), "{}", text(&roomy.stderr));
    assert_eq!(assert_whole_set(dir.path()), at(2));
}

/// `status ingest` and `check-freshness` with stdout closed (`| head -0`)
/// or on a full device: no panic; 141 quietly for the closed pipe, 2 with
/// one line for /dev/full; the ingest's set is published either way.
#[test]
fn ingest_and_check_freshness_survive_a_closed_stdout_and_dev_full() {
    let dir = tempfile::tempdir().unwrap();
    let registry = local_lane(dir.path(), "rust", "required");
    let ingest_printing = |now: &str| printing_ingest(dir.path(), &registry, now);
    let gate_printing = || {
        let mut command = dcx(dir.path());
        command.args(["status", "check-freshness", "--matrix", MATRIX, "--now", &at(9)]);
        command
    };

    let closed = output_with_stdout(ingest_printing(&at(0)), Stdio::piped());
    assert_eq!(closed.status.code(), Some(141), "{}", text(&closed.stderr));
    assert!(
        !text(&closed.stderr).contains("panicked"),
        "{}",
        text(&closed.stderr)
    );
    assert!(
        !text(&closed.stderr).contains("error"),
        "{}",
        text(&closed.stderr)
    );
    assert_eq!(assert_whole_set(dir.path()), at(0));

    let full = output_with_stdout(ingest_printing(&at(1)), dev_full());
    let stderr = text(&full.stderr);
    assert_eq!(full.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("error"))
            .collect::<Vec<_>>(),
        ["error: cannot write to standard output: No space left on device (os error 28)"],
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(assert_whole_set(dir.path()), at(1));

    let closed = output_with_stdout(gate_printing(), Stdio::piped());
    assert_eq!(closed.status.code(), Some(141), "{}", text(&closed.stderr));
    assert_eq!(text(&closed.stderr), "");
    let full = output_with_stdout(gate_printing(), dev_full());
    assert_eq!(full.status.code(), Some(2));
    assert_eq!(
        text(&full.stderr),
        "error: cannot write to standard output: No space left on device (os error 28)\n"
    );
}
