//! The Dash dashboard: one self-contained HTML page with a card per product.
//!
//! Each card shows every field of contract §4 (product name and status; run
//! id, status, summary and evidence; banana economy as budget meters; kill
//! switch with its reason; PR wave) plus the run history GC keeps. Problems
//! are badges on the card they belong to ([`artifact`](crate::artifact)), so
//! one bad file never blanks the page.
//!
//! The page makes no requests: styles are inline and a Content Security
//! Policy of `default-src 'none'` forbids anything else. Every value from an
//! artifact goes through maud, which escapes it; class names come from fixed
//! lists, and links only from paths that stay inside the dash directory.

use std::path::{Component, Path};

use dcx_contracts::Timestamp;
use dcx_contracts::atomic::{WriteError, atomic_write};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::artifact::{
    BananaView, EvidenceItem, Finding, Fleet, ProductSource, ProductView, RunArtifact, RunView, Severity,
    read_fleet, read_last_run,
};
use crate::layout::{DashDir, LOG_FILE};

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The instant printed as "rendered at"; the only input besides the dash
    /// directory, so the same `now` gives the same bytes.
    pub now: Timestamp,
    /// How many runs of each product's history to list (newest first).
    pub history_limit: usize,
    /// Prepended to every link, for a page written outside the dash
    /// directory (see [`link_prefix`]); empty for `dash/index.html`.
    pub link_prefix: String,
}

/// The history length the dashboard lists by default: the runs `gc` keeps
/// by default.
pub const DEFAULT_HISTORY_LIMIT: usize = 10;

/// One product's card.
#[derive(Debug, Clone)]
pub struct Card {
    /// The product as `products.json` describes it.
    pub(crate) product: ProductView,
    /// Its `last_run.json`; `None` when its id is unsafe and nothing was read.
    pub(crate) run: Option<RunArtifact>,
    /// Its run directories, newest first.
    pub(crate) history: Vec<String>,
    /// Why the history could not be listed, if it could not.
    pub(crate) history_error: Option<String>,
}

impl Card {
    /// The card's findings (its badges).
    pub fn findings(&self) -> &[Finding] {
        self.run.as_ref().map_or(&[], |run| &run.findings)
    }

    /// Whether any badge is an error.
    pub fn has_errors(&self) -> bool {
        self.findings().iter().any(|f| f.severity == Severity::Error)
    }
}

/// Everything the page shows, read from a dash directory.
#[derive(Debug, Clone)]
pub struct Page {
    /// `products.json` and its fleet-level findings.
    pub fleet: Fleet,
    /// One card per product, in registry order.
    pub cards: Vec<Card>,
}

/// Reads the fleet and every product's report and history.
pub(crate) fn collect(dash: &DashDir) -> Page {
    let fleet = read_fleet(dash);
    let cards = fleet
        .products
        .iter()
        .map(|product| {
            let Some(id) = &product.id else {
                return Card {
                    product: product.clone(),
                    run: None,
                    history: Vec::new(),
                    history_error: None,
                };
            };
            let (history, history_error) = match dash.run_ids(id) {
                Ok(runs) => (runs, None),
                Err(e) => (Vec::new(), Some(format!("cannot list runs/{id}/: {e}"))),
            };
            Card {
                product: product.clone(),
                run: Some(read_last_run(dash, id, product.is_active())),
                history,
                history_error,
            }
        })
        .collect();
    Page { fleet, cards }
}

/// Reads the dash directory and renders the page.
pub(crate) fn render(dash: &DashDir, options: &RenderOptions) -> (Page, String) {
    let page = collect(dash);
    let html = render_page(&page, options);
    (page, html)
}

/// Renders and writes the page atomically to `out`.
///
/// The directory of `out` is locked (the page lock) from before the dash directory is read until
/// the page is renamed into place, so concurrent renders write one after
/// the other and the page left is the one rendered last, from the newest
/// state; a reader only ever sees a whole page (atomic rename). Temp files
/// of killed renders in that directory are swept first.
pub fn render_to_file(dash: &DashDir, options: &RenderOptions, out: &Path) -> Result<Page, WriteError> {
    let out_dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let fail = |source| WriteError {
        path: out.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out_dir).map_err(fail)?;
    let _page_lock = crate::store::lock_dir(out_dir).map_err(fail)?;
    // A failed sweep only costs space.
    let _ = dcx_sys::sweep_leftovers(out_dir);
    let (page, html) = render(dash, options);
    atomic_write(out, html.as_bytes())?;
    Ok(page)
}

