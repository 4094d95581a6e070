//! The progress line on stderr: the one adapter from the libraries'
//! `Progress` traits to indicatif.
//!
//! One bar at a time, drawn only when stderr is a terminal (a log or a pipe
//! gets nothing but the lines the commands print). A new bar replaces the
//! one before it, and [`ProgressLine::clear`] removes the last, so no bar
//! is left behind above a command's own output:
//!
//! - `dcx status ingest`: a spinner while the registry loads, then a bar of
//!   lanes ([`dcx_status_ingest::Progress`]);
//! - `dcx bundle …`: a bar of bytes per stage, a spinner when the size is
//!   not known ([`dcx_bundle_overlay::Progress`]).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use dcx_bundle_overlay::Stage;
use dcx_contracts::status::FreshnessState;
use dcx_status_ingest::freshness_name;
use indicatif::{ProgressBar, ProgressStyle};

/// How often a spinner turns, so that a silent wait still looks alive.
const TICK: Duration = Duration::from_millis(120);

/// The line of bars on stderr (nothing when stderr is not a terminal).
#[derive(Debug)]
pub(crate) struct ProgressLine {
    /// `None` off a terminal; else the bar drawn now, if any.
    bar: Option<Mutex<Option<ProgressBar>>>,
}

impl ProgressLine {
    /// Bars on stderr, if it is a terminal.
    pub(crate) fn on_stderr() -> Self {
        Self {
            bar: std::io::stderr().is_terminal().then(|| Mutex::new(None)),
        }
    }

    /// A spinner saying `message`, until the next bar.
    pub(crate) fn spinner(&self, message: &'static str) {
        if self.bar.is_some() {
            self.show(ProgressBar::new_spinner().with_message(message), None);
        }
    }

    /// Removes the bar drawn now.
    pub(crate) fn clear(&self) {
        if let Some(previous) = self.take() {
            previous.finish_and_clear();
        }
    }

    /// Draws `bar` (styled by `template`, when given) instead of the one
    /// drawn now.
    fn show(&self, bar: ProgressBar, template: Option<&str>) {
        let Some(current) = &self.bar else {
            return;
        };
        if let Some(template) = template {
            let style = ProgressStyle::with_template(template)
                .map(|style| style.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
        }
        bar.enable_steady_tick(TICK);
        if let Ok(mut current) = current.lock()
            && let Some(previous) = current.replace(bar)
        {
            previous.finish_and_clear();
        }
    }

    /// Runs `update` on the bar drawn now, if any.
    fn update(&self, update: impl FnOnce(&ProgressBar)) {
        if let Some(current) = &self.bar
            && let Ok(current) = current.lock()
            && let Some(bar) = current.as_ref()
        {
            update(bar);
        }
    }

    fn take(&self) -> Option<ProgressBar> {
        self.bar.as_ref()?.lock().ok()?.take()
    }
}

impl dcx_status_ingest::Progress for ProgressLine {
    fn start(&self, lanes: usize) {
        // The registry is loaded: from the spinner to a bar of lanes.
        if self.bar.is_some() {
            self.show(
                ProgressBar::new(lanes as u64),
                Some("{spinner} ingest [{bar:30}] {pos}/{len} lanes  {msg}"),
            );
        }
    }

    fn lane_done(&self, runner_id: &str, freshness: FreshnessState) {
        self.update(|bar| {
            bar.set_message(format!("{runner_id}: {}", freshness_name(freshness)));
            bar.inc(1);
        });
    }
}

impl dcx_bundle_overlay::Progress for ProgressLine {
    fn start(&self, stage: Stage, total: Option<u64>) {
        if self.bar.is_none() {
            return;
        }
        let (bar, template) = match total {
            Some(total) => (
                ProgressBar::new(total),
                "{prefix:>8} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            ),
            None => (
                ProgressBar::new_spinner(),
                "{prefix:>8} {spinner} {bytes} {bytes_per_sec}",
            ),
        };
        bar.set_prefix(stage.label());
        self.show(bar, Some(template));
    }

    fn advance(&self, _: Stage, bytes: u64) {
        self.update(|bar| bar.inc(bytes));
    }

    fn finish(&self, _: Stage) {
        self.clear();
    }

    /// Said on a terminal or not: a command that waits must say why.
    fn waiting(&self, lock: &Path, holder: Option<u32>) {
        let holder = holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default();
        errln!(
            "waiting: {} is locked by another dcx process{holder}; continuing when it has finished",
            lock.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_a_terminal_nothing_is_drawn() {
        let line = ProgressLine { bar: None };
        line.spinner("loading");
        dcx_status_ingest::Progress::start(&line, 3);
        dcx_bundle_overlay::Progress::start(&line, Stage::Download, Some(10));
        assert!(line.take().is_none());
    }

    #[test]
    fn a_new_bar_replaces_the_one_before_and_clear_removes_it() {
        let line = ProgressLine {
            bar: Some(Mutex::new(None)),
        };
        line.spinner("loading the registry");
        dcx_status_ingest::Progress::start(&line, 3);
        dcx_status_ingest::Progress::lane_done(&line, "rust", FreshnessState::Fresh);
        let mut position = None;
        line.update(|bar| position = Some((bar.position(), bar.length())));
        assert_eq!(position, Some((1, Some(3))));
        line.clear();
        assert!(line.take().is_none());
    }
}
