//! The interop test server:
//! `interop-server --port N [--use_tls false]`.
//!
//! Serves `grpc.testing.TestService` (but not `UnimplementedService`), prints
//! `listening on PORT` once ready (the real port when given `--port 0`), and
//! exits on SIGTERM or Ctrl-C after a graceful shutdown.
//!
//! TLS: `--use_tls=true --tls_cert_file CERT.pem --tls_key_file KEY.pem`
//! (grpc-go's flags); mutual TLS with `--tls_client_ca_file CA.pem`, and
//! `--tls_require_client_auth=true` to refuse clients without a certificate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use gust::server::{ServerBuilder, ServerTls};
use gust::Server;
use gust_interop::server::TestService;

#[derive(Parser, Debug)]
#[command(name = "interop-server", about = "gRPC interop test server (grpc.testing.TestService) written with gust")]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long = "port", default_value_t = 8080)]
    port: u16,
    /// Serve over TLS (needs --tls_cert_file and --tls_key_file).
    #[arg(long = "use_tls", default_value_t = false, action = ArgAction::Set)]
    use_tls: bool,
    /// PEM certificate chain of the server.
    #[arg(long = "tls_cert_file")]
    tls_cert_file: Option<PathBuf>,
    /// PEM private key of the server.
    #[arg(long = "tls_key_file")]
    tls_key_file: Option<PathBuf>,
    /// PEM CA that client certificates must be signed by (mutual TLS).
    #[arg(long = "tls_client_ca_file")]
    tls_client_ca_file: Option<PathBuf>,
    /// Refuse clients that present no valid certificate.
    #[arg(long = "tls_require_client_auth", default_value_t = false, action = ArgAction::Set)]
    tls_require_client_auth: bool,
}

/// The TLS settings the flags describe, if any.
fn tls(args: &Args) -> Result<Option<ServerTls>, String> {
    if !args.use_tls {
        return Ok(None);
    }
    let (Some(cert), Some(key)) = (&args.tls_cert_file, &args.tls_key_file) else {
        return Err("--use_tls=true needs --tls_cert_file and --tls_key_file".to_owned());
    };
    let mut tls = ServerTls::from_pem(read(cert)?, read(key)?).map_err(|error| error.to_string())?;
    if let Some(ca) = &args.tls_client_ca_file {
        tls = tls.client_ca_pem(read(ca)?).map_err(|error| error.to_string())?;
    }
    Ok(Some(tls.require_client_auth(args.tls_require_client_auth)))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))
}

async fn bind(port: u16, tls: Option<&ServerTls>) -> Result<gust::Server, String> {
    let builder = || -> Result<ServerBuilder, String> {
        let builder = Server::builder().add_service(TestService::new().into_server());
        match tls {
            Some(tls) => builder.tls(tls.clone()).map_err(|error| error.to_string()),
            None => Ok(builder),
        }
    };
    // Dual-stack where the system has IPv6, IPv4 only where it does not.
    match builder()?.bind(("::", port)).await {
        Ok(server) => Ok(server),
        Err(_) => {
            builder()?.bind(("0.0.0.0", port)).await.map_err(|error| format!("cannot listen on port {port}: {error}"))
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let server = match tls(&args) {
        Ok(tls) => bind(args.port, tls.as_ref()).await,
        Err(error) => Err(error),
    };
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            eprintln!("interop-server: {error}");
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
