//! `cargo xtask`: the maintainer and CI tasks of the dcx workspace. Every
//! task that runs a dcx feature runs the `dcx` binary (built by
//! `cargo.rs`), never the feature libraries.
//!
//! - `schemas [--check]`: write (or check) `specs/schemas/*.schema.json` from the Rust types;
//! - `governance`: check everything under `specs/` and write `.artifacts/governance-summary.{json,md}`;
//! - `tidy`: the house rules — crate layers, no clock or environment in libraries, workspace lints, the code map;
//! - `certify --runner <id>`: `dcx certify` a lane of the registry, writing `.artifacts/runner-certification-<id>.{json,md}`;
//! - `ingest` / `check-freshness`: the status exchange's main job and merge gate (`dcx status …`);
//! - `bundle example` / `bundle <verb>`: the committed overlay example end to end; `dcx bundle <verb>`;
//! - `bench runner`: `runner help`/`info` against `/bin/true`, side by side (docs/PERFORMANCE.md);
//! - `bench ingest`: the status ingest over a slow loopback server and over 10,000 local lanes;
//! - `bench bundle`: an overlay build + package of 20,000 files against GNU tools, side by side;
//! - `bench runs`: `dash render` and `runs gc --dry-run` over 1,000 products x 100 runs, `runs record`'s overhead;
//! - `fuzz [--seconds N] [TARGET…]`: seed, build and run the fuzz targets of `fuzz/` (docs/SECURITY.md);
//! - `ci`: run exactly what CI runs (fmt, tidy, clippy, tests, docs, schemas, governance).
//!
//! Exit codes: 0 success, 1 a check failed, 2 usage or environment error
//! (the tasks that run dcx exit with dcx's own code).

#![allow(clippy::print_stdout, clippy::print_stderr)]
// xtask is where the workspace's environment becomes settings (`CARGO`,
// `CARGO_TARGET_DIR`, `PATH`): the clock-and-environment rule of
// clippy.toml is for the libraries.
#![allow(clippy::disallowed_methods)]

mod bench;
mod bundle;
mod cargo;
mod certify;
mod ci;
mod fuzz;
mod governance;
mod ingest;
mod schemas;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Maintainer and CI tasks for dcx")]
struct Cli {
    /// The workspace to check instead of this one (for tests).
    #[arg(long, global = true, hide = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate `specs/schemas/<id>.schema.json` from the document types.
    Schemas {
        /// Do not write; exit 1 if the committed files differ from the types.
        #[arg(long)]
        check: bool,
    },
    /// Check the specs (schemas fresh, documents valid, registry consistent,
    /// catalog pins) and write .artifacts/governance-summary.{json,md}.
    Governance {
        /// Where the summary files go.
        #[arg(long, default_value = ".artifacts")]
        out_dir: PathBuf,
    },
    /// Check the house rules no compiler checks: crate layers, no clock or
    /// environment in libraries, workspace lints everywhere, every source
    /// file in docs/ARCHITECTURE.md's code map.
    Tidy,
    /// Run what CI runs: fmt, tidy, clippy, the tests, docs, schemas
    /// --check, governance.
    Ci,
    /// Benchmark the release binaries against a baseline, side by side
    /// (`runner`, `ingest`, `bundle`, `runs`; targets in docs/PERFORMANCE.md).
    Bench(bench::BenchArgs),
    /// Implementation bundles: `example` builds, packages and checks the
    /// committed overlay example into .artifacts/bundle-example; any other
    /// verb runs `dcx bundle <verb> …`.
    Bundle(bundle::BundleArgs),
    /// Certify a runner lane of specs/runner_certification_registry_v1.yaml
    /// (runs `dcx certify`) and write `.artifacts/runner-certification-<id>.{json,md}`.
    Certify(certify::CertifyArgs),
    /// Ingest runner status reports into .artifacts/runner-status-matrix.{json,md}
    /// and runner-status-ingest-log.json (runs `dcx status ingest`). Without
    /// arguments: the example lanes under specs/examples/, offline; pass
    /// `--registry specs/runner_certification_registry_v1.yaml` for the real
    /// lanes. Any `dcx status ingest` flag is accepted (`--help` lists them).
    Ingest(ingest::PassThrough),
    /// Seed, build and run the fuzz targets of `fuzz/` with cargo-fuzz on
    /// the stable toolchain (20 s each by default; docs/SECURITY.md) and
    /// write .artifacts/fuzz-summary.md.
    Fuzz(fuzz::FuzzArgs),
    /// The freshness merge gate over .artifacts/runner-status-matrix.json (as
    /// `dcx status check-freshness`): exit 1 on a breach.
    CheckFreshness(ingest::PassThrough),
}

/// The workspace root, whatever directory cargo was started from.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(workspace_root);
    match cli.command {
        Command::Schemas { check } => schemas::run(&root, check),
        Command::Governance { out_dir } => {
            let out_dir = if out_dir.is_absolute() {
                out_dir
            } else {
                root.join(out_dir)
            };
            governance::run(&root, &out_dir)
        }
        Command::Tidy => tidy::run(&root),
        Command::Ci => ci::run(&root),
        Command::Bench(args) => bench::run(&root, &args),
        Command::Bundle(args) => bundle::run(&root, &args),
        Command::Certify(args) => certify::run(&root, args),
        Command::Ingest(args) => ingest::ingest(&root, &args),
        Command::Fuzz(args) => fuzz::run(&root, &args),
        Command::CheckFreshness(args) => ingest::check_freshness(&root, &args),
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, ValueEnum};

    /// The task list at the top of this file.
    fn task_list() -> String {
        include_str!("main.rs")
            .lines()
            .take_while(|line| line.starts_with("//!"))
            .filter_map(|line| line.strip_prefix("//! - "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_doc_comment_lists_every_task() {
        let list = task_list();
        for task in super::Cli::command().get_subcommands() {
            let name = task.get_name();
            if name == "bench" {
                continue;
            }
            assert!(
                list.contains(&format!("`{name}")),
                "`{name}` is missing from main.rs's task list"
            );
        }
        for target in crate::bench::Target::value_variants() {
            let name = target.to_possible_value().expect("no hidden targets");
            let name = name.get_name();
            assert!(
                list.contains(&format!("`bench {name}")),
                "`bench {name}` is missing from main.rs's task list"
            );
        }
    }
}
