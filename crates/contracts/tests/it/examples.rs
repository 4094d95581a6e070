//! The example corpus under `specs/examples/` (layout and provenance in
//! `specs/examples/README.md`):
//!
//! - `specs/examples/<document_id>/<name>.{json,yaml}` must load through
//!   [`DocumentKind::check`] without warnings and validate against the
//!   generated JSON Schema (formats checked);
//! - `specs/examples/<document_id>/invalid/<name>.{json,yaml}` must fail with
//!   exactly the text of the sibling `<name>.<ext>.error` (the `LoadError`
//!   Display and one newline). Run with `DCX_BLESS=1` to rewrite those files
//!   from the current messages, then read the diff.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::document::parse_value;
use dcx_contracts::documents::{self, DocumentKind};
use dcx_contracts::status::GithubRelease;
use dcx_contracts::{Format, load};

/// Positive examples that carry fields their contract does not define, on
/// purpose; every other positive example must load without warnings.
const EXPECTED_UNKNOWN_FIELDS: &[&str] = &[
    // A real GitHub release API response: dcx reads `tag_name` and a few
    // asset fields and ignores (and warns about) the rest.
    "specs/examples/github_release/github-api-dc-runner-rust.json",
];

/// Document ids allowed to have no positive example, each with its reason.
/// Empty today: every document in `documents::ALL` has one.
const WITHOUT_POSITIVE_EXAMPLE: &[&str] = &[];

const EXAMPLE_EXTENSIONS: &[&str] = &["json", "yaml", "yml"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples_dir() -> PathBuf {
    repo_root().join("specs/examples")
}

fn bless() -> bool {
    std::env::var_os("DCX_BLESS").is_some_and(|v| v == "1")
}

/// The repository-relative path used as the `origin` of every message.
fn origin(relative: &[&str]) -> String {
    let mut out = String::from("specs/examples");
    for part in relative {
        out.push('/');
        out.push_str(part);
    }
    out
}

fn sorted_entries(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut entries: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
            (entry.file_name().to_string_lossy().into_owned(), entry.path())
        })
        .collect();
    entries.sort();
    entries
}

fn is_example_file(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXAMPLE_EXTENSIONS.contains(&e))
}

fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Walks the corpus and collects every problem, so one run reports them all.
#[derive(Default)]
struct Corpus {
    failures: Vec<String>,
    with_positive: BTreeSet<&'static str>,
    unknown_fields_seen: BTreeSet<String>,
}

impl Corpus {
    fn fail(&mut self, message: String) {
        self.failures.push(message);
    }

    fn walk(&mut self) {
        let root = examples_dir();
        for (name, path) in sorted_entries(&root) {
            if path.is_dir() {
                match documents::by_id(&name) {
                    Some(kind) => self.document_dir(kind, &path),
                    None => self.fail(format!(
                        "{}: directory name is not a document id (known: {})",
                        origin(&[&name]),
                        documents::ALL.iter().map(|k| k.id).collect::<Vec<_>>().join(", ")
                    )),
                }
            } else if name != "README.md" {
                self.fail(format!(
                    "{}: unexpected file; only README.md and <document_id>/ directories belong here",
                    origin(&[&name])
                ));
            }
        }
    }

    fn document_dir(&mut self, kind: &'static DocumentKind, dir: &Path) {
        let schema = kind.json_schema();
        let validator = match jsonschema::options().should_validate_formats(true).build(&schema) {
            Ok(validator) => Some(validator),
            Err(e) => {
                self.fail(format!(
                    "{}: generated JSON Schema does not compile: {e}",
                    kind.id
                ));
                None
            }
        };
        for (name, path) in sorted_entries(dir) {
            if path.is_dir() && name == "invalid" {
                self.invalid_dir(kind, &path);
            } else if path.is_file() && is_example_file(&name) {
                self.positive(kind, validator.as_ref(), &path, &origin(&[kind.id, &name]));
            } else {
                self.fail(format!(
                    "{}: unexpected entry; a document directory holds <name>.json|.yaml examples and invalid/",
                    origin(&[kind.id, &name])
                ));
            }
        }
    }

    fn positive(
        &mut self,
        kind: &'static DocumentKind,
        validator: Option<&jsonschema::Validator>,
        path: &Path,
        origin: &str,
    ) {
        self.with_positive.insert(kind.id);
        let text = read_text(path);
        let format = Format::detect(path, &text);
        match kind.check(text.as_bytes(), format, origin) {
            Ok(warnings) => {
                let expected = EXPECTED_UNKNOWN_FIELDS.contains(&origin);
                if expected {
                    self.unknown_fields_seen.insert(origin.to_owned());
                }
                if !warnings.is_empty() && !expected {
                    let list: Vec<String> = warnings.iter().map(ToString::to_string).collect();
                    self.fail(format!(
                        "{origin}: positive example has warnings (fix it or list it in EXPECTED_UNKNOWN_FIELDS):\n  {}",
                        list.join("\n  ")
                    ));
                }
                if warnings.is_empty() && expected {
                    self.fail(format!(
                        "{origin}: listed in EXPECTED_UNKNOWN_FIELDS but loads without warnings; remove it from the list"
                    ));
                }
            }
            Err(e) => self.fail(format!("{origin}: positive example does not load:\n{e}")),
        }
        let Some(validator) = validator else { return };
        match parse_value(&text, format, origin) {
            Ok(value) => {
                let errors: Vec<String> = validator
                    .iter_errors(&value)
                    .map(|e| format!("{}: {e}", e.instance_path()))
                    .collect();
                if !errors.is_empty() {
                    self.fail(format!(
                        "{origin}: does not validate against the generated {} schema:\n  {}",
                        kind.id,
                        errors.join("\n  ")
                    ));
                }
            }
            Err(e) => self.fail(format!("{origin}: {e}")),
        }
    }

