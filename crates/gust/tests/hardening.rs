//! Abusive peers: each test attacks a running server while a well-behaved
//! client keeps calling it; the good calls must succeed, the server must stay
//! up and its buffered state bounded. Attackers use h2's client where it can
//! express the attack, hand-made frames (support::frames) where h2 refuses.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use gust::{Channel, Http2Settings, Request, Server};
use support::frames::{self, RawConnection};
use support::*;
use tokio::sync::mpsc;

/// Guards against a hang: every awaited event here comes in milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.expect("the awaited event did not happen")
}

async fn start_with(settings: Http2Settings) -> (Running, mpsc::UnboundedReceiver<Event>, Echo) {
    let (echo, events) = Echo::new();
    let running = serve(Server::builder().add_service(echo.clone()).http2_settings(settings), "127.0.0.1:0").await;
    (running, events, echo)
}

/// The well-behaved client: `count` calls, every one must succeed.
async fn good_calls(channel: &Channel, count: usize) {
    for index in 0..count {
        let text = format!("good {index}");
        let reply = within(channel.unary::<Msg, Msg>(UNARY, Request::new(Msg::text(&text)))).await;
        assert_eq!(reply.expect("a good call fails during the attack").text, text);
    }
}

/// Whether a handler ran (the unary handler reports its deadline first).
fn handler_ran(events: &mut mpsc::UnboundedReceiver<Event>) -> bool {
    std::iter::from_fn(|| events.try_recv().ok()).any(|event| matches!(event, Event::TimeRemaining(_)))
}

/// HEADERS of a request to `path` on `stream`, split over CONTINUATION
/// frames when longer than the default frame size.
fn headers_frames(stream: u32, block: &[u8], end_stream: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let chunks: Vec<&[u8]> = block.chunks(16 * 1024).collect();
    for (index, chunk) in chunks.iter().enumerate() {
        let kind = if index == 0 { frames::HEADERS } else { frames::CONTINUATION };
        let mut flags = if index + 1 == chunks.len() { frames::END_HEADERS } else { 0 };
        if index == 0 && end_stream {
            flags |= frames::END_STREAM;
        }
        out.extend(frames::frame(kind, flags, stream, chunk));
    }
    out
}

#[tokio::test]
async fn rapid_reset_does_not_disturb_other_clients() {
    let (server, _events, _) = start_with(Http2Settings::default()).await;
    let attack = tokio::spawn({
        let addr = server.addr;
        async move {
            let socket = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut client, connection) = h2::client::handshake(socket).await.unwrap();
            tokio::spawn(connection);
            for sent in 0..5_000 {
                let Ok(ready) = client.ready().await else { return sent };
                client = ready;
                let Ok((_response, mut stream)) = client.send_request(raw::request(UNARY, &[]), false) else {
                    return sent;
                };
                stream.send_reset(h2::Reason::CANCEL);
            }
            5_000
        }
    });
    good_calls(&server.channel(), 50).await;
    let sent = within(attack).await.unwrap();
    // Either outcome is allowed: the h2 client waits for each stream to
    // be ready, so the calls it resets may be answered before their reset
    // arrives, and the count of unanswered resets may never reach its limit.
    println!("rapid reset: {sent} of 5000 streams opened and reset before the connection ended");
    good_calls(&server.channel(), 1).await;
}

#[tokio::test]
async fn streams_reset_before_their_answer_in_a_flood_cost_the_connection() {
    let (server, mut events, _) = start_with(Http2Settings::default()).await;
    let mut attacker = RawConnection::handshake(server.addr, &[]).await;
    // Client-streaming calls wait for their requests, so none is answered
    // before its reset.
    let block = frames::request_block(CLIENT_STREAM);
    let mut flood = Vec::new();
    for stream in (1..=201).step_by(2) {
        flood.extend(headers_frames(stream, &block, false));
        flood.extend(frames::frame(frames::RST_STREAM, 0, stream, &frames::CANCEL.to_be_bytes()));
    }
    attacker.send(&flood).await;
    let goaway = within(attacker.until_closed(true)).await.expect("no GOAWAY");
    assert_eq!(goaway.error_code(), frames::ENHANCE_YOUR_CALM);
    while events.try_recv().is_ok() {}
    good_calls(&server.channel(), 10).await;
}

