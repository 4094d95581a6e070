//! What a test reads back from disk: whole trees, and the leftovers of
//! killed writers.
//!
//! A killed dcx may leave `.dcx-tmp-*` files (a temp file not yet renamed
//! into place) and `.dcx-staging-*` directories (a bundle tree not yet
//! moved into place); the next run in that place removes those no live
//! process holds. The tests count them, before and after that next run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The prefix of every temp file dcx writes before renaming it into place.
pub(crate) const TEMP_PREFIX: &str = ".dcx-tmp-";
/// The prefix of bundle staging directories.
pub(crate) const STAGING_PREFIX: &str = ".dcx-staging-";

/// Whether `name` is one of dcx's temp files or staging directories.
pub(crate) fn is_leftover(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) || name.starts_with(STAGING_PREFIX)
}

/// The names directly in `dir`, sorted; none if `dir` does not exist.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The leftovers directly in `dir`, by name, sorted; none if `dir` does not
/// exist.
pub(crate) fn leftovers(dir: &Path) -> Vec<String> {
    names(dir).into_iter().filter(|name| is_leftover(name)).collect()
}

/// Every leftover below `root`, at any depth, sorted (not what is inside a
/// leftover staging directory: that is the leftover's own content).
pub(crate) fn leftovers_below(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if is_leftover(&entry.file_name().to_string_lossy()) {
                found.push(entry.path());
            } else if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// Every regular file below `root` with its bytes, by relative path. Temp
/// files count like any other file, so one left in a tree shows up as a
/// difference.
pub(crate) fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().display().to_string();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}
