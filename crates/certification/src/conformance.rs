//! `conformance/spec.<ref>`: a required core case ref `/path/to/case.spec.md#CASE-ID`
//! resolves under the spec root to a file that declares the case on a line
//! of its own, exactly once.
//!
//! A declaring line is, with surrounding whitespace and an optional YAML
//! list marker `- ` removed, exactly `id: CASE-ID` (the id may be quoted).
//! Nothing else counts: `id: DCCONF-RCERT-0011` does not declare
//! `DCCONF-RCERT-001`, which the peers' substring match let through. The
//! file's sha256 goes into the detail, so the certificate pins the case text
//! it resolved. The case is resolved, not executed.

use std::path::{Component, Path, PathBuf};

use dcx_contracts::certification::{CertificateCheck, CheckStatus};
use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::document::{LoadError, read_bounded};

use crate::checks::{self, CONFORMANCE, FAILED_WITHOUT_PROCESS};

/// The row of one case ref; a case file over `max_bytes` fails it unread.
pub(crate) fn case_check(spec_root: &Path, case_ref: &str, max_bytes: u64) -> CertificateCheck {
    let (status, detail) = match resolve(spec_root, case_ref, max_bytes) {
        Ok(found) => (CheckStatus::Pass, found),
        Err(reason) => (CheckStatus::Fail, reason),
    };
    let exit_code = match status {
        CheckStatus::Fail => FAILED_WITHOUT_PROCESS,
        CheckStatus::Pass | CheckStatus::Skip => 0,
    };
    checks::row(CONFORMANCE, checks::case_id(case_ref), status, exit_code, detail)
}

/// The pass detail, or the reason for failing.
fn resolve(spec_root: &Path, case_ref: &str, max_bytes: u64) -> Result<String, String> {
    let (path, id) = split_ref(case_ref)?;
    let file = spec_root.join(relative_path(path)?);
    let shown = file.display();
    let bytes = read_bounded(&file, max_bytes).map_err(|e| match e {
        LoadError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            format!("case file {shown} not found")
        }
        LoadError::Read { source, .. } => format!("cannot read case file {shown}: {source}"),
        other => format!("case file {other}"),
    })?;
    let sha256 = sha256_bytes(&bytes);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("case file {shown} (sha256 {sha256}) is not UTF-8 text"))?;
    match declaring_lines(text, id).as_slice() {
        [line] => Ok(format!(
            "case `{id}` declared on line {line} of {shown} (sha256 {sha256})"
        )),
        [] => {
            let hint = match text.lines().position(|l| l.contains(id)) {
                Some(i) => format!("; `{id}` appears only inside other text, first on line {}", i + 1),
                None => String::new(),
            };
            Err(format!(
                "no line `id: {id}` in case file {shown} (sha256 {sha256}){hint}"
            ))
        }
        many => {
            let lines: Vec<String> = many.iter().map(usize::to_string).collect();
            Err(format!(
                "case `{id}` is declared on {} lines ({}) of {shown} (sha256 {sha256}); a case ref must name one case",
                many.len(),
                lines.join(", ")
            ))
        }
    }
}

/// `/path#ID` → (`/path`, `ID`).
fn split_ref(case_ref: &str) -> Result<(&str, &str), String> {
    match case_ref.split_once('#') {
        Some((path, id)) if !id.is_empty() && !id.contains('#') && path.starts_with('/') => Ok((path, id)),
        Some((path, _)) if !path.starts_with('/') => Err(format!(
            "case ref {case_ref:?} must start with `/` (a path from the spec root)"
        )),
        _ => Err(format!(
            "case ref {case_ref:?} has no `#CASE-ID` anchor naming the case"
        )),
    }
}

/// `/specs/x.spec.md` → `specs/x.spec.md`, refusing anything that could
/// leave the spec root.
fn relative_path(path: &str) -> Result<PathBuf, String> {
    let relative = Path::new(path.trim_start_matches('/'));
    let escapes = relative.components().any(|c| !matches!(c, Component::Normal(_)));
    if escapes || relative.as_os_str().is_empty() {
        return Err(format!(
            "case ref path {path:?} must name a file inside the spec root (no `..`)"
        ));
    }
    Ok(relative.to_path_buf())
}

/// The 1-based numbers of the lines that declare `id`.
fn declaring_lines(text: &str, id: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| declares(line, id))
        .map(|(i, _)| i + 1)
        .collect()
}

