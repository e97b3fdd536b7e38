//! A channel: the client's handle on one server. It connects lazily, keeps
//! one HTTP/2 connection on which every call is multiplexed, and reconnects
//! when that connection is lost.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::uri::{Authority, PathAndQuery, Scheme, Uri};
use http::{HeaderMap, HeaderValue, Method};
use tokio::net::TcpStream;

use super::credentials::{BearerCredentials, StaticToken, TokenSource};
use super::interceptor::{ClientInterceptor, Interceptors};
use crate::codec::{Encoding, ACCEPTED_ENCODINGS};
use crate::error::Error;
use crate::metadata::Metadata;
use crate::protocol;
use crate::request::CallOptions;
use crate::server::DEFAULT_MAX_RECEIVE_MESSAGE_SIZE;
use crate::status::Status;
use crate::transport::{
    ClientConnection, ClientTls, Http2Settings, Keepalive, ResponseHead, SendBody, TlsConnector,
    DEFAULT_KEEPALIVE_TIMEOUT,
};

/// A client's connection to one server, shared by all calls made on it.
/// Cheap to clone: clones share the connection.
///
/// ```no_run
/// # async fn run() -> Result<(), gust::Error> {
/// let channel = gust::Channel::from_uri("http://localhost:1337")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Channel {
    inner: Arc<ChannelInner>,
}

struct ChannelInner {
    scheme: Scheme,
    authority: Authority,
    /// Host and port to dial.
    host: String,
    port: u16,
    config: ChannelConfig,
    /// Set for `https` channels.
    tls: Option<TlsConnector>,
    /// Run on every call before it is sent (credentials last).
    interceptors: Interceptors,
    /// The live connection, if any.
    connection: Mutex<Option<ClientConnection>>,
    /// Held while dialing, so concurrent calls wait for one new connection
    /// instead of each opening their own.
    dialing: tokio::sync::Mutex<()>,
}

/// Settings of a channel.
#[derive(Clone, Debug)]
pub(crate) struct ChannelConfig {
    pub(crate) http2: Http2Settings,
    pub(crate) max_receive_message_size: usize,
    pub(crate) max_send_message_size: usize,
    pub(crate) connect_timeout: Duration,
    /// Timeout for calls that set none.
    pub(crate) default_timeout: Option<Duration>,
    /// Encoding for calls that set none.
    pub(crate) default_compression: Option<Encoding>,
    pub(crate) keepalive: Keepalive,
}

impl Default for ChannelConfig {
    fn default() -> ChannelConfig {
        ChannelConfig {
            http2: Http2Settings::default(),
            max_receive_message_size: DEFAULT_MAX_RECEIVE_MESSAGE_SIZE,
            max_send_message_size: usize::MAX,
            connect_timeout: Duration::from_secs(20),
            default_timeout: None,
            default_compression: None,
            // grpc-go's client defaults: no keepalive unless asked for.
            keepalive: Keepalive { interval: None, timeout: DEFAULT_KEEPALIVE_TIMEOUT, while_idle: false },
        }
    }
}

/// Configures a [`Channel`].
#[derive(Clone, Debug)]
pub struct ChannelBuilder {
    uri: String,
    config: ChannelConfig,
    tls: Option<ClientTls>,
    interceptors: Interceptors,
    /// Empty, or the one interceptor that adds the call credentials.
    credentials: Interceptors,
    allow_insecure_credentials: bool,
}

impl ChannelBuilder {
    /// Largest response message accepted (default 4 MiB); a larger one fails
    /// the call with RESOURCE_EXHAUSTED.
    pub fn max_receive_message_size(mut self, bytes: usize) -> ChannelBuilder {
        self.config.max_receive_message_size = bytes;
        self
    }

    /// Largest request message sent (default unlimited).
    pub fn max_send_message_size(mut self, bytes: usize) -> ChannelBuilder {
        self.config.max_send_message_size = bytes;
        self
    }

