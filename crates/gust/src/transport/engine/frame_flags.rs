//! The flag bits of RFC 9113 section 6, as carried in the flags octet of the
//! frame header.
//!
//! A bit's meaning depends on the frame type, so two names may share a value
//! (END_STREAM and ACK). Bits a frame type does not define are ignored on
//! receipt (RFC 9113 section 4.1).

/// DATA, HEADERS: the sender's last frame on this stream.
pub(crate) const END_STREAM: u8 = 0x1;
/// SETTINGS, PING: this frame acknowledges the peer's.
pub(crate) const ACK: u8 = 0x1;
/// HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends in this frame.
pub(crate) const END_HEADERS: u8 = 0x4;
/// DATA, HEADERS, PUSH_PROMISE: a pad length octet and padding surround the
/// content.
pub(crate) const PADDED: u8 = 0x8;
/// HEADERS: the exclusive bit, stream dependency and weight come first.
pub(crate) const PRIORITY: u8 = 0x20;
