//! [`run`] end to end on a staged image, with a [`FixedHost`]: the decisions
//! and the exact output, without spawning anything. The contract suite in
//! `tests/contract.rs` runs the real binary as the runtime user.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use dcx_contracts::Document;
use dcx_contracts::runner_platform::{RunnerInfo, RunnerVersion};

use super::*;
use crate::host::FixedHost;

const IMAGE_ENV: &str = "\
RUNNER_IMAGE=runner-example
RUNNER_DOMAIN=example
RUNNER_ROLE=demo
RUNNER_DESCRIPTION=Example of a derived runner image
RUNNER_VENDOR=dcx
RUNNER_REPOSITORY=https://github.com/dcx-project/dcx
RUNNER_LICENSE=MIT OR Apache-2.0
";

const RUNTIME_ENV: &str = "\
RUNTIME_USER_NAME=runner
RUNTIME_USER_UID=10001
RUNTIME_USER_GID=10001
RUNTIME_USER_HOME=/home/runner
RUNTIME_SHELL=/bin/bash
RUNTIME_WORKDIR=/workspace
";

const TOOLS_ENV: &str =
    "TOOL_TERRAFORM_VERSION=1.6.0\nTOOL_TERRAFORM_SHA256=0123abcd\nTOOL_AWS_VERSION=2.15.0\n";

/// A staged image root: identity files and a plugin directory.
struct Image {
    root: tempfile::TempDir,
    paths: Paths,
}

impl Image {
    fn new(image_env: &str, tools_env: Option<&str>) -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under_root(root.path());
        fs::create_dir_all(&paths.identity_dir).expect("identity dir");
        fs::create_dir_all(&paths.plugin_dir).expect("plugin dir");
        fs::write(paths.image_env(), image_env).expect("image.env");
        fs::write(paths.runtime_env(), RUNTIME_ENV).expect("runtime.env");
        if let Some(tools) = tools_env {
            fs::write(paths.tools_env(), tools).expect("tools.env");
        }
        Self { root, paths }
    }

    fn example() -> Self {
        let image = Self::new(IMAGE_ENV, Some(TOOLS_ENV));
        image.plugin("tf", 0o755);
        image.plugin("check-workspace", 0o755);
        image.plugin("version", 0o755);
        image.plugin("README", 0o644);
        image.plugin("notes", 0o644);
        image
    }

    fn plugin(&self, name: &str, mode: u32) {
        let path = self.paths.plugin_dir.join(name);
        fs::write(&path, "#!/bin/sh\nexit 0\n").expect("plugin");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn run(&self, args: &[&str]) -> Result<Outcome, RunnerError> {
        self.run_on(&FixedHost::ci(), args)
    }

    fn run_on(&self, host: &FixedHost, args: &[&str]) -> Result<Outcome, RunnerError> {
        run(args.iter().map(OsString::from), &self.paths, host)
    }

    fn print(&self, args: &[&str]) -> String {
        match self.run(args) {
            Ok(Outcome::Print(text)) => text,
            other => panic!("runner {args:?}: expected output, got {other:?}"),
        }
    }

    fn error(&self, args: &[&str]) -> RunnerError {
        match self.run(args) {
            Err(error) => error,
            other => panic!("runner {args:?}: expected an error, got {other:?}"),
        }
    }

    /// Replaces the staged root's path, which changes every run, in `text`.
    fn redact(&self, text: &str) -> String {
        text.replace(&self.root.path().display().to_string(), "$ROOT")
    }
}

fn exec_of(outcome: Result<Outcome, RunnerError>) -> ExecRequest {
    match outcome {
        Ok(Outcome::Exec(request)) => request,
        other => panic!("expected an exec, got {other:?}"),
    }
}

#[test]
fn help_lists_core_commands_and_runnable_plugins() {
    insta::assert_snapshot!(Image::example().print(&["help"]));
}

#[test]
fn no_command_is_help() {
    let image = Image::example();
    assert_eq!(image.print(&[]), image.print(&["help"]));
}

#[test]
fn about_shows_the_identity() {
    insta::assert_snapshot!(Image::example().print(&["about"]));
}

#[test]
fn about_leaves_out_optional_keys_the_image_does_not_set() {
    let image = Image::new(
        "RUNNER_IMAGE=minimal\nRUNNER_DOMAIN=base\nRUNNER_ROLE=base\n",
        None,
    );
    assert_eq!(
        image.print(&["about"]),
        "Image identity:\n  Name:        minimal\n  Domain:      base\n  Role:        base\n"
    );
}

#[test]
fn info_shows_identity_runtime_tools_and_plugins() {
    insta::assert_snapshot!(Image::example().print(&["info"]));
}

#[test]
fn info_of_a_bare_image() {
    let image = Image::new(
        "RUNNER_IMAGE=minimal\nRUNNER_DOMAIN=base\nRUNNER_ROLE=base\n",
        None,
    );
    fs::write(image.paths.runtime_env(), "").expect("empty runtime.env");
    let mut host = FixedHost::ci();
    host.runtime.user = None;
    host.runtime.shell = None;
    let Ok(Outcome::Print(text)) = image.run_on(&host, &["info"]) else {
        panic!("info prints");
    };
    insta::assert_snapshot!(text);
}

#[test]
fn info_json_is_a_valid_runner_info_document() {
    let text = Image::example().print(&["info", "--format", "json"]);
    let loaded = dcx_contracts::from_str::<RunnerInfo>(&text, dcx_contracts::Format::Json, "info.json")
        .expect("runner_info_v1");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.document.plugins, ["check-workspace", "tf"]);
    assert_eq!(loaded.document.validate(), []);
    insta::assert_snapshot!(text);
}