    /// How long dialing and the HTTP/2 handshake may take (default 20 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> ChannelBuilder {
        self.config.connect_timeout = timeout;
        self
    }

    /// A timeout for every call that does not set its own.
    pub fn timeout(mut self, timeout: Duration) -> ChannelBuilder {
        self.config.default_timeout = Some(timeout);
        self
    }

    /// Compresses the requests of every call that does not choose its own
    /// encoding.
    pub fn send_compressed(mut self, encoding: Encoding) -> ChannelBuilder {
        self.config.default_compression = Some(encoding);
        self
    }

    /// Sends an HTTP/2 PING every `interval` (default: never, as in grpc-go)
    /// to detect a dead connection; see [`keepalive_timeout`](Self::keepalive_timeout).
    /// Servers limit how often they accept pings (grpc-go: at most every 5
    /// minutes by default), so keep this long unless the server allows more.
    pub fn keepalive_interval(mut self, interval: Duration) -> ChannelBuilder {
        self.config.keepalive.interval = Some(interval);
        self
    }

    /// How long a keepalive PING may go unanswered (default 20 s) before the
    /// connection is closed: its calls fail with UNAVAILABLE and the next
    /// call connects anew.
    pub fn keepalive_timeout(mut self, timeout: Duration) -> ChannelBuilder {
        self.config.keepalive.timeout = timeout;
        self
    }

    /// Whether keepalive pings go out while no call is in flight (default
    /// false, grpc-go's `PermitWithoutStream`).
    pub fn keepalive_while_idle(mut self, permit: bool) -> ChannelBuilder {
        self.config.keepalive.while_idle = permit;
        self
    }

    /// HTTP/2 settings (windows, frame and header limits).
    pub fn http2_settings(mut self, settings: Http2Settings) -> ChannelBuilder {
        self.config.http2 = settings;
        self
    }

    /// TLS settings for an `https://` URI (a URI without a scheme then means
    /// `https`). Without them, `https://` trusts the system's roots.
    pub fn tls(mut self, tls: ClientTls) -> ChannelBuilder {
        self.tls = Some(tls);
        self
    }

    /// Runs `interceptor` on every call before it is sent, after the ones
    /// added before it. See [`ClientInterceptor`].
    pub fn intercept(mut self, interceptor: impl ClientInterceptor) -> ChannelBuilder {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// Sends `authorization: Bearer <token>` with every call. Needs TLS
    /// unless [`allow_insecure_credentials`](Self::allow_insecure_credentials).
    pub fn bearer_token(self, token: impl Into<String>) -> ChannelBuilder {
        self.token_source(StaticToken(token.into()))
    }

    /// Asks `source` for a bearer token for every call (see
    /// [`TokenSource`]); sent as `authorization: Bearer <token>`. Needs TLS
    /// unless [`allow_insecure_credentials`](Self::allow_insecure_credentials).
    pub fn token_source(mut self, source: impl TokenSource) -> ChannelBuilder {
        self.credentials = Interceptors::default();
        self.credentials.push(Arc::new(BearerCredentials(source)));
        self
    }

    /// Lets credentials go over plaintext `http://` (say, to a sidecar on
    /// localhost). Without it such a channel is refused: anyone on the path
    /// could read the token.
    pub fn allow_insecure_credentials(mut self) -> ChannelBuilder {
        self.allow_insecure_credentials = true;
        self
    }

    /// The channel, connecting on its first call.
    pub fn connect_lazy(self) -> Result<Channel, Error> {
        let uri: Uri = self.uri.parse().map_err(|e| Error::invalid_uri(&self.uri, e))?;
        let scheme = match (uri.scheme_str(), &self.tls) {
            (Some("http"), Some(_)) => {
                return Err(Error::invalid_uri(&self.uri, "TLS settings were given for an http:// URI: use https://"))
            }
            (Some("http"), None) | (None, None) => Scheme::HTTP,
            (Some("https"), _) | (None, Some(_)) => Scheme::HTTPS,
            (Some(other), _) => return Err(Error::invalid_uri(&self.uri, format!("unsupported scheme {other}"))),
        };
        let authority = uri.authority().cloned().ok_or_else(|| Error::invalid_uri(&self.uri, "no host"))?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        let tls = match scheme == Scheme::HTTPS {
            true => Some(self.tls.unwrap_or_default().connector(&host)?),
            false => None,
        };
        let mut interceptors = self.interceptors;
        if !self.credentials.is_empty() && tls.is_none() && !self.allow_insecure_credentials {
            let reason = format!(
                "call credentials need TLS, but {} is plaintext; allow_insecure_credentials() sends them anyway",
                self.uri
            );
            return Err(Error::tls(reason));
        }
        interceptors.append(self.credentials);
        let port = authority.port_u16().unwrap_or(if tls.is_some() { 443 } else { 80 });
        let inner = ChannelInner {
            scheme,
            authority,
            host,
            port,
            config: self.config,
            tls,
            interceptors,
            connection: Mutex::new(None),
            dialing: tokio::sync::Mutex::new(()),
        };
        Ok(Channel { inner: Arc::new(inner) })
    }

    /// The channel, connected now: fails if the server cannot be reached.
    pub async fn connect(self) -> Result<Channel, Error> {
        let channel = self.connect_lazy()?;
        channel.ensure_connection().await.map_err(Error::connect)?;
        Ok(channel)
    }
}

