//! A runner execution certificate, as JSON (read by `dcx certify verify`, including peers' certificates).
#![no_main]

use dcx_contracts::document::Format;
use dcx_contracts::certification::ExecutionCertificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<ExecutionCertificate>(data, Format::Json);
});
