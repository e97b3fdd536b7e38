//! One server connection: its task reads and checks every frame, keeps the
//! streams' state, and writes what the streams queued.
//!
//! Polling [`Connection::poll_accept`] is what drives the connection, as
//! with h2: it reads and handles frames until a new stream arrives or the
//! socket has nothing more, and writes whatever is queued before it waits.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};

use super::error_code::ErrorCode;
use super::frame::{self, Frame};
use super::frame_error::FrameError;
use super::frame_header::RESERVED_BIT;
use super::frame_header::{check_len, FrameHeader, FRAME_HEADER_LEN};
use super::frame_writer;
use super::handles::{send_header_block, stream_handles, RequestBody, ResponseStream};
use super::hpack::{DecodeError, Decoder, Header};
use super::pinger::{Pinger, KEEPALIVE_PING};
use super::preface::PREFACE;
use super::request_head::{Rejected, RequestHead};
use super::settings::{SettingId, SettingsList};
use super::state::{LocalLimits, Shared, State, DEFAULT_WINDOW, MAX_WINDOW};
use crate::protocol;
use crate::status::Status;
use crate::transport::Http2Settings;

/// HPACK's default table size (RFC 9113 6.5.2), which this side keeps.
const HEADER_TABLE_SIZE: usize = 4096;

/// What a new connection's read buffer holds: a handshake and the first
/// requests. Capacity never written costs no memory, so an idle connection
/// pays for what it received, not for this.
const FIRST_READ: usize = 16 * 1024;

/// Room made in the read buffer when it runs low: a busy connection reads
/// up to this much per system call. With room for one frame at a time, a
/// 1 MiB request took 64 reads of 16 KiB.
const READ_ROOM: usize = 256 * 1024;

/// The payload of the PING a graceful shutdown sends between its two
/// GOAWAYs: its ACK means every stream the peer opened before the first
/// GOAWAY has arrived.
const SHUTDOWN_PING: [u8; 8] = *b"gust-bye";

/// The highest stream id; the first GOAWAY of a graceful shutdown names it.
const MAX_STREAM_ID: u32 = !RESERVED_BIT;

/// A stream the peer opened, with its request head.
pub(crate) struct Accepted {
    pub(crate) head: http::request::Parts,
    pub(crate) body: RequestBody,
    pub(crate) response: ResponseStream,
}

/// A connection error: this side sends GOAWAY with `code` and closes.
struct ConnectionError {
    code: ErrorCode,
    why: &'static str,
}

fn protocol_error(why: &'static str) -> ConnectionError {
    ConnectionError { code: ErrorCode::PROTOCOL_ERROR, why }
}

/// A header block whose CONTINUATION frames are still coming.
struct PartialBlock {
    stream_id: u32,
    end_stream: bool,
    fragments: BytesMut,
}

/// Where a graceful shutdown is.
#[derive(PartialEq, Eq)]
enum Shutdown {
    No,
    /// The first GOAWAY and its PING went out.
    Announced,
    /// The final GOAWAY went out, naming the last stream served.
    Final,
}

/// How the connection ends, once it does.
enum Ending {
    /// Done without error (graceful shutdown, or the peer went away).
    Done,
    /// Failed: reported once from `poll_accept`.
    Failed(Status),
    /// Reported; nothing left.
    Over,
}

