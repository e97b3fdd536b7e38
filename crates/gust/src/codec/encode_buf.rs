//! The room a message is encoded into: the buffer's spare capacity, written
//! once, never zero-filled first.

use std::mem::MaybeUninit;

use bytes::buf::UninitSlice;
use bytes::{BufMut, Bytes, BytesMut};

use super::splices::{Splices, SPLICE_MIN_LEN};
use super::Message;
use crate::status::Status;

/// Where [`Message::encode_to`] writes a message: room for exactly its
/// `encoded_len` bytes, taken from the outgoing buffer's spare capacity.
///
/// Writing goes through [`BufMut`], whose writes into a plain slice are a
/// bounds check and a store each. Because the room is uninitialised and only
/// `BufMut` can fill it, gust knows how many bytes a message really wrote
/// and never sends a byte that was not written.
///
/// A sender that can send fields by reference passes a record of them: a
/// field of 64 KiB or more that a message puts whole (prost puts a
/// `bytes::Bytes` field so) is then not copied but noted there, and the
/// room's last bytes, as many as were noted, stay unwritten.
pub struct EncodeBuf<'a> {
    /// The part of the room not written yet.
    unwritten: &'a mut [MaybeUninit<u8>],
    /// Where large fields go instead of the room, if they may.
    splices: Option<&'a mut Splices>,
    /// The buffer offset just past the room: the next byte goes at this
    /// less what is unwritten.
    room_end: usize,
    /// Bytes of this room's message noted in `splices`.
    spliced: usize,
}

impl EncodeBuf<'_> {
    /// The buffer offset of the next byte written.
    fn offset(&self) -> usize {
        self.room_end - self.unwritten.len()
    }
}

