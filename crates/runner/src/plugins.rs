//! Plugins: executable files in the plugin directory, run only by their
//! exact name.
//!
//! A file is a plugin when its name is a valid command name that no core
//! command shadows, and it is a regular file (symlinks followed) that the
//! current user may execute — the same test as the shell's `[ -x ]`, so a
//! file listed as a plugin is one the runner can start. Anything else in
//! the directory is ignored.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::command::PluginName;
use crate::error::RunnerError;
use crate::executable::is_executable_file;
use dcx_contracts::runner_platform::{is_command_name, is_core_command};

/// What the plugin directory holds under one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A plugin: run it.
    Plugin(PathBuf),
    /// A file that is not executable by this user (or not a regular file),
    /// so not a plugin.
    NotExecutable(PathBuf),
    /// Nothing.
    Absent,
}

/// Looks up the plugin `name` in `dir`. The name was validated when it was
/// parsed, so the path is always `dir` plus one plain file name.
pub fn lookup(dir: &Path, name: &PluginName) -> Lookup {
    let path = dir.join(name.as_str());
    if is_executable_file(&path) {
        Lookup::Plugin(path)
    } else if fs::symlink_metadata(&path).is_ok() {
        Lookup::NotExecutable(path)
    } else {
        Lookup::Absent
    }
}

/// The names of the plugins in `dir`, sorted bytewise. A missing directory
/// has no plugins.
///
/// # Errors
///
/// [`RunnerError::PluginDirectory`] when the directory exists but cannot be
/// listed.
pub fn discover(dir: &Path) -> Result<Vec<String>, RunnerError> {
    let unreadable = |source: io::Error| RunnerError::PluginDirectory {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(unreadable(error)),
    };
    let mut plugins = Vec::new();
    for entry in entries {
        let entry = entry.map_err(unreadable)?;
        // A name that is not UTF-8 cannot be a command name.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if is_command_name(&name) && !is_core_command(&name) && is_executable_file(&entry.path()) {
            plugins.push(name);
        }
    }
    plugins.sort_unstable();
    Ok(plugins)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    fn write(dir: &Path, name: &str, mode: u32) {
        let path = dir.join(name);
        fs::write(&path, "#!/bin/sh\n").expect("write plugin");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn plugin(name: &str) -> PluginName {
        PluginName::new(name).expect("valid plugin name")
    }

    #[test]
    fn discover_lists_runnable_plugins_sorted_and_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "tf", 0o755);
        write(dir.path(), "check-workspace", 0o755);
        write(dir.path(), "notes", 0o644);
        write(dir.path(), "help", 0o755);
        write(dir.path(), "version", 0o755);
        write(dir.path(), ".hidden", 0o755);
        write(dir.path(), "Upper", 0o755);
        write(dir.path(), "run.sh", 0o755);
        fs::create_dir(dir.path().join("subdir")).expect("mkdir");
        symlink("tf", dir.path().join("terraform")).expect("symlink");
        symlink("missing", dir.path().join("dangling")).expect("symlink");

        assert_eq!(
            discover(dir.path()).expect("listable"),
            ["check-workspace", "terraform", "tf"]
        );
    }

    #[test]
    fn missing_directory_has_no_plugins() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            discover(&dir.path().join("runner.d")).expect("no dir"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn lookup_tells_plugins_from_other_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "tf", 0o755);
        write(dir.path(), "notes", 0o644);
        fs::create_dir(dir.path().join("subdir")).expect("mkdir");

        assert_eq!(
            lookup(dir.path(), &plugin("tf")),
            Lookup::Plugin(dir.path().join("tf"))
        );
        assert_eq!(
            lookup(dir.path(), &plugin("notes")),
            Lookup::NotExecutable(dir.path().join("notes"))
        );
        assert_eq!(
            lookup(dir.path(), &plugin("subdir")),
            Lookup::NotExecutable(dir.path().join("subdir"))
        );
        assert_eq!(lookup(dir.path(), &plugin("absent")), Lookup::Absent);
    }
}
