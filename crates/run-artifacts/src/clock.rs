//! Time, supplied by the caller. (Cancellation is [`dcx_sys::Cancel`].)
//!
//! The library never reads the clock itself, so the binary can pin the wall
//! clock with `--now` and every artifact comes out byte for byte the same,
//! while budgets are still measured on a real monotonic clock.

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