/// The prefix that makes dash-relative links work from a page written at
/// `out`: empty when `out` is directly in the dash directory, else the
/// relative path from `out`'s directory to the dash directory (both must
/// exist), else the dash directory's absolute path.
pub fn link_prefix(dash_root: &Path, out: &Path) -> String {
    let out_dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let (Ok(dash), Ok(from)) = (dash_root.canonicalize(), out_dir.canonicalize()) else {
        return String::new();
    };
    if dash == from {
        return String::new();
    }
    let dash_parts: Vec<Component<'_>> = dash.components().collect();
    let from_parts: Vec<Component<'_>> = from.components().collect();
    let common = dash_parts
        .iter()
        .zip(&from_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut prefix = String::new();
    for _ in common..from_parts.len() {
        prefix.push_str("../");
    }
    for part in &dash_parts[common..] {
        prefix.push_str(&encode_segment(&part.as_os_str().to_string_lossy()));
        prefix.push('/');
    }
    prefix
}

/// Characters kept as they are in a link's path segment (RFC 3986
/// unreserved); everything else is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// The link to a dash-relative path; its segments are encoded, so a `?`,
/// `#` or `:` in a file name can never turn it into another URL.
fn href(options: &RenderOptions, path: &str) -> String {
    let mut out = options.link_prefix.clone();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .map(encode_segment)
        .collect();
    out.push_str(&segments.join("/"));
    out
}

const PRODUCT_STATUSES: &[&str] = &[
    "bootstrap",
    "active",
    "pending",
    "development",
    "planned",
    "deprecated",
    "archived",
];
const RUN_STATUSES: &[&str] = &["success", "failed", "in_progress", "cancelled"];
const PR_WAVE_STATES: &[&str] = &[
    "none",
    "pending",
    "active",
    "completed",
    "idle",
    "blocked",
    "merging",
];

/// A CSS class for a value from an artifact: only values of the contract's
/// enums become classes, anything else is `unknown`.
fn class_of(prefix: &str, value: Option<&str>, allowed: &[&str]) -> String {
    let value = value.filter(|v| allowed.contains(v)).unwrap_or("unknown");
    format!("{prefix}-{}", value.replace('_', "-"))
}

/// A number as people write it: integers without decimals, others with at
/// most two.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

const DASH: &str = "—";

/// Renders the page. Deterministic: the same page and options give the same
/// bytes.
pub(crate) fn render_page(page: &Page, options: &RenderOptions) -> String {
    let with_errors = page.cards.iter().filter(|c| c.has_errors()).count();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                title { "Dash · " (page.cards.len()) " products" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header.page {
                    h1 { "Dash" }
                    p.summary {
                        span data-field="product-count" { (page.cards.len()) } " products · "
                        span data-field="error-count" { (with_errors) } " with errors · rendered "
                        time datetime=(options.now) { (options.now) }
                    }
                }
                @if !page.fleet.findings.is_empty() {
                    section #fleet-findings .findings aria-label="Fleet problems" {
                        @for finding in &page.fleet.findings { (badge(finding)) }
                    }
                }
                @if page.cards.is_empty() {
                    p.empty { "No products. Register one with " code { "dcx fleet register" } "." }
                }
                main.cards {
                    @for card in &page.cards { (card_markup(card, options)) }
                }
                footer {
                    "Run Artifact Contract v0.1 · rendered by dcx"
                }
            }
        }
    };
    markup.into_string()
}

fn badge(finding: &Finding) -> Markup {
    let class = match finding.severity {
        Severity::Error => "badge badge-error",
        Severity::Warning => "badge badge-warning",
    };
    html! {
        p class=(class) data-finding=(finding.kind.slug()) title=(finding.file) { (finding.text) }
    }
}

