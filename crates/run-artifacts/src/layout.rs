//! The dash directory (contract §1): file names, product ids, and the rules
//! that keep every path the library touches inside the dash directory.

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use dcx_contracts::atomic::{WriteError, atomic_write};
use dcx_contracts::document::{LoadError, LoadLimits, read_bounded};
use dcx_contracts::documents;
use dcx_contracts::run_artifacts::is_product_slug;

/// The fleet registry, at the top of the dash directory.
pub(crate) const PRODUCTS_FILE: &str = "products.json";
/// Where the JSON Schemas of the two documents go.
pub(crate) const SCHEMAS_DIR: &str = "schemas";
/// The directory holding one directory per product.
pub(crate) const RUNS_DIR: &str = "runs";
/// A product's latest run report, in `runs/<product_id>/`.
pub(crate) const LAST_RUN_FILE: &str = "last_run.json";
/// A run's output. The contract's name, whatever the test runner is.
pub const LOG_FILE: &str = "pytest_output.log";
/// A run's structured test results (from `--junit`).
pub(crate) const TEST_REPORT_FILE: &str = "test-report.json";
/// A run's UI proof.
pub(crate) const SCREENSHOT_FILE: &str = "screenshot.png";
/// A run's additional evidence files.
pub(crate) const EVIDENCE_DIR: &str = "evidence";
/// Run directories start with this; GC considers nothing else.
pub(crate) const RUN_DIR_PREFIX: &str = "run_";
/// The rendered dashboard, by default.
pub const INDEX_FILE: &str = "index.html";

/// The schema files the contract puts under `schemas/`, with the document
/// id each is generated from.
const SCHEMA_FILES: [(&str, &str); 2] = [
    ("products.schema.json", "products"),
    ("last_run.schema.json", "last_run"),
];

/// A product id that is safe to use as a directory name under `runs/`.
///
/// Constructed only through [`ProductId::parse`], so a path built from one
/// can never escape or hide in the dash directory (`../x`, `.`, `a/b`, …).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProductId(String);

/// A product id that is not a safe slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid product id {id:?}: use 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit"
)]
pub struct InvalidProductId {
    /// The rejected id.
    pub id: String,
}

