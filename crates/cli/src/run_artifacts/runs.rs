//! `dcx runs record | kill-switch | gc | validate`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use dcx_contracts::run_artifacts::{KillSwitch, RunStatus};
use dcx_run_artifacts::{
    DEFAULT_KEEP, DashDir, GcOptions, LOG_FILE, ProductId, Protection, RecordError, RecordRequest, RunEnding,
    Severity, execute_gc, plan_gc, record, set_kill_switch, validate,
};
use dcx_sys::{Cancel, CancelReason};

use super::{DashDirArg, count, usage_error};
use crate::exit::Exit;
use crate::flags::now::{NOW, NowArg};

#[derive(Debug, Args)]
pub(crate) struct RunsArgs {
    #[command(flatten)]
    dash_dir: DashDirArg,
    #[command(subcommand)]
    command: RunsCommand,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// Run a test command for a product and write its run report.
    ///
    /// Output goes to `runs/PRODUCT/RUN_ID/pytest_output.log`; the report
    /// to `runs/PRODUCT/last_run.json` (atomically, and only if no newer
    /// run has written it). The command is stopped at its time budget
    /// ("Budget exceeded"), and when the kill switch is engaged while it
    /// runs; Ctrl-C or SIGTERM stops its process group, then the report is
    /// written, as cancelled.
    ///
    /// Exit 0 the run succeeded, 1 it failed (including over budget or not
    /// found), 130 / 143 cancelled by SIGINT / SIGTERM, 3 refused or stopped
    /// by the kill switch, 2 usage or configuration error (nothing run).
    Record(RecordArgs),
    /// Engage (--on --reason …) or release (--off) a product's kill switch,
    /// kept in its last_run.json.
    ///
    /// Exit 0, or 2 when the product has no valid last_run.json.
    KillSwitch(KillSwitchArgs),
    /// Remove old run directories: per product, keep the newest N (by run
    /// id); never last_run.json, other files, or the run it points to.
    ///
    /// Exit 0, 1 when a directory could not be removed, 2 on usage errors.
    Gc(GcArgs),
    /// Check every artifact the way Dash reads it, and that evidence exists
    /// (an error for active products, a warning otherwise).
    ///
    /// Exit 0 no errors, 1 errors, 2 products.json missing or invalid.
    Validate,
}

#[derive(Debug, Args)]
#[command(mut_arg(NOW, |arg| arg.help(
    "Pin the wall clock (RFC 3339): run id, started_at. Durations are still measured."
)))]
struct RecordArgs {
    /// The product (registered in products.json).
    product_id: String,
    /// Time budget in minutes; the command is stopped when it is spent.
    /// Default: the previous run's, else 90.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    budget_minutes: Option<u64>,
    /// Token budget. Default: the previous run's, else 50000.
    #[arg(long, value_name = "N")]
    budget_tokens: Option<u64>,
    /// Tokens this run spent, as the pipeline counted them; over the
    /// budget, the run fails.
    #[arg(long, value_name = "N", default_value_t = 0)]
    spent_tokens: u64,
    /// Stop the command after this many seconds instead of at the minute
    /// budget (tests and demos; the report keeps --budget-minutes).
    #[arg(long, value_name = "SECONDS", hide = true)]
    budget_seconds: Option<f64>,
    /// Seconds a stopped command gets to exit before it is killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    kill_grace: f64,
    /// Files the command produces, copied to `RUN_ID/evidence/`.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    evidence: Vec<PathBuf>,
    /// A PNG the command produces, copied to `RUN_ID/screenshot.png`.
    #[arg(long, value_name = "PNG")]
    screenshot: Option<PathBuf>,
    /// A JUnit XML file the command writes, converted to
    /// `RUN_ID/test-report.json`.
    #[arg(long, value_name = "XML")]
    junit: Option<PathBuf>,
    /// The largest --junit file converted (bytes, or KiB/MiB/GiB); a larger
    /// one is not read and the run says so.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = crate::flags::size::parse_size)]
    max_junit_bytes: u64,
    /// Run although the kill switch is engaged (it stays engaged).
    #[arg(long)]
    override_kill_switch: bool,
    #[command(flatten)]
    now: NowArg,
    /// The test command, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

#[derive(Debug, Args)]
struct KillSwitchArgs {
    /// The product.
    product_id: String,
    /// Engage the switch: `runs record` refuses to run the product.
    #[arg(
        long,
        conflicts_with = "off",
        required_unless_present = "off",
        requires = "reason"
    )]
    on: bool,
    /// Release the switch.
    #[arg(long)]
    off: bool,
    /// Why (shown on the product's Dash card).
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, Args)]
struct GcArgs {
    /// How many of each product's newest runs to keep.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_KEEP)]
    keep: usize,
    /// Only this product.
    #[arg(long, value_name = "ID")]
    product: Option<String>,
    /// Show what would be removed; remove nothing.
    #[arg(long)]
    dry_run: bool,
    /// Confirm --keep 0 (every run but the one last_run.json points to).
    #[arg(long)]
    all: bool,
}

