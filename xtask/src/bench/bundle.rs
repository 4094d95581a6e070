//! `cargo xtask bench bundle`: an overlay build and package with
//! `dcx bundle build` against the same work done with GNU tools, side by
//! side on the same inputs.
//!
//! The scenario (the bundles issue): a base bundle of 20,000 text files,
//! 200 MiB unpacked, and an overlay with 500 adds, 500 replaces and 1,000
//! deletes. The GNU pipeline does what `build` does, step for step:
//! `sha256sum -c` of the pinned package, `tar -xzf`, `sha256sum -c` of the
//! base manifest and a listing diff for extra files, `rm` and `cp` for the
//! overlay, `sha256sum` over the sorted tree for the new manifest,
//! `tar --sort=name … | gzip -n -6` and `sha256sum` of the package.
//!
//! Each round runs both, the order alternating, under `/usr/bin/time` for
//! peak memory; outputs are removed between runs, untimed. Targets: dcx's
//! median wall time at most half the GNU pipeline's, peak memory under
//! 100 MiB, and every dcx package byte-identical.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use dcx_contracts::bundle::{
    BaseBundle, BundleRunner, ImplementationOverlay, LockIntegrity, LockSource, Maintainer, OutputBundle,
    OverlayFile, OverlayOperations, PackageSource, ResolvedBundleLock,
};
use dcx_contracts::digest::{sha256_bytes, sha256_file};
use dcx_contracts::manifest::Sha256Manifest;
use dcx_contracts::{Timestamp, save};

use super::{Samples, millis};

const FILES: usize = 20_000;
const DELETES: usize = 1_000;
const REPLACES: usize = 500;
const ADDS: usize = 500;
/// File sizes are drawn from this range; the mean, 10 KiB, gives 200 MiB.
const SIZE_RANGE: (usize, usize) = (5 << 10, 15 << 10);
const TARGET_RATIO: f64 = 0.5;
const TARGET_PEAK_MIB: f64 = 100.0;
const BASE_PACKAGE: &str = "data-contract-bundle-bench-core-v1.0.0.tar.gz";
const OUTPUT_PACKAGE: &str = "data-contract-bundle-bench-core-rust-v1.0.0.tar.gz";
const NOW: &str = "2026-02-22T10:00:00Z";

pub(super) fn run(root: &Path, rounds: usize) -> Result<bool, String> {
    let time = Path::new("/usr/bin/time");
    if !time.is_file() {
        return Err("GNU time is needed for peak memory: install it (apt-get install time)".to_owned());
    }
    let dcx = crate::cargo::dcx(crate::cargo::Profile::Release)?;
    let work = work_dir(root);
    let _cleanup = RemoveOnDrop(work.clone());
    let scenario = Scenario::generate(&work)?;
    println!(
        "bundle build + package: {FILES} files, {:.1} MiB unpacked, overlay +{ADDS} ~{REPLACES} -{DELETES}; \
         base package {:.1} MiB; {rounds} rounds, order alternating, release build",
        scenario.unpacked_bytes as f64 / f64::from(1 << 20),
        scenario.package_bytes as f64 / f64::from(1 << 20),
    );

    let dcx_out = work.join("out-dcx");
    let gnu_out = work.join("out-gnu");
    let mut dcx_runs = Vec::new();
    let mut gnu_runs = Vec::new();
    let mut packages = Vec::new();
    for round in 0..rounds {
        for side in [round % 2, 1 - round % 2] {
            if side == 0 {
                remove(&dcx_out)?;
                let mut command = Command::new(&dcx);
                command
                    .args(["bundle", "build", "--overlay"])
                    .arg(&scenario.overlay)
                    .arg("--out")
                    .arg(&dcx_out)
                    .args(["--now", NOW])
                    .env_remove("SOURCE_DATE_EPOCH");
                dcx_runs.push(timed(time, &work, command, "dcx bundle build")?);
                packages.push(sha256_file(&dcx_out.join(OUTPUT_PACKAGE)).map_err(|e| e.to_string())?);
            } else {
                remove(&gnu_out)?;
                let mut command = Command::new("bash");
                command.arg(&scenario.gnu_script).arg(&gnu_out);
                gnu_runs.push(timed(time, &work, command, "the GNU pipeline")?);
            }
        }
    }
    let manifests_agree = fs::read(dcx_out.join("tree/resolved_files.sha256")).ok()
        == fs::read(gnu_out.join("tree/resolved_files.sha256")).ok();

    let summarize = |label: &str, runs: &[Run]| {
        let samples = Samples {
            label: label.to_owned(),
            times: runs.iter().map(|run| run.wall).collect(),
        };
        let peak = runs.iter().map(|run| run.peak_kib).max().unwrap_or(0) as f64 / 1024.0;
        (samples, peak)
    };
    let (dcx_samples, dcx_peak) = summarize("dcx bundle build", &dcx_runs);
    let (gnu_samples, gnu_peak) = summarize("GNU tools", &gnu_runs);
    println!(
        "{:<18} {:>12} {:>12} {:>14}",
        "pipeline", "median", "min", "peak RSS"
    );
    for (samples, peak) in [(&dcx_samples, dcx_peak), (&gnu_samples, gnu_peak)] {
        println!(
            "{:<18} {:>12} {:>12} {:>10.1} MiB",
            samples.label,
            millis(samples.quantile(0.5)),
            millis(samples.quantile(0.0)),
            peak
        );
    }
    let ratio = dcx_samples.quantile(0.5).as_secs_f64() / gnu_samples.quantile(0.5).as_secs_f64();
    let deterministic = packages.windows(2).all(|pair| pair[0] == pair[1]);
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!(
        "wall time dcx / GNU: {ratio:.2} (target <= {TARGET_RATIO}): {}",
        verdict(ratio <= TARGET_RATIO)
    );
    println!(
        "dcx peak memory: {dcx_peak:.1} MiB (target < {TARGET_PEAK_MIB} MiB): {}",
        verdict(dcx_peak < TARGET_PEAK_MIB)
    );
    println!(
        "dcx output deterministic: {} packages, {} distinct (sha256 {}): {}",
        packages.len(),
        if deterministic { 1 } else { packages.len() },
        packages.first().map(ToString::to_string).unwrap_or_default(),
        verdict(deterministic)
    );
    println!(
        "resolved_files.sha256 byte-identical to the GNU pipeline's: {}",
        if manifests_agree { "yes" } else { "NO" }
    );
    Ok(ratio <= TARGET_RATIO && dcx_peak < TARGET_PEAK_MIB && deterministic && manifests_agree)
}

