//! `resolved_files.sha256`: the strict manifest reader. Whatever it accepts
//! it must write back byte for byte (the reader's own promise).
#![no_main]

use dcx_contracts::manifest::Sha256Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Sha256Manifest::parse(data) {
        Ok(manifest) => assert_eq!(manifest.to_bytes(), data, "an accepted manifest is not canonical"),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
