//! The "bad input → expected result" table of the workspace-foundation
//! issue: every row checks the exact message a person sees. (Identity files
//! and sha256 manifests have their rows in their own modules' tests.)

use dcx_contracts::certification::CertificationRegistry;
use dcx_contracts::run_artifacts::LastRun;
use dcx_contracts::status::RunnerStatusReport;
use dcx_contracts::{Document, Format, LoadError, from_str, load, save};

const REPORT: &str = r#"{"version":1,"runner_id":"rust","implementation_repo":"dc-runner-rust","release_version":"v1","commit_sha":"0000000000000000000000000000000000000000","generated_at":"2026-02-20T00:00:00Z","lane_class":"required","overall_status":"pass","fresh_until":"2026-02-23T00:00:00Z","command_results":[],"artifact_refs":[]}"#;

fn report_error(text: &str) -> String {
    from_str::<RunnerStatusReport>(text, Format::Json, "report.json")
        .unwrap_err()
        .to_string()
}

fn registry_error(text: &str) -> String {
    from_str::<CertificationRegistry>(text, Format::Yaml, "registry.yaml")
        .unwrap_err()
        .to_string()
}

#[test]
fn json_syntax_error_names_file_line_and_column() {
    assert_eq!(
        report_error("{\n  \"version\": 1,\n  \"runner_id\": \n}"),
        "report.json:4:1: invalid JSON: expected value"
    );
}

#[test]
fn yaml_syntax_error_names_file_line_and_column() {
    assert_eq!(
        registry_error("version: 2\nrunners: [a\n"),
        "registry.yaml:3:1: invalid YAML: did not find expected ',' or ']'"
    );
}

#[test]
fn not_utf8_is_a_syntax_error_with_position() {
    let err =
        dcx_contracts::from_bytes::<RunnerStatusReport>(b"{\n \"a\": \"\xff\"}", Format::Json, "r.json")
            .unwrap_err();
    assert_eq!(err.to_string(), "r.json:2:8: invalid JSON: not valid UTF-8");
}

