//! "Can this user run that file?", asked the way the shell's `[ -x ]` asks.

use std::path::Path;

use rustix::fs::{Access, access};

/// A regular file (after symlinks) that the current user may execute.
///
/// `access(2)` rather than the mode bits: it answers for the user the runner
/// runs as, so a root-only `0700` file is not taken for a plugin that would
/// then fail with "permission denied".
pub(crate) fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file()) && access(path, Access::EXEC_OK).is_ok()
}
