//! Errors outside calls: a channel that cannot be set up or connected, TLS
//! settings that cannot be used.
//! Errors of calls are [`Status`](crate::Status) values.

use std::fmt;

/// Why a channel could not be created or connected, or TLS settings were
/// refused.
#[derive(Debug, Clone)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn invalid_uri(uri: &str, reason: impl fmt::Display) -> Error {
        Error { message: format!("invalid URI {uri:?}: {reason}") }
    }

    pub(crate) fn tls(reason: impl fmt::Display) -> Error {
        Error { message: format!("TLS: {reason}") }
    }

    pub(crate) fn connect(status: crate::Status) -> Error {
        Error { message: status.message().to_owned() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
