//! Message size limits and flow control.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt as _};
use gust::{Channel, Code, Request, Server};
use support::*;

fn payload(bytes: usize) -> Msg {
    Msg { payload: vec![7; bytes], ..Msg::default() }
}

#[tokio::test]
async fn the_default_receive_limit_is_4_mib() {
    let (server, _events, _) = start().await;
    let channel = Channel::builder(server.uri()).max_receive_message_size(8 << 20).connect_lazy().unwrap();
    let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(payload((4 << 20) - 64))).await.unwrap();
    assert_eq!(reply.payload.len(), (4 << 20) - 64);
    let status = channel.unary::<Msg, Msg>(UNARY, Request::new(payload(4 << 20))).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
    // The connection survives: the next call works.
    assert_eq!(channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("ok"))).await.unwrap().text, "ok");
}

#[tokio::test]
async fn limits_are_configurable_on_both_sides() {
    let (echo, _events) = Echo::new();
    let builder = Server::builder().add_service(echo).max_receive_message_size(1024).max_send_message_size(2048);
    let server = serve(builder, "127.0.0.1:0").await;

    let status = server.channel().unary::<Msg, Msg>(UNARY, Request::new(payload(1500))).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "server receive limit: {status}");

    let request = Msg { count: 1, ..payload(1000) };
    let reply = server.channel().server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request)).await;
    assert!(reply.unwrap().message().await.unwrap().is_some());

    let small_client = Channel::builder(server.uri()).max_receive_message_size(500).connect_lazy().unwrap();
    let status = small_client.unary::<Msg, Msg>(UNARY, Request::new(payload(1000))).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "client receive limit: {status}");

    let strict_sender = Channel::builder(server.uri()).max_send_message_size(100).connect_lazy().unwrap();
    let status = strict_sender.unary::<Msg, Msg>(UNARY, Request::new(payload(200))).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "client send limit: {status}");
    let requests = stream::iter(vec![payload(10), payload(200)]);
    let status = strict_sender.client_streaming::<_, Msg>(CLIENT_STREAM, Request::new(requests)).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "client send limit on a stream: {status}");
}

#[tokio::test]
async fn the_server_send_limit_fails_the_call() {
    let (echo, _events) = Echo::new();
    let server = serve(Server::builder().add_service(echo).max_send_message_size(100), "127.0.0.1:0").await;
    let status = server.channel().unary::<Msg, Msg>(UNARY, Request::new(payload(500))).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
}

/// Waits until `counter` stops moving (a bounded wait: no event marks
/// "nothing more happens"), and returns its value.
async fn settled(counter: &AtomicUsize) -> usize {
    let mut last = counter.load(Ordering::SeqCst);
    let mut stable = 0;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = counter.load(Ordering::SeqCst);
        if now == last {
            stable += 1;
            if stable == 5 {
                return now;
            }
        } else {
            (last, stable) = (now, 0);
        }
    }
    panic!("counter never settled: {last}");
}

#[tokio::test]
async fn a_slow_reader_stalls_a_server_stream() {
    let (server, _events, echo) = start().await;
    const MESSAGES: usize = 200;
    const SIZE: usize = 64 * 1024;
    let request = Msg { count: MESSAGES as u32, ..payload(SIZE) };
    let mut replies =
        server.channel().server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request)).await.unwrap();
    assert!(replies.message().await.unwrap().is_some());

    // The client's stream window is 1 MiB: the server can get about 16
    // messages of 64 KiB ahead of a reader that stopped, not 200.
    let ahead = settled(&echo.sent).await;
    assert!(ahead < 40, "the server ran {ahead} messages ahead of the reader");

    let mut received = 1;
    while replies.message().await.unwrap().is_some() {
        received += 1;
    }
    assert_eq!(received, MESSAGES, "once the reader reads, everything arrives");
}

#[tokio::test]
async fn a_server_that_does_not_read_stalls_the_client_stream() {
    // The bidi handler echoes each request; while the client reads no
    // responses, the handler blocks sending, stops reading, and so the
    // client can only get a window's worth of requests ahead.
    let (server, _events, _) = start().await;
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let requests = stream::iter(0..500).map(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        payload(64 * 1024)
    });
    let mut replies = server.channel().bidi_streaming::<_, Msg>(BIDI, Request::new(requests)).await.unwrap();
    let ahead = settled(&pulled).await;
    assert!(ahead < 150, "the client produced {ahead} requests for a server that is not reading");
    let mut received = 0;
    while replies.message().await.unwrap().is_some() {
        received += 1;
    }
    assert_eq!(received, 500);
}

