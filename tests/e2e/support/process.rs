//! Real processes: whether a pid still lives, the pid files the tests'
//! shell scripts write, signals, and waits that end. Every wait is bounded,
//! so that a hung `dcx` fails its test instead of hanging the whole run.

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// How long [`wait_until`] waits for a process to get somewhere (write a pid
/// file, start its command): long enough for a loaded CI machine.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// Waits until `ready` holds, checking every 10 ms, for at most
/// [`PATIENCE`]; fails the test naming `what` otherwise.
pub(crate) fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether process `pid` is alive, read from `/proc/<pid>/stat`. A zombie
/// (`Z`) or a dead process (`X`) counts as dead: it has exited, only its
/// reaper is missing, and whether that reaper has come yet is not what a
/// test of "nothing outlives dcx" asks.
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the command name, which is in parentheses and
        // may itself hold spaces and parentheses: split at the last `) `.
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
    })
}

/// Waits up to `limit` for every one of `pids` to be dead; returns those
/// still alive then. Signals are delivered and process groups stopped
/// asynchronously, so a check right after the fact would race.
pub(crate) fn survivors(pids: &[u32], limit: Duration) -> Vec<u32> {
    let until = Instant::now() + limit;
    loop {
        let live: Vec<u32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
        if live.is_empty() || Instant::now() >= until {
            return live;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid a test's shell script wrote to `path` (`echo $$ > path`, or
/// `$!`), waiting (bounded) for the whole line: the shell creates the file
/// before `echo` writes to it, so it can be there and still empty.
pub(crate) fn read_pid(path: &Path) -> u32 {
    let mut pid = None;
    wait_until(&format!("{}", path.display()), || {
        pid = std::fs::read_to_string(path)
            .ok()
            .filter(|text| text.ends_with('\n'))
            .and_then(|text| text.trim().parse().ok());
        pid.is_some()
    });
    pid.unwrap()
}

/// Sends signal `name` (`KILL`, `TERM`, `INT`, …) to `pid` with `kill(1)`:
/// the standard library can send only SIGKILL (`Child::kill`), and the
/// tests need dcx's own handling of the others.
pub(crate) fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// `child`'s output once it has exited; if it has not within `limit`, it
/// is killed and the test fails (`Child::wait_with_output` would wait
/// forever for a hung dcx).
pub(crate) fn wait_with_limit(mut child: Child, limit: Duration) -> Output {
    let until = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= until {
            let _ = child.kill();
            panic!("dcx did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}
