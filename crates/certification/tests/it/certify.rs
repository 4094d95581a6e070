//! `certify` against the fixture adapter: a passing lane, and every row of
//! the issue's bad-input table with its exact error or check detail.

use crate::support;
use std::time::{Duration, Instant};

use crate::support::{Scratch, assert_written_well, lane, repo_registry, rows};
use dcx_certification::{CertifyError, certify, verdict_line};
use dcx_contracts::certification::{CheckStatus, Verdict};
use dcx_sys::Cancel;

const RCERT: &str = "/specs/03_conformance/cases/core/runner_certification_core.spec.md";

fn owned(row: (&str, &str, &str, i64, &str)) -> (String, String, String, i64, String) {
    let (group, id, status, exit_code, detail) = row;
    (
        group.to_owned(),
        id.to_owned(),
        status.to_owned(),
        exit_code,
        detail.to_owned(),
    )
}

#[test]
fn the_rust_lane_of_the_repo_registry_passes_with_the_fixture_adapter() {
    let scratch = Scratch::new();
    let adapter = scratch.adapter();
    let certification = certify(
        &scratch.settings("rust", repo_registry(), &adapter),
        &Cancel::new(),
    )
    .unwrap();
    assert_written_well(&certification);

    let cert = &certification.certificate;
    assert!(certification.passed());
    assert_eq!(cert.summary.status, Verdict::Pass);
    assert_eq!(
        (cert.summary.passed, cert.summary.failed, cert.summary.skipped),
        (8, 0, 0)
    );
    assert!(cert.summary.blocking && cert.runner.blocking);
    // registry_ref carries the registry's real version, so the hash is the
    // dcx rust-lane intent (the one in specs/examples), not the peers' 624ce01d….
    assert_eq!(cert.execution_intent.registry_ref.version, 2);
    assert_eq!(
        cert.equivalence.intent_hash.to_hex(),
        "861c5dae4de617ca937dcb05c91193d026b5d24905acd7d299b34ab4455c54c8"
    );
    assert_eq!(
        verdict_line(cert),
        "PASS: rust (required, active, blocking): 8 passed, 0 failed, 0 skipped"
    );

    let ids: Vec<&str> = cert.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "registry.entry.shape",
            "command.governance",
            "command.style-check",
            "command.docs-generate-check",
            "governance.runtime.runner_interface_subcommands",
            "governance.runtime.compatibility_matrix_registration_required",
            &format!("spec.{RCERT}#DCCONF-RCERT-001"),
            &format!("spec.{RCERT}#DCCONF-RCERT-002"),
        ]
    );
    let shown = adapter.display();
    assert_eq!(
        cert.checks[1].detail,
        format!("`{shown} governance` exited 0, as expected (0 or 1)")
    );
    assert_eq!(
        cert.checks[4].detail,
        format!(
            "`{shown} governance --check-id runtime.runner_interface_subcommands` exited 0, as expected (0)"
        )
    );
    assert!(
        cert.checks[6]
            .detail
            .starts_with("case `DCCONF-RCERT-001` declared on line 9 of ")
    );

    // Every process check has its log, referenced from the certificate's directory.
    for check in &cert.checks[1..6] {
        let evidence_ref = check.evidence_ref.as_deref().unwrap();
        let log =
            std::fs::read_to_string(certification.json_path.parent().unwrap().join(evidence_ref)).unwrap();
        let args = check
            .detail
            .strip_prefix(&format!("`{shown} "))
            .and_then(|d| d.split_once('`'))
            .unwrap()
            .0;
        assert_eq!(
            log,
            format!(
                "# dcx certify: {shown} {args} (timeout 20s)\n\
                 fixture adapter: {args}\n\
                 fixture adapter diagnostics: {args}\n\
                 # dcx certify: exited with code 0\n"
            )
        );
        assert!(check.duration_ms.is_some());
    }
    assert_eq!(
        certification.json_path,
        scratch.out().join("runner-certification-rust.json")
    );
    assert_eq!(
        certification.md_path,
        scratch.out().join("runner-certification-rust.md")
    );
}

