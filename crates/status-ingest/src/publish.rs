//! Publishing an ingest's artifact set: the matrix, the ingest log, the
//! Markdown matrix and the state file are one set, published together.
//!
//! The rules many ingests sharing one out directory follow are the crate
//! documentation's ("Publishing a set").

use std::path::{Path, PathBuf};

use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::document::{self, Document, Format, LoadError, LoadLimits, SaveError};
use dcx_contracts::status::{IngestState, is_set_id};
use dcx_contracts::{WriteError, atomic_write_set};
use dcx_sys::{LockError, LockFile, LockMode, Wait};

use crate::ingest::{ArtifactPaths, IngestInputs, IngestOutcome};

/// The writers' lock, in each directory an ingest writes to (readers take
/// it shared to wait out a writer).
pub(crate) const LOCK_FILE: &str = ".dcx-ingest.lock";

/// How the Markdown matrix carries its set id: its last line.
const MARKDOWN_SET_ID_OPEN: &str = "<!-- dcx-set-id: ";
const MARKDOWN_SET_ID_CLOSE: &str = " -->";

/// Every file of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPaths {
    /// The matrix, the Markdown matrix and the log.
    pub artifacts: ArtifactPaths,
    /// The state file; `None` when the ingest neither reads nor writes one.
    pub state: Option<PathBuf>,
}

impl SetPaths {
    /// The members in the order they are renamed into place, with what
    /// each one is.
    fn members(&self) -> Vec<(&'static str, &Path)> {
        let mut members = vec![
            ("the ingest log", self.artifacts.log_json.as_path()),
            ("the Markdown matrix", self.artifacts.matrix_md.as_path()),
            ("the matrix", self.artifacts.matrix_json.as_path()),
        ];
        if let Some(state) = &self.state {
            members.push(("the state file", state.as_path()));
        }
        members
    }
}

/// Why a set could not be locked or published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The state file is one of the artifacts.
    #[error("--state-file {} is also an artifact path; give the state a file of its own", path.display())]
    StateClash {
        /// The path given for both.
        path: PathBuf,
    },
    /// Two artifacts were given the same file.
    #[error("{} is given for both {first} and {second}; give each artifact a file of its own", path.display())]
    ArtifactClash {
        /// The path given for both.
        path: PathBuf,
        /// What it was given for first.
        first: &'static str,
        /// And second.
        second: &'static str,
    },
    /// A directory of the set could not be created or resolved.
    #[error("cannot prepare the artifact directory {}: {source}", dir.display())]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// Another ingest holds the directory and the caller chose not to wait.
    #[error(
        "another ingest{} is writing into {}: {} is held; nothing was read or written (--no-wait); \
         try again when it has finished, or leave out --no-wait to wait for it",
        holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
        dir.display(),
        lock.display()
    )]
    Busy {
        /// The directory.
        dir: PathBuf,
        /// Its lock file.
        lock: PathBuf,
        /// The holder's pid, when it wrote one.
        holder: Option<u32>,
    },
    /// A lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The leftovers of killed writers could not be removed.
    #[error("cannot remove the leftovers of killed writers in {}: {source}", dir.display())]
    Sweep {
        /// The directory.
        dir: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A document of the set breaks its contract; nothing was written.
    #[error(transparent)]
    Invalid(SaveError),
    /// A target is a directory, so renaming over it would fail halfway.
    #[error("cannot write {}: it is a directory; nothing was written, the previous artifact set is left as it was", path.display())]
    TargetIsDirectory {
        /// The target.
        path: PathBuf,
    },
    /// The outcome's state file is not the one this lock covers.
    #[error("the ingest's state file {} is not the one locked ({})", found.display(), locked.as_deref().map_or_else(|| "none".to_owned(), |p| p.display().to_string()))]
    StateNotLocked {
        /// The outcome's state file.
        found: PathBuf,
        /// The locked one.
        locked: Option<PathBuf>,
    },
    /// The corrupt state file could not be kept before it is replaced.
    #[error(
        "cannot keep the corrupt ingest state {} as {}: {source}; nothing was written",
        path.display(),
        aside.display()
    )]
    KeepCorrupt {
        /// The state file.
        path: PathBuf,
        /// Where it was to be kept.
        aside: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// Writing or renaming a file of the set failed.
    #[error("{source}; {}", partial_text(published))]
    Write {
        /// The failed write.
        #[source]
        source: WriteError,
        /// The files that carry the new set id all the same (a failure
        /// between two renames); empty when the previous set is intact.
        published: Vec<PathBuf>,
    },
}

