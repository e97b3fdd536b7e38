//! A channel: the client's handle on one server. It connects lazily, keeps
//! one HTTP/2 connection on which every call is multiplexed, and reconnects
//! when that connection is lost.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::uri::{Authority, PathAndQuery, Scheme, Uri};
use http::{HeaderMap, HeaderValue, Method};
use tokio::net::TcpStream;

use crate::codec::{Encoding, ACCEPTED_ENCODINGS};
use crate::error::Error;
use crate::metadata::Metadata;
use crate::protocol;
use crate::request::CallOptions;
use crate::server::DEFAULT_MAX_RECEIVE_MESSAGE_SIZE;
use crate::status::Status;
use crate::transport::{ClientConnection, Http2Settings, Keepalive, ResponseHead, SendBody, DEFAULT_KEEPALIVE_TIMEOUT};

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

    /// The channel, connecting on its first call.
    pub fn connect_lazy(self) -> Result<Channel, Error> {
        let uri: Uri = self.uri.parse().map_err(|e| Error::invalid_uri(&self.uri, e))?;
        let scheme = match uri.scheme_str() {
            Some("http") | None => Scheme::HTTP,
            Some("https") => return Err(Error::invalid_uri(&self.uri, "TLS (https) is not supported yet")),
            Some(other) => return Err(Error::invalid_uri(&self.uri, format!("unsupported scheme {other}"))),
        };
        let authority = uri.authority().cloned().ok_or_else(|| Error::invalid_uri(&self.uri, "no host"))?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = authority.port_u16().unwrap_or(80);
        let inner = ChannelInner {
            scheme,
            authority,
            host,
            port,
            config: self.config,
            connection: Mutex::new(None),
            dialing: tokio::sync::Mutex::new(()),
        };
        Ok(Channel { inner: Arc::new(inner) })
    }

    /// The channel, connected now: fails if the server cannot be reached.
    pub async fn connect(self) -> Result<Channel, Error> {
        let channel = self.connect_lazy()?;
        channel.connection().await.map_err(Error::connect)?;
        Ok(channel)
    }
}

impl Channel {
    /// Starts configuring a channel to `uri` (`http://host:port`; the scheme
    /// may be left out).
    pub fn builder(uri: impl Into<String>) -> ChannelBuilder {
        ChannelBuilder { uri: uri.into(), config: ChannelConfig::default() }
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
        let mut connection = self.connection().await?;
        match connection.open(self.request_head(path, metadata, options)?, end_of_stream).await {
            Err(status) if connection.is_closed() => {
                tracing::debug!(%status, "connection lost before the call started; reconnecting");
                let mut connection = self.connection().await?;
                connection.open(self.request_head(path, metadata, options)?, end_of_stream).await
            }
            opened => opened,
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

    /// The live connection, dialing a new one if there is none.
    async fn connection(&self) -> Result<ClientConnection, Status> {
        if let Some(connection) = self.live_connection() {
            return Ok(connection);
        }
        let _dialing = self.inner.dialing.lock().await;
        if let Some(connection) = self.live_connection() {
            return Ok(connection);
        }
        let connection =
            tokio::time::timeout(self.inner.config.connect_timeout, self.dial()).await.unwrap_or_else(|_| {
                Err(Status::unavailable(format!("connecting to {} timed out", self.inner.authority)))
            })?;
        *self.inner.connection.lock().unwrap_or_else(PoisonError::into_inner) = Some(connection.clone());
        Ok(connection)
    }

    fn live_connection(&self) -> Option<ClientConnection> {
        let slot = self.inner.connection.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().filter(|connection| !connection.is_closed()).cloned()
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
                    return ClientConnection::handshake(socket, &self.inner.config.http2, &self.inner.config.keepalive)
                        .await;
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
