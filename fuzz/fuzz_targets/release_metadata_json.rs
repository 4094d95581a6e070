//! GitHub release metadata, as JSON (the release API answer ingest reads).
#![no_main]

use dcx_contracts::document::Format;
use dcx_contracts::status::GithubRelease;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<GithubRelease>(data, Format::Json);
});
