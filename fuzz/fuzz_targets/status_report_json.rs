//! A runner status report, as JSON (downloaded by ingest from release assets).
#![no_main]

use dcx_contracts::document::Format;
use dcx_contracts::status::RunnerStatusReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<RunnerStatusReport>(data, Format::Json);
});
