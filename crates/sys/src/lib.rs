//! dcx-sys: the one place dcx talks to the operating system.
//!
//! - [`run`] supervises a child process: its own process group, a deadline
//!   and a [`Cancel`], TERM → grace → KILL of the whole group, and the group
//!   swept when the main child ends, success included, so nothing outlives
//!   the command. How it ended is one [`Termination`], with one mapping to
//!   exit codes ([`Termination::exit_code`]).
//! - [`Cancel`] is the cancellation token; binaries connect it to SIGINT,
//!   SIGTERM and SIGHUP with [`cancel_on_signals`].
//! - [`lock_exclusive`] and friends are advisory file locks (`flock`): the
//!   kernel releases them when their holder dies, so a crash never leaves a
//!   lock "held".
//! - [`temp_file_in`], [`staging_dir_in`] and [`sweep_leftovers`]: temp files
//!   and staging directories are recognisable by their prefix and locked by
//!   the process writing them, so the next run in that place removes exactly
//!   those nobody holds.
//! - [`http`] (feature `http`): the outbound-HTTP policy, https everywhere
//!   except loopback.
//!
//! Libraries call this crate; it never prints and never exits.

#[cfg(feature = "http")]
pub mod http;

mod cancel;
mod leftovers;
mod lock;
mod process;

pub use cancel::{Cancel, CancelReason, SignalError, cancel_on_signals, exit_code_for_signal};
pub use leftovers::{
    LEFTOVER_PREFIXES, STAGING_PREFIX, StagingDir, TEMP_PREFIX, staging_dir_in, sweep_leftovers, temp_file_in,
};
pub use lock::{
    LockError, LockFile, LockMode, Wait, lock, lock_directory, lock_exclusive, try_lock_directory,
    try_lock_exclusive,
};
pub use process::{Finished, Supervision, Termination, run, signal_name};
