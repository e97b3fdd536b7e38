//! The calls of one plaintext HTTP/2 connection, written straight on h2's
//! frame codec.
//!
//! A load generator shares the machine with the server it measures: on two
//! cores, every microsecond it spends on a call is taken from the server, so
//! a costly generator reports less than the server can do. gust's client
//! pays h2's whole connection machinery per call (a lock shared by every
//! stream handle, a stream store, a task per call), about four times what
//! h2load spends. Here h2 keeps what it does well, framing and HPACK
//! (`h2::Codec`, behind h2's `unstable` feature), and the rest is the little
//! a load generator needs: one task owns the connection, its calls live in
//! one map, and every frame written between two reads leaves in one flush.

use std::collections::{BTreeMap, VecDeque};
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::{BufMut as _, Bytes, BytesMut};
use futures_core::Stream as _;
use h2::frame::{Data, Frame, Headers, Ping, Pseudo, Reset, Settings, StreamId, WindowUpdate};
use h2::{Codec, Reason};
use http::{HeaderMap, HeaderValue, Method, Uri};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use super::{Budget, Recorder};
use gust::{Code, Status};

/// The connection preface every HTTP/2 client sends first (RFC 9113, 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The largest flow-control window HTTP/2 allows: the server may send this
/// much on each stream, and on the connection before our next WINDOW_UPDATE.
const MAX_WINDOW: u32 = (1 << 31) - 1;

/// The window every stream and the connection start with (RFC 9113, 6.9.2).
const DEFAULT_WINDOW: u32 = 65_535;

/// The request every call of a run sends.
pub(super) struct CallPlan {
    /// `http://authority/package.Service/Method`: h2 takes `:scheme`,
    /// `:authority` and `:path` from it.
    uri: Uri,
    headers: HeaderMap,
    /// The request message with its 5-byte gRPC prefix.
    body: Bytes,
    timeout: Option<Duration>,
}

impl CallPlan {
    pub(super) fn new(
        target: &Uri,
        method: &str,
        message: &[u8],
        timeout: Option<Duration>,
    ) -> anyhow::Result<CallPlan> {
        let authority = target.authority().context("the target has no host")?.clone();
        let uri = Uri::builder()
            .scheme("http")
            .authority(authority)
            .path_and_query(method)
            .build()
            .with_context(|| format!("{method:?} is not a method path"))?;
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(concat!("gust-bench/", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(timeout) = timeout {
            let value = HeaderValue::try_from(gust::client::grpc_timeout_value(timeout))?;
            headers.insert("grpc-timeout", value);
        }
        let length = u32::try_from(message.len()).context("the request is too large for gRPC framing")?;
        let mut body = BytesMut::with_capacity(5 + message.len());
        body.put_u8(0);
        body.put_u32(length);
        body.put_slice(message);
        Ok(CallPlan { uri, headers, body: body.freeze(), timeout })
    }

    /// The address to connect to: the target's host and port (80 without one).
    pub(super) fn address(&self) -> String {
        let authority = self.uri.authority().expect("built with an authority");
        format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(80))
    }
}

/// A call in flight.
struct Call {
    started: Instant,
    /// The part of the request body not sent yet (waiting for window).
    unsent: Bytes,
    /// What the server lets this stream send.
    send_window: i64,
    /// The response's HEADERS arrived; the next HEADERS are its trailers.
    answered: bool,
}

/// One connection and the calls it carries.
pub(super) struct LoadConnection {
    codec: Codec<TcpStream, Bytes>,
    plan: Arc<CallPlan>,
    /// Calls this connection keeps in flight.
    slots: usize,
    next_stream: u32,
    /// Calls in flight by stream id: ids grow with time, so the first entry
    /// is the oldest call and has the nearest deadline.
    calls: BTreeMap<u32, Call>,
    /// Streams whose request body waits for flow-control window, in order.
    blocked: VecDeque<u32>,
    /// What the server lets the connection send.
    send_window: i64,
    /// The server's SETTINGS_INITIAL_WINDOW_SIZE: each new stream's window.
    stream_window: i64,
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS.
    max_streams: usize,
    /// DATA received and not yet given back with a WINDOW_UPDATE.
    unreleased: u32,
    /// A GOAWAY came, or stream ids ran out: open no more streams.
    closing: bool,
}

impl LoadConnection {
    /// Connects, sends the preface and our settings: no server push, and
    /// the largest windows, so that responses never wait for a WINDOW_UPDATE.
    pub(super) async fn connect(plan: Arc<CallPlan>, slots: usize) -> anyhow::Result<LoadConnection> {
        let address = plan.address();
        let mut socket = TcpStream::connect(&address).await.with_context(|| format!("cannot connect to {address}"))?;
        socket.set_nodelay(true)?;
        socket.write_all(PREFACE).await?;
        let mut connection = LoadConnection {
            codec: Codec::new(socket),
            plan,
            slots,
            next_stream: 1,
            calls: BTreeMap::new(),
            blocked: VecDeque::new(),
            send_window: DEFAULT_WINDOW.into(),
            stream_window: DEFAULT_WINDOW.into(),
            max_streams: usize::MAX,
            unreleased: 0,
            closing: false,
        };
        let mut settings = Settings::default();
        settings.set_enable_push(false);
        settings.set_initial_window_size(Some(MAX_WINDOW));
        connection.write(settings.into()).await?;
        connection.write(WindowUpdate::new(StreamId::zero(), MAX_WINDOW - DEFAULT_WINDOW).into()).await?;
        Ok(connection)
    }

