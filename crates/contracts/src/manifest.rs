//! The `resolved_files.sha256` manifest of a spec bundle, and its two derived
//! digests.
//!
//! # Format
//!
//! The manifest is sha256sum text, so `sha256sum -c resolved_files.sha256`
//! passes when run inside the bundle tree. It holds one line per payload
//! file:
//!
//! ```text
//! <64 lowercase hex>  <path>\n
//! ```
//!
//! - exactly two spaces separate the digest from the path (no `*` binary
//!   marker, no tabs);
//! - paths are relative, `/`-separated and in canonical form (no empty, `.`
//!   or `..` components, no backslashes, no control characters), so
//!   sha256sum never needs to escape them;
//! - lines are sorted bytewise by path (Rust `str` ordering) and every path
//!   is listed once;
//! - every line, including the last, ends with `\n`; there are no blank
//!   lines;
//! - the manifest never lists itself ([`MANIFEST_FILE_NAME`]) or the lock
//!   files (see [`RESERVED_FILE_NAMES`]).
//!
//! Because the format admits exactly one spelling of a given set of files,
//! parsing is strict and [`Sha256Manifest::to_bytes`] reproduces the parsed
//! input byte for byte.
//!
//! # Derived digests
//!
//! - [`Sha256Manifest::sha256_manifest`]: the sha256 of the manifest bytes
//!   exactly as written.
//! - [`Sha256Manifest::declaration_sha256`]: the sha256 of the concatenation,
//!   over the sorted paths, of `"<path>\n<sha256 hex>\n"`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::digest::{Sha256Hex, sha256_bytes, sha256_file};

/// File name of the manifest itself, at the bundle root.
pub const MANIFEST_FILE_NAME: &str = "resolved_files.sha256";

/// Bundle-root files the manifest never lists: the manifest itself and the
/// two lock files, which record the manifest's digests and so cannot be
/// covered by it.
pub const RESERVED_FILE_NAMES: [&str; 3] = [
    MANIFEST_FILE_NAME,
    "resolved_bundle_lock_v1.yaml",
    "implementation_bundle_build_lock_v1.yaml",
];

/// Whether `path` (a whole relative path, not a bare file name anywhere in
/// the tree) names one of the [`RESERVED_FILE_NAMES`] at the bundle root.
pub fn is_reserved_path(path: &str) -> bool {
    RESERVED_FILE_NAMES.contains(&path)
}

/// Quotes a path for an error message, escaping control characters so a
/// stray `\r` or NUL is visible instead of garbling the terminal.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for character in text.chars() {
        if character.is_control() {
            // `escape_debug` gives `\r`, `\0`, `\u{1b}`, ...
            out.extend(character.escape_debug());
        } else {
            out.push(character);
        }
    }
    out.push('\'');
    out
}

/// A hint appended to the control-character message when the character is
/// a carriage return, the usual sign of a file saved with CRLF endings.
fn control_character_hint(character: char) -> &'static str {
    if character == '\r' {
        " (CRLF line endings? manifests end lines with '\\n' only)"
    } else {
        ""
    }
}

/// Why a string is not a canonical relative bundle path.
///
/// Returned by [`validate_relative_path`]; every message quotes the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is the empty string.
    #[error("path is empty; name a file relative to its root")]
    Empty,
    /// The path starts with `/`.
    #[error(
        "path {} is absolute; write it relative to its root, without the leading '/'",
        quoted(.path)
    )]
    Absolute {
        /// The rejected path.
        path: String,
    },
    /// A component is `..`.
    #[error(
        "path {} has a '..' component; paths must stay inside their root",
        quoted(.path)
    )]
    ParentComponent {
        /// The rejected path.
        path: String,
    },
    /// A component is `.` (including a `./` prefix).
    #[error(
        "path {} has a '.' component; write it without './' segments",
        quoted(.path)
    )]
    CurrentComponent {
        /// The rejected path.
        path: String,
    },
    /// A component is empty: a doubled `/` or a trailing `/`.
    #[error(
        "path {} has an empty component (doubled or trailing '/'); remove the extra '/'",
        quoted(.path)
    )]
    EmptyComponent {
        /// The rejected path.
        path: String,
    },
    /// The path contains a backslash.
    #[error(
        "path {} contains a backslash; separate directories with '/'",
        quoted(.path)
    )]
    Backslash {
        /// The rejected path.
        path: String,
    },
    /// The path contains a NUL character.
    #[error("path {} contains a NUL byte; rename the file", quoted(.path))]
    Nul {
        /// The rejected path.
        path: String,
    },
    /// The path contains a control character other than NUL.
    #[error(
        "path {} contains control character U+{:04X}{}; rename the file",
        quoted(.path),
        u32::from(*.character),
        control_character_hint(*.character)
    )]
    ControlCharacter {
        /// The rejected path.
        path: String,
        /// The first control character found.
        character: char,
    },
}

