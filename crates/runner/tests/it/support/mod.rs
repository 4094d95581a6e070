//! Staged image roots, and the `runner` binary run inside one as the
//! image's runtime user.
//!
//! A staged root is laid out like the image (docker/runner-base/Dockerfile):
//! `etc/runner/*.env` written from an `image.manifest` by
//! `runner-stage-identity` (the tool the Dockerfile runs), an empty
//! `usr/local/lib/runner.d`, the binary at `usr/local/bin/runner`, and a
//! home and `workspace` the runtime user owns. The runner is pointed at it
//! with `RUNNER_ROOT`.
//!
//! Tests run as root on CI, and the runner refuses root; so each run drops
//! to uid/gid 10001 with `setpriv` (util-linux), which then execs the runner
//! in the same process. Run as another user, the runner is started directly.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

/// The runtime user of runner images.
pub(crate) const RUNTIME_UID: u32 = 10001;
/// Its group.
pub(crate) const RUNTIME_GID: u32 = 10001;

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the tests run as root, and so must drop privileges.
pub(crate) fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `setpriv`, which must exist when the tests run as root.
fn setpriv() -> PathBuf {
    ["/usr/bin/setpriv", "/bin/setpriv"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the contract tests run as root and need setpriv (util-linux) to drop to uid {RUNTIME_UID}"
            )
        })
}

/// An image root in a temporary directory.
pub(crate) struct StagedImage {
    dir: tempfile::TempDir,
}

impl StagedImage {
    /// The runner-base image: docker/runner-base/image.manifest staged.
    pub(crate) fn base() -> Self {
        let image = Self::without_identity();
        image.stage_manifest(&repo_root().join("docker/runner-base/image.manifest"));
        image
    }

    /// The runner-example image: its manifest staged over the base layout
    /// and its plugins installed with mode 0755, as its Dockerfile does.
    pub(crate) fn example() -> Self {
        let image = Self::without_identity();
        image.stage_manifest(&repo_root().join("docker/runner-example/image.manifest"));
        let plugins = repo_root().join("docker/runner-example/runner.d");
        for entry in fs::read_dir(&plugins).expect("list docker/runner-example/runner.d") {
            let entry = entry.expect("plugin entry");
            let script = fs::read_to_string(entry.path()).expect("read plugin");
            image.add_plugin(&entry.file_name().to_string_lossy(), &script, 0o755);
        }
        image
    }

