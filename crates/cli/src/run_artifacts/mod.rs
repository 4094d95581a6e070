//! `dcx fleet`, `dcx runs`, `dcx dash`: the run artifact contract (seed 004)
//! over [`dcx_run_artifacts`]. This module owns what the library may not
//! touch: the clock (a [`crate::flags::now::WallClock`] is the library's
//! `Clock`), Ctrl-C, printing and exit codes.

pub(crate) mod dash;
pub(crate) mod fleet;
pub(crate) mod runs;

use std::path::PathBuf;

use clap::Args;
use dcx_contracts::LoadLimits;
use dcx_run_artifacts::DashDir;

use crate::exit::Exit;

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

/// `1 product`, `2 products`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn usage_error(message: impl std::fmt::Display) -> Exit {
    errln!("error: {message}");
    Exit::Usage
}
