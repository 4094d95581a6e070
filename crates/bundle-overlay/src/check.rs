//! `package-check`: is this package what it claims to be?
//!
//! 1. the package sha256 against `--sha256` (a digest) or the sidecar
//!    (`<package>.sha256`, whose listed name must be the package's);
//! 2. a deep check, reading the package without unpacking it to disk:
//!    every entry passes the unpacking rules; `resolved_files.sha256` and
//!    `resolved_bundle_lock_v1.yaml` exist; every manifest line matches its
//!    member, no member is missing or extra; the lock integrity fields and
//!    the build lock are recomputed ([`crate::verify`]); the file name is
//!    the one the bundle id and version give;
//! 3. the in-toto statement (`<package>.intoto.json`), when present: a
//!    Statement v1 whose subject names the package with its sha256.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use dcx_contracts::bundle::{BundleRef, BundleRunner};
use dcx_contracts::digest::{HashingReader, sha256_reader};
use dcx_contracts::document::read_bounded;
use dcx_contracts::{LoadError, Sha256Hex};
use serde::Deserialize;

use crate::Limits;
use crate::archive::{self, ArchiveError};
use crate::intoto::{PREDICATE_TYPE, PackagePredicate, STATEMENT_TYPE};
use crate::package::{PACKAGE_PREFIX, package_file_name};
use crate::progress::{Progress, ProgressReader, Stage, StageGuard};
use crate::verify::{BundleMeta, VerifyError};

/// Where the expected package digest comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A digest given directly.
    Digest(Sha256Hex),
    /// A sidecar file, `"<hex>  <name>\n"`.
    Sidecar(PathBuf),
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckRequest<'a> {
    /// The `.tar.gz`.
    pub package: &'a Path,
    /// The digest it must have.
    pub expected: Expected,
    /// The in-toto statement; `None` looks for `<package>.intoto.json`.
    pub statement: Option<&'a Path>,
    /// Caps on the package contents.
    pub limits: Limits,
}

/// The in-toto statement's part in a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementCheck {
    /// Present and consistent with the package.
    Verified(PathBuf),
    /// No statement beside the package (and none given).
    Absent(PathBuf),
}

/// A package that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The package.
    pub package: PathBuf,
    /// Its sha256.
    pub sha256: Sha256Hex,
    /// The bundle (`root_bundle` of its lock).
    pub bundle_id: String,
    /// The runner its lock names.
    pub runner: BundleRunner,
    /// Payload files verified.
    pub files: usize,
    /// The build lock's output bundle, for implementation bundles.
    pub implementation: Option<BundleRef>,
    /// The statement's outcome.
    pub statement: StatementCheck,
}

/// Why a package failed its check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The package or sidecar cannot be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// The sidecar or the statement is over the document size cap
    /// ([`LoadError::TooLarge`]); it was not read.
    #[error(transparent)]
    TooLarge(LoadError),
    /// The sidecar is empty.
    #[error("checksum file {} is empty", .path.display())]
    SidecarEmpty {
        /// The sidecar.
        path: PathBuf,
    },
    /// The sidecar's first line is not `<hex>  <name>`.
    #[error("checksum file {}: expected \"<sha256>  <package name>\" on the first line, found {line:?}", .path.display())]
    SidecarFormat {
        /// The sidecar.
        path: PathBuf,
        /// Its first line.
        line: String,
    },
    /// The sidecar lists another file.
    #[error("checksum file {} is for {listed:?}, not {package:?}", .path.display())]
    SidecarName {
        /// The sidecar.
        path: PathBuf,
        /// The name it lists.
        listed: String,
        /// The package's name.
        package: String,
    },
    /// The package is larger than [`Limits::max_package_bytes`].
    #[error(
        "{} has {} bytes, over the size cap of {limit} bytes; nothing was unpacked (raise --max-package-bytes if the package really is that large)",
        .package.display(),
        size.map_or_else(|| format!("more than {limit}"), |size| size.to_string())
    )]
    PackageTooLarge {
        /// The package.
        package: PathBuf,
        /// Its size, when its metadata told; `None` when it grew past the
        /// cap while being read.
        size: Option<u64>,
        /// The cap.
        limit: u64,
    },
    /// The package digest differs.
    #[error("checksum mismatch for {}; expected {expected}, got {actual}", .package.display())]
    Checksum {
        /// The package.
        package: PathBuf,
        /// The expected digest.
        expected: Sha256Hex,
        /// The package's digest.
        actual: Sha256Hex,
    },
    /// An entry breaks the unpacking rules.
    #[error("{}: {source}", .package.display())]
    Unpack {
        /// The package.
        package: PathBuf,
        /// The entry at fault.
        #[source]
        source: ArchiveError,
    },
    /// The members, manifest and locks disagree.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The file name is not the one the bundle's id and version give.
    #[error("{}: the package is bundle {bundle:?}, so it must be named {expected:?}", .package.display())]
    Name {
        /// The package.
        package: PathBuf,
        /// What the locks say it is.
        bundle: String,
        /// The expected name (or prefix, when the version is unknown).
        expected: String,
    },
    /// The in-toto statement is not valid or not about this package.
    #[error("{}: {}", .path.display(), .problems.join("; "))]
    Statement {
        /// The statement file.
        path: PathBuf,
        /// Everything wrong with it.
        problems: Vec<String>,
    },
}

