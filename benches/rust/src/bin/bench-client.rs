//! Load drivers for what h2load cannot measure, and h2load's request bodies.
//!
//! - `bench-client unary --impl gust|tonic --target URI --concurrency 64 --requests N`:
//!   unary calls through gust's or tonic's client, `--concurrency` in flight
//!   on one connection; prints req/s and this process's CPU seconds per 100k
//!   calls (getrusage), the client's cost.
//! - `bench-client stream --impl gust|tonic --target URI --count 1000000 --size 16`:
//!   one server-streaming call read to its end; prints messages/s.
//!   `--impl h2` reads it with a bare h2 client that only counts frames.
//! - `bench-client idle --target 127.0.0.1:PORT --connections 10000 --server-pid PID`:
//!   opens that many HTTP/2 connections (raw h2, handshake and one PING
//!   each, so the server has taken every one in), then prints the server's
//!   resident memory before and after.
//! - `bench-client body --size 100 [--framed]`: a `Payload` encoding on
//!   standard output, with the gRPC prefix for h2load.
//!
//! Every line meant for run.sh starts with `RESULT` and holds `key=value` pairs.

use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use gust_benches::{cpu_time, gust_pb, tonic_pb, FILL};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Impl {
    Gust,
    Tonic,
    /// A raw h2 reader that counts gRPC frames (`stream` only): it has no
    /// limit on small DATA frames, so it can read servers that send one
    /// DATA frame per message, which h2's default limit takes for a flood.
    H2,
}

#[derive(Subcommand)]
enum Command {
    /// Unary calls with gust's or tonic's client: req/s and CPU per 100k calls.
    Unary {
        #[arg(long = "impl", value_enum)]
        implementation: Impl,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        target: String,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
        /// Calls made before measuring (same concurrency).
        #[arg(long, default_value_t = 10_000)]
        warmup: u64,
        /// Payload bytes per request.
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// Tokio worker threads of the client.
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// One server-streaming call read to the end: messages/s.
    Stream {
        #[arg(long = "impl", value_enum)]
        implementation: Impl,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        target: String,
        #[arg(long, default_value_t = 1_000_000)]
        count: u32,
        #[arg(long, default_value_t = 16)]
        size: u32,
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Many idle HTTP/2 connections; the server's RSS before and after.
    Idle {
        /// host:port (127.0.0.1 only).
        #[arg(long, default_value = "127.0.0.1:50051")]
        target: std::net::SocketAddr,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Connections being opened at once.
        #[arg(long, default_value_t = 128)]
        parallel: usize,
        /// The server process whose VmRSS is read.
        #[arg(long)]
        server_pid: u32,
        /// Upper bound on the whole run.
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
    },
    /// A `Payload` encoding of `size` bytes on standard output.
    Body {
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// Prefix the 5-byte gRPC frame header (an HTTP/2 body for h2load).
        #[arg(long)]
        framed: bool,
    },
}

fn main() -> Result<(), Error> {
    match Cli::parse().command {
        Command::Unary { implementation, target, concurrency, requests, warmup, size, workers } => {
            gust_benches::runtime(workers)?.block_on(unary(implementation, target, concurrency, requests, warmup, size))
        }
        Command::Stream { implementation, target, count, size, workers } => {
            gust_benches::runtime(workers)?.block_on(stream(implementation, target, count, size))
        }
        Command::Idle { target, connections, parallel, server_pid, timeout_secs } => {
            if !target.ip().is_loopback() {
                return Err("idle connections are opened to loopback addresses only".into());
            }
            let run = idle(target, connections, parallel, server_pid);
            gust_benches::runtime(1)?.block_on(async {
                tokio::time::timeout(Duration::from_secs(timeout_secs), run).await.map_err(|_| "idle run timed out")?
            })
        }
        Command::Body { size, framed } => {
            let message = gust_benches::payload_message(size);
            let body = if framed { gust_benches::framed(&message) } else { message };
            std::io::stdout().write_all(&body)?;
            Ok(())
        }
    }
}

/// Counts of one measured run of calls.
struct Outcome {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    cpu: Duration,
}

/// Runs `requests` calls of `call` with `concurrency` in flight, and
/// measures wall and CPU time.
async fn drive<F, Fut>(concurrency: usize, requests: u64, call: F) -> Outcome
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let remaining = Arc::new(AtomicU64::new(requests));
    let cpu_before = cpu_time();
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let remaining = remaining.clone();
            let call = call.clone();
            tokio::spawn(async move {
                let (mut ok, mut errors) = (0u64, 0u64);
                while remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
                    if call().await {
                        ok += 1;
                    } else {
                        errors += 1;
                    }
                }
                (ok, errors)
            })
        })
        .collect();
    let (mut ok, mut errors) = (0, 0);
    for worker in workers {
        let (o, e) = worker.await.unwrap_or((0, 0));
        ok += o;
        errors += e;
    }
    Outcome { ok, errors, elapsed: start.elapsed(), cpu: cpu_time() - cpu_before }
}

