//! `grpc-message` percent-encoding: decoding any bytes never panics, and
//! every string survives encode then decode.
#![no_main]

use gust::fuzzing::{percent_decode, percent_encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = percent_decode(data);
    if let Ok(message) = std::str::from_utf8(data) {
        let encoded = percent_encode(message);
        assert!(encoded.bytes().all(|b| (0x20..0x7f).contains(&b)), "{encoded:?} is not printable ASCII");
        assert_eq!(percent_decode(encoded.as_bytes()), message);
    }
});