    /// The layout without identity files.
    pub(crate) fn without_identity() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary root");
        let image = Self { dir };
        // tempfile creates 0700 directories; the runtime user must get in.
        set_mode(image.root(), 0o755);
        for path in [
            image.identity_dir(),
            image.plugin_dir(),
            image.root().join("usr/local/bin"),
        ] {
            fs::create_dir_all(&path).expect("create image directory");
            set_mode(&path, 0o755);
        }
        for path in [image.home(), image.workspace()] {
            fs::create_dir_all(&path).expect("create user directory");
            set_mode(&path, 0o755);
            give_to_runtime_user(&path);
        }
        install_runner(&image.runner_binary());
        image
    }

    /// The root directory (`RUNNER_ROOT`).
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `etc/runner`.
    pub(crate) fn identity_dir(&self) -> PathBuf {
        self.root().join("etc/runner")
    }

    /// `usr/local/lib/runner.d`.
    pub(crate) fn plugin_dir(&self) -> PathBuf {
        self.root().join("usr/local/lib/runner.d")
    }

    /// `home/runner`, the runtime user's `$HOME`.
    pub(crate) fn home(&self) -> PathBuf {
        self.root().join("home/runner")
    }

    /// `workspace`, the working directory of every run.
    pub(crate) fn workspace(&self) -> PathBuf {
        self.root().join("workspace")
    }

    /// `usr/local/bin/runner`.
    pub(crate) fn runner_binary(&self) -> PathBuf {
        self.root().join("usr/local/bin/runner")
    }

    /// Writes `etc/runner/<name>` (replacing the staged, read-only one).
    pub(crate) fn write_identity(&self, name: &str, text: &str) {
        let path = self.identity_dir().join(name);
        let _ = fs::remove_file(&path);
        fs::write(&path, text).expect("write identity file");
        set_mode(&path, 0o644);
    }

    /// Installs a plugin script with `mode`.
    pub(crate) fn add_plugin(&self, name: &str, script: &str, mode: u32) {
        write_script(&self.plugin_dir().join(name), script, mode);
    }

    /// A plugin that records that it ran (a file named after it in
    /// `workspace/ran/`) and exits 99; for proving something never ran.
    pub(crate) fn add_tripwire(&self, path: &Path) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ran = self.workspace().join("ran");
        let script = format!(
            "#!/bin/sh\nmkdir -p '{}' && touch '{}/{name}'\nexit 99\n",
            ran.display(),
            ran.display()
        );
        write_script(path, &script, 0o755);
    }

    /// The tripwires that fired, sorted.
    pub(crate) fn tripwires_fired(&self) -> Vec<String> {
        let mut fired: Vec<String> = fs::read_dir(self.workspace().join("ran"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        fired.sort();
        fired
    }

    /// `runner <args>` as the runtime user, without a terminal.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let mut command = self.runtime_user_command();
        command.args(args).stdin(Stdio::null());
        Run::of(command.output().expect("start runner"))
    }

    /// `runner <args>` as root (uid 0): directly when the tests run as root,
    /// otherwise in a user namespace that maps the current user to root.
    pub(crate) fn run_as_root(&self, args: &[&str]) -> Run {
        let mut command = if running_as_root() {
            Command::new(self.runner_binary())
        } else {
            let mut command = Command::new("unshare");
            command
                .args(["--user", "--map-root-user"])
                .arg(self.runner_binary());
            command
        };
        self.environment(&mut command);
        command.args(args).stdin(Stdio::null());
        Run::of(command.output().expect("start runner as root"))
    }

    /// The shell command line that starts the runner as the runtime user,
    /// for tools such as `script -c` that take one.
    pub(crate) fn runtime_user_command_line(&self, args: &[&str]) -> String {
        let mut words: Vec<String> = Vec::new();
        if running_as_root() {
            words.push(setpriv().display().to_string());
            words.extend(setpriv_args());
        }
        words.push(self.runner_binary().display().to_string());
        words.extend(args.iter().map(|arg| (*arg).to_owned()));
        words
            .iter()
            .map(|word| shell_quote(word))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The environment and working directory of every run: a clean
    /// environment, the staged root, the runtime user's home.
    pub(crate) fn environment(&self, command: &mut Command) {
        command
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", self.home())
            .env("RUNNER_ROOT", self.root())
            .current_dir(self.workspace());
    }

    /// The command that starts the runner as the runtime user, with the
    /// run environment; arguments and stdio are the caller's.
    pub(crate) fn runtime_user_command(&self) -> Command {
        let mut command = if running_as_root() {
            let mut command = Command::new(setpriv());
            command.args(setpriv_args()).arg(self.runner_binary());
            command
        } else {
            Command::new(self.runner_binary())
        };
        self.environment(&mut command);
        command
    }

    fn stage_manifest(&self, manifest: &Path) {
        let output = Command::new(env!("CARGO_BIN_EXE_runner-stage-identity"))
            .arg(manifest)
            .arg(self.identity_dir())
            .output()
            .expect("start runner-stage-identity");
        assert!(
            output.status.success(),
            "runner-stage-identity {} failed: {}",
            manifest.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn setpriv_args() -> Vec<String> {
    vec![
        "--reuid".to_owned(),
        RUNTIME_UID.to_string(),
        "--regid".to_owned(),
        RUNTIME_GID.to_string(),
        "--clear-groups".to_owned(),
    ]
}

/// The binary under test, at `target` in the staged root: a hard link when
/// possible (the build directory may not be reachable by the runtime user),
/// else a copy.
fn install_runner(target: &Path) {
    let built = Path::new(env!("CARGO_BIN_EXE_runner"));
    if fs::hard_link(built, target).is_err() {
        fs::copy(built, target).expect("copy the runner binary");
    }
    set_mode(target, 0o755);
}

fn write_script(path: &Path, script: &str, mode: u32) {
    let mut file = fs::File::create(path).expect("create script");
    file.write_all(script.as_bytes()).expect("write script");
    drop(file);
    set_mode(path, mode);
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Makes `path` the runtime user's (when the tests can: as root).
fn give_to_runtime_user(path: &Path) {
    if running_as_root() {
        std::os::unix::fs::chown(path, Some(RUNTIME_UID), Some(RUNTIME_GID)).expect("chown");
    }
}

/// `word` single-quoted for `sh`.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// What one run of the runner did.
#[derive(Debug)]
pub(crate) struct Run {
    /// How it ended.
    pub(crate) status: ExitStatus,
    /// Its stdout.
    pub(crate) stdout: String,
    /// Its stderr.
    pub(crate) stderr: String,
}

impl Run {
    fn of(output: Output) -> Self {
        Self {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The exit code; panics if a signal ended the run.
    pub(crate) fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("ended by a signal, not an exit code: {self:?}"))
    }

    /// The first line of stderr.
    pub(crate) fn error_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or("")
    }

    /// Whether stdout has a line matching `marker` at its start, like
    /// `grep '^marker'`.
    pub(crate) fn has_line_starting(&self, marker: &str) -> bool {
        self.stdout.lines().any(|line| line.starts_with(marker))
    }
}
