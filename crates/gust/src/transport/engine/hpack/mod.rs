//! HPACK (RFC 7541): the header compression of HTTP/2.
//!
//! The [`Decoder`] reads the header blocks a peer sends, keeping the dynamic
//! table in step with the peer's encoder; the [`Encoder`] writes response and
//! trailer blocks without a dynamic table of its own (see its docs).

mod decoder;
mod dynamic_table;
mod encoder;
mod field;
mod header;
mod huffman;
mod integer;
mod static_table;

pub(crate) use decoder::Decoder;
pub(crate) use encoder::Encoder;
pub(crate) use header::Header;

/// Why a header block could not be decoded.
///
/// Every variant but [`DecodeError::InvalidField`] is a connection error of
/// type COMPRESSION_ERROR in HTTP/2 (RFC 9113 4.3): the decoder may be out of
/// step with the peer's encoder, so the connection cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The block ended inside a representation: an integer that promised
    /// another octet, or a string longer than what is left.
    Truncated,
    /// An integer beyond what this decoder accepts: past `u32::MAX`, or
    /// spread over more octets than such a value needs.
    IntegerTooLarge,
    /// An index of 0, or one past the end of the static and dynamic tables.
    InvalidIndex,
    /// A dynamic table size update above the size we advertised
    /// (SETTINGS_HEADER_TABLE_SIZE).
    TableSizeAboveLimit,
    /// A dynamic table size update after a field: RFC 7541 4.2 allows them
    /// only at the beginning of a block.
    TableSizeUpdateAfterField,
    /// A Huffman string ending in more than 7 bits of padding, or in padding
    /// that is not all ones (which covers a string cut inside a code).
    InvalidHuffmanPadding,
    /// A Huffman string containing the EOS symbol, which RFC 7541 5.2 forbids.
    HuffmanEos,
    /// The block decoded (the dynamic table is in step with the peer), but at
    /// least one field is not acceptable to HTTP: a name with uppercase or
    /// other invalid characters, an unknown pseudo-header, or a value with
    /// invalid bytes. A stream error: the request is malformed (RFC 9113
    /// 8.1.1), the connection is fine.
    ///
    /// Such fields are not passed to `emit`; decoding goes on to the end of
    /// the block (so later fields still update the table) and then returns
    /// this error. The fields that were emitted belong to a malformed request
    /// and should be dropped with it.
    InvalidField,
}
