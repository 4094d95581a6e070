//! Standard outputs that fail: a pipe whose reader has gone (`dcx … |
//! head -0`) and a full disk (`/dev/full`). dcx must end on them with its
//! documented exit codes (141 and 2), never with a panic.

use std::io::Read;
use std::process::{Command, Output, Stdio};

/// A stdout whose reader is already gone, as under `| head -0` before
/// anything is printed: the first write gets EPIPE. `std::io::pipe` gives
/// both ends, and dropping the reader closes it.
pub(crate) fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

/// A stdout on `/dev/full`, where every write fails with ENOSPC: a full
/// disk without filling one.
pub(crate) fn dev_full() -> Stdio {
    Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
}

/// Runs `command` with `stdout` and a piped stderr. With `Stdio::piped()`
/// the test drops the reader before dcx prints anything (`| head -0`); the
/// returned output's stdout is always empty.
pub(crate) fn output_with_stdout(mut command: Command, stdout: Stdio) -> Output {
    let mut child = command.stdout(stdout).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    }
}