fn partial_text(published: &[PathBuf]) -> String {
    if published.is_empty() {
        "nothing of this ingest was published: the previous artifact set is left as it was".to_owned()
    } else {
        let names: Vec<String> = published.iter().map(|p| p.display().to_string()).collect();
        format!(
            "only {} was published: the artifact set is mixed (readers refuse it); run the ingest again",
            names.join(", ")
        )
    }
}

/// A held set: every directory of the set locked, leftovers swept.
/// Dropping it releases the locks.
#[derive(Debug)]
pub struct SetLock {
    paths: SetPaths,
    limits: LoadLimits,
    /// The leftovers of killed writers that were removed.
    pub swept: Vec<PathBuf>,
    /// What was wrong with the set found in place (it is replaced).
    pub previous: Option<SetError>,
    // Last: released when everything else is done.
    _locks: Vec<LockFile>,
}

/// Locks the directories of `paths` for one ingest (see "Publishing a set"
/// in the crate documentation): refuses a state file or artifact given
/// twice, creates the directories, takes each one's `.dcx-ingest.lock` in
/// sorted order, waiting
/// or failing as `wait` says (`on_wait` is told the lock and the holder's
/// pid, once per lock, before blocking), sweeps leftovers, and checks the
/// set already there. Take it before the ingest reads the state file.
pub fn lock_set(
    paths: &SetPaths,
    wait: Wait,
    limits: &LoadLimits,
    mut on_wait: impl FnMut(&Path, Option<u32>),
) -> Result<SetLock, PublishError> {
    if let Some(state) = &paths.state
        && [
            &paths.artifacts.matrix_json,
            &paths.artifacts.matrix_md,
            &paths.artifacts.log_json,
        ]
        .contains(&state)
    {
        return Err(PublishError::StateClash { path: state.clone() });
    }
    let members = paths.members();
    let mut resolved: Vec<(&'static str, &Path, PathBuf)> = Vec::with_capacity(members.len());
    let mut dirs = Vec::with_capacity(members.len());
    for (what, path) in members {
        let dir = parent_of(path);
        std::fs::create_dir_all(dir).map_err(|source| PublishError::Dir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let canonical = dir.canonicalize().map_err(|source| PublishError::Dir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let full = canonical.join(path.file_name().unwrap_or_default());
        if let Some((first, _, _)) = resolved.iter().find(|(_, _, other)| *other == full) {
            if what == "the state file" {
                return Err(PublishError::StateClash {
                    path: path.to_path_buf(),
                });
            }
            return Err(PublishError::ArtifactClash {
                path: path.to_path_buf(),
                first,
                second: what,
            });
        }
        resolved.push((what, path, full));
        dirs.push(canonical);
    }
    dirs.sort();
    dirs.dedup();

    // Sorted, so two ingests over overlapping directories cannot deadlock.
    let mut locks = Vec::with_capacity(dirs.len());
    for dir in &dirs {
        let lock_path = dir.join(LOCK_FILE);
        let lock = dcx_sys::lock(&lock_path, LockMode::Exclusive, wait, |holder| {
            on_wait(&lock_path, holder)
        })
        .map_err(|e| match e {
            LockError::Busy { path, holder } => PublishError::Busy {
                dir: dir.clone(),
                lock: path,
                holder,
            },
            other => PublishError::Lock(other),
        })?;
        locks.push(lock);
    }
    let mut swept = Vec::new();
    for dir in &dirs {
        let removed = dcx_sys::sweep_leftovers(dir).map_err(|source| PublishError::Sweep {
            dir: dir.clone(),
            source,
        })?;
        swept.extend(removed);
    }
    let previous = match matrix_set_id(&paths.artifacts.matrix_json, limits) {
        Ok(Some(matrix_id)) => check_set(&paths.artifacts, matrix_id.as_deref(), limits).err(),
        // No matrix yet, or one that does not load: nothing to compare.
        Ok(None) | Err(_) => None,
    };
    Ok(SetLock {
        paths: paths.clone(),
        limits: *limits,
        swept,
        previous,
        _locks: locks,
    })
}

/// A published set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The set id every file carries.
    pub set_id: String,
    /// The Markdown matrix as written (with its set-id line).
    pub markdown: String,
    /// The files written, in the order they were renamed into place.
    pub files: Vec<PathBuf>,
}

impl SetLock {
    /// What an ingest into this set reads: `registry`, `catalog`, and the
    /// state file this lock covers (none when the set has none). Taking the
    /// state from the lock is what keeps its read–modify–write whole: the
    /// ingest reads the state only while the set is locked, and
    /// [`SetLock::publish`] writes it back, after the artifacts.
    pub fn inputs(&self, registry: PathBuf, catalog: PathBuf) -> IngestInputs {
        IngestInputs {
            registry,
            catalog,
            state: self.paths.state.clone(),
        }
    }

    /// Publishes `outcome` as one set under this lock: `markdown` (the
    /// outcome's [`IngestOutcome::markdown`]), the log, the matrix, and the
    /// state update when the outcome has one (a configuration error leaves
    /// the state file alone). Every document is validated first, the set id
    /// computed and written into each, a corrupt state file kept (as a
    /// second name) before it is replaced, every file staged and flushed,
    /// then renamed into place.
    pub fn publish(&self, outcome: &IngestOutcome, markdown: &str) -> Result<Published, PublishError> {
        let artifacts = &self.paths.artifacts;
        let state = match (&outcome.state, &self.paths.state) {
            (Some(update), Some(locked)) if update.path == *locked => Some(update),
            (Some(update), locked) => {
                return Err(PublishError::StateNotLocked {
                    found: update.path.clone(),
                    locked: locked.clone(),
                });
            }
            (None, _) => None,
        };

        let mut matrix = outcome.matrix.clone();
        let mut log = outcome.log.clone();
        let mut new_state: Option<IngestState> = state.map(|update| update.state.clone());
        matrix.set_id = None;
        log.set_id = None;
        if let Some(state) = &mut new_state {
            state.set_id = None;
        }
        let members: Vec<(&str, Vec<u8>)> = vec![
            ("log", bytes_of(&artifacts.log_json, &log)?),
            ("markdown", markdown.as_bytes().to_vec()),
            ("matrix", bytes_of(&artifacts.matrix_json, &matrix)?),
        ];
        // The state is stamped with the id but does not feed it: the
        // artifacts depend on the inputs and `now` alone (the same ingest
        // gives the same bytes whatever history the state file holds).
        let set_id = compute_set_id(&members);

        matrix.set_id = Some(set_id.clone());
        log.set_id = Some(set_id.clone());
        let markdown = with_set_id(markdown, &set_id);
        let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
            (artifacts.log_json.clone(), bytes_of(&artifacts.log_json, &log)?),
            (artifacts.matrix_md.clone(), markdown.clone().into_bytes()),
            (
                artifacts.matrix_json.clone(),
                bytes_of(&artifacts.matrix_json, &matrix)?,
            ),
        ];
        if let (Some(update), Some(state)) = (state, &mut new_state) {
            state.set_id = Some(set_id.clone());
            files.push((update.path.clone(), bytes_of(&update.path, &*state)?));
        }
        for (path, _) in &files {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
                return Err(PublishError::TargetIsDirectory { path: path.clone() });
            }
        }
        if let Some(update) = state
            && let Some(aside) = &update.corrupt_aside
        {
            keep_corrupt(&update.path, aside)?;
        }

        let set: Vec<(&Path, &[u8])> = files.iter().map(|(p, b)| (p.as_path(), b.as_slice())).collect();
        if let Err(source) = atomic_write_set(&set) {
            let published = files
                .iter()
                .filter(|(path, _)| {
                    let found = if *path == artifacts.matrix_md {
                        markdown_set_id(path, &self.limits)
                    } else {
                        json_set_id(path, &self.limits)
                    };
                    matches!(found, Ok(Some(Some(id))) if id == set_id)
                })
                .map(|(path, _)| path.clone())
                .collect();
            return Err(PublishError::Write { source, published });
        }
        Ok(Published {
            set_id,
            markdown,
            files: files.into_iter().map(|(path, _)| path).collect(),
        })
    }
}

