//! Standard output and error that never panic.
//!
//! `println!` panics when a write fails: `dcx … | head -1` closing the pipe,
//! or stdout sent to a full disk. Every line dcx prints goes through the
//! macros here instead. The first failure is remembered and later output is
//! dropped, so the command still finishes its work (its artifacts are whole
//! and its locks released in order); then [`finish`] turns the failure into
//! the exit code:
//!
//! | what happened | exit code |
//! |---|---|
//! | the reader closed the pipe (EPIPE) | the command's own code when it failed, else 141 (128 + SIGPIPE, what a shell reports for a tool killed by SIGPIPE), with no message |
//! | any other write error (ENOSPC, EIO) | 2, with one line on stderr when stderr still works |

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Mutex;

use crate::exit::Exit;

/// The first failed write, and on which stream.
static FAILURE: Mutex<Option<(&'static str, io::Error)>> = Mutex::new(None);

fn failed() -> bool {
    FAILURE.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

fn remember(stream: &'static str, error: io::Error) {
    let mut failure = FAILURE.lock().unwrap_or_else(|e| e.into_inner());
    if failure.is_none() {
        *failure = Some((stream, error));
    }
}

/// Writes to stdout (what `out!`/`outln!` expand to).
pub(crate) fn stdout(args: fmt::Arguments<'_>) {
    if failed() {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        remember("standard output", e);
    }
}

/// Writes to stderr (what `errln!` expands to).
pub(crate) fn stderr(args: fmt::Arguments<'_>) {
    if failed() {
        return;
    }
    if let Err(e) = io::stderr().lock().write_fmt(args) {
        remember("standard error", e);
    }
}

/// The exit code of a command that would exit with `code`, given what
/// happened to its output.
pub(crate) fn finish(code: Exit) -> ExitCode {
    if !failed() {
        // Output still buffered (none is, after `stdout`'s flush) may fail now.
        if let Err(e) = io::stdout().lock().flush() {
            remember("standard output", e);
        }
    }
    let failure = FAILURE.lock().unwrap_or_else(|e| e.into_inner()).take();
    let exit = match failure {
        None => code,
        Some((_, e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            if code == Exit::Success {
                Exit::BROKEN_PIPE
            } else {
                code
            }
        }
        Some((stream, e)) => {
            let _ = writeln!(io::stderr(), "error: cannot write to {stream}: {e}");
            Exit::Usage
        }
    };
    exit.into()
}

/// `print!` that never panics.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::stdout(format_args!($($arg)*)) };
}

/// `println!` that never panics.
macro_rules! outln {
    () => { $crate::output::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    () => { $crate::output::stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

// After the macros, which it uses.
/// Prints what clap has to say instead of running a command (help,
/// version, a usage error) like any other output, in colour on a terminal;
/// the status clap gives it.
pub(crate) fn clap_error(error: &clap::Error) -> Exit {
    use std::io::IsTerminal;
    let rendered = error.render();
    if error.use_stderr() {
        if io::stderr().is_terminal() {
            errln!("{}", rendered.ansi());
        } else {
            errln!("{rendered}");
        }
    } else if io::stdout().is_terminal() {
        out!("{}", rendered.ansi());
    } else {
        out!("{rendered}");
    }
    Exit::of_clap(error.exit_code())
}
