//! Bundle packages (`.tar.gz`): safe unpacking here, reproducible packing in
//! [`pack`].
//!
//! # Unpacking
//!
//! [`unpack`] reads a package once, as a stream, and for every entry:
//!
//! - checks its path before anything touches the disk: relative, no `..`,
//!   canonical (a leading `./`, as `tar -C dir .` writes, is accepted and
//!   dropped); the root entry `./` is skipped;
//! - accepts regular files and directories only: symbolic links, hard
//!   links, devices, fifos and every other entry type are refused;
//! - refuses an entry that repeats an earlier path, and a file that sits
//!   where an earlier entry needs a directory (or the other way round);
//! - counts entries, each member's declared size and their total against
//!   [`Limits`], so a decompression bomb stops at the cap rather than at a
//!   full disk;
//! - hashes each file while writing it, so the caller can check the
//!   package's own `resolved_files.sha256` without reading the tree again.
//!
//! Files are created with `create_new` below a directory the caller made
//! for the purpose, and their modes are set explicitly (0644, or 0755 when
//! the entry had an execute bit), so the result does not depend on the
//! umask. Every error names the entry as the archive spells it.

pub(crate) mod pack;

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use dcx_contracts::Sha256Hex;
use dcx_contracts::digest::{HashingReader, sha256_bytes};
use dcx_contracts::manifest::{PathError, RESERVED_FILE_NAMES, validate_relative_path};
use tar::EntryType;

use crate::Limits;
use crate::progress::{Progress, ProgressReader, Stage, StageGuard};

/// The largest reserved root file (manifest or lock) read into memory:
/// 64 MiB of manifest lists over half a million files.
pub(crate) const MAX_RESERVED_FILE_BYTES: u64 = 64 << 20;

/// A regular file found in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackedFile {
    /// The sha256 of its contents.
    pub digest: Sha256Hex,
    /// Its size in bytes.
    pub size: u64,
    /// Whether the entry had an execute bit.
    pub executable: bool,
}

/// What a package holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unpacked {
    /// Every regular file by bundle path, the reserved root files included.
    pub files: BTreeMap<String, UnpackedFile>,
    /// The contents of the reserved root files present
    /// (`resolved_files.sha256` and the two locks).
    pub(crate) reserved: BTreeMap<String, Vec<u8>>,
    /// Entries read, directories included.
    pub entries: u64,
}

impl Unpacked {
    /// The contents of reserved root file `name`, if the package has it.
    pub(crate) fn reserved(&self, name: &str) -> Option<&[u8]> {
        self.reserved.get(name).map(Vec::as_slice)
    }

    /// The digests of the payload files: every file but the reserved root
    /// files, which the manifest never lists.
    pub(crate) fn payload_digests(&self) -> BTreeMap<String, Sha256Hex> {
        self.files
            .iter()
            .filter(|(path, _)| !RESERVED_FILE_NAMES.contains(&path.as_str()))
            .map(|(path, file)| (path.clone(), file.digest))
            .collect()
    }
}

