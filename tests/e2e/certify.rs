//! `dcx certify` and `dcx certify verify` end to end, with the fixture
//! adapter of `dcx-certification` (which passes, fails, hangs or crashes as
//! its environment tells it). Certificates are snapshotted under a fixed
//! `--now` and `--commit-sha`; the only values that vary between runs are
//! the check durations and, through them, `proof.payload_sha256`, which the
//! snapshots replace with placeholders (the payload hash is proven by
//! `verify` instead).

use std::path::Path;
use std::process::{Command, Output};

use crate::support::certify::{COMMIT, NOW, registry, workdir};
use crate::support::{repo_root, text};
use serde_json::Value;

fn dcx(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcx"));
    command.args(args).current_dir(dir);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn certify_rust(dir: &Path, timeout: &str, env: &[(&str, &str)]) -> Output {
    let registry = registry();
    dcx(
        dir,
        &[
            "certify",
            "--runner",
            "rust",
            "--registry",
            registry.to_str().unwrap(),
            "--adapter",
            "./adapter.sh",
            "--spec-root",
            "spec",
            "--out-dir",
            "out",
            "--commit-sha",
            COMMIT,
            "--now",
            NOW,
            "--timeout",
            timeout,
        ],
        env,
    )
}

/// The certificate must match its generated schema, formats checked.
fn assert_schema_valid(certificate: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            repo_root().join("specs/schemas/runner_execution_certificate_v1.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(certificate)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The certificate and its Markdown as written, with the run-dependent
/// values replaced: durations and the payload hash. The JSON stays text, so
/// the snapshot shows the field order of the file (the schema's).
fn stable_outputs(dir: &Path) -> (String, String) {
    let json = std::fs::read_to_string(dir.join("out/runner-certification-rust.json")).unwrap();
    let certificate: Value = serde_json::from_str(&json).unwrap();
    assert_schema_valid(&certificate);
    let payload = certificate["proof"]["payload_sha256"].as_str().unwrap();
    let json: Vec<String> = json
        .replace(payload, "[payload_sha256]")
        .lines()
        .map(|line| match line.split_once("\"duration_ms\": ") {
            Some((indent, ms)) => {
                assert!(ms.trim_end_matches(',').parse::<u64>().is_ok(), "{line}");
                let comma = if ms.ends_with(',') { "," } else { "" };
                format!("{indent}\"duration_ms\": \"[duration]\"{comma}")
            }
            None => line.to_owned(),
        })
        .collect();
    let md = std::fs::read_to_string(dir.join("out/runner-certification-rust.md")).unwrap();
    (
        json.join("\n"),
        normalize_markdown(&md.replace(payload, "[payload_sha256]")),
    )
}

/// `| 12 ms |` → `| [duration] |`.
fn normalize_markdown(md: &str) -> String {
    let mut out = String::new();
    let mut rest = md;
    while let Some(start) = rest.find("| ") {
        out.push_str(&rest[..start + 2]);
        rest = &rest[start + 2..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(" ms |") {
            out.push_str("[duration]");
            rest = &rest[digits + " ms".len()..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn the_rust_lane_passes_with_the_fixture_adapter_and_verifies() {
    let dir = workdir();
    let out = certify_rust(dir.path(), "20s", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "wrote out/runner-certification-rust.json\n\
         wrote out/runner-certification-rust.md\n\
         PASS: rust (required, active, blocking): 8 passed, 0 failed, 0 skipped\n"
    );
    assert_eq!(text(&out.stderr), "");

    let (certificate, md) = stable_outputs(dir.path());
    insta::assert_snapshot!("rust_pass_json", certificate);
    insta::assert_snapshot!("rust_pass_md", md);

    let registry = registry();
    let verified = dcx(
        dir.path(),
        &[
            "certify",
            "verify",
            "out/runner-certification-rust.json",
            "--registry",
            registry.to_str().unwrap(),
            "--strict",
        ],
        &[],
    );
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified.stderr));
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/runner-certification-rust.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        text(&verified.stdout),
        format!(
            "ok: proof.payload_sha256 {} recomputes\n\
             ok: equivalence.intent_hash 861c5dae4de617ca937dcb05c91193d026b5d24905acd7d299b34ab4455c54c8 recomputes\n\
             verified: out/runner-certification-rust.json\n",
            written["proof"]["payload_sha256"].as_str().unwrap()
        )
    );
}

#[test]
fn an_adapter_that_fails_hangs_and_crashes_fails_the_certificate() {
    let dir = workdir();
    let out = certify_rust(
        dir.path(),
        "2s",
        &[
            ("FIXTURE_ADAPTER_FAIL", "governance"),
            ("FIXTURE_ADAPTER_HANG", "docs-generate-check"),
            (
                "FIXTURE_ADAPTER_CRASH",
                "governance --check-id runtime.runner_interface_subcommands",
            ),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "wrote out/runner-certification-rust.json\n\
         wrote out/runner-certification-rust.md\n\
         FAIL: rust (required, active, blocking): 5 passed, 3 failed, 0 skipped\n"
    );
    assert_eq!(
        text(&out.stderr),
        "fail: command.governance: `./adapter.sh governance` exited 3; expected 0 or 1 \
         (evidence: runner-certification-rust/command.governance.log)\n\
         fail: command.docs-generate-check: `./adapter.sh docs-generate-check` timed out after 2s; \
         its process group was killed (evidence: runner-certification-rust/command.docs-generate-check.log)\n\
         fail: governance.runtime.runner_interface_subcommands: \
         `./adapter.sh governance --check-id runtime.runner_interface_subcommands` was killed by signal 6 (SIGABRT) \
         (evidence: runner-certification-rust/governance.runtime.runner_interface_subcommands.log)\n"
    );

    let (certificate, md) = stable_outputs(dir.path());
    insta::assert_snapshot!("rust_fail_json", certificate);
    insta::assert_snapshot!("rust_fail_md", md);

    // The evidence of each failure is kept.
    let evidence = dir.path().join("out/runner-certification-rust");
    let log = |name: &str| std::fs::read_to_string(evidence.join(name)).unwrap();
    assert_eq!(
        log("command.governance.log"),
        "# dcx certify: ./adapter.sh governance (timeout 2s)\n\
         fixture adapter: governance\n\
         fixture adapter diagnostics: governance\n\
         failing as told\n\
         # dcx certify: exited with code 3\n"
    );
    assert!(
        log("command.docs-generate-check.log")
            .ends_with("# dcx certify: timed out after 2s; process group killed\n")
    );
    assert!(
        log("governance.runtime.runner_interface_subcommands.log")
            .ends_with("# dcx certify: killed by signal 6 (SIGABRT)\n")
    );

    // A failed certificate is still a true one.
    let verified = dcx(
        dir.path(),
        &[
            "certify",
            "verify",
            "--strict",
            "out/runner-certification-rust.json",
        ],
        &[],
    );
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified.stderr));
}

#[test]
fn usage_and_configuration_errors_exit_2_and_write_nothing() {
    let dir = workdir();
    let registry = registry();
    let registry = registry.to_str().unwrap();
    let base = [
        "certify",
        "--registry",
        registry,
        "--out-dir",
        "out",
        "--commit-sha",
        COMMIT,
    ];
    let with =
        |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| (*s).to_owned()).collect() };
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            with(&["--runner", "go"]),
            format!(
                "error: {registry}: /runners: no lane has runner_id `go`; known ids: rust, python, php, node, c\n"
            ),
        ),
        (
            vec![
                "certify".into(),
                "--runner".into(),
                "rust".into(),
                "--registry".into(),
                "missing.yaml".into(),
                "--commit-sha".into(),
                COMMIT.into(),
            ],
            "error: cannot read missing.yaml: No such file or directory (os error 2)\n".to_owned(),
        ),
        (
            vec![
                "certify".into(),
                "--runner".into(),
                "rust".into(),
                "--registry".into(),
                registry.into(),
                "--commit-sha".into(),
                "HEAD".into(),
            ],
            "error: commit \"HEAD\" is not a git commit id (40 or 64 lowercase hex characters)\n".to_owned(),
        ),
    ];
    for (args, stderr) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = dcx(dir.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stderr), stderr, "{args:?}");
    }

    for (flag, value, message) in [
        (
            "--timeout",
            "0s",
            "expected a positive duration such as 300s, 5m, 1h or 1500ms (a bare number is seconds), got \"0s\"",
        ),
        (
            "--now",
            "yesterday",
            "expected an RFC 3339 instant such as 2026-02-20T00:00:00Z (date, 'T', time and an offset), got \"yesterday\"",
        ),
    ] {
        let args = with(&["--runner", "rust", flag, value]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = dcx(dir.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).starts_with(&format!("error: invalid value '{value}' for '{flag} <")),
            "{}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
    }

    // Outside a git checkout, the commit has to be given.
    let out = dcx(
        dir.path(),
        &["certify", "--runner", "rust", "--registry", registry],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: cannot tell which commit to certify (")
            && stderr.ends_with("; pass --commit-sha\n"),
        "{stderr}"
    );

    let out = dcx(dir.path(), &["certify", "verify", "gone.json"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: cannot read gone.json: No such file or directory (os error 2)\n"
    );

    assert!(!dir.path().join("out").exists());
}

#[test]
fn verify_reads_the_peers_certificate_and_strict_makes_its_drift_fatal() {
    let f6 =
        repo_root().join("specs/examples/runner_execution_certificate_v1/invalid/upstream-f6-python.json");
    let f6 = f6.to_str().unwrap();
    let drift = "schema drift: /checks/1/status: \"skipped\" is not one of `pass`, `fail`, `skip`\n\
                 {level}: schema drift: /checks/2/status: \"skipped\" is not one of `pass`, `fail`, `skip`\n\
                 {level}: schema drift: /checks/3/status: \"skipped\" is not one of `pass`, `fail`, `skip`\n\
                 {level}: schema drift: /execution_intent/registry_ref/version: must be 2 (found 1)\n";
    let hashes = "ok: proof.payload_sha256 291e078ebf61330f5c4683a91b2ce60a32bc9e533f7bebfc99bb3195fda4d24b recomputes\n\
                  ok: equivalence.intent_hash ba00349b71b5d63fbd06d10ff84ea5fff7dacf747a277b8421fcaf7c8d5b61fb recomputes\n";

    let out = dcx(&repo_root(), &["certify", "verify", f6], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!("{hashes}verified: {f6} (4 schema drift warning(s); --strict makes them fatal)\n")
    );
    assert_eq!(
        text(&out.stderr),
        format!("warning: {}", drift.replace("{level}", "warning"))
    );

    let out = dcx(&repo_root(), &["certify", "verify", "--strict", f6], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), hashes);
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {}FAIL: {f6}: 4 problem(s)\n",
            drift.replace("{level}", "error")
        )
    );
}

