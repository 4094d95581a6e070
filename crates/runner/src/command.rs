//! The command line: `runner <command> [arguments]`, parsed without touching
//! the filesystem.
//!
//! Core commands always win. Any other first argument must be a valid
//! command name (`^[a-z][a-z0-9-]*$`) to be looked up as a plugin at all; the
//! rest of the arguments go to the plugin or program untouched (they need
//! not be UTF-8).

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;

use dcx_contracts::runner_platform::{is_command_name, is_core_command};

use crate::error::RunnerError;

/// One of the six commands every runner image has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreCommand {
    /// Lists the commands.
    Help,
    /// Shows the image identity.
    About,
    /// Shows identity, runtime contract and state, tools and plugins.
    Info,
    /// Shows the declared tool versions.
    Version,
    /// Runs a program explicitly: the only escape hatch.
    Exec,
    /// Starts the declared shell, for people at a terminal.
    Shell,
}

impl CoreCommand {
    /// All core commands, in the order `help` lists them.
    pub const ALL: [CoreCommand; 6] = [
        CoreCommand::Help,
        CoreCommand::About,
        CoreCommand::Info,
        CoreCommand::Version,
        CoreCommand::Exec,
        CoreCommand::Shell,
    ];

    /// The command's name.
    pub fn name(self) -> &'static str {
        match self {
            CoreCommand::Help => "help",
            CoreCommand::About => "about",
            CoreCommand::Info => "info",
            CoreCommand::Version => "version",
            CoreCommand::Exec => "exec",
            CoreCommand::Shell => "shell",
        }
    }

    /// The command with `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|command| command.name() == name)
    }

    /// How it is called, for `help`.
    pub fn usage(self) -> &'static str {
        match self {
            CoreCommand::Help => "help",
            CoreCommand::About => "about",
            CoreCommand::Info => "info [--format text|json]",
            CoreCommand::Version => "version [--format text|json]",
            CoreCommand::Exec => "exec <program> [arguments]",
            CoreCommand::Shell => "shell",
        }
    }

    /// What it does, for `help`.
    pub fn summary(self) -> &'static str {
        match self {
            CoreCommand::Help => "Show this help",
            CoreCommand::About => "Show image identity",
            CoreCommand::Info => "Show runtime environment, tools and plugins",
            CoreCommand::Version => "Show provided tool versions",
            CoreCommand::Exec => "Execute a program explicitly",
            CoreCommand::Shell => "Start an interactive shell (human use only)",
        }
    }
}

/// The name of a plugin: a valid command name that is not a core command.
/// Holding one proves the name was checked before any lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginName(String);