/// Why a package could not be unpacked. Entry names are quoted as the
/// archive spells them, so `tar -tvzf` finds them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// An absolute entry path.
    #[error("entry {entry:?} has an absolute path; bundle packages hold relative paths only")]
    AbsolutePath {
        /// The entry.
        entry: String,
    },
    /// An entry path with a `..` component.
    #[error("entry {entry:?} has a '..' component and would land outside the bundle")]
    ParentTraversal {
        /// The entry.
        entry: String,
    },
    /// Another non-canonical entry path (empty component, backslash,
    /// control character).
    #[error("entry {entry:?} has an invalid path: {source}")]
    InvalidPath {
        /// The entry.
        entry: String,
        /// Why the path is rejected.
        #[source]
        source: PathError,
    },
    /// An entry path that is not UTF-8.
    #[error("entry {entry:?} has a path that is not valid UTF-8; bundle paths are UTF-8")]
    NonUtf8Path {
        /// The entry, lossily decoded.
        entry: String,
    },
    /// A symbolic link.
    #[error(
        "entry {entry:?} is a symbolic link (to {target:?}); bundle packages hold regular files and directories only"
    )]
    Symlink {
        /// The entry.
        entry: String,
        /// Its target.
        target: String,
    },
    /// A hard link.
    #[error(
        "entry {entry:?} is a hard link (to {target:?}); bundle packages hold regular files and directories only"
    )]
    HardLink {
        /// The entry.
        entry: String,
        /// Its target.
        target: String,
    },
    /// A character or block device, or a fifo.
    #[error("entry {entry:?} is a {kind}; bundle packages hold regular files and directories only")]
    SpecialFile {
        /// The entry.
        entry: String,
        /// "character device", "block device" or "fifo".
        kind: &'static str,
    },
    /// Any other entry type (sparse files, global headers, …).
    #[error("entry {entry:?} has unsupported tar entry type {kind}")]
    UnsupportedEntry {
        /// The entry.
        entry: String,
        /// The type as tar names it.
        kind: String,
    },
    /// A path that an earlier entry already used.
    #[error("entry {entry:?} appears twice in the archive; a package lists each path once")]
    Duplicate {
        /// The entry.
        entry: String,
    },
    /// A file where an earlier entry needs a directory, or the other way
    /// round.
    #[error("entry {entry:?} conflicts with entry {other:?}: one path cannot be both a file and a directory")]
    Conflict {
        /// The later entry.
        entry: String,
        /// The earlier path it conflicts with.
        other: String,
    },
    /// More entries than the cap.
    #[error(
        "the archive has more than {limit} entries; refusing to unpack it (raise --max-entries if the bundle really is that large)"
    )]
    TooManyEntries {
        /// The cap.
        limit: u64,
    },
    /// One member is larger than the per-member cap.
    #[error(
        "entry {entry:?} has {size} bytes, over the cap of {limit} bytes for one member; refusing to unpack (raise --max-member-bytes if the bundle really has a file that large)"
    )]
    MemberTooLarge {
        /// The entry.
        entry: String,
        /// Its declared size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// The declared sizes add up to more than the cap.
    #[error(
        "entry {entry:?} takes the unpacked size past the cap of {limit} bytes; refusing to unpack (raise --max-unpacked-bytes if the bundle really is that large)"
    )]
    TooLarge {
        /// The entry that crossed the cap.
        entry: String,
        /// The cap.
        limit: u64,
    },
    /// A reserved root file too large to read.
    #[error("entry {entry:?} has {size} bytes, more than the {limit} a manifest or lock may have")]
    ReservedTooLarge {
        /// The entry.
        entry: String,
        /// Its declared size.
        size: u64,
        /// The cap on a manifest or lock (64 MiB).
        limit: u64,
    },
    /// The gzip or tar stream is malformed.
    #[error("not a valid .tar.gz package: {reason}")]
    Corrupt {
        /// What the decoder said.
        reason: String,
    },
    /// Bytes follow the gzip stream.
    #[error("not a valid .tar.gz package: data follows the end of the gzip stream")]
    TrailingData,
    /// Writing an unpacked file failed.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
}

fn corrupt(error: &io::Error) -> ArchiveError {
    ArchiveError::Corrupt {
        reason: crate::fetch::error_chain(error),
    }
}

