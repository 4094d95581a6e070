//! Overlay application: resolving an overlay's source files, then applying
//! its operations to an unpacked base tree.
//!
//! # Order and rules (DESIGN.md, "Bundles")
//!
//! 1. `delete_paths`, sorted bytewise;
//! 2. `add_files` and `replace_files` merged and sorted bytewise by target.
//!
//! Every operation is checked against the base as it stands at that point:
//! a delete or replace of a path that is not a file, an add onto an
//! existing file or directory, or an add below a file is an error naming
//! the path. A target listed twice, a reserved target and a source path
//! outside the overlay root are refused when the document loads
//! ([`ImplementationOverlay::validate`]); a source that escapes the root
//! through a symbolic link is refused by [`ResolvedOverlay::resolve`].
//! All problems are reported together, before the tree is touched.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use dcx_contracts::bundle::{ImplementationOverlay, OverlayFile};
use dcx_contracts::digest::{HashingReader, sha256_reader};
use dcx_contracts::manifest::{ManifestBuildError, ManifestEntry, Sha256Manifest};
use dcx_contracts::{Document, Sha256Hex, Violation};

use crate::archive::{DIR_MODE, file_mode, set_mode};
use crate::hashes;
use crate::progress::{Progress, ProgressReader, Stage, StageGuard};

/// Why an overlay could not be resolved or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OverlayError {
    /// The document breaks its own contract.
    #[error("invalid implementation bundle overlay: {}", violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// Every violation.
        violations: Vec<Violation>,
    },
    /// The overlay root is not a readable directory.
    #[error("overlay root {} is not a readable directory: {source}", .root.display())]
    Root {
        /// The root given.
        root: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// A source file does not exist.
    #[error(
        "overlay source {source_path:?} (for target {target:?}) is missing: no file at {}; source paths are relative to the overlay root {} (see --overlay-root)",
        .looked_at.display(), .root.display()
    )]
    SourceMissing {
        /// The `source_path`.
        source_path: String,
        /// The first target that uses it.
        target: String,
        /// Where it was looked for.
        looked_at: PathBuf,
        /// The overlay root.
        root: PathBuf,
    },
    /// A source file resolves (through a symbolic link) outside the root.
    #[error(
        "overlay source {source_path:?} (for target {target:?}) escapes the overlay root {}: it resolves to {}",
        .root.display(), .resolved.display()
    )]
    SourceEscapes {
        /// The `source_path`.
        source_path: String,
        /// The first target that uses it.
        target: String,
        /// Where it really is.
        resolved: PathBuf,
        /// The overlay root.
        root: PathBuf,
    },
    /// A source path names a directory or special file.
    #[error("overlay source {source_path:?} (for target {target:?}) is not a regular file: {}", .looked_at.display())]
    SourceNotFile {
        /// The `source_path`.
        source_path: String,
        /// The first target that uses it.
        target: String,
        /// Where it was found.
        looked_at: PathBuf,
    },
    /// A source file could not be read.
    #[error("cannot read overlay source {}: {source}", .path.display())]
    SourceRead {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// A source file changed between hashing and copying.
    #[error("overlay source {source_path:?} changed during the build; build again")]
    SourceChanged {
        /// The `source_path`.
        source_path: String,
    },
    /// Operations that do not fit the base bundle.
    #[error("the overlay does not apply to the base bundle: {}", list(.problems))]
    Operations {
        /// One message per operation, each naming its path.
        problems: Vec<String>,
    },
    /// Writing the tree failed.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// The resulting file list is not a valid manifest.
    #[error("the overlaid tree cannot be listed in a manifest: {0}")]
    Manifest(#[from] ManifestBuildError),
    /// The overlay could not be serialized for hashing.
    #[error("cannot hash the overlay document: {0}")]
    Digest(#[from] serde_json::Error),
}

fn list(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => {
            let mut out = format!("{} problems", many.len());
            for problem in many {
                out.push_str("\n  - ");
                out.push_str(problem);
            }
            out
        }
    }
}

/// An overlay source file, found and hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    /// The file, canonicalized.
    path: PathBuf,
    digest: Sha256Hex,
    executable: bool,
}

