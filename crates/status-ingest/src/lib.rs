//! The runner status exchange (seeds 000 and 001).
//!
//! - **Producer** ([`producer`]): what a runner's release job runs to publish
//!   `runner-status-report-v1.json` (`dcx status report`).
//! - **Ingest** ([`ingest`](mod@ingest)): every registry lane's release metadata and
//!   report, fetched concurrently over HTTP ([`source`], [`retry`], [`cache`])
//!   or from local files, validated against the contracts and the schema
//!   catalog's pin, judged by the freshness [`policy`], and turned into the
//!   matrix, the ingest log and the Markdown matrix ([`render`], [`triage`])
//!   (`dcx status ingest`, `cargo xtask ingest`). A state file remembers
//!   each lane's newest accepted report, so an older one is detected as a
//!   rollback ([`state`]). The four files are one set, published together
//!   under a lock on the out directory and carrying one set id ([`publish`]).
//! - **Gate** ([`gate`]): the merge gate over the matrix artifact
//!   (`dcx status check-freshness`, `cargo xtask check-freshness`).
//!
//! Like every dcx library it never prints, exits, reads the clock or the
//! environment: `now`, the token and every setting are arguments, results
//! and errors are typed, and progress goes to a [`ingest::Progress`] the
//! caller supplies.

pub mod cache;
pub mod gate;
pub mod ingest;
pub mod policy;
pub mod producer;
pub mod publish;
pub mod render;
pub mod retry;
pub mod source;
pub mod state;
pub mod triage;

pub use ingest::{
    ArtifactPaths, IngestInputs, IngestOutcome, IngestSettings, Progress, Silent, ingest, ingest_blocking,
};
pub use publish::{Published, SetLock, SetPaths, lock_set};
pub use source::{FetchSettings, Token};
