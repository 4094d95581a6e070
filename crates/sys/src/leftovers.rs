//! Temp files and staging directories that a killed process leaves behind.
//!
//! Each carries a recognisable prefix and is locked (`flock`) by the process
//! writing it for as long as it exists under that name. The kernel drops
//! the lock when the writer dies, so [`sweep_leftovers`] removes exactly
//! the entries no live process holds: no age guess, no pid file.
//!
//! The one window, between creating the entry and locking it, is closed by
//! the writer: after it holds the lock it checks that the name still refers
//! to what it created, and starts over if a sweeper removed it meanwhile.
//! A sweeper removes an entry only while holding its lock.

use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempDir};

/// The prefix of every temp file dcx writes beside a target (then renames).
pub const TEMP_PREFIX: &str = ".dcx-tmp-";
/// The prefix of every staging directory (`.dcx-staging-<what>-<random>`).
pub const STAGING_PREFIX: &str = ".dcx-staging-";
/// Every prefix [`sweep_leftovers`] recognises.
pub const LEFTOVER_PREFIXES: [&str; 2] = [TEMP_PREFIX, STAGING_PREFIX];

/// How often creation is retried when a sweeper keeps winning the race.
const ATTEMPTS: usize = 8;

/// A new temp file in `dir`, named `.dcx-tmp-…` and locked by this process
/// until it is persisted or dropped.
pub fn temp_file_in(dir: &Path) -> io::Result<NamedTempFile> {
    for _ in 0..ATTEMPTS {
        let temp = tempfile::Builder::new().prefix(TEMP_PREFIX).tempfile_in(dir)?;
        temp.as_file().lock()?;
        if still_named(temp.path(), temp.as_file())? {
            return Ok(temp);
        }
    }
    Err(swept_away(dir))
}

/// A staging directory, removed (with its contents) when dropped, and
/// locked by this process until then.
#[derive(Debug)]
pub struct StagingDir {
    // Field order: the directory goes before its lock is released.
    dir: TempDir,
    _lock: File,
}

impl StagingDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A new staging directory `.dcx-staging-<what>-<random>` in `parent`.
pub fn staging_dir_in(parent: &Path, what: &str) -> io::Result<StagingDir> {
    let prefix = format!("{STAGING_PREFIX}{what}-");
    for _ in 0..ATTEMPTS {
        let dir = tempfile::Builder::new().prefix(&prefix).tempdir_in(parent)?;
        let lock = File::open(dir.path())?;
        lock.lock()?;
        if still_named(dir.path(), &lock)? {
            return Ok(StagingDir { dir, _lock: lock });
        }
    }
    Err(swept_away(parent))
}

/// Removes the leftovers in `dir` (its direct entries with a
/// [`LEFTOVER_PREFIXES`] prefix) that no live process holds, and returns
/// them. Entries held by a running process are left alone; a missing `dir`
/// has none.
pub fn sweep_leftovers(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !LEFTOVER_PREFIXES.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        let path = entry.path();
        // Never follow a link planted under a leftover's name.
        let file_type = entry.file_type()?;
        if file_type.is_symlink() {
            continue;
        }
        let handle = match File::open(&path) {
            Ok(handle) => handle,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        match handle.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(e)) => return Err(e),
        }
        // Held by us now; its writer is gone. Remove it before unlocking.
        let result = if file_type.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match result {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        drop(handle);
    }
    removed.sort();
    Ok(removed)
}

/// Whether `path` still names the file or directory `handle` is open on.
fn still_named(path: &Path, handle: &File) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let named = match std::fs::symlink_metadata(path) {
            Ok(named) => named,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let open = handle.metadata()?;
        Ok(named.dev() == open.dev() && named.ino() == open.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = handle;
        Ok(path.exists())
    }
}

fn swept_away(dir: &Path) -> io::Error {
    io::Error::other(format!(
        "cannot create a temp entry in {}: another process kept removing it",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_entries_stay_and_abandoned_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let held = temp_file_in(dir.path()).unwrap();
        let staging = staging_dir_in(dir.path(), "tree").unwrap();
        std::fs::write(staging.path().join("file"), b"x").unwrap();
        // What a killed process leaves: named like ours, locked by nobody.
        let abandoned_file = dir.path().join(".dcx-tmp-abandoned");
        std::fs::write(&abandoned_file, b"half").unwrap();
        let abandoned_dir = dir.path().join(".dcx-staging-tree-abandoned");
        std::fs::create_dir_all(abandoned_dir.join("deep")).unwrap();
        std::fs::write(abandoned_dir.join("deep/file"), b"x").unwrap();
        let unrelated = dir.path().join("report.json");
        std::fs::write(&unrelated, b"{}").unwrap();

        let removed = sweep_leftovers(dir.path()).unwrap();
        assert_eq!(removed, vec![abandoned_dir.clone(), abandoned_file.clone()]);
        assert!(held.path().exists());
        assert!(staging.path().join("file").exists());
        assert!(unrelated.exists());
        assert!(sweep_leftovers(&dir.path().join("missing")).unwrap().is_empty());

        let staged = staging.path().to_path_buf();
        drop(staging);
        assert!(!staged.exists());
    }

    #[test]
    fn a_persisted_temp_file_is_no_longer_a_leftover() {
        let dir = tempfile::tempdir().unwrap();
        let temp = temp_file_in(dir.path()).unwrap();
        let target = dir.path().join("artifact.json");
        temp.persist(&target).unwrap();
        assert!(sweep_leftovers(dir.path()).unwrap().is_empty());
        assert!(target.exists());
    }
}
