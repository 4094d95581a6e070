//! The runner certification registry, as YAML (read by ingest and certify).
#![no_main]

use dcx_contracts::document::Format;
use dcx_contracts::certification::CertificationRegistry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<CertificationRegistry>(data, Format::Yaml);
});
