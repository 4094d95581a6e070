//! Project bundle locks (`bundles.lock.yaml`): `install` and `install-check`.
//!
//! # Install directories
//!
//! Each `install_dir` is normalized by components: empty and `.`
//! components are dropped (`./a//b/` is `a/b`), a `..` component or an
//! absolute path is refused (a `..` *inside* a name, `foo..bar`, is fine;
//! upstream rejected it). Then every pair of entries is compared, not only
//! neighbours in sorted order as upstream did: two entries overlap when one
//! directory's components are a prefix of the other's (`a` and `a/b`, `a`
//! and `./a/`), which would make one install delete or pollute the other.
//! A bundle pinned twice is refused too. All of this is checked before
//! anything is downloaded.
//!
//! # Install
//!
//! Every bundle is fetched, verified against its pin, unpacked into a
//! staging directory beside its `install_dir` and deep-verified (manifest,
//! extra files, lock integrity, identity) before *any* directory is
//! replaced; then each staged tree is renamed into place. A failure leaves
//! every `install_dir` as it was. Installing again gives the same tree.
//! An existing `install_dir` is replaced only if it is empty or a bundle.
//!
//! An implementation bundle (one whose package carries a build lock) must be
//! pinned with `role: additional` (seed 003, "Project Consumption").

use std::fmt;
use std::path::{Path, PathBuf};

use dcx_contracts::bundle::{BundleRole, LockedBundle, ProjectBundleLock};
use dcx_contracts::digest::HashingReader;
use dcx_contracts::manifest::{PathError, validate_relative_path};
use dcx_contracts::{Sha256Hex, WriteError};
use dcx_sys::StagingDir;

use crate::Limits;
use crate::archive::{self, ArchiveError, DIR_MODE, set_mode};
use crate::fetch::{AssetLocation, FetchError, fetch_verified};
use crate::progress::Progress;
use crate::staging::{self, StagingError};
use crate::verify::{BundleMeta, VerifyError};

/// Why an `install_dir` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum InstallDirError {
    /// Nothing left after normalization: it names the workspace itself.
    #[error("install_dir {0:?} names the workspace itself; give each bundle its own directory")]
    Empty(String),
    /// It starts with `/`.
    #[error("install_dir {0:?} is absolute; write it relative to the workspace")]
    Absolute(String),
    /// A `..` component.
    #[error("install_dir {0:?} has a '..' component; install directories stay inside the workspace")]
    Parent(String),
    /// A backslash or control character.
    #[error("install_dir {raw:?} is not a valid path: {source}")]
    Invalid {
        /// The value given.
        raw: String,
        /// Why.
        #[source]
        source: PathError,
    },
}

/// Normalizes an `install_dir` by components; see the module documentation.
pub(crate) fn normalize_install_dir(raw: &str) -> Result<String, InstallDirError> {
    if raw.starts_with('/') {
        return Err(InstallDirError::Absolute(raw.to_owned()));
    }
    let mut components = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err(InstallDirError::Parent(raw.to_owned())),
            name => components.push(name),
        }
    }
    if components.is_empty() {
        return Err(InstallDirError::Empty(raw.to_owned()));
    }
    let normalized = components.join("/");
    validate_relative_path(&normalized).map_err(|source| InstallDirError::Invalid {
        raw: raw.to_owned(),
        source,
    })?;
    Ok(normalized)
}

/// A lock entry as it appears in messages: `bundles[1] (core@1.0.0)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEntryName {
    /// The index in `bundles`.
    pub index: usize,
    /// `bundle_id`.
    pub bundle_id: String,
    /// `bundle_version`.
    pub bundle_version: String,
}

impl fmt::Display for LockEntryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bundles[{}] ({}@{})",
            self.index, self.bundle_id, self.bundle_version
        )
    }
}

/// One lock entry with its normalized directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedBundle {
    /// How messages name it.
    pub name: LockEntryName,
    /// The entry.
    pub bundle: LockedBundle,
    /// The normalized `install_dir`.
    pub dir: String,
}

