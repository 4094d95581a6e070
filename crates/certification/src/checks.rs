//! The rows of a certificate's `checks`, and the groups they belong to.

use dcx_contracts::certification::{CertificateCheck, CheckStatus};

/// `contract`: the registry entry itself.
pub(crate) const CONTRACT: &str = "contract";
/// `command`: one row per `command_contract_subset` entry.
pub(crate) const COMMAND: &str = "command";
/// `governance-sync`: one row per required core check.
pub(crate) const GOVERNANCE_SYNC: &str = "governance-sync";
/// `conformance`: one row per required core case.
pub(crate) const CONFORMANCE: &str = "conformance";

/// The exit code recorded for a check that failed without a process of its
/// own (a conformance case that does not resolve), as the peers record it.
pub(crate) const FAILED_WITHOUT_PROCESS: i64 = 1;

/// A row with no duration or evidence yet.
pub(crate) fn row(
    group: &str,
    id: String,
    status: CheckStatus,
    exit_code: i64,
    detail: String,
) -> CertificateCheck {
    CertificateCheck {
        group: group.to_owned(),
        id,
        status,
        exit_code,
        detail,
        duration_ms: None,
        evidence_ref: None,
    }
}

/// A skipped row: nothing ran, `detail` says why.
pub(crate) fn skip(group: &str, id: String, reason: String) -> CertificateCheck {
    row(group, id, CheckStatus::Skip, 0, reason)
}

/// The check id of a command contract entry.
pub(crate) fn command_id(name: &str) -> String {
    format!("command.{name}")
}

/// The check id of a governance check.
pub(crate) fn governance_id(check: &str) -> String {
    format!("governance.{check}")
}

/// The check id of a conformance case ref.
pub(crate) fn case_id(case_ref: &str) -> String {
    format!("spec.{case_ref}")
}

/// `items` without repeats, first occurrence kept: the registry may list
/// an entry twice, and running it twice proves nothing more.
pub(crate) fn unique_in_order<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// `a b 'c d'`: a command line as a person would type it.
pub(crate) fn command_line(program: &str, args: &[String]) -> String {
    let mut line = program.to_owned();
    for arg in args {
        line.push(' ');
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+#".contains(c));
        if plain {
            line.push_str(arg);
        } else {
            line.push('\'');
            line.push_str(&arg.replace('\'', r"'\''"));
            line.push('\'');
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_only_what_needs_it() {
        let args = ["governance", "--check-id", "a.b", "two words", "", "it's"].map(str::to_owned);
        assert_eq!(
            command_line("dc-runner", &args),
            r"dc-runner governance --check-id a.b 'two words' '' 'it'\''s'"
        );
    }

    #[test]
    fn repeats_are_dropped_in_order() {
        assert_eq!(unique_in_order(["b", "a", "b", "c", "a"]), ["b", "a", "c"]);
    }
}
