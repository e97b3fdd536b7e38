//! TLS on both sides: rustls with the ring provider, ALPN `h2` required.
//!
//! gRPC runs on HTTP/2 only, so both sides offer exactly `h2` and refuse a
//! peer that negotiates anything else (or nothing), as grpc-go does: a peer
//! that would speak HTTP/1.1 after the handshake is better refused with a
//! clear reason than answered with a broken preface.
//!
//! The crypto provider is always passed explicitly, never taken from the
//! process-wide default: another crate in the same program may install (or
//! enable) a different one, and gust must not depend on which.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::Error;
use crate::status::Status;

/// The one application protocol gRPC speaks.
const ALPN_H2: &[u8] = b"h2";

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in `pem`, in order; at least one.
fn certificates_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| Error::tls(format!("{what}: {error}")))?;
    if certificates.is_empty() {
        return Err(Error::tls(format!("{what}: no CERTIFICATE block in the PEM")));
    }
    Ok(certificates)
}

/// A certificate chain and its private key, checked to match.
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Identity, Error> {
        let chain = certificates_from_pem(chain_pem, "certificate chain")?;
        let key =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|error| Error::tls(format!("private key: {error}")))?;
        CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider())
            .map_err(|error| Error::tls(format!("certificate and private key: {error}")))?;
        Ok(Identity { chain, key })
    }

    fn parts(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.chain.clone(), self.key.clone_key())
    }
}

/// Adds every certificate of `pem` to `roots`.
fn add_roots(roots: &mut RootCertStore, pem: &[u8], what: &str) -> Result<(), Error> {
    for certificate in certificates_from_pem(pem, what)? {
        roots.add(certificate).map_err(|error| Error::tls(format!("{what}: {error}")))?;
    }
    Ok(())
}

/// The server's TLS settings: its certificate, and optionally the CA that
/// client certificates must be signed by (mutual TLS).
///
/// ```no_run
/// # fn run(cert: &[u8], key: &[u8], ca: &[u8]) -> Result<(), gust::Error> {
/// use gust::server::ServerTls;
/// let tls = ServerTls::from_pem(cert, key)?.client_ca_pem(ca)?.require_client_auth(true);
/// let builder = gust::Server::builder().tls(tls)?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServerTls {
    identity: Arc<Identity>,
    /// CAs of client certificates; `None`: client certificates are not asked for.
    client_roots: Option<RootCertStore>,
    require_client_auth: bool,
}

impl ServerTls {
    /// The server's certificate chain (leaf first) and private key (PKCS#8,
    /// PKCS#1 or SEC1), in PEM. Fails if either does not parse or the key is
    /// not the leaf certificate's.
    pub fn from_pem(cert_chain_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Result<ServerTls, Error> {
        let identity = Arc::new(Identity::from_pem(cert_chain_pem.as_ref(), key_pem.as_ref())?);
        Ok(ServerTls { identity, client_roots: None, require_client_auth: false })
    }

    /// Asks clients for a certificate and verifies one they present against
    /// the CA certificates in `pem` (may be called more than once). A client
    /// without a certificate is still served unless
    /// [`require_client_auth`](Self::require_client_auth) is set, as with
    /// grpcio's `ssl_server_credentials`.
    pub fn client_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Result<ServerTls, Error> {
        add_roots(self.client_roots.get_or_insert_with(RootCertStore::empty), pem.as_ref(), "client CA")?;
        Ok(self)
    }

    /// Refuses clients that present no valid certificate (needs
    /// [`client_ca_pem`](Self::client_ca_pem)).
    pub fn require_client_auth(mut self, required: bool) -> ServerTls {
        self.require_client_auth = required;
        self
    }

    /// The acceptor for the server's connections.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, Error> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::tls(error.to_string()))?;
        let builder = match &self.client_roots {
            None if self.require_client_auth => {
                return Err(Error::tls("require_client_auth(true) needs the client CA (client_ca_pem)"));
            }
            None => builder.with_no_client_auth(),
            Some(roots) => {
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots.clone()), provider());
                let verifier = if self.require_client_auth { verifier } else { verifier.allow_unauthenticated() };
                builder.with_client_cert_verifier(verifier.build().map_err(|error| Error::tls(error.to_string()))?)
            }
        };
        let (chain, key) = self.identity.parts();
        let mut config = builder.with_single_cert(chain, key).map_err(|error| Error::tls(error.to_string()))?;
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(TlsAcceptor { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)) })
    }
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("certificates", &self.identity.chain.len())
            .field("client_ca", &self.client_roots.as_ref().map(RootCertStore::len))
            .field("require_client_auth", &self.require_client_auth)
            .finish_non_exhaustive()
    }
}

/// The DER certificate chain a peer presented, leaf first.
pub(crate) type PeerCertificates = Arc<[Vec<u8>]>;

/// Runs the server side of TLS handshakes.
pub(crate) struct TlsAcceptor {
    acceptor: tokio_rustls::TlsAcceptor,
}

impl TlsAcceptor {
    /// The TLS handshake on an accepted connection, within `timeout`; returns
    /// the encrypted stream and the client's certificates, if it sent any.
    pub(crate) async fn accept<IO>(
        &self,
        io: IO,
        timeout: Duration,
    ) -> Result<(tokio_rustls::server::TlsStream<IO>, Option<PeerCertificates>), Status>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let stream = match tokio::time::timeout(timeout, self.acceptor.accept(io)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return Err(Status::unavailable(format!("TLS handshake failed: {error}"))),
            Err(_) => return Err(Status::unavailable("TLS handshake timed out")),
        };
        let connection = stream.get_ref().1;
        check_alpn(connection.alpn_protocol(), "client")?;
        let certificates = connection
            .peer_certificates()
            .map(|chain| chain.iter().map(|certificate| certificate.to_vec()).collect::<Vec<_>>().into());
        Ok((stream, certificates))
    }
}

