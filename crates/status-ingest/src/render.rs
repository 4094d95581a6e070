//! The Markdown matrix (`runner-status-matrix.md`): what a person reads in a
//! pull request or a job summary. A headline with the verdict, one table row
//! per lane, then a "what to do" section for every active lane that needs
//! attention, using the failure signatures of [`crate::triage`].

use std::collections::HashMap;
use std::fmt::Write as _;

use dcx_contracts::status::{
    FreshnessState, IngestErrorClass, IngestLog, IngestLogEntry, LaneClass, LaneStatus, MatrixRow,
    OverallStatus, RunnerStatusMatrix,
};

use crate::policy::{self, effect_name, format_age, freshness_name, status_name};
use crate::triage::{self, FailureSignature};

/// How a row reads in the verdict column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Active, fresh, passing (or a compatibility lane's non-blocking result).
    Ok,
    /// Worth a look, not a breach: a fresh compatibility lane that fails.
    Warn,
    /// An active compatibility lane with stale or missing telemetry.
    Breach,
    /// A required lane that blocks merges.
    Blocking,
    /// Planned or disabled: not fetched, never a breach.
    NotEnforced(LaneStatus),
}

impl Verdict {
    /// The verdict of `row`.
    pub(crate) fn of(row: &MatrixRow) -> Self {
        let registry = policy::registry_status(row);
        if registry != LaneStatus::Active {
            return Verdict::NotEnforced(registry);
        }
        match policy::lane_breach(
            &row.runner_id,
            row.lane_class,
            registry,
            row.runner_status,
            row.freshness_state,
        ) {
            Some(policy::Breach::RequiredLane { .. }) => Verdict::Blocking,
            Some(_) => Verdict::Breach,
            None if row.runner_status != OverallStatus::Pass => Verdict::Warn,
            None => Verdict::Ok,
        }
    }

    /// Whether the lane gets a "what to do" entry.
    pub(crate) fn needs_attention(&self) -> bool {
        matches!(self, Verdict::Warn | Verdict::Breach | Verdict::Blocking)
    }

    fn label(&self) -> String {
        match self {
            Verdict::Ok => "✅ ok".to_owned(),
            Verdict::Warn => "⚠️ warn".to_owned(),
            Verdict::Breach => "❌ **breach**".to_owned(),
            Verdict::Blocking => "⛔ **blocking**".to_owned(),
            Verdict::NotEnforced(status) => format!("⏸ not enforced ({})", status.as_str()),
        }
    }
}

fn class_label(class: LaneClass) -> &'static str {
    match class {
        LaneClass::Required => "required",
        LaneClass::CompatibilityNonBlocking => "compatibility",
    }
}

/// An age for the table: exact within the first hour, to the minute within
/// a week (where SLOs live), in days and hours beyond. Messages keep the
/// exact age.
fn table_age(seconds: i64) -> String {
    const WEEK: i64 = 7 * 24 * 3600;
    let magnitude = seconds.abs();
    if magnitude < 3600 {
        format_age(seconds)
    } else if magnitude < WEEK {
        format_age(seconds - seconds % 60)
    } else {
        let sign = if seconds < 0 { "-" } else { "" };
        format!("{sign}{} d {} h", magnitude / 86_400, magnitude % 86_400 / 3600)
    }
}

/// A Markdown code span that survives backticks in `text`.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let text = text.replace('\n', " ");
    if longest > 0 || text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders the Markdown matrix.
pub(crate) fn markdown(matrix: &RunnerStatusMatrix, log: &IngestLog) -> String {
    let mut out = String::from("# Runner status matrix\n\n");
    if let Some(error) = &log.config_error {
        let _ = write!(
            out,
            "Updated {}: **no lane was ingested**, the configuration could not be loaded.\n\n\
             ## Configuration error\n\n```text\n{error}\n```\n\n\
             Fix the registry or the schema catalog and run the ingest again; until then the matrix has no rows \
             and the freshness gate fails.\n",
            matrix.updated_at
        );
        return out;
    }

    let rows = &matrix.matrix_rows;
    let state_count = |state| rows.iter().filter(|r| r.freshness_state == state).count();
    let breaches = policy::row_breaches(rows);
    let _ = writeln!(
        out,
        "Updated {}: {}, {} fresh, {} stale, {} missing.",
        matrix.updated_at,
        count(rows.len(), "lane", "lanes"),
        state_count(FreshnessState::Fresh),
        state_count(FreshnessState::Stale),
        state_count(FreshnessState::Missing),
    );
    if breaches.is_empty() {
        out.push_str("Freshness policy: **no breach**.\n\n");
    } else {
        let _ = writeln!(
            out,
            "Freshness policy: **{}**; `--enforce-freshness` and the freshness gate fail.\n",
            count(breaches.len(), "breach", "breaches")
        );
    }

    out.push_str("| lane | class | registry | status | freshness | age | SLO | policy effect | verdict |\n");
    out.push_str("|---|---|---|---|---|---:|---:|---|---|\n");
    for row in rows {
        let age = row
            .status_report
            .as_ref()
            .map_or_else(|| "–".to_owned(), |age| table_age(age.age_seconds));
        let slo = row
            .freshness_slo_hours
            .map_or_else(|| "–".to_owned(), |hours| format!("{hours} h"));
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {age} | {slo} | `{}` | {} |",
            row.runner_id,
            class_label(row.lane_class),
            policy::registry_status(row).as_str(),
            status_name(row.runner_status),
            freshness_name(row.freshness_state),
            effect_name(row.policy_effect),
            Verdict::of(row).label(),
        );
    }

    let attention = attention(matrix, log);
    if attention.is_empty() {
        return out;
    }
    out.push_str("\n## What to do\n");
    for lane in &attention {
        what_to_do(&mut out, lane);
    }
    out
}

