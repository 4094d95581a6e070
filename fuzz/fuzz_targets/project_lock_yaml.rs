//! A project's `bundles.lock.yaml`: the document, then the install plan
//! built from it (which normalizes every install directory).
#![no_main]

use dcx_bundle_overlay::plan_install;
use dcx_contracts::bundle::ProjectBundleLock;
use dcx_contracts::document::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dcx_fuzz::document_round_trip::<ProjectBundleLock>(data, Format::Yaml);
    if let Ok(loaded) = document::from_bytes::<ProjectBundleLock>(data, Format::Yaml, dcx_fuzz::ORIGIN) {
        match plan_install(&loaded.document, dcx_fuzz::ORIGIN) {
            Ok(plan) => drop(plan),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
});
