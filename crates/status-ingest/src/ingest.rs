//! The consumer side of the status exchange: every registry lane's release
//! metadata and report, fetched concurrently, validated and judged, then
//! written as the matrix, the ingest log and the Markdown matrix.
//!
//! One lane's failure never touches another: each lane ends in a row and a
//! log entry whatever happens to it, and an unreadable registry or catalog
//! still yields (empty) artifacts with the reason in the log. Rows are in
//! registry order however the fetches interleave.
//!
//! With a state file ([`IngestInputs::state`]), a lane whose report is older
//! than the newest one accepted before is a rollback ([`crate::state`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dcx_contracts::Timestamp;
use dcx_contracts::catalog::SchemaCatalog;
use dcx_contracts::certification::{CertificationRegistry, RegistryLane, StatusExchange};
use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::document::{self, Document, Format, LoadError, LoadLimits};
use dcx_contracts::status::{
    FreshnessState, GithubRelease, IngestErrorClass, IngestLog, IngestLogEntry, IngestState, IngestStateLane,
    IngestTotals, LaneClass, LaneStatus, MatrixRow, OverallStatus, RunnerStatusMatrix, RunnerStatusReport,
    StatusReportAge, StatusSource,
};
use tokio::sync::Semaphore;

use crate::policy::{self, Breach, Judgement, format_age};
use crate::render;
use crate::source::{FetchError, FetchSettings, Fetcher, HttpClientError, Location, Resource};
use crate::state::{self, StateUpdate, Verdict};

/// The file name of the matrix.
pub(crate) const MATRIX_JSON: &str = "runner-status-matrix.json";
/// The file name of the Markdown matrix.
pub const MATRIX_MD: &str = "runner-status-matrix.md";
/// The file name of the ingest log.
pub const LOG_JSON: &str = "runner-status-ingest-log.json";

/// The default bound on lanes fetched at once.
pub(crate) const DEFAULT_CONCURRENCY: usize = 16;

/// The documents an ingest reads.
#[derive(Debug, Clone)]
pub struct IngestInputs {
    /// The runner certification registry; relative lane sources are
    /// resolved against its directory.
    pub registry: PathBuf,
    /// The schema catalog that pins the accepted report version.
    pub catalog: PathBuf,
    /// The state file that remembers each lane's newest accepted report,
    /// for rollback detection; `None` turns it off. It is only read here:
    /// [`IngestOutcome::state`] is what to write back, after the artifacts.
    pub state: Option<PathBuf>,
}

/// How an ingest runs.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// The instant freshness is judged at (the binary reads the clock, or `--now`).
    pub now: Timestamp,
    /// The SLO of lanes without `freshness_slo_hours`.
    pub max_age_hours: u64,
    /// The most lanes fetched at once (at least 1).
    pub concurrency: usize,
    /// Timeouts, retries, token, cache, offline mode, size caps.
    pub fetch: FetchSettings,
    /// The size cap on the registry, the catalog and the state file
    /// (`--max-document-bytes`).
    pub documents: LoadLimits,
}

impl IngestSettings {
    /// Defaults (72 h, 16 lanes at once, default fetching) at `now`.
    pub fn at(now: Timestamp) -> Self {
        Self {
            now,
            max_age_hours: policy::DEFAULT_MAX_AGE_HOURS,
            concurrency: DEFAULT_CONCURRENCY,
            fetch: FetchSettings::default(),
            documents: LoadLimits::default(),
        }
    }
}

/// Told about an ingest's progress; the binary draws a progress bar with it.
/// Called from the runtime's worker threads.
pub trait Progress: Send + Sync {
    /// The registry loaded: `lanes` lanes will be reported.
    fn start(&self, lanes: usize) {
        let _ = lanes;
    }
    /// One lane is done.
    fn lane_done(&self, runner_id: &str, freshness: FreshnessState) {
        let _ = (runner_id, freshness);
    }
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}

