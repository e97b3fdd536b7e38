//! From an accepted HTTP/2 stream to a service's call: validation of the
//! request headers, then dispatch by path.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Instant;

use http::uri::PathAndQuery;
use http::{Extensions, HeaderValue, Method, StatusCode};
use tokio_util::sync::CancellationToken;

use super::interceptor::{self, CallHead, Interceptor};
use super::responder::send_trailers_only;
use super::{CallContext, CallFuture, ServerCall, ServerConfig, Service};
use crate::codec::{Encoding, ACCEPTED_ENCODINGS};
use crate::metadata::Metadata;
use crate::protocol;
use crate::status::Status;
use crate::transport::{AcceptedStream, Peer, RecvBody, ServerStream};

/// The services of a server, by fully qualified name.
#[derive(Default)]
pub(crate) struct Router {
    services: HashMap<&'static str, Arc<dyn Service>, BuildHasherDefault<ServiceNameHasher>>,
    /// Run in order before every call's handler.
    interceptors: Vec<Arc<dyn Interceptor>>,
}

impl Router {
    pub(crate) fn add(&mut self, service: Arc<dyn Service>) {
        self.services.insert(service.name(), service);
    }

    pub(crate) fn add_interceptor(&mut self, interceptor: Arc<dyn Interceptor>) {
        self.interceptors.push(interceptor);
    }

    /// Whether calls pass through interceptors before their handler.
    pub(crate) fn has_interceptors(&self) -> bool {
        !self.interceptors.is_empty()
    }

    /// Checks a stream's request headers and finds its service. A stream
    /// that fails the checks is answered here (an HTTP error, or a
    /// Trailers-Only status) and `None` returned. Synchronous, so that the
    /// connection routes a stream before spawning its task, and the task
    /// carries only the call's boxed future.
    pub(crate) fn route(&self, accepted: AcceptedStream, peer: Peer) -> Option<RoutedCall> {
        let AcceptedStream { head, body, mut stream } = accepted;
        if head.method != Method::POST {
            let message = format!("gRPC requires POST, got {}", head.method);
            return reject_http(&mut stream, StatusCode::METHOD_NOT_ALLOWED, &message);
        }
        let (headers, metadata) = ProtocolHeaders::read(&head.headers);
        let content_type = headers.content_type.map(HeaderValue::as_bytes);
        if !content_type.is_some_and(protocol::is_grpc_content_type) {
            let message = format!("content-type {content_type:?} is not application/grpc");
            return reject_http(&mut stream, StatusCode::UNSUPPORTED_MEDIA_TYPE, &message);
        }
        let deadline = match headers.timeout {
            None => None,
            Some(value) => match protocol::timeout::parse(value.as_bytes()) {
                Some(timeout) => Instant::now().checked_add(timeout),
                None => return reject(&mut stream, Status::internal(format!("malformed grpc-timeout {value:?}"))),
            },
        };
        let encoding = match headers.encoding {
            None => None,
            Some(name) => match Encoding::from_name(name.as_bytes()) {
                Some(encoding) => Some(encoding),
                None => {
                    let message = format!(
                        "unsupported grpc-encoding {:?}; accepted: {ACCEPTED_ENCODINGS}",
                        String::from_utf8_lossy(name.as_bytes())
                    );
                    let mut accepted = Metadata::new();
                    accepted.append_reserved(protocol::GRPC_ACCEPT_ENCODING, ACCEPTED_ENCODINGS);
                    return reject_with(&mut stream, Status::unimplemented(message), accepted);
                }
            },
        };
        let Some(path) = head.uri.into_parts().path_and_query else {
            return reject(&mut stream, Status::unimplemented("request without a method path"));
        };
        let Some((service_name, method)) = split_path(path.path()) else {
            return reject(&mut stream, Status::unimplemented(format!("malformed method path {:?}", path.path())));
        };
        let Some(service) = self.services.get(service_name) else {
            return reject(&mut stream, Status::unimplemented(format!("unknown service {service_name}")));
        };
        let method_at = path.path().len() - method.len();
        Some(RoutedCall {
            service: service.clone(),
            accept_encoding: headers.accept_encoding.cloned(),
            metadata,
            extensions: Extensions::new(),
            path,
            method_at,
            peer,
            body,
            stream,
            encoding,
            deadline,
        })
    }

    /// Runs the interceptors on a routed call: it goes on with the metadata,
    /// extensions and peer they leave, or is answered with the status one
    /// failed it with (`None` either way when it does not go on).
    pub(crate) async fn intercept(
        &self,
        mut call: RoutedCall,
        connection_cancellation: &CancellationToken,
    ) -> Option<RoutedCall> {
        let mut head = CallHead::new(call.path.path().to_owned(), call.metadata, call.peer);
        match interceptor::run(&self.interceptors, &mut head, call.deadline, connection_cancellation).await {
            None => None,
            Some(Err(status)) => reject(&mut call.stream, status),
            Some(Ok(())) => {
                (call.metadata, call.extensions, call.peer) = head.into_parts();
                Some(call)
            }
        }
    }
}

