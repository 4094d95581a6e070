//! `cargo xtask tidy`: the house rules no compiler checks, checked on the
//! files as they are (in the manner of rust-analyzer's `xtask/src/tidy.rs`).
//! Each violation is printed as `tidy: <rule>: <what and where>`; exit 1 when
//! there is one.
//!
//! - `layers`: the crates' dependency direction ([`LAYERS`]): a feature crate
//!   builds on `dcx-contracts` and `dcx-sys` only, never on another feature;
//!   only the cli puts the features together; xtask runs the `dcx` binary
//!   instead of linking the features; the test kit is a dev-dependency.
//! - `clock-and-environment`: libraries take `now` and their settings as
//!   arguments. The root `clippy.toml` bans the methods that read the wall
//!   clock or the environment ([`BANNED_METHODS`]); this rule keeps that
//!   list whole and `allow(clippy::disallowed_methods)` to the places that
//!   turn the outside world into settings ([`MAY_READ_CLOCK_AND_ENVIRONMENT`]).
//! - `workspace-lints`: every crate inherits the workspace lints
//!   (`[lints] workspace = true`); the fuzz crate, its own workspace, carries
//!   a copy of `[workspace.lints]` that must equal the root's.
//! - `code-map`: every source file of `crates/*/src` and `xtask/src` is named
//!   in its crate's section of docs/ARCHITECTURE.md, and every `.rs` file a
//!   section names exists.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cargo::{self, Metadata};

/// A house rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Layers,
    ClockAndEnvironment,
    WorkspaceLints,
    CodeMap,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Self::Layers => "layers",
            Self::ClockAndEnvironment => "clock-and-environment",
            Self::WorkspaceLints => "workspace-lints",
            Self::CodeMap => "code-map",
        }
    }
}

/// One broken rule, and where.
#[derive(Debug)]
pub(crate) struct Violation {
    pub(crate) rule: Rule,
    pub(crate) message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tidy: {}: {}", self.rule.name(), self.message)
    }
}

/// `cargo xtask tidy`: exit 0 when every rule holds, 1 naming each
/// violation, 2 when the workspace cannot be read.
pub(crate) fn run(root: &Path) -> ExitCode {
    match check(root) {
        Ok(violations) if violations.is_empty() => {
            eprintln!("tidy: layers, clock-and-environment, workspace-lints, code-map: all hold");
            ExitCode::SUCCESS
        }
        Ok(violations) => {
            for violation in &violations {
                eprintln!("{violation}");
            }
            eprintln!("tidy: {} violation(s)", violations.len());
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Every violation of every rule in the workspace at `root`.
///
/// # Errors
///
/// A message when cargo metadata or a file the rules read cannot be read.
pub(crate) fn check(root: &Path) -> Result<Vec<Violation>, String> {
    let metadata = cargo::metadata(root)?;
    let mut violations = Vec::new();
    layers(&metadata, &mut violations);
    clock_and_environment(root, &mut violations)?;
    workspace_lints(root, &metadata, &mut violations)?;
    code_map(root, &mut violations)?;
    Ok(violations)
}

// ---------------------------------------------------------------- layers

/// Where a crate sits in the dependency direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    /// Documents, schemas and the OS: what every other crate builds on.
    Ground,
    /// One feature each; they never know about each other.
    Feature,
    /// The `dcx` binary, the one place the features meet.
    Cli,
    /// Test helpers shared by the tests and the benches: dev-only.
    TestKit,
    /// xtask: runs features through the `dcx` binary, links no feature.
    Tasks,
}

/// Every workspace crate and its layer; a new crate is given one here.
const LAYERS: &[(&str, Layer)] = &[
    ("dcx-contracts", Layer::Ground),
    ("dcx-sys", Layer::Ground),
    ("dcx-status-ingest", Layer::Feature),
    ("dcx-certification", Layer::Feature),
    ("dcx-bundle-overlay", Layer::Feature),
    ("dcx-run-artifacts", Layer::Feature),
    ("dcx-runner", Layer::Feature),
    ("dcx", Layer::Cli),
    ("dcx-testkit", Layer::TestKit),
    ("xtask", Layer::Tasks),
];

fn layer_of(package: &str) -> Option<Layer> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == package)
        .map(|(_, layer)| *layer)
}