/// Unpacks the `.tar.gz` stream `reader` into `dest` (which must be an
/// empty directory the caller owns, normally a fresh temporary one), or,
/// when `dest` is `None`, only reads and hashes it.
///
/// `compressed_size` sizes the progress bar. See the module documentation
/// for the rules every entry must pass.
pub fn unpack(
    reader: impl Read,
    dest: Option<&Path>,
    limits: &Limits,
    compressed_size: Option<u64>,
    progress: &dyn Progress,
) -> Result<Unpacked, ArchiveError> {
    let stage = StageGuard::start(progress, Stage::Unpack, compressed_size);
    // `bufread::GzDecoder` hands its buffered reader back, so bytes after
    // the gzip member can be detected rather than silently dropped.
    let buffered = BufReader::with_capacity(256 * 1024, ProgressReader::new(reader, &stage));
    let mut archive = tar::Archive::new(flate2::bufread::GzDecoder::new(buffered));
    let mut unpacker = Unpacker {
        dest,
        limits,
        seen: Seen::default(),
        unpacked_bytes: 0,
        out: Unpacked::default(),
    };
    for entry in archive.entries().map_err(|e| corrupt(&e))? {
        let entry = entry.map_err(|e| corrupt(&e))?;
        unpacker.entry(entry)?;
    }

    // Read the gzip member to its end so its CRC and length are checked,
    // then insist nothing follows it.
    let mut decoder = archive.into_inner();
    io::copy(&mut decoder, &mut io::sink()).map_err(|e| corrupt(&e))?;
    let mut rest = decoder.into_inner();
    if !rest.fill_buf().map_err(|e| corrupt(&e))?.is_empty() {
        return Err(ArchiveError::TrailingData);
    }

    if let Some(dest) = dest {
        set_directory_modes(dest, &unpacker.seen.dirs)?;
    }
    Ok(unpacker.out)
}

struct Unpacker<'a> {
    dest: Option<&'a Path>,
    limits: &'a Limits,
    seen: Seen,
    unpacked_bytes: u64,
    out: Unpacked,
}

impl Unpacker<'_> {
    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        self.out.entries += 1;
        if self.out.entries > self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        let raw = entry.path_bytes();
        let name = match std::str::from_utf8(&raw) {
            Ok(name) => name.to_owned(),
            Err(_) => {
                return Err(ArchiveError::NonUtf8Path {
                    entry: String::from_utf8_lossy(&raw).into_owned(),
                });
            }
        };
        drop(raw);

        let entry_type = entry.header().entry_type();
        let is_dir = entry_type.is_dir();
        // The path is checked first: a link or device with an escaping
        // path is reported as the escape, the more serious problem.
        let Some(path) = entry_path(&name, is_dir)? else {
            // The root directory entry (`./`) carries nothing.
            return Ok(());
        };
        let link_target = || {
            entry
                .link_name_bytes()
                .map(|target| String::from_utf8_lossy(&target).into_owned())
                .unwrap_or_default()
        };
        match entry_type {
            EntryType::Regular | EntryType::Continuous => {}
            EntryType::Directory => {
                self.seen.directory(&path, &name)?;
                if let Some(dest) = self.dest {
                    let full = dest.join(&path);
                    fs::create_dir_all(&full).map_err(|source| ArchiveError::Write { path: full, source })?;
                }
                return Ok(());
            }
            EntryType::Symlink => {
                return Err(ArchiveError::Symlink {
                    entry: name,
                    target: link_target(),
                });
            }
            EntryType::Link => {
                return Err(ArchiveError::HardLink {
                    entry: name,
                    target: link_target(),
                });
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let kind = match entry_type {
                    EntryType::Char => "character device",
                    EntryType::Block => "block device",
                    _ => "fifo",
                };
                return Err(ArchiveError::SpecialFile { entry: name, kind });
            }
            other => {
                return Err(ArchiveError::UnsupportedEntry {
                    entry: name,
                    kind: format!("{other:?}"),
                });
            }
        }

        self.seen.file(&path, &name)?;
        // The declared size is what the tar reader will deliver for the
        // entry, no more, so checking it bounds the bytes written.
        let size = entry.size();
        if size > self.limits.max_member_bytes {
            return Err(ArchiveError::MemberTooLarge {
                entry: name,
                size,
                limit: self.limits.max_member_bytes,
            });
        }
        self.unpacked_bytes = self.unpacked_bytes.saturating_add(size);
        if self.unpacked_bytes > self.limits.max_unpacked_bytes {
            return Err(ArchiveError::TooLarge {
                entry: name,
                limit: self.limits.max_unpacked_bytes,
            });
        }
        let executable = entry.header().mode().is_ok_and(|mode| mode & 0o111 != 0);

        let reserved = RESERVED_FILE_NAMES.contains(&path.as_str());
        let digest = if reserved {
            if size > MAX_RESERVED_FILE_BYTES {
                return Err(ArchiveError::ReservedTooLarge {
                    entry: name,
                    size,
                    limit: MAX_RESERVED_FILE_BYTES,
                });
            }
            let mut bytes = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut bytes).map_err(|e| corrupt(&e))?;
            if let Some(dest) = self.dest {
                write_file(dest, &path, &mut bytes.as_slice(), executable)?;
            }
            let digest = sha256_bytes(&bytes);
            self.out.reserved.insert(path.clone(), bytes);
            digest
        } else {
            let mut hashing = HashingReader::new(&mut entry);
            match self.dest {
                Some(dest) => write_file(dest, &path, &mut hashing, executable)?,
                None => {
                    io::copy(&mut hashing, &mut io::sink()).map_err(|e| corrupt(&e))?;
                }
            }
            hashing.finish().0
        };
        self.out.files.insert(
            path,
            UnpackedFile {
                digest,
                size,
                executable,
            },
        );
        Ok(())
    }
}

