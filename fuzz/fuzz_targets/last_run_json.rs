//! A product's `last_run.json` (read by `dcx runs` and `dcx dash`).
#![no_main]

use dcx_contracts::document::Format;
use dcx_contracts::run_artifacts::LastRun;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<LastRun>(data, Format::Json);
});