/// Whether a crate of layer `from` may depend on one of layer `to`
/// (`dev`: as a dev-dependency).
fn may_depend(from: Layer, to: Layer, dev: bool) -> bool {
    match (from, to) {
        (_, Layer::Ground) => true,
        (Layer::Cli, Layer::Feature) => true,
        (Layer::Tasks, Layer::TestKit) => true,
        (Layer::Ground | Layer::Feature | Layer::Cli, Layer::TestKit) => dev,
        _ => false,
    }
}

fn layers(metadata: &Metadata, violations: &mut Vec<Violation>) {
    for package in &metadata.packages {
        let Some(from) = layer_of(&package.name) else {
            violations.push(Violation {
                rule: Rule::Layers,
                message: format!(
                    "{} has no layer: add it to LAYERS in xtask/src/tidy.rs",
                    package.name
                ),
            });
            continue;
        };
        for dependency in package.dependencies.iter().filter(|d| d.path.is_some()) {
            let Some(to) = layer_of(&dependency.name) else {
                // Reported as the member without a layer; a path dependency
                // outside the workspace is no layer's business.
                continue;
            };
            let dev = dependency.kind.as_deref() == Some("dev");
            if !may_depend(from, to, dev) {
                let kind = if dev { "dev-depends" } else { "depends" };
                violations.push(Violation {
                    rule: Rule::Layers,
                    message: format!(
                        "{} {kind} on {}: {}",
                        package.name,
                        dependency.name,
                        allowed_dependencies(from)
                    ),
                });
            }
        }
    }
}

fn allowed_dependencies(layer: Layer) -> &'static str {
    match layer {
        Layer::Ground => "a ground-floor crate depends only on dcx-contracts and dcx-sys",
        Layer::Feature => {
            "a feature crate depends only on dcx-contracts and dcx-sys (and dev-depends on dcx-testkit)"
        }
        Layer::Cli => "the cli depends on the ground floor and the features, and dev-depends on dcx-testkit",
        Layer::TestKit => "dcx-testkit depends only on dcx-contracts and dcx-sys",
        Layer::Tasks => {
            "xtask depends only on dcx-contracts, dcx-sys and dcx-testkit; it runs features through the dcx binary"
        }
    }
}

// ------------------------------------------------- clock-and-environment

/// What the root `clippy.toml` must ban: reading the wall clock or the
/// environment. (`Instant` is not here: a monotonic deadline reads no time
/// of day, and dcx-sys needs it.)
const BANNED_METHODS: &[&str] = &[
    "std::time::SystemTime::now",
    "jiff::Timestamp::now",
    "jiff::Zoned::now",
    "jiff::tz::TimeZone::system",
    "std::env::var",
    "std::env::var_os",
    "std::env::vars",
    "std::env::vars_os",
    "std::env::args",
    "std::env::args_os",
    "std::env::current_dir",
];

/// Where the ban may be lifted (paths from the workspace root; a trailing
/// `/` is a whole directory): the places that turn the outside world into
/// settings. Tests (any `tests/` directory) may too: they read their own
/// knobs, and no library code runs from them.
const MAY_READ_CLOCK_AND_ENVIRONMENT: &[&str] = &[
    // The cli's flags layer: arguments, the clock and the environment
    // become settings.
    "crates/cli/src/flags/",
    // The runner binaries: their command lines and the root override, and
    // the one place that asks the OS (`$HOME`, `PATH`, the working dir).
    "crates/runner/src/main.rs",
    "crates/runner/src/bin/",
    "crates/runner/src/host.rs",
    // The maintainer tasks.
    "xtask/src/",
];

