//! The server side of the transport: accepting streams on a connection and
//! answering them.

use std::future::{poll_fn, Future};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};

use super::engine::{Accepted, Connection, ErrorCode, ResponseStream};
use super::{ActiveStreams, Http2Settings, Keepalive, RecvBody};
use crate::status::Status;

/// One server-side HTTP/2 connection, on gust's own engine (see
/// [`super::engine`]).
pub(crate) struct ServerConnection<IO> {
    connection: Connection<IO>,
}

/// A request stream the peer opened.
pub(crate) struct AcceptedStream {
    pub(crate) head: http::request::Parts,
    pub(crate) body: RecvBody,
    pub(crate) stream: ServerStream,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> ServerConnection<IO> {
    /// Completes the HTTP/2 preface and settings exchange, within the
    /// handshake timeout.
    pub(crate) async fn handshake(io: IO, settings: &Http2Settings) -> Result<ServerConnection<IO>, Status> {
        match tokio::time::timeout(settings.handshake_timeout, Connection::handshake(io, settings)).await {
            Ok(Ok(connection)) => Ok(ServerConnection { connection }),
            Ok(Err(status)) => Err(status),
            Err(_) => Err(Status::unavailable("HTTP/2 handshake timed out")),
        }
    }

    /// The next stream; `None` when the connection is closed. Polling this is
    /// also what drives the connection (reads, writes, pings).
    pub(crate) async fn accept(&mut self) -> Option<Result<AcceptedStream, Status>> {
        let accepted = poll_fn(|cx| self.connection.poll_accept(cx)).await?;
        Some(accepted.map(|Accepted { head, body, response }| AcceptedStream {
            head,
            body: RecvBody::from_engine(body),
            stream: ServerStream::new(response),
        }))
    }

    /// Sends GOAWAY: no new streams; the ones in flight may finish.
    pub(crate) fn graceful_shutdown(&mut self) {
        self.connection.graceful_shutdown();
    }

    /// The keepalive pinger of this connection (see [`Keepalive::run`]);
    /// resolves when the client stopped answering.
    pub(crate) fn keepalive(
        &mut self,
        keepalive: &Keepalive,
        streams: ActiveStreams,
    ) -> impl Future<Output = ()> + Send + 'static {
        keepalive.clone().run(Some(self.connection.pinger()), streams)
    }
}

/// The response side of one server stream.
pub(crate) struct ServerStream {
    stream: ResponseStream,
    state: ResponseState,
}

/// Where the response is: kept here, so the gRPC layer's questions cost no
/// lock of the connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ResponseState {
    /// Nothing sent yet.
    Idle,
    /// Headers sent; data and trailers may follow.
    Open,
    /// The response is complete (or the stream was reset).
    Closed,
}

impl ServerStream {
    fn new(stream: ResponseStream) -> ServerStream {
        ServerStream { stream, state: ResponseState::Idle }
    }

    /// Whether response headers went out already.
    pub(crate) fn headers_sent(&self) -> bool {
        self.state != ResponseState::Idle
    }

    /// Sends the response headers; with `end_of_stream` they are the whole
    /// response (a Trailers-Only response, or an HTTP error).
    pub(crate) fn send_headers(
        &mut self,
        status: StatusCode,
        headers: HeaderMap,
        end_of_stream: bool,
    ) -> Result<(), Status> {
        if self.state != ResponseState::Idle {
            return Err(Status::internal("response headers already sent"));
        }
        let sent = self.stream.send_headers(status, &headers, end_of_stream);
        self.state = if sent.is_ok() && !end_of_stream { ResponseState::Open } else { ResponseState::Closed };
        sent
    }

    /// Sends response data (after the headers), respecting flow control.
    pub(crate) fn poll_send(&mut self, cx: &mut Context<'_>, data: &mut Bytes) -> Poll<Result<(), Status>> {
        match self.state {
            ResponseState::Open => self.stream.poll_send(cx, data),
            _ => Poll::Ready(Err(Status::internal("response data sent outside the response body"))),
        }
    }

    /// Ends the response with trailers.
    pub(crate) fn send_trailers(&mut self, trailers: HeaderMap) -> Result<(), Status> {
        match std::mem::replace(&mut self.state, ResponseState::Closed) {
            ResponseState::Open => self.stream.send_trailers(&trailers),
            _ => Err(Status::internal("trailers sent outside the response body")),
        }
    }

    /// Resolves when the client resets the stream (or the connection is
    /// gone).
    pub(crate) fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Status> {
        self.stream.poll_reset(cx)
    }

    /// Abandons the response with RST_STREAM(CANCEL).
    pub(crate) fn cancel(&mut self) {
        self.state = ResponseState::Closed;
        self.stream.reset(ErrorCode::CANCEL);
    }
}
