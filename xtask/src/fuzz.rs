//! `cargo xtask fuzz`: seed, build and run the fuzz targets of `fuzz/`
//! (one per parser that reads outside input; docs/SECURITY.md).
//!
//! The targets use libFuzzer through `cargo fuzz`, on the stable toolchain:
//! `--sanitizer none` leaves out the only nightly-only flag cargo-fuzz
//! passes (`-Zsanitizer`), while the coverage instrumentation it relies on
//! (`-Cpasses=sancov-module` and `-Cllvm-args=-sanitizer-coverage-*`) is
//! stable. Rust's own checks (bounds, overflow with `--debug-assertions`,
//! `unsafe` forbidden in dcx) stand in for AddressSanitizer.
//!
//! Each target's corpus lives in `fuzz/corpus/<target>/` (ignored by git,
//! kept between runs) and is seeded from the committed examples every time,
//! so a fresh clone starts from real documents rather than from nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::Instant;

/// Every fuzz target, with where its seeds come from: directories under the
/// workspace root whose files (recursively, `*.error` expectations excepted)
/// are copied into the corpus.
pub(crate) const TARGETS: &[(&str, &[&str])] = &[
    (
        "registry_yaml",
        &[
            "specs/examples/runner_certification_registry_v1",
            "specs/runner_certification_registry_v1.yaml",
        ],
    ),
    ("status_report_json", &["specs/examples/runner_status_report_v1"]),
    ("release_metadata_json", &["specs/examples/github_release"]),
    (
        "certificate_json",
        &["specs/examples/runner_execution_certificate_v1"],
    ),
    ("sha256_manifest", &["fuzz/seeds/sha256_manifest"]),
    (
        "identity_env",
        &[
            "fuzz/seeds/identity_env",
            "docker/runner-base/image.manifest",
            "docker/runner-example/image.manifest",
        ],
    ),
    (
        "overlay_yaml",
        &["specs/examples/implementation_bundle_overlay_v1"],
    ),
    ("project_lock_yaml", &["specs/examples/project_bundle_lock_v1"]),
    (
        "products_json",
        &["specs/examples/products", "examples/dash/products.json"],
    ),
    ("last_run_json", &["specs/examples/last_run"]),
    ("tar_gz", &["fuzz/seeds/tar_gz"]),
    (
        "ingest_state_json",
        &["specs/examples/runner_status_ingest_state_v1"],
    ),
    ("junit_xml", &["fuzz/seeds/junit_xml"]),
    ("run_log_summary", &["fuzz/seeds/run_log_summary"]),
];

#[derive(clap::Args)]
pub(crate) struct FuzzArgs {
    /// How long each target runs, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Targets run at once (each uses one core).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Only these targets (default: all of them).
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,
    /// Where the Markdown summary goes.
    #[arg(long, default_value = ".artifacts/fuzz-summary.md")]
    summary: PathBuf,
}

/// What one run printed at its end (`-print_final_stats=1`).
struct RunReport {
    target: String,
    seconds: f64,
    executions: Option<u64>,
    /// libFuzzer's own average, which leaves out cargo's start-up.
    exec_per_sec: Option<u64>,
    peak_rss_mb: Option<u64>,
    corpus_files: usize,
    outcome: Result<(), String>,
}

