//! The server (`gust._gust.ServerCore`): ports, services, start and stop.
//!
//! Python keeps the handlers (generic handlers, registered methods,
//! interceptors); Rust serves HTTP/2 and, for every call to a known service,
//! hands a `ServerCall` to the Python `dispatch` function, which submits the
//! handler to the server's executor.

use std::collections::{BTreeSet, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use gust::server::{CallFuture, ServerCall, ServerTls, Service};
use gust::{Request, ResponseSink, Server, Status, Streaming};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::dispatch;
use crate::raw::Raw;
use crate::runtime::{runtime, seconds, wait_for};
use crate::server_call;

/// What every call of a server shares.
pub(crate) struct ServerShared {
    /// `dispatch(call)`: the Python function that starts a call's handler.
    pub(crate) dispatch: Arc<Py<PyAny>>,
    max_concurrent_rpcs: Option<usize>,
    active_rpcs: AtomicUsize,
    /// Fired when the grace period is over: calls in flight end.
    pub(crate) force_stop: CancellationToken,
}

/// Where a server is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    Created,
    Started,
    Stopping,
    Stopped,
}

struct ServerState {
    stage: Stage,
    services: BTreeSet<String>,
    /// Bound by `add_port`, served from `start`.
    /// Each with the TLS it serves, for ports added by `add_secure_port`.
    listeners: Vec<(std::net::TcpListener, Option<ServerTls>)>,
    /// Called once the server has stopped.
    on_stopped: Vec<Py<PyAny>>,
}

/// The Rust half of `gust.Server`.
#[pyclass(module = "gust._gust", name = "ServerCore", frozen)]
pub(crate) struct ServerCore {
    shared: Arc<ServerShared>,
    state: Arc<Mutex<ServerState>>,
    max_receive_message_size: Option<usize>,
    max_send_message_size: Option<usize>,
    /// Fired by `stop`: no new connections; GOAWAY on the open ones.
    drain: CancellationToken,
    /// Fired once every listener's serving ended.
    stopped: CancellationToken,
}

/// How long gust's own grace period lasts: effectively forever, since
/// `stop(grace)` ends calls itself (through `force_stop`) when its grace is over.
const NO_GRACE_LIMIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// After `force_stop`, how long a call may take to send its final status
/// before its stream is dropped (reset).
const FORCE_STOP_FLUSH: Duration = Duration::from_secs(1);

#[pymethods]
impl ServerCore {
    #[new]
    #[pyo3(signature = (dispatch, maximum_concurrent_rpcs = None, max_receive_message_length = None, max_send_message_length = None))]
    fn new(
        dispatch: Py<PyAny>,
        maximum_concurrent_rpcs: Option<usize>,
        max_receive_message_length: Option<i64>,
        max_send_message_length: Option<i64>,
    ) -> ServerCore {
        ServerCore {
            shared: Arc::new(ServerShared {
                dispatch: Arc::new(dispatch),
                max_concurrent_rpcs: maximum_concurrent_rpcs,
                active_rpcs: AtomicUsize::new(0),
                force_stop: CancellationToken::new(),
            }),
            state: Arc::new(Mutex::new(ServerState {
                stage: Stage::Created,
                services: BTreeSet::new(),
                listeners: Vec::new(),
                on_stopped: Vec::new(),
            })),
            max_receive_message_size: message_limit(max_receive_message_length),
            max_send_message_size: message_limit(max_send_message_length),
            drain: CancellationToken::new(),
            stopped: CancellationToken::new(),
        }
    }

    /// Routes calls to the service `name` to Python. Returns False when the
    /// server already started: gust routes only the services known at start.
    fn add_service(&self, name: &str) -> bool {
        let mut state = self.lock();
        if state.stage != Stage::Created {
            return state.services.contains(name);
        }
        state.services.insert(name.to_owned());
        true
    }

