//! dcx end to end: the built `dcx` binary spawned on real directories, with
//! real processes, signals, closed outputs and a real browser. One test
//! binary, compiled as the `e2e` test of the `dcx` crate
//! (`cargo test -p dcx --test e2e`), so `CARGO_BIN_EXE_dcx` is the binary
//! under test. `support` holds what the modules share.

// Tests read their own knobs (seeds, tool paths, CI switches) from the
// environment: clippy.toml's clock-and-environment ban is for libraries.
#![allow(clippy::disallowed_methods)]

mod bundle;
mod bundle_concurrency;
mod certify;
mod certify_concurrency;
mod crash_safety;
mod dash_browser;
mod run_artifacts;
mod runs_concurrency;
mod status;
mod status_concurrency;
mod status_concurrency_report;
mod support;
mod validate;
