//! Serves one client connection: accepts its streams, runs a task per call,
//! and ends the connection when its time is up (idle, too old, keepalive
//! unanswered, server shutdown).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::router::Router;
use super::ServerConfig;
use crate::transport::{ActiveStreams, ServerConnection};

/// What a connection needs to know about the server it belongs to.
pub(crate) struct ConnectionScope {
    pub(crate) router: Arc<Router>,
    pub(crate) config: Arc<ServerConfig>,
    /// Cancelled when the server starts a graceful shutdown.
    pub(crate) draining: CancellationToken,
    /// Cancelled when the grace period is over: every call is cancelled.
    pub(crate) stopped: CancellationToken,
    /// Tracks call tasks, so shutdown can wait for them.
    pub(crate) tasks: TaskTracker,
}

/// How long a connection may live (grpc-go's `keepalive.ServerParameters`
/// other than the pings); `None` is forever.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnectionLifetime {
    /// No call in flight for this long: GOAWAY.
    pub(crate) max_idle: Option<Duration>,
    /// This old: GOAWAY.
    pub(crate) max_age: Option<Duration>,
    /// After GOAWAY for age, calls in flight get this long before the
    /// connection closes.
    pub(crate) max_age_grace: Option<Duration>,
}

/// Runs the connection until the client closes it, the server drains it
/// (GOAWAY, then in-flight calls finish), or the server stops.
pub(crate) async fn serve_connection<IO>(io: IO, peer: Option<SocketAddr>, scope: Arc<ConnectionScope>)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let config = &scope.config;
    let mut connection = match ServerConnection::handshake(io, &config.http2).await {
        Ok(connection) => connection,
        Err(status) => {
            tracing::debug!(?peer, %status, "HTTP/2 handshake failed");
            return;
        }
    };
    let calls = scope.stopped.child_token();
    let streams = ActiveStreams::new();
    let mut keepalive = std::pin::pin!(connection.keepalive(&config.keepalive, streams.clone()));
    let mut idle = std::pin::pin!(after(config.lifetime.max_idle, |idle| streams.idle_for(idle)));
    let mut old = std::pin::pin!(after(config.lifetime.max_age, tokio::time::sleep));
    // Armed when the connection reached its maximum age.
    let mut grace = std::pin::pin!(after(None, tokio::time::sleep));
    let mut draining = false;
    loop {
        tokio::select! {
            accepted = connection.accept() => match accepted {
                Some(Ok(stream)) => {
                    let scope = scope.clone();
                    let calls = calls.clone();
                    let activity = streams.track();
                    scope.tasks.clone().spawn(async move {
                        scope.router.serve_stream(stream, scope.config.clone(), &calls, peer).await;
                        drop(activity);
                    });
                }
                Some(Err(status)) => {
                    tracing::debug!(?peer, %status, "connection error");
                    break;
                }
                None => break,
            },
            () = &mut keepalive => break,
            () = &mut idle, if !draining => {
                tracing::debug!(?peer, "connection idle for too long; GOAWAY");
                draining = true;
                connection.graceful_shutdown();
            }
            () = &mut old, if !draining => {
                tracing::debug!(?peer, "connection reached its maximum age; GOAWAY");
                draining = true;
                connection.graceful_shutdown();
                grace.set(after(config.lifetime.max_age_grace, tokio::time::sleep));
            }
            () = &mut grace => {
                tracing::debug!(?peer, "maximum connection age grace over; closing");
                break;
            }
            () = scope.draining.cancelled(), if !draining => {
                draining = true;
                connection.graceful_shutdown();
            }
            () = scope.stopped.cancelled() => break,
        }
    }
    // The connection is gone: calls still running on it cannot answer.
    calls.cancel();
}

/// `timer(duration)`, or never for `None`.
async fn after<F: Future<Output = ()>>(duration: Option<Duration>, timer: impl FnOnce(Duration) -> F) {
    match duration {
        Some(duration) => timer(duration).await,
        None => std::future::pending().await,
    }
}