pub(crate) fn run(root: &Path, args: &FuzzArgs) -> ExitCode {
    let known: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    let selected: Vec<&(&str, &[&str])> = if args.targets.is_empty() {
        TARGETS.iter().collect()
    } else {
        let mut selected = Vec::new();
        for wanted in &args.targets {
            match TARGETS.iter().find(|(name, _)| name == wanted) {
                Some(target) => selected.push(target),
                None => {
                    eprintln!(
                        "error: no fuzz target `{wanted}`; the targets are: {}",
                        known.join(", ")
                    );
                    return ExitCode::from(2);
                }
            }
        }
        selected
    };

    match crate::cargo::command()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => {}
        _ => {
            eprintln!(
                "error: cargo-fuzz is not installed; install it with `cargo install cargo-fuzz --locked`"
            );
            return ExitCode::from(2);
        }
    }

    for (name, sources) in &selected {
        if let Err(error) = seed(root, name, sources) {
            eprintln!("error: cannot seed the corpus of `{name}`: {error}");
            return ExitCode::from(2);
        }
    }

    eprintln!("==> building the fuzz targets (stable toolchain, --sanitizer none)");
    let built = crate::cargo::command()
        .args(["fuzz", "build", "--sanitizer", "none", "--debug-assertions"])
        .current_dir(root)
        .status();
    match built {
        Ok(status) if status.success() => {}
        Ok(status) => {
            eprintln!("error: building the fuzz targets failed ({status})");
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("error: cannot run cargo fuzz: {error}");
            return ExitCode::from(2);
        }
    }

    let queue = Mutex::new(
        selected
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .into_iter(),
    );
    let reports = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().expect("queue").next();
                    let Some(name) = next else { break };
                    eprintln!("==> fuzzing `{name}` for {} s", args.seconds);
                    let report = fuzz_one(root, name, args.seconds);
                    eprintln!("    {}", one_line(&report));
                    reports.lock().expect("reports").push(report);
                }
            });
        }
    });
    let mut reports = reports.into_inner().expect("reports");
    let order = |name: &str| known.iter().position(|k| *k == name);
    reports.sort_by_key(|r| order(&r.target));

    let table = summary(&reports, args);
    println!("{table}");
    let summary_path = if args.summary.is_absolute() {
        args.summary.clone()
    } else {
        root.join(&args.summary)
    };
    if let Some(parent) = summary_path.parent() {
        let _ = fs::create_dir_all(parent);
    }
    if let Err(error) = fs::write(&summary_path, &table) {
        eprintln!("warning: cannot write {}: {error}", summary_path.display());
    }

    let failed: Vec<&RunReport> = reports.iter().filter(|r| r.outcome.is_err()).collect();
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for report in failed {
            if let Err(why) = &report.outcome {
                eprintln!("error: fuzz target `{}` failed: {why}", report.target);
            }
        }
        ExitCode::FAILURE
    }
}

/// Copies the seed files into `fuzz/corpus/<target>/`, named after where
/// they came from so a re-seed overwrites rather than duplicates.
fn seed(root: &Path, target: &str, sources: &[&str]) -> std::io::Result<usize> {
    let corpus = corpus_dir(root, target);
    fs::create_dir_all(&corpus)?;
    let mut files = Vec::new();
    for source in sources {
        collect_files(&root.join(source), &mut files)?;
    }
    if files.is_empty() {
        return Err(std::io::Error::other(format!(
            "no seed files in {}",
            sources.join(", ")
        )));
    }
    for file in &files {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let name = format!("seed-{}", relative.to_string_lossy().replace('/', "__"));
        fs::copy(file, corpus.join(name))?;
    }
    Ok(files.len())
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        if path.extension().is_none_or(|ext| ext != "error") {
            out.push(path.to_path_buf());
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(path)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        collect_files(&entry, out)?;
    }
    Ok(())
}

/// Where `cargo fuzz build` leaves a target's binary (its default, a
/// release build for the host triple).
fn binary(root: &Path, target: &str) -> PathBuf {
    root.join("fuzz")
        .join("target")
        .join(host_triple())
        .join("release")
        .join(target)
}

fn host_triple() -> String {
    let output = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--print", "host-tuple"])
        .output();
    match output {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        _ => format!("{}-unknown-linux-gnu", std::env::consts::ARCH),
    }
}

fn artifacts_dir(root: &Path, target: &str) -> PathBuf {
    root.join("fuzz").join("artifacts").join(target)
}

fn corpus_dir(root: &Path, target: &str) -> PathBuf {
    root.join("fuzz").join("corpus").join(target)
}

