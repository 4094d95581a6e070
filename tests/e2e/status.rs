//! `dcx status ingest | check-freshness | report` as a user runs them: exit
//! codes, what reaches stdout and stderr, the artifacts on disk, and the CI
//! niceties with the GitHub Actions environment set on the spawned binary.
//! The lane-level behaviour is tested in `crates/status-ingest/tests/it/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{repo, text};

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

/// The state file ingest writes after the artifacts (`--state-file`).
const STATE: &str = ".artifacts/runner-status-ingest-state.json";

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
        format!(
            "{}wrote {STATE}\n",
            ARTIFACTS.map(|a| format!("wrote {a}\n")).concat()
        )
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

/// A registry with one required lane, `rust`, whose release and report are
/// local files beside it (`release.json`, `report.json`).
fn one_local_lane(dir: &Path) {
    let registry = "version: 2
certificate_schema_ref: /specs/schemas/runner_execution_certificate_v1.schema.json
runners:
  - runner_id: rust
    class: required
    status: active
    entrypoints:
      public_adapter: dc-runner
      implementation_repo: dc-runner-rust
    artifact_contract:
      json_out: /.artifacts/runner-certification-{runner}.json
      md_out: /.artifacts/runner-certification-{runner}.md
    status_exchange:
      source_kind: release_asset
      release_api_url: release.json
      report_asset_name: runner-status-report-v1.json
      matrix_role: required
      freshness_slo_hours: 72
";
    std::fs::write(dir.join("registry.yaml"), registry).unwrap();
}

/// Publishes the example rust report as `release_version`, generated at `generated_at`.
fn publish_rust(dir: &Path, release_version: &str, generated_at: &str) {
    let report = read(repo(
        "specs/examples/runner_status_report_v1/local-lane-rust.json",
    ))
    .replace("\"local-example\"", &format!("{release_version:?}"))
    .replace("\"2026-02-20T00:00:00Z\"", &format!("{generated_at:?}"));
    std::fs::write(dir.join("report.json"), report).unwrap();
    let release = serde_json::json!({
        "tag_name": release_version,
        "assets": [{"name": "runner-status-report-v1.json", "browser_download_url": "report.json"}],
    });
    std::fs::write(dir.join("release.json"), release.to_string()).unwrap();
}

#[test]
fn a_rolled_back_report_blocks_and_the_state_file_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    one_local_lane(dir.path());
    let state = dir.path().join("state/ingest-state.json");
    let run = |now: &str, extra: &[&str]| {
        let args = [
            &["--state-file", "state/ingest-state.json", "--now", now][..],
            &["--enforce-freshness", "-q"],
            extra,
        ]
        .concat();
        ingest(dir.path(), "registry.yaml", &args)
    };

    publish_rust(dir.path(), "v1.4.0", "2026-11-20T00:00:00Z");
    let first = run("2026-11-21T12:00:00Z", &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stderr),
        format!(
            "{}wrote state/ingest-state.json\n",
            ARTIFACTS.map(|a| format!("wrote {a}\n")).concat()
        )
    );
    assert!(
        !dir.path().join(STATE).exists(),
        "--state-file replaces the default"
    );
    let accepted = json(state.clone());

    // An older report, still within the 72 h SLO: only the state can tell.
    publish_rust(dir.path(), "v1.3.0", "2026-11-19T00:00:00Z");
    let second = run("2026-11-21T18:00:00Z", &[]);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).ends_with(
            "wrote state/ingest-state.json\n\
             error: required lane `rust` blocks merges: runner_status is unknown and its telemetry is missing\n\
             error: freshness policy breached by 1 lane(s) (--enforce-freshness)\n"
        ),
        "{}",
        text(&second.stderr)
    );
    let log = json(dir.path().join(ARTIFACTS[2]));
    assert_eq!(log["entries"][0]["error_class"], "rollback_detected");
    assert_eq!(
        log["entries"][0]["error"],
        "report.json: report generated_at 2026-11-19T00:00:00Z (release v1.3.0) is older than the last accepted \
         2026-11-20T00:00:00Z (release v1.4.0, accepted at 2026-11-21T12:00:00Z); a rollback or a replayed report, \
         not used"
    );
    let after = json(state.clone());
    assert_eq!(after["lanes"], accepted["lanes"]);
    // The state carries the set id of the artifacts it was published with.
    let set_id = json(dir.path().join(ARTIFACTS[0]))["set_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(json(state.clone())["set_id"], set_id.as_str());
    insta::assert_snapshot!(
        "ingest_state_after_rollback",
        read(state.clone()).replace(&set_id, "[the matrix's set_id]")
    );

    // --no-state: judged on freshness alone, and the state is left as it was.
    let before = read(state.clone());
    let stateless = run("2026-11-21T19:00:00Z", &["--no-state"]);
    assert_eq!(stateless.status.code(), Some(0), "{}", text(&stateless.stderr));
    assert_eq!(
        text(&stateless.stderr),
        ARTIFACTS.map(|a| format!("wrote {a}\n")).concat()
    );
    assert_eq!(read(state), before);

    // The state cannot share a file with an artifact.
    let clash = ingest(dir.path(), "registry.yaml", &["--state-file", ARTIFACTS[2]]);
    assert_eq!(clash.status.code(), Some(2));
    assert_eq!(
        text(&clash.stderr),
        "error: --state-file .artifacts/runner-status-ingest-log.json is also an artifact path; \
         give the state a file of its own\n"
    );
}

