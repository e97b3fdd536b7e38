//! The interop test client:
//! `interop-client --server_host H --server_port P --test_case NAME [--use_tls false]`.
//!
//! TLS: `--use_tls=true --ca_file CA.pem [--server_host_override NAME]`
//! (grpc-go's flags), and for mutual TLS `--client_cert_file`,
//! `--client_key_file`. There is no bundled test CA, so `--use_test_ca` is
//! refused: pass the CA with `--ca_file`.
//!
//! Runs one test case (or `all`) against the server and exits 0 if it passed;
//! otherwise prints which case failed and what differed, and exits 1.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Parser};
use gust::client::{ChannelBuilder, ClientTls};
use gust::Channel;
use gust_interop::client::{Client, Settings, SoakSettings, TestCase};

#[derive(Parser, Debug)]
#[command(name = "interop-client", about = "gRPC interop test client written with gust")]
struct Args {
    /// Host of the server.
    #[arg(long = "server_host", default_value = "localhost")]
    server_host: String,
    /// Name to verify the server's certificate for (TLS); unused without TLS.
    #[arg(long = "server_host_override")]
    server_host_override: Option<String>,
    /// Port of the server.
    #[arg(long = "server_port", default_value_t = 8080)]
    server_port: u16,
    /// The case to run (e.g. `large_unary`), or `all`.
    #[arg(long = "test_case", default_value = "large_unary")]
    test_case: String,
    /// Use TLS.
    #[arg(long = "use_tls", default_value_t = false, action = ArgAction::Set)]
    use_tls: bool,
    /// Use the grpc project's test CA (not bundled: must be false; use --ca_file).
    #[arg(long = "use_test_ca", default_value_t = false, action = ArgAction::Set)]
    use_test_ca: bool,
    /// PEM file of the CA to trust (TLS); without it, the system's roots.
    #[arg(long = "ca_file")]
    ca_file: Option<PathBuf>,
    /// PEM certificate chain to present (mutual TLS), with --client_key_file.
    #[arg(long = "client_cert_file", requires = "client_key_file")]
    client_cert_file: Option<PathBuf>,
    /// PEM private key of --client_cert_file.
    #[arg(long = "client_key_file", requires = "client_cert_file")]
    client_key_file: Option<PathBuf>,
    /// rpc_soak / channel_soak: number of calls.
    #[arg(long = "soak_iterations", default_value_t = 10)]
    soak_iterations: u32,
    /// rpc_soak / channel_soak: calls that may fail without failing the case.
    #[arg(long = "soak_max_failures", default_value_t = 0)]
    soak_max_failures: u32,
    /// rpc_soak / channel_soak: a call slower than this counts as failed.
    #[arg(long = "soak_per_iteration_max_acceptable_latency_ms", default_value_t = 1000)]
    soak_per_iteration_max_acceptable_latency_ms: u64,
    /// rpc_soak / channel_soak: time allowed for all iterations.
    #[arg(long = "soak_overall_timeout_seconds", default_value_t = 10)]
    soak_overall_timeout_seconds: u64,
    /// rpc_soak / channel_soak: least time between the starts of two calls.
    #[arg(long = "soak_min_time_ms_between_rpcs", default_value_t = 0)]
    soak_min_time_ms_between_rpcs: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.use_test_ca {
        eprintln!("interop-client: --use_test_ca: gust bundles no test CA; pass the CA with --ca_file");
        return ExitCode::FAILURE;
    }
    let cases = if args.test_case == "all" {
        TestCase::ALL.to_vec()
    } else {
        match args.test_case.parse::<TestCase>() {
            Ok(case) => vec![case],
            Err(error) => {
                eprintln!("interop-client: {error}");
                return ExitCode::FAILURE;
            }
        }
    };
    let host = if args.server_host.contains(':') && !args.server_host.starts_with('[') {
        format!("[{}]", args.server_host)
    } else {
        args.server_host.clone()
    };
    let settings = Settings {
        soak: SoakSettings {
            iterations: args.soak_iterations,
            max_failures: args.soak_max_failures,
            max_latency: Duration::from_millis(args.soak_per_iteration_max_acceptable_latency_ms),
            overall_timeout: Duration::from_secs(args.soak_overall_timeout_seconds),
            min_time_between_rpcs: Duration::from_millis(args.soak_min_time_ms_between_rpcs),
        },
        ..Settings::default()
    };
    let client = match channel_builder(&args, &host)
        .and_then(|builder| Client::with_channel(builder, settings).map_err(|error| error.to_string()))
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("interop-client: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for case in cases {
        match client.run(case).await {
            Ok(()) => println!("test case {case} passed"),
            Err(failure) => {
                eprintln!("{failure}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The channel the flags describe: plaintext, or TLS with their CA, name
/// and client certificate.
fn channel_builder(args: &Args, host: &str) -> Result<ChannelBuilder, String> {
    if !args.use_tls {
        return Ok(Channel::builder(format!("http://{host}:{}", args.server_port)));
    }
    let mut tls = ClientTls::new();
    if let Some(ca) = &args.ca_file {
        tls = tls.ca_pem(read(ca)?).map_err(|error| error.to_string())?;
    }
    if let Some(name) = &args.server_host_override {
        tls = tls.server_name(name);
    }
    if let (Some(cert), Some(key)) = (&args.client_cert_file, &args.client_key_file) {
        tls = tls.identity_pem(read(cert)?, read(key)?).map_err(|error| error.to_string())?;
    }
    Ok(Channel::builder(format!("https://{host}:{}", args.server_port)).tls(tls))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))
}