/// Directories never walked: build output, fuzz corpora, VCS data.
const SKIPPED_DIRECTORIES: &[&str] = &["target", "corpus", "artifacts", "coverage"];

fn clock_and_environment(root: &Path, violations: &mut Vec<Violation>) -> Result<(), String> {
    let clippy_toml = root.join("clippy.toml");
    let config = fs::read_to_string(&clippy_toml).unwrap_or_default();
    for method in BANNED_METHODS {
        if !config.contains(&format!("path = \"{method}\"")) {
            violations.push(Violation {
                rule: Rule::ClockAndEnvironment,
                message: format!(
                    "clippy.toml does not ban `{method}` in `disallowed-methods`; libraries must not read \
                     the clock or the environment"
                ),
            });
        }
    }
    // Spelled in two halves so this file does not match itself.
    let lifted = ["allow(clippy::", "expect(clippy::"].map(|level| format!("{level}disallowed_methods"));
    let mut files = Vec::new();
    for top in ["crates", "xtask", "tests", "fuzz"] {
        rust_files(&root.join(top), &mut files)?;
    }
    for file in files {
        let relative = relative_path(root, &file);
        let text = fs::read_to_string(&file).map_err(|e| format!("cannot read {relative}: {e}"))?;
        if !lifted.iter().any(|needle| text.contains(needle.as_str())) {
            continue;
        }
        let in_tests = relative.split('/').any(|part| part == "tests");
        let allowed = MAY_READ_CLOCK_AND_ENVIRONMENT.iter().any(|place| {
            if place.ends_with('/') {
                relative.starts_with(place)
            } else {
                relative == *place
            }
        });
        if !in_tests && !allowed {
            violations.push(Violation {
                rule: Rule::ClockAndEnvironment,
                message: format!(
                    "{relative} lifts clippy::disallowed_methods: a library takes `now` and settings as \
                     arguments; read the clock or the environment in the cli's flags layer \
                     (allowed places: MAY_READ_CLOCK_AND_ENVIRONMENT in xtask/src/tidy.rs)"
                ),
            });
        }
    }
    Ok(())
}

// ------------------------------------------------------ workspace-lints

fn workspace_lints(root: &Path, metadata: &Metadata, violations: &mut Vec<Violation>) -> Result<(), String> {
    for package in &metadata.packages {
        let text = read(&package.manifest_path)?;
        if !inherits_workspace_lints(&text) {
            violations.push(Violation {
                rule: Rule::WorkspaceLints,
                message: format!(
                    "{} ({}) does not inherit the workspace lints: add `[lints]` `workspace = true`",
                    package.name,
                    relative_path(root, &package.manifest_path)
                ),
            });
        }
    }
    // The fuzz crate is its own workspace, so it cannot inherit ours: it
    // inherits its own `[workspace.lints]`, a copy of the root's.
    let fuzz = root.join("fuzz/Cargo.toml");
    if fuzz.is_file() {
        let text = read(&fuzz)?;
        if !inherits_workspace_lints(&text) {
            violations.push(Violation {
                rule: Rule::WorkspaceLints,
                message:
                    "fuzz/Cargo.toml does not inherit its workspace lints: add `[lints]` `workspace = true`"
                        .to_owned(),
            });
        }
        let ours = lint_tables(&read(&root.join("Cargo.toml"))?);
        let theirs = lint_tables(&text);
        if ours != theirs {
            violations.push(Violation {
                rule: Rule::WorkspaceLints,
                message: format!(
                    "fuzz/Cargo.toml's [workspace.lints] differ from the root Cargo.toml's: keep them equal \
                     (root: {ours:?}; fuzz: {theirs:?})"
                ),
            });
        }
    }
    Ok(())
}

/// Whether a manifest has `workspace = true` in its `[lints]` table.
fn inherits_workspace_lints(manifest: &str) -> bool {
    toml_tables(manifest)
        .get("lints")
        .is_some_and(|entries| entries.iter().any(|entry| entry == "workspace=true"))
}

