//! dcx-contracts' integration tests, one binary: the example corpus, the
//! bad-input table with its exact messages, schema freshness and the
//! canonical-hashing vectors.

mod examples;
mod load_errors;
mod schemas_fresh;
mod vectors;
