//! Deep verification of a bundle, in a package or a tree.
//!
//! A bundle is consistent when:
//!
//! 1. `resolved_files.sha256` exists and parses strictly;
//! 2. `resolved_bundle_lock_v1.yaml` exists and loads;
//! 3. every manifest line matches its file, no listed file is missing, and
//!    no unlisted file is present (upstream checked listed files only, so an
//!    extra file slipped through);
//! 4. the lock's integrity fields are recomputed from the manifest:
//!    `file_count`, `sha256_manifest`, `declaration_sha256` and
//!    `declaration_paths` (upstream never re-read them). `sha256_manifests`
//!    covers the bundle manifests of the source repository, which a package
//!    does not contain, so it cannot be checked here;
//! 5. an implementation bundle's build lock agrees with the tree: its
//!    `resolved_files_sha256` is the manifest's digest, its runner the lock's,
//!    its output bundle the lock's root.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use dcx_contracts::bundle::{BuildLock, ResolvedBundleLock};
use dcx_contracts::digest::sha256_bytes;
use dcx_contracts::document::read_bounded;
use dcx_contracts::manifest::{MANIFEST_FILE_NAME, ManifestError, Sha256Manifest, TreeDrift, TreeError};
use dcx_contracts::{Format, LoadError, Sha256Hex, from_bytes};

use crate::archive::Unpacked;

/// File name of the resolved bundle lock, at the bundle root.
pub(crate) const RESOLVED_LOCK_FILE_NAME: &str = "resolved_bundle_lock_v1.yaml";

/// File name of the implementation build lock, at the bundle root.
pub(crate) const BUILD_LOCK_FILE_NAME: &str = "implementation_bundle_build_lock_v1.yaml";

