//! Drives one call on the server: runs the handler while watching for the
//! client's reset, the deadline and server shutdown, then sends the status.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, MutexGuard};
use std::task::{ready, Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt as _;
use http::{HeaderMap, HeaderValue, StatusCode};
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::context::{CallResponse, ContextInner};
use crate::codec::{encode_frame_into, Encoding, Message, Outgoing, Splices};
use crate::metadata::Metadata;
use crate::protocol;
use crate::status::Status;
use crate::transport::ServerStream;

/// Below this many buffered bytes, a response message waits for more before
/// going out: small messages share DATA frames. (One frame per 16-byte
/// message costs a frame header each, and h2 clients close connections that
/// receive floods of tiny frames.)
const COALESCE_BYTES: usize = 64 * 1024;

/// The response stream, shared by the call's driver (which watches for
/// resets, flushes buffered messages whenever the handler waits, and sends
/// the status) and the handler's [`super::ResponseSink`]. Both run in the
/// same task, so the lock is never contended; it is taken only inside polls,
/// never across an await. It lives in the call's context, with the
/// response metadata the handler sets (see [`CallResponse`]).
#[derive(Clone)]
pub(crate) struct SharedStream(Arc<ContextInner>);

/// The response stream with the messages not yet handed to HTTP/2.
pub(crate) struct Outbound {
    pub(crate) stream: ServerStream,
    /// The encoding of the response's messages, fixed when the headers went
    /// out (`None` before, or when the response is not compressed).
    encoding: Option<Encoding>,
    /// Encoded messages waiting to go out together; messages are encoded
    /// straight into it, but for their large fields, noted in `splices`.
    pending: BytesMut,
    splices: Splices,
    /// What is being handed to HTTP/2 now, as flow control allows.
    sending: Bytes,
    /// What goes after `sending`, when large fields cut a batch in pieces.
    queued: VecDeque<Bytes>,
}

impl Outbound {
    pub(crate) fn new(stream: ServerStream) -> Outbound {
        Outbound {
            stream,
            encoding: None,
            pending: BytesMut::new(),
            splices: Splices::default(),
            sending: Bytes::new(),
            queued: VecDeque::new(),
        }
    }

    /// Hands every buffered message to HTTP/2, as flow control allows.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        loop {
            if self.sending.is_empty() {
                if let Some(next) = self.queued.pop_front() {
                    self.sending = next;
                } else if self.pending.is_empty() {
                    return Poll::Ready(Ok(()));
                } else {
                    // The next message starts a new buffer.
                    self.sending = self.splices.drain(&mut self.pending, &mut self.queued);
                }
            }
            ready!(self.stream.poll_send(cx, &mut self.sending))?;
        }
    }

    /// Bytes of the messages encoded and not handed to HTTP/2 yet.
    fn buffered(&self) -> usize {
        self.pending.len() + self.splices.len()
    }
}

impl CallResponse {
    /// Sends the response headers with the initial metadata and encoding
    /// the handler set, unless they went out already.
    fn ensure_headers(&mut self) -> Result<(), Status> {
        let Some(outbound) = &mut self.outbound else { return Err(call_ended()) };
        if outbound.stream.headers_sent() {
            return Ok(());
        }
        let encoding = self.compression;
        let metadata = std::mem::take(&mut self.initial);
        let mut headers = HeaderMap::new();
        headers.insert(protocol::CONTENT_TYPE, protocol::GRPC_CONTENT_TYPE);
        if let Some(encoding) = encoding {
            headers.insert(protocol::GRPC_ENCODING, HeaderValue::from_static(encoding.name()));
        }
        // No `grpc-accept-encoding` here, as grpc-go's server sends none: a
        // client compresses its requests with what it was configured with,
        // and learns what this server accepts from the UNIMPLEMENTED status
        // that names it (see the router). Advertising it on every response
        // cost about a thousand instructions per call.
        metadata.write_to(&mut headers);
        outbound.stream.send_headers(StatusCode::OK, headers, false)?;
        outbound.encoding = encoding;
        Ok(())
    }

    /// The response stream, while the call lasts.
    fn outbound(&mut self) -> Result<&mut Outbound, Status> {
        self.outbound.as_mut().ok_or_else(call_ended)
    }

