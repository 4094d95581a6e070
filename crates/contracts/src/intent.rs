//! `intent-v1`: the normalized execution intent of a runner lane, and its hash.
//!
//! Two implementations that read the same registry entry must produce the
//! same `intent_hash`, so normalization is exact:
//! - `required_core_checks` and `required_core_cases`: sorted bytewise, deduplicated;
//! - `command_contract_subset`: each `{name, args (order kept), expect_exit
//!   (sorted, deduplicated, empty → [0])}`, sorted by the string tuple
//!   (name, args joined with U+001F, expect_exit joined with `,`) — a string
//!   sort, so `[10]` sorts before `[2]`, as the peers do;
//! - `registry_ref`: `{path, version}` of the registry read.
//!
//! `intent_hash = sha256_hex(json-c14n-v1(execution_intent))`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::c14n::canonical_sha256;
use crate::certification::{CommandContract, RegistryLane};
use crate::digest::Sha256Hex;

/// The registry path the peers record in `registry_ref.path`.
pub const REGISTRY_REF_PATH: &str = "/specs/01_schema/runner_certification_registry_v1.yaml";

/// A lane's execution intent in `intent-v1` normal form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExecutionIntent {
    /// Governance checks, sorted and deduplicated.
    pub required_core_checks: Vec<String>,
    /// Conformance case refs, sorted and deduplicated.
    pub required_core_cases: Vec<String>,
    /// Adapter commands, normalized and sorted.
    pub command_contract_subset: Vec<IntentCommand>,
    /// The registry the intent was read from.
    pub registry_ref: RegistryRef,
}

/// One normalized adapter command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IntentCommand {
    /// The adapter subcommand.
    pub name: String,
    /// Its arguments, order kept.
    pub args: Vec<String>,
    /// Accepted exit codes, sorted, deduplicated, never empty.
    pub expect_exit: Vec<i64>,
}

/// The registry an intent was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryRef {
    /// The registry's repository path.
    pub path: String,
    /// The registry's `version` (2 for the current registry; the peers write 1).
    pub version: u64,
}

impl ExecutionIntent {
    /// Normalizes raw registry lists into `intent-v1` form.
    pub fn normalize(
        checks: &[String],
        cases: &[String],
        commands: &[CommandContract],
        registry_ref: RegistryRef,
    ) -> Self {
        let sorted_unique = |items: &[String]| {
            let mut out: Vec<String> = items.iter().map(|s| s.trim().to_owned()).collect();
            out.sort_unstable();
            out.dedup();
            out
        };
        let mut command_contract_subset: Vec<IntentCommand> = commands
            .iter()
            .map(|c| {
                let mut expect_exit = c.expect_exit.clone();
                expect_exit.sort_unstable();
                expect_exit.dedup();
                if expect_exit.is_empty() {
                    expect_exit.push(0);
                }
                IntentCommand {
                    name: c.name.trim().to_owned(),
                    args: c.args.clone(),
                    expect_exit,
                }
            })
            .collect();
        command_contract_subset.sort_by_cached_key(IntentCommand::sort_key);
        Self {
            required_core_checks: sorted_unique(checks),
            required_core_cases: sorted_unique(cases),
            command_contract_subset,
            registry_ref,
        }
    }

    /// The intent of a registry lane.
    pub fn of_lane(lane: &RegistryLane, registry_ref: RegistryRef) -> Self {
        Self::normalize(
            &lane.required_core_checks,
            &lane.required_core_cases,
            &lane.command_contract_subset,
            registry_ref,
        )
    }

    /// `sha256_hex(c14n(self))`.
    pub fn intent_hash(&self) -> Sha256Hex {
        // Plain strings, integers and vectors always serialize.
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        canonical_sha256(&value)
    }

    /// Whether normalizing again would change nothing.
    pub fn is_normalized(&self) -> bool {
        let commands: Vec<CommandContract> = self
            .command_contract_subset
            .iter()
            .map(|c| CommandContract {
                name: c.name.clone(),
                args: c.args.clone(),
                expect_exit: c.expect_exit.clone(),
            })
            .collect();
        let again = Self::normalize(
            &self.required_core_checks,
            &self.required_core_cases,
            &commands,
            self.registry_ref.clone(),
        );
        &again == self
    }
}

impl IntentCommand {
    fn sort_key(&self) -> (String, String, String) {
        let exits: Vec<String> = self.expect_exit.iter().map(i64::to_string).collect();
        (self.name.clone(), self.args.join("\u{1f}"), exits.join(","))
    }
}
