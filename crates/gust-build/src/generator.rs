//! The hook through which prost-build hands us each service while it writes
//! the messages of a package.

use std::collections::BTreeMap;

use prost_build::{Service, ServiceGenerator};

use crate::{client, descriptors, server};

/// Writes gust's server and client code for every service, right after the
/// messages of the same package, so the generated code can name those
/// messages by the relative paths prost-build resolved; and, once per package
/// with services, its `FILE_DESCRIPTOR_SET` for reflection.
#[derive(Debug)]
pub(crate) struct GustGenerator {
    /// Emit the handler trait and `XxxServer<T>`.
    pub(crate) server: bool,
    /// Emit `XxxClient`.
    pub(crate) client: bool,
    /// The encoded descriptor set of each package, by package name.
    pub(crate) descriptor_sets: BTreeMap<String, Vec<u8>>,
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

    /// prost-build calls this only for packages with services: those are what
    /// reflection describes, and their sets include the message-only packages
    /// they import.
    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        if let Some(encoded) = self.descriptor_sets.get(package) {
            buf.push_str(&descriptors::constant(encoded));
        }
    }
}
