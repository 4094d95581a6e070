//! Base bundles built in the test, for the kill tests of `dcx bundle
//! build`: a generated tree of hundreds or thousands of files, so that a
//! build takes long enough to be killed in the middle of it.

use std::fs;
use std::path::Path;

use dcx_bundle_overlay::{NoProgress, PackOptions, pack, tree_files};
use dcx_contracts::bundle::{BundleRunner, LockIntegrity, LockSource, ResolvedBundleLock};
use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::manifest::Sha256Manifest;
use dcx_contracts::save;

/// Makes the tree `base` (its payload files already written) the base
/// bundle `root_bundle` of commit `commit`: writes its
/// `resolved_files.sha256` and `resolved_bundle_lock_v1.yaml`, then packs it
/// into `package` (mtime 0, two threads: the same bytes on every run).
pub(crate) fn pack_base(base: &Path, package: &Path, root_bundle: &str, commit: &str) {
    let manifest = Sha256Manifest::from_tree(base).unwrap();
    fs::write(base.join("resolved_files.sha256"), manifest.to_bytes()).unwrap();
    let lock = ResolvedBundleLock {
        version: 1,
        root_bundle: root_bundle.to_owned(),
        runner: BundleRunner::Rust,
        source: LockSource {
            repo: "dcx-project/dcx".to_owned(),
            r#ref: "HEAD".to_owned(),
            commit: commit.to_owned(),
        },
        resolved_order: vec![root_bundle.to_owned()],
        integrity: LockIntegrity {
            file_count: manifest.len() as u64,
            sha256_manifest: manifest.sha256_manifest(),
            sha256_manifests: sha256_bytes(format!("{root_bundle} manifests\n").as_bytes()),
            declaration_sha256: manifest.declaration_sha256(),
            declaration_paths: Some(manifest.entries().iter().map(|e| e.path.clone()).collect()),
        },
    };
    save(&base.join("resolved_bundle_lock_v1.yaml"), &lock).unwrap();
    fs::create_dir_all(package.parent().unwrap()).unwrap();
    let options = PackOptions {
        mtime: 0,
        threads: std::num::NonZeroUsize::new(2).unwrap(),
    };
    pack(
        &tree_files(base).unwrap(),
        fs::File::create(package).unwrap(),
        &options,
        &NoProgress,
    )
    .unwrap();
}
