//! HPACK: any bytes, cut into two header blocks decoded in turn by one
//! decoder, decode or fail cleanly; the regular fields of a block that
//! decodes are acceptable to `http`, and sent as a response head they decode
//! back to `:status` and the same fields.
#![no_main]

use bytes::Bytes;
use gust::fuzzing::{decode_header_blocks, encode_response_head};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [table, cut, blocks @ ..] = data else { return };
    let max_table_size = usize::from(*table) * 32;
    let at = usize::from(*cut).min(blocks.len());
    for fields in decode_header_blocks(&[&blocks[..at], &blocks[at..]], max_table_size).into_iter().flatten() {
        let mut headers = HeaderMap::new();
        for (name, value) in fields.into_iter().filter(|(name, _)| !name.starts_with(':')) {
            let name = HeaderName::from_lowercase(name.as_bytes()).expect("decoded names are lowercase and valid");
            headers.append(name, HeaderValue::from_maybe_shared(value).expect("decoded values are valid"));
        }
        let block = encode_response_head(StatusCode::OK, &headers);
        let mut expected = vec![(":status".to_owned(), Bytes::from_static(b"200"))];
        expected.extend(
            headers.iter().map(|(name, value)| (name.as_str().to_owned(), Bytes::copy_from_slice(value.as_bytes()))),
        );
        assert_eq!(decode_header_blocks(&[&block], 4096), [Ok(expected)]);
    }
});
