//! Recording a run: the test command runs as a real process, its output
//! goes to `runs/<product>/<run_id>/pytest_output.log`, and
//! `runs/<product>/last_run.json` is written atomically when it ends.
//!
//! The banana economy is a real budget: the command is stopped at its time
//! budget and the run marked `failed` ("Budget exceeded"); `spent_minutes`
//! is measured on the caller's monotonic clock. The kill switch is real: a
//! product whose last report has it engaged is not run unless the caller
//! overrides it. A cancellation (Ctrl-C in `dcx`) stops the command and still
//! writes the report, as `cancelled`.
//!
//! Budgets, the kill switch and the PR wave are the product's standing
//! state: each new report carries them over from the previous one unless
//! the caller sets them.

mod junit;
mod process;
mod run_id;
pub mod summary;

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dcx_contracts::document::read_bounded;
use dcx_contracts::run_artifacts::{
    BananaEconomy, Evidence, KillSwitch, LastRun, PrWave, PrWaveState, Products, RUN_ARTIFACT_SCHEMA_VERSION,
    RunStatus,
};
use dcx_contracts::{LoadError, SaveError, Timestamp, atomic_write};
use serde_json::Value;

pub use junit::{
    Case, CaseStatus, JunitError, Suite, TEST_REPORT_SCHEMA_VERSION, TestReport, Totals, convert,
};
pub use run_id::RunId;

use crate::clock::{CancelFlag, Clock};
use crate::layout::{DashDir, EVIDENCE_DIR, LOG_FILE, ProductId, SCREENSHOT_FILE, TEST_REPORT_FILE};
use process::Ending;

/// Token budget of a product's first run (upstream's generator constant).
pub const DEFAULT_BUDGET_TOKENS: u64 = 50_000;
/// Time budget of a product's first run, in minutes (upstream's constant).
pub const DEFAULT_BUDGET_MINUTES: u64 = 90;
/// CI self-heal attempts allowed by default (upstream's constant).
pub const DEFAULT_MAX_CI_HEAL_ATTEMPTS: u64 = 2;

/// The default cap on a JUnit XML file: 64 MiB, a suite of a few hundred
/// thousand test cases.
pub const DEFAULT_MAX_JUNIT_BYTES: u64 = 64 << 20;

/// What to record.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// The product; it must be registered in `products.json`.
    pub product: ProductId,
    /// The test command: program, then arguments.
    pub command: Vec<OsString>,
    /// Time budget in minutes; `None` carries over the previous run's (or
    /// [`DEFAULT_BUDGET_MINUTES`]).
    pub budget_minutes: Option<u64>,
    /// Token budget; `None` carries over the previous run's (or
    /// [`DEFAULT_BUDGET_TOKENS`]).
    pub budget_tokens: Option<u64>,
    /// Tokens the pipeline spent on this run (dcx cannot measure them);
    /// over the budget, the run fails.
    pub spent_tokens: u64,
    /// When the command is stopped; `None` means at `budget_minutes`.
    /// Shorter limits exist for tests and demos.
    pub time_limit: Option<Duration>,
    /// How long a stopped command gets to exit before it is killed.
    pub kill_grace: Duration,
    /// Files the command produces, copied to `<run_id>/evidence/`.
    pub evidence: Vec<PathBuf>,
    /// A PNG the command produces, copied to `<run_id>/screenshot.png`.
    pub screenshot: Option<PathBuf>,
    /// A JUnit XML report the command produces, converted to
    /// `<run_id>/test-report.json`.
    pub junit: Option<PathBuf>,
    /// The largest JUnit file converted ([`DEFAULT_MAX_JUNIT_BYTES`];
    /// `--max-junit-bytes`); a larger one is not read, and the run says so.
    pub max_junit_bytes: u64,
    /// Run even though the kill switch is engaged (it stays engaged).
    pub override_kill_switch: bool,
}

/// How the command's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnding {
    /// It ran to completion with this exit code (`None` when a signal from
    /// elsewhere ended it).
    Exited(Option<i32>),
    /// It was stopped at its time budget.
    OverBudget,
    /// It was stopped by a cancellation.
    Cancelled,
    /// It could not be started.
    NotStarted(String),
    /// Waiting for it failed, so it was killed.
    Lost(String),
}