/// An overlay whose source files all exist inside the overlay root, with
/// their digests and the overlay's `overlay_sha256`.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedOverlay {
    document: ImplementationOverlay,
    sources: BTreeMap<String, Source>,
    overlay_sha256: Sha256Hex,
}

/// What applying an overlay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The manifest of the overlaid tree.
    pub manifest: Sha256Manifest,
    /// Files added.
    pub added: usize,
    /// Files replaced.
    pub replaced: usize,
    /// Files deleted.
    pub deleted: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Add,
    Replace,
}

impl ResolvedOverlay {
    /// Checks `document`, finds each source file below `root` and hashes it.
    ///
    /// Sources are read through symbolic links, as long as the file they
    /// reach is inside `root`; a missing source, a directory, or a link out
    /// of the root is an error naming the `source_path`.
    pub(crate) fn resolve(
        document: ImplementationOverlay,
        root: &Path,
        progress: &dyn Progress,
    ) -> Result<Self, OverlayError> {
        let violations = document.validate();
        if !violations.is_empty() {
            return Err(OverlayError::Invalid { violations });
        }
        let canonical_root = fs::canonicalize(root).map_err(|source| OverlayError::Root {
            root: root.to_path_buf(),
            source,
        })?;

        let ops = &document.overlay;
        let mut sources = BTreeMap::new();
        let stage = StageGuard::start(progress, Stage::Hash, None);
        for file in ops.add_files.iter().chain(&ops.replace_files) {
            if sources.contains_key(&file.source_path) {
                continue;
            }
            let source = resolve_source(file, root, &canonical_root, &stage)?;
            sources.insert(file.source_path.clone(), source);
        }
        drop(stage);

        let digests: BTreeMap<String, Sha256Hex> = sources
            .iter()
            .map(|(path, source)| (path.clone(), source.digest))
            .collect();
        let overlay_sha256 = hashes::overlay_sha256(&document, &digests)?;
        Ok(Self {
            document,
            sources,
            overlay_sha256,
        })
    }

    /// The overlay document.
    pub(crate) fn document(&self) -> &ImplementationOverlay {
        &self.document
    }

    /// `overlay_sha256` (see [`hashes::overlay_sha256`]).
    pub(crate) fn overlay_sha256(&self) -> Sha256Hex {
        self.overlay_sha256
    }

    /// Applies the operations to `tree`, whose payload is exactly `base`
    /// (the caller verified it), and returns the new manifest.
    ///
    /// Every operation is checked first; on any problem the tree is left
    /// untouched and all problems are returned together.
    pub(crate) fn apply(&self, tree: &Path, base: &Sha256Manifest) -> Result<Applied, OverlayError> {
        let mut files: BTreeMap<String, Sha256Hex> = base
            .entries()
            .iter()
            .map(|entry| (entry.path.clone(), entry.digest))
            .collect();
        let ops = &self.document.overlay;

        let mut deletes: Vec<&String> = ops.delete_paths.iter().collect();
        deletes.sort();
        let mut writes: Vec<(Write, &OverlayFile)> = ops
            .add_files
            .iter()
            .map(|file| (Write::Add, file))
            .chain(ops.replace_files.iter().map(|file| (Write::Replace, file)))
            .collect();
        writes.sort_by(|a, b| a.1.path.cmp(&b.1.path));

        // Dry run on the file list, in the real order, collecting problems.
        let mut problems = Vec::new();
        for path in &deletes {
            if files.remove(path.as_str()).is_none() {
                let hint = if has_files_below(&files, path) {
                    " (it is a directory; list the files to delete)"
                } else {
                    ""
                };
                problems.push(format!(
                    "delete_paths: {path:?} is not a file in the base bundle{hint}"
                ));
            }
        }
        for (kind, file) in &writes {
            let path = &file.path;
            let problem = match kind {
                Write::Replace if !files.contains_key(path) => Some(format!(
                    "replace_files: {path:?} is not a file in the base bundle; use add_files to create it"
                )),
                Write::Add if files.contains_key(path) => Some(format!(
                    "add_files: {path:?} already exists in the base bundle; use replace_files to change it"
                )),
                Write::Add if has_files_below(&files, path) => {
                    Some(format!("add_files: {path:?} is a directory in the base bundle"))
                }
                Write::Add => file_ancestor(&files, path).map(|ancestor| {
                    format!(
                        "add_files: {path:?} would be inside {ancestor:?}, which is a file in the base bundle"
                    )
                }),
                Write::Replace => None,
            };
            match problem {
                Some(problem) => problems.push(problem),
                None => {
                    files.insert(path.clone(), self.source(file).digest);
                }
            }
        }
        if !problems.is_empty() {
            return Err(OverlayError::Operations { problems });
        }

        for path in &deletes {
            let full = tree.join(path);
            fs::remove_file(&full).map_err(|source| OverlayError::Write { path: full, source })?;
            prune_empty_parents(tree, path);
        }
        for (_, file) in &writes {
            self.copy_source(file, tree)?;
        }

        let manifest = Sha256Manifest::from_entries(
            files
                .into_iter()
                .map(|(path, digest)| ManifestEntry { digest, path }),
        )?;
        Ok(Applied {
            manifest,
            added: ops.add_files.len(),
            replaced: ops.replace_files.len(),
            deleted: ops.delete_paths.len(),
        })
    }

