//! What a handler can know and say about its call besides the messages.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http::{Extensions, HeaderValue};
use tokio::sync::Notify;

use crate::codec::Encoding;

use crate::metadata::Metadata;
use crate::transport::Peer;

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
struct ContextInner {
    deadline: Option<Instant>,
    /// The client's `grpc-accept-encoding`.
    accept_encoding: Option<HeaderValue>,
    cancellation: Cancellation,
    peer: Peer,
    /// What interceptors handed to the handler.
    extensions: Extensions,
    response: Mutex<ResponseMetadata>,
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

#[derive(Debug, Default)]
struct ResponseMetadata {
    initial: Metadata,
    trailing: Metadata,
    /// The encoding the handler asked for, if the client accepts it.
    compression: Option<Encoding>,
}

impl CallContext {
    /// The context of a request that is not being served.
    pub(crate) fn detached() -> CallContext {
        CallContext { inner: None }
    }

    pub(crate) fn new(
        deadline: Option<Instant>,
        accept_encoding: Option<HeaderValue>,
        peer: Peer,
        extensions: Extensions,
    ) -> CallContext {
        let inner = ContextInner {
            deadline,
            accept_encoding,
            cancellation: Cancellation::default(),
            peer,
            extensions,
            response: Mutex::default(),
        };
        CallContext { inner: Some(Arc::new(inner)) }
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

    /// What the response headers carry besides the protocol's own: the
    /// encoding of the response messages, and the initial metadata (taken).
    pub(crate) fn take_response_head(&self) -> (Option<Encoding>, Metadata) {
        self.response()
            .map(|mut response| (response.compression, std::mem::take(&mut response.initial)))
            .unwrap_or_default()
    }

    pub(crate) fn take_initial_metadata(&self) -> Metadata {
        self.response().map(|mut response| std::mem::take(&mut response.initial)).unwrap_or_default()
    }

    pub(crate) fn take_trailing_metadata(&self) -> Metadata {
        self.response().map(|mut response| std::mem::take(&mut response.trailing)).unwrap_or_default()
    }

    pub(crate) fn cancel(&self) {
        if let Some(inner) = &self.inner {
            if !inner.cancellation.cancelled.swap(true, Ordering::AcqRel) {
                inner.cancellation.waiters.notify_waiters();
            }
        }
    }

    fn response(&self) -> Option<MutexGuard<'_, ResponseMetadata>> {
        let inner = self.inner.as_ref()?;
        Some(inner.response.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
