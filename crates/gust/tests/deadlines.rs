//! Deadlines and cancellation, both sides.

mod support;

use std::time::Duration;

use futures_util::stream::{self, StreamExt as _};
use gust::{Code, Request};
use support::*;

#[tokio::test]
async fn work_a_handler_spawned_hears_of_the_cancellation() {
    let (server, mut events, _) = start().await;
    let request = Request::new(Msg { sleep_ms: 10_000, ..Msg::text("slow") }).with_timeout(Duration::from_millis(100));
    let status = server.channel().unary::<Msg, Msg>(UNARY, request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    let noticed = async { while events.recv().await.expect("event stream ended") != Event::CancelNoticed {} };
    tokio::time::timeout(Duration::from_secs(10), noticed).await.expect("the spawned task never saw the cancellation");
}

#[tokio::test]
async fn the_server_sees_the_deadline_and_cancels_a_late_handler() {
    let (server, mut events, _) = start().await;
    let request = Request::new(Msg { sleep_ms: 10_000, ..Msg::text("slow") }).with_timeout(Duration::from_millis(300));
    let status = server.channel().unary::<Msg, Msg>(UNARY, request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);

    let Event::TimeRemaining(Some(remaining)) = events.recv().await.unwrap() else { panic!("no deadline seen") };
    assert!(remaining <= Duration::from_millis(300) && remaining > Duration::ZERO, "{remaining:?}");
    assert_eq!(next_drop(&mut events).await, Event::Dropped { cancelled: true }, "the handler was cancelled");
}

#[tokio::test]
async fn no_timeout_means_no_deadline() {
    let (server, mut events, _) = start().await;
    server.channel().unary::<Msg, Msg>(UNARY, Request::new(Msg::text("x"))).await.unwrap();
    assert_eq!(events.recv().await.unwrap(), Event::TimeRemaining(None));
}

#[tokio::test]
async fn the_client_timer_fires_when_the_server_is_silent() {
    // A server that completes the HTTP/2 handshake and accepts the stream,
    // but never answers: only the client's own timer can end the call.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut connection = h2::server::handshake(socket).await.unwrap();
        let mut held = Vec::new();
        while let Some(Ok(stream)) = connection.accept().await {
            held.push(stream);
        }
    });
    let channel = gust::Channel::from_uri(&format!("http://{addr}")).unwrap();
    let request = Request::new(Msg::text("anyone?")).with_timeout(Duration::from_millis(200));
    let status = channel.unary::<Msg, Msg>(UNARY, request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);

    let request = Request::new(Msg { count: 1, ..Msg::default() }).with_timeout(Duration::from_millis(200));
    let mut replies = channel.server_streaming::<Msg, Msg>(SERVER_STREAM, request).await.unwrap();
    assert_eq!(replies.message().await.unwrap_err().code(), Code::DeadlineExceeded);
    silent.abort();
}