#[test]
fn registry_problems_are_errors_naming_the_file_and_the_field() {
    let scratch = Scratch::new();
    let adapter = scratch.adapter();
    let write = |name: &str, text: &str| {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let valid = std::fs::read_to_string(repo_registry()).unwrap();

    let missing = scratch.path().join("missing.yaml");
    let syntax = write("syntax.yaml", "version: 2\nrunners: [\n");
    let version = write("version.yaml", &valid.replace("version: 2", "version: 1"));
    let anchorless = write(
        "anchorless.yaml",
        &valid.replace(
            "runner_certification_core.spec.md#DCCONF-RCERT-002",
            "runner_certification_core.spec.md",
        ),
    );
    let cases = [
        (
            missing.clone(),
            "rust",
            format!(
                "cannot read {}: No such file or directory (os error 2)",
                missing.display()
            ),
        ),
        (
            syntax.clone(),
            "rust",
            format!(
                "{}:3:1: invalid YAML: did not find expected node content",
                syntax.display()
            ),
        ),
        (
            version.clone(),
            "rust",
            format!(
                "{}: unsupported runner certification registry version 1; this build reads 2",
                version.display()
            ),
        ),
        (
            anchorless.clone(),
            "rust",
            format!(
                "{}: invalid runner certification registry: /runners/0/required_core_cases/1: \
                 \"{RCERT}\" is not a case ref of the form `/path/to/case.spec.md#CASE-ID`",
                anchorless.display()
            ),
        ),
        (
            repo_registry(),
            "go",
            format!(
                "{}: /runners: no lane has runner_id `go`; known ids: rust, python, php, node, c",
                repo_registry().display()
            ),
        ),
    ];
    for (registry, runner, message) in cases {
        let err = certify(
            &scratch.settings(runner, registry.clone(), &adapter),
            &Cancel::new(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), message, "{}", registry.display());
    }
    assert!(
        !scratch.out().exists(),
        "nothing is written for a configuration error"
    );
}

#[test]
fn a_malformed_commit_is_refused_before_anything_runs() {
    let scratch = Scratch::new();
    let mut settings = scratch.settings("rust", repo_registry(), &scratch.adapter());
    settings.commit_sha = "unknown".to_owned();
    let err = certify(&settings, &Cancel::new()).unwrap_err();
    assert!(matches!(err, CertifyError::CommitSha { .. }));
    assert_eq!(
        err.to_string(),
        "commit \"unknown\" is not a git commit id (40 or 64 lowercase hex characters)"
    );
    assert!(!scratch.out().exists());
}

#[test]
fn an_exit_code_outside_expect_exit_fails_and_keeps_the_log() {
    let scratch = Scratch::new();
    let adapter = scratch.adapter_with("fails.sh", "FIXTURE_ADAPTER_FAIL", "style-check");
    let registry = scratch.registry(&[lane(
        "rust",
        "required",
        "active",
        &[("style-check", &[], &[0])],
        &[],
        &[],
    )]);
    let certification = certify(&scratch.settings("rust", registry, &adapter), &Cancel::new()).unwrap();
    assert_written_well(&certification);
    assert!(!certification.passed());
    let shown = adapter.display();
    assert_eq!(
        rows(&certification)[1],
        owned((
            "command",
            "command.style-check",
            "fail",
            3,
            &format!("`{shown} style-check` exited 3; expected 0"),
        ))
    );
    let log = std::fs::read_to_string(
        scratch
            .out()
            .join("runner-certification-rust/command.style-check.log"),
    )
    .unwrap();
    assert!(
        log.contains("failing as told\n# dcx certify: exited with code 3\n"),
        "{log}"
    );
    let failures: Vec<&str> = certification.failures().map(|c| c.id.as_str()).collect();
    assert_eq!(failures, ["command.style-check"]);
}

#[test]
fn a_hung_adapter_times_out_and_its_process_group_is_killed() {
    let scratch = Scratch::new();
    let adapter = scratch.adapter_with("hangs.sh", "FIXTURE_ADAPTER_HANG", "docs-generate-check");
    let registry = scratch.registry(&[lane(
        "rust",
        "required",
        "active",
        &[("docs-generate-check", &[], &[]), ("style-check", &[], &[])],
        &[],
        &[],
    )]);
    let mut settings = scratch.settings("rust", registry, &adapter);
    settings.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let certification = certify(&settings, &Cancel::new()).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "waited for the hung adapter"
    );
    assert_written_well(&certification);
    let shown = adapter.display();
    let rows = rows(&certification);
    assert_eq!(
        rows[1],
        owned((
            "command",
            "command.docs-generate-check",
            "fail",
            124,
            &format!("`{shown} docs-generate-check` timed out after 1s; its process group was killed"),
        ))
    );
    assert_eq!(rows[2].2, "pass", "the next check still runs");
    let log = std::fs::read_to_string(
        scratch
            .out()
            .join("runner-certification-rust/command.docs-generate-check.log"),
    )
    .unwrap();
    assert!(
        log.ends_with(
            "fixture adapter diagnostics: docs-generate-check\n\
             # dcx certify: timed out after 1s; process group killed\n"
        ),
        "{log}"
    );
}

