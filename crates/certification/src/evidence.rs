//! The evidence directory, `<out-dir>/runner-certification-<runner>/`: one
//! log per check that ran a process, holding its stdout and stderr between
//! a header naming the command and a footer naming how it ended.
//!
//! A check's `evidence_ref` is the log's path relative to the directory the
//! certificate is written to (`runner-certification-rust/command.governance.log`),
//! so certificate and evidence can be published together and the reference
//! stays valid wherever they land.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::CertifyError;

/// The evidence directory of one certification run.
#[derive(Debug)]
pub(crate) struct EvidenceDir {
    dir: PathBuf,
    name: String,
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
    /// Creates `<out_dir>/runner-certification-<runner_id>/` and removes the
    /// logs an earlier run left there, so every log in it belongs to the
    /// certificate written next to it. Other files are left alone.
    pub(crate) fn prepare(out_dir: &Path, runner_id: &str) -> Result<Self, CertifyError> {
        let name = format!("runner-certification-{runner_id}");
        let dir = out_dir.join(&name);
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CertifyError::Evidence { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(fail(&dir))?;
        for entry in std::fs::read_dir(&dir).map_err(fail(&dir))? {
            let path = entry.map_err(fail(&dir))?.path();
            if path.extension().is_some_and(|e| e == "log") && path.is_file() {
                std::fs::remove_file(&path).map_err(fail(&path))?;
            }
        }
        Ok(Self {
            dir,
            name,
            used: HashSet::new(),
        })
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
        let path = self.dir.join(&file_name);
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

        let path = first.path.clone();
        (&first.file).write_all(b"partial line").unwrap();
        first.finish("exited with code 0").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# dcx certify: dc-runner governance\npartial line\n# dcx certify: exited with code 0\n"
        );
        assert_eq!(out.path().join(&second.evidence_ref), second.path);
    }

    #[test]
    fn preparing_again_removes_old_logs_only() {
        let out = tempfile::tempdir().unwrap();
        let mut evidence = EvidenceDir::prepare(out.path(), "rust").unwrap();
        let log = evidence.create_log("command.x", "x").unwrap();
        let notes = out.path().join("runner-certification-rust/notes.txt");
        std::fs::write(&notes, "keep").unwrap();

        EvidenceDir::prepare(out.path(), "rust").unwrap();
        assert!(!log.path.exists());
        assert!(notes.exists());
    }
}
