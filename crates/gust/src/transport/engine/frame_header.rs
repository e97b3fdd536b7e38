//! The 9-octet header every HTTP/2 frame starts with (RFC 9113 section 4.1).

use super::error_code::ErrorCode;
use super::frame_error::FrameError;

/// Length of a frame header: 24-bit length, type, flags, 32-bit stream id.
/// The reader waits for this many bytes before it knows how many more follow.
pub(crate) const FRAME_HEADER_LEN: usize = 9;

/// The largest payload length a frame header can state (2^24 - 1), which is
/// also the largest SETTINGS_MAX_FRAME_SIZE a peer may set.
pub(crate) const MAX_FRAME_LEN: usize = (1 << 24) - 1;

/// The most significant bit of stream ids and window increments, which is
/// reserved: senders leave it unset and receivers ignore it (RFC 9113
/// sections 4.1 and 6.9). In a priority's dependency field it is the
/// exclusive flag instead (sections 6.2 and 6.3).
pub(crate) const RESERVED_BIT: u32 = 1 << 31;

/// A parsed frame header: enough to know how long the payload is and what
/// to do with it once it has arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Payload length in bytes, excluding these 9 octets.
    pub(crate) len: usize,
    /// The frame type octet; see `frame_kind`. Kept as received because an
    /// unknown type is a frame to ignore, not an error.
    pub(crate) kind: u8,
    /// The flags octet; see `frame_flags`. Meaning depends on `kind`.
    pub(crate) flags: u8,
    /// The stream the frame belongs to, 0 for the connection, with the
    /// reserved bit cleared as RFC 9113 section 4.1 asks of receivers.
    pub(crate) stream_id: u32,
}

impl FrameHeader {
    /// Reads a header from its 9 octets. Every bit pattern is a header, so
    /// this cannot fail: whether the frame makes sense is for `check_len`
    /// and `decode` to say.
    pub(crate) fn parse(bytes: &[u8; FRAME_HEADER_LEN]) -> FrameHeader {
        let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = *bytes;
        FrameHeader {
            len: usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2),
            kind,
            flags,
            stream_id: u32::from_be_bytes([s0, s1, s2, s3]) & !RESERVED_BIT,
        }
    }

    /// Whether this header's flags octet has `flag` set.
    pub(crate) fn has_flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Refuses a frame longer than this side's SETTINGS_MAX_FRAME_SIZE before
/// its payload is read, so a peer cannot make the reader buffer more than the
/// limit. RFC 9113 section 4.2 makes this FRAME_SIZE_ERROR, a connection
/// error for any frame that can change connection state; it is a connection
/// error here for every frame type, which is always allowed (section 5.4.1)
/// and spares the caller knowing which frames those are.
pub(crate) fn check_len(header: &FrameHeader, max_frame_size: usize) -> Result<(), FrameError> {
    if header.len > max_frame_size {
        return Err(FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, "frame larger than SETTINGS_MAX_FRAME_SIZE"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_type_flags_and_stream() {
        let header = FrameHeader::parse(&[0x01, 0x02, 0x03, 0x01, 0x25, 0x00, 0x00, 0x01, 0x01]);
        assert_eq!(header, FrameHeader { len: 0x010203, kind: 0x1, flags: 0x25, stream_id: 257 });
        assert!(header.has_flag(0x20));
        assert!(!header.has_flag(0x08));
    }

    #[test]
    fn the_reserved_bit_of_the_stream_id_is_cleared() {
        let header = FrameHeader::parse(&[0, 0, 0, 0, 0, 0x80, 0, 0, 0x03]);
        assert_eq!(header.stream_id, 3);
        let header = FrameHeader::parse(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!((header.len, header.stream_id), (MAX_FRAME_LEN, 0x7fff_ffff));
    }

    #[test]
    fn check_len_allows_frames_up_to_the_limit() {
        let header = FrameHeader { len: 16_384, kind: 0, flags: 0, stream_id: 1 };
        assert_eq!(check_len(&header, 16_384), Ok(()));
    }

    #[test]
    fn check_len_refuses_a_longer_frame_as_a_connection_frame_size_error() {
        let header = FrameHeader { len: 16_385, kind: 0, flags: 0, stream_id: 1 };
        assert!(matches!(check_len(&header, 16_384), Err(FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, _))));
    }
}
