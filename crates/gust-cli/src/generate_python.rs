//! `gust gen python`: what `python -m grpc_tools.protoc` does for Python,
//! without protoc or grpcio-tools.
//!
//! The flags are protoc's, in both of its spellings (`-IDIR` or `-I DIR`,
//! `--python_out=DIR` or `--python_out DIR`), so existing build scripts only
//! change the command name.

use std::{fs, path::PathBuf};

use anyhow::Context as _;
use clap::{ArgGroup, Args};
use gust_build::python::{self, Options, Output};

/// Arguments of `gust gen python`, named like protoc's.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("outputs")
        .args(["python_out", "pyi_out", "grpc_python_out"])
        .required(true)
        .multiple(true)
))]
pub struct PythonArgs {
    /// Directory to search for imports; repeatable. Defaults to the current
    /// directory, as with protoc.
    #[arg(short = 'I', long = "proto_path", visible_alias = "proto-path", value_name = "DIR")]
    includes: Vec<PathBuf>,

    /// Write the message modules (x_pb2.py) into DIR.
    #[arg(long = "python_out", value_name = "DIR")]
    python_out: Option<PathBuf>,

    /// Write type stubs for the message modules (x_pb2.pyi) into DIR.
    #[arg(long = "pyi_out", value_name = "DIR")]
    pyi_out: Option<PathBuf>,

    /// Write the service modules (x_pb2_grpc.py) into DIR.
    #[arg(long = "grpc_python_out", value_name = "DIR")]
    grpc_python_out: Option<PathBuf>,

    /// Import other generated modules relative to the importing module's
    /// package (`from . import x_pb2`), so that the output directory can be a
    /// Python package anywhere in a project.
    #[arg(long = "relative_imports", visible_alias = "relative-imports")]
    relative_imports: bool,

    /// The .proto files to compile; their imports are read but get no output.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// Runs `gust gen python`: generates everything first, so that an error in
/// any file leaves the output directories untouched, then writes.
pub fn run(args: PythonArgs) -> anyhow::Result<()> {
    let includes = if args.includes.is_empty() { vec![PathBuf::from(".")] } else { args.includes };
    let options = Options::new()
        .messages(args.python_out.is_some())
        .type_stubs(args.pyi_out.is_some())
        .grpc(args.grpc_python_out.is_some())
        .relative_imports(args.relative_imports);
    let files = python::generate(&args.files, &includes, &options)?;
    for file in files {
        let dir = match file.output {
            Output::Messages => &args.python_out,
            Output::TypeStubs => &args.pyi_out,
            Output::Grpc => &args.grpc_python_out,
        };
        let Some(dir) = dir else { continue };
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, file.content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
