//! Run artifacts (seed 004, the Run Artifact Contract v0.1): the fleet
//! registry, run recording with a real budget and kill switch, retention GC,
//! and the Dash dashboard.
//!
//! Everything lives under one *dash directory* laid out as the contract's §1
//! says ([`DashDir`]):
//!
//! ```text
//! dash/
//! ├── products.json                 fleet registry       (register_product)
//! ├── schemas/*.schema.json         generated schemas    (register_product)
//! ├── index.html                    the dashboard        (render_to_file)
//! └── runs/<product_id>/
//!     ├── last_run.json             latest run report    (record)
//!     └── run_<…>/                  one run's evidence   (record, execute_gc)
//!         ├── pytest_output.log
//!         ├── test-report.json
//!         ├── screenshot.png
//!         └── evidence/
//! ```
//!
//! | operation | entry point |
//! |---|---|
//! | `fleet register` / `fleet list`: `products.json` | [`register_product`], [`list_products`] |
//! | `runs record`: the test command as a real process under its time budget and the product's kill switch, then `last_run.json` | [`record`] |
//! | `runs kill-switch` | [`set_kill_switch`] |
//! | `runs gc`: prune old run directories, never `last_run.json` or the run it points to | [`plan_gc`], [`execute_gc`] |
//! | `runs validate`: every artifact checked | [`validate`] |
//! | `dash render` / `dash serve` (feature `serve`) | [`render_to_file`], `serve` |
//!
//! Artifacts are read "the Dash way": a bad file becomes a [`Finding`] and a
//! best-effort view, never a failure of the whole fleet; validation and the
//! dashboard are built on that one reader. Many writers may share one dash
//! directory: each step takes an advisory lock on a directory of the layout
//! (fleet, product, run, page), always in the same order.
//!
//! Like every dcx library this crate never prints, exits, reads the clock or
//! the environment: callers pass a [`Clock`], a [`dcx_sys::Cancel`] and
//! settings.

#![deny(missing_docs)]
// Every type a caller can receive is also one it can name.
#![warn(unnameable_types)]

mod artifact;
mod clock;
mod dash;
mod fleet;
mod gc;
mod layout;
mod record;
#[cfg(feature = "serve")]
mod serve;
mod store;
mod validate;

pub use artifact::{Finding, Fleet, Severity};
pub use clock::Clock;
pub use dash::{Card, DEFAULT_HISTORY_LIMIT, Page, RenderOptions, link_prefix, render_to_file};
pub use fleet::{FleetError, list_products, register_product};
pub use gc::{
    DEFAULT_KEEP, GcError, GcOptions, GcOutcome, GcPlan, ProductGcPlan, Protection, SkippedProduct,
    execute_gc, plan_gc,
};
pub use layout::{DashDir, INDEX_FILE, InvalidProductId, LOG_FILE, ProductId};
pub use record::{
    DEFAULT_MAX_JUNIT_BYTES, DetectedSummary, JunitError, RecordError, RecordRequest, Recorded, RunEnding,
    TestReport, convert_junit, detect_summary, record, set_kill_switch,
};
#[cfg(feature = "serve")]
pub use serve::{ServeConfig, serve};
pub use validate::{ProductFindings, Validation, validate};
