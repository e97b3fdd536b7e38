//! The gRPC server: a builder, the services it routes to, and the serving
//! loop with graceful shutdown.
//!
//! ```no_run
//! # async fn run(service: impl gust::server::Service) -> std::io::Result<()> {
//! let server = gust::Server::builder().add_service(service).bind("[::]:50051").await?;
//! println!("listening on {}", server.local_addr());
//! server.serve_with_shutdown(async { tokio::signal::ctrl_c().await.ok(); }).await
//! # }
//! ```

mod call;
mod connection;
mod context;
mod interceptor;
mod responder;
pub(crate) mod router;
mod sink;

pub use crate::transport::ServerTls;
pub use call::{CallFuture, ServerCall};
pub use context::CallContext;
pub use interceptor::{async_interceptor, CallHead, InterceptFuture, Interceptor};
pub use sink::ResponseSink;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, ToSocketAddrs};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::Error;
use crate::transport::{Http2Settings, Keepalive, TlsAcceptor, DEFAULT_KEEPALIVE_TIMEOUT};
use connection::{spawn_connection, ConnectionLifetime, ConnectionScope};
use router::Router;

/// A gRPC service the server can route calls to. Generated `XxxServer<T>`
/// wrappers implement it; there is rarely a reason to implement it by hand.
pub trait Service: Send + Sync + 'static {
    /// The fully qualified service name, e.g. `"fibonacci.Fibonacci"`.
    fn name(&self) -> &'static str;
    /// Serves one call of `method` (the last part of the path, e.g. `"AtIndex"`).
    fn call(&self, method: &str, call: ServerCall) -> CallFuture;
}

/// Limits and settings of a server.
#[derive(Clone, Debug)]
pub(crate) struct ServerConfig {
    pub(crate) http2: Http2Settings,
    pub(crate) max_receive_message_size: usize,
    pub(crate) max_send_message_size: usize,
    pub(crate) grace_period: Duration,
    pub(crate) keepalive: Keepalive,
    pub(crate) lifetime: ConnectionLifetime,
}

/// Default receive limit, as in grpc-go and grpc-core.
pub(crate) const DEFAULT_MAX_RECEIVE_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            http2: Http2Settings::default(),
            max_receive_message_size: DEFAULT_MAX_RECEIVE_MESSAGE_SIZE,
            max_send_message_size: usize::MAX,
            grace_period: Duration::from_secs(10),
            // grpc-go's server defaults: ping every 2 hours, whatever the calls.
            keepalive: Keepalive {
                interval: Some(Duration::from_secs(2 * 60 * 60)),
                timeout: DEFAULT_KEEPALIVE_TIMEOUT,
                while_idle: true,
            },
            lifetime: ConnectionLifetime::default(),
        }
    }
}

/// Configures and binds a [`Server`].
#[derive(Default)]
pub struct ServerBuilder {
    router: Router,
    config: ServerConfig,
    tls: Option<Arc<TlsAcceptor>>,
}

impl ServerBuilder {
    /// Adds a service; calls to its name are routed to it.
    pub fn add_service(mut self, service: impl Service) -> ServerBuilder {
        self.router.add(Arc::new(service));
        self
    }

    /// Runs `interceptor` before the handler of every call, after the
    /// interceptors added before it. See [`Interceptor`].
    pub fn intercept(mut self, interceptor: impl Interceptor) -> ServerBuilder {
        self.router.add_interceptor(Arc::new(interceptor));
        self
    }

    /// Largest request message accepted (default 4 MiB); larger ones end
    /// their call with RESOURCE_EXHAUSTED.
    pub fn max_receive_message_size(mut self, bytes: usize) -> ServerBuilder {
        self.config.max_receive_message_size = bytes;
        self
    }

    /// Largest response message sent (default unlimited); a larger one ends
    /// its call with RESOURCE_EXHAUSTED.
    pub fn max_send_message_size(mut self, bytes: usize) -> ServerBuilder {
        self.config.max_send_message_size = bytes;
        self
    }

    /// How long a graceful shutdown lets calls in flight finish before they
    /// are cancelled (default 10 s).
    pub fn grace_period(mut self, grace: Duration) -> ServerBuilder {
        self.config.grace_period = grace;
        self
    }

    /// Sends an HTTP/2 PING on each connection every `interval` (default 2
    /// hours, as grpc-go); a client that does not answer within
    /// [`keepalive_timeout`](Self::keepalive_timeout) loses its connection.
    pub fn keepalive_interval(mut self, interval: Duration) -> ServerBuilder {
        self.config.keepalive.interval = Some(interval);
        self
    }

