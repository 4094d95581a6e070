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
    let fail = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".dcx-tmp-")
        .tempfile_in(dir)
        .map_err(fail)?;
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
    temp.persist(path).map_err(|e| fail(e.error))?;
    sync_dir(dir).map_err(fail)?;
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
