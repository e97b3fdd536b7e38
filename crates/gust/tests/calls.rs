//! The four call kinds, multiplexing, status and metadata, over real TCP.

mod support;

use futures_util::stream;
use gust::{Code, Metadata, Request};
use support::*;

#[tokio::test]
async fn unary_echoes() {
    let (server, _events, _) = start().await;
    let channel = server.channel();
    let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("hello"))).await.unwrap();
    assert_eq!(reply.text, "hello");
}

#[tokio::test]
async fn server_streaming_sends_every_message_in_order() {
    let (server, _events, _) = start().await;
    let request = Msg { count: 50, ..Msg::text("") };
    let mut replies =
        server.channel().server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request)).await.unwrap();
    let mut texts = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        texts.push(reply.text);
    }
    assert_eq!(texts, (0..50).map(|i| i.to_string()).collect::<Vec<_>>());
    assert!(replies.trailers().is_some(), "an OK stream keeps its trailers");
}

#[tokio::test]
async fn client_streaming_receives_every_message() {
    let (server, _events, _) = start().await;
    let requests = stream::iter(["a", "b", "c"].map(|t| Msg { payload: vec![0; 10], ..Msg::text(t) }));
    let reply = server.channel().client_streaming::<_, Msg>(CLIENT_STREAM, Request::new(requests)).await.unwrap();
    assert_eq!(reply.text, "a:0,b:0,c:0");
    assert_eq!(reply.count, 30);
}

#[tokio::test]
async fn empty_client_stream_is_a_valid_call() {
    let (server, _events, _) = start().await;
    let requests = stream::iter(Vec::<Msg>::new());
    let reply = server.channel().client_streaming::<_, Msg>(CLIENT_STREAM, Request::new(requests)).await.unwrap();
    assert_eq!(reply.text, "");
}

#[tokio::test]
async fn bidi_streams_interleave() {
    let (server, _events, _) = start().await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Msg>(1);
    let requests = stream::unfold(receiver, |mut r| async move { r.recv().await.map(|m| (m, r)) });
    let mut replies = server.channel().bidi_streaming::<_, Msg>(BIDI, Request::new(requests)).await.unwrap();
    // Ping-pong: each reply arrives before the next request is sent.
    for i in 0..10 {
        sender.send(Msg::text(&format!("ping {i}"))).await.unwrap();
        let reply = replies.message().await.unwrap().unwrap();
        assert_eq!(reply.text, format!("ping {i}"));
    }
    drop(sender);
    assert!(replies.message().await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_calls_share_one_connection() {
    let (server, mut events, _) = start().await;
    let channel = server.channel();
    let calls = (0..200).map(|i| {
        let channel = channel.clone();
        tokio::spawn(async move {
            let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text(&i.to_string()))).await.unwrap();
            assert_eq!(reply.text, i.to_string());
        })
    });
    for call in futures_util::future::join_all(calls).await {
        call.unwrap();
    }
    let mut peers = std::collections::HashSet::new();
    while let Ok(event) = events.try_recv() {
        if let Event::Peer(peer) = event {
            peers.insert(peer.unwrap());
        }
    }
    assert_eq!(peers.len(), 1, "all calls were multiplexed on one connection: {peers:?}");
}

#[tokio::test]
async fn every_status_code_reaches_the_client_with_message_and_details() {
    let (server, _events, _) = start().await;
    let channel = server.channel();
    for code in gust::Code::ALL.into_iter().skip(1) {
        let message = format!("failed ☺ with {code} at 100%\r\n");
        let request = Msg { code: code as i32, payload: vec![1, 2, 3, 0xff], ..Msg::text(&message) };
        let status = channel.unary::<Msg, Msg>(UNARY, Request::new(request)).await.unwrap_err();
        assert_eq!(status.code(), code);
        assert_eq!(status.message(), message);
        assert_eq!(&status.details()[..], &[1, 2, 3, 0xff]);
        assert_eq!(status.metadata().get("x-error-trailer"), Some("present"));
    }
}

#[tokio::test]
async fn streaming_calls_end_with_the_handlers_status() {
    let (server, _events, _) = start().await;
    let request = Msg { count: 3, code: Code::Aborted as i32, ..Msg::text("stopped early") };
    let mut replies =
        server.channel().server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request)).await.unwrap();
    for _ in 0..3 {
        assert!(replies.message().await.unwrap().is_some());
    }
    let status = replies.message().await.unwrap_err();
    assert_eq!((status.code(), status.message()), (Code::Aborted, "stopped early"));
    assert!(replies.message().await.unwrap().is_none(), "an ended stream stays ended");
}

