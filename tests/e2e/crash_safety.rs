//! Crash safety: `dcx status ingest`, `dcx bundle build`, `dcx runs record`
//! and `dcx fleet register` are killed with SIGKILL at many random moments.
//! After every kill each output file must be the old complete version or
//! the new complete version (never half of one, never a temp file under the
//! final name), whatever the kill left behind must not be mistaken for an
//! output, and running the command again must succeed and give the new
//! version.
//!
//! The kill moments are drawn uniformly from `[0, 1.2 × d]`, `d` the wall
//! time of an uninterrupted run of the same command, from a seeded RNG. The
//! seed is printed; `DCX_CRASH_SEED=<seed>` replays a failure and
//! `DCX_CRASH_KILLS=<n>` changes the number of random kills per command.
//! Random moments rarely fall in the short windows between a temp file's
//! completion and its rename, so each command is then also killed, under
//! strace, as it enters each of its renames in turn (deterministic; CI
//! installs strace, elsewhere these kills are skipped without it).
//!
//! What a kill may leave, by design: `.dcx-tmp-*` files (the temp files of
//! `dcx_contracts::atomic_write` and of the package and evidence writers, in
//! the target's directory, or beside a bundle tree for its build lock) and
//! `.dcx-staging-*` directories (bundle staging, beside the destination).
//! Neither is ever read as an output, and neither is ever inside a bundle
//! tree. Each is locked by its writer, so the next run in that place removes
//! the ones no live process holds: after every successful next run, none is
//! left (`assert_no_leftovers`). Lock files (`.dcx-<what>.lock`) stay by
//! design: the kernel releases the lock itself when its holder dies.

#![allow(clippy::print_stderr, reason = "the seed must reach the test log")]

use crate::support;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::bundle::pack_base;
use crate::support::files::{TEMP_PREFIX, is_leftover, leftovers, snapshot};
use crate::support::{assert_exit, text};
use dcx_contracts::bundle::{
    BaseBundle, BundleRunner, ImplementationOverlay, Maintainer, OutputBundle, OverlayFile,
    OverlayOperations, PackageSource,
};
use dcx_contracts::digest::{sha256_bytes, sha256_file};
use dcx_contracts::run_artifacts::{LastRun, Products};
use dcx_contracts::status::{IngestLog, IngestState, RunnerStatusMatrix};
use dcx_contracts::{Timestamp, load, save};

/// Kills per command unless `DCX_CRASH_KILLS` says otherwise.
const KILLS: usize = 20;

// ------------------------------------------------------------- the harness

/// The most renames a command is killed at, one run each.
const MAX_RENAMES: usize = 40;
/// The system calls that move a finished file into place, each counted on
/// its own by strace (`std::fs::rename` is `rename`, `tempfile`'s persist
/// `renameat`; some architectures have only the latter two).
const RENAME_SYSCALLS: [&str; 3] = ["rename", "renameat", "renameat2"];

/// When a run is killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// SIGKILL after this long.
    After(Duration),
    /// SIGKILL as the process enters its n-th call of this rename system
    /// call (injected by strace): the file it moves is complete, not yet in
    /// place.
    AtRename(&'static str, usize),
}

/// The kills of one command: first `kills` at random moments (a seeded RNG
/// over the command's duration), then, where strace can inject signals, one
/// at each rename in turn, for each rename system call, until a run gets
/// through all of its calls.
struct Killer {
    label: &'static str,
    seed: u64,
    rng: fastrand::Rng,
    kills: usize,
    /// The wall times of the uninterrupted runs so far.
    durations: Vec<Duration>,
    /// Random kills done, and how many of them interrupted the process (the
    /// rest found it finished).
    random: usize,
    interrupted: usize,
    /// The rename system call (an index in `RENAME_SYSCALLS`) and how many
    /// of its calls were killed at so far; `None` once a run got through all
    /// of them, or when strace cannot be used.
    renames: Option<(usize, usize)>,
    /// The kills at renames.
    rename_kills: usize,
    /// What the kills left, e.g. "log new, md old, matrix old", counted.
    outcomes: BTreeMap<String, usize>,
}

