//! Reproducible packing: the same files give the same package bytes on any
//! machine, in any time zone, under any umask.
//!
//! The tar stream:
//!
//! - holds one entry per file and one per directory that contains a file
//!   (empty directories are not bundle content), and nothing else: no `./`
//!   root entry, no links;
//! - sorts entries bytewise by their name, directories named with a
//!   trailing `/` (so a directory always precedes its contents);
//! - writes GNU headers (long names as `././@LongLink` entries) with mtime
//!   = the caller's `SOURCE_DATE_EPOCH` or 0, uid and gid 0, empty owner
//!   and group names, and modes 0755 for directories and executables, 0644
//!   for other files.
//!
//! The gzip layer is [`crate::gzip`]: pinned backend and level, no name, no
//! time, identical for any thread count.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;

use dcx_contracts::Sha256Hex;
use dcx_contracts::digest::HashingReader;
use tar::{EntryType, Header};

use super::{DIR_MODE, NoteReadError, file_mode};
use crate::gzip;
use crate::progress::{Progress, ProgressReader, Stage, StageGuard};

/// Where a packed file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSource {
    /// A file on disk, streamed.
    Disk(PathBuf),
    /// Bytes in memory (a lock rewritten for the package).
    Bytes(Vec<u8>),
}

/// One file to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    /// Its bundle path: canonical, relative, `/`-separated.
    pub path: String,
    /// Its contents.
    pub source: PackSource,
    /// Packed with mode 0755 instead of 0644.
    pub executable: bool,
}

/// How to pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackOptions {
    /// The mtime of every entry: `SOURCE_DATE_EPOCH` when the caller has
    /// one, else 0.
    pub mtime: u64,
    /// Compression threads; the bytes do not depend on it.
    pub threads: NonZeroUsize,
}

/// Why packing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// A file changed size while it was packed.
    #[error("{} changed while it was being packed ({expected} bytes expected, {actual} read); pack again", .path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// Its size when the entry header was written.
        expected: u64,
        /// The bytes actually read.
        actual: u64,
    },
    /// Two files share a path, or a path is also another file's directory.
    #[error("cannot pack {path:?} twice, or as both a file and a directory")]
    Duplicate {
        /// The path.
        path: String,
    },
    /// Writing the package failed.
    #[error("cannot write the package: {source}")]
    Write {
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
}

/// What packing saw: the digest of every file as it went into the package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packed {
    /// Each packed file's sha256, by bundle path.
    pub digests: BTreeMap<String, Sha256Hex>,
    /// File bytes packed.
    pub bytes: u64,
}

enum Item<'a> {
    Dir,
    File(&'a PackFile),
}

/// Packs `files` into `out` as a reproducible `.tar.gz` (see the module
/// documentation), hashing every file as it is read.
///
/// Paths must be canonical bundle paths (the caller validated them); a
/// path listed twice, or used both as a file and a directory, is refused.
pub fn pack<W: Write + Send>(
    files: &[PackFile],
    out: W,
    options: &PackOptions,
    progress: &dyn Progress,
) -> Result<(Packed, W), PackError> {
    let mut entries: BTreeMap<String, Item<'_>> = BTreeMap::new();
    for file in files {
        for (index, _) in file.path.match_indices('/') {
            entries.insert(format!("{}/", &file.path[..index]), Item::Dir);
        }
    }
    for file in files {
        // A file named like a directory entry (`a` and `a/b`) collides in
        // the directory set below; one listed twice collides here.
        if entries.contains_key(&format!("{}/", file.path))
            || entries.insert(file.path.clone(), Item::File(file)).is_some()
        {
            return Err(PackError::Duplicate {
                path: file.path.clone(),
            });
        }
    }

    let total = files
        .iter()
        .map(|file| match &file.source {
            PackSource::Bytes(bytes) => bytes.len() as u64,
            PackSource::Disk(path) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        })
        .sum();
    let stage = StageGuard::start(progress, Stage::Pack, Some(total));

    // Errors inside the gzip producer travel as io::Error; this keeps the
    // typed error of the first failure.
    let mut failure: Option<PackError> = None;
    let result = gzip::compress(out, options.threads, |sink| {
        let mut builder = tar::Builder::new(sink);
        let mut packed = Packed::default();
        for (name, item) in &entries {
            let outcome = match item {
                Item::Dir => append_dir(&mut builder, name, options.mtime),
                Item::File(file) => append_file(&mut builder, file, options.mtime, &stage, &mut packed),
            };
            if let Err(error) = outcome {
                let message = error.to_string();
                failure = Some(error);
                return Err(io::Error::other(message));
            }
        }
        builder.into_inner()?;
        Ok(packed)
    });
    match (result, failure) {
        (_, Some(error)) => Err(error),
        (Ok((packed, out)), None) => Ok((packed, out)),
        (Err(source), None) => Err(PackError::Write { source }),
    }
}

