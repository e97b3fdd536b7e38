//! One incoming call, handed by the router to a service, and the four ways a
//! service can serve it.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::responder::{drive, SharedStream};
use super::{CallContext, ResponseSink, ServerConfig};
use crate::codec::{Encoding, FrameDecoder, Message, OutboundMessage as _};
use crate::metadata::Metadata;
use crate::request::Request;
use crate::status::Status;
use crate::streaming::{poll_body_message, Streaming};
use crate::transport::RecvBody;

/// The future that serves one call to completion.
pub type CallFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A call routed to a [`Service`](super::Service), not yet decoded.
///
/// Generated service code picks the call kind matching the rpc's definition
/// and passes the user's handler; the runtime does the rest (decoding,
/// limits, deadline, cancellation, status).
pub struct ServerCall {
    pub(crate) metadata: Metadata,
    pub(crate) body: RecvBody,
    /// The request's `grpc-encoding`.
    pub(crate) encoding: Option<Encoding>,
    pub(crate) stream: SharedStream,
    pub(crate) context: CallContext,
    /// Cancelled when the connection (or the server) stops: the call ends.
    pub(crate) connection_cancellation: Arc<CancellationToken>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) config: Arc<ServerConfig>,
    /// `/service/method`, for error messages.
    pub(crate) path: http::uri::PathAndQuery,
}

impl ServerCall {
    /// One request, one response.
    pub fn unary<Req, Resp, F, Fut>(self, handler: F) -> CallFuture
    where
        Req: Message,
        Resp: Message,
        F: FnOnce(Request<Req>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
    {
        self.run(move |metadata, body, encoding, context, stream, config| async move {
            let (message, compressed) =
                read_single_request::<Req>(body, encoding, config.max_receive_message_size).await?;
            let response = handler(Request::from_server(metadata, message, compressed, context)).await?;
            stream.send_messages(std::iter::once(response.into_outgoing()), config.max_send_message_size).await
        })
    }

    /// One request, a stream of responses sent through a [`ResponseSink`].
    pub fn server_streaming<Req, Resp, F, Fut>(self, handler: F) -> CallFuture
    where
        Req: Message,
        Resp: Message,
        F: FnOnce(Request<Req>, ResponseSink<Resp>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Status>> + Send + 'static,
    {
        self.run(move |metadata, body, encoding, context, stream, config| async move {
            let (message, compressed) =
                read_single_request::<Req>(body, encoding, config.max_receive_message_size).await?;
            let sink = ResponseSink::new(stream, context.clone(), config.max_send_message_size);
            handler(Request::from_server(metadata, message, compressed, context), sink).await
        })
    }

    /// A stream of requests, one response.
    pub fn client_streaming<Req, Resp, F, Fut>(self, handler: F) -> CallFuture
    where
        Req: Message,
        Resp: Message,
        F: FnOnce(Request<Streaming<Req>>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
    {
        self.run(move |metadata, body, encoding, context, stream, config| async move {
            let requests = Streaming::server(body, encoding, config.max_receive_message_size);
            let response = handler(Request::from_server(metadata, requests, false, context)).await?;
            stream.send_messages(std::iter::once(response.into_outgoing()), config.max_send_message_size).await
        })
    }

    /// Streams both ways, independently.
    pub fn bidi_streaming<Req, Resp, F, Fut>(self, handler: F) -> CallFuture
    where
        Req: Message,
        Resp: Message,
        F: FnOnce(Request<Streaming<Req>>, ResponseSink<Resp>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Status>> + Send + 'static,
    {
        self.run(move |metadata, body, encoding, context, stream, config| async move {
            let requests = Streaming::server(body, encoding, config.max_receive_message_size);
            let sink = ResponseSink::new(stream, context.clone(), config.max_send_message_size);
            handler(Request::from_server(metadata, requests, false, context), sink).await
        })
    }

    /// Ends the call with UNIMPLEMENTED: the service has no such method.
    pub fn unimplemented(self) -> CallFuture {
        let message = format!("unknown method {}", self.path.as_str().trim_start_matches('/'));
        self.run(move |_, _, _, _, _, _| async move { Err(Status::unimplemented(message)) })
    }

    /// Builds the call's work from its parts and drives it.
    fn run<W, Fut>(self, work: W) -> CallFuture
    where
        W: FnOnce(Metadata, RecvBody, Option<Encoding>, CallContext, SharedStream, Arc<ServerConfig>) -> Fut
            + Send
            + 'static,
        Fut: Future<Output = Result<(), Status>> + Send + 'static,
    {
        let ServerCall { metadata, body, encoding, stream, context, connection_cancellation, deadline, config, .. } =
            self;
        // One box for the work and its driver. The work is made and pinned
        // in the box's own future, and the driver borrows it: an async fn
        // keeps a future moved into it twice (as given and as pinned), which
        // would outgrow the allocator's fast path (glibc's per-thread cache
        // ends at 1 KiB).
        Box::pin(async move {
            let work = pin!(work(metadata, body, encoding, context, stream.clone(), config));
            drive(stream, connection_cancellation, deadline, work).await;
        })
    }
}

/// Reads the only request message of a unary or server-streaming call, and
/// whether it arrived compressed.
async fn read_single_request<M: Message>(
    mut body: RecvBody,
    encoding: Option<Encoding>,
    max_message_size: usize,
) -> Result<(M, bool), Status> {
    let mut decoder = FrameDecoder::new(max_message_size);
    let mut next = poll_fn(|cx| poll_body_message::<M>(&mut decoder, &mut body, encoding, cx));
    let Some(request) = (&mut next).await? else {
        return Err(Status::internal("call ended without a request message"));
    };
    if next.await?.is_some() {
        return Err(Status::internal("more than one request message for a call that takes one"));
    }
    Ok(request)
}