/// A recorded run.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The run id, also its directory name.
    pub run_id: String,
    /// `runs/<product>/<run_id>/`.
    pub run_dir: PathBuf,
    /// What was written to `last_run.json`.
    pub report: LastRun,
    /// How the command ended.
    pub ending: RunEnding,
    /// Things that did not stop the run but are worth telling: evidence
    /// that was not there, a JUnit file that could not be read.
    pub warnings: Vec<String>,
}

/// Why a run was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The product id is not a safe slug.
    #[error(transparent)]
    InvalidProductId(#[from] crate::layout::InvalidProductId),
    /// `products.json` is missing or invalid.
    #[error(transparent)]
    Registry(LoadError),
    /// The product is not in `products.json`.
    #[error("product {id:?} is not registered in {path}; register it with `dcx fleet register {id} …`")]
    NotRegistered {
        /// The product id.
        id: String,
        /// `products.json`.
        path: String,
    },
    /// The kill switch is engaged.
    #[error(
        "kill switch engaged for {product}: {reason}; not running (override with --override-kill-switch)"
    )]
    KillSwitch {
        /// The product.
        product: String,
        /// Why it was engaged.
        reason: String,
    },
    /// The previous report cannot be read, so the kill switch state is unknown.
    #[error(
        "{path}: cannot tell whether the kill switch is engaged ({problem}); fix or remove the report, or override with --override-kill-switch"
    )]
    KillSwitchUnknown {
        /// The previous `last_run.json`.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The command is empty.
    #[error("no command to run: give it after `--`")]
    EmptyCommand,
    /// Two evidence files would land on the same name.
    #[error(
        "two evidence files are named {name:?}; evidence is copied to <run>/evidence/<name>, so names must differ"
    )]
    DuplicateEvidenceName {
        /// The clashing file name.
        name: String,
    },
    /// A file or directory could not be created or written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// What was being written.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// The report could not be written.
    #[error(transparent)]
    Save(#[from] SaveError),
    /// The previous report is not a valid run report (kill switch edits).
    #[error(transparent)]
    Report(LoadError),
    /// Engaging the kill switch needs a reason.
    #[error("a reason is required to engage the kill switch; Dash shows it on the product's card")]
    ReasonRequired,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> RecordError + '_ {
    move |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The product's standing state, read from its previous report.
#[derive(Debug, Clone, Default)]
struct Previous {
    kill_switch: Option<KillSwitch>,
    budget_tokens: Option<u64>,
    budget_minutes: Option<u64>,
    max_ci_heal_attempts: Option<u64>,
    pr_wave: Option<PrWave>,
}

/// Reads what carries over from `last_run.json`, leniently: a report of
/// another schema version still has a kill switch. Fails only when the kill
/// switch itself cannot be read.
fn read_previous(dash: &DashDir, path: &Path) -> Result<Previous, String> {
    let bytes = match dash.read_document(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(Previous::default()),
        Err(e) => return Err(e),
    };
    let report: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let kill_switch = serde_json::from_value::<KillSwitch>(report["kill_switch"].clone())
        .map_err(|e| format!("/kill_switch: {e}"))?;
    let banana = &report["banana_economy"];
    Ok(Previous {
        kill_switch: Some(kill_switch),
        budget_tokens: banana["budget_tokens"].as_u64(),
        budget_minutes: banana["budget_minutes"].as_u64(),
        max_ci_heal_attempts: banana["max_ci_heal_attempts"].as_u64(),
        pr_wave: serde_json::from_value(report["pr_wave"].clone()).ok(),
    })
}

/// Records one run of `request.command` for `request.product`.
///
/// Returns `Err` only when nothing was run (unregistered product, kill
/// switch, unwritable dash directory). A command that fails, cannot start,
/// runs over budget or is cancelled is a recorded run with that outcome.
pub fn record(
    dash: &DashDir,
    request: &RecordRequest,
    clock: &dyn Clock,
    cancel: &CancelFlag,
) -> Result<Recorded, RecordError> {
    let product = &request.product;
    if request.command.is_empty() {
        return Err(RecordError::EmptyCommand);
    }
    let registry = dcx_contracts::load_with::<Products>(&dash.products_file(), dash.load_limits())
        .map_err(RecordError::Registry)?;
    if !registry
        .document
        .products
        .iter()
        .any(|p| p.product_id == product.as_str())
    {
        return Err(RecordError::NotRegistered {
            id: product.to_string(),
            path: dash.products_file().display().to_string(),
        });
    }
    let evidence_names = evidence_names(&request.evidence)?;

    let last_run_path = dash.last_run_file(product);
    let previous = match read_previous(dash, &last_run_path) {
        Ok(previous) => previous,
        Err(_) if request.override_kill_switch => Previous::default(),
        Err(problem) => {
            return Err(RecordError::KillSwitchUnknown {
                path: last_run_path.display().to_string(),
                problem,
            });
        }
    };
    if let Some(switch) = &previous.kill_switch
        && switch.enabled
        && !request.override_kill_switch
    {
        return Err(RecordError::KillSwitch {
            product: product.to_string(),
            reason: switch.reason.clone(),
        });
    }

    let started_wall = clock.now();
    let started_mono = clock.monotonic();
    let started_at = Timestamp::from_jiff(started_wall);
    let existing = dash
        .run_ids(product)
        .map_err(io_error(&dash.product_dir(product)))?;
    let (run_id, run_dir) = run_id::allocate(&dash.product_dir(product), &existing, started_wall)
        .map_err(io_error(&dash.product_dir(product)))?;
    let log_path = run_dir.join(LOG_FILE);
    let mut log = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&log_path)
        .map_err(io_error(&log_path))?;

    let budget_minutes = request
        .budget_minutes
        .or(previous.budget_minutes)
        .unwrap_or(DEFAULT_BUDGET_MINUTES);
    let limit = request
        .time_limit
        .unwrap_or_else(|| Duration::from_secs(budget_minutes.saturating_mul(60)));
    let ending = process::run(&request.command, &log, limit, request.kill_grace, clock, cancel);
    let elapsed = clock.monotonic().saturating_duration_since(started_mono);
    // Say in the log what happened to the command, so the log alone tells.
    let note = match &ending {
        Ending::Exited(_) => None,
        Ending::OverBudget => Some(format!("stopped at its time budget ({})", human(limit))),
        Ending::Cancelled => Some("stopped: the run was cancelled".to_owned()),
        Ending::NotStarted(e) => Some(format!(
            "cannot start {}: {e}",
            request.command[0].to_string_lossy()
        )),
        Ending::Lost(e) => Some(format!("lost track of the command ({e}); it was killed")),
    };
    if let Some(note) = note {
        writeln!(log, "[dcx] {note}").map_err(io_error(&log_path))?;
    }
    drop(log);

    let Gathered {
        paths,
        junit_summary,
        mut warnings,
    } = gather_evidence(request, &run_id, &run_dir, &evidence_names);
    // The report matters more than its summary: an unreadable log only
    // costs the summary.
    let from_log = match std::fs::File::open(&log_path).and_then(|file| summary::detect(BufReader::new(file)))
    {
        Ok(detected) => detected.map(|d| d.text),
        Err(e) => {
            warnings.push(format!("cannot read {} for its summary: {e}", log_path.display()));
            None
        }
    };
    let detected = from_log.or(junit_summary);
    let (mut status, mut summary) = outcome(&ending, detected, limit, &request.command);
    let budget_tokens = request
        .budget_tokens
        .or(previous.budget_tokens)
        .unwrap_or(DEFAULT_BUDGET_TOKENS);
    if request.spent_tokens > budget_tokens {
        summary = format!(
            "Token budget exceeded: spent {} of {budget_tokens}; {summary}",
            request.spent_tokens
        );
        if status == RunStatus::Success {
            status = RunStatus::Failed;
        }
    }

    let report = LastRun {
        schema_version: RUN_ARTIFACT_SCHEMA_VERSION.to_owned(),
        product_id: product.to_string(),
        run_id: run_id.clone(),
        started_at,
        // From the monotonic clock, so `ended_at - started_at` is the
        // measured duration even if the wall clock moved meanwhile.
        ended_at: Timestamp::from_jiff(started_wall.checked_add(elapsed).unwrap_or(started_wall)),
        status,
        summary,
        evidence: Evidence { paths },
        banana_economy: BananaEconomy {
            budget_tokens,
            spent_tokens: request.spent_tokens,
            budget_minutes,
            spent_minutes: round2(elapsed.as_secs_f64() / 60.0),
            max_ci_heal_attempts: previous
                .max_ci_heal_attempts
                .unwrap_or(DEFAULT_MAX_CI_HEAL_ATTEMPTS),
            ci_heal_attempts_used: 0,
        },
        // An override runs once; the switch stays as it was.
        kill_switch: previous.kill_switch.unwrap_or(KillSwitch {
            enabled: false,
            reason: String::new(),
        }),
        pr_wave: previous.pr_wave.unwrap_or(PrWave {
            state: PrWaveState::None,
            open_prs: 0,
            last_update: started_at,
        }),
    };
    dcx_contracts::save(&last_run_path, &report)?;

    Ok(Recorded {
        run_id,
        run_dir,
        report,
        ending: match ending {
            Ending::Exited(status) => RunEnding::Exited(status.code()),
            Ending::OverBudget => RunEnding::OverBudget,
            Ending::Cancelled => RunEnding::Cancelled,
            Ending::NotStarted(e) => RunEnding::NotStarted(e.to_string()),
            Ending::Lost(e) => RunEnding::Lost(e.to_string()),
        },
        warnings,
    })
}

