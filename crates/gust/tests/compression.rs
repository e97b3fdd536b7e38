//! Compression: negotiated with grpc-encoding / grpc-accept-encoding,
//! controlled per call and per message, and bounded on inflation.

mod support;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream;
use gust::{Channel, Encoding, Outgoing, Request};
use support::*;

#[tokio::test]
async fn compressed_requests_reach_the_handler_intact() {
    let (server, _events, _) = start().await;
    let channel = server.channel();
    let payload = b"squeeze ".repeat(1000);
    for encoding in [Encoding::Gzip, Encoding::Deflate] {
        let request = Request::new(Msg { payload: payload.clone(), ..Msg::text("c") }).with_compression(encoding);
        let reply = channel.unary::<Msg, Msg>(UNARY, request).await.unwrap();
        assert!(reply.request_compressed, "{encoding:?}");
        assert_eq!(reply.payload, payload);
    }
    let probe = Request::new(Msg::text("probe")).with_compression(Encoding::Gzip).with_message_compression(false);
    let reply = channel.unary::<Msg, Msg>(UNARY, probe).await.unwrap();
    assert!(!reply.request_compressed, "the header alone does not compress the message");
    let plain = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("plain"))).await.unwrap();
    assert!(!plain.request_compressed);
}

#[tokio::test]
async fn a_channel_can_compress_every_call() {
    let (server, _events, _) = start().await;
    let channel = Channel::builder(server.uri()).send_compressed(Encoding::Deflate).connect_lazy().unwrap();
    let reply = channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text("x"))).await.unwrap();
    assert!(reply.request_compressed);
}

#[tokio::test]
async fn each_message_of_a_client_stream_chooses() {
    let (server, _events, _) = start().await;
    let requests = stream::iter(vec![
        Outgoing::compressed(Msg::text("a")),
        Outgoing::uncompressed(Msg::text("b")),
        Outgoing::compressed(Msg::text("c")),
    ]);
    let request = Request::new(requests).with_compression(Encoding::Gzip);
    let reply = server.channel().client_streaming::<_, Msg>(CLIENT_STREAM, request).await.unwrap();
    assert_eq!(reply.text, "a:1,b:0,c:1");
}

#[tokio::test]
async fn the_server_compresses_responses_the_client_accepts() {
    let (server, _events, _) = start().await;
    for name in ["gzip", "deflate"] {
        let request = Msg { count: 4, compression: name.into(), payload: vec![1; 500], ..Msg::default() };
        let mut replies =
            server.channel().server_streaming::<Msg, Msg>(SERVER_STREAM, Request::new(request)).await.unwrap();
        let mut flags = Vec::new();
        while let Some(reply) = replies.message().await.unwrap() {
            assert_eq!(reply.payload, vec![1; 500]);
            flags.push(replies.last_message_compressed());
        }
        assert_eq!(flags, [true, false, true, false], "{name}: per-message choice on the server");
    }
}

/// A raw request to UNARY with `headers` and `body`; returns the response
/// headers, body and trailers.
async fn raw_unary(
    server: &Running,
    headers: &[(&str, &str)],
    body: Bytes,
) -> (http::HeaderMap, Vec<u8>, http::HeaderMap) {
    let socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let (response, mut send) = client.send_request(raw::request(UNARY, headers), false).unwrap();
    send.send_data(body, true).unwrap();
    let (_, headers, body, trailers) = raw::read_response(response).await;
    (headers.clone(), body, trailers.unwrap_or(headers))
}

#[tokio::test]
async fn no_compression_for_a_client_that_does_not_accept_it() {
    let (server, _events, _) = start().await;
    let request = Msg { compression: "gzip".into(), payload: vec![0; 1000], ..Msg::default() };
    let (headers, body, trailers) =
        raw_unary(&server, &[("grpc-accept-encoding", "identity")], raw::frame(&request)).await;
    assert_eq!(trailers["grpc-status"], "0");
    assert!(!headers.contains_key("grpc-encoding"));
    assert_eq!(body[0], 0, "sent uncompressed");

    let (headers, body, _) = raw_unary(&server, &[("grpc-accept-encoding", "gzip")], raw::frame(&request)).await;
    assert_eq!(headers["grpc-encoding"], "gzip");
    assert_eq!(body[0], 1, "sent compressed");
    // As from grpc-go's server: what the server accepts is named only when
    // it refuses an encoding (below), not on every response.
    assert!(!headers.contains_key("grpc-accept-encoding"));
}

#[tokio::test]
async fn unknown_encodings_are_unimplemented_and_name_what_is_accepted() {
    let (server, _events, _) = start().await;
    let (_, _, trailers) = raw_unary(&server, &[("grpc-encoding", "br")], raw::frame(&Msg::default())).await;
    assert_eq!(trailers["grpc-status"], "12");
    assert!(trailers["grpc-message"].to_str().unwrap().contains("gzip"));
    assert_eq!(trailers["grpc-accept-encoding"], "identity,gzip,deflate");
}

#[tokio::test]
async fn a_zip_bomb_is_refused_without_inflating_it() {
    let (server, _events, _) = start().await;
    // 64 MiB of zeros in one protobuf field, gzipped to about 64 KiB.
    let bomb = Msg { payload: vec![0; 64 << 20], ..Msg::default() };
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, &prost::Message::encode_to_vec(&bomb)).unwrap();
    let compressed = encoder.finish().unwrap();
    let mut frame = BytesMut::new();
    frame.put_u8(1);
    frame.put_u32(compressed.len() as u32);
    frame.put_slice(&compressed);
    let (_, _, trailers) = raw_unary(&server, &[("grpc-encoding", "gzip")], frame.freeze()).await;
    assert_eq!(trailers["grpc-status"], "8", "{:?}", trailers.get("grpc-message"));
    // The server is fine.
    assert_eq!(server.channel().unary::<Msg, Msg>(UNARY, Request::new(Msg::text("ok"))).await.unwrap().text, "ok");
}
