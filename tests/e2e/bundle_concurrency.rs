//! `dcx bundle` under SIGKILL, concurrency and closed output, with the real
//! binary and real processes:
//!
//! - `bundle build` of a tree of a few thousand files, killed with SIGKILL
//!   at random moments over and over: what the kills leave
//!   (`.dcx-staging-*` directories, `.dcx-tmp-*` files) never exceeds what
//!   one run holds, because each run removes what no live process holds;
//!   the next successful build leaves none and writes the same bytes as an
//!   uninterrupted one;
//! - 20 concurrent `bundle install`s into one workspace are serialized by
//!   the workspace lock (each waits, with one line) and leave a tree that
//!   `install-check` accepts, twice over;
//! - `bundle package-check` with a closed stdout exits 141, with stdout on
//!   `/dev/full` exits 2 with one line, never a panic.
//!
//! The kill moments come from a seeded RNG; the seed is printed and
//! `DCX_KILL_SEED=<seed>` replays a run.

#![cfg(target_os = "linux")]
#![allow(clippy::print_stderr, reason = "the seed must reach the test log")]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::bundle::pack_base;
use crate::support::files::{STAGING_PREFIX, leftovers, names, snapshot};
use crate::support::output::{closed_pipe, dev_full};
use crate::support::process::wait_with_limit;
use crate::support::{assert_exit, repo, text};
use dcx_contracts::bundle::{
    BaseBundle, BundleRunner, ImplementationOverlay, Maintainer, OutputBundle, OverlayFile,
    OverlayOperations, PackageSource,
};
use dcx_contracts::digest::sha256_file;
use dcx_contracts::{Timestamp, save};

const NOW: &str = "2026-02-22T10:00:00Z";
/// Files in the base package of the kill test.
const BASE_FILES: usize = 3000;
/// SIGKILLs of `bundle build`.
const KILLS: usize = 14;
const BASE_PACKAGE: &str = "data-contract-bundle-kill-core-v1.0.0.tar.gz";
const ASSETS: [&str; 3] = [
    "data-contract-bundle-kill-core-rust-v1.0.0.tar.gz",
    "data-contract-bundle-kill-core-rust-v1.0.0.tar.gz.sha256",
    "data-contract-bundle-kill-core-rust-v1.0.0.tar.gz.intoto.json",
];

fn dcx() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command.env_remove("SOURCE_DATE_EPOCH");
    command
}

/// The `.dcx-staging-*` directories and `.dcx-tmp-*` files directly in `dir`.
fn leftovers_by_kind(dir: &Path) -> (Vec<String>, Vec<String>) {
    leftovers(dir)
        .into_iter()
        .partition(|name| name.starts_with(STAGING_PREFIX))
}

fn base_file(index: usize) -> String {
    format!("payloads/kill-core/d{:02}/f{index:04}.md", index / 100)
}

/// A base package of `BASE_FILES` small files, and an overlay on it.
fn bundle_inputs(work: &Path) -> PathBuf {
    let base = work.join("base-tree");
    for index in 0..BASE_FILES {
        let path = base.join(base_file(index));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(
            path,
            format!("# file {index}\n\n{}\n", "lorem ipsum ".repeat(index % 17 + 1)),
        )
        .unwrap();
    }
    let package = work.join("base").join(BASE_PACKAGE);
    pack_base(&base, &package, "kill-core", "kill");

    let dir = work.join("overlay");
    let sources = |targets: Vec<String>| -> Vec<OverlayFile> {
        targets
            .into_iter()
            .map(|target| {
                let source = format!("files/{target}");
                let path = dir.join(&source);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, format!("overlay of {target}\n")).unwrap();
                OverlayFile {
                    path: target,
                    source_path: source,
                }
            })
            .collect()
    };
    let add_files = sources(
        (0..30)
            .map(|i| format!("payloads/kill-core-rust/a{i:03}.md"))
            .collect(),
    );
    let replace_files = sources((0..30).map(|i| base_file(i * 50)).collect());
    let overlay = ImplementationOverlay {
        version: 1,
        runner_id: BundleRunner::Rust,
        base_bundle: BaseBundle {
            bundle_id: "kill-core".to_owned(),
            bundle_version: "1.0.0".to_owned(),
            source: PackageSource {
                repo: "dcx-project/dcx".to_owned(),
                release_tag: "v1.0.0".to_owned(),
                asset_url: format!("../base/{BASE_PACKAGE}"),
                sha256: sha256_file(&package).unwrap(),
            },
        },
        overlay: OverlayOperations {
            add_files,
            replace_files,
            delete_paths: (0..20).map(|i| base_file(i * 50 + 7)).collect(),
        },
        output_bundle: OutputBundle {
            bundle_id: "kill-core-rust".to_owned(),
            bundle_version: "1.0.0".to_owned(),
            summary: "The kill-test bundle with a rust overlay.".to_owned(),
            maintainers: vec![Maintainer {
                name: "dcx maintainers".to_owned(),
                contact: None,
            }],
        },
        updated_at: Timestamp::parse(NOW).unwrap(),
    };
    let path = dir.join("overlay.yaml");
    save(&path, &overlay).unwrap();
    path
}

