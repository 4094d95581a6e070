//! `verify`: the DESIGN.md vectors through the public API, tampering,
//! drift against the registry, and the peers' certificates.

use crate::support;
use crate::support::specs;
use dcx_certification::verify::{
    Finding, FindingKind, RegistryInput, Verification, verify_bytes, verify_file,
};
use dcx_contracts::certification::{CertificationRegistry, payload_sha256_of_value};
use serde_json::Value;

fn example(name: &str) -> std::path::PathBuf {
    specs()
        .join("examples/runner_execution_certificate_v1")
        .join(name)
}

fn upstream_registry() -> CertificationRegistry {
    dcx_contracts::load::<CertificationRegistry>(
        &specs().join("examples/runner_certification_registry_v1/upstream-head.yaml"),
    )
    .unwrap()
    .document
}

fn verify_value(certificate: &Value, registry: Option<RegistryInput<'_>>) -> Verification {
    let bytes = serde_json::to_vec_pretty(certificate).unwrap();
    verify_bytes(&bytes, "cert.json", registry).unwrap()
}

fn finding(kind: FindingKind, pointer: &str, message: &str) -> Finding {
    Finding {
        kind,
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}

fn reseal(certificate: &mut Value) {
    certificate["proof"]["payload_sha256"] = payload_sha256_of_value(certificate).to_hex().into();
}

#[test]
fn the_f6_peer_certificate_verifies_to_its_vector_and_drifts_only_in_shape() {
    let verification = verify_file(&example("invalid/upstream-f6-python.json"), None).unwrap();
    assert_eq!(
        verification.payload_sha256.unwrap().to_hex(),
        "291e078ebf61330f5c4683a91b2ce60a32bc9e533f7bebfc99bb3195fda4d24b"
    );
    assert_eq!(
        verification.intent_hash.unwrap().to_hex(),
        "ba00349b71b5d63fbd06d10ff84ea5fff7dacf747a277b8421fcaf7c8d5b61fb"
    );
    let enum_error = r#""skipped" is not one of `pass`, `fail`, `skip`"#;
    assert_eq!(
        verification.findings,
        [
            finding(FindingKind::SchemaDrift, "/checks/1/status", enum_error),
            finding(FindingKind::SchemaDrift, "/checks/2/status", enum_error),
            finding(FindingKind::SchemaDrift, "/checks/3/status", enum_error),
            finding(
                FindingKind::SchemaDrift,
                "/execution_intent/registry_ref/version",
                "must be 2 (found 1)"
            ),
        ]
    );
    assert!(verification.passes(false), "drift is a warning");
    assert!(!verification.passes(true), "--strict makes drift fatal");

    // Against dcx's registry: the python lane requires nothing, so no drift.
    let with_registry = verify_file(
        &example("invalid/upstream-f6-python.json"),
        Some(&support::repo_registry()),
    )
    .unwrap();
    assert_eq!(with_registry.findings, verification.findings);
}

#[test]
fn the_peer_rust_intent_vector_recomputes_from_the_registry() {
    // A rust certificate as the peers write it: registry_ref.version 1.
    let text = std::fs::read_to_string(example("rust.json")).unwrap();
    let mut certificate: Value = serde_json::from_str(&text).unwrap();
    certificate["execution_intent"]["registry_ref"]["version"] = 1.into();
    certificate["equivalence"]["intent_hash"] =
        "624ce01dab7e1772bc39833813b06e1044fe828c4692a36b01bf09c110b9f1cb".into();
    reseal(&mut certificate);

    let registry = upstream_registry();
    let verification = verify_value(
        &certificate,
        Some(RegistryInput {
            registry: &registry,
            origin: "upstream-head.yaml",
        }),
    );
    assert_eq!(
        verification.intent_hash.unwrap().to_hex(),
        "624ce01dab7e1772bc39833813b06e1044fe828c4692a36b01bf09c110b9f1cb"
    );
    assert_eq!(
        verification.findings,
        [finding(
            FindingKind::SchemaDrift,
            "/execution_intent/registry_ref/version",
            "must be 2 (found 1)"
        )]
    );
}

#[test]
fn a_dcx_certificate_verifies_strictly() {
    let verification = verify_file(&example("rust.json"), Some(&support::repo_registry())).unwrap();
    assert_eq!(verification.findings, []);
    assert!(verification.passes(true));
}

/// Every leaf value changed in turn (a string's last character, a number
/// plus one, a boolean negated), and every key renamed.
fn tampered_copies(value: &Value) -> Vec<(String, Value)> {
    fn walk(root: &Value, at: &str, node: &Value, out: &mut Vec<(String, Value)>) {
        match node {
            Value::Object(map) => {
                for (key, child) in map {
                    let pointer = format!("{at}/{key}");
                    let mut renamed = root.clone();
                    let parent = renamed.pointer_mut(at).unwrap().as_object_mut().unwrap();
                    let moved = parent.remove(key).unwrap();
                    parent.insert(format!("{key}x"), moved);
                    out.push((format!("{pointer} (key renamed)"), renamed));
                    walk(root, &pointer, child, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(root, &format!("{at}/{i}"), child, out);
                }
            }
            leaf => {
                let changed = match leaf {
                    Value::String(s) => {
                        let mut s = s.clone();
                        let last = s.pop().unwrap_or('a');
                        s.push(if last == 'a' { 'b' } else { 'a' });
                        Value::String(s)
                    }
                    Value::Number(n) => (n.as_i64().unwrap() + 1).into(),
                    Value::Bool(b) => Value::Bool(!b),
                    _ => Value::Bool(true),
                };
                let mut copy = root.clone();
                *copy.pointer_mut(at).unwrap() = changed;
                out.push((at.to_owned(), copy));
            }
        }
    }
    let mut out = Vec::new();
    walk(value, "", value, &mut out);
    out
}

#[test]
fn a_change_to_any_field_is_a_payload_hash_mismatch() {
    let text = std::fs::read_to_string(example("rust.json")).unwrap();
    let certificate: Value = serde_json::from_str(&text).unwrap();
    let copies = tampered_copies(&certificate);
    assert!(copies.len() > 100, "{} copies", copies.len());
    for (what, copy) in copies {
        let verification = verify_value(&copy, None);
        assert!(
            verification.has(FindingKind::PayloadHashMismatch),
            "{what}: {:?}",
            verification.findings
        );
        assert!(!verification.passes(false), "{what}");
    }
}

#[test]
fn a_flipped_byte_names_both_hashes() {
    let text = std::fs::read_to_string(example("rust.json")).unwrap();
    let mut certificate: Value = serde_json::from_str(&text).unwrap();
    certificate["checks"][1]["exit_code"] = 1.into();
    let verification = verify_value(&certificate, None);
    assert_eq!(
        verification.findings,
        [finding(
            FindingKind::PayloadHashMismatch,
            "/proof/payload_sha256",
            &format!(
                "is d606234b416404d4b3ed3bcca5ed331c62049f9616a8baae76a79f3830fb92f3 but the certificate hashes to {}",
                verification.payload_sha256.unwrap()
            )
        )]
    );
    assert_eq!(
        verification.findings[0].to_string(),
        format!(
            "payload hash mismatch: /proof/payload_sha256: is d606234b416404d4b3ed3bcca5ed331c62049f9616a8baae76a79f3830fb92f3 \
             but the certificate hashes to {}",
            verification.payload_sha256.unwrap()
        )
    );

    let mut certificate: Value = serde_json::from_str(&text).unwrap();
    certificate["execution_intent"]["required_core_checks"][0] = "runtime.other".into();
    reseal(&mut certificate);
    let verification = verify_value(&certificate, None);
    assert_eq!(
        verification.findings,
        [finding(
            FindingKind::IntentHashMismatch,
            "/equivalence/intent_hash",
            &format!(
                "is 861c5dae4de617ca937dcb05c91193d026b5d24905acd7d299b34ab4455c54c8 \
                 but the execution intent hashes to {}",
                verification.intent_hash.unwrap()
            )
        )]
    );
}

#[test]
fn an_intent_the_registry_no_longer_requires_is_drift() {
    let registry_text = std::fs::read_to_string(support::repo_registry())
        .unwrap()
        .replacen(
            "      - runtime.compatibility_matrix_registration_required\n",
            "      - runtime.compatibility_matrix_registration_required\n      - runtime.new_check\n",
            1,
        )
        .replacen(
            "      - name: style-check\n        args: []\n        expect_exit: [0]\n",
            "",
            1,
        );
    let registry: CertificationRegistry =
        dcx_contracts::from_str(&registry_text, dcx_contracts::Format::Yaml, "registry.yaml")
            .unwrap()
            .document;
    let text = std::fs::read_to_string(example("rust.json")).unwrap();
    let certificate: Value = serde_json::from_str(&text).unwrap();
    let verification = verify_value(
        &certificate,
        Some(RegistryInput {
            registry: &registry,
            origin: "registry.yaml",
        }),
    );
    let expected = dcx_contracts::intent::ExecutionIntent::of_lane(
        registry.lane("rust").unwrap(),
        dcx_certification::registry_ref(&registry),
    )
    .intent_hash();
    assert_eq!(
        verification.findings,
        [
            finding(
                FindingKind::IntentDrift,
                "/execution_intent/required_core_checks",
                "registry.yaml now requires `runtime.new_check`"
            ),
            finding(
                FindingKind::IntentDrift,
                "/execution_intent/command_contract_subset",
                r#"no longer requires `{"args":[],"expect_exit":[0],"name":"style-check"}`"#
            ),
            finding(
                FindingKind::IntentDrift,
                "/equivalence/intent_hash",
                &format!(
                    "the certificate's intent hashes to 861c5dae4de617ca937dcb05c91193d026b5d24905acd7d299b34ab4455c54c8; \
                     the intent registry.yaml now requires of lane `rust` hashes to {expected}"
                )
            ),
        ]
    );
    assert!(!verification.passes(false));
}

#[test]
fn a_lane_described_differently_or_gone_is_registry_drift() {
    let text = std::fs::read_to_string(example("python.json")).unwrap();
    let mut certificate: Value = serde_json::from_str(&text).unwrap();
    let registry = upstream_registry();
    let input = RegistryInput {
        registry: &registry,
        origin: "registry.yaml",
    };
    certificate["runner"]["implementation_repo"] = "dc-runner-py".into();
    reseal(&mut certificate);
    assert_eq!(
        verify_value(&certificate, Some(input)).findings,
        [finding(
            FindingKind::RegistryDrift,
            "/runner/implementation_repo",
            "is `dc-runner-py` but registry.yaml now says `dc-runner-python`"
        )]
    );

    certificate["runner"]["runner_id"] = "go".into();
    reseal(&mut certificate);
    assert_eq!(
        verify_value(&certificate, Some(input)).findings,
        [finding(
            FindingKind::RegistryDrift,
            "/runner/runner_id",
            "lane `go` is not in registry.yaml; it has rust, python, php, node, c"
        )]
    );
}

#[test]
fn a_resealed_certificate_that_contradicts_itself_is_inconsistent() {
    let text = std::fs::read_to_string(example("rust.json")).unwrap();
    let mut certificate: Value = serde_json::from_str(&text).unwrap();
    certificate["checks"][1]["status"] = "fail".into();
    certificate["runner"]["blocking"] = false.into();
    reseal(&mut certificate);
    let verification = verify_value(&certificate, None);
    assert_eq!(
        verification.findings,
        [
            finding(
                FindingKind::Inconsistent,
                "/summary/passed",
                "is 8 but 7 checks have that status"
            ),
            finding(
                FindingKind::Inconsistent,
                "/summary/failed",
                "is 0 but 1 check has that status"
            ),
            finding(
                FindingKind::Inconsistent,
                "/summary/status",
                "is `pass` but must be `fail`: 1 of the checks failed"
            ),
            finding(
                FindingKind::Inconsistent,
                "/runner/blocking",
                "must be true: class == required && status == active"
            ),
            finding(
                FindingKind::Inconsistent,
                "/summary/blocking",
                "must equal /runner/blocking"
            ),
        ]
    );
}

#[test]
fn unknown_fields_and_contract_rules_are_drift() {
    let text = std::fs::read_to_string(example("rust.json")).unwrap();
    let mut certificate: Value = serde_json::from_str(&text).unwrap();
    certificate["runner"]["commit_sha"] = "unknown".into();
    certificate["signature"] = "none".into();
    reseal(&mut certificate);
    let verification = verify_value(&certificate, None);
    assert_eq!(
        verification.findings,
        [
            finding(
                FindingKind::SchemaDrift,
                "/signature",
                "unknown field (not part of runner_execution_certificate_v1); ignored"
            ),
            finding(
                FindingKind::SchemaDrift,
                "/runner/commit_sha",
                "expected a git commit id (40 or 64 lowercase hex characters), got \"unknown\""
            ),
        ]
    );
    assert!(verification.passes(false));
    assert!(!verification.passes(true));
}

#[test]
fn what_is_not_a_certificate_is_malformed_and_a_missing_file_is_an_error() {
    for (bytes, message) in [
        (
            &b"{\"version\": 2,"[..],
            "not valid JSON: EOF while parsing a value at line 1 column 14",
        ),
        (&b"[1, 2]"[..], "not a JSON object"),
        (&b"\xff"[..], "not UTF-8 text"),
    ] {
        let verification = verify_bytes(bytes, "cert.json", None).unwrap();
        assert_eq!(
            verification.findings,
            [finding(FindingKind::Malformed, "", message)]
        );
        assert!(!verification.passes(false));
    }
    let err = verify_file(std::path::Path::new("/nonexistent/cert.json"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read /nonexistent/cert.json: No such file or directory (os error 2)"
    );
}
