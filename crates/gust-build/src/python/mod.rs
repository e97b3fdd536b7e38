//! Python code generation: `.proto` files to the modules `python -m
//! grpc_tools.protoc` writes, without protoc or grpcio-tools.
//!
//! ```no_run
//! use gust_build::python::{self, Options, Output};
//!
//! let files = python::generate(&["proto/helloworld.proto"], &["proto"], &Options::new())?;
//! for file in files {
//!     let dir = match file.output {
//!         Output::Messages => "gen",
//!         Output::TypeStubs => "stubs",
//!         Output::Grpc => "gen",
//!     };
//!     let path = std::path::Path::new(dir).join(&file.path);
//!     std::fs::create_dir_all(path.parent().unwrap()).unwrap();
//!     std::fs::write(path, file.content).unwrap();
//! }
//! # Ok::<(), gust_build::Error>(())
//! ```
//!
//! For each requested `pkg/x.proto` (its name relative to the include
//! directory it was found in):
//!
//! - `pkg/x_pb2.py` ([`Output::Messages`]) embeds the serialized
//!   `FileDescriptorProto` and builds the message classes, enum wrappers and
//!   enum value constants with the official `protobuf` runtime's
//!   `google.protobuf.internal.builder`, like protoc's `--python_out`;
//! - `pkg/x_pb2.pyi` ([`Output::TypeStubs`]) holds type stubs for it, like
//!   `--pyi_out`;
//! - `pkg/x_pb2_grpc.py` ([`Output::Grpc`]) holds `XxxStub`, `XxxServicer`,
//!   `add_XxxServicer_to_server` and the experimental `Xxx` class for every
//!   service, like grpcio-tools' `--grpc_python_out`, with the comments of
//!   services and rpcs as docstrings.
//!
//! Imported files are parsed but get no output, as with protoc: generate them
//! too, or have their modules importable (the well-known types
//! `google/protobuf/*.proto` ship with the protobuf runtime).
//!
//! By default generated modules import each other absolutely
//! (`from pkg import y_pb2`), which requires the output directory to be on
//! `sys.path`. [`Options::relative_imports`] makes those imports relative to
//! the importing module's package instead, so the output directory can be a
//! package anywhere in a project.

mod comments;
mod descriptor;
mod grpc;
mod names;
mod pb2;
mod pyi;

use std::path::{Path, PathBuf};

use protox::prost_reflect::FileDescriptor;

use crate::Error;

/// What to generate, and how generated modules import each other.
///
/// ```
/// let options = gust_build::python::Options::new()
///     .type_stubs(false)
///     .relative_imports(true);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Generate `x_pb2.py` (protoc's `--python_out`).
    pub messages: bool,
    /// Generate `x_pb2.pyi` (protoc's `--pyi_out`).
    pub type_stubs: bool,
    /// Generate `x_pb2_grpc.py` (grpcio-tools' `--grpc_python_out`).
    pub grpc: bool,
    /// Import other generated modules relative to the importing module's
    /// package (`from . import y_pb2`) instead of absolutely
    /// (`import y_pb2`). The well-known types stay absolute: their modules
    /// come with the protobuf runtime.
    pub relative_imports: bool,
}

impl Options {
    /// All three kinds of files, with absolute imports: what
    /// `grpc_tools.protoc --python_out --pyi_out --grpc_python_out` writes.
    pub fn new() -> Options {
        Options { messages: true, type_stubs: true, grpc: true, relative_imports: false }
    }

    /// Whether to generate `x_pb2.py`.
    pub fn messages(mut self, enable: bool) -> Options {
        self.messages = enable;
        self
    }

    /// Whether to generate `x_pb2.pyi`.
    pub fn type_stubs(mut self, enable: bool) -> Options {
        self.type_stubs = enable;
        self
    }

    /// Whether to generate `x_pb2_grpc.py`.
    pub fn grpc(mut self, enable: bool) -> Options {
        self.grpc = enable;
        self
    }

    /// Whether generated modules import each other relative to their package.
    pub fn relative_imports(mut self, enable: bool) -> Options {
        self.relative_imports = enable;
        self
    }
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

/// Which kind of file a [`GeneratedFile`] is, i.e. which of protoc's output
/// directories it belongs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    /// `x_pb2.py`, for `--python_out`.
    Messages,
    /// `x_pb2.pyi`, for `--pyi_out`.
    TypeStubs,
    /// `x_pb2_grpc.py`, for `--grpc_python_out`.
    Grpc,
}

