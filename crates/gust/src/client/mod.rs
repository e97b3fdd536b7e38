//! The gRPC client: a [`Channel`] to one server, on which generated clients
//! make calls of the four kinds.

mod call;
mod channel;
mod pump;

pub(crate) use call::{check_head, ReceivedHead};
pub use channel::{Channel, ChannelBuilder};
pub(crate) use pump::RequestPump;
