//! Length-prefixed messages: a 1-byte compressed flag, a 4-byte big-endian
//! length, then the message. DATA frame boundaries have nothing to do with
//! message boundaries, so the decoder reassembles across chunks.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{Encoding, Message};
use crate::status::Status;

/// Size of the prefix before every message.
pub(crate) const HEADER_LEN: usize = 5;

/// Encodes `message` with its prefix, compressed with `compression` if that
/// is a real encoding; refuses messages over `max_len` (before compression).
pub(crate) fn encode_frame<M: Message>(
    message: &M,
    max_len: usize,
    compression: Option<Encoding>,
) -> Result<Bytes, Status> {
    let len = message.encoded_len();
    if len > max_len {
        return Err(Status::resource_exhausted(format!(
            "message of {len} bytes exceeds the send limit of {max_len} bytes"
        )));
    }
    match compression {
        Some(encoding) if encoding != Encoding::Identity => {
            let mut encoded = BytesMut::with_capacity(len);
            message.encode_to(&mut encoded);
            let mut buf = BytesMut::with_capacity(HEADER_LEN + len / 2);
            buf.put_slice(&[1, 0, 0, 0, 0]);
            encoding.compress(&encoded, &mut buf)?;
            let compressed_len = wire_length(buf.len() - HEADER_LEN)?;
            buf[1..HEADER_LEN].copy_from_slice(&compressed_len.to_be_bytes());
            Ok(buf.freeze())
        }
        _ => {
            let mut buf = BytesMut::with_capacity(HEADER_LEN + len);
            buf.put_u8(0);
            buf.put_u32(wire_length(len)?);
            message.encode_to(&mut buf);
            Ok(buf.freeze())
        }
    }
}

/// A message length as the 4-byte prefix carries it.
fn wire_length(len: usize) -> Result<u32, Status> {
    u32::try_from(len)
        .map_err(|_| Status::resource_exhausted(format!("message of {len} bytes is too large for gRPC framing")))
}

/// One received message, still encoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The compressed flag: the payload uses the stream's `grpc-encoding`.
    pub(crate) compressed: bool,
    pub(crate) payload: Bytes,
}

/// Reassembles messages from body chunks, enforcing the receive limit before
/// buffering a message (a peer announcing 4 GiB costs nothing).
pub(crate) struct FrameDecoder {
    /// Bytes received that do not yet form a whole message.
    buffered: BytesMut,
    max_len: usize,
}

impl FrameDecoder {
    pub(crate) fn new(max_len: usize) -> FrameDecoder {
        FrameDecoder { buffered: BytesMut::new(), max_len }
    }

    /// Adds a received chunk. Call [`FrameDecoder::next_frame`] until it
    /// returns `None` before pushing the next one.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        self.buffered.extend_from_slice(&chunk);
    }

    /// The next whole message, if one is buffered.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame>, Status> {
        if self.buffered.len() < HEADER_LEN {
            return Ok(None);
        }
        let flag = self.buffered[0];
        let len = u32::from_be_bytes([self.buffered[1], self.buffered[2], self.buffered[3], self.buffered[4]]) as usize;
        if flag > 1 {
            return Err(Status::internal(format!("invalid compressed flag {flag} in message prefix")));
        }
        if len > self.max_len {
            return Err(Status::resource_exhausted(format!(
                "received message of {len} bytes exceeds the limit of {} bytes",
                self.max_len
            )));
        }
        if self.buffered.len() < HEADER_LEN + len {
            self.buffered.reserve(HEADER_LEN + len - self.buffered.len());
            return Ok(None);
        }
        self.buffered.advance(HEADER_LEN);
        let payload = self.buffered.split_to(len).freeze();
        Ok(Some(Frame { compressed: flag == 1, payload }))
    }

    /// Checks that the body ended on a message boundary.
    pub(crate) fn finish(&self) -> Result<(), Status> {
        if self.buffered.is_empty() {
            Ok(())
        } else {
            Err(Status::internal(format!(
                "stream ended inside a message ({} bytes of an incomplete message)",
                self.buffered.len()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(decoder: &mut FrameDecoder) -> Vec<Frame> {
        std::iter::from_fn(|| decoder.next_frame().unwrap()).collect()
    }

    #[test]
    fn messages_split_and_joined_across_chunks() {
        let first = encode_frame(&"hello".to_string(), 100, None).unwrap();
        let second = encode_frame(&"world!".to_string(), 100, None).unwrap();
        let mut wire = first.to_vec();
        wire.extend_from_slice(&second);

        for split in 0..wire.len() {
            let mut decoder = FrameDecoder::new(100);
            decoder.push(Bytes::copy_from_slice(&wire[..split]));
            let mut got = frames(&mut decoder);
            decoder.push(Bytes::copy_from_slice(&wire[split..]));
            got.extend(frames(&mut decoder));
            decoder.finish().unwrap();
            assert_eq!(got.len(), 2, "split at {split}");
            assert_eq!(&got[0].payload[2..], b"hello");
            assert_eq!(&got[1].payload[2..], b"world!");
        }
    }

    #[test]
    fn oversized_prefix_is_refused_before_buffering() {
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(Bytes::from_static(&[0, 0xff, 0xff, 0xff, 0xff]));
        let error = decoder.next_frame().unwrap_err();
        assert_eq!(error.code(), crate::Code::ResourceExhausted);
    }

    #[test]
    fn truncated_and_malformed_input() {
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(Bytes::from_static(&[0, 0, 0, 0, 9, 1, 2]));
        assert_eq!(decoder.next_frame().unwrap(), None);
        assert_eq!(decoder.finish().unwrap_err().code(), crate::Code::Internal);

        let mut decoder = FrameDecoder::new(1024);
        decoder.push(Bytes::from_static(&[7, 0, 0, 0, 0]));
        assert_eq!(decoder.next_frame().unwrap_err().code(), crate::Code::Internal);
    }

    #[test]
    fn compressed_frames_carry_the_flag_and_decode() {
        let message = "compress me ".repeat(100);
        for encoding in [Encoding::Gzip, Encoding::Deflate] {
            let frame = encode_frame(&message, usize::MAX, Some(encoding)).unwrap();
            assert_eq!(frame[0], 1);
            let mut decoder = FrameDecoder::new(1 << 20);
            decoder.push(frame);
            let frame = decoder.next_frame().unwrap().unwrap();
            let decoded: String = crate::codec::decode_frame(frame, Some(encoding), 1 << 20).unwrap();
            assert_eq!(decoded, message);
        }
        let plain = encode_frame(&message, usize::MAX, Some(Encoding::Identity)).unwrap();
        assert_eq!(plain[0], 0, "identity is no compression");
    }

    #[test]
    fn send_limit_is_enforced() {
        let error = encode_frame(&"x".repeat(10), 5, None).unwrap_err();
        assert_eq!(error.code(), crate::Code::ResourceExhausted);
    }
}
