//! `dcx bundle`: the README example end to end, exit codes (0 ok, 1
//! verification failure, 2 configuration), and reproducibility of the
//! binary's output under another time zone, umask and working directory.

use crate::support;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{repo, text};

const OVERLAY: &str = "specs/examples/implementation_bundle_overlay_v1/dcx-example-core-rust.yaml";
const OVERLAY_ROOT: &str = "specs/bundles/dcx-example-core-rust";
const PACKAGE: &str = "data-contract-bundle-dcx-example-core-rust-v1.0.0.tar.gz";
const NOW: &str = "2026-02-22T10:00:00Z";
/// The example package at `NOW` with mtime 0; the library's snapshot
/// (`crates/bundle-overlay/tests/it/snapshots/it__example__example_sidecar.snap`)
/// pins the same digest.
const EXAMPLE_SHA256: &str = "3693603f2a4282d0436639d13173d5a79bf09e16e7301cbeef9af23cc9856124";

fn dcx() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command.env_remove("SOURCE_DATE_EPOCH");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    support::assert_exit(output, code, "");
}

fn build(out: &Path) -> Command {
    let mut command = dcx();
    command.args(["bundle", "build", "--overlay"]);
    command
        .arg(repo(OVERLAY))
        .arg("--overlay-root")
        .arg(repo(OVERLAY_ROOT));
    command
        .arg("--out")
        .arg(out)
        .args(["--now", NOW, "--source-repo", "dcx-project/dcx"]);
    command
}

#[test]
fn readme_example_builds_packages_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle-example");
    let built = run(&mut build(&out));
    assert_exit(&built, 0);
    let stdout = text(&built.stdout);
    assert!(
        stdout.starts_with("built dcx-example-core-rust 1.0.0 (rust) in "),
        "{stdout}"
    );
    assert!(stdout.contains("(2 added, 1 replaced, 2 deleted)"), "{stdout}");
    assert!(
        stdout.contains(&format!("  sha256     {EXAMPLE_SHA256}\n")),
        "{stdout}"
    );

    let checked = run(dcx()
        .args(["bundle", "package-check", "--package"])
        .arg(out.join(PACKAGE)));
    assert_exit(&checked, 0);
    let lines: Vec<String> = text(&checked.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            format!("OK: package checksum verified for {}", out.join(PACKAGE).display()),
            "OK: 5 files of dcx-example-core-rust (rust) match resolved_files.sha256; lock integrity recomputed; build lock consistent".to_owned(),
            format!(
                "OK: in-toto statement {}.intoto.json names the package",
                out.join(PACKAGE).display()
            ),
        ]
    );
}

#[test]
fn build_impl_then_package_impl_equals_build() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let mut build_impl = dcx();
    build_impl
        .args(["bundle", "build-impl", "--overlay"])
        .arg(repo(OVERLAY));
    build_impl
        .arg("--overlay-root")
        .arg(repo(OVERLAY_ROOT))
        .arg("--out")
        .arg(&tree);
    assert_exit(
        &run(build_impl.args(["--now", NOW, "--source-repo", "dcx-project/dcx"])),
        0,
    );
    let dist = dir.path().join("dist");
    let packaged = run(dcx()
        .args(["bundle", "package-impl", "--tree"])
        .arg(&tree)
        .arg("--out")
        .arg(&dist)
        .args(["--now", NOW, "--threads", "1"]));
    assert_exit(&packaged, 0);
    let sidecar = fs::read_to_string(dist.join(format!("{PACKAGE}.sha256"))).unwrap();
    assert_eq!(sidecar, format!("{EXAMPLE_SHA256}  {PACKAGE}\n"));
}

/// Every file below `root` with its mode and bytes.
fn snapshot(root: &Path) -> Vec<(String, u32, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                out.push((relative, mode, Vec::new()));
                stack.push(path);
            } else {
                out.push((relative, mode, fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
#[test]
fn output_does_not_depend_on_time_zone_umask_or_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    assert_exit(&run(build(&first).env("TZ", "UTC")), 0);

    // Relative inputs from another working directory, another zone, a
    // strict umask.
    let second = dir.path().join("second");
    let output = run(Command::new("sh")
        .arg("-c")
        .arg("umask 077 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_dcx"))
        .args([
            "bundle",
            "build",
            "--overlay",
            OVERLAY,
            "--overlay-root",
            OVERLAY_ROOT,
            "--out",
        ])
        .arg(&second)
        .args(["--now", NOW, "--source-repo", "dcx-project/dcx"])
        .current_dir(repo(""))
        .env_remove("SOURCE_DATE_EPOCH")
        .env("TZ", "Pacific/Kiritimati"));
    assert_exit(&output, 0);
    assert_eq!(snapshot(&first), snapshot(&second));
}

#[test]
fn source_date_epoch_sets_mtimes_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut command = dcx();
    command.args(["bundle", "build", "--overlay"]).arg(repo(OVERLAY));
    command
        .arg("--overlay-root")
        .arg(repo(OVERLAY_ROOT))
        .arg("--out")
        .arg(&out);
    assert_exit(&run(command.env("SOURCE_DATE_EPOCH", "1700000000")), 0);
    let lock = fs::read_to_string(out.join("tree/implementation_bundle_build_lock_v1.yaml")).unwrap();
    assert!(lock.contains("built_at: 2023-11-14T22:13:20Z\n"), "{lock}");
    let package = fs::read(out.join(PACKAGE)).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(package.as_slice()));
    for entry in archive.entries().unwrap() {
        assert_eq!(entry.unwrap().header().mtime().unwrap(), 1_700_000_000);
    }

    let bad = run(dcx()
        .args(["bundle", "package-impl", "--tree"])
        .arg(out.join("tree"))
        .arg("--out")
        .arg(dir.path().join("x"))
        .env("SOURCE_DATE_EPOCH", "yesterday"));
    assert_exit(&bad, 2);
    assert_eq!(
        text(&bad.stderr),
        "error: SOURCE_DATE_EPOCH must be a non-negative integer (seconds since 1970-01-01), got \"yesterday\"\n"
    );
}