impl Channel {
    /// Starts configuring a channel to `uri`: `http://host:port`, or
    /// `https://host:port` for TLS (see [`ChannelBuilder::tls`]); without a
    /// scheme, `http` (`https` when TLS settings are given).
    pub fn builder(uri: impl Into<String>) -> ChannelBuilder {
        ChannelBuilder {
            uri: uri.into(),
            config: ChannelConfig::default(),
            tls: None,
            interceptors: Interceptors::default(),
            credentials: Interceptors::default(),
            allow_insecure_credentials: false,
        }
    }

    /// A channel to `uri` that connects on its first call.
    pub fn from_uri(uri: &str) -> Result<Channel, Error> {
        Channel::builder(uri).connect_lazy()
    }

    /// A channel to `uri`, connected now.
    pub async fn connect(uri: &str) -> Result<Channel, Error> {
        Channel::builder(uri).connect().await
    }

    pub(crate) fn config(&self) -> &ChannelConfig {
        &self.inner.config
    }

    /// A call's options with the channel's defaults filled in.
    pub(crate) fn with_defaults(&self, mut options: CallOptions) -> CallOptions {
        options.timeout = options.timeout.or(self.inner.config.default_timeout);
        options.compression = options.compression.or(self.inner.config.default_compression);
        options
    }

    /// Opens a stream for a call to `path`. If the connection turns out to be
    /// dead before the stream reached the server, a new connection is made and
    /// the open retried once: nothing was sent, so retrying is always safe.
    pub(crate) async fn open(
        &self,
        path: &'static str,
        metadata: &Metadata,
        options: &CallOptions,
        end_of_stream: bool,
    ) -> Result<(ResponseHead, SendBody), Status> {
        let intercepted;
        let metadata = match self.inner.interceptors.is_empty() {
            true => metadata,
            false => {
                // Boxed, as a channel without interceptors should not carry
                // their future in every call's.
                intercepted = Box::pin(self.inner.interceptors.run(path, metadata, self.inner.tls.is_some())).await?;
                &intercepted
            }
        };
        self.ensure_connection().await?;
        match self.open_on_connection(self.request_head(path, metadata, options)?, end_of_stream) {
            Err(status) if !self.has_live_connection() => {
                tracing::debug!(%status, "connection lost before the call started; reconnecting");
                self.ensure_connection().await?;
                self.open_on_connection(self.request_head(path, metadata, options)?, end_of_stream)
            }
            opened => opened,
        }
    }

    /// Opens a stream on the live connection.
    fn open_on_connection(
        &self,
        request: http::Request<()>,
        end_of_stream: bool,
    ) -> Result<(ResponseHead, SendBody), Status> {
        let mut slot = self.inner.connection.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_mut().filter(|connection| !connection.is_closed()) {
            Some(connection) => connection.open(request, end_of_stream),
            None => Err(Status::unavailable("connection lost")),
        }
    }

