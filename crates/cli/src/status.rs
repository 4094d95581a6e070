//! `dcx status ingest | check-freshness | report`: the runner status
//! exchange. The work is done by `dcx-status-ingest` (which also owns the
//! rules that keep the artifact set whole: the lock, the path checks, the
//! state file renamed last); this module passes it the token, speaks to
//! GitHub Actions (annotations, the job summary) when it runs there, shows
//! progress, prints and picks the exit code.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use dcx_contracts::LoadLimits;
use dcx_contracts::status::{CommandStatus, LaneClass, OverallStatus};
use dcx_status_ingest::{
    ArtifactPaths, Attention, DEFAULT_MAX_AGE_HOURS, FetchSettings, GateError, GateSettings, IngestSettings,
    LOG_JSON, MATRIX_MD, ProducerError, ReportIdentity, SetPaths, Token, Verdict, attention, build_report,
    check_published, hash_artifacts, ingest_blocking, lock_set, report_sidecar_path, report_supervision,
    run_commands, status_name, write_report,
};
use dcx_sys::{Cancel, CancelReason, Termination, Wait};

use crate::exit::Exit;
use crate::flags::duration::parse_duration;
use crate::flags::env::{self, github_actions};
use crate::flags::now::{NOW, NowArg};
use crate::progress::ProgressLine;

#[derive(Args)]
pub(crate) struct StatusArgs {
    #[command(subcommand)]
    command: StatusCommand,
}

#[derive(Subcommand)]
enum StatusCommand {
    /// Ingest every registry lane's status report into the matrix.
    ///
    /// Writes runner-status-matrix.json, runner-status-matrix.md and
    /// runner-status-ingest-log.json whatever fails, and the state file
    /// (--state-file) that detects rollbacks, as one set carrying one set
    /// id (all staged before any is renamed into place), prints the
    /// Markdown matrix, then exits: 0; with --enforce-freshness 1 when a
    /// required lane is blocking_fail or an active compatibility lane is
    /// stale or missing; 2 when the registry or catalog cannot be loaded,
    /// the set cannot be written (the previous set is then left as it
    /// was), another ingest holds the out directory and --no-wait was
    /// given, or on bad flags.
    ///
    /// Concurrent ingests into one out directory take turns: the second
    /// waits for the first (saying so on stderr), from before it reads the
    /// state file until its whole set is published.
    ///
    /// A flag given twice takes its last value, so wrappers such as
    /// `cargo xtask ingest` can pass defaults that the user overrides.
    #[command(args_override_self = true)]
    Ingest(IngestArgs),
    /// The freshness merge gate: judge the matrix artifact at now.
    ///
    /// Reads the matrix, never the network. Exit 1, printing one line per
    /// breach, when a required lane blocks, an active compatibility lane is
    /// stale or missing (judged again at now), or the matrix itself is older
    /// than its SLO; 2 when the matrix cannot be read, or when the log or
    /// Markdown matrix beside it belongs to another ingest's set (a mixed
    /// set: run the ingest again).
    #[command(args_override_self = true)]
    CheckFreshness(GateArgs),
    /// Produce a runner's status report (for a runner's release job).
    ///
    /// Runs each --command in order through the shell with a timeout, hashes
    /// each --artifact, and writes the report and its .sha256 sidecar. Exit
    /// 0 when the report says pass (or unknown: no command), 1 when it says
    /// fail or degraded (the report is written all the same: publish it), 2
    /// on usage errors or when the report cannot be written.
    ///
    /// Each command runs in a process group of its own; whatever it leaves
    /// running is stopped when it ends. On SIGINT or SIGTERM the running
    /// command's group is stopped, no report is written, and dcx exits 130
    /// or 143.
    Report(ReportArgs),
}

#[derive(Args)]
#[command(mut_arg(NOW, |arg| arg
    .alias("now-utc")
    .help("Judge freshness at this RFC 3339 instant instead of the clock.")))]
