//! Runner platform (seed 002, Runner Platform Contract v0.2.0): the naming
//! rules every runner image shares, and the two documents the `runner`
//! entrypoint prints for programs: `runner info --format json`
//! ([`RunnerInfo`], `runner_info_v1`) and `runner version --format json`
//! ([`RunnerVersion`], `runner_version_v1`).
//!
//! The identity files these documents summarize (`/etc/runner/image.env`,
//! `runtime.env`, `tools.env`) are parsed by [`crate::identity`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::document::{Document, Format, VersionPin, Violation};
use crate::pointer::join;
use crate::validate::{Checker, string_constant};

/// The version of the Runner Platform Contract these rules implement.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// The core commands, in the order `runner help` lists them. They are part of
/// every runner image and always beat a plugin of the same name.
pub const CORE_COMMANDS: [&str; 6] = ["help", "about", "info", "version", "exec", "shell"];

/// Whether `name` is a well-formed command name, `^[a-z][a-z0-9-]*$`.
///
/// The runner checks this before it looks a plugin up, so a name can never
/// be a path (`../../bin/sh`), a hidden file (`.hidden`) or carry shell
/// syntax (`bad;cmd`) — the upstream v0.2.0 path-traversal bug.
pub fn is_command_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `name` is one of the [`CORE_COMMANDS`].
pub fn is_core_command(name: &str) -> bool {
    CORE_COMMANDS.contains(&name)
}

/// `^[A-Z][A-Z0-9_]*$`, the key grammar of the identity files.
fn is_identity_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `^[A-Z0-9_]+$`: the `<NAME>` of a `TOOL_<NAME>_VERSION` key, which the
/// key grammar allows to start with a digit (`TOOL_7ZIP_VERSION`).
pub fn is_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `^[0-9]+\.[0-9]+\.[0-9]+$`.
fn is_release_version(version: &str) -> bool {
    let mut parts = version.split('.');
    let numeric =
        |part: Option<&str>| part.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next()) && numeric(parts.next()) && numeric(parts.next()) && parts.next().is_none()
}

string_constant! {
    /// The constant `runner`: the name of the entrypoint.
    RunnerName = "runner"
}
string_constant! {
    /// The constant `0.2.0`: the Runner Platform Contract version implemented.
    PlatformContractV020 = "0.2.0"
}

/// The `runner` binary that wrote a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunnerBuild {
    /// Always `runner`.
    pub name: RunnerName,
    /// The release of the binary, `MAJOR.MINOR.PATCH`.
    #[schemars(regex(pattern = r"^[0-9]+\.[0-9]+\.[0-9]+$"))]
    pub version: String,
    /// The Runner Platform Contract it implements, `0.2.0`.
    pub contract_version: PlatformContractV020,
}

/// `runner_info_v1`: what `runner info --format json` prints — the image's
/// identity, its declared runtime contract, the runtime state the runner
/// observed, its tools and its plugins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runner_info_v1")]
pub struct RunnerInfo {
    /// Document version; this build reads and writes 1.
    #[schemars(extend("const" = 1))]
    pub schema_version: u64,
    /// The runner that wrote the document.
    pub runner: RunnerBuild,
    /// The image identity, from `/etc/runner/image.env`.
    pub image: ImageSummary,
    /// The runtime the image declares, from `/etc/runner/runtime.env`. A key
    /// the file does not set is absent.
    pub runtime_contract: DeclaredRuntime,
    /// The runtime the runner observed in its own process.
    pub runtime_state: ObservedRuntime,
    /// Every entry of `/etc/runner/tools.env` (empty when the file is absent
    /// or has no entries), sorted by key.
    #[schemars(extend("propertyNames" = { "pattern": "^[A-Z][A-Z0-9_]*$" }))]
    pub tools: BTreeMap<String, String>,
    /// The plugins that can run: executable files of the plugin directory
    /// with a valid command name that no core command shadows, sorted.
    #[schemars(inner(regex(pattern = r"^[a-z][a-z0-9-]*$")), extend("uniqueItems" = true))]
    pub plugins: Vec<String>,
}

/// The image identity of `image.env`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageSummary {
    /// `RUNNER_IMAGE`, e.g. `runner-base`.
    #[schemars(length(min = 1))]
    pub name: String,
    /// `RUNNER_DOMAIN`, e.g. `base`.
    #[schemars(length(min = 1))]
    pub domain: String,
    /// `RUNNER_ROLE`, e.g. `base`.
    #[schemars(length(min = 1))]
    pub role: String,
    /// `RUNNER_DESCRIPTION`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `RUNNER_VENDOR`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// `RUNNER_REPOSITORY`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Every entry of `image.env`, sorted by key, including image-specific
    /// keys such as `RUNNER_LICENSE`.
    #[schemars(extend("propertyNames" = { "pattern": "^[A-Z][A-Z0-9_]*$" }))]
    pub metadata: BTreeMap<String, String>,
}

