//! Decoding a frame's payload into what it says (RFC 9113 section 6),
//! checking the framing rules the RFC sets for each type.
//!
//! Only rules that one frame shows on its own are checked here. Rules about
//! sequences of frames and stream states (CONTINUATION following HEADERS,
//! frames on closed streams, flow-control totals, the limit from
//! SETTINGS_MAX_FRAME_SIZE, which `check_len` applies before the payload is
//! read) belong to the connection that keeps that state.

use bytes::Bytes;

use super::error_code::ErrorCode;
use super::frame_error::FrameError;
use super::frame_header::{FrameHeader, RESERVED_BIT};
use super::settings::SettingsList;
use super::{frame_flags, frame_kind};

/// Size of the priority fields: exclusive bit and 31-bit stream dependency,
/// then the weight octet (RFC 9113 sections 6.2 and 6.3).
const PRIORITY_LEN: usize = 5;

/// One decoded frame. Payload parts are slices of the received payload, so
/// decoding copies no data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// Stream payload (RFC 9113 section 6.1).
    Data {
        /// The stream the data belongs to; never 0.
        stream_id: u32,
        /// The data, with any padding removed.
        data: Bytes,
        /// Whether the sender's half of the stream ends with this frame.
        end_stream: bool,
        /// The whole payload length, including the pad length octet and the
        /// padding: what flow control counts (section 6.9), which is more
        /// than `data.len()` when the frame is padded.
        flow_controlled_len: u32,
    },
    /// A field block fragment opening a stream or carrying trailers
    /// (RFC 9113 section 6.2).
    Headers {
        /// The stream the fields belong to; never 0.
        stream_id: u32,
        /// The field block fragment, with padding and priority fields removed:
        /// input for HPACK once the block is complete.
        block: Bytes,
        /// Whether the sender's half of the stream ends with this block.
        end_stream: bool,
        /// Whether the block is complete; if not, CONTINUATION frames follow.
        end_headers: bool,
        /// The priority fields, present when the PRIORITY flag was set.
        priority: Option<Priority>,
    },
    /// An advisory priority change (RFC 9113 section 6.3); deprecated, so
    /// the engine may ignore it once it decoded without error.
    Priority {
        /// The stream whose priority changes; never 0.
        stream_id: u32,
        /// The new priority.
        priority: Priority,
    },
    /// The peer ended a stream (RFC 9113 section 6.4).
    RstStream {
        /// The stream ended; never 0.
        stream_id: u32,
        /// Why the peer ended it.
        code: ErrorCode,
    },
    /// The peer's settings, or its acknowledgement of ours (RFC 9113
    /// section 6.5). Always on stream 0.
    Settings {
        /// Whether this acknowledges our SETTINGS; `settings` is then empty.
        ack: bool,
        /// The settings the frame changes, range-checked.
        settings: SettingsList,
    },
    /// A server's push announcement, which a server never accepts from a
    /// client (RFC 9113 section 8.4); decoded no further than needed to know
    /// it came.
    PushPromise {
        /// The stream it arrived on; never 0.
        stream_id: u32,
    },
    /// A liveness check, or the answer to ours (RFC 9113 section 6.7).
    /// Always on stream 0.
    Ping {
        /// Whether this answers our PING.
        ack: bool,
        /// Opaque data the answer has to echo.
        payload: [u8; 8],
    },
    /// The peer is closing the connection (RFC 9113 section 6.8). Always on
    /// stream 0.
    GoAway {
        /// The highest stream the peer may have processed; higher ones it
        /// did not, so they are safe to retry.
        last_stream_id: u32,
        /// Why the peer is closing.
        code: ErrorCode,
        /// Opaque diagnostic data, for logs only.
        debug: Bytes,
    },
    /// Flow-control credit (RFC 9113 section 6.9).
    WindowUpdate {
        /// The stream credited, or 0 for the connection.
        stream_id: u32,
        /// The credit in bytes: 1..=2^31-1.
        increment: u32,
    },
    /// More of a field block begun by HEADERS (RFC 9113 section 6.10).
    Continuation {
        /// The stream the fields belong to; never 0.
        stream_id: u32,
        /// The next field block fragment.
        block: Bytes,
        /// Whether the block is complete with this fragment.
        end_headers: bool,
    },
    /// A frame of a type RFC 9113 does not define, which has to be ignored
    /// (sections 4.1 and 5.5).
    Unknown,
}