impl CheckError {
    /// Whether the check could not run (a file to check is missing or
    /// unreadable), rather than ran and failed.
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::Read { .. })
    }
}

/// Checks a package; see the module documentation.
pub fn package_check(request: &CheckRequest<'_>, progress: &dyn Progress) -> Result<CheckReport, CheckError> {
    let package = request.package;
    let name = package
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckError::Read { path, source }
    };
    let expected = match &request.expected {
        Expected::Digest(digest) => *digest,
        Expected::Sidecar(path) => read_sidecar(path, &name, request.limits.max_document_bytes)?,
    };

    let file = File::open(package).map_err(read_error(package))?;
    let size = file.metadata().map_err(read_error(package))?.len();
    let limit = request.limits.max_package_bytes;
    let too_large = |size: Option<u64>| CheckError::PackageTooLarge {
        package: package.to_path_buf(),
        size,
        limit,
    };
    if size > limit {
        return Err(too_large(Some(size)));
    }
    let actual = {
        let stage = StageGuard::start(progress, Stage::Hash, Some(size));
        // One byte past the cap tells a file that grew from one at the cap.
        let (digest, read) = sha256_reader(ProgressReader::new(&file, &stage).take(limit.saturating_add(1)))
            .map_err(read_error(package))?;
        if read > limit {
            return Err(too_large(None));
        }
        digest
    };
    if actual != expected {
        return Err(CheckError::Checksum {
            package: package.to_path_buf(),
            expected,
            actual,
        });
    }

    let file = File::open(package).map_err(read_error(package))?;
    let mut hashing = HashingReader::new(file);
    let unpacked =
        archive::unpack(&mut hashing, None, &request.limits, Some(size), progress).map_err(|source| {
            CheckError::Unpack {
                package: package.to_path_buf(),
                source,
            }
        })?;
    let reread = hashing.finish().0;
    if reread != actual {
        // The file changed between the two reads.
        return Err(CheckError::Checksum {
            package: package.to_path_buf(),
            expected,
            actual: reread,
        });
    }

    let origin = package.display().to_string();
    let meta = BundleMeta::from_unpacked(&origin, &unpacked)?;
    meta.check_integrity(&origin)?;
    meta.check_files(&origin, &unpacked.payload_digests())?;

    let implementation = meta
        .build_lock
        .as_ref()
        .and_then(|lock| lock.output_bundle.clone());
    check_name(package, &name, &meta.lock.root_bundle, implementation.as_ref())?;

    let statement_path = match request.statement {
        Some(path) => path.to_path_buf(),
        None => PathBuf::from(format!("{}.intoto.json", package.display())),
    };
    let statement = if request.statement.is_none() && !statement_path.exists() {
        StatementCheck::Absent(statement_path)
    } else {
        check_statement(
            &statement_path,
            &name,
            &actual,
            &meta.lock.root_bundle,
            request.limits.max_document_bytes,
        )?;
        StatementCheck::Verified(statement_path)
    };

    Ok(CheckReport {
        package: package.to_path_buf(),
        sha256: actual,
        bundle_id: meta.lock.root_bundle.clone(),
        runner: meta.lock.runner,
        files: meta.manifest.len(),
        implementation,
        statement,
    })
}

