//! Runner status exchange (seeds 000 and 001): the report producer, the
//! registry-driven ingest that turns runner release assets into the
//! compatibility matrix, and the freshness merge gate.
//!
//! Not implemented yet; see the status exchange issue. The documents it reads
//! and writes already live in [`dcx_contracts::status`].
