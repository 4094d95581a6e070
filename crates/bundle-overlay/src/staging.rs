//! Staging directories and the rename that publishes them.
//!
//! Builds and installs happen in a temporary directory next to their
//! destination (same file system, so the final move is a rename). Until
//! that rename the destination is untouched; if anything fails the
//! temporary directory is removed and nothing was written there.
//!
//! A process killed outright (SIGKILL, a power loss) cannot remove its
//! staging directory. Staging directories are therefore made by
//! [`dcx_sys::staging_dir_in`] (named `.dcx-staging-<dest>-*`, locked by the
//! process filling them), and [`stage_beside`] first sweeps the directory it
//! stages in ([`dcx_sys::sweep_leftovers`]): what no live process holds is
//! removed, so killed runs never pile up, while a concurrent run's staging
//! directory, still locked, is left alone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use dcx_sys::StagingDir;

use crate::verify::RESOLVED_LOCK_FILE_NAME;

/// Why a destination cannot be used or replaced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StagingError {
    /// The destination holds something that is not a bundle.
    #[error(
        "{} already exists and is not a bundle (no {RESOLVED_LOCK_FILE_NAME} at its root); refusing to replace it: move it away or choose another directory",
        .path.display()
    )]
    NotABundle {
        /// The destination.
        path: PathBuf,
    },
    /// A file system operation failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StagingError {
    let path = path.to_path_buf();
    move |source| StagingError::Io { action, path, source }
}

/// Checks that `dest` may be replaced: it is absent, an empty directory, or
/// a bundle tree (a previous build or install). Anything else is refused,
/// so a mistyped `--out` never deletes someone's work.
pub(crate) fn check_replaceable(dest: &Path) -> Result<(), StagingError> {
    let metadata = match fs::symlink_metadata(dest) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(io_error("inspect", dest)(source)),
    };
    let is_bundle = metadata.is_dir() && dest.join(RESOLVED_LOCK_FILE_NAME).is_file();
    let is_empty_dir = metadata.is_dir()
        && fs::read_dir(dest)
            .map_err(io_error("read", dest))?
            .next()
            .is_none();
    if is_bundle || is_empty_dir {
        Ok(())
    } else {
        Err(StagingError::NotABundle {
            path: dest.to_path_buf(),
        })
    }
}

/// A staging directory beside `dest` (created with its missing parents),
/// named after it (`.dcx-staging-<name>-*`) so a leftover is recognizable,
/// and locked by this process until it is dropped. The leftovers of killed
/// runs beside `dest` (staging directories and temp files that no live
/// process holds) are removed first.
pub(crate) fn stage_beside(dest: &Path) -> Result<StagingDir, StagingError> {
    let parent = parent_of(dest);
    fs::create_dir_all(&parent).map_err(io_error("create", &parent))?;
    sweep(&parent)?;
    let name = dest
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    dcx_sys::staging_dir_in(&parent, &name).map_err(io_error("create a staging directory in", &parent))
}

/// Removes the leftovers of killed runs in `dir` (see
/// [`dcx_sys::sweep_leftovers`]); a missing `dir` has none.
pub(crate) fn sweep(dir: &Path) -> Result<Vec<PathBuf>, StagingError> {
    dcx_sys::sweep_leftovers(dir).map_err(io_error("remove the leftovers of killed runs in", dir))
}

/// Moves the finished tree `staged` to `dest`, replacing what
/// [`check_replaceable`] allowed. The old tree moves into `trash` (a
/// directory on the same file system, removed by its owner), so `dest` is
/// at every moment either the old tree, absent for the instant between two
/// renames, or the new tree: never half of one.
pub(crate) fn publish(staged: &Path, dest: &Path, trash: &Path) -> Result<(), StagingError> {
    check_replaceable(dest)?;
    if fs::symlink_metadata(dest).is_ok() {
        let old = trash.join("previous");
        fs::rename(dest, &old).map_err(io_error("move aside", dest))?;
    }
    fs::rename(staged, dest).map_err(io_error("move the new tree into", dest))
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absent_empty_or_bundle_destinations_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        assert!(check_replaceable(&dest).is_ok());
        fs::create_dir(&dest).unwrap();
        assert!(check_replaceable(&dest).is_ok());
        fs::write(dest.join("notes.txt"), "mine").unwrap();
        let error = check_replaceable(&dest).unwrap_err();
        assert!(error.to_string().contains("is not a bundle"), "{error}");
        fs::write(dest.join(RESOLVED_LOCK_FILE_NAME), "version: 1\n").unwrap();
        assert!(check_replaceable(&dest).is_ok());
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(check_replaceable(&file).is_err());
    }

    #[test]
    fn staging_sweeps_what_killed_runs_left_and_spares_live_staging() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        // A killed run's staging directory and temp file: nobody holds them.
        let dead = dir.path().join(".dcx-staging-out-dead");
        fs::create_dir_all(dead.join("tree/deep")).unwrap();
        fs::write(dead.join("tree/deep/file"), "x").unwrap();
        let dead_temp = dir.path().join(".dcx-tmp-dead");
        fs::write(&dead_temp, "half").unwrap();
        // A live run's staging directory.
        let live = stage_beside(&dest).unwrap();
        assert!(!dead.exists() && !dead_temp.exists());
        let second = stage_beside(&dest).unwrap();
        assert!(live.path().exists(), "a live staging directory was swept");
        assert!(
            second
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".dcx-staging-out-")
        );
        drop((live, second));
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn publish_replaces_the_old_tree() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join(RESOLVED_LOCK_FILE_NAME), "old").unwrap();
        let staging = stage_beside(&dest).unwrap();
        let staged = staging.path().join("tree");
        fs::create_dir(&staged).unwrap();
        fs::write(staged.join(RESOLVED_LOCK_FILE_NAME), "new").unwrap();
        publish(&staged, &dest, staging.path()).unwrap();
        assert_eq!(
            fs::read_to_string(dest.join(RESOLVED_LOCK_FILE_NAME)).unwrap(),
            "new"
        );
        drop(staging);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"]);
    }
}
