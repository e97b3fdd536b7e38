//! Metadata from received headers: lines `name:value` become a header map
//! (as far as HTTP allows), which must turn into metadata without panicking;
//! `-bin` values decode or are refused, and binary values round-trip.
#![no_main]

use gust::fuzzing::{decode_base64, encode_base64, metadata_from_headers};
use gust::MetadataValue;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(&line[colon + 1..]))
        else {
            continue;
        };
        let _ = decode_base64(value.as_bytes());
        headers.append(name, value);
    }
    let metadata = metadata_from_headers(headers);
    for (key, value) in metadata.iter() {
        if let MetadataValue::Binary(bytes) = value {
            assert!(key.ends_with("-bin"));
            assert_eq!(decode_base64(encode_base64(&bytes).as_bytes()).as_deref(), Some(&bytes[..]));
        }
    }
    assert_eq!(decode_base64(encode_base64(data).as_bytes()).as_deref(), Some(data));
});
