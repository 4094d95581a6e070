//! The documents `info` and `version` are made of. The text output is
//! rendered from the same documents ([`crate::render`]), so `--format text`
//! and `--format json` can never disagree.

use dcx_contracts::runner_platform::{
    ImageSummary, ObservedRuntime, PlatformContractV020, RunnerBuild, RunnerInfo, RunnerName, RunnerVersion,
};

use crate::image::ImageContract;

/// This binary.
pub fn runner_build() -> RunnerBuild {
    RunnerBuild {
        name: RunnerName,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        contract_version: PlatformContractV020,
    }
}

/// `runner_info_v1` for `contract`, the runnable `plugins` (sorted) and the
/// `observed` runtime state.
pub fn info_document(
    contract: &ImageContract,
    plugins: Vec<String>,
    observed: ObservedRuntime,
) -> RunnerInfo {
    let identity = &contract.identity;
    let optional = |value: Option<&str>| value.map(str::to_owned);
    RunnerInfo {
        schema_version: 1,
        runner: runner_build(),
        image: ImageSummary {
            name: identity.image.clone(),
            domain: identity.domain.clone(),
            role: identity.role.clone(),
            description: optional(identity.description()),
            vendor: optional(identity.vendor()),
            repository: optional(identity.repository()),
            metadata: identity
                .file
                .entries()
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect(),
        },
        runtime_contract: contract.declared_runtime(),
        runtime_state: observed,
        tools: contract.tool_entries(),
        plugins,
    }
}

/// `runner_version_v1` for `contract`.
pub fn version_document(contract: &ImageContract) -> RunnerVersion {
    RunnerVersion {
        schema_version: 1,
        runner: runner_build(),
        image: contract.identity.image.clone(),
        tools: contract.tool_versions(),
    }
}
