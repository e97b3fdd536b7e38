//! The standard gRPC interoperability tests, written with gust.
//!
//! - [`pb`]: the `grpc.testing` protocol (messages and services), generated
//!   from `proto/grpc/testing/*.proto`, which are wire-identical to the
//!   official interop protos so that any gRPC implementation's interop client
//!   or server can talk to ours.
//! - [`server`]: `TestService` as the interop test descriptions specify it.
//! - [`client`]: the client side of every test case, each checking what the
//!   descriptions say a client must assert.
//!
//! The `interop-server` and `interop-client` binaries are thin command-line
//! wrappers around these two modules, which the crate's tests also drive
//! directly (gust client against gust server, in one process).

/// `grpc.testing`: the interop messages and services.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/grpc.testing.rs"));
}

pub mod client;
pub mod server;

/// Metadata key the server echoes back in its initial metadata.
pub const ECHO_INITIAL_KEY: &str = "x-grpc-test-echo-initial";
/// Binary metadata key the server echoes back in its trailing metadata.
pub const ECHO_TRAILING_KEY: &str = "x-grpc-test-echo-trailing-bin";