/// Why a bundle failed verification. Every message starts with the origin
/// (the package or tree) and names the file or field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `resolved_files.sha256`.
    #[error(
        "{origin}: missing {MANIFEST_FILE_NAME}; a bundle lists its payload files and their sha256 there"
    )]
    MissingManifest {
        /// The package or tree.
        origin: String,
    },
    /// `resolved_files.sha256` does not parse.
    #[error("{origin}: {MANIFEST_FILE_NAME} {source}")]
    Manifest {
        /// The package or tree.
        origin: String,
        /// The line at fault.
        #[source]
        source: ManifestError,
    },
    /// No `resolved_bundle_lock_v1.yaml`.
    #[error("{origin}: missing {RESOLVED_LOCK_FILE_NAME}; every bundle carries its resolved lock")]
    MissingLock {
        /// The package or tree.
        origin: String,
    },
    /// A lock does not load.
    #[error(transparent)]
    Lock(#[from] LoadError),
    /// Lock fields disagree with the manifest.
    #[error("{origin}: {}", list("lock integrity does not match the bundle", .mismatches))]
    Integrity {
        /// The package or tree.
        origin: String,
        /// One line per field: which, what the lock says, what it should say.
        mismatches: Vec<String>,
    },
    /// Files disagree with the manifest.
    #[error("{origin}: {}", list(&format!("files do not match {MANIFEST_FILE_NAME}"), &drift_lines(.drift)))]
    Drift {
        /// The package or tree.
        origin: String,
        /// What differs.
        drift: TreeDrift,
    },
    /// The tree could not be walked or read.
    #[error("{origin}: {source}")]
    Tree {
        /// The tree.
        origin: String,
        /// The failure.
        #[source]
        source: TreeError,
    },
    /// A reserved file of a tree is larger than the cap on a manifest or
    /// lock (64 MiB); it was not read.
    #[error("{origin}: {file} is larger than the {limit} bytes a manifest or lock may have")]
    ReservedTooLarge {
        /// The tree.
        origin: String,
        /// The file.
        file: &'static str,
        /// The cap.
        limit: u64,
    },
    /// A reserved file could not be read.
    #[error("{origin}: cannot read {file}: {source}")]
    Read {
        /// The tree.
        origin: String,
        /// The file.
        file: &'static str,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
}

fn list(title: &str, lines: &[String]) -> String {
    let mut out = title.to_owned();
    if let [one] = lines {
        let _ = write!(out, ": {one}");
    } else {
        let _ = write!(out, " ({} problems):", lines.len());
        for line in lines {
            let _ = write!(out, "\n  - {line}");
        }
    }
    out
}

fn drift_lines(drift: &TreeDrift) -> Vec<String> {
    let mismatched = drift
        .mismatched
        .iter()
        .map(|(path, expected, actual)| format!("{path}: sha256 is {actual}, the manifest lists {expected}"));
    let missing = drift
        .missing
        .iter()
        .map(|path| format!("{path}: listed in the manifest but missing"));
    let extra = drift
        .extra
        .iter()
        .map(|path| format!("{path}: present but not listed in the manifest (extra file)"));
    mismatched.chain(missing).chain(extra).collect()
}

/// The reserved files of a bundle, parsed.
#[derive(Debug, Clone)]
pub(crate) struct BundleMeta {
    /// `resolved_files.sha256` exactly as stored.
    pub manifest_bytes: Vec<u8>,
    /// The parsed manifest.
    pub manifest: Sha256Manifest,
    /// `resolved_bundle_lock_v1.yaml`.
    pub lock: ResolvedBundleLock,
    /// `implementation_bundle_build_lock_v1.yaml`, for implementation bundles.
    pub build_lock: Option<BuildLock>,
}

impl BundleMeta {
    /// Parses the reserved files given as bytes; `origin` names the package
    /// or tree in errors (each lock's origin is `<origin>#<file name>`).
    pub(crate) fn parse(
        origin: &str,
        manifest: Option<&[u8]>,
        lock: Option<&[u8]>,
        build_lock: Option<&[u8]>,
    ) -> Result<Self, VerifyError> {
        let manifest_bytes = manifest
            .ok_or_else(|| VerifyError::MissingManifest {
                origin: origin.to_owned(),
            })?
            .to_vec();
        let manifest = Sha256Manifest::parse(&manifest_bytes).map_err(|source| VerifyError::Manifest {
            origin: origin.to_owned(),
            source,
        })?;
        let lock = lock.ok_or_else(|| VerifyError::MissingLock {
            origin: origin.to_owned(),
        })?;
        let lock = from_bytes::<ResolvedBundleLock>(
            lock,
            Format::Yaml,
            &format!("{origin}#{RESOLVED_LOCK_FILE_NAME}"),
        )?
        .document;
        let build_lock = build_lock
            .map(|bytes| {
                from_bytes::<BuildLock>(bytes, Format::Yaml, &format!("{origin}#{BUILD_LOCK_FILE_NAME}"))
            })
            .transpose()?
            .map(|loaded| loaded.document);
        Ok(Self {
            manifest_bytes,
            manifest,
            lock,
            build_lock,
        })
    }

    /// Parses the reserved files of an unpacked package.
    pub(crate) fn from_unpacked(origin: &str, unpacked: &Unpacked) -> Result<Self, VerifyError> {
        Self::parse(
            origin,
            unpacked.reserved(MANIFEST_FILE_NAME),
            unpacked.reserved(RESOLVED_LOCK_FILE_NAME),
            unpacked.reserved(BUILD_LOCK_FILE_NAME),
        )
    }

    /// Reads and parses the reserved files at the root of tree `dir`.
    pub(crate) fn read_dir(dir: &Path) -> Result<Self, VerifyError> {
        let origin = dir.display().to_string();
        let limit = crate::archive::MAX_RESERVED_FILE_BYTES;
        let read = |file: &'static str| match read_bounded(&dir.join(file), limit) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(LoadError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(LoadError::Read { source, .. }) => Err(VerifyError::Read {
                origin: origin.clone(),
                file,
                source,
            }),
            Err(_) => Err(VerifyError::ReservedTooLarge {
                origin: origin.clone(),
                file,
                limit,
            }),
        };
        let manifest = read(MANIFEST_FILE_NAME)?;
        let lock = read(RESOLVED_LOCK_FILE_NAME)?;
        let build_lock = read(BUILD_LOCK_FILE_NAME)?;
        Self::parse(
            &origin,
            manifest.as_deref(),
            lock.as_deref(),
            build_lock.as_deref(),
        )
    }

    /// The sha256 of `resolved_files.sha256`.
    pub(crate) fn sha256_manifest(&self) -> Sha256Hex {
        sha256_bytes(&self.manifest_bytes)
    }

    /// Recomputes the lock integrity fields (and the build lock's) from the
    /// manifest; see the module documentation for what is covered.
    pub(crate) fn check_integrity(&self, origin: &str) -> Result<(), VerifyError> {
        let mut mismatches = Vec::new();
        let integrity = &self.lock.integrity;
        let mut field = |name: &str, found: String, expected: String| {
            if found != expected {
                mismatches.push(format!(
                    "{name} is {found}, but {MANIFEST_FILE_NAME} gives {expected}"
                ));
            }
        };
        field(
            "integrity.file_count",
            integrity.file_count.to_string(),
            self.manifest.len().to_string(),
        );
        field(
            "integrity.sha256_manifest",
            integrity.sha256_manifest.to_string(),
            self.sha256_manifest().to_string(),
        );
        field(
            "integrity.declaration_sha256",
            integrity.declaration_sha256.to_string(),
            self.manifest.declaration_sha256().to_string(),
        );
        if let Some(paths) = &integrity.declaration_paths {
            let listed: Vec<&str> = self.manifest.entries().iter().map(|e| e.path.as_str()).collect();
            if paths.iter().map(String::as_str).ne(listed.iter().copied()) {
                mismatches.push(format!(
                    "integrity.declaration_paths lists {} paths that differ from the {} files of {MANIFEST_FILE_NAME}",
                    paths.len(),
                    listed.len()
                ));
            }
        }
        if let Some(build) = &self.build_lock {
            if build.resolved_files_sha256 != self.sha256_manifest() {
                mismatches.push(format!(
                    "{BUILD_LOCK_FILE_NAME} resolved_files_sha256 is {}, but {MANIFEST_FILE_NAME} hashes to {}",
                    build.resolved_files_sha256,
                    self.sha256_manifest()
                ));
            }
            if build.runner_id != self.lock.runner {
                mismatches.push(format!(
                    "{BUILD_LOCK_FILE_NAME} runner_id is {:?}, but {RESOLVED_LOCK_FILE_NAME} says runner {:?}",
                    build.runner_id, self.lock.runner
                ));
            }
            if let Some(output) = &build.output_bundle
                && output.bundle_id != self.lock.root_bundle
            {
                mismatches.push(format!(
                    "{BUILD_LOCK_FILE_NAME} output_bundle.bundle_id is {:?}, but {RESOLVED_LOCK_FILE_NAME} root_bundle is {:?}",
                    output.bundle_id, self.lock.root_bundle
                ));
            }
        }
        if mismatches.is_empty() {
            Ok(())
        } else {
            Err(VerifyError::Integrity {
                origin: origin.to_owned(),
                mismatches,
            })
        }
    }

    /// Compares the manifest with the payload digests actually present
    /// (reserved root files excluded).
    pub(crate) fn check_files(
        &self,
        origin: &str,
        actual: &BTreeMap<String, Sha256Hex>,
    ) -> Result<(), VerifyError> {
        let drift = drift(&self.manifest, actual);
        if drift.is_clean() {
            Ok(())
        } else {
            Err(VerifyError::Drift {
                origin: origin.to_owned(),
                drift,
            })
        }
    }

    /// Hashes the files of tree `dir` and compares them with the manifest.
    pub(crate) fn check_tree(&self, dir: &Path) -> Result<(), VerifyError> {
        let origin = dir.display().to_string();
        let drift = self
            .manifest
            .verify_tree(dir)
            .map_err(|source| VerifyError::Tree {
                origin: origin.clone(),
                source,
            })?;
        if drift.is_clean() {
            Ok(())
        } else {
            Err(VerifyError::Drift { origin, drift })
        }
    }
}

