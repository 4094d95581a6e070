//! Rollback protection: the state file remembers each lane's newest
//! accepted report, and a report older than it (or as old with other bytes)
//! is `rollback_detected`, `missing`, and leaves the state alone. A corrupt
//! state file is reported, kept aside and rebuilt, never trusted.
//!
//! The lanes are local release files (rust required, python compatibility,
//! 72 h SLO); the older reports used here are still within the SLO, so
//! without the state they would be fresh.

use crate::support::*;
use dcx_contracts::status::{FreshnessState, IngestErrorClass, IngestState, IngestStateLane, PolicyEffect};
use dcx_contracts::{Format, from_str};

const FRESH_UNTIL: &str = "2026-12-31T00:00:00Z";

fn fixture() -> Fixture {
    let fixture = Fixture::new(&[
        Lane::required("rust", "releases/rust.json"),
        Lane::compatibility("python", "releases/python.json"),
    ]);
    publish(&fixture, "rust", "v1.4.0", "pass", "2026-11-20T00:00:00Z");
    publish(&fixture, "python", "v2.0.0", "pass", "2026-11-20T00:00:00Z");
    fixture
}

/// The report of `id` for `release`, generated at `generated_at`.
fn report_of(id: &str, release: &str, status: &str, generated_at: &str) -> String {
    let class = if id == "rust" {
        "required"
    } else {
        "compatibility_non_blocking"
    };
    report(id, class, status, generated_at, FRESH_UNTIL).replace("\"v1.0.0\"", &format!("{release:?}"))
}

/// Publishes a report as the lane's release (with its digest, so the
/// checksum is verified) and returns its bytes.
fn publish(fixture: &Fixture, id: &str, release_version: &str, status: &str, generated_at: &str) -> String {
    let text = report_of(id, release_version, status, generated_at);
    let report_path = format!("reports/{id}.json");
    fixture.write(&report_path, &text);
    fixture.write(
        &format!("releases/{id}.json"),
        release(release_version, REPORT_ASSET, &report_path, Some(text.as_bytes())),
    );
    text
}

fn state_of(ran: &Ran) -> IngestState {
    let text = ran.state.as_deref().expect("the run wrote a state");
    from_str::<IngestState>(text, Format::Json, "state")
        .unwrap()
        .document
}

fn entry<'a>(state: &'a IngestState, id: &str) -> &'a IngestStateLane {
    state
        .lane(id)
        .unwrap_or_else(|| panic!("no state entry for {id}"))
}

fn aside_files(fixture: &Fixture) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixture.path("out"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

/// The four files of a run, as one reviewable text.
fn artifacts(ran: &Ran) -> String {
    let mut out = String::new();
    for (name, text) in [
        ("runner-status-matrix.json", &ran.matrix),
        ("runner-status-ingest-log.json", &ran.log),
        ("runner-status-matrix.md", &ran.markdown),
        ("runner-status-ingest-state.json", ran.state.as_ref().unwrap()),
    ] {
        out.push_str(&format!("===== {name}\n{text}\n"));
    }
    out
}

#[test]
fn an_older_report_is_a_rollback_and_the_state_keeps_the_newest() {
    let fixture = fixture();
    let first = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
    assert_eq!(first.lane("rust").row.freshness_state, FreshnessState::Fresh);
    let accepted = state_of(&first);
    let rust = entry(&accepted, "rust").clone();
    assert_eq!(rust.generated_at, ts("2026-11-20T00:00:00Z"));
    assert_eq!(rust.release_version, "v1.4.0");
    assert_eq!(rust.accepted_at, ts("2026-11-21T12:00:00Z"));
    assert_eq!(rust.report_url, "reports/rust.json");

    // The release now serves an older report: 42 h old, within the 72 h
    // SLO, so only the state can tell.
    publish(&fixture, "rust", "v1.3.0", "pass", "2026-11-19T00:00:00Z");
    let second = fixture.run_with_state(&fixture.settings("2026-11-21T18:00:00Z"));
    let lane = second.lane("rust");
    assert_eq!(
        lane.summary(),
        (
            "missing".to_owned(),
            "blocking_fail".to_owned(),
            Some("rollback_detected".to_owned()),
            Some(
                "reports/rust.json: report generated_at 2026-11-19T00:00:00Z (release v1.3.0) is older than the \
                 last accepted 2026-11-20T00:00:00Z (release v1.4.0, accepted at 2026-11-21T12:00:00Z); a rollback \
                 or a replayed report, not used"
                    .to_owned()
            ),
        )
    );
    assert!(lane.row.status_report.is_none());
    let source = lane.row.status_source.unwrap();
    assert_eq!(source.release_version.as_deref(), Some("v1.3.0"));
    assert_eq!(source.report_url.as_deref(), Some("reports/rust.json"));
    assert_eq!(second.lane("python").row.freshness_state, FreshnessState::Fresh);
    let breaches: Vec<String> = second
        .outcome
        .breaches()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        breaches,
        ["required lane `rust` blocks merges: runner_status is unknown and its telemetry is missing"]
    );

    // The rolled-back lane's entry did not move; the file did get rewritten.
    let after = state_of(&second);
    assert_eq!(entry(&after, "rust"), &rust);
    assert_eq!(after.lanes, accepted.lanes);
    assert_eq!(after.updated_at, ts("2026-11-21T18:00:00Z"));
    insta::assert_snapshot!("rollback_older_report", artifacts(&second));

    // Replaying it again does not wear the protection down.
    let third = fixture.run_with_state(&fixture.settings("2026-11-21T19:00:00Z"));
    assert_eq!(
        third.lane("rust").entry.error_class,
        Some(IngestErrorClass::RollbackDetected)
    );
    assert_eq!(entry(&state_of(&third), "rust"), &rust);
}

