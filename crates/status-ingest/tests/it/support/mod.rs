//! Test support: a loopback HTTP server with canned responses, a raw TCP
//! server for the failures HTTP servers refuse to produce (resets,
//! truncated bodies), and a fixture workspace (registry, catalog, release
//! files, reports) in a temp directory.

#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use dcx_contracts::Timestamp;
use dcx_contracts::digest::sha256_bytes;
use dcx_status_ingest::ingest::{ArtifactPaths, IngestInputs, IngestOutcome, IngestSettings, Silent};
use dcx_status_ingest::publish::{SetPaths, lock_set, set_id_of_markdown};
use dcx_status_ingest::retry::RetryPolicy;
use dcx_status_ingest::source::FetchSettings;
use dcx_sys::Wait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// One canned response.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Canned {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200).body(body)
    }
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
}

#[derive(Default)]
struct ServerState {
    /// Per path: responses served in order; the last one repeats.
    routes: Mutex<HashMap<String, VecDeque<Canned>>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: Mutex<(usize, usize)>,
}

/// An HTTP/1.1 server on 127.0.0.1 with its own runtime thread; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Self {
        let state = Arc::new(ServerState::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let app_state = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("test server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                ready_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("ready");
                let app = axum::Router::new().fallback(handle).with_state(app_state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        let addr = ready_rx.recv().expect("server started");
        Self {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `responses` at `path`, in order, the last one for ever.
    pub fn route(&self, path: &str, responses: Vec<Canned>) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), responses.into());
    }

    /// The requests seen for `path`.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.state
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    /// The most requests that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.in_flight.lock().unwrap().1
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle(State(state): State<Arc<ServerState>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    state.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        headers: request.headers().clone(),
    });
    {
        let mut in_flight = state.in_flight.lock().unwrap();
        in_flight.0 += 1;
        in_flight.1 = in_flight.1.max(in_flight.0);
    }
    let canned = {
        let mut routes = state.routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        }
    };
    let canned = canned.unwrap_or_else(|| Canned::status(404).body("not found"));
    if !canned.delay.is_zero() {
        tokio::time::sleep(canned.delay).await;
    }
    state.in_flight.lock().unwrap().0 -= 1;
    let mut response = Response::builder().status(StatusCode::from_u16(canned.status).unwrap());
    for (name, value) in &canned.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(canned.body)).unwrap()
}

/// What a raw TCP server does after reading a request's head.
#[derive(Debug, Clone, Copy)]
pub enum Misbehave {
    /// Close with a TCP reset, no response.
    Reset,
    /// Announce `declared` bytes, send `sent`, close.
    Truncate { declared: usize, sent: usize },
}

