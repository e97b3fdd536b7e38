//! The inbound message stream of a call: requests on the server, responses
//! on the client.

use std::future::{poll_fn, Future as _};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use tokio::time::Sleep;

use crate::client::{check_head, ReceivedHead, RequestPump};
use crate::codec::{Encoding, FrameDecoder, Message};
use crate::metadata::Metadata;
use crate::protocol;
use crate::status::Status;
use crate::transport::{RecvBody, ResponseHead};

/// A stream of messages from the peer.
///
/// Read it with `while let Some(msg) = stream.message().await? { ... }`, or
/// as a `futures::Stream` of `Result<M, Status>`. Messages are pulled from the
/// network only as they are read, so a slow reader slows the sender.
///
/// On the client the stream ends with the server's status: `Ok(None)` after
/// an OK status (whose trailers are then in [`Streaming::trailers`]), an
/// error otherwise. Once it has returned `None` or an error, it returns
/// `None` forever.
pub struct Streaming<M> {
    /// On the client, the response headers still to come; the body follows.
    head: Option<ResponseHead>,
    body: Option<RecvBody>,
    decoder: FrameDecoder,
    /// The peer's `grpc-encoding`, for messages with the compressed flag.
    encoding: Option<Encoding>,
    /// Whether the last message read arrived compressed.
    last_compressed: bool,
    state: State,
    /// Set on the client: the response ends with trailers carrying a status.
    reads_trailers: bool,
    /// On the client, the response headers' metadata.
    metadata: Metadata,
    trailers: Option<Metadata>,
    /// The client's deadline for the whole call.
    deadline: Option<Pin<Box<Sleep>>>,
    /// On a client streaming call, the task sending the requests: it lives as
    /// long as this stream, and an error it hit locally (a request over the
    /// size limit) explains why the call failed better than the reset it caused.
    request_pump: Option<RequestPump>,
    _message: PhantomData<fn() -> M>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading body chunks.
    Body,
    /// The body ended; trailers come next (client only).
    Trailers,
    /// Ended, with a status or an error already reported.
    Done,
}

impl<M> Streaming<M> {
    /// The request stream of a server call.
    pub(crate) fn server(body: RecvBody, encoding: Option<Encoding>, max_message_size: usize) -> Streaming<M> {
        let mut streaming = Streaming::with_role(max_message_size, false);
        streaming.body = Some(body);
        streaming.encoding = encoding;
        streaming
    }

    /// The response stream of a client call, whose headers are still to come.
    /// The call is returned before they arrive, as a server may send them
    /// only with its first message, after it read the client's first request.
    pub(crate) fn client(
        head: ResponseHead,
        max_message_size: usize,
        deadline: Option<Pin<Box<Sleep>>>,
        request_pump: Option<RequestPump>,
    ) -> Streaming<M> {
        let mut streaming = Streaming::with_role(max_message_size, true);
        streaming.head = Some(head);
        streaming.deadline = deadline;
        streaming.request_pump = request_pump;
        streaming
    }

    /// The response stream of a client call whose headers arrived already.
    pub(crate) fn client_received(head: ReceivedHead, max_message_size: usize) -> Streaming<M> {
        let mut streaming = Streaming::with_role(max_message_size, true);
        streaming.set_head(head);
        streaming
    }

    fn with_role(max_message_size: usize, reads_trailers: bool) -> Streaming<M> {
        Streaming {
            head: None,
            body: None,
            decoder: FrameDecoder::new(max_message_size),
            encoding: None,
            last_compressed: false,
            state: State::Body,
            reads_trailers,
            metadata: Metadata::new(),
            trailers: None,
            deadline: None,
            request_pump: None,
            _message: PhantomData,
        }
    }

    /// Whether the last message read arrived compressed.
    pub fn last_message_compressed(&self) -> bool {
        self.last_compressed
    }

    /// On the client, the server's initial metadata (response headers), once
    /// they arrived: after the first message, or the end of the stream.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// On the client, the server's trailing metadata, once the stream ended
    /// with OK.
    pub fn trailers(&self) -> Option<&Metadata> {
        self.trailers.as_ref()
    }

    /// Moves out the initial and trailing metadata, once the stream ended.
    pub(crate) fn take_metadata(&mut self) -> (Metadata, Option<Metadata>) {
        (std::mem::take(&mut self.metadata), self.trailers.take())
    }

    fn fail(&mut self, status: Status) -> Poll<Result<Option<M>, Status>> {
        Poll::Ready(Err(self.failure(status)))
    }

    /// Ends the stream; the status to report (a local error explains more).
    fn failure(&mut self, status: Status) -> Status {
        self.state = State::Done;
        let local_error = self.request_pump.as_ref().and_then(RequestPump::error);
        local_error.unwrap_or(status)
    }

