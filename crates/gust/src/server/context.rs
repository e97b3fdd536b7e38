//! What a handler can know and say about its call besides the messages.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http::{Extensions, HeaderValue};
use tokio::sync::Notify;

use super::responder::{Outbound, SharedStream};
use crate::codec::Encoding;
use crate::metadata::Metadata;
use crate::transport::{Peer, ServerStream};

/// The server-side context of one call, reached through
/// [`Request::context`](crate::Request::context).
///
/// It tells the handler its deadline and whether the call was cancelled (the
/// client reset it, the deadline passed, or the server is stopping), and lets
/// it set the response's initial and trailing metadata. Clones share state.
///
/// A cancelled call's handler future is dropped right after the context is
/// marked cancelled; work the handler moved elsewhere (a spawned task, a
/// blocking thread) can watch [`CallContext::cancelled`] to stop too.
#[derive(Clone, Debug, Default)]
pub struct CallContext {
    /// `None` for requests built on the client, which have no server context.
    inner: Option<Arc<ContextInner>>,
}

#[derive(Debug)]
pub(crate) struct ContextInner {
    deadline: Option<Instant>,
    /// The client's `grpc-accept-encoding`.
    accept_encoding: Option<HeaderValue>,
    cancellation: Cancellation,
    peer: Peer,
    /// What interceptors handed to the handler.
    extensions: Extensions,
    response: Mutex<CallResponse>,
}

/// Whether the call was cancelled, and who is waiting to hear it.
///
/// Kept in the context rather than as a child of the connection's token: a
/// child costs an allocation and two locks of the connection's token per
/// call. The call's driver marks it whenever the call ends early, whatever
/// the reason (a reset, the deadline, the connection or server stopping).
#[derive(Debug, Default)]
struct Cancellation {
    cancelled: AtomicBool,
    waiters: Notify,
}

/// The response of a call: what the handler sets of it through its
/// context, and the stream it goes out on, which the call's driver and the
/// handler's sink write (see [`SharedStream`]). One lock, and one allocation
/// with the rest of the context, for all of it.
pub(crate) struct CallResponse {
    pub(crate) initial: Metadata,
    pub(crate) trailing: Metadata,
    /// The encoding the handler asked for, if the client accepts it.
    pub(crate) compression: Option<Encoding>,
    /// `None` once the call ended: a context can outlive its call (a
    /// handler may keep a clone), and then holds neither the stream nor
    /// its buffers.
    pub(crate) outbound: Option<Outbound>,
}

impl std::fmt::Debug for CallResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallResponse")
            .field("initial", &self.initial)
            .field("trailing", &self.trailing)
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

impl CallContext {
    /// The context of a request that is not being served.
    pub(crate) fn detached() -> CallContext {
        CallContext { inner: None }
    }

    /// The context of a call the server serves, and the handle its driver
    /// and sink send the response through (`stream`).
    pub(crate) fn new(
        deadline: Option<Instant>,
        accept_encoding: Option<HeaderValue>,
        peer: Peer,
        extensions: Extensions,
        stream: ServerStream,
    ) -> (CallContext, SharedStream) {
        let response = CallResponse {
            initial: Metadata::new(),
            trailing: Metadata::new(),
            compression: None,
            outbound: Some(Outbound::new(stream)),
        };
        let inner = Arc::new(ContextInner {
            deadline,
            accept_encoding,
            cancellation: Cancellation::default(),
            peer,
            extensions,
            response: Mutex::new(response),
        });
        (CallContext { inner: Some(inner.clone()) }, SharedStream::new(inner))
    }

    /// When the caller's deadline passes, if it set one.
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.as_ref()?.deadline
    }

    /// Time left before the deadline (zero once it passed), if there is one.
    pub fn time_remaining(&self) -> Option<Duration> {
        self.deadline().map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Whether the call was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.as_ref().is_some_and(|inner| inner.cancellation.cancelled.load(Ordering::Acquire))
    }

    /// Resolves when the call is cancelled; never, for a detached context.
    pub async fn cancelled(&self) {
        match &self.inner {
            Some(inner) => loop {
                // Registered before the check, so a cancel in between wakes it.
                let mut cancelled = pin!(inner.cancellation.waiters.notified());
                cancelled.as_mut().enable();
                if inner.cancellation.cancelled.load(Ordering::Acquire) {
                    return;
                }
                cancelled.await;
            },
            None => std::future::pending().await,
        }
    }

    /// The address of the client.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.inner.as_ref()?.peer.addr
    }

    /// The certificate chain the client presented over TLS, leaf first, each
    /// certificate in DER; `None` without TLS or when the client sent none
    /// (mutual TLS: see [`ServerTls::client_ca_pem`](crate::server::ServerTls::client_ca_pem)).
    /// Only certificates the server verified against its client CA get here.
    pub fn peer_certificates(&self) -> Option<&[Vec<u8>]> {
        self.inner.as_ref()?.peer.certificates.as_deref()
    }

    /// Values the server's interceptors handed to the handler, by type
    /// (see [`CallHead::extensions_mut`](crate::server::CallHead::extensions_mut));
    /// empty on the client.
    pub fn extensions(&self) -> &Extensions {
        static EMPTY: std::sync::LazyLock<Extensions> = std::sync::LazyLock::new(Extensions::new);
        self.inner.as_ref().map_or(&EMPTY, |inner| &inner.extensions)
    }

    /// Sets the metadata sent in the response headers. It takes effect if
    /// the headers have not gone out yet (they go with the first response
    /// message, or with the status).
    pub fn set_initial_metadata(&self, metadata: Metadata) {
        if let Some(mut response) = self.response() {
            response.initial = metadata;
        }
    }

    /// Sets the metadata sent in the trailers, with the status.
    pub fn set_trailing_metadata(&self, metadata: Metadata) {
        if let Some(mut response) = self.response() {
            response.trailing = metadata;
        }
    }

    /// Compresses the response messages with `encoding` if the client
    /// accepts it (its `grpc-accept-encoding`); otherwise they go
    /// uncompressed. Takes effect if the response headers have not gone out.
    /// Returns whether the client accepts the encoding.
    pub fn set_compression(&self, encoding: Encoding) -> bool {
        let accepted = self.inner.as_ref().is_some_and(|inner| {
            encoding.accepted_by(inner.accept_encoding.as_ref().map_or(&b""[..], HeaderValue::as_bytes))
        });
        if let Some(mut response) = self.response() {
            response.compression = accepted.then_some(encoding).filter(|e| *e != Encoding::Identity);
        }
        accepted
    }

    fn response(&self) -> Option<MutexGuard<'_, CallResponse>> {
        Some(self.inner.as_ref()?.lock_response())
    }
}

impl ContextInner {
    /// Marks the call cancelled, and wakes whoever waits to hear it.
    pub(crate) fn cancel(&self) {
        if !self.cancellation.cancelled.swap(true, Ordering::AcqRel) {
            self.cancellation.waiters.notify_waiters();
        }
    }

    /// The call's response state. Its users lock it only inside polls,
    /// never across an await.
    pub(crate) fn lock_response(&self) -> MutexGuard<'_, CallResponse> {
        self.response.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