#[test]
fn a_crashing_adapter_fails_with_its_signal() {
    let scratch = Scratch::new();
    let adapter = scratch.adapter_with(
        "crashes.sh",
        "FIXTURE_ADAPTER_CRASH",
        "governance --check-id runtime.runner_interface_subcommands",
    );
    let registry = scratch.registry(&[lane(
        "rust",
        "required",
        "active",
        &[],
        &["runtime.runner_interface_subcommands"],
        &[],
    )]);
    let certification = certify(&scratch.settings("rust", registry, &adapter), &Cancel::new()).unwrap();
    assert_written_well(&certification);
    let shown = adapter.display();
    assert_eq!(
        rows(&certification)[1],
        owned((
            "governance-sync",
            "governance.runtime.runner_interface_subcommands",
            "fail",
            134,
            &format!(
                "`{shown} governance --check-id runtime.runner_interface_subcommands` was killed by signal 6 (SIGABRT)"
            ),
        ))
    );
}

#[test]
fn an_adapter_that_cannot_run_fails_a_required_lane_and_skips_a_compatibility_lane() {
    let scratch = Scratch::new();
    let not_executable = scratch.path().join("not-executable.sh");
    std::fs::copy(scratch.adapter(), &not_executable).unwrap();
    support::set_mode(&not_executable, 0o644);
    let absent = scratch.path().join("absent.sh");
    let registry = scratch.registry(&[
        lane(
            "rust",
            "required",
            "active",
            &[("style-check", &[], &[])],
            &[],
            &[],
        ),
        lane(
            "python",
            "compatibility_non_blocking",
            "active",
            &[("style-check", &[], &[])],
            &[],
            &[],
        ),
    ]);
    let (ne, ab) = (not_executable.display(), absent.display());
    let cases = [
        (
            "rust",
            &not_executable,
            (
                "fail",
                126,
                format!("cannot run `{ne} style-check`: adapter `{ne}` is not an executable file"),
            ),
        ),
        (
            "rust",
            &absent,
            (
                "fail",
                127,
                format!("cannot run `{ab} style-check`: adapter `{ab}` not found"),
            ),
        ),
        (
            "python",
            &not_executable,
            (
                "skip",
                0,
                format!(
                    "skipped: cannot run `{ne} style-check`: adapter `{ne}` is not an executable file \
                     (a compatibility lane is not failed for an adapter that cannot run)"
                ),
            ),
        ),
        (
            "python",
            &absent,
            (
                "skip",
                0,
                format!(
                    "skipped: cannot run `{ab} style-check`: adapter `{ab}` not found \
                     (a compatibility lane is not failed for an adapter that cannot run)"
                ),
            ),
        ),
    ];
    for (runner, adapter, (status, exit_code, detail)) in cases {
        let certification = certify(
            &scratch.settings(runner, registry.clone(), adapter),
            &Cancel::new(),
        )
        .unwrap();
        assert_written_well(&certification);
        assert_eq!(
            rows(&certification)[1],
            owned(("command", "command.style-check", status, exit_code, &detail)),
            "{runner} {}",
            adapter.display()
        );
        assert_eq!(certification.passed(), status == "skip");
    }
}

#[test]
fn the_public_adapter_is_looked_up_on_the_path_given() {
    let scratch = Scratch::new();
    let bin = scratch.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::copy(scratch.adapter(), bin.join("dc-runner")).unwrap();
    support::set_mode(&bin.join("dc-runner"), 0o755);
    let registry = scratch.registry(&[lane(
        "rust",
        "required",
        "active",
        &[("style-check", &[], &[])],
        &[],
        &[],
    )]);

    let mut settings = scratch.settings("rust", registry, &scratch.adapter());
    settings.adapter = None;
    settings.search_path = Some(std::env::join_paths([scratch.path().join("empty"), bin]).unwrap());
    let certification = certify(&settings, &Cancel::new()).unwrap();
    assert_eq!(
        rows(&certification)[1].4,
        "`dc-runner style-check` exited 0, as expected (0)"
    );

    settings.search_path = None;
    let certification = certify(&settings, &Cancel::new()).unwrap();
    assert_eq!(
        rows(&certification)[1],
        owned((
            "command",
            "command.style-check",
            "fail",
            127,
            "cannot run `dc-runner style-check`: adapter `dc-runner` not found on PATH",
        ))
    );
}

