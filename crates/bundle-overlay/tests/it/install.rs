//! Project locks: install and install-check of the example base and
//! implementation bundles, and the lock rows of the bad-input table.

use crate::support;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{Scenario, listing, pack_tree};
use dcx_bundle_overlay::{
    InstallCheckError, InstallError, InstallRequest, Installed, Limits, NoProgress, install, install_check,
};
use dcx_contracts::Sha256Hex;
use dcx_contracts::bundle::ProjectBundleLock;
use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::{Format, from_str};

const BASE: &str = "data-contract-bundle-dcx-example-core-v1.0.0.tar.gz";
const IMPL: &str = "data-contract-bundle-dcx-example-core-rust-v1.0.0.tar.gz";

/// A workspace with both packages under `assets/`.
struct Workspace {
    _scenario: Scenario,
    root: PathBuf,
    base_sha256: Sha256Hex,
    impl_sha256: Sha256Hex,
}

impl Workspace {
    fn new() -> Self {
        let scenario = Scenario::example();
        let tree = scenario.path("tree");
        scenario.build(&tree).unwrap();
        let packaged = support::package(&tree, &scenario.path("dist")).unwrap();
        let root = scenario.path("workspace");
        fs::create_dir_all(root.join("assets")).unwrap();
        let base = pack_tree(&support::fixture_tree());
        fs::write(root.join("assets").join(BASE), &base).unwrap();
        fs::copy(&packaged.package, root.join("assets").join(IMPL)).unwrap();
        Self {
            _scenario: scenario,
            root,
            base_sha256: sha256_bytes(&base),
            impl_sha256: packaged.sha256,
        }
    }

    /// `(bundle_id, asset, sha256, install_dir, role)` entries.
    fn lock(&self, entries: &[(&str, &str, Sha256Hex, &str, &str)]) -> ProjectBundleLock {
        let mut text = String::from("version: 1\nproject_id: acme\nbundles:\n");
        for (id, asset, sha256, dir, role) in entries {
            text.push_str(&format!(
                "  - bundle_id: {id}\n    bundle_version: 1.0.0\n    source:\n      repo: dcx-project/dcx\n      release_tag: v1.0.0\n      asset_url: assets/{asset}\n      sha256: {sha256}\n    install_dir: {dir:?}\n"
            ));
            if !role.is_empty() {
                text.push_str(&format!("    role: {role}\n"));
            }
        }
        text.push_str("updated_at: 2026-02-22T10:15:00Z\n");
        fs::write(self.root.join("bundles.lock.yaml"), &text).unwrap();
        from_str::<ProjectBundleLock>(&text, Format::Yaml, "bundles.lock.yaml")
            .unwrap()
            .document
    }

    fn standard_lock(&self) -> ProjectBundleLock {
        self.lock(&[
            (
                "dcx-example-core",
                BASE,
                self.base_sha256,
                ".bundles/dcx-example-core",
                "primary",
            ),
            (
                "dcx-example-core-rust",
                IMPL,
                self.impl_sha256,
                ".bundles/dcx-example-core-rust",
                "additional",
            ),
        ])
    }

    fn lock_path(&self) -> PathBuf {
        self.root.join("bundles.lock.yaml")
    }

    fn install(&self, lock: &ProjectBundleLock) -> Result<Vec<Installed>, InstallError> {
        install(
            &InstallRequest {
                lock,
                lock_path: &self.lock_path(),
                workspace: &self.root,
                limits: Limits::default(),
            },
            &NoProgress,
        )
    }

    fn check(&self, lock: &ProjectBundleLock) -> Result<Vec<Installed>, InstallCheckError> {
        install_check(lock, &self.lock_path(), &self.root)
    }

    fn bundles_dir(&self) -> PathBuf {
        self.root.join(".bundles")
    }
}

fn tree_bytes(root: &Path) -> Vec<(String, Vec<u8>)> {
    listing(root)
        .into_iter()
        .filter(|path| root.join(path).is_file())
        .map(|path| {
            let bytes = fs::read(root.join(&path)).unwrap();
            (path, bytes)
        })
        .collect()
}

#[test]
fn installs_checks_and_reinstalls_identically() {
    let workspace = Workspace::new();
    let lock = workspace.standard_lock();
    let installed = workspace.install(&lock).unwrap();
    assert_eq!(installed.len(), 2);
    assert!(!installed[0].implementation && installed[1].implementation);
    assert_eq!(installed[1].files, 5);
    assert_eq!(
        listing(&workspace.bundles_dir())
            .into_iter()
            .filter(|p| !p.contains('/'))
            .collect::<Vec<_>>(),
        ["dcx-example-core", "dcx-example-core-rust"]
    );
    let first = tree_bytes(&workspace.bundles_dir());
    workspace.check(&lock).unwrap();

    workspace.install(&lock).unwrap();
    assert_eq!(tree_bytes(&workspace.bundles_dir()), first);
    workspace.check(&lock).unwrap();
}