fn fuzz_one(root: &Path, target: &str, seconds: u64) -> RunReport {
    let corpus = corpus_dir(root, target);
    let _ = fs::create_dir_all(artifacts_dir(root, target));
    let started = Instant::now();
    // The binary `cargo fuzz build` made, run directly: `cargo fuzz run`
    // would first re-check (and, after any edit, rebuild) the crate inside
    // the timed run.
    let output = Command::new(binary(root, target))
        .arg(&corpus)
        .args([
            &format!("-max_total_time={seconds}"),
            "-print_final_stats=1",
            // A single input may take at most 10 s and 2 GiB: more is a
            // finding (endless data, a decompression bomb), not slowness.
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-max_len=262144",
            // Crash reproducers go where `cargo fuzz` puts them.
            &format!("-artifact_prefix={}/", artifacts_dir(root, target).display()),
        ])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let elapsed = started.elapsed().as_secs_f64();
    let corpus_files = fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
    let (stderr, outcome) = match output {
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            let outcome = if output.status.success() {
                Ok(())
            } else {
                Err(failure_reason(&stderr, output.status))
            };
            (stderr, outcome)
        }
        Err(error) => (
            String::new(),
            Err(format!("cannot run {}: {error}", binary(root, target).display())),
        ),
    };
    RunReport {
        target: target.to_owned(),
        seconds: elapsed,
        executions: final_stat(&stderr, "stat::number_of_executed_units:"),
        exec_per_sec: final_stat(&stderr, "stat::average_exec_per_sec:"),
        peak_rss_mb: final_stat(&stderr, "stat::peak_rss_mb:"),
        corpus_files,
        outcome,
    }
}

fn final_stat(stderr: &str, key: &str) -> Option<u64> {
    stderr
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix(key))
        .and_then(|value| value.trim().parse().ok())
}

/// The crash line and the reproducer libFuzzer saved, for the CI log.
fn failure_reason(stderr: &str, status: std::process::ExitStatus) -> String {
    let crash = stderr
        .lines()
        .find(|line| line.contains("panicked at") || line.starts_with("==") && line.contains("ERROR"))
        .unwrap_or("")
        .trim()
        .to_owned();
    let artifact = stderr.lines().find_map(|line| {
        line.split_once("Test unit written to ")
            .map(|(_, path)| path.trim().to_owned())
    });
    let mut reason = format!("exited with {status}");
    if !crash.is_empty() {
        reason.push_str(&format!("; {crash}"));
    }
    if let Some(artifact) = artifact {
        reason.push_str(&format!(
            "; reproduce with `cargo fuzz run --sanitizer none --debug-assertions {} {artifact}`",
            report_target(&artifact)
        ));
    }
    let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
    reason.push_str("\n--- last lines of the fuzzer's output ---\n");
    reason.push_str(&tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    reason
}

/// The target a reproducer under `fuzz/artifacts/<target>/` belongs to.
fn report_target(artifact: &str) -> &str {
    Path::new(artifact)
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("<target>")
}

fn one_line(report: &RunReport) -> String {
    let rate = rate(report).map_or_else(|| "?".to_owned(), |r| format!("{r:.0}"));
    let verdict = if report.outcome.is_ok() { "ok" } else { "FAILED" };
    format!(
        "{}: {verdict}, {:.0} s, {} executions, {rate} exec/s, corpus {} files",
        report.target,
        report.seconds,
        report
            .executions
            .map_or_else(|| "?".to_owned(), |e| e.to_string()),
        report.corpus_files
    )
}

fn rate(report: &RunReport) -> Option<f64> {
    report
        .exec_per_sec
        .map(|r| r as f64)
        .or_else(|| report.executions.map(|e| e as f64 / report.seconds.max(1e-9)))
}

fn summary(reports: &[RunReport], args: &FuzzArgs) -> String {
    let mut out = String::from(
        "| target | run length | executions | exec/s | peak RSS | corpus files | result |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
    );
    for report in reports {
        out.push_str(&format!(
            "| `{}` | {:.0} s | {} | {} | {} | {} | {} |\n",
            report.target,
            report.seconds,
            report
                .executions
                .map_or_else(|| "?".to_owned(), |e| e.to_string()),
            rate(report).map_or_else(|| "?".to_owned(), |r| format!("{r:.0}")),
            report
                .peak_rss_mb
                .map_or_else(|| "?".to_owned(), |m| format!("{m} MB")),
            report.corpus_files,
            if report.outcome.is_ok() {
                "no finding"
            } else {
                "**crash**"
            },
        ));
    }
    out.push_str(&format!(
        "\n{} target(s), {} s each, {} at once.\n",
        reports.len(),
        args.seconds,
        args.jobs.max(1)
    ));
    out
}
