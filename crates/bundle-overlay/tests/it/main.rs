//! dcx-bundle-overlay's integration tests, one binary: the committed
//! example, the bad-input table, base packages over HTTP, project locks and
//! real tools as oracles. `support` holds the shared fixtures.

// Tests read their own knobs (seeds, tool paths, CI switches) from the
// environment: clippy.toml's clock-and-environment ban is for libraries.
#![allow(clippy::disallowed_methods)]

mod bad_input;
mod example;
mod http;
mod install;
mod oracles;
mod support;