/// Where the inputs and outputs go: a tmpfs when there is one, so the
/// comparison measures the two pipelines rather than the shared disk's
/// journal (on the development machine, other builds writing to the same
/// disk made file creation 5x slower for whichever side was unlucky).
fn work_dir(root: &Path) -> PathBuf {
    let name = format!("dcx-bench-bundle-{}", std::process::id());
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.join(name)
    } else {
        root.join("target").join(name)
    }
}

struct Run {
    wall: Duration,
    peak_kib: u64,
}

/// Runs `command` under GNU time; the wall time and the peak resident set
/// of the largest process (`%M`, KiB).
fn timed(time: &Path, work: &Path, command: Command, label: &str) -> Result<Run, String> {
    let report = work.join("time.out");
    let started = Instant::now();
    let status = Command::new(time)
        .args(["-f", "%M", "-o"])
        .arg(&report)
        .arg(command.get_program())
        .args(command.get_args())
        .envs(
            command
                .get_envs()
                .filter_map(|(key, value)| value.map(|v| (key, v))),
        )
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot start {label}: {e}"))?;
    let wall = started.elapsed();
    if !status.success() {
        return Err(format!("{label} failed ({status}); run it by hand to see why"));
    }
    let text = fs::read_to_string(&report).map_err(|e| format!("cannot read {}: {e}", report.display()))?;
    let peak_kib = text
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .ok_or_else(|| format!("unexpected GNU time output: {text:?}"))?;
    Ok(Run { wall, peak_kib })
}

/// The generated inputs.
struct Scenario {
    overlay: PathBuf,
    gnu_script: PathBuf,
    unpacked_bytes: u64,
    package_bytes: u64,
}

