//! The serialized `FileDescriptorProto` that a `_pb2.py` module embeds, and
//! where each message, enum and service sits inside it.
//!
//! The protobuf runtime builds every class from these bytes
//! (`AddSerializedFile`). Its pure-Python implementation additionally wants,
//! for each message, enum and service, the byte range of its own descriptor
//! within the file (`_serialized_start`/`_serialized_end`), and, for each
//! element with options, the serialized options (re-parsed once custom option
//! extensions are registered). All of that is read back from the bytes we
//! embed, at the wire level, so custom options (which typed descriptor structs
//! would drop as unknown fields) survive byte for byte.
//!
//! The bytes are the file as protox compiled it, minus what protoc leaves
//! out of the descriptor it embeds: the source code info (comments and spans)
//! and the `json_name` of fields that do not set one (protox fills in the
//! default, `placed_at` → `placedAt`; the runtime computes the same). One
//! quirk of protoc is reproduced: an rpc written with a body,
//! `rpc A(B) returns (C) {}`, has options, even if empty.

use std::ops::Range;

/// Field numbers from `google/protobuf/descriptor.proto`.
mod tag {
    pub const FILE_MESSAGE_TYPE: u32 = 4;
    pub const FILE_ENUM_TYPE: u32 = 5;
    pub const FILE_SERVICE: u32 = 6;
    pub const FILE_EXTENSION: u32 = 7;
    pub const FILE_OPTIONS: u32 = 8;
    pub const FILE_SOURCE_CODE_INFO: u32 = 9;

    pub const MESSAGE_FIELD: u32 = 2;
    pub const MESSAGE_NESTED_TYPE: u32 = 3;
    pub const MESSAGE_ENUM_TYPE: u32 = 4;
    pub const MESSAGE_EXTENSION: u32 = 6;
    pub const MESSAGE_OPTIONS: u32 = 7;
    pub const MESSAGE_ONEOF_DECL: u32 = 8;

    pub const FIELD_NAME: u32 = 1;
    pub const FIELD_OPTIONS: u32 = 8;
    pub const FIELD_JSON_NAME: u32 = 10;
    pub const ONEOF_OPTIONS: u32 = 2;

    pub const ENUM_VALUE: u32 = 2;
    pub const ENUM_OPTIONS: u32 = 3;
    pub const ENUM_VALUE_OPTIONS: u32 = 3;

    pub const SERVICE_METHOD: u32 = 2;
    pub const METHOD_OUTPUT_TYPE: u32 = 3;
    pub const SERVICE_OPTIONS: u32 = 3;
    pub const METHOD_OPTIONS: u32 = 4;
}

/// The embedded bytes and the index of what they contain.
#[derive(Debug)]
pub(crate) struct Serialized {
    /// The encoded `FileDescriptorProto`, without source code info.
    pub(crate) bytes: Vec<u8>,
    /// Where the file's elements are in `bytes`.
    pub(crate) file: FileIndex,
}

/// Serialized options of one element; empty when it has none.
pub(crate) type Options = Vec<u8>;

/// The file-level entries of the index, in declaration order.
#[derive(Debug, Default)]
pub(crate) struct FileIndex {
    pub(crate) options: Options,
    pub(crate) messages: Vec<MessageIndex>,
    pub(crate) enums: Vec<EnumIndex>,
    pub(crate) services: Vec<ServiceIndex>,
    /// Options of the top-level extensions.
    pub(crate) extensions: Vec<Options>,
}

/// A message's range and the options of everything declared in it.
#[derive(Debug, Default)]
pub(crate) struct MessageIndex {
    pub(crate) span: Range<usize>,
    pub(crate) options: Options,
    pub(crate) fields: Vec<Options>,
    pub(crate) extensions: Vec<Options>,
    pub(crate) oneofs: Vec<Options>,
    pub(crate) nested: Vec<MessageIndex>,
    pub(crate) enums: Vec<EnumIndex>,
}