/// The set id of a set whose members (name and bytes, without their set
/// id) are `members`: the first 32 hex digits of the sha256 of their
/// length-prefixed concatenation. The same contents give the same id.
pub(crate) fn compute_set_id(members: &[(&str, Vec<u8>)]) -> String {
    let mut input = b"dcx-ingest-set-v1\n".to_vec();
    for (name, bytes) in members {
        input.extend_from_slice(format!("{name}\n{}\n", bytes.len()).as_bytes());
        input.extend_from_slice(bytes);
    }
    sha256_bytes(&input).to_string()[..32].to_owned()
}

/// `markdown` with its set-id line appended (after a blank line, so it
/// never joins the table above it).
pub(crate) fn with_set_id(markdown: &str, set_id: &str) -> String {
    let mut text = markdown.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "\n{MARKDOWN_SET_ID_OPEN}{set_id}{MARKDOWN_SET_ID_CLOSE}\n"
    ));
    text
}

/// The set id a Markdown matrix carries on its last line, if it does.
pub(crate) fn set_id_of_markdown(text: &str) -> Option<&str> {
    let id = text
        .trim_end()
        .lines()
        .last()?
        .strip_prefix(MARKDOWN_SET_ID_OPEN)?
        .strip_suffix(MARKDOWN_SET_ID_CLOSE)?;
    is_set_id(id).then_some(id)
}

