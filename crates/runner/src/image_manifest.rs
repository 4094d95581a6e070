//! From an image's `image.manifest` to its identity files: how an image build
//! materializes `/etc/runner/{image,runtime,tools}.env`.
//!
//! The manifest is one `KEY=VALUE` file in the strict identity grammar. Its
//! keys are split by prefix, as runner-base v0.2.0's Dockerfile did with
//! `grep`: `RUNNER_*` to `image.env`, `RUNTIME_*` to `runtime.env`, `TOOL_*`
//! to `tools.env` (written even when empty). Unlike that `grep`, this
//! refuses what the runner would refuse later, at build time, with the
//! manifest's own line numbers: a manifest that breaks the grammar, lacks
//! `MANIFEST_SCHEMA_VERSION=1` or a required identity key, or has a key with
//! none of the three prefixes (a typo such as `RUNER_VENDOR` would otherwise
//! vanish silently).
//!
//! `runner-stage-identity` (the image build) and the contract tests both
//! stage identities through this module, so what the tests check is what
//! the image ships.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use dcx_contracts::atomic::{WriteError, atomic_write};
use dcx_contracts::identity::{EnvFile, IdentityError, ImageIdentity};

/// The manifest format this build reads.
pub const MANIFEST_SCHEMA_VERSION: &str = "1";

/// The mode of the identity files in an image: read-only, for everyone.
pub const IDENTITY_FILE_MODE: u32 = 0o444;

/// The first line of every identity file written here.
const GENERATED_HEADER: &str =
    "# Generated from the image manifest when the image was built; change the manifest, not this file.\n";

/// Why a manifest was refused or its identity files could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageManifestError {
    /// The manifest is unreadable or breaks the identity grammar, or its
    /// `RUNNER_*` keys lack a required one.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// `MANIFEST_SCHEMA_VERSION` is missing or not [`MANIFEST_SCHEMA_VERSION`].
    #[error(
        "{origin}: MANIFEST_SCHEMA_VERSION must be {MANIFEST_SCHEMA_VERSION}, found {}",
        found.as_deref().map_or_else(|| "no such key".to_owned(), |v| format!("'{v}'"))
    )]
    SchemaVersion {
        /// The manifest.
        origin: String,
        /// The value it sets, if any.
        found: Option<String>,
    },
    /// A key none of the identity files takes.
    #[error("{origin}: key '{key}' has none of the prefixes RUNNER_, RUNTIME_, TOOL_")]
    UnknownKey {
        /// The manifest.
        origin: String,
        /// The key.
        key: String,
    },
    /// An identity file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// An identity file could not be made read-only.
    #[error("cannot make {} read-only: {source}", path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
}

/// The three identity files of an image, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFiles {
    /// `image.env`: the `RUNNER_*` keys.
    pub image_env: String,
    /// `runtime.env`: the `RUNTIME_*` keys.
    pub runtime_env: String,
    /// `tools.env`: the `TOOL_*` keys.
    pub tools_env: String,
}

impl IdentityFiles {
    /// Splits a parsed manifest, keys kept in manifest order.
    ///
    /// # Errors
    ///
    /// [`ImageManifestError::SchemaVersion`], [`ImageManifestError::UnknownKey`], or
    /// [`ImageManifestError::Identity`] when `image.env` would lack a required
    /// key (the message names the manifest).
    pub fn from_manifest(manifest: &EnvFile) -> Result<Self, ImageManifestError> {
        let origin = manifest.origin();
        let version = manifest.get("MANIFEST_SCHEMA_VERSION");
        if version != Some(MANIFEST_SCHEMA_VERSION) {
            return Err(ImageManifestError::SchemaVersion {
                origin: origin.to_owned(),
                found: version.map(str::to_owned),
            });
        }
        let mut files = IdentityFiles {
            image_env: GENERATED_HEADER.to_owned(),
            runtime_env: GENERATED_HEADER.to_owned(),
            tools_env: GENERATED_HEADER.to_owned(),
        };
        for (key, value) in manifest.entries() {
            let file = if key == "MANIFEST_SCHEMA_VERSION" {
                continue;
            } else if key.starts_with("RUNNER_") {
                &mut files.image_env
            } else if key.starts_with("RUNTIME_") {
                &mut files.runtime_env
            } else if key.starts_with("TOOL_") {
                &mut files.tools_env
            } else {
                return Err(ImageManifestError::UnknownKey {
                    origin: origin.to_owned(),
                    key: key.to_owned(),
                });
            };
            file.push_str(key);
            file.push('=');
            file.push_str(value);
            file.push('\n');
        }
        // The runner refuses an image.env without its required keys; say so
        // now, naming the manifest the author edits.
        ImageIdentity::from_env_file(EnvFile::parse(&files.image_env, origin)?)?;
        Ok(files)
    }

    /// Reads and splits the manifest at `path`.
    ///
    /// # Errors
    ///
    /// As [`EnvFile::read`] and [`IdentityFiles::from_manifest`].
    pub fn read_manifest(path: &Path) -> Result<Self, ImageManifestError> {
        Self::from_manifest(&EnvFile::read(path)?)
    }