/// An enum's range, its options and those of its values.
#[derive(Debug, Default)]
pub(crate) struct EnumIndex {
    pub(crate) span: Range<usize>,
    pub(crate) options: Options,
    pub(crate) values: Vec<Options>,
}

/// A service's range, its options and those of its methods.
#[derive(Debug, Default)]
pub(crate) struct ServiceIndex {
    pub(crate) span: Range<usize>,
    pub(crate) options: Options,
    pub(crate) methods: Vec<Options>,
}

impl Serialized {
    /// Strips `encoded` (a `FileDescriptorProto` as protox encodes it) down
    /// to what protoc embeds, and indexes the result. `method_bodies` lists
    /// the rpcs (service index, method index) written with a `{ ... }` body.
    pub(crate) fn new(encoded: &[u8], method_bodies: &[(usize, usize)]) -> Serialized {
        let bytes = strip_file(encoded, method_bodies);
        let file = index_file(&bytes);
        Serialized { bytes, file }
    }
}

/// Appends a length-delimited field to `out`.
fn put_len_field(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
    put_varint(out, u64::from(number) << 3 | 2);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn strip_file(bytes: &[u8], method_bodies: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut service = 0;
    for field in Fields::new(bytes) {
        match field.number {
            tag::FILE_SOURCE_CODE_INFO => {}
            tag::FILE_SERVICE => {
                let bodies: Vec<usize> = method_bodies.iter().filter(|(s, _)| *s == service).map(|(_, m)| *m).collect();
                put_len_field(&mut out, field.number, &mark_method_bodies(field.payload, &bodies));
                service += 1;
            }
            tag::FILE_MESSAGE_TYPE => put_len_field(&mut out, field.number, &strip_message(field.payload)),
            tag::FILE_EXTENSION => put_len_field(&mut out, field.number, &strip_field(field.payload)),
            _ => out.extend_from_slice(field.raw),
        }
    }
    out
}

fn strip_message(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for field in Fields::new(bytes) {
        match field.number {
            tag::MESSAGE_NESTED_TYPE => put_len_field(&mut out, field.number, &strip_message(field.payload)),
            tag::MESSAGE_FIELD | tag::MESSAGE_EXTENSION => {
                put_len_field(&mut out, field.number, &strip_field(field.payload))
            }
            _ => out.extend_from_slice(field.raw),
        }
    }
    out
}

/// Gives the methods at `bodies` (indexes within the service) options, empty
/// if they have none, right after their output type: protoc's parser creates
/// the options of an rpc as soon as it sees a body.
fn mark_method_bodies(service: &[u8], bodies: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(service.len() + 2 * bodies.len());
    let mut method = 0;
    for field in Fields::new(service) {
        if field.number != tag::SERVICE_METHOD {
            out.extend_from_slice(field.raw);
            continue;
        }
        let has_options = Fields::new(field.payload).any(|f| f.number == tag::METHOD_OPTIONS);
        if bodies.contains(&method) && !has_options {
            let mut rewritten = Vec::with_capacity(field.payload.len() + 2);
            let mut placed = false;
            for inner in Fields::new(field.payload) {
                if !placed && inner.number > tag::METHOD_OUTPUT_TYPE {
                    put_len_field(&mut rewritten, tag::METHOD_OPTIONS, &[]);
                    placed = true;
                }
                rewritten.extend_from_slice(inner.raw);
            }
            if !placed {
                put_len_field(&mut rewritten, tag::METHOD_OPTIONS, &[]);
            }
            put_len_field(&mut out, field.number, &rewritten);
        } else {
            out.extend_from_slice(field.raw);
        }
        method += 1;
    }
    out
}

/// Drops a field's `json_name` when it is the default one for its name.
fn strip_field(bytes: &[u8]) -> Vec<u8> {
    let name = Fields::new(bytes)
        .filter(|field| field.number == tag::FIELD_NAME)
        .last()
        .map(|field| String::from_utf8_lossy(field.payload).into_owned())
        .unwrap_or_default();
    let default = default_json_name(&name);
    let mut out = Vec::with_capacity(bytes.len());
    for field in Fields::new(bytes) {
        if field.number == tag::FIELD_JSON_NAME && field.payload == default.as_bytes() {
            continue;
        }
        out.extend_from_slice(field.raw);
    }
    out
}

/// The JSON name protobuf derives from a field name: underscores dropped,
/// the letter after each one upper-cased (`placed_at` → `placedAt`).
fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// One field of an encoded message.
struct Field<'a> {
    number: u32,
    /// The payload of a length-delimited field (empty for other wire types).
    payload: &'a [u8],
    /// Offset of `payload` within the message being walked.
    payload_start: usize,
    /// The whole field, tag included, as it appears in the message.
    raw: &'a [u8],
}

