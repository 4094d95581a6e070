//! dcx-status-ingest's integration tests, one binary: the bad-input table,
//! HTTP behaviour, the scenario table, rollback protection, publishing, the
//! producer, the example local lanes and the docs table. `support` holds the
//! loopback server and fixtures.

mod bad_input;
mod docs;
mod http;
mod local_lanes;
mod producer;
mod publish;
mod rollback;
mod scenarios;
mod support;
