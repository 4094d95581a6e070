//! The Dash fleet registry `products.json` (read by `dcx fleet`, `dcx runs`, `dcx dash`).
#![no_main]

use dcx_contracts::document::Format;
use dcx_contracts::run_artifacts::Products;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<Products>(data, Format::Json);
});
