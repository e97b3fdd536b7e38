//! The four call kinds on a [`Channel`], used by generated clients.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use tokio::time::{Instant, Sleep};

use super::{Channel, RequestPump};
use crate::codec::{encode_frame, Encoding, Message, OutboundMessage};
use crate::metadata::Metadata;
use crate::protocol;
use crate::request::CallOptions;
use crate::request::Request;
use crate::response::Response;
use crate::status::{Code, Status};
use crate::streaming::Streaming;
use crate::transport::{NoResponse, RecvBody, ResponseHead};

impl Channel {
    /// A unary call: one request, one response.
    pub async fn unary<Req: Message, Resp: Message>(
        &self,
        path: &'static str,
        request: Request<Req>,
    ) -> Result<Response<Resp>, Status> {
        let (metadata, message, options) = request.into_parts();
        let options = self.with_defaults(options);
        within(options.timeout, async {
            let head = self.unary_head(path, &metadata, &options, &message).await?;
            single_response(Streaming::client_received(head, self.config().max_receive_message_size)).await
        })
        .await
    }

    /// A server-streaming call: one request, a stream of responses.
    pub async fn server_streaming<Req: Message, Resp: Message>(
        &self,
        path: &'static str,
        request: Request<Req>,
    ) -> Result<Streaming<Resp>, Status> {
        let (metadata, message, options) = request.into_parts();
        let options = self.with_defaults(options);
        let deadline = deadline_timer(options.timeout);
        within(options.timeout, async {
            let head = self.start_with_message(path, &metadata, &options, &message).await?;
            Ok(response_stream(self, head, deadline, None))
        })
        .await
    }

    /// A client-streaming call: a stream of requests, one response.
    pub async fn client_streaming<S, Resp>(
        &self,
        path: &'static str,
        request: Request<S>,
    ) -> Result<Response<Resp>, Status>
    where
        S: Stream + Send + 'static,
        S::Item: OutboundMessage,
        Resp: Message,
    {
        let (metadata, requests, options) = request.into_parts();
        let options = self.with_defaults(options);
        within(options.timeout, async {
            let (head, pump) = self.start_with_stream(path, &metadata, &options, requests).await?;
            single_response(response_stream(self, head, None, Some(pump))).await
        })
        .await
    }

    /// A bidirectional streaming call: requests and responses flow
    /// independently.
    pub async fn bidi_streaming<S, Resp>(
        &self,
        path: &'static str,
        request: Request<S>,
    ) -> Result<Streaming<Resp>, Status>
    where
        S: Stream + Send + 'static,
        S::Item: OutboundMessage,
        Resp: Message,
    {
        let (metadata, requests, options) = request.into_parts();
        let options = self.with_defaults(options);
        let deadline = deadline_timer(options.timeout);
        within(options.timeout, async {
            let (head, pump) = self.start_with_stream(path, &metadata, &options, requests).await?;
            Ok(response_stream(self, head, deadline, Some(pump)))
        })
        .await
    }
}

impl Channel {
    /// Starts a call that sends one request message: opens the stream and
    /// sends the message. A failure to send is not the call's result: the
    /// server may have answered before reading it all (a request over its
    /// size limit, an unknown method), and then its status, read next, says
    /// why.
    async fn start_with_message<Req: Message>(
        &self,
        path: &'static str,
        metadata: &Metadata,
        options: &CallOptions,
        message: &Req,
    ) -> Result<ResponseHead, Status> {
        let compression = options.compression.filter(|_| !options.uncompressed_message);
        let frame = encode_frame(message, self.config().max_send_message_size, compression)?;
        let (head, mut send) = self.open(path, metadata, options, false).await?;
        if let Err(status) = send.send_frame(frame, true).await {
            tracing::debug!(%status, "request not fully sent; the response tells why");
        }
        Ok(head)
    }

    /// Starts a unary call and waits for its response headers. A call the
    /// server never processed is made once more: a server that starts to
    /// drain refuses the streams a client opened before it heard of the
    /// GOAWAY, and the retry goes to a new connection.
    async fn unary_head<Req: Message>(
        &self,
        path: &'static str,
        metadata: &Metadata,
        options: &CallOptions,
        message: &Req,
    ) -> Result<ReceivedHead, Status> {
        let mut retried = false;
        loop {
            let head = self.start_with_message(path, metadata, options, message).await?;
            match head.receive().await {
                Ok((head, body)) => return check_head(head, body),
                Err(NoResponse { unprocessed: true, status }) if !retried => {
                    tracing::debug!(%status, "the server did not process the call; making it again");
                    retried = true;
                }
                Err(NoResponse { status, .. }) => return Err(status),
            }
        }
    }

