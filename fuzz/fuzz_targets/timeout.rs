//! `grpc-timeout`: any value parses or is refused without panicking, and a
//! parsed timeout re-encodes to a value that parses to no less than it.
#![no_main]

use gust::fuzzing::{encode_timeout, parse_timeout};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(timeout) = parse_timeout(data) {
        let encoded = encode_timeout(timeout);
        let again = parse_timeout(encoded.as_bytes()).expect("an encoded timeout parses");
        assert!(again >= timeout, "{data:?} -> {timeout:?} -> {encoded} -> {again:?}");
    }
});
