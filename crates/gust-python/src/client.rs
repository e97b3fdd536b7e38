//! The client: a channel (`gust._gust.Channel`) and its calls
//! (`gust._gust.ClientCall`).
//!
//! Every call runs as a tokio task that owns the HTTP/2 side. Request
//! messages reach it through a bounded channel (the Python thread that
//! iterates the request iterator blocks, without the GIL, while it is full);
//! response messages are read ahead a few at most into another. The outcome
//! (status, metadata, the single response of a unary-response call) is kept
//! for the Python `Call` object to read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use gust::client::ClientTls;
use gust::{Channel, Code, Encoding, Metadata, Request, Status, Streaming};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList, PyTuple};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::dispatch;
use crate::metadata;
use crate::raw::Raw;
use crate::runtime::{runtime, seconds, wait, wait_for};
use crate::server::intern as intern_str;

/// Request messages queued between the request iterator and HTTP/2.
const SEND_QUEUE: usize = 4;
/// Response messages read ahead of the Python reader.
const READ_AHEAD: usize = 4;
/// Waits between connection attempts of a `wait_for_ready` call.
const READY_BACKOFF: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(1));

/// A client channel (`gust._gust.Channel`).
#[pyclass(module = "gust._gust", name = "Channel", frozen)]
pub(crate) struct PyChannel {
    /// `None` once closed: the connection goes away with the last call.
    channel: Mutex<Option<Channel>>,
    /// Fired by `close`: calls in flight end with CANCELLED.
    closed: CancellationToken,
}