/// The server side of one HTTP/2 connection.
pub(crate) struct Connection<IO> {
    io: IO,
    shared: Arc<Shared>,
    read_buf: BytesMut,
    /// Bytes the socket has not taken yet, moved out of the shared queue so
    /// that the socket is written without the lock held.
    writing: super::write_queue::WriteQueue,
    decoder: Decoder,
    settings: Http2Settings,
    accepted: VecDeque<Accepted>,
    /// The highest stream id the peer opened.
    last_stream: u32,
    partial: Option<PartialBlock>,
    /// The peer's first frame must be SETTINGS (RFC 9113 3.4).
    got_settings: bool,
    shutdown: Shutdown,
    /// The peer sent GOAWAY: it opens no more streams.
    peer_going_away: bool,
    /// Streams this side reset because the peer broke a rule.
    error_resets: usize,
    ending: Option<Ending>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Connection<IO> {
    /// Sends this side's SETTINGS and window, and reads the client's
    /// preface. The caller bounds it with the handshake timeout.
    pub(crate) async fn handshake(mut io: IO, settings: &Http2Settings) -> Result<Connection<IO>, Status> {
        // A peer may send 65,535 bytes per stream before it has our SETTINGS:
        // a smaller window would turn that into a flow-control error.
        let stream_window = settings.initial_stream_window.clamp(DEFAULT_WINDOW, MAX_WINDOW as u32);
        let mut hello = BytesMut::new();
        frame_writer::write_settings(
            &mut hello,
            &[
                (SettingId::EnablePush, 0),
                (SettingId::MaxConcurrentStreams, settings.max_concurrent_streams),
                (SettingId::InitialWindowSize, stream_window),
                (SettingId::MaxFrameSize, settings.max_frame_size),
                (SettingId::MaxHeaderListSize, settings.max_header_list_size),
            ],
        );
        let connection_window = settings.initial_connection_window.clamp(DEFAULT_WINDOW, MAX_WINDOW as u32);
        if connection_window > DEFAULT_WINDOW {
            frame_writer::write_window_update(&mut hello, 0, connection_window - DEFAULT_WINDOW);
        }
        io.write_all(&hello).await.map_err(lost)?;
        io.flush().await.map_err(lost)?;
        let mut read_buf = BytesMut::with_capacity(FIRST_READ);
        while read_buf.len() < PREFACE.len() {
            if !PREFACE.starts_with(&read_buf) {
                break;
            }
            let read = tokio::io::AsyncReadExt::read_buf(&mut io, &mut read_buf).await.map_err(lost)?;
            if read == 0 {
                return Err(Status::unavailable("connection closed before the HTTP/2 preface"));
            }
        }
        if !read_buf.starts_with(PREFACE) {
            return Err(Status::unavailable("not an HTTP/2 connection preface"));
        }
        read_buf.advance(PREFACE.len());
        let limits = LocalLimits { stream_window, connection_window, max_write_queue: settings.max_send_buffer_size };
        Ok(Connection {
            io,
            shared: Arc::new(Shared::new(State::new(limits))),
            read_buf,
            writing: Default::default(),
            decoder: Decoder::new(HEADER_TABLE_SIZE),
            settings: settings.clone(),
            accepted: VecDeque::new(),
            last_stream: 0,
            partial: None,
            got_settings: false,
            shutdown: Shutdown::No,
            peer_going_away: false,
            error_resets: 0,
            ending: None,
        })
    }

    /// The keepalive pinger of this connection.
    pub(crate) fn pinger(&self) -> Pinger {
        Pinger { shared: self.shared.clone() }
    }

    /// Starts a graceful shutdown: GOAWAY naming the highest stream id and
    /// a PING; when the PING's ACK comes, every stream the peer opened
    /// before it has arrived, and a second GOAWAY names the last one. The
    /// streams in flight finish; then the connection closes.
    pub(crate) fn graceful_shutdown(&mut self) {
        if self.shutdown != Shutdown::No {
            return;
        }
        self.shutdown = Shutdown::Announced;
        let mut state = self.shared.lock();
        state.out.append(|buf| {
            frame_writer::write_goaway(buf, MAX_STREAM_ID, ErrorCode::NO_ERROR, b"");
            frame_writer::write_ping(buf, false, SHUTDOWN_PING);
        });
        state.wake_driver();
    }

    /// The next stream the peer opened; `None` when the connection is over.
    pub(crate) fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Accepted, Status>>> {
        loop {
            if let Some(accepted) = self.accepted.pop_front() {
                return Poll::Ready(Some(Ok(accepted)));
            }
            if self.ending.is_some() {
                return self.poll_end(cx);
            }
            match self.next_frame() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => {
                    self.fail(error);
                    continue;
                }
            }
            if self.is_finished() {
                self.ending = Some(Ending::Done);
                continue;
            }
            if let Poll::Ready(Err(error)) = self.poll_write(cx) {
                self.lose(&error);
                continue;
            }
            // A peer that does not read what it asked for is not read from
            // either, so its requests (PINGs, SETTINGS) cannot pile up
            // answers. The socket's writability wakes this task.
            if self.shared.lock().write_room() == 0 {
                return Poll::Pending;
            }
            if self.read_buf.capacity() - self.read_buf.len() < FIRST_READ / 4 {
                self.read_buf.reserve(READ_ROOM);
            }
            match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf) {
                Poll::Ready(Ok(0)) => {
                    self.shared.lock().lose("the peer closed the connection");
                    self.ending = Some(Ending::Done);
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(error)) => self.lose(&error),
                Poll::Pending => {
                    // Registered under the lock that streams queue under: a
                    // stream that queues after this wakes the task.
                    let mut state = self.shared.lock();
                    if !state.out.is_empty() {
                        continue;
                    }
                    state.driver_woken = false;
                    if !state.driver.as_ref().is_some_and(|driver| driver.will_wake(cx.waker())) {
                        state.driver = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Writes what is queued, until done or the socket is full. Whatever
    /// the streams queued is taken first, so that when the socket is full
    /// nothing is left behind for this task to find on its way to sleep.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        loop {
            {
                let mut state = self.shared.lock();
                state.in_flight += state.out.len();
                self.writing.take_all(&mut state.out);
                state.driver_woken = false;
            }
            if self.writing.is_empty() {
                return Pin::new(&mut self.io).poll_flush(cx);
            }
            let written = {
                let mut slices = [IoSlice::new(&[]); 64];
                let count = self.writing.slices(&mut slices);
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]))?
            };
            if written == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.writing.consume(written);
            let mut state = self.shared.lock();
            state.in_flight -= written;
            // Room again: senders that waited for it go on.
            if !state.blocked.is_empty() && state.write_room() > 0 {
                state.wake_blocked();
            }
        }
    }

    /// Whether the connection has nothing left to do: shut down (or told by
    /// the peer it is going away) and every stream done.
    fn is_finished(&self) -> bool {
        (self.shutdown == Shutdown::Final || self.peer_going_away)
            && self.accepted.is_empty()
            && self.shared.lock().streams.is_empty()
    }

    /// Writes what is left (a GOAWAY, most likely), then reports the end.
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Accepted, Status>>> {
        if !matches!(self.ending, Some(Ending::Over)) {
            match self.poll_write(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(_) => {}
            }
            let _ = Pin::new(&mut self.io).poll_shutdown(cx);
        }
        match self.ending.replace(Ending::Over) {
            Some(Ending::Failed(status)) => Poll::Ready(Some(Err(status))),
            _ => Poll::Ready(None),
        }
    }

    /// The socket failed: every stream fails with it.
    fn lose(&mut self, error: &std::io::Error) {
        tracing::debug!(%error, "HTTP/2 connection lost");
        let mut state = self.shared.lock();
        state.lose("socket error");
        state.in_flight -= self.writing.len();
        drop(state);
        self.writing = Default::default();
        self.ending = Some(Ending::Failed(Status::unavailable(format!("connection lost: {error}"))));
    }

    /// The peer broke a rule of the connection: GOAWAY, then close.
    fn fail(&mut self, error: ConnectionError) {
        tracing::debug!(code = ?error.code, why = error.why, "HTTP/2 connection error");
        let mut state = self.shared.lock();
        let last = self.last_stream;
        state.out.append(|buf| frame_writer::write_goaway(buf, last, error.code, error.why.as_bytes()));
        state.lose(error.why);
        drop(state);
        let status = Status::internal(format!("HTTP/2 connection error {:?}: {}", error.code, error.why));
        self.ending = Some(Ending::Failed(status));
    }

    /// Handles the next whole frame in the read buffer; `false` if there is
    /// none yet.
    fn next_frame(&mut self) -> Result<bool, ConnectionError> {
        let Some(head) = self.read_buf.first_chunk::<FRAME_HEADER_LEN>() else { return Ok(false) };
        let header = FrameHeader::parse(head);
        check_len(&header, self.settings.max_frame_size as usize).map_err(connection_error)?;
        let frame_len = FRAME_HEADER_LEN + header.len;
        if self.read_buf.len() < frame_len {
            self.read_buf.reserve((frame_len - self.read_buf.len()).max(READ_ROOM));
            return Ok(false);
        }
        self.read_buf.advance(FRAME_HEADER_LEN);
        let payload = self.read_buf.split_to(header.len).freeze();
        match frame::decode(&header, payload) {
            Ok(frame) => self.handle(frame)?,
            Err(FrameError::Connection(code, why)) => return Err(ConnectionError { code, why }),
            Err(FrameError::Stream(id, code, why)) => {
                if self.partial.is_some() {
                    return Err(protocol_error("frame inside a header block"));
                }
                // RST_STREAM is not allowed on an idle stream (RFC 9113 6.4).
                if id > self.last_stream {
                    return Err(ConnectionError { code, why });
                }
                self.reset_for_error(id, code, why)?;
            }
        }
        Ok(true)
    }

    fn handle(&mut self, frame: Frame) -> Result<(), ConnectionError> {
        if !self.got_settings {
            if !matches!(frame, Frame::Settings { ack: false, .. }) {
                return Err(protocol_error("the first frame is not SETTINGS"));
            }
            self.got_settings = true;
        }
        if let Some(partial) = &self.partial {
            if !matches!(frame, Frame::Continuation { stream_id, .. } if stream_id == partial.stream_id) {
                return Err(protocol_error("frame inside a header block"));
            }
        }
        match frame {
            Frame::Data { stream_id, data, end_stream, flow_controlled_len } => {
                self.on_data(stream_id, data, end_stream, flow_controlled_len)
            }
            Frame::Headers { stream_id, block, end_stream, end_headers: true, .. } => {
                self.end_block(stream_id, end_stream, block)
            }
            Frame::Headers { stream_id, block, end_stream, end_headers: false, .. } => {
                self.partial = Some(PartialBlock { stream_id, end_stream, fragments: BytesMut::from(&block[..]) });
                Ok(())
            }
            Frame::Continuation { block, end_headers, .. } => {
                let Some(mut partial) = self.partial.take() else {
                    return Err(protocol_error("CONTINUATION without HEADERS"));
                };
                // A block is decoded only whole: bound what is kept of it
                // (a block that large decodes past the list limit anyway).
                if partial.fragments.len() + block.len() > 4 * self.settings.max_header_list_size as usize + 1024 {
                    return Err(ConnectionError { code: ErrorCode::ENHANCE_YOUR_CALM, why: "header block too large" });
                }
                partial.fragments.extend_from_slice(&block);
                if !end_headers {
                    self.partial = Some(partial);
                    return Ok(());
                }
                self.end_block(partial.stream_id, partial.end_stream, partial.fragments.freeze())
            }
            Frame::Priority { .. } | Frame::Unknown => Ok(()),
            Frame::RstStream { stream_id, code } => {
                if stream_id > self.last_stream {
                    return Err(protocol_error("RST_STREAM on an idle stream"));
                }
                let mut state = self.shared.lock();
                state.peer_reset(stream_id, code);
                if state.unanswered_resets > self.settings.max_pending_accept_reset_streams {
                    return Err(ConnectionError { code: ErrorCode::ENHANCE_YOUR_CALM, why: "too many streams reset" });
                }
                Ok(())
            }
            Frame::Settings { ack: true, .. } => Ok(()),
            Frame::Settings { ack: false, settings } => self.apply_settings(&settings),
            Frame::PushPromise { .. } => Err(protocol_error("PUSH_PROMISE from a client")),
            Frame::Ping { ack: false, payload } => {
                self.shared.lock().out.append(|buf| frame_writer::write_ping(buf, true, payload));
                Ok(())
            }
            Frame::Ping { ack: true, payload } => {
                if payload == SHUTDOWN_PING && self.shutdown == Shutdown::Announced {
                    self.shutdown = Shutdown::Final;
                    let last = self.last_stream;
                    let mut state = self.shared.lock();
                    state.closing = true;
                    state.out.append(|buf| frame_writer::write_goaway(buf, last, ErrorCode::NO_ERROR, b""));
                } else if payload == KEEPALIVE_PING {
                    let mut state = self.shared.lock();
                    state.pong = true;
                    if let Some(waiter) = state.pong_waiter.take() {
                        waiter.wake();
                    }
                }
                Ok(())
            }
            Frame::GoAway { code, .. } => {
                tracing::debug!(?code, "the peer sent GOAWAY");
                self.peer_going_away = true;
                self.shared.lock().closing = true;
                Ok(())
            }
            Frame::WindowUpdate { stream_id: 0, increment } => {
                let mut state = self.shared.lock();
                state.send_window += i64::from(increment);
                if state.send_window > MAX_WINDOW {
                    return Err(ConnectionError {
                        code: ErrorCode::FLOW_CONTROL_ERROR,
                        why: "connection window overflow",
                    });
                }
                state.wake_blocked();
                Ok(())
            }
            Frame::WindowUpdate { stream_id, increment } => {
                if stream_id > self.last_stream {
                    return Err(protocol_error("WINDOW_UPDATE on an idle stream"));
                }
                let mut state = self.shared.lock();
                let Some(stream) = state.streams.get_mut(&stream_id) else { return Ok(()) };
                stream.send_window += i64::from(increment);
                if stream.send_window > MAX_WINDOW {
                    drop(state);
                    return self.reset_for_error(stream_id, ErrorCode::FLOW_CONTROL_ERROR, "stream window overflow");
                }
                if let Some(sender) = stream.sender.take() {
                    sender.wake();
                }
                Ok(())
            }
        }
    }

    fn on_data(&mut self, id: u32, data: Bytes, end_stream: bool, flow_len: u32) -> Result<(), ConnectionError> {
        if id > self.last_stream {
            return Err(protocol_error("DATA on an idle stream"));
        }
        let mut state = self.shared.lock();
        state.recv_window -= i64::from(flow_len);
        if state.recv_window < 0 {
            return Err(ConnectionError { code: ErrorCode::FLOW_CONTROL_ERROR, why: "connection window exceeded" });
        }
        let flow_len = flow_len as usize;
        let Some(stream) = state.streams.get_mut(&id) else {
            // A stream already forgotten (this side reset it, or its call
            // ended): its data is dropped, its window given back.
            state.release_connection(flow_len);
            return Ok(());
        };
        if stream.broken.is_some() {
            state.release_connection(flow_len);
            return Ok(());
        }
        if stream.remote_ended {
            state.release_connection(flow_len);
            drop(state);
            return self.reset_for_error(id, ErrorCode::STREAM_CLOSED, "DATA after END_STREAM");
        }
        stream.recv_window -= flow_len as i64;
        if stream.recv_window < 0 {
            state.release_connection(flow_len);
            drop(state);
            return self.reset_for_error(id, ErrorCode::FLOW_CONTROL_ERROR, "stream window exceeded");
        }
        let padding = flow_len - data.len();
        state.update(id, |state, id| {
            let Some(stream) = state.streams.get_mut(&id) else { return };
            stream.remote_ended = end_stream;
            // Data for a call that dropped its body: nobody will read it, so
            // the connection's window goes back at once and other streams go
            // on; the stream's does not, so its sender stops once it is spent.
            let unread = if stream.body_dropped { data.len() } else { 0 };
            if !stream.body_dropped && !data.is_empty() {
                stream.received.push_back(data);
            }
            if let Some(reader) = stream.reader.take() {
                reader.wake();
            }
            state.release_connection(unread);
            // Padding is nobody's to read: its window goes back at once.
            state.release_stream(id, padding);
        });
        Ok(())
    }

    /// A whole header block arrived: a new request, or a request's trailers.
    fn end_block(&mut self, id: u32, end_stream: bool, block: Bytes) -> Result<(), ConnectionError> {
        if id & 1 == 0 {
            return Err(protocol_error("HEADERS on an even-numbered stream"));
        }
        if id <= self.last_stream {
            return self.end_trailers(id, end_stream, &block);
        }
        self.last_stream = id;
        let mut head = RequestHead::new(self.settings.max_header_list_size as usize);
        let valid = self.decode_block(&block, |field| head.push(field))?;
        if self.shutdown == Shutdown::Final {
            // Past the last stream the final GOAWAY named: the peer knows it
            // was not served, and may retry it elsewhere.
            return Ok(());
        }
        let mut state = self.shared.lock();
        if self.peer_going_away || state.open_streams >= self.settings.max_concurrent_streams as usize {
            state.out.append(|buf| frame_writer::write_rst_stream(buf, id, ErrorCode::REFUSED_STREAM));
            return Ok(());
        }
        let head = if valid { head.finish() } else { Err(Rejected::Malformed("a header field HTTP does not allow")) };
        match head {
            Ok(head) => {
                state.open_stream(id, end_stream);
                drop(state);
                let (body, response) = stream_handles(&self.shared, id);
                self.accepted.push_back(Accepted { head, body, response });
                Ok(())
            }
            Err(Rejected::TooLarge) => {
                // Answered as gRPC servers do, so the caller reads why.
                let mut headers = HeaderMap::new();
                headers.insert(protocol::CONTENT_TYPE, protocol::GRPC_CONTENT_TYPE);
                let status = Status::resource_exhausted("request header list larger than the server accepts");
                protocol::write_status(&status, &mut headers);
                send_header_block(&mut state, id, true, |encoder, block| {
                    encoder.encode_response(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, &headers, block);
                });
                if !end_stream {
                    state.out.append(|buf| frame_writer::write_rst_stream(buf, id, ErrorCode::NO_ERROR));
                }
                Ok(())
            }
            Err(Rejected::Malformed(why)) => {
                drop(state);
                self.reset_for_error(id, ErrorCode::PROTOCOL_ERROR, why)
            }
        }
    }

    /// A header block on a stream already opened: its trailers.
    fn end_trailers(&mut self, id: u32, end_stream: bool, block: &Bytes) -> Result<(), ConnectionError> {
        let mut trailers = HeaderMap::new();
        let mut size = 0;
        let mut fields_valid = true;
        let max_size = self.settings.max_header_list_size as usize;
        let decoded_valid = self.decode_block(block, |field| {
            size += field.size();
            match field {
                Header::Field { name, value } if size <= max_size => {
                    trailers.append(name, value);
                }
                _ => fields_valid = false,
            }
        })?;
        let mut state = self.shared.lock();
        let Some(stream) = state.streams.get_mut(&id) else {
            // Late trailers of a stream this side reset or forgot are
            // dropped (RFC 9113 5.1); a block that cannot be trailers, on a
            // stream that is closed, breaks the protocol.
            return if end_stream { Ok(()) } else { Err(protocol_error("HEADERS on a closed stream")) };
        };
        if stream.broken.is_some() {
            return Ok(());
        }
        if stream.remote_ended {
            drop(state);
            return self.reset_for_error(id, ErrorCode::STREAM_CLOSED, "HEADERS after END_STREAM");
        }
        if !end_stream || !fields_valid || !decoded_valid {
            drop(state);
            return self.reset_for_error(id, ErrorCode::PROTOCOL_ERROR, "malformed trailers");
        }
        state.update(id, |state, id| {
            let Some(stream) = state.streams.get_mut(&id) else { return };
            stream.trailers = Some(trailers);
            stream.remote_ended = true;
            if let Some(reader) = stream.reader.take() {
                reader.wake();
            }
        });
        Ok(())
    }

    /// Decodes a whole header block, handing its fields to `emit`. `false`
    /// when a field is one HTTP does not allow: the block decoded (the HPACK
    /// table is in step with the peer's) and only its stream is malformed.
    /// Any other decoding error ends the connection (RFC 9113 4.3).
    fn decode_block(&mut self, block: &Bytes, emit: impl FnMut(Header)) -> Result<bool, ConnectionError> {
        match self.decoder.decode(block, emit) {
            Ok(()) => Ok(true),
            Err(DecodeError::InvalidField) => Ok(false),
            Err(_) => Err(ConnectionError { code: ErrorCode::COMPRESSION_ERROR, why: "undecodable header block" }),
        }
    }

    /// Resets stream `id` because the peer broke a rule on it; a peer that
    /// keeps doing so loses its connection.
    fn reset_for_error(&mut self, id: u32, code: ErrorCode, why: &'static str) -> Result<(), ConnectionError> {
        tracing::debug!(stream = id, ?code, why, "HTTP/2 stream error");
        self.error_resets += 1;
        if self.error_resets > self.settings.max_local_error_reset_streams {
            return Err(ConnectionError { code: ErrorCode::ENHANCE_YOUR_CALM, why: "too many stream errors" });
        }
        let mut state = self.shared.lock();
        if state.streams.contains_key(&id) {
            state.reset_stream(id, code);
        } else {
            state.out.append(|buf| frame_writer::write_rst_stream(buf, id, code));
        }
        Ok(())
    }

    /// Applies the peer's SETTINGS and acknowledges them.
    fn apply_settings(&mut self, settings: &SettingsList) -> Result<(), ConnectionError> {
        let mut state = self.shared.lock();
        if let Some(size) = settings.header_table_size() {
            state.encoder.set_max_table_size(size as usize);
        }
        if let Some(size) = settings.max_frame_size() {
            state.peer_max_frame_size = size as usize;
        }
        if let Some(window) = settings.initial_window_size() {
            let delta = i64::from(window) - i64::from(state.peer_initial_window);
            state.peer_initial_window = window;
            for stream in state.streams.values_mut() {
                stream.send_window += delta;
                if stream.send_window > MAX_WINDOW {
                    return Err(ConnectionError { code: ErrorCode::FLOW_CONTROL_ERROR, why: "stream window overflow" });
                }
                if delta > 0 {
                    if let Some(sender) = stream.sender.take() {
                        sender.wake();
                    }
                }
            }
        }
        state.out.append(frame_writer::write_settings_ack);
        Ok(())
    }
}

