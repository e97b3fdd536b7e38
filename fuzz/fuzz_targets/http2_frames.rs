//! HTTP/2 frames: any bytes read as a sequence of frames (header, size limit,
//! payload, decode) yield frames and errors, never a panic, and never more
//! results than whole frame headers in the input.
#![no_main]

use gust::fuzzing::decode_http2_frames;
use libfuzzer_sys::fuzz_target;

/// The smallest SETTINGS_MAX_FRAME_SIZE a server may advertise.
const MIN_MAX_FRAME_SIZE: usize = 16_384;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the frame size limit: small ones send frames of
    // fuzzer-sized inputs down the too-large path too.
    let Some((&limit, frames)) = data.split_first() else { return };
    let max_frame_size = if limit == 0 { MIN_MAX_FRAME_SIZE } else { usize::from(limit) };
    let decoded = decode_http2_frames(frames, max_frame_size);
    assert!(decoded.len() <= frames.len() / 9);
});