/// A set whose files do not belong together, or could not be read to tell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// Two files of the set carry different set ids.
    #[error(
        "mixed artifact set: {} carries {} but {} carries {}; an ingest was interrupted while publishing, \
         or something else rewrote one of the files; run `dcx status ingest` again",
        matrix.display(),
        id_text(matrix_id.as_deref()),
        other.display(),
        id_text(other_id.as_deref())
    )]
    Mixed {
        /// The matrix.
        matrix: PathBuf,
        /// Its set id.
        matrix_id: Option<String>,
        /// The file that disagrees.
        other: PathBuf,
        /// Its set id.
        other_id: Option<String>,
    },
    /// A file of the set exists but its set id cannot be read.
    #[error("cannot check the artifact set: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why, naming the file.
        message: String,
    },
}

fn id_text(id: Option<&str>) -> String {
    id.map_or_else(|| "no set id".to_owned(), |id| format!("set id {id}"))
}

/// Checks that the log and the Markdown matrix of `artifacts` carry the
/// matrix's set id `matrix_id` (`None`: a matrix from before set ids,
/// whose siblings must carry none either). A sibling that does not exist
/// is not compared: a matrix copied on its own is judged on its own.
pub(crate) fn check_set(
    artifacts: &ArtifactPaths,
    matrix_id: Option<&str>,
    limits: &LoadLimits,
) -> Result<(), SetError> {
    for (path, markdown) in [(&artifacts.log_json, false), (&artifacts.matrix_md, true)] {
        let found = if markdown {
            markdown_set_id(path, limits)
        } else {
            json_set_id(path, limits)
        };
        let other_id = match found {
            Ok(None) => continue,
            Ok(Some(id)) => id,
            Err(message) => {
                return Err(SetError::Unreadable {
                    path: path.clone(),
                    message,
                });
            }
        };
        if other_id.as_deref() != matrix_id {
            return Err(SetError::Mixed {
                matrix: artifacts.matrix_json.clone(),
                matrix_id: matrix_id.map(str::to_owned),
                other: path.clone(),
                other_id,
            });
        }
    }
    Ok(())
}

/// The matrix's set id: `Ok(None)` when there is no matrix, `Ok(Some(None))`
/// for one without an id.
fn matrix_set_id(path: &Path, limits: &LoadLimits) -> Result<Option<Option<String>>, String> {
    json_set_id(path, limits)
}

/// The `set_id` of a JSON file of the set: `Ok(None)` when the file does
/// not exist, `Ok(Some(None))` when it carries none.
fn json_set_id(path: &Path, limits: &LoadLimits) -> Result<Option<Option<String>>, String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        set_id: Option<String>,
    }
    let Some(bytes) = read_member(path, limits)? else {
        return Ok(None);
    };
    let probe: Probe = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not a JSON document with a set_id: {e}", path.display()))?;
    match probe.set_id {
        Some(id) if !is_set_id(&id) => Err(format!(
            "{}: /set_id: expected 32 lowercase hex characters, got {id:?}",
            path.display()
        )),
        id => Ok(Some(id)),
    }
}

fn markdown_set_id(path: &Path, limits: &LoadLimits) -> Result<Option<Option<String>>, String> {
    let Some(bytes) = read_member(path, limits)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    Ok(Some(set_id_of_markdown(&text).map(str::to_owned)))
}

