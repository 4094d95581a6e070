//! The upstream ingest's scenario table (reference DC §4), replayed under
//! dcx's policy with a fixed `now`, with the three artifacts of each
//! scenario snapshotted by `insta`.
//!
//! The setup is upstream's: a registry with rust (required), python and php
//! (compatibility) active and node planned; local release files shaped like
//! F3 pointing at the three reports of F1 (made valid: the corpus's
//! `specs/examples/runner_status_report_v1/{rust,python,php}.json`),
//! generated 2026-02-20T00:00:00Z, fresh until 2026-02-23T00:00:00Z, SLO 72 h.
//!
//! | scenario | upstream | dcx |
//! |---|---|---|
//! | 02-20T12Z | all fresh, node `non_blocking_fail` | all fresh, node `non_blocking_warn` (planned is never a breach) |
//! | 02-23T00:00:00Z | fresh | fresh (exactly 72 h) |
//! | 02-23T00:59:59Z | fresh (integer hours) | stale: 1 s past the SLO and past `fresh_until`; rust blocks |
//! | 02-24T12Z (108 h) | rust stale **warn**, exit 1 on the compat count | rust stale `blocking_fail`; exit 1 |
//! | 02-10T00Z (−240 h) | all fresh | `generated_at` in the future: invalid, missing, breach |
//! | `--now …12:00:00.5Z` / `+00:00` | no artifacts, exit 2 | same as 02-20T12Z |
//! | python `generated_at …00.123Z` | python missing | python fresh |
//! | php → F2, python URL 404 | both missing `non_blocking_fail`, exit 0 | same, with error classes; exit 1 with enforce |
//! | rust asset digest `sha256:deadbeef` | rust missing `blocking_fail` | same: invalid release metadata |
//! | rust, python report `fail` | exit 0 | rust `blocking_fail` is a breach: exit 1 |
//! | `--max-age-hours 1` at 12 h | registry SLO wins | same, and the matrix records the SLO used |

use std::path::Path;

use crate::support::*;

fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn example_report(id: &str) -> String {
    let path = repo_root().join(format!("specs/examples/runner_status_report_v1/{id}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Upstream's `local_status_exchange_test.sh` registry plus a planned node lane.
fn upstream_setup() -> Fixture {
    let lanes = [
        Lane::required("rust", "releases/local_release_rust.json"),
        Lane::compatibility("python", "releases/local_release_python.json"),
        Lane::compatibility("php", "releases/local_release_php.json"),
        Lane::compatibility(
            "node",
            "https://api.github.com/repos/jonruttan/dc-runner-node/releases/latest",
        )
        .with_status("planned"),
    ];
    let fixture = Fixture::new(&lanes);
    for id in ["rust", "python", "php"] {
        let report_path = format!("reports/runner-status-report-v1.{id}.json");
        fixture.write(&report_path, example_report(id));
        fixture.write(
            &format!("releases/local_release_{id}.json"),
            release("local-test", REPORT_ASSET, &report_path, None),
        );
    }
    fixture
}

/// The three artifacts and the verdict, as one reviewable text.
fn artifacts(ran: &Ran, enforce: bool) -> String {
    let breaches = ran.outcome.breaches();
    let exit = if enforce && !breaches.is_empty() { 1 } else { 0 };
    let mut out = format!(
        "exit {exit} ({} --enforce-freshness)\nbreaches: {}\n",
        if enforce { "with" } else { "without" },
        breaches.len()
    );
    for breach in &breaches {
        out.push_str(&format!("- {breach}\n"));
    }
    for (name, text) in [
        ("runner-status-matrix.json", &ran.matrix),
        ("runner-status-ingest-log.json", &ran.log),
        ("runner-status-matrix.md", &ran.markdown),
    ] {
        out.push_str(&format!("\n===== {name}\n{text}"));
    }
    out
}

fn run_at(fixture: &Fixture, now: &str) -> Ran {
    fixture.run(&fixture.settings(now))
}

#[test]
fn s01_twelve_hours_old_all_fresh() {
    let ran = run_at(&upstream_setup(), "2026-02-20T12:00:00Z");
    insta::assert_snapshot!("s01_twelve_hours_old", artifacts(&ran, true));
}

#[test]
fn s02_exactly_at_the_slo_is_fresh() {
    let ran = run_at(&upstream_setup(), "2026-02-23T00:00:00Z");
    assert!(ran.outcome.breaches().is_empty());
    insta::assert_snapshot!("s02_exactly_72_hours", artifacts(&ran, true));
}

#[test]
fn s03_one_second_past_the_slo_is_stale() {
    // Upstream's integer hours kept this fresh until 01:00:00.
    let ran = run_at(&upstream_setup(), "2026-02-23T00:59:59Z");
    insta::assert_snapshot!("s03_72h_59min_59s", artifacts(&ran, true));
}

#[test]
fn s04_108_hours_old_required_lane_blocks() {
    let ran = run_at(&upstream_setup(), "2026-02-24T12:00:00Z");
    assert_eq!(ran.outcome.log.compatibility_stale_or_missing_count, 2);
    insta::assert_snapshot!("s04_108_hours", artifacts(&ran, true));
}

#[test]
fn s05_reports_from_the_future_are_invalid() {
    let ran = run_at(&upstream_setup(), "2026-02-10T00:00:00Z");
    insta::assert_snapshot!("s05_minus_240_hours", artifacts(&ran, true));
}

#[test]
fn s06_now_with_fractions_or_offsets_is_read_like_any_instant() {
    let fixture = upstream_setup();
    let baseline = run_at(&fixture, "2026-02-20T12:00:00Z");
    for now in [
        "2026-02-20T12:00:00.5Z",
        "2026-02-20T12:00:00+00:00",
        "2026-02-20T13:00:00+01:00",
    ] {
        let ran = run_at(&fixture, now);
        assert_eq!(ran.matrix, baseline.matrix, "{now}");
        assert_eq!(ran.log, baseline.log, "{now}");
        assert_eq!(ran.markdown, baseline.markdown, "{now}");
    }
}

#[test]
fn s07_fractional_generated_at_is_read() {
    let fixture = upstream_setup();
    fixture.write(
        "reports/runner-status-report-v1.python.json",
        example_report("python").replace("2026-02-20T00:00:00Z", "2026-02-20T00:00:00.123Z"),
    );
    let ran = run_at(&fixture, "2026-02-20T12:00:00Z");
    assert!(ran.outcome.breaches().is_empty());
    insta::assert_snapshot!("s07_fractional_generated_at", artifacts(&ran, true));
}

#[test]
fn s08_invalid_report_and_missing_release() {
    let fixture = upstream_setup();
    // F2, verbatim.
    fixture.write(
        "reports/runner-status-report-v1.php.json",
        "{\"not\":\"a valid status payload\"}\n",
    );
    std::fs::remove_file(fixture.path("releases/local_release_python.json")).unwrap();
    let ran = run_at(&fixture, "2026-02-20T12:00:00Z");
    insta::assert_snapshot!("s08_invalid_and_missing", artifacts(&ran, false));
}

#[test]
fn s09_malformed_digest_is_never_no_digest() {
    let fixture = upstream_setup();
    fixture.write(
        "releases/local_release_rust.json",
        "{\"tag_name\":\"local-test\",\"assets\":[{\"name\":\"runner-status-report-v1.json\",\
         \"browser_download_url\":\"reports/runner-status-report-v1.rust.json\",\"digest\":\"sha256:deadbeef\"}]}",
    );
    let ran = run_at(&fixture, "2026-02-20T12:00:00Z");
    insta::assert_snapshot!("s09_digest_deadbeef", artifacts(&ran, false));
}

#[test]
fn s10_failing_reports_required_blocks_compatibility_warns() {
    let fixture = upstream_setup();
    for id in ["rust", "python"] {
        fixture.write(
            &format!("reports/runner-status-report-v1.{id}.json"),
            example_report(id).replace("\"overall_status\": \"pass\"", "\"overall_status\": \"fail\""),
        );
    }
    let ran = run_at(&fixture, "2026-02-20T12:00:00Z");
    insta::assert_snapshot!("s10_reports_fail", artifacts(&ran, true));
}

#[test]
fn s11_the_lane_slo_wins_over_max_age_hours() {
    let fixture = upstream_setup();
    let mut settings = fixture.settings("2026-02-20T12:00:00Z");
    settings.max_age_hours = 1;
    let ran = fixture.run(&settings);
    assert!(ran.outcome.breaches().is_empty());
    insta::assert_snapshot!("s11_max_age_hours_1", artifacts(&ran, true));
}

#[test]
fn upstream_root_template_is_not_substituted() {
    // F3 verbatim: `file://__ROOT__/…` names no file; dcx says why.
    let fixture = upstream_setup();
    fixture.write(
        "releases/local_release_rust.json",
        std::fs::read(repo_root().join("specs/examples/github_release/upstream-f3-local-release-rust.json"))
            .unwrap(),
    );
    let ran = run_at(&fixture, "2026-02-20T12:00:00Z");
    assert_eq!(
        ran.lane("rust").summary().3.as_deref(),
        Some(
            "report asset file://__ROOT__/specs/03_conformance/cases/fixtures/status_exchange/runner-status-report-v1.rust.json: \
             a file URL must be absolute (file:///path); dcx substitutes no templates such as __ROOT__, \
             so use a path relative to the registry file"
        )
    );
}

#[test]
fn absolute_file_urls_work_for_metadata_and_asset() {
    let fixture = upstream_setup();
    let report = fixture.path("reports/runner-status-report-v1.rust.json");
    let metadata = fixture.path("releases/absolute_rust.json");
    fixture.write(
        "releases/absolute_rust.json",
        release(
            "local-test",
            REPORT_ASSET,
            &format!("file://{}", report.display()),
            Some(example_report("rust").as_bytes()),
        ),
    );
    let registry = std::fs::read_to_string(fixture.path("registry.yaml"))
        .unwrap()
        .replace(
            "\"releases/local_release_rust.json\"",
            &format!("\"file://{}\"", metadata.display()),
        );
    fixture.write("registry.yaml", registry);
    let ran = run_at(&fixture, "2026-02-20T12:00:00Z");
    assert_eq!(
        ran.lane("rust").summary(),
        ("fresh".into(), "non_blocking_warn".into(), None, None)
    );
}
