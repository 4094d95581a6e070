//! `runner`: the entrypoint of runner container images. It decides with
//! [`dcx_runner::run`], then prints, or hands the process to a program with
//! `execve`, or reports the error; the exit statuses are in
//! [`dcx_runner::exit`] and docs/RUNNER.md.

use std::io::{self, Write};
use std::process::ExitCode;

use dcx_runner::{Outcome, Paths, ROOT_OVERRIDE_VAR, RunnerError, SystemHost, exit};

// The binary reads its root override from the environment and hands the
// library a `Paths`; clippy.toml bans that read in the library.
#[allow(clippy::disallowed_methods)]
fn main() -> ExitCode {
    let decision = Paths::from_override(std::env::var_os(ROOT_OVERRIDE_VAR))
        .and_then(|paths| dcx_runner::run(std::env::args_os().skip(1), &paths, &SystemHost));
    match decision {
        Ok(Outcome::Print(text)) => print(&text),
        // Returns only when the program could not be started.
        Ok(Outcome::Exec(request)) => fail(&request.replace_process()),
        Err(error) => fail(&error),
    }
}

fn print(text: &str) -> ExitCode {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // `runner help | head -1`: the reader has all it wanted.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(io::stderr(), "ERROR: cannot write output: {error}");
            ExitCode::from(exit::OUTPUT)
        }
    }
}

/// Reports `error` on stderr and exits with its status. A stderr that
/// cannot be written (closed pipe, full disk) changes nothing: the status
/// is the report that still reaches the caller, so it must not turn into a
/// panic's 101.
fn fail(error: &RunnerError) -> ExitCode {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "ERROR: {error}");
    if let Some(hint) = error.hint() {
        let _ = writeln!(stderr, "hint: {hint}");
    }
    ExitCode::from(error.exit_code())
}
