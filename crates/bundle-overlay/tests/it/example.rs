//! The committed overlay example (README "Bundles"): its base package is
//! exactly what packing the fixture tree gives, the overlay pins it, and it
//! builds, packages and checks end to end into the snapshotted locks and
//! statement.
//!
//! `DCX_BLESS=1` rewrites the committed base package, its sidecar and the
//! overlay's pin after an intended change of the fixture tree or the packer.

use crate::support;
use std::fs;

use crate::support::{BASE_ID, bless, fixture_tree, now, pack_tree, repo_root};
use dcx_bundle_overlay::{
    BuildRequest, CheckRequest, Expected, Limits, NoProgress, StatementCheck, build_impl, package_check,
};
use dcx_contracts::bundle::{ImplementationOverlay, LockSource};
use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::load;

const OVERLAY: &str = "specs/examples/implementation_bundle_overlay_v1/dcx-example-core-rust.yaml";
const OVERLAY_ROOT: &str = "specs/bundles/dcx-example-core-rust";

const BUILD_LOCK_EXAMPLE: &str =
    "specs/examples/implementation_bundle_build_lock_v1/dcx-example-core-rust.yaml";
const BUILD_LOCK_EXAMPLE_HEADER: &str = "\
# The build lock of the overlay example (../implementation_bundle_overlay_v1/\n\
# dcx-example-core-rust.yaml) after `dcx bundle build --now 2026-02-22T10:00:00Z`,\n\
# as written into the tree; crates/bundle-overlay/tests/it/example.rs keeps it\n\
# equal to a real build.\n";

fn base_package_name() -> String {
    format!("data-contract-bundle-{BASE_ID}-v1.0.0.tar.gz")
}

#[test]
fn committed_base_package_is_the_packed_fixture_tree() {
    let packed = pack_tree(&fixture_tree());
    let dir = repo_root().join("specs/bundles");
    let package = dir.join(base_package_name());
    let sidecar = dir.join(format!("{}.sha256", base_package_name()));
    // The sidecar is one sha256sum line: `<hex>  <basename>\n`.
    let sidecar_expected = format!("{}  {}\n", sha256_bytes(&packed), base_package_name());
    if bless() {
        fs::write(&package, &packed).unwrap();
        fs::write(&sidecar, &sidecar_expected).unwrap();
    }
    assert!(
        fs::read(&package).unwrap() == packed,
        "{} is not what packing the fixture tree gives; after an intended change run DCX_BLESS=1 cargo test -p dcx-bundle-overlay --test it example::",
        package.display()
    );
    assert_eq!(fs::read_to_string(&sidecar).unwrap(), sidecar_expected);
}

#[test]
fn committed_overlay_pins_the_committed_base() {
    let path = repo_root().join(OVERLAY);
    let pinned = load::<ImplementationOverlay>(&path)
        .unwrap()
        .document
        .base_bundle
        .source
        .sha256;
    let actual =
        sha256_bytes(&fs::read(repo_root().join("specs/bundles").join(base_package_name())).unwrap());
    if bless() && pinned != actual {
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace(&pinned.to_hex(), &actual.to_hex())).unwrap();
        return;
    }
    assert_eq!(pinned, actual, "{OVERLAY} pins another base package digest");
}

#[test]
fn example_builds_packages_and_checks_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let dist = dir.path().join("dist");
    let overlay = repo_root().join(OVERLAY);
    let overlay_root = repo_root().join(OVERLAY_ROOT);
    let built = build_impl(
        &BuildRequest {
            overlay: &overlay,
            overlay_root: Some(&overlay_root),
            out: &tree,
            source: LockSource {
                repo: "dcx-project/dcx".to_owned(),
                r#ref: "HEAD".to_owned(),
                commit: "unknown".to_owned(),
            },
            now: now(),
            tooling_version: "dcx 0.1.0",
            limits: Limits::default(),
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        (built.added, built.replaced, built.deleted, built.file_count),
        (2, 1, 2, 5)
    );
    assert!(built.warnings.is_empty(), "{:?}", built.warnings);

    let packaged = support::package(&tree, &dist).unwrap();
    let report = package_check(
        &CheckRequest {
            package: &packaged.package,
            expected: Expected::Sidecar(packaged.sidecar.clone()),
            statement: None,
            limits: Limits::default(),
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        report.statement,
        StatementCheck::Verified(packaged.statement.clone())
    );
    assert_eq!(report.files, 5);

    let read = |path: &std::path::Path| fs::read_to_string(path).unwrap();

    // The build lock is also a committed example document, so governance
    // validates dcx's own output (with `output_bundle`) against the schema.
    let built_lock = read(&tree.join("implementation_bundle_build_lock_v1.yaml"));
    let example = repo_root().join(BUILD_LOCK_EXAMPLE);
    let expected = format!("{BUILD_LOCK_EXAMPLE_HEADER}{built_lock}");
    if bless() {
        fs::write(&example, &expected).unwrap();
    }
    assert!(
        read(&example) == expected,
        "{BUILD_LOCK_EXAMPLE} is not the example's build lock; run DCX_BLESS=1 cargo test -p dcx-bundle-overlay --test it example::"
    );
    insta::assert_snapshot!(
        "example_resolved_files",
        read(&tree.join("resolved_files.sha256"))
    );
    insta::assert_snapshot!(
        "example_resolved_lock",
        read(&tree.join("resolved_bundle_lock_v1.yaml"))
    );
    insta::assert_snapshot!(
        "example_build_lock",
        read(&tree.join("implementation_bundle_build_lock_v1.yaml"))
    );
    insta::assert_snapshot!("example_statement", read(&packaged.statement));
    insta::assert_snapshot!("example_sidecar", read(&packaged.sidecar));
}
