//! Length-prefixed messages: a 1-byte compressed flag, a 4-byte big-endian
//! length, then the message. DATA frame boundaries have nothing to do with
//! message boundaries, so the decoder reassembles across chunks.

use std::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{append_written, encode_message_of_len, Encoding, Message, Splices};
use crate::status::Status;

/// Size of the prefix before every message.
pub(crate) const HEADER_LEN: usize = 5;

/// Encodes `message` with its prefix, compressed with `compression` if that
/// is a real encoding; refuses messages over `max_len` (before compression).
/// Its large `bytes` fields stay where they are (see [`Splices`]).
pub(crate) fn encode_frame<M: Message>(
    message: &M,
    max_len: usize,
    compression: Option<Encoding>,
) -> Result<EncodedFrame, Status> {
    let mut buf = BytesMut::new();
    let mut splices = Splices::default();
    encode_frame_into(message, max_len, compression, &mut buf, Some(&mut splices))?;
    let mut rest = VecDeque::new();
    let first = splices.drain(&mut buf, &mut rest);
    Ok(EncodedFrame { first, rest })
}

/// One encoded message with its prefix, in the pieces it goes out in: one,
/// unless large fields were left where they are.
#[derive(Debug)]
pub(crate) struct EncodedFrame {
    pub(crate) first: Bytes,
    pub(crate) rest: VecDeque<Bytes>,
}

/// Appends `message` with its prefix to `buf`, as [`encode_frame`] encodes
/// it. Senders that batch messages encode straight into their batch, which
/// saves a buffer and a copy per message; with `splices`, an uncompressed
/// message's large fields are noted there instead of copied (see
/// [`Splices`]). On error `buf` and `splices` are left as they were.
///
/// Always inlined, so that a batch of small uncompressed messages is a loop
/// of plain writes: as a call, its frame setup cost about 20 of a 16-byte
/// message's 300 instructions, and `#[inline]` alone stopped being followed
/// when the splices came. Compression and every failure are built out of
/// line.
#[inline(always)]
pub(crate) fn encode_frame_into<M: Message>(
    message: &M,
    max_len: usize,
    compression: Option<Encoding>,
    buf: &mut BytesMut,
    splices: Option<&mut Splices>,
) -> Result<(), Status> {
    let len = message.encoded_len();
    if len > max_len {
        return Err(over_send_limit(len, max_len));
    }
    match compression {
        Some(encoding) if encoding != Encoding::Identity => encode_compressed_into(message, len, encoding, buf),
        _ => {
            let prefix = wire_length(len)?;
            append_written(buf, HEADER_LEN + len, splices, |room| {
                room.put_u8(0);
                room.put_u32(prefix);
                message.encode_to(room);
            })
        }
    }
}

/// [`encode_frame_into`] for a message of `len` bytes sent compressed.
/// Kept out of line: compressing costs far more than a call, and every send
/// loop that inlines [`encode_frame_into`] stays small.
#[inline(never)]
fn encode_compressed_into<M: Message>(
    message: &M,
    len: usize,
    encoding: Encoding,
    buf: &mut BytesMut,
) -> Result<(), Status> {
    let start = buf.len();
    let encoded = encode_message_of_len(message, len)?;
    buf.reserve(HEADER_LEN + len / 2);
    buf.put_slice(&[1, 0, 0, 0, 0]);
    let compressed_len = encoding.compress(&encoded, buf).and_then(|()| wire_length(buf.len() - start - HEADER_LEN));
    match compressed_len {
        Ok(compressed_len) => {
            buf[start + 1..start + HEADER_LEN].copy_from_slice(&compressed_len.to_be_bytes());
            Ok(())
        }
        Err(status) => {
            buf.truncate(start);
            Err(status)
        }
    }
}

#[cold]
#[inline(never)]
fn over_send_limit(len: usize, max_len: usize) -> Status {
    Status::resource_exhausted(format!("message of {len} bytes exceeds the send limit of {max_len} bytes"))
}

/// A message length as the 4-byte prefix carries it.
#[inline]
fn wire_length(len: usize) -> Result<u32, Status> {
    u32::try_from(len).map_err(|_| too_large_for_framing(len))
}

