//! The loopback servers: [`Server`] answers HTTP with canned responses,
//! [`RawServer`] misbehaves at the TCP level.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{oneshot, watch};

/// One canned response.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Held this long before answering (after the [`Gate`], if any).
    pub delay: Duration,
    /// Held until this gate is open.
    pub gate: Option<Gate>,
}

impl Canned {
    /// 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200).body(body)
    }

    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            gate: None,
        }
    }

    /// A `307 Temporary Redirect` to `location`.
    pub fn redirect(location: &str) -> Self {
        Self::status(307).header("location", location)
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Answered only once `gate` is open.
    pub fn gated(mut self, gate: &Gate) -> Self {
        self.gate = Some(gate.clone());
        self
    }
}

/// Holds the responses it is attached to ([`Canned::gated`]) while closed,
/// and tells the test each time a request reaches it, so a test can keep a
/// client waiting at a known point. Starts open; clones share one gate.
#[derive(Debug, Clone)]
pub struct Gate {
    inner: Arc<GateInner>,
}

#[derive(Debug)]
struct GateInner {
    open: watch::Sender<bool>,
    arrived: Mutex<mpsc::Sender<()>>,
    arrivals: Mutex<mpsc::Receiver<()>>,
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Gate {
    pub fn new() -> Self {
        let (arrived, arrivals) = mpsc::channel();
        Self {
            inner: Arc::new(GateInner {
                open: watch::Sender::new(true),
                arrived: Mutex::new(arrived),
                arrivals: Mutex::new(arrivals),
            }),
        }
    }

    /// Opens (held requests are answered) or closes the gate.
    pub fn set_open(&self, open: bool) {
        self.inner.open.send_replace(open);
    }

    /// Waits up to `within` for the next request that reached the gate
    /// (each request is reported once); `false` if none came.
    pub fn wait_for_request(&self, within: Duration) -> bool {
        self.inner.arrivals.lock().unwrap().recv_timeout(within).is_ok()
    }

    async fn pass(&self) {
        let _ = self.inner.arrived.lock().unwrap().send(());
        let mut open = self.inner.open.subscribe();
        // Err only when the sender is gone, and this gate holds it.
        let _ = open.wait_for(|open| *open).await;
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
}

struct ServerState {
    /// Per path: responses served in order; the last one repeats.
    routes: Mutex<HashMap<String, VecDeque<Canned>>>,
    /// For paths without a route.
    fallback: Mutex<Canned>,
    seen: Mutex<Vec<Seen>>,
    /// (in flight now, most ever in flight).
    in_flight: Mutex<(usize, usize)>,
}

/// An HTTP/1.1 server on 127.0.0.1 (port 0) with its own runtime thread,
/// serving [`Canned`] responses per path and 404 `not found` elsewhere;
/// stops when dropped.
pub struct Server {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// A server on two worker threads.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start() -> Self {
        Self::try_start(2).expect("the loopback test server starts")
    }

    /// A server on `workers` runtime threads, or why it could not start.
    pub fn try_start(workers: usize) -> io::Result<Self> {
        let state = Arc::new(ServerState {
            routes: Mutex::new(HashMap::new()),
            fallback: Mutex::new(Canned::status(404).body("not found")),
            seen: Mutex::new(Vec::new()),
            in_flight: Mutex::new((0, 0)),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = axum::Router::new().fallback(handle).with_state(state.clone());
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The bound address, `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `responses` at `path`, in order, the last one for ever.
    pub fn route(&self, path: &str, responses: Vec<Canned>) {
        assert!(!responses.is_empty(), "a route for {path} needs a response");
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), responses.into());
    }

    /// Serves `response` at every path without a route.
    pub fn fallback(&self, response: Canned) {
        *self.state.fallback.lock().unwrap() = response;
    }

    /// The requests seen for `path`.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.state
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    /// The most requests that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.in_flight.lock().unwrap().1
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A graceful shutdown waits for held requests: let them through.
        for queue in self.state.routes.lock().unwrap().values() {
            for gate in queue.iter().filter_map(|canned| canned.gate.as_ref()) {
                gate.set_open(true);
            }
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle(State(state): State<Arc<ServerState>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    state.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        headers: request.headers().clone(),
    });
    {
        let mut in_flight = state.in_flight.lock().unwrap();
        in_flight.0 += 1;
        in_flight.1 = in_flight.1.max(in_flight.0);
    }
    let canned = {
        let mut routes = state.routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        }
    };
    let canned = canned.unwrap_or_else(|| state.fallback.lock().unwrap().clone());
    if let Some(gate) = &canned.gate {
        gate.pass().await;
    }
    if !canned.delay.is_zero() {
        tokio::time::sleep(canned.delay).await;
    }
    state.in_flight.lock().unwrap().0 -= 1;
    let mut response = Response::builder().status(StatusCode::from_u16(canned.status).unwrap());
    for (name, value) in &canned.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(canned.body)).unwrap()
}

/// What a [`RawServer`] does after reading a request's head.
#[derive(Debug, Clone, Copy)]
pub enum Misbehave {
    /// Close with a TCP reset, no response.
    Reset,
    /// Announce `declared` bytes, send `sent`, close.
    Truncate { declared: usize, sent: usize },
}

/// A TCP server on 127.0.0.1 (port 0) that misbehaves on every connection.
pub struct RawServer {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl RawServer {
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start(behaviour: Misbehave) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("raw server runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        runtime.spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    match behaviour {
                        Misbehave::Reset => {
                            let _ = stream.set_zero_linger();
                        }
                        Misbehave::Truncate { declared, sent } => {
                            let response = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n\r\n{}",
                                "x".repeat(sent)
                            );
                            let _ = stream.write_all(response.as_bytes()).await;
                            let _ = stream.flush().await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            _runtime: runtime,
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}
