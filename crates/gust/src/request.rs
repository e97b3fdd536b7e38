//! A call's request as both sides see it: the message (or message stream),
//! the caller's metadata, its timeout, and on the server the call's context.

use std::time::Duration;

use futures_core::Stream;

use crate::codec::{Encoding, OutboundMessage};
use crate::metadata::Metadata;
use crate::server::CallContext;

/// A request: a message (or, for client-streaming calls, a stream of them)
/// with metadata.
///
/// On the client, build one to attach metadata or a timeout to a call:
/// `Request::new(msg).with_timeout(Duration::from_secs(1))`. A plain message
/// converts on its own wherever a call takes `impl IntoRequest<M>`.
///
/// On the server, handlers receive one and read the caller's metadata, the
/// deadline, and the [`CallContext`].
#[derive(Debug)]
pub struct Request<T> {
    metadata: Metadata,
    message: T,
    options: CallOptions,
    context: CallContext,
}

/// How a client sends a call, besides its metadata.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CallOptions {
    pub(crate) timeout: Option<Duration>,
    /// The call's `grpc-encoding`.
    pub(crate) compression: Option<Encoding>,
    /// On the server: whether the request message arrived compressed. On
    /// the client: whether to send the single request message uncompressed
    /// although the call has an encoding.
    pub(crate) uncompressed_message: bool,
}

impl<T> Request<T> {
    /// A request carrying `message` and no metadata.
    pub fn new(message: T) -> Request<T> {
        Request {
            metadata: Metadata::new(),
            message,
            options: CallOptions::default(),
            context: CallContext::detached(),
        }
    }

    pub(crate) fn from_server(metadata: Metadata, message: T, compressed: bool, context: CallContext) -> Request<T> {
        let options =
            CallOptions { timeout: context.time_remaining(), compression: None, uncompressed_message: !compressed };
        Request { metadata, message, options, context }
    }

    /// Sets the call's timeout (client side): the call fails with
    /// DEADLINE_EXCEEDED when it runs out, and the server is told the deadline.
    pub fn with_timeout(mut self, timeout: Duration) -> Request<T> {
        self.options.timeout = Some(timeout);
        self
    }

    /// Compresses the call's messages with `encoding` (client side): sent
    /// as `grpc-encoding`, applied to every request message unless one says
    /// otherwise.
    pub fn with_compression(mut self, encoding: Encoding) -> Request<T> {
        self.options.compression = Some(encoding);
        self
    }

    /// Whether the single request message of a unary or server-streaming
    /// call is compressed when the call has an encoding (default: yes).
    pub fn with_message_compression(mut self, compress: bool) -> Request<T> {
        self.options.uncompressed_message = !compress;
        self
    }

    /// On the server: whether the request message arrived compressed (for
    /// client-streaming calls see [`crate::Streaming::last_message_compressed`]).
    pub fn message_compressed(&self) -> bool {
        !self.options.uncompressed_message
    }

    /// Replaces the metadata sent with the request (client side).
    pub fn with_metadata(mut self, metadata: Metadata) -> Request<T> {
        self.metadata = metadata;
        self
    }

    /// The request metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Mutable request metadata.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// The timeout set on the client, or on the server the time that was
    /// left when the call arrived.
    pub fn timeout(&self) -> Option<Duration> {
        self.options.timeout
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// The message, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// The message, consuming the request.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// The server-side context of the call: deadline, cancellation, response
    /// metadata, peer. Detached (no deadline, never cancelled) on the client.
    pub fn context(&self) -> &CallContext {
        &self.context
    }

    /// On the server: values the interceptors handed to the handler, e.g.
    /// `request.extensions().get::<Claims>()`. Empty on the client.
    pub fn extensions(&self) -> &http::Extensions {
        self.context.extensions()
    }

    /// Splits into metadata, message and options, for sending.
    pub(crate) fn into_parts(self) -> (Metadata, T, CallOptions) {
        (self.metadata, self.message, self.options)
    }
}

/// Anything that can be sent as a unary or server-streaming request: a
/// message, or a [`Request`] around it.
pub trait IntoRequest<T> {
    /// Wraps into a request.
    fn into_request(self) -> Request<T>;
}

impl<T> IntoRequest<T> for T {
    fn into_request(self) -> Request<T> {
        Request::new(self)
    }
}

impl<T> IntoRequest<T> for Request<T> {
    fn into_request(self) -> Request<T> {
        self
    }
}

/// Anything that can be sent as a client-streaming or bidirectional request:
/// a stream of messages (or of [`Outgoing`](crate::codec::Outgoing) messages),
/// or a [`Request`] around one.
pub trait IntoStreamingRequest {
    /// The message type.
    type Message;
    /// The stream of messages.
    type Stream: Stream<Item: OutboundMessage<Message = Self::Message>> + Send + 'static;
    /// Wraps into a request.
    fn into_streaming_request(self) -> Request<Self::Stream>;
}

impl<S> IntoStreamingRequest for S
where
    S: Stream + Send + 'static,
    S::Item: OutboundMessage,
{
    type Message = <S::Item as OutboundMessage>::Message;
    type Stream = S;
    fn into_streaming_request(self) -> Request<S> {
        Request::new(self)
    }
}

impl<S> IntoStreamingRequest for Request<S>
where
    S: Stream + Send + 'static,
    S::Item: OutboundMessage,
{
    type Message = <S::Item as OutboundMessage>::Message;
    type Stream = S;
    fn into_streaming_request(self) -> Request<S> {
        self
    }
}
