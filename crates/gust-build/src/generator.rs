//! The hook through which prost-build hands us each service while it writes
//! the messages of a package.

use prost_build::{Service, ServiceGenerator};

use crate::{client, server};

/// Writes gust's server and client code for every service, right after the
/// messages of the same package, so the generated code can name those
/// messages by the relative paths prost-build resolved.
#[derive(Debug)]
pub(crate) struct GustGenerator {
    /// Emit the handler trait and `XxxServer<T>`.
    pub(crate) server: bool,
    /// Emit `XxxClient`.
    pub(crate) client: bool,
}

impl ServiceGenerator for GustGenerator {
    fn generate(&mut self, service: Service, buf: &mut String) {
        if self.server {
            server::generate(&service, buf);
        }
        if self.client {
            client::generate(&service, buf);
        }
    }
}
