//! The interop test client:
//! `interop-client --server_host H --server_port P --test_case NAME [--use_tls false]`.
//!
//! Runs one test case (or `all`) against the server and exits 0 if it passed;
//! otherwise prints which case failed and what differed, and exits 1.

use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Parser};
use gust_interop::client::{Client, Settings, SoakSettings, TestCase};

#[derive(Parser, Debug)]
#[command(name = "interop-client", about = "gRPC interop test client written with gust")]
struct Args {
    /// Host of the server.
    #[arg(long = "server_host", default_value = "localhost")]
    server_host: String,
    /// Host name to claim (TLS and :authority); accepted for compatibility,
    /// unused without TLS.
    #[arg(long = "server_host_override")]
    server_host_override: Option<String>,
    /// Port of the server.
    #[arg(long = "server_port", default_value_t = 8080)]
    server_port: u16,
    /// The case to run (e.g. `large_unary`), or `all`.
    #[arg(long = "test_case", default_value = "large_unary")]
    test_case: String,
    /// Use TLS (not supported yet: must be false).
    #[arg(long = "use_tls", default_value_t = false, action = ArgAction::Set)]
    use_tls: bool,
    /// Use the test CA (accepted for compatibility; TLS is not supported yet).
    #[arg(long = "use_test_ca", default_value_t = false, action = ArgAction::Set)]
    use_test_ca: bool,
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
    if args.use_tls || args.use_test_ca {
        eprintln!("interop-client: TLS is not supported yet (gust has no TLS); use --use_tls=false");
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
    let client = match Client::new(&format!("http://{host}:{}", args.server_port), settings) {
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