#[tokio::test]
async fn unknown_service_and_method_are_unimplemented() {
    let (server, _events, _) = start().await;
    let channel = server.channel();
    let status = channel.unary::<Msg, Msg>("/test.Nope/Unary", Request::new(Msg::default())).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert!(status.message().contains("test.Nope"), "{status}");
    let status = channel.unary::<Msg, Msg>("/test.Echo/Nope", Request::new(Msg::default())).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert!(status.message().contains("Nope"), "{status}");
}

#[tokio::test]
async fn a_panicking_handler_fails_only_its_own_call() {
    let (server, _events, _) = start().await;
    let channel = server.channel();
    let slow = tokio::spawn({
        let channel = channel.clone();
        async move { channel.unary::<Msg, Msg>(UNARY, Request::new(Msg { sleep_ms: 200, ..Msg::text("slow") })).await }
    });
    let status = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("panic"))).await.unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert!(status.message().contains("panicked"), "{status}");
    assert_eq!(slow.await.unwrap().unwrap().text, "slow", "the call in flight was unaffected");
    let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("after"))).await.unwrap();
    assert_eq!(reply.text, "after", "the server goes on");
}

/// A service whose call future panics in its first poll, outside any
/// handler (where gust's own catching does not reach).
struct PanicsOutsideHandler;

impl gust::server::Service for PanicsOutsideHandler {
    fn name(&self) -> &'static str {
        "test.Panics"
    }

    fn call(&self, _method: &str, _call: gust::server::ServerCall) -> gust::server::CallFuture {
        Box::pin(async { panic!("a call future that panics") })
    }
}

#[tokio::test]
async fn a_call_panicking_outside_its_handler_costs_its_connection_nothing() {
    let (echo, _events) = Echo::new();
    let builder = gust::Server::builder().add_service(echo).add_service(PanicsOutsideHandler);
    let server = serve(builder, "127.0.0.1:0").await;
    let channel = server.channel();
    let slow = tokio::spawn({
        let channel = channel.clone();
        async move { channel.unary::<Msg, Msg>(UNARY, Request::new(Msg { sleep_ms: 200, ..Msg::text("slow") })).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let failed = channel.unary::<Msg, Msg>("/test.Panics/Any", Request::new(Msg::default())).await;
    assert!(failed.is_err(), "the panicking call got an answer: {failed:?}");
    assert_eq!(slow.await.unwrap().unwrap().text, "slow", "the call in flight on the connection was unaffected");
    let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("after"))).await.unwrap();
    assert_eq!(reply.text, "after", "the connection goes on");
}

#[tokio::test]
async fn metadata_travels_both_ways_ascii_and_binary() {
    let (server, _events, _) = start().await;
    let mut metadata = Metadata::new();
    metadata.append("x-user", "alice").unwrap();
    metadata.append_bin("x-trace-bin", &[0, 159, 146, 150, 255]).unwrap();
    let reply = server
        .channel()
        .unary::<Msg, Msg>(UNARY, Request::new(Msg::text("md")).with_metadata(metadata.clone()))
        .await
        .unwrap();
    assert_eq!(reply.metadata().get("initial-user"), Some("alice"));
    assert_eq!(reply.metadata().get_bin("initial-trace-bin"), Some(vec![0, 159, 146, 150, 255]));
    assert_eq!(reply.trailers().get("trailing-user"), Some("alice"));
    assert_eq!(reply.trailers().get_bin("trailing-trace-bin"), Some(vec![0, 159, 146, 150, 255]));

    let request = Msg { count: 2, ..Msg::text("") };
    let mut replies = server
        .channel()
        .server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request).with_metadata(metadata))
        .await
        .unwrap();
    assert!(replies.message().await.unwrap().is_some());
    assert_eq!(replies.metadata().get("initial-user"), Some("alice"), "headers arrived with the first message");
    while replies.message().await.unwrap().is_some() {}
    assert_eq!(replies.trailers().unwrap().get_bin("trailing-trace-bin"), Some(vec![0, 159, 146, 150, 255]));
}

#[tokio::test]
async fn trailers_only_error_keeps_initial_metadata() {
    let (server, _events, _) = start().await;
    let mut metadata = Metadata::new();
    metadata.append("x-user", "bob").unwrap();
    let request = Msg { code: Code::NotFound as i32, ..Msg::text("missing") };
    let status =
        server.channel().unary::<Msg, Msg>(UNARY, Request::new(request).with_metadata(metadata)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.metadata().get("initial-user"), Some("bob"));
    assert_eq!(status.metadata().get("trailing-user"), Some("bob"));
}