/// The priority fields of HEADERS and PRIORITY frames (RFC 9113 sections
/// 6.2 and 6.3), which signal RFC 7540's priority scheme. RFC 9113 section
/// 5.3.2 deprecates that scheme but keeps the fields, so they are still
/// parsed: to check them and to find where the field block starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Priority {
    /// The stream this one depends on; 0 for none.
    pub(crate) dependency: u32,
    /// Whether this stream becomes the only dependent of `dependency`.
    pub(crate) exclusive: bool,
    /// The weight octet as received: the weight is one more (1..=256).
    pub(crate) weight: u8,
}

impl Priority {
    /// Reads the 5 octets of priority fields.
    fn parse(fields: [u8; PRIORITY_LEN]) -> Priority {
        let [d0, d1, d2, d3, weight] = fields;
        let dependency = u32::from_be_bytes([d0, d1, d2, d3]);
        Priority { dependency: dependency & !RESERVED_BIT, exclusive: dependency & RESERVED_BIT != 0, weight }
    }
}

/// Decodes one frame whose header was parsed and whose whole payload
/// (exactly `header.len` bytes) is given.
///
/// Any payload yields a frame or an error, never a panic. A payload whose
/// length is not `header.len` is the caller's mistake, reported as a
/// connection INTERNAL_ERROR rather than decoded against the wrong length.
pub(crate) fn decode(header: &FrameHeader, payload: Bytes) -> Result<Frame, FrameError> {
    if payload.len() != header.len {
        return Err(FrameError::Connection(
            ErrorCode::INTERNAL_ERROR,
            "payload length differs from the frame header's",
        ));
    }
    match header.kind {
        frame_kind::DATA => decode_data(header, payload),
        frame_kind::HEADERS => decode_headers(header, payload),
        frame_kind::PRIORITY => decode_priority(header, &payload),
        frame_kind::RST_STREAM => decode_rst_stream(header, &payload),
        frame_kind::SETTINGS => decode_settings(header, &payload),
        frame_kind::PUSH_PROMISE => decode_push_promise(header),
        frame_kind::PING => decode_ping(header, &payload),
        frame_kind::GOAWAY => decode_goaway(header, payload),
        frame_kind::WINDOW_UPDATE => decode_window_update(header, &payload),
        frame_kind::CONTINUATION => decode_continuation(header, payload),
        // Sections 4.1 and 5.5: frames of unknown types are ignored.
        _ => Ok(Frame::Unknown),
    }
}

/// The stream of a frame type that only exists on streams. RFC 9113
/// sections 6.1, 6.2, 6.3, 6.4, 6.6 and 6.10 make such a frame on stream 0 a
/// connection error of type PROTOCOL_ERROR; `reason` names the frame type.
fn on_a_stream(header: &FrameHeader, reason: &'static str) -> Result<u32, FrameError> {
    match header.stream_id {
        0 => Err(FrameError::Connection(ErrorCode::PROTOCOL_ERROR, reason)),
        stream_id => Ok(stream_id),
    }
}

/// Checks that a frame type that only exists on the connection came on
/// stream 0. RFC 9113 sections 6.5, 6.7 and 6.8 make it on any other stream a
/// connection error of type PROTOCOL_ERROR; `reason` names the frame type.
fn on_the_connection(header: &FrameHeader, reason: &'static str) -> Result<(), FrameError> {
    match header.stream_id {
        0 => Ok(()),
        _ => Err(FrameError::Connection(ErrorCode::PROTOCOL_ERROR, reason)),
    }
}

/// A frame too short for the fields it has to carry: a FRAME_SIZE_ERROR
/// (RFC 9113 section 4.2), here always a connection error, which section
/// 5.4.1 allows for any error.
fn too_short(reason: &'static str) -> FrameError {
    FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, reason)
}

