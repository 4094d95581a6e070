//! `cargo xtask bench runner`: what the `runner` entrypoint adds to the start
//! of a container command — `runner help` and `runner info` against
//! `/bin/true` — in a root staged from docker/runner-example (identity files
//! and two plugins, so `info` reads and lists everything a real image has).
//!
//! Everything runs as the image's runtime user (uid/gid 10001) when the
//! bench runs as root, since the runner refuses root; `/bin/true` too, so
//! the three pay the same privilege drop. The drop happens in the forked
//! child (`CommandExt::uid`), not through a helper program that would be
//! timed with the runner alone.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Subject, measure_interleaved, millis};

/// The image's runtime user and group.
const RUNTIME_ID: u32 = 10001;
/// The target: each runner command's median within this factor of
/// `/bin/true`'s.
const TARGET_RATIO: f64 = 3.0;

pub(super) fn run(root: &Path, iterations: usize) -> Result<bool, String> {
    let release = crate::cargo::build_binaries("dcx-runner", crate::cargo::Profile::Release)?;
    let stage = StagedRoot::create(root, &release)?;
    let runner = stage.path.join("usr/local/bin/runner");
    let mut subjects = vec![
        stage.subject("/bin/true", Command::new("/bin/true")),
        stage.subject("runner help", {
            let mut command = Command::new(&runner);
            command.arg("help");
            command
        }),
        stage.subject("runner info", {
            let mut command = Command::new(&runner);
            command.arg("info");
            command
        }),
    ];
    let warmup = (iterations / 10).max(20);
    let samples = measure_interleaved(&mut subjects, warmup, iterations)?;

    println!(
        "runner startup: {iterations} interleaved rounds after {warmup} warm-up rounds, release build, \
         docker/runner-example staged"
    );
    println!(
        "{:<12} {:>10} {:>10} {:>16}",
        "command", "median", "p90", "median / true"
    );
    let baseline = samples[0].quantile(0.5).as_secs_f64();
    let mut met = true;
    for sample in &samples {
        let median = sample.quantile(0.5);
        let ratio = median.as_secs_f64() / baseline;
        println!(
            "{:<12} {:>10} {:>10} {:>15.2}x",
            sample.label,
            millis(median),
            millis(sample.quantile(0.9)),
            ratio
        );
        met &= ratio <= TARGET_RATIO;
    }
    println!(
        "target: runner help and runner info within {TARGET_RATIO}x of /bin/true: {}",
        if met { "met" } else { "MISSED" }
    );
    Ok(met)
}

/// An image root in the temp directory, removed on drop.
struct StagedRoot {
    path: PathBuf,
}

impl StagedRoot {
    fn create(root: &Path, release: &Path) -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!("dcx-bench-runner-{}", std::process::id()));
        let stage = Self { path };
        let fail = |what: &str, e: std::io::Error| format!("cannot stage {what}: {e}");
        let example = root.join("docker/runner-example");

        for dir in [
            "usr/local/bin",
            "usr/local/lib/runner.d",
            "workspace",
            "home/runner",
        ] {
            fs::create_dir_all(stage.path.join(dir)).map_err(|e| fail(dir, e))?;
        }
        let output = Command::new(release.join("runner-stage-identity"))
            .arg(example.join("image.manifest"))
            .arg(stage.path.join("etc/runner"))
            .output()
            .map_err(|e| format!("cannot run runner-stage-identity: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "runner-stage-identity failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let plugins = fs::read_dir(example.join("runner.d")).map_err(|e| fail("plugins", e))?;
        for plugin in plugins {
            let plugin = plugin.map_err(|e| fail("plugins", e))?;
            let target = stage.path.join("usr/local/lib/runner.d").join(plugin.file_name());
            install(&plugin.path(), &target).map_err(|e| fail("a plugin", e))?;
        }
        // A copy, not the build tree's binary: the runtime user may not be
        // able to reach target/.
        install(&release.join("runner"), &stage.path.join("usr/local/bin/runner"))
            .map_err(|e| fail("the runner", e))?;
        // Temp directories may be private; the runtime user must get in.
        for dir in ["", "usr", "usr/local", "usr/local/bin", "usr/local/lib", "etc"] {
            fs::set_permissions(stage.path.join(dir), fs::Permissions::from_mode(0o755))
                .map_err(|e| fail(dir, e))?;
        }
        Ok(stage)
    }

    /// `command` as a benchmark subject in this root.
    fn subject(&self, label: &str, mut command: Command) -> Subject {
        command
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", self.path.join("home/runner"))
            .env("RUNNER_ROOT", &self.path)
            .current_dir(self.path.join("workspace"));
        if running_as_root() {
            command.uid(RUNTIME_ID).gid(RUNTIME_ID);
        }
        Subject {
            label: label.to_owned(),
            command,
        }
    }
}

impl Drop for StagedRoot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn install(source: &Path, target: &Path) -> std::io::Result<()> {
    fs::copy(source, target)?;
    fs::set_permissions(target, fs::Permissions::from_mode(0o755))
}

/// Whether this process's effective uid is 0, read from `/proc/self/status`
/// (Linux; xtask needs no syscall crate for this one bit).
fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}