#[cold]
#[inline(never)]
fn too_large_for_framing(len: usize) -> Status {
    Status::resource_exhausted(format!("message of {len} bytes is too large for gRPC framing"))
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
///
/// A message that lies whole inside a chunk is handed out as a slice of that
/// chunk, without a copy; only a message split across chunks is copied, into
/// a buffer reserved for exactly its size.
pub(crate) struct FrameDecoder {
    /// The start of a message whose end has not arrived yet.
    partial: BytesMut,
    /// What is left of the last chunk pushed, after the messages taken.
    rest: Bytes,
    max_len: usize,
}

impl FrameDecoder {
    pub(crate) fn new(max_len: usize) -> FrameDecoder {
        FrameDecoder { partial: BytesMut::new(), rest: Bytes::new(), max_len }
    }

    /// Adds a received chunk. Call [`FrameDecoder::next_frame`] until it
    /// returns `None` before pushing the next one.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        debug_assert!(self.rest.is_empty(), "pushed a chunk before the last one was consumed");
        self.rest = chunk;
    }

    /// The next whole message, if one is buffered.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame>, Status> {
        if !self.partial.is_empty() {
            return self.complete_partial();
        }
        if self.rest.len() < HEADER_LEN {
            self.partial.extend_from_slice(&self.rest);
            self.rest.clear();
            return Ok(None);
        }
        let (compressed, len) = self.parse_prefix(&self.rest[..HEADER_LEN])?;
        if self.rest.len() < HEADER_LEN + len {
            self.partial.reserve(HEADER_LEN + len);
            self.partial.extend_from_slice(&self.rest);
            self.rest.clear();
            return Ok(None);
        }
        self.rest.advance(HEADER_LEN);
        Ok(Some(Frame { compressed, payload: self.rest.split_to(len) }))
    }

    /// The next message if it is uncompressed and lies whole in the last
    /// chunk, decoded in place (without even taking a slice of the chunk for
    /// it); `None` when [`FrameDecoder::next_message`] must take it from
    /// there: a split or compressed message, a refused prefix, or none.
    #[inline]
    pub(crate) fn next_in_place<M: Message>(&mut self) -> Option<Result<M, Status>> {
        if !self.partial.is_empty() || self.rest.len() < HEADER_LEN {
            return None;
        }
        let (flag, len) = prefix_fields(&self.rest[..HEADER_LEN]);
        if flag != 0 || len > self.max_len || self.rest.len() - HEADER_LEN < len {
            return None;
        }
        self.rest.advance(HEADER_LEN);
        let message = M::decode_prefix(&self.rest, len);
        self.rest.advance(len);
        Some(message)
    }

    /// The next whole message, decoded, and whether it arrived compressed:
    /// in place if it can be, or else through [`FrameDecoder::next_frame`].
    pub(crate) fn next_message<M: Message>(&mut self, encoding: Option<Encoding>) -> Result<Option<(M, bool)>, Status> {
        if let Some(message) = self.next_in_place() {
            return message.map(|message| Some((message, false)));
        }
        match self.next_frame()? {
            Some(frame) => {
                let compressed = frame.compressed;
                super::decode_frame(frame, encoding, self.max_len).map(|message| Some((message, compressed)))
            }
            None => Ok(None),
        }
    }

    /// Moves bytes from the last chunk to the split message until it is whole.
    fn complete_partial(&mut self) -> Result<Option<Frame>, Status> {
        if self.partial.len() < HEADER_LEN {
            let take = (HEADER_LEN - self.partial.len()).min(self.rest.len());
            self.partial.extend_from_slice(&self.rest.split_to(take));
            if self.partial.len() < HEADER_LEN {
                return Ok(None);
            }
        }
        let (compressed, len) = self.parse_prefix(&self.partial[..HEADER_LEN])?;
        let missing = HEADER_LEN + len - self.partial.len();
        self.partial.reserve(missing);
        let take = missing.min(self.rest.len());
        self.partial.extend_from_slice(&self.rest.split_to(take));
        if take < missing {
            return Ok(None);
        }
        let mut whole = self.partial.split();
        whole.advance(HEADER_LEN);
        Ok(Some(Frame { compressed, payload: whole.freeze() }))
    }

    /// Reads a message prefix: the compressed flag and the length, which
    /// must be within the limit.
    #[inline]
    fn parse_prefix(&self, prefix: &[u8]) -> Result<(bool, usize), Status> {
        let (flag, len) = prefix_fields(prefix);
        if flag > 1 || len > self.max_len {
            return Err(self.refuse_prefix(flag, len));
        }
        Ok((flag == 1, len))
    }

    /// Why a prefix is refused; out of line, as it is rare and its
    /// formatting would weigh on every message's path.
    #[cold]
    #[inline(never)]
    fn refuse_prefix(&self, flag: u8, len: usize) -> Status {
        if flag > 1 {
            return Status::internal(format!("invalid compressed flag {flag} in message prefix"));
        }
        Status::resource_exhausted(format!(
            "received message of {len} bytes exceeds the limit of {} bytes",
            self.max_len
        ))
    }

    /// Checks that the body ended on a message boundary.
    pub(crate) fn finish(&self) -> Result<(), Status> {
        let left = self.partial.len() + self.rest.len();
        if left == 0 {
            Ok(())
        } else {
            Err(Status::internal(format!("stream ended inside a message ({left} bytes of an incomplete message)")))
        }
    }
}

