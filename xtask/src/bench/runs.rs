//! `cargo xtask bench runs`: the run-artifact commands at fleet scale.
//!
//! A generated dash directory of 1,000 products × 100 runs (a valid
//! `last_run.json` and a `pytest_output.log` per run) is measured with the
//! release `dcx`:
//!
//! - `dcx dash render` — target under 0.5 s;
//! - `dcx runs gc --keep 10 --dry-run` — target under 1 s (it plans 90,000
//!   removals and prints each);
//! - `dcx runs record <p> -- /bin/true` against `/bin/true` alone, interleaved
//!   — target: the difference of the medians under 20 ms.
//!
//! Figures are printed as ratios to their targets (below 1 is met); the exit
//! status is 1 when one is missed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{Subject, measure_interleaved, millis};

const PRODUCTS: usize = 1_000;
const RUNS_PER_PRODUCT: usize = 100;
const RENDER_TARGET: Duration = Duration::from_millis(500);
const GC_TARGET: Duration = Duration::from_secs(1);
const RECORD_OVERHEAD_TARGET: Duration = Duration::from_millis(20);
/// Rounds of the fleet-scale commands (after one warm-up), and of record.
const FLEET_ROUNDS: usize = 7;
const RECORD_ROUNDS: usize = 200;

pub(crate) fn run() -> Result<bool, String> {
    let dcx = crate::cargo::dcx(crate::cargo::Profile::Release)?;
    let scratch = Scratch::new()?;

    let fleet = scratch.path.join("fleet");
    eprintln!(
        "generating {PRODUCTS} products x {RUNS_PER_PRODUCT} runs in {}",
        fleet.display()
    );
    generate_fleet(&fleet).map_err(|e| format!("cannot generate the fleet: {e}"))?;

    let fleet_arg = fleet.display().to_string();
    let mut render = [Subject {
        label: "dash render".to_owned(),
        command: dcx_command(
            &dcx,
            &[
                "dash",
                "--dash-dir",
                &fleet_arg,
                "render",
                "--now",
                "2026-02-20T12:00:00Z",
            ],
        ),
    }];
    let render = measure_interleaved(&mut render, 1, FLEET_ROUNDS)?;
    let mut gc = [Subject {
        label: "runs gc --dry-run".to_owned(),
        command: dcx_command(
            &dcx,
            &[
                "runs",
                "--dash-dir",
                &fleet_arg,
                "gc",
                "--keep",
                "10",
                "--dry-run",
            ],
        ),
    }];
    let gc = measure_interleaved(&mut gc, 1, FLEET_ROUNDS)?;

    let small = scratch.path.join("small");
    let small_arg = small.display().to_string();
    let registered = dcx_command(
        &dcx,
        &[
            "fleet",
            "--dash-dir",
            &small_arg,
            "register",
            "bench",
            "--display-name",
            "Bench",
            "--owner",
            "xtask",
            "--status",
            "active",
        ],
    )
    .stdout(std::process::Stdio::null())
    .status()
    .map_err(|e| format!("cannot run dcx: {e}"))?;
    if !registered.success() {
        return Err(format!("dcx fleet register failed ({registered})"));
    }
    let mut record = [
        Subject {
            label: "/bin/true".to_owned(),
            command: Command::new("/bin/true"),
        },
        Subject {
            label: "runs record -- /bin/true".to_owned(),
            command: dcx_command(
                &dcx,
                &[
                    "runs",
                    "--dash-dir",
                    &small_arg,
                    "record",
                    "bench",
                    "--",
                    "/bin/true",
                ],
            ),
        },
    ];
    let record = measure_interleaved(&mut record, 20, RECORD_ROUNDS)?;

    println!(
        "run artifacts: {PRODUCTS} products x {RUNS_PER_PRODUCT} runs, release build; fleet commands {FLEET_ROUNDS} \
         rounds after 1 warm-up, record {RECORD_ROUNDS} interleaved rounds after 20"
    );
    println!(
        "{:<28} {:>12} {:>12} {:>10} {:>16}",
        "measure", "median", "p90", "target", "median / target"
    );
    let mut met = true;
    let mut line = |label: &str, median: Duration, p90: Duration, target: Duration| {
        let ratio = median.as_secs_f64() / target.as_secs_f64();
        met &= ratio < 1.0;
        println!(
            "{label:<28} {:>12} {:>12} {:>10} {ratio:>15.2}x",
            millis(median),
            millis(p90),
            millis(target)
        );
    };
    line(
        "dash render",
        render[0].quantile(0.5),
        render[0].quantile(0.9),
        RENDER_TARGET,
    );
    line(
        "runs gc --keep 10 --dry-run",
        gc[0].quantile(0.5),
        gc[0].quantile(0.9),
        GC_TARGET,
    );
    let overhead = |q| record[1].quantile(q).saturating_sub(record[0].quantile(q));
    line(
        "record overhead over true",
        overhead(0.5),
        overhead(0.9),
        RECORD_OVERHEAD_TARGET,
    );
    println!(
        "(record median {}, /bin/true median {})",
        millis(record[1].quantile(0.5)),
        millis(record[0].quantile(0.5))
    );
    println!("targets: {}", if met { "met" } else { "MISSED" });
    Ok(met)
}

