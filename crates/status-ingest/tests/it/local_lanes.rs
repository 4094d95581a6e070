//! The example lanes the main job (`cargo xtask ingest`) reads on a fresh
//! clone: `specs/examples/runner_certification_registry_v1/local-lanes.yaml`.
//! They must ingest offline into a real matrix, stay fresh on the real
//! clock until 2036-02-18 (their ten-year SLO from 2026-02-20), and then go
//! stale like any other lane.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dcx_contracts::Timestamp;
use dcx_contracts::status::FreshnessState;
use dcx_status_ingest::{IngestInputs, IngestOutcome, IngestSettings, Silent, ingest_blocking};

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

fn ingest_examples_at(now: &str) -> IngestOutcome {
    ingest_examples_with_state(now, None)
}

fn ingest_examples_with_state(now: &str, state: Option<PathBuf>) -> IngestOutcome {
    let inputs = IngestInputs {
        registry: repo("specs/examples/runner_certification_registry_v1/local-lanes.yaml"),
        catalog: repo("specs/schema_catalog_v1.yaml"),
        state,
    };
    let mut settings = IngestSettings::at(Timestamp::parse(now).unwrap());
    // Nothing here may need the network.
    settings.fetch.offline = true;
    ingest_blocking(&inputs, &settings, Arc::new(Silent))
}

fn states(outcome: &IngestOutcome) -> Vec<(String, FreshnessState, Option<String>)> {
    outcome
        .log
        .entries
        .iter()
        .map(|e| (e.runner_id.clone(), e.freshness_state, e.error.clone()))
        .collect()
}

#[test]
fn the_example_lanes_ingest_offline_into_a_real_matrix() {
    let outcome = ingest_examples_at("2026-11-22T12:00:00Z");
    assert!(outcome.config_error.is_none(), "{:?}", outcome.config_error);
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let planned = Some("lane is planned in the registry; its status exchange is not fetched".to_owned());
    assert_eq!(
        states(&outcome),
        [
            ("rust".to_owned(), FreshnessState::Fresh, None),
            ("python".to_owned(), FreshnessState::Fresh, None),
            ("php".to_owned(), FreshnessState::Fresh, None),
            ("node".to_owned(), FreshnessState::Missing, planned.clone()),
            ("c".to_owned(), FreshnessState::Missing, planned),
        ]
    );
    assert!(outcome.breaches().is_empty());
    // php's degraded report is the example of a non-blocking result.
    let markdown = outcome.markdown();
    assert!(
        markdown.contains("### `php` (compatibility): ⚠️ warn"),
        "{markdown}"
    );
    // Checksums were verified against the release metadata's digests.
    for row in &outcome.matrix.matrix_rows[..3] {
        let source = row.status_source.as_ref().unwrap();
        assert_eq!(source.release_version.as_deref(), Some("local-example"));
    }
}

#[test]
fn they_stay_fresh_until_their_slo_runs_out_in_2036() {
    let last_fresh = ingest_examples_at("2036-02-18T00:00:00Z");
    assert!(last_fresh.breaches().is_empty(), "{:?}", last_fresh.breaches());
    let stale = ingest_examples_at("2036-02-18T00:00:01Z");
    let breaches: Vec<String> = stale.breaches().iter().map(ToString::to_string).collect();
    assert_eq!(
        breaches,
        [
            "required lane `rust` blocks merges: its telemetry is stale",
            "active compatibility lane `python` has stale telemetry (a freshness breach)",
            "active compatibility lane `php` has stale telemetry (a freshness breach)",
        ]
    );
}

#[test]
fn their_first_state_is_the_committed_example() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = ingest_examples_with_state(
        "2026-11-22T12:00:00Z",
        Some(dir.path().join("runner-status-ingest-state.json")),
    );
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let update = outcome.state.expect("a state to write");
    assert_eq!(update.corrupt_aside, None);
    let example = repo("specs/examples/runner_status_ingest_state_v1/local-lanes.json");
    let expected = std::fs::read_to_string(&example).unwrap();
    let written = dcx_contracts::document::to_bytes(&update.state, dcx_contracts::Format::Json).unwrap();
    assert_eq!(
        String::from_utf8(written).unwrap(),
        expected,
        "{} is out of step with what ingest writes",
        example.display()
    );
}
