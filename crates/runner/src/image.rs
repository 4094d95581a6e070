//! The image contract: the identity files under `/etc/runner`, loaded with
//! the strict `KEY=VALUE` parser of [`dcx_contracts::identity`] (never
//! sourced as shell).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use dcx_contracts::identity::{EnvFile, IdentityError, ImageIdentity};
use dcx_contracts::runner_platform::{DeclaredRuntime, ToolVersion};

use crate::error::RunnerError;
use crate::paths::Paths;

/// What an image declares about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageContract {
    /// `image.env`, with its required keys checked.
    pub identity: ImageIdentity,
    /// `runtime.env`.
    pub runtime: EnvFile,
    /// `tools.env`, when the image has one.
    pub tools: Option<EnvFile>,
}

impl ImageContract {
    /// Reads and checks the identity files under `paths.identity_dir`.
    ///
    /// # Errors
    ///
    /// [`RunnerError::MissingIdentityFile`] when `image.env` or
    /// `runtime.env` does not exist; [`RunnerError::Identity`] when a file is
    /// unreadable, breaks the grammar, or `image.env` lacks a required key.
    /// A missing `tools.env` is not an error.
    pub fn load(paths: &Paths) -> Result<Self, RunnerError> {
        let image = read_required(&paths.image_env(), "image contract")?;
        let runtime = read_required(&paths.runtime_env(), "runtime contract")?;
        let tools = read_optional(&paths.tools_env())?;
        Ok(Self {
            identity: ImageIdentity::from_env_file(image)?,
            runtime,
            tools,
        })
    }

    /// The runtime `runtime.env` declares; keys it does not set are `None`.
    pub fn declared_runtime(&self) -> DeclaredRuntime {
        let value = |key: &str| self.runtime.get(key).map(str::to_owned);
        DeclaredRuntime {
            user: value("RUNTIME_USER_NAME"),
            uid: value("RUNTIME_USER_UID"),
            gid: value("RUNTIME_USER_GID"),
            home: value("RUNTIME_USER_HOME"),
            shell: value("RUNTIME_SHELL"),
            workdir: value("RUNTIME_WORKDIR"),
        }
    }

    /// Every `tools.env` entry, sorted by key.
    pub fn tool_entries(&self) -> BTreeMap<String, String> {
        self.tools
            .iter()
            .flat_map(EnvFile::entries)
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    /// The `TOOL_<NAME>_VERSION` entries of `tools.env`, sorted by name.
    pub fn tool_versions(&self) -> Vec<ToolVersion> {
        let mut versions: Vec<ToolVersion> = self
            .tools
            .iter()
            .flat_map(EnvFile::entries)
            .filter_map(|(key, value)| ToolVersion::from_entry(key, value))
            .collect();
        versions.sort_by(|a, b| a.name.cmp(&b.name));
        versions
    }
}

fn read_required(path: &Path, contract: &'static str) -> Result<EnvFile, RunnerError> {
    read_optional(path)?.ok_or_else(|| RunnerError::MissingIdentityFile {
        contract,
        path: path.to_path_buf(),
    })
}

/// The parsed file, or `None` when it does not exist. Any other failure
/// (permission denied, a directory, invalid content) is an error: an image
/// with an unreadable identity file is broken, not anonymous.
fn read_optional(path: &Path) -> Result<Option<EnvFile>, RunnerError> {
    match EnvFile::read(path) {
        Ok(file) => Ok(Some(file)),
        Err(IdentityError::Unreadable { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn stage(image: &str, runtime: Option<&str>, tools: Option<&str>) -> (tempfile::TempDir, Paths) {
        let root = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under_root(root.path());
        fs::create_dir_all(&paths.identity_dir).expect("identity dir");
        fs::write(paths.image_env(), image).expect("image.env");
        if let Some(runtime) = runtime {
            fs::write(paths.runtime_env(), runtime).expect("runtime.env");
        }
        if let Some(tools) = tools {
            fs::write(paths.tools_env(), tools).expect("tools.env");
        }
        (root, paths)
    }

    const IDENTITY: &str = "RUNNER_IMAGE=runner-example\nRUNNER_DOMAIN=example\nRUNNER_ROLE=demo\n";

    #[test]
    fn loads_required_files_and_tolerates_missing_tools_env() {
        let (_root, paths) = stage(IDENTITY, Some("RUNTIME_SHELL=/bin/sh\n"), None);
        let contract = ImageContract::load(&paths).expect("valid contract");
        assert_eq!(contract.identity.image, "runner-example");
        assert!(contract.tools.is_none());
        assert!(contract.tool_versions().is_empty());
        let declared = contract.declared_runtime();
        assert_eq!(declared.shell.as_deref(), Some("/bin/sh"));
        assert_eq!(declared.user, None);
    }

    #[test]
    fn missing_runtime_env_is_named() {
        let (_root, paths) = stage(IDENTITY, None, None);
        let error = ImageContract::load(&paths).expect_err("runtime.env missing");
        assert_eq!(
            error.to_string(),
            format!("missing runtime contract ({})", paths.runtime_env().display())
        );
        assert_eq!(error.exit_code(), crate::exit::CONTRACT);
    }

    #[test]
    fn invalid_tools_env_is_an_error_even_though_the_file_is_optional() {
        let (_root, paths) = stage(IDENTITY, Some(""), Some("TOOL_X_VERSION=$(id)\n"));
        let error = ImageContract::load(&paths).expect_err("substitution rejected");
        assert_eq!(
            error.to_string(),
            format!(
                "invalid metadata in {}:1: command substitution '$()' is not supported",
                paths.tools_env().display()
            )
        );
    }

    #[test]
    fn tool_versions_are_sorted_by_name_and_skip_other_keys() {
        let tools = "TOOL_TERRAFORM_VERSION=1.6.0\nTOOL_TERRAFORM_SHA256=abc\nTOOL_AWS_VERSION=2.0\n";
        let (_root, paths) = stage(IDENTITY, Some(""), Some(tools));
        let contract = ImageContract::load(&paths).expect("valid contract");
        let versions = contract.tool_versions();
        let versions: Vec<(&str, &str)> = versions
            .iter()
            .map(|t| (t.name.as_str(), t.version.as_str()))
            .collect();
        assert_eq!(versions, [("AWS", "2.0"), ("TERRAFORM", "1.6.0")]);
        assert_eq!(
            contract.tool_entries().keys().collect::<Vec<_>>(),
            [
                "TOOL_AWS_VERSION",
                "TOOL_TERRAFORM_SHA256",
                "TOOL_TERRAFORM_VERSION"
            ]
        );
    }
}