    /// Binds `address` (`[::]:50051`, `localhost:0`, ...) and returns the
    /// port: the chosen one for port 0. With `certificate_chain` and
    /// `private_key` (PEM) the port serves TLS (grpcio's
    /// `ssl_server_credentials`), verifying client certificates against
    /// `root_certificates` when given, and refusing clients without one when
    /// `require_client_auth`.
    #[pyo3(signature = (address, certificate_chain = None, private_key = None, root_certificates = None, require_client_auth = false))]
    fn add_port(
        &self,
        py: Python<'_>,
        address: &str,
        certificate_chain: Option<Vec<u8>>,
        private_key: Option<Vec<u8>>,
        root_certificates: Option<Vec<u8>>,
        require_client_auth: bool,
    ) -> PyResult<u16> {
        let tls = match (certificate_chain, private_key) {
            (Some(chain), Some(key)) => Some(server_tls(&chain, &key, root_certificates, require_client_auth)?),
            (None, None) => None,
            _ => return Err(PyValueError::new_err("TLS needs both a certificate chain and its private key")),
        };
        let listeners = py
            .detach(|| bind(address))
            .map_err(|reason| PyRuntimeError::new_err(format!("Failed to bind to address {address}: {reason}")))?;
        let port = listeners.first().and_then(|l| l.local_addr().ok()).map_or(0, |a| a.port());
        let mut state = self.lock();
        if state.stage != Stage::Created {
            return Err(PyRuntimeError::new_err("cannot add a port to a server that was started"));
        }
        state.listeners.extend(listeners.into_iter().map(|listener| (listener, tls.clone())));
        Ok(port)
    }

    /// Starts serving on every bound port.
    fn start(&self) -> PyResult<()> {
        let (services, listeners) = {
            let mut state = self.lock();
            match state.stage {
                Stage::Created => {}
                Stage::Started => return Err(PyValueError::new_err("Cannot start already-started server!")),
                Stage::Stopping | Stage::Stopped => {
                    return Err(PyValueError::new_err("Cannot start a server that was stopped"))
                }
            }
            state.stage = Stage::Started;
            (state.services.iter().map(|name| intern(name)).collect::<Vec<_>>(), std::mem::take(&mut state.listeners))
        };
        let runtime = runtime();
        let _entered = runtime.enter();
        let mut servers = Vec::new();
        for (listener, tls) in listeners {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|error| PyRuntimeError::new_err(format!("cannot serve on a bound port: {error}")))?;
            let mut builder = Server::builder().grace_period(NO_GRACE_LIMIT);
            if let Some(limit) = self.max_receive_message_size {
                builder = builder.max_receive_message_size(limit);
            }
            if let Some(limit) = self.max_send_message_size {
                builder = builder.max_send_message_size(limit);
            }
            for name in &services {
                builder = builder.add_service(PythonService { name, server: self.shared.clone() });
            }
            if let Some(tls) = tls {
                builder = builder.tls(tls).map_err(|error| PyValueError::new_err(error.to_string()))?;
            }
            let drain = self.drain.clone();
            let server = builder.listener(listener);
            servers.push(runtime.spawn(async move {
                if let Err(error) = server.serve_with_shutdown(drain.cancelled_owned()).await {
                    tracing::warn!(%error, "gust: serving a port failed");
                }
            }));
        }
        let state = self.state.clone();
        let stopped = self.stopped.clone();
        let force_stop = self.shared.force_stop.clone();
        runtime.spawn(async move {
            for server in servers {
                let _ = server.await;
            }
            force_stop.cancel();
            let callbacks = {
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                state.stage = Stage::Stopped;
                std::mem::take(&mut state.on_stopped)
            };
            stopped.cancel();
            for callback in callbacks {
                dispatch::post_callback(callback);
            }
        });
        Ok(())
    }

    /// Stops the server: no new calls; calls in flight may finish within
    /// `grace` seconds (none if `None`), then are cancelled. `on_stopped()`
    /// runs once the server has stopped; returns False if it already had,
    /// in which case `on_stopped` is not called.
    #[pyo3(signature = (grace, on_stopped = None))]
    fn stop(&self, grace: Option<f64>, on_stopped: Option<Py<PyAny>>) -> bool {
        {
            let mut state = self.lock();
            match state.stage {
                Stage::Stopped => return false,
                Stage::Created => {
                    state.stage = Stage::Stopped;
                    state.listeners.clear();
                    drop(state);
                    self.shared.force_stop.cancel();
                    self.drain.cancel();
                    self.stopped.cancel();
                    return false;
                }
                Stage::Started | Stage::Stopping => {
                    state.stage = Stage::Stopping;
                    state.on_stopped.extend(on_stopped);
                }
            }
        }
        self.drain.cancel();
        let grace = grace.map(seconds).unwrap_or(Duration::ZERO);
        if grace.is_zero() {
            self.shared.force_stop.cancel();
        } else {
            let force_stop = self.shared.force_stop.clone();
            let stopped = self.stopped.clone();
            runtime().spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(grace) => force_stop.cancel(),
                    () = stopped.cancelled() => {}
                }
            });
        }
        true
    }

    /// Waits until the server has stopped, at most `timeout` seconds; True
    /// if it has.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        Ok(wait_for(py, self.stopped.cancelled(), timeout)?.is_some())
    }

    /// Whether the server has stopped.
    fn is_stopped(&self) -> bool {
        self.stopped.is_cancelled()
    }
}