/// A lock whose entries may all be installed side by side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallPlan {
    /// The entries, in lock order.
    pub(crate) bundles: Vec<PlannedBundle>,
}

/// Why a lock cannot be installed: every problem, each naming its entries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {}", list(.problems))]
pub struct PlanError {
    /// The lock file.
    pub origin: String,
    /// One line per problem.
    pub problems: Vec<String>,
}

fn list(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => {
            let mut out = format!("{} problems", many.len());
            for problem in many {
                out.push_str("\n  - ");
                out.push_str(problem);
            }
            out
        }
    }
}

/// Normalizes every `install_dir` and checks the entries against each
/// other: no duplicate pin, no two directories that overlap.
pub fn plan_install(lock: &ProjectBundleLock, origin: &str) -> Result<InstallPlan, PlanError> {
    let mut problems = Vec::new();
    let mut bundles: Vec<PlannedBundle> = Vec::new();
    for (index, bundle) in lock.bundles.iter().enumerate() {
        let name = LockEntryName {
            index,
            bundle_id: bundle.bundle_id.clone(),
            bundle_version: bundle.bundle_version.clone(),
        };
        match normalize_install_dir(&bundle.install_dir) {
            Ok(dir) => bundles.push(PlannedBundle {
                name,
                bundle: bundle.clone(),
                dir,
            }),
            Err(error) => problems.push(format!("{name}: {error}")),
        }
    }
    for (i, first) in bundles.iter().enumerate() {
        for second in &bundles[i + 1..] {
            if first.bundle.bundle_id == second.bundle.bundle_id
                && first.bundle.bundle_version == second.bundle.bundle_version
            {
                problems.push(format!(
                    "duplicate bundle entry: {} and {} pin the same bundle",
                    first.name, second.name
                ));
            }
            if overlaps(&first.dir, &second.dir) {
                problems.push(format!(
                    "overlapping install_dir entries are forbidden: {} installs into {:?} and {} into {:?}",
                    first.name, first.bundle.install_dir, second.name, second.bundle.install_dir
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(InstallPlan { bundles })
    } else {
        Err(PlanError {
            origin: origin.to_owned(),
            problems,
        })
    }
}

/// Whether one normalized directory is the other or lies inside it.
fn overlaps(a: &str, b: &str) -> bool {
    let (shorter, longer) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    longer == shorter
        || longer
            .strip_prefix(shorter)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A bundle installed (or checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The entry.
    pub name: LockEntryName,
    /// Its directory in the workspace.
    pub dir: PathBuf,
    /// Its package digest (the pin).
    pub sha256: Sha256Hex,
    /// Payload files verified.
    pub files: usize,
    /// Whether it is an implementation bundle.
    pub implementation: bool,
}

/// Why an install failed; each error names its lock entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The lock's entries conflict.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// An `install_dir` holds something else, or cannot be replaced.
    #[error("{entry}: {source}")]
    Destination {
        /// The entry.
        entry: LockEntryName,
        /// Why.
        #[source]
        source: StagingError,
    },
    /// The package could not be fetched or does not match its pin.
    #[error("{entry}: {source}")]
    Fetch {
        /// The entry.
        entry: LockEntryName,
        /// Why.
        #[source]
        source: Box<FetchError>,
    },
    /// The package is unsafe or malformed.
    #[error("{entry}: {source}")]
    Unpack {
        /// The entry.
        entry: LockEntryName,
        /// The archive entry at fault.
        #[source]
        source: ArchiveError,
    },
    /// The package's files or locks do not match.
    #[error("{entry}: {source}")]
    Verify {
        /// The entry.
        entry: LockEntryName,
        /// Why.
        #[source]
        source: Box<VerifyError>,
    },
    /// The package is another bundle than the entry pins, or an
    /// implementation bundle pinned without `role: additional`.
    #[error("{entry}: {problem}")]
    Identity {
        /// The entry.
        entry: LockEntryName,
        /// What does not match.
        problem: String,
    },
    /// The workspace lock could not be taken.
    #[error("cannot lock the workspace: {0}")]
    Lock(#[source] dcx_sys::LockError),
    /// The staging area could not be written.
    #[error("{entry}: {source}")]
    Write {
        /// The entry.
        entry: LockEntryName,
        /// Why.
        #[source]
        source: WriteError,
    },
}

impl InstallError {
    /// Whether the fault is in the lock (conflicting entries, a bad URL, an
    /// occupied directory) rather than in a package or the machine.
    pub fn is_configuration(&self) -> bool {
        match self {
            Self::Plan(_) => true,
            Self::Destination { source, .. } => matches!(source, StagingError::NotABundle { .. }),
            Self::Fetch { source, .. } => source.is_configuration(),
            _ => false,
        }
    }
}

/// Where to install.
#[derive(Debug, Clone)]
pub struct InstallRequest<'a> {
    /// The lock document.
    pub lock: &'a ProjectBundleLock,
    /// The lock file: its directory anchors relative `asset_url`s, and it
    /// names the lock in messages.
    pub lock_path: &'a Path,
    /// The workspace the `install_dir`s are relative to.
    pub workspace: &'a Path,
    /// Caps on each package.
    pub limits: Limits,
}

struct Staged {
    entry: PlannedBundle,
    target: PathBuf,
    staging: StagingDir,
    installed: Installed,
}

/// The lock file of a workspace, [`WORKSPACE_LOCK_FILE_NAME`] in it.
pub const WORKSPACE_LOCK_FILE_NAME: &str = ".dcx-install.lock";

/// Installs every bundle of the lock; see the module documentation.
///
/// Installs into one workspace are serialized: each holds an exclusive
/// advisory lock on `<workspace>/.dcx-install.lock` from before its first
/// check until its last rename, and a second one waits (told through
/// [`Progress::waiting`]). The kernel drops the lock when its holder dies,
/// so a killed install never blocks the next.
pub fn install(
    request: &InstallRequest<'_>,
    progress: &dyn Progress,
) -> Result<Vec<Installed>, InstallError> {
    let plan = plan_install(request.lock, &request.lock_path.display().to_string())?;
    let lock_path = request.workspace.join(WORKSPACE_LOCK_FILE_NAME);
    let _workspace_lock = dcx_sys::lock_exclusive(&lock_path, dcx_sys::Wait::Block, |holder| {
        progress.waiting(&lock_path, holder);
    })
    .map_err(InstallError::Lock)?;
    let lock_dir = match request.lock_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Refuse occupied directories before downloading anything.
    for entry in &plan.bundles {
        staging::check_replaceable(&request.workspace.join(&entry.dir)).map_err(|source| {
            InstallError::Destination {
                entry: entry.name.clone(),
                source,
            }
        })?;
    }
    let mut staged = Vec::with_capacity(plan.bundles.len());
    for entry in plan.bundles {
        staged.push(stage(entry, &lock_dir, request, progress)?);
    }
    let mut installed = Vec::with_capacity(staged.len());
    for Staged {
        entry,
        target,
        staging,
        installed: outcome,
    } in staged
    {
        staging::publish(&staging.path().join("tree"), &target, staging.path()).map_err(|source| {
            InstallError::Destination {
                entry: entry.name.clone(),
                source,
            }
        })?;
        installed.push(outcome);
    }
    Ok(installed)
}

fn stage(
    entry: PlannedBundle,
    lock_dir: &Path,
    request: &InstallRequest<'_>,
    progress: &dyn Progress,
) -> Result<Staged, InstallError> {
    let name = entry.name.clone();
    let target = request.workspace.join(&entry.dir);
    let staging = staging::stage_beside(&target).map_err(|source| InstallError::Destination {
        entry: name.clone(),
        source,
    })?;
    let fetch_error = |source| InstallError::Fetch {
        entry: name.clone(),
        source: Box::new(source),
    };
    let location = AssetLocation::parse(&entry.bundle.source.asset_url, lock_dir).map_err(fetch_error)?;
    let package = fetch_verified(
        &location,
        &entry.bundle.source.sha256,
        staging.path(),
        &request.limits,
        progress,
    )
    .map_err(fetch_error)?;

    let tree = staging.path().join("tree");
    let write_error = |source| InstallError::Write {
        entry: name.clone(),
        source: WriteError {
            path: tree.clone(),
            source,
        },
    };
    std::fs::create_dir(&tree).map_err(write_error)?;
    set_mode(&tree, DIR_MODE).map_err(write_error)?;
    let mut hashing = HashingReader::new(&package.file);
    let unpacked = archive::unpack(
        &mut hashing,
        Some(&tree),
        &request.limits,
        Some(package.size),
        progress,
    )
    .map_err(|source| InstallError::Unpack {
        entry: name.clone(),
        source,
    })?;
    let (digest, _) = hashing.finish();
    if digest != package.sha256 {
        return Err(fetch_error(FetchError::ChecksumMismatch {
            location: location.to_string(),
            expected: package.sha256,
            actual: digest,
        }));
    }

    let origin = location.file_name();
    let verify_error = |source| InstallError::Verify {
        entry: name.clone(),
        source: Box::new(source),
    };
    let meta = BundleMeta::from_unpacked(&origin, &unpacked).map_err(verify_error)?;
    meta.check_integrity(&origin).map_err(verify_error)?;
    meta.check_files(&origin, &unpacked.payload_digests())
        .map_err(verify_error)?;
    check_identity(&entry, &meta).map_err(|problem| InstallError::Identity {
        entry: name.clone(),
        problem,
    })?;

    let installed = Installed {
        name,
        dir: target.clone(),
        sha256: package.sha256,
        files: meta.manifest.len(),
        implementation: meta.build_lock.is_some(),
    };
    Ok(Staged {
        entry,
        target,
        staging,
        installed,
    })
}

/// The package must be the bundle the entry pins, and an implementation
/// bundle must be `role: additional`.
fn check_identity(entry: &PlannedBundle, meta: &BundleMeta) -> Result<(), String> {
    let pinned = &entry.bundle;
    if meta.lock.root_bundle != pinned.bundle_id {
        return Err(format!(
            "the package is bundle {:?}, but the lock pins {:?}",
            meta.lock.root_bundle, pinned.bundle_id
        ));
    }
    if let Some(build_lock) = &meta.build_lock {
        if let Some(output) = &build_lock.output_bundle
            && output.bundle_version != pinned.bundle_version
        {
            return Err(format!(
                "the package is version {:?}, but the lock pins {:?}",
                output.bundle_version, pinned.bundle_version
            ));
        }
        if pinned.role != Some(BundleRole::Additional) {
            let role = match pinned.role {
                Some(BundleRole::Primary) => "role: primary",
                _ => "no role",
            };
            return Err(format!(
                "an implementation bundle (its package has a build lock) must be pinned with role: additional, not {role}"
            ));
        }
    }
    Ok(())
}

/// Why an installed workspace does not match its lock: every problem, each
/// naming its entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallCheckError {
    /// The lock's entries conflict.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Installed bundles that are missing or differ.
    #[error("{}", list(.problems))]
    Mismatch {
        /// One line per problem.
        problems: Vec<String>,
    },
}

/// Checks that every bundle of the lock is installed and intact: its
/// directory exists, its manifest matches every file (no missing or extra
/// file), its lock integrity recomputes, and it is the bundle pinned.
///
/// The package digest itself cannot be checked without the package; the
/// identity and the file digests are.
pub fn install_check(
    lock: &ProjectBundleLock,
    lock_path: &Path,
    workspace: &Path,
) -> Result<Vec<Installed>, InstallCheckError> {
    let plan = plan_install(lock, &lock_path.display().to_string())?;
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    for entry in plan.bundles {
        let target = workspace.join(&entry.dir);
        if !target.is_dir() {
            problems.push(format!(
                "{}: install_dir {:?} is not installed; run dcx bundle install",
                entry.name, entry.bundle.install_dir
            ));
            continue;
        }
        let outcome = BundleMeta::read_dir(&target)
            .and_then(|meta| {
                let origin = target.display().to_string();
                meta.check_integrity(&origin)?;
                meta.check_tree(&target)?;
                Ok(meta)
            })
            .map_err(|error| error.to_string())
            .and_then(|meta| check_identity(&entry, &meta).map(|()| meta));
        match outcome {
            Ok(meta) => checked.push(Installed {
                name: entry.name,
                dir: target,
                sha256: entry.bundle.source.sha256,
                files: meta.manifest.len(),
                implementation: meta.build_lock.is_some(),
            }),
            Err(problem) => problems.push(format!("{}: {problem}", entry.name)),
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(InstallCheckError::Mismatch { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcx_contracts::{Format, from_str};

    #[test]
    fn install_dirs_normalize_by_components() {
        for (raw, expected) in [
            ("a", "a"),
            ("./a/", "a"),
            ("a//b", "a/b"),
            ("a/./b/.", "a/b"),
            (".bundles/core", ".bundles/core"),
            ("foo..bar", "foo..bar"),
        ] {
            assert_eq!(normalize_install_dir(raw).unwrap(), expected, "{raw}");
        }
        assert_eq!(
            normalize_install_dir("a/../b").unwrap_err().to_string(),
            "install_dir \"a/../b\" has a '..' component; install directories stay inside the workspace"
        );
        assert!(matches!(
            normalize_install_dir("/abs"),
            Err(InstallDirError::Absolute(_))
        ));
        assert!(matches!(
            normalize_install_dir("./"),
            Err(InstallDirError::Empty(_))
        ));
        assert!(matches!(
            normalize_install_dir("a\\b"),
            Err(InstallDirError::Invalid { .. })
        ));
    }

    #[test]
    fn overlap_is_by_components() {
        assert!(overlaps("a", "a"));
        assert!(overlaps("a", "a/b"));
        assert!(overlaps("a/b", "a"));
        assert!(!overlaps("a", "ab"));
        assert!(!overlaps("a-b", "a/c"));
        assert!(!overlaps("a/b", "a/c"));
    }

    fn lock(entries: &[(&str, &str, &str)]) -> ProjectBundleLock {
        let bundles: String = entries
            .iter()
            .map(|(id, version, dir)| {
                format!(
                    "  - bundle_id: {id}\n    bundle_version: {version}\n    source:\n      repo: r\n      release_tag: v1\n      asset_url: {id}.tar.gz\n      sha256: {}\n    install_dir: {dir:?}\n",
                    "0".repeat(64)
                )
            })
            .collect();
        let text =
            format!("version: 1\nproject_id: p\nbundles:\n{bundles}updated_at: 2026-02-22T10:00:00Z\n");
        from_str::<ProjectBundleLock>(&text, Format::Yaml, "bundles.lock.yaml")
            .unwrap()
            .document
    }

    #[test]
    fn every_pair_is_compared() {
        // Upstream's sort-and-compare-neighbours missed `a` vs `a/c` with
        // `a-b` sorting between them, and identical dirs of two bundles.
        let error = plan_install(
            &lock(&[
                ("x", "1", "a"),
                ("y", "1", "a-b"),
                ("z", "1", "a/c"),
                ("w", "1", "./a-b/"),
            ]),
            "bundles.lock.yaml",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "bundles.lock.yaml: 2 problems\n  \
             - overlapping install_dir entries are forbidden: bundles[0] (x@1) installs into \"a\" and bundles[2] (z@1) into \"a/c\"\n  \
             - overlapping install_dir entries are forbidden: bundles[1] (y@1) installs into \"a-b\" and bundles[3] (w@1) into \"./a-b/\""
        );
    }

    #[test]
    fn duplicates_and_bad_dirs_are_named() {
        let error = plan_install(
            &lock(&[("x", "1", "a"), ("x", "1", "b"), ("y", "1", "../c")]),
            "bundles.lock.yaml",
        )
        .unwrap_err();
        assert_eq!(
            error.problems,
            [
                "bundles[2] (y@1): install_dir \"../c\" has a '..' component; install directories stay inside the workspace",
                "duplicate bundle entry: bundles[0] (x@1) and bundles[1] (x@1) pin the same bundle",
            ]
        );
    }
}
