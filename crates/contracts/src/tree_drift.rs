//! A bundle tree on disk against its manifest: hashing every file of the
//! tree into a [`Sha256Manifest`], and the drift between a manifest and the
//! tree it should describe ([`TreeDrift`]). Both walk the tree with the same
//! rules: regular files only, canonical UTF-8 names, the reserved files at
//! the root skipped.

use std::io;
use std::path::{Path, PathBuf};

use crate::digest::{Sha256Hex, sha256_file};
use crate::relative_path::{PathError, validate_relative_path};
use crate::sha256_manifest::{ManifestEntry, Sha256Manifest, is_reserved_path};

/// Why a bundle tree could not be hashed or compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// The root is not a directory.
    #[error("bundle root '{}' is not a directory", .path.display())]
    NotADirectory {
        /// The root given.
        path: PathBuf,
    },
    /// Reading a directory or file failed.
    #[error("cannot read '{}': {source}", .path.display())]
    Io {
        /// The directory or file being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The tree contains a symbolic link.
    #[error(
        "'{}' is a symbolic link; bundles hold regular files only, so replace it with a copy of its target",
        .path.display()
    )]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// The tree contains a device, socket, fifo or other special file.
    #[error(
        "'{}' is not a regular file or directory; remove it from the bundle",
        .path.display()
    )]
    SpecialFile {
        /// The special file.
        path: PathBuf,
    },
    /// A file or directory name is not UTF-8, so it cannot be listed.
    #[error("'{}' has a name that is not valid UTF-8; rename it", .path.display())]
    NonUtf8Name {
        /// The entry with the non-UTF-8 name.
        path: PathBuf,
    },
    /// A file's relative path is not a canonical bundle path (a backslash
    /// or control character in its name).
    #[error("cannot list '{}' in the manifest: {source}", .path.display())]
    InvalidPath {
        /// The file.
        path: PathBuf,
        /// Why its relative path is rejected.
        #[source]
        source: PathError,
    },
}

impl Sha256Manifest {
    /// Hashes every regular file under `root`, recursively, skipping the
    /// [`RESERVED_FILE_NAMES`](crate::sha256_manifest::RESERVED_FILE_NAMES) at the tree root (and only there). Each file
    /// is streamed, never read whole into memory.
    ///
    /// Symbolic links, special files (fifos, sockets, devices), names that
    /// are not UTF-8 and names that are not canonical paths (backslashes,
    /// control characters) are errors naming the file. Empty directories
    /// leave no trace, as with sha256sum.
    ///
    /// `root` itself may be a symlink to a directory; nothing below it may.
    /// The walk checks file types before opening, but it is not hardened
    /// against the tree being changed while it runs.
    pub fn from_tree(root: &Path) -> Result<Self, TreeError> {
        let mut entries = Vec::new();
        for file in list_tree_files(root)? {
            let digest = sha256_file(&file.full_path).map_err(|source| TreeError::Io {
                path: file.full_path.clone(),
                source,
            })?;
            entries.push(ManifestEntry {
                digest,
                path: file.relative_path,
            });
        }
        // The walk already validated, de-duplicated (the file system did),
        // skipped reserved names and sorted, so the invariant holds.
        Ok(Self::from_checked_entries(entries))
    }

    /// Compares the manifest against the tree at `root`: listed files that
    /// are missing, listed files whose digest differs, and files present in
    /// the tree but not listed. Reserved files at the root are ignored.
    ///
    /// Only listed files are hashed. The tree is walked with the same rules
    /// as [`Self::from_tree`], so a symlink or special file anywhere in it is
    /// an error rather than drift.
    pub fn verify_tree(&self, root: &Path) -> Result<TreeDrift, TreeError> {
        let files = list_tree_files(root)?;
        let mut drift = TreeDrift::default();

        // Both lists are sorted by path, so one merge pass classifies every
        // file.
        let mut listed = self.entries().iter().peekable();
        let mut present = files.into_iter().peekable();
        loop {
            match (listed.peek(), present.peek()) {
                (None, None) => break,
                (Some(entry), Some(file)) if entry.path == file.relative_path => {
                    let actual = sha256_file(&file.full_path).map_err(|source| TreeError::Io {
                        path: file.full_path.clone(),
                        source,
                    })?;
                    if actual != entry.digest {
                        drift.mismatched.push((entry.path.clone(), entry.digest, actual));
                    }
                    listed.next();
                    present.next();
                }
                (Some(entry), Some(file)) if entry.path < file.relative_path => {
                    drift.missing.push(entry.path.clone());
                    listed.next();
                }
                (Some(entry), None) => {
                    drift.missing.push(entry.path.clone());
                    listed.next();
                }
                (_, Some(file)) => {
                    drift.extra.push(file.relative_path.clone());
                    present.next();
                }
            }
        }
        Ok(drift)
    }
}

