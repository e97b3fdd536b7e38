//! The receiving half of a stream: DATA chunks, then optional trailers.

use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::HeaderMap;

use super::engine::RequestBody;
use super::{status_from_h2, StreamActivity};
use crate::status::Status;

/// Received body of one stream. Flow-control window is returned to the peer as
/// soon as a chunk is taken, and chunks are only taken when the reader asks
/// for the next message: a slow reader therefore stalls its writer.
pub(crate) struct RecvBody {
    source: Source,
    /// A client's response body keeps its call counted as active (see
    /// [`super::Keepalive`]) until dropped.
    _activity: Option<StreamActivity>,
}

/// Which HTTP/2 implementation the body comes from: h2 for the client's
/// responses, gust's engine for the server's requests.
enum Source {
    H2(h2::RecvStream),
    Engine(RequestBody),
}

impl RecvBody {
    pub(crate) fn new(stream: h2::RecvStream, activity: Option<StreamActivity>) -> RecvBody {
        RecvBody { source: Source::H2(stream), _activity: activity }
    }

    /// A request body the server's engine received.
    pub(crate) fn from_engine(body: RequestBody) -> RecvBody {
        RecvBody { source: Source::Engine(body), _activity: None }
    }

    /// The next chunk of the body; `None` once the peer ended it.
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Status>>> {
        let stream = match &mut self.source {
            Source::Engine(body) => return body.poll_chunk(cx),
            Source::H2(stream) => stream,
        };
        match ready!(stream.poll_data(cx)) {
            Some(Ok(chunk)) => {
                // Releasing fails only when the stream is already gone, which
                // the next poll reports.
                let _ = stream.flow_control().release_capacity(chunk.len());
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(status_from_h2(error)))),
            None => Poll::Ready(None),
        }
    }

    /// The trailers, after the body ended; `None` if the stream ended without.
    pub(crate) fn poll_trailers(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<HeaderMap>, Status>> {
        match &mut self.source {
            Source::H2(stream) => stream.poll_trailers(cx).map_err(status_from_h2),
            Source::Engine(body) => body.poll_trailers(cx),
        }
    }
}