/// Checks that `path` is a canonical relative bundle path: non-empty,
/// relative, `/`-separated, with no empty, `.` or `..` components, no
/// backslashes and no control characters.
///
/// Such a path means the same file on every platform and is written by
/// sha256sum without escaping. Reserved names are not checked here (see
/// [`is_reserved_path`]); the bundle code reuses this for overlay targets and
/// archive entries, which have their own rules about them.
pub fn validate_relative_path(path: &str) -> Result<(), PathError> {
    let owned = || path.to_owned();
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    // Control characters first: they make every later message hard to read.
    if let Some(character) = path.chars().find(|c| c.is_control()) {
        return Err(if character == '\0' {
            PathError::Nul { path: owned() }
        } else {
            PathError::ControlCharacter {
                path: owned(),
                character,
            }
        });
    }
    if path.contains('\\') {
        return Err(PathError::Backslash { path: owned() });
    }
    if path.starts_with('/') {
        return Err(PathError::Absolute { path: owned() });
    }
    for component in path.split('/') {
        match component {
            "" => return Err(PathError::EmptyComponent { path: owned() }),
            "." => return Err(PathError::CurrentComponent { path: owned() }),
            ".." => return Err(PathError::ParentComponent { path: owned() }),
            _ => {}
        }
    }
    Ok(())
}

/// A manifest that failed to parse, and the 1-based line at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ManifestError {
    /// The 1-based line number of the offending line.
    pub line: usize,
    /// What is wrong with it.
    pub kind: ManifestErrorKind,
}

/// What is wrong with a manifest line; see [`ManifestError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestErrorKind {
    /// The input is not UTF-8.
    #[error(
        "manifest is not valid UTF-8 (first bad byte at offset {offset}); manifests and file paths must be UTF-8"
    )]
    NotUtf8 {
        /// Byte offset of the first invalid byte in the whole input.
        offset: usize,
    },
    /// An empty (or whitespace-only) line.
    #[error("blank line; remove it (every line lists exactly one file)")]
    BlankLine,
    /// The last line does not end with `\n`.
    #[error("missing trailing newline")]
    MissingTrailingNewline,
    /// The line is not `<digest>`, two spaces, `<path>`: one space, a tab,
    /// or the `*` binary marker.
    #[error("expected \"<sha256>  <path>\" (two spaces between digest and path)")]
    MissingSeparator,
    /// The digest is not 64 lowercase hex characters.
    #[error(
        "digest {} is not 64 lowercase hex characters; write the sha256 as sha256sum prints it",
        quoted(.found)
    )]
    InvalidDigest {
        /// The rejected digest text, truncated to 80 characters.
        found: String,
    },
    /// The path is not a canonical relative path.
    #[error(transparent)]
    InvalidPath(PathError),
    /// The path is one of the [`RESERVED_FILE_NAMES`].
    #[error(
        "path {} is reserved and never listed in the manifest; remove this line",
        quoted(.path)
    )]
    ReservedPath {
        /// The reserved path.
        path: String,
    },
    /// The path was already listed.
    #[error("duplicate path {} (first listed on line {first_line})", quoted(.path))]
    DuplicatePath {
        /// The repeated path.
        path: String,
        /// The line that listed it first.
        first_line: usize,
    },
    /// The path sorts before the previous line's path.
    #[error(
        "path {} is not in bytewise order after {} on line {previous_line}; manifests are sorted",
        quoted(.path),
        quoted(.previous)
    )]
    Unsorted {
        /// The out-of-order path.
        path: String,
        /// The path on the previous line.
        previous: String,
        /// The previous line's number.
        previous_line: usize,
    },
}

