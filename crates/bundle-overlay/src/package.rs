//! `package-impl`: the release assets of a built implementation bundle.
//!
//! From a tree written by `build-impl`:
//!
//! - `data-contract-bundle-{id}-v{version}.tar.gz`, packed reproducibly
//!   ([`crate::archive::pack`]) after checking the tree's locks, with every
//!   file hashed as it is packed and compared with `resolved_files.sha256`
//!   (a tree edited after the build is refused, naming the file);
//! - `….tar.gz.sha256`: `"<hex>  <basename>\n"`, for `sha256sum -c`;
//! - `….tar.gz.intoto.json`: an in-toto Statement ([`crate::intoto`]).
//!
//! The package holds the build lock *without* `result_package_sha256` (a
//! package cannot contain its own digest); afterwards the tree's build lock
//! gets the digest. Packing the same tree again, before or after that
//! update, gives the same bytes.

use std::fs::{self, File};
use std::io::BufWriter;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use dcx_contracts::bundle::{BuildLock, BundleRef};
use dcx_contracts::digest::sha256_reader;
use dcx_contracts::document;
use dcx_contracts::manifest::{PathError, TreeError, validate_relative_path};
use dcx_contracts::{Document, Format, SaveError, Sha256Hex, Timestamp, WriteError, atomic_write};

use crate::archive::pack::{PackError, PackFile, PackOptions, PackSource, pack};
use crate::intoto::{LEGACY_TYPE, PackagePredicate, Statement};
use crate::progress::{Progress, ProgressReader, Stage, StageGuard};
use crate::verify::{BUILD_LOCK_FILE_NAME, BundleMeta, VerifyError};

/// The prefix of every package file name.
pub(crate) const PACKAGE_PREFIX: &str = "data-contract-bundle-";

/// Why a bundle id or version cannot name a package file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The id has characters a file name should not.
    #[error(
        "bundle_id {0:?} cannot name a package file; use letters, digits, '.', '_', '+' and '-', starting with a letter or digit"
    )]
    Id(String),
    /// The version has characters a file name should not.
    #[error(
        "bundle_version {0:?} cannot name a package file; use letters, digits, '.', '_', '+' and '-', starting with a letter or digit"
    )]
    Version(String),
}

/// `data-contract-bundle-{bundle_id}-v{bundle_version}.tar.gz`, once both
/// parts are safe in a file name (no `/`, spaces, leading dot or dash).
pub(crate) fn package_file_name(bundle: &BundleRef) -> Result<String, NameError> {
    fn safe(text: &str) -> bool {
        text.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
    }
    if !safe(&bundle.bundle_id) {
        return Err(NameError::Id(bundle.bundle_id.clone()));
    }
    if !safe(&bundle.bundle_version) {
        return Err(NameError::Version(bundle.bundle_version.clone()));
    }
    Ok(format!(
        "{PACKAGE_PREFIX}{}-v{}.tar.gz",
        bundle.bundle_id, bundle.bundle_version
    ))
}

/// The sidecar checksum line: `"<hex>  <basename>\n"`.
pub(crate) fn sidecar_text(sha256: &Sha256Hex, package_name: &str) -> String {
    format!("{sha256}  {package_name}\n")
}

/// What to package.
#[derive(Debug, Clone)]
pub struct PackageRequest<'a> {
    /// A tree written by `build-impl`.
    pub tree: &'a Path,
    /// Where the three assets go (created if missing).
    pub out: &'a Path,
    /// The statement's `generated_at`.
    pub now: Timestamp,
    /// `SOURCE_DATE_EPOCH`: the mtime of every entry; 0 when `None`.
    pub source_date_epoch: Option<u64>,
    /// Compression threads; the bytes do not depend on it.
    pub threads: NonZeroUsize,
}

/// The assets written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageOutcome {
    /// The `.tar.gz`.
    pub package: PathBuf,
    /// The `.tar.gz.sha256` sidecar.
    pub sidecar: PathBuf,
    /// The `.tar.gz.intoto.json` statement.
    pub statement: PathBuf,
    /// The package sha256.
    pub sha256: Sha256Hex,
    /// The package size in bytes.
    pub size: u64,
    /// The bundle packaged.
    pub bundle: BundleRef,
    /// The tree's build lock, now with `result_package_sha256`.
    pub build_lock: PathBuf,
}

