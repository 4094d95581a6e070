//! Why a certification could not be made at all. A check that fails is not
//! an error: it is a row of the certificate. These are the problems that
//! stop dcx before (or while) writing one: configuration and I/O.

use std::path::PathBuf;

use dcx_contracts::{LoadError, SaveError, WriteError};

/// A certification that could not be carried out; nothing was written.
/// Binaries map every variant to exit code 2, except [`Cancelled`] by a
/// signal, which is 128 + the signal (130, 143).
///
/// [`Cancelled`]: CertifyError::Cancelled
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
    /// The certificate or its Markdown report could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The lock on the output directory could not be taken.
    #[error("cannot lock the output directory: {0}")]
    Lock(#[source] dcx_sys::LockError),
    /// The certification was cancelled (dcx received SIGINT or SIGTERM):
    /// the adapter's process group was stopped, and neither the certificate
    /// nor its Markdown nor its evidence was written; the previous ones, if
    /// any, are as they were.
    #[error(
        "cancelled ({}): the adapter's process group was stopped and no certificate was written; the previous one, if any, is unchanged",
        describe_reason(reason)
    )]
    Cancelled {
        /// Why.
        reason: dcx_sys::CancelReason,
    },
}

impl CertifyError {
    /// The signal that cancelled the certification, when one did.
    pub fn signal(&self) -> Option<i32> {
        match self {
            Self::Cancelled {
                reason: dcx_sys::CancelReason::Signal(signal),
            } => Some(*signal),
            _ => None,
        }
    }
}

fn describe_reason(reason: &dcx_sys::CancelReason) -> String {
    match reason {
        dcx_sys::CancelReason::Signal(signal) => match dcx_sys::signal_name(*signal) {
            Some(name) => format!("dcx received {name}"),
            None => format!("dcx received signal {signal}"),
        },
        dcx_sys::CancelReason::Requested(why) => why.clone(),
    }
}
