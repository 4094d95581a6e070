//! Recording with real processes (`sh`), a pinned wall clock and a real
//! monotonic one.

use std::time::Instant;

use dcx_contracts::run_artifacts::{Criticality, Product, ProductStatus};

use super::*;

struct TestClock(jiff::Timestamp);

impl Clock for TestClock {
    fn now(&self) -> jiff::Timestamp {
        self.0
    }
    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

fn clock() -> TestClock {
    TestClock("2026-02-20T12:00:00Z".parse().unwrap())
}

fn fleet() -> (tempfile::TempDir, DashDir) {
    let dir = tempfile::tempdir().unwrap();
    let dash = DashDir::new(dir.path().join("dash"));
    let product = Product {
        product_id: "codemonkeys-dash".to_owned(),
        display_name: "Code Monkeys Dash".to_owned(),
        repo: None,
        path: None,
        owner: "nexus".to_owned(),
        status: ProductStatus::Active,
        spec_path: None,
        run_evidence_path: None,
        criticality: Some(Criticality::High),
        sla_tier: Some(1),
        schedule_path: None,
        enabled: None,
    };
    crate::fleet::register_product(&dash, product, Timestamp::from_jiff(clock().0)).unwrap();
    (dir, dash)
}

fn request(script: &str) -> RecordRequest {
    RecordRequest {
        product: ProductId::parse("codemonkeys-dash").unwrap(),
        command: vec!["sh".into(), "-c".into(), script.into()],
        budget_minutes: None,
        budget_tokens: None,
        spent_tokens: 0,
        time_limit: None,
        kill_grace: Duration::from_secs(5),
        evidence: Vec::new(),
        screenshot: None,
        junit: None,
        max_junit_bytes: super::DEFAULT_MAX_JUNIT_BYTES,
        override_kill_switch: false,
    }
}

fn run(dash: &DashDir, request: &RecordRequest) -> Recorded {
    record(dash, request, &clock(), &Cancel::new()).unwrap()
}

fn log_of(recorded: &Recorded) -> String {
    std::fs::read_to_string(recorded.run_dir.join(LOG_FILE)).unwrap()
}

fn on_disk(dash: &DashDir) -> LastRun {
    let product = ProductId::parse("codemonkeys-dash").unwrap();
    dcx_contracts::load::<LastRun>(&dash.last_run_file(&product))
        .unwrap()
        .document
}

#[test]
fn a_passing_run_streams_its_output_and_reports_the_summary() {
    let (_dir, dash) = fleet();
    let recorded = run(
        &dash,
        &request("echo 'test result: ok. 3 passed; 0 failed; 0 ignored'; echo oops >&2"),
    );
    assert_eq!(recorded.ending, RunEnding::Exited(0));
    assert_eq!(recorded.run_id, "run_20260220_120000_000000");
    assert_eq!(
        log_of(&recorded),
        "test result: ok. 3 passed; 0 failed; 0 ignored\noops\n"
    );
    let report = on_disk(&dash);
    assert_eq!(report, recorded.report);
    assert_eq!(report.status, RunStatus::Success);
    assert_eq!(report.summary, "cargo test: 3 passed, 0 failed");
    assert_eq!(
        report.evidence.paths,
        ["runs/codemonkeys-dash/run_20260220_120000_000000/pytest_output.log"]
    );
    assert_eq!(report.banana_economy.budget_minutes, DEFAULT_BUDGET_MINUTES);
    assert_eq!(report.banana_economy.budget_tokens, DEFAULT_BUDGET_TOKENS);
    assert!(report.banana_economy.spent_minutes < 0.5);
    assert!(!report.kill_switch.enabled);
    assert_eq!(report.pr_wave.state, PrWaveState::None);
}

#[test]
fn a_failing_run_is_failed_with_its_exit_code() {
    let (_dir, dash) = fleet();
    let recorded = run(
        &dash,
        &request("echo '== 1 failed, 2 passed in 0.10s =='; exit 3"),
    );
    assert_eq!(recorded.ending, RunEnding::Exited(3));
    assert_eq!(recorded.report.status, RunStatus::Failed);
    assert_eq!(recorded.report.summary, "pytest: 1 failed, 2 passed (exit 3)");

    let recorded = run(&dash, &request("echo nothing to see; exit 1"));
    assert_eq!(
        recorded.report.summary,
        "Command failed (exit 1); no test summary recognized in pytest_output.log"
    );
    assert_eq!(
        recorded.run_id, "run_20260220_120000_000001",
        "same second, no collision"
    );
}

#[test]
fn a_missing_command_is_a_failed_run_with_a_report() {
    let (_dir, dash) = fleet();
    let mut req = request("");
    req.command = vec!["dcx-no-such-command".into(), "--flag".into()];
    let recorded = run(&dash, &req);
    assert!(matches!(recorded.ending, RunEnding::NotStarted(_)));
    assert_eq!(recorded.report.status, RunStatus::Failed);
    assert_eq!(recorded.report.summary, "Command not found: dcx-no-such-command");
    assert!(
        log_of(&recorded).starts_with("[dcx] cannot start dcx-no-such-command: No such file or directory")
    );
    assert_eq!(on_disk(&dash), recorded.report);
}

#[test]
fn the_time_budget_stops_the_whole_process_group() {
    let (_dir, dash) = fleet();
    let mut req = request("echo started; sleep 30 & wait");
    req.budget_minutes = Some(1);
    req.time_limit = Some(Duration::from_millis(300));
    let recorded = run(&dash, &req);
    assert_eq!(recorded.ending, RunEnding::OverBudget);
    assert_eq!(recorded.report.status, RunStatus::Failed);
    assert_eq!(recorded.report.summary, "Budget exceeded: stopped after 0.3 s");
    assert_eq!(recorded.report.banana_economy.budget_minutes, 1);
    assert_eq!(
        log_of(&recorded),
        "started\n[dcx] stopped at its time budget (0.3 s)\n"
    );
    assert!(recorded.report.banana_economy.spent_minutes < 0.5);
}

#[test]
fn a_cancelled_run_still_writes_its_report() {
    let (_dir, dash) = fleet();
    let cancel = Cancel::new();
    cancel.cancel_by_signal(15);
    let recorded = record(&dash, &request("sleep 30"), &clock(), &cancel).unwrap();
    assert_eq!(recorded.ending, RunEnding::Cancelled(CancelReason::Signal(15)));
    assert_eq!(recorded.report.status, RunStatus::Cancelled);
    assert_eq!(
        recorded.report.summary,
        "Cancelled: interrupted before the command finished"
    );
    assert_eq!(on_disk(&dash), recorded.report);
}

#[test]
fn the_kill_switch_refuses_runs_until_released_or_overridden() {
    let (_dir, dash) = fleet();
    let product = ProductId::parse("codemonkeys-dash").unwrap();
    // No report yet: said so, and nothing is written.
    let error = set_kill_switch(
        &dash,
        &product,
        KillSwitch {
            enabled: true,
            reason: "x".into(),
        },
    )
    .unwrap_err();
    let path = dash.last_run_file(&product);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: product codemonkeys-dash has no run report yet, and its kill switch is kept in that report; nothing was changed. Let its first run finish (or stop it), then engage the switch",
            path.display()
        )
    );
    assert!(!path.exists());
    run(&dash, &request("true"));
    let reason = "Banana budget exhausted <script>alert(1)</script>";
    assert!(matches!(
        set_kill_switch(
            &dash,
            &product,
            KillSwitch {
                enabled: true,
                reason: " ".into()
            }
        ),
        Err(RecordError::ReasonRequired)
    ));
    set_kill_switch(
        &dash,
        &product,
        KillSwitch {
            enabled: true,
            reason: reason.into(),
        },
    )
    .unwrap();
    let before = std::fs::read(dash.last_run_file(&product)).unwrap();
    let err = record(&dash, &request("true"), &clock(), &Cancel::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "kill switch engaged for codemonkeys-dash: {reason}; not running (override with --override-kill-switch)"
        )
    );
    assert_eq!(
        std::fs::read(dash.last_run_file(&product)).unwrap(),
        before,
        "nothing written"
    );
    assert_eq!(dash.run_ids(&product).unwrap().len(), 1, "no run directory");

    let mut req = request("true");
    req.override_kill_switch = true;
    let recorded = run(&dash, &req);
    assert_eq!(recorded.report.status, RunStatus::Success);
    assert!(
        recorded.report.kill_switch.enabled,
        "an override does not release the switch"
    );
    assert_eq!(recorded.report.kill_switch.reason, reason);

    set_kill_switch(
        &dash,
        &product,
        KillSwitch {
            enabled: false,
            reason: String::new(),
        },
    )
    .unwrap();
    assert_eq!(run(&dash, &request("true")).report.status, RunStatus::Success);
}