/// Why no lane could be ingested. The artifacts are written all the same
/// (with no rows), and the binary exits 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The registry could not be loaded.
    #[error(transparent)]
    Registry(LoadError),
    /// The schema catalog could not be loaded.
    #[error(transparent)]
    Catalog(LoadError),
    /// The catalog does not pin the report version.
    #[error(
        "{catalog}: no active pin for {report}; add one so ingest knows which report version to accept",
        report = RunnerStatusReport::ID
    )]
    NoReportPin {
        /// The catalog file.
        catalog: String,
    },
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] HttpClientError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Everything an ingest produced; nothing is written yet.
#[derive(Debug)]
pub struct IngestOutcome {
    /// The matrix, one row per registry lane.
    pub matrix: RunnerStatusMatrix,
    /// The log, one entry per registry lane.
    pub log: IngestLog,
    /// Set when no lane could be ingested.
    pub config_error: Option<ConfigError>,
    /// Non-fatal findings: unknown registry fields, cache write failures,
    /// a corrupt state file.
    pub warnings: Vec<String>,
    /// The state to write after the artifacts ([`crate::publish::SetLock::publish`]):
    /// set when [`IngestInputs::state`] is, unless no lane could be ingested
    /// (a configuration error leaves the state file alone).
    pub state: Option<StateUpdate>,
}

impl IngestOutcome {
    /// The freshness policy breaches `--enforce-freshness` fails on.
    pub fn breaches(&self) -> Vec<Breach> {
        policy::row_breaches(&self.matrix.matrix_rows)
    }

    /// The Markdown matrix.
    pub fn markdown(&self) -> String {
        render::markdown(&self.matrix, &self.log)
    }

    fn failed(settings: &IngestSettings, error: ConfigError, warnings: Vec<String>) -> Self {
        let log = IngestLog {
            version: 1,
            generated_at: settings.now,
            set_id: None,
            max_age_hours: settings.max_age_hours,
            compatibility_stale_or_missing_count: 0,
            config_error: Some(error.to_string()),
            entries: Vec::new(),
            totals: IngestTotals::default(),
        };
        Self {
            matrix: RunnerStatusMatrix {
                version: 1,
                updated_at: settings.now,
                set_id: None,
                matrix_rows: Vec::new(),
            },
            log,
            config_error: Some(error),
            warnings,
            state: None,
        }
    }
}

/// Where the three artifacts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactPaths {
    /// `runner-status-matrix.json`.
    pub matrix_json: PathBuf,
    /// `runner-status-matrix.md`.
    pub matrix_md: PathBuf,
    /// `runner-status-ingest-log.json`.
    pub log_json: PathBuf,
}

impl ArtifactPaths {
    /// The canonical file names in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            matrix_json: dir.join(MATRIX_JSON),
            matrix_md: dir.join(MATRIX_MD),
            log_json: dir.join(LOG_JSON),
        }
    }
}

/// Runs an ingest on a runtime of its own (for callers that are not async).
pub fn ingest_blocking(
    inputs: &IngestInputs,
    settings: &IngestSettings,
    progress: Arc<dyn Progress>,
) -> IngestOutcome {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(ingest(inputs, settings, progress)),
        Err(e) => IngestOutcome::failed(settings, ConfigError::Runtime(e), Vec::new()),
    }
}

