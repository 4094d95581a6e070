//! Retention (contract §7): keep each product's newest N run directories.
//!
//! Per product, the `run_*` directories are ordered by run id (newest
//! first; ids sort by time as plain strings) and all but the first N are
//! removed, except:
//!
//! - `last_run.json` and every other plain file, and directories not named
//!   `run_*` (`evidence/`), are never touched;
//! - the run `last_run.json` names (`run_id`), and any run directory its
//!   evidence paths point into, are never removed, whatever N is: the
//!   dashboard links there (upstream's `--keep 0` deleted it, RB B.6);
//! - a product whose `last_run.json` cannot be read as JSON is skipped,
//!   since what it points to is unknown;
//! - a run being recorded (its directory marked and locked by a live
//!   recorder, see [`store`]) is never removed, whatever N is,
//!   and takes no slot;
//! - a run whose recorder died before writing its report (marked, lock
//!   free) takes no slot either, and is removed.
//!
//! The plan is made, and carried out, under the locks of the products it
//! covers (taken in product-id order, released when the plan is dropped),
//! so it is exact when it is executed: no recorder allocates, publishes or
//! edits the kill switch in between, and a second gc waits, then finds
//! nothing left to do. A directory already gone is not a failure.
//!
//! `--keep 0` removes every other run, so it needs an explicit
//! confirmation ([`GcOptions::confirm_keep_zero`]). Planning is separate
//! from removal, so a dry run shows exactly what a real run would do.

use std::io;
use std::path::PathBuf;

use serde_json::Value;

use crate::layout::{DashDir, ProductId, RUNS_DIR};
use crate::store::{self, DirLock, RunState};

/// The contract's default: keep the last 10 runs.
pub const DEFAULT_KEEP: usize = 10;

/// What to collect.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// How many of each product's newest runs to keep.
    pub keep: usize,
    /// Only this product; all products under `runs/` otherwise.
    pub product: Option<ProductId>,
    /// Allows `keep == 0`.
    pub confirm_keep_zero: bool,
}

/// Why collection could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    /// `keep` is 0 without confirmation.
    #[error(
        "--keep 0 would remove every run but the one last_run.json points to; pass --all to confirm, or keep at least 1"
    )]
    KeepZero,
    /// The runs directory does not exist.
    #[error("runs directory not found: {}", path.display())]
    NoRunsDir {
        /// `runs/`.
        path: PathBuf,
    },
    /// The requested product has no directory.
    #[error("product not found: {} does not exist", path.display())]
    ProductNotFound {
        /// `runs/<product>/`.
        path: PathBuf,
    },
    /// A directory could not be listed.
    #[error("cannot list {}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
}

/// Why a run directory is kept although it is past N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// `last_run.json` names it.
    LastRun,
    /// An evidence path of `last_run.json` points into it.
    Evidence,
}

/// The plan for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductGcPlan {
    /// The product.
    pub product: ProductId,
    /// Its run directories, newest first.
    pub runs: Vec<String>,
    /// Runs past N that are kept anyway, and why.
    pub protected: Vec<(String, Protection)>,
    /// Runs to remove, newest first (abandoned ones included).
    pub remove: Vec<String>,
    /// Runs being recorded now: never removed, no slot.
    pub in_flight: Vec<String>,
    /// Runs whose recorder died before writing the report: no slot, and
    /// in [`remove`](Self::remove).
    pub abandoned: Vec<String>,
}

/// A product left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedProduct {
    /// The product.
    pub product: ProductId,
    /// Why.
    pub reason: String,
}

/// What collection would do. Holds the locks of its products until it is
/// dropped (or executed), so that it stays true.
#[derive(Debug, Default)]
pub struct GcPlan {
    /// Per product, sorted by id.
    pub products: Vec<ProductGcPlan>,
    /// Products left alone.
    pub skipped: Vec<SkippedProduct>,
    locks: Vec<DirLock>,
}

impl GcPlan {
    /// The number of run directories to remove.
    pub fn removals(&self) -> usize {
        self.products.iter().map(|p| p.remove.len()).sum()
    }
}

