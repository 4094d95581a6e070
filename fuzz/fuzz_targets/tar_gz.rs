//! Bundle package extraction (`.tar.gz`), the only code that turns outside
//! bytes into files on disk.
//!
//! Input: `z` followed by raw `.tar.gz` bytes exercises the gzip layer as
//! well; anything else is taken as a tar stream and gzipped here first, so
//! the fuzzer spends its time on tar headers and paths rather than on
//! rediscovering deflate.
//!
//! Checked beyond "no panic": unpacking onto disk and hash-only reading
//! agree; nothing is created outside the destination; everything on disk is
//! a plain file or directory that the result lists with the right digest.
#![no_main]

use std::fs;
use std::io::Write;
use std::path::Path;

use dcx_bundle_overlay::{Limits, NoProgress, Unpacked, unpack};
use dcx_contracts::digest::sha256_bytes;
use libfuzzer_sys::fuzz_target;

/// Small caps so a decompression bomb costs the fuzzer microseconds.
fn limits() -> Limits {
    Limits {
        max_package_bytes: 1 << 20,
        max_unpacked_bytes: 4 << 20,
        max_member_bytes: 1 << 20,
        max_entries: 512,
        ..Limits::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let package = match data.split_first() {
        Some((b'z', rest)) => rest.to_vec(),
        _ => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(data).expect("gzip into memory");
            encoder.finish().expect("gzip into memory")
        }
    };
    let limits = limits();

    let scratch = tempfile::tempdir().expect("scratch directory");
    let dest = scratch.path().join("tree");
    fs::create_dir(&dest).expect("destination directory");

    let hashed = unpack(package.as_slice(), None, &limits, None, &NoProgress);
    let written = unpack(package.as_slice(), Some(&dest), &limits, None, &NoProgress);

    // Nothing escapes the destination, whatever the outcome.
    let outside: Vec<_> = fs::read_dir(scratch.path())
        .expect("list scratch")
        .map(|entry| entry.expect("scratch entry").file_name())
        .collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("tree")], "an entry escaped the destination");

    match (&hashed, &written) {
        (Ok(hashed), Ok(written)) => {
            assert_eq!(hashed, written, "hash-only and on-disk unpacking disagree");
            check_tree(&dest, &dest, written);
        }
        (Err(error), Ok(_)) => panic!("on-disk unpacking accepted what reading refused: {error}"),
        // Writing can fail where reading cannot (e.g. a name longer than the
        // file system allows); both refusing, or writing alone, is fine.
        (_, Err(error)) => assert!(!error.to_string().is_empty()),
    }
});

/// Every path under `dir` is a directory or a regular file listed in `unpacked`.
fn check_tree(root: &Path, dir: &Path, unpacked: &Unpacked) {
    for entry in fs::read_dir(dir).expect("list unpacked directory") {
        let entry = entry.expect("unpacked entry");
        let path = entry.path();
        let kind = fs::symlink_metadata(&path).expect("stat unpacked entry").file_type();
        if kind.is_dir() {
            check_tree(root, &path, unpacked);
        } else {
            assert!(kind.is_file(), "{} is neither file nor directory", path.display());
            let relative = path.strip_prefix(root).expect("under root").to_str().expect("utf-8 path");
            let listed = unpacked.files.get(relative).unwrap_or_else(|| panic!("{relative} on disk but not listed"));
            let bytes = fs::read(&path).expect("read unpacked file");
            assert_eq!(sha256_bytes(&bytes), listed.digest, "{relative} digest");
            assert_eq!(bytes.len() as u64, listed.size, "{relative} size");
        }
    }
}