/// How a tree differs from its manifest. Each list is sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDrift {
    /// Listed in the manifest but absent from the tree.
    pub missing: Vec<String>,
    /// Present in both with different contents: path, expected digest (the
    /// manifest's), actual digest (the file's).
    pub mismatched: Vec<(String, Sha256Hex, Sha256Hex)>,
    /// Present in the tree but not listed.
    pub extra: Vec<String>,
}

impl TreeDrift {
    /// Whether the tree matches the manifest exactly.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.mismatched.is_empty() && self.extra.is_empty()
    }
}

/// A regular file found by [`list_tree_files`].
struct TreeFile {
    /// `/`-separated path relative to the root, validated.
    relative_path: String,
    /// Path to open.
    full_path: PathBuf,
}

/// Lists the regular files under `root` that a manifest would cover, sorted
/// bytewise by relative path, rejecting anything a bundle may not contain.
fn list_tree_files(root: &Path) -> Result<Vec<TreeFile>, TreeError> {
    let root_metadata = std::fs::metadata(root).map_err(|source| TreeError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    if !root_metadata.is_dir() {
        return Err(TreeError::NotADirectory {
            path: root.to_path_buf(),
        });
    }

    let mut files = Vec::new();
    // Directories still to read: (relative prefix, full path). An explicit
    // stack keeps deep trees from exhausting the call stack.
    let mut pending: Vec<(String, PathBuf)> = vec![(String::new(), root.to_path_buf())];
    while let Some((prefix, directory)) = pending.pop() {
        let io_error = |source| TreeError::Io {
            path: directory.clone(),
            source,
        };
        for dir_entry in std::fs::read_dir(&directory).map_err(io_error)? {
            let dir_entry = dir_entry.map_err(io_error)?;
            let full_path = dir_entry.path();
            let Some(name) = dir_entry.file_name().to_str().map(str::to_owned) else {
                return Err(TreeError::NonUtf8Name { path: full_path });
            };
            // `DirEntry::file_type` does not follow symlinks, so links are
            // seen as links, and fifos are caught before anything opens them.
            let file_type = dir_entry.file_type().map_err(|source| TreeError::Io {
                path: full_path.clone(),
                source,
            })?;
            let relative_path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if file_type.is_symlink() {
                return Err(TreeError::Symlink { path: full_path });
            } else if file_type.is_dir() {
                pending.push((relative_path, full_path));
            } else if file_type.is_file() {
                if is_reserved_path(&relative_path) {
                    continue;
                }
                if let Err(source) = validate_relative_path(&relative_path) {
                    return Err(TreeError::InvalidPath {
                        path: full_path,
                        source,
                    });
                }
                files.push(TreeFile {
                    relative_path,
                    full_path,
                });
            } else {
                return Err(TreeError::SpecialFile { path: full_path });
            }
        }
    }
    files.sort_by(|a, b| a.relative_path.cmp(&b.relative_path));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::fs;
    use std::process::Command;

    use crate::digest::sha256_bytes;
    use crate::sha256_manifest::{MANIFEST_FILE_NAME, RESERVED_FILE_NAMES};

    /// Writes a small bundle tree with nested directories and the reserved
    /// files at the root.
    fn write_tree(root: &Path) {
        fs::create_dir_all(root.join("specs/nested/deeper")).unwrap();
        fs::create_dir_all(root.join("empty-dir")).unwrap();
        fs::write(root.join("README.md"), "hello\n").unwrap();
        fs::write(root.join("specs/a.yaml"), "a: 1\n").unwrap();
        fs::write(root.join("specs/nested/deeper/b.json"), "{}").unwrap();
        fs::write(root.join("specs/nested/empty"), "").unwrap();
        // A reserved name below the root is an ordinary payload file.
        fs::write(root.join("specs/resolved_files.sha256"), "payload").unwrap();
        for reserved in RESERVED_FILE_NAMES {
            fs::write(root.join(reserved), "not payload\n").unwrap();
        }
    }

    #[test]
    #[allow(
        clippy::print_stderr,
        reason = "tells whoever runs the tests that the sha256sum check was skipped"
    )]
    fn from_tree_hashes_files_and_passes_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_tree(root);

        let manifest = Sha256Manifest::from_tree(root).unwrap();
        let expected = Sha256Manifest::from_entries([
            ManifestEntry {
                digest: sha256_bytes(b"hello\n"),
                path: "README.md".to_owned(),
            },
            ManifestEntry {
                digest: sha256_bytes(b"a: 1\n"),
                path: "specs/a.yaml".to_owned(),
            },
            ManifestEntry {
                digest: sha256_bytes(b"{}"),
                path: "specs/nested/deeper/b.json".to_owned(),
            },
            ManifestEntry {
                digest: sha256_bytes(b""),
                path: "specs/nested/empty".to_owned(),
            },
            ManifestEntry {
                digest: sha256_bytes(b"payload"),
                path: "specs/resolved_files.sha256".to_owned(),
            },
        ])
        .unwrap();
        assert_eq!(manifest, expected);

        // Writing the manifest into the tree does not change what it covers.
        fs::write(root.join(MANIFEST_FILE_NAME), manifest.to_bytes()).unwrap();
        assert_eq!(Sha256Manifest::from_tree(root).unwrap(), manifest);
        assert!(manifest.verify_tree(root).unwrap().is_clean());

        match Command::new("sha256sum")
            .args(["-c", MANIFEST_FILE_NAME])
            .current_dir(root)
            .output()
        {
            Ok(output) => {
                let report = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                assert!(output.status.success(), "sha256sum -c failed: {report}");
                // Without GNU's --strict, badly formatted lines only warn on
                // stderr; an empty stderr means every line was understood.
                assert!(output.stderr.is_empty(), "sha256sum -c warned: {report}");
            }
            // Not every build machine has coreutils; the format itself is
            // covered by the parse and round-trip tests.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                eprintln!("note: sha256sum not on PATH; skipping the sha256sum -c check");
            }
            Err(error) => panic!("running sha256sum: {error}"),
        }
    }

    #[test]
    fn verify_tree_reports_missing_changed_and_extra() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_tree(root);
        let manifest = Sha256Manifest::from_tree(root).unwrap();

        fs::remove_file(root.join("specs/a.yaml")).unwrap();
        fs::remove_file(root.join("README.md")).unwrap();
        fs::write(root.join("specs/nested/deeper/b.json"), "{\"x\":1}").unwrap();
        fs::write(root.join("specs/new.txt"), "new").unwrap();
        fs::write(root.join("0-first"), "extra").unwrap();
        fs::create_dir(root.join("zz")).unwrap();
        fs::write(root.join("zz/late"), "extra").unwrap();
        // Rewriting a reserved root file is not drift.
        fs::write(root.join(MANIFEST_FILE_NAME), "changed").unwrap();

        let drift = manifest.verify_tree(root).unwrap();
        assert!(!drift.is_clean());
        assert_eq!(
            drift,
            TreeDrift {
                missing: vec!["README.md".to_owned(), "specs/a.yaml".to_owned()],
                mismatched: vec![(
                    "specs/nested/deeper/b.json".to_owned(),
                    sha256_bytes(b"{}"),
                    sha256_bytes(b"{\"x\":1}"),
                )],
                extra: vec![
                    "0-first".to_owned(),
                    "specs/new.txt".to_owned(),
                    "zz/late".to_owned()
                ],
            }
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_in_tree_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_tree(root);
        let link = root.join("specs/nested/link.yaml");
        std::os::unix::fs::symlink("../a.yaml", &link).unwrap();

        let error = Sha256Manifest::from_tree(root).unwrap_err();
        assert!(
            matches!(&error, TreeError::Symlink { path } if *path == link),
            "{error:?}"
        );
        assert!(error.to_string().contains("is a symbolic link"), "{error}");

        let manifest = Sha256Manifest::default();
        assert!(matches!(
            manifest.verify_tree(root),
            Err(TreeError::Symlink { .. })
        ));

        // A symlinked directory is rejected too, not followed.
        fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("nested", root.join("specs/dir-link")).unwrap();
        assert!(matches!(
            Sha256Manifest::from_tree(root),
            Err(TreeError::Symlink { .. })
        ));
    }

    #[test]
    fn from_tree_rejects_bad_names_and_non_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("file"), "x").unwrap();
        assert!(matches!(
            Sha256Manifest::from_tree(&root.join("file")),
            Err(TreeError::NotADirectory { .. })
        ));
        assert!(matches!(
            Sha256Manifest::from_tree(&root.join("absent")),
            Err(TreeError::Io { .. })
        ));

        #[cfg(unix)]
        {
            fs::write(root.join("back\\slash"), "x").unwrap();
            let error = Sha256Manifest::from_tree(root).unwrap_err();
            assert!(
                matches!(
                    &error,
                    TreeError::InvalidPath {
                        source: PathError::Backslash { .. },
                        ..
                    }
                ),
                "{error:?}"
            );
            fs::remove_file(root.join("back\\slash")).unwrap();

            use std::os::unix::ffi::OsStrExt;
            let bad_name = std::ffi::OsStr::from_bytes(b"bad-\xff");
            // Some file systems refuse non-UTF-8 names; only check where
            // one could be created.
            if fs::write(root.join(bad_name), "x").is_ok() {
                assert!(matches!(
                    Sha256Manifest::from_tree(root),
                    Err(TreeError::NonUtf8Name { .. })
                ));
            }
        }
    }
}
