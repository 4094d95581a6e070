//! `schema_catalog_v1`: the control plane's pin of each document's major
//! version. Ingest checks a report's `version` against it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::document::{Document, Format, VersionPin, Violation};
use crate::pointer::join;
use crate::validate::Checker;

/// `schema_catalog_v1`: which major version of each document is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "schema_catalog_v1")]
pub struct SchemaCatalog {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// One entry per document.
    pub schemas: Vec<CatalogEntry>,
}

/// The pin of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CatalogEntry {
    /// The document id, e.g. `runner_status_report_v1`.
    #[schemars(length(min = 1))]
    pub schema_id: String,
    /// The major version documents must declare.
    pub major: u64,
    /// The schema file, e.g. `/specs/schemas/runner_status_report_v1.schema.json`.
    #[schemars(length(min = 1))]
    pub path: String,
    /// Whether the pin is in force.
    pub status: CatalogStatus,
}

/// Whether a catalog pin is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatalogStatus {
    /// In force.
    Active,
    /// Still read, no longer written.
    Deprecated,
}

impl SchemaCatalog {
    /// The active pin of `schema_id`.
    pub fn active_major(&self, schema_id: &str) -> Option<u64> {
        self.schemas
            .iter()
            .find(|e| e.schema_id == schema_id && e.status == CatalogStatus::Active)
            .map(|e| e.major)
    }
}

impl Document for SchemaCatalog {
    const ID: &'static str = "schema_catalog_v1";
    const NAME: &'static str = "schema catalog";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Yaml;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check.unique("/schemas", "schema_id", &self.schemas, |e| &e.schema_id);
        for (i, entry) in self.schemas.iter().enumerate() {
            let at = join("/schemas", i);
            check.non_empty(&at, "schema_id", &entry.schema_id);
            check.non_empty(&at, "path", &entry.path);
        }
        check.finish()
    }
}
