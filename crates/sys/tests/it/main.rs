//! dcx-sys against real processes, real signals and real files.

// Tests read their own knobs (seeds, tool paths, CI switches) from the
// environment: clippy.toml's clock-and-environment ban is for libraries.
#![allow(clippy::disallowed_methods)]
#![cfg(unix)]

mod leftovers;
mod process;
mod unsafe_code;

use std::path::Path;
use std::time::{Duration, Instant};

/// Whether `pid` is alive (a zombie counts as dead: it only waits for its
/// parent or init to reap it).
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
    })
}

/// Waits (bounded) until `pid` is dead; signals are asynchronous.
pub(crate) fn dies_within(pid: u32, within: Duration) -> bool {
    let until = Instant::now() + within;
    while alive(pid) {
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Reads a pid a script wrote, waiting (bounded) for the file.
pub(crate) fn read_pid(path: &Path) -> u32 {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < until, "{} never written", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}
