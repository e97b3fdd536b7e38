//! TLS: calls over TLS, certificate verification (wrong CA, server-name
//! override), mutual TLS required and optional with the client's identity
//! visible to the handler, ALPN h2 enforced on both sides, and failed or
//! stalled handshakes that cost other connections nothing.

mod support;

use std::sync::Arc;

use futures_util::StreamExt as _;
use gust::client::ClientTls;
use gust::server::{CallFuture, ServerCall, ServerTls, Service};
use gust::{Channel, Code, Request, Server, Status};
use rustls::pki_types::pem::PemObject as _;
use support::certs::{Ca, Identity};
use support::{Echo, Msg, Running, BIDI, SERVER_STREAM, UNARY};
use tokio::io::AsyncWriteExt as _;

/// Answers with the DER of the client's leaf certificate (empty without
/// one) and the length of its chain in `count`.
#[derive(Clone)]
struct Whoami;

impl Service for Whoami {
    fn name(&self) -> &'static str {
        "test.Whoami"
    }

    fn call(&self, _method: &str, call: ServerCall) -> CallFuture {
        call.unary(|request: Request<Msg>| async move {
            let chain = request.context().peer_certificates().unwrap_or_default();
            let leaf = chain.first().cloned().unwrap_or_default();
            Ok::<_, Status>(Msg { payload: leaf, count: chain.len() as u32, ..Msg::default() })
        })
    }
}

const WHOAMI: &str = "/test.Whoami/Who";

async fn serve_tls(tls: ServerTls) -> Running {
    let (echo, _events) = Echo::new();
    let builder = Server::builder().tls(tls).unwrap().add_service(echo).add_service(Whoami);
    support::serve(builder, "127.0.0.1:0").await
}

fn server_tls(identity: &Identity) -> ServerTls {
    ServerTls::from_pem(&identity.cert_pem, &identity.key_pem).unwrap()
}

fn channel(server: &Running, tls: ClientTls) -> Channel {
    Channel::builder(format!("https://127.0.0.1:{}", server.addr.port())).tls(tls).connect_lazy().unwrap()
}

async fn unary(channel: &Channel, text: &str) -> Result<Msg, Status> {
    channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text(text))).await.map(|response| response.into_inner())
}

async fn whoami(channel: &Channel) -> Result<Msg, Status> {
    channel.unary::<Msg, Msg>(WHOAMI, Request::new(Msg::default())).await.map(|response| response.into_inner())
}