/// A TCP server on 127.0.0.1 that misbehaves on every connection.
pub struct RawServer {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl RawServer {
    pub fn start(behaviour: Misbehave) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("raw server runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        runtime.spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    match behaviour {
                        Misbehave::Reset => {
                            let _ = stream.set_zero_linger();
                        }
                        Misbehave::Truncate { declared, sent } => {
                            let response = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n\r\n{}",
                                "x".repeat(sent)
                            );
                            let _ = stream.write_all(response.as_bytes()).await;
                            let _ = stream.flush().await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            _runtime: runtime,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// `2026-02-20T00:00:00Z` and friends.
pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// A registry lane for the fixture registry.
#[derive(Debug, Clone)]
pub struct Lane {
    pub id: String,
    pub class: &'static str,
    pub status: &'static str,
    pub release_api_url: String,
    pub slo_hours: Option<u64>,
}

impl Lane {
    pub fn active(id: &str, class: &'static str, release_api_url: impl Into<String>) -> Self {
        Self {
            id: id.to_owned(),
            class,
            status: "active",
            release_api_url: release_api_url.into(),
            slo_hours: Some(72),
        }
    }
    pub fn required(id: &str, url: impl Into<String>) -> Self {
        Self::active(id, "required", url)
    }
    pub fn compatibility(id: &str, url: impl Into<String>) -> Self {
        Self::active(id, "compatibility_non_blocking", url)
    }
    pub fn with_status(mut self, status: &'static str) -> Self {
        self.status = status;
        self
    }
}

/// The registry YAML for `lanes`.
pub fn registry_yaml(lanes: &[Lane]) -> String {
    let mut out = String::from(
        "version: 2\ncertificate_schema_ref: /specs/schemas/runner_execution_certificate_v1.schema.json\nrunners:\n",
    );
    for lane in lanes {
        let role = if lane.class == "required" {
            "required"
        } else {
            "compatibility"
        };
        out.push_str(&format!(
            "  - runner_id: {id}\n    class: {class}\n    status: {status}\n    entrypoints:\n      public_adapter: dc-runner\n      implementation_repo: dc-runner-{id}\n    artifact_contract:\n      json_out: /.artifacts/runner-certification-{{runner}}.json\n      md_out: /.artifacts/runner-certification-{{runner}}.md\n    status_exchange:\n      source_kind: release_asset\n      release_api_url: {url:?}\n      report_asset_name: runner-status-report-v1.json\n      matrix_role: {role}\n",
            id = lane.id,
            class = lane.class,
            status = lane.status,
            url = lane.release_api_url,
        ));
        if let Some(slo) = lane.slo_hours {
            out.push_str(&format!("      freshness_slo_hours: {slo}\n"));
        }
    }
    out
}

/// A valid report.
pub fn report(id: &str, class: &str, status: &str, generated_at: &str, fresh_until: &str) -> String {
    let report = serde_json::json!({
        "version": 1,
        "runner_id": id,
        "implementation_repo": format!("dc-runner-{id}"),
        "release_version": "v1.0.0",
        "commit_sha": "0123456789abcdef0123456789abcdef01234567",
        "generated_at": generated_at,
        "lane_class": class,
        "overall_status": status,
        "fresh_until": fresh_until,
        "command_results": [{"command": "governance", "status": "pass", "exit_code": 0, "duration_ms": 100}],
        "artifact_refs": [],
    });
    format!("{}\n", serde_json::to_string_pretty(&report).unwrap())
}

/// GitHub release metadata with one report asset.
pub fn release(tag: &str, asset_name: &str, download_url: &str, digest_of: Option<&[u8]>) -> String {
    let mut asset = serde_json::json!({"name": asset_name, "browser_download_url": download_url});
    if let Some(bytes) = digest_of {
        asset["digest"] = format!("sha256:{}", sha256_bytes(bytes)).into();
        asset["size"] = bytes.len().into();
    }
    serde_json::json!({"tag_name": tag, "assets": [asset]}).to_string()
}

pub const REPORT_ASSET: &str = "runner-status-report-v1.json";
pub const CATALOG: &str = "version: 1\nschemas:\n  - schema_id: runner_status_report_v1\n    major: 1\n    path: /specs/schemas/runner_status_report_v1.schema.json\n    status: active\n";

/// A temp directory with a registry, a catalog and whatever else a test writes.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new(lanes: &[Lane]) -> Self {
        let fixture = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        fixture.write("registry.yaml", registry_yaml(lanes));
        fixture.write("catalog.yaml", CATALOG);
        fixture
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    pub fn inputs(&self) -> IngestInputs {
        IngestInputs {
            registry: self.path("registry.yaml"),
            catalog: self.path("catalog.yaml"),
            state: None,
        }
    }

    /// Test settings: fast retries, a cache in the fixture, and a timeout
    /// generous enough for a loaded machine (the timeout test sets its own).
    pub fn settings(&self, now: &str) -> IngestSettings {
        IngestSettings {
            now: ts(now),
            max_age_hours: 72,
            concurrency: 4,
            fetch: FetchSettings {
                timeout: Duration::from_secs(20),
                retry: RetryPolicy {
                    attempts: 3,
                    base_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(40),
                    max_retry_after: Duration::from_secs(2),
                },
                cache_dir: Some(self.path("cache")),
                ..FetchSettings::default()
            },
            documents: dcx_contracts::LoadLimits::default(),
        }
    }

    /// Ingests, writes the three artifacts to `out/`, checks they are there
    /// and valid, and returns the outcome and their text.
    pub fn run(&self, settings: &IngestSettings) -> Ran {
        self.run_with(&self.inputs(), settings)
    }

    /// [`Fixture::run`] with the state file `out/runner-status-ingest-state.json`,
    /// written after the artifacts as `dcx status ingest` does.
    pub fn run_with_state(&self, settings: &IngestSettings) -> Ran {
        let inputs = IngestInputs {
            state: Some(self.state_path()),
            ..self.inputs()
        };
        self.run_with(&inputs, settings)
    }

    /// Where [`Fixture::run_with_state`] keeps the state.
    pub fn state_path(&self) -> PathBuf {
        self.path("out/runner-status-ingest-state.json")
    }

    /// [`Fixture::run`] with explicit inputs, as `dcx status ingest` does
    /// it: the set locked before the ingest reads the state, then
    /// published as one set (the state update last).
    pub fn run_with(&self, inputs: &IngestInputs, settings: &IngestSettings) -> Ran {
        let paths = SetPaths {
            artifacts: ArtifactPaths::in_dir(&self.path("out")),
            state: inputs.state.clone(),
        };
        let lock = lock_set(&paths, Wait::Fail, &settings.documents, |_, _| {}).expect("the set locked");
        let outcome = dcx_status_ingest::ingest_blocking(inputs, settings, Arc::new(Silent));
        let published = lock
            .publish(&outcome, &outcome.markdown())
            .expect("the set published");
        drop(lock);
        let artifacts = &paths.artifacts;
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let state = outcome.state.as_ref().map(|update| read(&update.path));
        let ran = Ran {
            matrix: read(&artifacts.matrix_json),
            log: read(&artifacts.log_json),
            markdown: read(&artifacts.matrix_md),
            state,
            set_id: published.set_id,
            outcome,
        };
        ran.assert_artifacts_valid();
        ran.assert_one_set();
        ran.without_set_id()
    }
}

/// An ingest's outcome and the text of its three artifacts (and state
/// file), checked to carry one set id and then shown without it, so the
/// upstream scenarios' snapshots compare the contents alone.
pub struct Ran {
    pub outcome: IngestOutcome,
    /// The set id every file carried.
    pub set_id: String,
    pub matrix: String,
    pub log: String,
    pub markdown: String,
    /// The state file as written, when the run had one.
    pub state: Option<String>,
}

impl Ran {
    /// The matrix, the log, the state and the Markdown carry the set id.
    fn assert_one_set(&self) {
        let json_id = |text: &str| {
            serde_json::from_str::<serde_json::Value>(text).unwrap()["set_id"]
                .as_str()
                .map(str::to_owned)
        };
        assert_eq!(
            json_id(&self.matrix).as_deref(),
            Some(self.set_id.as_str()),
            "matrix"
        );
        assert_eq!(json_id(&self.log).as_deref(), Some(self.set_id.as_str()), "log");
        if let Some(state) = &self.state {
            assert_eq!(json_id(state).as_deref(), Some(self.set_id.as_str()), "state");
        }
        assert_eq!(
            set_id_of_markdown(&self.markdown),
            Some(self.set_id.as_str()),
            "markdown"
        );
    }

