//! The "bad input → expected result" table, one test per situation,
//! over a real loopback HTTP server. Each test ingests a broken `rust` lane
//! beside a healthy `python` lane and checks the broken lane's exact error
//! class and message, that `python` is unaffected, and (in `Fixture::run`)
//! that all three artifacts are written and valid.
//!
//! The registry rows of the table (missing, not YAML, wrong version,
//! duplicate ids: exit 2) are in `tests/e2e/status.rs`, which checks
//! the exit code, and in `config_errors_still_write_all_three_artifacts`
//! below.

use std::time::Duration;

use crate::support::*;
use dcx_status_ingest::IngestSettings;

const NOW: &str = "2026-02-20T12:00:00Z";
const GENERATED: &str = "2026-02-20T00:00:00Z";
const FRESH_UNTIL: &str = "2026-02-23T00:00:00Z";

fn rust_report() -> String {
    report("rust", "required", "pass", GENERATED, FRESH_UNTIL)
}

/// A healthy compatibility lane served from `server`.
fn healthy_python(server: &Server) -> Lane {
    let body = report(
        "python",
        "compatibility_non_blocking",
        "pass",
        GENERATED,
        FRESH_UNTIL,
    );
    server.route(
        "/python/release",
        vec![Canned::ok(release(
            "v1.0.0",
            REPORT_ASSET,
            &server.url("/python/report"),
            Some(body.as_bytes()),
        ))],
    );
    server.route("/python/report", vec![Canned::ok(body)]);
    Lane::compatibility("python", server.url("/python/release"))
}

/// Serves rust's release metadata pointing at `report_url`, with the
/// digest of `digest_of` when given.
fn rust_release(server: &Server, report_url: &str, digest_of: Option<&[u8]>) {
    server.route(
        "/rust/release",
        vec![Canned::ok(release("v1.0.0", REPORT_ASSET, report_url, digest_of))],
    );
}

/// Serves a rust report with a matching digest.
fn rust_serves(server: &Server, body: &str) {
    rust_release(server, &server.url("/rust/report"), Some(body.as_bytes()));
    server.route("/rust/report", vec![Canned::ok(body.to_owned())]);
}

/// Ingests `rust` (metadata at `rust_url`) beside a healthy python lane.
fn ingest(server: &Server, rust_url: &str) -> Ran {
    ingest_with(server, rust_url, |_| {})
}

/// [`ingest`] with adjusted settings.
fn ingest_with(server: &Server, rust_url: &str, adjust: impl FnOnce(&mut IngestSettings)) -> Ran {
    let lanes = [Lane::required("rust", rust_url), healthy_python(server)];
    let fixture = Fixture::new(&lanes);
    let mut settings = fixture.settings(NOW);
    adjust(&mut settings);
    let ran = fixture.run(&settings);
    assert_eq!(ran.row_ids(), ["rust", "python"]);
    let python = ran.lane("python").summary();
    assert_eq!(
        python,
        ("fresh".into(), "non_blocking_warn".into(), None, None),
        "python must be unaffected by rust's failure"
    );
    ran
}

fn assert_missing(ran: &Ran, class: &str, message: &str) {
    let rust = ran.lane("rust");
    assert_eq!(
        rust.summary(),
        (
            "missing".into(),
            "blocking_fail".into(),
            Some(class.into()),
            Some(message.into())
        )
    );
    assert_eq!(serde_json::to_value(rust.row.runner_status).unwrap(), "unknown");
    assert!(rust.row.status_report.is_none());
    // The breach is what --enforce-freshness fails on.
    let breaches: Vec<String> = ran.outcome.breaches().iter().map(ToString::to_string).collect();
    assert_eq!(
        breaches,
        ["required lane `rust` blocks merges: runner_status is unknown and its telemetry is missing"]
    );
}

#[test]
fn release_metadata_404() {
    let server = Server::start();
    server.route(
        "/rust/release",
        vec![Canned::status(404).body("{\"message\":\"Not Found\"}")],
    );
    let url = server.url("/rust/release");
    let ran = ingest(&server, &url);
    assert_missing(
        &ran,
        "missing_release_metadata",
        &format!("cannot fetch release metadata {url}: HTTP 404 Not Found"),
    );
    // A 404 is an answer, not a transient failure: asked once.
    assert_eq!(server.seen("/rust/release").len(), 1);
}

