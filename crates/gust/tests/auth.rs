//! Interceptors and call credentials: server interceptors (sync and async)
//! that refuse calls before the handler or hand it typed values, in order,
//! within the deadline; client interceptors that add metadata and see every
//! call; bearer tokens, static or from a per-call token source, sent over
//! TLS and refused over plaintext unless allowed.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gust::client::{ClientTls, OutgoingCall};
use gust::server::{async_interceptor, CallFuture, CallHead, ServerCall, ServerTls, Service};
use gust::{Channel, Code, Request, Server, Status};
use support::certs::Ca;
use support::{Msg, Running};

/// A value an interceptor hands to the handler.
#[derive(Clone, Debug, PartialEq)]
struct User(String);

/// Answers with the `User` the interceptors found (or "none") and the
/// request's `authorization` and `x-trace` metadata.
#[derive(Clone)]
struct Whoami;

impl Service for Whoami {
    fn name(&self) -> &'static str {
        "test.Whoami"
    }

    fn call(&self, _method: &str, call: ServerCall) -> CallFuture {
        call.unary(|request: Request<Msg>| async move {
            let user = request.extensions().get::<User>().map_or("none".to_owned(), |user| user.0.clone());
            let seen = |key| request.metadata().get(key).unwrap_or("-").to_owned();
            let text = format!("{user}|{}|{}", seen("authorization"), seen("x-trace"));
            Ok::<_, Status>(Msg { text, ..Msg::default() })
        })
    }
}

const WHO: &str = "/test.Whoami/Who";

async fn who(channel: &Channel) -> Result<String, Status> {
    channel.unary::<Msg, Msg>(WHO, Request::new(Msg::default())).await.map(|reply| reply.into_inner().text)
}

/// Lets through calls whose `authorization` is `Bearer <name>`, as that user.
fn bearer_user(call: &mut CallHead) -> Result<(), Status> {
    let value = call.metadata().get("authorization").ok_or_else(|| Status::unauthenticated("no token"))?;
    let name = value.strip_prefix("Bearer ").ok_or_else(|| Status::unauthenticated("not a bearer token"))?;
    let user = User(name.to_owned());
    call.extensions_mut().insert(user);
    Ok(())
}

async fn serve(builder: gust::server::ServerBuilder) -> Running {
    support::serve(builder.add_service(Whoami), "127.0.0.1:0").await
}

fn plaintext(server: &Running) -> gust::client::ChannelBuilder {
    Channel::builder(server.uri()).allow_insecure_credentials()
}

#[tokio::test]
async fn a_sync_interceptor_refuses_calls_or_hands_the_handler_a_value() {
    let server = serve(Server::builder().intercept(bearer_user)).await;
    let status = who(&server.channel()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "no token");
    let alice = plaintext(&server).bearer_token("alice").connect_lazy().unwrap();
    assert_eq!(who(&alice).await.unwrap(), "alice|Bearer alice|-");
    server.shutdown().await;
}

#[tokio::test]
async fn async_interceptors_run_in_order_after_the_ones_before() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let seen = order.clone();
    let admins_only = async_interceptor(move |call: CallHead| {
        let seen = seen.clone();
        async move {
            // Waits like a lookup elsewhere would.
            tokio::task::yield_now().await;
            let user = call.extensions().get::<User>().cloned().expect("the first interceptor ran");
            seen.lock().unwrap().push((call.path().to_owned(), user.0.clone()));
            if user.0 != "admin" {
                return Err(Status::permission_denied(format!("{} is not an admin", user.0)));
            }
            Ok(call)
        }
    });
    let server = serve(Server::builder().intercept(bearer_user).intercept(admins_only)).await;
    let bob = plaintext(&server).bearer_token("bob").connect_lazy().unwrap();
    assert_eq!(who(&bob).await.unwrap_err().code(), Code::PermissionDenied);
    let admin = plaintext(&server).bearer_token("admin").connect_lazy().unwrap();
    assert_eq!(who(&admin).await.unwrap(), "admin|Bearer admin|-");
    let order = order.lock().unwrap().clone();
    assert_eq!(order, [(WHO.to_owned(), "bob".to_owned()), (WHO.to_owned(), "admin".to_owned())]);
    server.shutdown().await;
}

