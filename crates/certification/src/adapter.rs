//! Finding a lane's adapter: the `--adapter` command, else the registry's
//! `entrypoints.public_adapter`, looked up like a shell would.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

/// An adapter program that exists and may be executed.
#[derive(Debug, Clone)]
pub(crate) struct Adapter {
    /// The command as written (`dc-runner`, `./bin/adapter`): what details
    /// and the Markdown show, so they do not depend on the machine.
    pub(crate) command: String,
    /// The file to execute.
    pub(crate) program: PathBuf,
}

/// Why no adapter can be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// No such file (a path), or no directory of `PATH` holds the name.
    NotFound {
        /// The command as written.
        command: String,
        /// Whether `PATH` was searched (a bare name) or a path was given.
        searched_path: bool,
    },
    /// The file exists but is not an executable file.
    NotExecutable {
        /// The command as written.
        command: String,
        /// The file found.
        program: PathBuf,
    },
}

impl Unavailable {
    /// The exit code a POSIX shell reports for the same failure (127 not
    /// found, 126 not executable), recorded in the check row.
    pub(crate) fn exit_code(&self) -> i64 {
        match self {
            Unavailable::NotFound { .. } => 127,
            Unavailable::NotExecutable { .. } => 126,
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::NotFound {
                command,
                searched_path: true,
            } => write!(f, "adapter `{command}` not found on PATH"),
            Unavailable::NotFound { command, .. } => write!(f, "adapter `{command}` not found"),
            Unavailable::NotExecutable { command, program } if Path::new(command) == program => {
                write!(f, "adapter `{command}` is not an executable file")
            }
            Unavailable::NotExecutable { command, program } => write!(
                f,
                "adapter `{command}` ({}) is not an executable file",
                program.display()
            ),
        }
    }
}

/// Resolves `command`: a command containing a `/` is a path (relative to
/// the working directory); a bare name is searched in the directories of
/// `search_path` (the value of `PATH`, passed in by the binary), in order.
/// Empty `PATH` entries, which POSIX reads as the working directory, are
/// skipped: certification never runs a program from `.` by accident.
pub(crate) fn resolve(command: &str, search_path: Option<&OsStr>) -> Result<Adapter, Unavailable> {
    let found = |program: PathBuf| Adapter {
        command: command.to_owned(),
        program,
    };
    if command.contains('/') || command.contains(std::path::MAIN_SEPARATOR) {
        let program = PathBuf::from(command);
        return match Candidate::of(&program) {
            Candidate::Executable => Ok(found(program)),
            Candidate::NotExecutable => Err(Unavailable::NotExecutable {
                command: command.to_owned(),
                program,
            }),
            Candidate::Missing => Err(Unavailable::NotFound {
                command: command.to_owned(),
                searched_path: false,
            }),
        };
    }
    let mut first_not_executable = None;
    let directories = search_path.map(std::env::split_paths).into_iter().flatten();
    for directory in directories.filter(|d| !d.as_os_str().is_empty()) {
        let program = directory.join(command);
        match Candidate::of(&program) {
            Candidate::Executable => return Ok(found(program)),
            Candidate::NotExecutable => {
                first_not_executable.get_or_insert(program);
            }
            Candidate::Missing => {}
        }
    }
    Err(match first_not_executable {
        Some(program) => Unavailable::NotExecutable {
            command: command.to_owned(),
            program,
        },
        None => Unavailable::NotFound {
            command: command.to_owned(),
            searched_path: true,
        },
    })
}

enum Candidate {
    Executable,
    NotExecutable,
    Missing,
}

impl Candidate {
    fn of(path: &Path) -> Self {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() && is_executable(&meta) => Candidate::Executable,
            Ok(_) => Candidate::NotExecutable,
            Err(_) => Candidate::Missing,
        }
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    true
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn file(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn a_bare_name_is_searched_on_path_in_order() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        file(first.path(), "dc-runner", 0o644);
        let runnable = file(second.path(), "dc-runner", 0o755);
        let path = std::env::join_paths([first.path(), second.path()]).unwrap();

        let adapter = resolve("dc-runner", Some(&path)).unwrap();
        assert_eq!(adapter.program, runnable);
        assert_eq!(adapter.command, "dc-runner");
    }

    #[test]
    fn a_name_found_only_without_exec_bits_is_not_executable() {
        let dir = tempfile::tempdir().unwrap();
        let program = file(dir.path(), "dc-runner", 0o644);
        let err = resolve("dc-runner", Some(dir.path().as_os_str())).unwrap_err();
        assert_eq!(
            err,
            Unavailable::NotExecutable {
                command: "dc-runner".to_owned(),
                program: program.clone(),
            }
        );
        assert_eq!(err.exit_code(), 126);
        assert_eq!(
            err.to_string(),
            format!(
                "adapter `dc-runner` ({}) is not an executable file",
                program.display()
            )
        );
    }

    #[test]
    fn a_missing_name_or_path_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve("dc-runner", Some(dir.path().as_os_str())).unwrap_err();
        assert_eq!(err.to_string(), "adapter `dc-runner` not found on PATH");
        assert_eq!(err.exit_code(), 127);
        assert_eq!(
            resolve("dc-runner", None).unwrap_err().to_string(),
            "adapter `dc-runner` not found on PATH"
        );
        let missing = dir.path().join("nope");
        let command = missing.display().to_string();
        assert_eq!(
            resolve(&command, None).unwrap_err().to_string(),
            format!("adapter `{command}` not found")
        );
    }

    #[test]
    fn a_path_is_used_as_given_and_directories_are_not_programs() {
        let dir = tempfile::tempdir().unwrap();
        let program = file(dir.path(), "adapter.sh", 0o755);
        let command = program.display().to_string();
        assert_eq!(resolve(&command, None).unwrap().program, program);

        let command = dir.path().display().to_string();
        assert_eq!(
            resolve(&command, None).unwrap_err().to_string(),
            format!("adapter `{command}` is not an executable file")
        );
    }

    #[test]
    fn empty_path_entries_never_mean_the_working_directory() {
        // "" in PATH is POSIX for ".". Tests run in the crate directory,
        // which holds a Cargo.toml: found there, it would be reported as
        // not executable instead of not found.
        let err = resolve("Cargo.toml", Some(OsStr::new(""))).unwrap_err();
        assert_eq!(err.to_string(), "adapter `Cargo.toml` not found on PATH");
    }
}
