//! The HPACK encoder: the header blocks gust's server sends, response heads
//! and trailers.

use bytes::{BufMut, BytesMut};
use http::{HeaderMap, StatusCode};

use super::integer;
use super::static_table::{self, StaticMatch};

/// The first octet's pattern of a literal field without indexing (RFC 7541
/// 6.2.2), with a 4-bit name index.
const LITERAL_WITHOUT_INDEXING: u8 = 0x00;

/// The pattern of a literal field never indexed (RFC 7541 6.2.3): for values
/// marked sensitive, which intermediaries must not index either.
const LITERAL_NEVER_INDEXED: u8 = 0x10;

/// The pattern of an indexed field (RFC 7541 6.1), with a 7-bit index.
const INDEXED: u8 = 0x80;

/// Writes header blocks.
///
/// Stateless: no dynamic table and no Huffman coding. A field is a single
/// index when a static-table entry has its name and value (`:status: 200` is
/// the octet 0x88), else a literal that is not indexed, naming a static entry
/// when one has the name. Without a dynamic table nothing depends on the
/// peer's SETTINGS_HEADER_TABLE_SIZE; without Huffman coding strings are
/// copied as they are: gRPC responses carry few and short fields, and the
/// CPU saved is worth more than the bytes. The methods take `&mut self` so
/// that a dynamic table could come later without changing the callers.
#[derive(Debug, Default)]
pub(crate) struct Encoder;

impl Encoder {
    /// Appends the block of a response head: `:status`, then `headers`.
    pub(crate) fn encode_response(&mut self, status: StatusCode, headers: &HeaderMap, dst: &mut BytesMut) {
        encode_field(":status", status.as_str().as_bytes(), false, dst);
        self.encode_trailers(headers, dst);
    }

    /// Appends the block of trailers (or of any fields without
    /// pseudo-headers): `headers`, in the map's order.
    pub(crate) fn encode_trailers(&mut self, headers: &HeaderMap, dst: &mut BytesMut) {
        for (name, value) in headers {
            encode_field(name.as_str(), value.as_bytes(), value.is_sensitive(), dst);
        }
    }
}

/// Appends one field; `sensitive` ones are literals never indexed.
fn encode_field(name: &str, value: &[u8], sensitive: bool, dst: &mut BytesMut) {
    let pattern = if sensitive { LITERAL_NEVER_INDEXED } else { LITERAL_WITHOUT_INDEXING };
    match static_table::find(name, value) {
        StaticMatch::Field(index) => integer::encode(index, 7, INDEXED, dst),
        StaticMatch::Name(index) => {
            integer::encode(index, 4, pattern, dst);
            encode_string(value, dst);
        }
        StaticMatch::None => {
            dst.put_u8(pattern);
            encode_string(name.as_bytes(), dst);
            encode_string(value, dst);
        }
    }
}

/// Appends a string as it is (RFC 7541 5.2 with the Huffman bit clear).
fn encode_string(string: &[u8], dst: &mut BytesMut) {
    integer::encode(string.len(), 7, 0, dst);
    dst.put_slice(string);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderName, HeaderValue};

    use super::*;
    use crate::transport::engine::hpack::{Decoder, Header};

    /// Decodes a block with a fresh decoder.
    fn decode(block: BytesMut) -> Vec<Header> {
        let mut headers = Vec::new();
        Decoder::new(4096).decode(&block.freeze(), |header| headers.push(header)).unwrap();
        headers
    }

    fn field(name: &'static str, value: &'static str) -> Header {
        Header::Field { name: HeaderName::from_static(name), value: HeaderValue::from_static(value) }
    }

    fn grpc_trailers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", HeaderValue::from_static("0"));
        headers.insert("grpc-message", HeaderValue::from_static("all is well"));
        headers
    }

    #[test]
    fn status_200_alone_is_one_octet() {
        let mut dst = BytesMut::new();
        Encoder.encode_response(StatusCode::OK, &HeaderMap::new(), &mut dst);
        assert_eq!(&dst[..], [0x88]);
    }

    #[test]
    fn other_statuses_name_the_static_entry() {
        let mut dst = BytesMut::new();
        Encoder.encode_response(StatusCode::CREATED, &HeaderMap::new(), &mut dst);
        assert_eq!(&dst[..], b"\x08\x03201");
        assert_eq!(decode(dst), [Header::Status(Bytes::from_static(b"201"))]);
    }

    #[test]
    fn a_response_round_trips() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        headers.append("grpc-accept-encoding", HeaderValue::from_static("identity,gzip"));
        headers.append("x-multi", HeaderValue::from_static("one"));
        headers.append("x-multi", HeaderValue::from_static("two"));
        headers.insert("age", HeaderValue::from_static(""));
        headers.insert("accept-encoding", HeaderValue::from_static("gzip, deflate"));
        headers.insert("x-long", HeaderValue::from_str(&"v".repeat(300)).unwrap());
        let mut dst = BytesMut::new();
        Encoder.encode_response(StatusCode::OK, &headers, &mut dst);

        let mut expected = vec![Header::Status(Bytes::from_static(b"200"))];
        expected.extend(headers.iter().map(|(name, value)| Header::Field { name: name.clone(), value: value.clone() }));
        assert_eq!(decode(dst), expected);
    }

    #[test]
    fn trailers_round_trip_without_pseudo_headers() {
        let mut dst = BytesMut::new();
        Encoder.encode_trailers(&grpc_trailers(), &mut dst);
        assert_eq!(decode(dst), [field("grpc-status", "0"), field("grpc-message", "all is well")]);
    }

    #[test]
    fn representations_are_the_expected_ones() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("a"));
        headers.insert("age", HeaderValue::from_static(""));
        headers.insert("x", HeaderValue::from_static("y"));
        let mut secret = HeaderValue::from_static("s");
        secret.set_sensitive(true);
        headers.insert("authorization", secret);
        let mut dst = BytesMut::new();
        Encoder.encode_trailers(&headers, &mut dst);
        // content-type (31) by name; age (21) with its empty value by index;
        // x as a literal name; authorization (23) never indexed.
        assert_eq!(&dst[..], b"\x0f\x10\x01a\x95\x00\x01x\x01y\x1f\x08\x01s");
    }
}
