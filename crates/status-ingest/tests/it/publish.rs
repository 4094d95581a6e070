//! Publishing an ingest's set ([`dcx_status_ingest::lock_set`]): the lock on
//! the out directory, the path checks, one set id in every file, a set that
//! cannot be written leaving the previous one, and mixed sets detected.
//! (The same with real `dcx` processes: tests/e2e/status_concurrency.rs.)

use std::path::PathBuf;
use std::sync::Arc;

use crate::support::*;
use dcx_contracts::LoadLimits;
use dcx_status_ingest::{
    ArtifactPaths, GateError, GateSettings, IngestInputs, IngestOutcome, PublishError, Published, SetError,
    SetPaths, Silent, check_published, lock_set,
};
use dcx_sys::Wait;

fn fixture() -> Fixture {
    let fixture = Fixture::new(&[Lane::required("rust", "releases/rust.json")]);
    let text = report(
        "rust",
        "required",
        "pass",
        "2026-11-20T00:00:00Z",
        "2026-12-31T00:00:00Z",
    );
    fixture.write("reports/rust.json", &text);
    fixture.write(
        "releases/rust.json",
        release("v1.0.0", REPORT_ASSET, "reports/rust.json", Some(text.as_bytes())),
    );
    fixture
}

fn set_paths(fixture: &Fixture) -> SetPaths {
    SetPaths {
        artifacts: ArtifactPaths::in_dir(&fixture.path("out")),
        state: Some(fixture.path("out/state.json")),
    }
}

fn outcome(fixture: &Fixture, paths: &SetPaths, now: &str) -> IngestOutcome {
    let inputs = IngestInputs {
        state: paths.state.clone(),
        ..fixture.inputs()
    };
    dcx_status_ingest::ingest_blocking(&inputs, &fixture.settings(now), Arc::new(Silent))
}

/// One whole ingest at `now`, published under its lock.
fn publish_at(fixture: &Fixture, paths: &SetPaths, now: &str) -> Published {
    let lock = lock_set(paths, Wait::Fail, &limits(), |_, _| {}).unwrap();
    let ran = outcome(fixture, paths, now);
    lock.publish(&ran, &ran.markdown()).unwrap()
}

fn limits() -> LoadLimits {
    LoadLimits::default()
}

/// The lock on the out directory (`PublishError::Busy` names it).
const LOCK_FILE: &str = ".dcx-ingest.lock";

/// The gate, which checks that a set's files carry one set id.
fn check_set(artifacts: &ArtifactPaths) -> Result<(), SetError> {
    let settings = GateSettings {
        now: ts("2026-11-23T00:00:00Z"),
        max_age_hours: 72,
        documents: limits(),
    };
    match check_published(artifacts, &settings) {
        Ok(_) => Ok(()),
        Err(GateError::Set(e)) => Err(e),
        Err(e) => panic!("{e}"),
    }
}

fn read_set(paths: &SetPaths) -> Vec<Vec<u8>> {
    let a = &paths.artifacts;
    [
        &a.matrix_json,
        &a.matrix_md,
        &a.log_json,
        paths.state.as_ref().unwrap(),
    ]
    .iter()
    .map(|p| std::fs::read(p).unwrap())
    .collect()
}