fn declares(line: &str, id: &str) -> bool {
    let line = line.trim();
    let line = line.strip_prefix("- ").map_or(line, str::trim_start);
    let Some(value) = line.strip_prefix("id:") else {
        return false;
    };
    let value = value.trim();
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    unquoted == id
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASES: &str = "\
# Runner certification core cases

```yaml contract-spec
- id: DCCONF-RCERT-0011
  title: a longer id that contains the short one
- id: DCCONF-RCERT-002
  expect: {}
```

  id: \"DCCONF-RCERT-003\"
text mentioning DCCONF-RCERT-004 without declaring it
- id: DCCONF-RCERT-005
- id: DCCONF-RCERT-005
";

    fn spec_root() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("specs/03_conformance");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("core.spec.md"), CASES).unwrap();
        root
    }

    fn check(root: &Path, case_ref: &str) -> (CheckStatus, i64, String) {
        let row = case_check(root, case_ref, 1 << 20);
        assert_eq!(row.group, "conformance");
        assert_eq!(row.id, format!("spec.{case_ref}"));
        (row.status, row.exit_code, row.detail)
    }

    fn file_and_digest(root: &Path) -> String {
        format!(
            "{} (sha256 {})",
            root.join("specs/03_conformance/core.spec.md").display(),
            sha256_bytes(CASES.as_bytes())
        )
    }

    #[test]
    fn an_exact_declaration_passes_with_line_and_digest() {
        let root = spec_root();
        let at = file_and_digest(root.path());
        assert_eq!(
            check(root.path(), "/specs/03_conformance/core.spec.md#DCCONF-RCERT-002"),
            (
                CheckStatus::Pass,
                0,
                format!("case `DCCONF-RCERT-002` declared on line 6 of {at}")
            )
        );
        // Quoted, without a list marker.
        assert_eq!(
            check(root.path(), "/specs/03_conformance/core.spec.md#DCCONF-RCERT-003").0,
            CheckStatus::Pass
        );
    }

    #[test]
    fn an_id_found_only_as_a_substring_fails() {
        let root = spec_root();
        let at = file_and_digest(root.path());
        assert_eq!(
            check(root.path(), "/specs/03_conformance/core.spec.md#DCCONF-RCERT-001"),
            (
                CheckStatus::Fail,
                1,
                format!(
                    "no line `id: DCCONF-RCERT-001` in case file {at}; \
                     `DCCONF-RCERT-001` appears only inside other text, first on line 4"
                )
            )
        );
        assert_eq!(
            check(root.path(), "/specs/03_conformance/core.spec.md#DCCONF-RCERT-004").2,
            format!(
                "no line `id: DCCONF-RCERT-004` in case file {at}; \
                 `DCCONF-RCERT-004` appears only inside other text, first on line 11"
            )
        );
        assert_eq!(
            check(root.path(), "/specs/03_conformance/core.spec.md#DCCONF-RCERT-404").2,
            format!("no line `id: DCCONF-RCERT-404` in case file {at}")
        );
    }

    #[test]
    fn a_case_declared_twice_fails() {
        let root = spec_root();
        let at = file_and_digest(root.path());
        assert_eq!(
            check(root.path(), "/specs/03_conformance/core.spec.md#DCCONF-RCERT-005"),
            (
                CheckStatus::Fail,
                1,
                format!(
                    "case `DCCONF-RCERT-005` is declared on 2 lines (12, 13) of {at}; a case ref must name one case"
                )
            )
        );
    }

    #[test]
    fn a_missing_file_fails() {
        let root = spec_root();
        assert_eq!(
            check(root.path(), "/specs/03_conformance/gone.spec.md#DCCONF-RCERT-001"),
            (
                CheckStatus::Fail,
                1,
                format!(
                    "case file {} not found",
                    root.path().join("specs/03_conformance/gone.spec.md").display()
                )
            )
        );
    }

    #[test]
    fn a_case_file_over_the_document_cap_fails_unread() {
        let root = spec_root();
        let row = case_check(
            root.path(),
            "/specs/03_conformance/core.spec.md#DCCONF-RCERT-001",
            10,
        );
        assert_eq!(row.status, CheckStatus::Fail);
        assert_eq!(
            row.detail,
            format!(
                "case file {}: the document has {} bytes, over the cap of 10 bytes; nothing was parsed (raise --max-document-bytes if it really is that large)",
                root.path().join("specs/03_conformance/core.spec.md").display(),
                CASES.len()
            )
        );
    }

    #[test]
    fn malformed_refs_fail_with_the_reason() {
        let root = spec_root();
        let cases = [
            (
                "/specs/03_conformance/core.spec.md",
                "case ref \"/specs/03_conformance/core.spec.md\" has no `#CASE-ID` anchor naming the case",
            ),
            (
                "/specs/03_conformance/core.spec.md#",
                "case ref \"/specs/03_conformance/core.spec.md#\" has no `#CASE-ID` anchor naming the case",
            ),
            (
                "specs/03_conformance/core.spec.md#DCCONF-RCERT-002",
                "case ref \"specs/03_conformance/core.spec.md#DCCONF-RCERT-002\" must start with `/` (a path from the spec root)",
            ),
            (
                "/../outside.spec.md#DCCONF-RCERT-002",
                "case ref path \"/../outside.spec.md\" must name a file inside the spec root (no `..`)",
            ),
        ];
        for (case_ref, reason) in cases {
            assert_eq!(
                check(root.path(), case_ref),
                (CheckStatus::Fail, 1, reason.to_owned()),
                "{case_ref}"
            );
        }
    }
}
