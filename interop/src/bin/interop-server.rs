//! The interop test server:
//! `interop-server --port N [--use_tls false]`.
//!
//! Serves `grpc.testing.TestService` (but not `UnimplementedService`), prints
//! `listening on PORT` once ready (the real port when given `--port 0`), and
//! exits on SIGTERM or Ctrl-C after a graceful shutdown.

use std::process::ExitCode;

use clap::{ArgAction, Parser};
use gust::Server;
use gust_interop::server::TestService;

#[derive(Parser, Debug)]
#[command(name = "interop-server", about = "gRPC interop test server (grpc.testing.TestService) written with gust")]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long = "port", default_value_t = 8080)]
    port: u16,
    /// Serve over TLS (not supported yet: must be false).
    #[arg(long = "use_tls", default_value_t = false, action = ArgAction::Set)]
    use_tls: bool,
}

async fn bind(port: u16) -> std::io::Result<gust::Server> {
    let builder = || Server::builder().add_service(TestService::new().into_server());
    // Dual-stack where the system has IPv6, IPv4 only where it does not.
    match builder().bind(("::", port)).await {
        Ok(server) => Ok(server),
        Err(_) => builder().bind(("0.0.0.0", port)).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.use_tls {
        eprintln!("interop-server: --use_tls=true is not supported yet (gust has no TLS); use --use_tls=false");
        return ExitCode::FAILURE;
    }
    let server = match bind(args.port).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("interop-server: cannot listen on port {}: {error}", args.port);
            return ExitCode::FAILURE;
        }
    };
    // Installed before the port is announced: a runner may send SIGTERM as
    // soon as it reads it.
    let signal = gust::server::shutdown_signal();
    println!("listening on {}", server.local_addr().port());
    if let Err(error) = server.serve_with_shutdown(signal).await {
        eprintln!("interop-server: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
