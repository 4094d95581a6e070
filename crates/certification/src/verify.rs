//! `dcx certify verify`: is a certificate what it claims to be?
//!
//! Verification reads the certificate as raw JSON, so it works on
//! certificates other implementations write as well as on dcx's own, and
//! sorts what it finds by how much it matters:
//!
//! - **integrity** (always fatal): `proof.payload_sha256` and
//!   `equivalence.intent_hash` are recomputed (`json-c14n-v1`, `intent-v1`)
//!   and compared;
//! - **consistency** (always fatal): the summary counts and verdict agree
//!   with the checks, `blocking` agrees with class and status, the intent is
//!   in `intent-v1` normal form;
//! - **registry drift** (always fatal, only with a registry): the lane still
//!   exists with the same class, status and repository, and its intent
//!   recomputed from the registry hashes to the certificate's;
//! - **schema drift** (a warning; fatal when strict): departures from the
//!   certificate contract — the generated JSON Schema, unknown fields, rules
//!   such as `registry_ref.version` 2. The peers' certificates (`skipped`,
//!   `registry_ref.version` 1) land here: their hashes verify, their shape
//!   drifts.

use std::fmt;
use std::path::Path;

use dcx_contracts::c14n::{canonical_json, canonical_sha256};
use dcx_contracts::certification::{
    CERTIFICATE_REGISTRY_REF_VERSION, CertificationRegistry, ExecutionCertificate, payload_sha256_of_value,
};
use dcx_contracts::digest::Sha256Hex;
use dcx_contracts::document::{Document, Format, LoadError, LoadLimits, parse, read_bounded};
use dcx_contracts::intent::{ExecutionIntent, RegistryRef};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::registry::registry_ref;

/// What verification found about one certificate.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The certificate's `proof.payload_sha256` as recomputed, when the file
    /// is a JSON object.
    pub payload_sha256: Option<Sha256Hex>,
    /// The hash of the certificate's `execution_intent` as recomputed, when
    /// it has one.
    pub intent_hash: Option<Sha256Hex>,
    /// Every finding, integrity and consistency first, schema drift last.
    pub findings: Vec<Finding>,
}

impl Verification {
    /// Whether the certificate verifies: no fatal finding (with `strict`,
    /// schema drift is fatal too).
    pub fn passes(&self, strict: bool) -> bool {
        !self.findings.iter().any(|f| f.kind.is_fatal(strict))
    }

    /// Whether a finding of `kind` was made.
    pub fn has(&self, kind: FindingKind) -> bool {
        self.findings.iter().any(|f| f.kind == kind)
    }
}

/// One thing wrong with a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What sort of problem it is (and so whether it is fatal).
    pub kind: FindingKind,
    /// JSON Pointer of the field (`""` is the whole certificate).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(document)"
        } else {
            &self.pointer
        };
        write!(f, "{}: {pointer}: {}", self.kind, self.message)
    }
}

/// The sorts of findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// The file is not a JSON object.
    Malformed,
    /// `proof.payload_sha256` is missing or differs from the recomputed hash.
    PayloadHashMismatch,
    /// `equivalence.intent_hash` is missing or differs from the hash of
    /// `execution_intent`.
    IntentHashMismatch,
    /// The certificate contradicts itself (summary against checks, blocking
    /// against class and status, an intent not in normal form).
    Inconsistent,
    /// The registry now requires a different intent of the lane.
    IntentDrift,
    /// The registry now describes the lane differently, or not at all.
    RegistryDrift,
    /// The certificate departs from the certificate contract.
    SchemaDrift,
}

impl FindingKind {
    /// Whether a finding of this kind fails verification.
    pub fn is_fatal(self, strict: bool) -> bool {
        self != FindingKind::SchemaDrift || strict
    }