/// Runs an ingest: loads the registry and catalog, fetches and judges every
/// lane with at most `settings.concurrency` in flight, and returns the
/// artifacts' contents.
pub async fn ingest(
    inputs: &IngestInputs,
    settings: &IngestSettings,
    progress: Arc<dyn Progress>,
) -> IngestOutcome {
    let mut warnings = Vec::new();
    let registry = match document::load_with::<CertificationRegistry>(&inputs.registry, &settings.documents) {
        Ok(loaded) => {
            let origin = inputs.registry.display();
            warnings.extend(loaded.warnings.iter().map(|w| format!("{origin}: {w}")));
            loaded.document
        }
        Err(e) => return IngestOutcome::failed(settings, ConfigError::Registry(e), warnings),
    };
    let catalog = match document::load_with::<SchemaCatalog>(&inputs.catalog, &settings.documents) {
        Ok(loaded) => loaded.document,
        Err(e) => return IngestOutcome::failed(settings, ConfigError::Catalog(e), warnings),
    };
    let Some(report_pin) = catalog.active_major(RunnerStatusReport::ID) else {
        let error = ConfigError::NoReportPin {
            catalog: inputs.catalog.display().to_string(),
        };
        return IngestOutcome::failed(settings, error, warnings);
    };
    let fetcher = match Fetcher::new(settings.fetch.clone()) {
        Ok(fetcher) => fetcher,
        Err(e) => return IngestOutcome::failed(settings, e.into(), warnings),
    };
    let registry_dir = match inputs.registry.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prior = inputs.state.as_deref().map(|path| {
        let read = state::read(path, settings.now, &settings.documents);
        warnings.extend(read.warnings.iter().cloned());
        warnings.extend(read.corrupt_warning(path));
        read
    });

    let context = Arc::new(Context {
        fetcher,
        registry_dir,
        report_pin,
        now: settings.now,
        max_age_hours: settings.max_age_hours,
        permits: Semaphore::new(settings.concurrency.max(1)),
        prior: prior
            .as_ref()
            .map(|read| read.state.clone())
            .unwrap_or_else(|| IngestState::empty(settings.now)),
    });
    let lanes = Arc::new(registry.runners);
    progress.start(lanes.len());

    // One task per lane; the semaphore, not the task count, bounds the
    // fetches in flight. Awaiting the handles in spawn order puts the rows
    // in registry order however the fetches interleave.
    let handles: Vec<_> = (0..lanes.len())
        .map(|index| {
            let (context, lanes, progress) = (context.clone(), lanes.clone(), progress.clone());
            tokio::spawn(async move {
                let lane = &lanes[index];
                let record = ingest_lane(&context, lane).await;
                progress.lane_done(&lane.runner_id, record.row.freshness_state);
                record
            })
        })
        .collect();
    let mut records = Vec::with_capacity(handles.len());
    for handle in handles {
        match handle.await {
            Ok(record) => records.push(record),
            // A panic in a lane is a bug in dcx: surface it, do not hide it
            // behind a made-up row.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => unreachable!("lane tasks are never cancelled: {e}"),
        }
    }
    warnings.extend(context.fetcher.take_notes());

    let state = match (&inputs.state, prior) {
        (Some(path), Some(read)) => Some(StateUpdate {
            path: path.clone(),
            state: state::advance(
                &read.state,
                records.iter().filter_map(|r| r.accepted.clone()),
                settings.now,
            ),
            corrupt_aside: read.corrupt.map(|c| c.aside),
        }),
        _ => None,
    };
    let (rows, entries): (Vec<MatrixRow>, Vec<IngestLogEntry>) =
        records.into_iter().map(|r| (r.row, r.entry)).unzip();
    let compatibility_stale_or_missing_count = rows
        .iter()
        .filter(|row| {
            row.lane_class == LaneClass::CompatibilityNonBlocking
                && policy::registry_status(row) == LaneStatus::Active
                && row.freshness_state != FreshnessState::Fresh
        })
        .count() as u64;
    let totals = IngestTotals::count(&entries);
    IngestOutcome {
        matrix: RunnerStatusMatrix {
            version: 1,
            updated_at: settings.now,
            set_id: None,
            matrix_rows: rows,
        },
        log: IngestLog {
            version: 1,
            generated_at: settings.now,
            set_id: None,
            max_age_hours: settings.max_age_hours,
            compatibility_stale_or_missing_count,
            config_error: None,
            entries,
            totals,
        },
        config_error: None,
        warnings,
        state,
    }
}

/// What every lane task shares.
struct Context {
    fetcher: Fetcher,
    registry_dir: PathBuf,
    report_pin: u64,
    now: Timestamp,
    max_age_hours: u64,
    permits: Semaphore,
    /// The newest report accepted for each lane before this run.
    prior: IngestState,
}

/// A lane's row and log entry, and its report's state entry if it was accepted.
struct LaneRecord {
    row: MatrixRow,
    entry: IngestLogEntry,
    accepted: Option<IngestStateLane>,
}

