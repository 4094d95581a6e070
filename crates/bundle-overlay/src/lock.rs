//! The two locks an overlay build writes into its output tree.

use dcx_contracts::Timestamp;
use dcx_contracts::bundle::{BuildLock, BundleRef, LockIntegrity, LockSource, ResolvedBundleLock};
use dcx_contracts::manifest::Sha256Manifest;

use crate::hashes;
use crate::overlay::ResolvedOverlay;
use crate::verify::BundleMeta;

/// The `resolved_bundle_lock_v1` of an overlay build's output:
///
/// - `root_bundle` = the overlay's `output_bundle.bundle_id`;
/// - `runner` = the overlay's `runner_id`;
/// - `source` = where the overlay was built from (the caller's
///   `--source-repo/--source-ref/--source-commit`);
/// - `resolved_order` = the base lock's order, then the output bundle;
/// - `integrity` recomputed from the output manifest, with
///   `sha256_manifests` as [`hashes::overlay_sha256_manifests`] defines it.
pub(crate) fn resolved_lock(
    overlay: &ResolvedOverlay,
    base: &BundleMeta,
    manifest: &Sha256Manifest,
    source: LockSource,
) -> ResolvedBundleLock {
    let document = overlay.document();
    let output_id = &document.output_bundle.bundle_id;
    let mut resolved_order = base.lock.resolved_order.clone();
    if !resolved_order.contains(output_id) {
        resolved_order.push(output_id.clone());
    }
    ResolvedBundleLock {
        version: 1,
        root_bundle: output_id.clone(),
        runner: document.runner_id,
        source,
        resolved_order,
        integrity: LockIntegrity {
            file_count: manifest.len() as u64,
            sha256_manifest: manifest.sha256_manifest(),
            sha256_manifests: hashes::overlay_sha256_manifests(
                &base.lock.integrity.sha256_manifests,
                &base.lock.root_bundle,
                &overlay.overlay_sha256(),
                output_id,
            ),
            declaration_sha256: manifest.declaration_sha256(),
            declaration_paths: Some(manifest.entries().iter().map(|e| e.path.clone()).collect()),
        },
    }
}

/// The `implementation_bundle_build_lock_v1` of an overlay build, before
/// packaging (`result_package_sha256` absent):
///
/// - `base_package_sha256`: the sha256 of the base package bytes, as
///   verified against the overlay's pin;
/// - `overlay_sha256`: see [`hashes::overlay_sha256`];
/// - `resolved_files_sha256`: the sha256 of the output
///   `resolved_files.sha256` (equal to the resolved lock's
///   `integrity.sha256_manifest`);
/// - `output_bundle`: the id and version the package is named after.
pub(crate) fn build_lock(
    overlay: &ResolvedOverlay,
    base_package_sha256: dcx_contracts::Sha256Hex,
    manifest: &Sha256Manifest,
    built_at: Timestamp,
    tooling_version: &str,
) -> BuildLock {
    let document = overlay.document();
    BuildLock {
        version: 1,
        runner_id: document.runner_id,
        base_package_sha256,
        overlay_sha256: overlay.overlay_sha256(),
        result_package_sha256: None,
        resolved_files_sha256: manifest.sha256_manifest(),
        built_at,
        tooling_version: tooling_version.to_owned(),
        output_bundle: Some(BundleRef {
            bundle_id: document.output_bundle.bundle_id.clone(),
            bundle_version: document.output_bundle.bundle_version.clone(),
        }),
    }
}