    fn as_str(self) -> &'static str {
        match self {
            FindingKind::Malformed => "malformed certificate",
            FindingKind::PayloadHashMismatch => "payload hash mismatch",
            FindingKind::IntentHashMismatch => "intent hash mismatch",
            FindingKind::Inconsistent => "inconsistent certificate",
            FindingKind::IntentDrift => "intent drift",
            FindingKind::RegistryDrift => "registry drift",
            FindingKind::SchemaDrift => "schema drift",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why verification could not start. Binaries map these to exit code 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The certificate file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The registry given to compare against is missing or invalid.
    #[error(transparent)]
    Registry(#[from] LoadError),
    /// The certificate file is over the document size cap
    /// ([`LoadError::TooLarge`]); nothing was read.
    #[error(transparent)]
    CertificateTooLarge(LoadError),
    /// The generated certificate schema does not compile (a dcx bug).
    #[error("the generated certificate schema does not compile: {message}")]
    Schema {
        /// The compiler's explanation.
        message: String,
    },
}

/// The registry to compare a certificate's intent against.
#[derive(Debug, Clone, Copy)]
pub struct RegistryInput<'a> {
    /// The loaded registry.
    pub registry: &'a CertificationRegistry,
    /// How to name it in findings (usually its path).
    pub origin: &'a str,
}

/// Verifies the certificate at `path`; with `registry`, also against the
/// registry at that path (loaded and validated first). Both files are
/// capped at [`dcx_contracts::document::DEFAULT_MAX_DOCUMENT_BYTES`].
pub fn verify_file(path: &Path, registry: Option<&Path>) -> Result<Verification, VerifyError> {
    verify_file_with(path, registry, &LoadLimits::default())
}

/// [`verify_file`] with an explicit document size cap for the certificate
/// and the registry.
pub fn verify_file_with(
    path: &Path,
    registry: Option<&Path>,
    limits: &LoadLimits,
) -> Result<Verification, VerifyError> {
    let loaded = match registry {
        Some(registry_path) => Some((
            dcx_contracts::load_with::<CertificationRegistry>(registry_path, limits)?.document,
            registry_path.display().to_string(),
        )),
        None => None,
    };
    let bytes = read_bounded(path, limits.max_bytes).map_err(|error| match error {
        LoadError::Read { source, .. } => VerifyError::Read {
            path: path.to_path_buf(),
            source,
        },
        other => VerifyError::CertificateTooLarge(other),
    })?;
    let registry = loaded
        .as_ref()
        .map(|(registry, origin)| RegistryInput { registry, origin });
    verify_bytes(&bytes, &path.display().to_string(), registry)
}

/// Verifies certificate bytes; `origin` names them in parse errors.
pub fn verify_bytes(
    bytes: &[u8],
    origin: &str,
    registry: Option<RegistryInput<'_>>,
) -> Result<Verification, VerifyError> {
    let mut findings = Findings::default();
    let unverifiable = |findings: Findings| Verification {
        payload_sha256: None,
        intent_hash: None,
        findings: findings.0,
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        findings.push(FindingKind::Malformed, "", "not UTF-8 text");
        return Ok(unverifiable(findings));
    };
    let certificate: Value = match serde_json::from_str(text) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) => {
            findings.push(FindingKind::Malformed, "", "not a JSON object");
            return Ok(unverifiable(findings));
        }
        Err(e) => {
            findings.push(FindingKind::Malformed, "", format!("not valid JSON: {e}"));
            return Ok(unverifiable(findings));
        }
    };

    let payload_sha256 = payload_sha256_of_value(&certificate);
    check_hash(
        &mut findings,
        &certificate,
        FindingKind::PayloadHashMismatch,
        "/proof/payload_sha256",
        payload_sha256,
        "the certificate",
    );
    let intent_hash = certificate.get("execution_intent").map(canonical_sha256);
    if let Some(intent_hash) = intent_hash {
        check_hash(
            &mut findings,
            &certificate,
            FindingKind::IntentHashMismatch,
            "/equivalence/intent_hash",
            intent_hash,
            "the execution intent",
        );
    }
    check_consistency(&mut findings, &certificate);
    if let Some(registry) = registry {
        check_registry(&mut findings, &certificate, registry);
    }
    check_schema(&mut findings, &certificate)?;
    check_contract(&mut findings, &certificate, text, origin);

    Ok(Verification {
        payload_sha256: Some(payload_sha256),
        intent_hash,
        findings: findings.0,
    })
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn push(&mut self, kind: FindingKind, pointer: &str, message: impl Into<String>) {
        self.0.push(Finding {
            kind,
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }

    fn covers(&self, pointer: &str) -> bool {
        self.0.iter().any(|f| f.pointer == pointer)
    }
}

fn check_hash(
    findings: &mut Findings,
    certificate: &Value,
    kind: FindingKind,
    pointer: &str,
    computed: Sha256Hex,
    what: &str,
) {
    match certificate.pointer(pointer) {
        Some(Value::String(declared)) if *declared == computed.to_hex() => {}
        Some(Value::String(declared)) => findings.push(
            kind,
            pointer,
            format!("is {declared} but {what} hashes to {computed}"),
        ),
        Some(other) => findings.push(
            kind,
            pointer,
            format!("is {other}, not a digest; {what} hashes to {computed}"),
        ),
        None => findings.push(kind, pointer, format!("is missing; {what} hashes to {computed}")),
    }
}

/// The rules that tie fields together, on the raw value so that peer
/// certificates are held to them too. Statuses other than `pass` and
/// `fail` count as skipped, as the peers count them.
fn check_consistency(findings: &mut Findings, certificate: &Value) {
    let text = |pointer: &str| certificate.pointer(pointer).and_then(Value::as_str);
    let flag = |pointer: &str| certificate.pointer(pointer).and_then(Value::as_bool);

    if let Some(checks) = certificate.get("checks").and_then(Value::as_array) {
        let statuses: Vec<Option<&str>> = checks
            .iter()
            .map(|c| c.get("status").and_then(Value::as_str))
            .collect();
        let passed = statuses.iter().filter(|s| **s == Some("pass")).count() as u64;
        let failed = statuses.iter().filter(|s| **s == Some("fail")).count() as u64;
        let skipped = statuses.len() as u64 - passed - failed;
        for (field, counted) in [("passed", passed), ("failed", failed), ("skipped", skipped)] {
            let pointer = format!("/summary/{field}");
            if let Some(declared) = certificate.pointer(&pointer).and_then(Value::as_u64)
                && declared != counted
            {
                let having = if counted == 1 {
                    "1 check has".to_owned()
                } else {
                    format!("{counted} checks have")
                };
                findings.push(
                    FindingKind::Inconsistent,
                    &pointer,
                    format!("is {declared} but {having} that status"),
                );
            }
        }
        let verdict = if failed == 0 { "pass" } else { "fail" };
        if let Some(status) = text("/summary/status")
            && status != verdict
        {
            findings.push(
                FindingKind::Inconsistent,
                "/summary/status",
                format!("is `{status}` but must be `{verdict}`: {failed} of the checks failed"),
            );
        }
    }

    if let (Some(class), Some(status), Some(blocking)) = (
        text("/runner/class"),
        text("/runner/status"),
        flag("/runner/blocking"),
    ) {
        let expected = class == "required" && status == "active";
        if blocking != expected {
            findings.push(
                FindingKind::Inconsistent,
                "/runner/blocking",
                format!("must be {expected}: class == required && status == active"),
            );
        }
    }
    if let (Some(runner), Some(summary)) = (flag("/runner/blocking"), flag("/summary/blocking"))
        && runner != summary
    {
        findings.push(
            FindingKind::Inconsistent,
            "/summary/blocking",
            "must equal /runner/blocking",
        );
    }

    if let Some(intent) = typed_intent(certificate)
        && !intent.is_normalized()
    {
        findings.push(
            FindingKind::Inconsistent,
            "/execution_intent",
            "is not in intent-v1 normal form (sorted, deduplicated, expect_exit never empty)",
        );
    }
}

fn typed_intent(certificate: &Value) -> Option<ExecutionIntent> {
    serde_json::from_value(certificate.get("execution_intent")?.clone()).ok()
}

/// The lane in `registry` against the certificate: same description, same
/// intent (recomputed with the certificate's own `registry_ref`, so the
/// comparison is about what is required, not about the reference format).
fn check_registry(findings: &mut Findings, certificate: &Value, input: RegistryInput<'_>) {
    let Some(runner_id) = certificate.pointer("/runner/runner_id").and_then(Value::as_str) else {
        return; // Schema drift reports the missing id.
    };
    let Some(lane) = input.registry.lane(runner_id) else {
        findings.push(
            FindingKind::RegistryDrift,
            "/runner/runner_id",
            format!(
                "lane `{runner_id}` is not in {}; it has {}",
                input.origin,
                input.registry.runner_ids().join(", ")
            ),
        );
        return;
    };
    let described = [
        ("class", lane.class.as_str()),
        ("status", lane.status.as_str()),
        (
            "implementation_repo",
            lane.entrypoints.implementation_repo.as_str(),
        ),
    ];
    for (field, expected) in described {
        let pointer = format!("/runner/{field}");
        if let Some(found) = certificate.pointer(&pointer).and_then(Value::as_str)
            && found != expected
        {
            findings.push(
                FindingKind::RegistryDrift,
                &pointer,
                format!("is `{found}` but {} now says `{expected}`", input.origin),
            );
        }
    }

    let Some(actual) = certificate.get("execution_intent") else {
        return;
    };
    let reference: RegistryRef = actual
        .get("registry_ref")
        .and_then(|r| serde_json::from_value(r.clone()).ok())
        .unwrap_or_else(|| registry_ref(input.registry));
    let expected = ExecutionIntent::of_lane(lane, reference);
    let expected_hash = expected.intent_hash();
    let actual_hash = canonical_sha256(actual);
    if actual_hash == expected_hash {
        return;
    }
    let Ok(expected) = serde_json::to_value(&expected) else {
        return; // Plain strings and integers always serialize.
    };
    for field in [
        "required_core_checks",
        "required_core_cases",
        "command_contract_subset",
    ] {
        let (found, wanted) = (actual.get(field), expected.get(field));
        if found != wanted {
            findings.push(
                FindingKind::IntentDrift,
                &format!("/execution_intent/{field}"),
                describe_difference(found, wanted, input.origin),
            );
        }
    }
    findings.push(
        FindingKind::IntentDrift,
        "/equivalence/intent_hash",
        format!(
            "the certificate's intent hashes to {actual_hash}; the intent {} now requires of lane `{runner_id}` hashes to {expected_hash}",
            input.origin
        ),
    );
}

/// "the registry now requires `a`; no longer requires `b`", item by item.
fn describe_difference(found: Option<&Value>, wanted: Option<&Value>, origin: &str) -> String {
    let items = |value: Option<&Value>| -> Vec<String> {
        value
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => s.clone(),
                        other => canonical_json(other),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (found, wanted) = (items(found), items(wanted));
    let quoted = |list: Vec<&String>| {
        list.iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let added: Vec<&String> = wanted.iter().filter(|w| !found.contains(w)).collect();
    let dropped: Vec<&String> = found.iter().filter(|f| !wanted.contains(f)).collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("{origin} now requires {}", quoted(added)));
    }
    if !dropped.is_empty() {
        parts.push(format!("no longer requires {}", quoted(dropped)));
    }
    if parts.is_empty() {
        format!("differs from what {origin} requires in order or form")
    } else {
        parts.join("; ")
    }
}

/// The generated JSON Schema of the certificate, every error.
fn check_schema(findings: &mut Findings, certificate: &Value) -> Result<(), VerifyError> {
    let schema = dcx_contracts::schema::json_schema::<ExecutionCertificate>();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| VerifyError::Schema {
            message: e.to_string(),
        })?;
    for error in validator.iter_errors(certificate) {
        findings.push(
            FindingKind::SchemaDrift,
            &error.instance_path().to_string(),
            schema_message(&error),
        );
    }
    Ok(())
}