/// The bundle path of entry `name`, or `None` for the root directory entry.
fn entry_path(name: &str, is_dir: bool) -> Result<Option<String>, ArchiveError> {
    if name.starts_with('/') {
        return Err(ArchiveError::AbsolutePath {
            entry: name.to_owned(),
        });
    }
    let mut path = name;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    if is_dir {
        if path.is_empty() || path == "." {
            return Ok(None);
        }
        path = path.strip_suffix('/').unwrap_or(path);
    }
    match validate_relative_path(path) {
        Ok(()) => Ok(Some(path.to_owned())),
        Err(PathError::Absolute { .. }) => Err(ArchiveError::AbsolutePath {
            entry: name.to_owned(),
        }),
        Err(PathError::ParentComponent { .. }) => Err(ArchiveError::ParentTraversal {
            entry: name.to_owned(),
        }),
        Err(source) => Err(ArchiveError::InvalidPath {
            entry: name.to_owned(),
            source,
        }),
    }
}

/// The paths seen so far, to refuse duplicates and file/directory clashes.
#[derive(Default)]
struct Seen {
    /// Regular files, by bundle path, with the entry name that made them.
    files: BTreeMap<String, String>,
    /// Directories, explicit or implied by a file below them.
    dirs: HashSet<String>,
    /// Directories that had an entry of their own.
    explicit_dirs: HashSet<String>,
}

impl Seen {
    fn file(&mut self, path: &str, entry: &str) -> Result<(), ArchiveError> {
        if self.files.contains_key(path) {
            return Err(ArchiveError::Duplicate {
                entry: entry.to_owned(),
            });
        }
        if self.dirs.contains(path) {
            return Err(ArchiveError::Conflict {
                entry: entry.to_owned(),
                other: format!("{path}/"),
            });
        }
        self.parents(path, entry)?;
        self.files.insert(path.to_owned(), entry.to_owned());
        Ok(())
    }

    fn directory(&mut self, path: &str, entry: &str) -> Result<(), ArchiveError> {
        if self.explicit_dirs.contains(path) {
            return Err(ArchiveError::Duplicate {
                entry: entry.to_owned(),
            });
        }
        if let Some(file_entry) = self.files.get(path) {
            return Err(ArchiveError::Conflict {
                entry: entry.to_owned(),
                other: file_entry.clone(),
            });
        }
        self.parents(path, entry)?;
        self.dirs.insert(path.to_owned());
        self.explicit_dirs.insert(path.to_owned());
        Ok(())
    }

