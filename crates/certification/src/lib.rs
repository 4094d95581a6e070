//! Runner certification (seed 000 `runner-certify`) and certificate
//! verification.
//!
//! [`certify`] reads a lane from the runner registry, runs the lane's
//! adapter as a real process for every command and governance check the
//! registry requires of it, resolves its conformance case refs, and writes
//! an execution certificate (`runner-certification-<runner>.json`, plus a
//! Markdown rendering) whose `equivalence.intent_hash` (`intent-v1`) and
//! `proof.payload_sha256` (`json-c14n-v1`) any peer can recompute.
//!
//! [`verify`](verify::verify_file) recomputes both hashes of a certificate —
//! one dcx wrote or one a peer wrote — checks it against the certificate
//! contract, and, given the registry, reports intent drift.
//!
//! Like every dcx library this crate never prints, exits, reads the
//! wall clock or the environment: `now`, the commit, the `PATH` to search
//! and the timeout come in through [`CertifySettings`], cancellation
//! through a [`dcx_sys::Cancel`], and errors are typed. It does spawn processes (the adapter; their durations are measured
//! with the monotonic clock and are the only values that differ between two
//! runs on the same inputs) and write files (the certificate and its
//! evidence logs under `<out-dir>/runner-certification-<runner>/`).
//!
//! The certificate, the hashes and the checks are explained for users in
//! `docs/CERTIFICATION.md`.

#![deny(missing_docs)]

mod adapter;
mod adapter_checks;
mod certificate;
mod certify;
mod checks;
mod conformance;
mod duration;
mod error;
mod evidence;
mod markdown;
mod process;
mod registry;
pub mod verify;

pub use certificate::verdict_line;
pub use certify::{Certification, CertifySettings, OUT_DIR_LOCK_FILE_NAME, certify, certify_with};
pub use duration::{InvalidDuration, format_duration, parse_duration};
pub use error::CertifyError;
pub use markdown::render_markdown;
pub use registry::registry_ref;