/// Plans collection: locks the products, reads directories and
/// `last_run.json` files, removes nothing.
pub fn plan_gc(dash: &DashDir, options: &GcOptions) -> Result<GcPlan, GcError> {
    if options.keep == 0 && !options.confirm_keep_zero {
        return Err(GcError::KeepZero);
    }
    let runs_dir = dash.runs_dir();
    if !runs_dir.is_dir() {
        return Err(GcError::NoRunsDir { path: runs_dir });
    }
    let products = match &options.product {
        Some(product) => {
            let path = dash.product_dir(product);
            if !path.is_dir() {
                return Err(GcError::ProductNotFound { path });
            }
            vec![product.clone()]
        }
        None => dash.product_dirs().map_err(|source| GcError::Io {
            path: runs_dir.clone(),
            source,
        })?,
    };
    let mut plan = GcPlan::default();
    // `products` is sorted: the product-id order of the lock rules.
    for product in products {
        let product_dir = dash.product_dir(&product);
        let io_error = |source| GcError::Io {
            path: product_dir.clone(),
            source,
        };
        match store::lock_dir(&product_dir) {
            Ok(lock) => plan.locks.push(lock),
            // Removed meanwhile (by hand): nothing to collect.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(e)),
        }
        let runs = dash.run_ids(&product).map_err(io_error)?;
        let pinned = match pinned_runs(dash, &product) {
            Ok(pinned) => pinned,
            Err(reason) => {
                plan.skipped.push(SkippedProduct { product, reason });
                continue;
            }
        };
        let mut protected = Vec::new();
        let mut remove = Vec::new();
        let mut in_flight = Vec::new();
        let mut abandoned = Vec::new();
        let mut slots = 0;
        for run in &runs {
            let pin = pinned.iter().find(|(name, _)| name == run).map(|(_, why)| *why);
            // A run last_run.json names has its report, marker or not.
            let state = match pin {
                Some(_) => RunState::Finished,
                None => match store::run_state(&product_dir.join(run)) {
                    Ok(state) => state,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_error(e)),
                },
            };
            match state {
                RunState::InFlight => in_flight.push(run.clone()),
                // Its lock is free; it is tried again when it is removed.
                RunState::Abandoned(_) => {
                    abandoned.push(run.clone());
                    remove.push(run.clone());
                }
                RunState::Finished if slots < options.keep => slots += 1,
                RunState::Finished => match pin {
                    Some(why) => protected.push((run.clone(), why)),
                    None => remove.push(run.clone()),
                },
            }
        }
        plan.products.push(ProductGcPlan {
            product,
            runs,
            protected,
            remove,
            in_flight,
            abandoned,
        });
    }
    Ok(plan)
}

/// The run directories `last_run.json` points to: its `run_id` and the
/// directories of its evidence paths. Read leniently (any JSON), so a report
/// of another version or with a schema error still protects its run.
fn pinned_runs(dash: &DashDir, product: &ProductId) -> Result<Vec<(String, Protection)>, String> {
    let path = dash.last_run_file(product);
    let bytes = match dash.read_document(&path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", DashDir::last_run_relative(product))),
    };
    let report: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is not valid JSON ({e}), so the run it points to is unknown",
            DashDir::last_run_relative(product)
        )
    })?;
    let mut pinned = Vec::new();
    if let Some(run_id) = report["run_id"].as_str() {
        pinned.push((run_id.to_owned(), Protection::LastRun));
    }
    let product_prefix = format!("{RUNS_DIR}/{product}/");
    for evidence in report["evidence"]["paths"].as_array().into_iter().flatten() {
        let Some(run) = evidence
            .as_str()
            .and_then(|p| p.strip_prefix(&product_prefix))
            .and_then(|rest| rest.split('/').next())
        else {
            continue;
        };
        if !pinned.iter().any(|(name, _)| name == run) {
            pinned.push((run.to_owned(), Protection::Evidence));
        }
    }
    Ok(pinned)
}

/// The outcome of [`execute_gc`].
#[derive(Debug, Default)]
pub struct GcOutcome {
    /// Removed run directories.
    pub removed: Vec<PathBuf>,
    /// Directories that could not be removed, with the failure.
    pub failed: Vec<(PathBuf, io::Error)>,
    /// Leftover temp files of killed processes that were removed from the
    /// products' directories and their runs.
    pub swept: Vec<PathBuf>,
    /// Directories whose leftovers could not be swept, and why.
    pub sweep_problems: Vec<String>,
}

