//! The hash of the connection's stream map.

use std::hash::Hasher;

/// Client stream ids are odd and grow: a multiplication spreads them well
/// enough, where SipHash would cost a hundred instructions per lookup for
/// collision resistance the ids do not need (the map is bounded by the
/// concurrency limit, whatever ids a peer picks).
#[derive(Default)]
pub(crate) struct StreamIdHasher(u64);

impl Hasher for StreamIdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u32(&mut self, id: u32) {
        // Fibonacci hashing: 2^64 divided by the golden ratio.
        self.0 = u64::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
