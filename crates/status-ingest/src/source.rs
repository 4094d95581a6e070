//! Fetching release metadata and report assets: over HTTP (GitHub's release
//! API or any server), from `file://` URLs, or from paths relative to the
//! registry file.
//!
//! HTTP requests carry GitHub's headers, a per-request timeout, retries (see
//! [`crate::retry`]), size caps, and `ETag` revalidation against the
//! [`HttpCache`]. A 403 or 429 with `X-RateLimit-Remaining: 0` is GitHub's
//! primary rate limit and is reported as such, not retried: its reset is
//! usually far away.
//!
//! The GitHub token is sent only to the hosts listed in
//! [`FetchSettings::token_hosts`] (GitHub's by default): a registry edited in
//! a pull request must not be able to point a lane at a server that collects
//! the CI's token. Redirects to other hosts drop it too (reqwest strips
//! `Authorization` on cross-host redirects).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use dcx_contracts::Timestamp;
use dcx_sys::http::{is_confidential, is_loopback, redirect_policy};
use reqwest::header::{ACCEPT, AUTHORIZATION, ETAG, HeaderMap, IF_NONE_MATCH, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use crate::cache::HttpCache;
use crate::retry::{Next, RetryPolicy, parse_retry_after};

/// Hosts that receive the GitHub token unless told otherwise.
pub(crate) const GITHUB_TOKEN_HOSTS: &[&str] = &["api.github.com", "github.com"];

/// The GitHub REST API version requested.
pub(crate) const GITHUB_API_VERSION: &str = "2022-11-28";

/// Where a document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// An `http://` or `https://` URL.
    Remote(Url),
    /// A local file.
    Local(PathBuf),
}

/// Why a reference in a registry or release metadata names no location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LocationError {
    /// A scheme other than `http`, `https` or `file`.
    #[error(
        "unsupported URL scheme `{0}`; use http(s)://…, file:///… or a path relative to the registry file"
    )]
    UnsupportedScheme(String),
    /// The text looks like a URL but does not parse as one.
    #[error("not a valid URL: {0}")]
    InvalidUrl(String),
    /// A `file://` URL with a host, such as upstream's `file://__ROOT__/…`.
    #[error(
        "a file URL must be absolute (file:///path); dcx substitutes no templates such as __ROOT__, so use a path relative to the registry file"
    )]
    NotALocalFile,
    /// Plain `http://` to a host that is not this machine: anyone on the
    /// path could rewrite the report, and a listed host would see the token.
    #[error(
        "plain http to a remote host ({0}); use https:// (plain http is accepted for loopback mirrors only)"
    )]
    PlainHttpToRemote(String),
}

impl Location {
    /// Resolves `reference` as written in a registry or in release metadata:
    /// an `http(s)://` URL, a `file:///` URL, or a path, which when relative
    /// is taken relative to `base_dir` (the registry file's directory).
    pub(crate) fn resolve(reference: &str, base_dir: &Path) -> Result<Self, LocationError> {
        let Some((scheme, _)) = reference.split_once("://") else {
            let path = Path::new(reference);
            return Ok(Location::Local(if path.is_absolute() {
                path.to_path_buf()
            } else {
                base_dir.join(path)
            }));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" => {
                let url = Url::parse(reference).map_err(|e| LocationError::InvalidUrl(e.to_string()))?;
                if url.scheme() == "http" && !is_loopback(&url) {
                    return Err(LocationError::PlainHttpToRemote(
                        url.host_str().unwrap_or_default().to_owned(),
                    ));
                }
                Ok(Location::Remote(url))
            }
            "file" => {
                let url = Url::parse(reference).map_err(|e| LocationError::InvalidUrl(e.to_string()))?;
                url.to_file_path()
                    .map(Location::Local)
                    .map_err(|()| LocationError::NotALocalFile)
            }
            _ => Err(LocationError::UnsupportedScheme(scheme.to_owned())),
        }
    }

    /// Whether fetching it goes over the network.
    pub(crate) fn is_remote(&self) -> bool {
        matches!(self, Location::Remote(_))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Remote(url) => write!(f, "{url}"),
            Location::Local(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What is being fetched; decides the `Accept` header and the size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    /// A GitHub release API document.
    ReleaseMetadata,
    /// The status report asset.
    ReportAsset,
}

impl Resource {
    /// The `dcx status ingest` flag that sets its cap.
    pub(crate) fn cap_flag(self) -> &'static str {
        match self {
            Resource::ReleaseMetadata => "--max-metadata-bytes",
            Resource::ReportAsset => "--max-report-bytes",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Resource::ReleaseMetadata => "release metadata",
            Resource::ReportAsset => "report",
        }
    }
}