#[test]
fn a_held_set_is_busy_for_every_set_that_shares_a_directory() {
    let fixture = fixture();
    let paths = set_paths(&fixture);
    let held = lock_set(&paths, Wait::Fail, &limits(), |_, _| {}).unwrap();
    let out = fixture.path("out").canonicalize().unwrap();
    match lock_set(&paths, Wait::Fail, &limits(), |_, _| panic!("told to wait")) {
        Err(PublishError::Busy { dir, lock, holder }) => {
            assert_eq!(dir, out);
            assert_eq!(lock, out.join(LOCK_FILE));
            assert_eq!(holder, Some(std::process::id()));
        }
        other => panic!("{other:?}"),
    }
    // Artifacts elsewhere, but the same state file: the same lock, since
    // the state's read–modify–write is what must not interleave.
    let sharing_state = SetPaths {
        artifacts: ArtifactPaths::in_dir(&fixture.path("elsewhere")),
        state: paths.state.clone(),
    };
    assert!(matches!(
        lock_set(&sharing_state, Wait::Fail, &limits(), |_, _| {}),
        Err(PublishError::Busy { .. })
    ));
    // Nothing shared: no wait.
    let apart = SetPaths {
        artifacts: ArtifactPaths::in_dir(&fixture.path("apart")),
        state: Some(fixture.path("apart/state.json")),
    };
    drop(lock_set(&apart, Wait::Fail, &limits(), |_, _| {}).unwrap());

    // A waiter is told the lock and the holder, then gets it.
    let waiter = {
        let paths = paths.clone();
        std::thread::spawn(move || {
            let mut told = Vec::new();
            let lock = lock_set(&paths, Wait::Block, &limits(), |lock, holder| {
                told.push((lock.to_path_buf(), holder))
            });
            (told, lock.is_ok())
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    drop(held);
    let (told, locked) = waiter.join().unwrap();
    assert!(locked);
    assert_eq!(told, [(out.join(LOCK_FILE), Some(std::process::id()))]);
}

#[test]
fn a_file_given_twice_is_refused_however_it_is_spelled() {
    let fixture = fixture();
    let mut paths = set_paths(&fixture);
    paths.state = Some(paths.artifacts.log_json.clone());
    let error = lock_set(&paths, Wait::Fail, &limits(), |_, _| {}).unwrap_err();
    assert!(matches!(error, PublishError::StateClash { .. }), "{error}");

    let mut paths = set_paths(&fixture);
    paths.state = Some(fixture.path("out/./sub/../runner-status-matrix.json"));
    std::fs::create_dir_all(fixture.path("out/sub")).unwrap();
    let error = lock_set(&paths, Wait::Fail, &limits(), |_, _| {}).unwrap_err();
    assert!(matches!(error, PublishError::StateClash { .. }), "{error}");

    let mut paths = set_paths(&fixture);
    paths.artifacts.matrix_md = fixture.path("out/./runner-status-ingest-log.json");
    let error = lock_set(&paths, Wait::Fail, &limits(), |_, _| {}).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{} is given for both the ingest log and the Markdown matrix; give each artifact a file of its own",
            paths.artifacts.matrix_md.display()
        )
    );
}

#[test]
fn every_file_of_a_set_carries_one_set_id_that_follows_the_contents() {
    let fixture = fixture();
    let paths = set_paths(&fixture);
    let published = publish_at(&fixture, &paths, "2026-11-21T00:00:00Z");
    let id = published.set_id.clone();
    let a = &paths.artifacts;
    assert_eq!(
        published.files,
        vec![
            a.log_json.clone(),
            a.matrix_md.clone(),
            a.matrix_json.clone(),
            paths.state.clone().unwrap()
        ]
    );
    for path in [&a.matrix_json, &a.log_json, paths.state.as_ref().unwrap()] {
        let value: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(value["set_id"], id.as_str(), "{}", path.display());
    }
    let markdown = std::fs::read_to_string(&a.matrix_md).unwrap();
    assert_eq!(markdown, published.markdown);
    assert_eq!(
        markdown.trim_end().lines().last(),
        Some(format!("<!-- dcx-set-id: {id} -->").as_str())
    );
    assert_eq!(check_set(a), Ok(()));

    // The same ingest again: the same bytes, the same id. Another `now`: another id.
    let first = read_set(&paths);
    let lock = lock_set(&paths, Wait::Fail, &limits(), |_, _| {}).unwrap();
    assert_eq!(lock.previous, None);
    let again = outcome(&fixture, &paths, "2026-11-21T00:00:00Z");
    assert_eq!(lock.publish(&again, &again.markdown()).unwrap().set_id, id);
    drop(lock);
    assert!(read_set(&paths) == first);
    let lock = lock_set(&paths, Wait::Fail, &limits(), |_, _| {}).unwrap();
    let later = outcome(&fixture, &paths, "2026-11-22T00:00:00Z");
    assert_ne!(lock.publish(&later, &later.markdown()).unwrap().set_id, id);
}

#[test]
fn a_set_that_cannot_be_written_leaves_the_previous_one_and_no_temp_file() {
    let fixture = fixture();
    let paths = set_paths(&fixture);
    publish_at(&fixture, &paths, "2026-11-21T00:00:00Z");
    let previous = read_set(&paths);

    // The state's directory cannot take a temp file (it is a file now),
    // so the fourth file fails after three were staged.
    let blocked = SetPaths {
        state: Some(fixture.path("out/blocked/state.json")),
        ..paths.clone()
    };
    std::fs::create_dir_all(fixture.path("out/blocked")).unwrap();
    let lock = lock_set(&blocked, Wait::Fail, &limits(), |_, _| {}).unwrap();
    let ran = outcome(&fixture, &blocked, "2026-11-22T00:00:00Z");
    // (The lock stays held through its open handle.)
    std::fs::remove_dir_all(fixture.path("out/blocked")).unwrap();
    std::fs::write(fixture.path("out/blocked"), b"").unwrap();
    let error = lock.publish(&ran, &ran.markdown()).unwrap_err();
    match &error {
        PublishError::Write { published, .. } => assert!(published.is_empty(), "{published:?}"),
        other => panic!("{other}"),
    }
    assert!(
        error
            .to_string()
            .ends_with("; nothing of this ingest was published: the previous artifact set is left as it was"),
        "{error}"
    );
    drop(lock);
    assert!(read_set(&paths) == previous);
    let temp: Vec<PathBuf> = std::fs::read_dir(fixture.path("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".dcx-tmp-"))
        .collect();
    assert!(temp.is_empty(), "{temp:?}");

    // A directory where a file of the set goes: refused before any write.
    let mut in_the_way = paths.clone();
    in_the_way.artifacts.matrix_md = fixture.path("out/md-dir");
    std::fs::create_dir_all(fixture.path("out/md-dir")).unwrap();
    let lock = lock_set(&in_the_way, Wait::Fail, &limits(), |_, _| {}).unwrap();
    let ran = outcome(&fixture, &in_the_way, "2026-11-23T00:00:00Z");
    let error = lock.publish(&ran, &ran.markdown()).unwrap_err();
    assert!(matches!(error, PublishError::TargetIsDirectory { .. }), "{error}");
    assert!(read_set(&paths) == previous);
}

#[test]
fn leftovers_are_swept_under_the_lock_and_a_mixed_set_is_reported() {
    let fixture = fixture();
    let paths = set_paths(&fixture);
    let first = publish_at(&fixture, &paths, "2026-11-21T00:00:00Z");
    let old_log = std::fs::read(&paths.artifacts.log_json).unwrap();
    let second = publish_at(&fixture, &paths, "2026-11-22T00:00:00Z");

    // What a writer killed between two renames leaves, and a temp file.
    std::fs::write(&paths.artifacts.log_json, &old_log).unwrap();
    std::fs::write(fixture.path("out/.dcx-tmp-killed"), b"half").unwrap();
    let mixed = SetError::Mixed {
        matrix: paths.artifacts.matrix_json.clone(),
        matrix_id: Some(second.set_id.clone()),
        other: paths.artifacts.log_json.clone(),
        other_id: Some(first.set_id.clone()),
    };
    assert_eq!(check_set(&paths.artifacts), Err(mixed.clone()));
    let lock = lock_set(&paths, Wait::Fail, &limits(), |_, _| {}).unwrap();
    assert_eq!(lock.previous, Some(mixed));
    assert_eq!(
        lock.swept,
        [fixture
            .path("out")
            .canonicalize()
            .unwrap()
            .join(".dcx-tmp-killed")]
    );
    assert!(!fixture.path("out/.dcx-tmp-killed").exists());
    // The gate waits out a writer that holds the directory before it calls
    // a set mixed (see the next test); this one has done its part.
    drop(lock);

    // Missing siblings are not compared; an id-less sibling of a matrix with one is mixed.
    std::fs::remove_file(&paths.artifacts.log_json).unwrap();
    assert_eq!(check_set(&paths.artifacts), Ok(()));
    std::fs::write(&paths.artifacts.matrix_md, "# Runner status matrix\n").unwrap();
    assert!(matches!(
        check_set(&paths.artifacts),
        Err(SetError::Mixed { other_id: None, .. })
    ));
    // A matrix from before set ids, beside an id-less sibling: one set.
    let line = format!("  \"set_id\": \"{}\",\n", second.set_id);
    let matrix = std::fs::read_to_string(&paths.artifacts.matrix_json).unwrap();
    assert_eq!(matrix.matches(&line).count(), 1, "{matrix}");
    std::fs::write(&paths.artifacts.matrix_json, matrix.replacen(&line, "", 1)).unwrap();
    assert_eq!(check_set(&paths.artifacts), Ok(()));
}

/// A reader that finds the set mixed while an ingest holds the directory
/// (caught between two renames) waits for that ingest and judges the set
/// it leaves, instead of reporting a mixed set that was never final.
#[test]
fn the_gate_waits_out_a_writer_before_calling_a_set_mixed() {
    let fixture = fixture();
    let paths = set_paths(&fixture);
    publish_at(&fixture, &paths, "2026-11-21T00:00:00Z");
    let old_log = std::fs::read(&paths.artifacts.log_json).unwrap();
    let settings = GateSettings {
        now: ts("2026-11-22T01:00:00Z"),
        max_age_hours: 72,
        documents: limits(),
    };

    // A writer at work: the directory held, the log already renamed.
    let lock = lock_set(&paths, Wait::Fail, &limits(), |_, _| {}).unwrap();
    let ran = outcome(&fixture, &paths, "2026-11-22T00:00:00Z");
    let newer = lock.publish(&ran, &ran.markdown()).unwrap();
    let new_log = std::fs::read(&paths.artifacts.log_json).unwrap();
    std::fs::write(&paths.artifacts.log_json, &old_log).unwrap();
    let reader = {
        let artifacts = paths.artifacts.clone();
        std::thread::spawn(move || check_published(&artifacts, &settings))
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!reader.is_finished(), "the reader did not wait for the writer");
    std::fs::write(&paths.artifacts.log_json, &new_log).unwrap();
    drop(lock);
    let report = reader.join().unwrap().expect("the set the writer left is whole");
    assert!(report.passes(), "{:?}", report.breaches);

    // With nobody writing, a mixed set is reported at once.
    std::fs::write(&paths.artifacts.log_json, &old_log).unwrap();
    match check_published(&paths.artifacts, &settings) {
        Err(GateError::Set(SetError::Mixed { matrix_id, .. })) => assert_eq!(matrix_id, Some(newer.set_id)),
        other => panic!("{other:?}"),
    }
}
