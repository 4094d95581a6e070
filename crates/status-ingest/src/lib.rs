//! The runner status exchange (seeds 000 and 001).
//!
//! | operation | entry points |
//! |---|---|
//! | `dcx status report`: run a runner's release commands, hash its artifacts, write `runner-status-report-v1.json` and its sidecar | [`run_commands`], [`hash_artifacts`], [`build_report`], [`write_report`] |
//! | `dcx status ingest`: every registry lane's release metadata and report, fetched concurrently over HTTP (retries, an `ETag` cache) or read from local files, validated, judged by the freshness policy, and turned into the matrix, the ingest log and the Markdown matrix | [`lock_set`], [`ingest`] / [`ingest_blocking`], [`SetLock::publish`] |
//! | `dcx status check-freshness`: the merge gate over the published matrix | [`check_published`] |
//!
//! A state file remembers each lane's newest accepted report, so an older
//! one is detected as a rollback. The matrix, the log, the Markdown matrix
//! and the state file are one set, published together.
//!
//! # Publishing a set
//!
//! Many ingests may share one out directory (matrix jobs in CI, a cron
//! ingest overlapping a manual one). The rules:
//!
//! - **Every file its own.** [`lock_set`] refuses a set whose state file is
//!   also an artifact, or two of whose artifacts resolve to one file however
//!   they are spelled (`out/./m.json`, a symlinked directory): one would
//!   overwrite the other.
//! - **One writer at a time.** [`lock_set`] takes an exclusive advisory lock
//!   (`.dcx-ingest.lock`) in every directory the set is written to, in
//!   sorted order, *before* the state file is read (the
//!   ingest reads the state named by [`SetLock::inputs`], the one locked),
//!   and the [`SetLock`] holds it until [`SetLock::publish`] has renamed the
//!   last file. The state's read–modify–write (rollback detection reads the
//!   previous state, the new state moves it forward) therefore never
//!   interleaves with another ingest's: the second one waits (or, with
//!   [`Wait::Fail`](dcx_sys::Wait::Fail), stops with
//!   [`PublishError::Busy`]) and then reads the state the first one wrote. The kernel releases the lock when its holder
//!   dies, so a killed ingest never leaves the directory "locked".
//! - **Leftovers swept.** Under the lock, the `.dcx-tmp-*` files a killed
//!   writer left in those directories (those no live process holds) are
//!   removed ([`dcx_sys::sweep_leftovers`]).
//! - **Whole or not at all.** Every file of the set is written to its temp
//!   file and flushed to disk before the first rename
//!   ([`dcx_contracts::atomic_write_set`]), so a failure while writing (a
//!   full disk) leaves the previous complete set; the renames go log,
//!   Markdown, matrix, then the state file last (the state never gets ahead
//!   of the published matrix).
//! - **One set id.** Every file carries the same set id: `set_id` in the
//!   matrix, the log and the state file, and a last-line
//!   comment `<!-- dcx-set-id: … -->` in the Markdown. Only a crash between
//!   two renames can still leave a mixed set; [`check_published`] (and so
//!   `dcx status check-freshness`) detects it. The id is derived from the
//!   log, Markdown and matrix (not the state, which carries history), so
//!   the same ingest at the same `now` gives the same bytes whatever came
//!   before (artifacts stay reproducible), and two sets that share an id
//!   have the same log, Markdown and matrix.
//! - **Readers are not fooled by a set half-renamed.** A reader that finds
//!   the set mixed takes `.dcx-ingest.lock` shared, which waits for a writer
//!   still at work, and reads again: only what it then finds is reported
//!   ([`check_published`]). A whole set needs no lock at all.
//!
//! Like every dcx library it never prints, exits, reads the clock or the
//! environment: `now`, the token and every setting are arguments, results
//! and errors are typed, and progress goes to a [`Progress`] the caller
//! supplies.

#![deny(missing_docs)]
// Every type a caller can receive is also one it can name.
#![warn(unnameable_types)]

mod cache;
mod gate;
mod ingest;
mod policy;
mod producer;
mod publish;
mod render;
mod retry;
mod source;
mod state;
mod triage;

pub use gate::{GateError, GateReport, GateSettings, check_published};
pub use ingest::{
    ArtifactPaths, ConfigError, IngestInputs, IngestOutcome, IngestSettings, LOG_JSON, MATRIX_MD, Progress,
    Silent, ingest, ingest_blocking,
};
pub use policy::{Breach, DEFAULT_MAX_AGE_HOURS, freshness_name, status_name};
pub use producer::{
    CommandRun, ProducerError, ReportIdentity, build_report, hash_artifacts, report_sidecar_path,
    report_supervision, run_commands, write_report,
};
pub use publish::{PublishError, Published, SetError, SetLock, SetPaths, lock_set};
pub use render::{Attention, Verdict, attention};
pub use retry::RetryPolicy;
pub use source::{DEFAULT_METADATA_CAP, DEFAULT_REPORT_CAP, FetchSettings, HttpClientError, Token};
pub use state::StateUpdate;
pub use triage::FailureSignature;
