//! The run summary, read from the test runner's own closing lines.
//!
//! Upstream took the first stdout line containing "failed" or "error", which
//! can be a test's name (`test_error_handling PASSED`, RB B.9 #7). dcx only
//! reads the lines each runner prints to close a run, in this order of
//! precedence (the most specific first):
//!
//! | runner | closing line |
//! |---|---|
//! | cargo-nextest | `Summary [ 0.01s] 3 tests run: 2 passed, 1 failed, 0 skipped` |
//! | cargo test | `test result: FAILED. 2 passed; 1 failed; 0 ignored; …` (one per test binary, added up) |
//! | pytest | `==== 1 failed, 2 passed, 1 skipped in 0.12s ====` (or without the `=`) |
//! | go test | `ok  <pkg> 0.01s`, `FAIL <pkg> 0.02s`, and `--- PASS/FAIL/SKIP:` lines |
//! | any | `N passed, N failed` alone on a line (`, N skipped` may follow; one `word:` may precede) |
//!
//! When none is found, [`DetectedSummary`] is absent and the caller says so.

use std::io::{self, BufRead};

/// A recognized test summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedSummary {
    /// The runner whose closing line it is.
    pub(crate) runner: SummaryRunner,
    /// The summary, e.g. `cargo test: 12 passed, 1 failed, 2 ignored`.
    pub(crate) text: String,
}

/// The test runners whose closing lines are recognized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SummaryRunner {
    /// `cargo test` (libtest).
    CargoTest,
    /// `cargo nextest run`.
    Nextest,
    /// pytest.
    Pytest,
    /// `go test`.
    GoTest,
    /// The plain `N passed, N failed` line.
    Plain,
}

/// Lines longer than this are cut before matching: closing lines are short,
/// and a multi-megabyte line of output must not be held in memory.
const MAX_LINE: usize = 4096;

/// Scans a whole log and returns its summary, if any runner's closing line
/// is in it.
pub fn detect_summary(log: impl BufRead) -> io::Result<Option<DetectedSummary>> {
    let mut scan = Scan::default();
    for_each_line(log, |line| scan.line(&strip_ansi(line)))?;
    Ok(scan.finish())
}

/// Calls `f` with every line (lossily decoded, cut at [`MAX_LINE`] bytes).
fn for_each_line(mut reader: impl BufRead, mut f: impl FnMut(&str)) -> io::Result<()> {
    let mut line = Vec::new();
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            if !line.is_empty() {
                f(&String::from_utf8_lossy(&line));
            }
            return Ok(());
        }
        let (part, consumed, ends_line) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (&chunk[..at], at + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&part[..part.len().min(room)]);
        reader.consume(consumed);
        if ends_line {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            f(&String::from_utf8_lossy(&line));
            line.clear();
        }
    }
}

/// Removes ANSI escape sequences (colours), which runners emit when forced
/// to (`--color=always`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Default)]
struct Scan {
    nextest: Option<String>,
    cargo: Option<CargoTotals>,
    pytest: Option<String>,
    go: GoTotals,
    plain: Option<String>,
}

#[derive(Debug, Default)]
struct CargoTotals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

#[derive(Debug, Default)]
struct GoTotals {
    packages_ok: u64,
    packages_failed: u64,
    passed: u64,
    failed: u64,
    skipped: u64,
}

impl Scan {
    fn line(&mut self, line: &str) {
        let trimmed = line.trim();
        if let Some(text) = nextest_summary(trimmed) {
            self.nextest = Some(text);
        } else if let Some(counts) = trimmed.strip_prefix("test result: ") {
            self.cargo_result(counts);
        } else if let Some(text) = pytest_summary(trimmed) {
            self.pytest = Some(text);
        } else if !self.go_line(line)
            && let Some(text) = plain_summary(trimmed)
        {
            self.plain = Some(text);
        }
    }

    fn cargo_result(&mut self, rest: &str) {
        // "ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s"
        let Some((_verdict, counts)) = rest.split_once(". ") else {
            return;
        };
        let totals = self.cargo.get_or_insert_with(CargoTotals::default);
        for item in counts.split(';') {
            match count_and_word(item) {
                Some((n, "passed")) => totals.passed += n,
                Some((n, "failed")) => totals.failed += n,
                Some((n, "ignored")) => totals.ignored += n,
                _ => {}
            }
        }
    }

