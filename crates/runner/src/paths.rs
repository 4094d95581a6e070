//! Where the runner finds the image's identity files and plugins.
//!
//! Both paths are compiled in. One override exists, for the contract tests
//! and for image builds that stage a root filesystem before it is an image:
//! the environment variable [`RUNNER_ROOT`](ROOT_OVERRIDE_VAR), an absolute
//! path that prefixes both (`$RUNNER_ROOT/etc/runner`,
//! `$RUNNER_ROOT/usr/local/lib/runner.d`).
//!
//! The override grants nothing `runner exec` does not already grant: whoever
//! sets the container's environment can run any program anyway. It cannot
//! widen what a command name reaches either: names are checked against
//! `^[a-z][a-z0-9-]*$` before any path is built, and a plugin is always the
//! plugin directory joined with one such name, whatever the root.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::RunnerError;

/// The directory of the identity files in an image.
pub const IDENTITY_DIR: &str = "/etc/runner";
/// The plugin directory in an image.
pub const PLUGIN_DIR: &str = "/usr/local/lib/runner.d";
/// The environment variable that moves both directories under another root.
pub const ROOT_OVERRIDE_VAR: &str = "RUNNER_ROOT";

/// The two directories the runner reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Holds `image.env`, `runtime.env` and `tools.env`.
    pub identity_dir: PathBuf,
    /// Holds the plugins.
    pub plugin_dir: PathBuf,
}

impl Paths {
    /// The compiled-in paths of a runner image.
    pub fn system() -> Self {
        Self {
            identity_dir: PathBuf::from(IDENTITY_DIR),
            plugin_dir: PathBuf::from(PLUGIN_DIR),
        }
    }

    /// The image paths under `root` (a staged root filesystem).
    pub fn under_root(root: &Path) -> Self {
        let under = |path: &str| root.join(path.trim_start_matches('/'));
        Self {
            identity_dir: under(IDENTITY_DIR),
            plugin_dir: under(PLUGIN_DIR),
        }
    }

    /// The paths for the value of [`ROOT_OVERRIDE_VAR`]: the system paths
    /// when it is unset, the paths under it when it is an absolute path.
    ///
    /// # Errors
    ///
    /// [`RunnerError::InvalidRootOverride`] when it is set to anything else
    /// (empty or relative): a relative root would depend on the working
    /// directory, which the caller of a container often does not control.
    pub fn from_override(value: Option<OsString>) -> Result<Self, RunnerError> {
        match value {
            None => Ok(Self::system()),
            Some(root) if Path::new(&root).is_absolute() => Ok(Self::under_root(Path::new(&root))),
            Some(value) => Err(RunnerError::InvalidRootOverride { value }),
        }
    }

    /// `image.env`: who the image is (required).
    pub fn image_env(&self) -> PathBuf {
        self.identity_dir.join("image.env")
    }

    /// `runtime.env`: the runtime the image declares (required).
    pub fn runtime_env(&self) -> PathBuf {
        self.identity_dir.join("runtime.env")
    }

    /// `tools.env`: the tools the image ships (optional).
    pub fn tools_env(&self) -> PathBuf {
        self.identity_dir.join("tools.env")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_override_means_the_compiled_in_paths() {
        let paths = Paths::from_override(None).expect("system paths");
        assert_eq!(paths.image_env(), Path::new("/etc/runner/image.env"));
        assert_eq!(paths.plugin_dir, Path::new("/usr/local/lib/runner.d"));
    }

    #[test]
    fn override_prefixes_both_paths() {
        let paths = Paths::from_override(Some("/tmp/stage".into())).expect("absolute root");
        assert_eq!(paths.tools_env(), Path::new("/tmp/stage/etc/runner/tools.env"));
        assert_eq!(paths.plugin_dir, Path::new("/tmp/stage/usr/local/lib/runner.d"));
    }

    #[test]
    fn override_must_be_absolute() {
        for value in ["", "stage", "./stage", "../etc"] {
            let error = Paths::from_override(Some(value.into())).expect_err(value);
            assert_eq!(error.exit_code(), crate::exit::USAGE);
            assert_eq!(
                error.to_string(),
                format!("RUNNER_ROOT must be an absolute path, got {value:?}")
            );
        }
    }
}
