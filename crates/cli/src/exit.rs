//! dcx's exit statuses: the one table every command picks from.
//!
//! | status | code | documented in |
//! |---|---|---|
//! | [`Exit::Success`] | 0 | README "Exit codes" |
//! | [`Exit::Negative`]: the command ran and its verdict is negative (invalid document, failed check or certification, checksum mismatch, freshness breach with `--enforce-freshness`, a failed run) | 1 | README "Exit codes" |
//! | [`Exit::Usage`]: usage or configuration error (bad flags, an unreadable or invalid registry, lock or overlay, an artifact that cannot be written, stdout on a full disk) | 2 | README "Exit codes" |
//! | [`Exit::KillSwitch`]: `runs record` refused or stopped by the kill switch | 3 | docs/RUN_ARTIFACTS.md |
//! | [`Exit::Signal`]: stopped by signal N (129 SIGHUP, 130 SIGINT, 143 SIGTERM) | 128 + N | docs/RUN_ARTIFACTS.md, docs/STATUS_EXCHANGE.md, docs/CERTIFICATION.md |
//! | [`Exit::BROKEN_PIPE`]: the reader of stdout went away (see `output`) | 141 (128 + SIGPIPE) | `output` |
//!
//! A shell reports 128 + N for a program killed by signal N; dcx exits
//! with the same code when it stops on a signal it caught, after it has
//! written what its contract says, so callers cannot tell the two apart
//! (and need not).

use std::process::ExitCode;

/// SIGHUP, SIGINT, SIGPIPE and SIGTERM: their numbers are the same on
/// every Unix dcx runs on.
const SIGINT: i32 = 2;
const SIGPIPE: i32 = 13;
const SIGTERM: i32 = 15;

/// How a dcx command ends; [`Exit::code`] is its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: the command did what it was asked and the verdict, if any, is
    /// positive.
    Success,
    /// 1: the command ran and its verdict is negative.
    Negative,
    /// 2: usage or configuration error; the command did not do its work.
    Usage,
    /// 3: `runs record` was refused or stopped by the product's kill switch.
    KillSwitch,
    /// 128 + N: stopped by signal N (or, as [`Exit::INTERRUPTED`], by a
    /// cancel without a signal).
    Signal(i32),
}

impl Exit {
    /// The reader of stdout went away (EPIPE): what a shell reports for a
    /// tool killed by SIGPIPE.
    pub(crate) const BROKEN_PIPE: Exit = Exit::Signal(SIGPIPE);
    /// A run cancelled otherwise than by a signal ends as Ctrl-C would.
    pub(crate) const INTERRUPTED: Exit = Exit::Signal(SIGINT);
    /// A cancel whose reason is not a signal ends as SIGTERM would (the
    /// status exchange's choice: "stopped", not "interrupted by a person").
    pub(crate) const STOPPED: Exit = Exit::Signal(SIGTERM);

    /// The exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Negative => 1,
            Exit::Usage => 2,
            Exit::KillSwitch => 3,
            Exit::Signal(signal) => dcx_sys::exit_code_for_signal(signal),
        }
    }

    /// The status of clap's exit code: 0 for `--help` and `--version`, 2
    /// (usage) for everything else it refuses.
    pub(crate) fn of_clap(code: i32) -> Exit {
        if code == 0 { Exit::Success } else { Exit::Usage }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every status, with the code the documentation promises.
    const TABLE: [(Exit, u8); 8] = [
        (Exit::Success, 0),
        (Exit::Negative, 1),
        (Exit::Usage, 2),
        (Exit::KillSwitch, 3),
        (Exit::Signal(1), 129),
        (Exit::INTERRUPTED, 130),
        (Exit::BROKEN_PIPE, 141),
        (Exit::STOPPED, 143),
    ];

    #[test]
    fn exit_codes_follow_the_table() {
        for (exit, code) in TABLE {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
        // Exhaustive: a new status must be added to the table (and the docs).
        for (exit, _) in TABLE {
            match exit {
                Exit::Success | Exit::Negative | Exit::Usage | Exit::KillSwitch | Exit::Signal(_) => {}
            }
        }
        let mut codes: Vec<u8> = TABLE.iter().map(|(_, code)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len(), "two statuses share a code");
        // The fixed codes stay below the range a shell uses for signals.
        for exit in [Exit::Success, Exit::Negative, Exit::Usage, Exit::KillSwitch] {
            assert!(exit.code() < 128, "{exit:?}");
        }
        assert_eq!(Exit::of_clap(0), Exit::Success);
        assert_eq!(Exit::of_clap(2), Exit::Usage);
    }

    #[test]
    fn the_documented_codes_are_the_table() {
        let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let readme = squash(include_str!("../../../README.md"));
        for promise in [
            "0 success",
            "1 the command ran and the verdict is negative",
            "2 usage or configuration error",
        ] {
            assert!(readme.contains(promise), "README no longer says {promise:?}");
        }
        let runs = squash(include_str!("../../../docs/RUN_ARTIFACTS.md"));
        for promise in [
            "0 success, 1 failed",
            "130 / 143 / 129 cancelled by SIGINT / SIGTERM / SIGHUP",
            "3 refused or stopped by the kill switch",
            "2 usage or configuration error",
        ] {
            assert!(
                runs.contains(promise),
                "docs/RUN_ARTIFACTS.md no longer says {promise:?}"
            );
        }
    }
}
