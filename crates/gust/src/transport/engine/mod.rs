//! gust's own HTTP/2 engine, for the server side.
//!
//! h2 serves every kind of HTTP/2 user: each stream handle reaches the
//! connection through a shared store of streams with per-stream frame
//! queues, and every header block becomes an `http::HeaderMap` through
//! h2's HPACK. On a 2-core machine that machinery is most of a small
//! unary call's cost (see `benches/reports/profile.md`). This engine does
//! what a gRPC server needs and no more: one task per connection reads and
//! checks every frame and writes what the streams queued; a stream's
//! handles queue their frames straight into the connection's write buffer
//! under one short lock; request heads are decoded by our own HPACK, and
//! response heads encoded straight into frames.
//!
//! It implements RFC 9113's rules for a server: the preface and SETTINGS
//! exchange, stream states and ids, flow control both ways, PING, GOAWAY
//! (graceful, in two steps, as grpc-go and h2 do), RST_STREAM, header
//! blocks over CONTINUATION, and the limits that keep one peer from costing
//! others (concurrency, header list size, write-queue room, rapid resets,
//! repeated stream errors).

mod connection;
// pub(crate) where `crate::fuzzing` reaches the parsers.
pub(crate) mod error_code;
pub(crate) mod frame;
pub(crate) mod frame_error;
mod frame_flags;
pub(crate) mod frame_header;
mod frame_kind;
mod frame_writer;
mod handles;
pub(crate) mod hpack;
mod pinger;
mod preface;
mod request_head;
mod settings;
mod state;
mod stream_id_hasher;
mod write_queue;

pub(crate) use connection::{Accepted, Connection};
pub(crate) use error_code::ErrorCode;
pub(crate) use handles::{RequestBody, ResponseStream};
pub(crate) use pinger::Pinger;
