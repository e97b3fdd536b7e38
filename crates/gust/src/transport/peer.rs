//! Who is on the other end of a server connection: what the handler of each
//! call on it can learn about its client.

use std::net::SocketAddr;

use super::tls::PeerCertificates;

/// The client of one connection, shared by the calls made on it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Peer {
    pub(crate) addr: Option<SocketAddr>,
    /// The certificate chain the client presented over TLS (mutual TLS).
    pub(crate) certificates: Option<PeerCertificates>,
}