/// A header with the normalized metadata of every entry.
fn header(entry_type: EntryType, mode: u32, size: u64, mtime: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    // A GNU header starts with empty owner names; say so rather than rely
    // on it.
    let _ = header.set_username("");
    let _ = header.set_groupname("");
    header
}

fn append_dir(builder: &mut tar::Builder<&mut dyn Write>, name: &str, mtime: u64) -> Result<(), PackError> {
    let mut header = header(EntryType::Directory, DIR_MODE, 0, mtime);
    builder
        .append_data(&mut header, name, io::empty())
        .map_err(|source| PackError::Write { source })
}

fn append_file(
    builder: &mut tar::Builder<&mut dyn Write>,
    file: &PackFile,
    mtime: u64,
    stage: &StageGuard<'_>,
    packed: &mut Packed,
) -> Result<(), PackError> {
    let mode = file_mode(file.executable);
    let (digest, size) = match &file.source {
        PackSource::Bytes(bytes) => {
            let size = bytes.len() as u64;
            let mut header = header(EntryType::Regular, mode, size, mtime);
            let mut reader = HashingReader::new(ProgressReader::new(bytes.as_slice(), stage));
            builder
                .append_data(&mut header, &file.path, &mut reader)
                .map_err(|source| PackError::Write { source })?;
            (reader.finish().0, size)
        }
        PackSource::Disk(path) => {
            let read_error = |source| PackError::Read {
                path: path.clone(),
                source,
            };
            let handle = File::open(path).map_err(read_error)?;
            let size = handle.metadata().map_err(read_error)?.len();
            let mut header = header(EntryType::Regular, mode, size, mtime);
            // `take` keeps a growing file from overrunning its header; a
            // shrinking one is caught by the count below.
            let mut reader =
                HashingReader::new(ProgressReader::new(NoteReadError::new(handle.take(size)), stage));
            if let Err(source) = builder.append_data(&mut header, &file.path, &mut reader) {
                // The copy fails on either side; only the reader knows
                // whether it was the file.
                let (_, progress_reader) = reader.finish();
                return Err(match progress_reader.into_inner().error {
                    Some(read) => read_error(read),
                    None => PackError::Write { source },
                });
            }
            if reader.bytes_read() != size {
                return Err(PackError::Changed {
                    path: path.clone(),
                    expected: size,
                    actual: reader.bytes_read(),
                });
            }
            (reader.finish().0, size)
        }
    };
    packed.digests.insert(file.path.clone(), digest);
    packed.bytes += size;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use dcx_contracts::digest::sha256_bytes;

    fn options(threads: usize) -> PackOptions {
        PackOptions {
            mtime: 0,
            threads: NonZeroUsize::new(threads).unwrap(),
        }
    }

    fn bytes_file(path: &str, content: &[u8], executable: bool) -> PackFile {
        PackFile {
            path: path.to_owned(),
            source: PackSource::Bytes(content.to_vec()),
            executable,
        }
    }

    fn sample_files() -> Vec<PackFile> {
        vec![
            bytes_file("payloads/core/README.md", b"# core\n", false),
            bytes_file("payloads/core/bin/run.sh", b"#!/bin/sh\necho hi\n", true),
            bytes_file("payloads/core-extra/notes.md", b"notes\n", false),
            bytes_file("resolved_files.sha256", b"", false),
        ]
    }

    fn listing(package: &[u8]) -> Vec<(String, u32, u64, u64, u64, String)> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(package));
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    String::from_utf8(entry.path_bytes().into_owned()).unwrap(),
                    header.mode().unwrap(),
                    header.mtime().unwrap(),
                    header.uid().unwrap(),
                    header.gid().unwrap(),
                    header.username().unwrap().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn entries_are_sorted_with_normalized_metadata() {
        let (packed, package) = pack(&sample_files(), Vec::new(), &options(1), &NoProgress).unwrap();
        let names: Vec<_> = listing(&package).into_iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(
            names,
            [
                ("payloads/".to_owned(), 0o755),
                ("payloads/core-extra/".to_owned(), 0o755),
                ("payloads/core-extra/notes.md".to_owned(), 0o644),
                ("payloads/core/".to_owned(), 0o755),
                ("payloads/core/README.md".to_owned(), 0o644),
                ("payloads/core/bin/".to_owned(), 0o755),
                ("payloads/core/bin/run.sh".to_owned(), 0o755),
                ("resolved_files.sha256".to_owned(), 0o644),
            ]
        );
        assert!(
            listing(&package)
                .iter()
                .all(|e| e.2 == 0 && e.3 == 0 && e.4 == 0 && e.5.is_empty())
        );
        assert_eq!(
            packed.digests["payloads/core/README.md"],
            sha256_bytes(b"# core\n")
        );
        assert_eq!(packed.bytes, 7 + 18 + 6);
    }

    /// Pins the exact bytes: a change of deflate backend, level, block
    /// size, header layout or ordering fails here first. If it is
    /// intended, every published package digest changes with it.
    #[test]
    fn golden_package_digest() {
        let mut files = sample_files();
        // Long enough to need a GNU long-name entry.
        files.push(bytes_file(
            &format!("payloads/{}/deep.md", "long-directory-name".repeat(6)),
            b"deep\n",
            false,
        ));
        let mtime = PackOptions {
            mtime: 1_700_000_000,
            ..options(3)
        };
        let (_, package) = pack(&files, Vec::new(), &mtime, &NoProgress).unwrap();
        assert_eq!(
            sha256_bytes(&package).to_hex(),
            "3c3595b376e4e47592457fbf7ee66b9474fedc6985d06b7af2b9b36787ac649b"
        );
        assert!(listing(&package).iter().all(|e| e.2 == 1_700_000_000));
    }

    #[test]
    fn duplicates_and_file_directory_clashes_are_refused() {
        let mut files = sample_files();
        files.push(bytes_file("payloads/core/README.md", b"again", false));
        assert!(matches!(
            pack(&files, Vec::new(), &options(1), &NoProgress),
            Err(PackError::Duplicate { path }) if path == "payloads/core/README.md"
        ));
        let mut files = sample_files();
        files.push(bytes_file("payloads/core", b"file", false));
        assert!(matches!(
            pack(&files, Vec::new(), &options(1), &NoProgress),
            Err(PackError::Duplicate { path }) if path == "payloads/core"
        ));
    }

    #[test]
    fn unreadable_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.md");
        let files = vec![PackFile {
            path: "missing.md".to_owned(),
            source: PackSource::Disk(missing.clone()),
            executable: false,
        }];
        let error = pack(&files, Vec::new(), &options(1), &NoProgress).unwrap_err();
        assert!(
            matches!(&error, PackError::Read { path, .. } if *path == missing),
            "{error}"
        );
    }
}
