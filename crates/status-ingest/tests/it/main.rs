//! dcx-status-ingest's integration tests, one binary: the bad-input table,
//! HTTP behaviour, the scenario table, rollback protection, publishing, the
//! producer and the example local lanes. `support` holds the
//! loopback server and fixtures.

mod bad_input;
mod http;
mod local_lanes;
mod producer;
mod publish;
mod rollback;
mod scenarios;
mod support;