impl Scenario {
    fn generate(work: &Path) -> Result<Self, String> {
        let fail = |what: &str| {
            let what = what.to_owned();
            move |e: std::io::Error| format!("cannot write {what}: {e}")
        };
        remove(work)?;
        let base = work.join("base-tree");
        let mut text = TextGenerator::new(0x5eed_cafe_f00d_d00d);
        let mut unpacked_bytes = 0u64;
        for index in 0..FILES {
            let path = base.join(base_file(index));
            if index % 100 == 0
                && let Some(parent) = path.parent()
            {
                fs::create_dir_all(parent).map_err(fail("the base tree"))?;
            }
            let bytes = text.file();
            unpacked_bytes += bytes.len() as u64;
            fs::write(&path, bytes).map_err(fail("the base tree"))?;
        }
        let manifest = Sha256Manifest::from_tree(&base).map_err(|e| e.to_string())?;
        fs::write(base.join("resolved_files.sha256"), manifest.to_bytes())
            .map_err(fail("the base manifest"))?;
        let lock = ResolvedBundleLock {
            version: 1,
            root_bundle: "bench-core".to_owned(),
            runner: BundleRunner::Rust,
            source: LockSource {
                repo: "dcx-project/dcx".to_owned(),
                r#ref: "HEAD".to_owned(),
                commit: "bench".to_owned(),
            },
            resolved_order: vec!["bench-core".to_owned()],
            integrity: LockIntegrity {
                file_count: manifest.len() as u64,
                sha256_manifest: manifest.sha256_manifest(),
                sha256_manifests: sha256_bytes(b"bench-core manifests\n"),
                declaration_sha256: manifest.declaration_sha256(),
                declaration_paths: Some(manifest.entries().iter().map(|e| e.path.clone()).collect()),
            },
        };
        save(&base.join("resolved_bundle_lock_v1.yaml"), &lock).map_err(|e| e.to_string())?;

        let package = work.join("base").join(BASE_PACKAGE);
        fs::create_dir_all(work.join("base")).map_err(fail("the base package"))?;
        pack_with_gnu_tar(&base, &package)?;
        fs::remove_dir_all(&base).map_err(fail("the base tree"))?;
        let package_sha256 = sha256_file(&package).map_err(fail("the base package"))?;
        let package_bytes = fs::metadata(&package).map_err(fail("the base package"))?.len();

        // Sources mirror their targets under files/, so the GNU pipeline
        // can copy them with one `cp -r`.
        let overlay_dir = work.join("overlay");
        let mut writes = |targets: &mut dyn Iterator<Item = String>| -> Result<Vec<OverlayFile>, String> {
            let mut files = Vec::new();
            for target in targets {
                let source = format!("files/{target}");
                let path = overlay_dir.join(&source);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(fail("the overlay"))?;
                }
                fs::write(&path, text.file()).map_err(fail("the overlay"))?;
                files.push(OverlayFile {
                    path: target,
                    source_path: source,
                });
            }
            Ok(files)
        };
        let add_files = writes(&mut (0..ADDS).map(|i| format!("payloads/bench-core-rust/added/a{i:04}.md")))?;
        let replace_files = writes(&mut (0..REPLACES).map(|i| base_file(i * 40 + 5)))?;
        let delete_paths: Vec<String> = (0..DELETES).map(|i| base_file(i * 20)).collect();
        let overlay = ImplementationOverlay {
            version: 1,
            runner_id: BundleRunner::Rust,
            base_bundle: BaseBundle {
                bundle_id: "bench-core".to_owned(),
                bundle_version: "1.0.0".to_owned(),
                source: PackageSource {
                    repo: "dcx-project/dcx".to_owned(),
                    release_tag: "v1.0.0".to_owned(),
                    asset_url: format!("../base/{BASE_PACKAGE}"),
                    sha256: package_sha256,
                },
            },
            overlay: OverlayOperations {
                add_files,
                replace_files,
                delete_paths: delete_paths.clone(),
            },
            output_bundle: OutputBundle {
                bundle_id: "bench-core-rust".to_owned(),
                bundle_version: "1.0.0".to_owned(),
                summary: "The benchmark bundle with a rust overlay.".to_owned(),
                maintainers: vec![Maintainer {
                    name: "dcx maintainers".to_owned(),
                    contact: None,
                }],
            },
            updated_at: Timestamp::parse(NOW).map_err(|e| e.to_string())?,
        };
        let overlay_path = overlay_dir.join("overlay.yaml");
        save(&overlay_path, &overlay).map_err(|e| e.to_string())?;

        let deletes = work.join("deletes.txt");
        fs::write(&deletes, delete_paths.join("\n") + "\n").map_err(fail("the delete list"))?;
        let gnu_script = work.join("gnu-build.sh");
        fs::write(&gnu_script, gnu_script_text(work, &package_sha256.to_hex()))
            .map_err(fail("the GNU script"))?;
        Ok(Self {
            overlay: overlay_path,
            gnu_script,
            unpacked_bytes,
            package_bytes,
        })
    }
}

/// The base package, packed the way `dcx bundle package-impl` packs (names
/// sorted, owner 0, mtime 0, `gzip -n`) but with GNU tar: xtask runs dcx
/// only as a binary, and the base is an input here, not what is measured.
fn pack_with_gnu_tar(tree: &Path, package: &Path) -> Result<(), String> {
    let status = Command::new("bash")
        .args([
            "-c",
            r#"set -euo pipefail; tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - -- * | gzip -n -6 > "$1""#,
            "pack",
        ])
        .arg(package)
        .current_dir(tree)
        .env("LC_ALL", "C")
        .status()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "packing the base package with tar and gzip failed ({status})"
        ))
    }
}