    /// Hands every buffered message to HTTP/2, as flow control allows.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        self.outbound()?.poll_flush(cx)
    }

    /// Ends the call's response and lets its stream go: with `Ok(status)`,
    /// the status goes out (see [`CallResponse::send_status`]); with `Err`,
    /// or if the status cannot be sent, the stream is reset. Done under the
    /// same lock as the last flush, so that a call whose response goes out
    /// at once takes the lock once to finish.
    fn end(&mut self, status: Result<Status, Status>) {
        if let Err(status) = status.and_then(|status| self.send_status(status)) {
            tracing::debug!(%status, "could not complete the response");
            if let Some(outbound) = &mut self.outbound {
                outbound.stream.cancel();
            }
        }
        self.outbound = None;
    }

    /// Sends `status`: in trailers after the headers, or as a Trailers-Only
    /// response if no headers went out.
    ///
    /// Messages still buffered are dropped. A message already partly handed
    /// to HTTP/2 (the deadline passed while flow control held it back)
    /// cannot be followed by trailers, as the peer would read a cut message:
    /// that is an error, and the stream is reset instead.
    fn send_status(&mut self, mut status: Status) -> Result<(), Status> {
        let trailing = std::mem::take(&mut self.trailing);
        // Only when there is some: a status's metadata lives in a box that
        // an OK status without any does not need.
        if !trailing.is_empty() {
            status.metadata_mut().extend(trailing);
        }
        let Some(outbound) = &mut self.outbound else { return Err(call_ended()) };
        if !outbound.sending.is_empty() || !outbound.queued.is_empty() {
            return Err(Status::cancelled("a response message was cut short"));
        }
        let stream = &mut outbound.stream;
        if stream.headers_sent() {
            let mut trailers = HeaderMap::new();
            protocol::write_status(&status, &mut trailers);
            stream.send_trailers(trailers)
        } else {
            send_trailers_only(stream, StatusCode::OK, std::mem::take(&mut self.initial), &status)
        }
    }
}

/// What a handler's task that outlived its call hears when it sends.
#[cold]
fn call_ended() -> Status {
    Status::internal("response sent after its call ended")
}

impl SharedStream {
    pub(crate) fn new(context: Arc<ContextInner>) -> SharedStream {
        SharedStream(context)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, CallResponse> {
        self.0.lock_response()
    }

    /// Sends the response headers now, unless they went out already.
    pub(crate) fn ensure_headers(&self) -> Result<(), Status> {
        self.lock().ensure_headers()
    }

    /// Sends `messages` in order, after the response headers if they have
    /// not gone out yet; a message's `compress: Some(false)` sends it
    /// uncompressed whatever the response's encoding. Small messages are
    /// buffered to share DATA frames: as many as fill a batch are encoded
    /// under one lock, then the batch goes out (waiting for flow-control
    /// window), so the buffer stays bounded. `messages` is only advanced
    /// under the lock, never across an await.
    pub(crate) async fn send_messages<M: Message>(
        &self,
        mut messages: impl Iterator<Item = Outgoing<M>>,
        max_len: usize,
    ) -> Result<(), Status> {
        loop {
            let batch_full = {
                let mut response = self.lock();
                response.ensure_headers()?;
                let outbound = response.outbound()?;
                loop {
                    let Some(Outgoing { message, compress }) = messages.next() else { break false };
                    let encoding = outbound.encoding.filter(|_| compress != Some(false));
                    let Outbound { pending, splices, .. } = &mut *outbound;
                    encode_frame_into(&message, max_len, encoding, pending, Some(splices))?;
                    if outbound.buffered() >= COALESCE_BYTES {
                        break true;
                    }
                }
            };
            if !batch_full {
                return Ok(());
            }
            self.flush().await?;
        }
    }

    /// Sends every buffered message.
    pub(crate) async fn flush(&self) -> Result<(), Status> {
        poll_fn(|cx| self.flush_now(cx)).await
    }

    /// Hands every buffered message to HTTP/2, as flow control allows.
    fn flush_now(&self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        self.lock().poll_flush(cx)
    }
}

/// Sends a response that is only headers, ending the stream: the status,
/// with `metadata`, and `application/grpc` as content-type so that gRPC
/// clients read the status even when `http_status` is not 200.
pub(crate) fn send_trailers_only(
    stream: &mut ServerStream,
    http_status: StatusCode,
    metadata: Metadata,
    status: &Status,
) -> Result<(), Status> {
    let mut headers = HeaderMap::new();
    headers.insert(protocol::CONTENT_TYPE, protocol::GRPC_CONTENT_TYPE);
    metadata.write_to(&mut headers);
    protocol::write_status(status, &mut headers);
    stream.send_headers(http_status, headers, true)
}

/// How a call's handler phase ended.
enum Outcome {
    /// The handler returned (its messages are sent or buffered), or failed.
    Finished(Result<(), Status>),
    /// The client reset the stream: nobody is listening any more.
    Reset(Status),
    /// The deadline passed before the handler finished.
    DeadlineExceeded,
    /// The server stopped after its grace period.
    ShutDown,
}

/// Runs `work` (decode, handler, encode) for a call to completion, then
/// sends what it left buffered and the response's end.
pub(crate) async fn drive<W: Future<Output = Result<(), Status>>>(
    stream: SharedStream,
    connection_cancellation: Arc<CancellationToken>,
    deadline: Option<Instant>,
    work: Pin<&mut W>,
) {
    let mut limits = Limits::new(deadline, &connection_cancellation);
    let outcome = {
        let mut work = AssertUnwindSafe(work).catch_unwind();
        let mut first_poll = true;
        let outcome = poll_fn(|cx| {
            let reset = |cx: &mut Context<'_>| match &mut stream.lock().outbound {
                Some(outbound) => outbound.stream.poll_reset(cx).map(Outcome::Reset),
                None => Poll::Pending,
            };
            // A reset first: the handler may see it as an error from its
            // request stream in this same wake-up, and must see it as a
            // cancellation. Except in the first poll, which comes as the
            // stream is accepted, before a reset is likely: a call that
            // answers in it never asks, and one that waits asks last.
            let reset_first = !std::mem::take(&mut first_poll);
            if reset_first {
                if let Poll::Ready(outcome) = reset(cx) {
                    return Poll::Ready(outcome);
                }
            }
            if let Poll::Ready(result) = Pin::new(&mut work).poll(cx) {
                return Poll::Ready(Outcome::Finished(result.unwrap_or_else(|panic| {
                    let reason = panic_message(&panic);
                    tracing::error!(reason, "handler panicked; ending its call with INTERNAL");
                    Err(Status::internal(format!("handler panicked: {reason}")))
                })));
            }
            if limits.poll_deadline(cx) {
                return Poll::Ready(Outcome::DeadlineExceeded);
            }
            if limits.poll_stopped(cx) {
                return Poll::Ready(Outcome::ShutDown);
            }
            if !reset_first {
                if let Poll::Ready(outcome) = reset(cx) {
                    return Poll::Ready(outcome);
                }
            }
            // The handler waits: what it sent so far goes out now, so
            // buffering small messages never delays them. An error shows up
            // as the reset above, or in the handler's next send.
            let _ = stream.flush_now(cx);
            Poll::Pending
        })
        .await;
        // Mark the call cancelled before the handler's future is dropped (at
        // the end of this block), so code that runs on drop can see it.
        if !matches!(outcome, Outcome::Finished(_)) {
            stream.0.cancel();
        }
        outcome
    };