struct IngestArgs {
    /// The runner certification registry; relative lane sources are
    /// resolved against its directory.
    #[arg(long, default_value = "specs/runner_certification_registry_v1.yaml")]
    registry: PathBuf,
    /// The schema catalog that pins the accepted report version.
    #[arg(long, default_value = "specs/schema_catalog_v1.yaml")]
    catalog: PathBuf,
    /// Where the matrix goes.
    #[arg(long, default_value = ".artifacts/runner-status-matrix.json")]
    out_json: PathBuf,
    /// Where the Markdown matrix goes.
    #[arg(long, default_value = ".artifacts/runner-status-matrix.md")]
    out_md: PathBuf,
    /// Where the ingest log goes.
    #[arg(long, default_value = ".artifacts/runner-status-ingest-log.json")]
    log_json: PathBuf,
    /// The state file that remembers each lane's newest accepted report: a
    /// report older than it is a rollback (`rollback_detected`). Read at the
    /// start, written after the artifacts; a corrupt one is kept as
    /// `<name>.corrupt-<now>` and rebuilt.
    #[arg(
        long,
        value_name = "PATH",
        default_value = ".artifacts/runner-status-ingest-state.json"
    )]
    state_file: PathBuf,
    /// Neither read nor write the state file: no rollback detection.
    #[arg(long)]
    no_state: bool,
    /// The SLO, in hours, of lanes without `freshness_slo_hours`.
    #[arg(long, value_name = "HOURS", default_value_t = DEFAULT_MAX_AGE_HOURS)]
    max_age_hours: u64,
    /// Exit 1 on a freshness policy breach (after writing the artifacts).
    #[arg(long)]
    enforce_freshness: bool,
    #[command(flatten)]
    now: NowArg,
    /// The most lanes fetched at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// The budget of one HTTP request, e.g. `30s`, `2m`.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
    /// Never touch the network: HTTP sources come from the cache directory
    /// or are missing; local files are read as usual.
    #[arg(long)]
    offline: bool,
    /// Where responses are cached with their ETag, so an unchanged release
    /// costs no rate limit.
    #[arg(long, value_name = "DIR", default_value = ".artifacts/cache/status-ingest")]
    cache_dir: PathBuf,
    /// Also send GITHUB_TOKEN to this host (GitHub Enterprise); by default
    /// only api.github.com and github.com receive it. Repeatable.
    #[arg(long = "token-host", value_name = "HOST")]
    token_hosts: Vec<String>,
    /// The largest release metadata document accepted per lane (bytes, or
    /// KiB/MiB/GiB); a larger one makes the lane missing.
    #[arg(long, value_name = "SIZE", default_value = "4MiB", value_parser = crate::flags::size::parse_size)]
    max_metadata_bytes: u64,
    /// The largest status report accepted per lane (bytes, or KiB/MiB/GiB);
    /// a larger one makes the lane missing.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = crate::flags::size::parse_size)]
    max_report_bytes: u64,
    /// Do not print the Markdown matrix.
    #[arg(long, short)]
    quiet: bool,
    /// When another ingest is writing into the same out directory, exit 2
    /// at once instead of waiting for it.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Args)]