#[test]
fn a_newer_report_is_accepted_and_moves_the_state_forward() {
    let fixture = fixture();
    let first = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
    let before = state_of(&first);

    let newer = publish(&fixture, "rust", "v1.5.0", "fail", "2026-11-21T15:00:00Z");
    let second = fixture.run_with_state(&fixture.settings("2026-11-21T18:00:00Z"));
    let lane = second.lane("rust");
    assert_eq!(lane.row.freshness_state, FreshnessState::Fresh);
    assert_eq!(lane.row.policy_effect, PolicyEffect::BlockingFail);
    assert_eq!(lane.entry.error_class, None);

    let after = state_of(&second);
    assert_eq!(
        entry(&after, "rust"),
        &IngestStateLane {
            runner_id: "rust".to_owned(),
            release_version: "v1.5.0".to_owned(),
            generated_at: ts("2026-11-21T15:00:00Z"),
            report_sha256: dcx_contracts::digest::sha256_bytes(newer.as_bytes()),
            report_url: "reports/rust.json".to_owned(),
            accepted_at: ts("2026-11-21T18:00:00Z"),
        }
    );
    // python's report is the same one: its entry, first acceptance included, stays.
    assert_eq!(entry(&after, "python"), entry(&before, "python"));
}

#[test]
fn the_same_report_ingested_again_is_fine() {
    let fixture = fixture();
    let first = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
    let second = fixture.run_with_state(&fixture.settings("2026-11-21T18:00:00Z"));
    for id in ["rust", "python"] {
        let lane = second.lane(id);
        assert_eq!(lane.row.freshness_state, FreshnessState::Fresh, "{id}");
        assert_eq!(lane.entry.error, None, "{id}");
    }
    assert_eq!(state_of(&second).lanes, state_of(&first).lanes);
    assert!(
        second.outcome.warnings.is_empty(),
        "{:?}",
        second.outcome.warnings
    );
}

#[test]
fn the_same_instant_with_other_content_is_a_rollback() {
    let fixture = fixture();
    let first = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
    let accepted = entry(&state_of(&first), "rust").clone();

    // Same generated_at, a verdict flipped from pass to fail.
    let altered = publish(&fixture, "rust", "v1.4.0", "fail", "2026-11-20T00:00:00Z");
    let second = fixture.run_with_state(&fixture.settings("2026-11-21T18:00:00Z"));
    let lane = second.lane("rust");
    assert_eq!(lane.row.freshness_state, FreshnessState::Missing);
    assert_eq!(lane.entry.error_class, Some(IngestErrorClass::RollbackDetected));
    assert_eq!(
        lane.entry.error.as_deref(),
        Some(
            format!(
                "reports/rust.json: report generated_at 2026-11-20T00:00:00Z (release v1.4.0) is as old as the last \
                 accepted 2026-11-20T00:00:00Z (release v1.4.0, accepted at 2026-11-21T12:00:00Z) but its content \
                 differs (sha256 {}, accepted {}); a report cannot change without a newer generated_at: a \
                 replayed or altered report, not used",
                dcx_contracts::digest::sha256_bytes(altered.as_bytes()),
                accepted.report_sha256
            )
            .as_str()
        )
    );
    assert_eq!(entry(&state_of(&second), "rust"), &accepted);
}

