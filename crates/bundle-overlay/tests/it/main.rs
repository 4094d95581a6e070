//! dcx-bundle-overlay's integration tests, one binary: the committed
//! example, the bad-input table, base packages over HTTP, project locks and
//! real tools as oracles. `support` holds the shared fixtures.

mod bad_input;
mod example;
mod http;
mod install;
mod oracles;
mod support;