/// A GitHub token. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; `None` for an empty one (an unset secret in GitHub
    /// Actions expands to the empty string).
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (!token.trim().is_empty()).then(|| Token(token.trim().to_owned()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The default cap on a release metadata document: 4 MiB. A release with a
/// few hundred assets is well under 1 MiB.
pub const DEFAULT_METADATA_CAP: u64 = 4 << 20;

/// The default cap on a report: 1 MiB. A report is a few KiB; 1 MiB leaves
/// room for thousands of commands.
pub const DEFAULT_REPORT_CAP: u64 = 1 << 20;

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// The budget of one HTTP request, connect to last body byte.
    pub timeout: Duration,
    /// When to retry.
    pub retry: RetryPolicy,
    /// Sent as `Authorization: Bearer …` to [`FetchSettings::token_hosts`].
    pub token: Option<Token>,
    /// The hosts that receive the token.
    pub token_hosts: Vec<String>,
    /// Where the `ETag` cache lives; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// Never touch the network: remote documents come from the cache or not at all.
    pub offline: bool,
    /// The `User-Agent` (GitHub rejects requests without one).
    pub user_agent: String,
    /// The largest release metadata document accepted, in bytes
    /// ([`DEFAULT_METADATA_CAP`]; `--max-metadata-bytes`).
    pub metadata_cap: u64,
    /// The largest report accepted, in bytes ([`DEFAULT_REPORT_CAP`];
    /// `--max-report-bytes`).
    pub report_cap: u64,
    /// Honour `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` from the environment, as
    /// curl does. Off by default: a library reads no environment unless
    /// its caller says so (the `dcx` binary does).
    pub proxy_from_env: bool,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            token: None,
            token_hosts: GITHUB_TOKEN_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
            cache_dir: None,
            offline: false,
            user_agent: concat!("dcx-status-ingest/", env!("CARGO_PKG_VERSION")).to_owned(),
            metadata_cap: DEFAULT_METADATA_CAP,
            report_cap: DEFAULT_REPORT_CAP,
            proxy_from_env: false,
        }
    }
}

impl FetchSettings {
    fn cap(&self, resource: Resource) -> u64 {
        match resource {
            Resource::ReleaseMetadata => self.metadata_cap,
            Resource::ReportAsset => self.report_cap,
        }
    }
}

