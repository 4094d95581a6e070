//! Test support: a fixture workspace (registry, catalog, release files,
//! reports) in a temp directory, and what every ingest's artifacts must
//! satisfy. The loopback servers and the registry, report and release
//! generators are `dcx-testkit`'s, re-exported here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dcx_contracts::Timestamp;
use dcx_status_ingest::{
    ArtifactPaths, FetchSettings, IngestInputs, IngestOutcome, IngestSettings, RetryPolicy, SetPaths, Silent,
    lock_set,
};
use dcx_sys::Wait;
pub(crate) use dcx_testkit::{
    CATALOG, Canned, Lane, Misbehave, REPORT_ASSET, RawServer, Seen, Server, registry_yaml, release, report,
};

/// `2026-02-20T00:00:00Z` and friends.
pub(crate) fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// A temp directory with a registry, a catalog and whatever else a test writes.
pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub(crate) fn new(lanes: &[Lane]) -> Self {
        let fixture = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        fixture.write("registry.yaml", registry_yaml(lanes));
        fixture.write("catalog.yaml", CATALOG);
        fixture
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub(crate) fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    pub(crate) fn inputs(&self) -> IngestInputs {
        IngestInputs {
            registry: self.path("registry.yaml"),
            catalog: self.path("catalog.yaml"),
            state: None,
        }
    }

    /// Test settings: fast retries, a cache in the fixture, and a timeout
    /// generous enough for a loaded machine (the timeout test sets its own).
    pub(crate) fn settings(&self, now: &str) -> IngestSettings {
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
    pub(crate) fn run(&self, settings: &IngestSettings) -> Ran {
        self.run_with(&self.inputs(), settings)
    }

    /// [`Fixture::run`] with the state file `out/runner-status-ingest-state.json`,
    /// written after the artifacts as `dcx status ingest` does.
    pub(crate) fn run_with_state(&self, settings: &IngestSettings) -> Ran {
        let inputs = IngestInputs {
            state: Some(self.state_path()),
            ..self.inputs()
        };
        self.run_with(&inputs, settings)
    }

    /// Where [`Fixture::run_with_state`] keeps the state.
    pub(crate) fn state_path(&self) -> PathBuf {
        self.path("out/runner-status-ingest-state.json")
    }

    /// [`Fixture::run`] with explicit inputs, as `dcx status ingest` does
    /// it: the set locked before the ingest reads the state, then
    /// published as one set (the state update last).
    pub(crate) fn run_with(&self, inputs: &IngestInputs, settings: &IngestSettings) -> Ran {
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
pub(crate) struct Ran {
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
        // The Markdown's last line, as docs/STATUS_EXCHANGE.md gives it.
        assert_eq!(
            self.markdown.trim_end().lines().last(),
            Some(format!("<!-- dcx-set-id: {} -->", self.set_id).as_str()),
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
    pub(crate) fn lane(&self, runner_id: &str) -> LaneView {
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
    pub(crate) fn row_ids(&self) -> Vec<String> {
        self.outcome
            .matrix
            .matrix_rows
            .iter()
            .map(|r| r.runner_id.clone())
            .collect()
    }
}

pub(crate) struct LaneView {
    pub row: dcx_contracts::status::MatrixRow,
    pub entry: dcx_contracts::status::IngestLogEntry,
}

impl LaneView {
    /// `(freshness, policy effect, error class, error)` in their contract spellings.
    pub(crate) fn summary(&self) -> (String, String, Option<String>, Option<String>) {
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
