//! A test service with every call kind, and helpers to run it on 127.0.0.1.
//! Its behaviour is steered by the request (sleep, fail, panic, repeat), and
//! it reports what it observed (cancellation, deadlines) as events.
#![allow(dead_code)]

pub mod certs;
pub mod frames;
pub mod raw;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gust::codec::OutboundMessage as _;
use gust::server::{CallFuture, ServerBuilder, ServerCall, Service};
use gust::{Channel, Code, Metadata, Request, ResponseSink, Server, Status, Streaming};
use tokio::sync::{mpsc, oneshot};

/// The message of every test call.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Msg {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(bytes = "vec", tag = "2")]
    pub payload: Vec<u8>,
    /// Fail the call with this code (and `text` as message, `payload` as details).
    #[prost(int32, tag = "3")]
    pub code: i32,
    /// Server streaming: how many replies.
    #[prost(uint32, tag = "4")]
    pub count: u32,
    /// Sleep this long before answering.
    #[prost(uint64, tag = "5")]
    pub sleep_ms: u64,
    /// Compress the response with this encoding (`gzip`, `deflate`).
    #[prost(string, tag = "6")]
    pub compression: String,
    /// In replies: whether the request message arrived compressed.
    #[prost(bool, tag = "7")]
    pub request_compressed: bool,
}

impl Msg {
    pub fn text(text: &str) -> Msg {
        Msg { text: text.to_owned(), ..Msg::default() }
    }
}

/// What a handler observed.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// The handler's future was dropped before it finished, with the context
    /// marked cancelled (`true`) or not.
    Dropped { cancelled: bool },
    /// The deadline the handler saw when it started.
    TimeRemaining(Option<Duration>),
    /// A peer address the server saw.
    Peer(Option<SocketAddr>),
    /// A task a sleeping unary handler spawned saw `context.cancelled()`
    /// resolve.
    CancelNoticed,
}

pub const SERVICE: &str = "test.Echo";
pub const UNARY: &str = "/test.Echo/Unary";
pub const SERVER_STREAM: &str = "/test.Echo/ServerStream";
pub const CLIENT_STREAM: &str = "/test.Echo/ClientStream";
pub const BIDI: &str = "/test.Echo/Bidi";

#[derive(Clone)]
pub struct Echo {
    events: mpsc::UnboundedSender<Event>,
    /// Messages a server-streaming handler has handed to the transport.
    pub sent: Arc<AtomicUsize>,
}

/// Reports `Dropped` unless disarmed: how a test sees a handler cancelled.
struct DropGuard {
    context: gust::CallContext,
    events: mpsc::UnboundedSender<Event>,
    armed: bool,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.events.send(Event::Dropped { cancelled: self.context.is_cancelled() });
        }
    }
}

impl Echo {
    pub fn new() -> (Echo, mpsc::UnboundedReceiver<Event>) {
        let (events, receiver) = mpsc::unbounded_channel();
        (Echo { events, sent: Arc::new(AtomicUsize::new(0)) }, receiver)
    }

    async fn unary(self, request: Request<Msg>) -> Result<Msg, Status> {
        let context = request.context().clone();
        let _ = self.events.send(Event::TimeRemaining(context.time_remaining()));
        let _ = self.events.send(Event::Peer(context.peer_addr()));
        echo_metadata(&request);
        let request_compressed = request.message_compressed();
        let msg = request.into_inner();
        compress_response(&context, &msg);
        if msg.text == "panic" {
            panic!("handler asked to panic");
        }
        if msg.sleep_ms > 0 {
            // Work handed elsewhere learns of the cancellation this way.
            let (watched, events) = (context.clone(), self.events.clone());
            tokio::spawn(async move {
                watched.cancelled().await;
                let _ = events.send(Event::CancelNoticed);
            });
            let mut guard = DropGuard { context: context.clone(), events: self.events.clone(), armed: true };
            tokio::time::sleep(Duration::from_millis(msg.sleep_ms)).await;
            guard.armed = false;
        }
        if msg.code != 0 {
            let mut trailers = Metadata::new();
            trailers.append("x-error-trailer", "present").unwrap();
            return Err(Status::new(Code::from_i32(msg.code), msg.text)
                .with_details(msg.payload)
                .with_metadata(trailers));
        }
        Ok(Msg { text: msg.text, payload: msg.payload, request_compressed, ..Msg::default() })
    }