    /// Writes `image.env`, `runtime.env` and `tools.env` into `dir` (created
    /// if missing), each atomically and read-only
    /// ([`IDENTITY_FILE_MODE`]); returns their paths.
    ///
    /// # Errors
    ///
    /// [`ImageManifestError::Write`] or [`ImageManifestError::Permissions`].
    pub fn write_to(&self, dir: &Path) -> Result<Vec<PathBuf>, ImageManifestError> {
        let files = [
            ("image.env", &self.image_env),
            ("runtime.env", &self.runtime_env),
            ("tools.env", &self.tools_env),
        ];
        let mut written = Vec::with_capacity(files.len());
        for (name, text) in files {
            let path = dir.join(name);
            atomic_write(&path, text.as_bytes())?;
            fs::set_permissions(&path, fs::Permissions::from_mode(IDENTITY_FILE_MODE)).map_err(|source| {
                ImageManifestError::Permissions {
                    path: path.clone(),
                    source,
                }
            })?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(manifest: &str) -> Result<IdentityFiles, ImageManifestError> {
        IdentityFiles::from_manifest(&EnvFile::parse(manifest, "image.manifest")?)
    }

    fn split_err(manifest: &str) -> String {
        split(manifest).expect_err("manifest refused").to_string()
    }

    const MANIFEST: &str = "\
# identity
MANIFEST_SCHEMA_VERSION=1
RUNNER_IMAGE=runner-example
RUNNER_DOMAIN=example
RUNTIME_USER_NAME=runner
RUNNER_ROLE=demo
TOOL_HELLO_VERSION=1.0.0
RUNTIME_SHELL=/bin/bash
";

    #[test]
    fn keys_are_split_by_prefix_in_manifest_order() {
        let files = split(MANIFEST).expect("valid manifest");
        let body = |text: &str| text.strip_prefix(GENERATED_HEADER).map(str::to_owned);
        assert_eq!(
            body(&files.image_env).as_deref(),
            Some("RUNNER_IMAGE=runner-example\nRUNNER_DOMAIN=example\nRUNNER_ROLE=demo\n")
        );
        assert_eq!(
            body(&files.runtime_env).as_deref(),
            Some("RUNTIME_USER_NAME=runner\nRUNTIME_SHELL=/bin/bash\n")
        );
        assert_eq!(
            body(&files.tools_env).as_deref(),
            Some("TOOL_HELLO_VERSION=1.0.0\n")
        );
    }

    #[test]
    fn tools_env_is_written_without_tools() {
        let manifest = MANIFEST.replace("TOOL_HELLO_VERSION=1.0.0\n", "");
        let files = split(&manifest).expect("valid manifest");
        assert_eq!(files.tools_env, GENERATED_HEADER);
        let parsed = EnvFile::parse(&files.tools_env, "tools.env").expect("header is a comment");
        assert!(parsed.is_empty());
    }

    #[test]
    fn schema_version_is_required() {
        assert_eq!(
            split_err(&MANIFEST.replace("MANIFEST_SCHEMA_VERSION=1\n", "")),
            "image.manifest: MANIFEST_SCHEMA_VERSION must be 1, found no such key"
        );
        assert_eq!(
            split_err(&MANIFEST.replace("MANIFEST_SCHEMA_VERSION=1", "MANIFEST_SCHEMA_VERSION=2")),
            "image.manifest: MANIFEST_SCHEMA_VERSION must be 1, found '2'"
        );
    }

    #[test]
    fn keys_without_an_identity_prefix_are_refused() {
        assert_eq!(
            split_err(&format!("{MANIFEST}RUNER_VENDOR=acme\n")),
            "image.manifest: key 'RUNER_VENDOR' has none of the prefixes RUNNER_, RUNTIME_, TOOL_"
        );
    }

    #[test]
    fn required_identity_keys_are_checked_against_the_manifest() {
        assert_eq!(
            split_err(&MANIFEST.replace("RUNNER_ROLE=demo\n", "")),
            "missing required key 'RUNNER_ROLE' in image.manifest"
        );
    }

    #[test]
    fn grammar_errors_carry_manifest_line_numbers() {
        let manifest = MANIFEST.replace("RUNNER_DOMAIN=example", "RUNNER_DOMAIN=\"example\"");
        let error = EnvFile::parse(&manifest, "image.manifest").expect_err("quotes");
        assert_eq!(
            ImageManifestError::from(error).to_string(),
            "invalid metadata in image.manifest:4: quotes are not supported"
        );
    }

    #[test]
    fn files_are_written_read_only_and_can_be_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("etc/runner");
        let files = split(MANIFEST).expect("valid manifest");
        let written = files.write_to(&target).expect("first write");
        // A derived image stages its own identity over the base image's.
        let written_again = files.write_to(&target).expect("second write");
        assert_eq!(written, written_again);
        for path in &written {
            let mode = fs::metadata(path).expect("written").permissions().mode() & 0o7777;
            assert_eq!(mode, IDENTITY_FILE_MODE, "{}", path.display());
        }
        let image = EnvFile::read(&target.join("image.env")).expect("parses");
        assert_eq!(image.get("RUNNER_IMAGE"), Some("runner-example"));
    }
}