/// Refuses a connection on which the peer did not agree to HTTP/2.
fn check_alpn(negotiated: Option<&[u8]>, peer: &str) -> Result<(), Status> {
    match negotiated {
        Some(ALPN_H2) => Ok(()),
        Some(other) => Err(Status::unavailable(format!(
            "the {peer} negotiated ALPN protocol {:?}; gRPC needs \"h2\"",
            String::from_utf8_lossy(other)
        ))),
        None => Err(Status::unavailable(format!("the {peer} did not negotiate ALPN \"h2\"; gRPC needs HTTP/2"))),
    }
}

/// The client's TLS settings: which CAs to trust, the name to verify, and
/// optionally a client certificate (mutual TLS).
///
/// With no CA given, the system's roots are trusted (as grpc's default
/// credentials do).
///
/// ```no_run
/// # fn run(ca: &[u8]) -> Result<(), gust::Error> {
/// use gust::client::ClientTls;
/// let tls = ClientTls::new().ca_pem(ca)?.server_name("foo.test");
/// let channel = gust::Channel::builder("https://127.0.0.1:50051").tls(tls).connect_lazy()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientTls {
    roots: RootCertStore,
    system_roots: bool,
    server_name: Option<String>,
    identity: Option<Arc<Identity>>,
}

impl ClientTls {
    /// Settings that trust the system's roots and verify the URI's host.
    pub fn new() -> ClientTls {
        ClientTls { roots: RootCertStore::empty(), system_roots: false, server_name: None, identity: None }
    }

    /// Trusts the CA certificates in `pem` (may be called more than once);
    /// the system's roots are then trusted only with
    /// [`with_system_roots`](Self::with_system_roots).
    pub fn ca_pem(mut self, pem: impl AsRef<[u8]>) -> Result<ClientTls, Error> {
        add_roots(&mut self.roots, pem.as_ref(), "CA")?;
        Ok(self)
    }

    /// Trusts the system's roots too (loaded when the channel is built).
    pub fn with_system_roots(mut self) -> ClientTls {
        self.system_roots = true;
        self
    }

    /// Verifies the server's certificate for `name` (and sends it as SNI)
    /// instead of the URI's host: grpcio's `grpc.ssl_target_name_override`.
    pub fn server_name(mut self, name: impl Into<String>) -> ClientTls {
        self.server_name = Some(name.into());
        self
    }

    /// Presents this certificate chain (leaf first) and private key, in PEM,
    /// to servers that ask for one.
    pub fn identity_pem(
        mut self,
        cert_chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<ClientTls, Error> {
        self.identity = Some(Arc::new(Identity::from_pem(cert_chain_pem.as_ref(), key_pem.as_ref())?));
        Ok(self)
    }

    /// The connector for a channel whose URI names `host`.
    pub(crate) fn connector(&self, host: &str) -> Result<TlsConnector, Error> {
        let mut roots = self.roots.clone();
        if self.system_roots || roots.is_empty() {
            let system = rustls_native_certs::load_native_certs();
            for error in &system.errors {
                tracing::debug!(%error, "could not load some system root certificates");
            }
            roots.add_parsable_certificates(system.certs);
        }
        if roots.is_empty() {
            return Err(Error::tls("no CA certificates to trust: none given (ca_pem) and none found on the system"));
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::tls(error.to_string()))?
            .with_root_certificates(roots);
        let mut config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some(identity) => {
                let (chain, key) = identity.parts();
                builder.with_client_auth_cert(chain, key).map_err(|error| Error::tls(error.to_string()))?
            }
        };
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        let name = self.server_name.as_deref().unwrap_or(host);
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|error| Error::tls(format!("server name {name:?}: {error}")))?;
        Ok(TlsConnector { connector: tokio_rustls::TlsConnector::from(Arc::new(config)), server_name })
    }
}

impl Default for ClientTls {
    fn default() -> ClientTls {
        ClientTls::new()
    }
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("ca", &self.roots.len())
            .field("system_roots", &self.system_roots)
            .field("server_name", &self.server_name)
            .field("identity", &self.identity.is_some())
            .finish()
    }
}

/// Runs the client side of TLS handshakes for one channel.
#[derive(Clone)]
pub(crate) struct TlsConnector {
    connector: tokio_rustls::TlsConnector,
    server_name: ServerName<'static>,
}

impl TlsConnector {
    /// The TLS handshake on a new connection, within `timeout`. A server
    /// whose certificate does not verify fails the handshake: UNAVAILABLE.
    pub(crate) async fn connect<IO>(
        &self,
        io: IO,
        timeout: Duration,
    ) -> Result<tokio_rustls::client::TlsStream<IO>, Status>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let handshake = self.connector.connect(self.server_name.clone(), io);
        let stream = match tokio::time::timeout(timeout, handshake).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return Err(Status::unavailable(format!("TLS handshake failed: {error}"))),
            Err(_) => return Err(Status::unavailable("TLS handshake timed out")),
        };
        check_alpn(stream.get_ref().1.alpn_protocol(), "server")?;
        Ok(stream)
    }
}