/// The reserved request headers a server reads (the first value of each),
/// borrowed from the request's headers.
#[derive(Default)]
struct ProtocolHeaders<'a> {
    content_type: Option<&'a HeaderValue>,
    timeout: Option<&'a HeaderValue>,
    encoding: Option<&'a HeaderValue>,
    accept_encoding: Option<&'a HeaderValue>,
}

impl<'a> ProtocolHeaders<'a> {
    /// Picks them out of the request headers in the pass that keeps the
    /// others as the call's metadata: one walk over the headers rather than
    /// a hashed lookup for each.
    fn read(headers: &'a http::HeaderMap) -> (ProtocolHeaders<'a>, Metadata) {
        let mut read = ProtocolHeaders::default();
        let metadata = Metadata::from_headers_with(headers, |name, value| {
            let slot = if name == protocol::CONTENT_TYPE {
                &mut read.content_type
            } else if name == protocol::GRPC_TIMEOUT {
                &mut read.timeout
            } else if name == protocol::GRPC_ENCODING {
                &mut read.encoding
            } else if name == protocol::GRPC_ACCEPT_ENCODING {
                &mut read.accept_encoding
            } else {
                return;
            };
            slot.get_or_insert(value);
        });
        (read, metadata)
    }
}

/// FNV-1a, for the service table: every call looks its service up, and the
/// standard library's SipHash costs about a hundred instructions more per
/// call. SipHash resists collisions chosen by whoever picks the keys; here
/// the server picks them, and a client's path can only miss.
struct ServiceNameHasher(u64);

impl Default for ServiceNameHasher {
    fn default() -> ServiceNameHasher {
        // FNV-1a's 64-bit offset basis.
        ServiceNameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for ServiceNameHasher {
    fn write(&mut self, bytes: &[u8]) {
        // FNV-1a's 64-bit prime.
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A stream whose request headers passed the router's checks, with the
/// service that serves it.
pub(crate) struct RoutedCall {
    service: Arc<dyn Service>,
    /// `/package.Service/Method`.
    path: PathAndQuery,
    /// Where the method name starts in `path`: found while routing, not
    /// searched for again.
    method_at: usize,
    metadata: Metadata,
    extensions: Extensions,
    peer: Peer,
    body: RecvBody,
    stream: ServerStream,
    /// The request's `grpc-encoding`.
    encoding: Option<Encoding>,
    /// The request's `grpc-accept-encoding`, for the response's compression.
    accept_encoding: Option<HeaderValue>,
    deadline: Option<Instant>,
}

impl RoutedCall {
    /// The future that serves the call: its service's handler, driven to
    /// the end.
    pub(crate) fn start(
        self,
        config: Arc<ServerConfig>,
        connection_cancellation: &Arc<CancellationToken>,
    ) -> CallFuture {
        let RoutedCall {
            service,
            path,
            method_at,
            metadata,
            extensions,
            peer,
            body,
            stream,
            encoding,
            accept_encoding,
            deadline,
        } = self;
        let (context, stream) = CallContext::new(deadline, accept_encoding, peer, extensions, stream);
        // A second handle on the path's bytes lends the method name while
        // the call owns the path.
        let lent = path.clone();
        let method = &lent.path()[method_at..];
        let call = ServerCall {
            path,
            metadata,
            body,
            encoding,
            stream,
            context,
            connection_cancellation: connection_cancellation.clone(),
            deadline,
            config,
        };
        service.call(method, call)
    }
}

/// `/package.Service/Method` as the service and the method name.
pub(crate) fn split_path(path: &str) -> Option<(&str, &str)> {
    path.strip_prefix('/').and_then(|p| p.split_once('/'))
}

/// Answers with a Trailers-Only response carrying `status`; the call goes
/// no further.
fn reject<T>(stream: &mut ServerStream, status: Status) -> Option<T> {
    reject_with(stream, status, Metadata::new())
}

/// Answers with a Trailers-Only response carrying `status` and `metadata`;
/// the call goes no further.
fn reject_with<T>(stream: &mut ServerStream, status: Status, metadata: Metadata) -> Option<T> {
    tracing::debug!(%status, "rejecting call");
    if let Err(error) = send_trailers_only(stream, StatusCode::OK, metadata, &status) {
        tracing::debug!(%error, "could not send the rejection");
    }
    None
}

/// Answers a request that is not gRPC with an HTTP error status; the
/// `grpc-status` it also carries tells a gRPC client what happened. The
/// call goes no further.
fn reject_http<T>(stream: &mut ServerStream, http_status: StatusCode, message: &str) -> Option<T> {
    tracing::debug!(%http_status, message, "rejecting non-gRPC request");
    let mut metadata = Metadata::new();
    if http_status == StatusCode::METHOD_NOT_ALLOWED {
        // A fixed, valid entry: appending it cannot fail.
        let _ = metadata.append("allow", "POST");
    }
    if let Err(error) = send_trailers_only(stream, http_status, metadata, &Status::internal(message)) {
        tracing::debug!(%error, "could not send the rejection");
    }
    None
}