/// An active lane that needs a person: a breach, a blocking required lane,
/// or a fresh compatibility lane whose runner fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    /// The lane id.
    pub runner_id: String,
    /// The lane class.
    pub lane_class: LaneClass,
    /// The row's verdict.
    pub verdict: Verdict,
    /// The log's error class and message, when the report was not usable as is.
    pub error: Option<(IngestErrorClass, String)>,
    /// The runner's verdict.
    pub runner_status: OverallStatus,
    /// The matching failure signature.
    pub signature: Option<FailureSignature>,
    /// A stale report that also fails needs both fixes: the status's signature.
    pub also: Option<FailureSignature>,
    /// Where the release metadata was looked for.
    pub release_api_url: Option<String>,
    /// Where the report was downloaded from.
    pub report_url: Option<String>,
}

impl Attention {
    /// What was found, as plain text.
    pub fn finding(&self) -> String {
        match &self.error {
            Some((class, message)) => format!("{}: {message}", triage::class_name(*class)),
            None => format!(
                "the runner reports overall_status: {}",
                status_name(self.runner_status)
            ),
        }
    }
}

/// The lanes of `matrix` that need attention, in row order.
pub fn attention(matrix: &RunnerStatusMatrix, log: &IngestLog) -> Vec<Attention> {
    let entries: HashMap<&str, &IngestLogEntry> =
        log.entries.iter().map(|e| (e.runner_id.as_str(), e)).collect();
    matrix
        .matrix_rows
        .iter()
        .filter_map(|row| {
            let verdict = Verdict::of(row);
            if !verdict.needs_attention() {
                return None;
            }
            let entry = entries.get(row.runner_id.as_str()).copied();
            let error = entry.and_then(|e| e.error_class.zip(e.error.clone()));
            let signature = match &error {
                Some((class, _)) => Some(triage::for_error(*class)),
                None => triage::for_status(row.runner_status),
            };
            let also = (error.is_some() && row.freshness_state == FreshnessState::Stale)
                .then(|| triage::for_status(row.runner_status))
                .flatten();
            Some(Attention {
                runner_id: row.runner_id.clone(),
                lane_class: row.lane_class,
                verdict,
                error,
                runner_status: row.runner_status,
                signature,
                also,
                release_api_url: entry.and_then(|e| e.release_api_url.clone()),
                report_url: entry.and_then(|e| e.report_url.clone()),
            })
        })
        .collect()
}

fn what_to_do(out: &mut String, lane: &Attention) {
    let _ = writeln!(
        out,
        "\n### `{}` ({}): {}\n",
        lane.runner_id,
        class_label(lane.lane_class),
        lane.verdict.label()
    );
    let _ = match &lane.error {
        Some((class, message)) => writeln!(
            out,
            "- **Finding:** `{}`: {}",
            triage::class_name(*class),
            code(message)
        ),
        None => writeln!(
            out,
            "- **Finding:** the runner reports `overall_status: {}`",
            status_name(lane.runner_status)
        ),
    };
    if let Some(signature) = lane.signature {
        let _ = writeln!(out, "- **Signature:** {}", signature.signature);
        let _ = writeln!(out, "- **Likely cause:** {}", signature.likely_cause);
        let _ = writeln!(out, "- **Action:** {}", signature.action);
    }
    if let Some(also) = lane.also {
        let _ = writeln!(
            out,
            "- **Also:** the stale report says `overall_status: {}`: {}",
            status_name(lane.runner_status),
            also.action
        );
    }
    let mut sources = Vec::new();
    if let Some(url) = &lane.release_api_url {
        sources.push(format!("release metadata {}", code(url)));
    }
    if let Some(url) = &lane.report_url {
        sources.push(format!("report {}", code(url)));
    }
    if !sources.is_empty() {
        let _ = writeln!(out, "- **Source:** {}", sources.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_ages_are_as_precise_as_they_need_to_be() {
        assert_eq!(table_age(-90), "-1 min 30 s");
        assert_eq!(table_age(43_200), "12 h");
        assert_eq!(table_age(72 * 3600 + 59 * 60 + 59), "72 h 59 min");
        assert_eq!(table_age(6620 * 3600 + 19 * 60), "275 d 20 h");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("unknown value `x`"), "`` unknown value `x` ``");
        assert_eq!(code("a ``b`` c"), "``` a ``b`` c ```");
        assert_eq!(code("two\nlines"), "`two lines`");
    }
}
