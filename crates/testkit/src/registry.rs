//! Runner certification registries (`version: 2`) and the status
//! exchange's documents, generated: a lane per [`Lane`], written as YAML
//! ([`registry_yaml`], the layout the status-ingest tests' error positions
//! are read against) or JSON ([`registry_json`], for registries of bench
//! scale and the certification tests).

use dcx_contracts::digest::sha256_bytes;
use serde_json::{Value, json};

/// The report asset every generated lane names.
pub const REPORT_ASSET: &str = "runner-status-report-v1.json";

/// A schema catalog with the status report schema.
pub const CATALOG: &str = "version: 1\nschemas:\n  - schema_id: runner_status_report_v1\n    major: 1\n    path: /specs/schemas/runner_status_report_v1.schema.json\n    status: active\n";

/// One registry lane: `dc-runner-<id>`, a release asset source.
#[derive(Debug, Clone)]
pub struct Lane {
    pub id: String,
    pub class: &'static str,
    pub status: &'static str,
    pub release_api_url: String,
    /// `status_exchange.report_asset_name`; `None` leaves it out.
    pub report_asset_name: Option<&'static str>,
    /// `status_exchange.freshness_slo_hours`; `None` leaves it out.
    pub slo_hours: Option<u64>,
    /// What `dcx certify` runs for the lane, when it is certified.
    pub certification: Option<Certified>,
}

/// A lane's certification fields: `command_contract_subset` as
/// `(name, args, expect_exit)`, `required_core_checks`, `required_core_cases`.
#[derive(Debug, Clone)]
pub struct Certified {
    pub commands: Vec<(String, Vec<String>, Vec<i64>)>,
    pub checks: Vec<String>,
    pub cases: Vec<String>,
}

impl Lane {
    /// An active lane of `class` with the report asset and a 72 h SLO.
    pub fn active(id: &str, class: &'static str, release_api_url: impl Into<String>) -> Self {
        Self {
            id: id.to_owned(),
            class,
            status: "active",
            release_api_url: release_api_url.into(),
            report_asset_name: Some(REPORT_ASSET),
            slo_hours: Some(72),
            certification: None,
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

    pub fn with_slo_hours(mut self, hours: Option<u64>) -> Self {
        self.slo_hours = hours;
        self
    }

    pub fn with_report_asset(mut self, name: Option<&'static str>) -> Self {
        self.report_asset_name = name;
        self
    }

    /// The lane `dcx certify` runs: `commands` are `(name, args, expect_exit)`.
    pub fn certified(
        mut self,
        commands: &[(&str, &[&str], &[i64])],
        checks: &[&str],
        cases: &[&str],
    ) -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        self.certification = Some(Certified {
            commands: commands
                .iter()
                .map(|(name, args, exits)| ((*name).to_owned(), strings(args), exits.to_vec()))
                .collect(),
            checks: strings(checks),
            cases: strings(cases),
        });
        self
    }

    /// `status_exchange.matrix_role`, from the class.
    fn role(&self) -> &'static str {
        if self.class == "required" {
            "required"
        } else {
            "compatibility"
        }
    }

    /// The lane as a registry entry.
    pub fn to_json(&self) -> Value {
        let mut exchange = json!({
            "source_kind": "release_asset",
            "release_api_url": self.release_api_url,
            "matrix_role": self.role(),
        });
        if let Some(name) = self.report_asset_name {
            exchange["report_asset_name"] = name.into();
        }
        if let Some(hours) = self.slo_hours {
            exchange["freshness_slo_hours"] = hours.into();
        }
        let mut lane = json!({
            "runner_id": self.id,
            "class": self.class,
            "status": self.status,
            "entrypoints": {"public_adapter": "dc-runner", "implementation_repo": format!("dc-runner-{}", self.id)},
            "artifact_contract": {
                "json_out": "/.artifacts/runner-certification-{runner}.json",
                "md_out": "/.artifacts/runner-certification-{runner}.md"
            },
            "status_exchange": exchange,
        });
        if let Some(certified) = &self.certification {
            lane["required_core_checks"] = json!(certified.checks);
            lane["required_core_cases"] = json!(certified.cases);
            lane["command_contract_subset"] = certified
                .commands
                .iter()
                .map(|(name, args, expect_exit)| json!({"name": name, "args": args, "expect_exit": expect_exit}))
                .collect();
        }
        lane
    }
}

