//! One server call, shared between its tokio task and the Python handler
//! running on the server's executor.
//!
//! The task owns the HTTP/2 side (the request stream and the response sink)
//! and talks to the handler through two bounded channels: requests read ahead
//! a few messages at most, responses wait for room. A handler that sends
//! faster than the client reads therefore blocks in `send` (without the GIL),
//! and a client that sends faster than the handler reads is slowed by HTTP/2
//! flow control.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use gust::codec::Outgoing;
use gust::{CallContext, Code, Encoding, Metadata, Request, ResponseSink, Status, Streaming};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::dispatch;
use crate::metadata;
use crate::raw::Raw;
use crate::runtime::wait;
use crate::server::ServerShared;

/// Request messages read ahead of the handler.
const READ_AHEAD: usize = 2;
/// Response messages queued between the handler and the HTTP/2 stream.
const SEND_QUEUE: usize = 4;

pyo3::create_exception!(
    _gust,
    CallTerminated,
    pyo3::exceptions::PyException,
    "The call ended (cancelled, deadline passed, server stopped) while the handler was using it."
);

/// What the request side tells the handler.
enum Inbound {
    Message(Bytes),
    /// The client half-closed: no more requests.
    End,
}

/// What the handler asks of the response side.
enum Outbound {
    Message { message: Bytes, compress: bool },
    Headers(Metadata),
    Finish { status: Status, trailing: Metadata, message: Option<Bytes> },
}

/// State both sides of a call see.
struct CallState {
    /// Set when the call's task is over (finished or dropped).
    terminated: AtomicBool,
    /// Fired by the handler's `context.cancel()`.
    cancel: CancellationToken,
    /// Called once when the call terminates; `None` after that.
    on_terminate: Mutex<Option<Py<PyAny>>>,
}

/// Marks the call terminated when the call's work ends or is dropped (client
/// reset, deadline, server stop), and runs the termination callback.
struct TerminationGuard(Arc<CallState>);

impl Drop for TerminationGuard {
    fn drop(&mut self) {
        let callback = {
            let mut slot = self.0.on_terminate.lock().unwrap_or_else(PoisonError::into_inner);
            self.0.terminated.store(true, Ordering::Release);
            slot.take()
        };
        if let Some(callback) = callback {
            dispatch::post_callback(callback);
        }
    }
}

/// The Python handler's handle on its call (`gust._gust.ServerCall`).
#[pyclass(module = "gust._gust", name = "ServerCall", frozen)]
pub(crate) struct ServerCallHandle {
    path: String,
    metadata: Metadata,
    peer: Option<SocketAddr>,
    deadline: Option<Instant>,
    context: CallContext,
    requests: tokio::sync::Mutex<mpsc::Receiver<Inbound>>,
    /// Set once the client's end of requests was seen.
    requests_ended: AtomicBool,
    responses: mpsc::Sender<Outbound>,
    state: Arc<CallState>,
}

#[pymethods]
impl ServerCallHandle {
    /// The full method path, `/package.Service/Method`.
    #[getter]
    fn method(&self) -> &str {
        &self.path
    }

    /// The client's metadata as `(key, value)` pairs.
    fn invocation_metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        metadata::to_python(py, &self.metadata)
    }

    /// The client's address as grpcio writes it: `ipv4:127.0.0.1:5000`,
    /// `ipv6:[::1]:5000`.
    fn peer(&self) -> String {
        match self.peer {
            None => "unknown".to_owned(),
            Some(SocketAddr::V4(addr)) => format!("ipv4:{addr}"),
            Some(SocketAddr::V6(addr)) => match addr.ip().to_ipv4_mapped() {
                Some(v4) => format!("ipv4:{v4}:{}", addr.port()),
                None => format!("ipv6:[{}]:{}", addr.ip(), addr.port()),
            },
        }
    }

    /// Seconds left before the client's deadline, or `None` without one.
    fn time_remaining(&self) -> Option<f64> {
        self.deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()).as_secs_f64())
    }

    /// The next request message; `None` once the client sent its last.
    /// Raises `CallTerminated` if the call ended first.
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        if self.requests_ended.load(Ordering::Acquire) {
            return Ok(None);
        }
        let next = wait(py, async { self.requests.lock().await.recv().await })?;
        match next {
            Some(Inbound::Message(message)) => Ok(Some(PyBytes::new(py, &message))),
            Some(Inbound::End) => {
                self.requests_ended.store(true, Ordering::Release);
                Ok(None)
            }
            None => Err(CallTerminated::new_err("the call is over")),
        }
    }

    /// Sends one response message, waiting while the client is not reading.
    /// False if the call is over.
    #[pyo3(signature = (message, compress = true))]
    fn send(&self, py: Python<'_>, message: PyBackedBytes, compress: bool) -> PyResult<bool> {
        let message = Bytes::from_owner(message);
        self.push(py, Outbound::Message { message, compress })
    }

    /// Sends the response headers now, with `metadata`. False if the call is over.
    fn send_initial_metadata(&self, py: Python<'_>, metadata: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        match metadata::from_python(metadata) {
            Ok(metadata) => self.push(py, Outbound::Headers(metadata)),
            Err(reason) => Err(pyo3::exceptions::PyValueError::new_err(reason)),
        }
    }

    /// Ends the call: an optional last message, then the status and trailing
    /// metadata. False if the call was already over. Invalid trailing
    /// metadata ends the call with INTERNAL.
    #[pyo3(signature = (code, details, trailing_metadata = None, message = None))]
    fn finish(
        &self,
        py: Python<'_>,
        code: i32,
        details: String,
        trailing_metadata: Option<&Bound<'_, PyAny>>,
        message: Option<PyBackedBytes>,
    ) -> PyResult<bool> {
        let (status, trailing) = match metadata::from_python(trailing_metadata) {
            Ok(trailing) => (Status::new(Code::from_i32(code), details), trailing),
            Err(reason) => (Status::internal(format!("invalid trailing metadata: {reason}")), Metadata::new()),
        };
        let message = message.map(Bytes::from_owner);
        self.push(py, Outbound::Finish { status, trailing, message })
    }

    /// Compresses the responses with `encoding` (`"gzip"`, `"deflate"`,
    /// `"identity"`) if the client accepts it; before the first response.
    fn set_compression(&self, encoding: &str) -> bool {
        Encoding::from_name(encoding.as_bytes()).is_some_and(|encoding| self.context.set_compression(encoding))
    }

    /// Cancels the call (the client sees CANCELLED).
    fn cancel(&self) {
        self.state.cancel.cancel();
    }

    /// Whether the call is over (finished, cancelled, past its deadline).
    fn is_terminated(&self) -> bool {
        self.state.terminated.load(Ordering::Acquire)
    }

    /// Registers `callback()` to run when the call terminates; False (and
    /// not registered) if it already has.
    fn set_termination_callback(&self, callback: Py<PyAny>) -> bool {
        let mut slot = self.state.on_terminate.lock().unwrap_or_else(PoisonError::into_inner);
        if self.state.terminated.load(Ordering::Acquire) {
            return false;
        }
        *slot = Some(callback);
        true
    }
}