#[tokio::test]
async fn a_header_field_http_forbids_resets_only_its_stream() {
    let (server, mut events, _) = start_with(Http2Settings::default()).await;
    let mut attacker = RawConnection::handshake(server.addr, &[]).await;
    let mut block = frames::request_block(UNARY);
    frames::hpack_literal("X-Upper-Case", b"not allowed in HTTP/2", false, &mut block);
    attacker.send(&headers_frames(1, &block, true)).await;
    let reset = within(attacker.expect(|frame| matches!(frame.kind, frames::RST_STREAM | frames::GOAWAY))).await;
    assert_eq!((reset.kind, reset.stream, reset.error_code()), (frames::RST_STREAM, 1, frames::PROTOCOL_ERROR));
    assert!(!handler_ran(&mut events));
    within(attacker.ping()).await;
}

#[tokio::test]
async fn streams_beyond_the_limit_are_refused_and_the_connection_survives() {
    let settings = Http2Settings { max_concurrent_streams: 4, ..Http2Settings::default() };
    let (server, _events, _) = start_with(settings).await;
    let mut attacker = RawConnection::handshake(server.addr, &[]).await;
    let block = frames::request_block(CLIENT_STREAM);
    for stream in (1..=15).step_by(2) {
        attacker.send(&headers_frames(stream, &block, false)).await;
    }
    for _ in 0..4 {
        let refused = within(attacker.expect(|frame| frame.kind == frames::RST_STREAM)).await;
        assert!(refused.stream >= 9, "stream {} within the limit was reset", refused.stream);
        assert_eq!(refused.error_code(), frames::REFUSED_STREAM);
    }
    within(attacker.ping()).await;
    good_calls(&server.channel(), 10).await;
}

/// Sends a request with `block` as its header block and waits for the
/// server's answer to it: an error, never a call.
async fn send_bad_headers(block: Vec<u8>) {
    let (server, mut events, _) = start_with(Http2Settings::default()).await;
    let mut attacker = RawConnection::handshake(server.addr, &[]).await;
    attacker.send(&headers_frames(1, &block, true)).await;
    let answer = within(attacker.expect(|frame| {
        matches!(frame.kind, frames::HEADERS | frames::RST_STREAM | frames::GOAWAY) && frame.stream <= 1
    }))
    .await;
    // A served request would have run the handler before its response.
    assert!(!handler_ran(&mut events), "the request was served: {answer:?}");
    good_calls(&server.channel(), 10).await;
}

#[tokio::test]
async fn an_oversized_header_list_gets_an_error() {
    let mut block = frames::request_block(UNARY);
    frames::hpack_literal("x-big", &vec![b'a'; 64 * 1024], false, &mut block);
    send_bad_headers(block).await;
}

#[tokio::test]
async fn an_hpack_amplified_header_list_gets_an_error() {
    // One 4000-byte entry in the dynamic table, then 16000 one-byte
    // references to it: 16 KiB on the wire, 64 MB decoded.
    let mut block = frames::request_block(UNARY);
    frames::hpack_literal("x-amp", &vec![b'a'; 4000], true, &mut block);
    for _ in 0..16_000 {
        frames::hpack_indexed(62, &mut block);
    }
    send_bad_headers(block).await;
    assert!(resident_bytes() < 1 << 30, "server memory grew with the decoded size");
}

