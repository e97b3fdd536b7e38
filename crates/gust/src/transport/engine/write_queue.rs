//! The bytes a connection has yet to write to its socket, in order.
//!
//! Frames are small and many (headers, trailers, window updates, the header
//! of each DATA frame): they are appended to one buffer. Large DATA payloads
//! are kept as the `Bytes` the call handed over and written from there with
//! vectored writes, so a 1 MiB message is not copied once more on its way
//! out.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// Payloads shorter than this are copied into the buffer: below it, a copy
/// costs less than one more slice for the kernel to gather.
const COPY_BELOW: usize = 1024;

#[derive(Default)]
pub(crate) struct WriteQueue {
    /// Whole pieces, oldest first, ahead of `tail`.
    pieces: VecDeque<Bytes>,
    /// Where new frames are appended.
    tail: BytesMut,
    /// Bytes in `pieces` and `tail`.
    len: usize,
}

impl WriteQueue {
    /// Bytes waiting to be written.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends frames written by `write` into the buffer.
    pub(crate) fn append(&mut self, write: impl FnOnce(&mut BytesMut)) {
        let before = self.tail.len();
        write(&mut self.tail);
        self.len += self.tail.len() - before;
    }

    /// Appends a DATA payload: copied if small, kept as it is if not.
    pub(crate) fn append_payload(&mut self, payload: Bytes) {
        self.len += payload.len();
        if payload.len() < COPY_BELOW {
            self.tail.extend_from_slice(&payload);
            return;
        }
        if !self.tail.is_empty() {
            self.pieces.push_back(self.tail.split().freeze());
        }
        self.pieces.push_back(payload);
    }

    /// Moves everything queued in `other` behind what this queue holds.
    pub(crate) fn take_all(&mut self, other: &mut WriteQueue) {
        if !self.tail.is_empty() {
            self.pieces.push_back(self.tail.split().freeze());
        }
        self.pieces.append(&mut other.pieces);
        if self.pieces.is_empty() {
            std::mem::swap(&mut self.tail, &mut other.tail);
        } else if !other.tail.is_empty() {
            self.pieces.push_back(other.tail.split().freeze());
        }
        self.len += std::mem::take(&mut other.len);
    }

    /// Fills `slices` with the next bytes to write, for a vectored write;
    /// returns how many it filled. (A writer without vectored writes takes
    /// the first.)
    pub(crate) fn slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut count = 0;
        let rest = (!self.tail.is_empty()).then_some(&self.tail[..]);
        for piece in self.pieces.iter().map(|piece| &piece[..]).chain(rest) {
            if count == slices.len() {
                break;
            }
            slices[count] = IoSlice::new(piece);
            count += 1;
        }
        count
    }

    /// Drops the first `written` bytes, which the socket took.
    pub(crate) fn consume(&mut self, mut written: usize) {
        self.len -= written;
        while written > 0 {
            let Some(piece) = self.pieces.front_mut() else {
                self.tail.advance(written);
                return;
            };
            if written < piece.len() {
                piece.advance(written);
                return;
            }
            written -= piece.len();
            self.pieces.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(queue: &WriteQueue) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); 8];
        let count = queue.slices(&mut slices);
        slices[..count].iter().flat_map(|slice| slice.to_vec()).collect()
    }

    #[test]
    fn frames_and_payloads_leave_in_order_and_large_payloads_are_not_copied() {
        let mut queue = WriteQueue::default();
        queue.append(|buf| buf.extend_from_slice(b"head"));
        let large = Bytes::from(vec![7u8; 4096]);
        queue.append_payload(large.clone());
        queue.append(|buf| buf.extend_from_slice(b"tail"));
        queue.append_payload(Bytes::from_static(b"small"));
        assert_eq!(queue.len(), 4 + 4096 + 4 + 5);
        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(queue.slices(&mut slices), 3);
        assert_eq!(slices[1].as_ptr(), large.as_ptr(), "the large payload was copied");

        let mut expected = b"head".to_vec();
        expected.extend(vec![7u8; 4096]);
        expected.extend(b"tailsmall");
        assert_eq!(contents(&queue), expected);

        queue.consume(4 + 100);
        assert_eq!(contents(&queue), expected[104..]);
        queue.consume(3996 + 2);
        assert_eq!(contents(&queue), b"ilsmall");
        queue.consume(7);
        assert!(queue.is_empty());
        assert!(contents(&queue).is_empty());
    }

    #[test]
    fn taking_another_queue_keeps_the_order() {
        let mut first = WriteQueue::default();
        first.append(|buf| buf.extend_from_slice(b"one "));
        let mut second = WriteQueue::default();
        second.append(|buf| buf.extend_from_slice(b"two "));
        second.append_payload(Bytes::from(vec![b'3'; 2000]));
        second.append(|buf| buf.extend_from_slice(b" four"));
        first.take_all(&mut second);
        assert!(second.is_empty());
        let mut expected = b"one two ".to_vec();
        expected.extend(vec![b'3'; 2000]);
        expected.extend(b" four");
        assert_eq!(contents(&first), expected);
        assert_eq!(first.len(), expected.len());
    }
}