#[test]
fn an_unreadable_previous_report_is_an_unknown_kill_switch() {
    let (_dir, dash) = fleet();
    let product = ProductId::parse("codemonkeys-dash").unwrap();
    std::fs::create_dir_all(dash.product_dir(&product)).unwrap();
    std::fs::write(
        dash.last_run_file(&product),
        "{\"kill_switch\": {\"enabled\": \"yes\"}}",
    )
    .unwrap();
    let err = record(&dash, &request("true"), &clock(), &Cancel::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: cannot tell whether the kill switch is engaged (/kill_switch: invalid type: string \"yes\", \
             expected a boolean); fix or remove the report, or override with --override-kill-switch",
            dash.last_run_file(&product).display()
        )
    );
}

#[test]
fn budgets_and_the_pr_wave_carry_over() {
    let (_dir, dash) = fleet();
    let mut req = request("true");
    req.budget_minutes = Some(30);
    req.budget_tokens = Some(1000);
    run(&dash, &req);
    let report = run(&dash, &request("true")).report;
    assert_eq!(report.banana_economy.budget_minutes, 30);
    assert_eq!(report.banana_economy.budget_tokens, 1000);

    let mut req = request("true");
    req.spent_tokens = 1500;
    let report = run(&dash, &req).report;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(
        report.summary,
        "Token budget exceeded: spent 1500 of 1000; Command succeeded (exit 0); no test summary recognized in \
         pytest_output.log"
    );
}

