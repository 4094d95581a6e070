//! The environment variables dcx reads, each turned into a setting here
//! (libraries never read the environment):
//!
//! | variable | read by | becomes |
//! |---|---|---|
//! | `SOURCE_DATE_EPOCH` | `dcx bundle` | the time of builds and packages ([`super::now`]) |
//! | `PATH` | `dcx certify` | where an adapter without `/` is looked up |
//! | `GITHUB_TOKEN` | `dcx status ingest` | the token sent to GitHub's hosts |
//! | `GITHUB_ACTIONS` | `dcx status ingest`, `check-freshness` | `true`: also print workflow-command annotations |
//! | `GITHUB_STEP_SUMMARY` | `dcx status ingest` | the job summary the Markdown matrix is appended to |
//!
//! A variable set to the empty string counts as unset, as CI systems set
//! variables they have no value for.

use std::ffi::OsString;

/// `PATH`, as the OS holds it (not necessarily UTF-8).
#[allow(clippy::disallowed_methods)] // This layer reads the environment.
pub(crate) fn search_path() -> Option<OsString> {
    std::env::var_os("PATH")
}

/// `GITHUB_TOKEN`.
pub(crate) fn github_token() -> Option<String> {
    non_empty("GITHUB_TOKEN")
}

/// Whether dcx runs in a GitHub Actions job (`GITHUB_ACTIONS=true`).
pub(crate) fn github_actions() -> bool {
    non_empty("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// `GITHUB_STEP_SUMMARY`: the job summary file.
pub(crate) fn github_step_summary() -> Option<String> {
    non_empty("GITHUB_STEP_SUMMARY")
}

/// A variable that is set, UTF-8 and not empty.
#[allow(clippy::disallowed_methods)] // This layer reads the environment.
pub(super) fn non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