/// The runtime an image declares in `runtime.env`, values as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeclaredRuntime {
    /// `RUNTIME_USER_NAME`, e.g. `runner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `RUNTIME_USER_UID`, e.g. `10001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `RUNTIME_USER_GID`, e.g. `10001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// `RUNTIME_USER_HOME`, e.g. `/home/runner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    /// `RUNTIME_SHELL`, the shell `runner shell` starts, e.g. `/bin/bash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// `RUNTIME_WORKDIR`, e.g. `/workspace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
}

/// The runtime the runner observed. A value it could not determine is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ObservedRuntime {
    /// The name of the user id in `/etc/passwd`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The real user id.
    pub uid: u32,
    /// The real group id.
    pub gid: u32,
    /// `$HOME`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    /// Where the declared shell resolves to, when it exists and is
    /// executable (an absolute path is taken as is, a bare name is looked up
    /// in `$PATH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// The current working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
}

impl Document for RunnerInfo {
    const ID: &'static str = "runner_info_v1";
    const NAME: &'static str = "runner info document";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "schema_version",
        value: 1,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "schema_version", self.schema_version, 1);
        check_runner(&mut check, &self.runner);
        check.non_empty("/image", "name", &self.image.name);
        check.non_empty("/image", "domain", &self.image.domain);
        check.non_empty("/image", "role", &self.image.role);
        check_keys(&mut check, "/image/metadata", self.image.metadata.keys());
        check_keys(&mut check, "/tools", self.tools.keys());
        for (index, plugin) in self.plugins.iter().enumerate() {
            let at = join("/plugins", index);
            if !is_command_name(plugin) {
                check.push(
                    at,
                    format!("{plugin:?} is not a command name (^[a-z][a-z0-9-]*$)"),
                );
            } else if is_core_command(plugin) {
                check.push(
                    at,
                    format!("{plugin:?} is a core command; a plugin of that name never runs"),
                );
            }
        }
        check_sorted(&mut check, "/plugins", self.plugins.iter().map(String::as_str));
        check.finish()
    }
}

/// `runner_version_v1`: what `runner version --format json` prints — the
/// tool versions the image declares in `tools.env`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runner_version_v1")]
pub struct RunnerVersion {
    /// Document version; this build reads and writes 1.
    #[schemars(extend("const" = 1))]
    pub schema_version: u64,
    /// The runner that wrote the document.
    pub runner: RunnerBuild,
    /// `RUNNER_IMAGE` of the image.
    #[schemars(length(min = 1))]
    pub image: String,
    /// One entry per `TOOL_<NAME>_VERSION` key of `tools.env`, sorted by
    /// name; empty when the image declares no versions.
    pub tools: Vec<ToolVersion>,
}

/// One declared tool version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ToolVersion {
    /// `<NAME>` of `TOOL_<NAME>_VERSION`, e.g. `TERRAFORM`.
    #[schemars(regex(pattern = r"^[A-Z0-9_]+$"))]
    pub name: String,
    /// The value, as written, e.g. `1.6.0`.
    pub version: String,
}

impl ToolVersion {
    /// The version a `tools.env` entry declares, if it is a
    /// `TOOL_<NAME>_VERSION` key; `None` for any other key (such as
    /// `TOOL_<NAME>_SHA256`).
    pub fn from_entry(key: &str, value: &str) -> Option<Self> {
        let name = key.strip_prefix("TOOL_")?.strip_suffix("_VERSION")?;
        is_tool_name(name).then(|| ToolVersion {
            name: name.to_owned(),
            version: value.to_owned(),
        })
    }
}

impl Document for RunnerVersion {
    const ID: &'static str = "runner_version_v1";
    const NAME: &'static str = "runner version document";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "schema_version",
        value: 1,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "schema_version", self.schema_version, 1);
        check_runner(&mut check, &self.runner);
        check.non_empty("", "image", &self.image);
        for (index, tool) in self.tools.iter().enumerate() {
            if !is_tool_name(&tool.name) {
                check.push(
                    join(&join("/tools", index), "name"),
                    format!("{:?} is not a tool name (^[A-Z0-9_]+$)", tool.name),
                );
            }
        }
        check_sorted(&mut check, "/tools", self.tools.iter().map(|t| t.name.as_str()));
        check.finish()
    }
}

fn check_runner(check: &mut Checker, runner: &RunnerBuild) {
    if !is_release_version(&runner.version) {
        check.push(
            "/runner/version",
            format!("expected MAJOR.MINOR.PATCH, got {:?}", runner.version),
        );
    }
}

fn check_keys<'a>(check: &mut Checker, map_pointer: &str, keys: impl Iterator<Item = &'a String>) {
    for key in keys {
        if !is_identity_key(key) {
            check.push(
                join(map_pointer, key),
                "is not an identity-file key (^[A-Z][A-Z0-9_]*$)",
            );
        }
    }
}