/// How the files present differ from a manifest.
pub(crate) fn drift(manifest: &Sha256Manifest, actual: &BTreeMap<String, Sha256Hex>) -> TreeDrift {
    let mut drift = TreeDrift::default();
    for entry in manifest.entries() {
        match actual.get(&entry.path) {
            None => drift.missing.push(entry.path.clone()),
            Some(digest) if *digest != entry.digest => {
                drift.mismatched.push((entry.path.clone(), entry.digest, *digest));
            }
            Some(_) => {}
        }
    }
    drift.extra = actual
        .keys()
        .filter(|path| manifest.get(path).is_none())
        .cloned()
        .collect();
    drift
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcx_contracts::manifest::ManifestEntry;

    fn manifest(files: &[(&str, &[u8])]) -> Sha256Manifest {
        Sha256Manifest::from_entries(files.iter().map(|(path, content)| ManifestEntry {
            digest: sha256_bytes(content),
            path: (*path).to_owned(),
        }))
        .unwrap()
    }

    /// The committed base bundle tree the integration tests build on: a
    /// unit test, as the manifest and lock checks are not public.
    #[test]
    fn fixture_tree_is_a_consistent_bundle() {
        let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dcx-example-core");
        let meta = BundleMeta::read_dir(&tree).unwrap();
        meta.check_integrity("fixture").unwrap();
        meta.check_tree(&tree).unwrap();
        assert_eq!(meta.lock.root_bundle, "dcx-example-core");
    }

    #[test]
    fn a_tree_manifest_over_the_reserved_cap_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(dir.path().join(MANIFEST_FILE_NAME)).unwrap();
        file.set_len(crate::archive::MAX_RESERVED_FILE_BYTES + 1).unwrap();
        let error = BundleMeta::read_dir(dir.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: resolved_files.sha256 is larger than the 67108864 bytes a manifest or lock may have",
                dir.path().display()
            )
        );
    }

    #[test]
    fn drift_names_every_file() {
        let listed = manifest(&[("a.md", b"a"), ("b.md", b"b"), ("c.md", b"c")]);
        let actual: BTreeMap<String, Sha256Hex> = [
            ("a.md", sha256_bytes(b"a")),
            ("b.md", sha256_bytes(b"tampered")),
            ("d.md", sha256_bytes(b"d")),
        ]
        .into_iter()
        .map(|(p, d)| (p.to_owned(), d))
        .collect();
        let drift = drift(&listed, &actual);
        assert_eq!(drift.missing, ["c.md"]);
        assert_eq!(drift.extra, ["d.md"]);
        assert_eq!(drift.mismatched.len(), 1);
        let error = VerifyError::Drift {
            origin: "pkg.tar.gz".to_owned(),
            drift,
        };
        assert_eq!(
            error.to_string(),
            format!(
                "pkg.tar.gz: files do not match resolved_files.sha256 (3 problems):\n  \
                 - b.md: sha256 is {}, the manifest lists {}\n  \
                 - c.md: listed in the manifest but missing\n  \
                 - d.md: present but not listed in the manifest (extra file)",
                sha256_bytes(b"tampered"),
                sha256_bytes(b"b")
            )
        );
    }
}