#[test]
fn unregistered_products_and_empty_commands_are_refused() {
    let (_dir, dash) = fleet();
    let mut req = request("true");
    req.product = ProductId::parse("spec-kit").unwrap();
    let err = record(&dash, &req, &clock(), &Cancel::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "product \"spec-kit\" is not registered in {}; register it with `dcx fleet register spec-kit …`",
            dash.products_file().display()
        )
    );
    assert!(!dash.runs_dir().join("spec-kit").exists());
    let mut req = request("true");
    req.command.clear();
    assert!(matches!(
        record(&dash, &req, &clock(), &Cancel::new()),
        Err(RecordError::EmptyCommand)
    ));
}

#[test]
fn evidence_screenshot_and_junit_land_in_the_run_directory() {
    let (dir, dash) = fleet();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let script = format!(
        "cd {work} && printf 'PNG' > shot.png && printf 'trace' > trace.txt && \
         printf '<testsuite name=\"s\"><testcase name=\"a\"/><testcase name=\"b\"><skipped/></testcase></testsuite>' > junit.xml",
        work = work.display()
    );
    let mut req = request(&script);
    req.screenshot = Some(work.join("shot.png"));
    req.evidence = vec![work.join("trace.txt"), work.join("never-written.txt")];
    req.junit = Some(work.join("junit.xml"));
    let recorded = run(&dash, &req);
    let run = "runs/codemonkeys-dash/run_20260220_120000_000000";
    assert_eq!(
        recorded.report.evidence.paths,
        [
            format!("{run}/pytest_output.log"),
            format!("{run}/test-report.json"),
            format!("{run}/screenshot.png"),
            format!("{run}/evidence/trace.txt"),
        ]
    );
    assert_eq!(recorded.report.summary, "junit: 1 passed, 0 failed, 1 skipped");
    assert_eq!(recorded.warnings.len(), 1);
    assert!(
        recorded.warnings[0].starts_with(&format!(
            "--evidence {}: not copied: No such file or directory",
            work.join("never-written.txt").display()
        )),
        "{}",
        recorded.warnings[0]
    );
    assert_eq!(
        std::fs::read(recorded.run_dir.join("evidence/trace.txt")).unwrap(),
        b"trace"
    );
    let test_report: Value =
        serde_json::from_slice(&std::fs::read(recorded.run_dir.join(TEST_REPORT_FILE)).unwrap()).unwrap();
    assert_eq!(test_report["totals"]["tests"], 2);

    let mut req = request("true");
    req.evidence = vec![work.join("a/log.txt"), work.join("b/log.txt")];
    assert_eq!(
        record(&dash, &req, &clock(), &Cancel::new())
            .unwrap_err()
            .to_string(),
        "two evidence files are named \"log.txt\"; evidence is copied to <run>/evidence/<name>, so names must differ"
    );
}

