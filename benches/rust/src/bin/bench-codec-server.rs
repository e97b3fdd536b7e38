//! HTTP/2 without h2's connection machinery: the raw h2 server's
//! fixed answer, written on h2's frame codec (framing and HPACK, behind h2's
//! `unstable` feature) by one task per connection, without h2's connection
//! machinery: no stream store, no stream handles and the lock they share,
//! no per-stream frame queues.
//!
//! `bench-codec-server [--addr 127.0.0.1:50053] [--workers 2] [--response-size 100]`
//!
//! It answers every request stream, when its request has ended, with the
//! raw h2 server's response (headers, one framed message, trailers
//! `grpc-status: 0`), and does what any server must on the way: it checks
//! stream ids, counts flow control both ways (its own window is given back
//! as it is used; a response that the peer's windows cannot take yet waits
//! for a WINDOW_UPDATE), applies the peer's SETTINGS, answers PINGs, and
//! stops at GOAWAY. Its settings are gust's defaults. It still builds a
//! `HeaderMap` for every header block, as h2's codec requires. It was
//! written to show what a gRPC-specialised engine could save; gust's server
//! now runs on one (`crates/gust/src/transport/engine`), which also hands
//! request bodies to calls that wait and takes their responses back, so
//! this server is the reference for what HTTP/2 alone costs there, and
//! gust / codec is what gust's gRPC work costs on top. Only unary calls are
//! served this way (the scenario (a) load); it is not a gRPC server.

use std::collections::{HashSet, VecDeque};
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use futures_util::Stream as _;
use h2::frame::{Data, Frame, Headers, Ping, Pseudo, Settings, StreamId, WindowUpdate};
use h2::Codec;
use http::{HeaderMap, HeaderValue, StatusCode};
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;

/// The preface every HTTP/2 client sends first (RFC 9113, 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The window every stream and the connection start with (RFC 9113, 6.9.2).
const DEFAULT_WINDOW: u32 = 65_535;
/// gust's defaults: what each stream and the connection may receive.
const STREAM_WINDOW: u32 = 1024 * 1024;
const CONNECTION_WINDOW: u32 = 4 * 1024 * 1024;
const MAX_FRAME_SIZE: u32 = 16 * 1024;
const MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;
const MAX_CONCURRENT_STREAMS: u32 = 1024;

fn main() -> std::io::Result<()> {
    gust_benches::serve_fixed_answer("codec", |socket, response| async move {
        if let Ok(connection) = CodecConnection::handshake(socket, response).await {
            let _ = connection.serve().await;
        }
    })
}

/// Why a connection ends: its socket failed, or the peer broke the protocol.
type Broken = Box<dyn std::error::Error + Send + Sync>;

/// A frame the codec could not read (h2's error type is not a `std` error).
fn unreadable(error: impl std::fmt::Debug) -> Broken {
    format!("unreadable frame: {error:?}").into()
}

/// One connection, owned by its task.
struct CodecConnection {
    codec: Codec<TcpStream, Bytes>,
    response: Bytes,
    /// Streams whose request has not ended yet.
    open: HashSet<u32>,
    /// The highest stream id the peer opened: new ones must be above it.
    last_stream: u32,
    /// Streams whose request ended and whose response waits for window.
    waiting: VecDeque<u32>,
    /// What the peer lets this connection send, in all and on a new stream.
    send_window: i64,
    stream_send_window: i64,
    /// DATA received and not yet given back with a WINDOW_UPDATE.
    unreleased: u32,
    going_away: bool,
}

impl CodecConnection {
    /// Reads the client's preface and sends this server's settings and
    /// connection window.
    async fn handshake(mut socket: TcpStream, response: Bytes) -> Result<CodecConnection, Broken> {
        let mut preface = [0; PREFACE.len()];
        socket.read_exact(&mut preface).await?;
        if preface != PREFACE {
            return Err("not an HTTP/2 connection preface".into());
        }
        let mut connection = CodecConnection {
            codec: Codec::new(socket),
            response,
            open: HashSet::new(),
            last_stream: 0,
            waiting: VecDeque::new(),
            send_window: DEFAULT_WINDOW.into(),
            stream_send_window: DEFAULT_WINDOW.into(),
            unreleased: 0,
            going_away: false,
        };
        connection.codec.set_max_recv_header_list_size(MAX_HEADER_LIST_SIZE as usize);
        let mut settings = Settings::default();
        settings.set_initial_window_size(Some(STREAM_WINDOW));
        settings.set_max_frame_size(Some(MAX_FRAME_SIZE));
        settings.set_max_header_list_size(Some(MAX_HEADER_LIST_SIZE));
        settings.set_max_concurrent_streams(Some(MAX_CONCURRENT_STREAMS));
        connection.write(settings.into()).await?;
        connection.write(WindowUpdate::new(StreamId::zero(), CONNECTION_WINDOW - DEFAULT_WINDOW).into()).await?;
        Ok(connection)
    }

