//! How ingest talks HTTP: GitHub's headers, where the token goes, the ETag
//! cache and offline mode, the concurrency bound, registry order, and the
//! refusals (local assets from remote metadata, servers asking for long
//! pauses). All over a loopback server.

use std::time::Duration;

use crate::support::*;
use dcx_status_ingest::Token;

const NOW: &str = "2026-02-20T12:00:00Z";

/// Serves a healthy lane `id` at `/<id>/release` and `/<id>/report`.
fn serve_lane(server: &Server, id: &str, class: &str, etag: Option<&str>) -> String {
    let body = report(id, class, "pass", "2026-02-20T00:00:00Z", "2026-02-23T00:00:00Z");
    let release_body = release(
        "v1.0.0",
        REPORT_ASSET,
        &server.url(&format!("/{id}/report")),
        Some(body.as_bytes()),
    );
    let mut metadata = Canned::ok(release_body);
    let mut report = Canned::ok(body);
    if let Some(etag) = etag {
        metadata = metadata.header("ETag", etag);
        report = report.header("ETag", etag);
    }
    server.route(&format!("/{id}/release"), vec![metadata]);
    server.route(&format!("/{id}/report"), vec![report]);
    server.url(&format!("/{id}/release"))
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn github_headers_and_token_only_for_listed_hosts() {
    let server = Server::start();
    let url = serve_lane(&server, "rust", "required", None);
    let fixture = Fixture::new(&[Lane::required("rust", url)]);

    // Default token hosts are GitHub's: loopback never sees the token.
    let mut settings = fixture.settings(NOW);
    settings.fetch.token = Token::new("ghp_test_token");
    fixture.run(&settings);
    let metadata = &server.seen("/rust/release")[0];
    assert_eq!(header(metadata, "accept"), Some("application/vnd.github+json"));
    assert_eq!(header(metadata, "x-github-api-version"), Some("2022-11-28"));
    assert!(
        header(metadata, "user-agent").is_some_and(|ua| ua.starts_with("dcx-status-ingest/")),
        "{:?}",
        metadata.headers
    );
    assert_eq!(header(metadata, "authorization"), None);
    let asset = &server.seen("/rust/report")[0];
    assert_eq!(header(asset, "accept"), Some("application/octet-stream"));
    assert_eq!(header(asset, "authorization"), None);

    // A host listed explicitly (GitHub Enterprise) gets it.
    settings.fetch.token_hosts.push("127.0.0.1".to_owned());
    fixture.run(&settings);
    let metadata = server.seen("/rust/release").pop().unwrap();
    assert_eq!(header(&metadata, "authorization"), Some("Bearer ghp_test_token"));
}

#[test]
fn etag_cache_revalidates_and_serves_offline() {
    let server = Server::start();
    let url = serve_lane(&server, "rust", "required", Some("\"v1\""));
    let fixture = Fixture::new(&[Lane::required("rust", url)]);
    let settings = fixture.settings(NOW);
    let first = fixture.run(&settings);

    // The second ingest asks If-None-Match and the server says 304.
    server.route(
        "/rust/release",
        vec![Canned::status(304).header("ETag", "\"v1\"")],
    );
    server.route("/rust/report", vec![Canned::status(304).header("ETag", "\"v1\"")]);
    let second = fixture.run(&settings);
    let revalidation = server.seen("/rust/release").pop().unwrap();
    assert_eq!(header(&revalidation, "if-none-match"), Some("\"v1\""));
    assert_eq!(second.matrix, first.matrix);

    // Offline: the cache answers, the server hears nothing.
    let before = server.seen("/rust/release").len() + server.seen("/rust/report").len();
    let mut offline = settings.clone();
    offline.fetch.offline = true;
    let third = fixture.run(&offline);
    assert_eq!(third.matrix, first.matrix);
    assert_eq!(
        server.seen("/rust/release").len() + server.seen("/rust/report").len(),
        before
    );
}

#[test]
fn offline_without_a_cached_copy_is_missing() {
    let server = Server::start();
    let url = serve_lane(&server, "rust", "required", None);
    let fixture = Fixture::new(&[Lane::required("rust", url.clone())]);
    let mut settings = fixture.settings(NOW);
    settings.fetch.offline = true;
    let ran = fixture.run(&settings);
    assert_eq!(
        ran.lane("rust").summary(),
        (
            "missing".into(),
            "blocking_fail".into(),
            Some("missing_release_metadata".into()),
            Some(format!(
                "cannot fetch release metadata {url}: offline, and no cached copy"
            ))
        )
    );
    assert!(server.seen("/rust/release").is_empty());
}

#[test]
fn fetches_are_bounded_and_rows_keep_registry_order() {
    let server = Server::start();
    let mut lanes = Vec::new();
    for i in 0..12 {
        let id = format!("lane-{i:02}");
        let url = serve_lane(&server, &id, "compatibility_non_blocking", None);
        // Later lanes answer faster, so completion order is not registry order.
        let path = format!("/{id}/release");
        let delay = Duration::from_millis(300 - 20 * i);
        let metadata = release(
            "v1.0.0",
            REPORT_ASSET,
            &server.url(&format!("/{id}/report")),
            None,
        );
        server.route(&path, vec![Canned::ok(metadata).delay(delay)]);
        lanes.push(Lane::compatibility(&id, url));
    }
    let fixture = Fixture::new(&lanes);
    let mut settings = fixture.settings(NOW);
    settings.concurrency = 3;
    settings.fetch.timeout = Duration::from_secs(5);
    let ran = fixture.run(&settings);
    let expected: Vec<String> = (0..12).map(|i| format!("lane-{i:02}")).collect();
    assert_eq!(ran.row_ids(), expected);
    assert!(ran.outcome.breaches().is_empty(), "{:?}", ran.outcome.log);
    let max = server.max_in_flight();
    assert!(max <= 3, "{max} requests in flight with --concurrency 3");
    assert!(max >= 2, "lanes were fetched one at a time");
}

#[test]
fn remote_metadata_cannot_point_at_local_files() {
    let server = Server::start();
    let secret = tempfile::NamedTempFile::new().unwrap();
    let local = format!("file://{}", secret.path().display());
    server.route(
        "/rust/release",
        vec![Canned::ok(release("v1.0.0", REPORT_ASSET, &local, None))],
    );
    let url = server.url("/rust/release");
    let fixture = Fixture::new(&[Lane::required("rust", url.clone())]);
    let ran = fixture.run(&fixture.settings(NOW));
    assert_eq!(
        ran.lane("rust").entry.error,
        Some(format!(
            "report asset {local} is a local file, but the release metadata came from {url}; \
             metadata fetched over HTTP may only name http(s) assets"
        ))
    );
}

#[test]
fn a_server_asking_for_a_long_pause_is_given_up_on() {
    let server = Server::start();
    server.route(
        "/rust/release",
        vec![Canned::status(503).header("Retry-After", "3600")],
    );
    let url = server.url("/rust/release");
    let fixture = Fixture::new(&[Lane::required("rust", url.clone())]);
    let ran = fixture.run(&fixture.settings(NOW));
    assert_eq!(
        ran.lane("rust").entry.error,
        Some(format!(
            "cannot fetch release metadata {url}: HTTP 503 Service Unavailable with Retry-After 3600s, longer than the 2s ingest waits"
        ))
    );
    assert_eq!(server.seen("/rust/release").len(), 1);
}

#[test]
fn redirects_from_loopback_to_plain_http_on_a_remote_host_are_refused() {
    // A mirror (or a man in the middle) answering with a redirect to clear
    // text: without the redirect policy reqwest would follow it (and fail
    // on DNS here, with another message).
    let server = Server::start();
    server.route(
        "/rust/release",
        vec![Canned::status(302).header("Location", "http://mirror.invalid/rust/release")],
    );
    let url = server.url("/rust/release");
    let fixture = Fixture::new(&[Lane::required("rust", url.clone())]);
    let ran = fixture.run(&fixture.settings(NOW));
    let (status, _, class, message) = ran.lane("rust").summary();
    assert_eq!(status, "missing");
    assert_eq!(class.as_deref(), Some("missing_release_metadata"));
    let message = message.unwrap();
    assert!(
        message.contains("refusing to follow a redirect to http://mirror.invalid/rust/release"),
        "{message}"
    );
}
