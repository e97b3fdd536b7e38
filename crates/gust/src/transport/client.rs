//! The client side of the transport: one HTTP/2 connection on which calls
//! open streams.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};

use super::yield_first::YieldFirst;
use super::{status_from_h2, ActiveStreams, Http2Settings, Keepalive, RecvBody, SendBody, StreamActivity};
use crate::status::Status;

/// A client HTTP/2 connection, on which calls open streams.
pub(crate) struct ClientConnection {
    sender: h2::client::SendRequest<Bytes>,
    /// Set when the connection's driver stops: the connection is unusable.
    closed: Arc<AtomicBool>,
    /// Calls in flight, for keepalive's `while_idle = false`.
    streams: ActiveStreams,
}

/// The pending response to a stream opened with [`ClientConnection::open`].
pub(crate) struct ResponseHead {
    response: h2::client::ResponseFuture,
    /// Counts the call as in flight; handed to the body with the headers.
    activity: Option<StreamActivity>,
}

impl ClientConnection {
    /// Runs the HTTP/2 handshake on `io` and spawns the task that drives the
    /// connection until every handle is dropped, the peer goes away, or a
    /// keepalive PING goes unanswered (the connection is then dropped, which
    /// fails its calls with UNAVAILABLE).
    pub(crate) async fn handshake<IO>(
        io: IO,
        settings: &Http2Settings,
        keepalive: &Keepalive,
    ) -> Result<ClientConnection, Status>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let handshake = h2::client::Builder::new()
            .initial_window_size(settings.initial_stream_window)
            .initial_connection_window_size(settings.initial_connection_window)
            .max_frame_size(settings.max_frame_size)
            .max_header_list_size(settings.max_header_list_size)
            .enable_push(false)
            .handshake(io);
        let (sender, mut connection) = match tokio::time::timeout(settings.handshake_timeout, handshake).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(error)) => return Err(status_from_h2(error)),
            Err(_) => return Err(Status::unavailable("HTTP/2 handshake timed out")),
        };
        let closed = Arc::new(AtomicBool::new(false));
        let driver_closed = closed.clone();
        let streams = ActiveStreams::new();
        let pinger = keepalive.clone().run(connection.ping_pong(), streams.clone());
        let mut connection = YieldFirst::new(connection);
        tokio::spawn(async move {
            tokio::select! {
                ended = &mut connection => if let Err(error) = ended {
                    tracing::debug!(%error, "client connection ended");
                },
                () = pinger => {}
            }
            driver_closed.store(true, Ordering::Release);
        });
        Ok(ClientConnection { sender, closed, streams })
    }

    /// Whether the connection can no longer open streams.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Opens a stream with `request` as its headers, without waiting: when
    /// the server's stream limit is reached the stream waits in HTTP/2's
    /// queue and its response with it. An error here means nothing reached
    /// the server.
    ///
    /// Every call opens its stream through this one handle (a clone of
    /// h2's handle costs a lock on the connection, and so does dropping it).
    /// The handle is only ever polled with a no-op waker: when it is not
    /// ready (it has its own stream queued), this stream goes through a fresh
    /// handle, which always is, so no caller waits on a wake-up that another
    /// caller's poll replaced.
    pub(crate) fn open(
        &mut self,
        request: http::Request<()>,
        end_of_stream: bool,
    ) -> Result<(ResponseHead, SendBody), Status> {
        let opened = match self.sender.poll_ready(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(())) => self.sender.send_request(request, end_of_stream),
            Poll::Ready(Err(error)) => Err(error),
            Poll::Pending => self.sender.clone().send_request(request, end_of_stream),
        };
        let (response, send) = opened.map_err(|error| self.fail(error))?;
        Ok((ResponseHead { response, activity: Some(self.streams.track()) }, SendBody::new(send)))
    }

    fn fail(&self, error: h2::Error) -> Status {
        if error.is_io() || error.is_go_away() || error.reason() == Some(h2::Reason::REFUSED_STREAM) {
            self.closed.store(true, Ordering::Release);
        }
        status_from_h2(error)
    }
}

impl ResponseHead {
    /// Polls for the response headers.
    pub(crate) fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(http::response::Parts, RecvBody), NoResponse>> {
        let response = std::task::ready!(Pin::new(&mut self.response).poll(cx))
            .map_err(|error| NoResponse { unprocessed: never_processed(&error), status: status_from_h2(error) })?;
        let (head, body) = response.into_parts();
        Poll::Ready(Ok((head, RecvBody::new(body, self.activity.take()))))
    }

    /// Waits for the response headers.
    pub(crate) async fn receive(mut self) -> Result<(http::response::Parts, RecvBody), NoResponse> {
        std::future::poll_fn(|cx| self.poll_receive(cx)).await
    }
}

/// Why a stream got no response headers.
pub(crate) struct NoResponse {
    pub(crate) status: Status,
    /// The server never processed the stream: it refused it
    /// (REFUSED_STREAM), or the stream lay beyond the last one a GOAWAY let
    /// through. Such a call can be made again on another connection, whatever
    /// it does (grpc-go's transparent retry).
    pub(crate) unprocessed: bool,
}

/// Whether `error` says the server never processed the stream. h2 fails a
/// stream with the peer's GOAWAY only when the stream lies beyond the
/// GOAWAY's last stream; streams cut off later fail with the broken
/// connection instead.
fn never_processed(error: &h2::Error) -> bool {
    (error.is_go_away() && error.is_remote())
        || (error.is_reset() && error.is_remote() && error.reason() == Some(h2::Reason::REFUSED_STREAM))
}
