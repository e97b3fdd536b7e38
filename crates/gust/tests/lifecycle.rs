//! Binding, graceful shutdown, and a client that outlives its server.

mod support;

use std::time::Duration;

use gust::{Channel, Code, Request, Server};
use support::*;

#[tokio::test]
async fn port_zero_binds_a_free_port_and_reports_it() {
    let (echo, _events) = Echo::new();
    let server = Server::builder().add_service(echo).bind("127.0.0.1:0").await.unwrap();
    assert_ne!(server.local_addr().port(), 0);
}

#[tokio::test]
async fn the_unspecified_ipv6_address_serves_ipv4_and_ipv6_clients() {
    let (echo, _events) = Echo::new();
    let server = serve(Server::builder().add_service(echo), "[::]:0").await;
    let port = server.addr.port();
    for uri in [format!("http://127.0.0.1:{port}"), format!("http://[::1]:{port}"), format!("http://localhost:{port}")]
    {
        let channel = Channel::from_uri(&uri).unwrap();
        let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text(&uri))).await;
        assert_eq!(reply.unwrap().text, uri);
    }
}

#[tokio::test]
async fn graceful_shutdown_lets_calls_in_flight_finish() {
    let (mut server, mut events, _) = start().await;
    let channel = server.channel();
    let in_flight = tokio::spawn({
        let channel = channel.clone();
        async move { channel.unary::<Msg, Msg>(UNARY, Request::new(Msg { sleep_ms: 300, ..Msg::text("finishing") })).await }
    });
    assert!(matches!(events.recv().await.unwrap(), Event::TimeRemaining(_)), "the call is in flight");
    let stopped = server.begin_shutdown();
    assert_eq!(in_flight.await.unwrap().unwrap().text, "finishing");
    stopped.await.unwrap().unwrap();
    let after = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("late"))).await.unwrap_err();
    assert_eq!(after.code(), Code::Unavailable, "{after}");
}

#[tokio::test]
async fn calls_still_running_after_the_grace_period_are_cancelled() {
    let (echo, mut events) = Echo::new();
    let builder = Server::builder().add_service(echo).grace_period(Duration::from_millis(100));
    let mut server = serve(builder, "127.0.0.1:0").await;
    let channel = server.channel();
    let stuck = tokio::spawn(async move {
        channel.unary::<Msg, Msg>(UNARY, Request::new(Msg { sleep_ms: 60_000, ..Msg::text("stuck") })).await
    });
    assert!(matches!(events.recv().await.unwrap(), Event::TimeRemaining(_)));
    server.begin_shutdown().await.unwrap().unwrap();
    let status = stuck.await.unwrap().unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    assert_eq!(next_drop(&mut events).await, Event::Dropped { cancelled: true });
}

#[tokio::test]
async fn a_channel_reconnects_after_the_server_restarts() {
    let (server, _events, _) = start().await;
    let addr = server.addr;
    let channel = server.channel();
    assert_eq!(channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("one"))).await.unwrap().text, "one");
    server.shutdown().await;

    let (echo, _events) = Echo::new();
    let restarted = serve(Server::builder().add_service(echo), &addr.to_string()).await;
    assert_eq!(channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("two"))).await.unwrap().text, "two");
    restarted.shutdown().await;
}

#[tokio::test]
async fn a_lazy_channel_connects_when_the_server_comes_up() {
    // Find a free port, then leave it closed.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let channel = Channel::from_uri(&format!("http://127.0.0.1:{port}")).unwrap();
    let status = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("nobody"))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");

    let (echo, _events) = Echo::new();
    let server = serve(Server::builder().add_service(echo), &format!("127.0.0.1:{port}")).await;
    assert_eq!(channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("up"))).await.unwrap().text, "up");
    server.shutdown().await;
}

#[tokio::test]
async fn channel_uris_are_checked() {
    assert!(Channel::from_uri("http://localhost:1337").is_ok());
    assert!(Channel::from_uri("localhost:1337").is_ok(), "the scheme may be left out");
    assert!(Channel::from_uri("ftp://localhost:1337").is_err());
    assert!(Channel::from_uri("http://").is_err());
    assert!(Channel::connect("http://127.0.0.1:1").await.is_err(), "eager connect reports failure");
}
