//! Fetching a pinned package: https (reqwest over rustls), `file://`, or a
//! path relative to the document that names it.
//!
//! The bytes are hashed while they stream in and counted against a size
//! cap, so a package is never read twice and a hostile server cannot fill
//! the disk. [`fetch_verified`] compares the digest with the pin before it
//! hands the package on: nothing is unpacked from bytes that did not match.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use dcx_contracts::Sha256Hex;
use dcx_contracts::digest::HashingReader;
use url::Url;

use crate::Limits;
use crate::progress::{Progress, ProgressReader, Stage, StageGuard};

/// Where a package is fetched from, parsed from an `asset_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AssetLocation {
    /// An `https://` URL, or an `http://` URL whose host is a loopback
    /// address (a local mirror or a test server).
    Http(Url),
    /// A local file, from a `file://` URL or a plain path.
    File(PathBuf),
}

impl AssetLocation {
    /// Parses an `asset_url`. A value without a scheme is a path, relative
    /// to `relative_to` (the directory of the overlay or lock that names it)
    /// unless it is absolute.
    ///
    /// Plain `http://` is accepted for loopback hosts only: the digest pins
    /// the bytes either way, but a remote plain-http URL in a committed
    /// document is a mistake worth stopping early.
    pub(crate) fn parse(asset_url: &str, relative_to: &Path) -> Result<Self, FetchError> {
        let invalid = |reason: String| FetchError::InvalidUrl {
            url: asset_url.to_owned(),
            reason,
        };
        let Some((scheme, _)) = asset_url.split_once("://") else {
            return Ok(Self::File(relative_to.join(asset_url)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "https" => Url::parse(asset_url)
                .map(Self::Http)
                .map_err(|e| invalid(e.to_string())),
            "http" => {
                let url = Url::parse(asset_url).map_err(|e| invalid(e.to_string()))?;
                if is_loopback(&url) {
                    Ok(Self::Http(url))
                } else {
                    Err(FetchError::PlainHttp {
                        url: asset_url.to_owned(),
                    })
                }
            }
            "file" => {
                let url = Url::parse(asset_url).map_err(|e| invalid(e.to_string()))?;
                url.to_file_path().map(Self::File).map_err(|()| {
                    invalid(
                        "a file:// URL needs an absolute path and no host, e.g. file:///srv/pkg.tar.gz"
                            .to_owned(),
                    )
                })
            }
            _ => Err(FetchError::UnsupportedScheme {
                url: asset_url.to_owned(),
            }),
        }
    }

    /// The file name the location ends in, for messages and origins.
    pub(crate) fn file_name(&self) -> String {
        let name = match self {
            Self::Http(url) => url
                .path_segments()
                .and_then(|mut segments| segments.next_back())
                .map(str::to_owned),
            Self::File(path) => path.file_name().map(|n| n.to_string_lossy().into_owned()),
        };
        name.filter(|n| !n.is_empty())
            .unwrap_or_else(|| "package".to_owned())
    }
}

impl std::fmt::Display for AssetLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(url) => write!(f, "{url}"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A package whose digest matched its pin, open at its first byte.
#[derive(Debug)]
pub(crate) struct VerifiedPackage {
    /// The package bytes: the local file itself, or an anonymous temporary
    /// file holding the download (deleted when dropped).
    pub file: File,
    /// Its sha256, equal to the pin.
    pub sha256: Sha256Hex,
    /// Its size in bytes.
    pub size: u64,
}

/// Why a package could not be fetched or did not match its pin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The `asset_url` does not parse.
    #[error("asset_url {url:?} is not a valid URL: {reason}")]
    InvalidUrl {
        /// The value given.
        url: String,
        /// The parser's explanation.
        reason: String,
    },
    /// A scheme other than https, http (loopback) or file.
    #[error(
        "asset_url {url:?} has an unsupported scheme; use https://, file:// or a path relative to the document"
    )]
    UnsupportedScheme {
        /// The value given.
        url: String,
    },
    /// Plain http to a host that is not a loopback address.
    #[error(
        "asset_url {url:?} uses plain http to a remote host; use https:// (plain http is accepted for loopback mirrors only)"
    )]
    PlainHttp {
        /// The value given.
        url: String,
    },
    /// The server, the network or the file system failed.
    #[error("download failure from {location}: {reason}")]
    Download {
        /// Where the package was fetched from.
        location: String,
        /// What went wrong, with its causes.
        reason: String,
    },
    /// The package is larger than the cap.
    #[error(
        "download from {location} is over the size cap of {limit} bytes ({detail}); nothing was unpacked (raise --max-package-bytes if the package really is that large)"
    )]
    TooLarge {
        /// Where the package was fetched from.
        location: String,
        /// The cap in bytes.
        limit: u64,
        /// How the excess was noticed.
        detail: String,
    },
    /// The bytes do not hash to the pinned digest.
    #[error(
        "checksum mismatch for {location}: expected {expected}, got {actual}; nothing was unpacked (fix the pinned sha256 or the asset_url)"
    )]
    ChecksumMismatch {
        /// Where the package was fetched from.
        location: String,
        /// The pinned digest.
        expected: Sha256Hex,
        /// The digest of the bytes received.
        actual: Sha256Hex,
    },
    /// The download could not be stored in the scratch directory.
    #[error("cannot store the download of {location} in {}: {source}", .scratch.display())]
    Scratch {
        /// Where the package was fetched from.
        location: String,
        /// The scratch directory.
        scratch: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
}

