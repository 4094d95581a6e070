//! Everything that stops the runner, with the exit status each one means.

use std::ffi::OsString;
use std::path::PathBuf;

use dcx_contracts::identity::IdentityError;
use dcx_contracts::printable::Printable;

use crate::paths::ROOT_OVERRIDE_VAR;

/// The runner's exit statuses. A program started by `exec`, `shell` or a
/// plugin replaces the runner, so its own status reaches the caller
/// unchanged; these are the statuses of the runner itself.
pub mod exit {
    /// The runner could not produce its own output: a document did not
    /// serialize, or stdout could not be written (other than a closed pipe).
    pub const OUTPUT: u8 = 1;
    /// The command was malformed: `exec` without a program, an unexpected
    /// argument, an unknown `--format`, `shell` without a terminal, an
    /// invalid `RUNNER_ROOT`.
    pub const USAGE: u8 = 2;
    /// The image breaks the platform contract: identity files missing or
    /// invalid, an unreadable plugin directory, no declared shell, or the
    /// runner runs as root.
    pub const CONTRACT: u8 = 3;
    /// Neither a core command nor a plugin of this image, or not a valid
    /// command name.
    pub const UNKNOWN_COMMAND: u8 = 4;
    /// The program exists but cannot be executed (permission, not a file,
    /// bad format), as in a POSIX shell.
    pub const CANNOT_EXECUTE: u8 = 126;
    /// The program does not exist, as in a POSIX shell.
    pub const NOT_FOUND: u8 = 127;
}

/// Why the runner stopped instead of doing what it was asked.
///
/// `Display` is the message after `ERROR: `; [`RunnerError::hint`] says
/// what to do about it and [`RunnerError::exit_code`] is the status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// The process runs as root (real or effective uid 0).
    #[error("runner must not run as root (uid 0)")]
    RunningAsRoot,
    /// A required identity file does not exist.
    #[error("missing {contract} ({})", path.display())]
    MissingIdentityFile {
        /// Which contract the file holds: `image contract`, `runtime contract`.
        contract: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// An identity file is unreadable or invalid (the message names the file
    /// and line).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The plugin directory exists but cannot be listed.
    #[error("cannot list the plugin directory {}: {source}", path.display())]
    PluginDirectory {
        /// The directory.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// `shell` was asked for but `runtime.env` declares no shell.
    #[error("{} declares no RUNTIME_SHELL", path.display())]
    ShellNotDeclared {
        /// The runtime.env file.
        path: PathBuf,
    },
    /// `RUNNER_ROOT` is set but is not an absolute path.
    #[error("{ROOT_OVERRIDE_VAR} must be an absolute path, got {:?}", value)]
    InvalidRootOverride {
        /// The value as set.
        value: OsString,
    },
    /// `exec` without a program.
    #[error("exec requires a command")]
    MissingProgram,
    /// A core command got an argument it does not take.
    #[error("{command}: unexpected argument '{}'", Printable(argument))]
    UnexpectedArgument {
        /// The core command.
        command: &'static str,
        /// The argument, as given.
        argument: String,
    },
    /// `--format` without a value.
    #[error("{command}: --format requires a value (text or json)")]
    MissingFormat {
        /// The core command.
        command: &'static str,
    },
    /// `--format` with a value other than `text` or `json`.
    #[error(
        "{command}: unsupported format '{}' (expected text or json)",
        Printable(value)
    )]
    UnsupportedFormat {
        /// The core command.
        command: &'static str,
        /// The value, as given.
        value: String,
    },
    /// `shell` without a terminal on stdin.
    #[error("shell requires an interactive terminal (use -it)")]
    NoTerminal,
    /// The command is not a valid command name, so it was refused before
    /// any plugin lookup.
    #[error("invalid command name: {}", Printable(name))]
    InvalidCommandName {
        /// The name, as given (lossily decoded when not UTF-8).
        name: String,
    },
    /// No core command and no plugin has this name.
    #[error("unknown command: {name}")]
    UnknownCommand {
        /// The name (a valid command name).
        name: String,
        /// A file of that name in the plugin directory that is not
        /// executable, so not a plugin.
        not_executable: Option<PathBuf>,
    },
    /// A document could not be serialized (a bug, reported rather than
    /// printed half).
    #[error("cannot serialize the {document}: {message}")]
    Serialize {
        /// The document's name.
        document: &'static str,
        /// The serializer's message.
        message: String,
    },
    /// The program to run does not exist.
    #[error("exec: {}: not found", Printable(program))]
    ProgramNotFound {
        /// The program, as given.
        program: String,
    },
    /// The program to run exists but cannot be executed.
    #[error("exec: {}: cannot execute: {source}", Printable(program))]
    CannotExecute {
        /// The program, as given.
        program: String,
        /// Why the kernel refused.
        #[source]
        source: std::io::Error,
    },
}