/// What was learned about a lane's source before anything failed.
#[derive(Default)]
struct Trace {
    release_version: Option<String>,
    report_url: Option<String>,
}

/// Why a lane has no usable report.
struct Failure {
    class: IngestErrorClass,
    message: String,
}

fn failure(class: IngestErrorClass, message: String) -> Failure {
    Failure { class, message }
}

/// A report that passed validation, and how fresh it is.
struct Judged {
    report: RunnerStatusReport,
    judgement: Judgement,
    /// The lane's state entry for it.
    accepted: IngestStateLane,
}

async fn ingest_lane(context: &Context, lane: &RegistryLane) -> LaneRecord {
    let exchange = lane.status_exchange.as_ref();
    let slo_hours = policy::slo_hours(
        exchange.and_then(|e| e.freshness_slo_hours),
        context.max_age_hours,
    );
    let mut trace = Trace::default();
    let result = match (lane.status, exchange) {
        (LaneStatus::Active, Some(exchange)) => {
            // A closed semaphore is impossible (it is never closed); treat
            // it as "no limit" rather than failing the lane.
            let _permit = context.permits.acquire().await.ok();
            fetch_and_judge(context, lane, exchange, slo_hours, &mut trace).await
        }
        (LaneStatus::Active, None) => Err(failure(
            IngestErrorClass::RegistryEntryIncomplete,
            "the lane is active but declares no status_exchange in the registry".to_owned(),
        )),
        (status, _) => Err(failure(
            IngestErrorClass::LaneNotActive,
            format!(
                "lane is {} in the registry; its status exchange is not fetched",
                status.as_str()
            ),
        )),
    };
    record(lane, exchange, slo_hours, trace, result)
}

fn record(
    lane: &RegistryLane,
    exchange: Option<&StatusExchange>,
    slo_hours: u64,
    trace: Trace,
    result: Result<Judged, Failure>,
) -> LaneRecord {
    let mut accepted = None;
    let (runner_status, freshness, status_report, error) = match result {
        Ok(Judged {
            report,
            judgement,
            accepted: entry,
        }) => {
            accepted = Some(entry);
            let age_seconds = match judgement {
                Judgement::Fresh { age_seconds } | Judgement::Stale { age_seconds, .. } => age_seconds,
                // Never judged fresh or stale; `fetch_and_judge` turns it into a failure.
                Judgement::FromTheFuture { ahead_seconds } => -ahead_seconds,
            };
            let error = match judgement {
                Judgement::Stale {
                    beyond_slo,
                    past_fresh_until,
                    ..
                } => Some(failure(
                    IngestErrorClass::StaleReport,
                    stale_message(&report, age_seconds, slo_hours, beyond_slo, past_fresh_until),
                )),
                _ => None,
            };
            let age = StatusReportAge {
                generated_at: report.generated_at,
                age_seconds,
                age_hours: age_seconds.div_euclid(3600),
                fresh_until: report.fresh_until,
            };
            (report.overall_status, judgement.state(), Some(age), error)
        }
        Err(failure) => (
            OverallStatus::Unknown,
            FreshnessState::Missing,
            None,
            Some(failure),
        ),
    };
    let policy_effect = policy::effect(lane.class, lane.status, runner_status, freshness);
    let implementation_repo = lane.entrypoints.implementation_repo.clone();
    let row = MatrixRow {
        runner_id: lane.runner_id.clone(),
        implementation_repo: implementation_repo.clone(),
        lane_class: lane.class,
        runner_status,
        freshness_state: freshness,
        policy_effect,
        freshness_slo_hours: Some(slo_hours),
        status_source: Some(StatusSource {
            release_version: trace.release_version,
            report_url: trace.report_url.clone(),
            registry_status: lane.status,
        }),
        status_report,
    };
    let (error_class, error) = match error {
        Some(Failure { class, message }) => (Some(class), Some(message)),
        None => (None, None),
    };
    let entry = IngestLogEntry {
        runner_id: lane.runner_id.clone(),
        implementation_repo,
        release_api_url: exchange.map(|e| e.release_api_url.clone()),
        report_asset_name: exchange.map(|e| e.report_asset_name.clone()),
        report_url: trace.report_url,
        freshness_state: freshness,
        policy_effect,
        error_class,
        error,
    };
    LaneRecord { row, entry, accepted }
}