    /// Counts a `go test` line; true when it was one.
    fn go_line(&mut self, line: &str) -> bool {
        let go = &mut self.go;
        // Package results: "ok  \tpkg\t0.01s", "FAIL\tpkg\t0.02s"; a bare
        // "FAIL" or "PASS" closes a package's verbose output and is not counted.
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() >= 2 && !fields[1].is_empty() {
            match fields[0].trim_end() {
                "ok" => {
                    go.packages_ok += 1;
                    return true;
                }
                "FAIL" => {
                    go.packages_failed += 1;
                    return true;
                }
                _ => {}
            }
        }
        // Top-level tests only; subtests are indented.
        let verdict = ["--- PASS: ", "--- FAIL: ", "--- SKIP: "]
            .iter()
            .position(|prefix| line.starts_with(prefix));
        match verdict {
            Some(0) => go.passed += 1,
            Some(1) => go.failed += 1,
            Some(2) => go.skipped += 1,
            _ => return false,
        }
        true
    }

    fn finish(self) -> Option<DetectedSummary> {
        let detected = |runner, text| Some(DetectedSummary { runner, text });
        if let Some(text) = self.nextest {
            return detected(SummaryRunner::Nextest, format!("nextest: {text}"));
        }
        if let Some(t) = self.cargo {
            let mut text = format!("cargo test: {} passed, {} failed", t.passed, t.failed);
            if t.ignored > 0 {
                text.push_str(&format!(", {} ignored", t.ignored));
            }
            return detected(SummaryRunner::CargoTest, text);
        }
        if let Some(text) = self.pytest {
            return detected(SummaryRunner::Pytest, format!("pytest: {text}"));
        }
        let go = self.go;
        if go.packages_ok + go.packages_failed > 0 {
            let mut text = format!(
                "go test: {} packages ok, {} failed",
                go.packages_ok, go.packages_failed
            );
            if go.passed + go.failed + go.skipped > 0 {
                text.push_str(&format!(
                    "; {} tests passed, {} failed, {} skipped",
                    go.passed, go.failed, go.skipped
                ));
            }
            return detected(SummaryRunner::GoTest, text);
        }
        self.plain.map(|text| DetectedSummary {
            runner: SummaryRunner::Plain,
            text,
        })
    }
}

/// `"12 passed"` → `(12, "passed")`.
fn count_and_word(item: &str) -> Option<(u64, &str)> {
    let (count, word) = item.trim().split_once(' ')?;
    Some((count.parse().ok()?, word.trim()))
}

/// nextest: `Summary [   0.012s] 3 tests run: 2 passed (1 slow), 1 failed, 0 skipped`
/// → `3 tests run: 2 passed, 1 failed, 0 skipped`.
fn nextest_summary(line: &str) -> Option<String> {
    let rest = line.strip_prefix("Summary [")?;
    let (_, rest) = rest.split_once(']')?;
    let rest = rest.trim();
    let (run, counts) = rest.split_once(" run: ")?;
    // "3 tests", "1 test", "2/3 tests" when the run was cancelled.
    let (total, unit) = run.split_once(' ')?;
    if !matches!(unit, "test" | "tests") || !total.bytes().all(|b| b.is_ascii_digit() || b == b'/') {
        return None;
    }
    let items: Vec<String> = counts
        .split(',')
        .map(|item| match item.split_once('(') {
            Some((kept, _annotation)) => kept.trim().to_owned(),
            None => item.trim().to_owned(),
        })
        .collect();
    if items.iter().any(|item| count_and_word(item).is_none()) {
        return None;
    }
    Some(format!("{run} run: {}", items.join(", ")))
}

const PYTEST_WORDS: &[&str] = &[
    "passed",
    "failed",
    "error",
    "errors",
    "skipped",
    "xfailed",
    "xpassed",
    "deselected",
    "warning",
    "warnings",
    "rerun",
    "reruns",
];

/// pytest: `===== 1 failed, 2 passed in 0.12s =====` (or `-q`'s bare form)
/// → `1 failed, 2 passed`; `no tests ran in 0.01s` → `no tests ran`.
fn pytest_summary(line: &str) -> Option<String> {
    let inner = line.trim_matches('=').trim();
    let (counts, duration) = inner.rsplit_once(" in ")?;
    if !duration.starts_with(|c: char| c.is_ascii_digit()) || !duration.contains('s') {
        return None;
    }
    if counts == "no tests ran" {
        return Some(counts.to_owned());
    }
    let all_counts = counts
        .split(", ")
        .all(|item| count_and_word(item).is_some_and(|(_, word)| PYTEST_WORDS.contains(&word)));
    all_counts.then(|| counts.to_owned())
}

