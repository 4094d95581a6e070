//! `dcx validate`: check contract documents against their type's version,
//! schema and semantic rules (`dcx_contracts::documents`).

use std::path::PathBuf;

use clap::Args;
use dcx_contracts::{LoadLimits, documents};

use crate::exit::Exit;

#[derive(Args)]
pub(crate) struct ValidateArgs {
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
}

fn document_kind_ids() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(documents::ALL.iter().map(|k| k.id))
}

pub(crate) fn run(args: ValidateArgs, limits: LoadLimits) -> Exit {
    if args.list {
        for kind in documents::ALL {
            outln!("{:<40} {}", kind.id, kind.name);
        }
        return Exit::Success;
    }
    let Some(kind) = args.kind.as_deref().and_then(documents::by_id) else {
        errln!("error: --kind is required");
        return Exit::Usage;
    };
    let mut failed = 0usize;
    for file in &args.files {
        match kind.check_file_with(file, &limits) {
            Ok(warnings) => {
                for warning in &warnings {
                    let level = if args.strict { "error" } else { "warning" };
                    errln!("{level}: {}: {warning}", file.display());
                }
                if args.strict && !warnings.is_empty() {
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
        errln!("{failed} of {} file(s) invalid", args.files.len());
        Exit::Negative
    }
}
