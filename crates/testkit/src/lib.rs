//! Dev-only scaffolding shared by dcx's integration tests and the benches
//! of `cargo xtask bench`, so that each exists once:
//!
//! - [`Server`]: a real HTTP/1.1 server on `127.0.0.1`, port 0, serving
//!   [`Canned`] responses per path (status, headers, bytes, a delay, a
//!   [`Gate`] the test opens) and recording what it saw;
//!   [`RawServer`]: a TCP server for the failures HTTP servers refuse to
//!   produce (resets, truncated bodies).
//! - [`Lane`], [`registry_yaml`], [`registry_json`]: runner certification
//!   registries of any size, in the shapes the status ingest and the
//!   certification read; [`report`], [`release`]: the status exchange's
//!   reports and release metadata.
//! - [`example_fleet`], [`bad_fleet`]: dash directories, the bundled
//!   example and one product per bad input.
//!
//! Not a library of the product: it panics on setup failures (a test that
//! cannot bind a loopback port has nothing to test), except where the
//! benches need an error to report ([`Server::try_start`]).

mod fleet;
mod http;
mod registry;

pub use fleet::{SCRIPT_NAME, SCRIPT_REASON, SCRIPT_SUMMARY, bad_fleet, copy_dir, example_fleet};
pub use http::{Canned, Gate, Misbehave, RawServer, Seen, Server};
pub use registry::{CATALOG, Lane, REPORT_ASSET, registry_json, registry_yaml, release, report};
