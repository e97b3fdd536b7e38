//! A request's header block, checked as RFC 9113 8.3 asks and turned into
//! the `http` head the gRPC layer reads.

use bytes::Bytes;
use http::header::{self, HeaderMap};
use http::uri::PathAndQuery;
use http::{Method, Uri, Version};

use super::hpack::Header;

/// Why a request head was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Larger than our SETTINGS_MAX_HEADER_LIST_SIZE.
    TooLarge,
    /// Malformed (RFC 9113 8.1.1): a stream error PROTOCOL_ERROR.
    Malformed(&'static str),
}

/// Collects a request's fields as the decoder hands them out.
pub(crate) struct RequestHead {
    method: Option<Bytes>,
    scheme: bool,
    path: Option<Bytes>,
    headers: HeaderMap,
    /// The list's size as RFC 7541 4.1 counts it.
    size: usize,
    max_size: usize,
    /// The first rule broken; the rest of the block is still decoded (the
    /// HPACK table must stay in step with the peer's) but not kept.
    rejected: Option<Rejected>,
}

impl RequestHead {
    pub(crate) fn new(max_size: usize) -> RequestHead {
        RequestHead {
            method: None,
            scheme: false,
            path: None,
            headers: HeaderMap::new(),
            size: 0,
            max_size,
            rejected: None,
        }
    }

    /// Takes the next field of the block.
    pub(crate) fn push(&mut self, field: Header) {
        if self.rejected.is_some() {
            return;
        }
        self.size += field.size();
        if self.size > self.max_size {
            self.reject(Rejected::TooLarge);
            return;
        }
        let pseudo_after_regular = !self.headers.is_empty();
        match field {
            Header::Field { name, value } => {
                if is_connection_specific(&name) {
                    return self.reject(Rejected::Malformed("connection-specific header field"));
                }
                if name == header::TE && value.as_bytes() != b"trailers" {
                    return self.reject(Rejected::Malformed("te other than \"trailers\""));
                }
                self.headers.append(name, value);
            }
            _ if pseudo_after_regular => self.reject(Rejected::Malformed("pseudo-header field after a regular one")),
            Header::Method(method) => set_once(&mut self.method, method, &mut self.rejected),
            Header::Path(path) => set_once(&mut self.path, path, &mut self.rejected),
            Header::Scheme(_) if self.scheme => self.reject(Rejected::Malformed("repeated :scheme")),
            Header::Scheme(_) => self.scheme = true,
            // Not needed to serve gRPC: the path names the method. (Its
            // form is checked by nobody here, as no one reads it.)
            Header::Authority(_) => {}
            Header::Status(_) => self.reject(Rejected::Malformed(":status in a request")),
            Header::Protocol(_) => self.reject(Rejected::Malformed(":protocol without extended CONNECT")),
        }
    }

    fn reject(&mut self, why: Rejected) {
        self.rejected.get_or_insert(why);
    }

    /// The head of a request, once the block is decoded. The URI holds the
    /// path only: scheme and authority are not used to serve gRPC, and
    /// parsing the authority would cost every call.
    pub(crate) fn finish(self) -> Result<http::request::Parts, Rejected> {
        if let Some(why) = self.rejected {
            return Err(why);
        }
        let method = self.method.ok_or(Rejected::Malformed("no :method"))?;
        let path = self.path.ok_or(Rejected::Malformed("no :path"))?;
        if !self.scheme {
            return Err(Rejected::Malformed("no :scheme"));
        }
        // Checked before parsing: `http` reads an empty path as "/".
        if path.is_empty() {
            return Err(Rejected::Malformed("empty :path"));
        }
        let method = Method::from_bytes(&method).map_err(|_| Rejected::Malformed("invalid :method"))?;
        let path = PathAndQuery::from_maybe_shared(path).map_err(|_| Rejected::Malformed("invalid :path"))?;
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = method;
        parts.uri = Uri::from(path);
        parts.version = Version::HTTP_2;
        parts.headers = self.headers;
        Ok(parts)
    }
}

fn set_once(slot: &mut Option<Bytes>, value: Bytes, rejected: &mut Option<Rejected>) {
    if slot.is_some() {
        rejected.get_or_insert(Rejected::Malformed("repeated pseudo-header field"));
    } else {
        *slot = Some(value);
    }
}

/// Fields HTTP/2 forbids (RFC 9113 8.2.2).
fn is_connection_specific(name: &http::HeaderName) -> bool {
    *name == header::CONNECTION
        || *name == header::TRANSFER_ENCODING
        || *name == header::UPGRADE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

#[cfg(test)]
mod tests {
    use http::{HeaderName, HeaderValue};

    use super::*;

    fn field(name: &'static str, value: &'static str) -> Header {
        Header::Field { name: HeaderName::from_static(name), value: HeaderValue::from_static(value) }
    }

    fn request(fields: Vec<Header>) -> Result<http::request::Parts, Rejected> {
        let mut head = RequestHead::new(16 * 1024);
        for field in fields {
            head.push(field);
        }
        head.finish()
    }

    fn pseudo() -> Vec<Header> {
        vec![
            Header::Method(Bytes::from_static(b"POST")),
            Header::Scheme(Bytes::from_static(b"http")),
            Header::Path(Bytes::from_static(b"/pkg.Service/Method")),
            Header::Authority(Bytes::from_static(b"localhost")),
        ]
    }

    #[test]
    fn a_grpc_request_becomes_a_head() {
        let mut fields = pseudo();
        fields.push(field("content-type", "application/grpc"));
        fields.push(field("te", "trailers"));
        let head = request(fields).unwrap();
        assert_eq!(head.method, Method::POST);
        assert_eq!(head.uri.path(), "/pkg.Service/Method");
        assert_eq!(head.headers["content-type"], "application/grpc");
        assert_eq!(head.headers.len(), 2);
    }

    #[test]
    fn broken_rules_are_malformed() {
        let cases: Vec<(Vec<Header>, &str)> = vec![
            (pseudo().into_iter().skip(1).collect(), "no :method"),
            (pseudo().into_iter().filter(|h| !matches!(h, Header::Path(_))).collect(), "no :path"),
            (pseudo().into_iter().filter(|h| !matches!(h, Header::Scheme(_))).collect(), "no :scheme"),
            ([pseudo(), vec![Header::Path(Bytes::from_static(b"/again"))]].concat(), "repeated pseudo-header field"),
            ([vec![field("a", "b")], pseudo()].concat(), "pseudo-header field after a regular one"),
            ([pseudo(), vec![field("connection", "close")]].concat(), "connection-specific header field"),
            ([pseudo(), vec![field("te", "gzip")]].concat(), "te other than \"trailers\""),
            ([pseudo(), vec![Header::Status(Bytes::from_static(b"200"))]].concat(), ":status in a request"),
            (
                pseudo()
                    .into_iter()
                    .map(|h| if matches!(h, Header::Path(_)) { Header::Path(Bytes::new()) } else { h })
                    .collect(),
                "empty :path",
            ),
        ];
        for (fields, why) in cases {
            assert_eq!(request(fields).unwrap_err(), Rejected::Malformed(why));
        }
    }

    #[test]
    fn a_list_over_the_limit_is_too_large() {
        let mut head = RequestHead::new(100);
        for field in pseudo() {
            head.push(field);
        }
        head.push(Header::Field {
            name: HeaderName::from_static("x-big"),
            value: HeaderValue::from_bytes(&[b'a'; 64]).unwrap(),
        });
        assert_eq!(head.finish().unwrap_err(), Rejected::TooLarge);
    }
}
