//! Assembling and sealing the certificate from a lane and its check rows.

use dcx_contracts::Timestamp;
use dcx_contracts::certification::{
    CertificateCheck, CertificateSummary, CertifiedRunner, CheckStatus, Equivalence, ExecutionCertificate,
    HashSha256, IntentV1, JsonC14nV1, Proof, RegistryLane, Verdict,
};
use dcx_contracts::digest::Sha256Hex;
use dcx_contracts::intent::{ExecutionIntent, RegistryRef};

/// The certificate content version dcx writes.
const CERTIFICATE_VERSION: u64 = 2;

/// Everything a certificate states besides its checks.
pub(crate) struct Subject<'a> {
    pub(crate) lane: &'a RegistryLane,
    pub(crate) registry_ref: RegistryRef,
    pub(crate) commit_sha: &'a str,
    pub(crate) now: Timestamp,
}

/// The sealed certificate: summary counted from `checks`, intent normalized
/// by `intent-v1`, `proof.payload_sha256` filled in last.
pub(crate) fn assemble(subject: Subject<'_>, checks: Vec<CertificateCheck>) -> ExecutionCertificate {
    let lane = subject.lane;
    let blocking = lane.is_blocking();
    let execution_intent = ExecutionIntent::of_lane(lane, subject.registry_ref);
    let intent_hash = execution_intent.intent_hash();
    let mut certificate = ExecutionCertificate {
        version: CERTIFICATE_VERSION,
        runner: CertifiedRunner {
            runner_id: lane.runner_id.clone(),
            class: lane.class,
            status: lane.status,
            blocking,
            implementation_repo: lane.entrypoints.implementation_repo.clone(),
            commit_sha: subject.commit_sha.to_owned(),
            certified_at: subject.now,
        },
        execution_intent,
        equivalence: Equivalence {
            normalization_version: IntentV1,
            hash_algorithm: HashSha256,
            intent_hash,
        },
        summary: summarize(&checks, blocking),
        checks,
        proof: Proof {
            canonicalization: JsonC14nV1,
            // A placeholder: `seal` replaces it, and the hash it computes
            // treats this field as "" whatever it holds.
            payload_sha256: Sha256Hex::from_bytes([0; 32]),
        },
    };
    certificate.seal();
    certificate
}

/// Counts the rows; the verdict is `pass` iff none failed.
fn summarize(checks: &[CertificateCheck], blocking: bool) -> CertificateSummary {
    let count = |status| checks.iter().filter(|c| c.status == status).count() as u64;
    let failed = count(CheckStatus::Fail);
    CertificateSummary {
        status: if failed == 0 { Verdict::Pass } else { Verdict::Fail },
        passed: count(CheckStatus::Pass),
        failed,
        skipped: count(CheckStatus::Skip),
        blocking,
    }
}

/// The one-line verdict of a certificate, e.g.
/// `PASS: rust (required, active, blocking): 8 passed, 0 failed, 0 skipped`.
pub fn verdict_line(certificate: &ExecutionCertificate) -> String {
    let runner = &certificate.runner;
    let summary = &certificate.summary;
    let verdict = match summary.status {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    let blocking = if summary.blocking {
        "blocking"
    } else {
        "non-blocking"
    };
    format!(
        "{verdict}: {} ({}, {}, {blocking}): {} passed, {} failed, {} skipped",
        runner.runner_id,
        runner.class.as_str(),
        runner.status.as_str(),
        summary.passed,
        summary.failed,
        summary.skipped
    )
}
