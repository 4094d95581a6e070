//! dcx-certification's integration tests, one binary: `certify` against the
//! fixture adapter and `verify` against the vectors and the registry.
//! `support` holds the shared fixtures.

mod certify;
mod support;
mod verify;