fn base_file(index: usize) -> String {
    format!("payloads/bench-core/m{:03}/f{index:05}.md", index / 100)
}

/// The GNU pipeline; `$1` is its output directory.
fn gnu_script_text(work: &Path, pin: &str) -> String {
    let work = work.display();
    format!(
        r#"#!/bin/bash
# The overlay build and package of `dcx bundle build`, with GNU tools.
set -euo pipefail
export LC_ALL=C
out="$1"
work="{work}"
package="$work/base/{BASE_PACKAGE}"
mkdir -p "$out/tree"
# Verify the pinned package, unpack it, verify its manifest, no extra files.
echo "{pin}  $package" | sha256sum --check --quiet --strict -
tar -xzf "$package" -C "$out/tree"
cd "$out/tree"
sha256sum --check --quiet --strict resolved_files.sha256
cut -c67- resolved_files.sha256 > "$out/listed"
find . -type f ! -path ./resolved_files.sha256 ! -path ./resolved_bundle_lock_v1.yaml -printf '%P\n' | sort > "$out/present"
cmp -s "$out/listed" "$out/present"
# The overlay: deletes, then adds and replaces.
xargs -d '\n' rm -- < "$work/deletes.txt"
cp -r "$work/overlay/files/." .
# The new manifest over the sorted tree, and the locks that pin it.
find . -type f ! -path ./resolved_files.sha256 ! -path ./resolved_bundle_lock_v1.yaml -printf '%P\0' \
  | sort -z | xargs -0 sha256sum > "$out/manifest"
mv "$out/manifest" resolved_files.sha256
manifest_sha256=$(sha256sum resolved_files.sha256 | cut -c1-64)
printf 'version: 1\nroot_bundle: bench-core-rust\nintegrity:\n  sha256_manifest: %s\n' "$manifest_sha256" \
  > resolved_bundle_lock_v1.yaml
printf 'version: 1\nresolved_files_sha256: %s\n' "$manifest_sha256" > implementation_bundle_build_lock_v1.yaml
# The reproducible package and its checksum.
cd "$out"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C tree -cf - . | gzip -n -6 > {OUTPUT_PACKAGE}
sha256sum {OUTPUT_PACKAGE} > {OUTPUT_PACKAGE}.sha256
"#
    )
}

/// Deterministic text that compresses like prose and YAML (about 2.5:1
/// with gzip -6), not like zeros or noise.
///
/// A few MiB of generated lines form a corpus; each file is a header and a
/// slice of it at a random offset. Slices rarely meet within deflate's
/// 32 KiB window, so files compress as independent text, and generating
/// 200 MiB costs copies rather than formatting.
struct TextGenerator {
    state: u64,
    corpus: Vec<u8>,
}

impl TextGenerator {
    const CORPUS_BYTES: usize = 8 << 20;

    fn new(seed: u64) -> Self {
        let mut generator = Self {
            state: seed,
            corpus: Vec::new(),
        };
        let words: Vec<String> = (0..4096)
            .map(|_| {
                let length = 2 + generator.next() as usize % 9;
                (0..length)
                    .map(|_| char::from(b'a' + (generator.next() % 26) as u8))
                    .collect()
            })
            .collect();
        // Squaring skews the choice towards common words, as in prose.
        let word = |g: &mut Self| {
            let pick = g.next() % 4096;
            words[(pick * pick / 4096) as usize].as_str()
        };
        let mut corpus = String::with_capacity(Self::CORPUS_BYTES + 256);
        while corpus.len() < Self::CORPUS_BYTES {
            let id = generator.next() % 10_000;
            corpus.push_str("- id: ");
            corpus.push_str(word(&mut generator));
            corpus.push_str(&format!("-{id}\n  summary:"));
            for _ in 0..(6 + generator.next() % 8) {
                corpus.push(' ');
                corpus.push_str(word(&mut generator));
            }
            corpus.push('\n');
        }
        generator.corpus = corpus.into_bytes();
        generator
    }

    /// xorshift64*: fast, and the same sequence on every machine.
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn file(&mut self) -> Vec<u8> {
        let (low, high) = SIZE_RANGE;
        let length = low + self.next() as usize % (high - low + 1);
        let offset = self.next() as usize % (self.corpus.len() - length);
        let mut out = format!("# generated {:016x}\n\n", self.next()).into_bytes();
        out.extend_from_slice(&self.corpus[offset..offset + length]);
        out.push(b'\n');
        out
    }
}

fn remove(path: &Path) -> Result<(), String> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!("cannot remove {}: {error}", path.display())),
    }
}

/// Removes the work directory (hundreds of MiB) however the bench ends.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