/// Where the content of a possibly padded payload starts and how much
/// padding ends it: (1, pad length) with the PADDED flag, (0, 0) without.
fn padding(header: &FrameHeader, payload: &Bytes) -> Result<(usize, usize), FrameError> {
    if !header.has_flag(frame_flags::PADDED) {
        return Ok((0, 0));
    }
    match payload.first() {
        Some(&pad_len) => Ok((1, usize::from(pad_len))),
        None => Err(too_short("padded frame without a pad length")),
    }
}

/// The payload from `start` up to where `pad_len` bytes of padding begin.
/// Sections 6.1 and 6.2: padding that does not fit the payload left after
/// the fields before it is a connection error of type PROTOCOL_ERROR.
fn unpadded(payload: &Bytes, start: usize, pad_len: usize) -> Result<Bytes, FrameError> {
    match payload.len().checked_sub(pad_len) {
        Some(end) if end >= start => Ok(payload.slice(start..end)),
        _ => Err(FrameError::Connection(ErrorCode::PROTOCOL_ERROR, "padding longer than the payload")),
    }
}

/// A 32-bit big-endian field of a payload that has exactly 4 bytes.
fn exactly_four_bytes(payload: &[u8]) -> Option<u32> {
    let &[b0, b1, b2, b3] = payload else { return None };
    Some(u32::from_be_bytes([b0, b1, b2, b3]))
}

/// DATA, RFC 9113 section 6.1.
fn decode_data(header: &FrameHeader, payload: Bytes) -> Result<Frame, FrameError> {
    let stream_id = on_a_stream(header, "DATA on stream 0")?;
    let flow_controlled_len = u32::try_from(payload.len())
        .map_err(|_| FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, "DATA longer than a frame can be"))?;
    let (start, pad_len) = padding(header, &payload)?;
    let data = unpadded(&payload, start, pad_len)?;
    Ok(Frame::Data { stream_id, data, end_stream: header.has_flag(frame_flags::END_STREAM), flow_controlled_len })
}

/// HEADERS, RFC 9113 section 6.2: pad length, priority fields, fragment,
/// padding, in that order.
fn decode_headers(header: &FrameHeader, payload: Bytes) -> Result<Frame, FrameError> {
    let stream_id = on_a_stream(header, "HEADERS on stream 0")?;
    let (mut start, pad_len) = padding(header, &payload)?;
    let mut priority = None;
    if header.has_flag(frame_flags::PRIORITY) {
        let Some(&[d0, d1, d2, d3, weight]) = payload.get(start..start + PRIORITY_LEN) else {
            return Err(too_short("HEADERS too short for its priority fields"));
        };
        let fields = Priority::parse([d0, d1, d2, d3, weight]);
        // RFC 7540 section 5.3.1 makes a stream depending on itself a
        // stream error of type PROTOCOL_ERROR (RFC 9113 dropped the text
        // with the scheme but keeps the fields). It is a connection error
        // here: returning a stream error would leave the field block this
        // frame carries undecoded, desynchronising HPACK (RFC 9113 section
        // 4.3), and any stream error may be treated as a connection error
        // (RFC 9113 section 5.4.1).
        if fields.dependency == stream_id {
            return Err(FrameError::Connection(ErrorCode::PROTOCOL_ERROR, "HEADERS stream depends on itself"));
        }
        priority = Some(fields);
        start += PRIORITY_LEN;
    }
    let block = unpadded(&payload, start, pad_len)?;
    Ok(Frame::Headers {
        stream_id,
        block,
        end_stream: header.has_flag(frame_flags::END_STREAM),
        end_headers: header.has_flag(frame_flags::END_HEADERS),
        priority,
    })
}

/// PRIORITY, RFC 9113 section 6.3. It carries no field block, so its errors
/// can stay stream errors.
fn decode_priority(header: &FrameHeader, payload: &[u8]) -> Result<Frame, FrameError> {
    let stream_id = on_a_stream(header, "PRIORITY on stream 0")?;
    // Section 6.3: a length other than 5 is a stream error of type
    // FRAME_SIZE_ERROR.
    let &[d0, d1, d2, d3, weight] = payload else {
        return Err(FrameError::Stream(stream_id, ErrorCode::FRAME_SIZE_ERROR, "PRIORITY length not 5"));
    };
    let priority = Priority::parse([d0, d1, d2, d3, weight]);
    // RFC 7540 section 5.3.1: a stream cannot depend on itself; a stream
    // error of type PROTOCOL_ERROR.
    if priority.dependency == stream_id {
        return Err(FrameError::Stream(stream_id, ErrorCode::PROTOCOL_ERROR, "PRIORITY stream depends on itself"));
    }
    Ok(Frame::Priority { stream_id, priority })
}

