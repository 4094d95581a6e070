//! Atomic file writes: a crash never leaves a half-written artifact.
//!
//! The bytes go to a temporary file in the target's own directory (so the
//! final rename never crosses a filesystem), which is flushed to disk and
//! then renamed over the target; the directory is synced so the rename
//! itself survives a power loss. Readers see the old file or the new one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A failed atomic write, naming the target file.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file that was being written.
    pub path: PathBuf,
    /// The underlying I/O failure.
    #[source]
    pub source: std::io::Error,
}

/// Writes `bytes` to `path` atomically, creating missing parent directories.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = parent_of(path);
    std::fs::create_dir_all(dir).map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })?;
    write_via(path, bytes, dir)
}

/// [`atomic_write`] with the temporary file in `temp_dir` rather than
/// beside `path`: for a file inside a tree whose every entry is checked
/// (a bundle), where a write killed before its rename must not leave a
/// stray file. `temp_dir` should be on the same file system as `path`;
/// where it cannot hold the temporary file, or the rename would cross file
/// systems, this falls back to [`atomic_write`].
pub fn atomic_write_via(path: &Path, bytes: &[u8], temp_dir: &Path) -> Result<(), WriteError> {
    match write_via(path, bytes, temp_dir) {
        Err(WriteError { source, .. })
            if matches!(
                source.kind(),
                std::io::ErrorKind::CrossesDevices
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::NotFound
            ) =>
        {
            atomic_write(path, bytes)
        }
        other => other,
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The temp file in `temp_dir`, flushed, given its final mode, renamed over
/// `path`, and `path`'s directory synced.
fn write_via(path: &Path, bytes: &[u8], temp_dir: &Path) -> Result<(), WriteError> {
    let temp = staged(path, bytes, temp_dir)?;
    persist(path, temp)
}

/// `bytes` in a locked `.dcx-tmp-` file in `temp_dir` (so a killed write
/// is a leftover the next run sweeps, see `dcx_sys::sweep_leftovers`),
/// flushed to disk and given the mode `path` has or a new file would get.
fn staged(path: &Path, bytes: &[u8], temp_dir: &Path) -> Result<tempfile::NamedTempFile, WriteError> {
    let fail = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let mut temp = dcx_sys::temp_file_in(temp_dir).map_err(fail)?;
    temp.write_all(bytes).map_err(fail)?;
    temp.as_file().sync_all().map_err(fail)?;
    // Keep the permissions a plain `File::create` would give (tempfile
    // creates 0600), since artifacts are meant to be read by others.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(existing) => existing.permissions().mode() & 0o7777,
            Err(_) => 0o644,
        };
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(fail)?;
    }
    Ok(temp)
}

fn persist(path: &Path, temp: tempfile::NamedTempFile) -> Result<(), WriteError> {
    let fail = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    temp.persist(path).map_err(|e| fail(e.error))?;
    sync_dir(parent_of(path)).map_err(fail)
}

/// Writes several files as one set: every file is written to its temp file
/// and flushed to disk before the first rename, so a failure while writing
/// (a full disk) leaves every target as it was. The renames then follow in
/// order; only a crash between two renames can leave a mixed set, which is
/// why a set's documents should carry one set id that readers compare.
pub fn atomic_write_set(files: &[(&Path, &[u8])]) -> Result<(), WriteError> {
    let mut staged_files = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let dir = parent_of(path);
        std::fs::create_dir_all(dir).map_err(|source| WriteError {
            path: path.to_path_buf(),
            source,
        })?;
        staged_files.push((*path, staged(path, bytes, dir)?));
    }
    for (path, temp) in staged_files {
        persist(path, temp)?;
    }
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_leaves_nothing_beside_the_target_and_falls_back_when_it_must() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir(&tree).unwrap();
        let target = tree.join("lock.yaml");
        atomic_write_via(&target, b"one", dir.path()).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        let in_tree: Vec<_> = std::fs::read_dir(&tree)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(in_tree, vec![std::ffi::OsString::from("lock.yaml")]);
        // A temp directory that does not exist: written beside the target.
        atomic_write_via(&target, b"two", &dir.path().join("absent")).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
    }

    #[test]
    fn a_set_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let b = dir.path().join("sub/b.md");
        atomic_write_set(&[(&a, b"a1"), (&b, b"b1")]).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"a1");
        assert_eq!(std::fs::read(&b).unwrap(), b"b1");
        // The second target cannot be staged (its directory is a file): the
        // first must keep its old bytes, and no temp file may remain.
        let blocked = dir.path().join("blocked");
        std::fs::write(&blocked, b"").unwrap();
        let c = blocked.join("c.json");
        let err = atomic_write_set(&[(&a, b"a2"), (&c, b"c2")]).unwrap_err();
        assert_eq!(err.path, c);
        assert_eq!(std::fs::read(&a).unwrap(), b"a1");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".dcx-"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn writes_creates_parents_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/out.json");
        atomic_write(&target, b"one").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        atomic_write(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        // No temp files left behind.
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_world_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        atomic_write(&target, b"x").unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[test]
    fn failure_names_the_file_and_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a directory: the rename must fail, the dir survives.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"k").unwrap();
        let err = atomic_write(&target, b"new").unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("cannot write {}", target.display()))
        );
        assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"k");
    }
}