/// The compressed flag and the length a message prefix carries, unchecked.
#[inline]
fn prefix_fields(prefix: &[u8]) -> (u8, usize) {
    (prefix[0], u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame in one piece, as the peer reads it.
    fn encode_frame<M: Message>(message: &M, max_len: usize, compression: Option<Encoding>) -> Result<Bytes, Status> {
        let EncodedFrame { first, rest } = super::encode_frame(message, max_len, compression)?;
        Ok(std::iter::once(first).chain(rest).flatten().collect())
    }

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
    fn messages_split_across_three_chunks() {
        let first = encode_frame(&"split me".to_string(), 100, None).unwrap();
        let second = encode_frame(&"and me".to_string(), 100, None).unwrap();
        let wire = [first.to_vec(), second.to_vec()].concat();
        for a in 0..wire.len() {
            for b in a..wire.len() {
                let mut decoder = FrameDecoder::new(100);
                let mut got = Vec::new();
                for chunk in [&wire[..a], &wire[a..b], &wire[b..]] {
                    decoder.push(Bytes::copy_from_slice(chunk));
                    got.extend(frames(&mut decoder));
                }
                decoder.finish().unwrap();
                let payloads: Vec<&[u8]> = got.iter().map(|frame| &frame.payload[2..]).collect();
                assert_eq!(payloads, [&b"split me"[..], b"and me"], "splits at {a} and {b}");
            }
        }
    }

    #[test]
    fn whole_messages_are_slices_of_their_chunk() {
        let wire: Vec<u8> = (0..3).flat_map(|_| encode_frame(&"in place".to_string(), 100, None).unwrap()).collect();
        let chunk = Bytes::from(wire);
        let range = chunk.as_ptr_range();
        let mut decoder = FrameDecoder::new(100);
        decoder.push(chunk.clone());
        let got = frames(&mut decoder);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|frame| range.contains(&frame.payload.as_ptr())), "a message was copied");
    }

    #[test]
    fn bytes_fields_decoded_in_place_share_the_chunk() {
        // `Bytes` is prost's `BytesValue`: one `bytes` field, decoded as
        // `gust-build`'s generated fields are.
        let payload = Bytes::from_static(&[7; 64]);
        let chunk = encode_frame(&payload, 100, None).unwrap();
        let range = chunk.as_ptr_range();
        let mut decoder = FrameDecoder::new(100);
        decoder.push(chunk.clone());
        let (decoded, _) = decoder.next_message::<Bytes>(None).unwrap().unwrap();
        assert_eq!(decoded, payload);
        assert!(range.contains(&decoded.as_ptr()), "the field was copied out of the chunk");
    }

    #[test]
    fn large_bytes_fields_are_spliced_not_copied() {
        let small = Bytes::from_static(&[1; 10]);
        let large = Bytes::from(vec![7; crate::codec::splices::SPLICE_MIN_LEN]);
        let mut buf = BytesMut::new();
        let mut splices = Splices::default();
        for message in [&small, &large, &small] {
            encode_frame_into(message, usize::MAX, None, &mut buf, Some(&mut splices)).unwrap();
        }
        assert_eq!(splices.len(), large.len(), "the large field was not spliced");
        let mut later = VecDeque::new();
        let chunks: Vec<Bytes> = std::iter::once(splices.drain(&mut buf, &mut later)).chain(later).collect();
        assert!(chunks.iter().any(|chunk| chunk.as_ptr() == large.as_ptr()), "the large field was copied");
        let wire: Vec<u8> = chunks.iter().flat_map(|chunk| chunk.iter().copied()).collect();
        let expected: Vec<u8> =
            [&small, &large, &small].iter().flat_map(|m| encode_frame(*m, usize::MAX, None).unwrap()).collect();
        assert_eq!(wire, expected);
    }

    #[test]
    fn messages_decode_in_place_split_or_compressed() {
        let plain = encode_frame(&"in place".to_string(), 100, None).unwrap();
        let split = encode_frame(&"split".to_string(), 100, None).unwrap();
        let zipped = encode_frame(&"zipped ".repeat(10), 1000, Some(Encoding::Gzip)).unwrap();
        let wire = [plain.to_vec(), zipped.to_vec(), split.to_vec()].concat();
        let cut = wire.len() - 3;
        let mut decoder = FrameDecoder::new(1000);
        let mut got = Vec::new();
        for chunk in [&wire[..cut], &wire[cut..]] {
            decoder.push(Bytes::copy_from_slice(chunk));
            while let Some(message) = decoder.next_message::<String>(Some(Encoding::Gzip)).unwrap() {
                got.push(message);
            }
        }
        decoder.finish().unwrap();
        let expected = [("in place".to_string(), false), ("zipped ".repeat(10), true), ("split".to_string(), false)];
        assert_eq!(got, expected);
    }

    #[test]
    fn a_message_that_does_not_decode_is_an_error() {
        // Its field claims 5 bytes: the chunk holds them (the next message),
        // but the message does not, and decoding must not read past it.
        let next = encode_frame(&"next".to_string(), 100, None).unwrap();
        let wire = [&[0, 0, 0, 0, 2, 0x0a, 0x05][..], &next].concat();
        let mut decoder = FrameDecoder::new(100);
        decoder.push(Bytes::from(wire));
        assert_eq!(decoder.next_message::<String>(None).unwrap_err().code(), crate::Code::Internal);
        assert_eq!(decoder.next_message::<String>(None).unwrap(), Some(("next".to_string(), false)));
        decoder.finish().unwrap();
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
