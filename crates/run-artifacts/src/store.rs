//! Many writers in one dash directory: the locks, the order they are taken
//! in, the marker of a run being recorded, and the sweep of leftovers.
//!
//! # The locks
//!
//! Every lock is an advisory `flock(2)` (`dcx_sys::lock_directory`) on a
//! **directory** the layout has anyway. A directory is never replaced by a
//! rename (a file such as `products.json` is, so a lock on it would guard
//! the old inode only), and locking it adds no file to the layout. The
//! kernel releases a lock when its holder dies, by any signal, so a crash
//! never leaves a lock "held": nothing is ever broken by age or pid.
//!
//! | lock | on | held by | guards |
//! |---|---|---|---|
//! | fleet | the dash directory | `fleet register` | the read–modify–write of `products.json` and `schemas/` |
//! | product | `runs/<product>/` | `runs record` (twice, briefly), `runs kill-switch`, `runs gc` | allocating a run directory, the read–modify–write of `last_run.json` (report, kill switch), removing run directories |
//! | run | `runs/<product>/<run_id>/` | its recorder, from allocation until its report is written | "this run is being recorded": gc never removes it |
//! | page | the directory `dash render` writes to | `dash render` | reading the fleet and writing the page as one step, so a page never replaces a newer one |
//!
//! # The order
//!
//! 1. **Product lock before run lock.** A run lock is first taken while its
//!    product lock is held (allocation: the directory is created, locked
//!    and marked [`RECORDING_MARKER`] before the product lock is released),
//!    so `gc`, which plans and removes under the product lock, never sees a
//!    run directory that is new but not yet locked.
//! 2. **Nobody waits for a run lock** but nobody needs to: `gc` and
//!    `validate` only *try* it (`try_lock_dir`) and treat "busy" as "in
//!    flight". That is why the one place a run lock is held while waiting
//!    for a product lock, a recorder publishing its report, cannot
//!    deadlock: no holder of a product lock ever waits for a run lock.
//! 3. **Several product locks in product-id order** (`gc` of all products);
//!    every other command holds at most one.
//! 4. **The fleet and page locks are held alone**: no other lock is taken
//!    while one is held.
//!
//! Readers do not lock: every document is replaced by an atomic rename, so
//! a reader sees the old file or the new one. The kill-switch watcher of a
//! recorder reads `last_run.json` that way.
//!
//! # Leftovers
//!
//! Temp files are `.dcx-tmp-*`, locked by their writer (dcx-sys); the next
//! `record`, `gc`, `fleet register` or `dash render` in a place removes the
//! ones no live process holds (`sweep_product`, [`dcx_sys::sweep_leftovers`]).
//!
//! Limits: flock is per host; on a network file system it may be emulated
//! or absent, and two hosts writing one dash directory are not serialized.

use std::io;
use std::path::{Path, PathBuf};

use crate::layout::{DashDir, EVIDENCE_DIR, ProductId};

/// The file in a run directory that says its run is being recorded: written
/// with the run lock held at allocation, removed once the report is
/// written. Left behind (with its lock free) by a recorder that was killed.
pub(crate) const RECORDING_MARKER: &str = ".dcx-recording";

/// A held lock on a directory; released when dropped or when the process
/// dies.
pub(crate) type DirLock = dcx_sys::LockFile;

/// Locks `dir`, waiting for another holder to finish.
pub(crate) fn lock_dir(dir: &Path) -> io::Result<DirLock> {
    dcx_sys::lock_directory(dir, dcx_sys::Wait::Block, |_| {}).map_err(into_io)
}

/// Locks `dir` if nobody holds it now; `None` when somebody does.
pub(crate) fn try_lock_dir(dir: &Path) -> io::Result<Option<DirLock>> {
    dcx_sys::try_lock_directory(dir).map_err(into_io)
}

fn into_io(error: dcx_sys::LockError) -> io::Error {
    match error {
        dcx_sys::LockError::Io { source, .. } => source,
        busy @ dcx_sys::LockError::Busy { .. } => io::Error::new(io::ErrorKind::WouldBlock, busy.to_string()),
    }
}

/// What a run directory's marker and lock say about it.
#[derive(Debug)]
pub(crate) enum RunState {
    /// No marker: its report was written (or it predates dcx).
    Finished,
    /// Marked and locked: a live recorder is writing it.
    InFlight,
    /// Marked, lock free: its recorder died before writing the report. The
    /// lock is held now, by the caller.
    Abandoned(DirLock),
}

/// The state of the run directory `run_dir`.
pub(crate) fn run_state(run_dir: &Path) -> io::Result<RunState> {
    match std::fs::symlink_metadata(run_dir.join(RECORDING_MARKER)) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(RunState::Finished),
        Err(e) => return Err(e),
    }
    Ok(match try_lock_dir(run_dir)? {
        Some(lock) => RunState::Abandoned(lock),
        None => RunState::InFlight,
    })
}

/// Removes the leftovers no live process holds in a product's directory,
/// its run directories and their `evidence/`. Returns what was removed and
/// the directories that could not be swept (with why): a sweep that fails
/// costs disk space, never a run.
pub(crate) fn sweep_product(dash: &DashDir, product: &ProductId) -> (Vec<PathBuf>, Vec<String>) {
    let product_dir = dash.product_dir(product);
    let mut dirs = vec![product_dir.clone()];
    match dash.run_ids(product) {
        Ok(runs) => {
            for run in runs {
                let run_dir = product_dir.join(run);
                dirs.push(run_dir.join(EVIDENCE_DIR));
                dirs.push(run_dir);
            }
        }
        Err(e) => {
            return (
                Vec::new(),
                vec![format!("cannot sweep {}: {e}", product_dir.display())],
            );
        }
    }
    let mut removed = Vec::new();
    let mut problems = Vec::new();
    for dir in dirs {
        match dcx_sys::sweep_leftovers(&dir) {
            Ok(mut swept) => removed.append(&mut swept),
            Err(e) => problems.push(format!("cannot sweep {}: {e}", dir.display())),
        }
    }
    removed.sort();
    (removed, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_dir(dir.path()).unwrap();
        assert!(try_lock_dir(dir.path()).unwrap().is_none());
        drop(held);
        assert!(try_lock_dir(dir.path()).unwrap().is_some());
    }

    #[test]
    fn a_run_is_finished_in_flight_or_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run_20260220_120000_000000");
        std::fs::create_dir(&run).unwrap();
        assert!(matches!(run_state(&run).unwrap(), RunState::Finished));
        std::fs::write(run.join(RECORDING_MARKER), "").unwrap();
        let recorder = lock_dir(&run).unwrap();
        assert!(matches!(run_state(&run).unwrap(), RunState::InFlight));
        drop(recorder);
        let RunState::Abandoned(lock) = run_state(&run).unwrap() else {
            panic!("a marked run with a free lock is abandoned");
        };
        assert!(try_lock_dir(&run).unwrap().is_none(), "the caller holds it now");
        drop(lock);
    }
}
