//! The Runner Platform contract suite (issue 7): the `runner` binary, run as
//! the runtime user against the staged image roots of docker/runner-base and
//! docker/runner-example (see `support`). One test per clause of the issue's
//! list; exit codes first, then the marker lines upstream's suite greps.

use crate::support::StagedImage;

// --- Core commands ---------------------------------------------------------

#[test]
fn help_exits_0_and_lists_commands_and_plugins() {
    let run = StagedImage::base().run(&["help"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(run.has_line_starting("Core commands:"), "{}", run.stdout);
    assert!(run.stdout.contains("\nPlugins:\n  (none)\n"), "{}", run.stdout);

    let run = StagedImage::example().run(&["help"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(
        run.stdout.contains("\nPlugins:\n  check-workspace\n  hello\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn no_command_is_help() {
    let image = StagedImage::base();
    let (bare, help) = (image.run(&[]), image.run(&["help"]));
    assert_eq!((bare.code(), &bare.stdout), (0, &help.stdout));
}

#[test]
fn about_exits_0_with_the_identity_markers() {
    let run = StagedImage::base().run(&["about"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(run.has_line_starting("Image identity:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("\n  Name:        runner-base\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n  Domain:      base\n"), "{}", run.stdout);
    assert!(run.stdout.contains("\n  Role:        base\n"), "{}", run.stdout);
}

#[test]
fn info_exits_0_with_runtime_contract_and_state() {
    let image = StagedImage::base();
    let run = image.run(&["info"]);
    assert_eq!(run.code(), 0, "{run:?}");
    for marker in [
        "Image identity:",
        "Runtime contract:",
        "Runtime state:",
        "Tools:",
        "Plugins:",
    ] {
        assert!(run.has_line_starting(marker), "no {marker:?} in {}", run.stdout);
    }
    assert!(
        run.stdout
            .contains("Runtime contract:\n  User:    runner (10001:10001)\n"),
        "{}",
        run.stdout
    );
    // The live state is the process's own: uid 10001 and the staged home.
    assert!(
        run.stdout.contains(" (10001:10001)\n  Home:    "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("  Home:    {}\n", image.home().display())),
        "{}",
        run.stdout
    );
}

#[test]
fn version_exits_0_with_tool_versions() {
    let run = StagedImage::base().run(&["version"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(run.has_line_starting("Tool versions:"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("  (no version information provided by this image)\n")
    );

    let run = StagedImage::example().run(&["version"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("Tool versions:\n  EXAMPLE_PLUGINS_VERSION=1.0.0\n"),
        "{}",
        run.stdout
    );
}

// --- Nothing implicit --------------------------------------------------------

#[test]
fn commands_without_a_plugin_fail() {
    let image = StagedImage::base();
    for args in [&["ls"][..], &["terraform", "version"]] {
        let run = image.run(args);
        assert_eq!(run.code(), 4, "runner {args:?}: {run:?}");
        assert_eq!(run.error_line(), format!("ERROR: unknown command: {}", args[0]));
        assert!(run.stdout.is_empty(), "{run:?}");
    }
}

// --- exec ----------------------------------------------------------------------

#[test]
fn exec_true_exits_0() {
    let run = StagedImage::base().run(&["exec", "true"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
}

#[test]
fn exec_alone_is_a_usage_error() {
    let run = StagedImage::base().run(&["exec"]);
    assert_eq!(run.code(), 2, "{run:?}");
    assert_eq!(run.error_line(), "ERROR: exec requires a command");
}

#[test]
fn exec_of_a_missing_program_exits_127() {
    let run = StagedImage::base().run(&["exec", "nonexistent"]);
    assert_eq!(run.code(), 127, "{run:?}");
    assert_eq!(run.error_line(), "ERROR: exec: nonexistent: not found");
}

// --- Plugins ---------------------------------------------------------------------

#[test]
fn plugin_gets_its_arguments_and_its_exit_code_passes_through() {
    let image = StagedImage::example();
    let run = image.run(&["hello", "CI", "two words", "--flag"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.stdout, "hello, CI\nhello, two words\nhello, --flag\n");

    image.add_plugin("exit-with", "#!/bin/sh\nexit \"$1\"\n", 0o755);
    for code in ["0", "1", "7", "42", "125"] {
        let run = image.run(&["exit-with", code]);
        assert_eq!(run.code().to_string(), code, "{run:?}");
        assert!(run.stderr.is_empty(), "{run:?}");
    }

    let run = image.run(&["check-workspace", "/"]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert_eq!(run.error_line(), "workspace not writable: / (uid 10001)");
}

#[test]
fn plugins_named_help_or_version_never_run() {
    let image = StagedImage::example();
    image.add_tripwire(&image.plugin_dir().join("help"));
    image.add_tripwire(&image.plugin_dir().join("version"));

    let help = image.run(&["help"]);
    assert_eq!(help.code(), 0, "{help:?}");
    assert!(
        help.stdout
            .starts_with("runner - the command dispatcher of runner-example\n")
    );
    let version = image.run(&["version"]);
    assert_eq!(version.code(), 0, "{version:?}");
    assert!(version.stdout.starts_with("Tool versions:\n"), "{version:?}");
    assert_eq!(image.tripwires_fired(), Vec::<String>::new());

    // Nor are they listed as if they could run.
    let info = image.run(&["info"]);
    assert!(
        info.stdout
            .ends_with("\nPlugins:\n  - check-workspace\n  - hello\n"),
        "{}",
        info.stdout
    );
    assert!(
        help.stdout.contains("\nPlugins:\n  check-workspace\n  hello\n"),
        "{}",
        help.stdout
    );
}

#[test]
fn invalid_command_names_are_refused_before_any_lookup() {
    let image = StagedImage::example();
    // Each name would reach an executable if it were looked up.
    image.add_tripwire(&image.root().join("usr/local/bin/true"));
    for name in [".hidden", "Upper", "bad;cmd"] {
        image.add_tripwire(&image.plugin_dir().join(name));
    }
    for name in ["../../bin/true", ".hidden", "bad;cmd", "Upper"] {
        let run = image.run(&[name]);
        assert_eq!(run.code(), 4, "runner {name}: {run:?}");
        assert_eq!(run.error_line(), format!("ERROR: invalid command name: {name}"));
    }
    assert_eq!(image.tripwires_fired(), Vec::<String>::new());
}

#[test]
fn a_non_executable_plugin_is_not_listed() {
    let image = StagedImage::example();
    image.add_plugin("lint", "#!/bin/sh\necho linted\n", 0o644);

    let help = image.run(&["help"]);
    assert!(
        help.stdout.contains("\nPlugins:\n  check-workspace\n  hello\n\n"),
        "{}",
        help.stdout
    );
    let info = image.run(&["info"]);
    assert!(
        info.stdout
            .ends_with("\nPlugins:\n  - check-workspace\n  - hello\n"),
        "{}",
        info.stdout
    );

    let run = image.run(&["lint"]);
    assert_eq!(run.code(), 4, "{run:?}");
    assert_eq!(run.error_line(), "ERROR: unknown command: lint");
    assert_eq!(
        run.stderr.lines().nth(1),
        Some(
            format!(
                "hint: {} is not executable, so it is not a plugin",
                image.plugin_dir().join("lint").display()
            )
            .as_str()
        )
    );
}

// --- Identity ----------------------------------------------------------------------

#[test]
fn every_malformed_identity_line_gives_its_message() {
    // The rejection table of the upstream 0.2.x metadata grammar
    // (reference A.7), each line at line 3 of image.env.
    let image = StagedImage::base();
    let pwned = image.workspace().join("pwned");
    let substitution = format!("RUNNER_ROLE=$(touch {})", pwned.display());
    let table: [(&str, &str); 13] = [
        ("export RUNNER_ROLE=base", "export prefix is not supported"),
        ("RUNNER_ROLE", "expected KEY=VALUE"),
        ("runner_role=base", "invalid key 'runner_role'"),
        ("RUNNER_IMAGE=again", "duplicate key 'RUNNER_IMAGE'"),
        ("RUNNER_ROLE=\"base\"", "quotes are not supported"),
        (&substitution, "command substitution '$()' is not supported"),
        ("RUNNER_ROLE=`id`", "backticks are not supported"),
        ("RUNNER_ROLE=a&&b", "control operator '&&' is not supported"),
        ("RUNNER_ROLE=a||b", "control operator '||' is not supported"),
        ("RUNNER_ROLE=a;b", "control operator ';' is not supported"),
        ("RUNNER_ROLE=a|b", "control operator '|' is not supported"),
        ("RUNNER_ROLE=a<b", "redirection operator '<' is not supported"),
        ("RUNNER_ROLE=a>b", "redirection operator '>' is not supported"),
    ];
    let image_env = image.identity_dir().join("image.env");
    for (line, message) in table {
        image.write_identity(
            "image.env",
            &format!("RUNNER_IMAGE=runner-base\nRUNNER_DOMAIN=base\n{line}\n"),
        );
        let run = image.run(&["about"]);
        assert_eq!(run.code(), 3, "{line}: {run:?}");
        assert_eq!(
            run.error_line(),
            format!("ERROR: invalid metadata in {}:3: {message}", image_env.display()),
            "{line}"
        );
        assert!(run.stdout.is_empty(), "{line}: {run:?}");
    }
    assert!(!pwned.exists(), "a value was executed");

    // And a file the runtime user cannot read.
    image.write_identity("image.env", "RUNNER_IMAGE=runner-base\n");
    std::fs::set_permissions(&image_env, std::os::unix::fs::PermissionsExt::from_mode(0o000)).expect("chmod");
    let run = image.run(&["about"]);
    assert_eq!(run.code(), 3, "{run:?}");
    assert_eq!(
        run.error_line(),
        format!("ERROR: metadata file is not readable ({})", image_env.display())
    );
}

#[test]
fn missing_runner_role_exits_3_naming_it() {
    let image = StagedImage::base();
    image.write_identity("image.env", "RUNNER_IMAGE=runner-base\nRUNNER_DOMAIN=base\n");
    for args in [&["about"][..], &["help"], &["exec", "true"]] {
        let run = image.run(args);
        assert_eq!(run.code(), 3, "runner {args:?}: {run:?}");
        assert_eq!(
            run.error_line(),
            format!(
                "ERROR: missing required key 'RUNNER_ROLE' in {}",
                image.identity_dir().join("image.env").display()
            )
        );
    }
}

#[test]
fn missing_optional_keys_do_not_crash() {
    let image = StagedImage::base();
    image.write_identity(
        "image.env",
        "RUNNER_IMAGE=runner-base\nRUNNER_DOMAIN=base\nRUNNER_ROLE=base\n",
    );
    image.write_identity("runtime.env", "");
    std::fs::remove_file(image.identity_dir().join("tools.env")).expect("remove tools.env");

    let about = image.run(&["about"]);
    assert_eq!(about.code(), 0, "{about:?}");
    assert_eq!(
        about.stdout,
        "Image identity:\n  Name:        runner-base\n  Domain:      base\n  Role:        base\n"
    );
    for args in [
        &["info"][..],
        &["version"],
        &["help"],
        &["info", "--format", "json"],
    ] {
        let run = image.run(args);
        assert_eq!(run.code(), 0, "runner {args:?}: {run:?}");
    }
    assert!(
        image
            .run(&["info"])
            .stdout
            .contains("  Shell:   (not declared)\n")
    );
}

// --- shell ---------------------------------------------------------------------------

#[test]
fn shell_without_a_terminal_fails() {
    let run = StagedImage::base().run(&["shell"]);
    assert_eq!(run.code(), 2, "{run:?}");
    assert_eq!(
        run.error_line(),
        "ERROR: shell requires an interactive terminal (use -it)"
    );
}

#[test]
fn shell_with_a_terminal_starts_the_declared_shell() {
    let image = StagedImage::base();
    // `script` runs the command on a new pseudo-terminal and types its own
    // stdin into it; `$((6*7))` proves a shell evaluated the line, since
    // the terminal also echoes what was typed.
    let mut script = std::process::Command::new("timeout");
    script
        .args(["60", "script", "--quiet", "--return", "--command"])
        .arg(image.runtime_user_command_line(&["shell"]))
        .arg("/dev/null");
    image.environment(&mut script);
    script
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = script.spawn().expect("start script (util-linux)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"echo \"shell-$((6*7)) $0 $(id -u)\"\nexit 0\n")
            .expect("type into the shell");
    }
    let output = child.wait_with_output().expect("script finishes");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("shell-42 /bin/bash 10001"), "{stdout}");
}

// --- Non-root ----------------------------------------------------------------------

#[test]
fn root_is_refused() {
    let image = StagedImage::base();
    for args in [&["help"][..], &["exec", "true"], &["shell"]] {
        let run = image.run_as_root(args);
        assert_eq!(run.code(), 3, "runner {args:?}: {run:?}");
        assert_eq!(run.error_line(), "ERROR: runner must not run as root (uid 0)");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
}