    /// On the client, waits for the response headers without reading a
    /// message, so that [`Streaming::metadata`] holds the server's initial
    /// metadata even before its first message. Fails as
    /// [`Streaming::message`] would (an error status, the deadline).
    pub async fn wait_for_metadata(&mut self) -> Result<(), Status> {
        poll_fn(|cx| self.poll_head(cx)).await
    }

    /// Checks the deadline, then receives the response headers if they are
    /// still to come.
    fn poll_head(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        if self.state == State::Done {
            return Poll::Ready(Ok(()));
        }
        if let Some(deadline) = &mut self.deadline {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(self.failure(Status::deadline_exceeded("deadline exceeded"))));
            }
        }
        if let Some(head) = &mut self.head {
            let received = ready!(head.poll_receive(cx))
                .map_err(|no_response| no_response.status)
                .and_then(|(head, body)| check_head(head, body));
            self.head = None;
            match received {
                Err(status) => return Poll::Ready(Err(self.failure(status))),
                Ok(received) => self.set_head(received),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Takes in the checked response headers.
    fn set_head(&mut self, ReceivedHead { metadata, body, encoding, trailers_only }: ReceivedHead) {
        self.metadata = metadata;
        self.encoding = encoding;
        self.body = Some(body);
        if let Some(trailers) = trailers_only {
            self.state = State::Done;
            self.trailers = Some(trailers);
        }
    }
}

impl<M: Message> Streaming<M> {
    /// The next message; `Ok(None)` at the end of the stream.
    pub async fn message(&mut self) -> Result<Option<M>, Status> {
        poll_fn(|cx| self.poll_message(cx)).await
    }

    /// Most reads find their message whole in the chunk in hand, and take
    /// it without a look at anything else. The deadline, in particular, is
    /// checked only before more is read from the network: like grpc-go,
    /// which reports a passed deadline once the messages it buffered are
    /// read, a reader may still get the rest of a chunk that arrived in time.
    #[inline]
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<M>, Status>> {
        if self.state == State::Body && self.head.is_none() {
            if let Some(message) = self.decoder.next_in_place() {
                self.last_compressed = false;
                return Poll::Ready(message.map(Some).map_err(|status| self.failure(status)));
            }
        }
        self.poll_message_from_network(cx)
    }

    /// [`Streaming::poll_message`] when no whole message is in hand: the
    /// headers, then chunks, then the trailers, as they come.
    #[inline(never)]
    fn poll_message_from_network(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<M>, Status>> {
        if self.state == State::Done {
            return Poll::Ready(Ok(None));
        }
        ready!(self.poll_head(cx))?;
        if self.state == State::Done {
            // A Trailers-Only response with OK: no messages.
            return Poll::Ready(Ok(None));
        }
        let Some(body) = self.body.as_mut() else {
            return self.fail(Status::internal("stream has no body"));
        };
        if self.state == State::Body {
            match ready!(poll_body_message(&mut self.decoder, body, self.encoding, cx)) {
                Err(status) => return self.fail(status),
                Ok(Some((message, compressed))) => {
                    self.last_compressed = compressed;
                    return Poll::Ready(Ok(Some(message)));
                }
                Ok(None) => self.state = if self.reads_trailers { State::Trailers } else { State::Done },
            }
        }
        if self.state == State::Done {
            return Poll::Ready(Ok(None));
        }
        match ready!(body.poll_trailers(cx)) {
            Err(status) => self.fail(status),
            Ok(None) => self.fail(Status::internal("response ended without trailers (no grpc-status)")),
            Ok(Some(trailers)) => match protocol::read_status(trailers) {
                Err(_) => self.fail(Status::internal("response trailers carry no grpc-status")),
                Ok(mut status) if status.is_ok() => {
                    self.state = State::Done;
                    self.trailers = Some(std::mem::take(status.metadata_mut()));
                    Poll::Ready(Ok(None))
                }
                Ok(status) => self.fail(status),
            },
        }
    }
}

/// The next message of `body`, read through `decoder`, and whether it came
/// compressed; `None` once the body ended (with no message cut short).
/// Chunks are taken only until a message is whole.
#[inline]
pub(crate) fn poll_body_message<M: Message>(
    decoder: &mut FrameDecoder,
    body: &mut RecvBody,
    encoding: Option<Encoding>,
    cx: &mut Context<'_>,
) -> Poll<Result<Option<(M, bool)>, Status>> {
    loop {
        if let Some(message) = decoder.next_message(encoding)? {
            return Poll::Ready(Ok(Some(message)));
        }
        match ready!(body.poll_chunk(cx)) {
            Some(chunk) => decoder.push(chunk?),
            None => return Poll::Ready(decoder.finish().map(|()| None)),
        }
    }
}

impl<M: Message> Stream for Streaming<M> {
    type Item = Result<M, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is Unpin, so the stream is too.
        self.get_mut().poll_message(cx).map(Result::transpose)
    }
}

impl<M> std::fmt::Debug for Streaming<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming").field("trailers", &self.trailers).finish_non_exhaustive()
    }
}
