//! The canonical-hashing vectors of DESIGN.md: dcx must match the peers bit
//! for bit.

use dcx_contracts::c14n::canonical_json;
use dcx_contracts::certification::{CertificationRegistry, payload_sha256_of_value};
use dcx_contracts::intent::{ExecutionIntent, REGISTRY_REF_PATH, RegistryRef};
use dcx_contracts::load;

fn specs() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

fn upstream_registry() -> CertificationRegistry {
    load::<CertificationRegistry>(
        &specs().join("examples/runner_certification_registry_v1/upstream-head.yaml"),
    )
    .unwrap()
    .document
}

/// The peers hard-code `registry_ref.version = 1`; the vectors use it.
fn peer_ref() -> RegistryRef {
    RegistryRef {
        path: REGISTRY_REF_PATH.to_owned(),
        version: 1,
    }
}

#[test]
fn rust_lane_intent_matches_the_peers() {
    let registry = upstream_registry();
    let intent = ExecutionIntent::of_lane(registry.lane("rust").unwrap(), peer_ref());
    assert_eq!(
        canonical_json(&serde_json::to_value(&intent).unwrap()),
        concat!(
            r#"{"command_contract_subset":[{"args":[],"expect_exit":[0],"name":"docs-generate-check"},"#,
            r#"{"args":[],"expect_exit":[0,1],"name":"governance"},{"args":[],"expect_exit":[0],"name":"style-check"}],"#,
            r#""registry_ref":{"path":"/specs/01_schema/runner_certification_registry_v1.yaml","version":1},"#,
            r#""required_core_cases":["/specs/03_conformance/cases/core/runner_certification_core.spec.md#DCCONF-RCERT-001","#,
            r#""/specs/03_conformance/cases/core/runner_certification_core.spec.md#DCCONF-RCERT-002"],"#,
            r#""required_core_checks":["runtime.compatibility_matrix_registration_required","runtime.runner_interface_subcommands"]}"#
        )
    );
    assert_eq!(
        intent.intent_hash().to_hex(),
        "624ce01dab7e1772bc39833813b06e1044fe828c4692a36b01bf09c110b9f1cb"
    );
}

#[test]
fn empty_lanes_intent_matches_the_peers() {
    let registry = upstream_registry();
    for id in ["python", "php", "node", "c"] {
        let intent = ExecutionIntent::of_lane(registry.lane(id).unwrap(), peer_ref());
        assert_eq!(
            intent.intent_hash().to_hex(),
            "ba00349b71b5d63fbd06d10ff84ea5fff7dacf747a277b8421fcaf7c8d5b61fb",
            "lane {id}"
        );
    }
}

#[test]
fn dcx_records_the_real_registry_version() {
    // Same lane, registry_ref.version = 2: a different, stable hash.
    let registry = upstream_registry();
    let ours = ExecutionIntent::of_lane(
        registry.lane("rust").unwrap(),
        RegistryRef {
            path: REGISTRY_REF_PATH.to_owned(),
            version: registry.version,
        },
    );
    assert_ne!(
        ours.intent_hash().to_hex(),
        "624ce01dab7e1772bc39833813b06e1044fe828c4692a36b01bf09c110b9f1cb"
    );
}

/// Fixture F6 of the reference notes, in the peer's insertion order.
const F6: &str = r#"{"version":2,
 "runner":{"runner_id":"python","class":"compatibility_non_blocking","status":"active","blocking":false,
   "implementation_repo":"dc-runner-python","commit_sha":"0000000000000000000000000000000000000000",
   "certified_at":"2026-02-20T00:00:00Z"},
 "execution_intent":{"required_core_checks":[],"required_core_cases":[],"command_contract_subset":[],
   "registry_ref":{"path":"/specs/01_schema/runner_certification_registry_v1.yaml","version":1}},
 "equivalence":{"normalization_version":"intent-v1","hash_algorithm":"sha256",
   "intent_hash":"ba00349b71b5d63fbd06d10ff84ea5fff7dacf747a277b8421fcaf7c8d5b61fb"},
 "summary":{"status":"pass","passed":1,"failed":0,"skipped":3,"blocking":false},
 "checks":[
  {"group":"contract","id":"registry.entry.shape","status":"pass","exit_code":0,"detail":"runner certification registry entry parsed and validated"},
  {"group":"command","id":"command.subset","status":"skipped","exit_code":0,"detail":"non-rust lane certification is metadata-only in rust command path"},
  {"group":"governance-sync","id":"governance.required_core_checks","status":"skipped","exit_code":0,"detail":"non-rust lane governance checks are non-blocking and not executed here"},
  {"group":"conformance","id":"conformance.required_core_cases","status":"skipped","exit_code":0,"detail":"non-rust lane conformance checks are non-blocking and not executed here"}],
 "proof":{"canonicalization":"json-c14n-v1","payload_sha256":"291e078ebf61330f5c4683a91b2ce60a32bc9e533f7bebfc99bb3195fda4d24b"}}"#;

#[test]
fn f6_payload_matches_the_peers() {
    let f6: serde_json::Value = serde_json::from_str(F6).unwrap();
    assert_eq!(
        payload_sha256_of_value(&f6).to_hex(),
        "291e078ebf61330f5c4683a91b2ce60a32bc9e533f7bebfc99bb3195fda4d24b"
    );
    // The proof field itself takes part in the hash as "": any other
    // placeholder gives another digest.
    let mut tampered = f6.clone();
    tampered["summary"]["passed"] = 2.into();
    assert_ne!(
        payload_sha256_of_value(&tampered).to_hex(),
        "291e078ebf61330f5c4683a91b2ce60a32bc9e533f7bebfc99bb3195fda4d24b"
    );
}

#[test]
fn f6_intent_hash_is_the_empty_lane_vector() {
    let f6: serde_json::Value = serde_json::from_str(F6).unwrap();
    let intent: ExecutionIntent = serde_json::from_value(f6["execution_intent"].clone()).unwrap();
    assert_eq!(
        intent.intent_hash().to_hex(),
        f6["equivalence"]["intent_hash"].as_str().unwrap()
    );
}

#[test]
fn intent_normalization_sorts_as_strings_and_defaults_exit_codes() {
    use dcx_contracts::certification::CommandContract;
    let cmd = |name: &str, args: &[&str], exits: &[i64]| CommandContract {
        name: name.to_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
        expect_exit: exits.to_vec(),
    };
    let intent = ExecutionIntent::normalize(
        &["b".into(), "a".into(), "b".into()],
        &[],
        &[
            cmd("x", &[], &[2]),
            cmd("x", &[], &[10]),
            cmd("lint", &["--fix", "a"], &[1, 0, 1]),
            cmd("lint", &[], &[]),
        ],
        peer_ref(),
    );
    assert_eq!(intent.required_core_checks, ["a", "b"]);
    let rows: Vec<(String, Vec<String>, Vec<i64>)> = intent
        .command_contract_subset
        .iter()
        .map(|c| (c.name.clone(), c.args.clone(), c.expect_exit.clone()))
        .collect();
    assert_eq!(
        rows,
        [
            ("lint".into(), vec![], vec![0]),
            ("lint".into(), vec!["--fix".into(), "a".into()], vec![0, 1]),
            // String order of the joined exit codes: "10" < "2", as the peers sort.
            ("x".into(), vec![], vec![10]),
            ("x".into(), vec![], vec![2]),
        ]
    );
    assert!(intent.is_normalized());
}
