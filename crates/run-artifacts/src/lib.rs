//! Run artifacts (seed 004): the products registry, run recording with
//! budgets and a kill switch, retention GC and the Dash dashboard.
//!
//! Not implemented yet; see the run artifacts issue. `products.json` and
//! `last_run.json` already live in [`dcx_contracts::run_artifacts`].
