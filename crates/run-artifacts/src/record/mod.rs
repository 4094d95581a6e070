//! Recording a run: the test command runs as a real process, its output
//! goes to `runs/<product>/<run_id>/pytest_output.log`, and
//! `runs/<product>/last_run.json` is written atomically when it ends.
//!
//! The command runs under dcx-sys's one child model ([`dcx_sys::run`]): its
//! own process group, stopped as a whole (TERM, grace, KILL), swept when it
//! ends, and on Linux killed with dcx (`PR_SET_PDEATHSIG`).
//!
//! The banana economy is a real budget: the command is stopped at its time
//! budget and the run marked `failed` ("Budget exceeded"); `spent_minutes`
//! is measured on the caller's monotonic clock. The kill switch is real: a
//! product whose last report has it engaged is not run unless the caller
//! overrides it, and a switch engaged *while* the command runs stops it
//! (`cancelled`, "Cancelled: kill switch engaged during the run: …"). A
//! cancellation (SIGINT/SIGTERM in `dcx`) stops the command and still
//! writes the report, as `cancelled`.
//!
//! Many recorders, a gc and an operator may work on one product at once;
//! [`store`] says which lock guards what. In short: the run
//! directory is allocated, locked and marked under the product lock; the
//! report is published under it again, with the kill switch read at that
//! moment, and only if `last_run.json` does not already name a newer run.
//!
//! Budgets, the kill switch and the PR wave are the product's standing
//! state: each new report carries them over from the previous one unless
//! the caller sets them.

mod junit;
mod run_id;
mod summary;

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use dcx_contracts::document::read_bounded;
use dcx_contracts::run_artifacts::{
    BananaEconomy, Evidence, KillSwitch, LastRun, PrWave, PrWaveState, Products, RUN_ARTIFACT_SCHEMA_VERSION,
    RunStatus,
};
use dcx_contracts::{LoadError, SaveError, Timestamp, atomic_write};
use dcx_sys::{Cancel, CancelReason, Finished, Supervision, Termination};
use serde_json::Value;

pub use junit::{JunitError, TestReport, convert_junit};
pub use summary::{DetectedSummary, detect_summary};

use crate::clock::Clock;
use crate::layout::{DashDir, EVIDENCE_DIR, LOG_FILE, ProductId, SCREENSHOT_FILE, TEST_REPORT_FILE};
use crate::store;

/// Token budget of a product's first run (upstream's generator constant).
pub(crate) const DEFAULT_BUDGET_TOKENS: u64 = 50_000;
/// Time budget of a product's first run, in minutes (upstream's constant).
pub(crate) const DEFAULT_BUDGET_MINUTES: u64 = 90;
/// CI self-heal attempts allowed by default (upstream's constant).
pub(crate) const DEFAULT_MAX_CI_HEAL_ATTEMPTS: u64 = 2;

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
    /// 90, the default of a product's first run).
    pub budget_minutes: Option<u64>,
    /// Token budget; `None` carries over the previous run's (or
    /// 50,000, the default of a product's first run).
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
    /// It ran to completion with this exit code.
    Exited(i32),
    /// A signal from elsewhere killed it.
    Killed(i32),
    /// It was stopped at its time budget.
    OverBudget,
    /// It was stopped because the caller cancelled: dcx received a signal
    /// (forwarded to the command's group), or another request.
    Cancelled(CancelReason),
    /// It was stopped because the product's kill switch was engaged while
    /// it ran, for this reason.
    KillSwitch(String),
    /// It could not be started (or, rarely, not watched; it was killed).
    NotStarted(String),
}