    /// Records the ancestors of `path` as directories; none may be a file.
    fn parents(&mut self, path: &str, entry: &str) -> Result<(), ArchiveError> {
        for (index, _) in path.match_indices('/') {
            let parent = &path[..index];
            if let Some(file_entry) = self.files.get(parent) {
                return Err(ArchiveError::Conflict {
                    entry: entry.to_owned(),
                    other: file_entry.clone(),
                });
            }
            if !self.dirs.contains(parent) {
                self.dirs.insert(parent.to_owned());
            }
        }
        Ok(())
    }
}

/// Creates `dest/path` (it must not exist) from `content` with a
/// normalized mode.
fn write_file(dest: &Path, path: &str, content: &mut dyn Read, executable: bool) -> Result<(), ArchiveError> {
    let full = dest.join(path);
    let fail = |source| ArchiveError::Write {
        path: full.clone(),
        source,
    };
    if let Some(parent) = full.parent() {
        fs::create_dir_all(parent).map_err(fail)?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&full)
        .map_err(fail)?;
    let mut reader = NoteReadError::new(content);
    if let Err(error) = io::copy(&mut reader, &mut file) {
        // A read error is the archive's fault, a write error the disk's.
        return Err(match reader.error {
            Some(read) => corrupt(&read),
            None => fail(error),
        });
    }
    file.flush().map_err(fail)?;
    set_mode(&full, file_mode(executable)).map_err(fail)
}

/// A reader that keeps its first error, so a failed copy can be blamed on
/// the right side.
pub(crate) struct NoteReadError<R> {
    inner: R,
    /// The first read error, if any.
    pub(crate) error: Option<io::Error>,
}

impl<R> NoteReadError<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, error: None }
    }
}

impl<R: Read> Read for NoteReadError<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|error| {
            let copy = io::Error::new(error.kind(), error.to_string());
            self.error.get_or_insert(error);
            copy
        })
    }
}

/// The normalized mode of a packaged or unpacked file.
pub(crate) fn file_mode(executable: bool) -> u32 {
    if executable { 0o755 } else { 0o644 }
}

/// The normalized mode of a directory.
pub(crate) const DIR_MODE: u32 = 0o755;

fn set_directory_modes(dest: &Path, dirs: &HashSet<String>) -> Result<(), ArchiveError> {
    for dir in dirs {
        let full = dest.join(dir);
        set_mode(&full, DIR_MODE).map_err(|source| ArchiveError::Write { path: full, source })?;
    }
    Ok(())
}

