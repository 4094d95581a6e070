//! `build-impl`: an implementation bundle tree from an overlay.
//!
//! 1. load the overlay and resolve its source files (before any download,
//!    so a missing source fails fast);
//! 2. fetch the base package from `base_bundle.source.asset_url`, hashing
//!    while reading, under the size cap, and compare with the pinned sha256;
//! 3. unpack it safely into a staging directory beside `--out`;
//! 4. verify the base's `resolved_files.sha256` against every file (and
//!    against extra files) and its lock integrity;
//! 5. apply the overlay (deletes, then adds and replaces, by path);
//! 6. write `resolved_files.sha256`, `resolved_bundle_lock_v1.yaml` and
//!    `implementation_bundle_build_lock_v1.yaml`;
//! 7. rename the finished tree to `--out`.
//!
//! Until step 7 nothing is written to `--out`; on any error the staging
//! directory is removed.

use std::fs;
use std::path::{Path, PathBuf};

use dcx_contracts::bundle::{BundleRef, BundleRunner, ImplementationOverlay, LockSource};
use dcx_contracts::digest::HashingReader;
use dcx_contracts::manifest::MANIFEST_FILE_NAME;
use dcx_contracts::{
    LoadError, LoadLimits, SaveError, Sha256Hex, Timestamp, Warning, WriteError, atomic_write, load_with,
    save,
};

use crate::archive::{self, ArchiveError, DIR_MODE, set_mode};
use crate::fetch::{AssetLocation, FetchError, fetch_verified};
use crate::overlay::{OverlayError, ResolvedOverlay};
use crate::package::{NameError, package_file_name};
use crate::progress::Progress;
use crate::staging::{self, StagingError};
use crate::verify::{BUILD_LOCK_FILE_NAME, BundleMeta, RESOLVED_LOCK_FILE_NAME, VerifyError};
use crate::{Limits, lock};

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    /// The `implementation_bundle_overlay_v1` document.
    pub overlay: &'a Path,
    /// Where `source_path`s are resolved; default: the overlay's directory.
    pub overlay_root: Option<&'a Path>,
    /// The output tree; replaced only if absent, empty or a bundle tree.
    pub out: &'a Path,
    /// The lock's `source` (repository, ref, commit of the overlay).
    pub source: LockSource,
    /// The build lock's `built_at`.
    pub now: Timestamp,
    /// The build lock's `tooling_version`, e.g. `dcx 0.1.0`.
    pub tooling_version: &'a str,
    /// Caps on the base package.
    pub limits: Limits,
}

/// What a build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutcome {
    /// The output tree.
    pub out: PathBuf,
    /// The output bundle.
    pub bundle: BundleRef,
    /// The runner it is for.
    pub runner: BundleRunner,
    /// The base package digest (equal to the overlay's pin).
    pub base_package_sha256: Sha256Hex,
    /// The digest of the overlay document and of every source file it adds
    /// or replaces (`specs/BUNDLE_HASHES.md`).
    pub overlay_sha256: Sha256Hex,
    /// The sha256 of the output `resolved_files.sha256`.
    pub resolved_files_sha256: Sha256Hex,
    /// Payload files in the output.
    pub file_count: usize,
    /// Files added, replaced and deleted by the overlay.
    pub added: usize,
    /// Files replaced.
    pub replaced: usize,
    /// Files deleted.
    pub deleted: usize,
    /// Unknown fields in the overlay document (accepted, worth telling).
    pub warnings: Vec<Warning>,
}

