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

/// The pattern of a literal field added to the dynamic table (RFC 7541
/// 6.2.1), with a 6-bit name index.
const LITERAL_WITH_INDEXING: u8 = 0x40;

/// The pattern of an indexed field (RFC 7541 6.1), with a 7-bit index.
const INDEXED: u8 = 0x80;

/// The pattern of a dynamic table size update (RFC 7541 6.3), with a 5-bit
/// size.
const TABLE_SIZE_UPDATE: u8 = 0x20;

/// The table size HTTP/2 starts with (RFC 9113 6.5.2), and the most this
/// encoder uses whatever the peer allows: its few entries fit many times.
const DEFAULT_TABLE_SIZE: usize = 4096;

/// Names whose fields go into the peer's dynamic table: nearly every gRPC
/// response carries them, with few distinct values. Once indexed, a field
/// is one octet, and the peer's decoder clones it rather than parsing a
/// name and a value on every response.
const INDEXED_NAMES: [&str; 3] = ["content-type", "grpc-status", "grpc-encoding"];

/// Values longer than this are not indexed: long ones are messages, not
/// the short codes and types that repeat.
const MAX_INDEXED_VALUE: usize = 32;

/// The dynamic table's count of a field's size (RFC 7541 4.1).
const ENTRY_OVERHEAD: usize = 32;

/// Writes header blocks.
///
/// A field is a single index when a table entry has its name and value
/// (`:status: 200` is the octet 0x88), else a literal naming a static entry
/// when one has the name. The fields of [`INDEXED_NAMES`] are added to the
/// peer's dynamic table as long as they fit in it; nothing is ever evicted,
/// so this side keeps only the list of what it added. No Huffman coding:
/// gRPC responses carry few and short fields, and the CPU saved is worth
/// more than the bytes.
#[derive(Debug)]
pub(crate) struct Encoder {
    /// The fields added to the peer's dynamic table, newest first (dynamic
    /// index 62 is the first).
    entries: Vec<(&'static str, Vec<u8>)>,
    /// Their size as RFC 7541 4.1 counts it.
    size: usize,
    /// The size this encoder lets the table reach.
    max_size: usize,
    /// The size changed: the next block starts with size updates.
    resized: bool,
}

impl Default for Encoder {
    fn default() -> Encoder {
        Encoder { entries: Vec::new(), size: 0, max_size: DEFAULT_TABLE_SIZE, resized: false }
    }
}

impl Encoder {
    /// The peer's SETTINGS_HEADER_TABLE_SIZE. A change empties the table:
    /// the next block says so first (a size update to 0, then to the new
    /// size), as RFC 7541 4.2 asks, and the fields are added again.
    pub(crate) fn set_max_table_size(&mut self, peer_max: usize) {
        let max_size = peer_max.min(DEFAULT_TABLE_SIZE);
        if max_size != self.max_size {
            self.max_size = max_size;
            self.entries.clear();
            self.size = 0;
            self.resized = true;
        }
    }

    /// Appends the block of a response head: `:status`, then `headers`.
    pub(crate) fn encode_response(&mut self, status: StatusCode, headers: &HeaderMap, dst: &mut BytesMut) {
        self.begin_block(dst);
        self.encode_field(":status", status.as_str().as_bytes(), false, dst);
        self.encode_fields(headers, dst);
    }

    /// Appends the block of trailers (or of any fields without
    /// pseudo-headers): `headers`, in the map's order.
    pub(crate) fn encode_trailers(&mut self, headers: &HeaderMap, dst: &mut BytesMut) {
        self.begin_block(dst);
        self.encode_fields(headers, dst);
    }

    fn begin_block(&mut self, dst: &mut BytesMut) {
        if std::mem::take(&mut self.resized) {
            integer::encode(0, 5, TABLE_SIZE_UPDATE, dst);
            integer::encode(self.max_size, 5, TABLE_SIZE_UPDATE, dst);
        }
    }

    fn encode_fields(&mut self, headers: &HeaderMap, dst: &mut BytesMut) {
        for (name, value) in headers {
            self.encode_field(name.as_str(), value.as_bytes(), value.is_sensitive(), dst);
        }
    }

