//! Serves one client connection: accepts its streams, runs their calls (in
//! the connection's task until they wait, then in one of their own), and
//! ends the connection when its time is up (idle, too old, keepalive
//! unanswered, server shutdown).

use std::future::Future;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::router::{RoutedCall, Router};
use super::ServerConfig;
use crate::transport::{ActiveStreams, Peer, ServerConnection, StreamActivity, TlsAcceptor};

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

/// Starts serving an accepted TCP connection in a task of its own:
/// plaintext, or TLS first. The TLS handshake runs in that task, bounded by
/// the handshake timeout, so a slow or failing one holds up no other
/// connection (nor a shutdown).
///
/// Each kind gets its own task type, sized for it alone: the TLS handshake's
/// state and the TLS connection's are far larger than a plaintext
/// connection's (about 5 KiB), and a task is allocated at the size of its
/// largest state for as long as the connection is open.
pub(crate) fn spawn_connection(socket: TcpStream, addr: SocketAddr, scope: Arc<ConnectionScope>) {
    let tasks = scope.tasks.clone();
    match scope.tls.clone() {
        None => tasks.spawn(serve_connection(socket, Peer { addr: Some(addr), certificates: None }, scope)),
        Some(tls) => tasks.spawn(serve_tls(socket, addr, tls, scope)),
    };
}

/// Runs the TLS handshake, then serves the connection over it.
async fn serve_tls(socket: TcpStream, addr: SocketAddr, tls: Arc<TlsAcceptor>, scope: Arc<ConnectionScope>) {
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
async fn serve_connection<IO>(io: IO, peer: Peer, scope: Arc<ConnectionScope>)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let config = &scope.config;
    let mut connection = match ServerConnection::handshake(io, &config.http2).await {
        Ok(connection) => connection,
        Err(status) => {
            tracing::debug!(peer = ?peer.addr, %status, "HTTP/2 handshake failed");
            return;
        }
    };
    // Cancelled when the loop ends, which a server stop also ends. Made
    // with the first call: an idle connection does without it. Shared by
    // the calls through an `Arc`: a token's own clone takes the token's
    // lock, and its drop takes it again.
    let mut calls: Option<Arc<CancellationToken>> = None;
    // The server's shutdown, one phase at a time: draining, then stopped
    // (which never comes first). One future, not two, in every connection's
    // task; made once per phase, as each `cancelled()` future registers
    // with the server-wide token when first polled, under that token's lock.
    let mut server_signal = pin!(scope.draining.cancelled());
    let mut waiting_for_stop = false;
    let streams = ActiveStreams::new();
    let mut keepalive = pin!(connection.keepalive(&config.keepalive, streams.clone()));
    let mut idle = after(config.lifetime.max_idle, |idle| streams.idle_for(idle));
    let mut old = after(config.lifetime.max_age, tokio::time::sleep);
    // Armed when the connection reached its maximum age.
    let mut grace = after(None, tokio::time::sleep);
    let mut draining = false;
    // Calls accepted and routed, not started yet.
    let mut routed: Vec<(RoutedCall, StreamActivity)> = Vec::new();
    loop {
        tokio::select! {
            // Accepting first, starting the accepted calls second: the
            // streams that arrived together are all accepted before any is
            // answered. Calls that answer in their first poll then queue
            // their responses together, and they leave in one write the
            // next time the connection is polled (accepting polls it, and
            // it writes what is queued), rather than one write per call.
            biased;
            accepted = connection.accept() => match accepted {
                Some(Ok(stream)) => {
                    if let Some(call) = scope.router.route(stream, peer.clone()) {
                        routed.push((call, streams.track()));
                    }
                }
                Some(Err(status)) => {
                    tracing::debug!(peer = ?peer.addr, %status, "connection error");
                    break;
                }
                None => break,
            },
            () = std::future::ready(()), if !routed.is_empty() => {
                let calls = calls.get_or_insert_with(Arc::default);
                for (call, activity) in routed.drain(..) {
                    spawn_call(&scope, call, calls, activity);
                }
            }
            () = &mut keepalive => break,
            () = &mut idle, if !draining => {
                tracing::debug!(peer = ?peer.addr, "connection idle for too long; GOAWAY");
                draining = true;
                connection.graceful_shutdown();
            }
            () = &mut old, if !draining => {
                tracing::debug!(peer = ?peer.addr, "connection reached its maximum age; GOAWAY");
                draining = true;
                connection.graceful_shutdown();
                grace = after(config.lifetime.max_age_grace, tokio::time::sleep);
            }
            () = &mut grace => {
                tracing::debug!(peer = ?peer.addr, "maximum connection age grace over; closing");
                break;
            }
            () = &mut server_signal => {
                if waiting_for_stop {
                    break;
                }
                if !draining {
                    draining = true;
                    connection.graceful_shutdown();
                }
                waiting_for_stop = true;
                server_signal.set(scope.stopped.cancelled());
            }
        }
    }
    // The connection is gone: calls still running on it cannot answer.
    if let Some(calls) = calls {
        calls.cancel();
    }
}

/// Runs a routed call in a task of its own, after the interceptors if the
/// server has any. Without them the task holds only the call's boxed future
/// (a task's future is copied as it starts, so small is cheap), and the
/// call is first polled once here: a call whose request came with its
/// headers and whose handler answers without waiting (a unary echo, a
/// lookup in memory) ends in that poll, and costs no task, no scheduling
/// and no wake-up of another worker. A call that waits, on its request,
/// on I/O or on flow control, moves to its task at its first wait; only a
/// handler that computes for long before its first `.await` holds up its
/// connection's other streams meanwhile (it holds up a worker either way).
fn spawn_call(
    scope: &Arc<ConnectionScope>,
    call: RoutedCall,
    calls: &Arc<CancellationToken>,
    activity: StreamActivity,
) {
    if scope.router.has_interceptors() {
        let (scope, calls) = (scope.clone(), calls.clone());
        scope.tasks.clone().spawn(async move {
            if let Some(call) = scope.router.intercept(call, &calls).await {
                call.start(scope.config.clone(), &calls).await;
            }
            drop(activity);
        });
    } else {
        let mut call = call.start(scope.config.clone(), calls);
        // A no-op waker: if the call waits, its task polls it again at once,
        // and that poll registers the task's own waker wherever it waits.
        // A panic in this poll (the handler's own are caught inside the
        // call) ends the call as it would end its task: the call is dropped,
        // which resets its stream, and the connection goes on.
        let first_poll = catch_unwind(AssertUnwindSafe(|| call.as_mut().poll(&mut Context::from_waker(Waker::noop()))));
        match first_poll {
            Ok(Poll::Ready(())) => return,
            Ok(Poll::Pending) => {}
            Err(_) => {
                tracing::error!("a call panicked outside its handler; its stream is reset");
                return;
            }
        }
        scope.tasks.spawn(async move {
            call.await;
            drop(activity);
        });
    }
}

/// `timer(duration)`, or never for `None`. Boxed, so that a connection
/// without the limit carries no timer (never is a zero-sized future, and a
/// box of one allocates nothing).
fn after<'a, F>(
    duration: Option<Duration>,
    timer: impl FnOnce(Duration) -> F,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>
where
    F: Future<Output = ()> + Send + 'a,
{
    match duration {
        Some(duration) => Box::pin(timer(duration)),
        None => Box::pin(std::future::pending()),
    }
}