/// Iterates over the fields of an encoded message. The input comes from
/// protox's own encoder, so it is well formed; should it not be, iteration
/// stops at the first malformed byte instead of panicking.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Fields<'a> {
        Fields { bytes, at: 0 }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// Skips the rest of a group whose start tag was just read.
    fn skip_group(&mut self, number: u32) -> Option<()> {
        loop {
            let key = self.varint()?;
            let (inner, wire_type) = ((key >> 3) as u32, key & 7);
            match wire_type {
                4 if inner == number => return Some(()),
                _ => self.skip(inner, wire_type)?,
            }
        }
    }

    /// Skips the payload of a field of `wire_type` whose tag was just read.
    fn skip(&mut self, number: u32, wire_type: u64) -> Option<()> {
        match wire_type {
            0 => self.varint().map(drop),
            1 => self.advance(8),
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                self.advance(len)
            }
            3 => self.skip_group(number),
            5 => self.advance(4),
            _ => None,
        }
    }

    fn advance(&mut self, len: usize) -> Option<()> {
        let end = self.at.checked_add(len)?;
        (end <= self.bytes.len()).then(|| self.at = end)
    }

    fn next_field(&mut self) -> Option<Field<'a>> {
        let start = self.at;
        let key = self.varint()?;
        let (number, wire_type) = ((key >> 3) as u32, key & 7);
        let (payload, payload_start) = if wire_type == 2 {
            let len = usize::try_from(self.varint()?).ok()?;
            let payload_start = self.at;
            self.advance(len)?;
            (&self.bytes[payload_start..self.at], payload_start)
        } else {
            self.skip(number, wire_type)?;
            (&[][..], self.at)
        };
        Some(Field { number, payload, payload_start, raw: &self.bytes[start..self.at] })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let field = self.next_field();
        if field.is_none() {
            // Stop for good, also after a malformed field.
            self.at = self.bytes.len();
        }
        field
    }
}

/// The concatenated payloads of every `number` field in `message`: the
/// options submessage, merged as protobuf merges repeated occurrences.
fn options_of(message: &[u8], number: u32) -> Options {
    Fields::new(message)
        .filter(|field| field.number == number)
        .flat_map(|field| field.payload.iter().copied())
        .collect()
}

fn index_file(bytes: &[u8]) -> FileIndex {
    let mut file = FileIndex::default();
    for field in Fields::new(bytes) {
        let span = field.payload_start..field.payload_start + field.payload.len();
        match field.number {
            tag::FILE_MESSAGE_TYPE => file.messages.push(index_message(field.payload, span)),
            tag::FILE_ENUM_TYPE => file.enums.push(index_enum(field.payload, span)),
            tag::FILE_SERVICE => file.services.push(index_service(field.payload, span)),
            tag::FILE_EXTENSION => file.extensions.push(options_of(field.payload, tag::FIELD_OPTIONS)),
            tag::FILE_OPTIONS => file.options.extend_from_slice(field.payload),
            _ => {}
        }
    }
    file
}

