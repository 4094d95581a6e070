//! The fixtures of the `dcx certify` tests: the adapter and spec root of
//! `dcx-certification`'s tests, and the pinned commit and clock.

use std::path::PathBuf;

use super::repo_root;

/// The commit every test certificate names.
pub(crate) const COMMIT: &str = "5f0c2a9e81d4b7c3a6e0f9d2b8c1a7e4d3f6b9a0";
/// The pinned clock of the certify tests.
pub(crate) const NOW: &str = "2026-02-20T00:00:00Z";

/// The runner certification registry of the repository.
pub(crate) fn registry() -> PathBuf {
    repo_root().join("specs/runner_certification_registry_v1.yaml")
}

/// `dcx-certification`'s test fixtures: the adapter (which passes, fails,
/// hangs or crashes as its environment tells it) and a spec root.
pub(crate) fn fixtures() -> PathBuf {
    repo_root().join("crates/certification/tests/fixtures")
}

/// A working directory holding `adapter.sh` (executable) and the fixture
/// spec root as `spec/`, so every path the certificate mentions is relative.
pub(crate) fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let adapter = dir.path().join("adapter.sh");
    std::fs::copy(fixtures().join("adapter.sh"), &adapter).unwrap();
    #[cfg(unix)]
    set_executable(&adapter);
    let case = "specs/03_conformance/cases/core/runner_certification_core.spec.md";
    let target = dir.path().join("spec").join(case);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(fixtures().join("spec-root").join(case), target).unwrap();
    dir
}

/// Makes `path` executable (`rwxr-xr-x`).
#[cfg(unix)]
pub(crate) fn set_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
