//! `dcx`: the command-line front end. It parses arguments, turns them into
//! settings (`flags`), calls the libraries, prints (`output`) and ends with
//! a status of the exit table (`exit`); nothing else lives here. Each
//! command family has a module of its own: `validate`, `certify`, `bundle`,
//! `status`, `run_artifacts` (fleet, runs, dash).

// No `println!` here: every line goes through `output`'s macros, which
// never panic (the workspace lints deny the std print macros).

// First, so its macros are in scope in every module after it.
#[macro_use]
mod output;

mod bundle;
mod certify;
mod exit;
mod flags;
mod progress;
mod run_artifacts;
mod status;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

#[derive(Parser)]
#[command(name = "dcx", version, about = "The control plane for runner contracts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    documents: flags::size::DocumentLimitsArg,
}

#[derive(Subcommand)]
enum Command {
    /// Validate contract documents (type, version, semantic rules).
    ///
    /// Exit 0 when every file is valid, 1 when any is not, 2 on usage errors.
    Validate(validate::ValidateArgs),
    /// Certify a runner lane: run its adapter's commands and governance
    /// checks, resolve its conformance cases, and write
    /// `runner-certification-<runner>.{json,md}` with intent-v1 / json-c14n-v1
    /// proofs; or `certify verify` a certificate.
    ///
    /// Exit 0 when the certificate passes, 1 when a check fails, 2 on usage
    /// or configuration errors.
    Certify(certify::CertifyArgs),
    /// Implementation spec bundles: `build-impl`, `package-impl`, `build`,
    /// `package-check`, and project locks (`install`, `install-check`).
    ///
    /// Exit 0 on success, 1 on a checksum or verification mismatch, 2 on
    /// usage or configuration errors.
    Bundle(bundle::BundleArgs),
    /// The runner status exchange: `ingest` release reports into the
    /// matrix, `check-freshness` (the merge gate), `report` (for a runner's
    /// release job).
    Status(status::StatusArgs),
    /// The fleet registry (products.json): `register` a product, `list`.
    Fleet(run_artifacts::fleet::FleetArgs),
    /// Product runs: `record` a test run under its budget and kill switch,
    /// `kill-switch`, `gc` old runs, `validate` the artifacts.
    Runs(run_artifacts::runs::RunsArgs),
    /// The Dash dashboard: `render` the page, `serve` it with its evidence.
    Dash(run_artifacts::dash::DashArgs),
}

fn main() -> ExitCode {
    let exit = match Cli::try_parse() {
        Ok(cli) => run(cli),
        // Help, version and usage errors, printed through `output` so that
        // `dcx --help > /dev/full` is an error too, not a silent 0.
        Err(error) => output::clap_error(&error),
    };
    output::finish(exit)
}

fn run(cli: Cli) -> Exit {
    let documents = cli.documents.limits();
    match cli.command {
        Command::Validate(args) => validate::run(args, documents),
        Command::Certify(args) => certify::run(args, documents),
        Command::Bundle(args) => bundle::run(args, documents),
        Command::Status(args) => status::run(args, documents),
        Command::Fleet(args) => run_artifacts::fleet::run(args, documents),
        Command::Runs(args) => run_artifacts::runs::run(args, documents),
        Command::Dash(args) => run_artifacts::dash::run(args, documents),
    }
}