    async fn server_stream(self, request: Request<Msg>, mut sink: ResponseSink<Msg>) -> Result<(), Status> {
        echo_metadata(&request);
        let msg = request.into_inner();
        compress_response(sink.context(), &msg);
        let mut guard = DropGuard { context: sink.context().clone(), events: self.events.clone(), armed: true };
        // Odd replies go uncompressed: per-message control.
        let reply = |index: u32| {
            let reply = Msg { text: index.to_string(), payload: msg.payload.clone(), ..Msg::default() };
            if index % 2 == 1 {
                gust::Outgoing::uncompressed(reply)
            } else {
                reply.into_outgoing()
            }
        };
        if msg.sleep_ms > 0 {
            for index in 0..msg.count {
                tokio::time::sleep(Duration::from_millis(msg.sleep_ms)).await;
                sink.send(reply(index)).await?;
                self.sent.fetch_add(1, Ordering::SeqCst);
            }
        } else {
            // Without pauses, the replies go as one lazy batch: `sent`
            // counts how far the server ran ahead of the client.
            let sent = &self.sent;
            sink.send_all((0..msg.count).map(|index| {
                sent.fetch_add(1, Ordering::SeqCst);
                reply(index)
            }))
            .await?;
        }
        guard.armed = false;
        if msg.code != 0 {
            return Err(Status::new(Code::from_i32(msg.code), msg.text));
        }
        Ok(())
    }

    async fn client_stream(self, request: Request<Streaming<Msg>>) -> Result<Msg, Status> {
        echo_metadata(&request);
        let mut requests = request.into_inner();
        let mut texts = Vec::new();
        let mut total = 0;
        while let Some(msg) = requests.message().await? {
            total += msg.payload.len();
            texts.push(format!("{}:{}", msg.text, u8::from(requests.last_message_compressed())));
        }
        Ok(Msg { text: texts.join(","), count: total as u32, ..Msg::default() })
    }

    async fn bidi(self, request: Request<Streaming<Msg>>, mut sink: ResponseSink<Msg>) -> Result<(), Status> {
        echo_metadata(&request);
        let mut requests = request.into_inner();
        let mut guard = DropGuard { context: sink.context().clone(), events: self.events.clone(), armed: true };
        while let Some(msg) = requests.message().await? {
            if msg.code != 0 {
                return Err(Status::new(Code::from_i32(msg.code), msg.text));
            }
            sink.send(msg).await?;
        }
        guard.armed = false;
        Ok(())
    }
}

/// Compresses the response as the request asks.
fn compress_response(context: &gust::CallContext, msg: &Msg) {
    if let Some(encoding) = gust::Encoding::from_name(msg.compression.as_bytes()) {
        context.set_compression(encoding);
    }
}

/// Copies `x-*` request metadata into the response's initial metadata
/// (prefixed `initial-`) and trailing metadata (prefixed `trailing-`).
fn echo_metadata<T>(request: &Request<T>) {
    let mut initial = Metadata::new();
    let mut trailing = Metadata::new();
    for (key, value) in request.metadata().iter() {
        let Some(name) = key.strip_prefix("x-") else { continue };
        match value {
            gust::MetadataValue::Ascii(text) => {
                initial.append(&format!("initial-{name}"), text).unwrap();
                trailing.append(&format!("trailing-{name}"), text).unwrap();
            }
            gust::MetadataValue::Binary(bytes) => {
                initial.append_bin(&format!("initial-{name}"), &bytes).unwrap();
                trailing.append_bin(&format!("trailing-{name}"), &bytes).unwrap();
            }
        }
    }
    request.context().set_initial_metadata(initial);
    request.context().set_trailing_metadata(trailing);
}

impl Service for Echo {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn call(&self, method: &str, call: ServerCall) -> CallFuture {
        let this = self.clone();
        match method {
            "Unary" => call.unary(move |request| this.unary(request)),
            "ServerStream" => call.server_streaming(move |request, sink| this.server_stream(request, sink)),
            "ClientStream" => call.client_streaming(move |request| this.client_stream(request)),
            "Bidi" => call.bidi_streaming(move |request, sink| this.bidi(request, sink)),
            _ => call.unimplemented(),
        }
    }
}

/// A server running in the background on 127.0.0.1 with an ephemeral port.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn channel(&self) -> Channel {
        Channel::from_uri(&self.uri()).unwrap()
    }

    /// Starts a graceful shutdown and waits for the server to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }

    /// Starts a graceful shutdown without waiting.
    pub fn begin_shutdown(&mut self) -> &mut tokio::task::JoinHandle<std::io::Result<()>> {
        let _ = self.stop.take().unwrap().send(());
        &mut self.task
    }
}

pub async fn serve(builder: ServerBuilder, addr: &str) -> Running {
    let server = builder.bind(addr).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_with_shutdown(async move {
        let _ = stopped.await;
    }));
    Running { addr, stop: Some(stop), task }
}

/// The test service on an ephemeral port, with its event stream.
pub async fn start() -> (Running, mpsc::UnboundedReceiver<Event>, Echo) {
    let (echo, events) = Echo::new();
    let running = serve(Server::builder().add_service(echo.clone()), "127.0.0.1:0").await;
    (running, events, echo)
}

/// Waits for the next event that is not a `TimeRemaining`/`Peer` report.
pub async fn next_drop(events: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    loop {
        match events.recv().await.expect("event stream ended") {
            Event::TimeRemaining(_) | Event::Peer(_) | Event::CancelNoticed => continue,
            event => return event,
        }
    }
}
