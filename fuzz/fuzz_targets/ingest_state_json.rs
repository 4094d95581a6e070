//! The ingest state file (`runner-status-ingest-state.json`): written by
//! dcx, but restored from a CI cache, so read as outside input.
#![no_main]

use dcx_contracts::document::Format;
use dcx_contracts::status::IngestState;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<IngestState>(data, Format::Json);
});