    /// Starts a call whose requests come from a stream: opens the stream and
    /// starts the task that sends them.
    async fn start_with_stream<S>(
        &self,
        path: &'static str,
        metadata: &Metadata,
        options: &CallOptions,
        requests: S,
    ) -> Result<(ResponseHead, RequestPump), Status>
    where
        S: Stream + Send + 'static,
        S::Item: OutboundMessage,
    {
        let (head, send) = self.open(path, metadata, options, false).await?;
        Ok((head, RequestPump::spawn(send, requests, options.compression, self.config().max_send_message_size)))
    }
}

/// The response headers of a client call, once received and checked.
pub(crate) struct ReceivedHead {
    pub(crate) metadata: Metadata,
    pub(crate) body: RecvBody,
    /// The response's `grpc-encoding`.
    pub(crate) encoding: Option<Encoding>,
    /// Set when the response was Trailers-Only with an OK status: its metadata.
    pub(crate) trailers_only: Option<Metadata>,
}

/// The response stream of a call: its headers are awaited when the first
/// message is read.
fn response_stream<Resp>(
    channel: &Channel,
    head: ResponseHead,
    deadline: Option<Pin<Box<Sleep>>>,
    pump: Option<RequestPump>,
) -> Streaming<Resp> {
    Streaming::client(head, channel.config().max_receive_message_size, deadline, pump)
}

/// Checks the response headers: a non-gRPC answer or a Trailers-Only
/// response ends the call here; otherwise the body is the message stream.
pub(crate) fn check_head(head: http::response::Parts, body: RecvBody) -> Result<ReceivedHead, Status> {
    if head.status != http::StatusCode::OK {
        let http_status = head.status;
        return Err(protocol::read_status(head.headers).unwrap_or_else(|_| {
            let code = Code::from_http_status(http_status.as_u16());
            Status::new(code, format!("server answered with HTTP status {http_status}"))
        }));
    }
    let content_type = head.headers.get(protocol::CONTENT_TYPE).map(http::HeaderValue::as_bytes);
    if !content_type.is_some_and(protocol::is_grpc_content_type) {
        return Err(Status::unknown(format!(
            "server answered with content-type {content_type:?}, not application/grpc"
        )));
    }
    let encoding = match head.headers.get(protocol::GRPC_ENCODING) {
        None => None,
        Some(name) => Some(
            Encoding::from_name(name.as_bytes())
                .ok_or_else(|| Status::internal(format!("server used unsupported grpc-encoding {name:?}")))?,
        ),
    };
    match protocol::read_status(head.headers) {
        // Trailers-Only: the status came with the headers.
        Ok(mut status) if status.is_ok() => {
            let trailers_only = Some(std::mem::take(status.metadata_mut()));
            Ok(ReceivedHead { metadata: Metadata::new(), body, encoding, trailers_only })
        }
        Ok(status) => Err(status),
        Err(headers) => {
            Ok(ReceivedHead { metadata: Metadata::from_headers(headers), body, encoding, trailers_only: None })
        }
    }
}

/// Reads the only message of a unary or client-streaming response.
async fn single_response<Resp: Message>(mut responses: Streaming<Resp>) -> Result<Response<Resp>, Status> {
    let Some(message) = responses.message().await? else {
        return Err(Status::internal("response ended with OK but without a message"));
    };
    let compressed = responses.last_message_compressed();
    if responses.message().await?.is_some() {
        return Err(Status::internal("more than one response message for a call that returns one"));
    }
    let (metadata, trailers) = responses.take_metadata();
    Ok(Response::from_parts(metadata, message, trailers.unwrap_or_default(), compressed))
}

/// Runs a call's setup within its timeout: past it the call fails with
/// DEADLINE_EXCEEDED and is dropped, which cancels its stream.
async fn within<T>(timeout: Option<Duration>, call: impl Future<Output = Result<T, Status>>) -> Result<T, Status> {
    match timeout {
        None => call.await,
        Some(timeout) => tokio::time::timeout(timeout, call)
            .await
            .unwrap_or_else(|_| Err(Status::deadline_exceeded("deadline exceeded"))),
    }
}

/// The timer a response stream checks, for the part of the call after setup.
fn deadline_timer(timeout: Option<Duration>) -> Option<Pin<Box<Sleep>>> {
    let deadline = Instant::now().checked_add(timeout?)?;
    Some(Box::pin(tokio::time::sleep_until(deadline)))
}
