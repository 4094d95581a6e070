//! Beyond the contract list: `exec` really is `execve` (same process, the
//! program's own status and signals), the 126 status, and the JSON
//! documents against their generated schemas and committed examples.

use crate::support;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use crate::support::StagedImage;
use serde_json::Value;

#[test]
fn exec_replaces_the_runner_in_the_same_process() {
    let image = StagedImage::base();
    let child = image
        .runtime_user_command()
        .args(["exec", "sh", "-c", "echo $$"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start runner");
    let pid = child.id();
    let output = child.wait_with_output().expect("runner finishes");
    assert!(output.status.success(), "{output:?}");
    // setpriv execs the runner, which execs sh: one process throughout.
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), pid.to_string());
}

#[test]
fn exec_status_and_signals_are_the_programs_own() {
    let image = StagedImage::base();
    let run = image.run(&["exec", "sh", "-c", "exit 42"]);
    assert_eq!(run.code(), 42, "{run:?}");

    let run = image.run(&["exec", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(run.status.signal(), Some(15), "{run:?}");

    // `--` before the program is accepted (Runner CLI v0.3 spelling).
    let run = image.run(&["exec", "--", "printf", "%s", "ok"]);
    assert_eq!((run.code(), run.stdout.as_str()), (0, "ok"), "{run:?}");
}

#[test]
fn exec_of_a_file_that_cannot_run_exits_126() {
    let image = StagedImage::base();
    let script = image.workspace().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho ran\n").expect("write script");
    let run = image.run(&["exec", "./script.sh"]);
    assert_eq!(run.code(), 126, "{run:?}");
    assert_eq!(
        run.error_line(),
        "ERROR: exec: ./script.sh: cannot execute: Permission denied (os error 13)"
    );

    let run = image.run(&["exec", "/"]);
    assert_eq!(run.code(), 126, "{run:?}");

    // A plugin whose #! interpreter is missing exists: 126, not 127.
    image.add_plugin("broken", "#!/nonexistent/interpreter\n", 0o755);
    let run = image.run(&["broken"]);
    assert_eq!(run.code(), 126, "{run:?}");
    assert_eq!(
        run.error_line(),
        format!(
            "ERROR: exec: {}: cannot execute: its interpreter (the #! line, or the ELF loader) does not exist",
            image.plugin_dir().join("broken").display()
        )
    );
}

/// The committed schema of `id`, compiled.
fn validator(id: &str) -> jsonschema::Validator {
    let path = support::repo_root().join(format!("specs/schemas/{id}.schema.json"));
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read schema")).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn json_output(image: &StagedImage, command: &str) -> Value {
    let run = image.run(&[command, "--format", "json"]);
    assert_eq!(run.code(), 0, "{run:?}");
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{command} --format json: {e}\n{}", run.stdout))
}

fn committed_example(id: &str) -> Value {
    let path = support::repo_root().join(format!("specs/examples/{id}/runner-example.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read example")).expect("example is JSON")
}

#[test]
fn json_documents_match_their_schemas_and_the_committed_examples() {
    let image = StagedImage::example();
    for (command, id) in [("info", "runner_info_v1"), ("version", "runner_version_v1")] {
        let mut printed = json_output(&image, command);
        let errors: Vec<String> = validator(id)
            .iter_errors(&printed)
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            errors,
            Vec::<String>::new(),
            "{command} --format json against {id}"
        );

        // The example shows the image as it runs; the staged root lives in a
        // temporary directory, so the observed state differs, and the
        // runner's own version moves with each release.
        let example = committed_example(id);
        printed["runner"]["version"] = example["runner"]["version"].clone();
        if id == "runner_info_v1" {
            printed["runtime_state"] = example["runtime_state"].clone();
        }
        assert_eq!(
            printed, example,
            "specs/examples/{id}/runner-example.json no longer matches what the runner prints"
        );
    }
}

/// Where the runner's own output cannot go: a full stdout is status 1 with
/// one line; a closed pipe and a closed stdout are status 0 (the reader has
/// what it wanted; a closed fd 1 is reopened on /dev/null by the Rust
/// runtime before `main`, so it cannot be told apart from a working one);
/// a stderr that cannot be written never turns an error into a panic.
#[test]
fn output_that_cannot_be_written_never_panics() {
    let image = StagedImage::base();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };

    let output = image
        .runtime_user_command()
        .arg("help")
        .stdin(Stdio::null())
        .stdout(full())
        .stderr(Stdio::piped())
        .output()
        .expect("start runner");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("ERROR: cannot write output: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // An error whose report cannot be written keeps its own status (4).
    let output = image
        .runtime_user_command()
        .arg("no-such-command")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(full())
        .output()
        .expect("start runner");
    assert_eq!(output.status.code(), Some(4), "{output:?}");

    for redirect in [">&-", "| head -c 0"] {
        let line = format!("{} {redirect}", image.runtime_user_command_line(&["help"]));
        let script = if redirect.starts_with('|') {
            // The pipeline's status is head's; report the runner's.
            format!(
                "{{ {}; echo $? >&2; }} | head -c 0",
                image.runtime_user_command_line(&["help"])
            )
        } else {
            format!("{line}; echo $? >&2")
        };
        // The runner's environment (RUNNER_ROOT, HOME, …), for the shell.
        let runner = image.runtime_user_command();
        let mut sh = std::process::Command::new("sh");
        sh.env_clear();
        for (key, value) in runner.get_envs() {
            if let Some(value) = value {
                sh.env(key, value);
            }
        }
        if let Some(dir) = runner.get_current_dir() {
            sh.current_dir(dir);
        }
        let output = sh
            .args(["-c", &script])
            .stdin(Stdio::null())
            .output()
            .expect("start sh");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim(), "0", "{redirect}: {stderr}");
    }
}
