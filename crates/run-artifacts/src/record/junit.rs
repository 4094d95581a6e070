//! JUnit XML → `test-report.json`, the contract's optional structured test
//! results (§1, §6).
//!
//! The contract names the file but not its shape; dcx writes [`TestReport`]:
//! totals, then suites with their cases. Counts are computed from the
//! `<testcase>` elements, never copied from the `tests=`/`failures=`
//! attributes, which some producers get wrong. The XML is read with
//! quick-xml, which never fetches external entities or DTDs.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::Serialize;

/// The `schema_version` of `test-report.json`, in step with the other
/// run artifacts.
pub(super) const TEST_REPORT_SCHEMA_VERSION: &str = "0.1";

/// A failure's text beyond this many bytes is cut (stack traces can be
/// huge; the full text stays in the run's log).
const MAX_DETAILS: usize = 8 * 1024;

/// `test-report.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestReport {
    /// Always [`TEST_REPORT_SCHEMA_VERSION`].
    pub(crate) schema_version: String,
    /// What it was converted from: `junit`.
    pub(crate) source_format: String,
    /// All suites together.
    pub(crate) totals: Totals,
    /// The suites, in document order (nested suites flattened).
    pub(crate) suites: Vec<Suite>,
}

/// Test counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Totals {
    /// Test cases.
    pub tests: u64,
    /// Passed.
    pub passed: u64,
    /// Failed (an assertion failed).
    pub failed: u64,
    /// Errored (the test could not run to an assertion).
    pub errors: u64,
    /// Skipped.
    pub skipped: u64,
    /// Seconds, when the XML says.
    pub time_seconds: Option<f64>,
}

impl Totals {
    fn count(&mut self, status: CaseStatus) {
        self.tests += 1;
        match status {
            CaseStatus::Passed => self.passed += 1,
            CaseStatus::Failed => self.failed += 1,
            CaseStatus::Error => self.errors += 1,
            CaseStatus::Skipped => self.skipped += 1,
        }
    }

    fn add(&mut self, other: &Totals) {
        self.tests += other.tests;
        self.passed += other.passed;
        self.failed += other.failed;
        self.errors += other.errors;
        self.skipped += other.skipped;
        if let Some(t) = other.time_seconds {
            *self.time_seconds.get_or_insert(0.0) += t;
        }
    }
}

/// A `<testsuite>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Suite {
    /// Its `name` (empty when absent).
    pub name: String,
    /// Its counts.
    pub totals: Totals,
    /// Its cases.
    pub cases: Vec<Case>,
}

/// A `<testcase>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Case {
    /// Its `name`.
    pub name: String,
    /// Its `classname`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classname: Option<String>,
    /// Its outcome.
    pub status: CaseStatus,
    /// Seconds, when the XML says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_seconds: Option<f64>,
    /// The `message` of its failure, error or skip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The text of its failure or error (cut at 8 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// A test case's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CaseStatus {
    /// No failure, error or skip element.
    Passed,
    /// `<failure>`.
    Failed,
    /// `<error>`.
    Error,
    /// `<skipped>`.
    Skipped,
}

/// JUnit XML that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct JunitError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Converts JUnit XML (a `<testsuites>` or a single `<testsuite>` root) to a
/// [`TestReport`].
pub fn convert_junit(xml: &str) -> Result<TestReport, JunitError> {
    let mut reader = Reader::from_str(xml);
    let mut parser = Parser::default();
    let mut saw_root = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            let offset = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            error_at(xml, offset, e.to_string())
        })?;
        match event {
            Event::Start(element) => {
                if !saw_root {
                    check_root(xml, &reader, &element)?;
                    saw_root = true;
                }
                parser.start(&element, false);
            }
            Event::Empty(element) => {
                if !saw_root {
                    check_root(xml, &reader, &element)?;
                    saw_root = true;
                }
                parser.start(&element, true);
            }
            Event::End(element) => parser.end(element.local_name().as_ref()),
            Event::Text(text) => parser.text(&text.xml10_content()),
            Event::CData(data) => parser.text(&data.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = reference.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .map_or_else(|| format!("&{name};"), str::to_owned)
                    }
                };
                parser.text(&resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !saw_root {
        return Err(error_at(
            xml,
            0,
            "no <testsuites> or <testsuite> element".to_owned(),
        ));
    }
    Ok(parser.finish())
}