    /// Makes calls while `budget` allows, then waits for the last ones. A
    /// connection error ends every call in flight as UNAVAILABLE.
    pub(super) async fn run(mut self, budget: &Budget, recorder: &mut Recorder) {
        if let Err(error) = self.make_calls(budget, recorder).await {
            let status = Status::unavailable(format!("connection lost: {error:#}"));
            for call in std::mem::take(&mut self.calls).into_values() {
                recorder.record(call.started.elapsed(), Err(status.clone()));
            }
        }
    }

    async fn make_calls(&mut self, budget: &Budget, recorder: &mut Recorder) -> anyhow::Result<()> {
        loop {
            while !self.closing && self.calls.len() < self.slots.min(self.max_streams) && budget.take() {
                self.open().await?;
            }
            self.send_blocked().await?;
            if self.calls.is_empty() {
                return Ok(());
            }
            poll_fn(|cx| self.codec.flush(cx)).await?;
            let frame = match self.nearest_deadline() {
                Some(deadline) => tokio::select! {
                    frame = self.next_frame() => Some(frame),
                    () = tokio::time::sleep_until(deadline.into()) => None,
                },
                None => Some(self.next_frame().await),
            };
            match frame {
                Some(frame) => self.handle(frame?, recorder).await?,
                None => self.expire_oldest(recorder).await?,
            }
            // Everything already received is handled before writing again.
            while let Poll::Ready(frame) = poll_fn(|cx| Poll::Ready(self.poll_frame(cx))).await {
                self.handle(frame?, recorder).await?;
            }
        }
    }

    fn poll_frame(&mut self, cx: &mut std::task::Context<'_>) -> Poll<anyhow::Result<Frame>> {
        Pin::new(&mut self.codec).poll_next(cx).map(|frame| match frame {
            Some(frame) => frame.map_err(|error| anyhow::anyhow!("{error}")),
            None => Err(anyhow::anyhow!("the server closed the connection")),
        })
    }

    async fn next_frame(&mut self) -> anyhow::Result<Frame> {
        poll_fn(|cx| self.poll_frame(cx)).await
    }

    /// Buffers `frame`, flushing first if the codec's buffer is full.
    async fn write(&mut self, frame: Frame<Bytes>) -> anyhow::Result<()> {
        poll_fn(|cx| self.codec.poll_ready(cx)).await?;
        self.codec.buffer(frame).map_err(|error| anyhow::anyhow!("cannot send a frame: {error:?}"))
    }

    /// Starts a call: its HEADERS, and as much of its body as the windows allow.
    async fn open(&mut self) -> anyhow::Result<()> {
        let id = self.next_stream;
        match id.checked_add(2) {
            Some(next) if next <= MAX_WINDOW => self.next_stream = next,
            _ => self.closing = true,
        }
        let pseudo = Pseudo::request(Method::POST, self.plan.uri.clone(), None);
        self.write(Headers::new(id.into(), pseudo, self.plan.headers.clone()).into()).await?;
        let call = Call {
            started: Instant::now(),
            unsent: self.plan.body.clone(),
            send_window: self.stream_window,
            answered: false,
        };
        self.calls.insert(id, call);
        self.blocked.push_back(id);
        Ok(())
    }

    /// Sends request bodies in order, as far as the windows let them.
    async fn send_blocked(&mut self) -> anyhow::Result<()> {
        while let Some(&id) = self.blocked.front() {
            let max_frame = self.codec.max_send_frame_size() as i64;
            let Some(call) = self.calls.get_mut(&id) else {
                self.blocked.pop_front();
                continue;
            };
            let window = self.send_window.min(call.send_window).min(max_frame);
            let length = (call.unsent.len() as i64).min(window).max(0) as usize;
            if length == 0 {
                return Ok(());
            }
            let mut data = Data::new(id.into(), call.unsent.split_to(length));
            let done = call.unsent.is_empty();
            data.set_end_stream(done);
            call.send_window -= length as i64;
            self.send_window -= length as i64;
            if done {
                self.blocked.pop_front();
            }
            self.write(data.into()).await?;
        }
        Ok(())
    }

    fn nearest_deadline(&self) -> Option<Instant> {
        let timeout = self.plan.timeout?;
        self.calls.first_key_value().map(|(_, call)| call.started + timeout)
    }