/// A recorded run.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The run id, also its directory name.
    pub run_id: String,
    /// `runs/<product>/<run_id>/`.
    pub run_dir: PathBuf,
    /// The run's report: what was written to `last_run.json` when
    /// [`published`](Self::published).
    pub report: LastRun,
    /// Whether the report was written to `last_run.json`. It is not when a
    /// newer run (a higher run id) has already written its own: the file
    /// only moves forward. The warnings say so.
    pub published: bool,
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
    /// The product has no report yet, and the contract keeps the kill
    /// switch in the report.
    #[error(
        "{path}: product {product} has no run report yet, and its kill switch is kept in that report; nothing was changed. Let its first run finish (or stop it), then engage the switch"
    )]
    NoReportYet {
        /// The product.
        product: String,
        /// The missing `last_run.json`.
        path: String,
    },
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
    run_id: Option<String>,
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
        run_id: report["run_id"].as_str().map(str::to_owned),
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
/// switch, unwritable dash directory) or the report could not be written.
/// A command that fails, cannot start, runs over budget, is cancelled or is
/// stopped by the kill switch is a recorded run with that outcome.
///
/// `cancel` is the caller's token (dcx connects it to SIGINT and SIGTERM):
/// the command's process group gets the signal dcx received, then SIGKILL
/// after the grace period, and the report is written as `cancelled`.
pub fn record(
    dash: &DashDir,
    request: &RecordRequest,
    clock: &dyn Clock,
    cancel: &Cancel,
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

    let product_dir = dash.product_dir(product);
    std::fs::create_dir_all(&product_dir).map_err(io_error(&product_dir))?;
    // Allocation: under the product lock, the kill switch is read, the run
    // directory claimed, locked and marked, so gc never sees it unlocked.
    let last_run_path = dash.last_run_file(product);
    let product_lock = store::lock_dir(&product_dir).map_err(io_error(&product_dir))?;
    // Temp files of recorders that were killed, anywhere in the product
    // (under the lock, so no gc removes a directory being swept).
    let (_, mut warnings) = store::sweep_product(dash, product);
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
    let existing = dash.run_ids(product).map_err(io_error(&product_dir))?;
    let (run_id, run_dir) =
        run_id::allocate(&product_dir, &existing, started_wall).map_err(io_error(&product_dir))?;
    let run_lock = store::lock_dir(&run_dir).map_err(io_error(&run_dir))?;
    let marker = run_dir.join(store::RECORDING_MARKER);
    std::fs::write(&marker, format!("{run_id}\n")).map_err(io_error(&marker))?;
    let log_path = run_dir.join(LOG_FILE);
    let mut log = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&log_path)
        .map_err(io_error(&log_path))?;
    drop(product_lock);

    let budget_minutes = request
        .budget_minutes
        .or(previous.budget_minutes)
        .unwrap_or(DEFAULT_BUDGET_MINUTES);
    let limit = request
        .time_limit
        .unwrap_or_else(|| Duration::from_secs(budget_minutes.saturating_mul(60)));
    let ran = run_watched(dash, request, &log, limit, previous.kill_switch.as_ref(), cancel);
    let elapsed = clock.monotonic().saturating_duration_since(started_mono);
    let concluded = conclude(ran, limit, &request.command);
    if let Some(note) = &concluded.note {
        writeln!(log, "[dcx] {note}").map_err(io_error(&log_path))?;
    }
    drop(log);

    let Gathered {
        paths,
        junit_summary,
        warnings: mut gathered,
    } = gather_evidence(request, &run_id, &run_dir, &evidence_names);
    warnings.append(&mut gathered);
    // The report matters more than its summary: an unreadable log only
    // costs the summary.
    let from_log =
        match std::fs::File::open(&log_path).and_then(|file| summary::detect_summary(BufReader::new(file))) {
            Ok(detected) => detected.map(|d| d.text),
            Err(e) => {
                warnings.push(format!("cannot read {} for its summary: {e}", log_path.display()));
                None
            }
        };
    let detected = from_log.or(junit_summary);
    let (mut status, mut summary) = outcome(&concluded, detected, limit, &request.command);
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

    let mut report = LastRun {
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
        kill_switch: KillSwitch {
            enabled: false,
            reason: String::new(),
        },
        pr_wave: previous.pr_wave.clone().unwrap_or(PrWave {
            state: PrWaveState::None,
            open_prs: 0,
            last_update: started_at,
        }),
    };

    // Publication: under the product lock again, the kill switch is what
    // it is *now* (an operator's switch is never overwritten), and a report
    // never replaces one of a newer run.
    let product_lock = store::lock_dir(&product_dir).map_err(io_error(&product_dir))?;
    let current = read_previous(dash, &last_run_path).unwrap_or_else(|problem| {
        warnings.push(format!(
            "{}: cannot read the kill switch again ({problem}); keeping the one read when the run started",
            last_run_path.display()
        ));
        Previous::default()
    });
    // An override runs once; the switch stays as it was.
    report.kill_switch = current
        .kill_switch
        .or(previous.kill_switch)
        .unwrap_or(report.kill_switch);
    let newer = current.run_id.filter(|newest| newest.as_str() > run_id.as_str());
    let published = match &newer {
        Some(newest) => {
            warnings.push(format!(
                "{} already reports the newer run {newest}; this run's report is not written there (it only moves forward)",
                last_run_path.display()
            ));
            false
        }
        None => {
            dcx_contracts::save(&last_run_path, &report)?;
            true
        }
    };
    // The run is finished: gc may count and remove it from now on.
    if let Err(e) = std::fs::remove_file(&marker) {
        warnings.push(format!("cannot remove {}: {e}", marker.display()));
    }
    drop(product_lock);
    drop(run_lock);

    Ok(Recorded {
        run_id,
        run_dir,
        report,
        published,
        ending: concluded.ending,
        warnings,
    })
}

