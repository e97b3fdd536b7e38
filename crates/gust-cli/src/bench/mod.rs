//! `gust bench`: load-tests one unary method of any gRPC server, in the
//! spirit of ghz, and prints requests per second and the latency
//! distribution.
//!
//! ```text
//! gust bench --target http://127.0.0.1:50051 --method /bench.Echo/Unary \
//!     --proto bench.proto -I proto --data '{"data": "aGVsbG8="}' \
//!     --concurrency 50 --connections 1 --duration 10s
//! ```
//!
//! The request is encoded once, from JSON (with the method's input type read
//! from the `.proto` file) or taken as is from a file of protobuf bytes, and
//! sent as opaque bytes: what is measured is the server, not message
//! encoding. Plaintext targets are driven by [`load_connection`], HTTP/2
//! frames written straight on h2's codec, which costs about what h2load
//! costs per call; `https://` targets go through gust's client ([`Raw`]
//! messages on a [`gust::Channel`]).
//!
//! `--concurrency` calls are in flight at all times, spread evenly over
//! `--connections` HTTP/2 connections. The run ends after `--requests` calls
//! or after `--duration`. A progress bar is drawn only when standard error
//! is a terminal.

mod load_connection;

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use bytes::Bytes;
use clap::Args;
use hdrhistogram::Histogram;

use load_connection::{CallPlan, LoadConnection};

/// Arguments of `gust bench`, named like ghz's where they overlap.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The server: `http://host:port`, or `https://host:port` (trusting the
    /// system's roots).
    #[arg(long, value_name = "URI")]
    target: String,

    /// The unary method to call: `/package.Service/Method`.
    #[arg(long, value_name = "PATH")]
    method: String,

    /// A .proto file that defines the method; needed to encode --data.
    #[arg(long, value_name = "FILE")]
    proto: Option<PathBuf>,

    /// Directory to search for the .proto file's imports; repeatable.
    /// Defaults to the directory of --proto.
    #[arg(short = 'I', long = "proto-path", value_name = "DIR")]
    includes: Vec<PathBuf>,

    /// The request message as JSON (protobuf's JSON mapping).
    #[arg(short = 'd', long, value_name = "JSON", requires = "proto", conflicts_with = "binary")]
    data: Option<String>,

    /// A file holding the request message, already serialized as protobuf.
    /// Without --data or --binary the request is the empty message.
    #[arg(short = 'b', long, value_name = "FILE")]
    binary: Option<PathBuf>,

    /// Calls in flight at any time.
    #[arg(short = 'c', long, default_value_t = 50)]
    concurrency: usize,

    /// HTTP/2 connections the calls are spread over.
    #[arg(long, default_value_t = 1)]
    connections: usize,

    /// Number of calls to make (default 200 without --duration).
    #[arg(short = 'n', long, conflicts_with = "duration")]
    requests: Option<u64>,

    /// How long to run instead of a number of calls: 10s, 500ms, 2m.
    #[arg(short = 'z', long, value_parser = parse_duration)]
    duration: Option<Duration>,

    /// Timeout of each call: 20s, 500ms.
    #[arg(short = 't', long, value_parser = parse_duration)]
    timeout: Option<Duration>,

    /// Worker threads of the client's runtime (default: one per core);
    /// `--cpus 1` loads the server as h2load's `-t 1` does.
    #[arg(long)]
    cpus: Option<usize>,
}

/// A message that is already protobuf bytes: sent as it is, received
/// without decoding.
struct Raw(Bytes);

impl gust::codec::Message for Raw {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn encode_to(&self, buf: &mut gust::codec::EncodeBuf<'_>) {
        bytes::BufMut::put_slice(buf, &self.0);
    }

    fn decode_from(buf: Bytes) -> Result<Raw, gust::Status> {
        Ok(Raw(buf))
    }
}

/// When the run stops.
#[derive(Clone, Copy, Debug)]
enum Stop {
    After(u64),
    At(Duration),
}

/// Whether another call may start, shared by every worker: a number of calls
/// left, or an end time.
struct Budget {
    remaining: Option<AtomicU64>,
    end: Option<Instant>,
}

