//! What a call holds of its stream: the request body it reads and the
//! response it sends. Each handle reaches the connection's shared state by
//! the stream's id; the connection's task does the socket work.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode};

use super::error_code::ErrorCode;
use super::frame_writer;
use super::hpack::Encoder;
use super::state::{Shared, State, Stream};
use crate::status::Status;

/// The request body of one stream.
pub(crate) struct RequestBody {
    shared: Arc<Shared>,
    id: u32,
}

/// The response side of one stream.
pub(crate) struct ResponseStream {
    shared: Arc<Shared>,
    id: u32,
}

/// Makes the two handles of a stream just registered with
/// [`State::open_stream`].
pub(crate) fn stream_handles(shared: &Arc<Shared>, id: u32) -> (RequestBody, ResponseStream) {
    (RequestBody { shared: shared.clone(), id }, ResponseStream { shared: shared.clone(), id })
}

/// Keeps `waker` in `slot`, cloning it only when it changed.
pub(crate) fn register(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(kept) if kept.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// The stream behind a handle; it lives as long as any of its handles.
fn stream_of(state: &mut State, id: u32) -> Result<&mut Stream, Status> {
    state.streams.get_mut(&id).ok_or_else(|| Status::internal("HTTP/2 stream gone"))
}

impl RequestBody {
    /// The next chunk of the body; `None` once the peer ended it. The
    /// chunk's flow-control window goes back to the peer as it is taken, so
    /// a call that stops reading stops its sender.
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Status>>> {
        let mut state = self.shared.lock();
        let stream = match stream_of(&mut state, self.id) {
            Ok(stream) => stream,
            Err(status) => return Poll::Ready(Some(Err(status))),
        };
        if let Some(chunk) = stream.received.pop_front() {
            state.release_stream(self.id, chunk.len());
            return Poll::Ready(Some(Ok(chunk)));
        }
        if let Some(broken) = &stream.broken {
            return Poll::Ready(Some(Err(broken.status())));
        }
        if stream.remote_ended {
            return Poll::Ready(None);
        }
        register(&mut stream.reader, cx.waker());
        Poll::Pending
    }

    /// The trailers, after the body ended; `None` if it ended without.
    pub(crate) fn poll_trailers(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<HeaderMap>, Status>> {
        let mut state = self.shared.lock();
        let stream = stream_of(&mut state, self.id)?;
        if let Some(trailers) = stream.trailers.take() {
            return Poll::Ready(Ok(Some(trailers)));
        }
        if let Some(broken) = &stream.broken {
            return Poll::Ready(Err(broken.status()));
        }
        if stream.remote_ended {
            return Poll::Ready(Ok(None));
        }
        register(&mut stream.reader, cx.waker());
        Poll::Pending
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.drop_body(self.id);
        state.drop_handle(self.id);
    }
}

impl ResponseStream {
    /// Sends the response headers; with `end_stream` they are the whole
    /// response.
    pub(crate) fn send_headers(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        end_stream: bool,
    ) -> Result<(), Status> {
        let id = self.id;
        self.shared.lock().update(id, |state, id| {
            let stream = stream_of(state, id)?;
            if let Some(broken) = &stream.broken {
                return Err(broken.status());
            }
            if stream.headers_sent {
                return Err(Status::internal("response headers already sent"));
            }
            stream.headers_sent = true;
            stream.local_ended = end_stream;
            state.answered();
            send_header_block(state, id, end_stream, |encoder, block| encoder.encode_response(status, headers, block));
            Ok(())
        })
    }

    /// Sends all of `data` as DATA frames, as flow control and the
    /// connection's write queue allow; `data` shrinks as it goes, so the
    /// call can be repeated after `Pending`.
    pub(crate) fn poll_send(&mut self, cx: &mut Context<'_>, data: &mut Bytes) -> Poll<Result<(), Status>> {
        if data.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let id = self.id;
        let mut guard = self.shared.lock();
        let state = &mut *guard;
        let stream = stream_of(state, id)?;
        if let Some(broken) = &stream.broken {
            return Poll::Ready(Err(broken.status()));
        }
        if !stream.headers_sent || stream.local_ended {
            return Poll::Ready(Err(Status::internal("response data sent outside the response body")));
        }
        let window = stream.send_window.min(state.send_window);
        let room = state.write_room();
        if window > 0 && room > 0 {
            let len = usize::try_from(window).unwrap_or(usize::MAX).min(data.len()).min(room);
            // `len` fits: it is at most a window, itself at most 2^31 - 1.
            let taken = len as i64;
            stream_of(state, id)?.send_window -= taken;
            state.send_window -= taken;
            let mut left = len;
            while left > 0 {
                let frame_len = left.min(state.peer_max_frame_size);
                let payload = data.split_to(frame_len);
                state.out.append(|buf| frame_writer::write_data_header(buf, id, frame_len, false));
                state.out.append_payload(payload);
                left -= frame_len;
            }
            state.wake_driver();
            if data.is_empty() {
                return Poll::Ready(Ok(()));
            }
        }
        // Woken by a WINDOW_UPDATE for the stream, or (through `blocked`)
        // for the connection, or by the write queue draining.
        register(&mut stream_of(state, id)?.sender, cx.waker());
        if !state.blocked.contains(&id) {
            state.blocked.push(id);
        }
        Poll::Pending
    }

    /// Ends the response with trailers.
    pub(crate) fn send_trailers(&mut self, trailers: &HeaderMap) -> Result<(), Status> {
        let id = self.id;
        self.shared.lock().update(id, |state, id| {
            let stream = stream_of(state, id)?;
            if let Some(broken) = &stream.broken {
                return Err(broken.status());
            }
            if !stream.headers_sent || stream.local_ended {
                return Err(Status::internal("trailers sent outside the response body"));
            }
            stream.local_ended = true;
            send_header_block(state, id, true, |encoder, block| encoder.encode_trailers(trailers, block));
            Ok(())
        })
    }

    /// Resolves when the stream ends early: the peer reset it, or the
    /// connection is gone.
    pub(crate) fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Status> {
        let mut state = self.shared.lock();
        let stream = match stream_of(&mut state, self.id) {
            Ok(stream) => stream,
            Err(status) => return Poll::Ready(status),
        };
        if let Some(broken) = &stream.broken {
            return Poll::Ready(broken.status());
        }
        register(&mut stream.reset_watcher, cx.waker());
        Poll::Pending
    }

    /// Abandons the stream with RST_STREAM(`code`).
    pub(crate) fn reset(&mut self, code: ErrorCode) {
        self.shared.lock().reset_stream(self.id, code);
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        self.shared.lock().drop_handle(self.id);
    }
}

/// Encodes a header block with `encode` and queues it as HEADERS (and
/// CONTINUATION) frames on stream `id`.
pub(crate) fn send_header_block(
    state: &mut State,
    id: u32,
    end_stream: bool,
    encode: impl FnOnce(&mut Encoder, &mut BytesMut),
) {
    let State { encoder, scratch, out, peer_max_frame_size, .. } = state;
    scratch.clear();
    encode(encoder, scratch);
    out.append(|buf| frame_writer::write_headers(buf, id, scratch, end_stream, *peer_max_frame_size));
    state.wake_driver();
}