impl Killer {
    fn new(label: &'static str) -> Self {
        let seed = std::env::var("DCX_CRASH_SEED")
            .ok()
            .map(|s| s.parse().expect("DCX_CRASH_SEED is a u64"))
            .unwrap_or_else(|| fastrand::u64(..));
        let kills = std::env::var("DCX_CRASH_KILLS")
            .ok()
            .map_or(KILLS, |s| s.parse().expect("DCX_CRASH_KILLS is a number"));
        eprintln!("crash_safety [{label}]: seed {seed} (replay with DCX_CRASH_SEED={seed})");
        let renames = strace_available().then_some((0, 0));
        if renames.is_none() {
            // CI installs strace (.ci/run): there, these kills never skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "strace is missing or may not trace (ptrace): install strace to kill dcx at its renames"
            );
            eprintln!(
                "crash_safety [{label}]: strace cannot trace here; no kills at renames (install strace)"
            );
        }
        Self {
            label,
            seed,
            rng: fastrand::Rng::with_seed(seed),
            kills,
            durations: Vec::new(),
            random: 0,
            interrupted: 0,
            renames,
            rename_kills: 0,
            outcomes: BTreeMap::new(),
        }
    }

    /// Runs `command` to completion, asserting exit 0, and reports its wall
    /// time.
    fn measure(&mut self, command: &mut Command) -> Output {
        let output = self.run(command);
        assert_success(&output, self.label);
        eprintln!(
            "crash_safety [{}]: an uninterrupted run takes {:?}",
            self.label,
            self.durations.last().unwrap()
        );
        output
    }

    /// Runs `command` to completion; a successful run's wall time joins the
    /// durations the kill moments are drawn over.
    fn run(&mut self, command: &mut Command) -> Output {
        let started = Instant::now();
        let output = command.output().unwrap();
        if output.status.success() {
            self.durations.push(started.elapsed());
        }
        output
    }

    /// The median wall time of the uninterrupted runs so far (the median,
    /// and of all of them, so that one run slowed or sped up by the rest of
    /// the machine does not put all the kills after or before the work).
    fn typical(&self) -> Duration {
        let mut durations = self.durations.clone();
        durations.sort();
        durations[durations.len() / 2]
    }

    /// The next kill, if any.
    fn next(&mut self) -> Option<Kill> {
        if self.random < self.kills {
            self.random += 1;
            return Some(Kill::After(self.typical().mul_f64(1.2 * self.rng.f64())));
        }
        let (syscall, n) = self.renames.as_mut()?;
        *n += 1;
        assert!(
            *n <= MAX_RENAMES,
            "[{}] still renaming after {MAX_RENAMES} renames",
            self.label
        );
        Some(Kill::AtRename(RENAME_SYSCALLS[*syscall], *n))
    }

    /// Counts what a kill left, for the summary.
    fn outcome(&mut self, outcome: String) {
        *self.outcomes.entry(outcome).or_default() += 1;
    }

    /// Runs `command`, killing it as `kill` says; returns a description of
    /// the kill for assertion messages.
    fn kill(&mut self, kill: Kill, command: &mut Command) -> String {
        let (mut command, what) = match kill {
            Kill::After(delay) => (
                std::mem::replace(command, Command::new("true")),
                format!(
                    "kill {}/{} at {delay:?} of ~{:?}",
                    self.random,
                    self.kills,
                    self.typical()
                ),
            ),
            Kill::AtRename(syscall, n) => (
                under_strace(command, syscall, n),
                format!("kill at {syscall} #{n} (strace)"),
            ),
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if let Kill::After(delay) = kill {
            std::thread::sleep(delay);
            // `Child::kill` is SIGKILL on Unix; a child that already exited is fine.
            let _ = child.kill();
        }
        let status = child.wait().unwrap();
        // strace ends itself with the signal that ended the process.
        let killed = status.signal() == Some(9);
        match kill {
            Kill::After(_) if killed => self.interrupted += 1,
            Kill::AtRename(..) if killed => self.rename_kills += 1,
            Kill::AtRename(..) => {
                assert!(status.success(), "[{}] {what}: {status}", self.label);
                // On to the next system call.
                self.renames = self
                    .renames
                    .map(|(syscall, _)| (syscall + 1, 0))
                    .filter(|(syscall, _)| *syscall < RENAME_SYSCALLS.len());
            }
            _ => {}
        }
        format!(
            "[{}] seed {} (DCX_CRASH_SEED={}), {what} ({})",
            self.label,
            self.seed,
            self.seed,
            if killed {
                "killed".to_owned()
            } else {
                format!("had finished: {status}")
            }
        )
    }

    fn report(&self) {
        eprintln!(
            "crash_safety [{}]: {} random kills over [0, {:?}], {} interrupted a running process; \
             {} kills at renames; left: {:?}",
            self.label,
            self.kills,
            self.typical().mul_f64(1.2),
            self.interrupted,
            self.rename_kills,
            self.outcomes
        );
        assert!(
            self.interrupted * 5 >= self.kills,
            "[{}] only {} of {} kills interrupted the command: the kill moments miss it",
            self.label,
            self.interrupted,
            self.kills
        );
        // Every command renames at least one file into place.
        assert!(
            !strace_available() || self.rename_kills > 0,
            "[{}] strace killed at no rename",
            self.label
        );
    }
}

/// Whether strace runs here and may trace (it needs ptrace).
fn strace_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=rename", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// `command` under strace, which SIGKILLs it as it enters its n-th call of
/// `syscall` (`?`: a system call this architecture lacks is no error). Not
/// with `--seccomp-bpf`: strace 6.1 then injects nothing.
fn under_strace(command: &Command, syscall: &str, n: usize) -> Command {
    let renames = format!("?{syscall}");
    let mut traced = Command::new("strace");
    traced
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("trace={renames}"))
        .arg("-e")
        .arg(format!("inject={renames}:signal=KILL:when={n}"))
        .arg("--")
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        traced.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => traced.env(key, value),
            None => traced.env_remove(key),
        };
    }
    traced
}

/// A temporary directory on a tmpfs when there is one: a kill tests the
/// process, not the disk, and on a shared disk creating thousands of small
/// files was 20x slower than the work between them.
fn work_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new().prefix("dcx-crash-").tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

#[track_caller]
fn assert_success(output: &Output, context: &str) {
    assert_exit(output, 0, context);
}

fn dcx(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_TOKEN")
        .env_remove("SOURCE_DATE_EPOCH");
    command
}

/// The leftovers directly in each of `dirs`: after a successful run in that
/// place there must be none, however many kills came before it.
fn assert_no_leftovers(dirs: &[PathBuf], context: &str) {
    let mut found = Vec::new();
    for dir in dirs {
        for name in leftovers(dir) {
            found.push(dir.join(name).display().to_string());
        }
    }
    assert_eq!(
        found,
        Vec::<String>::new(),
        "{context}: leftovers the next run did not sweep"
    );
}