impl FetchError {
    /// Whether the error is in the document that names the package (its
    /// `asset_url`) rather than in what was fetched: a configuration error.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Self::InvalidUrl { .. } | Self::UnsupportedScheme { .. } | Self::PlainHttp { .. }
        )
    }
}

/// Fetches the package at `location` and checks it against `expected`.
///
/// Remote packages stream into an anonymous temporary file in `scratch`;
/// local files are read in place. Either way the digest is computed while
/// reading, and the package is refused, before anyone unpacks it, when it
/// is over `limits.max_package_bytes` or does not match.
pub(crate) fn fetch_verified(
    location: &AssetLocation,
    expected: &Sha256Hex,
    scratch: &Path,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<VerifiedPackage, FetchError> {
    let (mut file, sha256, size) = match location {
        AssetLocation::Http(url) => download(url, location, scratch, limits, progress)?,
        AssetLocation::File(path) => read_local(path, location, limits, progress)?,
    };
    if sha256 != *expected {
        return Err(FetchError::ChecksumMismatch {
            location: location.to_string(),
            expected: *expected,
            actual: sha256,
        });
    }
    file.rewind().map_err(|e| download_error(location, &e))?;
    Ok(VerifiedPackage { file, sha256, size })
}

/// `dcx_sys::http::is_loopback`, which needs that crate's `http` feature;
/// without ours the location is refused at download time anyway.
#[cfg(feature = "http")]
fn is_loopback(url: &Url) -> bool {
    dcx_sys::http::is_loopback(url)
}

#[cfg(not(feature = "http"))]
fn is_loopback(_: &Url) -> bool {
    true
}

#[cfg(not(feature = "http"))]
fn download(
    _: &Url,
    location: &AssetLocation,
    _: &Path,
    _: &Limits,
    _: &dyn Progress,
) -> Result<(File, Sha256Hex, u64), FetchError> {
    Err(FetchError::Download {
        location: location.to_string(),
        reason: "this build of dcx-bundle-overlay has no HTTP support (feature `http`)".to_owned(),
    })
}

#[cfg(feature = "http")]
fn download(
    url: &Url,
    location: &AssetLocation,
    scratch: &Path,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<(File, Sha256Hex, u64), FetchError> {
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("dcx-bundle-overlay/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.download_timeout)
        // Release assets redirect to a CDN; follow, but never from https
        // down to plain http on a remote host (the policy of every dcx
        // client, in dcx-sys).
        .redirect(dcx_sys::http::redirect_policy())
        .build()
        .map_err(|e| download_error(location, &e))?;
    let response = client
        .get(url.clone())
        .send()
        .map_err(|e| download_error(location, &e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Download {
            location: location.to_string(),
            reason: format!("HTTP {status}"),
        });
    }
    let announced = response.content_length();
    if let Some(length) = announced
        && length > limits.max_package_bytes
    {
        return Err(FetchError::TooLarge {
            location: location.to_string(),
            limit: limits.max_package_bytes,
            detail: format!("the server announced {length} bytes"),
        });
    }
    let mut file = tempfile::tempfile_in(scratch).map_err(|source| FetchError::Scratch {
        location: location.to_string(),
        scratch: scratch.to_path_buf(),
        source,
    })?;
    let (sha256, size) = copy_capped(response, &mut file, announced, location, limits, progress)?;
    Ok((file, sha256, size))
}

fn read_local(
    path: &Path,
    location: &AssetLocation,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<(File, Sha256Hex, u64), FetchError> {
    let file = File::open(path).map_err(|e| download_error(location, &e))?;
    let metadata = file.metadata().map_err(|e| download_error(location, &e))?;
    if !metadata.is_file() {
        return Err(FetchError::Download {
            location: location.to_string(),
            reason: "not a regular file".to_owned(),
        });
    }
    if metadata.len() > limits.max_package_bytes {
        return Err(FetchError::TooLarge {
            location: location.to_string(),
            limit: limits.max_package_bytes,
            detail: format!("the file has {} bytes", metadata.len()),
        });
    }
    let (sha256, size) = copy_capped(
        &file,
        io::sink(),
        Some(metadata.len()),
        location,
        limits,
        progress,
    )?;
    Ok((file, sha256, size))
}

/// Copies `reader` into `sink`, hashing it, and fails as soon as more than
/// `limits.max_package_bytes` arrive (the announced length may lie).
fn copy_capped(
    reader: impl Read,
    mut sink: impl Write,
    total: Option<u64>,
    location: &AssetLocation,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<(Sha256Hex, u64), FetchError> {
    let stage = StageGuard::start(progress, Stage::Download, total);
    // Reading one byte past the cap tells "exactly at the cap" from "over".
    let mut hashing =
        HashingReader::new(ProgressReader::new(reader, &stage).take(limits.max_package_bytes + 1));
    let copied = io::copy(&mut hashing, &mut sink).map_err(|e| download_error(location, &e))?;
    if copied > limits.max_package_bytes {
        return Err(FetchError::TooLarge {
            location: location.to_string(),
            limit: limits.max_package_bytes,
            detail: "the body kept coming past the cap".to_owned(),
        });
    }
    sink.flush().map_err(|e| download_error(location, &e))?;
    Ok((hashing.finish().0, copied))
}

fn download_error(location: &AssetLocation, error: &dyn std::error::Error) -> FetchError {
    FetchError::Download {
        location: location.to_string(),
        reason: error_chain(error),
    }
}

/// An error and its causes, joined with `: ` (reqwest's own message alone
/// says only "error sending request").
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    fn parse(url: &str) -> Result<AssetLocation, FetchError> {
        AssetLocation::parse(url, Path::new("/work/overlays"))
    }

    #[test]
    fn locations_parse_by_scheme() {
        assert!(matches!(
            parse("https://example.com/a/pkg.tar.gz"),
            Ok(AssetLocation::Http(_))
        ));
        assert!(matches!(
            parse("http://127.0.0.1:8080/pkg.tar.gz"),
            Ok(AssetLocation::Http(_))
        ));
        assert!(matches!(
            parse("http://localhost/pkg.tar.gz"),
            Ok(AssetLocation::Http(_))
        ));
        assert!(matches!(
            parse("http://[::1]/pkg.tar.gz"),
            Ok(AssetLocation::Http(_))
        ));
        assert_eq!(
            parse("file:///srv/pkg.tar.gz").unwrap(),
            AssetLocation::File(PathBuf::from("/srv/pkg.tar.gz"))
        );
        assert_eq!(
            parse("../base/pkg.tar.gz").unwrap(),
            AssetLocation::File(PathBuf::from("/work/overlays/../base/pkg.tar.gz"))
        );
        assert_eq!(
            parse("/abs/pkg.tar.gz").unwrap(),
            AssetLocation::File(PathBuf::from("/abs/pkg.tar.gz"))
        );
    }

    #[test]
    fn bad_locations_are_configuration_errors() {
        for (url, expected) in [
            (
                "http://example.com/pkg.tar.gz",
                "asset_url \"http://example.com/pkg.tar.gz\" uses plain http to a remote host; use https:// (plain http is accepted for loopback mirrors only)",
            ),
            (
                "ftp://example.com/pkg.tar.gz",
                "asset_url \"ftp://example.com/pkg.tar.gz\" has an unsupported scheme; use https://, file:// or a path relative to the document",
            ),
            (
                "file://host/pkg.tar.gz",
                "asset_url \"file://host/pkg.tar.gz\" is not a valid URL: a file:// URL needs an absolute path and no host, e.g. file:///srv/pkg.tar.gz",
            ),
        ] {
            let error = parse(url).unwrap_err();
            assert!(error.is_configuration(), "{error}");
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn streamed_bodies_stop_at_the_cap() {
        // A server that announces no length (or a false one) is caught
        // while streaming.
        let limits = Limits {
            max_package_bytes: 10,
            ..Limits::default()
        };
        let location = AssetLocation::File(PathBuf::from("stream"));
        let (digest, size) =
            copy_capped(&[7u8; 10][..], io::sink(), None, &location, &limits, &NoProgress).unwrap();
        assert_eq!(
            (digest, size),
            (dcx_contracts::digest::sha256_bytes(&[7u8; 10]), 10)
        );
        let error =
            copy_capped(&[7u8; 11][..], io::sink(), None, &location, &limits, &NoProgress).unwrap_err();
        assert_eq!(
            error.to_string(),
            "download from stream is over the size cap of 10 bytes (the body kept coming past the cap); nothing was unpacked (raise --max-package-bytes if the package really is that large)"
        );
    }

    #[test]
    fn file_names_come_from_the_last_segment() {
        assert_eq!(parse("https://h/x/pkg.tar.gz").unwrap().file_name(), "pkg.tar.gz");
        assert_eq!(parse("https://h/").unwrap().file_name(), "package");
        assert_eq!(parse("dir/pkg.tar.gz").unwrap().file_name(), "pkg.tar.gz");
    }
}
