//! `gust gen`: the counterpart of `python -m grpc_tools.protoc`, one
//! subcommand per target language.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// The language to generate.
#[derive(Debug, Subcommand)]
pub enum Target {
    /// Rust: prost messages, and a trait, server and client per service.
    ///
    /// Writes one <package>.rs per protobuf package into --out.
    Rust(RustArgs),

    /// Python: x_pb2.py, x_pb2.pyi and x_pb2_grpc.py, like
    /// `python -m grpc_tools.protoc`, without protoc or grpcio-tools.
    ///
    /// Accepts protoc's flags: -IDIR, --python_out=DIR, --pyi_out=DIR,
    /// --grpc_python_out=DIR.
    Python(crate::generate_python::PythonArgs),
}

/// Arguments of `gust gen rust`, named like protoc's where they overlap.
#[derive(Debug, Args)]
pub struct RustArgs {
    /// Directory to search for imports; repeatable. Defaults to the current
    /// directory, as with protoc.
    #[arg(short = 'I', long = "proto-path", value_name = "DIR")]
    includes: Vec<PathBuf>,

    /// Directory to write the generated files into; created if missing.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Do not generate service traits and servers.
    #[arg(long)]
    no_server: bool,

    /// Do not generate clients.
    #[arg(long)]
    no_client: bool,

    /// The .proto files to compile; imports are compiled along with them.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// Runs `gust gen <target>`.
pub fn run(target: Target) -> anyhow::Result<()> {
    match target {
        Target::Rust(args) => rust(args),
        Target::Python(args) => crate::generate_python::run(args),
    }
}

fn rust(args: RustArgs) -> anyhow::Result<()> {
    let includes = if args.includes.is_empty() { vec![PathBuf::from(".")] } else { args.includes };
    gust_build::configure()
        .out_dir(args.out)
        .build_server(!args.no_server)
        .build_client(!args.no_client)
        // A person ran this command; Cargo is not listening.
        .emit_rerun_if_changed(false)
        .compile(&args.files, &includes)?;
    Ok(())
}
