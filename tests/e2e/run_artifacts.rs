//! `dcx fleet`, `dcx runs`, `dcx dash` end to end: the spawned binary on
//! real directories, with exact messages and exit codes, the issue's
//! bad-input table, and snapshots of the emitted artifacts at a pinned
//! `--now`.

use crate::support;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::process::{signal, wait_until};
use crate::support::{
    NOW, SCRIPT_NAME, SCRIPT_REASON, SCRIPT_SUMMARY, bad_fleet, dcx, example_fleet, stderr, stdout,
};
use serde_json::Value;

fn register(dir: &Path, id: &str) {
    let out = dcx(
        dir,
        &[
            "fleet",
            "register",
            id,
            "--display-name",
            "Code Monkeys Dash",
            "--owner",
            "nexus",
            "--status",
            "active",
            "--criticality",
            "high",
            "--sla-tier",
            "1",
            "--now",
            NOW,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn last_run(dir: &Path, id: &str) -> Value {
    let path = dir.join("dash/runs").join(id).join("last_run.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn record(dir: &Path, extra: &[&str], script: &str) -> std::process::Output {
    let mut args = vec!["runs", "record", "codemonkeys-dash", "--now", NOW];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    dcx(dir, &args)
}

// ---------------------------------------------------------------- fleet

#[test]
fn fleet_register_then_list() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let out = dcx(
        dir.path(),
        &[
            "fleet",
            "register",
            "spec-kit",
            "--display-name",
            "Spec Kit",
            "--owner",
            "CodeMonkeys",
            "--status",
            "planned",
            "--disabled",
            "--now",
            NOW,
        ],
    );
    assert_eq!(
        stdout(&out),
        "registered spec-kit in dash/products.json (2 products)\n"
    );
    let out = dcx(dir.path(), &["fleet", "list"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "\
PRODUCT           NAME               OWNER        STATUS   CRITICALITY  SLA  ENABLED
codemonkeys-dash  Code Monkeys Dash  nexus        active   high         1    yes
spec-kit          Spec Kit           CodeMonkeys  planned                    no
"
    );
    insta::assert_snapshot!(
        "products_json",
        std::fs::read_to_string(dir.path().join("dash/products.json")).unwrap()
    );
    for schema in ["products.schema.json", "last_run.schema.json"] {
        assert!(dir.path().join("dash/schemas").join(schema).is_file(), "{schema}");
    }
}

#[test]
fn fleet_register_refuses_duplicates_and_unsafe_ids() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let before = std::fs::read(dir.path().join("dash/products.json")).unwrap();
    let args = |id: &'static str| {
        [
            "fleet",
            "register",
            id,
            "--display-name",
            "X",
            "--owner",
            "o",
            "--status",
            "active",
        ]
    };
    let out = dcx(dir.path(), &args("codemonkeys-dash"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: product \"codemonkeys-dash\" is already registered in dash/products.json; product ids must be unique\n"
    );
    let out = dcx(dir.path(), &args("../x"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: invalid product id \"../x\": use 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit\n"
    );
    assert_eq!(
        std::fs::read(dir.path().join("dash/products.json")).unwrap(),
        before
    );
}

#[test]
fn fleet_list_names_the_pointer_of_an_invalid_registry() {
    let dir = tempfile::tempdir().unwrap();
    let out = dcx(dir.path(), &["fleet", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: cannot read dash/products.json: No such file or directory (os error 2)\n"
    );
    std::fs::create_dir_all(dir.path().join("dash")).unwrap();
    std::fs::write(
        dir.path().join("dash/products.json"),
        r#"{"schema_version":"0.1","products":[{"product_id":"a","display_name":"A","owner":"o","status":"retired"}]}"#,
    )
    .unwrap();
    let out = dcx(dir.path(), &["fleet", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: dash/products.json:1:103: /products/0/status: unknown value `retired`, expected one of `bootstrap`, \
         `active`, `pending`, `development`, `planned`, `deprecated`, `archived`\n"
    );
}

// --------------------------------------------------------------- record

#[test]
fn record_writes_the_log_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let out = record(
        dir.path(),
        &["--budget-tokens", "75000"],
        "echo collected 3 items; echo '3 passed, 0 failed'",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = "dash/runs/codemonkeys-dash/run_20260220_120000_000000";
    assert_eq!(
        stdout(&out),
        format!(
            "codemonkeys-dash run_20260220_120000_000000: success: 3 passed, 0 failed\n\
             log: {run}/pytest_output.log\nreport: dash/runs/codemonkeys-dash/last_run.json\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(run).join("pytest_output.log")).unwrap(),
        "collected 3 items\n3 passed, 0 failed\n"
    );
    let report =
        std::fs::read_to_string(dir.path().join("dash/runs/codemonkeys-dash/last_run.json")).unwrap();
    insta::assert_snapshot!("last_run_success", redact_measured(&report));
}

/// The report's text with its two measured values checked and replaced, so
/// the snapshot pins everything else byte for byte (field order, format).
fn redact_measured(report: &str) -> String {
    let parsed: Value = serde_json::from_str(report).unwrap();
    let spent = parsed["banana_economy"]["spent_minutes"].as_f64().unwrap();
    assert!(spent < 0.5, "a trivial command took {spent} min");
    let ended = parsed["ended_at"].as_str().unwrap();
    assert!(ended.starts_with("2026-02-20T12:00:"), "{ended}");
    report
        .lines()
        .map(|line| match line.split_once(": ") {
            Some((key, _)) if key.trim() == "\"spent_minutes\"" => format!("{key}: [measured],"),
            Some((key, _)) if key.trim() == "\"ended_at\"" => format!("{key}: [measured],"),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn record_reports_a_failing_command_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let out = record(
        dir.path(),
        &[],
        "echo 'test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out'; exit 101",
    );
    assert_eq!(out.status.code(), Some(1));
    let report = last_run(dir.path(), "codemonkeys-dash");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["summary"], "cargo test: 2 passed, 1 failed (exit 101)");
}

#[test]
fn record_stops_the_command_at_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let out = record(
        dir.path(),
        &[
            "--budget-minutes",
            "2",
            "--budget-seconds",
            "0.5",
            "--kill-grace",
            "1",
        ],
        "echo started; sleep 30",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = last_run(dir.path(), "codemonkeys-dash");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["summary"], "Budget exceeded: stopped after 0.5 s");
    assert_eq!(report["banana_economy"]["budget_minutes"], 2);
    let log = std::fs::read_to_string(
        dir.path()
            .join("dash/runs/codemonkeys-dash/run_20260220_120000_000000/pytest_output.log"),
    )
    .unwrap();
    assert_eq!(log, "started\n[dcx] stopped at its time budget (0.5 s)\n");
}

#[test]
fn record_reports_a_command_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let out = dcx(
        dir.path(),
        &[
            "runs",
            "record",
            "codemonkeys-dash",
            "--now",
            NOW,
            "--",
            "dcx-no-such-test-runner",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).lines().next(),
        Some(
            "codemonkeys-dash run_20260220_120000_000000: failed: Command not found: dcx-no-such-test-runner"
        )
    );
    let report = last_run(dir.path(), "codemonkeys-dash");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["summary"], "Command not found: dcx-no-such-test-runner");
}

/// Ctrl-C: SIGINT to the spawned `dcx` stops the command, and the report is
/// still written, as cancelled, with exit 130.
#[cfg(unix)]
#[test]
fn record_ctrl_c_cancels_and_still_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let child = Command::new(env!("CARGO_BIN_EXE_dcx"))
        .args([
            "runs",
            "record",
            "codemonkeys-dash",
            "--now",
            NOW,
            "--",
            "sh",
            "-c",
            "echo started; sleep 30",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command has started (so the handler is installed) once its first
    // line is in the log.
    let log = dir
        .path()
        .join("dash/runs/codemonkeys-dash/run_20260220_120000_000000/pytest_output.log");
    wait_until("the command to start", || {
        std::fs::read_to_string(&log).is_ok_and(|text| text.starts_with("started"))
    });
    signal(child.id(), "INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let report = last_run(dir.path(), "codemonkeys-dash");
    assert_eq!(report["status"], "cancelled");
    assert_eq!(
        report["summary"],
        "Cancelled: interrupted before the command finished"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "started\n[dcx] stopped: the run was cancelled\n"
    );
}

#[test]
fn the_kill_switch_refuses_with_its_own_exit_code_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let out = dcx(
        dir.path(),
        &["runs", "kill-switch", "codemonkeys-dash", "--on", "--reason", "x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: dash/runs/codemonkeys-dash/last_run.json: product codemonkeys-dash has no run report yet, and its kill switch is kept in that report; nothing was changed. Let its first run finish (or stop it), then engage the switch\n"
    );
    assert_eq!(record(dir.path(), &[], "true").status.code(), Some(0));

    let out = dcx(dir.path(), &["runs", "kill-switch", "codemonkeys-dash", "--on"]);
    assert_eq!(out.status.code(), Some(2), "--on needs --reason");
    let out = dcx(
        dir.path(),
        &[
            "runs",
            "kill-switch",
            "codemonkeys-dash",
            "--on",
            "--reason",
            "Banana budget exhausted; waiting for a human",
        ],
    );
    assert_eq!(
        stdout(&out),
        "kill switch engaged for codemonkeys-dash: Banana budget exhausted; waiting for a human\n"
    );
    let out = record(dir.path(), &[], "echo must not run");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: kill switch engaged for codemonkeys-dash: Banana budget exhausted; waiting for a human; not running \
         (override with --override-kill-switch)\n"
    );
    let out = record(dir.path(), &["--override-kill-switch"], "true");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        last_run(dir.path(), "codemonkeys-dash")["kill_switch"]["enabled"],
        true
    );

    let out = dcx(dir.path(), &["runs", "kill-switch", "codemonkeys-dash", "--off"]);
    assert_eq!(stdout(&out), "kill switch released for codemonkeys-dash\n");
    assert_eq!(record(dir.path(), &[], "true").status.code(), Some(0));
}

#[test]
fn record_refuses_unsafe_and_unregistered_products() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let out = dcx(dir.path(), &["runs", "record", "../x", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: invalid product id \"../x\": use 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit\n"
    );
    let out = dcx(dir.path(), &["runs", "record", "spec-kit", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: product \"spec-kit\" is not registered in dash/products.json; register it with `dcx fleet register \
         spec-kit …`\n"
    );
    assert!(!dir.path().join("dash/runs").exists(), "nothing was created");
}

// ------------------------------------------------------------------- gc

#[test]
fn gc_keeps_the_newest_runs_and_the_one_last_run_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let dash = example_fleet(dir.path());
    // codemonkeys-dash has 3 runs; spec-kit's report names one run and its
    // evidence another (the upstream fixture).
    let out = dcx(dir.path(), &["runs", "gc", "--keep", "1", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "\
banana-economy: 1 run, keeping 1, would remove 0
codemonkeys-cli: 1 run, keeping 1, would remove 0
would remove dash/runs/codemonkeys-dash/run_20251220_164210
would remove dash/runs/codemonkeys-dash/run_20251219_101500
codemonkeys-dash: 3 runs, keeping 1, would remove 2
silverback-agent: 1 run, keeping 1, would remove 0
spec-kit: 2 runs, keeping 2, would remove 0 (kept run_20251219_100000: last_run.json's evidence is in it)
would remove 2 run directories in 5 products (dry run)
"
    );
    assert!(
        dash.join("runs/codemonkeys-dash/run_20251219_101500").is_dir(),
        "dry run"
    );

    let out = dcx(
        dir.path(),
        &["runs", "gc", "--keep", "0", "--product", "codemonkeys-dash"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --keep 0 would remove every run but the one last_run.json points to; pass --all to confirm, or keep \
         at least 1\n"
    );
    let out = dcx(
        dir.path(),
        &[
            "runs",
            "gc",
            "--keep",
            "0",
            "--all",
            "--product",
            "codemonkeys-dash",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "\
removing dash/runs/codemonkeys-dash/run_20251220_164210
removing dash/runs/codemonkeys-dash/run_20251219_101500
codemonkeys-dash: 3 runs, keeping 1, removing 2 (kept run_20251221_183208: last_run.json points to it)
removed 2 run directories in 1 product
"
    );
    let mut left: Vec<String> = std::fs::read_dir(dash.join("runs/codemonkeys-dash"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["last_run.json", "run_20251221_183208"]);

    let out = dcx(dir.path(), &["runs", "gc", "--product", "../x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = dcx(dir.path(), &["runs", "gc", "--product", "nope"]);
    assert_eq!(
        stderr(&out),
        "error: product not found: dash/runs/nope does not exist\n"
    );
}

// ------------------------------------------------------------- validate

/// `examples/dash` (the README's fleet) is built from the upstream examples
/// under `specs/examples/`; they must not drift apart.
#[test]
fn the_bundled_example_fleet_is_the_upstream_one() {
    let root = support::repo_root();
    let read = |path: &str| std::fs::read(root.join(path)).unwrap();
    assert_eq!(
        read("examples/dash/products.json"),
        read("specs/examples/products/upstream-head.json")
    );
    for (product, example) in [
        ("codemonkeys-dash", "codemonkeys-dash.json"),
        ("codemonkeys-cli", "codemonkeys-cli-cancelled.json"),
        ("spec-kit", "spec-kit.json"),
        ("banana-economy", "banana-economy.json"),
        ("silverback-agent", "silverback-agent-kill-switch.json"),
    ] {
        assert_eq!(
            read(&format!("examples/dash/runs/{product}/last_run.json")),
            read(&format!("specs/examples/last_run/{example}")),
            "{product}"
        );
    }
}

#[test]
fn validate_the_example_fleet() {
    let dir = tempfile::tempdir().unwrap();
    example_fleet(dir.path());
    let out = dcx(dir.path(), &["runs", "validate"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "validated 5 products in dash/: 0 errors, 1 warning\n"
    );
    assert_eq!(
        stderr(&out),
        "warning: spec-kit: Evidence not in the run's directory runs/spec-kit/run_20251221_210000/: \
         runs/spec-kit/run_20251219_100000/pytest_output.log\n"
    );
}

#[test]
fn validate_reports_every_bad_artifact() {
    let dir = tempfile::tempdir().unwrap();
    bad_fleet(dir.path());
    let out = dcx(dir.path(), &["runs", "validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "validated 11 products in dash/: 6 errors, 1 warning\n"
    );
    assert_eq!(
        stderr(&out),
        "\
warning: spec-kit: Evidence not in the run's directory runs/spec-kit/run_20251221_210000/: runs/spec-kit/run_20251219_100000/pytest_output.log
error: missing-report: Missing artifact: runs/missing-report/last_run.json
error: not-json: runs/not-json/last_run.json: Invalid artifact: (document): not valid JSON at line 1, column 3: key must be a string
error: no-banana-economy: runs/no-banana-economy/last_run.json: Invalid artifact: /banana_economy: missing required field (expected an object)
error: future-version: runs/future-version/last_run.json: Unsupported schema version: 0.2
error: evidence-escape: runs/evidence-escape/last_run.json: Invalid artifact: /evidence/paths/0: \"../../etc/passwd\" must be relative to the dash directory and stay inside it
error: evidence-escape: runs/evidence-escape/last_run.json: Invalid artifact: /evidence/paths/1: \"/var/log/syslog\" must be relative to the dash directory and stay inside it
"
    );
}

#[test]
fn validate_without_a_registry_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let dash = example_fleet(dir.path());
    std::fs::remove_file(dash.join("products.json")).unwrap();
    let out = dcx(dir.path(), &["runs", "validate"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).lines().next(),
        Some("error: Missing artifact: products.json")
    );
}

// ----------------------------------------------------------------- dash

/// The page with a line break between tags, so snapshot diffs are
/// readable. Lossless: maud escapes `>` in text, so `><` only occurs
/// between tags.
fn one_tag_per_line(html: &str) -> String {
    html.replace("><", ">\n<")
}

#[test]
fn render_the_example_fleet() {
    let dir = tempfile::tempdir().unwrap();
    example_fleet(dir.path());
    let out = dcx(dir.path(), &["dash", "render", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "rendered dash/index.html: 5 products, 0 with errors, 1 badge (details: dcx runs validate)\n"
    );
    let html = std::fs::read_to_string(dir.path().join("dash/index.html")).unwrap();
    insta::assert_snapshot!("index_html_example_fleet", one_tag_per_line(&html));
    // Same inputs, same --now: same bytes.
    dcx(
        dir.path(),
        &["dash", "render", "--now", NOW, "--out", "again.html"],
    );
    let again = std::fs::read_to_string(dir.path().join("again.html")).unwrap();
    assert_eq!(again, html.replace("href=\"runs/", "href=\"dash/runs/"));
}

#[test]
fn render_badges_each_bad_artifact_on_its_own_card() {
    let dir = tempfile::tempdir().unwrap();
    bad_fleet(dir.path());
    let out = dcx(dir.path(), &["dash", "render", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "rendered dash/index.html: 11 products, 5 with errors, 7 badges (details: dcx runs validate)\n"
    );
    let html = std::fs::read_to_string(dir.path().join("dash/index.html")).unwrap();
    insta::assert_snapshot!("index_html_bad_inputs", one_tag_per_line(&html));
    for text in [SCRIPT_SUMMARY, SCRIPT_REASON, SCRIPT_NAME] {
        assert!(!html.contains(text), "unescaped: {text}");
    }
    assert!(html.contains("&lt;script&gt;document.title='pwned-summary'&lt;/script&gt;"));
    assert!(!html.contains("<script"), "no script element at all");
}

#[test]
fn render_without_a_registry_shows_a_fleet_error_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let dash = example_fleet(dir.path());
    std::fs::remove_file(dash.join("products.json")).unwrap();
    let out = dcx(dir.path(), &["dash", "render", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), "error: Missing artifact: products.json\n");
    let html = std::fs::read_to_string(dash.join("index.html")).unwrap();
    assert!(html.contains(
        "<p class=\"badge badge-error\" data-finding=\"missing-artifact\" title=\"products.json\">Missing artifact: products.json</p>"
    ));
    assert_eq!(html.matches("<article").count(), 5, "cards discovered from runs/");

    std::fs::write(
        dash.join("products.json"),
        r#"{"schema_version":"0.1","products":[{"product_id":"spec-kit","display_name":"Spec Kit","owner":"o","status":"retired"}]}"#,
    )
    .unwrap();
    let out = dcx(dir.path(), &["dash", "render", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: products.json: Invalid artifact: /products/0/status: unknown value `retired`, expected one of \
         `bootstrap`, `active`, `pending`, `development`, `planned`, `deprecated`, `archived`\n"
    );
    let html = std::fs::read_to_string(dash.join("index.html")).unwrap();
    assert_eq!(
        html.matches("<article").count(),
        1,
        "the registry's products still render"
    );
    assert!(html.contains("data-product-id=\"spec-kit\""));
}

// ------------------------------------------------------ resource caps

#[test]
fn dash_documents_and_junit_are_capped_by_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "codemonkeys-dash");
    let products = dir.path().join("dash/products.json");
    let size = std::fs::metadata(&products).unwrap().len();

    // products.json over --max-document-bytes: list and record refuse it
    // (exit 2) and nothing is recorded.
    let cap = (size - 1).to_string();
    let out = dcx(dir.path(), &["fleet", "list", "--max-document-bytes", &cap]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: dash/products.json: the document has {size} bytes, over the cap of {cap} bytes; nothing was parsed (raise --max-document-bytes if it really is that large)\n"
        )
    );
    let out = record(dir.path(), &["--max-document-bytes", &cap], "true");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!dir.path().join("dash/runs/codemonkeys-dash").exists());

    // --max-junit-bytes: the run is recorded, the JUnit file is not read.
    let junit = "<testsuite name=\"s\"><testcase name=\"a\"/></testsuite>";
    let script = format!("printf '{junit}' > junit.xml");
    let out = record(
        dir.path(),
        &["--junit", "junit.xml", "--max-junit-bytes", "10"],
        &script,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "--junit junit.xml: not converted: the file has {} bytes, over the cap of 10 bytes (raise --max-junit-bytes if it really is that large)",
            junit.len()
        )),
        "{}",
        stderr(&out)
    );
    let out = record(dir.path(), &["--junit", "junit.xml"], &script);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        last_run(dir.path(), "codemonkeys-dash")["summary"],
        "junit: 1 passed, 0 failed"
    );
}
