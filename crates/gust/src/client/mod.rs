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
