//! The outbound message stream of a server-streaming or bidirectional call.

use std::marker::PhantomData;

use super::responder::SharedStream;
use super::CallContext;
use crate::codec::{Message, OutboundMessage};
use crate::status::Status;

/// Where a streaming handler sends its responses: `sink.send(msg).await?`.
///
/// `send` waits while the client is not reading (HTTP/2 flow control), so a
/// fast handler cannot outrun a slow client. It fails with CANCELLED once the
/// client is gone; returning that error with `?` ends the handler.
pub struct ResponseSink<M> {
    stream: SharedStream,
    context: CallContext,
    max_send_message_size: usize,
    _message: PhantomData<fn(M)>,
}

impl<M: Message> ResponseSink<M> {
    pub(crate) fn new(stream: SharedStream, context: CallContext, max_send_message_size: usize) -> ResponseSink<M> {
        ResponseSink { stream, context, max_send_message_size, _message: PhantomData }
    }

    /// Sends one message (or an [`Outgoing`](crate::codec::Outgoing) one,
    /// to choose its compression); the response headers go out with the
    /// first one.
    pub async fn send(&mut self, message: impl OutboundMessage<Message = M>) -> Result<(), Status> {
        self.send_all(std::iter::once(message)).await
    }

    /// Sends every message `messages` yields, in order, as [`send`](Self::send)
    /// would one by one, but cheaper: a run of small messages is encoded
    /// into a shared batch under one lock, rather than one call each. A
    /// lazy iterator (`(0..n).map(...)`, as a handler producing replies on
    /// the fly would write) is advanced only while the batch has room, so
    /// it runs at most a batch (64 KiB) ahead of flow control.
    pub async fn send_all<I>(&mut self, messages: I) -> Result<(), Status>
    where
        I: IntoIterator,
        I::Item: OutboundMessage<Message = M>,
        I::IntoIter: Send,
    {
        let messages = messages.into_iter().map(OutboundMessage::into_outgoing);
        self.stream.send_messages(messages, self.max_send_message_size).await
    }

    /// Sends the response headers (with the context's initial metadata) now
    /// rather than with the first message; does nothing once they went out.
    pub fn send_headers(&mut self) -> Result<(), Status> {
        self.stream.ensure_headers()
    }

    /// The call's context (deadline, cancellation, metadata).
    pub fn context(&self) -> &CallContext {
        &self.context
    }
}
