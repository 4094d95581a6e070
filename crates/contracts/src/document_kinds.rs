//! The kinds of contract document: every document type, erased to a
//! [`DocumentKind`] and listed in [`ALL`], for tools that handle them
//! generically: schema generation, governance, `dcx validate`.

use crate::document::{self, Document, Format, LoadError, LoadLimits, VersionPin, Warning};
use crate::schema;

/// Loads and validates bytes as one document type, returning its warnings.
type CheckFn = fn(&[u8], Format, &str) -> Result<Vec<Warning>, LoadError>;

/// One document type, erased so a list can hold them all.
#[derive(Clone, Copy)]
pub struct DocumentKind {
    /// [`Document::ID`].
    pub id: &'static str,
    /// [`Document::NAME`].
    pub name: &'static str,
    /// [`Document::VERSION`].
    pub version: Option<VersionPin>,
    /// [`Document::FORMAT`].
    pub format: Format,
    schema: fn() -> serde_json::Value,
    check: CheckFn,
}

impl std::fmt::Debug for DocumentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentKind")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DocumentKind {
    /// The kind of `D`.
    pub const fn of<D: Document>() -> Self {
        Self {
            id: D::ID,
            name: D::NAME,
            version: D::VERSION,
            format: D::FORMAT,
            schema: schema::json_schema::<D>,
            check: check_bytes::<D>,
        }
    }

    /// The generated JSON Schema.
    pub fn json_schema(&self) -> serde_json::Value {
        (self.schema)()
    }

    /// The committed schema text (pretty JSON with a final newline).
    pub fn json_schema_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.json_schema()).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Loads and validates `bytes` as this kind; returns the warnings.
    pub fn check(&self, bytes: &[u8], format: Format, origin: &str) -> Result<Vec<Warning>, LoadError> {
        (self.check)(bytes, format, origin)
    }

    /// Loads and validates a file as this kind; returns the warnings. Files
    /// over [`document::DEFAULT_MAX_DOCUMENT_BYTES`] are refused.
    pub fn check_file(&self, path: &std::path::Path) -> Result<Vec<Warning>, LoadError> {
        self.check_file_with(path, &LoadLimits::default())
    }

    /// [`DocumentKind::check_file`] with explicit limits (see
    /// [`document::load_with`]).
    pub fn check_file_with(
        &self,
        path: &std::path::Path,
        limits: &LoadLimits,
    ) -> Result<Vec<Warning>, LoadError> {
        let origin = path.display().to_string();
        let bytes = document::read_bounded(path, limits.max_bytes)?;
        let format = Format::detect(path, &String::from_utf8_lossy(&bytes));
        self.check(&bytes, format, &origin)
    }
}

fn check_bytes<D: Document>(bytes: &[u8], format: Format, origin: &str) -> Result<Vec<Warning>, LoadError> {
    document::from_bytes::<D>(bytes, format, origin).map(|loaded| loaded.warnings)
}

/// Every document type dcx reads or writes, in a stable order.
pub const ALL: &[DocumentKind] = &[
    DocumentKind::of::<crate::status::RunnerStatusReport>(),
    DocumentKind::of::<crate::status::RunnerStatusMatrix>(),
    DocumentKind::of::<crate::status::IngestLog>(),
    DocumentKind::of::<crate::status::IngestState>(),
    DocumentKind::of::<crate::status::GithubRelease>(),
    DocumentKind::of::<crate::certification::CertificationRegistry>(),
    DocumentKind::of::<crate::certification::ExecutionCertificate>(),
    DocumentKind::of::<crate::catalog::SchemaCatalog>(),
    DocumentKind::of::<crate::bundle::BundleManifest>(),
    DocumentKind::of::<crate::bundle::ImplementationOverlay>(),
    DocumentKind::of::<crate::bundle::BuildLock>(),
    DocumentKind::of::<crate::bundle::ResolvedBundleLock>(),
    DocumentKind::of::<crate::bundle::ProjectBundleLock>(),
    DocumentKind::of::<crate::run_artifacts::Products>(),
    DocumentKind::of::<crate::run_artifacts::LastRun>(),
    DocumentKind::of::<crate::runner_platform::RunnerInfo>(),
    DocumentKind::of::<crate::runner_platform::RunnerVersion>(),
];

/// The kind with `id`.
pub fn by_id(id: &str) -> Option<&'static DocumentKind> {
    ALL.iter().find(|kind| kind.id == id)
}
