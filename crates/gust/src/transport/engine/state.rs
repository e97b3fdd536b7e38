//! The state of one connection that its task and its streams' handles
//! share: the streams, both directions of flow control, and the bytes
//! waiting for the socket.
//!
//! One lock guards all of it. It is never held across an await, and the
//! work under it is short and constant (a map lookup, a few counters, a
//! frame appended to a buffer). Calls that answer in their first poll run
//! in the connection's task, so for them the lock is never contended.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use super::error_code::ErrorCode;
use super::frame_writer;
use super::hpack::Encoder;
use super::settings::{MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE};
use super::stream_id_hasher::StreamIdHasher;
use super::write_queue::WriteQueue;
use crate::status::Status;

/// The largest flow-control window HTTP/2 allows (RFC 9113, 6.9.1), as the
/// signed windows here count (they may go below zero after a SETTINGS).
pub(crate) const MAX_WINDOW: i64 = MAX_WINDOW_SIZE as i64;

/// The window every stream and the connection start with (RFC 9113, 6.9.2).
pub(crate) const DEFAULT_WINDOW: u32 = 65_535;

/// The state behind one connection's lock.
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(state: State) -> Shared {
        Shared { state: Mutex::new(state) }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What this side allows the peer (our SETTINGS), fixed for a connection.
#[derive(Clone, Copy, Default)]
pub(crate) struct LocalLimits {
    /// Each stream's receive window, as advertised.
    pub(crate) stream_window: u32,
    /// The connection's receive window, as advertised.
    pub(crate) connection_window: u32,
    /// Bytes queued for the socket past which senders wait and the
    /// connection stops reading (a peer that does not read its socket
    /// cannot make this side buffer without bound).
    pub(crate) max_write_queue: usize,
}

/// How a stream, or every stream of a connection, ended early.
#[derive(Clone, Debug)]
pub(crate) enum Broken {
    /// The peer reset the stream with this code.
    ResetByPeer(ErrorCode),
    /// This side reset it (the call was abandoned, or the peer broke a rule).
    ResetHere,
    /// The connection is gone.
    ConnectionLost(&'static str),
}

impl Broken {
    /// The status a call sees for it.
    pub(crate) fn status(&self) -> Status {
        match self {
            Broken::ResetByPeer(code) => crate::transport::error::status_from_reset(h2::Reason::from(code.0)),
            Broken::ResetHere => Status::cancelled("stream reset"),
            Broken::ConnectionLost(why) => Status::unavailable(format!("connection lost: {why}")),
        }
    }
}

/// One stream, as both its handles and the connection see it.
#[derive(Default)]
pub(crate) struct Stream {
    /// Request data the call has not taken yet.
    pub(crate) received: VecDeque<Bytes>,
    /// The peer ended its side (END_STREAM).
    pub(crate) remote_ended: bool,
    /// The request's trailers, if it ended with some.
    pub(crate) trailers: Option<HeaderMap>,
    /// How much more the peer may send on this stream.
    pub(crate) recv_window: i64,
    /// Data the call took whose window has not been given back yet.
    pub(crate) unreleased: u32,
    /// The call waiting for request data.
    pub(crate) reader: Option<Waker>,
    /// How much more this side may send on this stream.
    pub(crate) send_window: i64,
    /// The call waiting for send window or queue room.
    pub(crate) sender: Option<Waker>,
    /// The call watching for a reset.
    pub(crate) reset_watcher: Option<Waker>,
    /// Response headers went out.
    pub(crate) headers_sent: bool,
    /// This side ended its half (END_STREAM or RST_STREAM sent).
    pub(crate) local_ended: bool,
    /// Set when the stream ended early; every later operation fails with it.
    pub(crate) broken: Option<Broken>,
    /// Live handles (request body, response): the stream is forgotten when
    /// both are gone.
    pub(crate) handles: u8,
    /// The call let go of the request body: data that still arrives is
    /// dropped and its window given back to the connection at once.
    pub(crate) body_dropped: bool,
}

impl Stream {
    /// Whether the stream counts toward SETTINGS_MAX_CONCURRENT_STREAMS.
    pub(crate) fn is_open(&self) -> bool {
        !(self.local_ended && self.remote_ended) && self.broken.is_none()
    }

    fn wake_all(&mut self) {
        for waker in [self.reader.take(), self.sender.take(), self.reset_watcher.take()].into_iter().flatten() {
            waker.wake();
        }
    }

    /// Drops the data the call never read; returns its length, whose
    /// window the caller gives back to the connection.
    fn discard_received(&mut self) -> usize {
        self.received.drain(..).map(|chunk| chunk.len()).sum()
    }
}

/// The connection's state.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) streams: HashMap<u32, Stream, BuildHasherDefault<StreamIdHasher>>,
    /// Streams that count toward the concurrency limit.
    pub(crate) open_streams: usize,
    pub(crate) out: WriteQueue,
    /// Bytes the connection's task took from `out` that the socket has not
    /// taken yet: they count toward the write queue's bound too.
    pub(crate) in_flight: usize,
    /// The connection's task, to wake when there is something to write.
    pub(crate) driver: Option<Waker>,
    /// Whether `driver` was woken since it last looked at `out`: many
    /// streams writing in a row wake it once.
    pub(crate) driver_woken: bool,
    /// How much more this side may send on the connection.
    pub(crate) send_window: i64,
    /// Streams waiting for the connection's window or for queue room.
    pub(crate) blocked: Vec<u32>,
    /// The peer's SETTINGS_INITIAL_WINDOW_SIZE.
    pub(crate) peer_initial_window: u32,
    /// The peer's SETTINGS_MAX_FRAME_SIZE: the largest frame this side may send.
    pub(crate) peer_max_frame_size: usize,
    /// How much more the peer may send on the connection.
    pub(crate) recv_window: i64,
    /// Connection window taken by data and not given back yet.
    pub(crate) unreleased: u32,
    pub(crate) limits: LocalLimits,
    /// Encodes response heads and trailers, in the order they go out: its
    /// dynamic table is the peer's decoder's.
    pub(crate) encoder: Encoder,
    /// A header block being encoded, before it is cut into frames.
    pub(crate) scratch: BytesMut,
    /// Set when the connection ended: every stream's operations fail with it.
    pub(crate) lost: Option<&'static str>,
    /// Streams the peer reset before their response started, less those
    /// answered since: what a rapid-reset attack (CVE-2023-44487) drives up
    /// and a client cancelling now and then does not.
    pub(crate) unanswered_resets: usize,
    /// The connection is shutting down, or the peer is going away: it
    /// closes when its last stream is forgotten, so that wakes its task.
    pub(crate) closing: bool,
    /// Keepalive: the ACK came.
    pub(crate) pong: bool,
    /// Keepalive: who waits for the ACK.
    pub(crate) pong_waiter: Option<Waker>,
}

impl State {
    pub(crate) fn new(limits: LocalLimits) -> State {
        State {
            send_window: i64::from(DEFAULT_WINDOW),
            peer_initial_window: DEFAULT_WINDOW,
            // Until the peer says otherwise, the smallest size allowed.
            peer_max_frame_size: MIN_MAX_FRAME_SIZE as usize,
            recv_window: i64::from(limits.connection_window),
            limits,
            ..State::default()
        }
    }

    /// Wakes the connection's task to write what was queued.
    pub(crate) fn wake_driver(&mut self) {
        if !self.driver_woken {
            self.driver_woken = true;
            if let Some(driver) = &self.driver {
                driver.wake_by_ref();
            }
        }
    }

    /// Registers a new stream the peer opened; its two handles are made by
    /// the caller.
    pub(crate) fn open_stream(&mut self, id: u32, remote_ended: bool) {
        let stream = Stream {
            remote_ended,
            recv_window: i64::from(self.limits.stream_window),
            send_window: i64::from(self.peer_initial_window),
            handles: 2,
            ..Stream::default()
        };
        self.streams.insert(id, stream);
        self.open_streams += 1;
    }

    /// Recomputes whether `id` still counts as open, after a change to it.
    fn settle(&mut self, id: u32, was_open: bool) {
        let Some(stream) = self.streams.get(&id) else { return };
        if was_open && !stream.is_open() {
            self.open_streams = self.open_streams.saturating_sub(1);
        }
    }

    /// Applies `change` to stream `id`, keeping the count of open streams.
    pub(crate) fn update<R>(&mut self, id: u32, change: impl FnOnce(&mut State, u32) -> R) -> R {
        let was_open = self.streams.get(&id).is_some_and(Stream::is_open);
        let result = change(self, id);
        self.settle(id, was_open);
        result
    }

    /// Resets stream `id` from this side with `code`, unless it ended already.
    pub(crate) fn reset_stream(&mut self, id: u32, code: ErrorCode) {
        self.update(id, |state, id| {
            let Some(stream) = state.streams.get_mut(&id) else { return };
            if stream.broken.is_some() || (stream.local_ended && stream.remote_ended) {
                return;
            }
            stream.broken = Some(Broken::ResetHere);
            stream.local_ended = true;
            let unread = stream.discard_received();
            stream.wake_all();
            state.out.append(|buf| frame_writer::write_rst_stream(buf, id, code));
            state.release_connection(unread);
            state.wake_driver();
        });
    }

    /// The peer reset stream `id`.
    pub(crate) fn peer_reset(&mut self, id: u32, code: ErrorCode) {
        self.update(id, |state, id| {
            let Some(stream) = state.streams.get_mut(&id) else { return };
            let mut unanswered = false;
            if stream.broken.is_none() {
                stream.broken = Some(Broken::ResetByPeer(code));
                unanswered = !stream.headers_sent;
            }
            let unread = stream.discard_received();
            stream.wake_all();
            if unanswered {
                state.unanswered_resets += 1;
            }
            state.release_connection(unread);
        });
    }

    /// A response started: the call was answered, which pays back one
    /// reset in the rapid-reset count.
    pub(crate) fn answered(&mut self) {
        self.unanswered_resets = self.unanswered_resets.saturating_sub(1);
    }

    /// The call let go of stream `id`'s request body: what it did not read,
    /// and what still comes, gives its window back to the connection.
    pub(crate) fn drop_body(&mut self, id: u32) {
        let Some(stream) = self.streams.get_mut(&id) else { return };
        stream.body_dropped = true;
        let unread = stream.discard_received();
        self.release_connection(unread);
    }

    /// Fails every stream: the connection is gone.
    pub(crate) fn lose(&mut self, why: &'static str) {
        self.lost.get_or_insert(why);
        for stream in self.streams.values_mut() {
            if stream.broken.is_none() && !(stream.local_ended && stream.remote_ended) {
                stream.broken = Some(Broken::ConnectionLost(why));
            }
            stream.wake_all();
        }
        self.open_streams = 0;
        if let Some(waiter) = self.pong_waiter.take() {
            waiter.wake();
        }
    }

    /// A handle of stream `id` is gone. With the last one the stream is
    /// forgotten: a response never finished is reset (CANCEL), and a
    /// request the peer is still sending after a complete response is told
    /// to stop (NO_ERROR), as RFC 9113 8.1 allows. Data the call never read
    /// gives its window back to the connection.
    pub(crate) fn drop_handle(&mut self, id: u32) {
        let Some(stream) = self.streams.get_mut(&id) else { return };
        stream.handles -= 1;
        if stream.handles > 0 {
            return;
        }
        if stream.broken.is_none() && !(stream.local_ended && stream.remote_ended) {
            let code = if stream.local_ended { ErrorCode::NO_ERROR } else { ErrorCode::CANCEL };
            self.reset_stream(id, code);
        }
        if let Some(mut stream) = self.streams.remove(&id) {
            if stream.is_open() {
                self.open_streams = self.open_streams.saturating_sub(1);
            }
            let unread = stream.discard_received();
            self.release_connection(unread);
        }
        if self.closing && self.streams.is_empty() {
            self.wake_driver();
        }
    }

    /// Gives `len` bytes of the connection's receive window back: a
    /// WINDOW_UPDATE once half the window is used, so the peer never stalls
    /// and small reads do not each cost a frame.
    pub(crate) fn release_connection(&mut self, len: usize) {
        if len == 0 {
            return;
        }
        self.unreleased += u32::try_from(len).unwrap_or(u32::MAX);
        if self.unreleased >= self.limits.connection_window / 2 {
            let increment = std::mem::take(&mut self.unreleased);
            self.recv_window += i64::from(increment);
            self.out.append(|buf| frame_writer::write_window_update(buf, 0, increment));
            self.wake_driver();
        }
    }

    /// The call of stream `id` took `len` bytes of its data: their window
    /// goes back to the connection, and to the stream while the peer may
    /// still send on it.
    pub(crate) fn release_stream(&mut self, id: u32, len: usize) {
        self.release_connection(len);
        let half_window = self.limits.stream_window / 2;
        let Some(stream) = self.streams.get_mut(&id) else { return };
        if stream.remote_ended || stream.broken.is_some() {
            return;
        }
        stream.unreleased += u32::try_from(len).unwrap_or(u32::MAX);
        if stream.unreleased >= half_window {
            let increment = std::mem::take(&mut stream.unreleased);
            stream.recv_window += i64::from(increment);
            self.out.append(|buf| frame_writer::write_window_update(buf, id, increment));
            self.wake_driver();
        }
    }

    /// Wakes the streams waiting for connection window or queue room.
    pub(crate) fn wake_blocked(&mut self) {
        for id in std::mem::take(&mut self.blocked) {
            if let Some(waker) = self.streams.get_mut(&id).and_then(|stream| stream.sender.take()) {
                waker.wake();
            }
        }
    }

    /// How many more bytes may be queued for the socket; senders wait at 0.
    pub(crate) fn write_room(&self) -> usize {
        self.limits.max_write_queue.saturating_sub(self.out.len() + self.in_flight)
    }
}