/// Why a build failed. Nothing was written to `--out`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The overlay document does not load.
    #[error(transparent)]
    Overlay(#[from] LoadError),
    /// The output bundle id or version cannot name a package.
    #[error("{overlay}: output_bundle: {source}", overlay = .overlay.display())]
    Name {
        /// The overlay document.
        overlay: PathBuf,
        /// Why the name is refused.
        #[source]
        source: NameError,
    },
    /// A source file is missing, escapes the root, or the operations do not
    /// fit the base.
    #[error(transparent)]
    Apply(#[from] OverlayError),
    /// The base package could not be fetched or does not match its pin.
    #[error("base package: {0}")]
    Fetch(#[from] FetchError),
    /// The base package is unsafe or malformed.
    #[error("base package {package}: {source}")]
    Unpack {
        /// The package file name.
        package: String,
        /// The entry at fault.
        #[source]
        source: ArchiveError,
    },
    /// The base package's files or locks do not match.
    #[error(transparent)]
    Base(#[from] VerifyError),
    /// The base package is another bundle than the overlay pins.
    #[error(
        "base package {package} is bundle {found:?}, but the overlay's base_bundle.bundle_id is {expected:?}"
    )]
    WrongBase {
        /// The package file name.
        package: String,
        /// The overlay's `base_bundle.bundle_id`.
        expected: String,
        /// The base lock's `root_bundle`.
        found: String,
    },
    /// `--out` cannot be used, or the finished tree could not be moved there.
    #[error(transparent)]
    Output(#[from] StagingError),
    /// Writing the output tree failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Writing a lock failed.
    #[error(transparent)]
    Save(#[from] SaveError),
}

impl BuildError {
    /// Whether the fault is in the inputs a person wrote (the overlay, its
    /// sources, `--out`) rather than in what was fetched or the machine:
    /// `dcx` exits 2 for these and 1 for the rest.
    pub fn is_configuration(&self) -> bool {
        match self {
            Self::Overlay(_) | Self::Name { .. } | Self::Apply(_) => true,
            Self::Fetch(error) => error.is_configuration(),
            Self::Output(error) => matches!(error, StagingError::NotABundle { .. }),
            _ => false,
        }
    }
}

/// Builds the implementation bundle tree `request.out` from an overlay.
pub fn build_impl(request: &BuildRequest<'_>, progress: &dyn Progress) -> Result<BuildOutcome, BuildError> {
    let loaded = load_with::<ImplementationOverlay>(
        request.overlay,
        &LoadLimits::with_max_bytes(request.limits.max_document_bytes),
    )?;
    let document = loaded.document;
    let overlay_dir = match request.overlay.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let output = BundleRef {
        bundle_id: document.output_bundle.bundle_id.clone(),
        bundle_version: document.output_bundle.bundle_version.clone(),
    };
    package_file_name(&output).map_err(|source| BuildError::Name {
        overlay: request.overlay.to_path_buf(),
        source,
    })?;
    let base_pin = document.base_bundle.clone();
    let location = AssetLocation::parse(&base_pin.source.asset_url, &overlay_dir)?;
    let root = request.overlay_root.unwrap_or(&overlay_dir);
    let overlay = ResolvedOverlay::resolve(document, root, progress)?;
    staging::check_replaceable(request.out)?;

    let staging = staging::stage_beside(request.out)?;
    let package = fetch_verified(
        &location,
        &base_pin.source.sha256,
        staging.path(),
        &request.limits,
        progress,
    )?;
    let package_name = location.file_name();
    let tree = staging.path().join("tree");
    let create_tree = |source| WriteError {
        path: tree.clone(),
        source,
    };
    fs::create_dir(&tree).map_err(create_tree)?;
    set_mode(&tree, DIR_MODE).map_err(create_tree)?;

    // Hash again while unpacking: what is unpacked must be exactly what was
    // verified, even if a local package file changes in between.
    let mut hashing = HashingReader::new(&package.file);
    let unpacked = archive::unpack(
        &mut hashing,
        Some(&tree),
        &request.limits,
        Some(package.size),
        progress,
    )
    .map_err(|source| BuildError::Unpack {
        package: package_name.clone(),
        source,
    })?;
    let (unpacked_digest, _) = hashing.finish();
    if unpacked_digest != package.sha256 {
        return Err(FetchError::ChecksumMismatch {
            location: location.to_string(),
            expected: package.sha256,
            actual: unpacked_digest,
        }
        .into());
    }

    let origin = format!("base package {package_name}");
    let base = BundleMeta::from_unpacked(&origin, &unpacked)?;
    base.check_integrity(&origin)?;
    base.check_files(&origin, &unpacked.payload_digests())?;
    if base.lock.root_bundle != base_pin.bundle_id {
        return Err(BuildError::WrongBase {
            package: package_name,
            expected: base_pin.bundle_id,
            found: base.lock.root_bundle,
        });
    }
    // A base that is itself an implementation bundle carries the build lock
    // of its own build; this build writes a new one.
    let old_build_lock = tree.join(BUILD_LOCK_FILE_NAME);
    if old_build_lock.exists() {
        fs::remove_file(&old_build_lock).map_err(|source| WriteError {
            path: old_build_lock,
            source,
        })?;
    }

    let applied = overlay.apply(&tree, &base.manifest)?;
    let manifest = &applied.manifest;
    atomic_write(&tree.join(MANIFEST_FILE_NAME), &manifest.to_bytes())?;
    save(
        &tree.join(RESOLVED_LOCK_FILE_NAME),
        &lock::resolved_lock(&overlay, &base, manifest, request.source.clone()),
    )?;
    let build_lock = lock::build_lock(
        &overlay,
        package.sha256,
        manifest,
        request.now,
        request.tooling_version,
    );
    save(&tree.join(BUILD_LOCK_FILE_NAME), &build_lock)?;

    staging::publish(&tree, request.out, staging.path())?;
    Ok(BuildOutcome {
        out: request.out.to_path_buf(),
        bundle: output,
        runner: overlay.document().runner_id,
        base_package_sha256: package.sha256,
        overlay_sha256: overlay.overlay_sha256(),
        resolved_files_sha256: manifest.sha256_manifest(),
        file_count: manifest.len(),
        added: applied.added,
        replaced: applied.replaced,
        deleted: applied.deleted,
        warnings: loaded.warnings,
    })
}
