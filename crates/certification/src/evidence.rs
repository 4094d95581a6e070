//! The evidence directory, `<out-dir>/runner-certification-<runner>/`: one
//! log per check that ran a process, holding its stdout and stderr between
//! a header naming the command and a footer naming how it ended.
//!
//! A check's `evidence_ref` is the log's path relative to the directory the
//! certificate is written to (`runner-certification-rust/command.governance.log`),
//! so certificate and evidence can be published together and the reference
//! stays valid wherever they land.
//!
//! The logs are written into a staging directory in the output directory
//! (`.dcx-staging-evidence-*`, locked by the run writing it) and moved into
//! the evidence directory only by [`EvidenceDir::publish`], just before the
//! certificate is written. A run that is cancelled or fails leaves the
//! previous certificate's evidence as it was; a run killed outright leaves
//! its staging directory, which the next run removes.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use dcx_sys::StagingDir;

use crate::error::CertifyError;

/// The evidence directory of one certification run.
#[derive(Debug)]
pub(crate) struct EvidenceDir {
    /// `<out-dir>/runner-certification-<runner>/`, where the logs end up.
    dir: PathBuf,
    name: String,
    /// Where the logs are written until they are published.
    staging: StagingDir,
    used: HashSet<String>,
}

/// One log file, created and headed, ready for a process to write into.
#[derive(Debug)]
pub(crate) struct EvidenceLog {
    /// The open file (the process gets clones of it).
    pub(crate) file: File,
    /// Its path, for error messages.
    pub(crate) path: PathBuf,
    /// Its reference relative to the certificate's directory.
    pub(crate) evidence_ref: String,
}

impl EvidenceDir {
    /// Prepares the evidence of a run into `<out_dir>/runner-certification-<runner_id>/`:
    /// creates `out_dir`, removes the leftovers of killed runs in it
    /// ([`dcx_sys::sweep_leftovers`]) and creates this run's staging
    /// directory there. Nothing in the evidence directory changes until
    /// [`publish`](Self::publish).
    pub(crate) fn prepare(out_dir: &Path, runner_id: &str) -> Result<Self, CertifyError> {
        let name = format!("runner-certification-{runner_id}");
        let dir = out_dir.join(&name);
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CertifyError::Evidence { path, source }
        };
        std::fs::create_dir_all(out_dir).map_err(fail(out_dir))?;
        dcx_sys::sweep_leftovers(out_dir).map_err(fail(out_dir))?;
        let staging = dcx_sys::staging_dir_in(out_dir, "evidence").map_err(fail(out_dir))?;
        Ok(Self {
            dir,
            name,
            staging,
            used: HashSet::new(),
        })
    }

    /// Makes this run's logs the evidence directory's: removes the logs an
    /// earlier run left there (other files are left alone), so every log in
    /// it belongs to the certificate written next, and moves this run's in.
    pub(crate) fn publish(self) -> Result<(), CertifyError> {
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CertifyError::Evidence { path, source }
        };
        let dir = &self.dir;
        std::fs::create_dir_all(dir).map_err(fail(dir))?;
        for entry in std::fs::read_dir(dir).map_err(fail(dir))? {
            let path = entry.map_err(fail(dir))?.path();
            if path.extension().is_some_and(|e| e == "log") && path.is_file() {
                std::fs::remove_file(&path).map_err(fail(&path))?;
            }
        }
        let mut names: Vec<&String> = self.used.iter().collect();
        names.sort();
        for file_name in names {
            let target = dir.join(file_name);
            std::fs::rename(self.staging.path().join(file_name), &target).map_err(fail(&target))?;
        }
        #[cfg(unix)]
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(fail(dir))?;
        Ok(())
    }

    /// Creates the log of check `check_id`, headed with the command line it
    /// is about to run. File names are the check id with anything but
    /// `[A-Za-z0-9._-]` replaced by `_`, made unique with `-2`, `-3`, …
    pub(crate) fn create_log(&mut self, check_id: &str, header: &str) -> Result<EvidenceLog, CertifyError> {
        let stem: String = check_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut file_name = format!("{stem}.log");
        let mut n = 1;
        while !self.used.insert(file_name.clone()) {
            n += 1;
            file_name = format!("{stem}-{n}.log");
        }
        let path = self.staging.path().join(&file_name);
        // Append mode: the process and anything it leaves behind write at
        // the end, whatever the offsets, and the footer lands after them.
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| CertifyError::Evidence {
                path: path.clone(),
                source,
            })?;
        writeln!(file, "# dcx certify: {header}").map_err(|source| CertifyError::Evidence {
            path: path.clone(),
            source,
        })?;
        Ok(EvidenceLog {
            file,
            path,
            evidence_ref: format!("{}/{file_name}", self.name),
        })
    }
}

