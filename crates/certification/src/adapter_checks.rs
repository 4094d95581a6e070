//! The checks that run the lane's adapter: `command/command.<name>` for
//! each `command_contract_subset` entry and
//! `governance-sync/governance.<check>` for each required core check.
//!
//! | outcome | status | `exit_code` |
//! |---|---|---|
//! | exited with an expected code | pass | the code |
//! | exited with another code | fail | the code |
//! | killed by signal N | fail | 128 + N |
//! | timed out (process group killed) | fail | 124 |
//! | adapter not found | fail, or skip for a compatibility lane | 127 (skip: 0) |
//! | adapter not executable, or cannot start | fail, or skip for a compatibility lane | 126 (skip: 0) |
//!
//! The codes for failures without an exit status of their own are the ones
//! a POSIX shell and `timeout(1)` report for the same failures.
//!
//! An invocation stopped because dcx was cancelled (SIGINT, SIGTERM) is no
//! row at all: it is [`CertifyError::Cancelled`], and no certificate is
//! written.

use std::time::Duration;

use dcx_contracts::certification::{CertificateCheck, CheckStatus, CommandContract};
use dcx_contracts::status::LaneClass;
use dcx_sys::{Cancel, Finished, Termination, signal_name};

use crate::adapter::{Adapter, Unavailable};
use crate::checks::{self, COMMAND, GOVERNANCE_SYNC, command_line};
use crate::duration::format_duration;
use crate::error::CertifyError;
use crate::evidence::EvidenceDir;
use crate::process;

/// Exit code recorded for a timeout (as `timeout(1)` reports it).
const TIMED_OUT: i64 = 124;

/// Runs adapter checks for one lane.
pub(crate) struct AdapterChecks<'a> {
    /// The adapter, or why there is none to run.
    pub(crate) adapter: Result<Adapter, Unavailable>,
    /// Decides whether an adapter that cannot run fails or skips a check.
    pub(crate) class: LaneClass,
    /// How long one invocation may take.
    pub(crate) timeout: Duration,
    /// Where the logs go.
    pub(crate) evidence: &'a mut EvidenceDir,
    /// Stops the invocation in flight and every later one.
    pub(crate) cancel: &'a Cancel,
}

/// One invocation to make and how to judge it.
struct Invocation {
    group: &'static str,
    id: String,
    args: Vec<String>,
    /// Accepted exit codes, sorted, never empty.
    expected: Vec<i64>,
}

/// What an invocation came to, before it becomes a row.
struct Outcome {
    status: CheckStatus,
    exit_code: i64,
    detail: String,
    footer: String,
    duration_ms: Option<u64>,
}