#[command(mut_arg(NOW, |arg| arg.help("Judge at this RFC 3339 instant instead of the clock.")))]
struct GateArgs {
    /// The matrix written by `dcx status ingest`.
    #[arg(long, default_value = ".artifacts/runner-status-matrix.json")]
    matrix: PathBuf,
    /// The ingest log of the matrix's set, checked to carry the matrix's
    /// set id when it exists [default: runner-status-ingest-log.json beside
    /// the matrix].
    #[arg(long, value_name = "PATH")]
    log_json: Option<PathBuf>,
    /// The Markdown matrix of the matrix's set, checked like the log
    /// [default: runner-status-matrix.md beside the matrix].
    #[arg(long, value_name = "PATH")]
    md: Option<PathBuf>,
    /// The SLO, in hours, of rows that record none.
    #[arg(long, value_name = "HOURS", default_value_t = DEFAULT_MAX_AGE_HOURS)]
    max_age_hours: u64,
    #[command(flatten)]
    now: NowArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum LaneClassArg {
    Required,
    CompatibilityNonBlocking,
}

#[derive(Args)]
#[command(mut_arg(NOW, |arg| arg.help(
    "Use this RFC 3339 instant as `generated_at` instead of the clock."
)))]
struct ReportArgs {
    /// The lane id in the certification registry, e.g. `rust`.
    #[arg(long)]
    runner_id: String,
    /// The runner's repository, e.g. `dc-runner-rust`.
    #[arg(long)]
    implementation_repo: String,
    /// The release tag, e.g. `v1.4.0`.
    #[arg(long)]
    release_version: String,
    /// The commit the release was built from (40 hex characters).
    #[arg(long)]
    commit_sha: String,
    /// The lane's class in the registry.
    #[arg(long, value_enum)]
    lane_class: LaneClassArg,
    /// A command to run through the shell; repeatable, run in order.
    #[arg(long = "command", value_name = "COMMAND")]
    commands: Vec<String>,
    /// The timeout of each command, e.g. `10m`.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    command_timeout: Duration,
    /// A release asset to list with its sha256; repeatable.
    #[arg(long = "artifact", value_name = "FILE", requires = "download_base_url")]
    artifacts: Vec<PathBuf>,
    /// Where the release serves its assets, e.g.
    /// `https://github.com/OWNER/REPO/releases/download/TAG`.
    #[arg(long, value_name = "URL")]
    download_base_url: Option<String>,
    /// How long the report vouches for itself: `fresh_until = generated_at + this`.
    #[arg(long, value_name = "DURATION", default_value = "72h", value_parser = parse_duration)]
    fresh_for: Duration,
    #[command(flatten)]
    now: NowArg,
    /// Where the report goes; the sidecar is `<out>.sha256`.
    #[arg(long, default_value = "runner-status-report-v1.json")]
    out: PathBuf,
}

pub(crate) fn run(args: StatusArgs, documents: LoadLimits) -> Exit {
    match args.command {
        StatusCommand::Ingest(args) => run_ingest(args, documents),
        StatusCommand::CheckFreshness(args) => run_gate(args, documents),
        StatusCommand::Report(args) => run_report(args),
    }
}

fn run_ingest(args: IngestArgs, documents: LoadLimits) -> Exit {
    let now = args.now.clock().timestamp();
    let mut token_hosts: Vec<String> = FetchSettings::default().token_hosts;
    token_hosts.extend(args.token_hosts);
    let settings = IngestSettings {
        now,
        max_age_hours: args.max_age_hours,
        concurrency: usize::from(args.concurrency),
        fetch: FetchSettings {
            timeout: args.timeout,
            token: env::github_token().and_then(Token::new),
            token_hosts,
            cache_dir: Some(args.cache_dir),
            offline: args.offline,
            user_agent: concat!("dcx/", env!("CARGO_PKG_VERSION")).to_owned(),
            proxy_from_env: true,
            metadata_cap: args.max_metadata_bytes,
            report_cap: args.max_report_bytes,
            ..FetchSettings::default()
        },
        documents,
    };
    let paths = SetPaths {
        artifacts: ArtifactPaths {
            matrix_json: args.out_json,
            matrix_md: args.out_md,
            log_json: args.log_json,
        },
        state: (!args.no_state).then_some(args.state_file),
    };
    // Before the state file is read, held until the whole set is published.
    let wait = if args.no_wait { Wait::Fail } else { Wait::Block };
    let lock = lock_set(&paths, wait, &documents, |lock, holder| {
        let holder = holder.map_or_else(|| "another process".to_owned(), |pid| format!("pid {pid}"));
        errln!("waiting for {} (held by {holder})", lock.display());
    });
    let lock = match lock {
        Ok(lock) => lock,
        Err(e) => {
            errln!("error: {e}");
            return Exit::Usage;
        }
    };
    for leftover in &lock.swept {
        errln!("removed {} (left by a killed writer)", leftover.display());
    }
    if let Some(previous) = &lock.previous {
        errln!("warning: {previous}; this ingest replaces the set");
    }
    // The state file the ingest reads is the one just locked.
    let inputs = lock.inputs(args.registry, args.catalog);
    let progress = Arc::new(ProgressLine::on_stderr());
    progress.spinner("loading the registry");
    let outcome = ingest_blocking(&inputs, &settings, progress.clone());
    progress.clear();
    for warning in &outcome.warnings {
        errln!("warning: {warning}");
    }

    let markdown = outcome.markdown();
    let published = lock.publish(&outcome, &markdown);
    drop(lock);
    github_step_summary(published.as_ref().map_or(&markdown, |p| &p.markdown));
    if github_actions() {
        if let Some(error) = &outcome.config_error {
            annotate("error", "runner status ingest", &error.to_string());
        }
        for attention in attention(&outcome.matrix, &outcome.log) {
            annotate_lane(&attention);
        }
    }
    if !args.quiet {
        // What the Markdown artifact holds, set-id line included (an HTML
        // comment, invisible when rendered).
        match &published {
            Ok(published) => out!("{}", published.markdown),
            Err(_) => out!("{markdown}"),
        }
    }
    match &published {
        Ok(published) => {
            let artifacts = &paths.artifacts;
            let state = outcome.state.as_ref().map(|update| &update.path);
            for path in [&artifacts.matrix_json, &artifacts.matrix_md, &artifacts.log_json]
                .into_iter()
                .chain(state)
                .filter(|path| published.files.contains(path))
            {
                errln!("wrote {}", path.display());
            }
        }
        Err(e) => errln!("error: {e}"),
    }

    if let Some(error) = &outcome.config_error {
        errln!("error: {error}");
        return Exit::Usage;
    }
    if published.is_err() {
        return Exit::Usage;
    }
    let breaches = outcome.breaches();
    if breaches.is_empty() {
        return Exit::Success;
    }
    let level = if args.enforce_freshness { "error" } else { "note" };
    for breach in &breaches {
        errln!("{level}: {breach}");
    }
    if args.enforce_freshness {
        errln!(
            "error: freshness policy breached by {} lane(s) (--enforce-freshness)",
            breaches.len()
        );
        Exit::Negative
    } else {
        Exit::Success
    }
}