fn card_markup(card: &Card, options: &RenderOptions) -> Markup {
    let product = &card.product;
    let view = card.run.as_ref().and_then(|run| run.view.as_ref());
    let card_class = if card.has_errors() {
        "card card-error"
    } else {
        "card"
    };
    html! {
        article class=(card_class) data-product-id=(product.product_id) {
            header {
                h2.product-name data-field="product-name" { (product.name()) }
                span class={ "status " (class_of("status", product.status.as_deref(), PRODUCT_STATUSES)) }
                    data-field="product-status" title="Product status" {
                    (product.status.as_deref().unwrap_or("unknown"))
                }
            }
            p.meta {
                code.product-id { (product.product_id) }
                @if let Some(owner) = &product.owner { " · owner " (owner) }
                @if let Some(criticality) = &product.criticality { " · " (criticality) " criticality" }
                @if let Some(tier) = &product.sla_tier { " · SLA tier " (tier) }
                @if product.enabled == Some(false) { " · " span.disabled { "disabled" } }
            }
            @if product.source == ProductSource::Discovered {
                p.note { "Not listed in products.json; found under runs/." }
            }
            @if product.id.is_none() {
                p.note { "Unsafe product id: its runs are not read." }
            }
            @if !card.findings().is_empty() {
                section.findings aria-label="Problems" {
                    @for finding in card.findings() { (badge(finding)) }
                }
            }
            @if let Some(view) = view {
                (run_markup(view, options))
            } @else if product.id.is_some() {
                p.no-run { "No run data." }
            }
            @if product.id.is_some() {
                (history_markup(card, view.and_then(|v| v.run_id.as_deref()), options))
            }
        }
    }
}

fn run_markup(view: &RunView, options: &RenderOptions) -> Markup {
    html! {
        section.run aria-label="Last run" {
            dl {
                dt { "Run ID" }
                dd data-field="run-id" { code { (view.run_id.as_deref().unwrap_or(DASH)) } }
                dt { "Run status" }
                dd {
                    span class={ "status " (class_of("status", view.status.as_deref(), RUN_STATUSES)) }
                        data-field="run-status" {
                        (view.status.as_deref().unwrap_or("unknown"))
                    }
                }
                dt { "Started" }
                dd data-field="started-at" { (view.started_at.as_deref().unwrap_or(DASH)) }
                dt { "Ended" }
                dd data-field="ended-at" { (view.ended_at.as_deref().unwrap_or(DASH)) }
                dt { "Summary" }
                dd.summary data-field="summary" { (view.summary.as_deref().unwrap_or(DASH)) }
            }
        }
        (banana_markup(view.banana_economy.as_ref()))
        (kill_switch_markup(view))
        (pr_wave_markup(view))
        (evidence_markup(&view.evidence, options))
    }
}

fn meter(label: &str, field: &str, spent: Option<f64>, budget: Option<f64>, unit: &str) -> Markup {
    let (spent_text, budget_text) = (
        spent.map_or_else(|| DASH.to_owned(), number),
        budget.map_or_else(|| DASH.to_owned(), number),
    );
    let over = matches!((spent, budget), (Some(s), Some(b)) if s > b);
    // A zero budget has no scale to draw; the figures still say it all.
    let bar = match (spent, budget) {
        (Some(spent), Some(budget)) if budget > 0.0 => Some((spent.min(budget), budget)),
        _ => None,
    };
    html! {
        div class={ "meter" @if over { " over" } } data-field=(field) {
            span.label { (label) }
            @if let Some((value, max)) = bar {
                meter min="0" max=(number(max)) value=(number(value))
                    low=(number(max * 0.6)) high=(number(max * 0.9)) optimum="0" {}
            } @else {
                span {}
            }
            span.figures { (spent_text) " / " (budget_text) @if !unit.is_empty() { " " (unit) } }
        }
    }
}

