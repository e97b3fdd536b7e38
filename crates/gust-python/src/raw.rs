//! Messages as bytes: serialization stays in Python, with the user's
//! serializers, so the Rust side moves opaque payloads.

use bytes::{BufMut as _, Bytes};
use gust::codec::{EncodeBuf, Message};
use gust::Status;

/// A serialized message. Decoding is free (the payload is the frame's own
/// bytes); encoding copies it once, into the frame.
#[derive(Debug, Clone)]
pub(crate) struct Raw(pub(crate) Bytes);

impl Message for Raw {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn encode_to(&self, buf: &mut EncodeBuf<'_>) {
        buf.put_slice(&self.0);
    }

    fn decode_from(buf: Bytes) -> Result<Raw, Status> {
        Ok(Raw(buf))
    }
}
