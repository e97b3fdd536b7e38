//! The outbound message stream of a server-streaming or bidirectional call.

use std::marker::PhantomData;

use super::responder::SharedStream;
use super::CallContext;
use crate::codec::{encode_frame, Message};
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

    /// Sends one message; the response headers go out with the first one.
    pub async fn send(&mut self, message: M) -> Result<(), Status> {
        let frame = encode_frame(&message, self.max_send_message_size)?;
        self.stream.ensure_headers(&self.context)?;
        self.stream.send_frame(frame).await
    }

    /// The call's context (deadline, cancellation, metadata).
    pub fn context(&self) -> &CallContext {
        &self.context
    }
}
