//! The one error type of gust-build.
//!
//! Its `Display` is meant to be shown to a person as is: problems in a
//! `.proto` file read `file:line:column: message`, like a compiler's.

use std::{fmt, io, path::PathBuf};

/// Why code generation failed.
///
/// `Debug` prints the same text as `Display` followed by the cause, because
/// build scripts usually end with `.unwrap()` or `?` in `main`, and those show
/// `Debug`: the person reading Cargo's output should see `file:line:column:`
/// rather than a struct dump.
pub struct Error {
    kind: Kind,
}

enum Kind {
    /// A `.proto` file could not be found, read, parsed or type-checked.
    Proto(protox::Error),
    /// A file to compile exists neither at the given path nor under any
    /// include directory. (protox would report it as "not in any include
    /// path", which sends people looking in the wrong place.)
    NotFound(PathBuf),
    /// The files are valid protobuf, but gust cannot generate Rust that
    /// compiles for them. Holds the complete `file:line:column: message` text.
    Unsupported(String),
    /// No output directory was configured and `OUT_DIR` is unset, i.e. the
    /// builder runs outside a build script without [`crate::Builder::out_dir`].
    NoOutDir,
    /// Writing the output failed.
    Io {
        /// What was being written, for the message.
        path: PathBuf,
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn not_found(path: impl Into<PathBuf>) -> Error {
        Error { kind: Kind::NotFound(path.into()) }
    }

    pub(crate) fn unsupported(message: String) -> Error {
        Error { kind: Kind::Unsupported(message) }
    }

    pub(crate) fn no_out_dir() -> Error {
        Error { kind: Kind::NoOutDir }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error { kind: Kind::Io { path: path.into(), source } }
    }
}

impl From<protox::Error> for Error {
    fn from(error: protox::Error) -> Error {
        Error { kind: Kind::Proto(error) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // protox renders the location (`file:line:column: message`) in its
            // `Debug` output only; its `Display` is the bare message.
            Kind::Proto(error) => write!(f, "{error:?}"),
            Kind::NotFound(path) => write!(f, "{}: file not found", path.display()),
            Kind::Unsupported(message) => f.write_str(message),
            Kind::NoOutDir => f.write_str(
                "no output directory: set one with `out_dir`, or run from a build script (OUT_DIR is unset)",
            ),
            Kind::Io { path, .. } => write!(f, "cannot write {}", path.display()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        if let Some(source) = std::error::Error::source(self) {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io { source, .. } => Some(source),
            // The protox error's text is already part of our `Display`.
            Kind::Proto(_) | Kind::NotFound(_) | Kind::Unsupported(_) | Kind::NoOutDir => None,
        }
    }
}
