//! The one child-process model of dcx.
//!
//! [`run`] starts a command as the leader of a new process group and
//! watches it against a deadline and a [`Cancel`]:
//!
//! - **Stopping** (deadline, cancellation): the group gets a polite signal
//!   (the signal dcx itself received, or SIGTERM), then `grace`, then
//!   SIGKILL.
//! - **Ending, success included**: when the leader exits, it is left
//!   unreaped (`waitid(WNOWAIT)`) so its pid, and so the group id, cannot be
//!   reused; anything still in the group (a `sleep &` the command left
//!   behind, holding its log open) gets SIGTERM, `grace`, SIGKILL; only then
//!   is the leader reaped. Nothing outlives the command.
//! - **dcx killed by SIGKILL**: on Linux the leader gets SIGKILL with it
//!   (`PR_SET_PDEATHSIG`). What the leader started lives on in the orphaned
//!   group, and a process that left the group (`setsid`) is out of reach of
//!   every rule here; docs/SECURITY.md says so.
//!
//! The leader's exit is seen at once by a thread blocked in
//! `waitid(WNOWAIT)` rather than by a SIGCHLD handler: a library has no
//! business replacing a process-wide signal disposition its host may rely
//! on. The token and the deadline are looked at every 25 ms.
//!
//! Give the child files (or inherited streams) for stdout and stderr, not
//! pipes nobody reads: a full pipe would block it.

use std::io;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cancel::{Cancel, CancelReason};

/// How often the token and the deadline are looked at while the child runs.
const POLL: Duration = Duration::from_millis(25);

/// How a supervised run is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supervision {
    /// Stop the run this long after it started; `None` for no deadline.
    pub deadline: Option<Duration>,
    /// How long a signalled group gets to exit before SIGKILL.
    pub grace: Duration,
}

impl Supervision {
    /// A deadline of `deadline` and a grace of `grace`.
    pub fn new(deadline: Option<Duration>, grace: Duration) -> Self {
        Self { deadline, grace }
    }
}

/// How a supervised run ended: the one type every crate maps from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// The leader exited with this code.
    Exited(i32),
    /// A signal from elsewhere killed the leader.
    Signaled(i32),
    /// It ran past its deadline and was stopped.
    TimedOut,
    /// It was stopped because the token was cancelled.
    Cancelled(CancelReason),
}

impl Termination {
    /// Exit code 124 for a run past its deadline (coreutils' `timeout`).
    pub const TIMED_OUT_EXIT_CODE: i32 = 124;

    /// The exit code a shell would report for this ending: the code itself;
    /// 128 + N for signal N (from elsewhere, or the one dcx received and
    /// forwarded); 124 past the deadline; 143 (SIGTERM's) for a requested
    /// stop.
    pub fn exit_code(&self) -> i32 {
        match self {
            Termination::Exited(code) => *code,
            Termination::Signaled(signal) | Termination::Cancelled(CancelReason::Signal(signal)) => {
                128 + signal
            }
            Termination::TimedOut => Self::TIMED_OUT_EXIT_CODE,
            Termination::Cancelled(CancelReason::Requested(_)) => 128 + SIGTERM,
        }
    }

    /// Whether the command ran to completion and exited 0.
    pub fn success(&self) -> bool {
        *self == Termination::Exited(0)
    }
}

const SIGTERM: i32 = 15;

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// How it ended.
    pub termination: Termination,
    /// Wall time from spawn until the leader ended.
    pub elapsed: Duration,
    /// How many processes it left running in its group when it exited on
    /// its own, which were then stopped. Always 0 when it timed out or was
    /// cancelled: dcx signalled the whole group then, so a member still
    /// exiting when the leader has gone was not left behind by it (counting
    /// it would depend on which process the kernel happened to finish first).
    pub stragglers: usize,
}

/// Runs `command` under `supervision` and `cancel`. Its stdin is null
/// unless the caller set one; stdout and stderr are what the caller set.
/// An error means it could not be started (or, rarely, not waited for, in
/// which case the group was killed).
pub fn run(mut command: Command, supervision: &Supervision, cancel: &Cancel) -> io::Result<Finished> {
    command.stdin(Stdio::null());
    isolate(&mut command);
    let started = Instant::now();
    let mut child = command.spawn()?;
    match watch(&mut child, supervision, cancel, started) {
        Ok((termination, elapsed)) => {
            let swept = end_group(&mut child, supervision.grace);
            child.wait()?;
            let stopped_by_dcx = matches!(termination, Termination::TimedOut | Termination::Cancelled(_));
            let stragglers = if stopped_by_dcx { 0 } else { swept };
            Ok(Finished {
                termination,
                elapsed,
                stragglers,
            })
        }
        Err(e) => {
            signal_group(&mut child, Stop::Kill);
            let _ = child.wait();
            Err(e)
        }
    }
}