impl ProductId {
    /// Checks `id` against the contract's slug rule
    /// ([`is_product_slug`]).
    pub fn parse(id: &str) -> Result<Self, InvalidProductId> {
        if is_product_slug(id) {
            Ok(Self(id.to_owned()))
        } else {
            Err(InvalidProductId { id: id.to_owned() })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ProductId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A dash directory: the root every artifact path is relative to, and the
/// size cap on the documents read from it.
#[derive(Debug, Clone)]
pub struct DashDir {
    root: PathBuf,
    limits: LoadLimits,
}

impl DashDir {
    /// The dash directory at `root` (it need not exist yet), its documents
    /// capped at [`LoadLimits::default`].
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            limits: LoadLimits::default(),
        }
    }

    /// The same directory with `limits` on `products.json` and
    /// `last_run.json` (`dcx --max-document-bytes`).
    #[must_use]
    pub fn with_load_limits(mut self, limits: LoadLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The size cap on the documents read from it.
    pub(crate) fn load_limits(&self) -> &LoadLimits {
        &self.limits
    }

    /// The bytes of a document of the dash directory, `None` when it does
    /// not exist; refused unread over [`DashDir::load_limits`]. The error is
    /// the text of a finding about the file.
    pub(crate) fn read_document(&self, path: &Path) -> Result<Option<Vec<u8>>, String> {
        match read_bounded(path, self.limits.max_bytes) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(LoadError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(LoadError::Read { source, .. }) => Err(format!("cannot read: {source}")),
            Err(LoadError::TooLarge { size, limit, .. }) => Err(format!(
                "the file has {} bytes, over the cap of {limit} bytes; not read (raise --max-document-bytes if it really is that large)",
                size.map_or_else(|| format!("more than {limit}"), |size| size.to_string())
            )),
            Err(other) => Err(other.to_string()),
        }
    }

    /// Its root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `products.json`.
    pub fn products_file(&self) -> PathBuf {
        self.root.join(PRODUCTS_FILE)
    }

    /// `runs/`.
    pub(crate) fn runs_dir(&self) -> PathBuf {
        self.root.join(RUNS_DIR)
    }

    /// `runs/<product_id>/`.
    pub fn product_dir(&self, product: &ProductId) -> PathBuf {
        self.runs_dir().join(product.as_str())
    }

    /// `runs/<product_id>/last_run.json`.
    pub fn last_run_file(&self, product: &ProductId) -> PathBuf {
        self.product_dir(product).join(LAST_RUN_FILE)
    }

    /// `runs/<product_id>/last_run.json` relative to the dash directory, as
    /// messages and badges name it.
    pub(crate) fn last_run_relative(product: &ProductId) -> String {
        format!("{RUNS_DIR}/{product}/{LAST_RUN_FILE}")
    }

    /// The dash-relative path of a file in a run directory, as evidence
    /// paths are written: `runs/<product_id>/<run_id>/<file>`.
    pub(crate) fn run_file_relative(product: &ProductId, run_id: &str, file: &str) -> String {
        format!("{RUNS_DIR}/{product}/{run_id}/{file}")
    }

    /// The run directories of a product (real directories whose name starts
    /// with `run_`), newest first: run ids sort by time as plain strings.
    /// A product without a directory has no runs.
    pub(crate) fn run_ids(&self, product: &ProductId) -> io::Result<Vec<String>> {
        let mut runs = Vec::new();
        let entries = match std::fs::read_dir(self.product_dir(product)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(runs),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            // `file_type` does not follow symlinks: a link named `run_x` is
            // not a run directory, so GC never deletes through it.
            if !entry.file_type()?.is_dir() {
                continue;
            }
            if let Ok(name) = entry.file_name().into_string()
                && name.starts_with(RUN_DIR_PREFIX)
            {
                runs.push(name);
            }
        }
        runs.sort_unstable_by(|a, b| b.cmp(a));
        Ok(runs)
    }

    /// The product directories under `runs/` whose names are valid product
    /// ids, sorted. Entries that are not directories or not slugs are left
    /// out (`validate` reports them).
    pub(crate) fn product_dirs(&self) -> io::Result<Vec<ProductId>> {
        let mut products = Vec::new();
        for entry in std::fs::read_dir(self.runs_dir())? {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            if let Some(id) = entry.file_name().to_str().and_then(|n| ProductId::parse(n).ok()) {
                products.push(id);
            }
        }
        products.sort();
        Ok(products)
    }

    /// Resolves a dash-relative path (an evidence path, a URL path) to a file
    /// path, refusing anything that could leave the dash directory.
    ///
    /// This is the lexical check; [`DashDir::contains`] is the one that also
    /// sees symlinks.
    pub(crate) fn resolve(&self, relative: &str) -> Result<PathBuf, UnsafePath> {
        let unsafe_path = |reason| UnsafePath {
            path: relative.to_owned(),
            reason,
        };
        if relative.is_empty() {
            return Err(unsafe_path("it is empty"));
        }
        if relative.contains('\0') || relative.contains('\\') {
            return Err(unsafe_path("it contains a NUL byte or a backslash"));
        }
        let path = Path::new(relative);
        let mut resolved = self.root.clone();
        for component in path.components() {
            match component {
                Component::Normal(part) => resolved.push(part),
                Component::CurDir => {}
                Component::ParentDir => return Err(unsafe_path("it contains '..'")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(unsafe_path("it is absolute"));
                }
            }
        }
        if resolved == self.root {
            return Err(unsafe_path("it names the dash directory itself"));
        }
        Ok(resolved)
    }

    /// Whether `path`, with every symlink followed, is inside the dash
    /// directory. False when either cannot be resolved (e.g. does not exist).
    pub(crate) fn contains(&self, path: &Path) -> bool {
        match (self.root.canonicalize(), path.canonicalize()) {
            (Ok(root), Ok(target)) => target.starts_with(root),
            _ => false,
        }
    }

    /// Writes `schemas/products.schema.json` and `schemas/last_run.schema.json`
    /// (the schemas this build reads) when they are missing or differ.
    pub(crate) fn write_schemas(&self) -> Result<(), WriteError> {
        for (file, id) in SCHEMA_FILES {
            let Some(kind) = documents::by_id(id) else {
                continue;
            };
            let path = self.root.join(SCHEMAS_DIR).join(file);
            let text = kind.json_schema_text();
            if !holds_exactly(&path, text.as_bytes()) {
                atomic_write(&path, text.as_bytes())?;
            }
        }
        Ok(())
    }

    /// The schema files under `schemas/` that are missing or differ from the
    /// schemas this build reads, dash-relative.
    pub(crate) fn stale_schemas(&self) -> Vec<String> {
        SCHEMA_FILES
            .iter()
            .filter(|(file, id)| {
                let expected = documents::by_id(id).map(|kind| kind.json_schema_text());
                let path = self.root.join(SCHEMAS_DIR).join(file);
                expected.is_some_and(|text| !holds_exactly(&path, text.as_bytes()))
            })
            .map(|(file, _)| format!("{SCHEMAS_DIR}/{file}"))
            .collect()
    }
}

/// Whether the file at `path` holds exactly `expected`; a larger file is
/// never read whole (it cannot match).
fn holds_exactly(path: &Path, expected: &[u8]) -> bool {
    read_bounded(path, expected.len() as u64).is_ok_and(|found| found == expected)
}

/// A dash-relative path that would leave the dash directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing path {path:?}: {reason}; paths must be relative to the dash directory and stay inside it")]
pub(crate) struct UnsafePath {
    /// The path as given.
    pub path: String,
    /// Why it was refused.
    pub reason: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_slugs() {
        for good in ["codemonkeys-dash", "a", "spec_kit", "0day"] {
            assert_eq!(ProductId::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "../x",
            ".",
            "..",
            "a/b",
            "Upper",
            "-lead",
            "_lead",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(ProductId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            ProductId::parse("../x").unwrap_err().to_string(),
            "invalid product id \"../x\": use 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit"
        );
    }

    #[test]
    fn resolve_keeps_paths_inside() {
        let dash = DashDir::new("/srv/dash");
        assert_eq!(
            dash.resolve("runs/p/run_1/pytest_output.log").unwrap(),
            Path::new("/srv/dash/runs/p/run_1/pytest_output.log")
        );
        assert_eq!(dash.resolve("./runs/p").unwrap(), Path::new("/srv/dash/runs/p"));
        for (bad, reason) in [
            ("", "it is empty"),
            ("../etc/passwd", "it contains '..'"),
            ("runs/../../x", "it contains '..'"),
            ("/etc/passwd", "it is absolute"),
            ("runs\\..\\x", "it contains a NUL byte or a backslash"),
            (".", "it names the dash directory itself"),
        ] {
            assert_eq!(dash.resolve(bad).unwrap_err().reason, reason, "{bad:?}");
        }
        assert_eq!(
            dash.resolve("../x").unwrap_err().to_string(),
            "refusing path \"../x\": it contains '..'; paths must be relative to the dash directory and stay inside it"
        );
    }

    #[cfg(unix)]
    #[test]
    fn contains_follows_symlinks() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("inside"), "i").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("link")).unwrap();
        let dash = DashDir::new(dir.path());
        assert!(dash.contains(&dir.path().join("inside")));
        assert!(!dash.contains(&dir.path().join("link")));
        assert!(!dash.contains(&dir.path().join("missing")));
    }

    #[test]
    fn run_ids_are_run_directories_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path());
        let product = ProductId::parse("p").unwrap();
        assert!(dash.run_ids(&product).unwrap().is_empty());
        let root = dash.product_dir(&product);
        for run in [
            "run_20251221_090000",
            "run_20251222_000000_000001",
            "run_20251222_000000",
        ] {
            std::fs::create_dir_all(root.join(run)).unwrap();
        }
        std::fs::create_dir_all(root.join("evidence")).unwrap();
        std::fs::write(root.join("run_file"), "").unwrap();
        std::fs::write(root.join(LAST_RUN_FILE), "{}").unwrap();
        assert_eq!(
            dash.run_ids(&product).unwrap(),
            [
                "run_20251222_000000_000001",
                "run_20251222_000000",
                "run_20251221_090000"
            ]
        );
    }

    #[test]
    fn schemas_are_written_once_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path());
        assert_eq!(
            dash.stale_schemas(),
            ["schemas/products.schema.json", "schemas/last_run.schema.json"]
        );
        dash.write_schemas().unwrap();
        assert!(dash.stale_schemas().is_empty());
        std::fs::write(dir.path().join("schemas/last_run.schema.json"), "{}").unwrap();
        assert_eq!(dash.stale_schemas(), ["schemas/last_run.schema.json"]);
    }
}
