//! `dcx validate`: exit 0 valid, 1 invalid, 2 usage; messages name the file.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::output::{closed_pipe, dev_full};
use crate::support::{dcx, stderr};

const REPORT: &str = r#"{"version":1,"runner_id":"rust","implementation_repo":"dc-runner-rust","release_version":"v1","commit_sha":"0000000000000000000000000000000000000000","generated_at":"2026-02-20T00:00:00Z","lane_class":"required","overall_status":"pass","fresh_until":"2026-02-23T00:00:00Z","command_results":[],"artifact_refs":[]}"#;

#[test]
fn valid_file_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.json"), REPORT).unwrap();
    let out = dcx(
        dir.path(),
        &["validate", "--kind", "runner_status_report_v1", "r.json"],
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
        dir.path(),
        &[
            "validate",
            "--kind",
            "runner_status_report_v1",
            "good.json",
            "bad.json",
        ],
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
        dir.path(),
        &["validate", "--kind", "runner_status_report_v1", "r.json"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "warning: r.json: /x: unknown field (not part of runner_status_report_v1); ignored\n"
    );
    let out = dcx(
        dir.path(),
        &[
            "validate",
            "--strict",
            "--kind",
            "runner_status_report_v1",
            "r.json",
        ],
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
    let out = dcx(dir.path(), &["validate", "--kind", "nope", "r.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'nope' for '--kind <KIND>'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn list_names_every_document_type() {
    let out = dcx(Path::new("."), &["validate", "--list"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for kind in dcx_contracts::documents::ALL {
        assert!(stdout.contains(kind.id), "{} missing", kind.id);
    }
}

// ---- Resource caps (issue 8) ----

/// Nine levels of nine aliases: 387 million strings from ~450 bytes.
fn billion_laughs() -> String {
    let mut text = String::from("version: 2\ncertificate_schema_ref: x\n");
    text.push_str("l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for level in 1..9 {
        let prev = format!("*l{}", level - 1);
        text.push_str(&format!("l{level}: &l{level} [{}]\n", vec![prev; 9].join(",")));
    }
    text.push_str("runners: *l8\n");
    text
}

#[test]
fn billion_laughs_is_refused_quickly_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let text = billion_laughs();
    std::fs::write(dir.path().join("registry.yaml"), &text).unwrap();
    let started = std::time::Instant::now();
    let out = dcx(
        dir.path(),
        &[
            "validate",
            "--kind",
            "runner_certification_registry_v1",
            "registry.yaml",
        ],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: registry.yaml:3:16: YAML aliases expand the document past {} values (its {} bytes plus 65536); refusing to expand it further (anchors and aliases may not multiply a document's size)\n\
             1 of 1 file(s) invalid\n",
            text.len() + 65_536,
            text.len()
        )
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    std::fs::write(dir.path().join("deep.yaml"), &nested).unwrap();
    std::fs::write(dir.path().join("deep.json"), &nested).unwrap();
    let out = dcx(
        dir.path(),
        &[
            "validate",
            "--kind",
            "runner_certification_registry_v1",
            "deep.yaml",
            "deep.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: deep.yaml:1:1001: invalid YAML: more than 1000 '[' or '{' open at once; refusing to parse it (a document nests at most 128 levels)\n\
         error: deep.json:1:128: invalid JSON: recursion limit exceeded\n\
         2 of 2 file(s) invalid\n"
    );
}

#[test]
fn a_file_over_max_document_bytes_is_refused_and_the_flag_raises_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.json"), REPORT).unwrap();
    let size = REPORT.len();
    let args = |cap: String| {
        vec![
            "validate".to_owned(),
            "--kind".to_owned(),
            "runner_status_report_v1".to_owned(),
            "--max-document-bytes".to_owned(),
            cap,
            "r.json".to_owned(),
        ]
    };
    let run = |cap: String| {
        let args = args(cap);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        dcx(dir.path(), &args)
    };
    let out = run((size - 1).to_string());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: r.json: the document has {size} bytes, over the cap of {} bytes; nothing was parsed (raise --max-document-bytes if it really is that large)\n\
             1 of 1 file(s) invalid\n",
            size - 1
        )
    );
    let out = run(size.to_string());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Human sizes, and the flag may come before the subcommand (it is global).
    let out = dcx(
        dir.path(),
        &[
            "--max-document-bytes",
            "1KiB",
            "validate",
            "--kind",
            "runner_status_report_v1",
            "r.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run("16MB".to_owned());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "invalid value '16MB' for '--max-document-bytes <SIZE>': expected a size such as 1048576, 512KiB, 16MiB or 1GiB, got \"16MB\""
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_shows_every_cap_default() {
    let help = |args: &[&str]| String::from_utf8_lossy(&dcx(Path::new("."), args).stdout).into_owned();
    assert!(help(&["validate", "--help"]).contains("[default: 16MiB]"));
    let ingest = help(&["status", "ingest", "--help"]);
    for expected in [
        "--max-metadata-bytes <SIZE>",
        "[default: 4MiB]",
        "--max-report-bytes <SIZE>",
        "[default: 1MiB]",
        "--max-document-bytes <SIZE>",
    ] {
        assert!(ingest.contains(expected), "{expected} missing:\n{ingest}");
    }
    let check = help(&["bundle", "package-check", "--help"]);
    for expected in [
        "--max-package-bytes <SIZE>",
        "[default: 1GiB]",
        "--max-unpacked-bytes <SIZE>",
        "[default: 4GiB]",
        "--max-member-bytes <SIZE>",
        "--max-entries <COUNT>",
        "[default: 200000]",
    ] {
        assert!(check.contains(expected), "{expected} missing:\n{check}");
    }
    assert!(help(&["runs", "record", "--help"]).contains("[default: 64MiB]"));
}

/// `dcx <args>` in `dir` with `stdout`.
fn with_stdout(args: &[&str], dir: &Path, stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dcx"))
        .args(args)
        .current_dir(dir)
        .stdout(stdout)
        .output()
        .unwrap()
}

/// `dcx <args>` with stdout a pipe whose reader is already gone.
fn with_closed_pipe(args: &[&str], dir: &Path) -> Output {
    with_stdout(args, dir, closed_pipe())
}

/// `dcx <args>` with stdout on a full disk.
fn with_full_stdout(args: &[&str], dir: &Path) -> Output {
    with_stdout(args, dir, dev_full())
}

#[test]
fn a_closed_pipe_ends_quietly_with_141_and_a_full_stdout_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.json"), REPORT).unwrap();
    let commands: [&[&str]; 3] = [
        &["validate", "--list"],
        &["validate", "--kind", "runner_status_report_v1", "r.json"],
        &["--help"],
    ];
    for args in commands {
        let out = with_closed_pipe(args, dir.path());
        assert_eq!(out.status.code(), Some(141), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");

        let out = with_full_stdout(args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "error: cannot write to standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
    // A negative verdict keeps its own code when the reader goes away.
    std::fs::write(dir.path().join("bad.json"), "{}").unwrap();
    let out = with_closed_pipe(
        &["validate", "--kind", "runner_status_report_v1", "bad.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}