#[test]
fn entries_of_failing_and_removed_lanes_are_kept() {
    let fixture = fixture();
    // A state from earlier runs, with a lane that has since left the registry.
    let retired = IngestStateLane {
        runner_id: "retired".to_owned(),
        release_version: "v0.9.0".to_owned(),
        generated_at: ts("2026-10-01T00:00:00Z"),
        report_sha256: dcx_contracts::digest::sha256_bytes(b"retired"),
        report_url: "https://example.invalid/retired.json".to_owned(),
        accepted_at: ts("2026-10-01T01:00:00Z"),
    };
    let mut earlier = IngestState::empty(ts("2026-10-01T01:00:00Z"));
    earlier.lanes.push(retired.clone());
    dcx_contracts::save(&fixture.state_path(), &earlier).unwrap();
    let first = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
    let rust = entry(&state_of(&first), "rust").clone();

    // rust's release disappears: missing for another reason, entry kept.
    std::fs::remove_file(fixture.path("releases/rust.json")).unwrap();
    let second = fixture.run_with_state(&fixture.settings("2026-11-21T18:00:00Z"));
    assert_eq!(
        second.lane("rust").entry.error_class,
        Some(IngestErrorClass::MissingReleaseMetadata)
    );
    let after = state_of(&second);
    assert_eq!(entry(&after, "rust"), &rust);
    assert_eq!(entry(&after, "retired"), &retired);
    // Sorted by runner_id, whatever the registry order.
    let ids: Vec<&str> = after.lanes.iter().map(|l| l.runner_id.as_str()).collect();
    assert_eq!(ids, ["python", "retired", "rust"]);
}

#[test]
fn a_config_error_leaves_the_state_alone_and_no_state_means_no_check() {
    let fixture = fixture();
    fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
    let before = std::fs::read(fixture.state_path()).unwrap();

    fixture.write("registry.yaml", "version: 2\nrunners: [\n");
    let inputs = dcx_status_ingest::IngestInputs {
        state: Some(fixture.state_path()),
        ..fixture.inputs()
    };
    let settings = fixture.settings("2026-11-21T18:00:00Z");
    let broken = dcx_status_ingest::ingest_blocking(
        &inputs,
        &settings,
        std::sync::Arc::new(dcx_status_ingest::Silent),
    );
    assert!(broken.config_error.is_some());
    assert!(broken.state.is_none());
    assert_eq!(std::fs::read(fixture.state_path()).unwrap(), before);

    // Without a state file, the older report is judged on freshness alone.
    let fixture = self::fixture();
    fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
    publish(&fixture, "rust", "v1.3.0", "pass", "2026-11-19T00:00:00Z");
    let ran = fixture.run(&fixture.settings("2026-11-21T18:00:00Z"));
    assert!(ran.outcome.state.is_none());
    assert_eq!(ran.lane("rust").row.freshness_state, FreshnessState::Fresh);
}

