//! `dash serve`: the dashboard over HTTP, rendered on every request, and
//! the dash directory's files (evidence) beside it.
//!
//! Files are served from the dash directory only: a request path is checked
//! lexically ([`DashDir::resolve`]: no `..`, no absolute paths) and then
//! through symlinks ([`DashDir::contains`]). Evidence is untrusted content,
//! so nothing is served as HTML or SVG, every response says `nosniff`, and
//! files get a `sandbox` Content Security Policy: a log that contains a
//! script cannot run it in the dashboard's origin.

use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dcx_contracts::Timestamp;
use tokio::net::TcpListener;
use tokio_util::io::ReaderStream;

use crate::clock::Clock;
use crate::dash::{self, RenderOptions};
use crate::layout::DashDir;

/// What the server serves.
#[derive(Clone)]
pub struct ServeConfig {
    /// The dash directory.
    pub dash: DashDir,
    /// The clock for each page's "rendered at".
    pub clock: Arc<dyn Clock>,
    /// Runs listed per product.
    pub history_limit: usize,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("dash", &self.dash)
            .field("history_limit", &self.history_limit)
            .finish_non_exhaustive()
    }
}

/// The routes: `/` and `/index.html` render the dashboard, anything else is
/// a file of the dash directory.
pub(crate) fn router(config: ServeConfig) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/{*path}", get(file))
        .with_state(Arc::new(config))
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
const FILE_CSP: &str = "default-src 'none'; sandbox";

async fn index(State(config): State<Arc<ServeConfig>>) -> Response {
    // Rendering reads many small files; keep it off the async workers.
    let rendered = tokio::task::spawn_blocking(move || {
        let options = RenderOptions {
            now: Timestamp::from_jiff(config.clock.now()),
            history_limit: config.history_limit,
            link_prefix: String::new(),
        };
        dash::render(&config.dash, &options).1
    })
    .await;
    match rendered {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            html,
        )
            .into_response(),
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "rendering failed".to_owned()),
    }
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        message + "\n",
    )
        .into_response()
}

async fn file(State(config): State<Arc<ServeConfig>>, UrlPath(path): UrlPath<String>) -> Response {
    let resolved = match config.dash.resolve(&path) {
        Ok(resolved) => resolved,
        Err(e) => return plain(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if !resolved.is_file() {
        return plain(StatusCode::NOT_FOUND, format!("not found: {path}"));
    }
    // After the lexical check, the one that sees symlinks.
    if !config.dash.contains(&resolved) {
        return plain(
            StatusCode::FORBIDDEN,
            format!("refusing {path:?}: it resolves outside the dash directory"),
        );
    }
    let file = match tokio::fs::File::open(&resolved).await {
        Ok(file) => file,
        Err(e) => return plain(StatusCode::NOT_FOUND, format!("cannot open {path}: {e}")),
    };
    let length = file.metadata().await.map(|m| m.len()).ok();
    let mut response = Body::from_stream(ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&resolved)),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Content types for evidence. Active formats (HTML, SVG, XML) are served
/// as text so a browser shows them instead of running them.
fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("json") => "application/json",
        Some("log" | "txt" | "md" | "csv" | "xml" | "html" | "htm" | "svg" | "yaml" | "yml") => {
            "text/plain; charset=utf-8"
        }
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    use super::*;

    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> jiff::Timestamp {
            "2026-02-20T12:00:00Z".parse().unwrap()
        }
        fn monotonic(&self) -> Instant {
            Instant::now()
        }
    }

    /// Sends one raw request (a real client would normalize `..` away).
    fn get(port: u16, target: &str) -> (String, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), body.to_owned())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_the_page_and_dash_files_only() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("runs/p/run_1");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join("pytest_output.log"), "3 passed, 0 failed\n").unwrap();
        std::fs::write(run.join("evil.html"), "<script>alert(1)</script>").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), run.join("link.txt")).unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = ServeConfig {
            dash: DashDir::new(dir.path()),
            clock: Arc::new(Fixed),
            history_limit: 10,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, config, async {
            let _ = stopped.await;
        }));

        let responses = tokio::task::spawn_blocking(move || {
            [
                "/",
                "/runs/p/run_1/pytest_output.log",
                "/runs/p/run_1/evil.html",
                "/runs/p/run_1/link.txt",
                "/runs/../../etc/passwd",
                "/runs/%2e%2e/%2e%2e/etc/passwd",
                "/runs/p/missing.log",
            ]
            .map(|target| get(port, target))
        })
        .await
        .unwrap();
        let _ = stop.send(());
        server.await.unwrap().unwrap();

        let [page, log, html, link, dotdot, encoded, missing] = responses;
        assert!(page.0.starts_with("HTTP/1.1 200"), "{}", page.0);
        assert!(page.0.contains("content-type: text/html; charset=utf-8"));
        assert!(page.1.contains("Missing artifact: products.json"));
        assert!(page.1.contains("<time datetime=\"2026-02-20T12:00:00Z\">"));
        assert!(log.0.starts_with("HTTP/1.1 200"));
        assert!(log.0.contains("content-type: text/plain; charset=utf-8"));
        assert_eq!(log.1, "3 passed, 0 failed\n");
        assert!(
            html.0.contains("content-type: text/plain; charset=utf-8"),
            "never served as HTML"
        );
        assert!(
            html.0
                .contains("content-security-policy: default-src 'none'; sandbox")
        );
        #[cfg(unix)]
        {
            assert!(link.0.starts_with("HTTP/1.1 403"), "{}", link.0);
            assert_eq!(
                link.1,
                "refusing \"runs/p/run_1/link.txt\": it resolves outside the dash directory\n"
            );
        }
        let _ = link;
        for refused in [&dotdot, &encoded] {
            assert!(refused.0.starts_with("HTTP/1.1 400"), "{}", refused.0);
            assert!(refused.1.contains("it contains '..'"), "{}", refused.1);
        }
        assert!(missing.0.starts_with("HTTP/1.1 404"));
        assert_eq!(missing.1, "not found: runs/p/missing.log\n");
    }

    #[test]
    fn active_formats_are_served_as_text() {
        assert_eq!(content_type(Path::new("a/b.SVG")), "text/plain; charset=utf-8");
        assert_eq!(content_type(Path::new("shot.png")), "image/png");
        assert_eq!(content_type(Path::new("bin")), "application/octet-stream");
    }
}