/// The plain line: `N passed, N failed[, N skipped]`, optionally after one
/// `word:`.
fn plain_summary(line: &str) -> Option<String> {
    let body = match line.split_once(':') {
        Some((label, rest)) if !label.is_empty() && !label.contains(char::is_whitespace) => rest.trim(),
        _ => line,
    };
    let items: Vec<(u64, &str)> = body.split(", ").map(count_and_word).collect::<Option<_>>()?;
    let words: Vec<&str> = items.iter().map(|(_, word)| *word).collect();
    let shape_ok = matches!(
        words.as_slice(),
        ["passed", "failed"] | ["passed", "failed", "skipped"]
    );
    shape_ok.then(|| body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(log: &str) -> Option<(SummaryRunner, String)> {
        detect_summary(log.as_bytes())
            .unwrap()
            .map(|d| (d.runner, d.text))
    }

    #[test]
    fn cargo_test_results_are_added_up_over_binaries() {
        let log = "\
running 3 tests
test parse::error_handling ... ok
test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 2 tests
test b ... FAILED
test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
error: test failed, to rerun pass `--lib`
";
        assert_eq!(
            summary(log),
            Some((
                SummaryRunner::CargoTest,
                "cargo test: 4 passed, 1 failed, 1 ignored".into()
            ))
        );
    }

    #[test]
    fn nextest_summary_line() {
        let log = "\
    Starting 3 tests across 1 binary
        PASS [   0.003s] crate tests::a
────────────
     Summary [   0.012s] 3 tests run: 2 passed (1 slow), 1 failed, 0 skipped
        FAIL [   0.004s] crate tests::b
error: test run failed
";
        assert_eq!(
            summary(log),
            Some((
                SummaryRunner::Nextest,
                "nextest: 3 tests run: 2 passed, 1 failed, 0 skipped".into()
            ))
        );
        assert_eq!(
            summary("     Summary [   0.001s] 1 test run: 1 passed, 0 skipped\n")
                .unwrap()
                .1,
            "nextest: 1 test run: 1 passed, 0 skipped"
        );
    }

    #[test]
    fn pytest_closing_line_not_test_names() {
        let log = "\
============================= test session starts ==============================
tests/test_dash.py::test_error_handling PASSED                           [ 50%]
tests/test_dash.py::test_failed_login FAILED                             [100%]
=========================== short test summary info ============================
FAILED tests/test_dash.py::test_failed_login - assert 1 == 2
==================== 1 failed, 1 passed, 2 warnings in 0.12s ====================
";
        assert_eq!(
            summary(log),
            Some((
                SummaryRunner::Pytest,
                "pytest: 1 failed, 1 passed, 2 warnings".into()
            ))
        );
        assert_eq!(
            summary("3 passed in 75.12s (0:01:15)\n").unwrap().1,
            "pytest: 3 passed"
        );
        assert_eq!(
            summary("============================ no tests ran in 0.01s =============================\n")
                .unwrap()
                .1,
            "pytest: no tests ran"
        );
    }

    #[test]
    fn go_test_packages_and_tests() {
        let log = "\
=== RUN   TestParse
--- PASS: TestParse (0.00s)
=== RUN   TestServe
    --- PASS: TestServe/sub (0.00s)
--- FAIL: TestServe (0.01s)
--- SKIP: TestSlow (0.00s)
FAIL
FAIL\texample.com/dash\t0.012s
ok  \texample.com/cli\t(cached)
?   \texample.com/docs\t[no test files]
FAIL
";
        assert_eq!(
            summary(log),
            Some((
                SummaryRunner::GoTest,
                "go test: 1 packages ok, 1 failed; 1 tests passed, 1 failed, 1 skipped".into()
            ))
        );
    }

    #[test]
    fn the_plain_line() {
        assert_eq!(
            summary("setup done\nresults: 5 passed, 1 failed, 2 skipped\n"),
            Some((SummaryRunner::Plain, "5 passed, 1 failed, 2 skipped".into()))
        );
        assert_eq!(summary("5 passed, 0 failed\n").unwrap().1, "5 passed, 0 failed");
        for not_plain in [
            "5 failed, 1 passed\n",
            "we passed 5, failed 1\n",
            "two words: 5 passed, 1 failed\n",
            "5 passed\n",
        ] {
            assert_eq!(summary(not_plain), None, "{not_plain:?}");
        }
    }

    #[test]
    fn nothing_recognized() {
        assert_eq!(summary(""), None);
        assert_eq!(
            summary("test_error_handling PASSED\nerror: something broke\n"),
            None
        );
    }

    #[test]
    fn colours_and_crlf_are_ignored() {
        let log = "\u{1b}[32m===== \u{1b}[1m2 passed\u{1b}[0m in 0.01s =====\u{1b}[0m\r\n";
        assert_eq!(summary(log).unwrap().1, "pytest: 2 passed");
    }

    #[test]
    fn long_lines_are_cut_not_held() {
        let mut log = "x".repeat(10 * MAX_LINE);
        log.push_str("\n3 passed, 0 failed\n");
        assert_eq!(summary(&log).unwrap().1, "3 passed, 0 failed");
        let mut lines = Vec::new();
        for_each_line(log.as_bytes(), |l| lines.push(l.len())).unwrap();
        assert_eq!(lines, [MAX_LINE, 18]);
    }
}
