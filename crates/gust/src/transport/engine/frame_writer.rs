//! Encoding the frames this side sends (RFC 9113 sections 4.1 and 6),
//! appended to the connection's write buffer.
//!
//! Each function reserves what it writes, then writes it: nothing is
//! allocated beyond the buffer's own growth. Stream ids and window increments
//! are written with the reserved bit unset, as RFC 9113 section 4.1 asks.

use bytes::{BufMut, BytesMut};

use super::error_code::ErrorCode;
use super::frame_header::{FRAME_HEADER_LEN, MAX_FRAME_LEN, RESERVED_BIT};
use super::settings::{SettingId, MIN_MAX_FRAME_SIZE, SETTING_LEN};
use super::{frame_flags, frame_kind};

/// Length of the fixed part of a GOAWAY payload: last stream id and code.
const GOAWAY_FIXED_LEN: usize = 8;

/// The most debug data a GOAWAY carries: what keeps the frame within the
/// 16384 bytes every peer accepts (RFC 9113 section 4.2) whatever its
/// SETTINGS_MAX_FRAME_SIZE. Debug data is for diagnostics, so the rest is
/// cut rather than risking the peer refusing the frame.
const MAX_GOAWAY_DEBUG_LEN: usize = MIN_MAX_FRAME_SIZE as usize - GOAWAY_FIXED_LEN;

/// Appends a 9-octet frame header. `len` has to fit the header's 24 bits;
/// every caller guarantees it, and a larger one, a bug of this crate, is
/// written as the largest length (and asserted in debug builds) rather than
/// wrapped around.
fn write_header(dst: &mut BytesMut, len: usize, kind: u8, flags: u8, stream_id: u32) {
    debug_assert!(len <= MAX_FRAME_LEN, "frame payload of {len} bytes does not fit a frame header");
    dst.put_uint(len.min(MAX_FRAME_LEN) as u64, 3);
    dst.put_u8(kind);
    dst.put_u8(flags);
    dst.put_u32(stream_id & !RESERVED_BIT);
}

/// Appends a SETTINGS frame announcing `settings` in order (RFC 9113
/// section 6.5).
pub(crate) fn write_settings(dst: &mut BytesMut, settings: &[(SettingId, u32)]) {
    let len = settings.len().saturating_mul(SETTING_LEN);
    dst.reserve(FRAME_HEADER_LEN + len);
    write_header(dst, len, frame_kind::SETTINGS, 0, 0);
    for &(id, value) in settings {
        dst.put_u16(id.code());
        dst.put_u32(value);
    }
}

/// Appends the acknowledgement of the peer's SETTINGS (RFC 9113 section
/// 6.5.3): an empty SETTINGS frame with the ACK flag.
pub(crate) fn write_settings_ack(dst: &mut BytesMut) {
    dst.reserve(FRAME_HEADER_LEN);
    write_header(dst, 0, frame_kind::SETTINGS, frame_flags::ACK, 0);
}

/// Appends a WINDOW_UPDATE granting `increment` more bytes on `stream_id`,
/// or on the connection for stream 0 (RFC 9113 section 6.9). The increment
/// has to be 1..=2^31-1; the reserved bit is not sent.
pub(crate) fn write_window_update(dst: &mut BytesMut, stream_id: u32, increment: u32) {
    dst.reserve(FRAME_HEADER_LEN + 4);
    write_header(dst, 4, frame_kind::WINDOW_UPDATE, 0, stream_id);
    dst.put_u32(increment & !RESERVED_BIT);
}

/// Appends a PING carrying `payload`, or with `ack` the answer echoing the
/// peer's (RFC 9113 section 6.7).
pub(crate) fn write_ping(dst: &mut BytesMut, ack: bool, payload: [u8; 8]) {
    dst.reserve(FRAME_HEADER_LEN + payload.len());
    write_header(dst, payload.len(), frame_kind::PING, if ack { frame_flags::ACK } else { 0 }, 0);
    dst.put_slice(&payload);
}

/// Appends a GOAWAY saying streams above `last_stream_id` were not
/// processed, why the connection closes, and diagnostic `debug` data (RFC
/// 9113 section 6.8), cut to what keeps the frame within 16384 bytes.
pub(crate) fn write_goaway(dst: &mut BytesMut, last_stream_id: u32, code: ErrorCode, debug: &[u8]) {
    let debug = debug.get(..MAX_GOAWAY_DEBUG_LEN).unwrap_or(debug);
    dst.reserve(FRAME_HEADER_LEN + GOAWAY_FIXED_LEN + debug.len());
    write_header(dst, GOAWAY_FIXED_LEN + debug.len(), frame_kind::GOAWAY, 0, 0);
    dst.put_u32(last_stream_id & !RESERVED_BIT);
    dst.put_u32(code.0);
    dst.put_slice(debug);
}