/// Why [`Sha256Manifest::from_entries`] refused a set of entries.
///
/// Entries built in memory have no line numbers, so these errors name the
/// offending path instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestBuildError {
    /// An entry's path is not a canonical relative path.
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    /// An entry names one of the [`RESERVED_FILE_NAMES`].
    #[error(
        "path {} is reserved and never listed in the manifest; leave it out",
        quoted(.path)
    )]
    ReservedPath {
        /// The reserved path.
        path: String,
    },
    /// Two entries share a path.
    #[error("duplicate path {}; list each file once", quoted(.path))]
    DuplicatePath {
        /// The repeated path.
        path: String,
    },
}

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

/// One manifest line: a payload file and its sha256.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ManifestEntry {
    /// The sha256 of the file's contents.
    pub digest: Sha256Hex,
    /// The file's path relative to the bundle root, `/`-separated.
    pub path: String,
}

/// A parsed `resolved_files.sha256` manifest.
///
/// Invariant: every path is valid (see [`validate_relative_path`]), not
/// reserved, unique, and the entries are sorted bytewise by path. Every
/// constructor checks it, so [`Self::to_bytes`] always writes a manifest
/// that [`Self::parse`] accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sha256Manifest {
    entries: Vec<ManifestEntry>,
}

impl Sha256Manifest {
    /// Parses manifest bytes, strictly: anything [`Self::to_bytes`] would not
    /// have written byte for byte is rejected with the 1-based line number.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let text = std::str::from_utf8(bytes).map_err(|error| {
            let offset = error.valid_up_to();
            let newlines_before = bytes[..offset].iter().filter(|&&b| b == b'\n').count();
            ManifestError {
                line: newlines_before + 1,
                kind: ManifestErrorKind::NotUtf8 { offset },
            }
        })?;

        let mut entries: Vec<ManifestEntry> = Vec::new();
        // Path -> line that listed it, so a duplicate names both lines even
        // when an ordering mistake separates them.
        let mut first_listed: HashMap<&str, usize> = HashMap::new();
        let mut rest = text;
        let mut line = 0;
        while !rest.is_empty() {
            line += 1;
            let at = |kind| ManifestError { line, kind };
            let (content, terminated) = match rest.split_once('\n') {
                Some((content, after)) => {
                    rest = after;
                    (content, true)
                }
                None => (std::mem::take(&mut rest), false),
            };

            let (digest, path) = parse_line(content).map_err(at)?;
            if let Some(&first_line) = first_listed.get(path) {
                return Err(at(ManifestErrorKind::DuplicatePath {
                    path: path.to_owned(),
                    first_line,
                }));
            }
            if let Some(previous) = entries.last()
                && path < previous.path.as_str()
            {
                return Err(at(ManifestErrorKind::Unsorted {
                    path: path.to_owned(),
                    previous: previous.path.clone(),
                    // Blank lines are errors, so the previous entry is
                    // always on the previous line.
                    previous_line: line - 1,
                }));
            }
            if !terminated {
                return Err(at(ManifestErrorKind::MissingTrailingNewline));
            }
            first_listed.insert(path, line);
            entries.push(ManifestEntry {
                digest,
                path: path.to_owned(),
            });
        }
        Ok(Self { entries })
    }

    /// Builds a manifest from entries in any order: validates each path,
    /// sorts them, and rejects reserved names and duplicate paths (even with
    /// equal digests, since that means the caller listed a file twice).
    ///
    /// Errors name the offending path ([`ManifestBuildError`]); there are no
    /// line numbers yet.
    pub fn from_entries(
        entries: impl IntoIterator<Item = ManifestEntry>,
    ) -> Result<Self, ManifestBuildError> {
        let mut entries: Vec<ManifestEntry> = entries.into_iter().collect();
        for entry in &entries {
            validate_relative_path(&entry.path)?;
            if is_reserved_path(&entry.path) {
                return Err(ManifestBuildError::ReservedPath {
                    path: entry.path.clone(),
                });
            }
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].path == pair[1].path) {
            return Err(ManifestBuildError::DuplicatePath {
                path: pair[0].path.clone(),
            });
        }
        Ok(Self { entries })
    }

    /// Hashes every regular file under `root`, recursively, skipping the
    /// [`RESERVED_FILE_NAMES`] at the tree root (and only there). Each file
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
        Ok(Self { entries })
    }

    /// The entries, sorted bytewise by path.
    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    /// The digest listed for `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Sha256Hex> {
        self.entries
            .binary_search_by(|entry| entry.path.as_str().cmp(path))
            .ok()
            .map(|index| &self.entries[index].digest)
    }

    /// The number of files listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no file is listed (the manifest is then zero bytes).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The canonical manifest text: `"<hex>  <path>\n"` per entry, sorted.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.iter().map(|e| e.path.len() + 67).sum());
        for entry in &self.entries {
            out.extend_from_slice(entry.digest.to_hex().as_bytes());
            out.extend_from_slice(b"  ");
            out.extend_from_slice(entry.path.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// `sha256_manifest`: the sha256 of [`Self::to_bytes`], i.e. of the
    /// manifest file exactly as written.
    pub fn sha256_manifest(&self) -> Sha256Hex {
        sha256_bytes(&self.to_bytes())
    }

    /// `declaration_sha256`: the sha256 of the concatenation, over the sorted
    /// paths, of `"<path>\n<sha256 hex>\n"`.
    pub fn declaration_sha256(&self) -> Sha256Hex {
        let mut declaration = Vec::with_capacity(self.entries.iter().map(|e| e.path.len() + 66).sum());
        for entry in &self.entries {
            declaration.extend_from_slice(entry.path.as_bytes());
            declaration.push(b'\n');
            declaration.extend_from_slice(entry.digest.to_hex().as_bytes());
            declaration.push(b'\n');
        }
        sha256_bytes(&declaration)
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
        let mut listed = self.entries.iter().peekable();
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

/// Parses one line's content (without its `\n`) into digest and path.
fn parse_line(content: &str) -> Result<(Sha256Hex, &str), ManifestErrorKind> {
    if content.trim().is_empty() {
        return Err(ManifestErrorKind::BlankLine);
    }
    // The digest ends at the first space or tab; what follows must be
    // exactly two spaces. This rejects one space, a tab, and sha256sum's
    // `<hex> *path` binary marker alike.
    let Some(digest_end) = content.find([' ', '\t']) else {
        return Err(ManifestErrorKind::MissingSeparator);
    };
    let (digest_text, after_digest) = content.split_at(digest_end);
    let Some(path) = after_digest.strip_prefix("  ") else {
        return Err(ManifestErrorKind::MissingSeparator);
    };
    let digest = Sha256Hex::parse(digest_text).map_err(|_| ManifestErrorKind::InvalidDigest {
        found: digest_text.chars().take(80).collect(),
    })?;
    validate_relative_path(path).map_err(ManifestErrorKind::InvalidPath)?;
    if is_reserved_path(path) {
        return Err(ManifestErrorKind::ReservedPath {
            path: path.to_owned(),
        });
    }
    Ok((digest, path))
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

    /// A distinct valid digest per seed.
    fn digest_of(seed: &str) -> Sha256Hex {
        sha256_bytes(seed.as_bytes())
    }

    fn line(seed: &str, path: &str) -> String {
        format!("{}  {path}\n", digest_of(seed))
    }

    fn parse_error(input: &[u8]) -> String {
        match Sha256Manifest::parse(input) {
            Ok(manifest) => panic!("accepted {input:?} as {manifest:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn parses_valid_manifest() {
        let text = [
            line("1", "a.txt"),
            line("2", "a/b"),
            line("3", "resolved_files.sha256.d/x"),
            line("4", "sub/resolved_files.sha256"),
            line("5", "with space/ file"),
        ]
        .concat();
        let manifest = Sha256Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(manifest.len(), 5);
        assert!(!manifest.is_empty());
        assert_eq!(manifest.entries()[1].path, "a/b");
        assert_eq!(manifest.get("a/b"), Some(&digest_of("2")));
        assert_eq!(manifest.get("with space/ file"), Some(&digest_of("5")));
        assert_eq!(manifest.get("a"), None);
        assert_eq!(manifest.to_bytes(), text.as_bytes());
    }

    #[test]
    fn empty_manifest_is_zero_bytes() {
        let manifest = Sha256Manifest::parse(b"").unwrap();
        assert!(manifest.is_empty());
        assert_eq!(manifest, Sha256Manifest::default());
        assert!(manifest.to_bytes().is_empty());
        assert_eq!(manifest.sha256_manifest(), sha256_bytes(b""));
        assert_eq!(manifest.declaration_sha256(), sha256_bytes(b""));
    }

    #[test]
    fn rejects_bad_lines_with_line_numbers() {
        let hex = digest_of("x").to_hex();
        let good = [line("1", "a"), line("2", "b")].concat();
        let sep = "expected \"<sha256>  <path>\" (two spaces between digest and path)";
        let cases: Vec<(String, String)> = vec![
            // Separator.
            (format!("{good}{hex} c\n"), format!("line 3: {sep}")),
            (format!("{good}{hex}\tc\n"), format!("line 3: {sep}")),
            (format!("{good}{hex} *c\n"), format!("line 3: {sep}")),
            (format!("{hex}\n"), format!("line 1: {sep}")),
            (format!(" {hex}  a\n"), format!("line 1: {sep}")),
            // Digest.
            (
                format!("{}  a\n", hex.to_uppercase()),
                format!(
                    "line 1: digest '{}' is not 64 lowercase hex characters; \
                     write the sha256 as sha256sum prints it",
                    hex.to_uppercase()
                ),
            ),
            (
                format!("{good}abc123  c\n"),
                "line 3: digest 'abc123' is not 64 lowercase hex characters; \
                 write the sha256 as sha256sum prints it"
                    .to_owned(),
            ),
            (
                format!("{}  a\n", hex.replace('a', "g")),
                format!(
                    "line 1: digest '{}' is not 64 lowercase hex characters; \
                     write the sha256 as sha256sum prints it",
                    hex.replace('a', "g")
                ),
            ),
            // Paths.
            (
                format!("{hex}  \n"),
                "line 1: path is empty; name a file relative to its root".to_owned(),
            ),
            (
                format!("{good}{hex}  /abs\n"),
                "line 3: path '/abs' is absolute; write it relative to its root, \
                 without the leading '/'"
                    .to_owned(),
            ),
            (
                format!("{hex}  ../x\n"),
                "line 1: path '../x' has a '..' component; paths must stay inside their root".to_owned(),
            ),
            (
                format!("{hex}  a/../b\n"),
                "line 1: path 'a/../b' has a '..' component; paths must stay inside their root".to_owned(),
            ),
            (
                format!("{hex}  ./a\n"),
                "line 1: path './a' has a '.' component; write it without './' segments".to_owned(),
            ),
            (
                format!("{hex}  a/./b\n"),
                "line 1: path 'a/./b' has a '.' component; write it without './' segments".to_owned(),
            ),
            (
                format!("{hex}  a\\b\n"),
                "line 1: path 'a\\b' contains a backslash; separate directories with '/'".to_owned(),
            ),
            (
                format!("{hex}  a\0b\n"),
                "line 1: path 'a\\0b' contains a NUL byte; rename the file".to_owned(),
            ),
            (
                format!("{good}{hex}  c\r\n"),
                "line 3: path 'c\\r' contains control character U+000D (CRLF line endings? \
                 manifests end lines with '\\n' only); rename the file"
                    .to_owned(),
            ),
            (
                format!("{hex}  a\u{1b}b\n"),
                "line 1: path 'a\\u{1b}b' contains control character U+001B; rename the file".to_owned(),
            ),
            (
                format!("{hex}  a//b\n"),
                "line 1: path 'a//b' has an empty component (doubled or trailing '/'); \
                 remove the extra '/'"
                    .to_owned(),
            ),
            (
                format!("{hex}  a/\n"),
                "line 1: path 'a/' has an empty component (doubled or trailing '/'); \
                 remove the extra '/'"
                    .to_owned(),
            ),
            // Reserved names, as the whole path only.
            (
                format!("{good}{hex}  resolved_files.sha256\n"),
                "line 3: path 'resolved_files.sha256' is reserved and never listed in the \
                 manifest; remove this line"
                    .to_owned(),
            ),
            (
                format!("{hex}  implementation_bundle_build_lock_v1.yaml\n"),
                "line 1: path 'implementation_bundle_build_lock_v1.yaml' is reserved and never \
                 listed in the manifest; remove this line"
                    .to_owned(),
            ),
            (
                format!("{good}{hex}  resolved_bundle_lock_v1.yaml\n"),
                "line 3: path 'resolved_bundle_lock_v1.yaml' is reserved and never listed in \
                 the manifest; remove this line"
                    .to_owned(),
            ),
            // Duplicates and order.
            (
                format!("{good}{}", line("3", "b")),
                "line 3: duplicate path 'b' (first listed on line 2)".to_owned(),
            ),
            (
                [
                    line("1", "a"),
                    line("2", "a/b"),
                    line("3", "c"),
                    line("4", "d"),
                    line("5", "a/b"),
                ]
                .concat(),
                "line 5: duplicate path 'a/b' (first listed on line 2)".to_owned(),
            ),
            (
                [line("1", "a"), line("2", "c"), line("3", "b")].concat(),
                "line 3: path 'b' is not in bytewise order after 'c' on line 2; \
                 manifests are sorted"
                    .to_owned(),
            ),
            (
                // Bytewise: '/' (0x2f) sorts after '.' (0x2e).
                [line("1", "a/b"), line("2", "a.txt")].concat(),
                "line 2: path 'a.txt' is not in bytewise order after 'a/b' on line 1; \
                 manifests are sorted"
                    .to_owned(),
            ),
            (
                // Bytewise, not case-insensitive: 'B' < 'a'.
                [line("1", "a"), line("2", "B")].concat(),
                "line 2: path 'B' is not in bytewise order after 'a' on line 1; \
                 manifests are sorted"
                    .to_owned(),
            ),
            // Line structure.
            (
                format!("{good}{hex}  c"),
                "line 3: missing trailing newline".to_owned(),
            ),
            (format!("{hex}  a"), "line 1: missing trailing newline".to_owned()),
            (
                format!("{}\n{}", line("1", "a"), line("2", "b")),
                "line 2: blank line; remove it (every line lists exactly one file)".to_owned(),
            ),
            (
                format!("{good}\n"),
                "line 3: blank line; remove it (every line lists exactly one file)".to_owned(),
            ),
            (
                "\n".to_owned(),
                "line 1: blank line; remove it (every line lists exactly one file)".to_owned(),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_error(input.as_bytes()), expected, "input {input:?}");
        }
    }

    #[test]
    fn rejects_non_utf8_naming_the_line() {
        let mut input = [line("1", "a"), line("2", "b")].concat().into_bytes();
        input.extend_from_slice(format!("{}  c", digest_of("3")).as_bytes());
        let offset = input.len();
        input.extend_from_slice(b"\xff\n");
        let error = Sha256Manifest::parse(&input).unwrap_err();
        assert_eq!(error.line, 3);
        assert_eq!(error.kind, ManifestErrorKind::NotUtf8 { offset });
        assert_eq!(
            error.to_string(),
            format!(
                "line 3: manifest is not valid UTF-8 (first bad byte at offset {offset}); \
                 manifests and file paths must be UTF-8"
            )
        );
    }

    #[test]
    fn round_trips_canonically() {
        let manifest = Sha256Manifest::from_entries([
            ManifestEntry {
                digest: digest_of("z"),
                path: "z/last".to_owned(),
            },
            ManifestEntry {
                digest: digest_of("a"),
                path: "a".to_owned(),
            },
            ManifestEntry {
                digest: digest_of("m"),
                path: "dir/sub/file.yaml".to_owned(),
            },
        ])
        .unwrap();
        let paths: Vec<&str> = manifest.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a", "dir/sub/file.yaml", "z/last"]);

        let bytes = manifest.to_bytes();
        assert_eq!(Sha256Manifest::parse(&bytes), Ok(manifest.clone()));
        assert_eq!(Sha256Manifest::parse(&bytes).unwrap().to_bytes(), bytes);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            format!(
                "{}  a\n{}  dir/sub/file.yaml\n{}  z/last\n",
                digest_of("a"),
                digest_of("m"),
                digest_of("z")
            )
        );
    }

    #[test]
    fn derived_digests_match_hand_built_inputs() {
        let (da, db) = (digest_of("first"), digest_of("second"));
        let manifest = Sha256Manifest::from_entries([
            ManifestEntry {
                digest: db,
                path: "b/c.txt".to_owned(),
            },
            ManifestEntry {
                digest: da,
                path: "a.yaml".to_owned(),
            },
        ])
        .unwrap();

        let written = format!("{da}  a.yaml\n{db}  b/c.txt\n");
        assert_eq!(manifest.to_bytes(), written.as_bytes());
        assert_eq!(manifest.sha256_manifest(), sha256_bytes(written.as_bytes()));

        let declaration = format!("a.yaml\n{da}\nb/c.txt\n{db}\n");
        assert_eq!(
            manifest.declaration_sha256(),
            sha256_bytes(declaration.as_bytes())
        );
        assert_ne!(manifest.declaration_sha256(), manifest.sha256_manifest());
    }

    #[test]
    fn from_entries_rejects_bad_sets() {
        let entry = |path: &str| ManifestEntry {
            digest: digest_of(path),
            path: path.to_owned(),
        };
        let cases = [
            (
                vec![entry("b"), entry("a"), entry("b")],
                "duplicate path 'b'; list each file once",
            ),
            (
                vec![entry("a"), entry("resolved_bundle_lock_v1.yaml")],
                "path 'resolved_bundle_lock_v1.yaml' is reserved and never listed in the \
                 manifest; leave it out",
            ),
            (
                vec![entry("a"), entry("x/../y")],
                "path 'x/../y' has a '..' component; paths must stay inside their root",
            ),
        ];
        for (entries, expected) in cases {
            let error = Sha256Manifest::from_entries(entries).unwrap_err();
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn validates_relative_paths() {
        for good in [
            "a",
            "a/b/c.yaml",
            ".hidden",
            "...",
            "a..b/c.",
            "sub/resolved_files.sha256",
            "résumé/ünïcode",
            " leading space",
            // Reserved names are the manifest's concern, not the path's.
            "resolved_files.sha256",
        ] {
            assert_eq!(validate_relative_path(good), Ok(()), "{good:?}");
        }
        let owned = |path: &str| path.to_owned();
        assert_eq!(validate_relative_path(""), Err(PathError::Empty));
        assert_eq!(
            validate_relative_path("/a"),
            Err(PathError::Absolute { path: owned("/a") })
        );
        assert_eq!(
            validate_relative_path("a/.."),
            Err(PathError::ParentComponent { path: owned("a/..") })
        );
        assert_eq!(
            validate_relative_path("."),
            Err(PathError::CurrentComponent { path: owned(".") })
        );
        assert_eq!(
            validate_relative_path("a/"),
            Err(PathError::EmptyComponent { path: owned("a/") })
        );
        assert_eq!(
            validate_relative_path("a\\b"),
            Err(PathError::Backslash { path: owned("a\\b") })
        );
        assert_eq!(
            validate_relative_path("a\0"),
            Err(PathError::Nul { path: owned("a\0") })
        );
        assert_eq!(
            validate_relative_path("a\nb"),
            Err(PathError::ControlCharacter {
                path: owned("a\nb"),
                character: '\n'
            })
        );
        assert_eq!(
            validate_relative_path("a\u{85}"),
            Err(PathError::ControlCharacter {
                path: owned("a\u{85}"),
                character: '\u{85}'
            })
        );
    }

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