    /// Reads frames, handles every one already received, then writes what
    /// they produced in one flush; until the peer leaves.
    async fn serve(mut self) -> Result<(), Broken> {
        loop {
            poll_fn(|cx| self.codec.flush(cx)).await?;
            let Some(frame) = poll_fn(|cx| Pin::new(&mut self.codec).poll_next(cx)).await else {
                return Ok(());
            };
            self.handle(frame.map_err(unreadable)?).await?;
            while let Poll::Ready(Some(frame)) =
                poll_fn(|cx| Poll::Ready(Pin::new(&mut self.codec).poll_next(cx))).await
            {
                self.handle(frame.map_err(unreadable)?).await?;
            }
            if self.going_away && self.open.is_empty() && self.waiting.is_empty() {
                poll_fn(|cx| self.codec.flush(cx)).await?;
                return Ok(());
            }
        }
    }

    async fn handle(&mut self, frame: Frame) -> Result<(), Broken> {
        match frame {
            Frame::Headers(headers) => {
                let id = u32::from(headers.stream_id());
                if self.open.contains(&id) {
                    // Trailers of a request: it has ended.
                    if headers.is_end_stream() {
                        self.open.remove(&id);
                        self.answer(id).await?;
                    }
                    return Ok(());
                }
                if id <= self.last_stream || id % 2 == 0 {
                    return Err(format!("stream {id} opened out of order").into());
                }
                self.last_stream = id;
                if self.open.len() >= MAX_CONCURRENT_STREAMS as usize {
                    return Err("too many concurrent streams".into());
                }
                if headers.is_end_stream() {
                    self.answer(id).await?;
                } else {
                    self.open.insert(id);
                }
            }
            Frame::Data(data) => {
                let id = u32::from(data.stream_id());
                self.release(data.payload().len()).await?;
                if data.is_end_stream() && self.open.remove(&id) {
                    self.answer(id).await?;
                }
            }
            Frame::Settings(settings) => {
                if !settings.is_ack() {
                    if let Some(window) = settings.initial_window_size() {
                        self.stream_send_window = window.into();
                    }
                    if let Some(size) = settings.max_frame_size() {
                        self.codec.set_max_send_frame_size(size as usize);
                    }
                    if let Some(size) = settings.header_table_size() {
                        self.codec.set_send_header_table_size(size as usize);
                    }
                    self.write(Settings::ack().into()).await?;
                }
            }
            Frame::Ping(ping) => {
                if !ping.is_ack() {
                    self.write(Ping::pong(ping.into_payload()).into()).await?;
                }
            }
            Frame::WindowUpdate(update) => {
                if update.stream_id().is_zero() {
                    self.send_window += i64::from(update.size_increment());
                    while let Some(&id) = self.waiting.front() {
                        if !self.send_response(id).await? {
                            break;
                        }
                        self.waiting.pop_front();
                    }
                }
            }
            Frame::Reset(reset) => {
                let id = u32::from(reset.stream_id());
                self.open.remove(&id);
                self.waiting.retain(|&waiting| waiting != id);
            }
            Frame::GoAway(_) => self.going_away = true,
            Frame::PushPromise(_) => return Err("a client pushed a stream".into()),
            Frame::Priority(_) => {}
        }
        Ok(())
    }

    /// Answers stream `id` now, or once the connection window allows.
    async fn answer(&mut self, id: u32) -> Result<(), Broken> {
        if !self.waiting.is_empty() || !self.send_response(id).await? {
            self.waiting.push_back(id);
        }
        Ok(())
    }

    /// Writes the response of stream `id` if the windows take its message
    /// (it fits in one DATA frame); returns whether it did.
    async fn send_response(&mut self, id: u32) -> Result<bool, Broken> {
        let length = self.response.len() as i64;
        if length > self.send_window {
            return Ok(false);
        }
        if length > self.stream_send_window || self.response.len() > self.codec.max_send_frame_size() {
            return Err("the peer's settings cannot take the fixed response".into());
        }
        self.send_window -= length;
        let mut head = HeaderMap::new();
        head.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        self.write(Headers::new(id.into(), Pseudo::response(StatusCode::OK), head).into()).await?;
        self.write(Data::new(id.into(), self.response.clone()).into()).await?;
        let mut trailers = HeaderMap::new();
        trailers.insert(gust_benches::GRPC_STATUS, HeaderValue::from_static("0"));
        let mut trailers = Headers::trailers(id.into(), trailers);
        trailers.set_end_stream();
        self.write(trailers.into()).await?;
        Ok(true)
    }

    /// Counts received DATA against this server's connection window, and
    /// gives it back once half of it is used. A stream's own window is never
    /// used up: a unary request is far smaller.
    async fn release(&mut self, length: usize) -> Result<(), Broken> {
        self.unreleased += length as u32;
        if self.unreleased >= CONNECTION_WINDOW / 2 {
            let increment = std::mem::take(&mut self.unreleased);
            self.write(WindowUpdate::new(StreamId::zero(), increment).into()).await?;
        }
        Ok(())
    }

    /// Buffers `frame`, flushing first if the codec's buffer is full.
    async fn write(&mut self, frame: Frame<Bytes>) -> Result<(), Broken> {
        poll_fn(|cx| self.codec.poll_ready(cx)).await?;
        self.codec.buffer(frame).map_err(|error| format!("cannot send a frame: {error:?}").into())
    }
}
