//! `runner-stage-identity <image.manifest> <dir>`: writes the identity files
//! of a runner image (`image.env`, `runtime.env`, `tools.env`, read-only)
//! into `<dir>`, normally `/etc/runner`, from its manifest. Image builds run
//! it (docker/runner-base/Dockerfile); see [`dcx_runner::image_manifest`] for the
//! rules.
//!
//! Exit statuses: 0 written, 2 usage error or a manifest that was refused
//! (the message names the manifest, the line and what is wrong).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use dcx_runner::image_manifest::IdentityFiles;

const USAGE: &str = "usage: runner-stage-identity <image.manifest> <identity-dir>";

// A binary reads its command line; clippy.toml bans that in the library.
#[allow(clippy::disallowed_methods)]
fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [manifest, dir] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let written = IdentityFiles::read_manifest(manifest).and_then(|files| files.write_to(dir));
    match written {
        Ok(paths) => {
            for path in paths {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ERROR: {error}");
            ExitCode::from(2)
        }
    }
}