impl Budget {
    fn new(stop: Stop, start: Instant) -> Budget {
        match stop {
            Stop::After(requests) => Budget { remaining: Some(AtomicU64::new(requests)), end: None },
            Stop::At(duration) => Budget { remaining: None, end: Some(start + duration) },
        }
    }

    /// Takes one call from the budget; false once it is spent.
    fn take(&self) -> bool {
        if self.end.is_some_and(|end| Instant::now() >= end) {
            return false;
        }
        self.remaining
            .as_ref()
            .is_none_or(|left| left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok())
    }
}

/// What one worker saw. Latencies are buffered and added to the shared
/// histogram in batches: a histogram per worker would cost its whole
/// counts array (hundreds of KiB) for each of thousands of workers.
struct Tally {
    /// Latencies (ns) not yet added to the shared histogram.
    pending: Vec<u64>,
    /// Calls per final status code, indexed by the code's number.
    codes: [u64; 17],
    /// The first error message seen for each code.
    messages: BTreeMap<u8, String>,
}

/// Latencies buffered by a worker before it locks the shared histogram.
const LATENCY_BATCH: usize = 256;

impl Tally {
    fn new() -> Tally {
        Tally { pending: Vec::with_capacity(LATENCY_BATCH), codes: [0; 17], messages: BTreeMap::new() }
    }
}

/// Where a worker records its calls: its own tally, the shared histogram,
/// and the count the progress bar shows (when there is one).
struct Recorder {
    tally: Tally,
    histogram: Arc<Mutex<Histogram<u64>>>,
    completed: Option<Arc<AtomicU64>>,
}

impl Recorder {
    fn new(histogram: Arc<Mutex<Histogram<u64>>>, completed: Option<Arc<AtomicU64>>) -> Recorder {
        Recorder { tally: Tally::new(), histogram, completed }
    }

    /// Records one finished call.
    fn record(&mut self, latency: Duration, outcome: Result<(), gust::Status>) {
        let tally = &mut self.tally;
        tally.pending.push(latency.as_nanos().try_into().unwrap_or(u64::MAX));
        if tally.pending.len() == LATENCY_BATCH {
            self.flush();
        }
        let code = match outcome {
            Ok(()) => gust::Code::Ok,
            Err(status) => {
                self.tally.messages.entry(status.code() as u8).or_insert_with(|| status.message().to_owned());
                status.code()
            }
        };
        self.tally.codes[code as usize] += 1;
        if let Some(completed) = &self.completed {
            completed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds the buffered latencies to the shared histogram.
    fn flush(&mut self) {
        let mut histogram = self.histogram.lock().unwrap_or_else(PoisonError::into_inner);
        for latency in self.tally.pending.drain(..) {
            histogram.saturating_record(latency);
        }
    }

    fn finish(mut self) -> Tally {
        self.flush();
        self.tally
    }
}

/// Runs `gust bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.concurrency == 0 || args.connections == 0 {
        bail!("--concurrency and --connections must be at least 1");
    }
    let request = request_bytes(&args)?;
    let stop = match (args.requests, args.duration) {
        (_, Some(duration)) => Stop::At(duration),
        (requests, None) => Stop::After(requests.unwrap_or(200)),
    };
    // Generated clients name their paths with string literals; this one is
    // made once per run, so leaking it is the simplest way to get one.
    let path: &'static str = Box::leak(args.method.clone().into_boxed_str());
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(cpus) = args.cpus {
        runtime.worker_threads(cpus.max(1));
    }
    let runtime = runtime.enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(bench(args, path, request, stop))
}