// SAFETY: every method hands its work to the slice's own `BufMut`, so the
// slice only ever shrinks past bytes that were initialised.
unsafe impl BufMut for EncodeBuf<'_> {
    #[inline]
    fn remaining_mut(&self) -> usize {
        // Saturating: a message that writes past its announced length can
        // write into the room a spliced field left; the send then fails.
        self.unwritten.len().saturating_sub(self.spliced)
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
    /// round) would cost more than the copy itself. A large `Bytes` goes to
    /// the splices if there are any: its `copy_to_bytes` is a reference,
    /// where other sources' (a `Vec<u8>` field's slice) would allocate and
    /// copy. The type is told by name, as `put` has no `'static` bound for
    /// `TypeId`; a namesake would only be copied once more, never sent wrong.
    #[inline]
    fn put<T: bytes::Buf>(&mut self, mut source: T)
    where
        Self: Sized,
    {
        let len = source.remaining();
        if len >= SPLICE_MIN_LEN
            && len <= self.remaining_mut()
            && std::any::type_name::<T>() == std::any::type_name::<Bytes>()
        {
            let offset = self.offset();
            if let Some(splices) = self.splices.as_deref_mut() {
                splices.push(offset, source.copy_to_bytes(len));
                self.spliced += len;
                return;
            }
        }
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
/// into `BytesMut` itself is a capacity check and a `memcpy` call), but
/// for the large fields noted in `splices`, if given. If `write` leaves
/// bytes unwritten, as a message writing fewer bytes than its
/// `encoded_len` would, `buf` and `splices` are left as they were and the
/// call fails: sending it would break the framing.
#[inline]
pub(crate) fn append_written(
    buf: &mut BytesMut,
    len: usize,
    mut splices: Option<&mut Splices>,
    write: impl FnOnce(&mut EncodeBuf<'_>),
) -> Result<(), Status> {
    buf.reserve(len);
    let start = buf.len();
    let mark = splices.as_deref().map(Splices::count);
    let mut room = EncodeBuf {
        unwritten: &mut buf.spare_capacity_mut()[..len],
        splices: splices.as_deref_mut(),
        room_end: start + len,
        spliced: 0,
    };
    write(&mut room);
    let (unwritten, spliced) = (room.unwritten.len(), room.spliced);
    if unwritten != spliced {
        if let (Some(splices), Some(mark)) = (splices, mark) {
            splices.truncate(mark);
        }
        return Err(wrote_other_than_announced(unwritten, spliced));
    }
    // SAFETY: the room, the `len` bytes after `buf.len()`, was written but
    // for its last `spliced` bytes: only `BufMut` writes could shrink it,
    // and what is left of it is exactly that long.
    unsafe { buf.set_len(start + len - spliced) };
    Ok(())
}

/// A message wrote fewer bytes than its `encoded_len`, or (past a
/// referenced field, into the room it left) more.
#[cold]
#[inline(never)]
fn wrote_other_than_announced(unwritten: usize, spliced: usize) -> Status {
    let message = if unwritten > spliced {
        format!("message encoding ended {} bytes short of its announced length", unwritten - spliced)
    } else {
        format!("message encoding wrote {} bytes past its announced length", spliced - unwritten)
    };
    Status::internal(message)
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
    append_written(&mut buf, len, None, |room| message.encode_to(room))?;
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
        append_written(&mut buf, 4, None, |room| "hi".to_string().encode_to(room)).unwrap();
        assert_eq!(&buf[..], b"kept\x0a\x02hi");
        assert_eq!(&encode_message(&"hi".to_string()).unwrap()[..], b"\x0a\x02hi");
    }

    /// Puts a large field, then two bytes, and announces `announced`
    /// bytes: more or fewer than it writes.
    struct MisannouncedAfterLargeField {
        field: Bytes,
        announced: usize,
    }

    impl MisannouncedAfterLargeField {
        /// A large field, announced as its length plus `announced_extra`.
        fn new(announced_extra: usize) -> MisannouncedAfterLargeField {
            let field = Bytes::from(vec![2; SPLICE_MIN_LEN]);
            MisannouncedAfterLargeField { announced: field.len() + announced_extra, field }
        }
    }

    impl Message for MisannouncedAfterLargeField {
        fn encoded_len(&self) -> usize {
            self.announced
        }
        fn encode_to(&self, buf: &mut EncodeBuf<'_>) {
            buf.put(self.field.clone());
            buf.put_slice(b"ab");
        }
        fn decode_from(buf: Bytes) -> Result<MisannouncedAfterLargeField, Status> {
            Ok(MisannouncedAfterLargeField { announced: buf.len(), field: buf })
        }
    }

    #[test]
    fn a_short_message_with_a_spliced_field_fails_and_leaves_the_splices() {
        let mut buf = BytesMut::from(&b"kept"[..]);
        let mut splices = Splices::default();
        splices.push(2, Bytes::from(vec![1; SPLICE_MIN_LEN]));
        // Announces one byte more than it writes.
        let message = MisannouncedAfterLargeField::new(3);
        let error = append_written(&mut buf, message.encoded_len(), Some(&mut splices), |room| message.encode_to(room))
            .unwrap_err();
        assert_eq!(error.code(), Code::Internal);
        assert_eq!(&buf[..], b"kept");
        assert_eq!((splices.count(), splices.len()), (1, SPLICE_MIN_LEN));
    }

    #[test]
    fn a_long_message_with_a_spliced_field_fails_and_says_so() {
        let mut buf = BytesMut::new();
        let mut splices = Splices::default();
        // Writes one byte more than it announces.
        let message = MisannouncedAfterLargeField::new(1);
        let error = append_written(&mut buf, message.encoded_len(), Some(&mut splices), |room| message.encode_to(room))
            .unwrap_err();
        assert_eq!(error.code(), Code::Internal);
        assert!(error.message().contains("1 bytes past"), "{}", error.message());
        assert!(buf.is_empty());
        assert_eq!(splices.count(), 0);
    }

    #[test]
    fn a_large_slice_is_copied_not_spliced() {
        let mut buf = BytesMut::new();
        let mut splices = Splices::default();
        let field = vec![3; SPLICE_MIN_LEN];
        append_written(&mut buf, SPLICE_MIN_LEN, Some(&mut splices), |room| room.put(&field[..])).unwrap();
        assert_eq!(&buf[..], &field[..]);
        assert_eq!(splices.count(), 0);
    }

    #[test]
    fn a_spliced_field_leaves_its_room_unwritten() {
        let mut buf = BytesMut::from(&b"kept"[..]);
        let mut splices = Splices::default();
        let field = Bytes::from(vec![2; SPLICE_MIN_LEN]);
        append_written(&mut buf, SPLICE_MIN_LEN + 2, Some(&mut splices), |room| {
            room.put_u8(b'<');
            room.put(field.clone());
            room.put_u8(b'>');
        })
        .unwrap();
        assert_eq!(&buf[..], b"kept<>");
        assert_eq!((splices.count(), splices.len()), (1, SPLICE_MIN_LEN));
        let mut later = std::collections::VecDeque::new();
        assert_eq!(splices.drain(&mut buf, &mut later), Bytes::from_static(b"kept<"));
        assert_eq!(later, [field, Bytes::from_static(b">")]);
    }

    #[test]
    fn a_message_shorter_than_announced_fails_and_leaves_the_buffer() {
        let mut buf = BytesMut::from(&b"kept"[..]);
        let error = append_written(&mut buf, Short.encoded_len(), None, |room| Short.encode_to(room)).unwrap_err();
        assert_eq!(error.code(), Code::Internal);
        assert_eq!(&buf[..], b"kept");
    }
}
