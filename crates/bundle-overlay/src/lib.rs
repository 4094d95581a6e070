//! Implementation spec bundles (seed 003): overlay builds on a pinned base
//! bundle, reproducible packages, deep package checks, and the project
//! locks that install bundles.
//!
//! | operation | entry point |
//! |---|---|
//! | `build-impl`: fetch, verify, unpack the base; apply the overlay; write the locks | [`build_impl`] |
//! | `package-impl`: reproducible `.tar.gz`, `.sha256` sidecar, in-toto statement | [`package_impl`] |
//! | `package-check`: checksum, then every member, the locks and the statement | [`package_check`] |
//! | `install` / `install-check` of `bundles.lock.yaml` | [`install`], [`install_check`] |
//!
//! Packages are unpacked safely ([`unpack`]: no links, no `..`, capped by
//! [`Limits`]) and packed reproducibly ([`pack`], [`tree_files`]:
//! deterministic tar and parallel gzip). Between them lie the fetch (https,
//! `file://`, relative paths; hashed while streaming), the overlay
//! operations in DESIGN.md order, the manifest and lock integrity checks,
//! the hashes, the in-toto statement beside a package, and staging (work
//! beside the destination, publish by rename). `docs/BUNDLES.md` is the
//! guide, `specs/BUNDLE_HASHES.md` the exact hashes and package bytes.
//!
//! Like every dcx library this crate never prints, exits, reads the clock or
//! the environment: `now`, `SOURCE_DATE_EPOCH`, limits and thread counts
//! are arguments, progress goes through [`Progress`], and every
//! failure is a typed error whose message names the file, entry or path.

#![deny(missing_docs)]
// Every type a caller can receive is also one it can name.
#![warn(unnameable_types)]

mod archive;
mod build;
mod check;
mod fetch;
mod gzip;
mod hashes;
mod install;
mod intoto;
mod lock;
mod overlay;
mod package;
mod progress;
mod staging;
mod verify;

pub use archive::pack::{PackError, PackFile, PackOptions, PackSource, Packed, pack};
pub use archive::{ArchiveError, Unpacked, UnpackedFile, unpack};
pub use build::{BuildError, BuildOutcome, BuildRequest, build_impl};
pub use check::{CheckError, CheckReport, CheckRequest, Expected, StatementCheck, package_check};
pub use fetch::FetchError;
pub use install::{
    InstallCheckError, InstallError, InstallPlan, InstallRequest, Installed, LockEntryName, PlanError,
    WORKSPACE_LOCK_FILE_NAME, install, install_check, plan_install,
};
pub use overlay::OverlayError;
pub use package::{NameError, PackageError, PackageOutcome, PackageRequest, package_impl, tree_files};
pub use progress::{NoProgress, Progress, Stage};
pub use staging::StagingError;
pub use verify::VerifyError;

use std::time::Duration;

/// Bounds on what a package may cost to fetch and unpack, and on the
/// documents read beside it. Each has a `dcx bundle` flag of the same name
/// (`max_package_bytes` is `--max-package-bytes`, …); the table of every
/// cap is in docs/ARCHITECTURE.md ("Resource caps").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest package accepted, in compressed bytes.
    pub max_package_bytes: u64,
    /// The largest total size of the unpacked files.
    pub max_unpacked_bytes: u64,
    /// The largest single archive member, in bytes.
    pub max_member_bytes: u64,
    /// The most archive entries, directories included.
    pub max_entries: u64,
    /// The largest overlay, checksum file or in-toto statement read
    /// (`dcx --max-document-bytes`).
    pub max_document_bytes: u64,
    /// How long connecting to a server may take.
    pub connect_timeout: Duration,
    /// How long a whole download may take.
    pub download_timeout: Duration,
}

impl Default for Limits {
    /// 1 GiB packages, 4 GiB unpacked, 1 GiB per member, 200,000 entries:
    /// two orders of magnitude above today's largest bundles, far below a
    /// full disk; 16 MiB documents
    /// ([`dcx_contracts::document::DEFAULT_MAX_DOCUMENT_BYTES`]).
    fn default() -> Self {
        Self {
            max_package_bytes: 1 << 30,
            max_unpacked_bytes: 4 << 30,
            max_member_bytes: 1 << 30,
            max_entries: 200_000,
            max_document_bytes: dcx_contracts::document::DEFAULT_MAX_DOCUMENT_BYTES,
            connect_timeout: Duration::from_secs(30),
            download_timeout: Duration::from_secs(30 * 60),
        }
    }
}