/// What the run left besides its log, copied into its directory.
struct Gathered {
    /// Every evidence path of the report, the log first.
    paths: Vec<String>,
    /// The JUnit counts, when `--junit` was converted.
    junit_summary: Option<String>,
    /// Files that were asked for but could not be taken.
    warnings: Vec<String>,
}

/// Converts `--junit` and copies `--screenshot` and `--evidence` into the
/// run directory. Missing files are warnings: the run itself happened.
fn gather_evidence(
    request: &RecordRequest,
    run_id: &str,
    run_dir: &Path,
    evidence_names: &[String],
) -> Gathered {
    let product = &request.product;
    let mut warnings = Vec::new();
    let mut paths = vec![DashDir::run_file_relative(product, run_id, LOG_FILE)];
    let mut junit_summary = None;
    if let Some(junit) = &request.junit {
        match convert_junit(junit, &run_dir.join(TEST_REPORT_FILE), request.max_junit_bytes) {
            Ok(test_report) => {
                paths.push(DashDir::run_file_relative(product, run_id, TEST_REPORT_FILE));
                junit_summary = Some(test_report.summary());
            }
            Err(message) => warnings.push(format!("--junit {}: {message}", junit.display())),
        }
    }
    if let Some(screenshot) = &request.screenshot {
        match copy_file(screenshot, &run_dir.join(SCREENSHOT_FILE)) {
            Ok(()) => paths.push(DashDir::run_file_relative(product, run_id, SCREENSHOT_FILE)),
            Err(e) => warnings.push(format!("--screenshot {}: {e}", screenshot.display())),
        }
    }
    for (source, name) in request.evidence.iter().zip(evidence_names) {
        let target = run_dir.join(EVIDENCE_DIR).join(name);
        match copy_file(source, &target) {
            Ok(()) => paths.push(DashDir::run_file_relative(
                product,
                run_id,
                &format!("{EVIDENCE_DIR}/{name}"),
            )),
            Err(e) => warnings.push(format!("--evidence {}: {e}", source.display())),
        }
    }
    Gathered {
        paths,
        junit_summary,
        warnings,
    }
}