pub(crate) fn run(args: RunsArgs, documents: dcx_contracts::LoadLimits) -> Exit {
    let dash = args.dash_dir.dash(documents);
    match args.command {
        RunsCommand::Record(record) => run_record(&dash, record),
        RunsCommand::KillSwitch(switch) => run_kill_switch(&dash, switch),
        RunsCommand::Gc(gc) => run_gc(&dash, gc),
        RunsCommand::Validate => run_validate(&dash),
    }
}

fn product_id(id: &str) -> Result<ProductId, Exit> {
    ProductId::parse(id).map_err(usage_error)
}

fn seconds(value: f64, flag: &str) -> Result<Duration, Exit> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| usage_error(format!("{flag} must be a number of seconds >= 0 (got {value})")))
}

fn run_record(dash: &DashDir, args: RecordArgs) -> Exit {
    let product = match product_id(&args.product_id) {
        Ok(product) => product,
        Err(code) => return code,
    };
    let (time_limit, kill_grace) = match (
        args.budget_seconds
            .map(|s| seconds(s, "--budget-seconds"))
            .transpose(),
        seconds(args.kill_grace, "--kill-grace"),
    ) {
        (Ok(limit), Ok(grace)) => (limit, grace),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let cancel = Cancel::new();
    // Ctrl-C, SIGTERM from a CI runner, SIGHUP: the supervisor forwards the
    // signal to the command's group, waits the grace, kills it; the library
    // then writes the report as cancelled, and dcx exits 128 + the signal.
    // A second signal exits at once.
    if let Err(e) = dcx_sys::cancel_on_signals(&cancel) {
        return usage_error(e);
    }
    let request = RecordRequest {
        product,
        command: args.command,
        budget_minutes: args.budget_minutes,
        budget_tokens: args.budget_tokens,
        spent_tokens: args.spent_tokens,
        time_limit,
        kill_grace,
        evidence: args.evidence,
        screenshot: args.screenshot,
        junit: args.junit,
        max_junit_bytes: args.max_junit_bytes,
        override_kill_switch: args.override_kill_switch,
    };
    let clock = args.now.clock();
    let recorded = match record(dash, &request, &clock, &cancel) {
        Ok(recorded) => recorded,
        Err(e @ RecordError::KillSwitch { .. }) => {
            errln!("error: {e}");
            return Exit::KillSwitch;
        }
        Err(e) => return usage_error(e),
    };
    for warning in &recorded.warnings {
        errln!("warning: {warning}");
    }
    let report = &recorded.report;
    let status = match report.status {
        RunStatus::Success => "success",
        RunStatus::Failed => "failed",
        RunStatus::InProgress => "in_progress",
        RunStatus::Cancelled => "cancelled",
    };
    outln!(
        "{} {}: {status}: {}",
        report.product_id,
        recorded.run_id,
        report.summary
    );
    outln!("log: {}", recorded.run_dir.join(LOG_FILE).display());
    if recorded.published {
        outln!("report: {}", dash.last_run_file(&request.product).display());
    } else {
        outln!(
            "report: not written to {} (a newer run has reported)",
            dash.last_run_file(&request.product).display()
        );
    }
    match (&recorded.ending, report.status) {
        (RunEnding::Cancelled(CancelReason::Signal(signal)), _) => Exit::Signal(*signal),
        (RunEnding::KillSwitch(_), _) => Exit::KillSwitch,
        (_, RunStatus::Success) => Exit::Success,
        (_, RunStatus::Cancelled) => Exit::INTERRUPTED,
        (_, RunStatus::Failed | RunStatus::InProgress) => Exit::Negative,
    }
}

fn run_kill_switch(dash: &DashDir, args: KillSwitchArgs) -> Exit {
    let product = match product_id(&args.product_id) {
        Ok(product) => product,
        Err(code) => return code,
    };
    let switch = KillSwitch {
        enabled: args.on && !args.off,
        reason: args.reason.unwrap_or_default(),
    };
    match set_kill_switch(dash, &product, switch) {
        Ok(report) if report.kill_switch.enabled => {
            outln!("kill switch engaged for {product}: {}", report.kill_switch.reason);
            Exit::Success
        }
        Ok(_) => {
            outln!("kill switch released for {product}");
            Exit::Success
        }
        Err(e) => usage_error(e),
    }
}

fn run_gc(dash: &DashDir, args: GcArgs) -> Exit {
    let product = match args.product.as_deref().map(product_id).transpose() {
        Ok(product) => product,
        Err(code) => return code,
    };
    let options = GcOptions {
        keep: args.keep,
        product,
        confirm_keep_zero: args.all,
    };
    let plan = match plan_gc(dash, &options) {
        Ok(plan) => plan,
        Err(e) => return usage_error(e),
    };
    let verb = if args.dry_run { "would remove" } else { "removing" };
    for skipped in &plan.skipped {
        errln!("warning: {}: skipped: {}", skipped.product, skipped.reason);
    }
    for product in &plan.products {
        let root = dash.product_dir(&product.product);
        for run in &product.remove {
            outln!("{verb} {}", root.join(run).display());
        }
        let kept = product.runs.len() - product.remove.len();
        let mut line = format!(
            "{}: {}, keeping {kept}, {verb} {}",
            product.product,
            count(product.runs.len(), "run", "runs"),
            product.remove.len()
        );
        for (run, why) in &product.protected {
            let why = match why {
                Protection::LastRun => "last_run.json points to it",
                Protection::Evidence => "last_run.json's evidence is in it",
            };
            line.push_str(&format!(" (kept {run}: {why})"));
        }
        for run in &product.in_flight {
            line.push_str(&format!(" (left {run}: being recorded)"));
        }
        for run in &product.abandoned {
            line.push_str(&format!(" ({run}: unfinished, its recorder was stopped)"));
        }
        outln!("{line}");
    }
    let total = plan.removals();
    if args.dry_run {
        outln!(
            "would remove {} in {} (dry run)",
            count(total, "run directory", "run directories"),
            count(plan.products.len(), "product", "products")
        );
        return Exit::Success;
    }
    let products = plan.products.len();
    let outcome = execute_gc(dash, plan);
    for (path, error) in &outcome.failed {
        errln!("error: cannot remove {}: {error}", path.display());
    }
    for problem in &outcome.sweep_problems {
        errln!("warning: {problem}");
    }
    let swept = if outcome.swept.is_empty() {
        String::new()
    } else {
        format!(
            " and {} of killed processes",
            count(outcome.swept.len(), "leftover temp file", "leftover temp files")
        )
    };
    outln!(
        "removed {}{swept} in {}",
        count(outcome.removed.len(), "run directory", "run directories"),
        count(products, "product", "products")
    );
    if outcome.failed.is_empty() {
        Exit::Success
    } else {
        Exit::Negative
    }
}

fn run_validate(dash: &DashDir) -> Exit {
    let validation = validate(dash);
    for finding in &validation.fleet {
        errln!("{}: {finding}", finding.severity);
    }
    for product in &validation.products {
        for finding in &product.findings {
            errln!("{}: {}: {finding}", finding.severity, product.product_id);
        }
    }
    let (errors, warnings) = (
        validation.count(Severity::Error),
        validation.count(Severity::Warning),
    );
    outln!(
        "validated {} in {}: {}, {}",
        count(validation.products.len(), "product", "products"),
        display_dir(dash.root()),
        count(errors, "error", "errors"),
        count(warnings, "warning", "warnings")
    );
    if validation.registry_error {
        Exit::Usage
    } else if errors > 0 {
        Exit::Negative
    } else {
        Exit::Success
    }
}

fn display_dir(path: &Path) -> String {
    let text = path.display().to_string();
    if text.ends_with('/') {
        text
    } else {
        format!("{text}/")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn junit_cap_default_in_help_is_the_library_default() {
        assert_eq!(
            crate::flags::size::parse_size("64MiB"),
            Ok(dcx_run_artifacts::DEFAULT_MAX_JUNIT_BYTES)
        );
    }
}
