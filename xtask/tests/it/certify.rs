//! `cargo xtask certify`: the workspace registry's rust lane certified with
//! the fixture adapter of `dcx-certification`.

use std::path::Path;
use std::process::Command;

#[test]
// `$DCX`: the binary xtask runs, when CI names one.
#[allow(clippy::disallowed_methods)]
fn certifies_the_rust_lane_of_the_workspace_registry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let fixtures = root.join("crates/certification/tests/fixtures");
    let out = tempfile::tempdir().unwrap();
    // The fixture may lose its mode on checkout; run a copy made executable.
    let adapter = out.path().join("adapter.sh");
    std::fs::copy(fixtures.join("adapter.sh"), &adapter).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&adapter, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&root)
        .args(["certify", "--runner", "rust", "--adapter"])
        .arg(&adapter)
        .arg("--spec-root")
        .arg(fixtures.join("spec-root"))
        .arg("--out-dir")
        .arg(out.path())
        .args([
            "--commit-sha",
            "5f0c2a9e81d4b7c3a6e0f9d2b8c1a7e4d3f6b9a0",
            "--now",
            "2026-02-20T00:00:00Z",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let json = out.path().join("runner-certification-rust.json");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "wrote {}\nwrote {}\nPASS: rust (required, active, blocking): 8 passed, 0 failed, 0 skipped\n",
            json.display(),
            out.path().join("runner-certification-rust.md").display()
        )
    );
    // The certificate verifies strictly against the registry, checked by
    // the same `dcx` binary xtask ran: the one `$DCX` names (`cargo xtask
    // ci` points it at the workspace's test build), else the one xtask built
    // in the dev profile, which is the profile this test is built in, so it
    // sits beside xtask.
    let dcx = std::env::var_os("DCX")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_BIN_EXE_xtask")).with_file_name("dcx"));
    let verified = Command::new(&dcx)
        .args(["certify", "verify"])
        .arg(&json)
        .arg("--registry")
        .arg(root.join("specs/runner_certification_registry_v1.yaml"))
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", crate::text(&verified));
}