/// How often a recorder looks at the kill switch while its command runs.
const KILL_SWITCH_POLL: Duration = Duration::from_millis(50);

/// Runs the command under dcx-sys's supervisor, its output in `log`, with
/// a watcher that stops it when the product's kill switch is engaged
/// meanwhile. Returns the supervisor's result and the reason of the switch
/// that stopped it, if one did.
fn run_watched(
    dash: &DashDir,
    request: &RecordRequest,
    log: &std::fs::File,
    limit: Duration,
    at_start: Option<&KillSwitch>,
    cancel: &Cancel,
) -> Ran {
    let (stdout, stderr) = match (log.try_clone(), log.try_clone()) {
        (Ok(stdout), Ok(stderr)) => (stdout, stderr),
        (Err(e), _) | (_, Err(e)) => {
            return Ran {
                result: Err(e),
                kill_switch: None,
            };
        }
    };
    let (program, args) = request
        .command
        .split_first()
        .expect("record() refuses an empty command");
    let mut command = Command::new(program);
    command.args(args).stdout(stdout).stderr(stderr);
    let supervision = Supervision::new(Some(limit), request.kill_grace);
    // The caller's token (signals) plus this run's own reason to stop.
    let run_cancel = Cancel::linked(cancel);
    let last_run_path = dash.last_run_file(&request.product);
    let stopped_by: Mutex<Option<String>> = Mutex::new(None);
    let (done, finished) = mpsc::channel::<()>();
    let result = std::thread::scope(|scope| {
        let (watcher_cancel, stopped_by, last_run_path) = (run_cancel.clone(), &stopped_by, &last_run_path);
        scope.spawn(move || {
            // Until the command ends (the sender is dropped).
            while let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(KILL_SWITCH_POLL) {
                let Ok(Previous {
                    kill_switch: Some(switch),
                    ..
                }) = read_previous(dash, last_run_path)
                else {
                    continue;
                };
                // Engaged now, and not the switch an override ran past.
                if switch.enabled && at_start != Some(&switch) {
                    let reason = switch.reason;
                    watcher_cancel.cancel(format!("kill switch engaged: {reason}"));
                    *stopped_by.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
                    break;
                }
            }
        });
        let result = dcx_sys::run(command, &supervision, &run_cancel);
        drop(done);
        result
    });
    let kill_switch = stopped_by.into_inner().unwrap_or_else(|e| e.into_inner());
    Ran { result, kill_switch }
}

/// What the supervisor said, and whether the kill switch stopped the run.
struct Ran {
    result: io::Result<Finished>,
    kill_switch: Option<String>,
}

/// How a run ended, in the terms of the report.
struct Concluded {
    ending: RunEnding,
    /// The line for the log, when the command did not simply exit.
    note: Option<String>,
    /// It could not start because the program does not exist.
    not_found: bool,
}

/// The one place dcx-sys's [`Termination`] becomes a run's ending.
fn conclude(ran: Ran, limit: Duration, command: &[OsString]) -> Concluded {
    let program = command.first().map(|p| p.to_string_lossy()).unwrap_or_default();
    let (ending, note) = match ran.result {
        Err(e) => {
            return Concluded {
                note: Some(format!("cannot start {program}: {e}")),
                not_found: e.kind() == io::ErrorKind::NotFound,
                ending: RunEnding::NotStarted(e.to_string()),
            };
        }
        Ok(finished) => match (finished.termination, ran.kill_switch) {
            (Termination::Exited(code), _) => (RunEnding::Exited(code), None),
            (Termination::Signaled(signal), _) => (RunEnding::Killed(signal), None),
            (Termination::TimedOut, _) => (
                RunEnding::OverBudget,
                Some(format!("stopped at its time budget ({})", human(limit))),
            ),
            (Termination::Cancelled(CancelReason::Requested(_)), Some(reason)) => (
                RunEnding::KillSwitch(reason.clone()),
                Some(format!(
                    "stopped: the kill switch was engaged during the run: {reason}"
                )),
            ),
            (Termination::Cancelled(reason), _) => (
                RunEnding::Cancelled(reason),
                Some("stopped: the run was cancelled".to_owned()),
            ),
        },
    };
    Concluded {
        ending,
        note,
        not_found: false,
    }
}

