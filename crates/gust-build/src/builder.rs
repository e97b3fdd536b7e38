//! The configurable entry point: which files, which search path, what to
//! generate, and where to write it.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

use crate::{check, descriptors, generator::GustGenerator, Error};

/// Options for one code generation run; start from [`crate::configure`].
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), gust_build::Error> {
///     gust_build::configure()
///         .build_client(false)
///         .compile(&["proto/fibonacci.proto"], &["proto"])
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    /// Where the `.rs` files go; `None` means Cargo's `OUT_DIR`.
    out_dir: Option<PathBuf>,
    /// Import search path, searched before the `includes` given to `compile`.
    includes: Vec<PathBuf>,
    /// Generate the handler trait and server wrapper; a client-only crate
    /// turns this off.
    build_server: bool,
    /// Generate the client; a server-only crate turns this off.
    build_client: bool,
    /// Where to also write the encoded `FileDescriptorSet`, for reflection.
    file_descriptor_set_path: Option<PathBuf>,
    /// Tell Cargo which files the output depends on; meaningless outside a
    /// build script, where the output would only be noise.
    emit_rerun_if_changed: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            out_dir: None,
            includes: Vec::new(),
            build_server: true,
            build_client: true,
            file_descriptor_set_path: None,
            emit_rerun_if_changed: running_in_build_script(),
        }
    }
}

impl Builder {
    /// Writes the generated files into `dir` (created if missing) instead of
    /// Cargo's `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out_dir = Some(dir.into());
        self
    }

    /// Adds `dir` to the import search path, like protoc's `-I`. Directories
    /// added here are searched first, in order, then those passed to
    /// [`compile`](Self::compile). The well-known types
    /// (`google/protobuf/*.proto`) are always available.
    pub fn include(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.includes.push(dir.into());
        self
    }

    /// Whether to generate the handler trait and `XxxServer<T>` for each
    /// service (default: yes).
    pub fn build_server(mut self, enable: bool) -> Builder {
        self.build_server = enable;
        self
    }

    /// Whether to generate `XxxClient` for each service (default: yes).
    pub fn build_client(mut self, enable: bool) -> Builder {
        self.build_client = enable;
        self
    }

    /// Also writes the compiled protos, with their imports and source info, as
    /// an encoded `google.protobuf.FileDescriptorSet` to `path`; servers use it
    /// to answer reflection requests. A relative `path` is taken relative to
    /// the output directory, so in a build script
    /// `include_bytes!(concat!(env!("OUT_DIR"), "/<path>"))` finds it.
    pub fn file_descriptor_set_path(mut self, path: impl Into<PathBuf>) -> Builder {
        self.file_descriptor_set_path = Some(path.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for every `.proto` file read,
    /// so Cargo reruns the build script exactly when one of them changes.
    /// Defaults to on inside a build script and off elsewhere.
    pub fn emit_rerun_if_changed(mut self, enable: bool) -> Builder {
        self.emit_rerun_if_changed = enable;
        self
    }

    /// Generates Rust for `protos` and everything they import: one file per
    /// protobuf package, named after it (`fibonacci.rs`, `foo.bar.rs`; `_.rs`
    /// for the empty package), holding prost messages and gust services. The
    /// file of a package with services also holds `FILE_DESCRIPTOR_SET`, the
    /// encoded descriptors of its files and their imports, for reflection.
    ///
    /// `protos` are paths to the files, under one of the include directories,
    /// or names relative to one of them. Nothing is written if any file has
    /// an error; the error reads `file:line:column: message`.
    pub fn compile(&self, protos: &[impl AsRef<Path>], includes: &[impl AsRef<Path>]) -> Result<(), Error> {
        let search_path: Vec<&Path> =
            self.includes.iter().map(PathBuf::as_path).chain(includes.iter().map(AsRef::as_ref)).collect();
        for proto in protos {
            let proto = proto.as_ref();
            if !proto.is_file() && !search_path.iter().any(|dir| dir.join(proto).is_file()) {
                return Err(Error::not_found(proto));
            }
        }
        let mut compiler = protox::Compiler::new(&search_path)?;
        compiler
            .include_imports(true)
            // Source info carries the comments that become doc comments.
            .include_source_info(true)
            .open_files(protos)?;
        let files = compiler.file_descriptor_set();
        if self.build_client {
            check::client_method_names(&files)?;
        }

        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => env::var_os("OUT_DIR").map(PathBuf::from).ok_or_else(Error::no_out_dir)?,
        };
        fs::create_dir_all(&out_dir).map_err(|error| Error::io(&out_dir, error))?;

        let mut config = prost_build::Config::new();
        config.out_dir(&out_dir);
        // `bytes` fields as `Bytes`, not `Vec<u8>`: decoding then slices the
        // received frame instead of copying it, and cloning a field (an echo,
        // a cache) costs a reference count instead of an allocation.
        config.bytes(["."]);
        config.service_generator(Box::new(GustGenerator {
            server: self.build_server,
            client: self.build_client,
            descriptor_sets: descriptors::per_package(&files),
        }));
        config.compile_fds(files).map_err(|error| Error::io(&out_dir, error))?;

        if let Some(path) = &self.file_descriptor_set_path {
            let path = out_dir.join(path);
            fs::write(&path, compiler.encode_file_descriptor_set()).map_err(|error| Error::io(path, error))?;
        }

        if self.emit_rerun_if_changed {
            // Well-known types are built into protox and have no path.
            for path in compiler.files().filter_map(|file| file.path()) {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        Ok(())
    }
}

/// Whether this process is a Cargo build script: Cargo sets `TARGET` only for
/// build scripts, and `OUT_DIR` for them and for compilation.
fn running_in_build_script() -> bool {
    env::var_os("TARGET").is_some() && env::var_os("OUT_DIR").is_some()
}
