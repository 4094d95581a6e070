//! The `runner` container entrypoint: Runner Platform Contract v0.2.0 with
//! the upstream 0.2.x security fixes (seed 002, `docs/RUNNER.md`).
//!
//! `runner <command> [arguments]` runs a core command (`help`, `about`,
//! `info`, `version`, `exec`, `shell`), or else a plugin of the image by its
//! exact name, or else fails. Nothing runs implicitly.
//!
//! The order of checks in [`run`]:
//!
//! 1. a process running as root is refused;
//! 2. the command line is parsed ([`Invocation::parse`]): a name that is not
//!    `^[a-z][a-z0-9-]*$` is refused before anything looks at the plugin
//!    directory;
//! 3. the image contract is loaded ([`ImageContract::load`]) with the strict
//!    identity parser of [`dcx_contracts::identity`] — never as shell;
//! 4. the command runs: text or a JSON document to print, or a program to
//!    `execve` ([`ExecRequest`]).
//!
//! The library decides and never prints or exits; the `runner` binary does
//! both, with the statuses of [`exit`].

#![deny(missing_docs)]

pub mod command;
pub mod error;
mod executable;
pub mod host;
pub mod image;
pub mod image_manifest;
pub mod launch;
pub mod paths;
pub mod plugins;
pub mod render;
pub mod report;

use std::ffi::OsString;

pub use command::{CoreCommand, Invocation, OutputFormat, PluginName};
pub use error::{RunnerError, exit};
pub use host::{Host, SystemHost};
pub use image::ImageContract;
pub use launch::ExecRequest;
pub use paths::{Paths, ROOT_OVERRIDE_VAR};

/// What the runner does once it has decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Print this on stdout and exit 0.
    Print(String),
    /// Replace the process with this program.
    Exec(ExecRequest),
}

/// Decides what `runner <args>` does in an image laid out at `paths`, in a
/// process described by `host`.
///
/// # Errors
///
/// Every [`RunnerError`] but the exec failures, which
/// [`ExecRequest::replace_process`] reports.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    paths: &Paths,
    host: &impl Host,
) -> Result<Outcome, RunnerError> {
    if host.is_root() {
        return Err(RunnerError::RunningAsRoot);
    }
    let invocation = Invocation::parse(args)?;
    let contract = ImageContract::load(paths)?;
    match invocation {
        Invocation::Help => {
            let plugins = plugins::discover(&paths.plugin_dir)?;
            Ok(Outcome::Print(render::help(&contract.identity, &plugins)))
        }
        Invocation::About => Ok(Outcome::Print(render::about(&contract.identity))),
        Invocation::Info(format) => {
            let plugins = plugins::discover(&paths.plugin_dir)?;
            let observed = host.observe_runtime(contract.runtime.get("RUNTIME_SHELL"));
            let document = report::info_document(&contract, plugins, observed);
            match format {
                OutputFormat::Text => Ok(Outcome::Print(render::info(&document))),
                OutputFormat::Json => render::json(&document).map(Outcome::Print),
            }
        }
        Invocation::Version(format) => {
            let document = report::version_document(&contract);
            match format {
                OutputFormat::Text => Ok(Outcome::Print(render::version(&document))),
                OutputFormat::Json => render::json(&document).map(Outcome::Print),
            }
        }
        Invocation::Exec { program, args } => Ok(Outcome::Exec(ExecRequest::new(program, args))),
        Invocation::Shell => {
            if !host.stdin_is_terminal() {
                return Err(RunnerError::NoTerminal);
            }
            let shell = contract
                .runtime
                .get("RUNTIME_SHELL")
                .filter(|shell| !shell.is_empty())
                .ok_or_else(|| RunnerError::ShellNotDeclared {
                    path: paths.runtime_env(),
                })?;
            Ok(Outcome::Exec(ExecRequest::new(shell, Vec::new())))
        }
        Invocation::Plugin { name, args } => match plugins::lookup(&paths.plugin_dir, &name) {
            plugins::Lookup::Plugin(path) => Ok(Outcome::Exec(ExecRequest::new(path, args))),
            plugins::Lookup::NotExecutable(path) => Err(RunnerError::UnknownCommand {
                name: name.to_string(),
                not_executable: Some(path),
            }),
            plugins::Lookup::Absent => Err(RunnerError::UnknownCommand {
                name: name.to_string(),
                not_executable: None,
            }),
        },
    }
}

#[cfg(test)]
mod tests;
