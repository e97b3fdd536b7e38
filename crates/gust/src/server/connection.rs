//! Serves one client connection: accepts its streams and runs a task per call.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::router::Router;
use super::ServerConfig;
use crate::transport::{Peer, ServerConnection, TlsAcceptor};

/// What a connection needs to know about the server it belongs to.
pub(crate) struct ConnectionScope {
    pub(crate) router: Arc<Router>,
    pub(crate) config: Arc<ServerConfig>,
    /// Set when connections are TLS.
    pub(crate) tls: Option<Arc<TlsAcceptor>>,
    /// Cancelled when the server starts a graceful shutdown.
    pub(crate) draining: CancellationToken,
    /// Cancelled when the grace period is over: every call is cancelled.
    pub(crate) stopped: CancellationToken,
    /// Tracks call tasks, so shutdown can wait for them.
    pub(crate) tasks: TaskTracker,
}

/// Serves an accepted TCP connection: plaintext, or TLS first. The TLS
/// handshake runs in the connection's own task, bounded by the handshake
/// timeout, so a slow or failing one holds up no other connection (nor a
/// shutdown).
pub(crate) async fn serve_socket(socket: TcpStream, addr: SocketAddr, scope: Arc<ConnectionScope>) {
    let Some(tls) = scope.tls.clone() else {
        return serve_connection(socket, Peer { addr: Some(addr), certificates: None }, scope).await;
    };
    // A shutdown does not wait for handshakes: the client has no call yet.
    let accepted = tokio::select! {
        accepted = tls.accept(socket, scope.config.http2.handshake_timeout) => accepted,
        () = scope.draining.cancelled() => return,
    };
    match accepted {
        Ok((stream, certificates)) => serve_connection(stream, Peer { addr: Some(addr), certificates }, scope).await,
        Err(status) => tracing::debug!(%addr, %status, "TLS handshake failed"),
    }
}

/// Runs the connection until the client closes it, the server drains it
/// (GOAWAY, then in-flight calls finish), or the server stops.
async fn serve_connection<IO>(io: IO, peer: Peer, scope: Arc<ConnectionScope>)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let mut connection = match ServerConnection::handshake(io, &scope.config.http2).await {
        Ok(connection) => connection,
        Err(status) => {
            tracing::debug!(peer = ?peer.addr, %status, "HTTP/2 handshake failed");
            return;
        }
    };
    let calls = scope.stopped.child_token();
    // Made once: each `cancelled()` future registers with the server-wide
    // token when first polled, which takes that token's lock.
    let mut drain_signal = pin!(scope.draining.cancelled());
    let mut stop_signal = pin!(scope.stopped.cancelled());
    let mut draining = false;
    loop {
        tokio::select! {
            accepted = connection.accept() => match accepted {
                Some(Ok(stream)) => {
                    let scope = scope.clone();
                    let calls = calls.clone();
                    let peer = peer.clone();
                    scope.tasks.clone().spawn(async move {
                        scope.router.serve_stream(stream, scope.config.clone(), &calls, peer).await;
                    });
                }
                Some(Err(status)) => {
                    tracing::debug!(peer = ?peer.addr, %status, "connection error");
                    break;
                }
                None => break,
            },
            () = &mut drain_signal, if !draining => {
                draining = true;
                connection.graceful_shutdown();
            }
            () = &mut stop_signal => break,
        }
    }
}