impl EvidenceLog {
    /// Appends the footer line after whatever the process wrote, starting a
    /// new line if its output did not end with one.
    pub(crate) fn finish(mut self, footer: &str) -> Result<(), CertifyError> {
        let mut append_footer = || {
            let end = self.file.seek(SeekFrom::End(0))?;
            if end > 0 {
                let mut last = [0u8];
                self.file.seek(SeekFrom::Start(end - 1))?;
                self.file.read_exact(&mut last)?;
                if last[0] != b'\n' {
                    self.file.write_all(b"\n")?;
                }
            }
            writeln!(self.file, "# dcx certify: {footer}")?;
            self.file.sync_all()
        };
        append_footer().map_err(|source| CertifyError::Evidence {
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_unique_headed_footed_and_referenced_from_the_out_dir() {
        let out = tempfile::tempdir().unwrap();
        let mut evidence = EvidenceDir::prepare(out.path(), "rust").unwrap();
        let first = evidence
            .create_log("command.gov/ernance", "dc-runner governance")
            .unwrap();
        let second = evidence
            .create_log("command.gov/ernance", "dc-runner governance x")
            .unwrap();
        assert_eq!(
            first.evidence_ref,
            "runner-certification-rust/command.gov_ernance.log"
        );
        assert_eq!(
            second.evidence_ref,
            "runner-certification-rust/command.gov_ernance-2.log"
        );

        (&first.file).write_all(b"partial line").unwrap();
        first.finish("exited with code 0").unwrap();
        let second_ref = second.evidence_ref.clone();
        second.finish("exited with code 0").unwrap();
        let published = out
            .path()
            .join("runner-certification-rust/command.gov_ernance.log");
        assert!(!published.exists(), "published before publish()");
        evidence.publish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&published).unwrap(),
            "# dcx certify: dc-runner governance\npartial line\n# dcx certify: exited with code 0\n"
        );
        assert!(out.path().join(&second_ref).is_file());
        // The staging directory went with the run.
        let names: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["runner-certification-rust"]);
    }

    #[test]
    fn publishing_replaces_old_logs_only_and_an_unpublished_run_changes_nothing() {
        let out = tempfile::tempdir().unwrap();
        let mut evidence = EvidenceDir::prepare(out.path(), "rust").unwrap();
        evidence
            .create_log("command.x", "x")
            .unwrap()
            .finish("one")
            .unwrap();
        evidence.publish().unwrap();
        let old_log = out.path().join("runner-certification-rust/command.x.log");
        let old = std::fs::read(&old_log).unwrap();
        let notes = out.path().join("runner-certification-rust/notes.txt");
        std::fs::write(&notes, "keep").unwrap();

        // A run that never publishes (cancelled, failed): nothing changes.
        let mut abandoned = EvidenceDir::prepare(out.path(), "rust").unwrap();
        abandoned
            .create_log("command.x", "y")
            .unwrap()
            .finish("two")
            .unwrap();
        drop(abandoned);
        assert_eq!(std::fs::read(&old_log).unwrap(), old);

        let mut evidence = EvidenceDir::prepare(out.path(), "rust").unwrap();
        evidence
            .create_log("command.y", "y")
            .unwrap()
            .finish("three")
            .unwrap();
        evidence.publish().unwrap();
        assert!(!old_log.exists());
        assert!(
            out.path()
                .join("runner-certification-rust/command.y.log")
                .exists()
        );
        assert!(notes.exists());
    }

    #[test]
    fn a_killed_runs_staging_directory_is_removed_by_the_next_run() {
        let out = tempfile::tempdir().unwrap();
        // What SIGKILL leaves: a staging directory nobody holds.
        let dead = out.path().join(".dcx-staging-evidence-dead");
        std::fs::create_dir_all(&dead).unwrap();
        std::fs::write(dead.join("command.x.log"), "half").unwrap();
        let live = EvidenceDir::prepare(out.path(), "rust").unwrap();
        assert!(!dead.exists());
        // A concurrent run's staging directory is not touched.
        let _other = EvidenceDir::prepare(out.path(), "rust").unwrap();
        assert!(live.staging.path().is_dir());
    }
}