impl ServerCallHandle {
    fn push(&self, py: Python<'_>, item: Outbound) -> PyResult<bool> {
        Ok(wait(py, self.responses.send(item))?.is_ok())
    }
}

/// Serves one call: hands it to Python, then moves messages between the
/// HTTP/2 stream and the handler until the handler finishes it.
pub(crate) async fn serve(
    server: Arc<ServerShared>,
    path: String,
    request: Request<Streaming<Raw>>,
    mut sink: ResponseSink<Raw>,
) -> Result<(), Status> {
    let context = request.context().clone();
    let (inbound_tx, inbound_rx) = mpsc::channel(READ_AHEAD);
    let (outbound_tx, mut outbound_rx) = mpsc::channel(SEND_QUEUE);
    let state = Arc::new(CallState {
        terminated: AtomicBool::new(false),
        cancel: CancellationToken::new(),
        on_terminate: Mutex::new(None),
    });
    let _guard = TerminationGuard(state.clone());
    let handle = ServerCallHandle {
        path,
        metadata: request.metadata().clone(),
        peer: context.peer_addr(),
        deadline: context.deadline(),
        context: context.clone(),
        requests: tokio::sync::Mutex::new(inbound_rx),
        requests_ended: AtomicBool::new(false),
        responses: outbound_tx,
        state: state.clone(),
    };
    let dispatch_call = server.dispatch.clone();
    dispatch::calls().post(Box::new(move |py| {
        let result = Py::new(py, handle).and_then(|handle| dispatch_call.call1(py, (handle,)));
        if let Err(error) = result {
            // The handle is gone with the error: the call ends with UNKNOWN.
            error.write_unraisable(py, None);
        }
    }));

    let mut requests = request.into_inner();
    let read = async move {
        loop {
            match requests.message().await {
                Ok(Some(Raw(message))) => {
                    if inbound_tx.send(Inbound::Message(message)).await.is_err() {
                        // The handler stopped reading: nothing more to do here.
                        return std::future::pending().await;
                    }
                }
                Ok(None) => {
                    let _ = inbound_tx.send(Inbound::End).await;
                    drop(inbound_tx);
                    return std::future::pending().await;
                }
                // A broken request stream (too large a message, bad framing,
                // a reset) ends the call with its status.
                Err(status) => return status,
            }
        }
    };
    let write = async {
        while let Some(item) = outbound_rx.recv().await {
            match item {
                Outbound::Message { message, compress } => {
                    if compress {
                        sink.send(Raw(message)).await?;
                    } else {
                        sink.send(Outgoing::uncompressed(Raw(message))).await?;
                    }
                }
                Outbound::Headers(metadata) => {
                    context.set_initial_metadata(metadata);
                    sink.send_headers()?;
                }
                Outbound::Finish { status, trailing, message } => {
                    if let Some(message) = message {
                        sink.send(Raw(message)).await?;
                    }
                    context.set_trailing_metadata(trailing);
                    return if status.code() == Code::Ok { Ok(()) } else { Err(status) };
                }
            }
        }
        Err(Status::unknown("the handler ended without a status"))
    };
    // Biased: a cancel by the handler comes before whatever it queued after.
    tokio::select! {
        biased;
        () = state.cancel.cancelled() => Err(Status::cancelled("Cancelled by the server")),
        () = server.force_stop.cancelled() => Err(Status::unavailable("server stopped")),
        result = write => result,
        status = read => Err(status),
    }
}