/// A copy of the example overlay whose base pin is `sha256`.
fn overlay_pinned(dir: &Path, sha256: &str) -> PathBuf {
    let text = fs::read_to_string(repo(OVERLAY)).unwrap();
    let pinned = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("sha256: "))
        .unwrap()
        .to_owned();
    let asset = repo("specs/bundles/data-contract-bundle-dcx-example-core-v1.0.0.tar.gz");
    let text = text.replace(&pinned, sha256).replace(
        "../../bundles/data-contract-bundle-dcx-example-core-v1.0.0.tar.gz",
        &asset.display().to_string(),
    );
    let path = dir.join("overlay.yaml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn checksum_mismatch_exits_1_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = overlay_pinned(dir.path(), &"ab".repeat(32));
    let out = dir.path().join("out");
    let output = run(dcx()
        .args(["bundle", "build-impl", "--overlay"])
        .arg(&overlay)
        .arg("--overlay-root")
        .arg(repo(OVERLAY_ROOT))
        .arg("--out")
        .arg(&out));
    assert_exit(&output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: base package: checksum mismatch for "),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("expected {}, got ", "ab".repeat(32))),
        "{stderr}"
    );
    assert!(!out.exists());
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["overlay.yaml"]);
}

#[test]
fn configuration_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // The overlay root defaults to the overlay's directory, where the
    // sources are not.
    let mut command = dcx();
    command
        .args(["bundle", "build-impl", "--overlay"])
        .arg(repo(OVERLAY));
    let output = run(command.arg("--out").arg(dir.path().join("out")));
    assert_exit(&output, 2);
    assert!(
        text(&output.stderr).starts_with(
            "error: overlay source \"files/runners/rust/README.md\" (for target \"payloads/dcx-example-core/runners/rust/README.md\") is missing: no file at "
        ),
        "{}",
        text(&output.stderr)
    );

    let occupied = dir.path().join("occupied");
    fs::create_dir_all(&occupied).unwrap();
    fs::write(occupied.join("mine.txt"), "mine").unwrap();
    let output = run(build(&occupied).arg("--tree").arg(&occupied));
    assert_exit(&output, 2);
    assert!(text(&output.stderr).contains("already exists and is not a bundle"));
    assert_eq!(fs::read_to_string(occupied.join("mine.txt")).unwrap(), "mine");
}

#[test]
fn tampered_member_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_exit(&run(&mut build(&out)), 0);
    let package = out.join(PACKAGE);

    // Rewrite one member with GNU tar and re-seal the sidecar.
    let unpacked = dir.path().join("unpacked");
    fs::create_dir(&unpacked).unwrap();
    let Ok(status) = Command::new("tar")
        .arg("-xzf")
        .arg(&package)
        .current_dir(&unpacked)
        .status()
    else {
        return;
    };
    assert!(status.success());
    let member = "payloads/dcx-example-core/contracts/runner_cli_v1.md";
    fs::write(unpacked.join(member), "tampered\n").unwrap();
    let tampered = dir.path().join(PACKAGE);
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&tampered)
        .arg(".")
        .current_dir(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    let digest = Command::new("sha256sum").arg(&tampered).output().unwrap();
    let hex = text(&digest.stdout).split_whitespace().next().unwrap().to_owned();
    fs::write(
        dir.path().join(format!("{PACKAGE}.sha256")),
        format!("{hex}  {PACKAGE}\n"),
    )
    .unwrap();

    let output = run(dcx()
        .args(["bundle", "package-check", "--package"])
        .arg(&tampered));
    assert_exit(&output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "files do not match resolved_files.sha256: {member}: sha256 is "
        )),
        "{stderr}"
    );
}

