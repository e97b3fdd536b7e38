//! The server side of the transport: accepting streams on a connection and
//! answering them.

use std::future::Future;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{status_from_h2, ActiveStreams, Http2Settings, Keepalive, RecvBody, SendBody};
use crate::status::Status;

/// One server-side HTTP/2 connection.
pub(crate) struct ServerConnection<IO> {
    connection: h2::server::Connection<IO, Bytes>,
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
        let handshake = h2::server::Builder::new()
            .initial_window_size(settings.initial_stream_window)
            .initial_connection_window_size(settings.initial_connection_window)
            .max_frame_size(settings.max_frame_size)
            .max_header_list_size(settings.max_header_list_size)
            .max_concurrent_streams(settings.max_concurrent_streams)
            .max_send_buffer_size(settings.max_send_buffer_size)
            .max_pending_accept_reset_streams(settings.max_pending_accept_reset_streams)
            .max_local_error_reset_streams(Some(settings.max_local_error_reset_streams))
            .handshake(io);
        match tokio::time::timeout(settings.handshake_timeout, handshake).await {
            Ok(Ok(connection)) => Ok(ServerConnection { connection }),
            Ok(Err(error)) => Err(status_from_h2(error)),
            Err(_) => Err(Status::unavailable("HTTP/2 handshake timed out")),
        }
    }

    /// The next stream; `None` when the connection is closed. Polling this is
    /// also what drives the connection (reads, writes, pings).
    pub(crate) async fn accept(&mut self) -> Option<Result<AcceptedStream, Status>> {
        let accepted = self.connection.accept().await?;
        Some(accepted.map_err(status_from_h2).map(|(request, respond)| {
            let (head, body) = request.into_parts();
            AcceptedStream { head, body: RecvBody::new(body, None), stream: ServerStream::new(respond) }
        }))
    }

    /// Sends GOAWAY: no new streams; the ones in flight may finish.
    pub(crate) fn graceful_shutdown(&mut self) {
        self.connection.graceful_shutdown();
    }

    /// The keepalive pinger of this connection (see [`Keepalive::run`]);
    /// resolves when the client stopped answering. Only the first call gets
    /// the connection's pinger; later ones never resolve.
    pub(crate) fn keepalive(
        &mut self,
        keepalive: &Keepalive,
        streams: ActiveStreams,
    ) -> impl Future<Output = ()> + Send + 'static {
        keepalive.clone().run(self.connection.ping_pong(), streams)
    }
}

/// The response side of one server stream.
pub(crate) struct ServerStream {
    state: ResponseState,
}

enum ResponseState {
    /// Nothing sent yet.
    Idle(h2::server::SendResponse<Bytes>),
    /// Headers sent; data and trailers may follow.
    Open(SendBody),
    /// The response is complete (or the stream was reset).
    Closed,
}

impl ServerStream {
    fn new(respond: h2::server::SendResponse<Bytes>) -> ServerStream {
        ServerStream { state: ResponseState::Idle(respond) }
    }

    /// Whether response headers went out already.
    pub(crate) fn headers_sent(&self) -> bool {
        !matches!(self.state, ResponseState::Idle(_))
    }

    /// Sends the response headers; with `end_of_stream` they are the whole
    /// response (a Trailers-Only response, or an HTTP error).
    pub(crate) fn send_headers(
        &mut self,
        status: StatusCode,
        headers: HeaderMap,
        end_of_stream: bool,
    ) -> Result<(), Status> {
        let ResponseState::Idle(mut respond) = std::mem::replace(&mut self.state, ResponseState::Closed) else {
            return Err(Status::internal("response headers already sent"));
        };
        let mut response = http::Response::new(());
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        let send = respond.send_response(response, end_of_stream).map_err(status_from_h2)?;
        if !end_of_stream {
            self.state = ResponseState::Open(SendBody::new(send));
        }
        Ok(())
    }

    /// Sends response data (after the headers), respecting flow control.
    pub(crate) fn poll_send(&mut self, cx: &mut Context<'_>, data: &mut Bytes) -> Poll<Result<(), Status>> {
        match &mut self.state {
            ResponseState::Open(body) => body.poll_send(cx, data, false),
            _ => Poll::Ready(Err(Status::internal("response data sent outside the response body"))),
        }
    }

    /// Ends the response with trailers.
    pub(crate) fn send_trailers(&mut self, trailers: HeaderMap) -> Result<(), Status> {
        match std::mem::replace(&mut self.state, ResponseState::Closed) {
            ResponseState::Open(mut body) => body.send_trailers(trailers),
            _ => Err(Status::internal("trailers sent outside the response body")),
        }
    }

    /// Resolves when the client resets the stream.
    pub(crate) fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Status> {
        match &mut self.state {
            ResponseState::Idle(respond) => respond.poll_reset(cx).map(|reset| match reset {
                Ok(reason) => super::error::status_from_reset(reason),
                Err(error) => status_from_h2(error),
            }),
            ResponseState::Open(body) => body.poll_reset(cx),
            ResponseState::Closed => Poll::Pending,
        }
    }

    /// Abandons the response with RST_STREAM.
    pub(crate) fn reset(&mut self, reason: h2::Reason) {
        match std::mem::replace(&mut self.state, ResponseState::Closed) {
            ResponseState::Idle(mut respond) => respond.send_reset(reason),
            ResponseState::Open(mut body) => body.reset(reason),
            ResponseState::Closed => {}
        }
    }
}