#[tokio::test]
async fn a_deadline_covers_the_whole_stream() {
    let (server, mut events, _) = start().await;
    let request =
        Request::new(Msg { count: 100, sleep_ms: 50, ..Msg::default() }).with_timeout(Duration::from_millis(300));
    let mut replies = server.channel().server_streaming::<Msg, Msg>(SERVER_STREAM, request).await.unwrap();
    let mut received = 0;
    let status = loop {
        match replies.message().await {
            Ok(Some(_)) => received += 1,
            Ok(None) => panic!("the stream cannot finish within its deadline"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(received > 0 && received < 100, "{received}");
    assert_eq!(next_drop(&mut events).await, Event::Dropped { cancelled: true });
}

#[tokio::test]
async fn dropping_a_unary_call_cancels_the_handler() {
    let (server, mut events, _) = start().await;
    let channel = server.channel();
    let call = tokio::spawn(async move {
        channel.unary::<Msg, Msg>(UNARY, Request::new(Msg { sleep_ms: 10_000, ..Msg::text("abandoned") })).await
    });
    // Wait until the handler runs, then abandon the call.
    assert!(matches!(events.recv().await.unwrap(), Event::TimeRemaining(None)));
    call.abort();
    assert_eq!(next_drop(&mut events).await, Event::Dropped { cancelled: true });
}

#[tokio::test]
async fn dropping_a_response_stream_cancels_the_handler() {
    let (server, mut events, echo) = start().await;
    let request = Msg { count: 1_000_000, sleep_ms: 1, ..Msg::default() };
    let mut replies =
        server.channel().server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request)).await.unwrap();
    assert!(replies.message().await.unwrap().is_some());
    drop(replies);
    assert_eq!(next_drop(&mut events).await, Event::Dropped { cancelled: true });
    assert!(echo.sent.load(std::sync::atomic::Ordering::SeqCst) < 1_000_000);
}

#[tokio::test]
async fn dropping_a_bidi_call_cancels_the_handler() {
    let (server, mut events, _) = start().await;
    let requests = stream::iter(vec![Msg::text("one")]).chain(stream::pending());
    let mut replies = server.channel().bidi_streaming::<_, Msg>(BIDI, Request::new(requests)).await.unwrap();
    assert_eq!(replies.message().await.unwrap().unwrap().text, "one");
    drop(replies);
    assert_eq!(next_drop(&mut events).await, Event::Dropped { cancelled: true });
}

#[tokio::test]
async fn every_timeout_unit_reaches_the_handler() {
    // Raw requests carry each unit; the handler reports what it saw.
    let (server, mut events, _) = start().await;
    let socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    for (header, expected) in [
        ("1H", Duration::from_secs(3600)),
        ("2M", Duration::from_secs(120)),
        ("3S", Duration::from_secs(3)),
        ("4000m", Duration::from_secs(4)),
        ("5000000u", Duration::from_secs(5)),
        ("90000000n", Duration::from_millis(90)),
    ] {
        let request = raw::request(UNARY, &[("grpc-timeout", header)]);
        let (response, mut body) = client.send_request(request, false).unwrap();
        body.send_data(raw::frame(&Msg::text("t")), true).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let Event::TimeRemaining(Some(seen)) = events.recv().await.unwrap() else { panic!("no deadline for {header}") };
        assert!(seen <= expected && seen > expected.saturating_sub(Duration::from_millis(80)), "{header}: {seen:?}");
        assert!(matches!(events.recv().await.unwrap(), Event::Peer(_)));
    }
}

#[tokio::test]
async fn a_malformed_timeout_is_an_internal_error() {
    let (server, _events, _) = start().await;
    let socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    for bad in ["123456789S", "1x", "S", "-1S"] {
        let (response, mut body) = client.send_request(raw::request(UNARY, &[("grpc-timeout", bad)]), false).unwrap();
        body.send_data(raw::frame(&Msg::text("t")), true).unwrap();
        let (status, headers, _, _) = raw::read_response(response).await;
        assert_eq!(status, 200);
        assert_eq!(headers["grpc-status"], "13", "{bad}");
        assert!(headers["grpc-message"].to_str().unwrap().contains("malformed grpc-timeout"), "{bad}");
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_cannot_hold_a_call_past_its_deadline() {
    let (server, _events, _) = start().await;
    let socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    // A 1 MiB answer against the default 64 KiB window, and a reader that
    // never returns window: the server's send stalls until the deadline.
    let request = Msg { payload: vec![1; 1 << 20], ..Msg::default() };
    let (response, mut send) = client.send_request(raw::request(UNARY, &[("grpc-timeout", "300m")]), false).unwrap();
    send.send_data(raw::frame(&request), true).unwrap();
    let mut body = response.await.unwrap().into_body();
    let reset = async {
        loop {
            match body.data().await {
                Some(Ok(_)) => continue,
                Some(Err(error)) => return error,
                None => panic!("the stream ended normally, but its reader returned no window"),
            }
        }
    };
    // Far beyond the 300 ms deadline: only a server that ignores it gets here.
    let error = tokio::time::timeout(Duration::from_secs(30), reset).await.expect("the server held the call");
    assert_eq!(error.reason(), Some(h2::Reason::CANCEL), "{error}");
}
