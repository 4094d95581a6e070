//! Shared test fixtures: the committed example base tree, packages made
//! from trees, and overlays written into temporary directories.

use std::fs;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use dcx_bundle_overlay::{
    BuildError, BuildOutcome, BuildRequest, Limits, NoProgress, PackOptions, PackageError, PackageOutcome,
    PackageRequest, build_impl, pack, package_impl, tree_files,
};
use dcx_contracts::bundle::LockSource;
use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::{Sha256Hex, Timestamp};

pub(crate) const BASE_ID: &str = "dcx-example-core";
pub(crate) const OUTPUT_ID: &str = "dcx-example-core-rust";
pub(crate) const NOW: &str = "2026-02-22T10:00:00Z";

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The committed base bundle tree.
pub(crate) fn fixture_tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dcx-example-core")
}

pub(crate) fn now() -> Timestamp {
    Timestamp::parse(NOW).unwrap()
}

pub(crate) fn bless() -> bool {
    std::env::var_os("DCX_BLESS").is_some_and(|v| v == "1")
}

/// Packs a canonical bundle tree as dcx packs every package (mtime 0).
pub(crate) fn pack_tree(tree: &Path) -> Vec<u8> {
    let options = PackOptions {
        mtime: 0,
        threads: NonZeroUsize::new(2).unwrap(),
    };
    pack(&tree_files(tree).unwrap(), Vec::new(), &options, &NoProgress)
        .unwrap()
        .1
}

/// Copies a directory tree.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file and directory below `root`, relative, sorted.
pub(crate) fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Operations of a test overlay.
#[derive(Clone, Default)]
pub(crate) struct Ops<'a> {
    pub add: Vec<(&'a str, &'a str)>,
    pub replace: Vec<(&'a str, &'a str)>,
    pub delete: Vec<&'a str>,
}

impl<'a> Ops<'a> {
    /// The operations of the committed example overlay.
    pub(crate) fn example() -> Self {
        Self {
            add: vec![
                (
                    "payloads/dcx-example-core/runners/rust/README.md",
                    "files/runners/rust/README.md",
                ),
                (
                    "payloads/dcx-example-core/runners/rust/cargo_profiles.md",
                    "files/runners/rust/cargo_profiles.md",
                ),
            ],
            replace: vec![(
                "payloads/dcx-example-core/runners/runner_entrypoints.md",
                "files/runners/runner_entrypoints.rust.md",
            )],
            delete: vec![
                "payloads/dcx-example-core/runners/python/adapter_notes.md",
                "payloads/dcx-example-core/runners/php/adapter_notes.md",
            ],
        }
    }
}

/// An overlay document.
pub(crate) fn overlay_text(asset_url: &str, sha256: &Sha256Hex, ops: &Ops<'_>) -> String {
    let files = |list: &[(&str, &str)]| -> String {
        if list.is_empty() {
            return " []\n".to_owned();
        }
        let mut out = String::from("\n");
        for (path, source) in list {
            out.push_str(&format!("    - path: {path}\n      source_path: {source}\n"));
        }
        out
    };
    let deletes = if ops.delete.is_empty() {
        " []\n".to_owned()
    } else {
        let mut out = String::from("\n");
        for path in &ops.delete {
            out.push_str(&format!("    - {path}\n"));
        }
        out
    };
    format!(
        "version: 1
runner_id: rust
base_bundle:
  bundle_id: {BASE_ID}
  bundle_version: 1.0.0
  source:
    repo: dcx-project/dcx
    release_tag: v1.0.0
    asset_url: {asset_url}
    sha256: {sha256}
overlay:
  add_files:{}  replace_files:{}  delete_paths:{}output_bundle:
  bundle_id: {OUTPUT_ID}
  bundle_version: 1.0.0
  summary: The dcx example core bundle with the rust runner's entrypoints.
  maintainers:
    - name: dcx maintainers
updated_at: 2026-02-22T09:30:00Z
",
        files(&ops.add),
        files(&ops.replace),
        deletes,
    )
}

/// A base package, overlay sources and an overlay, in a temporary directory:
///
/// ```text
/// <dir>/base/data-contract-bundle-dcx-example-core-v1.0.0.tar.gz
/// <dir>/overlay/overlay.yaml        (asset_url ../base/…)
/// <dir>/overlay/files/…             (the example's sources)
/// ```
pub(crate) struct Scenario {
    pub dir: tempfile::TempDir,
    pub package: PathBuf,
    pub package_sha256: Sha256Hex,
    pub overlay: PathBuf,
}

impl Scenario {
    /// The example overlay on the committed base tree.
    pub(crate) fn example() -> Self {
        Self::with_base(&fixture_tree(), &Ops::example())
    }

    /// An overlay with `ops` on a base packed from `tree`.
    pub(crate) fn with_base(tree: &Path, ops: &Ops<'_>) -> Self {
        let package = pack_tree(tree);
        Self::with_package(&package, ops)
    }

