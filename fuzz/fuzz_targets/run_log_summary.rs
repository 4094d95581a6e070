//! `dcx runs record`: the summary read from the test command's own output
//! (cargo test, nextest, pytest, go test closing lines): any bytes a
//! command prints.
#![no_main]

use dcx_run_artifacts::detect_summary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let detected = detect_summary(data).expect("reading from memory cannot fail");
    drop(detected);
});