/// RST_STREAM, RFC 9113 section 6.4.
fn decode_rst_stream(header: &FrameHeader, payload: &[u8]) -> Result<Frame, FrameError> {
    let stream_id = on_a_stream(header, "RST_STREAM on stream 0")?;
    // Section 6.4: a length other than 4 is a connection error of type
    // FRAME_SIZE_ERROR.
    let code = exactly_four_bytes(payload)
        .ok_or(FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, "RST_STREAM length not 4"))?;
    Ok(Frame::RstStream { stream_id, code: ErrorCode(code) })
}

/// SETTINGS, RFC 9113 section 6.5.
fn decode_settings(header: &FrameHeader, payload: &[u8]) -> Result<Frame, FrameError> {
    on_the_connection(header, "SETTINGS on a stream")?;
    if header.has_flag(frame_flags::ACK) {
        // Section 6.5: an acknowledgement with a payload is a connection
        // error of type FRAME_SIZE_ERROR.
        if !payload.is_empty() {
            return Err(FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, "SETTINGS ACK with a payload"));
        }
        return Ok(Frame::Settings { ack: true, settings: SettingsList::default() });
    }
    Ok(Frame::Settings { ack: false, settings: SettingsList::parse(payload)? })
}

/// PUSH_PROMISE, RFC 9113 section 6.6; the engine refuses it whatever it
/// contains, so only its stream is checked.
fn decode_push_promise(header: &FrameHeader) -> Result<Frame, FrameError> {
    let stream_id = on_a_stream(header, "PUSH_PROMISE on stream 0")?;
    Ok(Frame::PushPromise { stream_id })
}

/// PING, RFC 9113 section 6.7.
fn decode_ping(header: &FrameHeader, payload: &[u8]) -> Result<Frame, FrameError> {
    on_the_connection(header, "PING on a stream")?;
    // Section 6.7: a length other than 8 is a connection error of type
    // FRAME_SIZE_ERROR.
    let payload = <[u8; 8]>::try_from(payload)
        .map_err(|_| FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, "PING length not 8"))?;
    Ok(Frame::Ping { ack: header.has_flag(frame_flags::ACK), payload })
}

/// GOAWAY, RFC 9113 section 6.8.
fn decode_goaway(header: &FrameHeader, payload: Bytes) -> Result<Frame, FrameError> {
    on_the_connection(header, "GOAWAY on a stream")?;
    let Some(&[s0, s1, s2, s3, c0, c1, c2, c3]) = payload.get(..8) else {
        return Err(too_short("GOAWAY shorter than 8"));
    };
    Ok(Frame::GoAway {
        last_stream_id: u32::from_be_bytes([s0, s1, s2, s3]) & !RESERVED_BIT,
        code: ErrorCode(u32::from_be_bytes([c0, c1, c2, c3])),
        debug: payload.slice(8..),
    })
}

/// WINDOW_UPDATE, RFC 9113 section 6.9.
fn decode_window_update(header: &FrameHeader, payload: &[u8]) -> Result<Frame, FrameError> {
    // Section 6.9: a length other than 4 is a connection error of type
    // FRAME_SIZE_ERROR.
    let increment = exactly_four_bytes(payload)
        .ok_or(FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, "WINDOW_UPDATE length not 4"))?
        & !RESERVED_BIT;
    // Section 6.9: an increment of 0 is a PROTOCOL_ERROR, a stream error on
    // a stream and a connection error on the connection.
    match (increment, header.stream_id) {
        (0, 0) => Err(FrameError::Connection(ErrorCode::PROTOCOL_ERROR, "WINDOW_UPDATE increment of 0")),
        (0, stream_id) => Err(FrameError::Stream(stream_id, ErrorCode::PROTOCOL_ERROR, "WINDOW_UPDATE increment of 0")),
        (increment, stream_id) => Ok(Frame::WindowUpdate { stream_id, increment }),
    }
}