#[test]
fn implementation_bundles_must_be_additional_and_nothing_is_half_installed() {
    let workspace = Workspace::new();
    let lock = workspace.lock(&[
        (
            "dcx-example-core",
            BASE,
            workspace.base_sha256,
            ".bundles/core",
            "primary",
        ),
        (
            "dcx-example-core-rust",
            IMPL,
            workspace.impl_sha256,
            ".bundles/rust",
            "primary",
        ),
    ]);
    let error = workspace.install(&lock).unwrap_err();
    assert_eq!(
        error.to_string(),
        "bundles[1] (dcx-example-core-rust@1.0.0): an implementation bundle (its package has a build lock) must be pinned with role: additional, not role: primary"
    );
    // The first bundle verified fine but was not moved into place alone.
    assert_eq!(listing(&workspace.bundles_dir()), Vec::<String>::new());
}

#[test]
fn a_failing_bundle_leaves_every_install_dir_as_it_was() {
    let workspace = Workspace::new();
    workspace.install(&workspace.standard_lock()).unwrap();
    let before = tree_bytes(&workspace.bundles_dir());
    let wrong = sha256_bytes(b"not the package");
    let lock = workspace.lock(&[
        (
            "dcx-example-core",
            BASE,
            workspace.base_sha256,
            ".bundles/dcx-example-core",
            "primary",
        ),
        (
            "dcx-example-core-rust",
            IMPL,
            wrong,
            ".bundles/dcx-example-core-rust",
            "additional",
        ),
    ]);
    let error = workspace.install(&lock).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "bundles[1] (dcx-example-core-rust@1.0.0): checksum mismatch for {}: expected {wrong}, got {}; nothing was unpacked (fix the pinned sha256 or the asset_url)",
            workspace.root.join("assets").join(IMPL).display(),
            workspace.impl_sha256
        )
    );
    assert_eq!(tree_bytes(&workspace.bundles_dir()), before);
}

#[test]
fn install_check_names_changed_and_extra_files() {
    let workspace = Workspace::new();
    let lock = workspace.standard_lock();
    workspace.install(&lock).unwrap();
    let rust = workspace.bundles_dir().join("dcx-example-core-rust");
    fs::write(rust.join("payloads/dcx-example-core/README.md"), "edited\n").unwrap();
    fs::write(rust.join("payloads/notes.txt"), "mine\n").unwrap();
    fs::remove_dir_all(workspace.bundles_dir().join("dcx-example-core")).unwrap();
    let error = workspace.check(&lock).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "2 problems\n  \
             - bundles[0] (dcx-example-core@1.0.0): install_dir \".bundles/dcx-example-core\" is not installed; run dcx bundle install\n  \
             - bundles[1] (dcx-example-core-rust@1.0.0): {}: files do not match resolved_files.sha256 (2 problems):\n  \
             - payloads/dcx-example-core/README.md: sha256 is {}, the manifest lists 3d999d839b6aae2cdd8bf47d5ef9cd2217f16f79c42f9e4c7491e416b152e575\n  \
             - payloads/notes.txt: present but not listed in the manifest (extra file)",
            rust.display(),
            sha256_bytes(b"edited\n")
        )
    );
}

#[test]
fn conflicting_entries_are_refused_before_any_download() {
    let workspace = Workspace::new();
    let missing = sha256_bytes(b"never fetched");
    let lock = workspace.lock(&[
        ("one", "none-1.tar.gz", missing, "a", "primary"),
        ("two", "none-2.tar.gz", missing, "a/b", "additional"),
        ("three", "none-3.tar.gz", missing, "./a/", "additional"),
        ("four", "none-4.tar.gz", missing, "x/../y", "additional"),
        ("one", "none-5.tar.gz", missing, "z", "additional"),
    ]);
    let error = workspace.install(&lock).unwrap_err();
    assert!(error.is_configuration());
    assert_eq!(
        error.to_string(),
        format!(
            "{}: 5 problems\n  \
             - bundles[3] (four@1.0.0): install_dir \"x/../y\" has a '..' component; install directories stay inside the workspace\n  \
             - overlapping install_dir entries are forbidden: bundles[0] (one@1.0.0) installs into \"a\" and bundles[1] (two@1.0.0) into \"a/b\"\n  \
             - overlapping install_dir entries are forbidden: bundles[0] (one@1.0.0) installs into \"a\" and bundles[2] (three@1.0.0) into \"./a/\"\n  \
             - duplicate bundle entry: bundles[0] (one@1.0.0) and bundles[4] (one@1.0.0) pin the same bundle\n  \
             - overlapping install_dir entries are forbidden: bundles[1] (two@1.0.0) installs into \"a/b\" and bundles[2] (three@1.0.0) into \"./a/\"",
            workspace.lock_path().display()
        )
    );
    assert!(!workspace.root.join("a").exists());
    assert!(matches!(workspace.check(&lock), Err(InstallCheckError::Plan(_))));
}

#[test]
fn occupied_install_dirs_are_not_replaced() {
    let workspace = Workspace::new();
    let occupied = workspace.bundles_dir().join("dcx-example-core");
    fs::create_dir_all(&occupied).unwrap();
    fs::write(occupied.join("notes.md"), "mine").unwrap();
    let error = workspace.install(&workspace.standard_lock()).unwrap_err();
    assert!(error.is_configuration());
    assert_eq!(
        error.to_string(),
        format!(
            "bundles[0] (dcx-example-core@1.0.0): {} already exists and is not a bundle (no resolved_bundle_lock_v1.yaml at its root); refusing to replace it: move it away or choose another directory",
            occupied.display()
        )
    );
    assert_eq!(fs::read_to_string(occupied.join("notes.md")).unwrap(), "mine");
}
