//! Hand-made gRPC requests, for tests that speak HTTP/2 directly.

use bytes::Bytes;

/// A gRPC POST request for `path` with extra headers.
pub fn request(path: &str, headers: &[(&str, &str)]) -> http::Request<()> {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(format!("http://localhost{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap()
}

/// `message` with its 5-byte prefix.
pub fn frame(message: &impl prost::Message) -> Bytes {
    let body = message.encode_to_vec();
    let mut framed = vec![0];
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(&body);
    Bytes::from(framed)
}

/// Reads a whole response: status, headers, body bytes and trailers.
pub async fn read_response(
    response: h2::client::ResponseFuture,
) -> (http::StatusCode, http::HeaderMap, Vec<u8>, Option<http::HeaderMap>) {
    let response = response.await.unwrap();
    let (head, mut body) = response.into_parts();
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        body.flow_control().release_capacity(chunk.len()).unwrap();
        data.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await.unwrap();
    (head.status, head.headers, data, trailers)
}
