//! Real tools as oracles: GNU `sha256sum -c` accepts the manifests dcx
//! writes, `tar -tzvf` shows the normalized package, `gzip -t` accepts the
//! stream; and the same inputs always give the same bytes. (A build under
//! another TZ, umask and cwd is compared in `tests/e2e/bundle.rs`,
//! which runs the binary.)

use crate::support;
use std::fs;
use std::num::NonZeroUsize;
use std::path::Path;

use crate::support::{Scenario, run_tool};
use dcx_bundle_overlay::{NoProgress, PackageRequest, package_impl};

fn assert_success(output: &std::process::Output, what: &str) {
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds and packages the example with the given mtime, into `dir`.
fn build_and_package(scenario: &Scenario, dir: &Path, mtime: Option<u64>) -> Vec<u8> {
    let tree = dir.join("tree");
    scenario.build(&tree).unwrap();
    let packaged = package_impl(
        &PackageRequest {
            tree: &tree,
            out: &dir.join("dist"),
            now: support::now(),
            source_date_epoch: mtime,
            threads: NonZeroUsize::new(2).unwrap(),
        },
        &NoProgress,
    )
    .unwrap();
    fs::read(packaged.package).unwrap()
}

#[test]
fn sha256sum_accepts_the_built_tree_and_the_unpacked_package() {
    let scenario = Scenario::example();
    let dist = scenario.path("dist");
    build_and_package(&scenario, scenario.dir.path(), None);
    if let Some(output) = run_tool(
        "sha256sum",
        &["--strict", "-c", "resolved_files.sha256"],
        &scenario.path("tree"),
        &[],
    ) {
        assert_success(&output, "sha256sum -c in the tree");
        assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 5);
    }

    let unpacked = scenario.path("unpacked");
    fs::create_dir(&unpacked).unwrap();
    let package = dist.join("data-contract-bundle-dcx-example-core-rust-v1.0.0.tar.gz");
    let Some(output) = run_tool("tar", &["-xzf", &package.display().to_string()], &unpacked, &[]) else {
        return;
    };
    assert_success(&output, "tar -xzf");
    if let Some(output) = run_tool(
        "sha256sum",
        &["--strict", "-c", "resolved_files.sha256"],
        &unpacked,
        &[],
    ) {
        assert_success(&output, "sha256sum -c in the unpacked package");
    }
    // The sidecar checks too, from the directory of the package.
    if let Some(output) = run_tool(
        "sha256sum",
        &[
            "--strict",
            "-c",
            "data-contract-bundle-dcx-example-core-rust-v1.0.0.tar.gz.sha256",
        ],
        &dist,
        &[],
    ) {
        assert_success(&output, "sha256sum -c of the sidecar");
    }
}

#[test]
fn tar_lists_sorted_entries_owned_by_root_at_the_fixed_mtime() {
    let scenario = Scenario::example();
    let package = build_and_package(&scenario, scenario.dir.path(), Some(1_700_000_000));
    let path = scenario.path("p.tar.gz");
    fs::write(&path, &package).unwrap();
    let Some(output) = run_tool(
        "tar",
        &["--numeric-owner", "-tzvf", &path.display().to_string()],
        scenario.dir.path(),
        &[("TZ", "UTC")],
    ) else {
        return;
    };
    assert_success(&output, "tar -tzvf");
    let listing = String::from_utf8(output.stdout).unwrap();
    let mut names = Vec::new();
    for line in listing.lines() {
        // drwxr-xr-x 0/0 0 2023-11-14 22:13 payloads/
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 6, "{line}");
        assert!(
            matches!(fields[0], "drwxr-xr-x" | "-rw-r--r--" | "-rwxr-xr-x"),
            "{line}"
        );
        assert_eq!(fields[1], "0/0", "{line}");
        assert_eq!((fields[3], fields[4]), ("2023-11-14", "22:13"), "{line}");
        names.push(fields[5].to_owned());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(
        names,
        [
            "implementation_bundle_build_lock_v1.yaml",
            "payloads/",
            "payloads/dcx-example-core/",
            "payloads/dcx-example-core/README.md",
            "payloads/dcx-example-core/contracts/",
            "payloads/dcx-example-core/contracts/runner_cli_v1.md",
            "payloads/dcx-example-core/runners/",
            "payloads/dcx-example-core/runners/runner_entrypoints.md",
            "payloads/dcx-example-core/runners/rust/",
            "payloads/dcx-example-core/runners/rust/README.md",
            "payloads/dcx-example-core/runners/rust/cargo_profiles.md",
            "resolved_bundle_lock_v1.yaml",
            "resolved_files.sha256",
        ]
    );
    // Owner names are empty, not "root": tar falls back to the ids.
    let Some(named) = run_tool(
        "tar",
        &["-tzvf", &path.display().to_string()],
        scenario.dir.path(),
        &[],
    ) else {
        return;
    };
    assert!(
        String::from_utf8_lossy(&named.stdout)
            .lines()
            .all(|line| line.contains(" 0/0 "))
    );
}

#[test]
fn gzip_header_has_no_time_and_no_name() {
    let scenario = Scenario::example();
    let package = build_and_package(&scenario, scenario.dir.path(), Some(1_700_000_000));
    // ID1 ID2 CM FLG MTIME(4) XFL OS
    assert_eq!(&package[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let path = scenario.path("p.tar.gz");
    fs::write(&path, &package).unwrap();
    if let Some(output) = run_tool(
        "gzip",
        &["-t", &path.display().to_string()],
        scenario.dir.path(),
        &[],
    ) {
        assert_success(&output, "gzip -t");
    }
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let scenario = Scenario::example();
    let first = build_and_package(&scenario, &scenario.path("one"), None);
    let second = build_and_package(&scenario, &scenario.path("two/deeper"), None);
    assert!(first == second, "two builds of the same inputs differ");

    // Packaging again, now that the tree's build lock carries the package
    // digest, gives the same package.
    let tree = scenario.path("one/tree");
    let again = support::package(&tree, &scenario.path("again")).unwrap();
    assert!(fs::read(again.package).unwrap() == first);

    // And the thread count does not matter.
    let single = package_impl(
        &PackageRequest {
            tree: &tree,
            out: &scenario.path("single"),
            now: support::now(),
            source_date_epoch: None,
            threads: NonZeroUsize::MIN,
        },
        &NoProgress,
    )
    .unwrap();
    assert!(fs::read(single.package).unwrap() == first);
}
