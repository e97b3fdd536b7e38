//! Runs the built `gust bench` against real servers on 127.0.0.1 and reads
//! its report: a gust server (the health service), and an h2 server that
//! answers in ways a gRPC server may (large requests, an HTTP error, no
//! answer at all).

use std::net::SocketAddr;
use std::process::Command;

use bytes::Bytes;
use tokio::net::TcpListener;

/// Runs `gust bench --target http://<addr> <args>` and returns its report.
async fn bench(addr: SocketAddr, args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gust"));
    command.args(["bench", "--target", &format!("http://{addr}")]).args(args);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "gust bench failed: {}{report}", String::from_utf8_lossy(&output.stderr));
    report
}

/// A file holding `bytes`, for `--binary`.
fn request_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    file
}

async fn health_server() -> SocketAddr {
    let (health, reporter) = gust_services::health::service();
    reporter.set_serving("");
    let server = gust::Server::builder().add_service(health).bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.serve());
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_counted_with_its_status() {
    let addr = health_server().await;
    let report =
        bench(addr, &["--method", "/grpc.health.v1.Health/Check", "-n", "300", "-c", "8", "--connections", "3"]).await;
    assert!(report.contains("Count:        300\n"), "{report}");
    assert!(report.contains("[OK] 300 responses\n"), "{report}");

    // HealthCheckRequest { service: "nope" }: a service the server does not know.
    let unknown = request_file(b"\x0a\x04nope");
    let path = unknown.path().to_str().unwrap();
    let report =
        bench(addr, &["--method", "/grpc.health.v1.Health/Check", "--binary", path, "-n", "50", "-c", "5"]).await;
    assert!(report.contains("[NOT_FOUND] 50 responses, e.g. \"unknown service \\\"nope\\\"\"\n"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_run_ends_and_reports() {
    let addr = health_server().await;
    let report = bench(addr, &["--method", "/grpc.health.v1.Health/Check", "--duration", "300ms", "-c", "4"]).await;
    let count: u64 = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("Count:"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {report}"));
    assert!(count > 0, "{report}");
    assert!(report.contains(&format!("[OK] {count} responses\n")), "{report}");
}

/// An h2 server whose answer depends on the method: `/test.Raw/Expect<N>`
/// reads the whole body and answers OK if it was N bytes (INVALID_ARGUMENT
/// otherwise), `/test.Raw/Unavailable` answers HTTP 503, and
/// `/test.Raw/Never` never answers a call that has a `grpc-timeout`.
async fn raw_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut connection = h2::server::handshake(socket).await.unwrap();
                while let Some(Ok((request, respond))) = connection.accept().await {
                    tokio::spawn(answer(request, respond));
                }
            });
        }
    });
    addr
}

async fn answer(request: http::Request<h2::RecvStream>, mut respond: h2::server::SendResponse<Bytes>) {
    let method = request.uri().path().trim_start_matches("/test.Raw/").to_owned();
    let has_timeout = request.headers().contains_key("grpc-timeout");
    let mut body = request.into_body();
    let mut length = 0;
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        length += chunk.len();
        body.flow_control().release_capacity(chunk.len()).unwrap();
    }
    if method == "Unavailable" {
        respond.send_response(http::Response::builder().status(503).body(()).unwrap(), true).unwrap();
        return;
    }
    if method == "Never" && has_timeout {
        return std::future::pending().await;
    }
    let expected: Option<usize> = method.strip_prefix("Expect").and_then(|n| n.parse().ok());
    let head = http::Response::builder().status(200).header("content-type", "application/grpc").body(()).unwrap();
    let mut stream = respond.send_response(head, false).unwrap();
    let mut trailers = http::HeaderMap::new();
    let code = if expected == Some(length) { "0" } else { "3" };
    trailers.insert("grpc-status", code.parse().unwrap());
    trailers.insert("grpc-message", format!("received {length} bytes").parse().unwrap());
    stream.send_trailers(trailers).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_requests_wait_for_flow_control_window() {
    let addr = raw_server().await;
    // 300,000 bytes and the 5-byte prefix: more than the 65,535 bytes every
    // HTTP/2 window starts with, and than a 16 KiB frame holds.
    let large = request_file(&vec![7; 300_000]);
    let path = large.path().to_str().unwrap();
    let report = bench(addr, &["--method", "/test.Raw/Expect300005", "--binary", path, "-n", "12", "-c", "4"]).await;
    assert!(report.contains("[OK] 12 responses\n"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_and_deadlines_are_statuses() {
    let addr = raw_server().await;
    let report = bench(addr, &["--method", "/test.Raw/Unavailable", "-n", "6", "-c", "2"]).await;
    assert!(report.contains("[UNAVAILABLE] 6 responses, e.g. \"HTTP status 503\"\n"), "{report}");

    let report = bench(addr, &["--method", "/test.Raw/Never", "--timeout", "100ms", "-n", "3", "-c", "3"]).await;
    assert!(report.contains("[DEADLINE_EXCEEDED] 3 responses"), "{report}");
}
