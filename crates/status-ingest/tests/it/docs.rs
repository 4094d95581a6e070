//! docs/STATUS_EXCHANGE.md prints the failure-signature table of
//! `triage`; this keeps the two from drifting apart.

use std::collections::BTreeSet;
use std::path::Path;

use dcx_contracts::status::OverallStatus;
use dcx_status_ingest::triage::{self, ERROR_CLASSES, Signature};

fn guide() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/STATUS_EXCHANGE.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn row(first: &str, signature: Signature) -> String {
    format!(
        "| {first} | {} | {} | {} |",
        signature.signature, signature.likely_cause, signature.action
    )
}

#[test]
fn the_operator_guide_lists_every_failure_signature() {
    let guide = guide();
    let mut missing = Vec::new();
    for class in ERROR_CLASSES {
        let expected = row(
            &format!("`{}`", triage::class_name(*class)),
            triage::for_error(*class),
        );
        if !guide.lines().any(|line| line == expected) {
            missing.push(expected);
        }
    }
    for status in [
        OverallStatus::Fail,
        OverallStatus::Degraded,
        OverallStatus::Unknown,
    ] {
        let signature = triage::for_status(status).expect("a negative status has a signature");
        let expected = row("(none: a fresh report)", signature);
        if !guide.lines().any(|line| line == expected) {
            missing.push(expected);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/STATUS_EXCHANGE.md lacks these rows (copy them from triage.rs):\n{}",
        missing.join("\n")
    );
}

#[test]
fn error_classes_lists_every_class_of_the_contract() {
    // The generated schema of the ingest log enumerates the classes.
    let schema = dcx_contracts::documents::by_id("runner_status_ingest_log_v1")
        .unwrap()
        .json_schema();
    let in_schema: BTreeSet<String> = schema["$defs"]["IngestErrorClass"]["oneOf"]
        .as_array()
        .expect("IngestErrorClass is a oneOf of constants in the schema")
        .iter()
        .map(|v| v["const"].as_str().unwrap().to_owned())
        .collect();
    let listed: BTreeSet<String> = ERROR_CLASSES
        .iter()
        .map(|c| triage::class_name(*c).to_owned())
        .collect();
    assert_eq!(listed, in_schema);
    assert_eq!(listed.len(), ERROR_CLASSES.len(), "a class is listed twice");
}