fn banana_markup(banana: Option<&BananaView>) -> Markup {
    html! {
        section.banana aria-label="Banana economy" data-field="banana-economy" {
            h3 { "Banana economy" }
            @if let Some(b) = banana {
                (meter("Tokens", "tokens", b.spent_tokens, b.budget_tokens, ""))
                (meter("Time", "minutes", b.spent_minutes, b.budget_minutes, "min"))
                (meter("CI heals", "ci-heal-attempts", b.ci_heal_attempts_used, b.max_ci_heal_attempts, ""))
            } @else {
                p.absent { "Not reported." }
            }
        }
    }
}

fn kill_switch_markup(view: &RunView) -> Markup {
    let switch = view.kill_switch.as_ref();
    let enabled = switch.and_then(|k| k.enabled);
    let reason = switch
        .and_then(|k| k.reason.as_deref())
        .filter(|r| !r.trim().is_empty());
    let class = match enabled {
        Some(true) => "kill-switch kill-switch-on",
        Some(false) => "kill-switch kill-switch-off",
        None => "kill-switch kill-switch-unknown",
    };
    html! {
        section class=(class) aria-label="Kill switch" data-field="kill-switch" {
            h3 { "Kill switch" }
            p {
                strong data-field="kill-switch-state" {
                    @match enabled {
                        Some(true) => "ENGAGED",
                        Some(false) => "off",
                        None => "not reported",
                    }
                }
                @if let Some(reason) = reason {
                    " — " span data-field="kill-switch-reason" { (reason) }
                }
            }
        }
    }
}

fn pr_wave_markup(view: &RunView) -> Markup {
    html! {
        section.pr-wave aria-label="PR wave" data-field="pr-wave" {
            h3 { "PR wave" }
            @if let Some(wave) = &view.pr_wave {
                p {
                    span class={ "wave " (class_of("wave", wave.state.as_deref(), PR_WAVE_STATES)) }
                        data-field="pr-wave-state" {
                        (wave.state.as_deref().unwrap_or("unknown"))
                    }
                    " · " span data-field="open-prs" { (wave.open_prs.as_deref().unwrap_or(DASH)) } " open"
                    " · updated " span data-field="pr-wave-updated" { (wave.last_update.as_deref().unwrap_or(DASH)) }
                }
            } @else {
                p.absent { "Not reported." }
            }
        }
    }
}

