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

use crate::digest::{Sha256Hex, sha256_bytes};
use crate::relative_path::{PathError, quoted, validate_relative_path};

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

    /// A manifest of entries the caller has already checked: valid,
    /// unreserved, unique paths, sorted bytewise (the tree walk of
    /// [`Self::from_tree`] yields nothing else).
    pub(crate) fn from_checked_entries(entries: Vec<ManifestEntry>) -> Self {
        debug_assert!(entries.windows(2).all(|pair| pair[0].path < pair[1].path));
        Self { entries }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
