//! The process the runner runs in: who it runs as, whether a person sits at
//! a terminal, and the runtime state `info` reports.
//!
//! [`SystemHost`] is the one place that asks the operating system; the rest
//! of the crate takes a [`Host`], so tests can describe any process they
//! like.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::PathBuf;

use dcx_contracts::runner_platform::ObservedRuntime;

use crate::executable::is_executable_file;

/// Where the user database lives; runner images use plain files, not NSS
/// services.
const PASSWD: &str = "/etc/passwd";

/// What the runner needs to know about its own process.
pub trait Host {
    /// Whether the process has root privileges or can take them back: its
    /// real or effective user id is 0.
    fn is_root(&self) -> bool;

    /// Whether stdin is a terminal.
    fn stdin_is_terminal(&self) -> bool;

    /// The runtime state for `info`: the user, `$HOME`, where
    /// `declared_shell` resolves to, and the working directory.
    fn observe_runtime(&self, declared_shell: Option<&str>) -> ObservedRuntime;
}

/// The real process.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemHost;

impl Host for SystemHost {
    fn is_root(&self) -> bool {
        rustix::process::getuid().is_root() || rustix::process::geteuid().is_root()
    }

    fn stdin_is_terminal(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    // The one place the runner reads its environment (`$HOME`, `PATH`);
    // clippy.toml bans it everywhere else.
    #[allow(clippy::disallowed_methods)]
    fn observe_runtime(&self, declared_shell: Option<&str>) -> ObservedRuntime {
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        let passwd = std::fs::read_to_string(PASSWD).unwrap_or_default();
        ObservedRuntime {
            user: user_name(&passwd, uid),
            uid,
            gid,
            home: std::env::var_os("HOME").map(lossy),
            shell: declared_shell
                .and_then(|shell| resolve_program(shell, std::env::var_os("PATH").as_deref()))
                .map(lossy),
            workdir: std::env::current_dir().ok().map(lossy),
        }
    }
}

fn lossy(value: impl Into<OsString>) -> String {
    value.into().to_string_lossy().into_owned()
}

/// The name of `uid` in `/etc/passwd` text (`name:password:uid:gid:...`),
/// like `id -un`.
pub(crate) fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let uid_field = fields.nth(1)?;
        (uid_field.parse() == Ok(uid) && !name.is_empty()).then(|| name.to_owned())
    })
}

/// Where `program` resolves to, like `command -v`: a name containing `/` is
/// taken as is, any other is searched in `path_var`; `None` unless the result
/// is an executable file.
pub(crate) fn resolve_program(program: &str, path_var: Option<&OsStr>) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable_file(&path).then_some(path);
    }
    std::env::split_paths(path_var?)
        // An empty `$PATH` entry means the working directory; a runner
        // should not run programs from wherever it happens to stand.
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable_file(candidate))
}

/// A [`Host`] whose answers are fixed, for tests.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct FixedHost {
    pub(crate) root: bool,
    pub(crate) terminal: bool,
    pub(crate) runtime: ObservedRuntime,
}

#[cfg(test)]
impl FixedHost {
    /// A non-root process without a terminal, as `runner` in a CI job.
    pub(crate) fn ci() -> Self {
        Self {
            root: false,
            terminal: false,
            runtime: ObservedRuntime {
                user: Some("runner".to_owned()),
                uid: 10001,
                gid: 10001,
                home: Some("/home/runner".to_owned()),
                shell: Some("/bin/bash".to_owned()),
                workdir: Some("/workspace".to_owned()),
            },
        }
    }
}

#[cfg(test)]
impl Host for FixedHost {
    fn is_root(&self) -> bool {
        self.root
    }

    fn stdin_is_terminal(&self) -> bool {
        self.terminal
    }

    fn observe_runtime(&self, _declared_shell: Option<&str>) -> ObservedRuntime {
        self.runtime.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n\
                               runner:x:10001:10001::/home/runner:/bin/bash\n\
                               broken-line\n";

    #[test]
    fn user_names_come_from_passwd() {
        assert_eq!(user_name(PASSWD_TEXT, 10001).as_deref(), Some("runner"));
        assert_eq!(user_name(PASSWD_TEXT, 0).as_deref(), Some("root"));
        assert_eq!(user_name(PASSWD_TEXT, 4242), None);
        assert_eq!(user_name("", 10001), None);
    }

    #[test]
    fn programs_resolve_like_command_v() {
        let sh = resolve_program("sh", Some(OsStr::new("/nonexistent:/bin:/usr/bin"))).expect("sh in PATH");
        assert!(sh.is_absolute() && sh.ends_with("sh"), "{}", sh.display());
        assert_eq!(resolve_program("/bin/sh", None), Some(PathBuf::from("/bin/sh")));
        assert_eq!(resolve_program("/nonexistent/sh", None), None);
        assert_eq!(resolve_program("sh", None), None);
        assert_eq!(resolve_program("", Some(OsStr::new("/bin"))), None);
        // Relative PATH entries are skipped.
        assert_eq!(resolve_program("sh", Some(OsStr::new("bin:."))), None);
    }
}