#[test]
fn release_metadata_5xx_after_retries() {
    let server = Server::start();
    server.route("/rust/release", vec![Canned::status(503)]);
    let url = server.url("/rust/release");
    let ran = ingest(&server, &url);
    assert_missing(
        &ran,
        "missing_release_metadata",
        &format!("cannot fetch release metadata {url}: HTTP 503 Service Unavailable (after 3 attempts)"),
    );
    assert_eq!(server.seen("/rust/release").len(), 3);
}

#[test]
fn release_metadata_5xx_then_recovered() {
    let server = Server::start();
    let body = rust_report();
    server.route(
        "/rust/release",
        vec![
            Canned::status(502),
            Canned::status(429).header("Retry-After", "0"),
            Canned::ok(release(
                "v1.0.0",
                REPORT_ASSET,
                &server.url("/rust/report"),
                Some(body.as_bytes()),
            )),
        ],
    );
    server.route("/rust/report", vec![Canned::ok(body)]);
    let ran = ingest(&server, &server.url("/rust/release"));
    assert_eq!(
        ran.lane("rust").summary(),
        ("fresh".into(), "non_blocking_warn".into(), None, None)
    );
    assert_eq!(server.seen("/rust/release").len(), 3);
}

#[test]
fn release_metadata_timeout() {
    let server = Server::start();
    server.route(
        "/rust/release",
        vec![Canned::ok("{}").delay(Duration::from_secs(5))],
    );
    let url = server.url("/rust/release");
    // Long enough for python's requests on a busy machine, far shorter than
    // rust's 5 s.
    let ran = ingest_with(&server, &url, |settings| {
        settings.fetch.timeout = Duration::from_millis(1500);
    });
    assert_missing(
        &ran,
        "missing_release_metadata",
        &format!("cannot fetch release metadata {url}: timed out after 1500 ms"),
    );
}

#[test]
fn release_metadata_connection_reset() {
    let raw = RawServer::start(Misbehave::Reset);
    let server = Server::start();
    let url = raw.url("/rust/release");
    let ran = ingest(&server, &url);
    let rust = ran.lane("rust");
    let (_, _, class, message) = rust.summary();
    assert_eq!(class.as_deref(), Some("missing_release_metadata"));
    assert_missing(&ran, "missing_release_metadata", message.as_deref().unwrap());
    // The cause is the transport's, after the retries.
    let message = message.unwrap();
    let prefix = format!("cannot fetch release metadata {url}: ");
    let cause = message
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{message}"));
    assert!(
        cause.ends_with(" (after 3 attempts)") && cause.to_lowercase().contains("connection"),
        "{cause}"
    );
}

#[test]
fn release_metadata_connection_refused() {
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server::start();
    let url = format!("http://127.0.0.1:{port}/rust/release");
    let ran = ingest(&server, &url);
    assert_missing(
        &ran,
        "missing_release_metadata",
        &format!(
            "cannot fetch release metadata {url}: tcp connect error: Connection refused (os error 111) (after 3 attempts)"
        ),
    );
}

#[test]
fn release_metadata_not_json() {
    let server = Server::start();
    server.route("/rust/release", vec![Canned::ok("<html>rate limit page</html>")]);
    let url = server.url("/rust/release");
    let ran = ingest(&server, &url);
    assert_missing(
        &ran,
        "missing_release_metadata",
        &format!("invalid release metadata: {url}:1:1: invalid JSON: expected value"),
    );
}

#[test]
fn no_such_asset() {
    let server = Server::start();
    server.route(
        "/rust/release",
        vec![Canned::ok(release(
            "v1.0.0",
            "runner-certification-rust.json",
            &server.url("/rust/cert"),
            None,
        ))],
    );
    let url = server.url("/rust/release");
    let ran = ingest(&server, &url);
    assert_missing(
        &ran,
        "missing_status_asset",
        &format!(
            "missing report asset 'runner-status-report-v1.json' in release v1.0.0 of {url} (assets: runner-certification-rust.json)"
        ),
    );
    let source = ran.lane("rust").row.status_source.unwrap();
    assert_eq!(source.release_version.as_deref(), Some("v1.0.0"));
    assert_eq!(source.report_url, None);
}