/// The `[workspace.lints.*]` tables of a manifest, entries without
/// comments or spaces.
fn lint_tables(manifest: &str) -> BTreeMap<String, Vec<String>> {
    toml_tables(manifest)
        .into_iter()
        .filter(|(name, _)| name.starts_with("workspace.lints"))
        .collect()
}

/// A manifest's tables and their one-line entries, spaces and comments
/// removed: enough TOML for `[lints]` tables (every entry on one line, no
/// `#` inside a string), which is all the rules read.
fn toml_tables(manifest: &str) -> BTreeMap<String, Vec<String>> {
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            current = name.trim().to_owned();
            tables.entry(current.clone()).or_default();
        } else {
            let entry: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            tables.entry(current.clone()).or_default().push(entry);
        }
    }
    tables
}

// -------------------------------------------------------------- code-map

/// Where the code map is.
const ARCHITECTURE: &str = "docs/ARCHITECTURE.md";

fn code_map(root: &Path, violations: &mut Vec<Violation>) -> Result<(), String> {
    let document = read(&root.join(ARCHITECTURE))?;
    let sections = code_map_sections(&document);
    let mut crates: Vec<PathBuf> = match fs::read_dir(root.join("crates")) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.join("src").is_dir())
            .collect(),
        Err(error) => return Err(format!("cannot list crates/: {error}")),
    };
    crates.sort();
    crates.push(root.join("xtask"));
    for crate_dir in crates {
        let name = relative_path(root, &crate_dir);
        let src = crate_dir.join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files)?;
        files.sort();
        let section = sections.get(&name);
        for file in files {
            let in_src = relative_path(&src, &file);
            if exempt_from_code_map(&in_src) {
                continue;
            }
            let full = relative_path(root, &file);
            let named = sections.values().any(|names| names.contains(&full))
                || section.is_some_and(|names| names_file(names, &in_src));
            if !named {
                let place = if section.is_some() {
                    format!("its section, ### `{name}`")
                } else {
                    format!("a section ### `{name}` (there is none)")
                };
                violations.push(Violation {
                    rule: Rule::CodeMap,
                    message: format!(
                        "{full} is not in {ARCHITECTURE}'s code map: name `{in_src}` in {place}"
                    ),
                });
            }
        }
    }
    stale_names(root, &sections, violations)
}

