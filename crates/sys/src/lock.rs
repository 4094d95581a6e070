//! Advisory file locks (`flock(2)` through `std::fs::File::lock`).
//!
//! The kernel releases a lock when the file is closed, which includes its
//! holder dying by any signal: a crash never leaves a lock "held", so no
//! lock is ever broken by age or by a pid guess. Lock files stay where they
//! are (deleting one while another process waits on it would give two
//! holders); they are small, and their text names the last exclusive
//! holder's pid for the "waiting for …" message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Shared (many readers) or exclusive (one writer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Any number of shared holders, no exclusive one.
    Shared,
    /// One holder.
    Exclusive,
}

/// What to do when another process holds the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait until it is released.
    Block,
    /// Fail at once with [`LockError::Busy`].
    Fail,
}

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct LockFile {
    file: File,
    path: PathBuf,
}

impl LockFile {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file could not be created, opened or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// Another process holds it and the caller chose not to wait.
    #[error("{} is locked by another dcx process{}; try again when it has finished", path.display(), holder_text(*holder))]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// The pid the holder wrote, when it wrote one.
        holder: Option<u32>,
    },
}

fn holder_text(holder: Option<u32>) -> String {
    holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
}

/// Takes the lock at `path` (creating the file and its parent directories),
/// waiting or failing as `wait` says. `on_wait` is called once, before
/// blocking, with the holder's pid when known, so a binary can say what it
/// is waiting for.
pub fn lock(
    path: &Path,
    mode: LockMode,
    wait: Wait,
    on_wait: impl FnOnce(Option<u32>),
) -> Result<LockFile, LockError> {
    let fail = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(fail)?;
    let attempt = match mode {
        LockMode::Shared => file.try_lock_shared(),
        LockMode::Exclusive => file.try_lock(),
    };
    match attempt {
        Ok(()) => {}
        Err(TryLockError::Error(source)) => return Err(fail(source)),
        Err(TryLockError::WouldBlock) => {
            let holder = read_holder(&mut file);
            if wait == Wait::Fail {
                return Err(LockError::Busy {
                    path: path.to_path_buf(),
                    holder,
                });
            }
            on_wait(holder);
            match mode {
                LockMode::Shared => file.lock_shared(),
                LockMode::Exclusive => file.lock(),
            }
            .map_err(fail)?;
        }
    }
    if mode == LockMode::Exclusive {
        // Best effort: the pid is for messages only, never for deciding.
        let _ = write_holder(&mut file);
    }
    Ok(LockFile {
        file,
        path: path.to_path_buf(),
    })
}

/// [`lock`] in exclusive mode.
pub fn lock_exclusive(
    path: &Path,
    wait: Wait,
    on_wait: impl FnOnce(Option<u32>),
) -> Result<LockFile, LockError> {
    lock(path, LockMode::Exclusive, wait, on_wait)
}

/// The exclusive lock at `path` if nobody holds it now; `None` when
/// somebody does. Creates the lock file (and its directory) like [`lock`].
pub fn try_lock_exclusive(path: &Path) -> Result<Option<LockFile>, LockError> {
    match lock(path, LockMode::Exclusive, Wait::Fail, |_| {}) {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::Busy { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// An exclusive lock on the directory `dir` itself (no lock file: for
/// stores whose layout must not gain an entry). A directory is never
/// replaced by a rename, so the lock guards what it names. No holder pid
/// can be recorded, so `on_wait` gets `None`.
pub fn lock_directory(
    dir: &Path,
    wait: Wait,
    on_wait: impl FnOnce(Option<u32>),
) -> Result<LockFile, LockError> {
    let fail = |source| LockError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let file = File::open(dir).map_err(fail)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::Error(source)) => return Err(fail(source)),
        Err(TryLockError::WouldBlock) if wait == Wait::Fail => {
            return Err(LockError::Busy {
                path: dir.to_path_buf(),
                holder: None,
            });
        }
        Err(TryLockError::WouldBlock) => {
            on_wait(None);
            file.lock().map_err(fail)?;
        }
    }
    Ok(LockFile {
        file,
        path: dir.to_path_buf(),
    })
}

/// [`lock_directory`] if nobody holds it now; `None` when somebody does.
pub fn try_lock_directory(dir: &Path) -> Result<Option<LockFile>, LockError> {
    match lock_directory(dir, Wait::Fail, |_| {}) {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::Busy { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

fn read_holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(64).read_to_string(&mut text).ok()?;
    text.trim().strip_prefix("pid ")?.parse().ok()
}

fn write_holder(file: &mut File) -> io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "pid {}", std::process::id())
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Closing releases it too; unlocking first makes the order explicit.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_exclusive_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/store.lock");
        let first = lock_exclusive(&path, Wait::Fail, |_| {}).unwrap();
        match lock_exclusive(&path, Wait::Fail, |_| {}) {
            Err(LockError::Busy { holder, .. }) => assert_eq!(holder, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        assert!(try_lock_exclusive(&path).unwrap().is_none());
        drop(first);
        assert!(try_lock_exclusive(&path).unwrap().is_some());
    }

    #[test]
    fn a_directory_lock_excludes_a_second_holder_and_adds_no_entry() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_directory(dir.path(), Wait::Fail, |_| {}).unwrap();
        assert!(try_lock_directory(dir.path()).unwrap().is_none());
        assert!(matches!(
            lock_directory(dir.path(), Wait::Fail, |_| {}),
            Err(LockError::Busy { holder: None, .. })
        ));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        drop(held);
        assert!(try_lock_directory(dir.path()).unwrap().is_some());
    }

    #[test]
    fn shared_holders_coexist_and_keep_out_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.lock");
        let a = lock(&path, LockMode::Shared, Wait::Fail, |_| {}).unwrap();
        let _b = lock(&path, LockMode::Shared, Wait::Fail, |_| {}).unwrap();
        assert!(try_lock_exclusive(&path).unwrap().is_none());
        drop(a);
        assert!(try_lock_exclusive(&path).unwrap().is_none());
    }

    #[test]
    fn a_blocked_waiter_is_told_and_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.lock");
        let first = lock_exclusive(&path, Wait::Fail, |_| {}).unwrap();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut told = None;
                let lock = lock_exclusive(&path, Wait::Block, |holder| told = Some(holder)).unwrap();
                (told, lock)
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(first);
        let (told, _lock) = waiter.join().unwrap();
        assert_eq!(told, Some(Some(std::process::id())));
    }
}