#[test]
fn digest_mismatch() {
    let server = Server::start();
    let body = rust_report();
    rust_release(
        &server,
        &server.url("/rust/report"),
        Some(b"the bytes that were published"),
    );
    server.route("/rust/report", vec![Canned::ok(body.clone())]);
    let ran = ingest(&server, &server.url("/rust/release"));
    let report_url = server.url("/rust/report");
    assert_missing(
        &ran,
        "checksum_mismatch",
        &format!(
            "checksum mismatch for report asset {report_url}: the release publishes sha256 {}, the downloaded {} bytes hash to {}",
            dcx_contracts::digest::sha256_bytes(b"the bytes that were published"),
            body.len(),
            dcx_contracts::digest::sha256_bytes(body.as_bytes()),
        ),
    );
    assert_eq!(
        ran.lane("rust").row.status_source.unwrap().report_url,
        Some(report_url)
    );
}

#[test]
fn report_body_over_the_size_cap() {
    let server = Server::start();
    let huge = format!("{{\"padding\":\"{}\"}}", " ".repeat(1024 * 1024));
    rust_release(&server, &server.url("/rust/report"), None);
    server.route("/rust/report", vec![Canned::ok(huge.clone())]);
    let ran = ingest(&server, &server.url("/rust/release"));
    assert_missing(
        &ran,
        "missing_status_asset",
        &format!(
            "cannot download report asset {}: size {} bytes exceeds the 1048576-byte cap (raise --max-report-bytes if the report really is that large)",
            server.url("/rust/report"),
            huge.len()
        ),
    );
}

#[test]
fn report_body_under_a_raised_cap_is_read() {
    // The same oversized body with --max-report-bytes raised: the cap no
    // longer stops it, so the lane fails on what the body is instead.
    let server = Server::start();
    let huge = format!("{{\"padding\":\"{}\"}}", " ".repeat(1024 * 1024));
    rust_release(&server, &server.url("/rust/report"), None);
    server.route("/rust/report", vec![Canned::ok(huge.clone())]);
    let ran = ingest_with(&server, &server.url("/rust/release"), |settings| {
        settings.fetch.report_cap = huge.len() as u64;
    });
    let (_, _, class, message) = ran.lane("rust").summary();
    assert_ne!(class.as_deref(), Some("missing_status_asset"), "{message:?}");
    assert!(!message.unwrap_or_default().contains("cap"));
}

#[test]
fn release_metadata_over_the_size_cap() {
    // Rust's metadata is padded past 1000 bytes; python's stays under.
    let server = Server::start();
    let body = rust_report();
    let metadata = format!(
        "{}{}",
        release(
            "v1.0.0",
            REPORT_ASSET,
            &server.url("/rust/report"),
            Some(body.as_bytes())
        ),
        " ".repeat(1000)
    );
    server.route("/rust/release", vec![Canned::ok(metadata.clone())]);
    server.route("/rust/report", vec![Canned::ok(body.clone())]);
    let url = server.url("/rust/release");
    let ran = ingest_with(&server, &url, |settings| {
        settings.fetch.metadata_cap = 1000;
        settings.fetch.cache_dir = None;
    });
    assert_missing(
        &ran,
        "missing_release_metadata",
        &format!(
            "cannot fetch release metadata {url}: size {} bytes exceeds the 1000-byte cap (raise --max-metadata-bytes if the release metadata really is that large)",
            metadata.len()
        ),
    );
    // Raised to its size, the same metadata is read and the lane is fresh.
    let ran = ingest_with(&server, &url, |settings| {
        settings.fetch.metadata_cap = metadata.len() as u64;
        settings.fetch.cache_dir = None;
    });
    assert_eq!(ran.lane("rust").summary().0, "fresh");
}