    /// Appends one field; `sensitive` ones are literals never indexed.
    fn encode_field(&mut self, name: &str, value: &[u8], sensitive: bool, dst: &mut BytesMut) {
        let found = static_table::find(name, value);
        if let StaticMatch::Field(index) = found {
            return integer::encode(index, 7, INDEXED, dst);
        }
        if let Some(position) =
            self.entries.iter().position(|(entry, entry_value)| *entry == name && entry_value == value)
        {
            return integer::encode(static_table::LEN + 1 + position, 7, INDEXED, dst);
        }
        let (pattern, prefix_bits) = match self.indexable(name, value, sensitive) {
            Some(indexed_name) => {
                self.size += name.len() + value.len() + ENTRY_OVERHEAD;
                self.entries.insert(0, (indexed_name, value.to_vec()));
                (LITERAL_WITH_INDEXING, 6)
            }
            None if sensitive => (LITERAL_NEVER_INDEXED, 4),
            None => (LITERAL_WITHOUT_INDEXING, 4),
        };
        match found {
            StaticMatch::Name(index) => integer::encode(index, prefix_bits, pattern, dst),
            _ => {
                dst.put_u8(pattern);
                encode_string(name.as_bytes(), dst);
            }
        }
        encode_string(value, dst);
    }

    /// The name to keep, if this field goes into the dynamic table.
    fn indexable(&self, name: &str, value: &[u8], sensitive: bool) -> Option<&'static str> {
        let indexed_name = INDEXED_NAMES.into_iter().find(|indexed| *indexed == name)?;
        let fits = self.size + name.len() + value.len() + ENTRY_OVERHEAD <= self.max_size;
        (!sensitive && value.len() <= MAX_INDEXED_VALUE && fits).then_some(indexed_name)
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
        Encoder::default().encode_response(StatusCode::OK, &HeaderMap::new(), &mut dst);
        assert_eq!(&dst[..], [0x88]);
    }

    #[test]
    fn other_statuses_name_the_static_entry() {
        let mut dst = BytesMut::new();
        Encoder::default().encode_response(StatusCode::CREATED, &HeaderMap::new(), &mut dst);
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
        Encoder::default().encode_response(StatusCode::OK, &headers, &mut dst);

        let mut expected = vec![Header::Status(Bytes::from_static(b"200"))];
        expected.extend(headers.iter().map(|(name, value)| Header::Field { name: name.clone(), value: value.clone() }));
        assert_eq!(decode(dst), expected);
    }

    #[test]
    fn trailers_round_trip_without_pseudo_headers() {
        let mut dst = BytesMut::new();
        Encoder::default().encode_trailers(&grpc_trailers(), &mut dst);
        assert_eq!(decode(dst), [field("grpc-status", "0"), field("grpc-message", "all is well")]);
    }

    #[test]
    fn repeated_grpc_fields_are_indexed_once_then_one_octet() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        let mut encoder = Encoder::default();
        let mut decoder = Decoder::new(4096);
        let mut decoded = Vec::new();
        let mut blocks = Vec::new();
        for _ in 0..2 {
            let mut dst = BytesMut::new();
            encoder.encode_response(StatusCode::OK, &headers, &mut dst);
            let mut trailers = BytesMut::new();
            encoder.encode_trailers(&grpc_trailers(), &mut trailers);
            for block in [dst, trailers] {
                decoder.decode(&block.clone().freeze(), |header| decoded.push(header)).unwrap();
                blocks.push(block);
            }
        }
        // The second response: :status 200, then content-type at dynamic
        // index 63 (grpc-status, added after it, is 62); its trailers name
        // grpc-status in one octet too, and grpc-message as a literal.
        assert_eq!(&blocks[2][..], [0x88, 0x80 | 63]);
        assert_eq!(blocks[3][0], 0x80 | 62);
        let response = [Header::Status(Bytes::from_static(b"200")), field("content-type", "application/grpc")];
        let trailers = [field("grpc-status", "0"), field("grpc-message", "all is well")];
        assert_eq!(decoded, [&response[..], &trailers, &response, &trailers].concat());
    }

    #[test]
    fn a_smaller_peer_table_is_announced_and_refilled() {
        let mut encoder = Encoder::default();
        let mut decoder = Decoder::new(4096);
        let mut first = BytesMut::new();
        encoder.encode_trailers(&grpc_trailers(), &mut first);
        decoder.decode(&first.freeze(), |_| {}).unwrap();
        encoder.set_max_table_size(0);
        let mut second = BytesMut::new();
        encoder.encode_trailers(&grpc_trailers(), &mut second);
        // Size updates to 0 twice (empty, then the new size), and nothing
        // indexed: the table has no room.
        assert_eq!(&second[..2], [0x20, 0x20]);
        assert_eq!(second[2], LITERAL_WITHOUT_INDEXING);
        let mut decoded = Vec::new();
        decoder.decode(&second.freeze(), |header| decoded.push(header)).unwrap();
        assert_eq!(decoded, [field("grpc-status", "0"), field("grpc-message", "all is well")]);
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
        Encoder::default().encode_trailers(&headers, &mut dst);
        // content-type (31) by name, added to the dynamic table; age (21)
        // with its empty value by index; x as a literal name; authorization
        // (23) never indexed.
        assert_eq!(&dst[..], b"\x5f\x01a\x95\x00\x01x\x01y\x1f\x08\x01s");
    }
}