/// The names directly in `dir` that are neither `expected` nor leftovers.
fn unexpected_entries(dir: &Path, expected: &[&str]) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !is_leftover(name) && !expected.contains(&name.as_str()))
        .collect();
    names.sort();
    names
}

/// Which of the two versions `bytes` is: `Some(false)` old, `Some(true)`
/// new, `None` neither.
fn which(bytes: &[u8], old: &[u8], new: &[u8]) -> Option<bool> {
    if bytes == new {
        Some(true)
    } else if bytes == old {
        Some(false)
    } else {
        None
    }
}

/// A short description of bytes that matched neither version.
fn describe(bytes: &[u8]) -> String {
    let head: String = text(&bytes[..bytes.len().min(200)]);
    format!("{} bytes, starting {head:?}", bytes.len())
}

// ------------------------------------------------------ dcx status ingest

const INGEST_LANES: usize = 300;
const CATALOG: &str = "version: 1\nschemas:\n  - schema_id: runner_status_report_v1\n    major: 1\n    path: /specs/schemas/runner_status_report_v1.schema.json\n    status: active\n";
/// Both instants see every report fresh, at different ages.
const INGEST_NOW: [&str; 2] = ["2026-02-20T12:00:00Z", "2026-02-21T06:30:00Z"];
const INGEST_ARTIFACTS: [&str; 3] = [
    "runner-status-ingest-log.json",
    "runner-status-matrix.md",
    "runner-status-matrix.json",
];

/// The ingest's rollback state (`runner_status_ingest_state_v1`), beside
/// the artifacts; its `updated_at` follows the runs, so it is checked for
/// validity rather than compared.
const INGEST_STATE: &str = "runner-status-ingest-state.json";
/// The out dir's lock file: it stays, the kernel releases the lock.
const INGEST_LOCK: &str = ".dcx-ingest.lock";

fn lane_id(i: usize) -> String {
    format!("lane-{i:04}")
}