fn evidence_markup(evidence: &[EvidenceItem], options: &RenderOptions) -> Markup {
    html! {
        section.evidence aria-label="Evidence" data-field="evidence" {
            h3 { "Evidence" }
            @if evidence.is_empty() {
                p.absent { "None." }
            } @else {
                ul {
                    @for item in evidence {
                        li {
                            @if item.inside && item.exists {
                                a href=(href(options, &item.path)) { code { (item.path) } }
                            } @else {
                                code { (item.path) }
                                @if !item.inside { " " span.tag.tag-error { "outside the dash directory" } }
                                @else { " " span.tag { "missing" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn history_markup(card: &Card, latest: Option<&str>, options: &RenderOptions) -> Markup {
    let id = &card.product.product_id;
    let shown = card.history.len().min(options.history_limit);
    html! {
        section.history aria-label="Run history" data-field="history" {
            h3 { "Run history " span.count { "(" (card.history.len()) ")" } }
            @if let Some(error) = &card.history_error {
                p.absent { (error) }
            } @else if card.history.is_empty() {
                p.absent { "No run directories." }
            } @else {
                ol {
                    @for run in &card.history[..shown] {
                        li data-run-id=(run) {
                            a href=(href(options, &format!("runs/{id}/{run}/{LOG_FILE}"))) { code { (run) } }
                            @if Some(run.as_str()) == latest { " " span.tag.tag-latest { "last run" } }
                        }
                    }
                }
                @if card.history.len() > shown {
                    p.more { "and " (card.history.len() - shown) " older" }
                }
            }
        }
    }
}

/// Nothing may load: the page is self-contained. Inline styles only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const CSS: &str = r#"
:root { color-scheme: light; --fg: #1d2330; --muted: #5d6678; --line: #d9dee8; --bg: #f3f5f9;
  --ok: #1f7a45; --bad: #b42318; --warn: #9a6700; --info: #2f5fb3; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header.page { padding: 18px 28px 8px; }
header.page h1 { margin: 0; font-size: 24px; }
.summary { margin: 2px 0 0; color: var(--muted); }
#fleet-findings { margin: 8px 28px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); align-items: start; gap: 16px; padding: 12px 28px 28px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card-error { border-color: #f0b4ae; box-shadow: inset 4px 0 0 var(--bad); }
.card > header { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.card h2 { margin: 0; font-size: 17px; }
.card h3 { margin: 10px 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.meta, .note, .absent, .more, .no-run { margin: 4px 0; color: var(--muted); font-size: 13px; }
.note { color: var(--warn); }
code { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.status, .wave, .tag { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #e8ebf2; color: var(--fg); }
.status-success, .status-active { background: #dcf3e4; color: var(--ok); }
.status-failed, .status-archived, .status-deprecated { background: #fde4e1; color: var(--bad); }
.status-cancelled, .status-pending, .status-planned { background: #fdf0d5; color: var(--warn); }
.status-in-progress, .status-development, .status-bootstrap { background: #e1ebfb; color: var(--info); }
.wave-blocked { background: #fde4e1; color: var(--bad); }
.wave-active, .wave-merging { background: #e1ebfb; color: var(--info); }
.badge { margin: 6px 0; padding: 6px 10px; border-radius: 6px; font-size: 13px; overflow-wrap: anywhere; }
.badge::before { font-weight: 700; margin-right: 6px; }
.badge-error { background: #fde4e1; color: var(--bad); border: 1px solid #f4b8b1; }
.badge-error::before { content: "ERROR"; }
.badge-warning { background: #fdf0d5; color: var(--warn); border: 1px solid #f1d9a3; }
.badge-warning::before { content: "WARNING"; }
.meter { display: grid; grid-template-columns: 70px 1fr max-content; align-items: center; gap: 8px; }
.meter meter { width: 100%; }
.meter .figures { font-variant-numeric: tabular-nums; color: var(--muted); }
.meter.over .figures { color: var(--bad); font-weight: 600; }
.card section p { margin: 2px 0; }
.kill-switch-on { background: #fde4e1; border-radius: 6px; padding: 2px 8px 6px; margin-top: 8px; }
.kill-switch-on strong { color: var(--bad); }
.evidence ul, .history ol { margin: 2px 0; padding-left: 18px; }
.tag-error { background: #fde4e1; color: var(--bad); }
.tag-latest { background: #dcf3e4; color: var(--ok); }
.disabled { color: var(--bad); }
a { color: var(--info); }
footer { padding: 0 28px 24px; color: var(--muted); font-size: 12px; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(number(50000.0), "50000");
        assert_eq!(number(8.75), "8.75");
        assert_eq!(number(0.04), "0.04");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(1.0 / 3.0), "0.33");
    }

    #[test]
    fn classes_come_from_the_contract_enums_only() {
        assert_eq!(
            class_of("status", Some("in_progress"), RUN_STATUSES),
            "status-in-progress"
        );
        assert_eq!(
            class_of("status", Some("x\" onmouseover=\"alert(1)"), RUN_STATUSES),
            "status-unknown"
        );
        assert_eq!(class_of("status", None, RUN_STATUSES), "status-unknown");
    }

    #[test]
    fn links_are_percent_encoded_per_segment() {
        let options = RenderOptions {
            now: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            history_limit: 10,
            link_prefix: String::new(),
        };
        assert_eq!(
            href(&options, "runs/p/run_1/evidence/a b?#c:d.log"),
            "runs/p/run_1/evidence/a%20b%3F%23c%3Ad.log"
        );
        assert_eq!(href(&options, "./runs//p"), "runs/p");
    }

    #[test]
    fn link_prefix_reaches_the_dash_directory() {
        let dir = tempfile::tempdir().unwrap();
        let dash = dir.path().join("dash");
        let site = dir.path().join("site/pages");
        std::fs::create_dir_all(&dash).unwrap();
        std::fs::create_dir_all(&site).unwrap();
        assert_eq!(link_prefix(&dash, &dash.join("index.html")), "");
        assert_eq!(link_prefix(&dash, &site.join("index.html")), "../../dash/");
    }
}