/// The registry of `lanes` as YAML, one block per lane in a fixed layout.
pub fn registry_yaml(lanes: &[Lane]) -> String {
    let mut out = String::from(
        "version: 2\ncertificate_schema_ref: /specs/schemas/runner_execution_certificate_v1.schema.json\nrunners:\n",
    );
    for lane in lanes {
        out.push_str(&format!(
            "  - runner_id: {id}\n    class: {class}\n    status: {status}\n    entrypoints:\n      public_adapter: dc-runner\n      implementation_repo: dc-runner-{id}\n",
            id = lane.id,
            class = lane.class,
            status = lane.status,
        ));
        if let Some(certified) = &lane.certification {
            // JSON is YAML's flow style.
            let flow = |value: Value| value.to_string();
            out.push_str(&format!(
                "    required_core_checks: {}\n    required_core_cases: {}\n    command_contract_subset: {}\n",
                flow(json!(certified.checks)),
                flow(json!(certified.cases)),
                flow(lane.to_json()["command_contract_subset"].clone()),
            ));
        }
        out.push_str(&format!(
            "    artifact_contract:\n      json_out: /.artifacts/runner-certification-{{runner}}.json\n      md_out: /.artifacts/runner-certification-{{runner}}.md\n    status_exchange:\n      source_kind: release_asset\n      release_api_url: {url:?}\n",
            url = lane.release_api_url,
        ));
        if let Some(name) = lane.report_asset_name {
            out.push_str(&format!("      report_asset_name: {name}\n"));
        }
        out.push_str(&format!("      matrix_role: {}\n", lane.role()));
        if let Some(slo) = lane.slo_hours {
            out.push_str(&format!("      freshness_slo_hours: {slo}\n"));
        }
    }
    out
}

/// The registry of `lanes` as a JSON value (`to_string()` for the compact
/// text, `to_string_pretty` for people); YAML loaders read it too.
pub fn registry_json(lanes: &[Lane]) -> Value {
    json!({
        "version": 2,
        "certificate_schema_ref": "/specs/schemas/runner_execution_certificate_v1.schema.json",
        "runners": lanes.iter().map(Lane::to_json).collect::<Vec<_>>(),
    })
}

/// A valid report of lane `id`, pretty, with one passing command.
pub fn report(id: &str, class: &str, status: &str, generated_at: &str, fresh_until: &str) -> String {
    let report = json!({
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

/// GitHub release metadata with one asset; with `digest_of`, its sha256
/// digest and size as GitHub publishes them.
pub fn release(tag: &str, asset_name: &str, download_url: &str, digest_of: Option<&[u8]>) -> String {
    let mut asset = json!({"name": asset_name, "browser_download_url": download_url});
    if let Some(bytes) = digest_of {
        asset["digest"] = format!("sha256:{}", sha256_bytes(bytes)).into();
        asset["size"] = bytes.len().into();
    }
    json!({"tag_name": tag, "assets": [asset]}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout the status-ingest tests were written against.
    #[test]
    fn yaml_layout_is_fixed() {
        let yaml = registry_yaml(&[Lane::required("rust", "releases/rust.json")]);
        assert_eq!(
            yaml,
            "version: 2\ncertificate_schema_ref: /specs/schemas/runner_execution_certificate_v1.schema.json\nrunners:\n  - runner_id: rust\n    class: required\n    status: active\n    entrypoints:\n      public_adapter: dc-runner\n      implementation_repo: dc-runner-rust\n    artifact_contract:\n      json_out: /.artifacts/runner-certification-{runner}.json\n      md_out: /.artifacts/runner-certification-{runner}.md\n    status_exchange:\n      source_kind: release_asset\n      release_api_url: \"releases/rust.json\"\n      report_asset_name: runner-status-report-v1.json\n      matrix_role: required\n      freshness_slo_hours: 72\n"
        );
    }

    /// YAML and JSON say the same thing, certification fields included.
    #[test]
    fn yaml_and_json_agree() {
        let lanes = [
            Lane::required("rust", "http://127.0.0.1:1/rust/release"),
            Lane::compatibility("node", "releases/node.json")
                .with_status("planned")
                .with_slo_hours(None)
                .with_report_asset(None)
                .certified(&[("governance", &["--check"], &[0, 1])], &["a"], &["b"]),
        ];
        let from_yaml: Value =
            serde_json::from_str(&serde_json::to_string(&yaml_as_json(&registry_yaml(&lanes))).unwrap())
                .unwrap();
        assert_eq!(from_yaml, registry_json(&lanes));
    }

    /// Just enough YAML for the generator's own output: block mappings,
    /// `- ` sequences of mappings, JSON flow values and plain scalars.
    fn yaml_as_json(text: &str) -> Value {
        let lines: Vec<(usize, &str)> = text
            .lines()
            .map(|l| (l.len() - l.trim_start().len(), l.trim_start()))
            .collect();
        fn scalar(s: &str) -> Value {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
        }
        fn block(lines: &[(usize, &str)], i: &mut usize, indent: usize) -> Value {
            if lines[*i].1.starts_with("- ") {
                let mut items = Vec::new();
                while *i < lines.len() && lines[*i].0 == indent && lines[*i].1.starts_with("- ") {
                    let (_, rest) = lines[*i];
                    let mut sub = lines.to_vec();
                    sub[*i] = (indent + 2, &rest[2..]);
                    items.push(block(&sub, i, indent + 2));
                }
                return Value::Array(items);
            }
            let mut map = serde_json::Map::new();
            while *i < lines.len() && lines[*i].0 == indent && !lines[*i].1.starts_with("- ") {
                let (key, value) = lines[*i].1.split_once(':').unwrap();
                *i += 1;
                let value = value.trim();
                let value = if value.is_empty() {
                    let child = lines[*i].0;
                    block(lines, i, child)
                } else {
                    scalar(value)
                };
                map.insert(key.to_owned(), value);
            }
            Value::Object(map)
        }
        block(&lines, &mut 0, 0)
    }
}
