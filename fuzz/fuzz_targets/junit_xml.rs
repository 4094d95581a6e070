//! `dcx runs record --junit`: JUnit XML from any test runner, converted to
//! `test-report.json`. Whatever converts must serialize and summarize.
#![no_main]

use dcx_run_artifacts::convert_junit;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else { return };
    match convert_junit(xml) {
        Ok(report) => {
            serde_json::to_vec(&report).expect("a converted report serializes");
            assert!(!report.summary().is_empty());
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
