//! gust's own HTTP/2 engine: the server side of RFC 9113, specialised for
//! gRPC, to replace the `h2` crate where speed matters. Built bottom-up; for
//! now the frame layer (frame headers, decoding with RFC 9113's per-frame
//! rules, encoding the frames a server sends) and HPACK.
#![allow(dead_code)] // until the engine is wired in

pub(crate) mod error_code;
pub(crate) mod frame;
pub(crate) mod frame_error;
pub(crate) mod frame_flags;
pub(crate) mod frame_header;
pub(crate) mod frame_kind;
pub(crate) mod frame_writer;
pub(crate) mod hpack;
pub(crate) mod preface;
pub(crate) mod settings;