/// Why a document could not be fetched. The caller names the document; this
/// says what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FetchError {
    /// The server answered with an error status.
    #[error("HTTP {}{}", status_text(*status), after_attempts(*attempts))]
    Status {
        /// The status code.
        status: u16,
        /// How many requests were made.
        attempts: u32,
    },
    /// The server asked for a pause longer than dcx is willing to wait.
    #[error(
        "HTTP {} with Retry-After {}s, longer than the {}s ingest waits",
        status_text(*status),
        wait.as_secs(),
        max.as_secs()
    )]
    ServerWaitTooLong {
        /// The status code.
        status: u16,
        /// The pause asked for.
        wait: Duration,
        /// The longest pause honoured.
        max: Duration,
    },
    /// GitHub's primary rate limit is exhausted.
    #[error("{}", rate_limited(until.as_ref(), *token_sent))]
    RateLimited {
        /// When the limit resets (`X-RateLimit-Reset`), if the server said.
        until: Option<Timestamp>,
        /// Whether the request carried a token.
        token_sent: bool,
    },
    /// The request took longer than the timeout.
    #[error("timed out after {}", seconds(*after))]
    TimedOut {
        /// The timeout.
        after: Duration,
    },
    /// No connection, or the connection dropped before a response.
    #[error("{cause}{}", after_attempts(*attempts))]
    Connection {
        /// The transport's explanation.
        cause: String,
        /// How many requests were made.
        attempts: u32,
    },
    /// The connection dropped while the body was being received.
    #[error("transfer error after {received} bytes: {cause}")]
    Transfer {
        /// Bytes received before the failure.
        received: u64,
        /// The transport's explanation.
        cause: String,
    },
    /// The body is larger than the size cap.
    #[error(
        "size {} exceeds the {cap}-byte cap (raise {} if the {} really is that large)",
        size.map_or_else(|| "unknown".to_owned(), |s| format!("{s} bytes")),
        resource.cap_flag(),
        resource.noun()
    )]
    TooLarge {
        /// The declared size, when the server declared it.
        size: Option<u64>,
        /// The cap.
        cap: u64,
        /// What was being fetched, which names the cap.
        resource: Resource,
    },
    /// `--offline` and nothing cached.
    #[error("offline, and no cached copy")]
    Offline,
    /// A local file does not exist.
    #[error("no such file")]
    NotFound,
    /// A local file could not be read.
    #[error("cannot read: {0}")]
    Io(String),
}

fn status_text(status: u16) -> String {
    match StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

fn after_attempts(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{millis} ms")
    }
}

fn rate_limited(until: Option<&Timestamp>, token_sent: bool) -> String {
    let until = until.map_or_else(|| "its reset".to_owned(), ToString::to_string);
    if token_sent {
        format!("rate limited until {until}; the token's quota is spent")
    } else {
        format!("rate limited until {until}; set GITHUB_TOKEN")
    }
}

/// The transport's explanation of a reqwest error, without the URL (the
/// caller names the document) and without hyper's wrapper layers.
fn transport_cause(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.starts_with("client error (") && !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        // No deeper cause: reqwest's own words, minus the URL.
        let text = error.to_string();
        match error.url() {
            Some(url) => text.replace(&format!(" for url ({url})"), ""),
            None => text,
        }
    } else {
        parts.join(": ")
    }
}

/// Fetches documents; one per ingest, shared by all lanes.
#[derive(Debug)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    cache: Option<HttpCache>,
    notes: Mutex<Vec<String>>,
}

/// The HTTP client could not be built (TLS initialisation).
#[derive(Debug, thiserror::Error)]
#[error("cannot initialise the HTTP client: {0}")]
pub struct HttpClientError(String);