/// Waits until the leader has exited (left unreaped), stopping it at the
/// deadline or on cancellation.
fn watch(
    child: &mut Child,
    supervision: &Supervision,
    cancel: &Cancel,
    started: Instant,
) -> io::Result<(Termination, Duration)> {
    let exit = ExitWatch::start(child)?;
    loop {
        let stop = if let Some(reason) = cancel.reason() {
            Some((Termination::Cancelled(reason.clone()), polite_signal(&reason)))
        } else if supervision
            .deadline
            .is_some_and(|deadline| started.elapsed() >= deadline)
        {
            Some((Termination::TimedOut, Stop::Terminate))
        } else {
            None
        };
        if let Some((termination, signal)) = stop {
            stop_leader(child, &exit, signal, supervision.grace)?;
            return Ok((termination, started.elapsed()));
        }
        // Woken at once by the leader's exit; otherwise at the next look
        // at the token, or at the deadline.
        let mut nap = POLL;
        if let Some(deadline) = supervision.deadline {
            nap = nap.min(deadline.saturating_sub(started.elapsed()));
        }
        if let Some(ended) = exit.wait(child, nap)? {
            return Ok((ended, started.elapsed()));
        }
    }
}

/// Signals the group, waits up to `grace` for the leader, then kills the
/// group; returns once the leader has exited (unreaped).
fn stop_leader(child: &mut Child, exit: &ExitWatch, signal: Stop, grace: Duration) -> io::Result<()> {
    signal_group(child, signal);
    if exit.wait(child, grace)?.is_some() {
        return Ok(());
    }
    signal_group(child, Stop::Kill);
    while exit.wait(child, POLL)?.is_none() {}
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Signal(i32),
    Terminate,
    Kill,
}

fn polite_signal(reason: &CancelReason) -> Stop {
    match reason {
        CancelReason::Signal(signal) => Stop::Signal(*signal),
        CancelReason::Requested(_) => Stop::Terminate,
    }
}