/// The status and summary of a run that ended this way.
fn outcome(
    ending: &Ending,
    detected: Option<String>,
    limit: Duration,
    command: &[OsString],
) -> (RunStatus, String) {
    let no_summary = "no test summary recognized in pytest_output.log";
    let with_detected = |lead: String| match &detected {
        Some(text) => format!("{lead}; {text}"),
        None => lead,
    };
    match ending {
        Ending::Exited(status) if status.success() => (
            RunStatus::Success,
            detected
                .clone()
                .unwrap_or_else(|| format!("Command succeeded (exit 0); {no_summary}")),
        ),
        Ending::Exited(status) => {
            let how = match (status.code(), signal_of(status)) {
                (Some(code), _) => format!("exit {code}"),
                (None, Some(signal)) => format!("killed by signal {signal}"),
                (None, None) => "abnormal exit".to_owned(),
            };
            let summary = match &detected {
                Some(text) => format!("{text} ({how})"),
                None => format!("Command failed ({how}); {no_summary}"),
            };
            (RunStatus::Failed, summary)
        }
        Ending::OverBudget => (
            RunStatus::Failed,
            with_detected(format!("Budget exceeded: stopped after {}", human(limit))),
        ),
        Ending::Cancelled => (
            RunStatus::Cancelled,
            with_detected("Cancelled: interrupted before the command finished".to_owned()),
        ),
        Ending::Lost(e) => (
            RunStatus::Failed,
            with_detected(format!("dcx lost track of the command ({e}); it was killed")),
        ),
        Ending::NotStarted(e) => {
            let program = command.first().map(|p| p.to_string_lossy()).unwrap_or_default();
            let summary = if e.kind() == io::ErrorKind::NotFound {
                format!("Command not found: {program}")
            } else {
                format!("Command could not start: {program}: {e}")
            };
            (RunStatus::Failed, summary)
        }
    }
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_status: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// `90 min`, `2 s`, `1.5 min`.
fn human(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        format!("{} s", round2(seconds))
    } else {
        format!("{} min", round2(seconds / 60.0))
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The names evidence files get under `evidence/`: their file names, which
/// must differ.
fn evidence_names(evidence: &[PathBuf]) -> Result<Vec<String>, RecordError> {
    let mut names: Vec<String> = Vec::with_capacity(evidence.len());
    for path in evidence {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "evidence".to_owned());
        if names.contains(&name) {
            return Err(RecordError::DuplicateEvidenceName { name });
        }
        names.push(name);
    }
    Ok(names)
}

/// Copies a regular file (not a directory, not through a dangling link),
/// atomically: the bytes go to a temp file beside the target (named like
/// `atomic_write`'s) that is renamed over it when complete, so a copy that
/// fails or is killed half way never leaves half a file under the name.
fn copy_file(source: &Path, target: &Path) -> Result<(), String> {
    let not_copied = |e: io::Error| format!("not copied: {e}");
    let metadata = std::fs::metadata(source).map_err(not_copied)?;
    if !metadata.is_file() {
        return Err("not copied: not a regular file (archive a directory first)".to_owned());
    }
    let parent = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(not_copied)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".dcx-tmp-")
        .tempfile_in(parent)
        .map_err(not_copied)?;
    io::copy(
        &mut std::fs::File::open(source).map_err(not_copied)?,
        temp.as_file_mut(),
    )
    .map_err(not_copied)?;
    // The source's permissions, as `std::fs::copy` gives (temp files are 0600).
    temp.as_file()
        .set_permissions(metadata.permissions())
        .map_err(not_copied)?;
    temp.as_file().sync_all().map_err(not_copied)?;
    temp.persist(target).map(drop).map_err(|e| not_copied(e.error))
}