fn dcx_command(dcx: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(dcx);
    command.args(args);
    command
}

/// A directory in the temp directory, removed on drop.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new() -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!("dcx-bench-runs-{}", std::process::id()));
        fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Writes `products.json` and, per product, its runs and a `last_run.json`
/// pointing at the newest.
fn generate_fleet(dash: &Path) -> std::io::Result<()> {
    let statuses = ["active", "development", "planned"];
    let products: Vec<serde_json::Value> = (0..PRODUCTS)
        .map(|i| {
            serde_json::json!({
                "product_id": format!("product-{i:04}"),
                "display_name": format!("Product {i}"),
                "owner": "bench",
                "status": statuses[i % statuses.len()],
                "criticality": "medium",
                "sla_tier": 1 + i % 5,
            })
        })
        .collect();
    let registry = serde_json::json!({ "schema_version": "0.1", "products": products });
    fs::create_dir_all(dash)?;
    fs::write(dash.join("products.json"), serde_json::to_vec_pretty(&registry)?)?;
    for i in 0..PRODUCTS {
        let id = format!("product-{i:04}");
        let product = dash.join("runs").join(&id);
        let mut newest = String::new();
        for run in 0..RUNS_PER_PRODUCT {
            // One run a day from 2025-09-01, then the minute: sorted ids.
            newest = format!(
                "run_2025{:02}{:02}_{:02}0000",
                9 + run / 28,
                1 + run % 28,
                run % 24
            );
            let dir = product.join(&newest);
            fs::create_dir_all(&dir)?;
            fs::write(dir.join("pytest_output.log"), "3 passed, 0 failed\n")?;
        }
        let report = serde_json::json!({
            "schema_version": "0.1",
            "product_id": id,
            "run_id": newest,
            "started_at": "2025-12-21T09:00:00Z",
            "ended_at": "2025-12-21T09:08:45Z",
            "status": if i % 7 == 0 { "failed" } else { "success" },
            "summary": "pytest: 3 passed",
            "evidence": { "paths": [format!("runs/{id}/{newest}/pytest_output.log")] },
            "banana_economy": {
                "budget_tokens": 50000, "spent_tokens": 1200, "budget_minutes": 90,
                "spent_minutes": 8.75, "max_ci_heal_attempts": 2, "ci_heal_attempts_used": 0
            },
            "kill_switch": { "enabled": i % 50 == 0, "reason": if i % 50 == 0 { "budget" } else { "" } },
            "pr_wave": { "state": "idle", "open_prs": 0, "last_update": "2025-12-21T09:08:45Z" }
        });
        fs::write(product.join("last_run.json"), serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(())
}
