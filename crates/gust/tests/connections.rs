//! Connection management: keepalive pings both ways, the handshake timeout,
//! and the server's idle timeout and maximum connection age (GOAWAY, after
//! which gust clients move to a new connection without failing calls).

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gust::{Channel, Code, Http2Settings, Request, Server};
use support::frames::{self, RawConnection};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Guards against a hang: every awaited event here comes in milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.expect("the awaited event did not happen")
}

async fn start_with(
    builder: impl FnOnce(gust::server::ServerBuilder) -> gust::server::ServerBuilder,
) -> (Running, Echo) {
    let (echo, _events) = Echo::new();
    let running = serve(builder(Server::builder().add_service(echo.clone())), "127.0.0.1:0").await;
    (running, echo)
}

#[tokio::test]
async fn the_handshake_timeout_closes_a_connection_that_sends_nothing() {
    let settings = Http2Settings { handshake_timeout: Duration::from_millis(100), ..Http2Settings::default() };
    let (server, _) = start_with(|builder| builder.http2_settings(settings)).await;
    let mut silent = RawConnection::connect(server.addr).await;
    within(silent.until_closed(false)).await;
}

#[tokio::test]
async fn server_keepalive_closes_a_connection_whose_client_stopped_answering() {
    let (server, _) = start_with(|builder| {
        builder.keepalive_interval(Duration::from_millis(50)).keepalive_timeout(Duration::from_millis(50))
    })
    .await;
    let mut client = RawConnection::handshake(server.addr, &[]).await;
    within(client.expect(|frame| frame.kind == frames::PING && frame.flags & frames::ACK == 0)).await;
    within(client.until_closed(false)).await;
}

#[tokio::test]
async fn server_keepalive_goes_on_pinging_a_client_that_answers() {
    // The timeout is four intervals: a pinger that failed to rearm its timer
    // after a PING or a PONG would stop pinging or close the connection.
    // (The interval outlasts the handshake, which answers no PING.)
    let (server, _) = start_with(|builder| {
        builder.keepalive_interval(Duration::from_millis(100)).keepalive_timeout(Duration::from_millis(400))
    })
    .await;
    let mut client = RawConnection::handshake(server.addr, &[]).await;
    for _ in 0..4 {
        let ping = within(client.expect(|frame| frame.kind == frames::PING && frame.flags & frames::ACK == 0)).await;
        client.send(&frames::frame(frames::PING, frames::ACK, 0, &ping.payload)).await;
    }
    // Still open: it answers a PING of ours.
    within(client.ping()).await;
}

/// A TCP server that completes nothing beyond sending its SETTINGS and never
/// answers a PING: a peer that hangs. Counts the connections made to it.
async fn hanging_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                socket.write_all(&frames::frame(frames::SETTINGS, 0, 0, &[])).await.unwrap();
                let mut sink = [0; 4096];
                while socket.read(&mut sink).await.is_ok_and(|read| read > 0) {}
            });
        }
    });
    (uri, connections)
}

#[tokio::test]
async fn client_keepalive_fails_calls_on_a_hung_connection_and_reconnects() {
    let (uri, connections) = hanging_server().await;
    let channel = Channel::builder(uri)
        .keepalive_interval(Duration::from_millis(50))
        .keepalive_timeout(Duration::from_millis(50))
        .connect_lazy()
        .unwrap();
    for attempt in 1..=2 {
        let status = within(channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("hello")))).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert_eq!(connections.load(Ordering::SeqCst), attempt, "each call after a dead connection dials anew");
    }
}

#[tokio::test]
async fn client_keepalive_while_idle_closes_a_hung_connection_without_calls() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let accepted = tokio::spawn(async move { listener.accept().await.unwrap().0 });
    let builder = Channel::builder(uri)
        .keepalive_interval(Duration::from_millis(50))
        .keepalive_timeout(Duration::from_millis(50))
        .keepalive_while_idle(true);
    // Holds the channel open, so only keepalive can close the connection.
    let connect = tokio::spawn(async move {
        let _channel = builder.connect().await.unwrap();
        std::future::pending::<()>().await
    });
    let mut socket = accepted.await.unwrap();
    let mut sink = [0; 4096];
    within(async { while socket.read(&mut sink).await.is_ok_and(|read| read > 0) {} }).await;
    connect.abort();
}

#[tokio::test]
async fn an_idle_connection_gets_goaway() {
    let (server, _) = start_with(|builder| builder.max_connection_idle(Duration::from_millis(50))).await;
    let mut client = RawConnection::handshake(server.addr, &[]).await;
    let goaway = within(client.until_closed(true)).await.expect("GOAWAY before closing");
    assert_eq!(goaway.error_code(), 0, "NO_ERROR");
}

#[tokio::test]
async fn clients_move_to_a_new_connection_when_the_old_one_reaches_its_maximum_age() {
    let (server, mut events, _) = {
        let (echo, events) = Echo::new();
        let builder = Server::builder().add_service(echo.clone()).max_connection_age(Duration::from_millis(30));
        (serve(builder, "127.0.0.1:0").await, events, echo)
    };
    let channel = server.channel();
    let mut peers = HashSet::new();
    for _ in 0..10_000 {
        channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("again"))).await.expect("no call fails");
        while let Ok(event) = events.try_recv() {
            if let Event::Peer(peer) = event {
                peers.insert(peer.unwrap());
            }
        }
        if peers.len() >= 3 {
            return;
        }
    }
    panic!("only {} connections were used", peers.len());
}

#[tokio::test]
async fn a_call_in_flight_finishes_on_a_connection_past_its_maximum_age() {
    let (server, _) = start_with(|builder| builder.max_connection_age(Duration::from_millis(20))).await;
    let channel = server.channel();
    let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg { sleep_ms: 200, ..Msg::text("done") }));
    assert_eq!(within(reply).await.unwrap().text, "done");
}

#[tokio::test]
async fn the_maximum_age_grace_ends_calls_that_outlive_it() {
    let (server, _) = start_with(|builder| {
        builder.max_connection_age(Duration::from_millis(20)).max_connection_age_grace(Duration::from_millis(20))
    })
    .await;
    let channel = server.channel();
    let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg { sleep_ms: 60_000, ..Msg::text("slow") }));
    let status = within(reply).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}

#[tokio::test]
async fn a_unary_call_the_server_refused_unprocessed_is_made_again() {
    // A bare h2 server that refuses the first stream (REFUSED_STREAM: it
    // never processed it) and answers the next one.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let streams_seen = Arc::new(AtomicUsize::new(0));
    let seen = streams_seen.clone();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut connection = h2::server::handshake(socket).await.unwrap();
        while let Some(Ok((_request, mut respond))) = connection.accept().await {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                respond.send_reset(h2::Reason::REFUSED_STREAM);
                continue;
            }
            let head = http::Response::builder().header("content-type", "application/grpc").body(()).unwrap();
            let mut body = respond.send_response(head, false).unwrap();
            body.send_data(support::raw::frame(&Msg::text("second try")), false).unwrap();
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            body.send_trailers(trailers).unwrap();
        }
    });
    let channel = Channel::from_uri(&format!("http://{addr}")).unwrap();
    let reply = within(channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("hi")))).await.unwrap();
    assert_eq!(reply.text, "second try");
    assert_eq!(streams_seen.load(Ordering::SeqCst), 2);
}