async fn unary(
    implementation: Impl,
    target: String,
    concurrency: usize,
    requests: u64,
    warmup: u64,
    size: usize,
) -> Result<(), Error> {
    let data = vec![FILL; size];
    let run = |requests| {
        let target = target.clone();
        let data = data.clone();
        async move {
            Ok::<_, Error>(match implementation {
                Impl::Gust => {
                    let client = gust_pb::EchoClient::new(gust::Channel::connect(&target).await?);
                    let data = bytes::Bytes::from(data);
                    drive(concurrency, requests, move || {
                        let client = client.clone();
                        let request = gust_pb::Payload { data: data.clone() };
                        async move { client.unary(request).await.is_ok() }
                    })
                    .await
                }
                Impl::H2 => return Err("unary runs with --impl gust or tonic".into()),
                Impl::Tonic => {
                    let channel = tonic::transport::Channel::from_shared(target)?.connect().await?;
                    let client = tonic_pb::echo_client::EchoClient::new(channel);
                    drive(concurrency, requests, move || {
                        let mut client = client.clone();
                        let request = tonic_pb::Payload { data: data.clone() };
                        async move { client.unary(request).await.is_ok() }
                    })
                    .await
                }
            })
        }
    };
    // One connection for the warm-up, another for the measurement: each
    // stack's client connects and warms its allocator the same way.
    run(warmup).await?;
    let outcome = run(requests).await?;
    let seconds = outcome.elapsed.as_secs_f64();
    let cpu = outcome.cpu.as_secs_f64();
    println!(
        "RESULT impl={:?} requests={} errors={} seconds={seconds:.3} req_per_s={:.0} cpu_seconds={cpu:.3} cpu_per_100k={:.3}",
        implementation,
        outcome.ok,
        outcome.errors,
        outcome.ok as f64 / seconds,
        cpu * 100_000.0 / outcome.ok.max(1) as f64,
    );
    if outcome.errors > 0 {
        return Err(format!("{} calls failed", outcome.errors).into());
    }
    Ok(())
}