impl Fetcher {
    /// A fetcher with `settings`.
    pub(crate) fn new(settings: FetchSettings) -> Result<Self, HttpClientError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            // Release assets redirect to a CDN; follow, but never from https
            // down to plain http on a remote host (reqwest itself drops
            // `Authorization` when a redirect changes host): the one
            // outbound-HTTP policy of dcx.
            .redirect(redirect_policy());
        if !settings.proxy_from_env {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| HttpClientError(transport_cause(&e)))?;
        let cache = settings.cache_dir.clone().map(HttpCache::new);
        Ok(Self {
            client,
            settings,
            cache,
            notes: Mutex::new(Vec::new()),
        })
    }

    /// Non-fatal problems seen so far (a cache entry that could not be
    /// written), for the caller to report.
    pub(crate) fn take_notes(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .notes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn note(&self, note: String) {
        self.notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(note);
    }

    /// The bytes at `location`.
    pub(crate) async fn fetch(&self, location: &Location, resource: Resource) -> Result<Vec<u8>, FetchError> {
        let cap = self.settings.cap(resource);
        match location {
            // Read in place, not on the blocking pool: a local source is a
            // capped read that usually hits the page cache, and handing it
            // to another thread costs more than the read (10,000 lanes spent
            // over a second of system time in those hand-offs).
            Location::Local(path) => read_local(path, cap, resource),
            Location::Remote(url) => self.fetch_remote(url, resource, cap).await,
        }
    }

    /// The cached response, unless it is over `cap` (the cap may have been
    /// lowered since, or the cache directory tampered with).
    async fn cached(&self, url: &Url, cap: u64) -> Option<crate::cache::CachedResponse> {
        let cache = self.cache.clone()?;
        let key = url.to_string();
        blocking(move || Ok(cache.get_within(&key, cap)))
            .await
            .ok()
            .flatten()
    }

    async fn store(&self, url: &Url, etag: &str, body: &[u8]) {
        let Some(cache) = self.cache.clone() else { return };
        let (key, etag, body) = (url.to_string(), etag.to_owned(), body.to_vec());
        let stored = blocking(move || {
            cache
                .put(&key, &etag, &body)
                .map_err(|e| FetchError::Io(e.to_string()))
        });
        if let Err(e) = stored.await {
            self.note(format!("HTTP cache: {e}"));
        }
    }

    fn token_for(&self, url: &Url) -> Option<&Token> {
        // Never in clear text: a registry URL spelled `http://api.github.com`
        // must not put the token on the wire. Loopback is the test servers'.
        if !is_confidential(url) {
            return None;
        }
        let host = url.host_str()?;
        let listed = self
            .settings
            .token_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host));
        listed.then_some(self.settings.token.as_ref()).flatten()
    }

    async fn fetch_remote(&self, url: &Url, resource: Resource, cap: u64) -> Result<Vec<u8>, FetchError> {
        let cached = self.cached(url, cap).await;
        if self.settings.offline {
            return cached.map(|c| c.body).ok_or(FetchError::Offline);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (failure, retry_after) =
                match self.attempt(url, resource, cap, cached.as_ref(), attempt).await {
                    Attempt::Done(result) => return result,
                    Attempt::Retryable { failure, retry_after } => (failure, retry_after),
                };
            match self.settings.retry.next(attempt, retry_after, fastrand::f64()) {
                Next::RetryAfter(wait) => tokio::time::sleep(wait).await,
                Next::GiveUp => return Err(failure),
                Next::ServerWaitTooLong(wait) => {
                    return Err(match failure {
                        FetchError::Status { status, .. } => FetchError::ServerWaitTooLong {
                            status,
                            wait,
                            max: self.settings.retry.max_retry_after,
                        },
                        other => other,
                    });
                }
            }
        }
    }

    /// One request and its answer.
    async fn attempt(
        &self,
        url: &Url,
        resource: Resource,
        cap: u64,
        cached: Option<&crate::cache::CachedResponse>,
        attempt: u32,
    ) -> Attempt {
        let token = self.token_for(url);
        let mut request = self.client.get(url.clone()).timeout(self.settings.timeout);
        request = match resource {
            Resource::ReleaseMetadata => request
                .header(ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", GITHUB_API_VERSION),
            Resource::ReportAsset => request.header(ACCEPT, "application/octet-stream"),
        };
        if let Some(Token(secret)) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {secret}"));
        }
        if let Some(cached) = cached {
            request = request.header(IF_NONE_MATCH, cached.etag.as_str());
        }

        let response = match request.send().await {
            Ok(response) => response,
            Err(e) if e.is_timeout() => {
                return Attempt::Done(Err(FetchError::TimedOut {
                    after: self.settings.timeout,
                }));
            }
            Err(e) => {
                let failure = FetchError::Connection {
                    cause: transport_cause(&e),
                    attempts: attempt,
                };
                // Refused, reset, closed before answering: nothing reached
                // the resource, so asking again is safe and often works.
                // Anything else (a redirect loop, a bad URL) will not change.
                return if e.is_connect() || e.is_request() {
                    Attempt::Retryable {
                        failure,
                        retry_after: None,
                    }
                } else {
                    Attempt::Done(Err(failure))
                };
            }
        };

        let status = response.status();
        if status == StatusCode::NOT_MODIFIED
            && let Some(cached) = cached
        {
            return Attempt::Done(Ok(cached.body.clone()));
        }
        if status.is_success() {
            let etag = header_text(response.headers(), ETAG);
            let body = read_body(response, cap, resource, self.settings.timeout).await;
            if let (Ok(body), Some(etag)) = (&body, etag) {
                self.store(url, &etag, body).await;
            }
            return Attempt::Done(body);
        }
        if let Some(limited) = rate_limit(response.headers(), status, token.is_some()) {
            return Attempt::Done(Err(limited));
        }
        let failure = FetchError::Status {
            status: status.as_u16(),
            attempts: attempt,
        };
        if !(status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS) {
            // 404, 401, 403 without a rate limit: an answer, not a hiccup.
            return Attempt::Done(Err(failure));
        }
        let headers = response.headers();
        let retry_after = header_text(headers, RETRY_AFTER)
            .and_then(|value| parse_retry_after(&value, header_text(headers, "date").as_deref()));
        Attempt::Retryable { failure, retry_after }
    }
}