/// The validator's message, except for enums: the generated schemas write
/// them as `oneOf` a `const` per value (each with its description), which
/// the validator reports as "not valid under any of the schemas listed in
/// the 'oneOf' keyword". Say which values are allowed instead.
fn schema_message(error: &jsonschema::ValidationError<'_>) -> String {
    if let ValidationErrorKind::OneOfNotValid { context } = error.kind() {
        let allowed: Option<Vec<String>> = context
            .iter()
            .map(|branch| match branch.as_slice() {
                [only] => match only.kind() {
                    ValidationErrorKind::Constant { expected_value } => Some(match &**expected_value {
                        Value::String(s) => format!("`{s}`"),
                        other => format!("`{other}`"),
                    }),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if let Some(allowed) = allowed.filter(|a| !a.is_empty()) {
            return format!("{} is not one of {}", error.instance(), allowed.join(", "));
        }
    }
    error.to_string()
}

/// What the schema cannot say: unknown fields, the semantic rules of the
/// certificate type (`registry_ref.version` 2, the commit id), and the
/// typed parse itself where the schema accepted what the type does not.
/// Fields already reported are not reported twice.
fn check_contract(findings: &mut Findings, certificate: &Value, text: &str, origin: &str) {
    let registry_ref_version = "/execution_intent/registry_ref/version";
    if let Some(version) = certificate.pointer(registry_ref_version).and_then(Value::as_u64)
        && version != CERTIFICATE_REGISTRY_REF_VERSION
        && !findings.covers(registry_ref_version)
    {
        findings.push(
            FindingKind::SchemaDrift,
            registry_ref_version,
            format!("must be {CERTIFICATE_REGISTRY_REF_VERSION} (found {version})"),
        );
    }
    match parse::<ExecutionCertificate>(text, Format::Json, origin) {
        Ok(loaded) => {
            for warning in loaded.warnings {
                findings.push(FindingKind::SchemaDrift, &warning.pointer, warning.message);
            }
            for violation in loaded.document.validate() {
                // The hashes were checked on the raw value; the typed view
                // drops unknown fields, so its hashes would differ.
                let hash = matches!(
                    violation.pointer.as_str(),
                    "/proof/payload_sha256" | "/equivalence/intent_hash"
                );
                if !hash && !findings.covers(&violation.pointer) {
                    findings.push(FindingKind::SchemaDrift, &violation.pointer, violation.message);
                }
            }
        }
        // The schema errors already describe the document's shape; the
        // typed parse only adds something when the schema found nothing.
        Err(_) if findings.0.iter().any(|f| f.kind == FindingKind::SchemaDrift) => {}
        Err(LoadError::Field { pointer, message, .. }) => {
            findings.push(FindingKind::SchemaDrift, &pointer, message);
        }
        Err(other) => findings.push(FindingKind::SchemaDrift, "", other.to_string()),
    }
}