    /// The resolved source of `file`. `resolve` stored one for every
    /// `source_path` of the document, which cannot change afterwards (the
    /// fields are private), so the lookup cannot miss.
    fn source(&self, file: &OverlayFile) -> &Source {
        &self.sources[&file.source_path]
    }

    /// Copies a source over its target with a normalized mode, checking it
    /// still has the digest it was resolved with.
    fn copy_source(&self, file: &OverlayFile, tree: &Path) -> Result<(), OverlayError> {
        let source = self.source(file);
        let target = tree.join(&file.path);
        let write_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OverlayError::Write { path, source }
        };
        if let Some(parent) = target.parent() {
            create_dirs(tree, parent)?;
        }
        let input = File::open(&source.path).map_err(|e| OverlayError::SourceRead {
            path: source.path.clone(),
            source: e,
        })?;
        let mut output = File::create(&target).map_err(write_error(&target))?;
        let mut hashing = HashingReader::new(input);
        io::copy(&mut hashing, &mut output).map_err(write_error(&target))?;
        if hashing.finish().0 != source.digest {
            return Err(OverlayError::SourceChanged {
                source_path: file.source_path.clone(),
            });
        }
        set_mode(&target, file_mode(source.executable)).map_err(write_error(&target))
    }
}

fn resolve_source(
    file: &OverlayFile,
    root: &Path,
    canonical_root: &Path,
    stage: &StageGuard<'_>,
) -> Result<Source, OverlayError> {
    let looked_at = root.join(&file.source_path);
    let canonical = match fs::canonicalize(&looked_at) {
        Ok(path) => path,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(OverlayError::SourceMissing {
                source_path: file.source_path.clone(),
                target: file.path.clone(),
                looked_at,
                root: root.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(OverlayError::SourceRead {
                path: looked_at,
                source,
            });
        }
    };
    if !canonical.starts_with(canonical_root) {
        return Err(OverlayError::SourceEscapes {
            source_path: file.source_path.clone(),
            target: file.path.clone(),
            resolved: canonical,
            root: root.to_path_buf(),
        });
    }
    let read_error = |source| OverlayError::SourceRead {
        path: canonical.clone(),
        source,
    };
    let metadata = fs::metadata(&canonical).map_err(read_error)?;
    if !metadata.is_file() {
        return Err(OverlayError::SourceNotFile {
            source_path: file.source_path.clone(),
            target: file.path.clone(),
            looked_at,
        });
    }
    let (digest, _) = sha256_reader(ProgressReader::new(
        File::open(&canonical).map_err(read_error)?,
        stage,
    ))
    .map_err(read_error)?;
    Ok(Source {
        executable: is_executable(&metadata),
        path: canonical,
        digest,
    })
}

#[cfg(unix)]
fn is_executable(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &fs::Metadata) -> bool {
    false
}

/// Whether some file lies below directory `path`.
fn has_files_below(files: &BTreeMap<String, Sha256Hex>, path: &str) -> bool {
    let prefix = format!("{path}/");
    files
        .range(prefix.clone()..)
        .next()
        .is_some_and(|(key, _)| key.starts_with(&prefix))
}

/// The first ancestor of `path` that is a file, if any.
fn file_ancestor<'a>(files: &BTreeMap<String, Sha256Hex>, path: &'a str) -> Option<&'a str> {
    path.match_indices('/')
        .map(|(index, _)| &path[..index])
        .find(|ancestor| files.contains_key(*ancestor))
}