/// The request's protobuf bytes, from --data (through the .proto file) or
/// --binary.
fn request_bytes(args: &BenchArgs) -> anyhow::Result<Bytes> {
    if let Some(file) = &args.binary {
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        return Ok(Bytes::from(bytes));
    }
    let Some(proto) = &args.proto else {
        return Ok(Bytes::new());
    };
    let includes = if args.includes.is_empty() {
        vec![proto.parent().map(PathBuf::from).filter(|p| !p.as_os_str().is_empty()).unwrap_or(PathBuf::from("."))]
    } else {
        args.includes.clone()
    };
    let mut compiler = protox::Compiler::new(&includes)?;
    compiler.include_imports(true);
    compiler.open_file(proto).map_err(|error| anyhow!("{error}"))?;
    let pool = compiler.descriptor_pool();
    let (service, method) = args
        .method
        .trim_start_matches('/')
        .split_once('/')
        .ok_or_else(|| anyhow!("--method must read /package.Service/Method, not {:?}", args.method))?;
    let service =
        pool.get_service_by_name(service).ok_or_else(|| anyhow!("no service {service} in {}", proto.display()))?;
    let method = service
        .methods()
        .find(|m| m.name() == method)
        .ok_or_else(|| anyhow!("service {} has no method {method}", service.full_name()))?;
    if method.is_client_streaming() || method.is_server_streaming() {
        bail!("{} is a streaming method; gust bench calls unary methods", method.full_name());
    }
    let json = args.data.as_deref().unwrap_or("{}");
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let message = prost_reflect::DynamicMessage::deserialize(method.input(), &mut deserializer)
        .with_context(|| format!("--data is not a valid {}", method.input().full_name()))?;
    deserializer.end().context("--data has trailing characters")?;
    Ok(Bytes::from(prost::Message::encode_to_vec(&message)))
}

async fn bench(args: BenchArgs, path: &'static str, request: Bytes, stop: Stop) -> anyhow::Result<()> {
    let target: http::Uri = args.target.parse().with_context(|| format!("{:?} is not a URI", args.target))?;
    let connections = args.connections.min(args.concurrency);
    // Calls done, for the progress bar: counted only when there is one.
    let completed = std::io::stderr().is_terminal().then(|| Arc::new(AtomicU64::new(0)));
    let histogram = Arc::new(Mutex::new(new_histogram()));
    let recorder = || Recorder::new(histogram.clone(), completed.clone());

    // Every connection is made before the clock starts.
    let (start, workers): (Instant, Vec<tokio::task::JoinHandle<Tally>>) = if target.scheme_str() == Some("https") {
        let mut channels = Vec::with_capacity(connections);
        for _ in 0..connections {
            let channel = gust::Channel::connect(&args.target)
                .await
                .with_context(|| format!("cannot connect to {}", args.target))?;
            channels.push(channel);
        }
        let start = Instant::now();
        let budget = Arc::new(Budget::new(stop, start));
        let workers = (0..args.concurrency)
            .map(|worker| {
                let (channel, budget, request) =
                    (channels[worker % connections].clone(), budget.clone(), request.clone());
                let (mut recorder, timeout) = (recorder(), args.timeout);
                tokio::spawn(async move {
                    while budget.take() {
                        let mut call = gust::Request::new(Raw(request.clone()));
                        if let Some(timeout) = timeout {
                            call = call.with_timeout(timeout);
                        }
                        let sent = Instant::now();
                        let outcome = channel.unary::<Raw, Raw>(path, call).await.map(drop);
                        recorder.record(sent.elapsed(), outcome);
                    }
                    recorder.finish()
                })
            })
            .collect();
        (start, workers)
    } else {
        let plan = Arc::new(CallPlan::new(&target, path, &request, args.timeout)?);
        let mut loads = Vec::with_capacity(connections);
        for connection in 0..connections {
            let slots = args.concurrency / connections + usize::from(connection < args.concurrency % connections);
            loads.push(LoadConnection::connect(plan.clone(), slots).await?);
        }
        let start = Instant::now();
        let budget = Arc::new(Budget::new(stop, start));
        let workers = loads
            .into_iter()
            .map(|load| {
                let (budget, mut recorder) = (budget.clone(), recorder());
                tokio::spawn(async move {
                    load.run(&budget, &mut recorder).await;
                    recorder.finish()
                })
            })
            .collect();
        (start, workers)
    };
    let progress = completed.clone().map(|completed| progress_bar(stop, completed));

    let mut total = Tally::new();
    for worker in workers {
        let tally = worker.await.context("a worker panicked")?;
        for (sum, count) in total.codes.iter_mut().zip(tally.codes) {
            *sum += count;
        }
        for (code, message) in tally.messages {
            total.messages.entry(code).or_insert(message);
        }
    }
    let elapsed = start.elapsed();
    if let Some((bar, ticker)) = progress {
        ticker.abort();
        bar.finish_and_clear();
    }
    let latencies = histogram.lock().unwrap_or_else(PoisonError::into_inner);
    report(&latencies, &total, elapsed);
    Ok(())
}

