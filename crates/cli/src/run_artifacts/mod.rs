//! `dcx fleet`, `dcx runs`, `dcx dash`: the run artifact contract (seed 004)
//! over [`dcx_run_artifacts`]. This module owns what the library may not
//! touch: the clock, Ctrl-C, printing and exit codes.

pub(crate) mod dash;
pub(crate) mod fleet;
pub(crate) mod runs;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use dcx_contracts::{LoadLimits, Timestamp};
use dcx_run_artifacts::{Clock, DashDir};

/// Exit code: usage or configuration error.
const USAGE: u8 = 2;

/// The dash directory option every run-artifact command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct DashDirArg {
    /// The dash directory: products.json, schemas/, runs/…
    #[arg(long, global = true, value_name = "DIR", default_value = "dash")]
    dash_dir: PathBuf,
}

impl DashDirArg {
    /// The dash directory, its documents capped by `--max-document-bytes`.
    fn dash(&self, documents: LoadLimits) -> DashDir {
        DashDir::new(&self.dash_dir).with_load_limits(documents)
    }
}

/// `--now`: an RFC 3339 instant that pins the wall clock (tests,
/// reproducible artifacts). Durations are still measured for real.
fn parse_now(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).map_err(|e| e.to_string())
}

/// The system clock, with the wall clock pinned when `--now` was given.
pub(crate) struct SystemClock {
    frozen: Option<jiff::Timestamp>,
}

impl SystemClock {
    pub(crate) fn new(now: Option<Timestamp>) -> Self {
        Self {
            frozen: now.map(|t| t.as_jiff()),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        self.frozen.unwrap_or_else(jiff::Timestamp::now)
    }

    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// `1 product`, `2 products`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    errln!("error: {message}");
    ExitCode::from(USAGE)
}
