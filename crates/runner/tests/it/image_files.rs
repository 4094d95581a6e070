//! The files under docker/: there is no container engine to build the
//! images here, so what can go wrong in them without one is checked
//! directly. The contract suite (`contract.rs`) runs against roots staged
//! from the same manifests and plugins.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{StagedImage, repo_root};
use dcx_contracts::identity::EnvFile;
use dcx_contracts::runner_platform::{is_command_name, is_core_command};

fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

fn manifest(relative: &str) -> EnvFile {
    EnvFile::parse(&read(relative), relative).unwrap_or_else(|e| panic!("{e}"))
}

/// The Dockerfile's instructions, continuation lines joined, comments and
/// blank lines dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(continued) => {
                current.push_str(continued.trim_end());
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

#[test]
fn base_dockerfile_creates_the_runtime_the_manifest_declares() {
    let declared = manifest("docker/runner-base/image.manifest");
    let value = |key: &str| {
        declared
            .get(key)
            .unwrap_or_else(|| panic!("manifest lacks {key}"))
    };
    let (user, uid, gid) = (
        value("RUNTIME_USER_NAME"),
        value("RUNTIME_USER_UID"),
        value("RUNTIME_USER_GID"),
    );
    let (home, shell, workdir) = (
        value("RUNTIME_USER_HOME"),
        value("RUNTIME_SHELL"),
        value("RUNTIME_WORKDIR"),
    );
    assert_eq!((user, uid, gid), ("runner", "10001", "10001"));

    let dockerfile = instructions(&read("docker/runner-base/Dockerfile"));
    let has = |needle: &str| dockerfile.iter().any(|instruction| instruction.contains(needle));
    for needle in [
        format!("groupadd --gid {gid} {user};"),
        format!("useradd --uid {uid} --gid {gid} --home-dir {home} --create-home --shell {shell} {user};"),
        format!("install -d -o {uid} -g {gid} -m 0755 {workdir}"),
        "install -d -o root -g root -m 0755 /usr/local/lib/runner.d".to_owned(),
        format!("ENV HOME={home}"),
    ] {
        assert!(has(&needle), "docker/runner-base/Dockerfile lacks {needle:?}");
    }
    let final_stage: Vec<&String> = dockerfile
        .iter()
        .skip_while(|instruction| !instruction.starts_with("FROM debian:"))
        .collect();
    let last = |keyword: &str| {
        final_stage
            .iter()
            .rev()
            .find(|instruction| instruction.starts_with(keyword))
            .map(|instruction| instruction.as_str())
    };
    assert_eq!(last("USER "), Some(format!("USER {uid}:{gid}").as_str()));
    assert_eq!(last("WORKDIR "), Some(format!("WORKDIR {workdir}").as_str()));
    assert_eq!(
        last("ENTRYPOINT "),
        Some(r#"ENTRYPOINT ["/usr/local/bin/runner"]"#)
    );
    assert_eq!(last("CMD "), Some(r#"CMD ["help"]"#));
}

#[test]
fn derived_image_keeps_the_base_runtime() {
    let base = manifest("docker/runner-base/image.manifest");
    let example = manifest("docker/runner-example/image.manifest");
    let runtime = |file: &EnvFile| -> Vec<(String, String)> {
        file.entries()
            .filter(|(key, _)| key.starts_with("RUNTIME_"))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    };
    assert_eq!(runtime(&example), runtime(&base));
    let dockerfile = instructions(&read("docker/runner-example/Dockerfile"));
    assert_eq!(
        dockerfile
            .iter()
            .rev()
            .find(|i| i.starts_with("USER "))
            .map(String::as_str),
        Some("USER 10001:10001"),
        "the derived image must end as the runtime user"
    );
}

#[test]
fn dockerfiles_copy_files_that_exist() {
    for relative in [
        "docker/runner-base/Dockerfile",
        "docker/runner-example/Dockerfile",
    ] {
        for instruction in instructions(&read(relative)) {
            let Some(arguments) = instruction.strip_prefix("COPY ") else {
                continue;
            };
            let words: Vec<&str> = arguments.split_whitespace().collect();
            if words.iter().any(|word| word.starts_with("--from=")) {
                continue;
            }
            let paths: Vec<&str> = words
                .iter()
                .copied()
                .filter(|word| !word.starts_with("--"))
                .collect();
            let Some((_destination, sources)) = paths.split_last() else {
                panic!("{relative}: COPY without arguments");
            };
            for source in sources {
                if *source != "." {
                    let path = repo_root().join(source);
                    assert!(path.exists(), "{relative}: COPY source {source} does not exist");
                }
            }
        }
    }
}

#[test]
fn dockerfiles_stage_their_own_manifests() {
    let base = instructions(&read("docker/runner-base/Dockerfile"));
    assert!(base.contains(
        &"RUN /out/usr/local/libexec/runner-stage-identity docker/runner-base/image.manifest /out/etc/runner"
            .to_owned()
    ));
    let example = instructions(&read("docker/runner-example/Dockerfile"));
    assert!(example.contains(&"COPY docker/runner-example/image.manifest /tmp/image.manifest".to_owned()));
    assert!(example.iter().any(|i| {
        i.starts_with("RUN /usr/local/libexec/runner-stage-identity /tmp/image.manifest /etc/runner")
    }));
}

#[test]
fn staged_identity_files_are_read_only_and_base_has_no_tools() {
    let image = StagedImage::base();
    for name in ["image.env", "runtime.env", "tools.env"] {
        let path = image.identity_dir().join(name);
        let mode = fs::metadata(&path).expect("staged").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o444, "{name}");
    }
    let tools = EnvFile::read(&image.identity_dir().join("tools.env")).expect("tools.env parses");
    assert!(tools.is_empty());
    let plugins: Vec<PathBuf> = fs::read_dir(image.plugin_dir())
        .expect("plugin dir exists")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(plugins, Vec::<PathBuf>::new(), "runner-base ships no plugins");
}

#[test]
fn example_plugins_are_runnable_plugins() {
    let dir = repo_root().join("docker/runner-example/runner.d");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("runner.d")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["check-workspace", "hello"]);
    for name in &names {
        assert!(is_command_name(name) && !is_core_command(name), "{name}");
        let script = read(&format!("docker/runner-example/runner.d/{name}"));
        assert!(script.starts_with("#!/bin/sh\n"), "{name} needs a shebang");
    }
}

fn stage_identity(manifest: &Path, dir: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_runner-stage-identity"))
        .arg(manifest)
        .arg(dir)
        .output()
        .expect("start runner-stage-identity");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn stage_tool_fails_the_build_on_a_manifest_the_runner_would_refuse() {
    let dir = tempfile::tempdir().expect("tempdir");
    // runner-base v0.2.0's own manifest: its quoted description was
    // `source`d by the bash runner and is refused by the strict grammar.
    let upstream = dir.path().join("image.manifest");
    let manifest = read("docker/runner-base/image.manifest").replace(
        "RUNNER_DESCRIPTION=Deterministic runner base image",
        "RUNNER_DESCRIPTION=\"Deterministic runner base image\"",
    );
    fs::write(&upstream, manifest).expect("write manifest");
    let out = dir.path().join("etc/runner");
    let (code, stderr) = stage_identity(&upstream, &out);
    assert_eq!(code, 2);
    let line = read("docker/runner-base/image.manifest")
        .lines()
        .position(|line| line.starts_with("RUNNER_DESCRIPTION="))
        .expect("description line")
        + 1;
    assert_eq!(
        stderr,
        format!(
            "ERROR: invalid metadata in {}:{line}: quotes are not supported\n",
            upstream.display()
        )
    );
    assert!(!out.exists(), "nothing is written for a refused manifest");

    let output = Command::new(env!("CARGO_BIN_EXE_runner-stage-identity"))
        .arg(&upstream)
        .output()
        .expect("start runner-stage-identity");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "usage: runner-stage-identity <image.manifest> <identity-dir>\n"
    );
}
