//! Implementation spec bundles (seed 003): overlay builds on a canonical
//! base bundle, deterministic packaging, package checks, project bundle locks.
//!
//! Not implemented yet; see the bundles issue. The documents and the
//! `resolved_files.sha256` manifest already live in [`dcx_contracts::bundle`]
//! and [`dcx_contracts::manifest`].
