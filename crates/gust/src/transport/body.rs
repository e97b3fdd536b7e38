//! The receiving half of a stream: DATA chunks, then optional trailers.

use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::HeaderMap;

use super::{status_from_h2, StreamActivity};
use crate::status::Status;

/// Received body of one stream. Flow-control window is returned to the peer as
/// soon as a chunk is taken, and chunks are only taken when the reader asks
/// for the next message: a slow reader therefore stalls its writer.
pub(crate) struct RecvBody {
    stream: h2::RecvStream,
    /// A client's response body keeps its call counted as active (see
    /// [`super::Keepalive`]) until dropped.
    _activity: Option<StreamActivity>,
}

impl RecvBody {
    pub(crate) fn new(stream: h2::RecvStream, activity: Option<StreamActivity>) -> RecvBody {
        RecvBody { stream, _activity: activity }
    }

    /// The next chunk of the body; `None` once the peer ended it.
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Status>>> {
        match ready!(self.stream.poll_data(cx)) {
            Some(Ok(chunk)) => {
                // Releasing fails only when the stream is already gone, which
                // the next poll reports.
                let _ = self.stream.flow_control().release_capacity(chunk.len());
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(status_from_h2(error)))),
            None => Poll::Ready(None),
        }
    }

    /// The trailers, after the body ended; `None` if the stream ended without.
    pub(crate) fn poll_trailers(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<HeaderMap>, Status>> {
        self.stream.poll_trailers(cx).map_err(status_from_h2)
    }
}