fn run_gate(args: GateArgs, documents: LoadLimits) -> Exit {
    let settings = GateSettings {
        now: args.now.clock().timestamp(),
        max_age_hours: args.max_age_hours,
        documents,
    };
    let artifacts = ArtifactPaths {
        log_json: args
            .log_json
            .unwrap_or_else(|| args.matrix.with_file_name(LOG_JSON)),
        matrix_md: args.md.unwrap_or_else(|| args.matrix.with_file_name(MATRIX_MD)),
        matrix_json: args.matrix.clone(),
    };
    let report = match check_published(&artifacts, &settings) {
        Ok(report) => report,
        Err(GateError::Load(e)) => {
            errln!("error: {e}");
            errln!("hint: run `dcx status ingest` (or `cargo xtask ingest`) first");
            return Exit::Usage;
        }
        Err(GateError::Set(e)) => {
            errln!("error: {e}");
            return Exit::Usage;
        }
    };
    let matrix = args.matrix.display();
    if report.passes() {
        outln!(
            "ok: {matrix}: no freshness breach (the matrix's SLO is {} h)",
            report.matrix_slo_hours
        );
        return Exit::Success;
    }
    for breach in &report.breaches {
        outln!("breach: {breach}");
        if github_actions() {
            annotate("error", "freshness gate", &breach.to_string());
        }
    }
    for runner_id in &report.went_stale {
        errln!("note: `{runner_id}` was fresh when {matrix} was written and is stale now");
    }
    errln!("error: {matrix}: {} freshness breach(es)", report.breaches.len());
    Exit::Negative
}