impl ServerCore {
    fn lock(&self) -> std::sync::MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ServerCore {
    /// A server nobody holds any more stops, as grpcio's does.
    fn drop(&mut self) {
        self.drain.cancel();
        self.shared.force_stop.cancel();
    }
}

/// grpcio's message length option: negative means unlimited.
fn message_limit(option: Option<i64>) -> Option<usize> {
    option.map(|limit| usize::try_from(limit).unwrap_or(usize::MAX))
}

/// Binds every address `address` resolves to, on one port: the first
/// address's (chosen by the system for port 0).
/// The TLS settings of a secure port, from PEM.
fn server_tls(chain: &[u8], key: &[u8], root: Option<Vec<u8>>, require_client_auth: bool) -> PyResult<ServerTls> {
    let invalid = |error: gust::Error| PyValueError::new_err(error.to_string());
    let mut tls = ServerTls::from_pem(chain, key).map_err(invalid)?;
    if let Some(root) = root {
        tls = tls.client_ca_pem(root).map_err(invalid)?;
    }
    Ok(tls.require_client_auth(require_client_auth))
}

fn bind(address: &str) -> Result<Vec<std::net::TcpListener>, String> {
    let resolved: Vec<SocketAddr> = address.to_socket_addrs().map_err(|e| e.to_string())?.collect();
    let mut listeners = Vec::new();
    let mut port = None;
    let mut last_error = None;
    for mut addr in resolved {
        if let Some(port) = port {
            addr.set_port(port);
        }
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => {
                listener.set_nonblocking(true).map_err(|e| e.to_string())?;
                port = port.or_else(|| listener.local_addr().ok().map(|a| a.port()));
                listeners.push(listener);
            }
            Err(error) => last_error = Some(error.to_string()),
        }
    }
    if listeners.is_empty() {
        return Err(last_error.unwrap_or_else(|| "the address resolves to nothing".to_owned()));
    }
    Ok(listeners)
}

/// Service names live as long as the process (gust's `Service::name` is
/// `&'static str`); each distinct name is leaked once.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(interned) = names.get(name) {
        return interned;
    }
    let interned: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(interned);
    interned
}

/// One service name of a Python server.
struct PythonService {
    name: &'static str,
    server: Arc<ServerShared>,
}

/// Counts a call against `maximum_concurrent_rpcs` while it lives.
struct ActiveRpc(Arc<ServerShared>);

impl ActiveRpc {
    fn acquire(server: &Arc<ServerShared>) -> Option<ActiveRpc> {
        let active = server.active_rpcs.fetch_add(1, Ordering::AcqRel);
        let rpc = ActiveRpc(server.clone());
        match server.max_concurrent_rpcs {
            Some(max) if active >= max => None,
            _ => Some(rpc),
        }
    }
}

impl Drop for ActiveRpc {
    fn drop(&mut self) {
        self.0.active_rpcs.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Service for PythonService {
    fn name(&self) -> &'static str {
        self.name
    }

    fn call(&self, method: &str, call: ServerCall) -> CallFuture {
        if self.server.force_stop.is_cancelled() {
            return call.bidi_streaming(|_: Request<Streaming<Raw>>, _: ResponseSink<Raw>| async {
                Err(Status::unavailable("server stopped"))
            });
        }
        let Some(active) = ActiveRpc::acquire(&self.server) else {
            return call.bidi_streaming(|_: Request<Streaming<Raw>>, _: ResponseSink<Raw>| async {
                Err(Status::resource_exhausted("Concurrent RPC limit exceeded!"))
            });
        };
        let path = format!("/{}/{}", self.name, method);
        let server = self.server.clone();
        let force_stop = self.server.force_stop.clone();
        let work = call.bidi_streaming(move |request, sink| server_call::serve(server, path, request, sink));
        Box::pin(async move {
            let _active = active;
            // The call ends itself when the server is force-stopped (with
            // UNAVAILABLE); this bounds how long its last write may take.
            let backstop = async {
                force_stop.cancelled().await;
                tokio::time::sleep(FORCE_STOP_FLUSH).await;
            };
            tokio::select! {
                () = work => {}
                () = backstop => {}
            }
        })
    }
}