#[pymethods]
impl PyChannel {
    /// A channel to `target` (`host:port`, `dns:///host:port`,
    /// `ipv4:1.2.3.4:5`, `[::1]:5`), connecting on its first call.
    #[new]
    /// With `tls` (grpcio's `ssl_channel_credentials`: PEM root
    /// certificates, or the system's; a client key and certificate chain for
    /// mutual TLS; `grpc.ssl_target_name_override`) the channel speaks TLS.
    #[pyo3(signature = (target, max_receive_message_length = None, max_send_message_length = None, compression = None, tls = None))]
    fn new(
        target: &str,
        max_receive_message_length: Option<i64>,
        max_send_message_length: Option<i64>,
        compression: Option<&str>,
        tls: Option<ChannelTls>,
    ) -> PyResult<PyChannel> {
        let authority = target_authority(target).map_err(PyValueError::new_err)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut builder = Channel::builder(format!("{scheme}://{authority}"));
        if let Some(tls) = tls {
            builder = builder.tls(tls.client_tls()?);
        }
        if let Some(limit) = max_receive_message_length {
            builder = builder.max_receive_message_size(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        if let Some(limit) = max_send_message_length {
            builder = builder.max_send_message_size(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        if let Some(encoding) = encoding(compression)? {
            builder = builder.send_compressed(encoding);
        }
        let channel = builder.connect_lazy().map_err(|error| PyValueError::new_err(error.to_string()))?;
        Ok(PyChannel { channel: Mutex::new(Some(channel)), closed: CancellationToken::new() })
    }

    /// Starts a call. `request` is the single request (unary-request kinds)
    /// or `None` for a request stream fed with `ClientCall.send`.
    #[pyo3(signature = (path, request, response_streaming, metadata = None, timeout = None, wait_for_ready = false, compression = None))]
    #[allow(clippy::too_many_arguments)]
    fn start_call(
        &self,
        path: &str,
        request: Option<PyBackedBytes>,
        response_streaming: bool,
        metadata: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
        wait_for_ready: bool,
        compression: Option<&str>,
    ) -> PyResult<ClientCall> {
        let channel = self.channel.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(channel) = channel else {
            return Err(PyValueError::new_err("Cannot invoke RPC on closed channel!"));
        };
        let timeout = timeout.map(seconds);
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        let compression = encoding(compression)?;
        let state = Arc::new(CallState::default());
        let (response_tx, response_rx) = mpsc::channel(READ_AHEAD);
        let (input, requests) = match request {
            Some(message) => (Input::Single(Bytes::from_owner(message)), None),
            None => {
                let (request_tx, request_rx) = mpsc::channel(SEND_QUEUE);
                (Input::Stream(Arc::new(tokio::sync::Mutex::new(request_rx))), Some(request_tx))
            }
        };
        let call = CallSpec {
            channel,
            path: intern_str(path),
            metadata: metadata::from_python(metadata),
            deadline,
            wait_for_ready,
            compression,
            response_streaming,
        };
        let task_state = state.clone();
        let closed = self.closed.clone();
        runtime().spawn(async move {
            let outcome = tokio::select! {
                outcome = call.run(input, &task_state, response_tx) => outcome,
                () = task_state.cancel.cancelled() => Outcome::failed(task_state.cancel_status()),
                () = closed.cancelled() => Outcome::failed(Status::cancelled("Channel closed!")),
            };
            let _ = task_state.complete(outcome);
        });
        Ok(ClientCall {
            state,
            responses: tokio::sync::Mutex::new(response_rx),
            requests: Mutex::new(requests),
            deadline,
        })
    }

    /// Closes the channel: calls in flight end with CANCELLED, new calls fail.
    fn close(&self) {
        self.channel.lock().unwrap_or_else(PoisonError::into_inner).take();
        self.closed.cancel();
    }
}

/// grpcio's compression names to gust's encodings.
fn encoding(name: Option<&str>) -> PyResult<Option<Encoding>> {
    match name {
        None => Ok(None),
        Some(name) => Encoding::from_name(name.as_bytes())
            .map(Some)
            .ok_or_else(|| PyValueError::new_err(format!("unsupported compression {name:?}"))),
    }
}

/// A grpc target as an `http://host:port` URI (default port 443, as grpc's).
fn target_authority(target: &str) -> Result<String, String> {
    let authority = target
        .strip_prefix("dns:///")
        .or_else(|| target.strip_prefix("dns:"))
        .or_else(|| target.strip_prefix("ipv4:"))
        .or_else(|| target.strip_prefix("ipv6:"))
        .or_else(|| target.strip_prefix("http://"))
        .unwrap_or(target);
    if authority.starts_with("unix:") || target.starts_with("https://") {
        return Err(format!("unsupported target {target:?}: gust speaks TCP only"));
    }
    if authority.is_empty() {
        return Err(format!("invalid target {target:?}"));
    }
    let has_port = match authority.rfind(']') {
        Some(bracket) => authority[bracket..].contains(':'),
        None => authority.contains(':'),
    };
    Ok(if has_port { authority.to_owned() } else { format!("{authority}:443") })
}

/// A channel's TLS settings as grpcio's `ssl_channel_credentials` and the
/// `grpc.ssl_target_name_override` option give them, in PEM.
#[derive(FromPyObject)]
pub(crate) struct ChannelTls {
    root_certificates: Option<Vec<u8>>,
    private_key: Option<Vec<u8>>,
    certificate_chain: Option<Vec<u8>>,
    server_name: Option<String>,
}

impl ChannelTls {
    fn client_tls(self) -> PyResult<ClientTls> {
        let invalid = |error: gust::Error| PyValueError::new_err(error.to_string());
        let mut tls = ClientTls::new();
        if let Some(roots) = self.root_certificates {
            tls = tls.ca_pem(roots).map_err(invalid)?;
        }
        match (self.certificate_chain, self.private_key) {
            (Some(chain), Some(key)) => tls = tls.identity_pem(chain, key).map_err(invalid)?,
            (None, None) => {}
            _ => return Err(PyValueError::new_err("a client identity needs both a certificate chain and its key")),
        }
        if let Some(name) = self.server_name {
            tls = tls.server_name(name);
        }
        Ok(tls)
    }
}

/// The request side of a call.
enum Input {
    Single(Bytes),
    /// Shared so that a `wait_for_ready` retry can start over with it.
    Stream(Arc<tokio::sync::Mutex<mpsc::Receiver<Bytes>>>),
}

/// Everything a call's task needs to make the call.
struct CallSpec {
    channel: Channel,
    path: &'static str,
    metadata: Result<Metadata, String>,
    deadline: Option<Instant>,
    wait_for_ready: bool,
    compression: Option<Encoding>,
    response_streaming: bool,
}

/// How a call ended.
struct Outcome {
    status: Status,
    /// The only response of a unary-response call that succeeded.
    response: Option<Bytes>,
}

impl Outcome {
    fn failed(status: Status) -> Outcome {
        Outcome { status, response: None }
    }
}

impl CallSpec {
    async fn run(self, input: Input, state: &CallState, responses: mpsc::Sender<Bytes>) -> Outcome {
        let metadata = match &self.metadata {
            Ok(metadata) => metadata.clone(),
            Err(reason) => return Outcome::failed(Status::internal(format!("metadata was invalid: {reason}"))),
        };
        let mut backoff = READY_BACKOFF.0;
        let mut stream = loop {
            let timeout = match self.deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Outcome::failed(Status::deadline_exceeded("Deadline Exceeded")),
                },
            };
            match self.open(&input, metadata.clone(), timeout).await {
                Ok(stream) => break stream,
                Err(status) if self.wait_for_ready && is_connect_failure(&status) => {
                    let pause = match timeout {
                        Some(left) if left <= backoff => {
                            tokio::time::sleep(left).await;
                            return Outcome::failed(Status::deadline_exceeded("Deadline Exceeded"));
                        }
                        _ => backoff,
                    };
                    tokio::time::sleep(pause).await;
                    backoff = (backoff * 2).min(READY_BACKOFF.1);
                }
                Err(status) => return Outcome::failed(status),
            }
        };
        // The headers may come well before the first message (a server
        // that sends its initial metadata first): make them visible.
        let opened = stream.wait_for_metadata().await;
        state.set_initial(stream.metadata());
        if let Err(status) = opened {
            return Outcome::failed(status);
        }
        let mut single = None;
        loop {
            match stream.message().await {
                Ok(Some(Raw(message))) => {
                    state.set_initial(stream.metadata());
                    if self.response_streaming {
                        if responses.send(message).await.is_err() {
                            return Outcome::failed(Status::cancelled("Locally cancelled by application!"));
                        }
                    } else if single.replace(message).is_some() {
                        return Outcome::failed(Status::internal(
                            "more than one response message for a call that returns one",
                        ));
                    }
                }
                Ok(None) => {
                    state.set_initial(stream.metadata());
                    let trailing = stream.trailers().cloned().unwrap_or_default();
                    if !self.response_streaming && single.is_none() {
                        let status = Status::internal("response ended with OK but without a message");
                        return Outcome::failed(status.with_metadata(trailing));
                    }
                    return Outcome { status: Status::ok().with_metadata(trailing), response: single };
                }
                Err(status) => {
                    state.set_initial(stream.metadata());
                    return Outcome::failed(status);
                }
            }
        }
    }

    /// Opens the call: headers sent, the request (stream) on its way.
    async fn open(
        &self,
        input: &Input,
        metadata: Metadata,
        timeout: Option<Duration>,
    ) -> Result<Streaming<Raw>, Status> {
        match input {
            Input::Single(message) => {
                let request = self.request(Raw(message.clone()), metadata, timeout);
                self.channel.server_streaming(self.path, request).await
            }
            Input::Stream(receiver) => {
                let requests = futures_util::stream::unfold(receiver.clone(), |receiver| async move {
                    let message = receiver.lock().await.recv().await?;
                    Some((Raw(message), receiver))
                })
                .boxed();
                let request = self.request(requests, metadata, timeout);
                self.channel.bidi_streaming(self.path, request).await
            }
        }
    }

    fn request<T>(&self, message: T, metadata: Metadata, timeout: Option<Duration>) -> Request<T> {
        let mut request = Request::new(message).with_metadata(metadata);
        if let Some(timeout) = timeout {
            request = request.with_timeout(timeout);
        }
        if let Some(encoding) = self.compression {
            request = request.with_compression(encoding);
        }
        request
    }
}

/// Whether a call failed because no connection could be made (so a
/// `wait_for_ready` call waits and tries again).
fn is_connect_failure(status: &Status) -> bool {
    status.code() == Code::Unavailable
        && ["cannot connect", "cannot resolve", "connecting to", "HTTP/2 handshake"]
            .iter()
            .any(|prefix| status.message().starts_with(prefix))
}

/// What the task and the Python side share.
#[derive(Default)]
struct CallState {
    /// The server's initial metadata, once known.
    initial: OnceLock<Metadata>,
    initial_ready: CancellationToken,
    outcome: OnceLock<Outcome>,
    done: CancellationToken,
    /// Fired by `ClientCall.cancel`, with `cancel_status` saying why.
    cancel: CancellationToken,
    cancel_status: OnceLock<Status>,
    /// Called once when the call is done.
    on_done: Mutex<Option<Py<PyAny>>>,
    completed: AtomicBool,
}

impl CallState {
    fn set_initial(&self, metadata: &Metadata) {
        if self.initial.set(metadata.clone()).is_ok() {
            self.initial_ready.cancel();
        }
    }

    fn cancel_status(&self) -> Status {
        self.cancel_status.get().cloned().unwrap_or_else(|| Status::cancelled("Locally cancelled by application!"))
    }

    /// Records how the call ended, unless that is known already (the task
    /// and a local cancel race); false if it was.
    fn complete(&self, outcome: Outcome) -> bool {
        if self.outcome.set(outcome).is_err() {
            return false;
        }
        let _ = self.initial.set(Metadata::new());
        self.initial_ready.cancel();
        let callback = {
            let mut slot = self.on_done.lock().unwrap_or_else(PoisonError::into_inner);
            self.completed.store(true, Ordering::Release);
            slot.take()
        };
        self.done.cancel();
        if let Some(callback) = callback {
            dispatch::post_callback(callback);
        }
        true
    }
}

/// A call in flight (`gust._gust.ClientCall`).
#[pyclass(module = "gust._gust", name = "ClientCall", frozen)]
pub(crate) struct ClientCall {
    state: Arc<CallState>,
    responses: tokio::sync::Mutex<mpsc::Receiver<Bytes>>,
    /// The request stream's sender; `None` for unary-request calls and once
    /// the requests were closed.
    requests: Mutex<Option<mpsc::Sender<Bytes>>>,
    deadline: Option<Instant>,
}

#[pymethods]
impl ClientCall {
    /// Queues one request message, waiting while the queue is full. False
    /// if the call is over (the message was not sent).
    fn send(&self, py: Python<'_>, message: PyBackedBytes) -> PyResult<bool> {
        let sender = self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(sender) = sender else {
            return Ok(false);
        };
        let message = Bytes::from_owner(message);
        let sent = wait(py, async {
            tokio::select! {
                sent = sender.send(message) => sent.is_ok(),
                () = self.state.done.cancelled() => false,
            }
        })?;
        Ok(sent)
    }

    /// Ends the request stream.
    fn close_requests(&self) {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// The next response message of a response stream; `None` at its end
    /// (the outcome is then known).
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let message = wait(py, async {
            let message = self.responses.lock().await.recv().await;
            if message.is_none() {
                self.state.done.cancelled().await;
            }
            message
        })?;
        Ok(message.map(|message| PyBytes::new(py, &message)))
    }

    /// Waits until the call is done, at most `timeout` seconds; True if it is.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        if self.state.done.is_cancelled() {
            return Ok(true);
        }
        Ok(wait_for(py, self.state.done.cancelled(), timeout)?.is_some())
    }

