//! An implementation bundle overlay, as YAML (read by `dcx bundle build`).
#![no_main]

use dcx_contracts::document::Format;
use dcx_contracts::bundle::ImplementationOverlay;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<ImplementationOverlay>(data, Format::Yaml);
});