#[tokio::test]
async fn unary_and_streaming_calls_run_over_tls() {
    let ca = Ca::new("test CA");
    let server = serve_tls(server_tls(&ca.server(&["127.0.0.1"]))).await;
    let channel = channel(&server, ClientTls::new().ca_pem(ca.pem()).unwrap());

    assert_eq!(unary(&channel, "hello").await.unwrap().text, "hello");
    let request = Msg { count: 3, ..Msg::default() };
    let mut replies = channel.server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request)).await.unwrap();
    let mut texts = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        texts.push(reply.text);
    }
    assert_eq!(texts, ["0", "1", "2"]);
    let requests = futures_util::stream::iter([Msg::text("a"), Msg::text("b")]);
    let replies = channel.bidi_streaming::<_, Msg>(BIDI, Request::new(requests)).await.unwrap();
    let texts: Vec<String> = replies.map(|reply| reply.unwrap().text).collect().await;
    assert_eq!(texts, ["a", "b"]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_signed_by_another_ca_is_unavailable_and_other_clients_go_on() {
    let ca = Ca::new("test CA");
    let server = serve_tls(server_tls(&ca.server(&["127.0.0.1"]))).await;
    let stranger = channel(&server, ClientTls::new().ca_pem(Ca::new("other CA").pem()).unwrap());
    let status = unary(&stranger, "hello").await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    assert!(status.message().contains("TLS handshake failed"), "{status}");

    let trusted = channel(&server, ClientTls::new().ca_pem(ca.pem()).unwrap());
    assert_eq!(unary(&trusted, "still serving").await.unwrap().text, "still serving");
    server.shutdown().await;
}

#[tokio::test]
async fn the_server_name_can_be_overridden_and_is_verified() {
    let ca = Ca::new("test CA");
    let server = serve_tls(server_tls(&ca.server(&["foo.test"]))).await;
    let trusted = || ClientTls::new().ca_pem(ca.pem()).unwrap();

    let overridden = channel(&server, trusted().server_name("foo.test"));
    assert_eq!(unary(&overridden, "hello").await.unwrap().text, "hello");
    // The certificate is not for 127.0.0.1, nor for another name.
    for tls in [trusted(), trusted().server_name("bar.test")] {
        let status = unary(&channel(&server, tls), "hello").await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn required_client_auth_refuses_clients_without_a_valid_certificate() {
    let ca = Ca::new("test CA");
    let client_ca = Ca::new("client CA");
    let tls = server_tls(&ca.server(&["127.0.0.1"])).client_ca_pem(client_ca.pem()).unwrap().require_client_auth(true);
    let server = serve_tls(tls).await;
    let trusted = || ClientTls::new().ca_pem(ca.pem()).unwrap();

    let anonymous = channel(&server, trusted());
    assert_eq!(whoami(&anonymous).await.unwrap_err().code(), Code::Unavailable);
    let forged = Ca::new("client CA").client("mallory");
    let impostor = channel(&server, trusted().identity_pem(&forged.cert_pem, &forged.key_pem).unwrap());
    assert_eq!(whoami(&impostor).await.unwrap_err().code(), Code::Unavailable);

    let alice = client_ca.client("alice");
    let authenticated = channel(&server, trusted().identity_pem(&alice.cert_pem, &alice.key_pem).unwrap());
    let seen = whoami(&authenticated).await.unwrap();
    assert_eq!(seen.payload, alice.der, "the handler sees the client's certificate");
    assert_eq!(seen.count, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn optional_client_auth_serves_both_and_tells_them_apart() {
    let ca = Ca::new("test CA");
    let tls = server_tls(&ca.server(&["127.0.0.1"])).client_ca_pem(ca.pem()).unwrap();
    let server = serve_tls(tls).await;
    let trusted = || ClientTls::new().ca_pem(ca.pem()).unwrap();

    let anonymous = whoami(&channel(&server, trusted())).await.unwrap();
    assert_eq!((anonymous.count, anonymous.payload.len()), (0, 0));
    let bob = ca.client("bob");
    let seen = whoami(&channel(&server, trusted().identity_pem(&bob.cert_pem, &bob.key_pem).unwrap())).await.unwrap();
    assert_eq!(seen.payload, bob.der);
    server.shutdown().await;
}

#[tokio::test]
async fn a_plain_server_has_no_peer_certificates() {
    let (echo, _events) = Echo::new();
    let server = support::serve(Server::builder().add_service(echo).add_service(Whoami), "127.0.0.1:0").await;
    let seen = whoami(&server.channel()).await.unwrap();
    assert_eq!(seen.count, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn stalled_and_broken_handshakes_do_not_hold_up_other_connections() {
    let ca = Ca::new("test CA");
    let server = serve_tls(server_tls(&ca.server(&["127.0.0.1"]))).await;
    // One connection says nothing; another sends plaintext HTTP/2.
    let _silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut plaintext = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    plaintext.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let plain_client = Channel::from_uri(&server.uri()).unwrap();
    assert_eq!(unary(&plain_client, "hello").await.unwrap_err().code(), Code::Unavailable);

    let trusted = channel(&server, ClientTls::new().ca_pem(ca.pem()).unwrap());
    assert_eq!(unary(&trusted, "hello").await.unwrap().text, "hello");
    server.shutdown().await;
}

/// The client end of a TLS connection that offers only `protocols` via ALPN.
async fn tls_client_offering(server: &Running, ca: &Ca, protocols: &[&[u8]]) -> std::io::Result<()> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from_pem_slice(ca.pem().as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = protocols.iter().map(|protocol| protocol.to_vec()).collect();
    let socket = tokio::net::TcpStream::connect(server.addr).await?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, socket).await?;
    // Under TLS 1.3 the server's verdict arrives after the client's side of
    // the handshake is done: a refused connection ends at the first read.
    // An accepted one answers the HTTP/2 preface and SETTINGS.
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await?;
    let mut byte = [0u8; 1];
    match tokio::io::AsyncReadExt::read(&mut stream, &mut byte).await? {
        0 => Err(std::io::Error::other("closed")),
        _ => Ok(()),
    }
}

#[tokio::test]
async fn the_server_refuses_clients_that_do_not_negotiate_h2() {
    let ca = Ca::new("test CA");
    let server = serve_tls(server_tls(&ca.server(&["127.0.0.1"]))).await;
    assert!(tls_client_offering(&server, &ca, &[b"http/1.1"]).await.is_err(), "ALPN http/1.1 only");
    assert!(tls_client_offering(&server, &ca, &[]).await.is_err(), "no ALPN");
    // A client offering h2 gets the server's SETTINGS.
    tls_client_offering(&server, &ca, &[b"h2"]).await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn the_client_refuses_servers_that_do_not_negotiate_h2() {
    let ca = Ca::new("test CA");
    let identity = ca.server(&["127.0.0.1"]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from_pem_slice(identity.cert_pem.as_bytes()).unwrap()],
            rustls::pki_types::PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        // Kept open until the client has judged the handshake.
        acceptor.accept(socket).await
    });
    let channel = Channel::builder(format!("https://{addr}"))
        .tls(ClientTls::new().ca_pem(ca.pem()).unwrap())
        .connect_lazy()
        .unwrap();
    let status = unary(&channel, "hello").await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    assert!(status.message().contains("ALPN"), "{status}");
    drop(server.await);
}

#[test]
fn unusable_tls_settings_are_refused_where_they_are_given() {
    let ca = Ca::new("test CA");
    let identity = ca.server(&["127.0.0.1"]);
    let other = ca.server(&["127.0.0.1"]);
    let error = ServerTls::from_pem(&identity.cert_pem, &other.key_pem).unwrap_err();
    assert!(error.to_string().contains("private key"), "{error}");
    assert!(ServerTls::from_pem("not pem", &identity.key_pem).is_err());
    assert!(ClientTls::new().ca_pem("no certificate here").is_err());
    let error = Server::builder().tls(server_tls(&identity).require_client_auth(true)).err().unwrap();
    assert!(error.to_string().contains("client CA"), "{error}");
    let error = Channel::builder("http://127.0.0.1:1").tls(ClientTls::new()).connect_lazy().unwrap_err();
    assert!(error.to_string().contains("https"), "{error}");
}

#[tokio::test]
async fn without_a_ca_the_system_roots_are_trusted_and_they_can_be_added_to_one() {
    let ca = Ca::new("test CA");
    let server = serve_tls(server_tls(&ca.server(&["127.0.0.1"]))).await;
    // No system root signed the test CA's certificate.
    let system_only = Channel::from_uri(&format!("https://127.0.0.1:{}", server.addr.port())).unwrap();
    let status = unary(&system_only, "hello").await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    let both = channel(&server, ClientTls::new().ca_pem(ca.pem()).unwrap().with_system_roots());
    assert_eq!(unary(&both, "hello").await.unwrap().text, "hello");
    server.shutdown().await;
}
