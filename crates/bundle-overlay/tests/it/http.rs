//! Base packages over HTTP, from a real server on a loopback port that each
//! test starts and stops: success, redirects, a 404, an announced body over
//! the cap, and a checksum mismatch.

use crate::support;
use std::fs;

use crate::support::{Ops, Scenario, listing};
use dcx_bundle_overlay::{BuildError, FetchError, Limits};
use dcx_contracts::digest::sha256_bytes;
use dcx_testkit::{Canned, Server};

/// Serves `package` at `/pkg.tar.gz`, a redirect to it at `/moved`, and
/// 404 elsewhere.
fn serve(package: Vec<u8>) -> Server {
    let server = Server::start();
    server.route(
        "/pkg.tar.gz",
        vec![Canned::ok(package).header("content-type", "application/gzip")],
    );
    server.route("/moved", vec![Canned::redirect("/pkg.tar.gz")]);
    server.fallback(Canned::status(404).body("no such asset"));
    server
}

/// The example overlay, with its base served over HTTP at `path`.
fn scenario(path: &str) -> (Scenario, Server) {
    let scenario = Scenario::example();
    let server = serve(fs::read(&scenario.package).unwrap());
    let text = support::overlay_text(&server.url(path), &scenario.package_sha256, &Ops::example());
    scenario.set_overlay(&text);
    (scenario, server)
}

fn assert_nothing_written(scenario: &Scenario) {
    assert_eq!(listing(&scenario.path("out")), Vec::<String>::new());
}

#[test]
fn downloads_verify_and_build() {
    let (scenario, _server) = scenario("/pkg.tar.gz");
    let out = scenario.path("out/tree");
    let built = scenario.build(&out).unwrap();
    assert_eq!(built.base_package_sha256, scenario.package_sha256);
    assert!(out.join("resolved_files.sha256").is_file());
}

#[test]
fn redirects_are_followed() {
    let (scenario, _server) = scenario("/moved");
    scenario.build(&scenario.path("out/tree")).unwrap();
}

#[test]
fn http_errors_are_download_failures() {
    let (scenario, server) = scenario("/missing.tar.gz");
    fs::create_dir_all(scenario.path("out")).unwrap();
    let error = scenario.build(&scenario.path("out/tree")).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "base package: download failure from {}: HTTP 404 Not Found",
            server.url("/missing.tar.gz")
        )
    );
    assert!(!error.is_configuration());
    assert_nothing_written(&scenario);
}

#[test]
fn unreachable_servers_are_download_failures() {
    let (scenario, server) = scenario("/pkg.tar.gz");
    let url = server.url("/pkg.tar.gz");
    drop(server);
    fs::create_dir_all(scenario.path("out")).unwrap();
    let error = scenario.build(&scenario.path("out/tree")).unwrap_err();
    assert!(
        matches!(&error, BuildError::Fetch(FetchError::Download { location, .. }) if *location == url),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("base package: download failure from {url}: "))
    );
    assert_nothing_written(&scenario);
}

#[test]
fn bodies_over_the_cap_are_refused() {
    let (scenario, server) = scenario("/pkg.tar.gz");
    fs::create_dir_all(scenario.path("out")).unwrap();
    let size = fs::metadata(&scenario.package).unwrap().len();
    let limits = Limits {
        max_package_bytes: 100,
        ..Limits::default()
    };
    let error = scenario
        .build_with(&scenario.path("out/tree"), limits)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "base package: download from {} is over the size cap of 100 bytes (the server announced {size} bytes); nothing was unpacked (raise --max-package-bytes if the package really is that large)",
            server.url("/pkg.tar.gz")
        )
    );
    assert_nothing_written(&scenario);
}

#[test]
fn downloaded_checksum_mismatch_is_refused() {
    let (scenario, server) = scenario("/pkg.tar.gz");
    let wrong = sha256_bytes(b"pinned elsewhere");
    scenario.set_overlay(&support::overlay_text(
        &server.url("/pkg.tar.gz"),
        &wrong,
        &Ops::example(),
    ));
    fs::create_dir_all(scenario.path("out")).unwrap();
    let error = scenario.build(&scenario.path("out/tree")).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "base package: checksum mismatch for {}: expected {wrong}, got {}; nothing was unpacked (fix the pinned sha256 or the asset_url)",
            server.url("/pkg.tar.gz"),
            scenario.package_sha256
        )
    );
    assert_nothing_written(&scenario);
}
