//! `cargo xtask bench <target>`: wall-clock benchmarks of dcx's binaries
//! against a baseline, run side by side on the same machine.
//!
//! Processes are measured interleaved — one run of each command per round,
//! the order rotating — so a burst of load from the neighbours of a shared
//! machine hits every command alike; the medians and their ratios to the
//! baseline are what is compared. Results go to stdout (record them in
//! docs/PERFORMANCE.md); the exit status is 1 when a target is missed.

mod bundle;
mod ingest;
mod runner;
mod runs;

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// What to benchmark.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Target {
    /// `runner help` and `runner info` against `/bin/true`
    /// (target: within 3x).
    Runner,
    /// `dcx status ingest`: 1,000 lanes over a loopback server adding 50 ms
    /// per request (target: within 1.25x of the ideal), and 10,000 lanes
    /// from local files (targets: under 1 s, under 100 MiB). Fixed rounds;
    /// `--iterations` does not apply.
    Ingest,
    /// `dcx bundle build` of a 20,000-file, 200 MiB base with 2,000 overlay
    /// operations against the same build with GNU tools (targets: at most
    /// 0.5x the GNU wall time, under 100 MiB, deterministic). Three rounds;
    /// `--iterations` does not apply.
    Bundle,
    /// The run-artifact commands over 1,000 products x 100 runs: `dash
    /// render` (target under 0.5 s), `runs gc --dry-run` (under 1 s), and
    /// `runs record`'s overhead over the bare command (under 20 ms). Fixed
    /// rounds; `--iterations` does not apply.
    Runs,
}

/// `cargo xtask bench` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// What to benchmark.
    target: Target,
    /// Measured rounds (each runs every command once), after the warm-up.
    #[arg(long, default_value_t = 1000)]
    iterations: usize,
}

pub(crate) fn run(root: &Path, args: &BenchArgs) -> ExitCode {
    let result = match args.target {
        Target::Runner => runner::run(root, args.iterations),
        Target::Ingest => ingest::run(),
        Target::Runs => runs::run(),
        Target::Bundle => bundle::run(root, 3),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// One command under measurement.
pub(crate) struct Subject {
    /// How the table names it.
    pub(crate) label: String,
    /// The process to start; stdio is discarded.
    pub(crate) command: Command,
}

/// Wall times of every measured run of each subject.
pub(crate) struct Samples {
    pub(crate) label: String,
    pub(crate) times: Vec<Duration>,
}

impl Samples {
    /// The `q`-quantile (0.5 is the median), nearest rank.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort_unstable();
        let last = sorted.len().saturating_sub(1);
        // Nearest rank: a quantile of measured values, never an average of
        // two, so the figures are times that really happened.
        let rank = ((last as f64) * q).round() as usize;
        sorted.get(rank.min(last)).copied().unwrap_or_default()
    }
}

/// Runs every subject once per round, `warmup` rounds unmeasured and then
/// `iterations` measured, rotating the order each round.
///
/// # Errors
///
/// A message naming the subject when one cannot start or exits non-zero: a
/// benchmark of a failing command measures nothing useful.
pub(crate) fn measure_interleaved(
    subjects: &mut [Subject],
    warmup: usize,
    iterations: usize,
) -> Result<Vec<Samples>, String> {
    let mut times: Vec<Vec<Duration>> = subjects.iter().map(|_| Vec::with_capacity(iterations)).collect();
    let count = subjects.len();
    for round in 0..warmup + iterations {
        for offset in 0..count {
            let index = (round + offset) % count;
            let subject = &mut subjects[index];
            let elapsed = time_once(subject)?;
            if round >= warmup {
                times[index].push(elapsed);
            }
        }
    }
    Ok(subjects
        .iter()
        .zip(times)
        .map(|(subject, times)| Samples {
            label: subject.label.clone(),
            times,
        })
        .collect())
}

fn time_once(subject: &mut Subject) -> Result<Duration, String> {
    let started = Instant::now();
    let status = subject
        .command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot start {}: {e}", subject.label))?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(format!(
            "{} failed ({status}); run it by hand to see why",
            subject.label
        ));
    }
    Ok(elapsed)
}

/// Formats a duration in milliseconds with three decimals.
pub(crate) fn millis(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank_values() {
        let samples = Samples {
            label: "x".to_owned(),
            times: [5, 1, 4, 2, 3].map(Duration::from_millis).to_vec(),
        };
        assert_eq!(samples.quantile(0.5), Duration::from_millis(3));
        assert_eq!(samples.quantile(0.0), Duration::from_millis(1));
        assert_eq!(samples.quantile(1.0), Duration::from_millis(5));
        assert_eq!(samples.quantile(0.9), Duration::from_millis(5));
    }

    #[test]
    fn interleaving_measures_every_subject_each_round() {
        let subject = |label: &str| Subject {
            label: label.to_owned(),
            command: Command::new("true"),
        };
        let mut subjects = [subject("a"), subject("b")];
        let samples = measure_interleaved(&mut subjects, 2, 5).expect("true succeeds");
        assert_eq!(samples.iter().map(|s| s.times.len()).collect::<Vec<_>>(), [5, 5]);

        let mut failing = [Subject {
            label: "false".to_owned(),
            command: Command::new("false"),
        }];
        let error = measure_interleaved(&mut failing, 0, 1)
            .err()
            .expect("false fails");
        assert!(error.starts_with("false failed ("), "{error}");
    }
}
