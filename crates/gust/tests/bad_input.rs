//! Malformed requests, sent raw over HTTP/2: each gets the precise status or
//! HTTP response the protocol prescribes, and costs other calls nothing.

mod support;

use bytes::Bytes;
use support::*;

/// A raw HTTP/2 connection to the server.
async fn connect(server: &Running) -> h2::client::SendRequest<Bytes> {
    let socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Sends `body` on a request with `request`'s headers; returns the response.
async fn exchange(
    client: &mut h2::client::SendRequest<Bytes>,
    request: http::Request<()>,
    body: &[u8],
) -> (http::StatusCode, http::HeaderMap, Vec<u8>, Option<http::HeaderMap>) {
    let mut ready = client.clone().ready().await.unwrap();
    let (response, mut send) = ready.send_request(request, false).unwrap();
    send.send_data(Bytes::copy_from_slice(body), true).unwrap();
    raw::read_response(response).await
}

/// The grpc-status and grpc-message of a response, from its trailers or (for
/// Trailers-Only) its headers.
fn grpc_status(headers: &http::HeaderMap, trailers: &Option<http::HeaderMap>) -> (String, String) {
    let source = trailers.as_ref().filter(|t| t.contains_key("grpc-status")).unwrap_or(headers);
    let get = |name| source.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (get("grpc-status"), get("grpc-message"))
}

/// A good call on `client` still works.
async fn assert_connection_still_serves(client: &mut h2::client::SendRequest<Bytes>) {
    let (status, headers, body, trailers) =
        exchange(client, raw::request(UNARY, &[]), &raw::frame(&Msg::text("fine"))).await;
    assert_eq!(status, 200);
    assert_eq!(grpc_status(&headers, &trailers).0, "0");
    assert_eq!(&body[..], &raw::frame(&Msg::text("fine"))[..]);
}

#[tokio::test]
async fn non_post_gets_405() {
    let (server, _events, _) = start().await;
    let mut client = connect(&server).await;
    let request = http::Request::builder()
        .method("GET")
        .uri(format!("http://localhost{UNARY}"))
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let (status, headers, _, _) = exchange(&mut client, request, b"").await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "POST");
    assert_eq!(headers["grpc-status"], "13");
    assert_connection_still_serves(&mut client).await;
}

#[tokio::test]
async fn wrong_or_missing_content_type_gets_415() {
    let (server, _events, _) = start().await;
    let mut client = connect(&server).await;
    for content_type in [Some("application/json"), Some("text/plain"), Some("application/grpcx"), None] {
        let mut builder = http::Request::builder().method("POST").uri(format!("http://localhost{UNARY}"));
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        let (status, headers, _, _) =
            exchange(&mut client, builder.body(()).unwrap(), &raw::frame(&Msg::default())).await;
        assert_eq!(status, 415, "{content_type:?}");
        assert_eq!(headers["grpc-status"], "13");
    }
    assert_connection_still_serves(&mut client).await;
}

#[tokio::test]
async fn broken_message_framing_is_internal() {
    let (server, _events, _) = start().await;
    let mut client = connect(&server).await;
    let good = raw::frame(&Msg::text("x"));
    let mut two_messages = good.to_vec();
    two_messages.extend_from_slice(&good);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated prefix", vec![0, 0, 0], "ended inside a message"),
        ("truncated message", vec![0, 0, 0, 0, 10, 1, 2, 3], "ended inside a message"),
        ("compressed without grpc-encoding", [&[1u8][..], &good[1..]].concat(), "compressed flag"),
        ("invalid compressed flag", [&[2u8][..], &good[1..]].concat(), "compressed flag"),
        ("invalid protobuf", vec![0, 0, 0, 0, 3, 0xff, 0xff, 0xff], "decode"),
        ("no message", vec![], "without a request message"),
        ("two messages for unary", two_messages, "more than one request message"),
    ];
    for (name, body, expected) in cases {
        let (status, headers, _, trailers) = exchange(&mut client, raw::request(UNARY, &[]), &body).await;
        assert_eq!(status, 200, "{name}");
        let (code, message) = grpc_status(&headers, &trailers);
        assert_eq!(code, "13", "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
    }
    assert_connection_still_serves(&mut client).await;
}

#[tokio::test]
async fn oversized_message_prefix_is_refused_without_reading_it() {
    let (server, _events, _) = start().await;
    let mut client = connect(&server).await;
    // Announces 4 GiB - 1 but sends 5 bytes: refused from the prefix alone.
    let (_, headers, _, trailers) = exchange(&mut client, raw::request(UNARY, &[]), &[0, 0xff, 0xff, 0xff, 0xff]).await;
    assert_eq!(grpc_status(&headers, &trailers).0, "8");
    assert_connection_still_serves(&mut client).await;
}

#[tokio::test]
async fn unknown_paths_and_encodings_are_rejected_precisely() {
    let (server, _events, _) = start().await;
    let mut client = connect(&server).await;
    let body = raw::frame(&Msg::default());
    for (path, headers, code) in [
        ("/no-slash", vec![], "12"),
        ("/test.Echo", vec![], "12"),
        ("/test.Missing/Unary", vec![], "12"),
        ("/test.Echo/Missing", vec![], "12"),
        (UNARY, vec![("grpc-encoding", "snappy-9000")], "12"),
    ] {
        let (status, response_headers, _, trailers) = exchange(&mut client, raw::request(path, &headers), &body).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(grpc_status(&response_headers, &trailers).0, code, "{path} {headers:?}");
    }
    assert_connection_still_serves(&mut client).await;
}

#[tokio::test]
async fn bad_calls_do_not_disturb_a_call_in_flight_on_the_same_connection() {
    let (server, _events, _) = start().await;
    let mut client = connect(&server).await;
    // A server stream in flight...
    let request = Msg { count: 20, sleep_ms: 5, ..Msg::default() };
    let mut ready = client.clone().ready().await.unwrap();
    let (response, mut send) = ready.send_request(raw::request(SERVER_STREAM, &[]), false).unwrap();
    send.send_data(raw::frame(&request), true).unwrap();
    // ...while bad calls come and go.
    for _ in 0..10 {
        exchange(&mut client, raw::request(UNARY, &[]), &[0, 0, 0, 0, 10, 1]).await;
        exchange(&mut client, raw::request("/x", &[]), b"").await;
    }
    let (status, headers, body, trailers) = raw::read_response(response).await;
    assert_eq!(status, 200);
    assert_eq!(grpc_status(&headers, &trailers).0, "0");
    assert_eq!(body.len(), 20 * raw::frame(&Msg::text("10")).len() - 10, "all 20 messages arrived");
}