/// A copy that fails half way (here: a source whose read fails, as a kill
/// would stop it) leaves nothing under the evidence's name, and no
/// temp file either; a complete copy keeps the source's permissions.
#[cfg(target_os = "linux")]
#[test]
fn evidence_is_copied_atomically() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("run/evidence");
    // A regular file by its metadata whose read fails (address 0 is not
    // mapped): `std::fs::copy` has created the target by then.
    let error = copy_file(Path::new("/proc/self/mem"), &evidence.join("mem")).unwrap_err();
    assert!(error.starts_with("not copied: "), "{error}");
    let names: Vec<_> = std::fs::read_dir(&evidence)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(names.is_empty(), "{names:?}");

    let source = dir.path().join("coverage.xml");
    std::fs::write(&source, "<coverage/>").unwrap();
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o640)).unwrap();
    copy_file(&source, &evidence.join("coverage.xml")).unwrap();
    let copied = evidence.join("coverage.xml");
    assert_eq!(std::fs::read(&copied).unwrap(), b"<coverage/>");
    assert_eq!(
        std::fs::metadata(&copied).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

/// `--max-junit-bytes`: a JUnit file over the cap is not read; the run is
/// still recorded, says so, and has no test report. Raising the cap
/// converts it.
#[test]
fn junit_over_the_cap_is_not_converted() {
    let (dir, dash) = fleet();
    let junit = dir.path().join("junit.xml");
    let xml = "<testsuite name=\"s\"><testcase name=\"a\"/></testsuite>";
    std::fs::write(&junit, xml).unwrap();
    let mut req = request("true");
    req.junit = Some(junit.clone());
    req.max_junit_bytes = 10;
    let recorded = run(&dash, &req);
    assert_eq!(
        recorded.warnings,
        [format!(
            "--junit {}: not converted: the file has {} bytes, over the cap of 10 bytes (raise --max-junit-bytes if it really is that large)",
            junit.display(),
            xml.len()
        )]
    );
    assert!(!recorded.run_dir.join(TEST_REPORT_FILE).exists());
    assert!(
        !recorded.report.summary.starts_with("junit:"),
        "{}",
        recorded.report.summary
    );

    req.max_junit_bytes = xml.len() as u64;
    let recorded = run(&dash, &req);
    assert!(recorded.warnings.is_empty(), "{:?}", recorded.warnings);
    assert_eq!(recorded.report.summary, "junit: 1 passed, 0 failed");
}

/// `--max-document-bytes` on the dash directory: a products.json over the
/// cap stops a record before anything runs or is written.
#[test]
fn products_json_over_the_document_cap_records_nothing() {
    let (_dir, dash) = fleet();
    let size = std::fs::metadata(dash.products_file()).unwrap().len();
    let capped = dash
        .clone()
        .with_load_limits(dcx_contracts::LoadLimits::with_max_bytes(size - 1));
    let error = record(&capped, &request("true"), &clock(), &Cancel::new()).unwrap_err();
    assert!(
        error.to_string().contains(&format!(
            "the document has {size} bytes, over the cap of {} bytes; nothing was parsed (raise --max-document-bytes if it really is that large)",
            size - 1
        )),
        "{error}"
    );
    let product = ProductId::parse("codemonkeys-dash").unwrap();
    assert!(!dash.product_dir(&product).exists());
    record(&dash, &request("true"), &clock(), &Cancel::new()).unwrap();
}

/// A switch engaged while the command runs stops it: `cancelled` with the
/// reason, and the report keeps the switch on.
#[test]
fn a_switch_engaged_during_the_run_stops_it_and_is_kept() {
    let (_dir, dash) = fleet();
    let product = ProductId::parse("codemonkeys-dash").unwrap();
    run(&dash, &request("true"));
    let reason = "operator: stop";
    let recorded = std::thread::scope(|scope| {
        let runner = scope.spawn(|| run(&dash, &request("echo started; sleep 20")));
        let log = dash
            .product_dir(&product)
            .join("run_20260220_120000_000001")
            .join(LOG_FILE);
        while !std::fs::read_to_string(&log).is_ok_and(|text| text.starts_with("started")) {
            std::thread::sleep(Duration::from_millis(10));
        }
        set_kill_switch(
            &dash,
            &product,
            KillSwitch {
                enabled: true,
                reason: reason.into(),
            },
        )
        .unwrap();
        runner.join().unwrap()
    });
    assert_eq!(recorded.ending, RunEnding::KillSwitch(reason.into()));
    assert_eq!(recorded.report.status, RunStatus::Cancelled);
    assert_eq!(
        recorded.report.summary,
        "Cancelled: kill switch engaged during the run: operator: stop"
    );
    assert!(recorded.report.kill_switch.enabled);
    assert_eq!(on_disk(&dash), recorded.report);
    assert!(!recorded.run_dir.join(store::RECORDING_MARKER).exists());
}

/// A run that finishes after a newer run has reported does not replace
/// that report: `last_run.json` never goes back in run-id order.
#[test]
fn a_report_never_replaces_a_newer_runs() {
    let (_dir, dash) = fleet();
    let product = ProductId::parse("codemonkeys-dash").unwrap();
    run(&dash, &request("true"));
    let mut newer = on_disk(&dash);
    newer.run_id = "run_20991231_000000_000000".to_owned();
    dcx_contracts::save(&dash.last_run_file(&product), &newer).unwrap();
    let recorded = run(&dash, &request("true"));
    assert!(!recorded.published);
    assert_eq!(on_disk(&dash), newer);
    assert_eq!(
        recorded.warnings,
        [format!(
            "{} already reports the newer run run_20991231_000000_000000; this run's report is not written there (it only moves forward)",
            dash.last_run_file(&product).display()
        )]
    );
    assert!(!recorded.run_dir.join(store::RECORDING_MARKER).exists());
}