    /// An overlay with `ops` on the given package bytes.
    pub(crate) fn with_package(package: &[u8], ops: &Ops<'_>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let base_dir = dir.path().join("base");
        fs::create_dir_all(&base_dir).unwrap();
        let package_path = base_dir.join(format!("data-contract-bundle-{BASE_ID}-v1.0.0.tar.gz"));
        fs::write(&package_path, package).unwrap();
        let overlay_dir = dir.path().join("overlay");
        copy_tree(
            &repo_root().join("specs/bundles/dcx-example-core-rust"),
            &overlay_dir,
        );
        let sha256 = sha256_bytes(package);
        let overlay = overlay_dir.join("overlay.yaml");
        let asset_url = format!("../base/data-contract-bundle-{BASE_ID}-v1.0.0.tar.gz");
        fs::write(&overlay, overlay_text(&asset_url, &sha256, ops)).unwrap();
        Self {
            dir,
            package: package_path,
            package_sha256: sha256,
            overlay,
        }
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Rewrites the overlay document.
    pub(crate) fn set_overlay(&self, text: &str) {
        fs::File::create(&self.overlay)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }

    pub(crate) fn build(&self, out: &Path) -> Result<BuildOutcome, BuildError> {
        self.build_with(out, Limits::default())
    }

    pub(crate) fn build_with(&self, out: &Path, limits: Limits) -> Result<BuildOutcome, BuildError> {
        build_impl(
            &BuildRequest {
                overlay: &self.overlay,
                overlay_root: None,
                out,
                source: LockSource {
                    repo: "dcx-project/dcx".to_owned(),
                    r#ref: "refs/heads/main".to_owned(),
                    commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
                },
                now: now(),
                tooling_version: "dcx 0.1.0",
                limits,
            },
            &NoProgress,
        )
    }
}

/// Packages `tree` into `out` at the fixed time, mtime 0.
pub(crate) fn package(tree: &Path, out: &Path) -> Result<PackageOutcome, PackageError> {
    package_impl(
        &PackageRequest {
            tree,
            out,
            now: now(),
            source_date_epoch: None,
            threads: NonZeroUsize::new(2).unwrap(),
        },
        &NoProgress,
    )
}

/// One entry of a hand-made (possibly hostile) archive.
pub(crate) enum Raw<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    BlockDevice(&'a str),
}

/// A `.tar.gz` with headers written byte for byte: the `tar` crate refuses
/// to write some of these names itself.
pub(crate) fn raw_tar_gz(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut tar = Vec::new();
    for entry in entries {
        let (name, kind, data, link): (&str, tar::EntryType, &[u8], &str) = match *entry {
            Raw::File(name, data) => (name, tar::EntryType::Regular, data, ""),
            Raw::Symlink(name, target) => (name, tar::EntryType::Symlink, b"", target),
            Raw::HardLink(name, target) => (name, tar::EntryType::Link, b"", target),
            Raw::BlockDevice(name) => (name, tar::EntryType::Block, b"", ""),
        };
        let mut header = tar::Header::new_gnu();
        header.as_mut_bytes()[..name.len()].copy_from_slice(name.as_bytes());
        header.as_mut_bytes()[157..157 + link.len()].copy_from_slice(link.as_bytes());
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        header.set_entry_type(kind);
        header.set_cksum();
        tar.extend_from_slice(header.as_bytes());
        tar.extend_from_slice(data);
        tar.resize(tar.len().next_multiple_of(512), 0);
    }
    tar.resize(tar.len() + 1024, 0);
    gzip(&tar)
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The package with member `member`'s contents replaced (headers, order
/// and every other member kept).
pub(crate) fn tamper(package: &[u8], member: &str, contents: &[u8]) -> Vec<u8> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(package));
    let mut builder = tar::Builder::new(Vec::new());
    let mut found = false;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let mut header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if path == member {
            data = contents.to_vec();
            header.set_size(data.len() as u64);
            found = true;
        }
        builder.append_data(&mut header, &path, data.as_slice()).unwrap();
    }
    assert!(found, "no member {member}");
    gzip(&builder.into_inner().unwrap())
}

/// `tool args…` in `dir`, or `None` when the tool is not installed (not
/// every build machine has GNU coreutils and tar).
#[allow(
    clippy::print_stderr,
    reason = "tells whoever runs the tests that an oracle was skipped"
)]
pub(crate) fn run_tool(
    tool: &str,
    args: &[&str],
    dir: &Path,
    env: &[(&str, &str)],
) -> Option<std::process::Output> {
    match std::process::Command::new(tool)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
    {
        Ok(output) => Some(output),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: {tool} not on PATH; skipping this oracle");
            None
        }
        Err(error) => panic!("running {tool}: {error}"),
    }
}
