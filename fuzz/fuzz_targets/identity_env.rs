//! The runner identity files (`image.env`, `runtime.env`, `tools.env`):
//! the strict `KEY=VALUE` grammar, then the image identity's required keys.
#![no_main]

use dcx_contracts::identity::{EnvFile, ImageIdentity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match EnvFile::parse_bytes(data, "image.env") {
        Ok(file) => match ImageIdentity::from_env_file(file) {
            Ok(identity) => drop(identity),
            Err(error) => assert!(!error.to_string().is_empty()),
        },
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