fn bundle_build(overlay: &Path, out: &Path) -> Command {
    let mut command = dcx();
    command
        .args(["bundle", "build", "--overlay"])
        .arg(overlay)
        .arg("--out")
        .arg(out)
        .args(["--now", NOW, "--threads", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// The assets and the tree a build leaves in `out`.
fn built(out: &Path) -> (Vec<Vec<u8>>, BTreeMap<String, Vec<u8>>) {
    let assets = ASSETS
        .iter()
        .map(|name| fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect();
    (assets, snapshot(&out.join("tree")))
}

#[test]
fn sigkilled_builds_leave_bounded_leftovers_and_the_next_build_is_identical() {
    let work = tempfile::tempdir().unwrap();
    let overlay = bundle_inputs(work.path());

    let reference = work.path().join("reference");
    let started = Instant::now();
    let output = bundle_build(&overlay, &reference).output().unwrap();
    let duration = started.elapsed();
    assert_exit(&output, 0, "the reference build");
    let expected = built(&reference);
    assert_eq!(leftovers_by_kind(&reference), (vec![], vec![]));

    let seed = std::env::var("DCX_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("bundle build: {KILLS} SIGKILLs over {duration:?} (seed {seed}; DCX_KILL_SEED={seed} replays)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let out = work.path().join("out");
    let (mut interrupted, mut most_staging, mut most_temp) = (0, 0, 0);
    for kill in 1..=KILLS {
        let after = duration.mul_f64(rng.f64() * 1.1);
        let context = format!("kill {kill} after {after:?} (seed {seed})");
        let mut child: Child = bundle_build(&overlay, &out).spawn().unwrap();
        std::thread::sleep(after);
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();

        let (staging, temp) = leftovers_by_kind(&out);
        most_staging = most_staging.max(staging.len());
        most_temp = most_temp.max(temp.len());
        // At most what one run holds at a time: its staging directory, or
        // the one temp file it is writing beside the tree or the package.
        assert!(
            staging.len() <= 1 && temp.len() <= 1,
            "{context}: leftovers pile up: {staging:?} {temp:?}"
        );
        if kill % 5 == 0 {
            let rerun = bundle_build(&overlay, &out).output().unwrap();
            assert_exit(&rerun, 0, &format!("{context}: the next build"));
            assert_eq!(
                leftovers_by_kind(&out),
                (vec![], vec![]),
                "{context}: after a good build"
            );
            assert!(built(&out) == expected, "{context}: the next build differs");
        }
    }
    eprintln!(
        "bundle build: {interrupted} of {KILLS} kills interrupted a run; at most {most_staging} staging dir(s) and {most_temp} temp file(s) left"
    );
    let rerun = bundle_build(&overlay, &out).output().unwrap();
    assert_exit(&rerun, 0, "the build after the kills");
    assert_eq!(leftovers_by_kind(&out), (vec![], vec![]));
    assert!(built(&out) == expected, "the build after the kills differs");
    assert!(
        interrupted >= KILLS / 3,
        "only {interrupted} kills hit a running build"
    );
}

const EXAMPLE_OVERLAY: &str = "specs/examples/implementation_bundle_overlay_v1/dcx-example-core-rust.yaml";
const EXAMPLE_ROOT: &str = "specs/bundles/dcx-example-core-rust";
const EXAMPLE_PACKAGE: &str = "data-contract-bundle-dcx-example-core-rust-v1.0.0.tar.gz";
const CORE_PACKAGE: &str = "data-contract-bundle-dcx-example-core-v1.0.0.tar.gz";

/// The README example built into `out`.
fn example_package(out: &Path) -> PathBuf {
    let output = dcx()
        .args(["bundle", "build", "--overlay"])
        .arg(repo(EXAMPLE_OVERLAY))
        .arg("--overlay-root")
        .arg(repo(EXAMPLE_ROOT))
        .arg("--out")
        .arg(out)
        .args(["--now", NOW])
        .output()
        .unwrap();
    assert_exit(&output, 0, "the example build");
    out.join(EXAMPLE_PACKAGE)
}

#[test]
fn twenty_concurrent_installs_into_one_workspace_are_serialized() {
    const RUNS: usize = 20;
    let work = tempfile::tempdir().unwrap();
    let workspace = work.path().join("ws");
    let packages = workspace.join("packages");
    fs::create_dir_all(&packages).unwrap();
    let example = example_package(&work.path().join("built"));
    fs::copy(&example, packages.join(EXAMPLE_PACKAGE)).unwrap();
    fs::copy(
        repo(&format!("specs/bundles/{CORE_PACKAGE}")),
        packages.join(CORE_PACKAGE),
    )
    .unwrap();
    let entry = |id: &str, package: &str, role: &str| {
        format!(
            "  - bundle_id: {id}\n    bundle_version: 1.0.0\n    source:\n      repo: dcx-project/dcx\n      release_tag: v1.0.0\n      asset_url: packages/{package}\n      sha256: {}\n    install_dir: .bundles/{id}\n    role: {role}\n",
            sha256_file(&packages.join(package)).unwrap()
        )
    };
    let lock = workspace.join("bundles.lock.yaml");
    fs::write(
        &lock,
        format!(
            "version: 1\nproject_id: concurrency\nbundles:\n{}{}updated_at: {NOW}\n",
            entry("dcx-example-core", CORE_PACKAGE, "primary"),
            entry("dcx-example-core-rust", EXAMPLE_PACKAGE, "additional"),
        ),
    )
    .unwrap();

    for round in 0..2 {
        // Hold the workspace lock while they all start: every one waits.
        let held = dcx_sys::lock_exclusive(
            &workspace.join(dcx_bundle_overlay::WORKSPACE_LOCK_FILE_NAME),
            dcx_sys::Wait::Fail,
            |_| {},
        )
        .unwrap();
        let children: Vec<Child> = (0..RUNS)
            .map(|_| {
                dcx()
                    .args(["bundle", "install", "--lock"])
                    .arg(&lock)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        if round == 0 {
            assert!(
                !workspace.join(".bundles").exists(),
                "installed while the workspace was locked"
            );
        }
        drop(held);
        for (i, child) in children.into_iter().enumerate() {
            let output = wait_with_limit(child, Duration::from_secs(120));
            let context = format!("round {round}, install {i}");
            assert_exit(&output, 0, &context);
            let stderr = text(&output.stderr);
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{context}: {stderr}");
            assert!(
                lines[0].starts_with(&format!(
                    "waiting: {} is locked by another dcx process (pid ",
                    workspace.join(".dcx-install.lock").display()
                )) && lines[0].ends_with("); continuing when it has finished"),
                "{context}: {stderr}"
            );
            assert_eq!(text(&output.stdout).lines().count(), 2, "{context}");
        }
        let check = dcx()
            .args(["bundle", "install-check", "--lock"])
            .arg(&lock)
            .output()
            .unwrap();
        assert_exit(&check, 0, &format!("round {round}: install-check"));
        assert_eq!(
            names(&workspace.join(".bundles")),
            ["dcx-example-core", "dcx-example-core-rust"],
            "round {round}"
        );
        // The lock file itself is unchanged.
        assert!(
            fs::read_to_string(&lock)
                .unwrap()
                .starts_with("version: 1\nproject_id: concurrency\n")
        );
    }
}

#[test]
fn package_check_on_a_closed_pipe_exits_141_and_on_a_full_disk_exits_2() {
    let work = tempfile::tempdir().unwrap();
    let package = example_package(&work.path().join("built"));
    let check = || {
        let mut command = dcx();
        command
            .args(["bundle", "package-check", "--package"])
            .arg(&package);
        command
    };
    let output = check().stdout(closed_pipe()).output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert_eq!(stderr, "");

    let output = check().stdout(dev_full()).output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot write to standard output: "),
        "{stderr}"
    );
}