fn check_root(xml: &str, reader: &Reader<&[u8]>, element: &BytesStart<'_>) -> Result<(), JunitError> {
    let name = element.local_name();
    if matches!(name.as_ref(), "testsuites" | "testsuite") {
        return Ok(());
    }
    let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
    Err(error_at(
        xml,
        offset,
        format!(
            "the root element is <{}>, expected <testsuites> or <testsuite>",
            name.as_ref()
        ),
    ))
}

fn error_at(xml: &str, offset: usize, message: String) -> JunitError {
    let before = &xml.as_bytes()[..offset.min(xml.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    JunitError {
        line,
        column,
        message,
    }
}

#[derive(Debug, Default)]
struct Parser {
    suites: Vec<Suite>,
    /// Indices into `suites` of the `<testsuite>`s we are inside.
    open_suites: Vec<usize>,
    /// Suite time attributes, by index, when given.
    suite_times: Vec<Option<f64>>,
    case: Option<Case>,
    /// Inside `<failure>`/`<error>`: its text is collected.
    capturing: bool,
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
        .map(|v| v.into_owned())
}

impl Parser {
    fn start(&mut self, element: &BytesStart<'_>, empty: bool) {
        match element.local_name().as_ref() {
            "testsuite" => {
                self.suites.push(Suite {
                    name: attribute(element, "name").unwrap_or_default(),
                    totals: Totals::default(),
                    cases: Vec::new(),
                });
                self.suite_times
                    .push(attribute(element, "time").and_then(|t| t.parse().ok()));
                if !empty {
                    self.open_suites.push(self.suites.len() - 1);
                }
            }
            "testcase" => {
                let case = Case {
                    name: attribute(element, "name").unwrap_or_default(),
                    classname: attribute(element, "classname"),
                    status: CaseStatus::Passed,
                    time_seconds: attribute(element, "time").and_then(|t| t.parse().ok()),
                    message: None,
                    details: None,
                };
                if empty {
                    self.push_case(case);
                } else {
                    self.case = Some(case);
                }
            }
            outcome @ ("failure" | "error" | "skipped") => {
                if let Some(case) = &mut self.case {
                    // The first outcome wins: a failure stays a failure even
                    // if a flaky-rerun tool appends more elements.
                    if case.status == CaseStatus::Passed {
                        case.status = match outcome {
                            "failure" => CaseStatus::Failed,
                            "error" => CaseStatus::Error,
                            _ => CaseStatus::Skipped,
                        };
                        case.message = attribute(element, "message");
                        self.capturing = !empty && case.status != CaseStatus::Skipped;
                    }
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, name: &str) {
        match name {
            "testsuite" => {
                self.open_suites.pop();
            }
            "testcase" => {
                if let Some(case) = self.case.take() {
                    self.push_case(case);
                }
                self.capturing = false;
            }
            "failure" | "error" => self.capturing = false,
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        if !self.capturing {
            return;
        }
        let Some(case) = &mut self.case else { return };
        let details = case.details.get_or_insert_with(String::new);
        if details.len() >= MAX_DETAILS {
            return;
        }
        let room = MAX_DETAILS - details.len();
        if text.len() <= room {
            details.push_str(text);
        } else {
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            details.push_str(&text[..cut]);
            details.push_str("\n[… cut]");
        }
    }

    fn push_case(&mut self, mut case: Case) {
        if let Some(details) = &mut case.details {
            let trimmed = details.trim();
            if trimmed.is_empty() {
                case.details = None;
            } else if trimmed.len() != details.len() {
                *details = trimmed.to_owned();
            }
        }
        let index = match self.open_suites.last() {
            Some(&index) => index,
            // A case outside any suite (a bare `<testsuites>`) gets one.
            None => {
                self.suites.push(Suite {
                    name: String::new(),
                    totals: Totals::default(),
                    cases: Vec::new(),
                });
                self.suite_times.push(None);
                self.open_suites.push(self.suites.len() - 1);
                self.suites.len() - 1
            }
        };
        let suite = &mut self.suites[index];
        suite.totals.count(case.status);
        suite.cases.push(case);
    }

    fn finish(mut self) -> TestReport {
        let mut totals = Totals::default();
        for (suite, time) in self.suites.iter_mut().zip(&self.suite_times) {
            suite.totals.time_seconds = time.or_else(|| {
                let times: Vec<f64> = suite.cases.iter().filter_map(|c| c.time_seconds).collect();
                (!times.is_empty()).then(|| times.iter().sum())
            });
            totals.add(&suite.totals);
        }
        TestReport {
            schema_version: TEST_REPORT_SCHEMA_VERSION.to_owned(),
            source_format: "junit".to_owned(),
            totals,
            suites: self.suites,
        }
    }
}

impl TestReport {
    /// The counts in words, e.g. `junit: 3 passed, 1 failed, 1 skipped`.
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let mut text = format!("junit: {} passed, {} failed", t.passed, t.failed);
        if t.errors > 0 {
            text.push_str(&format!(", {} errors", t.errors));
        }
        if t.skipped > 0 {
            text.push_str(&format!(", {} skipped", t.skipped));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTEST_JUNIT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests">
  <testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4" time="0.052">
    <testcase classname="tests.test_dash" name="test_render" time="0.010"/>
    <testcase classname="tests.test_dash" name="test_escape" time="0.020">
      <failure message="assert '&lt;script&gt;' in html">def test_escape():
&gt;       assert "&lt;script&gt;" in html
E       AssertionError</failure>
    </testcase>
    <testcase classname="tests.test_dash" name="test_gc" time="0.001">
      <skipped type="pytest.skip" message="needs chromium"/>
    </testcase>
    <testcase classname="tests.test_dash" name="test_serve" time="0.002">
      <error message="fixture 'server' not found"><![CDATA[E  fixture 'server' not found]]></error>
      <system-out>ignored</system-out>
    </testcase>
  </testsuite>
</testsuites>"#;

    #[test]
    fn converts_pytest_junit() {
        let report = convert_junit(PYTEST_JUNIT).unwrap();
        insta::assert_json_snapshot!(report);
        assert_eq!(report.summary(), "junit: 1 passed, 1 failed, 1 errors, 1 skipped");
    }

    #[test]
    fn a_single_testsuite_root_and_counts_from_cases() {
        let xml = r#"<testsuite name="cli" tests="99" failures="0">
            <testcase name="a"/><testcase name="b"><failure/></testcase>
        </testsuite>"#;
        let report = convert_junit(xml).unwrap();
        assert_eq!(report.totals.tests, 2, "counted from the cases, not tests=\"99\"");
        assert_eq!(report.totals.failed, 1);
        assert_eq!(report.suites[0].cases[1].details, None);
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            convert_junit("<testsuites>\n  <testsuite>\n</testsuites>")
                .unwrap_err()
                .to_string(),
            "line 3, column 1: ill-formed document: expected `</testsuite>`, but `</testsuites>` was found"
        );
        assert_eq!(
            convert_junit("<html><body/></html>").unwrap_err().to_string(),
            "line 1, column 7: the root element is <html>, expected <testsuites> or <testsuite>"
        );
        assert_eq!(
            convert_junit("").unwrap_err().to_string(),
            "line 1, column 1: no <testsuites> or <testsuite> element"
        );
    }

    #[test]
    fn long_details_are_cut() {
        let xml = format!(
            "<testsuite><testcase name=\"t\"><failure>{}</failure></testcase></testsuite>",
            "é".repeat(MAX_DETAILS)
        );
        let report = convert_junit(&xml).unwrap();
        let details = report.suites[0].cases[0].details.as_deref().unwrap();
        assert!(details.ends_with("\n[… cut]"));
        assert!(details.len() <= MAX_DETAILS + 16);
    }
}