#[test]
fn a_corrupt_state_file_is_reported_kept_aside_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = "{\"version\": 1, \"lanes\": [";
    std::fs::create_dir_all(dir.path().join(".artifacts")).unwrap();
    std::fs::write(dir.path().join(STATE), corrupt).unwrap();
    let out = ingest(
        dir.path(),
        &example_registry(),
        &["--now", "2026-11-22T12:00:00Z", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let aside = ".artifacts/runner-status-ingest-state.json.corrupt-20261122T120000Z";
    assert_eq!(
        text(&out.stderr),
        format!(
            "warning: ingest state {STATE} is corrupt and was not used: {STATE}:1:25: invalid JSON: EOF while \
             parsing a list; it is kept as {aside} and the state is rebuilt from this run's accepted reports \
             (rollback protection restarts from them)\n\
             {}wrote {STATE}\n",
            ARTIFACTS.map(|a| format!("wrote {a}\n")).concat()
        )
    );
    assert_eq!(read(dir.path().join(aside)), corrupt);
    // Rebuilt from this run alone: the example lanes' first state, plus
    // the set id of the artifacts it was published with.
    let mut rebuilt = json(dir.path().join(STATE));
    let set_id = rebuilt
        .as_object_mut()
        .unwrap()
        .remove("set_id")
        .expect("the state carries a set id");
    assert_eq!(set_id, json(dir.path().join(ARTIFACTS[0]))["set_id"]);
    assert_eq!(
        rebuilt,
        json(repo(
            "specs/examples/runner_status_ingest_state_v1/local-lanes.json"
        ))
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

/// `--max-report-bytes`, `--max-metadata-bytes` and `--max-document-bytes`:
/// over a cap the lane (or the whole ingest) fails naming the flag; the
/// artifacts are still written; a raised cap passes.
#[test]
fn size_cap_flags_name_themselves_and_raising_them_passes() {
    let dir = tempfile::tempdir().unwrap();
    let registry = example_registry();
    let now = ["--now", "2026-11-22T12:00:00Z", "-q", "--enforce-freshness"];
    for (flag, expected) in [
        (
            "--max-report-bytes",
            "(raise --max-report-bytes if the report really is that large)",
        ),
        (
            "--max-metadata-bytes",
            "(raise --max-metadata-bytes if the release metadata really is that large)",
        ),
    ] {
        let out = ingest(dir.path(), &registry, &[&now[..], &[flag, "10"]].concat());
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", text(&out.stderr));
        let log = read(dir.path().join(ARTIFACTS[2]));
        assert!(
            log.contains(&format!("exceeds the 10-byte cap {expected}")),
            "{flag}: {log}"
        );
        let out = ingest(dir.path(), &registry, &[&now[..], &[flag, "1MiB"]].concat());
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", text(&out.stderr));
    }

    let size = std::fs::metadata(&registry).unwrap().len();
    let out = ingest(
        dir.path(),
        &registry,
        &[&now[..], &["--max-document-bytes", "100"]].concat(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).ends_with(&format!(
            "error: {registry}: the document has {size} bytes, over the cap of 100 bytes; nothing was parsed (raise --max-document-bytes if it really is that large)\n"
        )),
        "{}",
        text(&out.stderr)
    );
    // The artifacts are written all the same, with the config error.
    let log = json(dir.path().join(ARTIFACTS[2]));
    assert!(
        log["config_error"]
            .as_str()
            .unwrap()
            .contains("over the cap of 100 bytes")
    );

    // check-freshness reads the matrix under the same cap.
    assert_eq!(ingest(dir.path(), &registry, &now).status.code(), Some(0));
    let matrix_size = std::fs::metadata(dir.path().join(ARTIFACTS[0])).unwrap().len();
    let gate = |cap: &str| {
        dcx(dir.path())
            .args([
                "status",
                "check-freshness",
                "--now",
                "2026-11-22T13:00:00Z",
                "--max-document-bytes",
                cap,
            ])
            .output()
            .unwrap()
    };
    let refused = gate("100");
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        text(&refused.stderr),
        format!(
            "error: {}: the document has {matrix_size} bytes, over the cap of 100 bytes; nothing was parsed (raise --max-document-bytes if it really is that large)\n\
             hint: run `dcx status ingest` (or `cargo xtask ingest`) first\n",
            ARTIFACTS[0]
        )
    );
    assert_eq!(gate(&matrix_size.to_string()).status.code(), Some(0));
}