#[test]
fn wrong_type_names_pointer_and_expected_type() {
    assert_eq!(
        report_error(&REPORT.replace(r#""runner_id":"rust""#, r#""runner_id":5"#)),
        "report.json:1:26: /runner_id: invalid type: integer `5`, expected a string"
    );
    assert_eq!(
        registry_error("version: 2\ncertificate_schema_ref: x\nrunners: {a: 1}\n"),
        "registry.yaml:3:10: /runners: invalid type: map, expected a sequence"
    );
}

#[test]
fn missing_field_names_pointer_and_expected_type() {
    assert_eq!(
        report_error(&REPORT.replace(r#""runner_id":"rust","#, "")),
        "report.json:1:294: /runner_id: missing required field (expected a string)"
    );
    assert_eq!(
        registry_error(
            "version: 2\ncertificate_schema_ref: x\nrunners:\n  - runner_id: rust\n    class: required\n"
        ),
        "registry.yaml:4:5: /runners/0/status: missing required field (expected one of `active`, `planned`, `disabled`)"
    );
    assert_eq!(
        report_error(&REPORT.replace(
            r#""artifact_refs":[]"#,
            &format!(
                r#""artifact_refs":[{{"url":"https://example.invalid/a","sha256":"{}"}}]"#,
                "a".repeat(64)
            )
        )),
        "report.json:1:422: /artifact_refs/0/name: missing required field (expected a string)"
    );
}

#[test]
fn unsupported_version_comes_before_any_other_error() {
    // Version 3 *and* a missing field: the version is reported.
    let text = REPORT
        .replace(r#""version":1"#, r#""version":3"#)
        .replace(r#""runner_id":"rust","#, "");
    assert_eq!(
        report_error(&text),
        "report.json: unsupported runner status report version 3; this build reads 1"
    );
    assert_eq!(
        registry_error("version: 1\nrunners: nonsense\n"),
        "registry.yaml: unsupported runner certification registry version 1; this build reads 2"
    );
    let err = from_str::<LastRun>(r#"{"schema_version":"0.2"}"#, Format::Json, "last_run.json").unwrap_err();
    assert!(matches!(err, LoadError::UnsupportedVersion { .. }));
    assert_eq!(
        err.to_string(),
        r#"last_run.json: unsupported run report version "0.2"; this build reads "0.1""#
    );
}

#[test]
fn enum_value_outside_the_contract_lists_the_allowed_values() {
    assert_eq!(
        report_error(&REPORT.replace(r#""lane_class":"required""#, r#""lane_class":"mandatory""#)),
        "report.json:1:212: /lane_class: unknown value `mandatory`, expected `required` or `compatibility_non_blocking`"
    );
    assert_eq!(
        report_error(&REPORT.replace(r#""overall_status":"pass""#, r#""overall_status":"ok""#)),
        "report.json:1:233: /overall_status: unknown value `ok`, expected one of `pass`, `fail`, `degraded`, `unknown`"
    );
}

#[test]
fn bad_digest_names_its_pointer() {
    for bad in [
        "",
        "ABC",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ] {
        let text = REPORT.replace(
            r#""artifact_refs":[]"#,
            &format!(r#""artifact_refs":[{{"name":"a","url":"u","sha256":"{bad}"}}]"#),
        );
        let message = report_error(&text);
        assert!(
            message.contains(
                ": /artifact_refs/0/sha256: expected 64 lowercase hex characters (a sha256 digest), got "
            ),
            "{message}"
        );
    }
    assert_eq!(
        report_error(&REPORT.replace(
            r#""artifact_refs":[]"#,
            &format!(
                r#""artifact_refs":[{{"name":"a","url":"u","sha256":"{}"}}]"#,
                "E".repeat(64)
            )
        )),
        format!(
            "report.json:1:408: /artifact_refs/0/sha256: expected 64 lowercase hex characters (a sha256 digest), got \"{}\"",
            "E".repeat(64)
        )
    );
}

#[test]
fn bad_timestamp_names_its_pointer() {
    assert_eq!(
        report_error(&REPORT.replace("2026-02-20T00:00:00Z", "2026-02-20")),
        "report.json:1:177: /generated_at: expected an RFC 3339 instant such as 2026-02-20T00:00:00Z (date, 'T', time and an offset), got \"2026-02-20\""
    );
}

#[test]
fn fractional_seconds_and_offsets_are_accepted_and_normalized() {
    let text = REPORT
        .replace("2026-02-20T00:00:00Z", "2026-02-20T01:00:00.123456+01:00")
        .replace("2026-02-23T00:00:00Z", "2026-02-22T19:00:00.9-05:00");
    let loaded = from_str::<RunnerStatusReport>(&text, Format::Json, "report.json").unwrap();
    assert_eq!(loaded.document.generated_at.to_string(), "2026-02-20T00:00:00Z");
    assert_eq!(loaded.document.fresh_until.to_string(), "2026-02-23T00:00:00Z");
}

#[test]
fn semantic_validation_reports_every_violation_with_its_pointer() {
    let text = REPORT
        .replace(r#""release_version":"v1""#, r#""release_version":"  ""#)
        .replace("0000000000000000000000000000000000000000", "unknown")
        .replace("2026-02-23T00:00:00Z", "2026-02-19T00:00:00Z")
        .replace(
            r#""artifact_refs":[]"#,
            &format!(
                r#""artifact_refs":[{{"name":"r.json","url":"u","sha256":"{0}"}},{{"name":"r.json","url":"u","sha256":"{0}"}}]"#,
                "a".repeat(64)
            ),
        );
    assert_eq!(
        report_error(&text),
        "report.json: invalid runner status report: 4 problems\n\
         \x20 - /release_version: must not be empty\n\
         \x20 - /commit_sha: expected a git commit id (40 or 64 lowercase hex characters), got \"unknown\"\n\
         \x20 - /fresh_until: is before generated_at (2026-02-19T00:00:00Z < 2026-02-20T00:00:00Z); a report cannot expire before it exists\n\
         \x20 - /artifact_refs/1/name: duplicate name \"r.json\" (first at /artifact_refs/0)"
    );
}

#[test]
fn unknown_fields_are_accepted_as_warnings() {
    let text = REPORT.replace(r#""version":1,"#, r#""version":1,"extra":{"x":1},"#).replace(
        r#""command_results":[]"#,
        r#""command_results":[{"command":"governance","status":"pass","exit_code":0,"duration_ms":1,"note":"n"}]"#,
    );
    let loaded = from_str::<RunnerStatusReport>(&text, Format::Json, "report.json").unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "/extra: unknown field (not part of runner_status_report_v1); ignored",
            "/command_results/0/note: unknown field (not part of runner_status_report_v1); ignored"
        ]
    );
}

#[test]
fn missing_file_names_the_file() {
    let err = load::<RunnerStatusReport>(std::path::Path::new("/nonexistent/report.json")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/report.json: "),
        "{err}"
    );
}

#[test]
fn save_is_atomic_refuses_invalid_documents_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/report.json");
    let mut report = from_str::<RunnerStatusReport>(REPORT, Format::Json, "r")
        .unwrap()
        .document;
    save(&path, &report).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.ends_with("}\n"));
    assert_eq!(load::<RunnerStatusReport>(&path).unwrap().document, report);

    // An invalid document is refused and the previous file stays complete.
    report.runner_id.clear();
    let err = save(&path, &report).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "refusing to write {}: invalid runner status report: /runner_id: must not be empty",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
    assert_eq!(RunnerStatusReport::FORMAT, Format::Json);
}

#[test]
fn yaml_documents_save_as_yaml_and_reload() {
    let registry_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/runner_certification_registry_v1.yaml");
    let registry = load::<CertificationRegistry>(&registry_path).unwrap();
    assert!(registry.warnings.is_empty(), "{:?}", registry.warnings);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("registry.yaml");
    save(&copy, &registry.document).unwrap();
    assert_eq!(
        load::<CertificationRegistry>(&copy).unwrap().document,
        registry.document
    );
}

#[test]
fn yaml_format_errors_point_at_the_offending_value() {
    let lock = "version: 1\nproject_id: demo\nupdated_at: 2026-02-20T00:00:00Z\nbundles:\n  - bundle_id: b\n    bundle_version: 1.0.0\n    install_dir: .bundles/b\n    source:\n      repo: r\n      release_tag: v1.0.0\n      asset_url: https://example.invalid/b.tar.gz\n      sha256: NOT-A-DIGEST\n";
    let err = from_str::<dcx_contracts::bundle::ProjectBundleLock>(lock, Format::Yaml, "bundles.lock.yaml")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bundles.lock.yaml:12:15: /bundles/0/source/sha256: expected 64 lowercase hex characters (a sha256 digest), got \"NOT-A-DIGEST\""
    );
}

// ---- Resource caps (issue 8): document size, alias expansion, nesting ----

/// A classic billion-laughs document: nine levels of nine aliases each, so
/// a naive loader would build 9^9 (387 million) strings out of ~700 bytes.
fn billion_laughs(head: &str, field: &str) -> String {
    let mut text = head.to_owned();
    text.push_str("l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for level in 1..9 {
        let prev = format!("*l{}", level - 1);
        text.push_str(&format!("l{level}: &l{level} [{}]\n", vec![prev; 9].join(",")));
    }
    text.push_str(&format!("{field}: *l8\n"));
    text
}

/// Peak resident memory of this test process, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn billion_laughs_registry_is_refused_quickly_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.yaml");
    let text = billion_laughs("version: 2\ncertificate_schema_ref: x\n", "runners");
    std::fs::write(&path, &text).unwrap();
    let started = std::time::Instant::now();
    let err = load::<CertificationRegistry>(&path).unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, LoadError::AliasExpansion { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3:16: YAML aliases expand the document past {} values (its {} bytes plus 65536); refusing to expand it further (anchors and aliases may not multiply a document's size)",
            path.display(),
            text.len() + 65_536,
            text.len()
        )
    );
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
    assert!(peak_rss_kib() < 512 * 1024, "peak RSS {} KiB", peak_rss_kib());
}

/// The variant serde_yaml's own repetition limit (100 alias jumps per event)
/// lets through: one wide anchor aliased thousands of times. 20,000 aliases
/// of a 1,000-item list would be 20 million values from 62 KB of text.
fn wide_laughs(head: &str, field: &str) -> String {
    let mut text = head.to_owned();
    text.push_str(&format!("wide: &w [{}]\n", vec!["0"; 1000].join(",")));
    text.push_str(&format!("{field}: [{}]\n", vec!["*w"; 20_000].join(",")));
    text
}

#[test]
fn wide_alias_fan_out_is_refused_where_the_yaml_library_would_allow_it() {
    let text = wide_laughs("version: 1\nworkspace_root: x\n", "operations");
    let started = std::time::Instant::now();
    let err = from_str::<dcx_contracts::bundle::ImplementationOverlay>(&text, Format::Yaml, "overlay.yaml")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "overlay.yaml:3:919: YAML aliases expand the document past {} values (its {} bytes plus 65536); refusing to expand it further (anchors and aliases may not multiply a document's size)",
            text.len() + 65_536,
            text.len()
        )
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn billion_laughs_overlay_is_refused_by_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("overlay.yaml");
    let text = billion_laughs("version: 1\n", "operations");
    std::fs::write(&path, &text).unwrap();
    let err = load::<dcx_contracts::bundle::ImplementationOverlay>(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:10: YAML aliases expand the document past {} values (its {} bytes plus 65536); refusing to expand it further (anchors and aliases may not multiply a document's size)",
            path.display(),
            text.len() + 65_536,
            text.len()
        )
    );
}

#[test]
fn modest_alias_reuse_still_loads() {
    // Anchors that add fewer values than the slack are fine: the same
    // document with and without them loads to the same registry.
    let registry_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/runner_certification_registry_v1.yaml");
    let text = std::fs::read_to_string(&registry_path).unwrap();
    let with_alias = format!("{text}\nx-defaults: &d {{a: [1, 2, 3]}}\nx-uses: [*d, *d, *d, *d]\n");
    let loaded = from_str::<CertificationRegistry>(&with_alias, Format::Yaml, "r.yaml").unwrap();
    let plain = from_str::<CertificationRegistry>(&text, Format::Yaml, "r.yaml").unwrap();
    assert_eq!(loaded.document, plain.document);
}

#[test]
fn deep_nesting_is_a_recursion_error_not_a_stack_overflow() {
    let started = std::time::Instant::now();
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // YAML: refused before the library (whose scanner is quadratic in
    // depth) sees it, closed or not.
    let refused =
        "more than 1000 '[' or '{' open at once; refusing to parse it (a document nests at most 128 levels)";
    let err = from_str::<CertificationRegistry>(&nested, Format::Yaml, "deep.yaml").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("deep.yaml:1:1001: invalid YAML: {refused}")
    );
    let err = from_str::<CertificationRegistry>(&"[".repeat(depth), Format::Yaml, "open.yaml").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("open.yaml:1:1001: invalid YAML: {refused}")
    );
    let mixed = format!("runners:\n  - {}\n", "{a: [".repeat(depth));
    let err = from_str::<CertificationRegistry>(&mixed, Format::Yaml, "deep.yaml").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("deep.yaml:2:2505: invalid YAML: {refused}")
    );
    // Below that, the library's recursion limit (128 levels) in the first pass.
    let nested = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let err = from_str::<CertificationRegistry>(&format!("runners: {nested}\n"), Format::Yaml, "deep.yaml")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "deep.yaml:1:137: invalid YAML: recursion limit exceeded"
    );
    // JSON: serde_json's recursion limit (128 levels).
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let err = from_str::<RunnerStatusReport>(&nested, Format::Json, "deep.json").unwrap_err();
    assert_eq!(
        err.to_string(),
        "deep.json:1:128: invalid JSON: recursion limit exceeded"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_document_over_the_size_cap_is_refused_before_it_is_read() {
    use dcx_contracts::document::{DEFAULT_MAX_DOCUMENT_BYTES, LoadLimits, load_with};
    assert_eq!(DEFAULT_MAX_DOCUMENT_BYTES, 16 * 1024 * 1024);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, REPORT).unwrap();
    let size = REPORT.len() as u64;

    let err = load_with::<RunnerStatusReport>(&path, &LoadLimits::with_max_bytes(size - 1)).unwrap_err();
    assert!(
        matches!(err, LoadError::TooLarge { size: Some(s), limit, .. } if s == size && limit == size - 1)
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the document has {size} bytes, over the cap of {} bytes; nothing was parsed (raise --max-document-bytes if it really is that large)",
            path.display(),
            size - 1
        )
    );
    // Exactly at the cap is fine, and `load` uses the 16 MiB default.
    load_with::<RunnerStatusReport>(&path, &LoadLimits::with_max_bytes(size)).unwrap();
    load::<RunnerStatusReport>(&path).unwrap();

    // A file just over the default cap: refused by its metadata alone.
    let big = dir.path().join("big.json");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(DEFAULT_MAX_DOCUMENT_BYTES + 1).unwrap();
    assert_eq!(
        load::<RunnerStatusReport>(&big).unwrap_err().to_string(),
        format!(
            "{}: the document has 16777217 bytes, over the cap of 16777216 bytes; nothing was parsed (raise --max-document-bytes if it really is that large)",
            big.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn a_pipe_is_cut_off_at_the_cap_while_reading() {
    use dcx_contracts::document::{LoadLimits, load_with};
    use std::io::Write as _;
    // A fifo has no length in its metadata: the bounded read catches it.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("endless.json");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut file = std::fs::OpenOptions::new().write(true).open(writer_path).unwrap();
        // Far more than the cap; the reader stops early and closes the pipe.
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..1024 {
            if file.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let err = load_with::<RunnerStatusReport>(&fifo, &LoadLimits::with_max_bytes(1000)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the document has more than 1000 bytes, over the cap of 1000 bytes; nothing was parsed (raise --max-document-bytes if it really is that large)",
            fifo.display()
        )
    );
    drop(err);
    writer.join().unwrap();
}

#[test]
fn validate_by_kind_applies_the_cap_too() {
    use dcx_contracts::document::LoadLimits;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    std::fs::write(&path, REPORT).unwrap();
    let kind = dcx_contracts::documents::by_id("runner_status_report_v1").unwrap();
    let err = kind
        .check_file_with(&path, &LoadLimits::with_max_bytes(10))
        .unwrap_err();
    assert!(matches!(err, LoadError::TooLarge { .. }), "{err}");
    assert!(kind.check_file(&path).unwrap().is_empty());
}
