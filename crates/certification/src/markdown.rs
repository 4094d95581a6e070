//! The Markdown rendering of a certificate, for people: plain values (the
//! peers print JSON-quoted strings), the hashes, the intent, every check
//! and a one-line verdict at the top.

use std::fmt::Write;

use dcx_contracts::certification::{CheckStatus, ExecutionCertificate};

use crate::certificate::verdict_line;

/// Renders `certificate` as Markdown; the same certificate always renders to
/// the same text.
pub fn render_markdown(certificate: &ExecutionCertificate) -> String {
    let runner = &certificate.runner;
    let intent = &certificate.execution_intent;
    let mut md = String::new();
    // `write!` into a String cannot fail; the results are ignored below.
    let _ = writeln!(md, "# Runner certification: {}\n", runner.runner_id);
    let _ = writeln!(md, "**{}**\n", verdict_line(certificate));

    md.push_str("| | |\n|---|---|\n");
    let facts = [
        ("runner", runner.runner_id.clone()),
        ("implementation repo", runner.implementation_repo.clone()),
        ("class", runner.class.as_str().to_owned()),
        ("status", runner.status.as_str().to_owned()),
        ("blocking", if runner.blocking { "yes" } else { "no" }.to_owned()),
        ("commit", format!("`{}`", runner.commit_sha)),
        ("certified at", runner.certified_at.to_string()),
        (
            "registry",
            format!(
                "`{}`, version {}",
                intent.registry_ref.path, intent.registry_ref.version
            ),
        ),
        ("certificate version", certificate.version.to_string()),
    ];
    for (name, value) in facts {
        let _ = writeln!(md, "| {name} | {} |", cell(&value));
    }

    md.push_str("\n## Hashes\n\n| field | how | value |\n|---|---|---|\n");
    let _ = writeln!(
        md,
        "| `equivalence.intent_hash` | sha256 of the `json-c14n-v1` text of `execution_intent` (`intent-v1`) | `{}` |",
        certificate.equivalence.intent_hash
    );
    let _ = writeln!(
        md,
        "| `proof.payload_sha256` | sha256 of the `json-c14n-v1` text of the certificate with this field `\"\"` | `{}` |",
        certificate.proof.payload_sha256
    );
    md.push_str("\n`dcx certify verify <certificate.json>` recomputes both.\n");

    md.push_str("\n## Execution intent\n\n");
    let listed = |items: &[String]| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(
        md,
        "- required core checks: {}",
        listed(&intent.required_core_checks)
    );
    let _ = writeln!(
        md,
        "- required core cases: {}",
        listed(&intent.required_core_cases)
    );
    let commands: Vec<String> = intent
        .command_contract_subset
        .iter()
        .map(|c| {
            let mut line = c.name.clone();
            for arg in &c.args {
                line.push(' ');
                line.push_str(arg);
            }
            let exits: Vec<String> = c.expect_exit.iter().map(i64::to_string).collect();
            format!("`{line}` exits {}", exits.join(" or "))
        })
        .collect();
    let _ = writeln!(md, "- command contract subset: {}", listed_plain(&commands));

    md.push_str("\n## Checks\n\n");
    md.push_str("| # | group | id | status | exit code | duration | detail | evidence |\n");
    md.push_str("|---:|---|---|---|---:|---:|---|---|\n");
    for (i, check) in certificate.checks.iter().enumerate() {
        let status = match check.status {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "**fail**",
            CheckStatus::Skip => "skip",
        };
        let duration = check.duration_ms.map(|ms| format!("{ms} ms")).unwrap_or_default();
        let evidence = check
            .evidence_ref
            .as_deref()
            .map(|r| format!("[log]({r})"))
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "| {} | {} | `{}` | {status} | {} | {duration} | {} | {evidence} |",
            i + 1,
            cell(&check.group),
            cell(&check.id),
            check.exit_code,
            cell(&check.detail),
        );
    }
    md
}

fn listed_plain(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join("; ")
    }
}

/// Text that stays inside one table cell: pipes escaped, newlines flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_never_break_the_table() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
    }
}