#[tokio::test]
async fn a_stream_of_many_tiny_messages_reaches_an_h2_client() {
    // One DATA frame per 16-byte message would trip h2's defence against
    // floods of small frames (GOAWAY ENHANCE_YOUR_CALM) in gust's own client
    // and tonic's: small messages must share frames.
    let (server, _events, _) = start().await;
    const MESSAGES: usize = 200_000;
    let request = Msg { count: MESSAGES as u32, ..payload(4) };
    let mut replies =
        server.channel().server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request)).await.unwrap();
    let mut received = 0;
    while replies.message().await.unwrap().is_some() {
        received += 1;
    }
    assert_eq!(received, MESSAGES);
}

/// `bytes` messages, large ones going out by reference (spliced) and small
/// ones copied: `Get` streams, for a request of sizes, one message of each
/// size filled with its index; `Echo` and `Unary` send back what they get.
struct SizedBlobs;

impl gust::server::Service for SizedBlobs {
    fn name(&self) -> &'static str {
        "test.Blobs"
    }

    fn call(&self, method: &str, call: gust::server::ServerCall) -> gust::server::CallFuture {
        match method {
            "Get" => call.server_streaming(serve_blobs),
            "Echo" => call.bidi_streaming(echo_blobs),
            _ => {
                call.unary(|request: Request<bytes::Bytes>| async move { Ok::<_, gust::Status>(request.into_inner()) })
            }
        }
    }
}

async fn echo_blobs(
    request: Request<gust::Streaming<bytes::Bytes>>,
    mut sink: gust::ResponseSink<bytes::Bytes>,
) -> Result<(), gust::Status> {
    let mut blobs = request.into_inner();
    while let Some(blob) = blobs.message().await? {
        sink.send(blob).await?;
    }
    Ok(())
}

async fn serve_blobs(request: Request<Msg>, mut sink: gust::ResponseSink<bytes::Bytes>) -> Result<(), gust::Status> {
    let blobs: Vec<_> =
        request.into_inner().payload.into_iter().enumerate().map(|(index, kib)| blob(index, kib)).collect();
    sink.send_all(blobs).await
}

fn blob(index: usize, kib: u8) -> bytes::Bytes {
    vec![index as u8; usize::from(kib) * 1024 + index].into()
}

#[tokio::test]
async fn large_bytes_fields_sent_by_reference_arrive_whole_and_in_order() {
    let server = serve(Server::builder().add_service(SizedBlobs), "127.0.0.1:0").await;
    // KiB each; 64 and more are spliced, with small ones between them in
    // the same batch.
    let sizes = vec![1, 200, 0, 64, 64, 3, 255, 1];
    let request = Msg { payload: sizes.clone(), ..Msg::default() };
    let mut replies =
        server.channel().server_streaming::<Msg, bytes::Bytes>("/test.Blobs/Get", Request::new(request)).await.unwrap();
    for (index, &kib) in sizes.iter().enumerate() {
        let reply = replies.message().await.unwrap().expect("a reply is missing");
        assert!(reply == blob(index, kib), "reply {index} differs");
    }
    assert!(replies.message().await.unwrap().is_none());
}

#[tokio::test]
async fn large_bytes_fields_sent_by_reference_by_the_client_arrive_whole() {
    let server = serve(Server::builder().add_service(SizedBlobs), "127.0.0.1:0").await;
    let channel = server.channel();
    let large = blob(5, 255);
    let reply = channel.unary::<bytes::Bytes, bytes::Bytes>("/test.Blobs/Unary", Request::new(large.clone())).await;
    assert!(reply.unwrap().into_inner() == large, "the unary reply differs");

    let sizes = [70, 0, 1, 64, 200];
    let requests = stream::iter(sizes.iter().enumerate().map(|(index, &kib)| blob(index, kib)).collect::<Vec<_>>());
    let mut replies =
        channel.bidi_streaming::<_, bytes::Bytes>("/test.Blobs/Echo", Request::new(requests)).await.unwrap();
    for (index, &kib) in sizes.iter().enumerate() {
        let reply = replies.message().await.unwrap().expect("a reply is missing");
        assert!(reply == blob(index, kib), "reply {index} differs");
    }
    assert!(replies.message().await.unwrap().is_none());
}
