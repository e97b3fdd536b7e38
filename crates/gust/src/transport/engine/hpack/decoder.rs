//! The HPACK decoder: turns the header blocks a peer sends into fields,
//! keeping the dynamic table in step with the peer's encoder.

use bytes::Bytes;

use super::dynamic_table::DynamicTable;
use super::field::Field;
use super::{huffman, integer, static_table, DecodeError, Header};

/// Decodes the header blocks of one connection, in order.
#[derive(Debug)]
pub(crate) struct Decoder {
    /// The fields the peer indexed, in step with the peer's encoder.
    table: DynamicTable,
    /// The dynamic table size we advertised (SETTINGS_HEADER_TABLE_SIZE):
    /// the peer may not set a larger one.
    max_table_size: usize,
}

impl Decoder {
    /// A decoder for a connection on which we advertise `max_table_size` as
    /// SETTINGS_HEADER_TABLE_SIZE (4096 by default): the dynamic table starts
    /// at that size, and a size update above it is an error.
    pub(crate) fn new(max_table_size: usize) -> Decoder {
        Decoder { table: DynamicTable::new(max_table_size), max_table_size }
    }

    /// Decodes one complete header block (a HEADERS payload and its
    /// CONTINUATIONs, concatenated), calling `emit` for each field in order.
    ///
    /// The whole block is processed whatever `emit` makes of the fields (a
    /// caller over SETTINGS_MAX_HEADER_LIST_SIZE just stops keeping them), so
    /// the dynamic table stays in step with the peer. Fields HTTP does not
    /// accept are not emitted; see [`DecodeError::InvalidField`]. Any other
    /// error stops decoding: the connection is over.
    pub(crate) fn decode(&mut self, block: &Bytes, mut emit: impl FnMut(Header)) -> Result<(), DecodeError> {
        let mut reader = BlockReader { block, position: 0 };
        let mut seen_field = false;
        let mut all_valid = true;
        while let Some(first) = reader.peek() {
            let field = if first & 0x80 != 0 {
                // Indexed field (RFC 7541 6.1).
                let index = reader.integer(7)?;
                self.field_at(index)?.clone()
            } else if first & 0x40 != 0 {
                // Literal with incremental indexing (6.2.1).
                let field = self.literal(&mut reader, 6)?;
                self.table.insert(field.clone());
                field
            } else if first & 0x20 != 0 {
                // Dynamic table size update (6.3): only before any field (4.2).
                if seen_field {
                    return Err(DecodeError::TableSizeUpdateAfterField);
                }
                let size = reader.integer(5)?;
                if size > self.max_table_size {
                    return Err(DecodeError::TableSizeAboveLimit);
                }
                self.table.set_max_size(size);
                continue;
            } else {
                // Literal without indexing (6.2.2) or never indexed (6.2.3):
                // the same to a decoder that keeps no other copy.
                self.literal(&mut reader, 4)?
            };
            seen_field = true;
            match field {
                Field::Valid(header) => emit(header),
                Field::Invalid { .. } => all_valid = false,
            }
        }
        if all_valid {
            Ok(())
        } else {
            Err(DecodeError::InvalidField)
        }
    }

    /// Reads a literal field whose name index has a `prefix_bits`-bit prefix:
    /// the name from the tables (index > 0) or a string (index 0), then the
    /// value.
    fn literal(&self, reader: &mut BlockReader<'_>, prefix_bits: u32) -> Result<Field, DecodeError> {
        let name_index = reader.integer(prefix_bits)?;
        if name_index == 0 {
            let name = reader.string()?;
            let value = reader.string()?;
            Ok(Field::new(name, value))
        } else {
            let named = self.field_at(name_index)?;
            let value = reader.string()?;
            Ok(named.with_value(value))
        }
    }

    /// The field at an HPACK index: 1 to 61 in the static table, the dynamic
    /// table after.
    fn field_at(&self, index: usize) -> Result<&Field, DecodeError> {
        let field = match index.checked_sub(static_table::LEN + 1) {
            None => static_table::get(index),
            Some(dynamic_index) => self.table.get(dynamic_index),
        };
        field.ok_or(DecodeError::InvalidIndex)
    }
}