#[tokio::test]
async fn an_interceptor_that_outlasts_the_deadline_ends_the_call_with_deadline_exceeded() {
    let stalls = async_interceptor(|_call: CallHead| std::future::pending::<Result<CallHead, Status>>());
    let server = serve(Server::builder().intercept(stalls)).await;
    // Raw HTTP/2, so the status is the server's (a gust client's own timer
    // would end the call too).
    let socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let (response, mut body) =
        client.send_request(support::raw::request(WHO, &[("grpc-timeout", "50m")]), false).unwrap();
    body.send_data(support::raw::frame(&Msg::default()), true).unwrap();
    let (_, headers, _, _) = support::raw::read_response(response).await;
    assert_eq!(headers.get("grpc-status").unwrap(), "4", "{headers:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn client_interceptors_add_metadata_and_see_every_call() {
    let server = serve(Server::builder()).await;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = calls.clone();
    let channel = Channel::builder(server.uri())
        .intercept(move |call: &mut OutgoingCall| {
            log.lock().unwrap().push((call.path(), call.is_secure()));
            call.metadata_mut().insert("x-trace", "t-1").map_err(|error| Status::internal(error.to_string()))?;
            Ok(())
        })
        .intercept(|call: &mut OutgoingCall| match call.metadata().get("x-refuse") {
            Some(_) => Err(Status::failed_precondition("refused by the client")),
            None => Ok(()),
        })
        .connect_lazy()
        .unwrap();
    assert_eq!(who(&channel).await.unwrap(), "none|-|t-1");
    let mut refused = Request::new(Msg::default());
    refused.metadata_mut().insert("x-refuse", "yes").unwrap();
    let status = channel.unary::<Msg, Msg>(WHO, refused).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(*calls.lock().unwrap(), [(WHO, false), (WHO, false)]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_token_source_is_asked_for_every_call_and_its_error_fails_the_call() {
    let server = serve(Server::builder().intercept(bearer_user)).await;
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let channel = plaintext(&server)
        .token_source(move || {
            let call = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                match call {
                    0 | 1 => Ok(format!("user{call}")),
                    _ => Err(Status::unavailable("token server down")),
                }
            }
        })
        .connect_lazy()
        .unwrap();
    assert_eq!(who(&channel).await.unwrap(), "user0|Bearer user0|-");
    assert_eq!(who(&channel).await.unwrap(), "user1|Bearer user1|-");
    let status = who(&channel).await.unwrap_err();
    assert_eq!((status.code(), status.message()), (Code::Unavailable, "token server down"));
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn credentials_go_over_tls_and_are_refused_over_plaintext_unless_allowed() {
    let ca = Ca::new("test CA");
    let identity = ca.server(&["127.0.0.1"]);
    let tls = ServerTls::from_pem(&identity.cert_pem, &identity.key_pem).unwrap();
    let server = serve(Server::builder().tls(tls).unwrap().intercept(bearer_user)).await;
    let channel = Channel::builder(format!("https://127.0.0.1:{}", server.addr.port()))
        .tls(ClientTls::new().ca_pem(ca.pem()).unwrap())
        .bearer_token("carol")
        .connect_lazy()
        .unwrap();
    assert_eq!(who(&channel).await.unwrap(), "carol|Bearer carol|-");

    let error = Channel::builder(server.uri()).bearer_token("carol").connect_lazy().unwrap_err();
    assert!(error.to_string().contains("allow_insecure_credentials"), "{error}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_token_that_cannot_be_sent_as_metadata_fails_the_call_unauthenticated() {
    let server = serve(Server::builder()).await;
    let channel = plaintext(&server).bearer_token("line\nbreak").connect_lazy().unwrap();
    assert_eq!(who(&channel).await.unwrap_err().code(), Code::Unauthenticated);
    server.shutdown().await;
}