    /// How long a keepalive PING may go unanswered (default 20 s).
    pub fn keepalive_timeout(mut self, timeout: Duration) -> ServerBuilder {
        self.config.keepalive.timeout = timeout;
        self
    }

    /// A connection with no call in flight for this long gets GOAWAY
    /// (default: never; grpc-go's `MaxConnectionIdle`).
    pub fn max_connection_idle(mut self, idle: Duration) -> ServerBuilder {
        self.config.lifetime.max_idle = Some(idle);
        self
    }

    /// A connection this old gets GOAWAY (default: never; grpc-go's
    /// `MaxConnectionAge`), so clients spread over servers that came up
    /// later; its calls then have [`max_connection_age_grace`](Self::max_connection_age_grace)
    /// to finish.
    pub fn max_connection_age(mut self, age: Duration) -> ServerBuilder {
        self.config.lifetime.max_age = Some(age);
        self
    }

    /// How long calls on a connection past its maximum age may go on before
    /// the connection is closed (default: as long as they take).
    pub fn max_connection_age_grace(mut self, grace: Duration) -> ServerBuilder {
        self.config.lifetime.max_age_grace = Some(grace);
        self
    }

    /// HTTP/2 settings (windows, frame and header limits, stream limit).
    pub fn http2_settings(mut self, settings: Http2Settings) -> ServerBuilder {
        self.config.http2 = settings;
        self
    }

    /// Serves over TLS (ALPN `h2`) with these settings instead of plaintext.
    /// Fails if the settings cannot make a TLS server (e.g. client
    /// authentication required without a client CA).
    pub fn tls(mut self, tls: ServerTls) -> Result<ServerBuilder, Error> {
        self.tls = Some(Arc::new(tls.acceptor()?));
        Ok(self)
    }

    /// Binds a TCP address, e.g. `"[::]:1337"` or `"127.0.0.1:0"` (any free
    /// port: see [`Server::local_addr`]).
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(self.listener(listener))
    }

    /// Serves on a listener bound beforehand, e.g. by a caller that must
    /// report the port before it knows every service (the Python face binds
    /// in `add_insecure_port`, which may come before the services are added).
    pub fn listener(self, listener: TcpListener) -> Server {
        Server { listener, router: Arc::new(self.router), config: Arc::new(self.config), tls: self.tls }
    }

    /// Binds `addr` and serves until the process ends.
    pub async fn serve(self, addr: impl ToSocketAddrs) -> io::Result<()> {
        self.bind(addr).await?.serve().await
    }
}

/// A bound gRPC server, ready to serve.
pub struct Server {
    listener: TcpListener,
    router: Arc<Router>,
    config: Arc<ServerConfig>,
    tls: Option<Arc<TlsAcceptor>>,
}

impl Server {
    /// Starts configuring a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The bound address, with the port the system chose for port 0.
    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has a local address; fall back to the
        // unspecified address rather than fail.
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until the process ends.
    pub async fn serve(self) -> io::Result<()> {
        self.serve_with_shutdown(std::future::pending()).await
    }

    /// Serves until `signal` resolves, then shuts down gracefully: stops
    /// accepting connections, sends GOAWAY on each, lets calls in flight
    /// finish within the grace period, then cancels the rest.
    pub async fn serve_with_shutdown(self, signal: impl Future<Output = ()>) -> io::Result<()> {
        let scope = Arc::new(ConnectionScope {
            router: self.router,
            config: self.config,
            tls: self.tls,
            draining: CancellationToken::new(),
            stopped: CancellationToken::new(),
            tasks: TaskTracker::new(),
        });
        let mut signal = std::pin::pin!(signal);
        loop {
            tokio::select! {
                () = &mut signal => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((socket, peer)) => {
                        if let Err(error) = socket.set_nodelay(true) {
                            tracing::debug!(%error, "could not set TCP_NODELAY");
                        }
                        spawn_connection(socket, peer, scope.clone());
                    }
                    Err(error) => {
                        // Out of descriptors or a connection reset before
                        // accept: transient; back off briefly and go on.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
            }
        }
        drop(self.listener);
        scope.draining.cancel();
        scope.tasks.close();
        if tokio::time::timeout(scope.config.grace_period, scope.tasks.wait()).await.is_err() {
            tracing::info!("grace period over; cancelling calls still in flight");
            scope.stopped.cancel();
            scope.tasks.wait().await;
        }
        Ok(())
    }
}

/// A future that resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM: the usual
/// signal to pass to [`Server::serve_with_shutdown`].
///
/// The signal handlers are installed when this function is called, not when
/// the future is first polled, so a signal that arrives between the call and
/// the serving loop (say, while the program prints its address) is not lost.
/// Call it inside a Tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    let ctrl_c = tokio::spawn(async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    });
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            () = terminate => {}
        }
    }
}