/// Why packaging failed. A failure before the package is complete leaves
/// nothing in `--out`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The tree's manifest, locks or files do not agree.
    #[error(transparent)]
    Tree(#[from] VerifyError),
    /// The tree has no build lock: it is not an implementation bundle.
    #[error(
        "{}: no {BUILD_LOCK_FILE_NAME}; package-impl packages trees written by build-impl",
        .tree.display()
    )]
    NotImplementation {
        /// The tree.
        tree: PathBuf,
    },
    /// The build lock does not name the output bundle.
    #[error(
        "{}: {BUILD_LOCK_FILE_NAME} has no output_bundle, so the package cannot be named; rebuild the tree with dcx bundle build-impl",
        .tree.display()
    )]
    Unnamed {
        /// The tree.
        tree: PathBuf,
    },
    /// The bundle id or version cannot name a file.
    #[error("{}: {source}", .tree.display())]
    Name {
        /// The tree.
        tree: PathBuf,
        /// Why.
        #[source]
        source: NameError,
    },
    /// The tree holds something a package may not (a link, a special file,
    /// a name that is not a canonical path).
    #[error(transparent)]
    Walk(#[from] TreeError),
    /// Packing failed.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// Writing an asset failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Updating the tree's build lock failed.
    #[error(transparent)]
    Save(#[from] SaveError),
    /// A document could not be serialized.
    #[error("cannot serialize {what}: {message}")]
    Serialize {
        /// The document.
        what: &'static str,
        /// The serializer's explanation.
        message: String,
    },
}

impl PackageError {
    /// Whether the fault is in what the person pointed at (not a built tree,
    /// an unusable name) rather than in the tree's contents or the machine.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Self::NotImplementation { .. } | Self::Unnamed { .. } | Self::Name { .. }
        )
    }
}

/// Packages the tree `request.tree` into `request.out`.
pub fn package_impl(
    request: &PackageRequest<'_>,
    progress: &dyn Progress,
) -> Result<PackageOutcome, PackageError> {
    let tree = request.tree;
    let origin = tree.display().to_string();
    let meta = BundleMeta::read_dir(tree)?;
    let build_lock = meta
        .build_lock
        .clone()
        .ok_or_else(|| PackageError::NotImplementation {
            tree: tree.to_path_buf(),
        })?;
    let bundle = build_lock
        .output_bundle
        .clone()
        .ok_or_else(|| PackageError::Unnamed {
            tree: tree.to_path_buf(),
        })?;
    let name = package_file_name(&bundle).map_err(|source| PackageError::Name {
        tree: tree.to_path_buf(),
        source,
    })?;
    meta.check_integrity(&origin)?;

    // The package carries the build lock as build-impl wrote it.
    let packaged_lock = BuildLock {
        result_package_sha256: None,
        ..build_lock.clone()
    };
    let packaged_lock_bytes =
        document::to_bytes(&packaged_lock, Format::Yaml).map_err(|message| PackageError::Serialize {
            what: BUILD_LOCK_FILE_NAME,
            message,
        })?;
    let mut files = tree_files(tree)?;
    for file in &mut files {
        if file.path == BUILD_LOCK_FILE_NAME {
            file.source = PackSource::Bytes(packaged_lock_bytes.clone());
        }
    }

    let out = request.out;
    fs::create_dir_all(out).map_err(|source| WriteError {
        path: out.to_path_buf(),
        source,
    })?;
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    // What killed runs left in `out` (their temp files) goes first; the
    // package is written to a locked `.dcx-tmp-` file that the next run
    // removes in turn if this one is killed.
    dcx_sys::sweep_leftovers(out).map_err(write_error(out))?;
    let temp = dcx_sys::temp_file_in(out).map_err(write_error(out))?;
    let options = PackOptions {
        mtime: request.source_date_epoch.unwrap_or(0),
        threads: request.threads,
    };
    let (packed, writer) = pack(
        &files,
        BufWriter::with_capacity(1 << 20, temp.as_file()),
        &options,
        progress,
    )?;
    writer
        .into_inner()
        .map_err(|e| write_error(temp.path())(e.into_error()))?
        .sync_all()
        .map_err(write_error(temp.path()))?;

    // Every file went in hashed; the payload must be what the manifest says.
    let payload = packed
        .digests
        .into_iter()
        .filter(|(path, _)| !dcx_contracts::manifest::is_reserved_path(path))
        .collect();
    meta.check_files(&origin, &payload)?;

    let (sha256, size) = {
        let stage = StageGuard::start(
            progress,
            Stage::Hash,
            temp.as_file().metadata().ok().map(|m| m.len()),
        );
        sha256_reader(ProgressReader::new(
            File::open(temp.path()).map_err(write_error(temp.path()))?,
            &stage,
        ))
        .map_err(write_error(temp.path()))?
    };
    let statement = Statement::new(PackagePredicate {
        kind: LEGACY_TYPE.to_owned(),
        bundle_id: bundle.bundle_id.clone(),
        bundle_version: bundle.bundle_version.clone(),
        runner: build_lock.runner_id,
        package: name.clone(),
        sha256,
        generated_at: request.now,
        base_package_sha256: build_lock.base_package_sha256,
        overlay_sha256: build_lock.overlay_sha256,
        resolved_files_sha256: build_lock.resolved_files_sha256,
        tooling_version: build_lock.tooling_version.clone(),
    })
    .to_bytes()
    .map_err(|e| PackageError::Serialize {
        what: "the in-toto statement",
        message: e.to_string(),
    })?;

    let package_path = out.join(&name);
    let sidecar_path = out.join(format!("{name}.sha256"));
    let statement_path = out.join(format!("{name}.intoto.json"));
    crate::archive::set_mode(temp.path(), 0o644).map_err(write_error(temp.path()))?;
    temp.persist(&package_path)
        .map_err(|e| write_error(&package_path)(e.error))?;
    atomic_write(&sidecar_path, sidecar_text(&sha256, &name).as_bytes())?;
    atomic_write(&statement_path, &statement)?;

    let build_lock_path = tree.join(BUILD_LOCK_FILE_NAME);
    save_in_tree(
        tree,
        &build_lock_path,
        &BuildLock {
            result_package_sha256: Some(sha256),
            ..build_lock
        },
    )?;
    Ok(PackageOutcome {
        package: package_path,
        sidecar: sidecar_path,
        statement: statement_path,
        sha256,
        size,
        bundle,
        build_lock: build_lock_path,
    })
}

