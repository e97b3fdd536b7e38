//! `gust`: the command-line companion of the gust gRPC stack.
//!
//! Each subcommand lives in its own module; `main` only parses the command
//! line, dispatches, and turns an error into a message and exit code 1.

mod bench;
mod generate;
mod generate_python;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// gRPC for Rust and Python: code generation and tools.
#[derive(Debug, Parser)]
#[command(name = "gust", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands, one module each.
#[derive(Debug, Subcommand)]
enum Command {
    /// Generate code from .proto files (no protoc needed).
    #[command(name = "gen", subcommand)]
    Generate(generate::Target),
    /// Load-test a unary method: requests/s and latency percentiles.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(target) => generate::run(target),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` appends the causes: "cannot write out/x.rs: Permission denied".
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
