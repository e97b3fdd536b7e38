//! Per-message control of compression on outgoing messages.

use super::Message;

/// A message to send, with its own compression choice.
///
/// Streams and sinks take plain messages, which follow the call's setting
/// (compressed when the call has an encoding); wrap one in `Outgoing` to
/// decide for that message alone:
/// `sink.send(Outgoing::uncompressed(reply)).await?`.
#[derive(Clone, Debug)]
pub struct Outgoing<M> {
    pub(crate) message: M,
    /// `None`: as the call says.
    pub(crate) compress: Option<bool>,
}

impl<M> Outgoing<M> {
    /// Compressed with the call's encoding (sent as is if it has none).
    pub fn compressed(message: M) -> Outgoing<M> {
        Outgoing { message, compress: Some(true) }
    }

    /// Sent uncompressed even if the call has an encoding.
    pub fn uncompressed(message: M) -> Outgoing<M> {
        Outgoing { message, compress: Some(false) }
    }
}

/// Anything that can be sent as a message: a message, or an [`Outgoing`].
pub trait OutboundMessage: Send + 'static {
    /// The message type.
    type Message: Message;
    /// The message and its compression choice.
    fn into_outgoing(self) -> Outgoing<Self::Message>;
}

impl<M: Message> OutboundMessage for M {
    type Message = M;
    fn into_outgoing(self) -> Outgoing<M> {
        Outgoing { message: self, compress: None }
    }
}

impl<M: Message> OutboundMessage for Outgoing<M> {
    type Message = M;
    fn into_outgoing(self) -> Outgoing<M> {
        self
    }
}
