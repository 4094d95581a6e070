//! dcx-contracts' integration tests, one binary: the example corpus, the
//! bad-input table with its exact messages, schema freshness and the
//! canonical-hashing vectors.

// Tests read their own knobs (seeds, tool paths, CI switches) from the
// environment: clippy.toml's clock-and-environment ban is for libraries.
#![allow(clippy::disallowed_methods)]

mod examples;
mod load_errors;
mod schemas_fresh;
mod vectors;