/// Latencies in nanoseconds, from 1 ns to an hour (longer ones count as an
/// hour), to three significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600 * 1_000_000_000, 3).expect("valid bounds and precision")
}

/// A progress bar on standard error (a terminal), refreshed from `completed`.
fn progress_bar(stop: Stop, completed: Arc<AtomicU64>) -> (indicatif::ProgressBar, tokio::task::JoinHandle<()>) {
    let (length, template) = match stop {
        Stop::After(requests) => (requests, "{bar:40} {pos}/{len} calls, {msg}"),
        Stop::At(duration) => (duration.as_millis() as u64, "{bar:40} {msg}"),
    };
    let bar = indicatif::ProgressBar::new(length);
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    let start = Instant::now();
    let ticking = bar.clone();
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(100));
        loop {
            interval.tick().await;
            let done = completed.load(Ordering::Relaxed);
            let elapsed = start.elapsed();
            let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
            match stop {
                Stop::After(_) => {
                    ticking.set_position(done);
                    ticking.set_message(format!("{rate:.0}/s"));
                }
                Stop::At(duration) => {
                    ticking.set_position(elapsed.as_millis() as u64);
                    let (elapsed, duration) = (elapsed.as_secs_f64(), duration.as_secs_f64());
                    ticking.set_message(format!("{elapsed:.1}/{duration:.1} s, {done} calls, {rate:.0}/s"));
                }
            }
        }
    });
    (bar, ticker)
}

fn report(latencies: &Histogram<u64>, total: &Tally, elapsed: Duration) {
    let count = latencies.len();
    let ms = |nanos: u64| nanos as f64 / 1e6;
    println!("Summary:");
    println!("  Count:        {count}");
    println!("  Total:        {:.3} s", elapsed.as_secs_f64());
    println!("  Requests/sec: {:.2}", count as f64 / elapsed.as_secs_f64());
    if count == 0 {
        return;
    }
    println!("  Fastest:      {:.3} ms", ms(latencies.min()));
    println!("  Average:      {:.3} ms", latencies.mean() / 1e6);
    println!("  Slowest:      {:.3} ms", ms(latencies.max()));
    println!();
    println!("Latency distribution:");
    for (name, quantile) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)] {
        println!("  {name}: {:.3} ms", ms(latencies.value_at_quantile(quantile)));
    }
    println!("  max: {:.3} ms", ms(latencies.max()));
    println!();
    println!("Status code distribution:");
    for code in gust::Code::ALL {
        let calls = total.codes[code as usize];
        if calls == 0 {
            continue;
        }
        match total.messages.get(&(code as u8)) {
            Some(message) => println!("  [{}] {calls} responses, e.g. {message:?}", code.name()),
            None => println!("  [{}] {calls} responses", code.name()),
        }
    }
}

/// Parses `10s`, `500ms`, `2m`, `1h`, `250us`, or a plain number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 10s or 500ms"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "ns" => value / 1e9,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} in {text:?} (use ns, us, ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert!(parse_duration("ten seconds").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn raw_messages_pass_through_unchanged() {
        use gust::codec::Message as _;
        let raw = Raw(Bytes::from_static(b"\x0a\x03abc"));
        let encoded = gust::codec::encode_message(&raw).unwrap();
        assert_eq!(&encoded[..], b"\x0a\x03abc");
        assert_eq!(Raw::decode_from(encoded).map(|r| r.0).ok(), Some(Bytes::from_static(b"\x0a\x03abc")));
    }
}
