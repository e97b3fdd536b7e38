//! gRPC message framing: any body, cut into chunks anywhere, decodes to the
//! same messages as in one piece, none over the limit, or fails cleanly.
#![no_main]

use gust::fuzzing::decode_frames;
use libfuzzer_sys::fuzz_target;

const MAX_LEN: usize = 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else { return };
    let at = usize::from(cut).min(body.len());
    let whole = decode_frames(&[body], MAX_LEN);
    let chunked = decode_frames(&[&body[..at], &body[at..]], MAX_LEN);
    match (&whole, &chunked) {
        (Ok(whole), Ok(chunked)) => {
            assert_eq!(whole, chunked);
            assert!(whole.iter().all(|(_, payload)| payload.len() <= MAX_LEN));
            let framed: usize = whole.iter().map(|(_, payload)| 5 + payload.len()).sum();
            assert_eq!(framed, body.len());
        }
        (Err(_), Err(_)) => {}
        _ => panic!("chunking changed the outcome: {whole:?} vs {chunked:?}"),
    }
});