    /// The request headers of a call, in the order the protocol asks for.
    fn request_head(
        &self,
        path: &'static str,
        metadata: &Metadata,
        options: &CallOptions,
    ) -> Result<http::Request<()>, Status> {
        let uri = Uri::builder()
            .scheme(self.inner.scheme.clone())
            .authority(self.inner.authority.clone())
            .path_and_query(PathAndQuery::from_static(path))
            .build()
            .map_err(|error| Status::internal(format!("invalid method path {path:?}: {error}")))?;
        let mut headers = HeaderMap::with_capacity(6 + metadata.len());
        if let Some(timeout) = options.timeout {
            let encoded = protocol::timeout::encode(timeout);
            headers.insert(
                protocol::GRPC_TIMEOUT,
                HeaderValue::from_str(&encoded).map_err(|e| Status::internal(e.to_string()))?,
            );
        }
        headers.insert(protocol::CONTENT_TYPE, protocol::GRPC_CONTENT_TYPE);
        if let Some(encoding) = options.compression.filter(|e| *e != Encoding::Identity) {
            headers.insert(protocol::GRPC_ENCODING, HeaderValue::from_static(encoding.name()));
        }
        headers.insert(protocol::GRPC_ACCEPT_ENCODING, HeaderValue::from_static(ACCEPTED_ENCODINGS));
        headers.insert(protocol::TE, HeaderValue::from_static("trailers"));
        headers.insert(protocol::USER_AGENT, HeaderValue::from_static(protocol::GUST_USER_AGENT));
        metadata.write_to(&mut headers);
        let mut request = http::Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// Makes sure there is a live connection, dialing a new one if needed.
    async fn ensure_connection(&self) -> Result<(), Status> {
        if self.has_live_connection() {
            return Ok(());
        }
        // Boxed: dialing is rare and its future is large (resolving, TCP,
        // TLS, the HTTP/2 handshake); inline, every call's future would
        // carry it and move it at each level of the call.
        Box::pin(self.reconnect()).await
    }

    /// Dials a new connection, unless another call did meanwhile.
    async fn reconnect(&self) -> Result<(), Status> {
        let _dialing = self.inner.dialing.lock().await;
        if self.has_live_connection() {
            return Ok(());
        }
        let connection =
            tokio::time::timeout(self.inner.config.connect_timeout, self.dial()).await.unwrap_or_else(|_| {
                Err(Status::unavailable(format!("connecting to {} timed out", self.inner.authority)))
            })?;
        *self.inner.connection.lock().unwrap_or_else(PoisonError::into_inner) = Some(connection);
        Ok(())
    }

    fn has_live_connection(&self) -> bool {
        let slot = self.inner.connection.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().is_some_and(|connection| !connection.is_closed())
    }

    /// Dials every address the host resolves to, in order, until one answers.
    async fn dial(&self) -> Result<ClientConnection, Status> {
        let target = (self.inner.host.as_str(), self.inner.port);
        let addresses = tokio::net::lookup_host(target)
            .await
            .map_err(|error| Status::unavailable(format!("cannot resolve {}: {error}", self.inner.host)))?;
        let mut last_error = None;
        for address in addresses {
            match TcpStream::connect(address).await {
                Ok(socket) => {
                    if let Err(error) = socket.set_nodelay(true) {
                        tracing::debug!(%error, "could not set TCP_NODELAY");
                    }
                    let (http2, keepalive) = (&self.inner.config.http2, &self.inner.config.keepalive);
                    return match &self.inner.tls {
                        None => ClientConnection::handshake(socket, http2, keepalive).await,
                        Some(tls) => {
                            let stream = tls.connect(socket, http2.handshake_timeout).await?;
                            ClientConnection::handshake(stream, http2, keepalive).await
                        }
                    };
                }
                Err(error) => last_error = Some(error),
            }
        }
        let reason = last_error.map_or_else(|| "no address".to_owned(), |e| e.to_string());
        Err(Status::unavailable(format!("cannot connect to {}: {reason}", self.inner.authority)))
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("authority", &self.inner.authority).finish_non_exhaustive()
    }
}
