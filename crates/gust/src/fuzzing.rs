//! The parsers of untrusted input, reachable from the fuzz targets in
//! `fuzz/` (a separate crate). Not part of the API: thin wrappers only.

use std::time::Duration;

use bytes::Bytes;

use crate::codec::FrameDecoder;
use crate::status::Status;
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