/// The status and summary of a run that ended this way.
fn outcome(
    concluded: &Concluded,
    detected: Option<String>,
    limit: Duration,
    command: &[OsString],
) -> (RunStatus, String) {
    let no_summary = "no test summary recognized in pytest_output.log";
    let with_detected = |lead: String| match &detected {
        Some(text) => format!("{lead}; {text}"),
        None => lead,
    };
    let failed = |how: String| match &detected {
        Some(text) => format!("{text} ({how})"),
        None => format!("Command failed ({how}); {no_summary}"),
    };
    match &concluded.ending {
        RunEnding::Exited(0) => (
            RunStatus::Success,
            detected
                .clone()
                .unwrap_or_else(|| format!("Command succeeded (exit 0); {no_summary}")),
        ),
        RunEnding::Exited(code) => (RunStatus::Failed, failed(format!("exit {code}"))),
        RunEnding::Killed(signal) => {
            let how = match dcx_sys::signal_name(*signal) {
                Some(name) => format!("killed by signal {signal} ({name})"),
                None => format!("killed by signal {signal}"),
            };
            (RunStatus::Failed, failed(how))
        }
        RunEnding::OverBudget => (
            RunStatus::Failed,
            with_detected(format!("Budget exceeded: stopped after {}", human(limit))),
        ),
        RunEnding::KillSwitch(reason) => (
            RunStatus::Cancelled,
            with_detected(format!("Cancelled: kill switch engaged during the run: {reason}")),
        ),
        RunEnding::Cancelled(_) => (
            RunStatus::Cancelled,
            with_detected("Cancelled: interrupted before the command finished".to_owned()),
        ),
        RunEnding::NotStarted(e) => {
            let program = command.first().map(|p| p.to_string_lossy()).unwrap_or_default();
            let summary = if concluded.not_found {
                format!("Command not found: {program}")
            } else {
                format!("Command could not start: {program}: {e}")
            };
            (RunStatus::Failed, summary)
        }
    }
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
        match convert_junit_file(junit, &run_dir.join(TEST_REPORT_FILE), request.max_junit_bytes) {
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
/// atomically: the bytes go to a temp file beside the target
/// ([`dcx_sys::temp_file_in`], like `atomic_write`'s) that is renamed over
/// it when complete, so a copy that fails or is killed half way never
/// leaves half a file under the name.
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
    // Locked while it is written, so only a killed copy's is swept.
    let mut temp = dcx_sys::temp_file_in(parent).map_err(not_copied)?;
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

fn convert_junit_file(source: &Path, target: &Path, max_bytes: u64) -> Result<TestReport, String> {
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
    let report = junit::convert_junit(&xml).map_err(|e| format!("not converted: {e}"))?;
    let mut bytes = serde_json::to_vec_pretty(&report).map_err(|e| format!("not converted: {e}"))?;
    bytes.push(b'\n');
    atomic_write(target, &bytes).map_err(|e| e.to_string())?;
    Ok(report)
}

/// Engages or releases a product's kill switch by rewriting its
/// `last_run.json` (the contract keeps the switch there). The report must
/// exist and be valid; engaging needs a reason.
///
/// The read–modify–write holds the product lock, so it never loses a
/// report a recorder publishes meanwhile, and a recorder publishing after
/// it keeps the switch. A run in flight sees an engaged switch within
/// `KILL_SWITCH_POLL` (50 ms) and is stopped.
pub fn set_kill_switch(
    dash: &DashDir,
    product: &ProductId,
    switch: KillSwitch,
) -> Result<LastRun, RecordError> {
    if switch.enabled && switch.reason.trim().is_empty() {
        return Err(RecordError::ReasonRequired);
    }
    let product_dir = dash.product_dir(product);
    // Without the directory there is no report either: the load says so.
    let _product_lock = match store::lock_dir(&product_dir) {
        Ok(lock) => Some(lock),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_error(&product_dir)(e)),
    };
    let path = dash.last_run_file(product);
    if !path.exists() && std::fs::symlink_metadata(&path).is_err() {
        return Err(RecordError::NoReportYet {
            product: product.to_string(),
            path: path.display().to_string(),
        });
    }
    let mut report = dcx_contracts::load_with::<LastRun>(&path, dash.load_limits())
        .map_err(RecordError::Report)?
        .document;
    report.kill_switch = switch;
    dcx_contracts::save(&path, &report)?;
    Ok(report)
}

#[cfg(test)]
mod tests;