impl PluginName {
    /// `name`, if it can name a plugin.
    pub fn new(name: &str) -> Option<Self> {
        (is_command_name(name) && !is_core_command(name)).then(|| Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How `info` and `version` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// For people (the default).
    #[default]
    Text,
    /// The `runner_info_v1` / `runner_version_v1` document, for programs.
    Json,
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `help`, or no command at all.
    Help,
    /// `about`.
    About,
    /// `info [--format text|json]`.
    Info(OutputFormat),
    /// `version [--format text|json]`.
    Version(OutputFormat),
    /// `exec [--] <program> [arguments]`.
    Exec {
        /// The program, looked up in `$PATH` unless it contains a `/`.
        program: OsString,
        /// Its arguments.
        args: Vec<OsString>,
    },
    /// `shell`.
    Shell,
    /// `<plugin> [arguments]`.
    Plugin {
        /// The plugin to look up.
        name: PluginName,
        /// Its arguments.
        args: Vec<OsString>,
    },
}

impl Invocation {
    /// Parses the arguments after the program name.
    ///
    /// # Errors
    ///
    /// [`RunnerError::InvalidCommandName`] when the first argument is neither
    /// a core command nor a valid command name; the usage errors of the core
    /// commands (a missing program, an unexpected argument, a bad
    /// `--format`).
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Self, RunnerError> {
        let mut args = args.into_iter();
        let Some(first) = args.next() else {
            return Ok(Invocation::Help);
        };
        let Some(name) = first.to_str() else {
            return Err(RunnerError::InvalidCommandName {
                name: first.to_string_lossy().into_owned(),
            });
        };
        let rest: Vec<OsString> = args.collect();
        if let Some(core) = CoreCommand::from_name(name) {
            return parse_core(core, rest);
        }
        match PluginName::new(name) {
            Some(name) => Ok(Invocation::Plugin { name, args: rest }),
            None => Err(RunnerError::InvalidCommandName {
                name: name.to_owned(),
            }),
        }
    }
}

fn parse_core(command: CoreCommand, args: Vec<OsString>) -> Result<Invocation, RunnerError> {
    match command {
        CoreCommand::Help => no_arguments(command, &args).map(|()| Invocation::Help),
        CoreCommand::About => no_arguments(command, &args).map(|()| Invocation::About),
        CoreCommand::Shell => no_arguments(command, &args).map(|()| Invocation::Shell),
        CoreCommand::Info => parse_format(command, &args).map(Invocation::Info),
        CoreCommand::Version => parse_format(command, &args).map(Invocation::Version),
        CoreCommand::Exec => {
            let mut args = args.into_iter().peekable();
            // `exec -- <program>` is accepted too: it is how Runner CLI v0.3
            // spells it, and no program is called `--`.
            args.next_if(|arg| arg == "--");
            let program = args.next().ok_or(RunnerError::MissingProgram)?;
            Ok(Invocation::Exec {
                program,
                args: args.collect(),
            })
        }
    }
}

fn no_arguments(command: CoreCommand, args: &[OsString]) -> Result<(), RunnerError> {
    match args.first() {
        None => Ok(()),
        Some(argument) => Err(unexpected(command, argument)),
    }
}

/// `[--format text|json]` or `[--format=text|json]`, and nothing else.
fn parse_format(command: CoreCommand, args: &[OsString]) -> Result<OutputFormat, RunnerError> {
    let mut args = args.iter();
    let value: Cow<'_, str> = match args.next() {
        None => return Ok(OutputFormat::Text),
        Some(flag) if flag == "--format" => match args.next() {
            Some(value) => value.to_string_lossy(),
            None => {
                return Err(RunnerError::MissingFormat {
                    command: command.name(),
                });
            }
        },
        Some(flag) => match flag.to_str().and_then(|flag| flag.strip_prefix("--format=")) {
            Some(value) => Cow::Borrowed(value),
            None => return Err(unexpected(command, flag)),
        },
    };
    if let Some(extra) = args.next() {
        return Err(unexpected(command, extra));
    }
    match &*value {
        "text" => Ok(OutputFormat::Text),
        "json" => Ok(OutputFormat::Json),
        other => Err(RunnerError::UnsupportedFormat {
            command: command.name(),
            value: other.to_owned(),
        }),
    }
}

fn unexpected(command: CoreCommand, argument: &OsString) -> RunnerError {
    RunnerError::UnexpectedArgument {
        command: command.name(),
        argument: argument.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt;

    use dcx_contracts::runner_platform::CORE_COMMANDS;

    use super::*;

    fn parse(args: &[&str]) -> Result<Invocation, RunnerError> {
        Invocation::parse(args.iter().map(OsString::from))
    }

    fn parse_err(args: &[&str]) -> (u8, String) {
        let error = parse(args).expect_err("expected a parse error");
        (error.exit_code(), error.to_string())
    }

    fn os(values: &[&str]) -> Vec<OsString> {
        values.iter().map(OsString::from).collect()
    }

    #[test]
    fn core_commands_are_the_contract_list_in_help_order() {
        let names: Vec<&str> = CoreCommand::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, CORE_COMMANDS);
    }

    #[test]
    fn no_command_is_help() {
        assert_eq!(parse(&[]).expect("help"), Invocation::Help);
    }

    #[test]
    fn core_commands_beat_plugins() {
        assert_eq!(
            parse(&["version"]).expect("core"),
            Invocation::Version(OutputFormat::Text)
        );
        assert_eq!(parse(&["help"]).expect("core"), Invocation::Help);
    }

    #[test]
    fn format_flag_forms() {
        for args in [&["info", "--format", "json"][..], &["info", "--format=json"]] {
            assert_eq!(parse(args).expect("json"), Invocation::Info(OutputFormat::Json));
        }
        assert_eq!(
            parse(&["version", "--format", "text"]).expect("text"),
            Invocation::Version(OutputFormat::Text)
        );
        assert_eq!(
            parse_err(&["info", "--format", "yaml"]),
            (
                2,
                "info: unsupported format 'yaml' (expected text or json)".to_owned()
            )
        );
        assert_eq!(
            parse_err(&["version", "--format"]),
            (2, "version: --format requires a value (text or json)".to_owned())
        );
        assert_eq!(
            parse_err(&["info", "--format", "json", "extra"]),
            (2, "info: unexpected argument 'extra'".to_owned())
        );
        assert_eq!(
            parse_err(&["info", "plugins"]),
            (2, "info: unexpected argument 'plugins'".to_owned())
        );
    }

    #[test]
    fn commands_without_arguments_refuse_them() {
        assert_eq!(
            parse_err(&["help", "exec"]),
            (2, "help: unexpected argument 'exec'".to_owned())
        );
        assert_eq!(
            parse_err(&["shell", "-c"]),
            (2, "shell: unexpected argument '-c'".to_owned())
        );
    }

    #[test]
    fn exec_takes_the_rest_verbatim() {
        assert_eq!(
            parse(&["exec", "terraform", "version", "--", "-x"]).expect("exec"),
            Invocation::Exec {
                program: "terraform".into(),
                args: os(&["version", "--", "-x"]),
            }
        );
        assert_eq!(
            parse(&["exec", "--", "printf", "%s"]).expect("exec --"),
            Invocation::Exec {
                program: "printf".into(),
                args: os(&["%s"]),
            }
        );
        assert_eq!(parse_err(&["exec"]), (2, "exec requires a command".to_owned()));
        assert_eq!(
            parse_err(&["exec", "--"]),
            (2, "exec requires a command".to_owned())
        );
    }

    #[test]
    fn plugins_get_the_rest_verbatim() {
        let non_utf8 = OsString::from_vec(vec![0xff, b'x']);
        let parsed = Invocation::parse([OsString::from("tf"), non_utf8.clone(), "--help".into()]);
        assert_eq!(
            parsed.expect("plugin"),
            Invocation::Plugin {
                name: PluginName::new("tf").expect("name"),
                args: vec![non_utf8, "--help".into()],
            }
        );
    }

    #[test]
    fn invalid_names_are_refused_before_any_lookup() {
        for name in [
            "../../bin/true",
            ".hidden",
            "bad;cmd",
            "Upper",
            "bad command",
            "",
            "-h",
            "/bin/sh",
        ] {
            assert_eq!(
                parse_err(&[name]),
                (4, format!("invalid command name: {name}")),
                "{name}"
            );
        }
        let error = Invocation::parse([OsString::from_vec(vec![b't', 0xff])]).expect_err("not UTF-8");
        assert_eq!(error.to_string(), "invalid command name: t\u{fffd}");
    }
}