    /// Whether the call is done.
    fn is_done(&self) -> bool {
        self.state.done.is_cancelled()
    }

    /// The server's initial metadata; waits until it arrived or the call ended.
    fn initial_metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        wait(py, self.state.initial_ready.cancelled())?;
        let empty = Metadata::new();
        metadata::to_python(py, self.state.initial.get().unwrap_or(&empty))
    }

    /// `(code, details, trailing_metadata, response)` once done, else `None`.
    fn outcome<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(outcome) = self.state.outcome.get() else {
            return Ok(None);
        };
        let status = &outcome.status;
        let response = outcome.response.as_ref().map(|response| PyBytes::new(py, response));
        let trailing = metadata::to_python(py, status.metadata())?;
        let tuple = (status.code() as i32, status.message(), trailing, response).into_pyobject(py)?;
        Ok(Some(tuple))
    }

    /// Cancels the call with `code` and `details` as its local outcome;
    /// False if it was already done.
    #[pyo3(signature = (code = Code::Cancelled as i32, details = "Locally cancelled by application!".to_owned()))]
    fn cancel(&self, code: i32, details: String) -> bool {
        if self.state.done.is_cancelled() {
            return false;
        }
        let status = Status::new(Code::from_i32(code), details);
        let _ = self.state.cancel_status.set(status.clone());
        // The outcome is known now, as in grpcio; the task stops soon after.
        let cancelled = self.state.complete(Outcome::failed(status));
        self.state.cancel.cancel();
        cancelled
    }

    /// Seconds left before the deadline, `None` without one.
    fn time_remaining(&self) -> Option<f64> {
        self.deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()).as_secs_f64())
    }

    /// Registers `callback()` to run (on a gust thread) when the call is
    /// done; False, and not registered, if it already is.
    fn set_done_callback(&self, callback: Py<PyAny>) -> bool {
        let mut slot = self.state.on_done.lock().unwrap_or_else(PoisonError::into_inner);
        if self.state.completed.load(Ordering::Acquire) {
            return false;
        }
        *slot = Some(callback);
        true
    }
}