/// Lists must be strictly ascending by their key (sorted, no duplicates), so
/// the same image always prints the same bytes.
fn check_sorted<'a>(check: &mut Checker, list_pointer: &str, keys: impl Iterator<Item = &'a str>) {
    let mut previous: Option<&str> = None;
    for (index, key) in keys.enumerate() {
        if let Some(previous) = previous {
            if key == previous {
                check.push(join(list_pointer, index), format!("duplicate {key:?}"));
            } else if key < previous {
                check.push(
                    join(list_pointer, index),
                    format!("{key:?} is out of order (the list must be sorted)"),
                );
            }
        }
        previous = Some(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names() {
        for good in ["tf", "a", "check-workspace", "k8s", "a-1-"] {
            assert!(is_command_name(good), "{good}");
        }
        for bad in [
            "",
            "Upper",
            ".hidden",
            "bad;cmd",
            "../../bin/true",
            "1tf",
            "-x",
            "a_b",
            "a b",
            "é",
        ] {
            assert!(!is_command_name(bad), "{bad}");
        }
    }

    #[test]
    fn every_core_command_is_a_command_name() {
        assert!(CORE_COMMANDS.iter().all(|name| is_command_name(name)));
        assert!(is_core_command("version"));
        assert!(!is_core_command("tf"));
    }

    #[test]
    fn tool_versions_come_from_tool_version_keys_only() {
        let version = |key: &str| ToolVersion::from_entry(key, "1.6.0").map(|t| t.name);
        assert_eq!(version("TOOL_TERRAFORM_VERSION").as_deref(), Some("TERRAFORM"));
        assert_eq!(version("TOOL_AWS_CLI_VERSION").as_deref(), Some("AWS_CLI"));
        assert_eq!(version("TOOL_7ZIP_VERSION").as_deref(), Some("7ZIP"));
        for other in [
            "TOOL_TERRAFORM_SHA256",
            "TERRAFORM_VERSION",
            "TOOL_VERSION",
            "TOOL__VERSION",
        ] {
            assert_eq!(version(other), None, "{other}");
        }
    }

    #[test]
    fn release_versions() {
        assert!(is_release_version("0.1.0"));
        assert!(is_release_version("10.20.30"));
        for bad in ["0.1", "0.1.0.0", "0.1.0-rc1", "v0.1.0", "0..1", ""] {
            assert!(!is_release_version(bad), "{bad}");
        }
    }

    fn build() -> RunnerBuild {
        RunnerBuild {
            name: RunnerName,
            version: "0.1.0".to_owned(),
            contract_version: PlatformContractV020,
        }
    }

    fn info(plugins: &[&str]) -> RunnerInfo {
        RunnerInfo {
            schema_version: 1,
            runner: build(),
            image: ImageSummary {
                name: "runner-base".to_owned(),
                domain: "base".to_owned(),
                role: "base".to_owned(),
                description: None,
                vendor: None,
                repository: None,
                metadata: BTreeMap::new(),
            },
            runtime_contract: DeclaredRuntime::default(),
            runtime_state: ObservedRuntime {
                user: None,
                uid: 10001,
                gid: 10001,
                home: None,
                shell: None,
                workdir: None,
            },
            tools: BTreeMap::new(),
            plugins: plugins.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn info_plugins_must_be_runnable_sorted_and_unique() {
        assert!(info(&["check-workspace", "hello"]).validate().is_empty());
        let messages: Vec<String> = info(&["hello", "check-workspace", "version", "Tf", "tf", "tf"])
            .validate()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            messages,
            [
                "/plugins/2: \"version\" is a core command; a plugin of that name never runs",
                "/plugins/3: \"Tf\" is not a command name (^[a-z][a-z0-9-]*$)",
                "/plugins/1: \"check-workspace\" is out of order (the list must be sorted)",
                "/plugins/3: \"Tf\" is out of order (the list must be sorted)",
                "/plugins/5: duplicate \"tf\"",
            ]
        );
    }

    #[test]
    fn version_tools_must_be_keys_sorted_by_name() {
        let tool = |name: &str| ToolVersion {
            name: name.to_owned(),
            version: "1.0.0".to_owned(),
        };
        let mut document = RunnerVersion {
            schema_version: 1,
            runner: build(),
            image: "runner-example".to_owned(),
            tools: vec![tool("AWS"), tool("TERRAFORM")],
        };
        assert!(document.validate().is_empty());
        document.tools = vec![tool("TERRAFORM"), tool("aws")];
        document.runner.version = "dev".to_owned();
        let messages: Vec<String> = document.validate().iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "/runner/version: expected MAJOR.MINOR.PATCH, got \"dev\"",
                "/tools/1/name: \"aws\" is not a tool name (^[A-Z0-9_]+$)",
            ]
        );
    }
}
