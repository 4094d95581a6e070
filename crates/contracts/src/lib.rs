//! Typed contract documents for dcx and the runner repositories that talk to it.
//!
//! Every document of the five dcx contracts is a Rust type with serde and a
//! generated JSON Schema ([`schema`]), loaded through one pipeline that
//! checks the version first and reports errors by file, JSON Pointer and
//! line:column ([`document`]). Beside the documents sit the hashing
//! primitives the peers must agree on bit for bit: [`c14n`] (`json-c14n-v1`),
//! [`intent`] (`intent-v1`), [`digest`], the `resolved_files.sha256`
//! [`sha256_manifest`] with its [`relative_path`] rules and [`tree_drift`];
//! and [`atomic`] writes.
//!
//! This crate does no network I/O, spawns no processes, never prints and
//! never reads the clock: callers pass `now` in.
//!
//! ```
//! use dcx_contracts::{Format, from_str, status::RunnerStatusReport};
//!
//! let err = from_str::<RunnerStatusReport>(r#"{"version": 2}"#, Format::Json, "report.json")
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "report.json: unsupported runner status report version 2; this build reads 1"
//! );
//! ```

#![deny(missing_docs)]

pub mod atomic;
pub mod bundle;
pub mod c14n;
pub mod catalog;
pub mod certification;
pub mod digest;
pub mod document;
pub mod document_kinds;
pub mod identity;
pub mod intent;
pub mod pointer;
pub mod printable;
pub mod relative_path;
pub mod run_artifacts;
pub mod runner_platform;
pub mod schema;
pub mod sha256_manifest;
pub mod status;
pub mod timestamp;
pub mod tree_drift;
mod validate;
mod version_field;
mod yaml;

pub use atomic::{WriteError, atomic_write, atomic_write_set};
pub use digest::Sha256Hex;
pub use document::{
    Document, Format, LoadError, LoadLimits, Loaded, SaveError, VersionPin, Violation, Warning, from_bytes,
    from_str, load, load_with, save,
};
pub use timestamp::Timestamp;

/// [`document_kinds`] under its former name.
pub use document_kinds as documents;

/// The bundle manifest's three concepts under the one path they shared
/// before each got its module: [`relative_path`], [`sha256_manifest`] and
/// [`tree_drift`].
pub mod manifest {
    pub use crate::relative_path::{PathError, validate_relative_path};
    pub use crate::sha256_manifest::{
        MANIFEST_FILE_NAME, ManifestBuildError, ManifestEntry, ManifestError, ManifestErrorKind,
        RESERVED_FILE_NAMES, Sha256Manifest, is_reserved_path,
    };
    pub use crate::tree_drift::{TreeDrift, TreeError};
}