fn convert_junit(source: &Path, target: &Path, max_bytes: u64) -> Result<TestReport, String> {
    let bytes = match read_bounded(source, max_bytes) {
        Ok(bytes) => bytes,
        Err(LoadError::TooLarge { size, limit, .. }) => {
            return Err(format!(
                "not converted: the file has {} bytes, over the cap of {limit} bytes (raise --max-junit-bytes if it really is that large)",
                size.map_or_else(|| format!("more than {limit}"), |size| size.to_string())
            ));
        }
        Err(LoadError::Read { source, .. }) => return Err(format!("not converted: {source}")),
        Err(other) => return Err(format!("not converted: {other}")),
    };
    let xml = String::from_utf8(bytes)
        .map_err(|_| "not converted: stream did not contain valid UTF-8".to_owned())?;
    let report = junit::convert(&xml).map_err(|e| format!("not converted: {e}"))?;
    let mut bytes = serde_json::to_vec_pretty(&report).map_err(|e| format!("not converted: {e}"))?;
    bytes.push(b'\n');
    atomic_write(target, &bytes).map_err(|e| e.to_string())?;
    Ok(report)
}

/// Engages or releases a product's kill switch by rewriting its
/// `last_run.json` (the contract keeps the switch there). The report must
/// exist and be valid; engaging needs a reason.
pub fn set_kill_switch(
    dash: &DashDir,
    product: &ProductId,
    switch: KillSwitch,
) -> Result<LastRun, RecordError> {
    if switch.enabled && switch.reason.trim().is_empty() {
        return Err(RecordError::ReasonRequired);
    }
    let path = dash.last_run_file(product);
    let mut report = dcx_contracts::load_with::<LastRun>(&path, dash.load_limits())
        .map_err(RecordError::Report)?
        .document;
    report.kill_switch = switch;
    dcx_contracts::save(&path, &report)?;
    Ok(report)
}

#[cfg(test)]
mod tests;