async fn stream(implementation: Impl, target: String, count: u32, size: u32) -> Result<(), Error> {
    // A short stream first, on the same connection, to warm both sides.
    let warmup = (count / 20).max(1);
    let (received, elapsed) = match implementation {
        Impl::Gust => {
            let client = gust_pb::EchoClient::new(gust::Channel::connect(&target).await?);
            let read = |count| {
                let client = client.clone();
                async move {
                    let start = Instant::now();
                    let mut messages = client.server_stream(gust_pb::StreamRequest { count, size }).await?;
                    let mut received = 0u64;
                    while let Some(message) = messages.message().await? {
                        received += u64::from(message.data.len() == size as usize);
                    }
                    Ok::<_, Error>((received, start.elapsed()))
                }
            };
            read(warmup).await?;
            read(count).await?
        }
        Impl::Tonic => {
            let channel = tonic::transport::Channel::from_shared(target)?.connect().await?;
            let client = tonic_pb::echo_client::EchoClient::new(channel);
            let read = |count| {
                let mut client = client.clone();
                async move {
                    let start = Instant::now();
                    let mut messages =
                        client.server_stream(tonic_pb::StreamRequest { count, size }).await?.into_inner();
                    let mut received = 0u64;
                    while let Some(message) = messages.message().await? {
                        received += u64::from(message.data.len() == size as usize);
                    }
                    Ok::<_, Error>((received, start.elapsed()))
                }
            };
            read(warmup).await?;
            read(count).await?
        }
        Impl::H2 => {
            let authority: http::uri::Authority = target.trim_start_matches("http://").parse()?;
            let socket = tokio::net::TcpStream::connect(authority.as_str()).await?;
            socket.set_nodelay(true)?;
            let (sender, connection) = h2::client::Builder::new()
                .initial_window_size(1024 * 1024)
                .initial_connection_window_size(4 * 1024 * 1024)
                .data_frame_budget(usize::MAX / 2)
                .handshake::<_, bytes::Bytes>(socket)
                .await?;
            tokio::spawn(connection);
            let read = |count| {
                let mut sender = sender.clone();
                let uri = format!("http://{authority}{}", gust_benches::SERVER_STREAM_PATH);
                async move {
                    let start = Instant::now();
                    let request = http::Request::post(uri)
                        .header("content-type", "application/grpc")
                        .header("te", "trailers")
                        .body(())?;
                    let body =
                        gust_benches::framed(&prost::Message::encode_to_vec(&gust_pb::StreamRequest { count, size }));
                    sender = sender.ready().await?;
                    let (response, mut send) = sender.send_request(request, false)?;
                    send.send_data(body.into(), true)?;
                    let mut body = response.await?.into_body();
                    // Counts messages by walking their 5-byte prefixes across chunks.
                    let (mut received, mut header, mut header_len, mut left) = (0u64, [0u8; 5], 0usize, 0usize);
                    while let Some(chunk) = body.data().await {
                        let chunk = chunk?;
                        let _ = body.flow_control().release_capacity(chunk.len());
                        let mut rest = &chunk[..];
                        while !rest.is_empty() {
                            if left > 0 {
                                let skip = left.min(rest.len());
                                left -= skip;
                                rest = &rest[skip..];
                                if left == 0 {
                                    received += 1;
                                }
                                continue;
                            }
                            header[header_len] = rest[0];
                            header_len += 1;
                            rest = &rest[1..];
                            if header_len == 5 {
                                header_len = 0;
                                left = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
                                if left == 0 {
                                    received += 1;
                                }
                            }
                        }
                    }
                    let trailers = body.trailers().await?;
                    let ok = trailers.as_ref().and_then(|t| t.get("grpc-status")).is_some_and(|s| s == "0");
                    if !ok {
                        return Err(format!("stream did not end with grpc-status 0: {trailers:?}").into());
                    }
                    Ok::<_, Error>((received, start.elapsed()))
                }
            };
            read(warmup).await?;
            read(count).await?
        }
    };
    let seconds = elapsed.as_secs_f64();
    println!(
        "RESULT impl={implementation:?} messages={received} seconds={seconds:.3} msgs_per_s={:.0}",
        received as f64 / seconds
    );
    if received != u64::from(count) {
        return Err(format!("received {received} of {count} messages").into());
    }
    Ok(())
}

/// The resident set of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).ok_or("no VmRSS line")?;
    Ok(line.split_whitespace().nth(1).ok_or("malformed VmRSS line")?.parse()?)
}

async fn idle(target: std::net::SocketAddr, connections: usize, parallel: usize, server_pid: u32) -> Result<(), Error> {
    let before = rss_kib(server_pid)?;
    let permits = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let start = Instant::now();
    let opening: Vec<_> = (0..connections)
        .map(|_| {
            let permits = permits.clone();
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await?;
                let socket = tokio::net::TcpStream::connect(target).await?;
                let (sender, mut connection) = h2::client::handshake(socket).await?;
                let mut ping = connection.ping_pong().ok_or("no ping handle")?;
                let (closed, driver) = tokio::sync::oneshot::channel::<()>();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = connection => {}
                        _ = driver => {}
                    }
                });
                // The PONG comes back once the server has read the preface and
                // our SETTINGS: the connection is fully set up on its side.
                ping.ping(h2::Ping::opaque()).await?;
                Ok::<_, Error>((sender, closed))
            })
        })
        .collect();
    let mut open = Vec::with_capacity(connections);
    let mut failed = 0;
    for handle in opening {
        match handle.await {
            Ok(Ok(connection)) => open.push(connection),
            _ => failed += 1,
        }
    }
    let opened_in = start.elapsed().as_secs_f64();
    // Let the server finish whatever it does after a PING (and the allocator
    // settle) before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(server_pid)?;
    println!(
        "RESULT connections={} failed={failed} open_seconds={opened_in:.2} rss_before_kib={before} rss_after_kib={after} per_connection_bytes={:.0}",
        open.len(),
        (after.saturating_sub(before) * 1024) as f64 / open.len().max(1) as f64,
    );
    drop(open);
    if failed > 0 {
        return Err(format!("{failed} connections failed").into());
    }
    Ok(())
}