/// Appends an RST_STREAM ending `stream_id` with `code` (RFC 9113 section
/// 6.4).
pub(crate) fn write_rst_stream(dst: &mut BytesMut, stream_id: u32, code: ErrorCode) {
    dst.reserve(FRAME_HEADER_LEN + 4);
    write_header(dst, 4, frame_kind::RST_STREAM, 0, stream_id);
    dst.put_u32(code.0);
}

/// Appends the 9-byte header of a DATA frame whose `len` payload bytes the
/// caller appends (or sends from a separate `Bytes`) right after, so that
/// message data need not be copied into the write buffer (RFC 9113 section
/// 6.1). `len` has to be within the peer's SETTINGS_MAX_FRAME_SIZE; no
/// padding is written.
pub(crate) fn write_data_header(dst: &mut BytesMut, stream_id: u32, len: usize, end_stream: bool) {
    dst.reserve(FRAME_HEADER_LEN);
    write_header(dst, len, frame_kind::DATA, if end_stream { frame_flags::END_STREAM } else { 0 }, stream_id);
}

/// Appends a HEADERS frame carrying the encoded field `block`, split into
/// HEADERS + CONTINUATION frames of at most `max_frame_size` payload bytes
/// each (RFC 9113 sections 4.3, 6.2 and 6.10): END_HEADERS on the last frame,
/// END_STREAM (if asked) on the HEADERS frame, since it applies to the whole
/// block. No padding or priority is written. `max_frame_size` is the peer's
/// SETTINGS_MAX_FRAME_SIZE; a value of 0, which no peer can set, is taken as
/// 1 so that the block still goes out.
pub(crate) fn write_headers(dst: &mut BytesMut, stream_id: u32, block: &[u8], end_stream: bool, max_frame_size: usize) {
    let max_fragment_len = max_frame_size.clamp(1, MAX_FRAME_LEN);
    let frame_count = block.len().div_ceil(max_fragment_len).max(1);
    dst.reserve(block.len() + frame_count * FRAME_HEADER_LEN);
    let end_headers_if_last = |rest: &[u8]| if rest.is_empty() { frame_flags::END_HEADERS } else { 0 };

    let (fragment, mut rest) = block.split_at(block.len().min(max_fragment_len));
    let end_stream = if end_stream { frame_flags::END_STREAM } else { 0 };
    write_header(dst, fragment.len(), frame_kind::HEADERS, end_stream | end_headers_if_last(rest), stream_id);
    dst.put_slice(fragment);
    while !rest.is_empty() {
        let (fragment, after) = rest.split_at(rest.len().min(max_fragment_len));
        rest = after;
        write_header(dst, fragment.len(), frame_kind::CONTINUATION, end_headers_if_last(rest), stream_id);
        dst.put_slice(fragment);
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::transport::engine::frame::{decode, Frame};
    use crate::transport::engine::frame_error::FrameError;
    use crate::transport::engine::frame_header::FrameHeader;

    /// Reads back what the writers appended, as the engine's reader would:
    /// header, then exactly its payload, then decode. Each frame with its
    /// header, so tests can check what `Frame` does not keep.
    fn read_frames(mut bytes: Bytes) -> Vec<(FrameHeader, Result<Frame, FrameError>)> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let header_bytes = bytes.split_to(FRAME_HEADER_LEN);
            let header = FrameHeader::parse(header_bytes.as_ref().try_into().expect("a whole frame header"));
            let payload = bytes.split_to(header.len);
            frames.push((header, decode(&header, payload)));
        }
        frames
    }

    /// The one frame `write` appends, decoded.
    fn round_trip(write: impl FnOnce(&mut BytesMut)) -> Result<Frame, FrameError> {
        let mut dst = BytesMut::new();
        write(&mut dst);
        let mut frames = read_frames(dst.freeze());
        assert_eq!(frames.len(), 1, "{frames:?}");
        frames.remove(0).1
    }

    #[test]
    fn settings_round_trip_in_order() {
        let frame = round_trip(|dst| {
            write_settings(
                dst,
                &[
                    (SettingId::HeaderTableSize, 0),
                    (SettingId::EnablePush, 0),
                    (SettingId::MaxConcurrentStreams, 1024),
                    (SettingId::InitialWindowSize, 1 << 20),
                    (SettingId::MaxFrameSize, 1 << 16),
                    (SettingId::MaxHeaderListSize, 16_384),
                    (SettingId::InitialWindowSize, 1 << 21),
                ],
            )
        });
        let Ok(Frame::Settings { ack: false, settings }) = frame else { panic!("not settings: {frame:?}") };
        assert_eq!(settings.initial_window_size(), Some(1 << 21));
        assert_eq!(settings.max_frame_size(), Some(1 << 16));
    }

    #[test]
    fn settings_are_written_as_id_and_value() {
        let mut dst = BytesMut::new();
        write_settings(&mut dst, &[(SettingId::MaxConcurrentStreams, 100)]);
        assert_eq!(&dst[..], b"\0\0\x06\x04\0\0\0\0\0\0\x03\0\0\0\x64");
    }

    #[test]
    fn empty_settings_and_settings_ack_round_trip() {
        let frame = round_trip(|dst| write_settings(dst, &[]));
        assert_eq!(frame, Ok(Frame::Settings { ack: false, settings: Default::default() }));
        let frame = round_trip(write_settings_ack);
        assert_eq!(frame, Ok(Frame::Settings { ack: true, settings: Default::default() }));
    }

    #[test]
    fn window_update_round_trips_on_a_stream_and_the_connection() {
        assert_eq!(
            round_trip(|dst| write_window_update(dst, 3, 65_535)),
            Ok(Frame::WindowUpdate { stream_id: 3, increment: 65_535 })
        );
        assert_eq!(
            round_trip(|dst| write_window_update(dst, 0, 0x7fff_ffff)),
            Ok(Frame::WindowUpdate { stream_id: 0, increment: 0x7fff_ffff })
        );
    }

    #[test]
    fn window_update_is_written_without_reserved_bits() {
        let mut dst = BytesMut::new();
        write_window_update(&mut dst, 0x8000_0001, 0x8000_0064);
        assert_eq!(&dst[..], b"\0\0\x04\x08\0\0\0\0\x01\0\0\0\x64");
    }

    #[test]
    fn ping_and_its_ack_round_trip() {
        for ack in [false, true] {
            assert_eq!(
                round_trip(|dst| write_ping(dst, ack, *b"gust-pin")),
                Ok(Frame::Ping { ack, payload: *b"gust-pin" })
            );
        }
    }

    #[test]
    fn goaway_round_trips_with_its_debug_data() {
        let frame = round_trip(|dst| write_goaway(dst, 7, ErrorCode::ENHANCE_YOUR_CALM, b"too many resets"));
        let debug = Bytes::from_static(b"too many resets");
        assert_eq!(frame, Ok(Frame::GoAway { last_stream_id: 7, code: ErrorCode::ENHANCE_YOUR_CALM, debug }));
    }

    #[test]
    fn goaway_debug_data_is_cut_to_fit_16384_bytes() {
        let mut dst = BytesMut::new();
        write_goaway(&mut dst, 1, ErrorCode::NO_ERROR, &[b'x'; 20_000]);
        assert_eq!(dst.len(), FRAME_HEADER_LEN + 16_384);
        let frames = read_frames(dst.freeze());
        assert!(matches!(&frames[0].1, Ok(Frame::GoAway { debug, .. }) if debug.len() == 16_384 - 8));
    }

    #[test]
    fn rst_stream_round_trips() {
        assert_eq!(
            round_trip(|dst| write_rst_stream(dst, 5, ErrorCode::REFUSED_STREAM)),
            Ok(Frame::RstStream { stream_id: 5, code: ErrorCode::REFUSED_STREAM })
        );
    }

    #[test]
    fn a_data_header_followed_by_its_payload_round_trips() {
        for end_stream in [false, true] {
            let frame = round_trip(|dst| {
                write_data_header(dst, 1, 5, end_stream);
                dst.put_slice(b"hello");
            });
            let data = Bytes::from_static(b"hello");
            assert_eq!(frame, Ok(Frame::Data { stream_id: 1, data, end_stream, flow_controlled_len: 5 }));
        }
    }

    #[test]
    fn an_empty_data_frame_round_trips() {
        let frame = round_trip(|dst| write_data_header(dst, 9, 0, true));
        assert_eq!(
            frame,
            Ok(Frame::Data { stream_id: 9, data: Bytes::new(), end_stream: true, flow_controlled_len: 0 })
        );
    }

    #[test]
    fn a_block_that_fits_is_one_headers_frame() {
        for end_stream in [false, true] {
            let frame = round_trip(|dst| write_headers(dst, 1, b"\x82\x86\x84", end_stream, 16_384));
            let block = Bytes::from_static(b"\x82\x86\x84");
            let expected = Frame::Headers { stream_id: 1, block, end_stream, end_headers: true, priority: None };
            assert_eq!(frame, Ok(expected));
        }
    }

    #[test]
    fn an_empty_block_is_one_empty_headers_frame() {
        let frame = round_trip(|dst| write_headers(dst, 1, b"", true, 16_384));
        let expected =
            Frame::Headers { stream_id: 1, block: Bytes::new(), end_stream: true, end_headers: true, priority: None };
        assert_eq!(frame, Ok(expected));
    }

    #[test]
    fn a_larger_block_is_split_into_continuations() {
        let block = b"0123456789";
        let mut dst = BytesMut::new();
        write_headers(&mut dst, 3, block, true, 4);
        let frames = read_frames(dst.freeze());
        let expected = [
            Frame::Headers {
                stream_id: 3,
                block: Bytes::from_static(b"0123"),
                end_stream: true,
                end_headers: false,
                priority: None,
            },
            Frame::Continuation { stream_id: 3, block: Bytes::from_static(b"4567"), end_headers: false },
            Frame::Continuation { stream_id: 3, block: Bytes::from_static(b"89"), end_headers: true },
        ];
        let decoded: Vec<_> = frames.into_iter().map(|(_, frame)| frame.expect("valid frame")).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn a_block_of_exactly_whole_frames_ends_without_an_empty_continuation() {
        let mut dst = BytesMut::new();
        write_headers(&mut dst, 1, b"abcdef", false, 3);
        let frames = read_frames(dst.freeze());
        let shapes: Vec<_> = frames.iter().map(|(header, _)| (header.kind, header.len, header.flags)).collect();
        assert_eq!(shapes, [(frame_kind::HEADERS, 3, 0), (frame_kind::CONTINUATION, 3, frame_flags::END_HEADERS)]);
    }

    #[test]
    fn every_fragment_respects_the_frame_size_and_the_block_survives() {
        let block: Vec<u8> = (0..=255).collect();
        for max_frame_size in [1, 2, 7, 100, 255, 256, 257, 16_384] {
            let mut dst = BytesMut::new();
            write_headers(&mut dst, 5, &block, false, max_frame_size);
            let frames = read_frames(dst.freeze());
            assert_eq!(frames.len(), block.len().div_ceil(max_frame_size), "max {max_frame_size}");
            let mut joined = Vec::new();
            for (index, (header, frame)) in frames.iter().enumerate() {
                assert!(header.len <= max_frame_size);
                let last = index == frames.len() - 1;
                assert_eq!(header.flags & frame_flags::END_HEADERS != 0, last);
                match frame {
                    Ok(Frame::Headers { block, .. }) if index == 0 => joined.extend_from_slice(block),
                    Ok(Frame::Continuation { block, .. }) if index > 0 => joined.extend_from_slice(block),
                    other => panic!("frame {index}: {other:?}"),
                }
            }
            assert_eq!(joined, block);
        }
    }

    #[test]
    fn a_max_frame_size_of_0_is_taken_as_1() {
        let mut dst = BytesMut::new();
        write_headers(&mut dst, 1, b"ab", false, 0);
        assert_eq!(read_frames(dst.freeze()).len(), 2);
    }

    #[test]
    fn frames_append_to_what_the_buffer_holds() {
        let mut dst = BytesMut::new();
        write_settings_ack(&mut dst);
        write_ping(&mut dst, true, [1; 8]);
        write_rst_stream(&mut dst, 1, ErrorCode::CANCEL);
        let frames: Vec<_> = read_frames(dst.freeze()).into_iter().map(|(_, frame)| frame).collect();
        assert_eq!(
            frames,
            [
                Ok(Frame::Settings { ack: true, settings: Default::default() }),
                Ok(Frame::Ping { ack: true, payload: [1; 8] }),
                Ok(Frame::RstStream { stream_id: 1, code: ErrorCode::CANCEL }),
            ]
        );
    }
}
