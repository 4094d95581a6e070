//! Time and cancellation, supplied by the caller.
//!
//! The library never reads the clock itself, so the binary can pin the wall
//! clock with `--now` and every artifact comes out byte for byte the same,
//! while budgets are still measured on a real monotonic clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Where the library gets time from.
pub trait Clock: Send + Sync {
    /// The current wall-clock instant: run ids, `started_at`, the "rendered
    /// at" line of the dashboard.
    fn now(&self) -> jiff::Timestamp;

    /// A monotonic reading, for measuring durations and enforcing budgets;
    /// unaffected by changes to the wall clock.
    fn monotonic(&self) -> Instant;
}

/// A cancellation request shared between a signal handler and the library.
///
/// Cloning shares the flag: the binary keeps one clone in its Ctrl-C handler
/// and passes another to [`record`](crate::record::record).
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the work in progress to stop; safe to call from any thread, any
    /// number of times.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let flag = CancelFlag::new();
        let handler_side = flag.clone();
        assert!(!flag.is_cancelled());
        handler_side.cancel();
        assert!(flag.is_cancelled());
    }
}