/// This process's resident memory (the server runs in it).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[tokio::test]
async fn a_client_that_never_reads_pins_bounded_memory() {
    const REPLY: usize = 16 * 1024;
    const REPLIES: u32 = 10_000; // 160 MiB if the server buffered it all
    let (server, _events, echo) = start_with(Http2Settings::default()).await;
    // Windows as large as HTTP/2 allows: only the server's own send buffer
    // and the socket stand between the handler and memory.
    let mut attacker =
        RawConnection::handshake(server.addr, &[(frames::SETTINGS_INITIAL_WINDOW_SIZE, 0x7fff_ffff)]).await;
    attacker.send(&frames::frame(frames::WINDOW_UPDATE, 0, 0, &(0x7fff_ffffu32 - 65_535).to_be_bytes())).await;
    attacker.send(&headers_frames(1, &frames::request_block(SERVER_STREAM), false)).await;
    let request = Msg { count: REPLIES, payload: vec![7; REPLY], ..Msg::default() };
    for chunk in frames::grpc_message(&request).chunks(16 * 1024) {
        attacker.send(&frames::frame(frames::DATA, 0, 1, chunk)).await;
    }
    attacker.send(&frames::frame(frames::DATA, frames::END_STREAM, 1, &[])).await;
    // From here on the attacker reads nothing.
    let channel = server.channel();
    while echo.sent.load(Ordering::SeqCst) == 0 {
        good_calls(&channel, 1).await;
    }
    good_calls(&channel, 50).await;
    let sent = echo.sent.load(Ordering::SeqCst);
    assert!(sent * REPLY < 48 << 20, "{sent} replies of {REPLY} bytes went out to a client that reads nothing");
    drop(attacker);
}

#[tokio::test]
async fn floods_of_ping_settings_and_empty_data_are_absorbed() {
    let (server, _events, _) = start_with(Http2Settings::default()).await;
    let channel = server.channel();
    let open_stream = headers_frames(1, &frames::request_block(CLIENT_STREAM), false);
    let floods = [
        ("PING", Vec::new(), frames::frame(frames::PING, 0, 0, b"floodpin")),
        ("SETTINGS", Vec::new(), frames::frame(frames::SETTINGS, 0, 0, &[])),
        ("empty DATA", open_stream, frames::frame(frames::DATA, 0, 1, &[])),
    ];
    for (kind, prelude, frame) in floods {
        let mut attacker = RawConnection::handshake(server.addr, &[]).await;
        attacker.send(&prelude).await;
        let sent = attacker.socket.try_write(&frame.repeat(10_000));
        good_calls(&channel, 5).await;
        let outcome = within(absorbed_or_closed(&mut attacker)).await;
        println!("{kind} flood: wrote {sent:?} bytes; {outcome}");
    }
}

/// After a flood: either the connection still answers a PING after
/// everything before it, or the server closed it (a flooding peer may lose
/// its connection; only it).
async fn absorbed_or_closed(attacker: &mut RawConnection) -> String {
    use tokio::io::AsyncWriteExt;
    let _ = attacker.socket.write_all(&frames::frame(frames::PING, 0, 0, b"gustping")).await;
    let mut goaway = None;
    while let Some(frame) = attacker.read_frame().await {
        match frame.kind {
            frames::PING if frame.flags & frames::ACK != 0 && frame.payload == b"gustping" => {
                return "the connection lives".to_owned();
            }
            frames::GOAWAY => goaway = Some(frame.error_code()),
            _ => {}
        }
    }
    format!("closed by the server, GOAWAY error code {goaway:?}")
}

#[tokio::test]
async fn invalid_frames_end_only_the_offending_connection() {
    let (server, _events, _) = start_with(Http2Settings::default()).await;
    let channel = server.channel();
    let cases: [(&str, Vec<u8>, u32); 5] = [
        ("garbage after the preface", b"this is not an HTTP/2 frame at all".to_vec(), frames::FRAME_SIZE_ERROR),
        // RFC 9113 section 6.5.
        ("SETTINGS of a bad length", frames::frame(frames::SETTINGS, 0, 0, &[0; 5]), frames::FRAME_SIZE_ERROR),
        ("a frame longer than allowed", frames::frame(frames::DATA, 0, 1, &vec![0; 1 << 20]), frames::FRAME_SIZE_ERROR),
        ("DATA on stream 0", frames::frame(frames::DATA, 0, 0, b"data"), frames::PROTOCOL_ERROR),
        ("HEADERS on an even stream", headers_frames(2, &frames::request_block(UNARY), true), frames::PROTOCOL_ERROR),
    ];
    for (case, bytes, error) in cases {
        let mut attacker = RawConnection::handshake(server.addr, &[]).await;
        attacker.send(&bytes).await;
        let goaway = within(attacker.until_closed(true)).await.unwrap_or_else(|| panic!("{case}: no GOAWAY"));
        assert_eq!(goaway.error_code(), error, "{case}");
        good_calls(&channel, 3).await;
    }
}