/// The other way round: a `.rs` file a section names must exist, in the
/// section's directory (by path, or by file name inside a folder) or from
/// the workspace root, so the map does not describe files long gone.
fn stale_names(
    root: &Path,
    sections: &BTreeMap<String, Vec<String>>,
    violations: &mut Vec<Violation>,
) -> Result<(), String> {
    for (dir, names) in sections {
        let section_dir = root.join(dir);
        if !section_dir.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&section_dir, &mut files)?;
        let paths: Vec<String> = files
            .iter()
            .map(|file| relative_path(&section_dir, file))
            .collect();
        for name in names
            .iter()
            .filter(|name| name.ends_with(".rs") && !name.contains('*'))
        {
            let suffix = format!("/{name}");
            let exists =
                root.join(name).is_file() || paths.iter().any(|path| path == name || path.ends_with(&suffix));
            if !exists {
                violations.push(Violation {
                    rule: Rule::CodeMap,
                    message: format!(
                        "{ARCHITECTURE}'s section ### `{dir}` names `{name}`, which is no file there: \
                         correct or remove it"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The crate roots (the section itself is about them) and unit-test
/// modules (`tests.rs`, part of the module beside them).
fn exempt_from_code_map(in_src: &str) -> bool {
    matches!(in_src, "lib.rs" | "main.rs") || in_src == "tests.rs" || in_src.ends_with("/tests.rs")
}

/// Whether the names of a section name the file at `in_src` (relative to
/// its `src/`): by path (`bench/runs.rs`), by file name inside its folder's
/// paragraph (`process.rs`), a folder's `mod.rs` by the folder (`record/`),
/// a binary by its name (`src/bin/x.rs`, `x`).
fn names_file(names: &[String], in_src: &str) -> bool {
    let file_name = in_src.rsplit('/').next().unwrap_or(in_src);
    let mut accepted = vec![in_src.to_owned(), file_name.to_owned()];
    if let Some(folder) = in_src.strip_suffix("/mod.rs") {
        accepted.extend([format!("{folder}/"), folder.to_owned(), format!("{folder}.rs")]);
    }
    if let Some(binary) = in_src.strip_prefix("bin/").and_then(|b| b.strip_suffix(".rs")) {
        accepted.push(binary.to_owned());
    }
    names.iter().any(|name| accepted.contains(name))
}

/// The code map's sections, one per `###` heading that starts with a
/// directory in backticks (`crates/sys`, `xtask`), each with the code
/// spans under it (`lib.rs::run` read as `lib.rs`).
fn code_map_sections(document: &str) -> BTreeMap<String, Vec<String>> {
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in document.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            current = heading
                .trim()
                .strip_prefix('`')
                .and_then(|rest| rest.split('`').next())
                .map(|dir| dir.trim_end_matches('/').to_owned());
            continue;
        }
        if line.starts_with("## ") || line.starts_with("# ") {
            current = None;
            continue;
        }
        if let Some(dir) = &current {
            let names = sections.entry(dir.clone()).or_default();
            // Code spans are the odd pieces between backticks.
            for span in line.split('`').skip(1).step_by(2) {
                let name = span.split("::").next().unwrap_or(span);
                names.push(name.to_owned());
            }
        }
    }
    sections
}

// ----------------------------------------------------------------- files

/// Every `.rs` file under `dir` (none if it does not exist), skipping
/// [`SKIPPED_DIRECTORIES`] and hidden ones.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(format!("cannot list {}: {error}", dir.display())),
    };
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED_DIRECTORIES.contains(&name.as_ref()) {
                rust_files(&path, files)?;
            }
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `base`, with `/` separators.
fn relative_path(base: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cli_puts_features_together() {
        assert!(may_depend(Layer::Feature, Layer::Ground, false));
        assert!(!may_depend(Layer::Feature, Layer::Feature, false));
        assert!(!may_depend(Layer::Feature, Layer::Feature, true));
        assert!(may_depend(Layer::Cli, Layer::Feature, false));
        assert!(!may_depend(Layer::Tasks, Layer::Feature, false));
        assert!(!may_depend(Layer::Tasks, Layer::Cli, false));
        assert!(may_depend(Layer::Feature, Layer::TestKit, true));
        assert!(!may_depend(Layer::Feature, Layer::TestKit, false));
        assert!(!may_depend(Layer::Ground, Layer::Feature, false));
    }

    #[test]
    fn lint_tables_ignore_comments_and_spacing() {
        let root =
            "[workspace.lints.rust]\n# why\nunsafe_code = \"deny\"  # more\n[lints]\nworkspace = true\n";
        let copy = "[lints]\nworkspace=true\n[workspace.lints.rust]\nunsafe_code=\"deny\"\n";
        assert_eq!(lint_tables(root), lint_tables(copy));
        assert!(inherits_workspace_lints(root) && inherits_workspace_lints(copy));
        assert!(!inherits_workspace_lints("[package]\nname = \"x\"\n"));
    }

    #[test]
    fn the_code_map_names_files_as_architecture_md_does() {
        let sections = code_map_sections(
            "## Code map\n### `crates/x` (`x`)\n`lib.rs::run` and `record/` (`process.rs`)\n\
             - `bench/runs.rs` — a bench\n## Next\n`stray.rs`\n",
        );
        let names = &sections["crates/x"];
        assert!(names_file(names, "bench/runs.rs"));
        assert!(names_file(names, "record/mod.rs"));
        assert!(names_file(names, "record/process.rs"));
        assert!(!names_file(names, "stray.rs"));
        assert!(exempt_from_code_map("lib.rs") && exempt_from_code_map("record/tests.rs"));
    }
}
