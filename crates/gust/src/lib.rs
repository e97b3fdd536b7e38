//! # gust: gRPC for Rust (and Python) on one fast core
//!
//! Define a service in a `.proto` file, generate code with `gust-build`, and
//! serve and call it with all four RPC kinds over HTTP/2.
//!
//! ```ignore
//! // proto: service Fibonacci { rpc AtIndex(Number) returns (Number); ... }
//! struct Fib;
//!
//! impl fibonacci::Fibonacci for Fib {
//!     async fn at_index(&self, request: gust::Request<Number>) -> Result<Number, gust::Status> {
//!         Ok(Number { value: fib(request.get_ref().value) })
//!     }
//!     // ...
//! }
//!
//! gust::Server::builder()
//!     .add_service(fibonacci::FibonacciServer::new(Fib))
//!     .serve("[::]:1337")
//!     .await?;
//!
//! // and on the client:
//! let client = fibonacci::FibonacciClient::connect("http://localhost:1337").await?;
//! let reply = client.at_index(Number { value: 7 }).await?;
//! println!("Fibonacci #7: {}", reply.value);
//! ```
//!
//! Layers, each knowing only the ones below: [`server`] and [`client`] on the
//! codec (framing, limits) on the transport (HTTP/2 streams over TCP), with
//! [`Status`], [`Metadata`] and deadlines as the vocabulary they share.

pub mod client;
pub mod codec;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod metadata;
mod protocol;
mod request;
mod response;
pub mod server;
mod status;
mod streaming;
mod transport;

pub use client::Channel;
pub use codec::{Encoding, Outgoing};
pub use error::Error;
/// A map of values by type: what server interceptors hand to handlers.
pub use http::Extensions;
pub use metadata::{InvalidMetadata, Metadata, MetadataValue};
pub use request::{IntoRequest, IntoStreamingRequest, Request};
pub use response::Response;
pub use server::{CallContext, ResponseSink, Server};
pub use status::{Code, Status};
pub use streaming::Streaming;
pub use transport::Http2Settings;