/// Removes what `plan` lists, under its locks, then sweeps leftovers. A
/// failure does not stop the others; each is reported. A directory that is
/// already gone is not one.
pub fn execute_gc(dash: &DashDir, plan: GcPlan) -> GcOutcome {
    let mut outcome = GcOutcome::default();
    for product in &plan.products {
        for run in &product.remove {
            let path = dash.product_dir(&product.product).join(run);
            // A run with a marker is removed only while its lock is held
            // here: its recorder is certainly gone.
            let _run_lock = match store::run_state(&path) {
                Ok(RunState::InFlight) => continue,
                Ok(RunState::Abandoned(lock)) => Some(lock),
                Ok(RunState::Finished) => None,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    outcome.failed.push((path, e));
                    continue;
                }
            };
            match std::fs::remove_dir_all(&path) {
                Ok(()) => outcome.removed.push(path),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => outcome.failed.push((path, e)),
            }
        }
        let (mut swept, mut problems) = store::sweep_product(dash, &product.product);
        outcome.swept.append(&mut swept);
        outcome.sweep_problems.append(&mut problems);
    }
    drop(plan);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::LAST_RUN_FILE;

    fn product(id: &str) -> ProductId {
        ProductId::parse(id).unwrap()
    }

    /// A product with runs `run_20251201_000000` … one per day.
    fn dash_with_runs(id: &str, days: u32, last_run: Option<&str>) -> (tempfile::TempDir, DashDir) {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path());
        let root = dash.product_dir(&product(id));
        for day in 1..=days {
            let run = root.join(format!("run_202512{day:02}_000000"));
            std::fs::create_dir_all(&run).unwrap();
            std::fs::write(run.join("pytest_output.log"), "log").unwrap();
        }
        std::fs::create_dir_all(root.join("evidence")).unwrap();
        std::fs::write(root.join("bootstrap_proof_screenshot.png"), "png").unwrap();
        if let Some(report) = last_run {
            std::fs::write(root.join(LAST_RUN_FILE), report).unwrap();
        }
        (dir, dash)
    }

    fn options(keep: usize) -> GcOptions {
        GcOptions {
            keep,
            product: None,
            confirm_keep_zero: false,
        }
    }

    fn names(dash: &DashDir, id: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dash.product_dir(&product(id)))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn keeps_the_newest_n_and_never_touches_files_or_other_directories() {
        let (_dir, dash) = dash_with_runs("p", 5, Some(r#"{"run_id":"run_20251205_000000"}"#));
        let plan = plan_gc(&dash, &options(2)).unwrap();
        assert_eq!(
            plan.products[0].remove,
            [
                "run_20251203_000000",
                "run_20251202_000000",
                "run_20251201_000000"
            ]
        );
        assert!(plan.products[0].protected.is_empty());
        assert_eq!(names(&dash, "p").len(), 8, "planning removes nothing");
        let outcome = execute_gc(&dash, plan);
        assert_eq!(outcome.removed.len(), 3);
        assert!(outcome.failed.is_empty());
        assert_eq!(
            names(&dash, "p"),
            [
                "bootstrap_proof_screenshot.png",
                "evidence",
                "last_run.json",
                "run_20251204_000000",
                "run_20251205_000000"
            ]
        );
    }

    #[test]
    fn the_run_last_run_points_to_survives_any_keep() {
        // spec-kit: run_id names one run, the evidence another (RB B.4).
        let report = r#"{"run_id":"run_20251202_000000",
            "evidence":{"paths":["runs/p/run_20251201_000000/pytest_output.log","runs/q/run_20251203_000000/x"]}}"#;
        let (_dir, dash) = dash_with_runs("p", 4, Some(report));
        let mut opts = options(0);
        assert_eq!(
            plan_gc(&dash, &opts).unwrap_err().to_string(),
            "--keep 0 would remove every run but the one last_run.json points to; pass --all to confirm, or keep at least 1"
        );
        opts.confirm_keep_zero = true;
        let plan = plan_gc(&dash, &opts).unwrap();
        assert_eq!(
            plan.products[0].protected,
            [
                ("run_20251202_000000".to_owned(), Protection::LastRun),
                ("run_20251201_000000".to_owned(), Protection::Evidence)
            ]
        );
        assert_eq!(
            plan.products[0].remove,
            ["run_20251204_000000", "run_20251203_000000"]
        );
    }

    #[test]
    fn an_invalid_report_still_protects_and_an_unreadable_one_skips() {
        let (_dir, dash) = dash_with_runs(
            "p",
            3,
            Some(r#"{"schema_version":"0.2","run_id":"run_20251201_000000"}"#),
        );
        let plan = plan_gc(&dash, &options(1)).unwrap();
        assert_eq!(plan.products[0].remove, ["run_20251202_000000"]);

        let (_dir, dash) = dash_with_runs("p", 3, Some("{broken"));
        let plan = super::plan_gc(&dash, &options(1)).unwrap();
        assert!(plan.products.is_empty());
        assert_eq!(
            plan.skipped[0].reason,
            "runs/p/last_run.json is not valid JSON (key must be a string at line 1 column 2), so the run it points to is unknown"
        );
    }

    #[test]
    fn a_product_filter_and_missing_directories() {
        let (dir, dash) = dash_with_runs("p", 3, None);
        std::fs::create_dir_all(dir.path().join("runs/q/run_20251201_000000")).unwrap();
        let mut opts = options(1);
        opts.product = Some(product("q"));
        let plan = plan_gc(&dash, &opts).unwrap();
        assert_eq!(plan.products.len(), 1);
        assert_eq!(plan.removals(), 0);

        opts.product = Some(product("nope"));
        assert_eq!(
            super::plan_gc(&dash, &opts).unwrap_err().to_string(),
            format!(
                "product not found: {} does not exist",
                dir.path().join("runs/nope").display()
            )
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            super::plan_gc(&DashDir::new(empty.path()), &options(1)),
            Err(GcError::NoRunsDir { .. })
        ));
    }

    /// A marked run whose lock is held (being recorded) is never removed
    /// and takes no slot; a marked run whose lock is free (its recorder was
    /// killed) takes no slot and is removed; a plan holds the product lock
    /// until it is executed.
    #[test]
    fn runs_in_flight_stay_and_abandoned_runs_go_without_a_slot() {
        let (_dir, dash) = dash_with_runs("p", 4, Some(r#"{"run_id":"run_20251201_000000"}"#));
        let root = dash.product_dir(&product("p"));
        let in_flight = root.join("run_20251204_000000");
        std::fs::write(in_flight.join(store::RECORDING_MARKER), "").unwrap();
        let recorder = store::lock_dir(&in_flight).unwrap();
        std::fs::write(root.join("run_20251203_000000").join(store::RECORDING_MARKER), "").unwrap();
        std::fs::write(root.join(".dcx-tmp-killed"), "half").unwrap();

        let plan = plan_gc(&dash, &options(1)).unwrap();
        let p = &plan.products[0];
        assert_eq!(p.in_flight, ["run_20251204_000000"]);
        assert_eq!(p.abandoned, ["run_20251203_000000"]);
        // The one slot goes to the newest finished run, 02.
        assert_eq!(p.remove, ["run_20251203_000000"]);
        assert_eq!(
            p.protected,
            [("run_20251201_000000".to_owned(), Protection::LastRun)]
        );
        assert!(
            store::try_lock_dir(&root).unwrap().is_none(),
            "the plan holds the product lock"
        );
        let outcome = execute_gc(&dash, plan);
        assert_eq!(outcome.removed, [root.join("run_20251203_000000")]);
        assert_eq!(outcome.swept, [root.join(".dcx-tmp-killed")]);
        assert!(store::try_lock_dir(&root).unwrap().is_some(), "released");
        assert!(in_flight.is_dir());

        // `--keep 0 --all` while it is recorded: still there.
        let mut all = options(0);
        all.confirm_keep_zero = true;
        let outcome = execute_gc(&dash, super::plan_gc(&dash, &all).unwrap());
        assert_eq!(outcome.removed, [root.join("run_20251202_000000")]);
        assert!(in_flight.is_dir());
        drop(recorder);
        // Its recorder is gone, the marker stayed: now it goes.
        let outcome = execute_gc(&dash, super::plan_gc(&dash, &all).unwrap());
        assert_eq!(outcome.removed, std::slice::from_ref(&in_flight));
    }
}