#[test]
fn report_body_truncated() {
    let raw = RawServer::start(Misbehave::Truncate {
        declared: 1000,
        sent: 100,
    });
    let server = Server::start();
    let report_url = raw.url("/rust/report");
    rust_release(&server, &report_url, None);
    let ran = ingest(&server, &server.url("/rust/release"));
    let (_, _, _, message) = ran.lane("rust").summary();
    let message = message.unwrap();
    assert_missing(&ran, "missing_status_asset", &message);
    let prefix = format!("cannot download report asset {report_url}: transfer error after 100 bytes: ");
    assert!(message.starts_with(&prefix), "{message}");
}

#[test]
fn report_not_json() {
    let server = Server::start();
    rust_serves(&server, "not json at all\n");
    let ran = ingest(&server, &server.url("/rust/release"));
    assert_missing(
        &ran,
        "invalid_status_report",
        &format!(
            "invalid status report: {}:1:2: invalid JSON: expected ident",
            server.url("/rust/report")
        ),
    );
}

#[test]
fn report_schema_invalid_names_the_pointer() {
    let server = Server::start();
    rust_serves(
        &server,
        &rust_report().replace("\"lane_class\": \"required\"", "\"lane_class\": \"blocking\""),
    );
    let ran = ingest(&server, &server.url("/rust/release"));
    assert_missing(
        &ran,
        "invalid_status_report",
        &format!(
            "invalid status report: {}:15:26: /lane_class: unknown value `blocking`, expected `required` or `compatibility_non_blocking`",
            server.url("/rust/report")
        ),
    );
}

#[test]
fn report_version_differs_from_the_catalog_pin() {
    let server = Server::start();
    rust_serves(
        &server,
        &rust_report().replace("\"version\": 1", "\"version\": 2"),
    );
    let ran = ingest(&server, &server.url("/rust/release"));
    assert_missing(
        &ran,
        "unsupported_report_version",
        &format!(
            "{}: /version: report version 2 does not match the schema catalog's pin 1 for runner_status_report_v1",
            server.url("/rust/report")
        ),
    );
}

#[test]
fn report_identity_mismatch() {
    let server = Server::start();
    // python's report published in rust's release.
    rust_serves(
        &server,
        &report(
            "python",
            "compatibility_non_blocking",
            "pass",
            GENERATED,
            FRESH_UNTIL,
        ),
    );
    let ran = ingest(&server, &server.url("/rust/release"));
    assert_missing(
        &ran,
        "registry_mismatch",
        &format!(
            "{}: /runner_id: the report is for \"python\", but the registry lane is \"rust\"; \
             /lane_class: the report says compatibility_non_blocking, but the registry says required",
            server.url("/rust/report")
        ),
    );
}

#[test]
fn stale_report() {
    let server = Server::start();
    rust_serves(
        &server,
        &report(
            "rust",
            "required",
            "pass",
            "2026-02-16T00:00:00Z",
            "2026-03-01T00:00:00Z",
        ),
    );
    let ran = ingest(&server, &server.url("/rust/release"));
    let rust = ran.lane("rust");
    assert_eq!(
        rust.summary(),
        (
            "stale".into(),
            "blocking_fail".into(),
            Some("stale_report".into()),
            Some("report generated 2026-02-16T00:00:00Z is 108 h old: beyond the lane's 72 h SLO".into())
        )
    );
    let age = rust.row.status_report.unwrap();
    assert_eq!((age.age_seconds, age.age_hours), (108 * 3600, 108));
    // A stale report still says what the runner thought.
    assert_eq!(serde_json::to_value(rust.row.runner_status).unwrap(), "pass");
}

#[test]
fn future_generated_at_is_invalid() {
    let server = Server::start();
    rust_serves(
        &server,
        &report(
            "rust",
            "required",
            "pass",
            "2026-02-20T12:05:01Z",
            "2026-02-23T00:00:00Z",
        ),
    );
    let ran = ingest(&server, &server.url("/rust/release"));
    assert_missing(
        &ran,
        "future_generated_at",
        &format!(
            "{}: /generated_at: 2026-02-20T12:05:01Z is 5 min 1 s ahead of now (2026-02-20T12:00:00Z); \
             a report more than 5 min in the future is invalid, check the producer's clock",
            server.url("/rust/report")
        ),
    );
}

