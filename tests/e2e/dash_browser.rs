//! The Dash page in a real browser: Debian's headless Chromium, driven over
//! WebDriver (chromedriver + fantoccini). `dcx dash render` writes the page
//! for the upstream example fleet plus one product per bad input (see
//! `support::bad_fleet`); the assertions read the browser's DOM: cards,
//! badges, text that must stay text, and that the page loaded nothing. A
//! screenshot is taken. `dcx dash serve` is then loaded over HTTP and an
//! evidence link followed.
//!
//! This test never skips: without Chromium it fails and says how to
//! install it (`.ci/run` does). Set `DCX_WRITE_DOCS_SCREENSHOT=1` to also
//! refresh the guide's screenshots under `docs/images/`.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    NOW, SCRIPT_NAME, SCRIPT_REASON, SCRIPT_SUMMARY, bad_fleet, dcx, example_fleet, repo_root, stderr,
};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Flags that work on this machine: no sandbox as root, no GPU, and no
/// background traffic to hosts the closed network refuses.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1400,2200",
];

/// Everything the browser does must finish within this, or the test fails
/// instead of hanging.
const BROWSER_BUDGET: Duration = Duration::from_secs(120);

/// A child process killed with its whole process group when dropped, so a
/// failing test leaves no chromedriver or Chromium behind.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

fn require_browser() {
    for binary in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(binary).exists(),
            "{binary} is missing: the Dash browser test needs Debian's Chromium and ChromeDriver. \
             Install them with `apt-get install -y chromium chromium-driver` (.ci/run does)."
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap()
}

/// Starts chromedriver and opens a Chromium session with a fresh profile.
async fn browser(profile: &Path) -> (Group, Client) {
    require_browser();
    let port = free_port();
    let driver = {
        use std::os::unix::process::CommandExt;
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("cannot start chromedriver")
    };
    let driver = Group(driver);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": CHROMIUM, "args": args }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("cannot open a Chromium session through chromedriver");
    (driver, client)
}

/// Everything the test asserts about the page, read from the live DOM.
const READ_PAGE: &str = r#"
const text = (root, selector) => root.querySelector(selector)?.textContent ?? null;
return {
  title: document.title,
  scripts: document.querySelectorAll('script').length,
  images: document.querySelectorAll('img').length,
  resources: performance.getEntriesByType('resource').map(r => r.name),
  fleet: [...document.querySelectorAll('#fleet-findings .badge')].map(b => [b.className, b.textContent]),
  cards: [...document.querySelectorAll('article.card')].map(card => ({
    id: card.dataset.productId,
    name: text(card, '[data-field=product-name]'),
    status: text(card, '[data-field=product-status]'),
    badges: [...card.querySelectorAll('.badge')].map(b => [b.className, b.textContent]),
    visible_badges: [...card.querySelectorAll('.badge')].every(b => b.getBoundingClientRect().height > 0),
    run_id: text(card, '[data-field=run-id]'),
    run_status: text(card, '[data-field=run-status]'),
    summary: text(card, '[data-field=summary]'),
    evidence: [...card.querySelectorAll('[data-field=evidence] li')].map(li => li.textContent),
    meters: [...card.querySelectorAll('meter')].map(m => [m.value, m.max]),
    kill_switch: text(card, '[data-field=kill-switch-state]'),
    kill_switch_reason: text(card, '[data-field=kill-switch-reason]'),
    pr_wave: text(card, '[data-field=pr-wave-state]'),
    open_prs: text(card, '[data-field=open-prs]'),
    history: [...card.querySelectorAll('[data-field=history] li')].map(li => li.dataset.runId),
  })),
};
"#;

async fn read_page(client: &Client) -> Value {
    client.execute(READ_PAGE, Vec::new()).await.unwrap()
}

fn card<'a>(page: &'a Value, id: &str) -> &'a Value {
    page["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|card| card["id"] == id)
        .unwrap_or_else(|| panic!("no card for {id}"))
}