#[test]
fn a_corrupt_state_is_reported_kept_aside_and_rebuilt() {
    // Each would make rust a rollback if any part of it were trusted: its
    // rust entry is newer than the published report.
    let newer_rust = r#"{"runner_id": "rust", "release_version": "v9.0.0", "generated_at": "2026-11-21T00:00:00Z",
        "report_sha256": "SHA", "report_url": "reports/rust.json", "accepted_at": "2026-11-21T01:00:00Z"}"#;
    let good_sha = "0".repeat(64);
    let valid_entry = newer_rust.replace("SHA", &good_sha);
    let cases: [(&str, String, &str); 5] = [
        (
            "garbage",
            "\u{0}\u{1}not json at all".to_owned(),
            "invalid JSON: expected value",
        ),
        (
            "truncated JSON",
            format!(r#"{{"version": 1, "updated_at": "2026-11-21T01:00:00Z", "lanes": [{valid_entry}"#),
            "invalid JSON: EOF while parsing a list",
        ),
        (
            "a malformed digest",
            format!(
                r#"{{"version": 1, "updated_at": "2026-11-21T01:00:00Z", "lanes": [{}]}}"#,
                newer_rust.replace("SHA", "deadbeef")
            ),
            "/lanes/0/report_sha256: expected 64 lowercase hex characters (a sha256 digest), got \"deadbeef\"",
        ),
        (
            "a duplicate lane",
            format!(
                r#"{{"version": 1, "updated_at": "2026-11-21T01:00:00Z", "lanes": [{valid_entry}, {valid_entry}]}}"#
            ),
            "invalid runner status ingest state: /lanes/1/runner_id: duplicate runner_id \"rust\" (first at /lanes/0)",
        ),
        (
            "another version",
            format!(r#"{{"version": 2, "updated_at": "2026-11-21T01:00:00Z", "lanes": [{valid_entry}]}}"#),
            "unsupported runner status ingest state version 2; this build reads 1",
        ),
    ];
    for (case, contents, why) in cases {
        let fixture = fixture();
        fixture.write("out/runner-status-ingest-state.json", &contents);
        let ran = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));

        let path = fixture.state_path();
        let aside = fixture.path("out/runner-status-ingest-state.json.corrupt-20261121T120000Z");
        let [warning] = ran.outcome.warnings.as_slice() else {
            panic!("{case}: one warning expected: {:?}", ran.outcome.warnings);
        };
        let prefix = format!(
            "ingest state {} is corrupt and was not used: {}",
            path.display(),
            path.display()
        );
        let suffix = format!(
            "; it is kept as {} and the state is rebuilt from this run's accepted reports \
             (rollback protection restarts from them)",
            aside.display()
        );
        assert!(
            warning.starts_with(&prefix) && warning.ends_with(&suffix) && warning.contains(why),
            "{case}: {warning}"
        );
        // Nothing lost, nothing trusted: every lane ingested as if there was no state.
        assert_eq!(
            aside_files(&fixture),
            [(
                "runner-status-ingest-state.json.corrupt-20261121T120000Z".to_owned(),
                contents.into_bytes()
            )],
            "{case}"
        );
        for id in ["rust", "python"] {
            assert_eq!(
                ran.lane(id).row.freshness_state,
                FreshnessState::Fresh,
                "{case}: {id}"
            );
        }
        let rebuilt = state_of(&ran);
        assert_eq!(
            entry(&rebuilt, "rust").generated_at,
            ts("2026-11-20T00:00:00Z"),
            "{case}"
        );
        assert_eq!(rebuilt.lanes.len(), 2, "{case}");

        // The next run trusts the rebuilt file, and a second corruption is
        // kept beside the first.
        let next = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
        assert!(
            next.outcome.warnings.is_empty(),
            "{case}: {:?}",
            next.outcome.warnings
        );
        fixture.write("out/runner-status-ingest-state.json", "{");
        let again = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
        assert_eq!(again.outcome.warnings.len(), 1, "{case}");
        let names: Vec<String> = aside_files(&fixture).into_iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "runner-status-ingest-state.json.corrupt-20261121T120000Z",
                "runner-status-ingest-state.json.corrupt-20261121T120000Z-2",
            ],
            "{case}"
        );
    }
}

#[test]
fn a_future_dated_report_never_enters_the_state_so_it_cannot_freeze_the_lane() {
    // Fast-forward: were a report dated next year recorded, every honest
    // report after it would look like a rollback until then.
    let fixture = fixture();
    let first = fixture.run_with_state(&fixture.settings("2026-11-21T12:00:00Z"));
    let before = state_of(&first);

    publish(&fixture, "rust", "v9.9.9", "pass", "2026-12-01T00:00:00Z");
    let second = fixture.run_with_state(&fixture.settings("2026-11-21T18:00:00Z"));
    let lane = second.lane("rust");
    assert_eq!(lane.row.freshness_state, FreshnessState::Missing);
    assert_eq!(lane.entry.error_class, Some(IngestErrorClass::FutureGeneratedAt));
    let error = lane.entry.error.clone().unwrap_or_default();
    assert!(error.contains("future"), "{error}");
    assert_eq!(entry(&state_of(&second), "rust"), entry(&before, "rust"));

    let honest = publish(&fixture, "rust", "v1.5.0", "pass", "2026-11-21T20:00:00Z");
    let third = fixture.run_with_state(&fixture.settings("2026-11-21T21:00:00Z"));
    let lane = third.lane("rust");
    assert_eq!(lane.row.freshness_state, FreshnessState::Fresh);
    assert_eq!(lane.entry.error_class, None);
    assert_eq!(
        entry(&state_of(&third), "rust").report_sha256,
        dcx_contracts::digest::sha256_bytes(honest.as_bytes())
    );
}