#[test]
fn verify_names_a_flipped_byte_and_intent_drift() {
    let dir = workdir();
    let out = certify_rust(dir.path(), "20s", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(dir.path().join("out/runner-certification-rust.json")).unwrap();
    let payload = serde_json::from_str::<Value>(&written).unwrap()["proof"]["payload_sha256"]
        .as_str()
        .unwrap()
        .to_owned();

    // One byte of the implementation repo's name.
    let flipped = written.replacen("dc-runner-rust", "dc-runner-rusu", 1);
    assert_eq!(flipped.len(), written.len());
    std::fs::write(dir.path().join("flipped.json"), flipped).unwrap();
    let out = dcx(dir.path(), &["certify", "verify", "flipped.json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: payload hash mismatch: /proof/payload_sha256: is {payload} but the certificate hashes to "
        )),
        "{stderr}"
    );
    assert!(stderr.ends_with("FAIL: flipped.json: 1 problem(s)\n"), "{stderr}");

    // The registry now requires one more governance check of the rust lane.
    let changed = std::fs::read_to_string(registry()).unwrap().replacen(
        "      - runtime.compatibility_matrix_registration_required\n",
        "      - runtime.compatibility_matrix_registration_required\n      - runtime.new_check\n",
        1,
    );
    std::fs::write(dir.path().join("registry.yaml"), changed).unwrap();
    let out = dcx(
        dir.path(),
        &[
            "certify",
            "verify",
            "out/runner-certification-rust.json",
            "--registry",
            "registry.yaml",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        "error: intent drift: /execution_intent/required_core_checks: registry.yaml now requires `runtime.new_check`"
    );
    assert!(
        lines[1].starts_with(
            "error: intent drift: /equivalence/intent_hash: the certificate's intent hashes to \
             861c5dae4de617ca937dcb05c91193d026b5d24905acd7d299b34ab4455c54c8; \
             the intent registry.yaml now requires of lane `rust` hashes to "
        ),
        "{stderr}"
    );
    assert_eq!(
        lines[2..],
        ["FAIL: out/runner-certification-rust.json: 2 problem(s)"]
    );
}

#[test]
fn verify_refuses_a_certificate_over_max_document_bytes() {
    let f6 =
        repo_root().join("specs/examples/runner_execution_certificate_v1/invalid/upstream-f6-python.json");
    let size = std::fs::metadata(&f6).unwrap().len();
    let f6 = f6.to_str().unwrap();
    let cap = (size - 1).to_string();
    let out = dcx(
        &repo_root(),
        &["certify", "verify", f6, "--max-document-bytes", &cap],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {f6}: the document has {size} bytes, over the cap of {cap} bytes; nothing was parsed (raise --max-document-bytes if it really is that large)\n"
        )
    );
    let cap = size.to_string();
    let out = dcx(
        &repo_root(),
        &["certify", "verify", f6, "--max-document-bytes", &cap],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The registry given to compare against is capped too.
    let registry = registry();
    let registry_size = std::fs::metadata(&registry).unwrap().len();
    let out = dcx(
        &repo_root(),
        &[
            "certify",
            "verify",
            f6,
            "--registry",
            registry.to_str().unwrap(),
            "--max-document-bytes",
            &cap,
        ],
        &[],
    );
    if registry_size > size {
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("raise --max-document-bytes"),
            "{}",
            text(&out.stderr)
        );
    }
}