    match outcome {
        Outcome::Finished(mut result) => {
            poll_fn(|cx| {
                let mut response = stream.lock();
                let flushed = match response.poll_flush(cx) {
                    Poll::Ready(flushed) => flushed,
                    // A client that stops reading must not hold the call
                    // forever: the deadline and the server's shutdown still
                    // bound the wait, watched only if the response does not
                    // go out at once.
                    Poll::Pending if limits.poll_deadline(cx) => {
                        Err(Status::deadline_exceeded("deadline exceeded while sending the response"))
                    }
                    Poll::Pending if limits.poll_stopped(cx) => Err(Status::unavailable("server shutting down")),
                    Poll::Pending => return Poll::Pending,
                };
                let status = std::mem::replace(&mut result, Ok(())).err().unwrap_or_else(Status::ok);
                response.end(flushed.map(|()| status));
                Poll::Ready(())
            })
            .await;
        }
        Outcome::Reset(status) => {
            tracing::debug!(%status, "client cancelled the call");
            stream.lock().outbound = None;
        }
        Outcome::DeadlineExceeded => stream.lock().end(Ok(Status::deadline_exceeded("deadline exceeded"))),
        Outcome::ShutDown => stream.lock().end(Ok(Status::unavailable("server shutting down"))),
    }
}

/// What ends a call from outside: its deadline, and its connection's end.
/// Each is watched only once the call waits, with its waiter boxed then:
/// most calls end in their first poll and never make one, and the call's
/// future, which holds this, stays small enough for one allocation.
struct Limits<'a> {
    deadline: Option<Instant>,
    deadline_timer: Option<Pin<Box<Sleep>>>,
    connection_cancellation: &'a CancellationToken,
    connection_stopping: Option<Pin<Box<WaitForCancellationFuture<'a>>>>,
}

impl<'a> Limits<'a> {
    fn new(deadline: Option<Instant>, connection_cancellation: &'a CancellationToken) -> Limits<'a> {
        Limits { deadline, deadline_timer: None, connection_cancellation, connection_stopping: None }
    }

    /// Whether the deadline passed; if not, the task is woken when it does.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.deadline else { return false };
        let timer = self.deadline_timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
        timer.as_mut().poll(cx).is_ready()
    }

    /// Whether the connection stopped serving calls; if not, the task is
    /// woken when it does.
    fn poll_stopped(&mut self, cx: &mut Context<'_>) -> bool {
        let token = self.connection_cancellation;
        if token.is_cancelled() {
            return true;
        }
        let stopping = self.connection_stopping.get_or_insert_with(|| Box::pin(token.cancelled()));
        stopping.as_mut().poll(cx).is_ready()
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}