/// Creates `dir` and its missing parents below `tree` with the normalized
/// directory mode (independent of the umask).
fn create_dirs(tree: &Path, dir: &Path) -> Result<(), OverlayError> {
    let mut missing = Vec::new();
    let mut current = dir;
    while current != tree && !current.exists() {
        missing.push(current);
        match current.parent() {
            Some(parent) => current = parent,
            None => break,
        }
    }
    for dir in missing.into_iter().rev() {
        let fail = |source| OverlayError::Write {
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir(dir).map_err(fail)?;
        set_mode(dir, DIR_MODE).map_err(fail)?;
    }
    Ok(())
}

/// Removes the directories a delete left empty, up to (not including) the
/// tree root: empty directories are not bundle content.
fn prune_empty_parents(tree: &Path, path: &str) {
    let mut current = Path::new(path).parent();
    while let Some(dir) = current.filter(|dir| !dir.as_os_str().is_empty()) {
        // `remove_dir` refuses a non-empty directory, which ends the walk.
        if fs::remove_dir(tree.join(dir)).is_err() {
            break;
        }
        current = dir.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use dcx_contracts::digest::sha256_bytes;
    use dcx_contracts::{Format, from_str};

    const BASE_FILES: [(&str, &str); 4] = [
        ("payloads/core/a.md", "a\n"),
        ("payloads/core/b.md", "b\n"),
        ("payloads/core/only/c.md", "c\n"),
        ("payloads/core/file", "f\n"),
    ];

    fn overlay(add: &[(&str, &str)], replace: &[(&str, &str)], delete: &[&str]) -> ImplementationOverlay {
        let files = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(path, source)| format!("{{path: {path}, source_path: {source}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let text = format!(
            "version: 1\nrunner_id: rust\nbase_bundle:\n  bundle_id: core\n  bundle_version: 1.0.0\n  source:\n    repo: r\n    release_tag: v1\n    asset_url: base.tar.gz\n    sha256: {}\noverlay:\n  add_files: [{}]\n  replace_files: [{}]\n  delete_paths: [{}]\noutput_bundle:\n  bundle_id: core-rust\n  bundle_version: 1.0.0\n  summary: s\n  maintainers: [{{name: m}}]\nupdated_at: 2026-02-22T10:00:00Z\n",
            "0".repeat(64),
            files(add),
            files(replace),
            delete.join(", ")
        );
        from_str::<ImplementationOverlay>(&text, Format::Yaml, "overlay.yaml")
            .unwrap()
            .document
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        tree: PathBuf,
        base: Sha256Manifest,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("overlay");
        let tree = dir.path().join("tree");
        for (path, content) in BASE_FILES {
            let full = tree.join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        fs::create_dir_all(root.join("files")).unwrap();
        fs::write(root.join("files/new.md"), "new\n").unwrap();
        fs::write(root.join("files/a2.md"), "a2\n").unwrap();
        let base = Sha256Manifest::from_tree(&tree).unwrap();
        Fixture {
            _dir: dir,
            root,
            tree,
            base,
        }
    }

    #[test]
    fn applies_in_order_and_returns_the_manifest() {
        let f = fixture();
        let document = overlay(
            &[
                ("payloads/core/only", "files/new.md"),
                ("payloads/rust/new.md", "files/new.md"),
            ],
            &[("payloads/core/a.md", "files/a2.md")],
            &["payloads/core/only/c.md", "payloads/core/b.md"],
        );
        let resolved = ResolvedOverlay::resolve(document, &f.root, &NoProgress).unwrap();
        let applied = resolved.apply(&f.tree, &f.base).unwrap();
        // `payloads/core/only` can be added as a file because the delete of
        // its only file ran first and pruned the directory.
        assert_eq!(applied.manifest, Sha256Manifest::from_tree(&f.tree).unwrap());
        let paths: Vec<_> = applied
            .manifest
            .entries()
            .iter()
            .map(|e| e.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "payloads/core/a.md",
                "payloads/core/file",
                "payloads/core/only",
                "payloads/rust/new.md"
            ]
        );
        assert_eq!(
            applied.manifest.get("payloads/core/a.md"),
            Some(&sha256_bytes(b"a2\n"))
        );
        assert_eq!((applied.added, applied.replaced, applied.deleted), (2, 1, 2));
    }

    #[test]
    fn operations_that_do_not_fit_are_all_named_and_nothing_changes() {
        let f = fixture();
        let document = overlay(
            &[
                ("payloads/core/a.md", "files/new.md"),
                ("payloads/core/only", "files/new.md"),
                ("payloads/core/file/x.md", "files/new.md"),
            ],
            &[("payloads/core/missing.md", "files/a2.md")],
            &["payloads/core/gone.md", "payloads/core"],
        );
        let resolved = ResolvedOverlay::resolve(document, &f.root, &NoProgress).unwrap();
        let error = resolved.apply(&f.tree, &f.base).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the overlay does not apply to the base bundle: 6 problems\n  \
             - delete_paths: \"payloads/core\" is not a file in the base bundle (it is a directory; list the files to delete)\n  \
             - delete_paths: \"payloads/core/gone.md\" is not a file in the base bundle\n  \
             - add_files: \"payloads/core/a.md\" already exists in the base bundle; use replace_files to change it\n  \
             - add_files: \"payloads/core/file/x.md\" would be inside \"payloads/core/file\", which is a file in the base bundle\n  \
             - replace_files: \"payloads/core/missing.md\" is not a file in the base bundle; use add_files to create it\n  \
             - add_files: \"payloads/core/only\" is a directory in the base bundle"
        );
        assert_eq!(Sha256Manifest::from_tree(&f.tree).unwrap(), f.base);
    }

    #[test]
    fn missing_sources_are_named() {
        let f = fixture();
        let document = overlay(&[("payloads/x.md", "files/absent.md")], &[], &[]);
        let error = ResolvedOverlay::resolve(document, &f.root, &NoProgress).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "overlay source \"files/absent.md\" (for target \"payloads/x.md\") is missing: no file at {}; source paths are relative to the overlay root {} (see --overlay-root)",
                f.root.join("files/absent.md").display(),
                f.root.display()
            )
        );
        let document = overlay(&[("payloads/x.md", "files")], &[], &[]);
        let error = ResolvedOverlay::resolve(document, &f.root, &NoProgress).unwrap_err();
        assert!(matches!(error, OverlayError::SourceNotFile { .. }), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn sources_escaping_through_links_are_refused() {
        let f = fixture();
        let outside = f.root.parent().unwrap().join("secret.txt");
        fs::write(&outside, "secret").unwrap();
        std::os::unix::fs::symlink(&outside, f.root.join("files/link.md")).unwrap();
        std::os::unix::fs::symlink("new.md", f.root.join("files/inside.md")).unwrap();

        let document = overlay(&[("payloads/x.md", "files/link.md")], &[], &[]);
        let error = ResolvedOverlay::resolve(document, &f.root, &NoProgress).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "overlay source \"files/link.md\" (for target \"payloads/x.md\") escapes the overlay root {}: it resolves to {}",
                f.root.display(),
                fs::canonicalize(&outside).unwrap().display()
            )
        );
        // A link that stays inside the root is read through.
        let document = overlay(&[("payloads/x.md", "files/inside.md")], &[], &[]);
        assert!(ResolvedOverlay::resolve(document, &f.root, &NoProgress).is_ok());
    }

    #[test]
    fn invalid_documents_are_refused() {
        let f = fixture();
        let mut document = overlay(&[], &[], &[]);
        document
            .overlay
            .delete_paths
            .push("resolved_files.sha256".to_owned());
        let error = ResolvedOverlay::resolve(document, &f.root, &NoProgress).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid implementation bundle overlay: /overlay/delete_paths/0: \"resolved_files.sha256\" is generated by the build and cannot be overlaid"
        );
    }
}