fn run_report(args: ReportArgs) -> Exit {
    let identity = ReportIdentity {
        runner_id: args.runner_id,
        implementation_repo: args.implementation_repo,
        release_version: args.release_version,
        commit_sha: args.commit_sha,
        lane_class: match args.lane_class {
            LaneClassArg::Required => LaneClass::Required,
            LaneClassArg::CompatibilityNonBlocking => LaneClass::CompatibilityNonBlocking,
        },
    };
    let base = args.download_base_url.unwrap_or_default();
    // Hash the artifacts before running anything: a missing file is a
    // usage error worth reporting before a long test run.
    let artifacts = match hash_artifacts(&args.artifacts, &base) {
        Ok(artifacts) => artifacts,
        Err(e) => {
            errln!("error: {e}");
            return Exit::Usage;
        }
    };
    // SIGINT/SIGTERM stop the running command's group; no report follows.
    let cancel = Cancel::new();
    if let Err(e) = dcx_sys::cancel_on_signals(&cancel) {
        errln!("error: {e}");
        return Exit::Usage;
    }
    let supervision = report_supervision(args.command_timeout);
    let runs = run_commands(&args.commands, &supervision, &cancel, |run| {
        let result = &run.result;
        let outcome = match &run.termination {
            Termination::TimedOut => format!("timed out after {:?}, stopped", args.command_timeout),
            Termination::Cancelled(_) => format!("stopped, exit {}", result.exit_code),
            _ => format!("exit {}", result.exit_code),
        };
        let status = match result.status {
            CommandStatus::Pass => "pass",
            CommandStatus::Fail => "fail",
            CommandStatus::Skip => "skip",
        };
        errln!(
            "command {:?}: {status} ({outcome}, {} ms)",
            result.command,
            result.duration_ms
        );
        if run.stragglers > 0 {
            errln!(
                "note: command {:?} left {} process(es) running; they were stopped",
                result.command,
                run.stragglers
            );
        }
    });
    let runs = match runs {
        Ok(runs) => runs,
        Err(e @ ProducerError::Cancelled { .. }) => {
            errln!("error: {e}");
            return cancelled_exit(&cancel);
        }
        Err(e) => {
            errln!("error: {e}");
            return Exit::Usage;
        }
    };
    if cancel.is_cancelled() {
        errln!("error: cancelled after the commands ran; no report was written");
        return cancelled_exit(&cancel);
    }
    // generated_at is when the report is produced: after the commands.
    let generated_at = args.now.clock().timestamp();
    let written = build_report(&identity, &runs, artifacts, generated_at, args.fresh_for)
        .and_then(|report| write_report(&args.out, &report).map(|digest| (report, digest)));
    let (report, digest) = match written {
        Ok(written) => written,
        Err(e) => {
            errln!("error: {e}");
            return Exit::Usage;
        }
    };
    errln!(
        "wrote {} (sha256 {digest}) and {}",
        args.out.display(),
        report_sidecar_path(&args.out).display()
    );
    outln!(
        "overall_status: {} (fresh until {})",
        status_name(report.overall_status),
        report.fresh_until
    );
    match report.overall_status {
        OverallStatus::Pass | OverallStatus::Unknown => Exit::Success,
        OverallStatus::Fail | OverallStatus::Degraded => Exit::Negative,
    }
}

/// 130 after SIGINT, 143 after SIGTERM (and for any other reason to stop).
fn cancelled_exit(cancel: &Cancel) -> Exit {
    match cancel.reason() {
        Some(CancelReason::Signal(signal)) => Exit::Signal(signal),
        _ => Exit::STOPPED,
    }
}

/// Appends the Markdown matrix to the job summary, when there is one.
fn github_step_summary(markdown: &str) {
    let Some(path) = env::github_step_summary() else {
        return;
    };
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(format!("{markdown}\n").as_bytes()));
    if let Err(e) = appended {
        errln!("warning: cannot append to GITHUB_STEP_SUMMARY ({path}): {e}");
    }
}

fn annotate_lane(attention: &Attention) {
    let level = match attention.verdict {
        Verdict::Blocking | Verdict::Breach => "error",
        _ => "warning",
    };
    let mut message = attention.finding();
    if let Some(signature) = attention.signature {
        message.push_str(&format!(" — {}", signature.action));
    }
    annotate(
        level,
        &format!("runner status: {}", attention.runner_id),
        &message,
    );
}

/// Prints a GitHub Actions workflow command (`::error title=…::message`).
fn annotate(level: &str, title: &str, message: &str) {
    outln!(
        "::{level} title={}::{}",
        escape_property(title),
        escape_data(message)
    );
}

/// Escaping of a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escaping of a workflow command's property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_cap_defaults_in_help_are_the_library_defaults() {
        use dcx_status_ingest::{DEFAULT_METADATA_CAP, DEFAULT_REPORT_CAP};
        assert_eq!(crate::flags::size::parse_size("4MiB"), Ok(DEFAULT_METADATA_CAP));
        assert_eq!(crate::flags::size::parse_size("1MiB"), Ok(DEFAULT_REPORT_CAP));
        assert_eq!(
            crate::flags::size::parse_size("16MiB"),
            Ok(dcx_contracts::document::DEFAULT_MAX_DOCUMENT_BYTES)
        );
    }

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
    }
}
