//! Run artifacts (seed 004): the fleet registry `products.json` and a
//! product's `last_run.json`, as the current upstream schemas define them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::document::{Document, Format, VersionPin, Violation};
use crate::pointer::join;
use crate::timestamp::Timestamp;
use crate::validate::Checker;

/// The `schema_version` both run-artifact documents carry.
pub const RUN_ARTIFACT_SCHEMA_VERSION: &str = "0.1";

/// `products.json`: the products Dash lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "products")]
pub struct Products {
    /// Always `"0.1"`.
    #[schemars(extend("const" = "0.1"))]
    pub schema_version: String,
    /// When the file was generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<Timestamp>,
    /// The fleet.
    pub products: Vec<Product>,
}

/// One product of the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Product {
    /// A safe slug: lowercase letters, digits, `-` and `_`, starting with a letter or digit.
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"))]
    pub product_id: String,
    /// The name people read.
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// Where its code lives (`local`, `github`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Its root, relative or absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The owning agent or team.
    #[schemars(length(min = 1))]
    pub owner: String,
    /// Its lifecycle status.
    pub status: ProductStatus,
    /// Its spec file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_path: Option<String>,
    /// Its run evidence directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_evidence_path: Option<String>,
    /// How much it matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
    /// 1 (highest priority) to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5))]
    pub sla_tier: Option<u8>,
    /// Its schedule file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_path: Option<String>,
    /// Whether fleet operations include it (absent means yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A product's lifecycle status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Being set up.
    Bootstrap,
    /// In service.
    Active,
    /// Waiting.
    Pending,
    /// Being built.
    Development,
    /// Announced.
    Planned,
    /// On its way out.
    Deprecated,
    /// Retired.
    Archived,
}

/// How much a product matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

/// Whether `id` is a safe product slug: it becomes a directory name under
/// `runs/`, so nothing that could escape or hide there is allowed.
pub fn is_product_slug(id: &str) -> bool {
    let mut bytes = id.bytes();
    id.len() <= 64
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Document for Products {
    const ID: &'static str = "products";
    const NAME: &'static str = "products registry";
    const VERSION: Option<VersionPin> = Some(VersionPin::Text {
        field: "schema_version",
        value: RUN_ARTIFACT_SCHEMA_VERSION,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        if self.schema_version != RUN_ARTIFACT_SCHEMA_VERSION {
            check.push(
                "/schema_version",
                format!("must be \"{RUN_ARTIFACT_SCHEMA_VERSION}\""),
            );
        }
        check.unique("/products", "product_id", &self.products, |p| &p.product_id);
        for (i, product) in self.products.iter().enumerate() {
            let at = join("/products", i);
            if !is_product_slug(&product.product_id) {
                check.push(
                    join(&at, "product_id"),
                    format!(
                        "{:?} is not a safe slug (1-64 of a-z 0-9 - _, starting with a letter or digit)",
                        product.product_id
                    ),
                );
            }
            check.non_empty(&at, "display_name", &product.display_name);
            check.non_empty(&at, "owner", &product.owner);
            if let Some(tier) = product.sla_tier
                && !(1..=5).contains(&tier)
            {
                check.push(join(&at, "sla_tier"), format!("must be 1 to 5 (found {tier})"));
            }
        }
        check.finish()
    }
}

/// `last_run.json`: the report of a product's most recent run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "last_run")]
pub struct LastRun {
    /// Always `"0.1"`.
    #[schemars(extend("const" = "0.1"))]
    pub schema_version: String,
    /// The product the run belongs to.
    #[schemars(length(min = 1))]
    pub product_id: String,
    /// The run id, also its directory name, e.g. `run_20251221_183208`.
    #[schemars(length(min = 1))]
    pub run_id: String,
    /// When the run started.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Timestamp,
    /// Its outcome.
    pub status: RunStatus,
    /// The outcome in words.
    pub summary: String,
    /// Where its evidence is.
    pub evidence: Evidence,
    /// Its budget and spend.
    pub banana_economy: BananaEconomy,
    /// The product's kill switch at the time of the run.
    pub kill_switch: KillSwitch,
    /// The product's PR wave.
    pub pr_wave: PrWave,
}

/// A run's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Passed.
    Success,
    /// Failed (including over budget).
    Failed,
    /// Still running.
    InProgress,
    /// Interrupted.
    Cancelled,
}

/// The evidence of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Paths relative to the dash directory, e.g. `runs/<product>/<run>/pytest_output.log`.
    pub paths: Vec<String>,
}

/// The "banana economy": a run's token and time budget and spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BananaEconomy {
    /// Token budget.
    pub budget_tokens: u64,
    /// Tokens spent.
    pub spent_tokens: u64,
    /// Time budget in minutes.
    pub budget_minutes: u64,
    /// Minutes spent.
    #[schemars(range(min = 0))]
    pub spent_minutes: f64,
    /// CI self-heal attempts allowed.
    pub max_ci_heal_attempts: u64,
    /// CI self-heal attempts used.
    pub ci_heal_attempts_used: u64,
}

/// A product's kill switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KillSwitch {
    /// Whether new runs are refused.
    pub enabled: bool,
    /// Why.
    pub reason: String,
}

/// A product's wave of pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PrWave {
    /// Its state.
    pub state: PrWaveState,
    /// Open pull requests.
    pub open_prs: u64,
    /// When it last changed.
    pub last_update: Timestamp,
}

/// The state of a PR wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrWaveState {
    /// No wave.
    None,
    /// About to start.
    Pending,
    /// Under way.
    Active,
    /// Done.
    Completed,
    /// Paused.
    Idle,
    /// Stuck.
    Blocked,
    /// Merging.
    Merging,
}

impl Document for LastRun {
    const ID: &'static str = "last_run";
    const NAME: &'static str = "run report";
    const VERSION: Option<VersionPin> = Some(VersionPin::Text {
        field: "schema_version",
        value: RUN_ARTIFACT_SCHEMA_VERSION,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        if self.schema_version != RUN_ARTIFACT_SCHEMA_VERSION {
            check.push(
                "/schema_version",
                format!("must be \"{RUN_ARTIFACT_SCHEMA_VERSION}\""),
            );
        }
        check.non_empty("", "product_id", &self.product_id);
        check.non_empty("", "run_id", &self.run_id);
        if self.ended_at < self.started_at {
            check.push(
                "/ended_at",
                format!("is before started_at ({} < {})", self.ended_at, self.started_at),
            );
        }
        let spent = self.banana_economy.spent_minutes;
        if !spent.is_finite() || spent < 0.0 {
            check.push(
                "/banana_economy/spent_minutes",
                format!("must be a finite number >= 0 (found {spent})"),
            );
        }
        if self.banana_economy.ci_heal_attempts_used > self.banana_economy.max_ci_heal_attempts {
            check.push(
                "/banana_economy/ci_heal_attempts_used",
                "exceeds max_ci_heal_attempts",
            );
        }
        for (i, path) in self.evidence.paths.iter().enumerate() {
            let at = join("/evidence/paths", i);
            if path.trim().is_empty() {
                check.push(at, "must not be empty");
            } else if path.starts_with('/') || path.split('/').any(|c| c == "..") {
                check.push(
                    at,
                    format!("{path:?} must be relative to the dash directory and stay inside it"),
                );
            }
        }
        check.finish()
    }
}
