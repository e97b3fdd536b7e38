//! The room a message is encoded into: the buffer's spare capacity, written
//! once, never zero-filled first.

use std::mem::MaybeUninit;

use bytes::buf::UninitSlice;
use bytes::{BufMut, Bytes, BytesMut};

use super::Message;
use crate::status::Status;

/// Where [`Message::encode_to`] writes a message: room for exactly its
/// `encoded_len` bytes, taken from the outgoing buffer's spare capacity.
///
/// Writing goes through [`BufMut`], whose writes into a plain slice are a
/// bounds check and a store each. Because the room is uninitialised and only
/// `BufMut` can fill it, gust knows how many bytes a message really wrote
/// and never sends a byte that was not written.
pub struct EncodeBuf<'a> {
    /// The part of the room not written yet.
    unwritten: &'a mut [MaybeUninit<u8>],
}

// SAFETY: every method hands its work to the slice's own `BufMut`, so the
// slice only ever shrinks past bytes that were initialised.
unsafe impl BufMut for EncodeBuf<'_> {
    #[inline]
    fn remaining_mut(&self) -> usize {
        self.unwritten.len()
    }

    #[inline]
    unsafe fn advance_mut(&mut self, count: usize) {
        // SAFETY: the caller initialised `count` bytes of `chunk_mut`.
        unsafe { self.unwritten.advance_mut(count) }
    }

    #[inline]
    fn chunk_mut(&mut self) -> &mut UninitSlice {
        self.unwritten.chunk_mut()
    }

    #[inline]
    fn put_slice(&mut self, source: &[u8]) {
        self.unwritten.put_slice(source);
    }

    #[inline]
    fn put_u8(&mut self, byte: u8) {
        self.unwritten.put_u8(byte);
    }

    /// A chunk at a time. prost writes a `bytes::Bytes` field this way,
    /// and the provided method's general loop (a chunk of each side per
    /// round) would cost more than the copy itself.
    #[inline]
    fn put<T: bytes::Buf>(&mut self, mut source: T)
    where
        Self: Sized,
    {
        while source.has_remaining() {
            let chunk = source.chunk();
            let len = chunk.len();
            self.put_slice(chunk);
            source.advance(len);
        }
    }
}

/// Appends `len` bytes to `buf`, all of them written by `write` into one
/// [`EncodeBuf`] (a frame's prefix and its message go in together: a write
/// into `BytesMut` itself is a capacity check and a `memcpy` call). If
/// `write` leaves bytes unwritten, as a message writing fewer bytes than
/// its `encoded_len` would, `buf` is left as it was and the call fails:
/// sending it would break the framing.
#[inline]
pub(crate) fn append_written(
    buf: &mut BytesMut,
    len: usize,
    write: impl FnOnce(&mut EncodeBuf<'_>),
) -> Result<(), Status> {
    buf.reserve(len);
    let mut room = EncodeBuf { unwritten: &mut buf.spare_capacity_mut()[..len] };
    write(&mut room);
    let unwritten = room.unwritten.len();
    if unwritten != 0 {
        return Err(written_short(unwritten));
    }
    // SAFETY: the room, the `len` bytes after `buf.len()`, was written whole:
    // only `BufMut` writes could shrink it, and it is empty.
    unsafe { buf.set_len(buf.len() + len) };
    Ok(())
}

#[cold]
#[inline(never)]
fn written_short(unwritten: usize) -> Status {
    Status::internal(format!("message encoding ended {unwritten} bytes short of its announced length"))
}

/// The encoding of `message` as gust sends it, without the frame's prefix:
/// what a test of a hand-written [`Message`] compares.
pub fn encode_message<M: Message>(message: &M) -> Result<Bytes, Status> {
    encode_message_of_len(message, message.encoded_len()).map(BytesMut::freeze)
}

/// [`encode_message`] for a sender that already asked the message its
/// `encoded_len`.
pub(crate) fn encode_message_of_len<M: Message>(message: &M, len: usize) -> Result<BytesMut, Status> {
    let mut buf = BytesMut::new();
    append_written(&mut buf, len, |room| message.encode_to(room))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    /// Announces one byte more than it writes.
    struct Short;

    impl Message for Short {
        fn encoded_len(&self) -> usize {
            3
        }
        fn encode_to(&self, buf: &mut EncodeBuf<'_>) {
            buf.put_slice(b"ab");
        }
        fn decode_from(_: Bytes) -> Result<Short, Status> {
            Ok(Short)
        }
    }

    #[test]
    fn messages_are_written_after_what_the_buffer_holds() {
        let mut buf = BytesMut::from(&b"kept"[..]);
        append_written(&mut buf, 4, |room| "hi".to_string().encode_to(room)).unwrap();
        assert_eq!(&buf[..], b"kept\x0a\x02hi");
        assert_eq!(&encode_message(&"hi".to_string()).unwrap()[..], b"\x0a\x02hi");
    }

    #[test]
    fn a_message_shorter_than_announced_fails_and_leaves_the_buffer() {
        let mut buf = BytesMut::from(&b"kept"[..]);
        let error = append_written(&mut buf, Short.encoded_len(), |room| Short.encode_to(room)).unwrap_err();
        assert_eq!(error.code(), Code::Internal);
        assert_eq!(&buf[..], b"kept");
    }
}