#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use flate2::write::GzEncoder;

    /// One raw tar entry for hand-made (hostile) archives.
    enum Raw<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Symlink(&'a str, &'a str),
        HardLink(&'a str, &'a str),
        Char(&'a str),
        Fifo(&'a str),
    }

    /// Builds a .tar.gz with headers written byte for byte, bypassing the
    /// `tar` crate's own path checks (it refuses `..` when writing).
    fn raw_archive(entries: &[Raw<'_>]) -> Vec<u8> {
        let mut tar = Vec::new();
        for entry in entries {
            let (name, kind, data, link): (&str, EntryType, &[u8], &str) = match *entry {
                Raw::File(name, data) => (name, EntryType::Regular, data, ""),
                Raw::Dir(name) => (name, EntryType::Directory, b"", ""),
                Raw::Symlink(name, target) => (name, EntryType::Symlink, b"", target),
                Raw::HardLink(name, target) => (name, EntryType::Link, b"", target),
                Raw::Char(name) => (name, EntryType::Char, b"", ""),
                Raw::Fifo(name) => (name, EntryType::Fifo, b"", ""),
            };
            let mut header = tar::Header::new_gnu();
            let bytes = header.as_mut_bytes();
            bytes[..name.len()].copy_from_slice(name.as_bytes());
            bytes[157..157 + link.len()].copy_from_slice(link.as_bytes());
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            header.set_entry_type(kind);
            header.set_cksum();
            tar.extend_from_slice(header.as_bytes());
            tar.extend_from_slice(data);
            tar.resize(tar.len().next_multiple_of(512), 0);
        }
        tar.resize(tar.len() + 1024, 0);
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    fn unpack_into(bytes: &[u8], dest: &Path) -> Result<Unpacked, ArchiveError> {
        unpack(bytes, Some(dest), &Limits::default(), None, &NoProgress)
    }

    /// Every file and directory under `root`, relative, sorted.
    fn listing(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                out.push(path.strip_prefix(root).unwrap().display().to_string());
                if path.is_dir() {
                    stack.push(path);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn unpacks_files_and_hashes_them() {
        let dir = tempfile::tempdir().unwrap();
        let archive = raw_archive(&[
            Raw::Dir("./"),
            Raw::Dir("./payloads/"),
            Raw::File("./payloads/a.md", b"alpha\n"),
            Raw::File("./resolved_files.sha256", b"manifest\n"),
            Raw::File("payloads/deep/b.md", b"beta\n"),
        ]);
        let unpacked = unpack_into(&archive, dir.path()).unwrap();
        assert_eq!(
            unpacked.files.keys().collect::<Vec<_>>(),
            ["payloads/a.md", "payloads/deep/b.md", "resolved_files.sha256"]
        );
        assert_eq!(unpacked.files["payloads/a.md"].digest, sha256_bytes(b"alpha\n"));
        assert_eq!(
            unpacked.reserved("resolved_files.sha256"),
            Some(&b"manifest\n"[..])
        );
        assert_eq!(
            unpacked.payload_digests().keys().collect::<Vec<_>>(),
            ["payloads/a.md", "payloads/deep/b.md"]
        );
        assert_eq!(
            fs::read(dir.path().join("payloads/deep/b.md")).unwrap(),
            b"beta\n"
        );

        // Reading without a destination sees the same files.
        let read_only = unpack(&archive[..], None, &Limits::default(), None, &NoProgress).unwrap();
        assert_eq!(read_only, unpacked);
    }

    #[cfg(unix)]
    #[test]
    fn modes_are_normalized_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        for (path, mode) in [("run.sh", 0o700), ("data.md", 0o600)] {
            let mut header = tar::Header::new_gnu();
            header.set_mode(mode);
            header.set_size(1);
            header.set_entry_type(EntryType::Regular);
            tar.append_data(&mut header, path, &b"x"[..]).unwrap();
        }
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar.into_inner().unwrap()).unwrap();
        unpack_into(&gz.finish().unwrap(), dir.path()).unwrap();
        let mode = |name: &str| fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("run.sh"), 0o755);
        assert_eq!(mode("data.md"), 0o644);
    }

    #[test]
    fn hostile_entries_are_refused_by_name_and_nothing_escapes() {
        let cases: Vec<(Vec<Raw<'_>>, &str)> = vec![
            (
                vec![Raw::File("/etc/x", b"x")],
                "entry \"/etc/x\" has an absolute path; bundle packages hold relative paths only",
            ),
            (
                vec![Raw::File("../x", b"x")],
                "entry \"../x\" has a '..' component and would land outside the bundle",
            ),
            (
                vec![Raw::File("./a/../../x", b"x")],
                "entry \"./a/../../x\" has a '..' component and would land outside the bundle",
            ),
            (
                vec![Raw::Symlink("link", "/etc/passwd")],
                "entry \"link\" is a symbolic link (to \"/etc/passwd\"); bundle packages hold regular files and directories only",
            ),
            (
                vec![Raw::File("a", b"x"), Raw::HardLink("b", "a")],
                "entry \"b\" is a hard link (to \"a\"); bundle packages hold regular files and directories only",
            ),
            (
                vec![Raw::Char("dev/null")],
                "entry \"dev/null\" is a character device; bundle packages hold regular files and directories only",
            ),
            (
                vec![Raw::Fifo("pipe")],
                "entry \"pipe\" is a fifo; bundle packages hold regular files and directories only",
            ),
            (
                vec![Raw::File("a.md", b"1"), Raw::File("./a.md", b"2")],
                "entry \"./a.md\" appears twice in the archive; a package lists each path once",
            ),
            (
                vec![Raw::Dir("d/"), Raw::Dir("./d/")],
                "entry \"./d/\" appears twice in the archive; a package lists each path once",
            ),
            (
                vec![Raw::File("a", b"1"), Raw::File("a/b", b"2")],
                "entry \"a/b\" conflicts with entry \"a\": one path cannot be both a file and a directory",
            ),
            (
                vec![Raw::File("a/b", b"1"), Raw::File("a", b"2")],
                "entry \"a\" conflicts with entry \"a/\": one path cannot be both a file and a directory",
            ),
            (
                vec![Raw::File("a\\b", b"1")],
                "entry \"a\\\\b\" has an invalid path: path 'a\\b' contains a backslash; separate directories with '/'",
            ),
        ];
        for (entries, expected) in cases {
            let sandbox = tempfile::tempdir().unwrap();
            let dest = sandbox.path().join("dest");
            fs::create_dir(&dest).unwrap();
            let error = unpack_into(&raw_archive(&entries), &dest).unwrap_err();
            assert_eq!(error.to_string(), expected);
            // Nothing outside the destination, whatever got in before.
            assert_eq!(listing(sandbox.path()).first().map(String::as_str), Some("dest"));
            assert!(listing(sandbox.path()).iter().all(|p| p.starts_with("dest")));
        }
    }

    #[test]
    fn caps_stop_bombs() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b'a'; 10_000];
        let archive = raw_archive(&[Raw::File("a", &big), Raw::File("b", &big)]);
        let limits = Limits {
            max_unpacked_bytes: 15_000,
            ..Limits::default()
        };
        let error = unpack(&archive[..], Some(dir.path()), &limits, None, &NoProgress).unwrap_err();
        assert_eq!(
            error.to_string(),
            "entry \"b\" takes the unpacked size past the cap of 15000 bytes; refusing to unpack (raise --max-unpacked-bytes if the bundle really is that large)"
        );
        assert!(!dir.path().join("b").exists());

        let limits = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        let error = unpack(&archive[..], None, &limits, None, &NoProgress).unwrap_err();
        assert!(
            matches!(error, ArchiveError::TooManyEntries { limit: 1 }),
            "{error}"
        );

        // One member over the per-member cap: refused before it is written.
        let limits = Limits {
            max_member_bytes: 9_999,
            ..Limits::default()
        };
        let fresh = tempfile::tempdir().unwrap();
        let error = unpack(&archive[..], Some(fresh.path()), &limits, None, &NoProgress).unwrap_err();
        assert_eq!(
            error.to_string(),
            "entry \"a\" has 10000 bytes, over the cap of 9999 bytes for one member; refusing to unpack (raise --max-member-bytes if the bundle really has a file that large)"
        );
        assert!(!fresh.path().join("a").exists());
    }

    #[test]
    fn a_reserved_file_over_its_cap_is_not_read_into_memory() {
        let huge = vec![b'0'; MAX_RESERVED_FILE_BYTES as usize + 1];
        let archive = raw_archive(&[Raw::File("resolved_files.sha256", &huge)]);
        let error = unpack(&archive[..], None, &Limits::default(), None, &NoProgress).unwrap_err();
        assert_eq!(
            error.to_string(),
            "entry \"resolved_files.sha256\" has 67108865 bytes, more than the 67108864 a manifest or lock may have"
        );
    }

    #[test]
    fn corrupt_and_trailing_data_are_refused() {
        let error = unpack(
            &b"not gzip at all"[..],
            None,
            &Limits::default(),
            None,
            &NoProgress,
        )
        .unwrap_err();
        assert!(matches!(error, ArchiveError::Corrupt { .. }), "{error}");

        let mut archive = raw_archive(&[Raw::File("a", b"x")]);
        archive.extend_from_slice(b"junk");
        let error = unpack(&archive[..], None, &Limits::default(), None, &NoProgress).unwrap_err();
        assert!(matches!(error, ArchiveError::TrailingData), "{error}");
    }
}
