//! Where command-line arguments become settings.
//!
//! The clap structs of each command family (`status.rs`, `bundle.rs`, …)
//! say which flags a command takes; what several commands share lives
//! here, each flag with the one rule that turns it into a setting:
//!
//! - [`now`]: `--now` ([`now::NowArg`], flattened into every command that
//!   reads the clock) and the one decision of what time it is
//!   ([`now::WallClock`]: `--now`, else `SOURCE_DATE_EPOCH` where the
//!   command honours it, else the system clock);
//! - [`size`]: byte sizes (`16MiB`) of the resource-cap flags, and the
//!   global `--max-document-bytes` that becomes the `LoadLimits` every
//!   command passes down ([`size::DocumentLimitsArg`]);
//! - [`duration`]: durations (`30s`, `72h`) of the status exchange's flags;
//! - [`env`](mod@env): the environment variables dcx reads (`PATH`, `GITHUB_*`,
//!   `SOURCE_DATE_EPOCH`).
//!
//! This is the only part of dcx that reads the clock or the environment
//! (the workspace's `clippy.toml` bans both elsewhere): libraries take
//! settings, never the process's outside world.

pub(crate) mod duration;
pub(crate) mod env;
pub(crate) mod now;
pub(crate) mod size;