fn badges(page: &Value, id: &str) -> Vec<(String, String)> {
    card(page, id)["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b[0].as_str().unwrap().to_owned(),
                b[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn error(text: &str) -> (String, String) {
    ("badge badge-error".to_owned(), text.to_owned())
}

fn warning(text: &str) -> (String, String) {
    ("badge badge-warning".to_owned(), text.to_owned())
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

fn assert_png(bytes: &[u8]) {
    assert!(
        bytes.len() > 10_000,
        "screenshot too small: {} bytes",
        bytes.len()
    );
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rendered_page_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let dash = bad_fleet(dir.path());
    let out = dcx(dir.path(), &["dash", "render", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (_driver, client) = browser(&dir.path().join("profile")).await;

    let page = tokio::time::timeout(BROWSER_BUDGET, async {
        client.goto(&file_url(&dash.join("index.html"))).await.unwrap();
        read_page(&client).await
    })
    .await
    .expect("the browser did not answer in time");

    // No script ran (the title would say "pwned"), none exists, and the page
    // requested nothing at all.
    assert_eq!(page["title"], "Dash · 11 products");
    assert_eq!(page["scripts"], 0);
    assert_eq!(page["images"], 0, "the <img onerror> in a reason stays text");
    assert_eq!(page["resources"], json!([]));
    assert_eq!(page["fleet"], json!([]));

    let ids: Vec<&str> = page["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "codemonkeys-dash",
            "codemonkeys-cli",
            "spec-kit",
            "banana-economy",
            "silverback-agent",
            "missing-report",
            "not-json",
            "no-banana-economy",
            "future-version",
            "evidence-escape",
            "script-injection",
        ]
    );

    // Each bad input is a badge on its own card, and only there.
    for id in [
        "codemonkeys-dash",
        "codemonkeys-cli",
        "banana-economy",
        "silverback-agent",
        "script-injection",
    ] {
        assert_eq!(badges(&page, id), [], "{id}");
    }
    assert_eq!(
        badges(&page, "spec-kit"),
        [warning(
            "Evidence not in the run's directory runs/spec-kit/run_20251221_210000/: \
             runs/spec-kit/run_20251219_100000/pytest_output.log"
        )]
    );
    assert_eq!(
        badges(&page, "missing-report"),
        [error("Missing artifact: runs/missing-report/last_run.json")]
    );
    assert_eq!(
        badges(&page, "not-json"),
        [error(
            "Invalid artifact: (document): not valid JSON at line 1, column 3: key must be a string"
        )]
    );
    assert_eq!(
        badges(&page, "no-banana-economy"),
        [error(
            "Invalid artifact: /banana_economy: missing required field (expected an object)"
        )]
    );
    assert_eq!(
        badges(&page, "future-version"),
        [error("Unsupported schema version: 0.2")]
    );
    assert_eq!(
        badges(&page, "evidence-escape"),
        [
            error(
                "Invalid artifact: /evidence/paths/0: \"../../etc/passwd\" must be relative to the dash directory and stay inside it"
            ),
            error(
                "Invalid artifact: /evidence/paths/1: \"/var/log/syslog\" must be relative to the dash directory and stay inside it"
            ),
        ]
    );
    for card in page["cards"].as_array().unwrap() {
        assert_eq!(card["visible_badges"], true, "{}", card["id"]);
    }

    // Best effort: what a bad report does have is still shown.
    let future = card(&page, "future-version");
    assert_eq!(future["summary"], "All tests passed (18 tests)");
    assert_eq!(future["pr_wave"], "merging");
    let no_economy = card(&page, "no-banana-economy");
    assert_eq!(no_economy["run_id"], "run_20251221_090000");
    assert_eq!(no_economy["meters"], json!([]));
    assert_eq!(card(&page, "missing-report")["run_id"], Value::Null);
    assert_eq!(
        card(&page, "evidence-escape")["evidence"],
        json!([
            "../../etc/passwd outside the dash directory",
            "/var/log/syslog outside the dash directory"
        ])
    );

    // Every field of contract §4, on the upstream fleet.
    let silverback = card(&page, "silverback-agent");
    assert_eq!(silverback["name"], "Silverback Agent");
    assert_eq!(silverback["status"], "planned");
    assert_eq!(silverback["run_id"], "run_20251222_140512");
    assert_eq!(silverback["run_status"], "failed");
    assert_eq!(
        silverback["summary"],
        "Token budget exhausted (50000 of 50000); kill switch engaged"
    );
    assert_eq!(
        silverback["evidence"],
        json!(["runs/silverback-agent/run_20251222_140512/pytest_output.log"])
    );
    assert_eq!(silverback["meters"], json!([[50000, 50000], [35.85, 90], [2, 2]]));
    assert_eq!(silverback["kill_switch"], "ENGAGED");
    assert_eq!(
        silverback["kill_switch_reason"],
        "Banana budget exhausted after 2 CI heal attempts; waiting for a human to raise the budget"
    );
    assert_eq!(silverback["pr_wave"], "blocked");
    assert_eq!(silverback["open_prs"], "3");
    assert_eq!(card(&page, "codemonkeys-cli")["run_status"], "cancelled");
    assert_eq!(
        card(&page, "codemonkeys-dash")["history"],
        json!([
            "run_20251221_183208",
            "run_20251220_164210",
            "run_20251219_101500"
        ])
    );

    // Attacker text is text.
    let injected = card(&page, "script-injection");
    assert_eq!(injected["name"], SCRIPT_NAME);
    assert_eq!(injected["summary"], SCRIPT_SUMMARY);
    assert_eq!(injected["kill_switch_reason"], SCRIPT_REASON);

    let screenshot = client.screenshot().await.unwrap();
    assert_png(&screenshot);
    std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("dash-bad-inputs.png"),
        &screenshot,
    )
    .unwrap();
    if std::env::var_os("DCX_WRITE_DOCS_SCREENSHOT").is_some() {
        std::fs::write(repo_root().join("docs/images/dash-bad-inputs.png"), &screenshot).unwrap();
    }
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_registry_is_a_fleet_error_not_a_blank_page() {
    let dir = tempfile::tempdir().unwrap();
    let dash = example_fleet(dir.path());
    std::fs::remove_file(dash.join("products.json")).unwrap();
    let out = dcx(dir.path(), &["dash", "render", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2));
    let (_driver, client) = browser(&dir.path().join("profile")).await;
    let page = tokio::time::timeout(BROWSER_BUDGET, async {
        client.goto(&file_url(&dash.join("index.html"))).await.unwrap();
        read_page(&client).await
    })
    .await
    .expect("the browser did not answer in time");
    assert_eq!(
        page["fleet"],
        json!([["badge badge-error", "Missing artifact: products.json"]])
    );
    assert_eq!(
        page["cards"].as_array().unwrap().len(),
        5,
        "products found under runs/ still render"
    );
    assert_eq!(card(&page, "silverback-agent")["kill_switch"], "ENGAGED");
    client.close().await.unwrap();
}

/// `dcx dash serve` in the browser: the page over HTTP, an evidence link
/// followed to its log; then Ctrl-C stops the server cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_page_and_its_evidence_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let dash = bad_fleet(dir.path());
    let mut server = Command::new(env!("CARGO_BIN_EXE_dcx"))
        .args(["dash", "serve", "--bind", "127.0.0.1:0", "--now", NOW])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let url = first_line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first_line:?}"))
        .to_owned();
    assert_eq!(first_line, format!("serving dash at {url} (Ctrl-C to stop)\n"));

    let (_driver, client) = browser(&dir.path().join("profile")).await;
    let (page, log, escape) = tokio::time::timeout(BROWSER_BUDGET, async {
        client.goto(&url).await.unwrap();
        let page = read_page(&client).await;
        client
            .find(Locator::Css(
                "article[data-product-id=codemonkeys-dash] [data-field=evidence] a",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let log = client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        client
            .goto(&format!("{url}runs/evidence-escape/../../../../etc/passwd"))
            .await
            .unwrap();
        let escape = client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (page, log, escape)
    })
    .await
    .expect("the browser did not answer in time");
    client.close().await.unwrap();

    assert_eq!(page["title"], "Dash · 11 products");
    assert_eq!(page["resources"], json!([]));
    assert_eq!(
        badges(&page, "future-version"),
        [error("Unsupported schema version: 0.2")]
    );
    let expected_log =
        std::fs::read_to_string(dash.join("runs/codemonkeys-dash/run_20251221_183208/pytest_output.log"))
            .unwrap();
    assert_eq!(log.trim(), expected_log.trim());
    // The browser resolves the `..` itself; whatever it asks for, nothing
    // outside the dash directory comes back.
    assert_eq!(escape, "not found: etc/passwd");

    let status = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "Ctrl-C stops the server cleanly");
}

/// Refreshes the guide's screenshot of the bundled example fleet when asked
/// (`DCX_WRITE_DOCS_SCREENSHOT=1`); otherwise checks that it is a PNG.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_fleet_screenshot() {
    let target = repo_root().join("docs/images/dash-example-fleet.png");
    let dir = tempfile::tempdir().unwrap();
    let dash = example_fleet(dir.path());
    let out = dcx(dir.path(), &["dash", "render", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (_driver, client) = browser(&dir.path().join("profile")).await;
    let screenshot = tokio::time::timeout(BROWSER_BUDGET, async {
        client.set_window_size(1400, 1600).await.unwrap();
        client.goto(&file_url(&dash.join("index.html"))).await.unwrap();
        client.screenshot().await.unwrap()
    })
    .await
    .expect("the browser did not answer in time");
    client.close().await.unwrap();
    assert_png(&screenshot);
    if std::env::var_os("DCX_WRITE_DOCS_SCREENSHOT").is_some() {
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, &screenshot).unwrap();
    }
    assert_png(&std::fs::read(&target).unwrap_or_default());
}
