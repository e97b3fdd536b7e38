//! The gRPC client: a [`Channel`] to one server, on which generated clients
//! make calls of the four kinds.

mod call;
mod channel;
mod credentials;
mod interceptor;
mod pump;

pub use crate::transport::ClientTls;
pub(crate) use call::{check_head, ReceivedHead};
pub use channel::{Channel, ChannelBuilder};
pub use credentials::{TokenFuture, TokenSource};
pub use interceptor::{ClientInterceptor, OutgoingCall};
pub(crate) use pump::RequestPump;

/// The `grpc-timeout` header value gust's client sends for `timeout`: for
/// tools that write their own requests, as `gust bench` does.
pub fn grpc_timeout_value(timeout: std::time::Duration) -> String {
    crate::protocol::timeout::encode(timeout)
}