/// The digest a sidecar lists for `package_name`. As with upstream, the
/// first line counts: a digest, then optionally the file name (two spaces,
/// or sha256sum's ` *` binary marker), which must be the package's.
fn read_sidecar(path: &Path, package_name: &str, max_bytes: u64) -> Result<Sha256Hex, CheckError> {
    let bytes = read_capped(path, max_bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| CheckError::Read {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"),
    })?;
    let line = text.lines().next().unwrap_or_default();
    if line.trim().is_empty() {
        return Err(CheckError::SidecarEmpty {
            path: path.to_path_buf(),
        });
    }
    let format_error = || CheckError::SidecarFormat {
        path: path.to_path_buf(),
        line: line.chars().take(200).collect(),
    };
    let (digest, listed) = match line.split_once(' ') {
        Some((digest, rest)) => {
            let listed = rest
                .strip_prefix(' ')
                .or_else(|| rest.strip_prefix('*'))
                .ok_or_else(format_error)?;
            (digest, Some(listed))
        }
        None => (line, None),
    };
    let digest = Sha256Hex::parse(digest).map_err(|_| format_error())?;
    if let Some(listed) = listed
        && listed != package_name
    {
        return Err(CheckError::SidecarName {
            path: path.to_path_buf(),
            listed: listed.to_owned(),
            package: package_name.to_owned(),
        });
    }
    Ok(digest)
}

/// The bytes of a sidecar or statement, refused unread over `max_bytes`.
fn read_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, CheckError> {
    read_bounded(path, max_bytes).map_err(|error| match error {
        LoadError::Read { source, .. } => CheckError::Read {
            path: path.to_path_buf(),
            source,
        },
        other => CheckError::TooLarge(other),
    })
}

fn check_name(package: &Path, name: &str, root: &str, output: Option<&BundleRef>) -> Result<(), CheckError> {
    let name_error = |expected: String| CheckError::Name {
        package: package.to_path_buf(),
        bundle: root.to_owned(),
        expected,
    };
    match output {
        Some(bundle) => {
            // An unusable id would have failed the build; say what is wrong
            // if a foreign tool wrote it.
            let expected = package_file_name(bundle).map_err(|e| name_error(e.to_string()))?;
            if name != expected {
                return Err(name_error(expected));
            }
        }
        // A canonical bundle's lock has no version: check the id part.
        None => {
            let prefix = format!("{PACKAGE_PREFIX}{root}-v");
            if !name.starts_with(&prefix) || !name.ends_with(".tar.gz") {
                return Err(name_error(format!("{prefix}<version>.tar.gz")));
            }
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct LooseStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<LooseSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default)]
    predicate: serde_json::Value,
}

#[derive(Deserialize)]
struct LooseSubject {
    name: String,
    digest: BTreeMap<String, String>,
}

/// Checks that the statement at `path` is an in-toto Statement v1 about
/// `name` with digest `sha256`; a dcx predicate must agree too.
fn check_statement(
    path: &Path,
    name: &str,
    sha256: &Sha256Hex,
    bundle_id: &str,
    max_bytes: u64,
) -> Result<(), CheckError> {
    let statement_error = |problems: Vec<String>| CheckError::Statement {
        path: path.to_path_buf(),
        problems,
    };
    let bytes = read_capped(path, max_bytes)?;
    let statement: LooseStatement = serde_json::from_slice(&bytes)
        .map_err(|e| statement_error(vec![format!("not an in-toto Statement: {e}")]))?;

    let mut problems = Vec::new();
    if statement.statement_type != STATEMENT_TYPE {
        problems.push(format!(
            "_type is {:?}, expected {STATEMENT_TYPE:?}",
            statement.statement_type
        ));
    }
    match statement.subject.iter().find(|subject| subject.name == name) {
        None => problems.push(format!("no subject is named {name:?}")),
        Some(subject) => match subject.digest.get("sha256") {
            Some(digest) if *digest == sha256.to_hex() => {}
            Some(digest) => problems.push(format!(
                "subject {name:?} has sha256 {digest}, but the package's is {sha256}"
            )),
            None => problems.push(format!("subject {name:?} has no sha256 digest")),
        },
    }
    if statement.predicate_type == PREDICATE_TYPE {
        match serde_json::from_value::<PackagePredicate>(statement.predicate) {
            Err(e) => problems.push(format!("predicate: {e}")),
            Ok(predicate) => {
                if predicate.sha256 != *sha256 {
                    problems.push(format!(
                        "predicate.sha256 is {}, but the package's is {sha256}",
                        predicate.sha256
                    ));
                }
                if predicate.package != name {
                    problems.push(format!(
                        "predicate.package is {:?}, not {name:?}",
                        predicate.package
                    ));
                }
                if predicate.bundle_id != bundle_id {
                    problems.push(format!(
                        "predicate.bundle_id is {:?}, but the package is bundle {bundle_id:?}",
                        predicate.bundle_id
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(statement_error(problems))
    }
}