/// [`save`](dcx_contracts::save) of a document into a bundle tree, with the
/// temp file beside the tree instead of in it: a write killed before its
/// rename must not leave a file in the tree that its manifest does not list
/// (every later check of the tree, and packaging it again, would refuse it
/// as an extra file). Where nothing can be written beside the tree (a
/// read-only parent, another file system), the temp file goes in the tree
/// as before.
fn save_in_tree<D: Document>(tree: &Path, path: &Path, document: &D) -> Result<(), SaveError> {
    let beside = fs::canonicalize(tree)
        .ok()
        .and_then(|tree| tree.parent().map(Path::to_path_buf));
    match beside {
        Some(beside) => document::save_via(path, document, &beside),
        None => document::save(path, document),
    }
}

/// Every regular file below `root` as input for [`pack`], sorted bytewise
/// by bundle path, executable bits kept. Links, special files and names
/// that are not canonical bundle paths are refused, as in
/// [`dcx_contracts::manifest::Sha256Manifest::from_tree`]; the reserved
/// root files are included.
///
/// [`package_impl`] packs these; packing them directly suits a canonical
/// bundle tree, which has no build lock to rewrite.
pub fn tree_files(root: &Path) -> Result<Vec<PackFile>, TreeError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TreeError::Io { path, source }
    };
    let mut files = Vec::new();
    let mut pending = vec![(String::new(), root.to_path_buf())];
    while let Some((prefix, dir)) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(io_error(&dir))? {
            let entry = entry.map_err(io_error(&dir))?;
            let full = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                return Err(TreeError::NonUtf8Name { path: full });
            };
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let file_type = entry.file_type().map_err(io_error(&full))?;
            if file_type.is_symlink() {
                return Err(TreeError::Symlink { path: full });
            } else if file_type.is_dir() {
                pending.push((path, full));
            } else if file_type.is_file() {
                validate_relative_path(&path).map_err(|source: PathError| TreeError::InvalidPath {
                    path: full.clone(),
                    source,
                })?;
                let executable = is_executable(&entry.metadata().map_err(io_error(&full))?);
                files.push(PackFile {
                    path,
                    source: PackSource::Disk(full),
                    executable,
                });
            } else {
                return Err(TreeError::SpecialFile { path: full });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

#[cfg(unix)]
fn is_executable(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(id: &str, version: &str) -> BundleRef {
        BundleRef {
            bundle_id: id.to_owned(),
            bundle_version: version.to_owned(),
        }
    }

    #[test]
    fn package_names_follow_the_contract() {
        assert_eq!(
            package_file_name(&bundle("data-contracts-library-core-rust", "1.0.0")).unwrap(),
            "data-contract-bundle-data-contracts-library-core-rust-v1.0.0.tar.gz"
        );
        assert_eq!(
            package_file_name(&bundle("runner_contract_bundle", "1.0.0-rc.1+b2")).unwrap(),
            "data-contract-bundle-runner_contract_bundle-v1.0.0-rc.1+b2.tar.gz"
        );
        for (id, version) in [
            ("../x", "1"),
            ("a b", "1"),
            (".hidden", "1"),
            ("-x", "1"),
            ("ok", "1/2"),
        ] {
            assert!(package_file_name(&bundle(id, version)).is_err(), "{id} {version}");
        }
        assert_eq!(
            package_file_name(&bundle("a/b", "1")).unwrap_err().to_string(),
            "bundle_id \"a/b\" cannot name a package file; use letters, digits, '.', '_', '+' and '-', starting with a letter or digit"
        );
    }

    #[test]
    fn sidecar_is_sha256sum_text() {
        let digest = Sha256Hex::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(
            sidecar_text(&digest, "p.tar.gz"),
            format!("{}  p.tar.gz\n", "ab".repeat(32))
        );
    }
}
