//! The cancellation token shared by a command and the children it supervises.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Why a supervised run was asked to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelReason {
    /// dcx itself received this signal (SIGINT, SIGTERM, SIGHUP): it is
    /// forwarded to the child's process group.
    Signal(i32),
    /// The caller asked, for this reason (a kill switch engaged mid-run).
    Requested(String),
}

/// A cancellation token: cheap to clone, all clones see the same state.
///
/// A token made with [`Cancel::linked`] is also cancelled when its parent
/// is, so a command can add its own reasons (a kill switch) to the
/// process-wide one (signals).
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    /// The signal number that cancelled it, 0 for none. An atomic, because
    /// the signal handler sets it.
    signal: Arc<AtomicUsize>,
    requested: Arc<Mutex<Option<String>>>,
    parent: Option<Box<Cancel>>,
}

impl Cancel {
    /// A token nobody has cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// A token cancelled when `parent` is, or when cancelled itself.
    pub fn linked(parent: &Cancel) -> Self {
        Self {
            parent: Some(Box::new(parent.clone())),
            ..Self::default()
        }
    }

    /// Asks the run to stop, for `reason`. The first reason wins.
    pub fn cancel(&self, reason: impl Into<String>) {
        let mut requested = self.requested.lock().unwrap_or_else(|e| e.into_inner());
        if requested.is_none() {
            *requested = Some(reason.into());
        }
    }

    /// Records that dcx received `signal` (what the handler does; also for tests).
    pub fn cancel_by_signal(&self, signal: i32) {
        let _ = self.signal.compare_exchange(
            0,
            usize::try_from(signal).unwrap_or(0),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// Why it was cancelled, if it was. A signal, here or in a parent,
    /// wins over any request: dcx received it, so it decides dcx's exit
    /// code (130/143) even when a kill switch asked first.
    pub fn reason(&self) -> Option<CancelReason> {
        if let Some(signal) = self.own_signal() {
            return Some(CancelReason::Signal(signal));
        }
        if let Some(signal) = self.parent.as_ref().and_then(|parent| parent.signal()) {
            return Some(CancelReason::Signal(signal));
        }
        let requested = self.requested.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(reason) = requested {
            return Some(CancelReason::Requested(reason));
        }
        self.parent.as_ref().and_then(|parent| parent.reason())
    }

    fn own_signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(i32::try_from(signal).unwrap_or(i32::MAX)),
        }
    }

    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.reason().is_some()
    }

    /// The signal that cancelled it (here or in a parent), if a signal did.
    pub fn signal(&self) -> Option<i32> {
        self.own_signal()
            .or_else(|| self.parent.as_ref().and_then(|parent| parent.signal()))
    }
}

/// The signal handlers could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the SIGINT/SIGTERM handlers: {0}")]
pub struct SignalError(#[source] std::io::Error);

/// Connects SIGINT, SIGTERM and SIGHUP to `cancel`, for binaries: the first
/// such signal cancels (the supervisor forwards it to the child's group and
/// the command writes what its contract says); a second one of the same
/// kind exits at once with 128 + the signal, for a user who really means it.
///
/// Elsewhere than Unix this does nothing.
pub fn cancel_on_signals(cancel: &Cancel) -> Result<(), SignalError> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            let seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
            // Order matters: the shutdown check runs before `seen` is set,
            // so only a second signal exits.
            signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&seen))
                .map_err(SignalError)?;
            signal_hook::flag::register(signal, seen).map_err(SignalError)?;
            signal_hook::flag::register_usize(
                signal,
                Arc::clone(&cancel.signal),
                usize::try_from(signal).unwrap_or(0),
            )
            .map_err(SignalError)?;
        }
    }
    #[cfg(not(unix))]
    {
        let _ = cancel;
    }
    Ok(())
}

/// The exit code of a command that stopped because it received `signal`:
/// 128 + the signal (130 for SIGINT, 143 for SIGTERM), the shell's convention.
pub fn exit_code_for_signal(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins_and_links_see_their_parent() {
        let root = Cancel::new();
        let child = Cancel::linked(&root);
        assert_eq!(child.reason(), None);
        root.cancel("operator");
        root.cancel("later");
        assert_eq!(child.reason(), Some(CancelReason::Requested("operator".into())));
        // A signal dcx received outranks the request that came first.
        root.cancel_by_signal(15);
        assert_eq!(child.reason(), Some(CancelReason::Signal(15)));
        assert_eq!(root.reason(), Some(CancelReason::Signal(15)));
        assert_eq!(child.signal(), Some(15));
        let other = Cancel::new();
        other.cancel("switch");
        assert_eq!(other.signal(), None);
    }

    #[test]
    fn signals_map_to_the_shell_codes() {
        assert_eq!(exit_code_for_signal(2), 130);
        assert_eq!(exit_code_for_signal(15), 143);
    }
}