fn stale_message(
    report: &RunnerStatusReport,
    age_seconds: i64,
    slo_hours: u64,
    beyond_slo: bool,
    past_fresh_until: bool,
) -> String {
    let mut reasons = Vec::new();
    if beyond_slo {
        reasons.push(format!("beyond the lane's {slo_hours} h SLO"));
    }
    if past_fresh_until {
        reasons.push(format!("past its fresh_until {}", report.fresh_until));
    }
    format!(
        "report generated {} is {} old: {}",
        report.generated_at,
        format_age(age_seconds),
        reasons.join("; ")
    )
}

/// Metadata → asset → checksum → report → identity → rollback → freshness,
/// stopping at the first problem.
async fn fetch_and_judge(
    context: &Context,
    lane: &RegistryLane,
    exchange: &StatusExchange,
    slo_hours: u64,
    trace: &mut Trace,
) -> Result<Judged, Failure> {
    let metadata_ref = exchange.release_api_url.as_str();
    let metadata_location = Location::resolve(metadata_ref, &context.registry_dir).map_err(|e| {
        failure(
            IngestErrorClass::RegistryEntryIncomplete,
            format!("status_exchange.release_api_url {metadata_ref:?}: {e}"),
        )
    })?;
    let metadata = context
        .fetcher
        .fetch(&metadata_location, Resource::ReleaseMetadata)
        .await
        .map_err(|e| {
            fetch_failure(
                e,
                IngestErrorClass::MissingReleaseMetadata,
                &format!("cannot fetch release metadata {metadata_ref}"),
            )
        })?;
    let release = document::from_bytes::<GithubRelease>(&metadata, Format::Json, metadata_ref)
        .map_err(|e| {
            failure(
                IngestErrorClass::MissingReleaseMetadata,
                format!("invalid release metadata: {e}"),
            )
        })?
        .document;
    trace.release_version = Some(release.tag_name.clone());

    let asset_name = exchange.report_asset_name.as_str();
    // The first asset of that name, as GitHub lists them (names are unique
    // within a release).
    let Some(asset) = release.assets.iter().find(|asset| asset.name == asset_name) else {
        let names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
        return Err(failure(
            IngestErrorClass::MissingStatusAsset,
            format!(
                "missing report asset '{asset_name}' in release {} of {metadata_ref} (assets: {})",
                release.tag_name,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        ));
    };
    let asset_ref = asset.browser_download_url.as_str();
    trace.report_url = Some(asset_ref.to_owned());
    let asset_location = Location::resolve(asset_ref, &context.registry_dir).map_err(|e| {
        failure(
            IngestErrorClass::MissingStatusAsset,
            format!("report asset {asset_ref}: {e}"),
        )
    })?;
    if metadata_location.is_remote() && !asset_location.is_remote() {
        return Err(failure(
            IngestErrorClass::MissingStatusAsset,
            format!(
                "report asset {asset_ref} is a local file, but the release metadata came from {metadata_ref}; \
                 metadata fetched over HTTP may only name http(s) assets"
            ),
        ));
    }
    let bytes = context
        .fetcher
        .fetch(&asset_location, Resource::ReportAsset)
        .await
        .map_err(|e| {
            fetch_failure(
                e,
                IngestErrorClass::MissingStatusAsset,
                &format!("cannot download report asset {asset_ref}"),
            )
        })?;
    // A malformed digest never gets here: the release metadata failed
    // validation above. No digest at all means GitHub published none.
    let actual = sha256_bytes(&bytes);
    if let Some(Ok(expected)) = asset.sha256()
        && actual != expected
    {
        return Err(failure(
            IngestErrorClass::ChecksumMismatch,
            format!(
                "checksum mismatch for report asset {asset_ref}: the release publishes sha256 {expected}, \
                 the downloaded {} bytes hash to {actual}",
                bytes.len()
            ),
        ));
    }

    let report = parse_report(&bytes, asset_ref, context.report_pin)?;
    check_identity(&report, lane, asset_ref)?;
    let last = context.prior.lane(&lane.runner_id);
    let accepted_at = match state::judge(last, &report, &actual) {
        Verdict::Rollback(message) => {
            return Err(failure(
                IngestErrorClass::RollbackDetected,
                format!("{asset_ref}: {message}"),
            ));
        }
        // The same report again: it was accepted back then.
        Verdict::Same => last.map_or(context.now, |last| last.accepted_at),
        Verdict::First | Verdict::Newer => context.now,
    };
    let judgement = policy::judge(context.now, report.generated_at, report.fresh_until, slo_hours);
    if let Judgement::FromTheFuture { ahead_seconds } = judgement {
        return Err(failure(
            IngestErrorClass::FutureGeneratedAt,
            format!(
                "{asset_ref}: /generated_at: {} is {} ahead of now ({}); a report more than {} in the future \
                 is invalid, check the producer's clock",
                report.generated_at,
                format_age(ahead_seconds),
                context.now,
                format_age(policy::FUTURE_SKEW_SECONDS)
            ),
        ));
    }
    let accepted = IngestStateLane {
        runner_id: lane.runner_id.clone(),
        release_version: report.release_version.clone(),
        generated_at: report.generated_at,
        report_sha256: actual,
        report_url: asset_ref.to_owned(),
        accepted_at,
    };
    Ok(Judged {
        report,
        judgement,
        accepted,
    })
}

fn fetch_failure(error: FetchError, class: IngestErrorClass, what: &str) -> Failure {
    let class = match error {
        FetchError::RateLimited { .. } => IngestErrorClass::RateLimited,
        _ => class,
    };
    failure(class, format!("{what}: {error}"))
}

/// The report, typed and validated, in the version the catalog pins.
fn parse_report(bytes: &[u8], origin: &str, pin: u64) -> Result<RunnerStatusReport, Failure> {
    let invalid = |e: LoadError| {
        let class = match e {
            LoadError::UnsupportedVersion { .. } => IngestErrorClass::UnsupportedReportVersion,
            _ => IngestErrorClass::InvalidStatusReport,
        };
        failure(class, format!("invalid status report: {e}"))
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        // Let the loader say where the bad byte is.
        return document::from_bytes::<RunnerStatusReport>(bytes, Format::Json, origin)
            .map(|loaded| loaded.document)
            .map_err(invalid);
    };
    // The catalog's pin first: it is the control plane's word on which
    // version is current, which may be stricter than what this build reads.
    // Only `version` is read here (the rest is skipped, not built into a
    // tree); text that is not JSON falls through to the loader's message.
    #[derive(serde::Deserialize)]
    struct VersionField {
        version: Option<serde_json::Value>,
    }
    let found = serde_json::from_str::<VersionField>(text)
        .ok()
        .and_then(|probe| probe.version)
        .and_then(|version| version.as_u64());
    if let Some(found) = found
        && found != pin
    {
        return Err(failure(
            IngestErrorClass::UnsupportedReportVersion,
            format!(
                "{origin}: /version: report version {found} does not match the schema catalog's pin {pin} for {}",
                RunnerStatusReport::ID
            ),
        ));
    }
    document::from_str::<RunnerStatusReport>(text, Format::Json, origin)
        .map(|loaded| loaded.document)
        .map_err(invalid)
}

/// The report must be about the lane the registry fetched it for.
fn check_identity(report: &RunnerStatusReport, lane: &RegistryLane, origin: &str) -> Result<(), Failure> {
    let mut problems = Vec::new();
    if report.runner_id != lane.runner_id {
        problems.push(format!(
            "/runner_id: the report is for {:?}, but the registry lane is {:?}",
            report.runner_id, lane.runner_id
        ));
    }
    if report.lane_class != lane.class {
        problems.push(format!(
            "/lane_class: the report says {}, but the registry says {}",
            report.lane_class.as_str(),
            lane.class.as_str()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(failure(
            IngestErrorClass::RegistryMismatch,
            format!("{origin}: {}", problems.join("; ")),
        ))
    }
}