impl RunnerError {
    /// The exit status for this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            RunnerError::InvalidRootOverride { .. }
            | RunnerError::MissingProgram
            | RunnerError::UnexpectedArgument { .. }
            | RunnerError::MissingFormat { .. }
            | RunnerError::UnsupportedFormat { .. }
            | RunnerError::NoTerminal => exit::USAGE,
            RunnerError::RunningAsRoot
            | RunnerError::MissingIdentityFile { .. }
            | RunnerError::Identity(_)
            | RunnerError::PluginDirectory { .. }
            | RunnerError::ShellNotDeclared { .. } => exit::CONTRACT,
            RunnerError::InvalidCommandName { .. } | RunnerError::UnknownCommand { .. } => {
                exit::UNKNOWN_COMMAND
            }
            RunnerError::Serialize { .. } => exit::OUTPUT,
            RunnerError::CannotExecute { .. } => exit::CANNOT_EXECUTE,
            RunnerError::ProgramNotFound { .. } => exit::NOT_FOUND,
        }
    }

    /// What the person who ran the command can do about it, when there is
    /// more to say than the message.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            RunnerError::RunningAsRoot => {
                "run the container as its non-root user (the image's USER, or --user 10001:10001)".to_owned()
            }
            RunnerError::Identity(IdentityError::Unreadable { .. }) => {
                "the identity files must be readable by the runtime user (image builds write them 0444)"
                    .to_owned()
            }
            RunnerError::MissingIdentityFile { .. } | RunnerError::Identity(_) => {
                "the identity files are written from image.manifest when the image is built; \
                 fix the manifest and rebuild (docs/RUNNER.md)"
                    .to_owned()
            }
            RunnerError::ShellNotDeclared { .. } => {
                "declare RUNTIME_SHELL in the image's image.manifest and rebuild".to_owned()
            }
            RunnerError::MissingProgram => "usage: runner exec <program> [arguments]".to_owned(),
            RunnerError::UnexpectedArgument { .. }
            | RunnerError::MissingFormat { .. }
            | RunnerError::UnsupportedFormat { .. } => "run 'runner help' for usage".to_owned(),
            RunnerError::NoTerminal => {
                "shell is for people at a terminal: docker run -it <image> shell".to_owned()
            }
            RunnerError::InvalidCommandName { .. } => {
                "command names match ^[a-z][a-z0-9-]*$; run 'runner help' for the commands of this image"
                    .to_owned()
            }
            RunnerError::UnknownCommand {
                not_executable: Some(path),
                ..
            } => format!("{} is not executable, so it is not a plugin", path.display()),
            RunnerError::UnknownCommand { name, .. } => format!(
                "commands must be explicit: run 'runner help' for the commands of this image, \
                 or 'runner exec {name} ...' to run a program"
            ),
            RunnerError::InvalidRootOverride { .. }
            | RunnerError::PluginDirectory { .. }
            | RunnerError::Serialize { .. }
            | RunnerError::ProgramNotFound { .. }
            | RunnerError::CannotExecute { .. } => return None,
        };
        Some(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_names_are_shown_with_control_characters_escaped() {
        let error = RunnerError::InvalidCommandName {
            name: "a\u{1b}[31mb\n".to_owned(),
        };
        assert_eq!(error.to_string(), "invalid command name: a\\u{1b}[31mb\\n");
    }

    #[test]
    fn exit_codes_follow_the_table() {
        assert_eq!(RunnerError::MissingProgram.exit_code(), 2);
        assert_eq!(RunnerError::NoTerminal.exit_code(), 2);
        assert_eq!(RunnerError::RunningAsRoot.exit_code(), 3);
        let unknown = RunnerError::UnknownCommand {
            name: "ls".to_owned(),
            not_executable: None,
        };
        assert_eq!(unknown.exit_code(), 4);
        assert_eq!(
            unknown.hint().as_deref(),
            Some(
                "commands must be explicit: run 'runner help' for the commands of this image, \
                 or 'runner exec ls ...' to run a program"
            )
        );
        let missing = RunnerError::ProgramNotFound {
            program: "nonexistent".to_owned(),
        };
        assert_eq!(
            (missing.exit_code(), missing.to_string().as_str()),
            (127, "exec: nonexistent: not found")
        );
    }
}
