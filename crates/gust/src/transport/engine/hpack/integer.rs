//! Prefix integers (RFC 7541 5.1): indexes, lengths and table sizes, filling
//! the low bits of a representation's first octet and, when they do not
//! fit, continuing seven bits per octet.

use bytes::{BufMut, BytesMut};

use super::DecodeError;

/// The most continuation octets a decoded integer may take: five carry 35
/// bits, enough for any value up to `u32::MAX`. More would only be padding
/// (or an attack), so they are refused rather than read.
const MAX_CONTINUATION_OCTETS: usize = 5;

/// Decodes the integer at the start of `bytes`, whose first octet carries it
/// in its low `prefix_bits` bits (1 to 8). Returns the value and the number
/// of octets it took.
pub(super) fn decode(bytes: &[u8], prefix_bits: u32) -> Result<(usize, usize), DecodeError> {
    let Some((&first, continuation)) = bytes.split_first() else { return Err(DecodeError::Truncated) };
    let prefix_max = (1u64 << prefix_bits) - 1;
    let prefix = u64::from(first) & prefix_max;
    if prefix < prefix_max {
        return to_usize(prefix).map(|value| (value, 1));
    }
    let mut value = prefix_max;
    for (position, &octet) in continuation.iter().take(MAX_CONTINUATION_OCTETS).enumerate() {
        value += u64::from(octet & 0x7f) << (7 * position);
        if octet & 0x80 == 0 {
            return to_usize(value).map(|value| (value, position + 2));
        }
    }
    if continuation.len() < MAX_CONTINUATION_OCTETS {
        Err(DecodeError::Truncated)
    } else {
        Err(DecodeError::IntegerTooLarge)
    }
}

/// A decoded value, if it is within `u32` (and so within `usize`).
fn to_usize(value: u64) -> Result<usize, DecodeError> {
    u32::try_from(value).ok().and_then(|value| usize::try_from(value).ok()).ok_or(DecodeError::IntegerTooLarge)
}

/// Appends `value` with a `prefix_bits`-bit prefix (1 to 8), the first
/// octet's higher bits taken from `flags` (the representation's pattern).
pub(super) fn encode(value: usize, prefix_bits: u32, flags: u8, dst: &mut BytesMut) {
    let prefix_max = (1usize << prefix_bits) - 1;
    if value < prefix_max {
        dst.put_u8(flags | value as u8);
        return;
    }
    dst.put_u8(flags | prefix_max as u8);
    let mut rest = value - prefix_max;
    while rest >= 0x80 {
        dst.put_u8(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    dst.put_u8(rest as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(value: usize, prefix_bits: u32, flags: u8) -> Vec<u8> {
        let mut dst = BytesMut::new();
        encode(value, prefix_bits, flags, &mut dst);
        dst.to_vec()
    }

    /// RFC 7541 C.1.1: 10 with a 5-bit prefix.
    #[test]
    fn c_1_1_ten_in_a_five_bit_prefix() {
        assert_eq!(encoded(10, 5, 0), [0x0a]);
        assert_eq!(decode(&[0x0a], 5), Ok((10, 1)));
    }

    /// RFC 7541 C.1.2: 1337 with a 5-bit prefix.
    #[test]
    fn c_1_2_1337_in_a_five_bit_prefix() {
        assert_eq!(encoded(1337, 5, 0), [0x1f, 0x9a, 0x0a]);
        assert_eq!(decode(&[0x1f, 0x9a, 0x0a], 5), Ok((1337, 3)));
    }

    /// RFC 7541 C.1.3: 42 starting at an octet boundary (8-bit prefix).
    #[test]
    fn c_1_3_42_in_an_eight_bit_prefix() {
        assert_eq!(encoded(42, 8, 0), [0x2a]);
        assert_eq!(decode(&[0x2a], 8), Ok((42, 1)));
    }

    #[test]
    fn flags_and_trailing_bytes_are_left_alone() {
        assert_eq!(encoded(2, 7, 0x80), [0x82]);
        assert_eq!(encoded(127, 7, 0x80), [0xff, 0x00]);
        assert_eq!(decode(&[0xe2, 0xff], 7), Ok((0x62, 1)));
        assert_eq!(decode(&[0xff, 0x00, 0xff], 7), Ok((127, 2)));
    }

    #[test]
    fn round_trips_across_prefixes() {
        for prefix_bits in 1..=8 {
            for value in [0, 1, 30, 31, 127, 128, 254, 255, 256, 1 << 14, 1 << 21, 1 << 28, u32::MAX as usize] {
                let bytes = encoded(value, prefix_bits, 0);
                assert_eq!(decode(&bytes, prefix_bits), Ok((value, bytes.len())), "{value} in {prefix_bits} bits");
            }
        }
    }

    #[test]
    fn a_missing_octet_is_truncation() {
        assert_eq!(decode(&[], 5), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0x1f], 5), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0x1f, 0x9a], 5), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0x1f, 0x80, 0x80, 0x80, 0x80], 5), Err(DecodeError::Truncated));
    }

    #[test]
    fn values_past_u32_or_too_many_octets_are_refused() {
        // 31 + (2^32 - 31): one past u32::MAX.
        let mut past = encoded(u32::MAX as usize, 5, 0);
        assert_eq!(decode(&past, 5), Ok((u32::MAX as usize, past.len())));
        past = encoded(u32::MAX as usize + 1, 5, 0);
        assert_eq!(decode(&past, 5), Err(DecodeError::IntegerTooLarge));
        // Zero padding in a sixth continuation octet.
        assert_eq!(decode(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 5), Err(DecodeError::IntegerTooLarge));
        assert_eq!(decode(&[0xff; 64], 8), Err(DecodeError::IntegerTooLarge));
    }
}
