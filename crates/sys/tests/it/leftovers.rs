use std::process::Command;
use std::time::Duration;

use dcx_sys::{staging_dir_in, sweep_leftovers, temp_file_in};

/// Not a test of its own: a writer that holds a temp file and a staging
/// directory until it is killed.
#[test]
#[ignore = "helper process for leftovers_of_a_killed_writer_are_swept_and_a_live_ones_are_not"]
fn helper_writer() {
    let Ok(dir) = std::env::var("DCX_SYS_HELPER_DIR") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    let _temp = temp_file_in(dir).unwrap();
    let _staging = staging_dir_in(dir, "tree").unwrap();
    std::fs::write(dir.join("ready"), b"").unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

fn writer(dir: &std::path::Path) -> std::process::Child {
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "leftovers::helper_writer", "--ignored", "--nocapture"])
        .env("DCX_SYS_HELPER_DIR", dir)
        .spawn()
        .unwrap();
    let ready = dir.join("ready");
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(std::time::Instant::now() < until, "the writer never got ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::remove_file(ready).unwrap();
    child
}

#[test]
fn leftovers_of_a_killed_writer_are_swept_and_a_live_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut live = writer(dir.path());
    let mut killed = writer(dir.path());
    killed.kill().unwrap();
    killed.wait().unwrap();
    let entries = || std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries(), 4);

    let removed = sweep_leftovers(dir.path()).unwrap();
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert_eq!(entries(), 2, "the live writer's entries stay");

    live.kill().unwrap();
    live.wait().unwrap();
    assert_eq!(sweep_leftovers(dir.path()).unwrap().len(), 2);
    assert_eq!(entries(), 0);
}