    fn invalid_dir(&mut self, kind: &'static DocumentKind, dir: &Path) {
        let entries = sorted_entries(dir);
        let names: BTreeSet<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
        for (name, path) in &entries {
            let origin = origin(&[kind.id, "invalid", name]);
            if let Some(example) = name.strip_suffix(".error") {
                if !names.contains(example) || !is_example_file(example) {
                    self.fail(format!(
                        "{origin}: snapshot without an example; delete it or restore {example}"
                    ));
                }
            } else if path.is_file() && is_example_file(name) {
                self.negative(kind, path, &origin);
            } else {
                self.fail(format!(
                    "{origin}: unexpected entry; invalid/ holds <name>.json|.yaml examples and their <name>.<ext>.error snapshots"
                ));
            }
        }
    }

    fn negative(&mut self, kind: &'static DocumentKind, path: &Path, origin: &str) {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {origin}: {e}"));
        let format = Format::detect(path, &String::from_utf8_lossy(&bytes));
        let actual = match kind.check(&bytes, format, origin) {
            Ok(warnings) => {
                self.fail(format!(
                    "{origin}: negative example loads as a valid {} ({} warnings); it must fail",
                    kind.id,
                    warnings.len()
                ));
                return;
            }
            Err(e) => format!("{e}\n"),
        };
        let mut snapshot = path.as_os_str().to_owned();
        snapshot.push(".error");
        let snapshot = PathBuf::from(snapshot);
        if bless() {
            if let Err(e) = std::fs::write(&snapshot, &actual) {
                self.fail(format!("{origin}.error: cannot write: {e}"));
            }
            return;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => self.fail(format!(
                "{origin}: error message changed (rerun with DCX_BLESS=1 if intended)\n--- expected ({origin}.error)\n{expected}--- actual\n{actual}"
            )),
            Err(_) => self.fail(format!(
                "{origin}: no {origin}.error snapshot (rerun with DCX_BLESS=1 to create it)\n--- actual\n{actual}"
            )),
        }
    }

    fn check_coverage(&mut self) {
        for kind in documents::ALL {
            let has = self.with_positive.contains(kind.id);
            let excused = WITHOUT_POSITIVE_EXAMPLE.contains(&kind.id);
            if !has && !excused {
                self.fail(format!(
                    "{}: no positive example under {}",
                    kind.id,
                    origin(&[kind.id])
                ));
            }
            if has && excused {
                self.fail(format!(
                    "{}: has a positive example; remove it from WITHOUT_POSITIVE_EXAMPLE",
                    kind.id
                ));
            }
        }
        for listed in EXPECTED_UNKNOWN_FIELDS {
            if !self.unknown_fields_seen.contains(*listed) {
                self.fail(format!(
                    "{listed}: listed in EXPECTED_UNKNOWN_FIELDS but is not a positive example"
                ));
            }
        }
    }
}

#[test]
fn every_example_checks_as_declared() {
    let mut corpus = Corpus::default();
    corpus.walk();
    corpus.check_coverage();
    assert!(
        corpus.failures.is_empty(),
        "{} problem(s) in specs/examples:\n\n{}",
        corpus.failures.len(),
        corpus.failures.join("\n\n")
    );
}

/// The GitHub release example publishes the digest of the rust report
/// example, as GitHub would for that asset; keep the two in step.
#[test]
fn github_release_digest_matches_the_rust_report_example() {
    let examples = examples_dir();
    let release = load::<GithubRelease>(&examples.join("github_release/github-api-dc-runner-rust.json"))
        .unwrap_or_else(|e| panic!("{e}"))
        .document;
    let asset = release
        .assets
        .iter()
        .find(|a| a.name == "runner-status-report-v1.json")
        .unwrap_or_else(|| panic!("no runner-status-report-v1.json asset"));
    let report = std::fs::read(examples.join("runner_status_report_v1/rust.json"))
        .unwrap_or_else(|e| panic!("cannot read the rust report example: {e}"));
    let published = asset.sha256().and_then(Result::ok);
    assert_eq!(
        published,
        Some(sha256_bytes(&report)),
        "update the digest (and size) of runner-status-report-v1.json in github-api-dc-runner-rust.json"
    );
    assert_eq!(asset.size, Some(report.len() as u64));
}
