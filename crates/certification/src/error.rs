//! Why a certification could not be made at all. A check that fails is not
//! an error: it is a row of the certificate. These are the problems that
//! stop dcx before (or while) writing one: configuration and I/O.

use std::path::PathBuf;

use dcx_contracts::{LoadError, SaveError, WriteError};

/// A certification that could not be carried out; nothing (or only evidence
/// logs) was written. Binaries map every variant to exit code 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertifyError {
    /// The registry is missing, unreadable, of another version or invalid;
    /// the message names the file and the field.
    #[error(transparent)]
    Registry(#[from] LoadError),
    /// No lane of the registry has the requested id.
    #[error(
        "{}: /runners: no lane has runner_id `{runner_id}`; known ids: {}",
        registry.display(),
        known.join(", ")
    )]
    UnknownRunner {
        /// The registry file.
        registry: PathBuf,
        /// The id asked for.
        runner_id: String,
        /// Every lane id of the registry, in registry order.
        known: Vec<String>,
    },
    /// The commit to record is not a git commit id.
    #[error("commit {found:?} is not a git commit id (40 or 64 lowercase hex characters)")]
    CommitSha {
        /// The rejected value.
        found: String,
    },
    /// An `artifact_contract` path of the lane does not end in a file name.
    #[error("{}: {pointer}: {value:?} does not end in a file name", registry.display())]
    ArtifactName {
        /// The registry file.
        registry: PathBuf,
        /// JSON Pointer of the field.
        pointer: String,
        /// The path, with `{runner}` substituted.
        value: String,
    },
    /// The evidence directory or one of its logs could not be prepared.
    #[error("cannot prepare evidence {}: {source}", path.display())]
    Evidence {
        /// The directory or log file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The certificate was refused or could not be written.
    #[error(transparent)]
    Save(#[from] SaveError),
    /// The Markdown report could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}
