//! `dcx`: the command-line front end. It parses arguments, calls the
//! libraries, prints, and chooses exit codes (0 success, 1 negative verdict,
//! 2 usage or configuration error); nothing else lives here.

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

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dcx_contracts::{LoadLimits, documents};

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
    Validate {
        /// The document type, e.g. `runner_status_report_v1` (see --list).
        #[arg(long, value_parser = document_kind_ids(), required_unless_present = "list")]
        kind: Option<String>,
        /// Treat unknown fields as errors instead of warnings.
        #[arg(long)]
        strict: bool,
        /// List the document types and exit.
        #[arg(long, exclusive = true)]
        list: bool,
        /// The files to check.
        #[arg(required_unless_present = "list")]
        files: Vec<PathBuf>,
    },
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

fn document_kind_ids() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(documents::ALL.iter().map(|k| k.id))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help, version and usage errors, printed through `output` so that
        // `dcx --help > /dev/full` is an error too, not a silent 0.
        Err(error) => {
            use std::io::IsTerminal;
            let rendered = error.render();
            if error.use_stderr() {
                if std::io::stderr().is_terminal() {
                    errln!("{}", rendered.ansi());
                } else {
                    errln!("{rendered}");
                }
            } else if std::io::stdout().is_terminal() {
                out!("{}", rendered.ansi());
            } else {
                out!("{rendered}");
            }
            return output::finish(Exit::of_clap(error.exit_code()));
        }
    };
    output::finish(run(cli))
}

fn run(cli: Cli) -> Exit {
    let documents = cli.documents.limits();
    match cli.command {
        Command::Validate {
            kind,
            strict,
            list,
            files,
        } => {
            if list {
                for kind in documents::ALL {
                    outln!("{:<40} {}", kind.id, kind.name);
                }
                return Exit::Success;
            }
            let Some(kind) = kind.as_deref().and_then(documents::by_id) else {
                errln!("error: --kind is required");
                return Exit::Usage;
            };
            validate(kind, strict, &files, &documents)
        }
        Command::Certify(args) => certify::run(args, documents),
        Command::Bundle(args) => bundle::run(args, documents),
        Command::Status(args) => status::run(args, documents),
        Command::Fleet(args) => run_artifacts::fleet::run(args, documents),
        Command::Runs(args) => run_artifacts::runs::run(args, documents),
        Command::Dash(args) => run_artifacts::dash::run(args, documents),
    }
}

fn validate(kind: &documents::DocumentKind, strict: bool, files: &[PathBuf], limits: &LoadLimits) -> Exit {
    let mut failed = 0usize;
    for file in files {
        match kind.check_file_with(file, limits) {
            Ok(warnings) => {
                for warning in &warnings {
                    let level = if strict { "error" } else { "warning" };
                    errln!("{level}: {}: {warning}", file.display());
                }
                if strict && !warnings.is_empty() {
                    failed += 1;
                } else {
                    outln!("ok: {} is a valid {}", file.display(), kind.name);
                }
            }
            Err(error) => {
                errln!("error: {error}");
                failed += 1;
            }
        }
    }
    if failed == 0 {
        Exit::Success
    } else {
        errln!("{failed} of {} file(s) invalid", files.len());
        Exit::Negative
    }
}
