//! Percent-encoding of `grpc-message`: UTF-8 bytes outside printable ASCII,
//! and `%` itself, travel as `%XX`.

use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, CONTROLS};

/// Bytes that must be escaped: controls (including DEL), `%`, and everything
/// non-ASCII (which `utf8_percent_encode` always escapes).
const GRPC_MESSAGE: &AsciiSet = &CONTROLS.add(b'%');

/// Encodes a status message for the `grpc-message` header.
pub(crate) fn encode(message: &str) -> String {
    utf8_percent_encode(message, GRPC_MESSAGE).to_string()
}

/// Decodes a received `grpc-message`. Never fails: broken escapes are kept as
/// they are and invalid UTF-8 is replaced, as the protocol requires.
pub(crate) fn decode(value: &[u8]) -> String {
    String::from_utf8_lossy(&percent_decode(value).collect::<Vec<u8>>()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_unicode_and_reserved_bytes() {
        let message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n 100%";
        let encoded = encode(message);
        assert!(encoded.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{encoded}");
        assert!(encoded.starts_with("%09%0Atest with whitespace"));
        assert!(encoded.ends_with("100%25"));
        assert_eq!(decode(encoded.as_bytes()), message);
    }

    #[test]
    fn broken_escapes_are_kept() {
        assert_eq!(decode(b"50% off %zz %4"), "50% off %zz %4");
        assert_eq!(decode(b"%FF"), "\u{FFFD}");
    }
}
