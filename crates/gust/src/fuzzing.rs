//! The parsers of untrusted input, reachable from the fuzz targets in
//! `fuzz/` (a separate crate). Not part of the API: thin wrappers only.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::codec::FrameDecoder;
use crate::status::Status;
use crate::transport::engine::hpack;
use crate::{metadata, protocol, Metadata};

/// Decodes gRPC messages from body chunks as a call does; each message as
/// (compressed flag, payload). Ends with the end-of-body check.
pub fn decode_frames(chunks: &[&[u8]], max_len: usize) -> Result<Vec<(bool, Bytes)>, Status> {
    let mut decoder = FrameDecoder::new(max_len);
    let mut frames = Vec::new();
    for chunk in chunks {
        decoder.push(Bytes::copy_from_slice(chunk));
        while let Some(frame) = decoder.next_frame()? {
            frames.push((frame.compressed, frame.payload));
        }
    }
    decoder.finish()?;
    Ok(frames)
}

/// A `grpc-timeout` header value.
pub fn parse_timeout(value: &[u8]) -> Option<Duration> {
    protocol::timeout::parse(value)
}

/// A timeout as the client sends it.
pub fn encode_timeout(timeout: Duration) -> String {
    protocol::timeout::encode(timeout)
}

/// A `grpc-message` as received.
pub fn percent_decode(value: &[u8]) -> String {
    protocol::percent::decode(value)
}

/// A status message as sent.
pub fn percent_encode(message: &str) -> String {
    protocol::percent::encode(message)
}

/// Request or response metadata from received headers.
pub fn metadata_from_headers(headers: http::HeaderMap) -> Metadata {
    Metadata::from_headers(headers)
}

/// A received `-bin` value (padded or not).
pub fn decode_base64(value: &[u8]) -> Option<Vec<u8>> {
    metadata::decode_base64(value)
}

/// A `-bin` value as sent.
pub fn encode_base64(value: &[u8]) -> String {
    metadata::encode_base64(value)
}

/// How the router splits a request path into service and method.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    crate::server::router::split_path(path)
}

/// Reads bytes a client sent after the preface as the server engine will:
/// frame header, size limit, payload, decode. Each frame or error as its
/// `Debug` text; stops at a frame cut short or a connection error, as the
/// connection would, and goes on after stream errors.
pub fn decode_http2_frames(bytes: &[u8], max_frame_size: usize) -> Vec<String> {
    use crate::transport::engine::frame::decode;
    use crate::transport::engine::frame_error::FrameError;
    use crate::transport::engine::frame_header::{check_len, FrameHeader, FRAME_HEADER_LEN};

    let mut rest = Bytes::copy_from_slice(bytes);
    let mut decoded = Vec::new();
    while let Some(Ok(header_bytes)) = rest.get(..FRAME_HEADER_LEN).map(<&[u8; FRAME_HEADER_LEN]>::try_from) {
        let header = FrameHeader::parse(header_bytes);
        if let Err(error) = check_len(&header, max_frame_size) {
            decoded.push(format!("{error:?}"));
            break;
        }
        if rest.len() < FRAME_HEADER_LEN + header.len {
            break;
        }
        let payload = rest.split_to(FRAME_HEADER_LEN + header.len).split_off(FRAME_HEADER_LEN);
        match decode(&header, payload) {
            Ok(frame) => decoded.push(format!("{frame:?}")),
            Err(error @ FrameError::Stream(..)) => decoded.push(format!("{error:?}")),
            Err(error @ FrameError::Connection(..)) => {
                decoded.push(format!("{error:?}"));
                break;
            }
        }
    }
    decoded
}

/// Decodes HPACK header blocks in turn with one decoder (later blocks see
/// the dynamic table earlier ones built), advertising `max_table_size`: for
/// each block, its fields as (name, value), or why it failed.
pub fn decode_header_blocks(blocks: &[&[u8]], max_table_size: usize) -> Vec<Result<Vec<(String, Bytes)>, String>> {
    let mut decoder = hpack::Decoder::new(max_table_size);
    let mut decoded = Vec::new();
    for block in blocks {
        let mut fields = Vec::new();
        let result = decoder.decode(&Bytes::copy_from_slice(block), |header| {
            fields.push((header.name().to_owned(), Bytes::copy_from_slice(header.value())));
        });
        decoded.push(result.map(|()| fields).map_err(|error| format!("{error:?}")));
    }
    decoded
}

/// The HPACK block of a response head as gust sends it.
pub fn encode_response_head(status: http::StatusCode, headers: &http::HeaderMap) -> Bytes {
    let mut block = BytesMut::new();
    hpack::Encoder::default().encode_response(status, headers, &mut block);
    block.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http2_frames_go_on_after_stream_errors_and_stop_at_connection_errors() {
        let bytes = [
            &b"\0\0\x04\x08\0\0\0\0\x01\0\0\0\0"[..], // WINDOW_UPDATE of 0 on stream 1: stream error
            b"\0\0\x08\x06\0\0\0\0\0pingpong",        // PING
            b"\0\0\x00\x04\0\0\0\0\x03",              // SETTINGS on stream 3: connection error
            b"\0\0\x00\x04\x01\0\0\0\0",              // SETTINGS ACK, never reached
        ]
        .concat();
        let decoded = decode_http2_frames(&bytes, 16_384);
        assert_eq!(decoded.len(), 3, "{decoded:?}");
        assert!(decoded[0].starts_with("Stream(1, PROTOCOL_ERROR"), "{decoded:?}");
        assert!(decoded[1].starts_with("Ping"), "{decoded:?}");
        assert!(decoded[2].starts_with("Connection(PROTOCOL_ERROR"), "{decoded:?}");
    }

    #[test]
    fn http2_frames_stop_at_a_frame_cut_short_or_too_large() {
        assert!(decode_http2_frames(b"\0\0\x08\x06\0\0\0\0\0ping", 16_384).is_empty());
        let too_large = decode_http2_frames(b"\0\0\x08\x06\0\0\0\0\0pingpong", 4);
        assert_eq!(too_large.len(), 1);
        assert!(too_large[0].starts_with("Connection(FRAME_SIZE_ERROR"), "{too_large:?}");
    }
}