#[test]
fn case_refs_fail_when_the_file_is_missing_or_the_id_is_only_a_substring() {
    let scratch = Scratch::new();
    let spec_root = scratch.path().join("spec-root");
    std::fs::create_dir_all(spec_root.join("specs")).unwrap();
    let cases_text = "```yaml\n- id: DCCONF-RCERT-0011\n```\n";
    std::fs::write(spec_root.join("specs/core.spec.md"), cases_text).unwrap();
    let registry = scratch.registry(&[lane(
        "rust",
        "required",
        "active",
        &[],
        &[],
        &[
            "/specs/core.spec.md#DCCONF-RCERT-001",
            "/specs/gone.spec.md#DCCONF-RCERT-002",
        ],
    )]);
    let mut settings = scratch.settings("rust", registry, &scratch.adapter());
    settings.spec_root = spec_root.clone();
    let certification = certify(&settings, &Cancel::new()).unwrap();
    assert_written_well(&certification);
    let digest = dcx_contracts::digest::sha256_bytes(cases_text.as_bytes());
    let file = spec_root.join("specs/core.spec.md");
    assert_eq!(
        rows(&certification)[1..],
        [
            owned((
                "conformance",
                "spec./specs/core.spec.md#DCCONF-RCERT-001",
                "fail",
                1,
                &format!(
                    "no line `id: DCCONF-RCERT-001` in case file {} (sha256 {digest}); \
                     `DCCONF-RCERT-001` appears only inside other text, first on line 2",
                    file.display()
                ),
            )),
            owned((
                "conformance",
                "spec./specs/gone.spec.md#DCCONF-RCERT-002",
                "fail",
                1,
                &format!(
                    "case file {} not found",
                    spec_root.join("specs/gone.spec.md").display()
                ),
            )),
        ]
    );
}

#[test]
fn lanes_that_are_not_active_skip_every_check_with_the_reason() {
    let scratch = Scratch::new();
    let registry = scratch.registry(&[lane(
        "node",
        "compatibility_non_blocking",
        "planned",
        &[("style-check", &[], &[])],
        &["runtime.runner_interface_subcommands"],
        &[&format!("{RCERT}#DCCONF-RCERT-001")],
    )]);
    // No adapter exists: a planned lane never looks for one.
    let absent = scratch.path().join("absent.sh");
    let certification = certify(&scratch.settings("node", registry, &absent), &Cancel::new()).unwrap();
    assert_written_well(&certification);
    let reason = "lane status is `planned`; only active lanes are certified";
    assert_eq!(
        rows(&certification),
        [
            owned((
                "contract",
                "registry.entry.shape",
                "pass",
                0,
                "runner certification registry entry parsed and validated",
            )),
            owned(("command", "command.style-check", "skip", 0, reason)),
            owned((
                "governance-sync",
                "governance.runtime.runner_interface_subcommands",
                "skip",
                0,
                reason,
            )),
            owned((
                "conformance",
                &format!("spec.{RCERT}#DCCONF-RCERT-001"),
                "skip",
                0,
                reason,
            )),
        ]
    );
    let cert = &certification.certificate;
    assert!(!cert.runner.blocking);
    assert_eq!(
        verdict_line(cert),
        "PASS: node (compatibility_non_blocking, planned, non-blocking): 1 passed, 0 failed, 3 skipped"
    );
    assert!(cert.checks.iter().all(|c| c.status != CheckStatus::Fail));
}

