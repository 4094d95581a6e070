//! The `.intoto.json` beside a package: a real in-toto Statement v1.
//!
//! Upstream wrote a flat metadata object under that name (no `_type`, no
//! `subject`, no `predicateType`), which no in-toto tool reads. dcx writes
//! a Statement whose subject is the package and whose predicate carries the
//! legacy fields unchanged, plus the build digests. It is not signed: a
//! signer (e.g. a DSSE envelope in CI) wraps it as it is.

use dcx_contracts::bundle::BundleRunner;
use dcx_contracts::{Sha256Hex, Timestamp};
use serde::{Deserialize, Serialize};

/// The in-toto Statement v1 type URI.
pub(crate) const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// The predicate type of a bundle package statement.
pub(crate) const PREDICATE_TYPE: &str = "https://dcx.dev/attestations/bundle-package/v1";

/// The legacy `type` value, kept inside the predicate.
pub(crate) const LEGACY_TYPE: &str = "bundle.package.metadata.v1";

/// An in-toto Statement v1 about one bundle package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The package.
    pub subject: Vec<Subject>,
    /// Always [`PREDICATE_TYPE`] for statements dcx writes.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// What dcx says about the package.
    pub predicate: PackagePredicate,
}

/// A statement subject: an artifact by name and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Subject {
    /// The package file name.
    pub name: String,
    /// Its digests (other algorithms in the map are ignored when read).
    pub digest: SubjectDigest,
}

/// The digest set of a subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SubjectDigest {
    /// The sha256 of the package bytes.
    pub sha256: Sha256Hex,
}

/// The predicate: upstream's metadata fields, then the build digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PackagePredicate {
    /// Always [`LEGACY_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The bundle id.
    pub bundle_id: String,
    /// The bundle version.
    pub bundle_version: String,
    /// The runner the bundle is for.
    pub runner: BundleRunner,
    /// The package file name.
    pub package: String,
    /// The package sha256 (equal to the subject's).
    pub sha256: Sha256Hex,
    /// When the statement was made.
    pub generated_at: Timestamp,
    /// The build lock's `base_package_sha256`.
    pub base_package_sha256: Sha256Hex,
    /// The build lock's `overlay_sha256`.
    pub overlay_sha256: Sha256Hex,
    /// The build lock's `resolved_files_sha256`.
    pub resolved_files_sha256: Sha256Hex,
    /// The build lock's `tooling_version`.
    pub tooling_version: String,
}

impl Statement {
    /// A statement about `predicate.package` with digest `predicate.sha256`.
    pub(crate) fn new(predicate: PackagePredicate) -> Self {
        Self {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject: vec![Subject {
                name: predicate.package.clone(),
                digest: SubjectDigest {
                    sha256: predicate.sha256,
                },
            }],
            predicate_type: PREDICATE_TYPE.to_owned(),
            predicate,
        }
    }

    /// Pretty JSON with two-space indents and a final newline.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
