//! What the benchmark programs share: the `bench.Echo` service generated for
//! gust and for tonic from one `.proto` file, the handler logic both servers
//! run, and the small helpers (runtimes, CPU time, request bodies).
//!
//! The programs:
//!
//! - `bench-gust-server`, `bench-tonic-server`: the same Echo handler on each
//!   stack, on a Tokio runtime with `--workers` threads (default 2);
//! - `bench-h2-server`: the raw h2 crate answering every POST with a fixed
//!   gRPC response and doing no gRPC work: the HTTP/2 layer's limit;
//! - `bench-codec-server`: the same answer written on h2's frame codec by one
//!   task per connection, without h2's stream machinery: what a
//!   gRPC-specialised HTTP/2 engine could reach;
//! - `bench-client`: drivers for what h2load cannot do (server streaming,
//!   client cost with gust's and tonic's clients, idle connections) and the
//!   request bodies h2load sends.

use std::time::Duration;

/// `bench.Echo` for gust: the `Echo` trait, `EchoServer`, `EchoClient`.
pub mod gust_pb {
    include!(concat!(env!("OUT_DIR"), "/gust/bench.rs"));
}

/// `bench.Echo` for tonic: `echo_server` and `echo_client`.
pub mod tonic_pb {
    include!(concat!(env!("OUT_DIR"), "/tonic/bench.rs"));
}

/// The path of the unary method, as h2load and `gust bench` call it.
pub const UNARY_PATH: &str = "/bench.Echo/Unary";
/// The path of the server-streaming method.
pub const SERVER_STREAM_PATH: &str = "/bench.Echo/ServerStream";

/// The byte every payload is filled with.
pub const FILL: u8 = 0xAB;

/// The trailer the fixed-answer servers end every response with, as a
/// constant: a header name given as text is parsed on every insert (about
/// 700 instructions per response in the raw h2 server), which a server that
/// wants to be the limit does not pay.
pub const GRPC_STATUS: http::HeaderName = http::HeaderName::from_static("grpc-status");

/// A multi-threaded Tokio runtime with `workers` worker threads.
pub fn runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(workers.max(1)).enable_all().build()
}

/// User plus system CPU time this process has used so far.
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is handed, which is a
    // valid, zero-initialised `rusage` on our stack; RUSAGE_SELF is valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The protobuf encoding of a `Payload` of `size` bytes.
pub fn payload_message(size: usize) -> Vec<u8> {
    prost::Message::encode_to_vec(&gust_pb::Payload { data: vec![FILL; size].into() })
}

/// `message` with the 5-byte gRPC prefix (uncompressed, big-endian length):
/// an HTTP/2 body as h2load sends it.
pub fn framed(message: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(5 + message.len());
    body.push(0);
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    body
}

/// Resolves on Ctrl-C or SIGTERM, so servers stopped by `kill` exit cleanly.
pub async fn shutdown_signal() {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

/// Announces a bound server: run.sh waits for this line.
pub fn announce(name: &str, addr: std::net::SocketAddr, workers: usize) {
    use std::io::Write as _;
    println!("{name} listening on {addr} ({workers} workers)");
    let _ = std::io::stdout().flush();
}

/// The command line of the servers that give every call one fixed answer
/// (`bench-h2-server`, `bench-codec-server`).
#[derive(clap::Parser)]
pub struct FixedAnswerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50053")]
    pub addr: String,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Bytes in the fixed response message's payload (a `Payload` encoding
    /// with that much data).
    #[arg(long, default_value_t = 100)]
    pub response_size: usize,
}

/// Runs the fixed-answer server `name` as its command line says: each
/// accepted connection goes to a task of its own, `serve(socket, response)`,
/// where `response` is the fixed answer's framed message; until Ctrl-C or
/// SIGTERM.
pub fn serve_fixed_answer<F, Fut>(name: &str, serve: F) -> std::io::Result<()>
where
    F: Fn(tokio::net::TcpStream, bytes::Bytes) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let args = <FixedAnswerArgs as clap::Parser>::parse();
    let response = bytes::Bytes::from(framed(&payload_message(args.response_size)));
    runtime(args.workers)?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr.as_str()).await?;
        announce(name, listener.local_addr()?, args.workers);
        let accept = async {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let _ = socket.set_nodelay(true);
                tokio::spawn(serve(socket, response.clone()));
            }
        };
        tokio::select! {
            () = accept => Ok(()),
            () = shutdown_signal() => Ok(()),
        }
    })
}