#[test]
fn overlapping_lock_exits_2_naming_both_entries() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |id: &str, install_dir: &str| {
        format!(
            "  - bundle_id: {id}\n    bundle_version: 1.0.0\n    source:\n      repo: r\n      release_tag: v1\n      asset_url: {id}.tar.gz\n      sha256: {}\n    install_dir: {install_dir}\n",
            "0".repeat(64)
        )
    };
    let lock = format!(
        "version: 1\nproject_id: p\nbundles:\n{}{}updated_at: 2026-02-22T10:00:00Z\n",
        entry("core", ".bundles/a"),
        entry("rust", "./.bundles/a/"),
    );
    fs::write(dir.path().join("bundles.lock.yaml"), lock).unwrap();
    for verb in ["install", "install-check"] {
        let output = run(dcx().args(["bundle", verb]).current_dir(dir.path()));
        assert_exit(&output, 2);
        assert_eq!(
            text(&output.stderr),
            "error: bundles.lock.yaml: overlapping install_dir entries are forbidden: bundles[0] (core@1.0.0) installs into \".bundles/a\" and bundles[1] (rust@1.0.0) into \"./.bundles/a/\"\n"
        );
    }
}

/// Every bundle size cap has a flag: over it the command exits 1 and
/// writes nothing; the default (or a raised cap) passes.
#[test]
fn size_cap_flags_refuse_and_raising_them_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // `build` stages its tree in OUT, so OUT may exist, but empty: no
    // tree, no package, no staging directory left behind.
    let nothing_written = |out: &Path| {
        let left: Vec<_> = fs::read_dir(out)
            .map(|entries| entries.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{} holds {left:?}", out.display());
    };

    // --max-package-bytes (and its old name) on the base package.
    for flag in ["--max-package-bytes", "--max-download-bytes"] {
        let output = run(build(&out).args([flag, "1KiB"]));
        assert_exit(&output, 1);
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with("error: base package: download from ")
                && stderr.contains(" is over the size cap of 1024 bytes (the file has ")
                && stderr.ends_with(
                    " bytes); nothing was unpacked (raise --max-package-bytes if the package really is that large)\n"
                ),
            "{stderr}"
        );
        nothing_written(&out);
    }
    // --max-member-bytes, --max-unpacked-bytes, --max-entries on its members.
    for (flag, value, expected) in [
        (
            "--max-member-bytes",
            "1",
            "bytes, over the cap of 1 bytes for one member; refusing to unpack (raise --max-member-bytes if the bundle really has a file that large)\n",
        ),
        (
            "--max-unpacked-bytes",
            "1",
            "takes the unpacked size past the cap of 1 bytes; refusing to unpack (raise --max-unpacked-bytes if the bundle really is that large)\n",
        ),
        (
            "--max-entries",
            "1",
            "the archive has more than 1 entries; refusing to unpack it (raise --max-entries if the bundle really is that large)\n",
        ),
    ] {
        let output = run(build(&out).args([flag, value]));
        assert_exit(&output, 1);
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with("error: base package ") && stderr.ends_with(expected),
            "{flag}: {stderr}"
        );
        nothing_written(&out);
    }
    // --max-document-bytes on the overlay: a configuration error.
    let output = run(build(&out).args(["--max-document-bytes", "100"]));
    assert_exit(&output, 2);
    let overlay_size = fs::metadata(repo(OVERLAY)).unwrap().len();
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: {}: the document has {overlay_size} bytes, over the cap of 100 bytes; nothing was parsed (raise --max-document-bytes if it really is that large)\n",
            repo(OVERLAY).display()
        )
    );
    nothing_written(&out);

    // The defaults pass.
    assert_exit(&run(&mut build(&out)), 0);
    let package = out.join(PACKAGE);

    // package-check: the member cap names the first member over it.
    let sizes: Vec<(String, u64)> = {
        let file = fs::File::open(&package).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                (name, entry.size())
            })
            .collect()
    };
    let largest = sizes.iter().map(|(_, size)| *size).max().unwrap();
    let (first_big, _) = sizes.iter().find(|(_, size)| *size == largest).unwrap();
    let check = |args: &[&str]| {
        run(dcx()
            .args(["bundle", "package-check", "--package"])
            .arg(&package)
            .args(args))
    };
    let output = check(&["--max-member-bytes", &(largest - 1).to_string()]);
    assert_exit(&output, 1);
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: {}: entry {first_big:?} has {largest} bytes, over the cap of {} bytes for one member; refusing to unpack (raise --max-member-bytes if the bundle really has a file that large)\n",
            package.display(),
            largest - 1
        )
    );
    assert_exit(&check(&["--max-member-bytes", &largest.to_string()]), 0);
    let total: u64 = sizes.iter().map(|(_, size)| *size).sum();
    assert_exit(&check(&["--max-unpacked-bytes", &(total - 1).to_string()]), 1);
    assert_exit(&check(&["--max-unpacked-bytes", &total.to_string()]), 0);
    let entries = sizes.len().to_string();
    assert_exit(&check(&["--max-entries", &(sizes.len() - 1).to_string()]), 1);
    assert_exit(&check(&["--max-entries", &entries]), 0);
    let package_size = fs::metadata(&package).unwrap().len();
    let output = check(&["--max-package-bytes", &(package_size - 1).to_string()]);
    assert_exit(&output, 1);
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: {} has {package_size} bytes, over the size cap of {} bytes; nothing was unpacked (raise --max-package-bytes if the package really is that large)\n",
            package.display(),
            package_size - 1
        )
    );
    assert_exit(&check(&["--max-package-bytes", &package_size.to_string()]), 0);
}