/// The bytes of a file of the set, within `limits`; `None` when it does
/// not exist.
fn read_member(path: &Path, limits: &LoadLimits) -> Result<Option<Vec<u8>>, String> {
    match document::read_bounded(path, limits.max_bytes) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(LoadError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The validated JSON bytes of `document`, for `path`.
fn bytes_of<D: Document>(path: &Path, document: &D) -> Result<Vec<u8>, PublishError> {
    let display = path.display().to_string();
    let violations = document.validate();
    if !violations.is_empty() {
        return Err(PublishError::Invalid(SaveError::Invalid {
            path: display,
            document: D::NAME,
            violations,
        }));
    }
    document::to_bytes(document, Format::Json).map_err(|message| {
        PublishError::Invalid(SaveError::Serialize {
            path: display,
            document: D::NAME,
            message,
        })
    })
}

/// Gives the corrupt state file at `path` a second name, `aside`, so it is
/// kept whatever happens to the write that replaces it (a hard link; a
/// copy where links are not supported). A file gone since it was read has
/// nothing to keep.
fn keep_corrupt(path: &Path, aside: &Path) -> Result<(), PublishError> {
    let fail = |source| PublishError::KeepCorrupt {
        path: path.to_path_buf(),
        aside: aside.to_path_buf(),
        source,
    };
    match std::fs::hard_link(path, aside) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(fail(e)),
        Err(_) => {
            let bytes = match std::fs::read(path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(fail(e)),
            };
            dcx_contracts::atomic_write(aside, &bytes).map_err(|e| fail(e.source))
        }
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use dcx_contracts::Timestamp;

    use super::*;
    use crate::ingest::{IngestSettings, Silent, ingest_blocking};
    use crate::state::StateUpdate;

    const NOW: &str = "2026-11-22T12:00:00Z";

    fn set_in(dir: &Path) -> SetPaths {
        SetPaths {
            artifacts: ArtifactPaths::in_dir(&dir.join("out")),
            state: Some(dir.join("state/ingest-state.json")),
        }
    }

    fn lock(paths: &SetPaths) -> Result<SetLock, PublishError> {
        lock_set(paths, Wait::Fail, &LoadLimits::default(), |_, _| {})
    }

    /// The ingest of `lock`'s inputs, its registry missing: a configuration
    /// error, so valid documents without rows and no state update.
    fn failed_ingest(lock: &SetLock, dir: &Path) -> IngestOutcome {
        let inputs = lock.inputs(dir.join("no-registry.yaml"), dir.join("no-catalog.yaml"));
        let settings = IngestSettings::at(Timestamp::parse(NOW).unwrap());
        ingest_blocking(&inputs, &settings, Arc::new(Silent))
    }

    /// `outcome` with a state update for `path`.
    fn with_state(mut outcome: IngestOutcome, path: &Path) -> IngestOutcome {
        outcome.state = Some(StateUpdate {
            path: path.to_path_buf(),
            state: IngestState {
                version: 1,
                updated_at: Timestamp::parse(NOW).unwrap(),
                set_id: None,
                lanes: Vec::new(),
            },
            corrupt_aside: None,
        });
        outcome
    }

    #[test]
    fn an_ingest_reads_the_state_file_the_lock_covers() {
        let dir = tempfile::tempdir().unwrap();
        let paths = set_in(dir.path());
        let held = lock(&paths).unwrap();
        let inputs = held.inputs(PathBuf::from("r.yaml"), PathBuf::from("c.yaml"));
        assert_eq!(inputs.state, paths.state);
        assert_eq!(
            (inputs.registry, inputs.catalog),
            ("r.yaml".into(), "c.yaml".into())
        );
        drop(held);
        let stateless = SetPaths { state: None, ..paths };
        let inputs = lock(&stateless).unwrap().inputs("r.yaml".into(), "c.yaml".into());
        assert_eq!(inputs.state, None);
    }

    #[test]
    fn a_file_given_twice_is_refused_before_anything_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let paths = set_in(dir.path());

        let state_is_the_log = SetPaths {
            state: Some(paths.artifacts.log_json.clone()),
            ..paths.clone()
        };
        let error = lock(&state_is_the_log).unwrap_err();
        assert!(matches!(error, PublishError::StateClash { .. }), "{error}");

        // The same file through another spelling of its directory.
        std::fs::create_dir_all(&out).unwrap();
        let state_through_dot = SetPaths {
            state: Some(out.join(".").join(crate::ingest::LOG_JSON)),
            ..paths.clone()
        };
        let error = lock(&state_through_dot).unwrap_err();
        assert!(matches!(error, PublishError::StateClash { .. }), "{error}");

        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&out, dir.path().join("link")).unwrap();
            let mut md_through_link = paths.clone();
            md_through_link.artifacts.matrix_md = dir.path().join("link").join(crate::ingest::LOG_JSON);
            let error = lock(&md_through_link).unwrap_err();
            assert!(
                matches!(
                    error,
                    PublishError::ArtifactClash {
                        first: "the ingest log",
                        second: "the Markdown matrix",
                        ..
                    }
                ),
                "{error}"
            );
        }
        assert!(!out.join(LOCK_FILE).exists(), "a refused set locks nothing");
        // And a set of distinct files is taken.
        drop(lock(&paths).unwrap());
        assert!(out.join(LOCK_FILE).exists());
    }

    #[test]
    fn the_state_file_is_renamed_after_the_artifacts() {
        let dir = tempfile::tempdir().unwrap();
        let paths = set_in(dir.path());
        let order: Vec<&str> = paths.members().into_iter().map(|(what, _)| what).collect();
        assert_eq!(
            order,
            [
                "the ingest log",
                "the Markdown matrix",
                "the matrix",
                "the state file"
            ]
        );

        let held = lock(&paths).unwrap();
        let state = paths.state.clone().unwrap();
        let outcome = with_state(failed_ingest(&held, dir.path()), &state);
        let published = held.publish(&outcome, &outcome.markdown()).unwrap();
        let artifacts = &paths.artifacts;
        assert_eq!(
            published.files,
            [
                artifacts.log_json.clone(),
                artifacts.matrix_md.clone(),
                artifacts.matrix_json.clone(),
                state.clone()
            ]
        );
        let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        assert_eq!(written["set_id"], published.set_id.as_str());
    }

    #[test]
    fn a_configuration_error_leaves_the_state_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let paths = set_in(dir.path());
        let state = paths.state.clone().unwrap();
        std::fs::create_dir_all(state.parent().unwrap()).unwrap();
        std::fs::write(&state, b"the previous state").unwrap();
        let held = lock(&paths).unwrap();
        let outcome = failed_ingest(&held, dir.path());
        assert!(outcome.config_error.is_some());
        assert!(outcome.state.is_none(), "a failed ingest has no state to write");
        let published = held.publish(&outcome, &outcome.markdown()).unwrap();
        assert!(!published.files.contains(&state));
        assert_eq!(std::fs::read(&state).unwrap(), b"the previous state");
    }

    #[test]
    fn a_state_other_than_the_locked_one_is_refused_and_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let paths = set_in(dir.path());
        let held = lock(&paths).unwrap();
        let elsewhere = dir.path().join("elsewhere.json");
        let outcome = with_state(failed_ingest(&held, dir.path()), &elsewhere);
        let error = held.publish(&outcome, &outcome.markdown()).unwrap_err();
        assert!(matches!(error, PublishError::StateNotLocked { .. }), "{error}");
        assert!(!elsewhere.exists());
        assert!(!paths.artifacts.matrix_json.exists());
    }

    #[test]
    fn the_markdown_carries_its_set_id_on_its_last_line() {
        let id = "0123456789abcdef0123456789abcdef";
        let text = with_set_id("# Matrix\n\n| a |\n", id);
        assert_eq!(text, format!("# Matrix\n\n| a |\n\n<!-- dcx-set-id: {id} -->\n"));
        assert_eq!(set_id_of_markdown(&text), Some(id));
        assert_eq!(set_id_of_markdown("# Matrix\n"), None);
        assert_eq!(set_id_of_markdown("<!-- dcx-set-id: NOT-HEX -->\n"), None);
    }

    #[test]
    fn the_set_id_follows_the_contents_only() {
        let a = compute_set_id(&[("log", b"1".to_vec()), ("matrix", b"2".to_vec())]);
        assert!(is_set_id(&a), "{a}");
        assert_eq!(
            a,
            compute_set_id(&[("log", b"1".to_vec()), ("matrix", b"2".to_vec())])
        );
        // Lengths are part of the input: moving a byte between members changes it.
        assert_ne!(
            a,
            compute_set_id(&[("log", b"12".to_vec()), ("matrix", Vec::new())])
        );
    }
}
