//! The narrow interface between gRPC and HTTP/2.
//!
//! Everything above this module sees HTTP/2 as streams: open one (client) or
//! accept one (server); send and receive headers, data and trailers; reset.
//! The server's side runs on gust's own HTTP/2 engine ([`engine`]); the
//! client's wraps the `h2` crate. Either can change without touching the
//! codec, server or client layers.

mod activity;
mod body;
mod client;
// pub(crate) so that the fuzz wrappers in `crate::fuzzing` reach its parsers.
pub(crate) mod engine;
mod error;
mod keepalive;
mod peer;
mod send;
mod server;
mod settings;
mod tls;
mod yield_first;

pub(crate) use activity::{ActiveStreams, StreamActivity};
pub(crate) use body::RecvBody;
pub(crate) use client::{ClientConnection, NoResponse, ResponseHead};
pub(crate) use error::status_from_h2;
pub(crate) use keepalive::{Keepalive, DEFAULT_KEEPALIVE_TIMEOUT};
pub(crate) use peer::Peer;
pub(crate) use send::SendBody;
pub(crate) use server::{AcceptedStream, ServerConnection, ServerStream};
pub use settings::Http2Settings;
pub use tls::{ClientTls, ServerTls};
pub(crate) use tls::{TlsAcceptor, TlsConnector};