/// How one request ended.
enum Attempt {
    /// A body, or a failure that asking again would not change.
    Done(Result<Vec<u8>, FetchError>),
    /// A failure worth another try, after the server's `Retry-After` if it gave one.
    Retryable {
        failure: FetchError,
        retry_after: Option<Duration>,
    },
}

fn header_text(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// GitHub's primary rate limit: 403 or 429 with `X-RateLimit-Remaining: 0`.
fn rate_limit(headers: &HeaderMap, status: StatusCode, token_sent: bool) -> Option<FetchError> {
    let exhausted = matches!(status, StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS)
        && header_text(headers, "x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
    exhausted.then(|| FetchError::RateLimited {
        until: header_text(headers, "x-ratelimit-reset")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .and_then(Timestamp::from_unix_seconds),
        token_sent,
    })
}

async fn read_body(
    mut response: reqwest::Response,
    cap: u64,
    resource: Resource,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    if let Some(declared) = response.content_length()
        && declared > cap
    {
        return Err(FetchError::TooLarge {
            size: Some(declared),
            cap,
            resource,
        });
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > cap {
                    return Err(FetchError::TooLarge {
                        size: None,
                        cap,
                        resource,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(FetchError::TimedOut { after: timeout }),
            Err(e) => {
                return Err(FetchError::Transfer {
                    received: body.len() as u64,
                    cause: transport_cause(&e),
                });
            }
        }
    }
}

fn read_local(path: &Path, cap: u64, resource: Resource) -> Result<Vec<u8>, FetchError> {
    let io_error = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => FetchError::NotFound,
        _ => FetchError::Io(e.to_string()),
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let size = file.metadata().map_err(io_error)?.len();
    if size > cap {
        return Err(FetchError::TooLarge {
            size: Some(size),
            cap,
            resource,
        });
    }
    // Sized up front so the read is one syscall, not a series of probes;
    // the cap still holds if the file grows meanwhile.
    let mut body = Vec::with_capacity(size as usize + 1);
    file.take(cap.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(io_error)?;
    if body.len() as u64 > cap {
        return Err(FetchError::TooLarge {
            size: None,
            cap,
            resource,
        });
    }
    Ok(body)
}

/// Runs cache I/O off the async workers: a store fsyncs twice, which can
/// take long enough to stall every lane on that worker.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, FetchError> + Send + 'static,
) -> Result<T, FetchError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(FetchError::Io(format!("file I/O task failed: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_against_the_registry_directory() {
        let base = Path::new("/srv/specs");
        assert_eq!(
            Location::resolve("releases/rust.json", base),
            Ok(Location::Local(PathBuf::from("/srv/specs/releases/rust.json")))
        );
        assert_eq!(
            Location::resolve("/abs/rust.json", base),
            Ok(Location::Local(PathBuf::from("/abs/rust.json")))
        );
        assert_eq!(
            Location::resolve("file:///abs/rust.json", base),
            Ok(Location::Local(PathBuf::from("/abs/rust.json")))
        );
        assert!(matches!(
            Location::resolve("https://api.github.com/repos/o/r/releases/latest", base),
            Ok(Location::Remote(_))
        ));
    }

    #[test]
    fn plain_http_is_for_loopback_only() {
        let base = Path::new("/srv");
        assert!(matches!(
            Location::resolve("http://127.0.0.1:8080/releases/latest", base),
            Ok(Location::Remote(_))
        ));
        let refused = Location::resolve("http://api.github.com/repos/o/r/releases/latest", base).unwrap_err();
        assert_eq!(
            refused,
            LocationError::PlainHttpToRemote("api.github.com".to_owned())
        );
        assert_eq!(
            refused.to_string(),
            "plain http to a remote host (api.github.com); use https:// (plain http is accepted for loopback mirrors only)"
        );
    }

    #[test]
    fn upstream_root_template_and_other_schemes_are_refused() {
        let base = Path::new("/srv");
        assert_eq!(
            Location::resolve("file://__ROOT__/specs/x.json", base),
            Err(LocationError::NotALocalFile)
        );
        assert_eq!(
            Location::resolve("ftp://example.invalid/x.json", base),
            Err(LocationError::UnsupportedScheme("ftp".to_owned()))
        );
    }

    #[test]
    fn the_token_goes_to_listed_hosts_over_https_or_loopback_only() {
        let settings = FetchSettings {
            token: Token::new("ghp_secret"),
            token_hosts: vec!["api.github.com".to_owned(), "127.0.0.1".to_owned()],
            ..FetchSettings::default()
        };
        let fetcher = Fetcher::new(settings).unwrap();
        let sent = |url: &str| fetcher.token_for(&Url::parse(url).unwrap()).is_some();
        assert!(sent("https://api.github.com/repos/o/r/releases/latest"));
        assert!(sent("https://API.GITHUB.COM/repos/o/r/releases/latest"));
        assert!(sent("http://127.0.0.1:8080/releases/latest"));
        // Clear text to a remote host, even a listed one: never.
        assert!(!sent("http://api.github.com/repos/o/r/releases/latest"));
        // Hosts that are not listed: never.
        assert!(!sent("https://evil.example/repos/o/r/releases/latest"));
        assert!(!sent("https://api.github.com.evil.example/x"));
    }

    #[test]
    fn loopback_is_localhost_and_loopback_addresses_only() {
        let loopback = |url: &str| is_loopback(&Url::parse(url).unwrap());
        assert!(loopback("http://localhost:1/x"));
        assert!(loopback("http://127.0.0.1/x"));
        assert!(loopback("http://127.8.9.10/x"));
        assert!(loopback("http://[::1]/x"));
        assert!(!loopback("http://10.0.0.1/x"));
        assert!(!loopback("http://localhost.evil.example/x"));
        assert!(!loopback("http://api.github.com/x"));
    }

    #[test]
    fn a_token_is_never_debug_printed() {
        let token = Token::new("ghp_secret").unwrap();
        assert_eq!(format!("{token:?}"), "Token(***)");
        assert_eq!(Token::new("  "), None);
    }

    #[test]
    fn local_files_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        std::fs::write(&path, vec![b' '; 11]).unwrap();
        let report = Resource::ReportAsset;
        let error = read_local(&path, 10, report).unwrap_err();
        assert_eq!(
            error,
            FetchError::TooLarge {
                size: Some(11),
                cap: 10,
                resource: report
            }
        );
        assert_eq!(
            error.to_string(),
            "size 11 bytes exceeds the 10-byte cap (raise --max-report-bytes if the report really is that large)"
        );
        assert_eq!(read_local(&path, 11, report).unwrap().len(), 11);
        assert_eq!(
            read_local(&dir.path().join("nope"), 10, report),
            Err(FetchError::NotFound)
        );
    }
}
