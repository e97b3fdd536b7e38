//! The sending half of a stream, with flow control respected: data is handed
//! to HTTP/2 only as the peer's window allows, so nothing buffers without bound.

use std::task::{ready, Context, Poll};

use bytes::Bytes;

use super::error::{status_from_h2, status_from_reset};
use crate::codec::EncodedFrame;
use crate::status::Status;

/// Sending half of one stream.
pub(crate) struct SendBody {
    stream: h2::SendStream<Bytes>,
}

impl SendBody {
    pub(crate) fn new(stream: h2::SendStream<Bytes>) -> SendBody {
        SendBody { stream }
    }

    /// Sends all of `data`, waiting for window as needed; with `end_of_stream`
    /// the last DATA frame ends the stream. `data` shrinks as it is sent, so
    /// the call can be repeated after `Pending`.
    pub(crate) fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        data: &mut Bytes,
        end_of_stream: bool,
    ) -> Poll<Result<(), Status>> {
        loop {
            if data.is_empty() {
                if end_of_stream {
                    self.stream.send_data(Bytes::new(), true).map_err(status_from_h2)?;
                }
                return Poll::Ready(Ok(()));
            }
            self.stream.reserve_capacity(data.len());
            let capacity = self.stream.capacity();
            if capacity == 0 {
                match ready!(self.stream.poll_capacity(cx)) {
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Poll::Ready(Err(status_from_h2(error))),
                    None => return Poll::Ready(Err(self.closed_status(cx))),
                }
            }
            let chunk = data.split_to(capacity.min(data.len()));
            let last = data.is_empty();
            self.stream.send_data(chunk, last && end_of_stream).map_err(status_from_h2)?;
            if last {
                return Poll::Ready(Ok(()));
            }
        }
    }

    /// Sends all of `data`; with `end_of_stream` it ends the stream.
    pub(crate) async fn send(&mut self, mut data: Bytes, end_of_stream: bool) -> Result<(), Status> {
        std::future::poll_fn(|cx| self.poll_send(cx, &mut data, end_of_stream)).await
    }

    /// Sends an encoded message, piece by piece; with `end_of_stream` its
    /// last piece ends the stream.
    pub(crate) async fn send_frame(&mut self, frame: EncodedFrame, end_of_stream: bool) -> Result<(), Status> {
        let EncodedFrame { first, rest } = frame;
        // Most frames are one piece; this path keeps the loop's state out
        // of a unary call's future.
        if rest.is_empty() {
            return self.send(first, end_of_stream).await;
        }
        let last = rest.len();
        for (index, piece) in std::iter::once(first).chain(rest).enumerate() {
            self.send(piece, end_of_stream && index == last).await?;
        }
        Ok(())
    }

    /// Resolves when the peer resets the stream (or the connection fails).
    pub(crate) fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Status> {
        self.stream.poll_reset(cx).map(|reset| match reset {
            Ok(reason) => status_from_reset(reason),
            Err(error) => status_from_h2(error),
        })
    }

    /// Abandons the stream with RST_STREAM.
    pub(crate) fn reset(&mut self, reason: h2::Reason) {
        self.stream.send_reset(reason);
    }

    /// Why sending is no longer possible.
    fn closed_status(&mut self, cx: &mut Context<'_>) -> Status {
        match self.poll_reset(cx) {
            Poll::Ready(status) => status,
            Poll::Pending => Status::internal("stream closed for sending"),
        }
    }
}
