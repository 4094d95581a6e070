//! `dcx validate`: exit 0 valid, 1 invalid, 2 usage; messages name the file.

use std::path::Path;
use std::process::{Command, Output};

const REPORT: &str = r#"{"version":1,"runner_id":"rust","implementation_repo":"dc-runner-rust","release_version":"v1","commit_sha":"0000000000000000000000000000000000000000","generated_at":"2026-02-20T00:00:00Z","lane_class":"required","overall_status":"pass","fresh_until":"2026-02-23T00:00:00Z","command_results":[],"artifact_refs":[]}"#;

fn dcx(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dcx"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn valid_file_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.json"), REPORT).unwrap();
    let out = dcx(
        &["validate", "--kind", "runner_status_report_v1", "r.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok: r.json is a valid runner status report\n"
    );
}

#[test]
fn invalid_file_exits_1_with_the_located_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.json"), REPORT).unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        REPORT.replace(r#""version":1"#, r#""version":2"#),
    )
    .unwrap();
    let out = dcx(
        &[
            "validate",
            "--kind",
            "runner_status_report_v1",
            "good.json",
            "bad.json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: bad.json: unsupported runner status report version 2; this build reads 1\n\
         1 of 2 file(s) invalid\n"
    );
}

#[test]
fn unknown_fields_warn_and_fail_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.json"),
        REPORT.replace(r#""version":1,"#, r#""version":1,"x":1,"#),
    )
    .unwrap();
    let out = dcx(
        &["validate", "--kind", "runner_status_report_v1", "r.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "warning: r.json: /x: unknown field (not part of runner_status_report_v1); ignored\n"
    );
    let out = dcx(
        &[
            "validate",
            "--strict",
            "--kind",
            "runner_status_report_v1",
            "r.json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: r.json: /x: unknown field"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_kind_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dcx(&["validate", "--kind", "nope", "r.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'nope' for '--kind <KIND>'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn list_names_every_document_type() {
    let out = dcx(&["validate", "--list"], Path::new("."));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for kind in dcx_contracts::documents::ALL {
        assert!(stdout.contains(kind.id), "{} missing", kind.id);
    }
}
