//! Large `bytes` fields sent by reference: an outgoing buffer's messages
//! hold a gap where each such field goes, and the field's own bytes follow
//! the buffer's bytes before the gap when the batch is handed to HTTP/2.
//!
//! A 1 MiB field costs a 1 MiB copy into the encode buffer otherwise, for
//! bytes that usually sit in memory already (a file read, a slice of a
//! received message), and HTTP/2 writes a large DATA payload to the socket
//! from where it lies.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// Fields this large are sent by reference; smaller ones are copied. Below
/// it, the copy costs less than what a reference adds: the buffer cut in
/// two (which makes it shared, an allocation) and one more DATA frame.
pub(crate) const SPLICE_MIN_LEN: usize = 64 * 1024;

/// The fields referenced by an outgoing buffer, in order, each with the
/// buffer offset it goes at.
#[derive(Debug, Default)]
pub(crate) struct Splices {
    fields: Vec<(usize, Bytes)>,
    /// Their bytes, all together.
    len: usize,
}

impl Splices {
    /// Notes `field` as going after the buffer's first `offset` bytes.
    pub(crate) fn push(&mut self, offset: usize, field: Bytes) {
        debug_assert!(self.fields.last().is_none_or(|(last, _)| *last <= offset), "splices out of order");
        self.len += field.len();
        self.fields.push((offset, field));
    }

    /// The bytes of all referenced fields.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// How many fields are referenced (a mark for [`Splices::truncate`]).
    pub(crate) fn count(&self) -> usize {
        self.fields.len()
    }

    /// Forgets the fields noted after the first `count`.
    pub(crate) fn truncate(&mut self, count: usize) {
        for (_, field) in self.fields.drain(count..) {
            self.len -= field.len();
        }
    }

    /// Empties `buffer` and the splices into the pieces that go out, in
    /// wire order: the first is returned, the others (one per field, and
    /// the buffer's bytes between them) are put in `later`, which must be
    /// empty. Without fields the buffer is the one piece, taken whole: a
    /// buffer split becomes shared, which allocates.
    pub(crate) fn drain(&mut self, buffer: &mut BytesMut, later: &mut VecDeque<Bytes>) -> Bytes {
        let mut rest = std::mem::take(buffer).freeze();
        if self.fields.is_empty() {
            return rest;
        }
        let mut cut = 0;
        for (offset, field) in self.fields.drain(..) {
            let before = rest.split_to(offset - cut);
            cut = offset;
            if !before.is_empty() {
                later.push_back(before);
            }
            later.push_back(field);
        }
        self.len = 0;
        if !rest.is_empty() {
            later.push_back(rest);
        }
        later.pop_front().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_go_into_their_gaps_in_order() {
        let mut splices = Splices::default();
        splices.push(2, Bytes::from_static(b"XX"));
        splices.push(2, Bytes::from_static(b"YY"));
        splices.push(5, Bytes::from_static(b"ZZ"));
        assert_eq!(splices.len(), 6);
        let mut buffer = BytesMut::from(&b"abcdefg"[..]);
        let mut later = VecDeque::new();
        let first = splices.drain(&mut buffer, &mut later);
        let wire: Vec<u8> = std::iter::once(first).chain(later).flatten().collect();
        assert_eq!(wire, b"abXXYYcdeZZfg");
        assert!(buffer.is_empty());
        assert_eq!(splices.len(), 0);
    }

    #[test]
    fn truncating_forgets_the_later_fields() {
        let mut splices = Splices::default();
        splices.push(0, Bytes::from_static(b"kept"));
        let mark = splices.count();
        splices.push(1, Bytes::from_static(b"dropped"));
        splices.truncate(mark);
        assert_eq!(splices.len(), 4);
        let mut later = VecDeque::new();
        assert_eq!(splices.drain(&mut BytesMut::from(&b"ab"[..]), &mut later), Bytes::from_static(b"kept"));
        assert_eq!(later, [Bytes::from_static(b"ab")]);
    }
}