/// CONTINUATION, RFC 9113 section 6.10.
fn decode_continuation(header: &FrameHeader, payload: Bytes) -> Result<Frame, FrameError> {
    let stream_id = on_a_stream(header, "CONTINUATION on stream 0")?;
    Ok(Frame::Continuation { stream_id, block: payload, end_headers: header.has_flag(frame_flags::END_HEADERS) })
}

#[cfg(test)]
mod tests {
    use super::*;
    // The PRIORITY flag is renamed: its name is also a frame type.
    use crate::transport::engine::frame_flags::{ACK, END_HEADERS, END_STREAM, PADDED, PRIORITY as PRIORITY_FLAG};
    use crate::transport::engine::frame_kind::*;

    /// Decodes a payload under a header stating its exact length.
    fn decode_payload(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Result<Frame, FrameError> {
        let header = FrameHeader { len: payload.len(), kind, flags, stream_id };
        decode(&header, Bytes::copy_from_slice(payload))
    }

    /// Whether `result` is a connection error with `code`.
    fn is_connection_error(result: &Result<Frame, FrameError>, code: ErrorCode) -> bool {
        matches!(result, Err(FrameError::Connection(found, _)) if *found == code)
    }

    /// Whether `result` is a stream error on `stream_id` with `code`.
    fn is_stream_error(result: &Result<Frame, FrameError>, stream_id: u32, code: ErrorCode) -> bool {
        matches!(result, Err(FrameError::Stream(found_stream, found, _)) if *found_stream == stream_id && *found == code)
    }

    #[test]
    fn data_without_padding_is_the_whole_payload() {
        let frame = decode_payload(DATA, END_STREAM, 1, b"hello");
        let data = Bytes::from_static(b"hello");
        assert_eq!(frame, Ok(Frame::Data { stream_id: 1, data, end_stream: true, flow_controlled_len: 5 }));
    }

    #[test]
    fn padded_data_loses_its_padding_but_flow_control_counts_it() {
        let frame = decode_payload(DATA, PADDED, 3, b"\x03abc\0\0\0");
        let data = Bytes::from_static(b"abc");
        assert_eq!(frame, Ok(Frame::Data { stream_id: 3, data, end_stream: false, flow_controlled_len: 7 }));
    }

    #[test]
    fn padded_data_may_be_all_padding() {
        let frame = decode_payload(DATA, PADDED, 3, b"\x02\0\0");
        assert_eq!(
            frame,
            Ok(Frame::Data { stream_id: 3, data: Bytes::new(), end_stream: false, flow_controlled_len: 3 })
        );
    }

    #[test]
    fn padding_as_long_as_the_payload_is_a_connection_protocol_error() {
        for padded in [&b"\x04abc"[..], b"\x01", b"\xff\0\0"] {
            let frame = decode_payload(DATA, PADDED, 1, padded);
            assert!(is_connection_error(&frame, ErrorCode::PROTOCOL_ERROR), "{padded:?}: {frame:?}");
            let frame = decode_payload(HEADERS, PADDED | END_HEADERS, 1, padded);
            assert!(is_connection_error(&frame, ErrorCode::PROTOCOL_ERROR), "{padded:?}: {frame:?}");
        }
    }

    #[test]
    fn a_padded_frame_without_a_pad_length_is_a_connection_frame_size_error() {
        assert!(is_connection_error(&decode_payload(DATA, PADDED, 1, b""), ErrorCode::FRAME_SIZE_ERROR));
        assert!(is_connection_error(&decode_payload(HEADERS, PADDED, 1, b""), ErrorCode::FRAME_SIZE_ERROR));
    }

    #[test]
    fn headers_without_padding_or_priority_are_the_whole_payload() {
        let frame = decode_payload(HEADERS, END_STREAM, 5, b"\x82\x84");
        let block = Bytes::from_static(b"\x82\x84");
        let expected = Frame::Headers { stream_id: 5, block, end_stream: true, end_headers: false, priority: None };
        assert_eq!(frame, Ok(expected));
    }

    #[test]
    fn padded_headers_lose_their_padding() {
        let frame = decode_payload(HEADERS, PADDED | END_HEADERS, 1, b"\x02\x82\x84\0\0");
        let block = Bytes::from_static(b"\x82\x84");
        let expected = Frame::Headers { stream_id: 1, block, end_stream: false, end_headers: true, priority: None };
        assert_eq!(frame, Ok(expected));
    }

    #[test]
    fn headers_with_priority_yield_it_and_the_block_after_it() {
        let frame = decode_payload(HEADERS, PRIORITY_FLAG | END_HEADERS, 5, b"\x80\0\0\x03\x0f\x82");
        let priority = Some(Priority { dependency: 3, exclusive: true, weight: 15 });
        let block = Bytes::from_static(b"\x82");
        assert_eq!(frame, Ok(Frame::Headers { stream_id: 5, block, end_stream: false, end_headers: true, priority }));
    }

    #[test]
    fn padded_headers_with_priority_yield_both_without_padding() {
        let frame = decode_payload(HEADERS, PADDED | PRIORITY_FLAG | END_STREAM, 7, b"\x01\0\0\0\x01\xff\x82\x84\0");
        let priority = Some(Priority { dependency: 1, exclusive: false, weight: 255 });
        let block = Bytes::from_static(b"\x82\x84");
        assert_eq!(frame, Ok(Frame::Headers { stream_id: 7, block, end_stream: true, end_headers: false, priority }));
    }

    #[test]
    fn padding_longer_than_what_follows_the_priority_fields_is_a_connection_protocol_error() {
        // 9 bytes: pad length, 5 priority octets, 3 bytes left for 4 of padding.
        let frame = decode_payload(HEADERS, PADDED | PRIORITY_FLAG, 7, b"\x04\0\0\0\x01\x10\0\0\0");
        assert!(is_connection_error(&frame, ErrorCode::PROTOCOL_ERROR), "{frame:?}");
    }

    #[test]
    fn headers_too_short_for_their_priority_fields_are_a_connection_frame_size_error() {
        let frame = decode_payload(HEADERS, PRIORITY_FLAG, 1, b"\0\0\0\x03");
        assert!(is_connection_error(&frame, ErrorCode::FRAME_SIZE_ERROR), "{frame:?}");
        let frame = decode_payload(HEADERS, PADDED | PRIORITY_FLAG, 1, b"\0\0\0\0\x03");
        assert!(is_connection_error(&frame, ErrorCode::FRAME_SIZE_ERROR), "{frame:?}");
    }

    #[test]
    fn headers_depending_on_their_own_stream_are_a_connection_protocol_error() {
        // A stream error by RFC 7540 section 5.3.1, made a connection error
        // because the field block would go undecoded.
        let frame = decode_payload(HEADERS, PRIORITY_FLAG | END_HEADERS, 3, b"\0\0\0\x03\x10\x82");
        assert!(is_connection_error(&frame, ErrorCode::PROTOCOL_ERROR), "{frame:?}");
        let frame = decode_payload(HEADERS, PRIORITY_FLAG | END_HEADERS, 3, b"\x80\0\0\x03\x10\x82");
        assert!(is_connection_error(&frame, ErrorCode::PROTOCOL_ERROR), "{frame:?}");
    }

    #[test]
    fn priority_frames_yield_their_fields() {
        let frame = decode_payload(PRIORITY, 0, 9, b"\x80\0\0\x07\x20");
        let priority = Priority { dependency: 7, exclusive: true, weight: 32 };
        assert_eq!(frame, Ok(Frame::Priority { stream_id: 9, priority }));
    }

    #[test]
    fn a_priority_frame_not_5_long_is_a_stream_frame_size_error() {
        for payload in [&b""[..], b"\0\0\0\x01", b"\0\0\0\x01\x10\0"] {
            let frame = decode_payload(PRIORITY, 0, 9, payload);
            assert!(is_stream_error(&frame, 9, ErrorCode::FRAME_SIZE_ERROR), "{payload:?}: {frame:?}");
        }
    }

    #[test]
    fn a_priority_frame_depending_on_its_own_stream_is_a_stream_protocol_error() {
        let frame = decode_payload(PRIORITY, 0, 9, b"\0\0\0\x09\x10");
        assert!(is_stream_error(&frame, 9, ErrorCode::PROTOCOL_ERROR), "{frame:?}");
    }

    #[test]
    fn stream_frames_on_stream_0_are_a_connection_protocol_error() {
        let cases: [(u8, &[u8]); 6] = [
            (DATA, b"data"),
            (HEADERS, b"\x82"),
            (PRIORITY, b"\0\0\0\x01\x10"),
            (RST_STREAM, b"\0\0\0\x08"),
            (PUSH_PROMISE, b"\0\0\0\x02\x82"),
            (CONTINUATION, b"\x82"),
        ];
        for (kind, payload) in cases {
            let frame = decode_payload(kind, 0, 0, payload);
            assert!(is_connection_error(&frame, ErrorCode::PROTOCOL_ERROR), "type {kind}: {frame:?}");
        }
    }

    #[test]
    fn connection_frames_on_a_stream_are_a_connection_protocol_error() {
        let cases: [(u8, &[u8]); 3] = [(SETTINGS, b""), (PING, b"12345678"), (GOAWAY, b"\0\0\0\0\0\0\0\0")];
        for (kind, payload) in cases {
            let frame = decode_payload(kind, 0, 1, payload);
            assert!(is_connection_error(&frame, ErrorCode::PROTOCOL_ERROR), "type {kind}: {frame:?}");
        }
    }

    #[test]
    fn rst_stream_yields_its_code() {
        let frame = decode_payload(RST_STREAM, 0, 1, b"\0\0\0\x08");
        assert_eq!(frame, Ok(Frame::RstStream { stream_id: 1, code: ErrorCode::CANCEL }));
    }

    #[test]
    fn rst_stream_not_4_long_is_a_connection_frame_size_error() {
        for payload in [&b""[..], b"\0\0\x08", b"\0\0\0\x08\0"] {
            let frame = decode_payload(RST_STREAM, 0, 1, payload);
            assert!(is_connection_error(&frame, ErrorCode::FRAME_SIZE_ERROR), "{payload:?}: {frame:?}");
        }
    }

    #[test]
    fn settings_not_a_multiple_of_6_long_are_a_connection_frame_size_error() {
        let frame = decode_payload(SETTINGS, 0, 0, b"\0\x03\0\0\0\x64\0");
        assert!(is_connection_error(&frame, ErrorCode::FRAME_SIZE_ERROR), "{frame:?}");
    }

    #[test]
    fn a_settings_ack_with_a_payload_is_a_connection_frame_size_error() {
        let frame = decode_payload(SETTINGS, ACK, 0, b"\0\x03\0\0\0\x64");
        assert!(is_connection_error(&frame, ErrorCode::FRAME_SIZE_ERROR), "{frame:?}");
    }

    #[test]
    fn settings_values_out_of_range_are_connection_errors() {
        let cases: [(&[u8], ErrorCode); 3] = [
            (b"\0\x02\0\0\0\x02", ErrorCode::PROTOCOL_ERROR),
            (b"\0\x04\x80\0\0\0", ErrorCode::FLOW_CONTROL_ERROR),
            (b"\0\x05\0\0\x3f\xff", ErrorCode::PROTOCOL_ERROR),
        ];
        for (payload, code) in cases {
            let frame = decode_payload(SETTINGS, 0, 0, payload);
            assert!(is_connection_error(&frame, code), "{payload:?}: {frame:?}");
        }
    }

    #[test]
    fn ping_not_8_long_is_a_connection_frame_size_error() {
        for payload in [&b""[..], b"1234567", b"123456789"] {
            let frame = decode_payload(PING, 0, 0, payload);
            assert!(is_connection_error(&frame, ErrorCode::FRAME_SIZE_ERROR), "{payload:?}: {frame:?}");
        }
    }

    #[test]
    fn goaway_shorter_than_8_is_a_connection_frame_size_error() {
        let frame = decode_payload(GOAWAY, 0, 0, b"\0\0\0\x01\0\0\0");
        assert!(is_connection_error(&frame, ErrorCode::FRAME_SIZE_ERROR), "{frame:?}");
    }

    #[test]
    fn goaway_clears_the_reserved_bit_of_the_last_stream() {
        let frame = decode_payload(GOAWAY, 0, 0, b"\x80\0\0\x05\0\0\0\x0b");
        let expected = Frame::GoAway { last_stream_id: 5, code: ErrorCode::ENHANCE_YOUR_CALM, debug: Bytes::new() };
        assert_eq!(frame, Ok(expected));
    }

    #[test]
    fn window_update_not_4_long_is_a_connection_frame_size_error() {
        for payload in [&b""[..], b"\0\0\x01", b"\0\0\0\x01\0"] {
            let frame = decode_payload(WINDOW_UPDATE, 0, 1, payload);
            assert!(is_connection_error(&frame, ErrorCode::FRAME_SIZE_ERROR), "{payload:?}: {frame:?}");
        }
    }

    #[test]
    fn a_zero_window_increment_is_a_protocol_error_of_its_stream_or_the_connection() {
        let frame = decode_payload(WINDOW_UPDATE, 0, 7, b"\0\0\0\0");
        assert!(is_stream_error(&frame, 7, ErrorCode::PROTOCOL_ERROR), "{frame:?}");
        let frame = decode_payload(WINDOW_UPDATE, 0, 0, b"\0\0\0\0");
        assert!(is_connection_error(&frame, ErrorCode::PROTOCOL_ERROR), "{frame:?}");
        // Only the reserved bit set: still an increment of 0.
        let frame = decode_payload(WINDOW_UPDATE, 0, 7, b"\x80\0\0\0");
        assert!(is_stream_error(&frame, 7, ErrorCode::PROTOCOL_ERROR), "{frame:?}");
    }

    #[test]
    fn window_update_ignores_the_reserved_bit() {
        let frame = decode_payload(WINDOW_UPDATE, 0, 0, b"\xff\xff\xff\xff");
        assert_eq!(frame, Ok(Frame::WindowUpdate { stream_id: 0, increment: 0x7fff_ffff }));
    }

    #[test]
    fn push_promise_yields_its_stream() {
        assert_eq!(
            decode_payload(PUSH_PROMISE, END_HEADERS, 1, b"\0\0\0\x02\x82"),
            Ok(Frame::PushPromise { stream_id: 1 })
        );
    }

    #[test]
    fn continuation_yields_its_whole_payload() {
        let frame = decode_payload(CONTINUATION, END_HEADERS | PADDED, 1, b"\x02\x82");
        let block = Bytes::from_static(b"\x02\x82");
        assert_eq!(frame, Ok(Frame::Continuation { stream_id: 1, block, end_headers: true }));
    }

    #[test]
    fn unknown_frame_types_are_ignored_whatever_they_carry() {
        for kind in [0xa, 0x10, 0xff] {
            assert_eq!(decode_payload(kind, 0xff, 0, b""), Ok(Frame::Unknown));
            assert_eq!(decode_payload(kind, 0, 0x7fff_ffff, b"anything"), Ok(Frame::Unknown));
        }
    }

    #[test]
    fn undefined_flags_are_ignored() {
        let frame = decode_payload(DATA, !PADDED, 1, b"x");
        let data = Bytes::from_static(b"x");
        assert_eq!(frame, Ok(Frame::Data { stream_id: 1, data, end_stream: true, flow_controlled_len: 1 }));
    }

    #[test]
    fn a_payload_not_as_long_as_the_header_says_is_refused() {
        let header = FrameHeader { len: 5, kind: DATA, flags: 0, stream_id: 1 };
        let frame = decode(&header, Bytes::from_static(b"four"));
        assert!(is_connection_error(&frame, ErrorCode::INTERNAL_ERROR), "{frame:?}");
    }

    /// A deterministic stand-in for the fuzz target that stable builds run:
    /// many random headers and short payloads, all types, all flags.
    #[test]
    fn arbitrary_frames_decode_or_fail_without_panicking() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..100_000 {
            let [kind, flags, stream, len, ..] = next().to_le_bytes();
            let payload: Vec<u8> = (0..len % 24).map(|_| next() as u8).collect();
            let stream_id = u32::from(stream % 4);
            let result = decode_payload(kind % 12, flags, stream_id, &payload);
            if let Ok(Frame::Data { data, flow_controlled_len, .. }) = result {
                assert_eq!(flow_controlled_len as usize, payload.len());
                assert!(data.len() <= payload.len());
            }
        }
    }
}
