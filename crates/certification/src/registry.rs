//! Reading the runner registry and picking the lane to certify.

use std::path::Path;

use dcx_contracts::certification::{CertificationRegistry, RegistryLane};
use dcx_contracts::intent::{REGISTRY_REF_PATH, RegistryRef};
use dcx_contracts::{LoadLimits, Loaded};

use crate::error::CertifyError;

/// Loads and validates the registry (content version 2). Errors name the
/// file and the offending field.
pub(crate) fn load(path: &Path, limits: &LoadLimits) -> Result<Loaded<CertificationRegistry>, CertifyError> {
    Ok(dcx_contracts::load_with::<CertificationRegistry>(path, limits)?)
}

/// The lane with `runner_id` and its index in `/runners`, or an error
/// listing the ids there are.
pub(crate) fn lane<'r>(
    registry: &'r CertificationRegistry,
    path: &Path,
    runner_id: &str,
) -> Result<(usize, &'r RegistryLane), CertifyError> {
    registry
        .runners
        .iter()
        .enumerate()
        .find(|(_, lane)| lane.runner_id == runner_id)
        .ok_or_else(|| CertifyError::UnknownRunner {
            registry: path.to_path_buf(),
            runner_id: runner_id.to_owned(),
            known: registry.runner_ids().into_iter().map(str::to_owned).collect(),
        })
}

/// The `registry_ref` dcx records in an execution intent: the registry's
/// contract path and its real `version`.
///
/// The path is the one the contract names for the registry
/// ([`REGISTRY_REF_PATH`]), not where the file was read from, so the intent
/// hash of a lane does not depend on the checkout layout or on how
/// `--registry` was spelled; the peers record the same path. The version is
/// the registry's own (2 today), where the peers hard-code 1.
pub fn registry_ref(registry: &CertificationRegistry) -> RegistryRef {
    RegistryRef {
        path: REGISTRY_REF_PATH.to_owned(),
        version: registry.version,
    }
}
