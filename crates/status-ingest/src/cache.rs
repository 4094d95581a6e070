//! The HTTP cache: bodies kept with their `ETag`, so the next ingest asks
//! `If-None-Match` and a `304 Not Modified` costs GitHub no rate limit.
//!
//! One entry per URL, under the cache directory:
//!
//! ```text
//! <sha256 of the URL>.body   the response body
//! <sha256 of the URL>.json   {"url", "etag", "sha256"} of that body
//! ```
//!
//! The body is written before its metadata and the metadata records the
//! body's digest, so an entry torn by a crash or by two ingests racing is
//! detected on read and simply treated as absent. Both files are written
//! atomically.

use std::path::{Path, PathBuf};

use dcx_contracts::digest::{Sha256Hex, sha256_bytes};
use dcx_contracts::{WriteError, atomic_write};
use serde::{Deserialize, Serialize};

/// A directory of cached HTTP responses.
#[derive(Debug, Clone)]
pub(crate) struct HttpCache {
    dir: PathBuf,
}

/// A cached response body and the validator that identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CachedResponse {
    /// The `ETag` the server sent with the body.
    pub etag: String,
    /// The body.
    pub body: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct EntryMeta {
    url: String,
    etag: String,
    sha256: Sha256Hex,
}

/// An entry's metadata is a URL, an ETag and a digest.
const MAX_META_BYTES: u64 = 64 * 1024;

/// The file's bytes, or `None` when it is unreadable or over `max_bytes`.
fn read_at_most(path: &Path, max_bytes: u64) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > max_bytes {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= max_bytes).then_some(bytes)
}

impl HttpCache {
    /// A cache in `dir` (created on the first store).
    pub(crate) fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn paths(&self, url: &str) -> (PathBuf, PathBuf) {
        let key = sha256_bytes(url.as_bytes()).to_hex();
        (
            self.dir.join(format!("{key}.body")),
            self.dir.join(format!("{key}.json")),
        )
    }

    /// The cached response for `url`, if there is a complete, intact one.
    #[cfg(test)]
    fn get(&self, url: &str) -> Option<CachedResponse> {
        self.get_within(url, u64::MAX)
    }

    /// [`HttpCache::get`], ignoring a cached body over `max_bytes`, which is
    /// never read whole.
    pub(crate) fn get_within(&self, url: &str, max_bytes: u64) -> Option<CachedResponse> {
        let (body_path, meta_path) = self.paths(url);
        let meta: EntryMeta = serde_json::from_slice(&read_at_most(&meta_path, MAX_META_BYTES)?).ok()?;
        let body = read_at_most(&body_path, max_bytes)?;
        // A hash collision on the key, or a torn entry: not ours.
        (meta.url == url && sha256_bytes(&body) == meta.sha256).then_some(CachedResponse {
            etag: meta.etag,
            body,
        })
    }

    /// Stores `body` for `url` with its `etag`.
    pub(crate) fn put(&self, url: &str, etag: &str, body: &[u8]) -> Result<(), WriteError> {
        let (body_path, meta_path) = self.paths(url);
        atomic_write(&body_path, body)?;
        let meta = EntryMeta {
            url: url.to_owned(),
            etag: etag.to_owned(),
            sha256: sha256_bytes(body),
        };
        let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| WriteError {
            path: meta_path.clone(),
            source: std::io::Error::other(e),
        })?;
        atomic_write(&meta_path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_returns_by_url() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HttpCache::new(dir.path().join("cache"));
        assert_eq!(cache.get("https://example.invalid/a"), None);
        cache
            .put("https://example.invalid/a", "\"v1\"", b"body a")
            .unwrap();
        cache
            .put("https://example.invalid/b", "\"v2\"", b"body b")
            .unwrap();
        assert_eq!(
            cache.get("https://example.invalid/a"),
            Some(CachedResponse {
                etag: "\"v1\"".to_owned(),
                body: b"body a".to_vec()
            })
        );
        cache.put("https://example.invalid/a", "\"v3\"", b"new").unwrap();
        assert_eq!(cache.get("https://example.invalid/a").unwrap().etag, "\"v3\"");
    }

    #[test]
    fn a_torn_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HttpCache::new(dir.path());
        cache.put("https://example.invalid/a", "\"v1\"", b"body").unwrap();
        let (body_path, _) = cache.paths("https://example.invalid/a");
        std::fs::write(body_path, b"other body").unwrap();
        assert_eq!(cache.get("https://example.invalid/a"), None);
    }

    #[test]
    fn a_body_over_the_cap_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HttpCache::new(dir.path());
        cache.put("https://example.invalid/a", "\"v1\"", b"body").unwrap();
        assert_eq!(cache.get_within("https://example.invalid/a", 3), None);
        assert!(cache.get_within("https://example.invalid/a", 4).is_some());
    }
}