/// Indexes the message whose payload is `bytes`, found at `span` of the file.
fn index_message(bytes: &[u8], span: Range<usize>) -> MessageIndex {
    let mut message = MessageIndex { span: span.clone(), ..MessageIndex::default() };
    for field in Fields::new(bytes) {
        let start = span.start + field.payload_start;
        let inner = start..start + field.payload.len();
        match field.number {
            tag::MESSAGE_FIELD => message.fields.push(options_of(field.payload, tag::FIELD_OPTIONS)),
            tag::MESSAGE_EXTENSION => message.extensions.push(options_of(field.payload, tag::FIELD_OPTIONS)),
            tag::MESSAGE_ONEOF_DECL => message.oneofs.push(options_of(field.payload, tag::ONEOF_OPTIONS)),
            tag::MESSAGE_NESTED_TYPE => message.nested.push(index_message(field.payload, inner)),
            tag::MESSAGE_ENUM_TYPE => message.enums.push(index_enum(field.payload, inner)),
            tag::MESSAGE_OPTIONS => message.options.extend_from_slice(field.payload),
            _ => {}
        }
    }
    message
}

fn index_enum(bytes: &[u8], span: Range<usize>) -> EnumIndex {
    let mut index = EnumIndex { span, ..EnumIndex::default() };
    for field in Fields::new(bytes) {
        match field.number {
            tag::ENUM_VALUE => index.values.push(options_of(field.payload, tag::ENUM_VALUE_OPTIONS)),
            tag::ENUM_OPTIONS => index.options.extend_from_slice(field.payload),
            _ => {}
        }
    }
    index
}

fn index_service(bytes: &[u8], span: Range<usize>) -> ServiceIndex {
    let mut index = ServiceIndex { span, ..ServiceIndex::default() };
    for field in Fields::new(bytes) {
        match field.number {
            tag::SERVICE_METHOD => index.methods.push(options_of(field.payload, tag::METHOD_OPTIONS)),
            tag::SERVICE_OPTIONS => index.options.extend_from_slice(field.payload),
            _ => {}
        }
    }
    index
}

