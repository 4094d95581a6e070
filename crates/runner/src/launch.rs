//! Handing the process over to another program with `execve`.
//!
//! `exec`, `shell` and plugins do not start a child: the program replaces
//! the runner in the same process, so it receives signals directly (`docker
//! stop` reaches it, not a parent that might ignore it) and its exit status
//! is the container's. The environment passes unchanged.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::error::RunnerError;

/// A program to replace the runner with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// The program: a path, or a name looked up in `$PATH`.
    pub program: OsString,
    /// Its arguments (not including `argv[0]`).
    pub args: Vec<OsString>,
}

impl ExecRequest {
    /// Runs `program` with `args`.
    pub fn new(program: impl Into<OsString>, args: Vec<OsString>) -> Self {
        Self {
            program: program.into(),
            args,
        }
    }

    /// Replaces the current process with the program. Returns only if that
    /// fails, with the error to report: [`RunnerError::ProgramNotFound`]
    /// (exit 127) when there is no such program, otherwise
    /// [`RunnerError::CannotExecute`] (exit 126: not executable, not a
    /// file, or a missing `#!` interpreter), as a POSIX shell does.
    pub fn replace_process(self) -> RunnerError {
        let error = Command::new(&self.program).args(&self.args).exec();
        failure(&self.program, error)
    }
}

/// The runner error for an `execve` that failed with `error`.
fn failure(program: &OsString, error: io::Error) -> RunnerError {
    // A program named with a `/` is not looked up in `$PATH`.
    let is_path = program.as_bytes().contains(&b'/');
    let exists = is_path && Path::new(program).symlink_metadata().is_ok();
    let program = program.to_string_lossy().into_owned();
    match error.kind() {
        // The kernel says ENOENT both for a missing program and for an
        // existing script whose `#!` interpreter (or an ELF file whose
        // loader) is missing: a plugin with a bad shebang is not "not found".
        io::ErrorKind::NotFound if exists => RunnerError::CannotExecute {
            program,
            source: io::Error::new(
                io::ErrorKind::NotFound,
                "its interpreter (the #! line, or the ELF loader) does not exist",
            ),
        },
        io::ErrorKind::NotFound => RunnerError::ProgramNotFound { program },
        _ => RunnerError::CannotExecute {
            program,
            source: error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_to_shell_exit_statuses() {
        let missing = failure(&"nonexistent".into(), io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(missing.exit_code(), 127);
        assert_eq!(missing.to_string(), "exec: nonexistent: not found");

        let bad_interpreter = failure(&"/bin/sh".into(), io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(bad_interpreter.exit_code(), 126);
        assert_eq!(
            bad_interpreter.to_string(),
            "exec: /bin/sh: cannot execute: its interpreter (the #! line, or the ELF loader) does not exist"
        );

        let denied = failure(
            &"/workspace/script".into(),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(denied.exit_code(), 126);
        assert_eq!(
            denied.to_string(),
            "exec: /workspace/script: cannot execute: permission denied"
        );
    }
}