    /// Ends the oldest call, whose deadline passed, and resets its stream.
    async fn expire_oldest(&mut self, recorder: &mut Recorder) -> anyhow::Result<()> {
        if let Some((id, call)) = self.calls.pop_first() {
            recorder.record(call.started.elapsed(), Err(Status::deadline_exceeded("deadline exceeded")));
            self.write(Reset::new(id.into(), Reason::CANCEL).into()).await?;
        }
        Ok(())
    }

    async fn handle(&mut self, frame: Frame, recorder: &mut Recorder) -> anyhow::Result<()> {
        match frame {
            Frame::Headers(headers) => self.receive_headers(headers, recorder).await?,
            Frame::Data(data) => {
                let id = u32::from(data.stream_id());
                let ended = data.is_end_stream();
                self.release(data.payload().len()).await?;
                if ended {
                    self.finish(id, Err(Status::internal("the response ended without trailers")), recorder);
                }
            }
            Frame::Settings(settings) => {
                if !settings.is_ack() {
                    self.apply(&settings);
                    self.write(Settings::ack().into()).await?;
                }
            }
            Frame::Ping(ping) => {
                if !ping.is_ack() {
                    self.write(Ping::pong(ping.into_payload()).into()).await?;
                }
            }
            Frame::WindowUpdate(update) => {
                let increment = i64::from(update.size_increment());
                match u32::from(update.stream_id()) {
                    0 => self.send_window += increment,
                    id => {
                        if let Some(call) = self.calls.get_mut(&id) {
                            call.send_window += increment;
                        }
                    }
                }
            }
            Frame::Reset(reset) => {
                let status =
                    Status::new(Code::from_h2_reason(reset.reason()), format!("stream reset: {:?}", reset.reason()));
                self.finish(reset.stream_id().into(), Err(status), recorder);
            }
            Frame::GoAway(go_away) => {
                self.closing = true;
                let last = u32::from(go_away.last_stream_id());
                let unprocessed: Vec<u32> = self.calls.range(last + 1..).map(|(&id, _)| id).collect();
                for id in unprocessed {
                    let status = Status::unavailable(format!("the server is going away ({:?})", go_away.reason()));
                    self.finish(id, Err(status), recorder);
                }
            }
            Frame::PushPromise(_) => anyhow::bail!("the server pushed a stream, though push was disabled"),
            Frame::Priority(_) => {}
        }
        Ok(())
    }

    /// The response's HEADERS, or its trailers: a call ends on trailers, on
    /// a Trailers-Only response, or on an HTTP status other than 200.
    async fn receive_headers(&mut self, headers: Headers, recorder: &mut Recorder) -> anyhow::Result<()> {
        let id = u32::from(headers.stream_id());
        let ended = headers.is_end_stream();
        let Some(call) = self.calls.get_mut(&id) else { return Ok(()) };
        let (pseudo, fields) = headers.into_parts();
        if !call.answered {
            call.answered = true;
            let status = pseudo.status.map_or(0, |status| status.as_u16());
            if status != 200 {
                let code = Code::from_http_status(status);
                self.finish(id, Err(Status::new(code, format!("HTTP status {status}"))), recorder);
                if !ended {
                    self.write(Reset::new(id.into(), Reason::CANCEL).into()).await?;
                }
                return Ok(());
            }
        }
        if ended {
            let outcome = match fields.get("grpc-status") {
                Some(value) if value == "0" => Ok(()),
                _ => Err(Status::from_trailers(fields)
                    .unwrap_or_else(|| Status::internal("the trailers have no grpc-status"))),
            };
            self.finish(id, outcome, recorder);
        }
        Ok(())
    }

    fn finish(&mut self, id: u32, outcome: Result<(), Status>, recorder: &mut Recorder) {
        if let Some(call) = self.calls.remove(&id) {
            recorder.record(call.started.elapsed(), outcome);
        }
    }

    /// Counts received DATA against the connection window, and gives it back
    /// once half of the window is used. Stream windows are never used up:
    /// each allows a whole response of up to 2 GiB.
    async fn release(&mut self, length: usize) -> anyhow::Result<()> {
        self.unreleased += length as u32;
        if self.unreleased >= MAX_WINDOW / 2 {
            let increment = std::mem::take(&mut self.unreleased);
            self.write(WindowUpdate::new(StreamId::zero(), increment).into()).await?;
        }
        Ok(())
    }

    /// Applies the server's settings to what this connection sends.
    fn apply(&mut self, settings: &Settings) {
        if let Some(window) = settings.initial_window_size() {
            let change = i64::from(window) - self.stream_window;
            self.stream_window = window.into();
            for call in self.calls.values_mut() {
                call.send_window += change;
            }
        }
        if let Some(size) = settings.max_frame_size() {
            self.codec.set_max_send_frame_size(size as usize);
        }
        if let Some(size) = settings.header_table_size() {
            self.codec.set_send_header_table_size(size as usize);
        }
        if let Some(streams) = settings.max_concurrent_streams() {
            self.max_streams = streams as usize;
        }
    }
}