#[test]
fn version_shows_declared_tool_versions_sorted() {
    insta::assert_snapshot!(Image::example().print(&["version"]));
}

#[test]
fn version_without_tools_says_so() {
    let image = Image::new(IMAGE_ENV, None);
    assert!(
        image
            .print(&["version"])
            .starts_with("Tool versions:\n  (no version information provided by this image)\n\nRunner:\n")
    );
}

#[test]
fn version_json_is_a_valid_runner_version_document() {
    let text = Image::example().print(&["version", "--format=json"]);
    let loaded = dcx_contracts::from_str::<RunnerVersion>(&text, dcx_contracts::Format::Json, "version.json")
        .expect("runner_version_v1");
    let tools: Vec<(&str, &str)> = loaded
        .document
        .tools
        .iter()
        .map(|t| (t.name.as_str(), t.version.as_str()))
        .collect();
    assert_eq!(tools, [("AWS", "2.15.0"), ("TERRAFORM", "1.6.0")]);
}

#[test]
fn exec_replaces_the_process_with_the_program() {
    let request = exec_of(Image::example().run(&["exec", "terraform", "version"]));
    assert_eq!(request, ExecRequest::new("terraform", vec!["version".into()]));
}

#[test]
fn plugins_are_executed_with_their_arguments() {
    let image = Image::example();
    let request = exec_of(image.run(&["tf", "plan", "-out", "x"]));
    assert_eq!(
        request,
        ExecRequest::new(
            image.paths.plugin_dir.join("tf"),
            vec!["plan".into(), "-out".into(), "x".into()]
        )
    );
}

#[test]
fn a_version_plugin_never_overrides_the_core_command() {
    let image = Image::example();
    assert!(image.print(&["version"]).starts_with("Tool versions:\n"));
}

#[test]
fn unknown_commands_fail_and_say_what_to_do() {
    let image = Image::example();
    let error = image.error(&["ls"]);
    assert_eq!(
        (error.exit_code(), error.to_string()),
        (4, "unknown command: ls".to_owned())
    );

    let error = image.error(&["notes"]);
    assert_eq!(error.exit_code(), 4);
    assert_eq!(
        image.redact(&error.hint().expect("hint")),
        "$ROOT/usr/local/lib/runner.d/notes is not executable, so it is not a plugin"
    );
}

#[test]
fn root_is_refused_before_anything_else() {
    let image = Image::example();
    let mut host = FixedHost::ci();
    host.root = true;
    for args in [&["help"][..], &["exec", "true"], &["../../bin/true"]] {
        let error = image.run_on(&host, args).expect_err("root refused");
        assert_eq!(
            (error.exit_code(), error.to_string()),
            (3, "runner must not run as root (uid 0)".to_owned())
        );
    }
}

#[test]
fn shell_needs_a_terminal_and_starts_the_declared_shell() {
    let image = Image::example();
    let error = image.error(&["shell"]);
    assert_eq!(
        (error.exit_code(), error.to_string()),
        (2, "shell requires an interactive terminal (use -it)".to_owned())
    );

    let mut host = FixedHost::ci();
    host.terminal = true;
    let request = exec_of(image.run_on(&host, &["shell"]));
    assert_eq!(request, ExecRequest::new("/bin/bash", Vec::new()));

    fs::write(image.paths.runtime_env(), "RUNTIME_USER_NAME=runner\n").expect("no shell");
    let error = image.run_on(&host, &["shell"]).expect_err("no shell declared");
    assert_eq!(error.exit_code(), 3);
    assert_eq!(
        image.redact(&error.to_string()),
        "$ROOT/etc/runner/runtime.env declares no RUNTIME_SHELL"
    );
}

#[test]
fn every_command_needs_a_valid_identity() {
    let image = Image::new("RUNNER_IMAGE=x\nRUNNER_DOMAIN=y\n", None);
    for args in [&["help"][..], &["exec", "true"], &["tf"]] {
        let error = image.error(args);
        assert_eq!(error.exit_code(), 3);
        assert_eq!(
            image.redact(&error.to_string()),
            "missing required key 'RUNNER_ROLE' in $ROOT/etc/runner/image.env"
        );
    }
}

#[test]
fn a_missing_image_env_is_named() {
    let image = Image::example();
    fs::remove_file(image.paths.image_env()).expect("remove image.env");
    let error = image.error(&["about"]);
    assert_eq!(error.exit_code(), 3);
    assert_eq!(
        image.redact(&error.to_string()),
        "missing image contract ($ROOT/etc/runner/image.env)"
    );
}

#[test]
fn unreadable_plugin_directory_is_a_contract_error() {
    let image = Image::example();
    fs::remove_dir_all(&image.paths.plugin_dir).expect("remove plugin dir");
    fs::write(&image.paths.plugin_dir, "not a directory").expect("file in its place");
    let error = image.error(&["help"]);
    assert_eq!(error.exit_code(), 3);
    assert!(
        image
            .redact(&error.to_string())
            .starts_with("cannot list the plugin directory $ROOT/usr/local/lib/runner.d: "),
        "{error}"
    );
}

#[test]
fn missing_plugin_directory_means_no_plugins() {
    let image = Image::new(IMAGE_ENV, None);
    fs::remove_dir(&image.paths.plugin_dir).expect("remove empty plugin dir");
    assert!(image.print(&["help"]).contains("\nPlugins:\n  (none)\n"));
}