impl<IO> Drop for Connection<IO> {
    fn drop(&mut self) {
        self.shared.lock().lose("connection closed");
    }
}

/// A frame error met where only a connection error makes sense (a frame
/// too large to read is never just one stream's problem).
fn connection_error(error: FrameError) -> ConnectionError {
    ConnectionError { code: error.code(), why: error.reason() }
}

fn lost(error: std::io::Error) -> Status {
    Status::unavailable(format!("connection lost: {error}"))
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use tokio::io::{duplex, AsyncWriteExt as _};

    use super::*;

    /// A response larger than the socket takes, to a peer that asks for
    /// more (a PING) and reads nothing: the connection's task must park
    /// until the socket drains, not go round its loop forever.
    #[tokio::test]
    async fn a_peer_that_stops_reading_parks_the_connection() {
        let (mut client, server) = duplex(4096);
        let mut hello = BytesMut::from(PREFACE);
        frame_writer::write_settings(&mut hello, &[(SettingId::InitialWindowSize, 1 << 30)]);
        frame_writer::write_window_update(&mut hello, 0, 1 << 30);
        // :method POST, :scheme http, :path /, all from HPACK's static table.
        frame_writer::write_headers(&mut hello, 1, &[0x83, 0x86, 0x84], false, 16_384);
        client.write_all(&hello).await.unwrap();

        let mut connection = Connection::handshake(server, &Http2Settings::default()).await.unwrap();
        let Some(Ok(Accepted { mut response, .. })) = poll_fn(|cx| connection.poll_accept(cx)).await else {
            panic!("no stream accepted");
        };
        response.send_headers(StatusCode::OK, &HeaderMap::new(), false).unwrap();
        let mut data = Bytes::from(vec![0; 1 << 20]);
        let sent = poll_fn(|cx| Poll::Ready(response.poll_send(cx, &mut data))).await;
        assert!(sent.is_pending(), "a megabyte was queued past the write queue's bound");

        let mut ping = BytesMut::new();
        frame_writer::write_ping(&mut ping, false, *b"are you?");
        client.write_all(&ping).await.unwrap();
        // Polled on a thread of its own, so that a task that never returns
        // fails the test instead of hanging it.
        let (done, polled) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let pending = connection.poll_accept(&mut Context::from_waker(std::task::Waker::noop())).is_pending();
            let _ = done.send(pending);
        });
        let pending = polled.recv_timeout(std::time::Duration::from_secs(10)).expect("the connection's task spun");
        assert!(pending);
        drop(response);
    }

    /// Data for a call that dropped its request body gives the connection's
    /// window back as it arrives, rather than when the call ends.
    #[tokio::test]
    async fn data_for_a_dropped_request_body_gives_its_window_back() {
        let (mut client, server) = duplex(1 << 20);
        let mut hello = BytesMut::from(PREFACE);
        frame_writer::write_settings(&mut hello, &[]);
        frame_writer::write_headers(&mut hello, 1, &[0x83, 0x86, 0x84], false, 16_384);
        client.write_all(&hello).await.unwrap();
        let mut connection = Connection::handshake(server, &Http2Settings::default()).await.unwrap();
        let Some(Ok(Accepted { body, response, .. })) = poll_fn(|cx| connection.poll_accept(cx)).await else {
            panic!("no stream accepted");
        };
        drop(body);

        let mut data = BytesMut::new();
        frame_writer::write_data_header(&mut data, 1, 10_000, false);
        data.extend_from_slice(&[7; 10_000]);
        client.write_all(&data).await.unwrap();
        let polled = poll_fn(|cx| Poll::Ready(connection.poll_accept(cx))).await;
        assert!(polled.is_pending());
        // Below the WINDOW_UPDATE threshold, so still counted as released.
        assert_eq!(connection.shared.lock().unreleased, 10_000);
        drop(response);
    }
}
