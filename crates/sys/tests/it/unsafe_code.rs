//! The workspace denies unsafe code; dcx-sys's `pre_exec` is the one
//! allowed exception. This keeps it the only one.

use std::path::Path;

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn only_the_parent_death_signal_uses_unsafe_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for top in ["crates", "xtask", "fuzz"] {
        if root.join(top).exists() {
            rust_files(&root.join(top), &mut files);
        }
    }
    let needle = ["allow(", "unsafe_code)"].concat();
    let allowed: Vec<String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains(&needle))
        .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert_eq!(allowed, vec!["crates/sys/src/process.rs".to_owned()]);
}
