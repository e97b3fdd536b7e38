//! The frame type numbers of RFC 9113 section 6, as carried in the type
//! octet of the frame header.
//!
//! Plain `u8` constants rather than an enum: the header keeps the octet as
//! received, because a type this side does not know is not an error but a
//! frame to ignore (RFC 9113 section 4.1).

/// Carries a stream's payload (RFC 9113 section 6.1).
pub(crate) const DATA: u8 = 0x0;
/// Opens a stream or carries trailers: a field block fragment (section 6.2).
pub(crate) const HEADERS: u8 = 0x1;
/// Advisory priority of a stream, deprecated but still parsed (section 6.3).
pub(crate) const PRIORITY: u8 = 0x2;
/// Ends a stream at once (section 6.4).
pub(crate) const RST_STREAM: u8 = 0x3;
/// Connection parameters, or their acknowledgement (section 6.5).
pub(crate) const SETTINGS: u8 = 0x4;
/// A server's announcement of a pushed stream; never valid towards a server
/// (section 6.6).
pub(crate) const PUSH_PROMISE: u8 = 0x5;
/// Liveness check and round-trip measurement (section 6.7).
pub(crate) const PING: u8 = 0x6;
/// Connection shutdown, saying which streams were processed (section 6.8).
pub(crate) const GOAWAY: u8 = 0x7;
/// Flow-control credit for a stream or the connection (section 6.9).
pub(crate) const WINDOW_UPDATE: u8 = 0x8;
/// The rest of a field block that did not fit one frame (section 6.10).
pub(crate) const CONTINUATION: u8 = 0x9;