#[cfg(unix)]
mod os {
    use super::*;
    use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, kill_process_group, waitid};
    use std::sync::mpsc;

    /// A group of its own (so stopping it stops everything it started),
    /// and on Linux SIGKILL when dcx dies.
    pub(super) fn isolate(command: &mut Command) {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        #[cfg(target_os = "linux")]
        {
            let parent = rustix::process::getpid();
            // SAFETY: the closure runs in the forked child before exec and
            // only makes two raw system calls through rustix (prctl,
            // getppid): no allocation, no lock, nothing that is not
            // async-signal-safe. It is the only unsafe code in dcx.
            #[allow(unsafe_code)]
            unsafe {
                command.pre_exec(move || {
                    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
                    // dcx died between fork and prctl: the signal would
                    // never come, so do not start at all.
                    if rustix::process::getppid() != Some(parent) {
                        return Err(io::Error::other("dcx exited while starting the command"));
                    }
                    Ok(())
                });
            }
        }
    }

    /// Tells when the leader has exited, without reaping it, so its pid
    /// and group id stay reserved while its group is swept. A thread
    /// blocks in `waitid(WEXITED | WNOWAIT)`: the exit is seen at once, with
    /// no polling and no SIGCHLD handler.
    pub(super) struct ExitWatch {
        rx: mpsc::Receiver<io::Result<Termination>>,
        ended: std::cell::RefCell<Option<Termination>>,
    }

    impl ExitWatch {
        pub(super) fn start(child: &Child) -> io::Result<Self> {
            let pid = Pid::from_child(child);
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new()
                .name("dcx-sys-exit-watch".into())
                .spawn(move || {
                    let _ = tx.send(wait_unreaped(pid));
                })?;
            Ok(Self {
                rx,
                ended: std::cell::RefCell::new(None),
            })
        }

        /// How the leader ended, waiting at most `timeout`; `None` while
        /// it runs.
        pub(super) fn wait(&self, _child: &mut Child, timeout: Duration) -> io::Result<Option<Termination>> {
            if let Some(ended) = self.ended.borrow().clone() {
                return Ok(Some(ended));
            }
            match self.rx.recv_timeout(timeout) {
                Ok(result) => {
                    let ended = result?;
                    *self.ended.borrow_mut() = Some(ended.clone());
                    Ok(Some(ended))
                }
                Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    Err(io::Error::other("the exit watcher of the command stopped"))
                }
            }
        }
    }

    fn wait_unreaped(pid: Pid) -> io::Result<Termination> {
        loop {
            match waitid(WaitId::Pid(pid), WaitIdOptions::EXITED | WaitIdOptions::NOWAIT) {
                Ok(Some(status)) => {
                    if let Some(code) = status.exit_status() {
                        return Ok(Termination::Exited(code));
                    }
                    if let Some(signal) = status.terminating_signal() {
                        return Ok(Termination::Signaled(signal));
                    }
                    // Neither: not an exit (cannot happen with EXITED only).
                }
                Ok(None) => {}
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub(super) fn signal_group(child: &mut Child, stop: Stop) {
        let signal = match stop {
            Stop::Signal(raw) => Signal::from_named_raw(raw).unwrap_or(Signal::TERM),
            Stop::Terminate => Signal::TERM,
            Stop::Kill => Signal::KILL,
        };
        // ESRCH: the group is already empty.
        let _ = kill_process_group(Pid::from_child(child), signal);
    }

    /// Stops what the leader left in its group; returns how many there were.
    pub(super) fn end_group(child: &mut Child, grace: Duration) -> usize {
        let leader = child.id();
        let found = members(leader);
        if found == Some(0) {
            return 0;
        }
        signal_group(child, Stop::Terminate);
        let until = Instant::now() + grace;
        loop {
            match members(leader) {
                Some(0) => break,
                Some(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
                // Without /proc there is no telling: a short pause, then KILL.
                None if Instant::now() < until.min(Instant::now() + Duration::from_millis(50)) => {
                    std::thread::sleep(Duration::from_millis(50));
                    signal_group(child, Stop::Kill);
                    break;
                }
                _ => {
                    signal_group(child, Stop::Kill);
                    break;
                }
            }
        }
        found.unwrap_or(0)
    }

    /// Live members of the group led by `leader`, the leader excepted;
    /// `None` where /proc cannot tell.
    fn members(leader: u32) -> Option<usize> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let entries = std::fs::read_dir("/proc").ok()?;
        let mut count = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if pid == leader {
                continue;
            }
            // One open and one read into a stack buffer: this runs after
            // every command, so no size probe and no growing String. The
            // fields needed sit well inside the first 512 bytes (comm is
            // at most 64 bytes).
            let mut buffer = [0u8; 512];
            let Ok(length) = std::fs::File::open(entry.path().join("stat"))
                .and_then(|mut file| std::io::Read::read(&mut file, &mut buffer))
            else {
                continue;
            };
            let stat = String::from_utf8_lossy(&buffer[..length]);
            // `pid (comm) state ppid pgrp …`; comm may hold spaces and parens.
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            let mut fields = rest.split(' ');
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|f| f.parse::<u32>().ok());
            if pgrp == Some(leader) && state != Some("Z") && state != Some("X") {
                count += 1;
            }
        }
        Some(count)
    }
}

#[cfg(not(unix))]
mod os {
    use super::*;

    pub(super) fn isolate(_command: &mut Command) {}

    /// Polls the child: elsewhere there is no waiting without reaping.
    pub(super) struct ExitWatch;

    impl ExitWatch {
        pub(super) fn start(_child: &Child) -> io::Result<Self> {
            Ok(Self)
        }

        pub(super) fn wait(&self, child: &mut Child, timeout: Duration) -> io::Result<Option<Termination>> {
            let until = Instant::now() + timeout;
            loop {
                if let Some(status) = child.try_wait()? {
                    return Ok(Some(Termination::Exited(status.code().unwrap_or(1))));
                }
                if Instant::now() >= until {
                    return Ok(None);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    pub(super) fn signal_group(child: &mut Child, _stop: Stop) {
        let _ = child.kill();
    }

    pub(super) fn end_group(_child: &mut Child, _grace: Duration) -> usize {
        0
    }
}

use os::{ExitWatch, end_group, isolate, signal_group};

/// The conventional name of a Unix signal (`SIGSEGV`), when it has one.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use rustix::process::Signal;
        let known = [
            (Signal::HUP, "SIGHUP"),
            (Signal::INT, "SIGINT"),
            (Signal::QUIT, "SIGQUIT"),
            (Signal::ILL, "SIGILL"),
            (Signal::TRAP, "SIGTRAP"),
            (Signal::ABORT, "SIGABRT"),
            (Signal::BUS, "SIGBUS"),
            (Signal::FPE, "SIGFPE"),
            (Signal::KILL, "SIGKILL"),
            (Signal::SEGV, "SIGSEGV"),
            (Signal::PIPE, "SIGPIPE"),
            (Signal::ALARM, "SIGALRM"),
            (Signal::TERM, "SIGTERM"),
        ];
        known
            .iter()
            .find(|(known, _)| known.as_raw() == signal)
            .map(|(_, name)| *name)
    }
    #[cfg(not(unix))]
    {
        let _ = signal;
        None
    }
}