#[test]
fn certifying_again_replaces_the_certificate_and_its_logs() {
    let scratch = Scratch::new();
    let registry = scratch.registry(&[lane(
        "rust",
        "required",
        "active",
        &[("governance", &[], &[]), ("style-check", &[], &[])],
        &[],
        &[],
    )]);
    certify(
        &scratch.settings("rust", registry, &scratch.adapter()),
        &Cancel::new(),
    )
    .unwrap();
    let fewer = scratch.registry(&[lane(
        "rust",
        "required",
        "active",
        &[("style-check", &[], &[])],
        &[],
        &[],
    )]);
    let certification = certify(
        &scratch.settings("rust", fewer, &scratch.adapter()),
        &Cancel::new(),
    )
    .unwrap();
    assert_written_well(&certification);
    let mut logs: Vec<String> = std::fs::read_dir(scratch.out().join("runner-certification-rust"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    logs.sort();
    assert_eq!(logs, ["command.style-check.log"]);
}

#[test]
fn a_cancelled_certification_stops_the_adapter_and_writes_nothing() {
    let scratch = Scratch::new();
    let registry = repo_registry();
    // A first, complete certificate.
    let first = certify(
        &scratch.settings("rust", registry.clone(), &scratch.adapter()),
        &Cancel::new(),
    )
    .unwrap();
    let json_before = std::fs::read(&first.json_path).unwrap();
    let md_before = std::fs::read(&first.md_path).unwrap();
    let evidence = scratch.out().join("runner-certification-rust");
    let log = evidence.join("command.docs-generate-check.log");
    let log_before = std::fs::read(&log).unwrap();

    // The second one hangs in an adapter invocation and is cancelled there.
    let hanging = scratch.adapter_with("hang.sh", "FIXTURE_ADAPTER_HANG", "docs-generate-check");
    let mut settings = scratch.settings("rust", registry, &hanging);
    settings.timeout = Duration::from_secs(60);
    let cancel = Cancel::new();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            cancel.cancel_by_signal(15);
        })
    };
    let started = Instant::now();
    let error = certify(&settings, &cancel).unwrap_err();
    canceller.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, CertifyError::Cancelled { .. }), "{error}");
    assert_eq!(error.signal(), Some(15));
    assert_eq!(
        error.to_string(),
        "cancelled (dcx received SIGTERM): the adapter's process group was stopped and no certificate was written; the previous one, if any, is unchanged"
    );
    assert_eq!(std::fs::read(&first.json_path).unwrap(), json_before);
    assert_eq!(std::fs::read(&first.md_path).unwrap(), md_before);
    assert_eq!(std::fs::read(&log).unwrap(), log_before);
    // Nothing of the cancelled run is left in the out dir.
    let mut names: Vec<String> = std::fs::read_dir(scratch.out())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".dcx-certify.lock",
            "runner-certification-rust",
            "runner-certification-rust.json",
            "runner-certification-rust.md"
        ]
    );

    // Cancelled before it starts: no adapter runs at all.
    let cancel = Cancel::new();
    cancel.cancel("operator");
    let error = certify(
        &scratch.settings("rust", repo_registry(), &scratch.adapter()),
        &cancel,
    )
    .unwrap_err();
    assert!(error.to_string().starts_with("cancelled (operator): "), "{error}");
    assert_eq!(error.signal(), None);
}

#[test]
fn a_certification_waits_for_the_out_dir_lock_and_says_so() {
    let scratch = Scratch::new();
    let lock_path = scratch.out().join(dcx_certification::OUT_DIR_LOCK_FILE_NAME);
    let held = dcx_sys::lock_exclusive(&lock_path, dcx_sys::Wait::Fail, |_| {}).unwrap();
    let settings = scratch.settings("rust", repo_registry(), &scratch.adapter());
    let json = scratch.out().join("runner-certification-rust.json");
    let (told, done) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let mut told = None;
            let result = dcx_certification::certify_with(&settings, &Cancel::new(), |path, holder| {
                told = Some((path.to_path_buf(), holder));
            });
            (told, result)
        });
        std::thread::sleep(Duration::from_millis(400));
        assert!(!json.exists(), "certified while the out dir was locked");
        drop(held);
        worker.join().unwrap()
    });
    done.unwrap();
    assert_eq!(told, Some((lock_path, Some(std::process::id()))));
    assert!(json.exists());

    // A cancellation ends the wait.
    let _held = dcx_sys::lock_exclusive(
        &scratch.out().join(".dcx-certify.lock"),
        dcx_sys::Wait::Fail,
        |_| {},
    )
    .unwrap();
    let cancel = Cancel::new();
    cancel.cancel_by_signal(2);
    let error = certify(&settings, &cancel).unwrap_err();
    assert_eq!(error.signal(), Some(2));
}