/// A position in a header block, reading the primitives of RFC 7541 5.
struct BlockReader<'a> {
    /// The whole block: raw strings are slices of it, not copies.
    block: &'a Bytes,
    /// Where the next representation starts (at most `block.len()`).
    position: usize,
}

impl BlockReader<'_> {
    /// The next octet, unread; `None` at the end of the block.
    fn peek(&self) -> Option<u8> {
        self.block.get(self.position).copied()
    }

    /// Reads an integer with a `prefix_bits`-bit prefix (RFC 7541 5.1).
    fn integer(&mut self, prefix_bits: u32) -> Result<usize, DecodeError> {
        let rest = self.block.get(self.position..).unwrap_or_default();
        let (value, octets) = integer::decode(rest, prefix_bits)?;
        self.position += octets;
        Ok(value)
    }

    /// Reads a string (RFC 7541 5.2): a slice of the block if sent raw,
    /// decoded if Huffman-coded.
    fn string(&mut self) -> Result<Bytes, DecodeError> {
        let huffman = self.peek().is_some_and(|first| first & 0x80 != 0);
        let length = self.integer(7)?;
        let start = self.position;
        let end = start.checked_add(length).filter(|&end| end <= self.block.len()).ok_or(DecodeError::Truncated)?;
        self.position = end;
        if huffman {
            huffman::decode(&self.block[start..end])
        } else {
            Ok(self.block.slice(start..end))
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use http::{HeaderName, HeaderValue};

    use super::*;

    fn hex(text: &str) -> Bytes {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap()).collect()
    }

    /// Decodes `block`, returning the fields as (name, value) text and the
    /// outcome.
    fn decode(decoder: &mut Decoder, block: &[u8]) -> (Vec<(String, String)>, Result<(), DecodeError>) {
        let mut fields = Vec::new();
        let result = decoder.decode(&Bytes::copy_from_slice(block), |header| {
            fields.push((header.name().to_owned(), String::from_utf8_lossy(header.value()).into_owned()));
        });
        (fields, result)
    }

    /// Decodes a block that must decode, returning its fields.
    fn decode_ok(decoder: &mut Decoder, block: &[u8]) -> Vec<(String, String)> {
        let (fields, result) = decode(decoder, block);
        assert_eq!(result, Ok(()));
        fields
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected.iter().map(|&(name, value)| (name.to_owned(), value.to_owned())).collect()
    }

    /// Checks the dynamic table's fields (newest first) and its size.
    fn assert_table(decoder: &Decoder, expected: &[(&str, &str)], size: usize) {
        let fields: Vec<(String, String)> = decoder
            .table
            .fields()
            .map(|field| match field {
                Field::Valid(header) => {
                    (header.name().to_owned(), String::from_utf8_lossy(header.value()).into_owned())
                }
                Field::Invalid { .. } => panic!("invalid field in the table"),
            })
            .collect();
        assert_eq!(fields, pairs(expected));
        assert_eq!(decoder.table.size(), size);
    }

    /// RFC 7541 C.2.1: literal with indexing.
    #[test]
    fn c_2_1_literal_with_indexing() {
        let mut decoder = Decoder::new(4096);
        let block = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        assert_eq!(decode_ok(&mut decoder, &block), pairs(&[("custom-key", "custom-header")]));
        assert_table(&decoder, &[("custom-key", "custom-header")], 55);
    }

    /// RFC 7541 C.2.2: literal without indexing.
    #[test]
    fn c_2_2_literal_without_indexing() {
        let mut decoder = Decoder::new(4096);
        let block = hex("040c 2f73 616d 706c 652f 7061 7468");
        assert_eq!(decode_ok(&mut decoder, &block), pairs(&[(":path", "/sample/path")]));
        assert_table(&decoder, &[], 0);
    }

    /// RFC 7541 C.2.3: literal never indexed.
    #[test]
    fn c_2_3_literal_never_indexed() {
        let mut decoder = Decoder::new(4096);
        let block = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
        assert_eq!(decode_ok(&mut decoder, &block), pairs(&[("password", "secret")]));
        assert_table(&decoder, &[], 0);
    }

    /// RFC 7541 C.2.4: indexed field.
    #[test]
    fn c_2_4_indexed_field() {
        let mut decoder = Decoder::new(4096);
        assert_eq!(decode_ok(&mut decoder, &hex("82")), pairs(&[(":method", "GET")]));
        assert_table(&decoder, &[], 0);
    }

    /// The three requests of RFC 7541 C.3 (raw strings) or C.4 (Huffman),
    /// decoded in turn by one decoder.
    fn decode_requests(blocks: [&str; 3]) {
        let mut decoder = Decoder::new(4096);
        let first = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")];
        assert_eq!(decode_ok(&mut decoder, &hex(blocks[0])), pairs(&first));
        assert_table(&decoder, &[(":authority", "www.example.com")], 57);

        let second = [
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
            ("cache-control", "no-cache"),
        ];
        assert_eq!(decode_ok(&mut decoder, &hex(blocks[1])), pairs(&second));
        assert_table(&decoder, &[("cache-control", "no-cache"), (":authority", "www.example.com")], 110);

        let third = [
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ];
        assert_eq!(decode_ok(&mut decoder, &hex(blocks[2])), pairs(&third));
        assert_table(
            &decoder,
            &[("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")],
            164,
        );
    }

    /// RFC 7541 C.3: requests without Huffman coding.
    #[test]
    fn c_3_requests_without_huffman() {
        decode_requests([
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ]);
    }

    /// RFC 7541 C.4: requests with Huffman coding.
    #[test]
    fn c_4_requests_with_huffman() {
        decode_requests([
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ]);
    }

    /// The three responses of RFC 7541 C.5 (raw strings) or C.6 (Huffman),
    /// decoded in turn by one decoder with a 256-byte table, which evicts.
    fn decode_responses(blocks: [&str; 3]) {
        let mut decoder = Decoder::new(256);
        let date = "Mon, 21 Oct 2013 20:13:21 GMT";
        let location = "https://www.example.com";
        let first = [(":status", "302"), ("cache-control", "private"), ("date", date), ("location", location)];
        assert_eq!(decode_ok(&mut decoder, &hex(blocks[0])), pairs(&first));
        assert_table(
            &decoder,
            &[("location", location), ("date", date), ("cache-control", "private"), (":status", "302")],
            222,
        );

        let second = [(":status", "307"), ("cache-control", "private"), ("date", date), ("location", location)];
        assert_eq!(decode_ok(&mut decoder, &hex(blocks[1])), pairs(&second));
        assert_table(
            &decoder,
            &[(":status", "307"), ("location", location), ("date", date), ("cache-control", "private")],
            222,
        );

        let date = "Mon, 21 Oct 2013 20:13:22 GMT";
        let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
        let third = [
            (":status", "200"),
            ("cache-control", "private"),
            ("date", date),
            ("location", location),
            ("content-encoding", "gzip"),
            ("set-cookie", cookie),
        ];
        assert_eq!(decode_ok(&mut decoder, &hex(blocks[2])), pairs(&third));
        assert_table(&decoder, &[("set-cookie", cookie), ("content-encoding", "gzip"), ("date", date)], 215);
    }

    /// RFC 7541 C.5: responses without Huffman coding.
    #[test]
    fn c_5_responses_without_huffman() {
        decode_responses([
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 \
             2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 \
             6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d \
             54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 \
             5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e \
             3d31",
        ]);
    }

    /// RFC 7541 C.6: responses with Huffman coding.
    #[test]
    fn c_6_responses_with_huffman() {
        decode_responses([
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
             77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
             9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ]);
    }

    #[test]
    fn raw_strings_are_slices_of_the_block() {
        let block = hex("0f2b 0361 6263 400a 6375 7374 6f6d 2d6b 6579 0161");
        let mut headers = Vec::new();
        Decoder::new(4096).decode(&block, |header| headers.push(header)).unwrap();
        let range = block.as_ptr_range();
        for header in &headers {
            assert!(range.contains(&header.value().as_ptr()), "{header:?} was copied");
        }
        assert_eq!(
            headers[0],
            Header::Field { name: HeaderName::from_static("user-agent"), value: HeaderValue::from_static("abc") }
        );
    }

    #[test]
    fn size_updates_are_applied_and_bounded() {
        let mut decoder = Decoder::new(4096);
        decode_ok(&mut decoder, &hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
        // Two updates at the start (to 0, which empties the table, then back
        // to 4096), then a field.
        assert_eq!(decode_ok(&mut decoder, &hex("20 3fe1 1f 82")), pairs(&[(":method", "GET")]));
        assert_table(&decoder, &[], 0);
        assert_eq!(decode(&mut decoder, &hex("be")).1, Err(DecodeError::InvalidIndex));

        let mut too_large = BytesMut::new();
        integer::encode(4097, 5, 0x20, &mut too_large);
        assert_eq!(decode(&mut decoder, &too_large).1, Err(DecodeError::TableSizeAboveLimit));
        assert_eq!(decode(&mut Decoder::new(4096), &hex("82 20")).1, Err(DecodeError::TableSizeUpdateAfterField));
    }

    #[test]
    fn indexes_past_the_tables_are_refused() {
        let mut decoder = Decoder::new(4096);
        // Indexed field 0; indexed 62 with an empty dynamic table; a literal
        // whose name index (62) is past the tables.
        assert_eq!(decode(&mut decoder, &hex("80")).1, Err(DecodeError::InvalidIndex));
        assert_eq!(decode(&mut decoder, &hex("be")).1, Err(DecodeError::InvalidIndex));
        assert_eq!(decode(&mut decoder, &hex("7e 00")).1, Err(DecodeError::InvalidIndex));
        assert_eq!(decode(&mut decoder, &hex("0f 2f 00")).1, Err(DecodeError::InvalidIndex));
        // With one dynamic field, 62 resolves and 63 does not.
        decode_ok(&mut decoder, &hex("4001 6101 62"));
        assert_eq!(decode_ok(&mut decoder, &hex("be")), pairs(&[("a", "b")]));
        assert_eq!(decode(&mut decoder, &hex("bf")).1, Err(DecodeError::InvalidIndex));
    }

    #[test]
    fn malformed_representations_are_compression_errors() {
        let mut decoder = Decoder::new(4096);
        // An index that promises another octet.
        assert_eq!(decode(&mut decoder, &hex("ff")).1, Err(DecodeError::Truncated));
        // A value longer than the rest of the block; a missing value.
        assert_eq!(decode(&mut decoder, &hex("0005 61")).1, Err(DecodeError::Truncated));
        assert_eq!(decode(&mut decoder, &hex("0001 61")).1, Err(DecodeError::Truncated));
        // A length past u32.
        assert_eq!(decode(&mut decoder, &hex("007f ffff ffff 7f")).1, Err(DecodeError::IntegerTooLarge));
        // Huffman values: all zeros (bad padding), an octet of ones (padding
        // too long), thirty ones (EOS).
        assert_eq!(decode(&mut decoder, &hex("0181 00")).1, Err(DecodeError::InvalidHuffmanPadding));
        assert_eq!(decode(&mut decoder, &hex("0181 ff")).1, Err(DecodeError::InvalidHuffmanPadding));
        assert_eq!(decode(&mut decoder, &hex("0184 ffff ffff")).1, Err(DecodeError::HuffmanEos));
    }

    #[test]
    fn invalid_fields_are_skipped_and_the_table_stays_in_step() {
        let mut decoder = Decoder::new(4096);
        // Indexed "A: x" (uppercase name), then a reference to it, then a
        // valid field after it.
        let (fields, result) = decode(&mut decoder, &hex("4001 4101 78 be 82"));
        assert_eq!(fields, pairs(&[(":method", "GET")]));
        assert_eq!(result, Err(DecodeError::InvalidField));
        assert_eq!(decoder.table.size(), 34);

        // Indexed "a: \0" (invalid value); its name with a good value is fine.
        let mut decoder = Decoder::new(4096);
        let (fields, result) = decode(&mut decoder, &hex("4001 6101 00 7e01 76"));
        assert_eq!(fields, pairs(&[("a", "v")]));
        assert_eq!(result, Err(DecodeError::InvalidField));
        assert_eq!(decode_ok(&mut decoder, &hex("be")), pairs(&[("a", "v")]));
        assert_eq!(decode(&mut decoder, &hex("bf")).1, Err(DecodeError::InvalidField));

        // An unknown pseudo-header; a literal name with a space.
        for block in ["0004 3a66 6f6f 00", "0003 6120 6200"] {
            assert_eq!(decode(&mut Decoder::new(4096), &hex(block)).1, Err(DecodeError::InvalidField));
        }
    }
}