    /// The texts without their set id.
    fn without_set_id(mut self) -> Self {
        let line = format!("  \"set_id\": \"{}\",\n", self.set_id);
        let strip = |text: &mut String| {
            assert_eq!(text.matches(&line).count(), 1, "{text}");
            *text = text.replacen(&line, "", 1);
        };
        strip(&mut self.matrix);
        strip(&mut self.log);
        if let Some(state) = &mut self.state {
            strip(state);
        }
        let tail = format!("\n<!-- dcx-set-id: {} -->\n", self.set_id);
        self.markdown = self
            .markdown
            .strip_suffix(&tail)
            .unwrap_or_else(|| panic!("no set-id line: {}", self.markdown))
            .to_owned();
        self
    }

    /// The matrix and log load through the contracts and validate against
    /// their generated JSON Schemas.
    fn assert_artifacts_valid(&self) {
        use dcx_contracts::documents;
        let state = self
            .state
            .iter()
            .map(|text| ("runner_status_ingest_state_v1", text));
        for (id, text) in [
            ("runner_status_matrix_v1", &self.matrix),
            ("runner_status_ingest_log_v1", &self.log),
        ]
        .into_iter()
        .chain(state)
        {
            let kind = documents::by_id(id).unwrap();
            let warnings = kind
                .check(text.as_bytes(), dcx_contracts::Format::Json, id)
                .unwrap_or_else(|e| panic!("{id} invalid: {e}"));
            assert!(warnings.is_empty(), "{id}: {warnings:?}");
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&kind.json_schema())
                .unwrap();
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{id} breaks its schema: {errors:?}");
        }
        assert!(self.markdown.starts_with("# Runner status matrix\n"));
    }

    /// The row and log entry of `runner_id`.
    pub fn lane(&self, runner_id: &str) -> LaneView {
        let row = self
            .outcome
            .matrix
            .matrix_rows
            .iter()
            .find(|r| r.runner_id == runner_id)
            .unwrap_or_else(|| panic!("no row {runner_id}"))
            .clone();
        let entry = self
            .outcome
            .log
            .entries
            .iter()
            .find(|e| e.runner_id == runner_id)
            .unwrap()
            .clone();
        LaneView { row, entry }
    }

    /// Row ids in matrix order.
    pub fn row_ids(&self) -> Vec<String> {
        self.outcome
            .matrix
            .matrix_rows
            .iter()
            .map(|r| r.runner_id.clone())
            .collect()
    }
}

pub struct LaneView {
    pub row: dcx_contracts::status::MatrixRow,
    pub entry: dcx_contracts::status::IngestLogEntry,
}

impl LaneView {
    /// `(freshness, policy effect, error class, error)` in their contract spellings.
    pub fn summary(&self) -> (String, String, Option<String>, Option<String>) {
        let text = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        (
            text(serde_json::to_value(self.row.freshness_state).unwrap()),
            text(serde_json::to_value(self.row.policy_effect).unwrap()),
            self.entry
                .error_class
                .map(|c| text(serde_json::to_value(c).unwrap())),
            self.entry.error.clone(),
        )
    }
}