/// `bytes` as the body of a Python bytes literal in single quotes: printable
/// ASCII as is, the usual short escapes, `\xNN` for everything else.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fibonacci.proto` as protoc serializes it into `fibonacci_pb2.py`,
    /// with the offsets protoc computes for it.
    const FIBONACCI: &[u8] = b"\n\x0ffibonacci.proto\x12\tfibonacci\"\x17\n\x06Number\x12\r\n\x05value\x18\x01 \x01(\x05\x32\xe6\x01\n\tFibonacci\x12/\n\x07AtIndex\x12\x11.fibonacci.Number\x1a\x11.fibonacci.Number\x12\x35\n\x0bGetSequence\x12\x11.fibonacci.Number\x1a\x11.fibonacci.Number0\x01\x12\x35\n\x0bSumIndicies\x12\x11.fibonacci.Number\x1a\x11.fibonacci.Number(\x01\x12:\n\x0eStreamSequence\x12\x11.fibonacci.Number\x1a\x11.fibonacci.Number(\x01\x30\x01\x62\x06proto3";

    #[test]
    fn spans_match_protoc() {
        let serialized = Serialized::new(FIBONACCI, &[]);
        assert_eq!(serialized.bytes, FIBONACCI);
        assert_eq!(serialized.file.messages[0].span, 30..53);
        assert_eq!(serialized.file.services[0].span, 56..286);
        assert_eq!(serialized.file.services[0].methods.len(), 4);
        assert!(serialized.file.options.is_empty());
    }

    #[test]
    fn source_code_info_is_dropped() {
        let mut encoded = FIBONACCI.to_vec();
        encoded.extend_from_slice(b"\x4a\x02\x0a\x00");
        assert_eq!(Serialized::new(&encoded, &[]).bytes, FIBONACCI);
    }

    #[test]
    fn nested_spans_and_options() {
        // message A { option deprecated = true; message B {} enum E { X = 0 [deprecated = true]; } int32 f = 1 [deprecated = true]; }
        let b = b"\n\x01B".to_vec();
        let value = b"\n\x01X\x10\x00\x1a\x02\x08\x01".to_vec();
        let mut e = b"\n\x01E".to_vec();
        e.push(0x12);
        e.push(value.len() as u8);
        e.extend_from_slice(&value);
        let field = b"\n\x01f\x18\x01\x42\x02\x18\x01".to_vec();
        let mut a = b"\n\x01A".to_vec();
        for (tag, body) in [(0x12u8, &field), (0x1a, &b), (0x22, &e)] {
            a.push(tag);
            a.push(body.len() as u8);
            a.extend_from_slice(body);
        }
        a.extend_from_slice(b"\x3a\x02\x18\x01");
        let mut file = b"\n\x03a.p".to_vec();
        file.push(0x22);
        file.push(a.len() as u8);
        let a_start = file.len();
        file.extend_from_slice(&a);

        let index = Serialized::new(&file, &[]).file;
        let message = &index.messages[0];
        assert_eq!(message.span, a_start..a_start + a.len());
        assert_eq!(message.options, b"\x18\x01");
        assert_eq!(message.fields, [b"\x18\x01".to_vec()]);
        let nested = &message.nested[0].span;
        assert_eq!(&file[nested.clone()], &b[..]);
        let en = &message.enums[0];
        assert_eq!(&file[en.span.clone()], &e[..]);
        assert_eq!(en.values, [b"\x08\x01".to_vec()]);
    }

    #[test]
    fn default_json_names_are_dropped() {
        // message M { int32 placed_at = 1; int32 b = 2 [json_name = "x"]; }
        let placed = b"\n\tplaced_at\x18\x01R\x08placedAt";
        let explicit = b"\n\x01b\x18\x02R\x01x";
        let mut message = b"\n\x01M".to_vec();
        put_len_field(&mut message, 2, placed);
        put_len_field(&mut message, 2, explicit);
        let mut file = Vec::new();
        put_len_field(&mut file, 4, &message);

        let mut expected_message = b"\n\x01M".to_vec();
        put_len_field(&mut expected_message, 2, b"\n\tplaced_at\x18\x01");
        put_len_field(&mut expected_message, 2, explicit);
        let mut expected = Vec::new();
        put_len_field(&mut expected, 4, &expected_message);
        assert_eq!(Serialized::new(&file, &[]).bytes, expected);
        assert_eq!(default_json_name("_a__b_c"), "ABC");
    }

    #[test]
    fn rpcs_with_a_body_get_empty_options() {
        let plain = b"\n\x01A\x12\x02.M\x1a\x02.M";
        let streaming = b"\n\x01B\x12\x02.M\x1a\x02.M0\x01";
        let mut service = b"\n\x01S".to_vec();
        put_len_field(&mut service, 2, plain);
        put_len_field(&mut service, 2, streaming);
        let mut file = Vec::new();
        put_len_field(&mut file, 6, &service);

        let mut expected_service = b"\n\x01S".to_vec();
        put_len_field(&mut expected_service, 2, b"\n\x01A\x12\x02.M\x1a\x02.M\"\x00");
        put_len_field(&mut expected_service, 2, b"\n\x01B\x12\x02.M\x1a\x02.M\"\x000\x01");
        let mut expected = Vec::new();
        put_len_field(&mut expected, 6, &expected_service);
        assert_eq!(Serialized::new(&file, &[(0, 0), (0, 1)]).bytes, expected);
        assert_eq!(Serialized::new(&file, &[]).bytes, file);
    }

    #[test]
    fn escapes_like_a_python_literal() {
        assert_eq!(escape_bytes(b"a'\\\n\x00\xff\""), "a\\'\\\\\\n\\x00\\xff\"");
    }
}