impl AdapterChecks<'_> {
    /// `command.<name>`: runs `adapter <name> <args…>`; passes iff the exit
    /// code is in `expect_exit` (`[0]` when empty).
    pub(crate) fn command(&mut self, contract: &CommandContract) -> Result<CertificateCheck, CertifyError> {
        let mut expected = contract.expect_exit.clone();
        expected.sort_unstable();
        expected.dedup();
        if expected.is_empty() {
            expected.push(0);
        }
        let name = contract.name.trim();
        let mut args = vec![name.to_owned()];
        args.extend(contract.args.iter().cloned());
        self.run(Invocation {
            group: COMMAND,
            id: checks::command_id(name),
            args,
            expected,
        })
    }

    /// `governance.<check>`: runs `adapter governance --check-id <check>`;
    /// passes iff it exits 0.
    pub(crate) fn governance(&mut self, check: &str) -> Result<CertificateCheck, CertifyError> {
        self.run(Invocation {
            group: GOVERNANCE_SYNC,
            id: checks::governance_id(check),
            args: ["governance", "--check-id", check].map(str::to_owned).to_vec(),
            expected: vec![0],
        })
    }

    fn run(&mut self, invocation: Invocation) -> Result<CertificateCheck, CertifyError> {
        if let Some(reason) = self.cancel.reason() {
            return Err(CertifyError::Cancelled { reason });
        }
        let adapter = match &self.adapter {
            Ok(adapter) => adapter,
            Err(unavailable) => return Ok(self.cannot_run(&invocation, unavailable)),
        };
        let line = command_line(&adapter.command, &invocation.args);
        let header = format!(
            "{} (timeout {})",
            command_line(&adapter.program.display().to_string(), &invocation.args),
            format_duration(self.timeout)
        );
        let log = self.evidence.create_log(&invocation.id, &header)?;
        let ran = process::run(
            &adapter.program,
            &invocation.args,
            self.timeout,
            &log.file,
            self.cancel,
        );
        let outcome = match ran {
            Ok(Finished {
                termination: Termination::Cancelled(reason),
                ..
            }) => return Err(CertifyError::Cancelled { reason }),
            Ok(finished) => {
                let mut outcome = self.judge(&line, &invocation.expected, &finished.termination);
                outcome.duration_ms = Some(u64::try_from(finished.elapsed.as_millis()).unwrap_or(u64::MAX));
                if finished.stragglers > 0 {
                    // The row stays what the adapter's own ending earned;
                    // the log says what was cleaned up after it.
                    outcome.footer.push_str(&format!(
                        "; {} process(es) it left running in its group were stopped",
                        finished.stragglers
                    ));
                }
                outcome
            }
            Err(error) => {
                let exit_code = if error.kind() == std::io::ErrorKind::NotFound {
                    127
                } else {
                    126
                };
                let cause = format!("cannot start `{line}`: {error}");
                let footer = cause.clone();
                let (status, exit_code, detail) = self.unrunnable(exit_code, cause);
                Outcome {
                    status,
                    exit_code,
                    detail,
                    footer,
                    duration_ms: None,
                }
            }
        };
        let evidence_ref = log.evidence_ref.clone();
        log.finish(&outcome.footer)?;
        let mut row = checks::row(
            invocation.group,
            invocation.id,
            outcome.status,
            outcome.exit_code,
            outcome.detail,
        );
        row.duration_ms = outcome.duration_ms;
        row.evidence_ref = Some(evidence_ref);
        Ok(row)
    }

    fn judge(&self, line: &str, expected: &[i64], termination: &Termination) -> Outcome {
        let (status, exit_code, detail, footer) = match *termination {
            Termination::Exited(code) if expected.contains(&i64::from(code)) => (
                CheckStatus::Pass,
                i64::from(code),
                format!("`{line}` exited {code}, as expected ({})", either(expected)),
                format!("exited with code {code}"),
            ),
            Termination::Exited(code) => (
                CheckStatus::Fail,
                i64::from(code),
                format!("`{line}` exited {code}; expected {}", either(expected)),
                format!("exited with code {code}"),
            ),
            Termination::Signaled(signal) => {
                let name = signal_name(signal).map(|n| format!(" ({n})")).unwrap_or_default();
                (
                    CheckStatus::Fail,
                    128 + i64::from(signal),
                    format!("`{line}` was killed by signal {signal}{name}"),
                    format!("killed by signal {signal}{name}"),
                )
            }
            Termination::TimedOut => {
                let timeout = format_duration(self.timeout);
                (
                    CheckStatus::Fail,
                    TIMED_OUT,
                    format!("`{line}` timed out after {timeout}; its process group was killed"),
                    format!("timed out after {timeout}; process group killed"),
                )
            }
            // `run` turns a cancellation into an error before judging; if
            // one got here anyway, it is no pass.
            Termination::Cancelled(_) => (
                CheckStatus::Fail,
                i64::from(termination.exit_code()),
                format!("`{line}` was stopped: dcx was cancelled"),
                "stopped: dcx was cancelled".to_owned(),
            ),
        };
        Outcome {
            status,
            exit_code,
            detail,
            footer,
            duration_ms: None,
        }
    }

    /// A row for an invocation whose adapter cannot be found or run.
    fn cannot_run(&self, invocation: &Invocation, unavailable: &Unavailable) -> CertificateCheck {
        let line = match unavailable {
            Unavailable::NotFound { command, .. } | Unavailable::NotExecutable { command, .. } => {
                command_line(command, &invocation.args)
            }
        };
        let cause = format!("cannot run `{line}`: {unavailable}");
        let (status, exit_code, detail) = self.unrunnable(unavailable.exit_code(), cause);
        checks::row(invocation.group, invocation.id.clone(), status, exit_code, detail)
    }

    /// Status, exit code and detail when nothing could run: a required lane
    /// fails, a compatibility lane skips (its adapter may legitimately be
    /// absent from the machine certifying it).
    fn unrunnable(&self, exit_code: i64, cause: String) -> (CheckStatus, i64, String) {
        match self.class {
            LaneClass::Required => (CheckStatus::Fail, exit_code, cause),
            LaneClass::CompatibilityNonBlocking => (
                CheckStatus::Skip,
                0,
                format!(
                    "skipped: {cause} (a compatibility lane is not failed for an adapter that cannot run)"
                ),
            ),
        }
    }
}

/// `0`, `0 or 1`, `0, 1 or 2`.
fn either(codes: &[i64]) -> String {
    match codes {
        [] => String::new(),
        [only] => only.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(i64::to_string).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_codes_read_as_a_sentence() {
        assert_eq!(either(&[0]), "0");
        assert_eq!(either(&[0, 1]), "0 or 1");
        assert_eq!(either(&[0, 1, 2]), "0, 1 or 2");
    }
}