/// One generated file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The output directory it belongs in.
    pub output: Output,
    /// Its path relative to that directory, `/`-separated:
    /// `pkg/x_pb2.py`.
    pub path: String,
    /// Its text (ASCII unless the `.proto` comments are not).
    pub content: String,
}

/// Generates Python for `files`, searching `includes` for them and their
/// imports, in the order of the files (each file's `_pb2.py`, then `.pyi`,
/// then `_pb2_grpc.py`, as selected by `options`).
///
/// `files` are paths under one of the include directories, or names relative
/// to one of them; the generated paths follow the names relative to the
/// include directory. Nothing is returned if any file has an error; the error
/// reads `file:line:column: message`.
pub fn generate(
    files: &[impl AsRef<Path>],
    includes: &[impl AsRef<Path>],
    options: &Options,
) -> Result<Vec<GeneratedFile>, Error> {
    let includes: Vec<PathBuf> = includes.iter().map(|dir| dir.as_ref().to_owned()).collect();
    for file in files {
        let file = file.as_ref();
        if !file.is_file() && !includes.iter().any(|dir| dir.join(file).is_file()) {
            return Err(Error::not_found(file));
        }
    }
    let mut compiler = protox::Compiler::new(&includes)?;
    compiler
        .include_imports(true)
        // Source info carries the comments that become docstrings.
        .include_source_info(true)
        .open_files(files)?;
    let pool = compiler.descriptor_pool();
    // Each requested file with its text, which tells the few things the
    // descriptors do not (see `pb2`); files built into protox have none.
    let requested: Vec<(FileDescriptor, Option<String>)> = compiler
        .files()
        .filter(|file| !file.is_import())
        .filter_map(|file| {
            let source = file.path().and_then(|path| std::fs::read_to_string(path).ok());
            Some((pool.get_file_by_name(file.name())?, source))
        })
        .collect();

    for (file, _) in &requested {
        check(file)?;
    }
    let mut generated = Vec::new();
    for (file, source) in &requested {
        let name = file.name();
        if options.messages {
            generated.push(GeneratedFile {
                output: Output::Messages,
                path: names::file_path(name, ".py"),
                content: pb2::generate(file, source.as_deref(), options.relative_imports),
            });
        }
        if options.type_stubs {
            generated.push(GeneratedFile {
                output: Output::TypeStubs,
                path: names::file_path(name, ".pyi"),
                content: pyi::generate(file, options.relative_imports),
            });
        }
        if options.grpc {
            generated.push(GeneratedFile {
                output: Output::Grpc,
                path: names::file_path(name, "_grpc.py"),
                content: grpc::generate(file, options.relative_imports),
            });
        }
    }
    Ok(generated)
}

/// Field numbers locating services and rpcs in `SourceCodeInfo`.
const FILE_SERVICE_FIELD: i32 = 6;
const SERVICE_METHOD_FIELD: i32 = 2;

/// Rejects what is valid protobuf but would make invalid Python: module names
/// that are not identifiers, and services or rpcs named after Python
/// keywords (they become class and method names).
fn check(file: &FileDescriptor) -> Result<(), Error> {
    let mut imports: Vec<String> = Vec::new();
    for dependency in file.dependencies() {
        imports.push(dependency.name().to_owned());
        imports.extend(dependency.public_dependencies().map(|public| public.name().to_owned()));
    }
    names::check_module_names(file.name(), imports.iter().map(String::as_str))?;

    let comments = comments::Comments::new(file);
    for (service_index, service) in file.services().enumerate() {
        let service_path = [FILE_SERVICE_FIELD, service_index as i32];
        if names::is_keyword(service.name()) {
            return Err(Error::unsupported(format!(
                "{}: service `{}` is a Python keyword and cannot name the generated classes; \
                 rename the service",
                comments.location(file.name(), &service_path),
                service.name(),
            )));
        }
        for (method_index, method) in service.methods().enumerate() {
            if names::is_keyword(method.name()) {
                let path = [service_path[0], service_path[1], SERVICE_METHOD_FIELD, method_index as i32];
                return Err(Error::unsupported(format!(
                    "{}: rpc `{}` is a Python keyword and cannot name the generated methods; \
                     rename the rpc",
                    comments.location(file.name(), &path),
                    method.name(),
                )));
            }
        }
    }
    Ok(())
}
