//! Run artifacts (seed 004, the Run Artifact Contract v0.1): the fleet
//! registry, run recording with a real budget and kill switch, retention GC,
//! and the Dash dashboard.
//!
//! Everything lives under one *dash directory* laid out as the contract's §1
//! says ([`layout`]):
//!
//! ```text
//! dash/
//! ├── products.json                 fleet registry       (fleet)
//! ├── schemas/*.schema.json         generated schemas    (layout)
//! ├── index.html                    the dashboard        (dash)
//! └── runs/<product_id>/
//!     ├── last_run.json             latest run report    (record)
//!     └── run_<…>/                  one run's evidence   (record, gc)
//!         ├── pytest_output.log
//!         ├── test-report.json
//!         ├── screenshot.png
//!         └── evidence/
//! ```
//!
//! - [`fleet`] registers products in `products.json`;
//! - [`record`] runs a test command as a real process under its time budget,
//!   honours the product's kill switch, and writes `last_run.json`;
//! - [`gc`] prunes old run directories without ever touching `last_run.json`
//!   or the run it points to;
//! - [`artifact`] reads artifacts "the Dash way": a bad file becomes a
//!   [`artifact::Finding`] and a best-effort view, never a failure of the
//!   whole fleet; [`validate`] and [`dash`] are built on it;
//! - [`serve`] (feature `serve`) serves the dashboard and its evidence files;
//! - [`store`] is how many writers share one dash directory: the locks and
//!   their order, the marker of a run in flight, the sweep of leftovers.
//!
//! Like every dcx library this crate never prints, exits, reads the clock or
//! the environment: callers pass a [`Clock`], a [`dcx_sys::Cancel`] and
//! settings.

#![deny(missing_docs)]

pub mod artifact;
pub mod clock;
pub mod dash;
pub mod fleet;
pub mod gc;
pub mod layout;
pub mod record;
#[cfg(feature = "serve")]
pub mod serve;
pub mod store;
pub mod validate;

pub use clock::Clock;
pub use layout::{DashDir, InvalidProductId, ProductId};