#[test]
fn past_fresh_until_is_stale() {
    let server = Server::start();
    rust_serves(
        &server,
        &report("rust", "required", "pass", GENERATED, "2026-02-20T06:00:00Z"),
    );
    let ran = ingest(&server, &server.url("/rust/release"));
    assert_eq!(
        ran.lane("rust").summary(),
        (
            "stale".into(),
            "blocking_fail".into(),
            Some("stale_report".into()),
            Some(
                "report generated 2026-02-20T00:00:00Z is 12 h old: past its fresh_until 2026-02-20T06:00:00Z"
                    .into()
            )
        )
    );
}

#[test]
fn planned_and_disabled_lanes_are_not_fetched_and_never_a_breach() {
    let server = Server::start();
    let lanes = [
        Lane::compatibility("node", server.url("/node/release")).with_status("planned"),
        Lane::required("c", server.url("/c/release")).with_status("disabled"),
        healthy_python(&server),
    ];
    let fixture = Fixture::new(&lanes);
    let ran = fixture.run(&fixture.settings(NOW));
    for (id, status) in [("node", "planned"), ("c", "disabled")] {
        assert_eq!(
            ran.lane(id).summary(),
            (
                "missing".into(),
                "non_blocking_warn".into(),
                Some("lane_not_active".into()),
                Some(format!(
                    "lane is {status} in the registry; its status exchange is not fetched"
                ))
            )
        );
    }
    assert!(server.seen("/node/release").is_empty());
    assert!(server.seen("/c/release").is_empty());
    assert!(ran.outcome.breaches().is_empty());
    assert_eq!(ran.outcome.log.compatibility_stale_or_missing_count, 0);
}

#[test]
fn rate_limited_is_its_own_error() {
    let server = Server::start();
    server.route(
        "/rust/release",
        vec![
            Canned::status(403)
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset", "1771592400")
                .body("{\"message\":\"API rate limit exceeded\"}"),
        ],
    );
    let url = server.url("/rust/release");
    let ran = ingest(&server, &url);
    assert_missing(
        &ran,
        "rate_limited",
        &format!(
            "cannot fetch release metadata {url}: rate limited until 2026-02-20T13:00:00Z; set GITHUB_TOKEN"
        ),
    );
    // Not retried: the reset is an hour away.
    assert_eq!(server.seen("/rust/release").len(), 1);
}

#[test]
fn config_errors_still_write_all_three_artifacts() {
    for (name, registry, expected) in [
        (
            "missing",
            None,
            "cannot read {registry}: No such file or directory (os error 2)",
        ),
        (
            "not YAML",
            Some("version: 2\nrunners: [\n"),
            "{registry}:3:1: invalid YAML: did not find expected node content",
        ),
        (
            "wrong version",
            Some("version: 1\nrunners: []\n"),
            "{registry}: unsupported runner certification registry version 1; this build reads 2",
        ),
    ] {
        let fixture = Fixture::new(&[]);
        let path = fixture.path("registry.yaml");
        match registry {
            Some(text) => fixture.write("registry.yaml", text),
            None => std::fs::remove_file(&path).unwrap(),
        }
        let ran = fixture.run(&fixture.settings(NOW));
        let expected = expected.replace("{registry}", &path.display().to_string());
        assert_eq!(
            ran.outcome.config_error.as_ref().map(ToString::to_string),
            Some(expected.clone()),
            "{name}"
        );
        assert!(ran.outcome.matrix.matrix_rows.is_empty(), "{name}");
        assert_eq!(ran.outcome.log.config_error, Some(expected.clone()), "{name}");
        assert!(ran.markdown.contains(&expected), "{name}: {}", ran.markdown);
    }
}

#[test]
fn duplicate_lane_ids_are_a_config_error() {
    let lane = Lane::required("rust", "releases/rust.json");
    let fixture = Fixture::new(&[lane.clone(), lane]);
    let ran = fixture.run(&fixture.settings(NOW));
    let registry = fixture.path("registry.yaml").display().to_string();
    assert_eq!(
        ran.outcome.log.config_error.as_deref(),
        Some(
            format!(
                "{registry}: invalid runner certification registry: /runners/1/runner_id: duplicate runner_id \"rust\" (first at /runners/0)"
            )
            .as_str()
        )
    );
}
