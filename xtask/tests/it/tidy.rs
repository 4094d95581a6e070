//! `cargo xtask tidy`: passes on this workspace, and fails naming the rule
//! on a temporary copy with one planted violation of it.

use std::path::Path;

use crate::{copy_dir, text, xtask};

/// The workspace this test was built from.
fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A temporary copy of what the rules read: the manifests, the sources, the
/// lint configuration and the code map (no `target/`, no fuzz corpora).
fn copy() -> tempfile::TempDir {
    let root = workspace_root();
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path();
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "clippy.toml",
        "docs/ARCHITECTURE.md",
        "fuzz/Cargo.toml",
    ] {
        std::fs::create_dir_all(to.join(file).parent().unwrap()).unwrap();
        std::fs::copy(root.join(file), to.join(file)).unwrap();
    }
    for folder in [
        "crates",
        "tests",
        "xtask/src",
        "xtask/tests",
        "fuzz/src",
        "fuzz/fuzz_targets",
    ] {
        if root.join(folder).is_dir() {
            copy_dir(&root.join(folder), &to.join(folder));
        }
    }
    std::fs::copy(root.join("xtask/Cargo.toml"), to.join("xtask/Cargo.toml")).unwrap();
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let original = std::fs::read_to_string(path).unwrap();
    assert!(original.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, original.replacen(from, to, 1)).unwrap();
}

/// Runs tidy on `root`; asserts it fails (exit 1) and prints `expected`.
fn fails_with(root: &Path, expected: &str) {
    let out = xtask(root, &["tidy"]);
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(printed.contains(expected), "{expected:?} not in:\n{printed}");
}

#[test]
fn this_workspace_is_tidy() {
    let out = xtask(workspace_root(), &["tidy"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_feature_crate_depending_on_another_breaks_layers() {
    let ws = copy();
    edit(
        &ws.path().join("crates/status-ingest/Cargo.toml"),
        "[dependencies]\n",
        "[dependencies]\ndcx-certification.workspace = true\n",
    );
    fails_with(
        ws.path(),
        "tidy: layers: dcx-status-ingest depends on dcx-certification: a feature crate",
    );
}

#[test]
fn a_library_reading_the_clock_breaks_clock_and_environment() {
    let ws = copy();
    let lib = ws.path().join("crates/status-ingest/src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str(
        "\n#[allow(clippy::disallowed_methods)]\n\
         fn planted_now() -> std::time::SystemTime {\n    std::time::SystemTime::now()\n}\n",
    );
    std::fs::write(&lib, text).unwrap();
    fails_with(
        ws.path(),
        "tidy: clock-and-environment: crates/status-ingest/src/lib.rs lifts clippy::disallowed_methods",
    );
}

#[test]
fn a_ban_missing_from_clippy_toml_breaks_clock_and_environment() {
    let ws = copy();
    edit(
        &ws.path().join("clippy.toml"),
        "path = \"std::env::var_os\"",
        "path = \"std::env::args\"",
    );
    fails_with(
        ws.path(),
        "tidy: clock-and-environment: clippy.toml does not ban `std::env::var_os`",
    );
}

#[test]
fn a_crate_without_the_workspace_lints_breaks_workspace_lints() {
    let ws = copy();
    edit(
        &ws.path().join("crates/runner/Cargo.toml"),
        "[lints]\nworkspace = true",
        "",
    );
    fails_with(
        ws.path(),
        "tidy: workspace-lints: dcx-runner (crates/runner/Cargo.toml) does not inherit the workspace lints",
    );
}

#[test]
fn fuzz_lints_drifting_from_the_root_break_workspace_lints() {
    let ws = copy();
    edit(
        &ws.path().join("fuzz/Cargo.toml"),
        "todo = \"warn\"",
        "todo = \"allow\"",
    );
    fails_with(
        ws.path(),
        "tidy: workspace-lints: fuzz/Cargo.toml's [workspace.lints] differ from the root Cargo.toml's",
    );
}

#[test]
fn a_source_file_missing_from_the_code_map_breaks_code_map() {
    let ws = copy();
    std::fs::write(
        ws.path().join("crates/sys/src/planted_unmapped.rs"),
        "//! Planted.\n",
    )
    .unwrap();
    fails_with(
        ws.path(),
        "tidy: code-map: crates/sys/src/planted_unmapped.rs is not in docs/ARCHITECTURE.md's code map",
    );
}

#[test]
fn a_code_map_entry_for_a_file_gone_breaks_code_map() {
    let ws = copy();
    edit(
        &ws.path().join("docs/ARCHITECTURE.md"),
        "### `xtask`\n\n",
        "### `xtask`\n\n- `planted_gone.rs` — a file that does not exist.\n",
    );
    fails_with(
        ws.path(),
        "tidy: code-map: docs/ARCHITECTURE.md's section ### `xtask` names `planted_gone.rs`, which is no file there",
    );
}
