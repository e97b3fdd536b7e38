//! Reading a message where it lies, inside the chunk it arrived in.

use bytes::{Buf, Bytes};

/// The first bytes of a received chunk, as a [`Buf`] prost decodes a message
/// from without copying it out: a `bytes` field becomes a slice of the chunk
/// (a reference count), everything else is read from a plain `&[u8]`.
///
/// `Take<&mut Bytes>` gives the same bytes, but each of prost's reads and
/// advances then goes through the limit and the `Bytes` in turn: about 30
/// of the 411 instructions a client spent per streamed 16-byte message.
pub(crate) struct InPlace<'a> {
    chunk: &'a Bytes,
    /// What is left of the message: a subslice of `chunk`.
    unread: &'a [u8],
}

impl<'a> InPlace<'a> {
    /// The first `len` bytes of `chunk`; panics if it is shorter.
    #[inline]
    pub(crate) fn new(chunk: &'a Bytes, len: usize) -> InPlace<'a> {
        InPlace { chunk, unread: &chunk[..len] }
    }
}

impl Buf for InPlace<'_> {
    #[inline]
    fn remaining(&self) -> usize {
        self.unread.len()
    }

    #[inline]
    fn chunk(&self) -> &[u8] {
        self.unread
    }

    #[inline]
    fn advance(&mut self, count: usize) {
        self.unread = &self.unread[count..];
    }

    #[inline]
    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        let start = self.unread.as_ptr() as usize - self.chunk.as_ptr() as usize;
        // Advancing first panics, as `Buf` requires, if `len` runs past the
        // message (though still inside the chunk).
        self.advance(len);
        self.chunk.slice(start..start + len)
    }
}
