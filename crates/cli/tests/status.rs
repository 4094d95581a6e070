//! `dcx status ingest | check-freshness | report` as a user runs them: exit
//! codes, what reaches stdout and stderr, the artifacts on disk, and the CI
//! niceties with the GitHub Actions environment set on the spawned binary.
//! The lane-level behaviour is tested in `crates/status-ingest/tests/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

/// The example lanes `cargo xtask ingest` reads; fresh until 2036-02-18.
fn example_registry() -> String {
    repo("specs/examples/runner_certification_registry_v1/local-lanes.yaml")
        .display()
        .to_string()
}

fn catalog() -> String {
    repo("specs/schema_catalog_v1.yaml").display().to_string()
}

/// `dcx` in `dir`, with none of the GitHub Actions variables the test
/// runner itself may have.
fn dcx(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_TOKEN");
    command
}

fn ingest(dir: &Path, registry: &str, extra: &[&str]) -> Output {
    dcx(dir)
        .args([
            "status",
            "ingest",
            "--registry",
            registry,
            "--catalog",
            &catalog(),
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap()
}

const ARTIFACTS: [&str; 3] = [
    ".artifacts/runner-status-matrix.json",
    ".artifacts/runner-status-matrix.md",
    ".artifacts/runner-status-ingest-log.json",
];

#[test]
fn a_healthy_ingest_prints_the_matrix_and_exits_0_even_when_enforcing() {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(
        dir.path(),
        &example_registry(),
        &["--enforce-freshness", "--now", "2026-11-22T12:00:00Z"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("# Runner status matrix\n"), "{stdout}");
    assert_eq!(stdout, read(dir.path().join(ARTIFACTS[1])));
    assert_eq!(
        text(&out.stderr),
        ARTIFACTS.map(|a| format!("wrote {a}\n")).concat()
    );
}

#[test]
fn breaches_exit_1_only_with_enforce_freshness() {
    let dir = tempfile::tempdir().unwrap();
    let registry = example_registry();
    let stale_now = ["--now", "2040-01-01T00:00:00Z", "--quiet"];
    let breaches = "required lane `rust` blocks merges: its telemetry is stale\n\
                    active compatibility lane `python` has stale telemetry (a freshness breach)\n\
                    active compatibility lane `php` has stale telemetry (a freshness breach)\n";

    let lenient = ingest(dir.path(), &registry, &stale_now);
    assert_eq!(lenient.status.code(), Some(0));
    assert!(lenient.stdout.is_empty(), "--quiet prints no matrix");
    let notes: String = breaches.lines().map(|l| format!("note: {l}\n")).collect();
    assert!(
        text(&lenient.stderr).ends_with(&notes),
        "{}",
        text(&lenient.stderr)
    );

    let enforced = ingest(
        dir.path(),
        &registry,
        &[&stale_now[..], &["--enforce-freshness"]].concat(),
    );
    assert_eq!(enforced.status.code(), Some(1));
    let errors: String = breaches.lines().map(|l| format!("error: {l}\n")).collect();
    assert!(
        text(&enforced.stderr).ends_with(&format!(
            "{errors}error: freshness policy breached by 3 lane(s) (--enforce-freshness)\n"
        )),
        "{}",
        text(&enforced.stderr)
    );
    // Written before the exit code was chosen.
    let matrix = json(dir.path().join(ARTIFACTS[0]));
    assert_eq!(matrix["updated_at"], "2040-01-01T00:00:00Z");
}

#[test]
fn registry_errors_exit_2_naming_the_file_and_still_write_all_artifacts() {
    for (name, contents, expected) in [
        (
            "missing",
            None,
            "cannot read registry.yaml: No such file or directory (os error 2)",
        ),
        (
            "not YAML",
            Some("version: 2\nrunners:\n  - runner_id: [rust\n"),
            "registry.yaml:4:1: invalid YAML: did not find expected ',' or ']'",
        ),
        (
            "wrong version",
            Some("version: 1\nrunners: []\n"),
            "registry.yaml: unsupported runner certification registry version 1; this build reads 2",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        if let Some(contents) = contents {
            std::fs::write(dir.path().join("registry.yaml"), contents).unwrap();
        }
        let out = ingest(dir.path(), "registry.yaml", &["--now", "2026-02-20T12:00:00Z"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            text(&out.stderr).ends_with(&format!("error: {expected}\n")),
            "{name}: {}",
            text(&out.stderr)
        );
        let matrix = json(dir.path().join(ARTIFACTS[0]));
        assert_eq!(matrix["matrix_rows"], serde_json::json!([]), "{name}");
        let log = json(dir.path().join(ARTIFACTS[2]));
        assert_eq!(log["config_error"], expected, "{name}");
        assert!(read(dir.path().join(ARTIFACTS[1])).contains(expected), "{name}");
    }
}

#[test]
fn duplicate_lane_ids_exit_2_with_the_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let registry = read(repo(
        "specs/examples/runner_certification_registry_v1/local-lanes.yaml",
    ));
    let duplicated = registry.replace("runner_id: python", "runner_id: rust");
    std::fs::write(dir.path().join("registry.yaml"), duplicated).unwrap();
    let out = ingest(dir.path(), "registry.yaml", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "error: registry.yaml: invalid runner certification registry: /runners/1/runner_id: duplicate runner_id \"rust\" (first at /runners/0)"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["status", "ingest", "--now", "yesterday"][..],
        &["status", "ingest", "--concurrency", "0"],
        &["status", "ingest", "--timeout", "soon"],
        &["status", "frobnicate"],
    ] {
        let out = dcx(dir.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_repeated_flag_takes_its_last_value_and_now_utc_is_accepted() {
    // What `cargo xtask ingest` relies on to let users override its defaults.
    let dir = tempfile::tempdir().unwrap();
    let out = dcx(dir.path())
        .args([
            "status",
            "ingest",
            "--registry",
            "nowhere.yaml",
            "--catalog",
            &catalog(),
        ])
        .args([
            "--registry",
            &example_registry(),
            "--now-utc",
            "2026-11-22T12:00:00Z",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn github_actions_get_a_step_summary_and_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# Earlier step\n").unwrap();
    let out = dcx(dir.path())
        .args([
            "status",
            "ingest",
            "--registry",
            &example_registry(),
            "--catalog",
            &catalog(),
        ])
        .args(["--now", "2040-01-01T00:00:00Z", "--quiet"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let matrix_md = read(dir.path().join(ARTIFACTS[1]));
    assert_eq!(read(summary), format!("# Earlier step\n{matrix_md}\n"));

    let annotations: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    let finding = "stale_report: report generated 2026-02-20T00:00:00Z is 121512 h old: \
                   beyond the lane's 87600 h SLO; past its fresh_until 2036-02-20T00:00:00Z \
                   — trigger a new runner release report and re-ingest";
    let expected: Vec<String> = ["rust", "python", "php"]
        .iter()
        .map(|lane| format!("::error title=runner status%3A {lane}::{finding}"))
        .collect();
    assert_eq!(annotations, expected);
}

#[test]
fn warn_lanes_are_warnings_and_config_errors_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dcx(dir.path())
        .args([
            "status",
            "ingest",
            "--registry",
            &example_registry(),
            "--catalog",
            &catalog(),
        ])
        .args(["--now", "2026-11-22T12:00:00Z", "--quiet"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stdout),
        "::warning title=runner status%3A php::the runner reports overall_status: degraded — \
         read `command_results` in the report (exit code 124 is a timeout); fix it in the runner repository and release again\n"
    );

    let out = dcx(dir.path())
        .args(["status", "ingest", "--registry", "missing.yaml", "--quiet"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        "::error title=runner status ingest::cannot read missing.yaml: No such file or directory (os error 2)\n"
    );
}

#[test]
fn check_freshness_gates_on_the_matrix_at_now() {
    let dir = tempfile::tempdir().unwrap();
    let written = ingest(
        dir.path(),
        &example_registry(),
        &["--now", "2026-11-22T12:00:00Z", "-q"],
    );
    assert_eq!(written.status.code(), Some(0));
    let gate = |now: &str| {
        dcx(dir.path())
            .args(["status", "check-freshness", "--now", now])
            .output()
            .unwrap()
    };

    let ok = gate("2026-11-22T13:00:00Z");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(
        text(&ok.stdout),
        "ok: .artifacts/runner-status-matrix.json: no freshness breach (the matrix's SLO is 87600 h)\n"
    );

    // Years later the same file fails: the lanes aged past their SLO, and
    // the matrix is older than its own.
    let late = gate("2037-01-01T00:00:00Z");
    assert_eq!(late.status.code(), Some(1));
    assert_eq!(
        text(&late.stdout),
        "breach: the matrix was updated at 2026-11-22T12:00:00Z, 88620 h ago, beyond its 87600 h SLO; run the ingest again\n\
         breach: required lane `rust` blocks merges: its telemetry is stale\n\
         breach: active compatibility lane `python` has stale telemetry (a freshness breach)\n\
         breach: active compatibility lane `php` has stale telemetry (a freshness breach)\n"
    );

    let missing = dcx(dir.path())
        .args(["status", "check-freshness", "--matrix", "nope.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        text(&missing.stderr),
        "error: cannot read nope.json: No such file or directory (os error 2)\n\
         hint: run `dcx status ingest` (or `cargo xtask ingest`) first\n"
    );
}

#[test]
fn report_writes_a_report_and_exits_by_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dc-runner.tar.gz"), b"bytes").unwrap();
    let report = |commands: &[&str]| {
        let mut command = dcx(dir.path());
        command.args([
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
            "--artifact",
            "dc-runner.tar.gz",
            "--download-base-url",
            "https://github.com/o/dc-runner-rust/releases/download/v1.4.0",
            "--now",
            "2026-02-20T00:00:00Z",
            "--fresh-for",
            "48h",
        ]);
        for c in commands {
            command.args(["--command", c]);
        }
        command.output().unwrap()
    };

    let passed = report(&["true"]);
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed.stderr));
    assert_eq!(
        text(&passed.stdout),
        "overall_status: pass (fresh until 2026-02-22T00:00:00Z)\n"
    );
    let written = json(dir.path().join("runner-status-report-v1.json"));
    assert_eq!(written["artifact_refs"][0]["name"], "dc-runner.tar.gz");
    assert!(dir.path().join("runner-status-report-v1.json.sha256").is_file());
    // The producer's output is what ingest reads.
    let validate = dcx(dir.path())
        .args([
            "validate",
            "--kind",
            "runner_status_report_v1",
            "runner-status-report-v1.json",
        ])
        .output()
        .unwrap();
    assert_eq!(validate.status.code(), Some(0), "{}", text(&validate.stderr));

    let failed = report(&["true", "exit 7"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("command \"exit 7\": fail (exit 7, "),
        "{}",
        text(&failed.stderr)
    );
    assert_eq!(
        json(dir.path().join("runner-status-report-v1.json"))["overall_status"],
        "fail"
    );
}

#[test]
fn report_artifacts_need_a_download_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = dcx(dir.path())
        .args([
            "status",
            "report",
            "--runner-id",
            "rust",
            "--implementation-repo",
            "r",
        ])
        .args([
            "--release-version",
            "v1",
            "--commit-sha",
            "0123456789abcdef0123456789abcdef01234567",
        ])
        .args(["--lane-class", "required", "--artifact", "x.tar.gz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--download-base-url"),
        "{}",
        text(&out.stderr)
    );
}
