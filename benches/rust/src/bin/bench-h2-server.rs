//! The HTTP/2 layer's limit: the raw h2 crate answering every POST with a
//! fixed gRPC response (headers, one framed message, trailers `grpc-status:
//! 0`), doing no gRPC work: no routing, no header checks, no decoding.
//!
//! `bench-h2-server [--addr 127.0.0.1:50053] [--workers 2] [--response-size 100]`
//!
//! It runs what any server on h2 must: the same HTTP/2 settings as gust's
//! defaults, the request body read to its end (releasing flow-control
//! window), responses sent within the peer's window. And it schedules its
//! work as gust's server does, the cheapest way known here: the streams
//! that arrived together are all accepted, then each is answered in the
//! connection's task, and only one that must wait moves to a task of its
//! own; the answers go out in one write. A POST to
//! `.../ServerStream` gets `count` messages of `size` bytes (read from the
//! request), packed into DATA frames of up to 16 KiB.

use std::future::{poll_fn, Future};
use std::task::{Context, Waker};

use bytes::Bytes;
use gust_benches::gust_pb::StreamRequest;
use h2::server::SendResponse;
use h2::RecvStream;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

fn main() -> std::io::Result<()> {
    gust_benches::serve_fixed_answer("h2", serve_connection)
}

async fn serve_connection(socket: tokio::net::TcpStream, response: Bytes) {
    // gust's default HTTP/2 settings, so both run the same flow control.
    let handshake = h2::server::Builder::new()
        .initial_window_size(1024 * 1024)
        .initial_connection_window_size(4 * 1024 * 1024)
        .max_frame_size(16 * 1024)
        .max_header_list_size(16 * 1024)
        .max_concurrent_streams(1024)
        .handshake(socket);
    let Ok(mut connection) = handshake.await else { return };
    let mut accepted = Vec::new();
    loop {
        tokio::select! {
            biased;
            next = connection.accept() => match next {
                Some(Ok(stream)) => accepted.push(stream),
                _ => break,
            },
            () = std::future::ready(()), if !accepted.is_empty() => {
                for (request, respond) in accepted.drain(..) {
                    let streaming = request.uri().path().ends_with("/ServerStream");
                    let mut answering = Box::pin(answer(request.into_body(), respond, response.clone(), streaming));
                    if answering.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending() {
                        tokio::spawn(async move {
                            let _ = answering.await;
                        });
                    }
                }
            }
        }
    }
}

/// Reads the request body to its end, then sends the fixed response (or,
/// for ServerStream, the stream of messages it asks for).
async fn answer(
    mut body: RecvStream,
    mut respond: SendResponse<Bytes>,
    response: Bytes,
    streaming: bool,
) -> Result<(), h2::Error> {
    let mut request = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if streaming {
            request.extend_from_slice(&chunk);
        }
    }
    let mut head = Response::new(());
    *head.status_mut() = StatusCode::OK;
    head.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    let mut send = respond.send_response(head, false)?;
    if streaming {
        let asked: StreamRequest = prost::Message::decode(request.get(5..).unwrap_or_default()).unwrap_or_default();
        // Messages go out packed into DATA frames of up to 16 KiB, as a
        // gRPC layer that batches what is ready would send them: the limit
        // of the transport, not of one frame per message.
        let message = gust_benches::framed(&gust_benches::payload_message(asked.size as usize));
        let per_batch = (16 * 1024 / message.len()).max(1);
        let batch = Bytes::from(message.repeat(per_batch));
        let mut left = asked.count as usize;
        while left > 0 {
            let messages = left.min(per_batch);
            send_all(&mut send, batch.slice(..messages * message.len())).await?;
            left -= messages;
        }
    } else {
        send_all(&mut send, response).await?;
    }
    let mut trailers = HeaderMap::new();
    trailers.insert(gust_benches::GRPC_STATUS, HeaderValue::from_static("0"));
    send.send_trailers(trailers)
}

/// Sends `data`, waiting for window as needed (as gust's transport does).
async fn send_all(send: &mut h2::SendStream<Bytes>, mut data: Bytes) -> Result<(), h2::Error> {
    while !data.is_empty() {
        send.reserve_capacity(data.len());
        let mut capacity = send.capacity();
        while capacity == 0 {
            match poll_fn(|cx| send.poll_capacity(cx)).await {
                Some(granted) => capacity = granted?,
                None => return Err(h2::Error::from(h2::Reason::CANCEL)),
            }
        }
        let chunk = data.split_to(capacity.min(data.len()));
        send.send_data(chunk, false)?;
    }
    Ok(())
}