/// `INGEST_LANES` lanes read from local release files (registry-relative
/// paths, so the artifacts do not depend on where the inputs are).
fn ingest_inputs(dir: &Path) {
    let write = |relative: &str, bytes: &str| {
        let path = dir.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    write("catalog.yaml", CATALOG);
    let runners: Vec<serde_json::Value> = (0..INGEST_LANES)
        .map(|i| {
            let (class, role) = if i == 0 {
                ("required", "required")
            } else {
                ("compatibility_non_blocking", "compatibility")
            };
            serde_json::json!({
                "runner_id": lane_id(i),
                "class": class,
                "status": "active",
                "entrypoints": {"public_adapter": "dc-runner", "implementation_repo": format!("dc-runner-{}", lane_id(i))},
                "artifact_contract": {
                    "json_out": "/.artifacts/runner-certification-{runner}.json",
                    "md_out": "/.artifacts/runner-certification-{runner}.md"
                },
                "status_exchange": {
                    "source_kind": "release_asset",
                    "release_api_url": format!("releases/{}.json", lane_id(i)),
                    "report_asset_name": "runner-status-report-v1.json",
                    "matrix_role": role,
                    "freshness_slo_hours": 72
                }
            })
        })
        .collect();
    let registry = serde_json::json!({
        "version": 2,
        "certificate_schema_ref": "/specs/schemas/runner_execution_certificate_v1.schema.json",
        "runners": runners,
    });
    write("registry.json", &registry.to_string());
    for i in 0..INGEST_LANES {
        let class = if i == 0 {
            "required"
        } else {
            "compatibility_non_blocking"
        };
        // A few failing lanes, so the Markdown has a "What to do" section.
        let status = if i % 50 == 7 { "fail" } else { "pass" };
        let report = format!(
            "{{\"version\":1,\"runner_id\":\"{id}\",\"implementation_repo\":\"dc-runner-{id}\",\"release_version\":\"v1.0.0\",\
             \"commit_sha\":\"0123456789abcdef0123456789abcdef01234567\",\"generated_at\":\"2026-02-20T00:00:00Z\",\
             \"lane_class\":\"{class}\",\"overall_status\":\"{status}\",\"fresh_until\":\"2026-02-23T00:00:00Z\",\
             \"command_results\":[{{\"command\":\"governance\",\"status\":\"{status}\",\"exit_code\":0,\"duration_ms\":100}}],\
             \"artifact_refs\":[]}}\n",
            id = lane_id(i)
        );
        let report_path = format!("reports/{}.json", lane_id(i));
        let release = format!(
            "{{\"tag_name\":\"v1.0.0\",\"assets\":[{{\"name\":\"runner-status-report-v1.json\",\
             \"browser_download_url\":\"{report_path}\",\"size\":{},\"digest\":\"sha256:{}\"}}]}}",
            report.len(),
            sha256_bytes(report.as_bytes())
        );
        write(&format!("releases/{}.json", lane_id(i)), &release);
        write(&report_path, &report);
    }
}

/// `dcx status ingest` in `dir` over the shared inputs, judged at `now`.
fn ingest(dir: &Path, now: &str) -> Command {
    let mut command = dcx(dir);
    command.args([
        "status",
        "ingest",
        "--registry",
        "../inputs/registry.json",
        "--catalog",
        "../inputs/catalog.yaml",
        "--offline",
        "--quiet",
        "--now",
        now,
    ]);
    command
}

fn ingest_artifacts(dir: &Path) -> [Vec<u8>; 3] {
    INGEST_ARTIFACTS.map(|name| {
        let path = dir.join(".artifacts").join(name);
        fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

#[test]
fn status_ingest_survives_sigkill() {
    let work = work_dir();
    let inputs = work.path().join("inputs");
    ingest_inputs(&inputs);
    let mut killer = Killer::new("status ingest");

    // The two versions, from uninterrupted runs in directories of their own.
    let mut versions = Vec::new();
    for (index, now) in INGEST_NOW.iter().enumerate() {
        let reference = work.path().join(format!("reference-{index}"));
        fs::create_dir_all(&reference).unwrap();
        killer.measure(&mut ingest(&reference, now));
        versions.push(ingest_artifacts(&reference));
    }
    for (name, (a, b)) in INGEST_ARTIFACTS.iter().zip(versions[0].iter().zip(&versions[1])) {
        assert_ne!(a, b, "{name} must differ between the two instants");
    }

    // The old state: a complete run.
    let dir = work.path().join("dcx");
    fs::create_dir_all(&dir).unwrap();
    assert_success(&ingest(&dir, INGEST_NOW[0]).output().unwrap(), "old state");
    assert_eq!(ingest_artifacts(&dir), versions[0]);

    // Each kill goes from the current version to the other one.
    let mut iteration = 0;
    while let Some(kill) = killer.next() {
        let (from, to) = (iteration % 2, (iteration + 1) % 2);
        iteration += 1;
        let context = killer.kill(kill, &mut ingest(&dir, INGEST_NOW[to]));
        let artifacts = dir.join(".artifacts");
        let found = INGEST_ARTIFACTS.iter().enumerate().map(|(i, name)| {
            let bytes =
                fs::read(artifacts.join(name)).unwrap_or_else(|e| panic!("{context}: {name} is gone: {e}"));
            which(&bytes, &versions[from][i], &versions[to][i])
                .unwrap_or_else(|| panic!("{context}: {name} is neither version: {}", describe(&bytes)))
        });
        let [log_new, md_new, matrix_new]: [bool; 3] = found.collect::<Vec<_>>().try_into().unwrap();
        let age = |new: bool| if new { "new" } else { "old" };
        killer.outcome(format!(
            "log {}, md {}, matrix {}",
            age(log_new),
            age(md_new),
            age(matrix_new)
        ));
        // Written in this order; the matrix is never newer than its log.
        assert!(
            (!md_new || log_new) && (!matrix_new || md_new),
            "{context}: written out of order: log new {log_new}, md new {md_new}, matrix new {matrix_new}"
        );
        assert_eq!(
            unexpected_entries(
                &artifacts,
                &[&INGEST_ARTIFACTS[..], &[INGEST_STATE, INGEST_LOCK]].concat()
            ),
            Vec::<String>::new(),
            "{context}: unexpected files in .artifacts"
        );
        // The rollback state, where this build writes one: never half
        // written, so never taken for corrupt and moved aside.
        let state = artifacts.join(INGEST_STATE);
        if state.exists() {
            load::<IngestState>(&state).unwrap_or_else(|e| panic!("{context}: {e}"));
        }
        // Whatever the kill left, the artifacts still load and gate.
        let matrix = artifacts.join(INGEST_ARTIFACTS[2]);
        load::<RunnerStatusMatrix>(&matrix).unwrap_or_else(|e| panic!("{context}: {e}"));
        load::<IngestLog>(&artifacts.join(INGEST_ARTIFACTS[0])).unwrap_or_else(|e| panic!("{context}: {e}"));
        let gate = dcx(&dir)
            .args(["status", "check-freshness", "--now", INGEST_NOW[1]])
            .output()
            .unwrap();
        if log_new == md_new && md_new == matrix_new {
            assert_success(&gate, &format!("{context}: check-freshness after the kill"));
        } else {
            // Killed between two renames: the set ids give it away, and the
            // gate refuses to judge a mixed set.
            assert_exit(&gate, 2, &format!("{context}: check-freshness on a mixed set"));
            assert!(
                text(&gate.stderr).contains("mixed artifact set"),
                "{context}: {}",
                text(&gate.stderr)
            );
        }

        let rerun = killer.run(&mut ingest(&dir, INGEST_NOW[to]));
        assert_success(&rerun, &format!("{context}: the next run"));
        assert_no_leftovers(std::slice::from_ref(&artifacts), &context);
        assert!(
            ingest_artifacts(&dir) == versions[to],
            "{context}: the next run did not write the new version"
        );
    }
    killer.report();
}

// ------------------------------------------------------- dcx bundle build

const BASE_FILES: usize = 600;
const BASE_PACKAGE: &str = "data-contract-bundle-crash-core-v1.0.0.tar.gz";
const OUTPUT_PACKAGE: &str = "data-contract-bundle-crash-core-rust-v1.0.0.tar.gz";
const BUNDLE_NOW: [&str; 2] = ["2026-02-22T10:00:00Z", "2026-02-23T11:30:00Z"];

fn base_file(index: usize) -> String {
    format!("payloads/crash-core/m{:02}/f{index:04}.md", index / 100)
}

/// Text of a few hundred bytes to a few KiB, the same on every run.
fn filler(rng: &mut fastrand::Rng, label: &str) -> String {
    let mut out = format!("# {label}\n\n");
    for line in 0..rng.usize(4..60) {
        out.push_str(&format!("- item {line}: "));
        for _ in 0..rng.usize(3..12) {
            out.push_str(["alpha", "beta", "gamma", "delta", "runner", "bundle", "lane"][rng.usize(..7)]);
            out.push(' ');
        }
        out.push('\n');
    }
    out
}

/// A base package of `BASE_FILES` files and two overlays on it
/// (`overlay-0`, `overlay-1`) that build the same output bundle with
/// different adds, replaces and deletes.
fn bundle_inputs(work: &Path) -> [PathBuf; 2] {
    let mut rng = fastrand::Rng::with_seed(0x0dc5_c4a5);
    let base = work.join("base-tree");
    for index in 0..BASE_FILES {
        let path = base.join(base_file(index));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, filler(&mut rng, &base_file(index))).unwrap();
    }
    let package = work.join("base").join(BASE_PACKAGE);
    pack_base(&base, &package, "crash-core", "crash");
    let package_sha256 = sha256_file(&package).unwrap();

    [0, 1].map(|variant| {
        let dir = work.join(format!("overlay-{variant}"));
        let mut sources = |targets: Vec<String>| -> Vec<OverlayFile> {
            targets
                .into_iter()
                .map(|target| {
                    let source = format!("files/{target}");
                    let path = dir.join(&source);
                    fs::create_dir_all(path.parent().unwrap()).unwrap();
                    fs::write(path, filler(&mut rng, &format!("{target} (overlay {variant})"))).unwrap();
                    OverlayFile {
                        path: target,
                        source_path: source,
                    }
                })
                .collect()
        };
        let add_files = sources(
            (0..60)
                .map(|i| format!("payloads/crash-core-rust/v{variant}/a{i:03}.md"))
                .collect(),
        );
        let replace_files = sources((0..60).map(|i| base_file(i * 10 + variant)).collect());
        let overlay = ImplementationOverlay {
            version: 1,
            runner_id: BundleRunner::Rust,
            base_bundle: BaseBundle {
                bundle_id: "crash-core".to_owned(),
                bundle_version: "1.0.0".to_owned(),
                source: PackageSource {
                    repo: "dcx-project/dcx".to_owned(),
                    release_tag: "v1.0.0".to_owned(),
                    asset_url: format!("../base/{BASE_PACKAGE}"),
                    sha256: package_sha256,
                },
            },
            overlay: OverlayOperations {
                add_files,
                replace_files,
                delete_paths: (0..40).map(|i| base_file(i * 10 + 5 + variant)).collect(),
            },
            output_bundle: OutputBundle {
                bundle_id: "crash-core-rust".to_owned(),
                bundle_version: "1.0.0".to_owned(),
                summary: "The crash-safety bundle with a rust overlay.".to_owned(),
                maintainers: vec![Maintainer {
                    name: "dcx maintainers".to_owned(),
                    contact: None,
                }],
            },
            updated_at: Timestamp::parse(BUNDLE_NOW[0]).unwrap(),
        };
        let path = dir.join("overlay.yaml");
        save(&path, &overlay).unwrap();
        path
    })
}

fn bundle_build(overlay: &Path, out: &Path, now: &str) -> Command {
    let mut command = dcx(out.parent().unwrap());
    command
        .args(["bundle", "build", "--overlay"])
        .arg(overlay)
        .arg("--out")
        .arg(out)
        .args(["--now", now, "--threads", "2"]);
    command
}

/// What `dcx bundle build` leaves in `--out`.
#[derive(Clone, PartialEq)]
struct BundleVersion {
    /// The package, its sidecar and its statement.
    assets: [Vec<u8>; 3],
    /// The tree after packaging (the build lock has result_package_sha256).
    tree: BTreeMap<String, Vec<u8>>,
    /// The tree as build-impl published it, before packaging filled in the
    /// build lock's result_package_sha256.
    tree_unpackaged: BTreeMap<String, Vec<u8>>,
}

const ASSET_NAMES: [&str; 3] = [
    OUTPUT_PACKAGE,
    "data-contract-bundle-crash-core-rust-v1.0.0.tar.gz.sha256",
    "data-contract-bundle-crash-core-rust-v1.0.0.tar.gz.intoto.json",
];

fn bundle_assets(out: &Path) -> [Vec<u8>; 3] {
    ASSET_NAMES.map(|name| {
        let path = out.join(name);
        fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

#[test]
fn bundle_build_survives_sigkill() {
    let work = work_dir();
    let overlays = bundle_inputs(work.path());
    let mut killer = Killer::new("bundle build");

    let mut versions = Vec::new();
    for (index, overlay) in overlays.iter().enumerate() {
        let reference = work.path().join(format!("reference-{index}"));
        killer.measure(&mut bundle_build(overlay, &reference, BUNDLE_NOW[index]));
        let unpackaged = work.path().join(format!("reference-{index}-unpackaged"));
        let mut build_impl = dcx(work.path());
        build_impl
            .args(["bundle", "build-impl", "--overlay"])
            .arg(overlay)
            .arg("--out")
            .arg(&unpackaged)
            .args(["--now", BUNDLE_NOW[index]]);
        assert_success(&build_impl.output().unwrap(), "build-impl reference");
        versions.push(BundleVersion {
            assets: bundle_assets(&reference),
            tree: snapshot(&reference.join("tree")),
            tree_unpackaged: snapshot(&unpackaged),
        });
    }
    assert!(
        versions[0]
            .assets
            .iter()
            .zip(&versions[1].assets)
            .all(|(a, b)| a != b)
    );
    assert_ne!(versions[0].tree, versions[1].tree);

    let out = work.path().join("dcx").join("out");
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    assert_success(
        &bundle_build(&overlays[0], &out, BUNDLE_NOW[0]).output().unwrap(),
        "old state",
    );
    assert!(bundle_assets(&out) == versions[0].assets);

    let mut iteration = 0;
    while let Some(kill) = killer.next() {
        let (from, to) = (iteration % 2, (iteration + 1) % 2);
        iteration += 1;
        let (old, new) = (&versions[from], &versions[to]);
        let context = killer.kill(kill, &mut bundle_build(&overlays[to], &out, BUNDLE_NOW[to]));

        let mut assets_new = Vec::new();
        for (i, name) in ASSET_NAMES.iter().enumerate() {
            let bytes = fs::read(out.join(name)).unwrap_or_else(|e| panic!("{context}: {name} is gone: {e}"));
            assets_new.push(
                which(&bytes, &old.assets[i], &new.assets[i])
                    .unwrap_or_else(|| panic!("{context}: {name} is neither version: {}", describe(&bytes))),
            );
        }
        // The tree is published by a rename (it is absent only between the
        // two renames that swap it), then packaged, then its build lock gets
        // the package digest. A leftover temp file in it would be an extra
        // file and match no version.
        let tree_path = out.join("tree");
        let tree = fs::symlink_metadata(&tree_path)
            .is_ok()
            .then(|| snapshot(&tree_path));
        let tree_state = match &tree {
            None => "absent",
            Some(files) if *files == old.tree => "old",
            Some(files) if *files == new.tree_unpackaged => "new, unpackaged",
            Some(files) if *files == new.tree => "new",
            Some(files) => {
                let differing: std::collections::BTreeSet<&String> = files
                    .keys()
                    .chain(new.tree.keys())
                    .filter(|path| files.get(*path) != new.tree.get(*path))
                    .collect();
                panic!("{context}: the tree is neither version; differs from the new one in {differing:?}")
            }
        };
        let age = |new: bool| if new { "new" } else { "old" };
        killer.outcome(format!(
            "tree {tree_state}, assets {}",
            assets_new
                .iter()
                .map(|&new| age(new))
                .collect::<Vec<_>>()
                .join("/")
        ));
        // The order of the writes: tree, then the assets, then the lock.
        if assets_new.iter().any(|&new| new) {
            assert!(
                tree_state.starts_with("new"),
                "{context}: new assets {assets_new:?} beside a tree that is {tree_state}"
            );
        }
        if tree_state == "new" {
            assert_eq!(
                assets_new, [true; 3],
                "{context}: the tree was updated before its assets"
            );
        }
        assert_eq!(
            unexpected_entries(
                &out,
                &ASSET_NAMES.iter().copied().chain(["tree"]).collect::<Vec<_>>()
            ),
            Vec::<String>::new(),
            "{context}: unexpected entries in --out"
        );

        let rerun = killer.run(&mut bundle_build(&overlays[to], &out, BUNDLE_NOW[to]));
        assert_success(&rerun, &format!("{context}: the next run"));
        assert_no_leftovers(std::slice::from_ref(&out), &context);
        assert!(
            bundle_assets(&out) == new.assets,
            "{context}: the next run did not write the new assets"
        );
        assert!(
            snapshot(&tree_path) == new.tree,
            "{context}: the next run did not write the new tree"
        );
    }
    // After all the kills and their leftovers, the result checks out.
    let check = dcx(work.path())
        .args(["bundle", "package-check", "--package"])
        .arg(out.join(OUTPUT_PACKAGE))
        .output()
        .unwrap();
    assert_success(&check, "package-check after the kills");
    killer.report();
}

// --------------------------------------------------------- dcx runs record

const PRODUCT: &str = "crash-dash";
const RECORD_NOW: &str = "2026-02-20T12:00:00Z";
/// Prints for a while, then a closing summary line.
const RECORD_SCRIPT: &str =
    "for i in $(seq 1 12); do echo line $i of the test output; sleep 0.01; done; echo '300 passed, 0 failed'";
const EVIDENCE: &str = "coverage.xml";
const EVIDENCE_BYTES: usize = 4 << 20;

/// A registered product, a JUnit report and evidence for `runs record`.
fn record_inputs(dir: &Path) {
    let registered = dcx(dir)
        .args([
            "fleet",
            "register",
            PRODUCT,
            "--display-name",
            "Crash Dash",
            "--owner",
            "nexus",
            "--status",
            "active",
            "--now",
            RECORD_NOW,
        ])
        .output()
        .unwrap();
    assert_success(&registered, "register the product");
    let mut junit = String::from("<testsuites>\n");
    for suite in 0..10 {
        junit.push_str(&format!("<testsuite name=\"suite{suite}\">\n"));
        for case in 0..30 {
            junit.push_str(&format!(
                "<testcase name=\"test_{case}\" classname=\"tests.suite{suite}\" time=\"0.001\"/>\n"
            ));
        }
        junit.push_str("</testsuite>\n");
    }
    junit.push_str("</testsuites>\n");
    fs::write(dir.join("junit.xml"), junit).unwrap();
    let line = "<line number=\"1\" hits=\"1\"/>\n";
    fs::write(dir.join(EVIDENCE), line.repeat(EVIDENCE_BYTES / line.len())).unwrap();
}

fn record(dir: &Path) -> Command {
    let mut command = dcx(dir);
    command.args([
        "runs",
        "record",
        PRODUCT,
        "--now",
        RECORD_NOW,
        "--junit",
        "junit.xml",
        "--evidence",
        EVIDENCE,
        "--",
        "sh",
        "-c",
        RECORD_SCRIPT,
    ]);
    command
}

/// Checks every file of every run directory: `test-report.json` and the
/// evidence copy are absent or complete; the run `last_run.json` names has
/// all of its evidence, complete, including the whole log.
fn check_runs(dir: &Path, report: &LastRun, context: &str) {
    let product_dir = dir.join("dash/runs").join(PRODUCT);
    let expected_report = fs::read(product_dir.join(&report.run_id).join("test-report.json"))
        .unwrap_or_else(|e| panic!("{context}: the reported run's test-report.json: {e}"));
    let evidence = fs::read(dir.join(EVIDENCE)).unwrap();
    for entry in fs::read_dir(&product_dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "last_run.json" || name.starts_with(TEMP_PREFIX) {
            continue;
        }
        assert!(
            name.starts_with("run_") && entry.file_type().unwrap().is_dir(),
            "{context}: unexpected entry {name} in the product directory"
        );
        let run = entry.path();
        if let Ok(bytes) = fs::read(run.join("test-report.json")) {
            assert!(
                bytes == expected_report,
                "{context}: {name}/test-report.json is partial: {}",
                describe(&bytes)
            );
        }
        if let Ok(bytes) = fs::read(run.join("evidence").join(EVIDENCE)) {
            assert!(
                bytes == evidence,
                "{context}: {name}/evidence/{EVIDENCE} is partial ({} of {} bytes)",
                bytes.len(),
                evidence.len()
            );
        }
    }
    for path in &report.evidence.paths {
        let bytes = fs::read(dir.join("dash").join(path))
            .unwrap_or_else(|e| panic!("{context}: reported evidence {path}: {e}"));
        if path.ends_with("pytest_output.log") {
            assert!(
                text(&bytes).ends_with("line 12 of the test output\n300 passed, 0 failed\n"),
                "{context}: the reported run's log is incomplete: {}",
                describe(&bytes)
            );
        }
    }
    assert_eq!(
        report.evidence.paths.len(),
        3,
        "{context}: {:?}",
        report.evidence.paths
    );
}

/// What the newest run directory holds, leftovers as `.dcx-tmp`.
fn newest_run(dir: &Path) -> String {
    let product_dir = dir.join("dash/runs").join(PRODUCT);
    let newest = fs::read_dir(&product_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("run_"))
        .max()
        .unwrap();
    let mut files: Vec<String> = snapshot(&product_dir.join(&newest))
        .into_keys()
        .map(|path| match path.find(TEMP_PREFIX) {
            Some(at) => format!("{}.dcx-tmp", &path[..at]),
            None => path,
        })
        .collect();
    files.sort();
    files.join(" ")
}

#[test]
fn runs_record_survives_sigkill() {
    let work = work_dir();
    let dir = work.path();
    record_inputs(dir);
    let mut killer = Killer::new("runs record");
    let last_run = dir.join("dash/runs").join(PRODUCT).join("last_run.json");
    killer.measure(&mut record(dir));

    while let Some(kill) = killer.next() {
        let old_bytes = fs::read(&last_run).unwrap();
        let old = load::<LastRun>(&last_run).unwrap().document;
        let context = killer.kill(kill, &mut record(dir));

        let bytes = fs::read(&last_run).unwrap_or_else(|e| panic!("{context}: last_run.json is gone: {e}"));
        let report = if bytes == old_bytes {
            old.clone()
        } else {
            let loaded = load::<LastRun>(&last_run).unwrap_or_else(|e| {
                panic!(
                    "{context}: last_run.json is neither the old one nor a valid new one: {e}\n{}",
                    describe(&bytes)
                )
            });
            assert!(loaded.warnings.is_empty(), "{context}: {:?}", loaded.warnings);
            assert!(
                loaded.document.run_id > old.run_id,
                "{context}: {} after {}",
                loaded.document.run_id,
                old.run_id
            );
            loaded.document
        };
        check_runs(dir, &report, &context);
        killer.outcome(format!(
            "report {}, newest run: {}",
            if bytes == old_bytes { "old" } else { "new" },
            newest_run(dir)
        ));
        let validate = dcx(dir).args(["runs", "validate"]).output().unwrap();
        assert_success(&validate, &format!("{context}: runs validate after the kill"));

        let rerun = killer.run(&mut record(dir));
        assert_success(&rerun, &format!("{context}: the next run"));
        let new = load::<LastRun>(&last_run)
            .unwrap_or_else(|e| panic!("{context}: after the next run: {e}"))
            .document;
        assert!(
            new.run_id > report.run_id,
            "{context}: {} after {}",
            new.run_id,
            report.run_id
        );
        assert_eq!(new.summary, "300 passed, 0 failed", "{context}");
        check_runs(dir, &new, &context);
        let product_dir = dir.join("dash/runs").join(PRODUCT);
        let mut places = vec![product_dir.clone()];
        for run in fs::read_dir(&product_dir).unwrap() {
            let run = run.unwrap().path();
            if run.is_dir() {
                places.push(run.join("evidence"));
                places.push(run);
            }
        }
        assert_no_leftovers(&places, &context);
    }
    killer.report();
}

// ------------------------------------------------------ dcx fleet register

const FLEET_PRODUCTS: usize = 1_500;
const FLEET_NOW: [&str; 2] = ["2026-02-20T12:00:00Z", "2026-02-21T08:00:00Z"];
const SCHEMAS: [&str; 2] = ["products.schema.json", "last_run.schema.json"];

fn register(dash_parent: &Path, id: &str, now: &str) -> Command {
    let mut command = dcx(dash_parent);
    command.args([
        "fleet",
        "register",
        id,
        "--display-name",
        "Crash Product",
        "--owner",
        "nexus",
        "--status",
        "active",
        "--criticality",
        "high",
        "--sla-tier",
        "2",
        "--now",
        now,
    ]);
    command
}

#[test]
fn fleet_register_survives_sigkill() {
    let work = work_dir();
    let dir = work.path().join("dcx");
    let products: Vec<serde_json::Value> = (0..FLEET_PRODUCTS)
        .map(|i| {
            serde_json::json!({
                "product_id": format!("product-{i:05}"),
                "display_name": format!("Product {i}"),
                "owner": "CodeMonkeys",
                "status": "active",
                "repo": "github",
                "path": format!("products/product-{i:05}"),
                "criticality": "medium",
                "sla_tier": 3,
            })
        })
        .collect();
    fs::create_dir_all(dir.join("dash")).unwrap();
    fs::write(
        dir.join("dash/products.json"),
        serde_json::to_string_pretty(&serde_json::json!({"schema_version": "0.1", "products": products}))
            .unwrap(),
    )
    .unwrap();
    let mut killer = Killer::new("fleet register");
    // The old state: a complete registration.
    assert_success(
        &register(&dir, "old-product", FLEET_NOW[0]).output().unwrap(),
        "old state",
    );
    let old = fs::read(dir.join("dash/products.json")).unwrap();

    // The new version: the next registration, uninterrupted, in a copy.
    let reference = work.path().join("reference");
    support::copy_dir(&dir, &reference);
    killer.measure(&mut register(&reference, "new-product", FLEET_NOW[1]));
    let new = fs::read(reference.join("dash/products.json")).unwrap();
    let schemas = SCHEMAS.map(|name| fs::read(reference.join("dash/schemas").join(name)).unwrap());
    assert_eq!(
        load::<Products>(&reference.join("dash/products.json"))
            .unwrap()
            .document
            .products
            .len(),
        FLEET_PRODUCTS + 2
    );

    while let Some(kill) = killer.next() {
        // Back to the old registry, in a dash directory without schemas
        // yet (as on a first registration), so they are outputs too.
        fs::write(dir.join("dash/products.json"), &old).unwrap();
        let _ = fs::remove_dir_all(dir.join("dash/schemas"));
        let context = killer.kill(kill, &mut register(&dir, "new-product", FLEET_NOW[1]));

        let bytes = fs::read(dir.join("dash/products.json"))
            .unwrap_or_else(|e| panic!("{context}: products.json is gone: {e}"));
        let registered = which(&bytes, &old, &new).unwrap_or_else(|| {
            panic!(
                "{context}: products.json is neither version: {}",
                describe(&bytes)
            )
        });
        let schemas_present = SCHEMAS
            .iter()
            .filter(|name| dir.join("dash/schemas").join(name).exists())
            .count();
        killer.outcome(format!(
            "registry {}, {schemas_present} schemas",
            if registered { "new" } else { "old" }
        ));
        let mut schemas_written = 0;
        for (name, expected) in SCHEMAS.iter().zip(&schemas) {
            if let Ok(bytes) = fs::read(dir.join("dash/schemas").join(name)) {
                assert!(
                    bytes == *expected,
                    "{context}: {name} is partial: {}",
                    describe(&bytes)
                );
                schemas_written += 1;
            }
        }
        assert_eq!(
            unexpected_entries(&dir.join("dash"), &["products.json", "schemas"]),
            Vec::<String>::new(),
            "{context}: unexpected entries in the dash directory"
        );
        assert_eq!(
            unexpected_entries(&dir.join("dash/schemas"), &SCHEMAS),
            Vec::<String>::new(),
            "{context}: unexpected entries in schemas/"
        );
        let list = dcx(&dir).args(["fleet", "list"]).output().unwrap();
        assert_success(&list, &format!("{context}: fleet list after the kill"));

        // The registry is the commit point: once it names the product, its
        // schemas are there too, since running the registration again is
        // refused as a duplicate and would not write them.
        let rerun = killer.run(&mut register(&dir, "new-product", FLEET_NOW[1]));
        if registered {
            assert_eq!(
                schemas_written,
                SCHEMAS.len(),
                "{context}: registered without its schemas"
            );
            assert_exit(&rerun, 2, &format!("{context}: registering again"));
            assert!(
                text(&rerun.stderr).contains("is already registered"),
                "{context}: {}",
                text(&rerun.stderr)
            );
        } else {
            assert_success(&rerun, &format!("{context}: the next run"));
        }
        assert!(
            fs::read(dir.join("dash/products.json")).unwrap() == new,
            "{context}: the next run did not write the new registry"
        );
        assert_no_leftovers(&[dir.join("dash"), dir.join("dash/schemas")], &context);
        for (name, expected) in SCHEMAS.iter().zip(&schemas) {
            assert!(
                fs::read(dir.join("dash/schemas").join(name)).ok().as_ref() == Some(expected),
                "{context}: {name} after the next run"
            );
        }
    }
    killer.report();
}
