//! From an accepted HTTP/2 stream to a service's call: validation of the
//! request headers, then dispatch by path.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use http::{Extensions, HeaderValue, Method, StatusCode};
use tokio_util::sync::CancellationToken;

use super::interceptor::{self, CallHead, Interceptor};
use super::responder::{send_trailers_only, SharedStream};
use super::{CallContext, ServerCall, ServerConfig, Service};
use crate::codec::{Encoding, ACCEPTED_ENCODINGS};
use crate::metadata::Metadata;
use crate::protocol;
use crate::status::Status;
use crate::transport::{AcceptedStream, Peer, ServerStream};

/// The services of a server, by fully qualified name.
#[derive(Default)]
pub(crate) struct Router {
    services: HashMap<&'static str, Arc<dyn Service>>,
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

    /// Serves one stream to completion.
    pub(crate) async fn serve_stream(
        &self,
        accepted: AcceptedStream,
        config: Arc<ServerConfig>,
        connection_cancellation: &CancellationToken,
        peer: Peer,
    ) {
        let AcceptedStream { head, body, mut stream } = accepted;
        if head.method != Method::POST {
            let message = format!("gRPC requires POST, got {}", head.method);
            return reject_http(&mut stream, StatusCode::METHOD_NOT_ALLOWED, &message);
        }
        let content_type = head.headers.get(protocol::CONTENT_TYPE).map(HeaderValue::as_bytes);
        if !content_type.is_some_and(protocol::is_grpc_content_type) {
            let message = format!("content-type {content_type:?} is not application/grpc");
            return reject_http(&mut stream, StatusCode::UNSUPPORTED_MEDIA_TYPE, &message);
        }
        let deadline = match head.headers.get(protocol::GRPC_TIMEOUT) {
            None => None,
            Some(value) => match protocol::timeout::parse(value.as_bytes()) {
                Some(timeout) => Instant::now().checked_add(timeout),
                None => return reject(&mut stream, Status::internal(format!("malformed grpc-timeout {value:?}"))),
            },
        };
        let encoding = match head.headers.get(protocol::GRPC_ENCODING) {
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
        let Some(path_and_query) = head.uri.path_and_query() else {
            return reject(&mut stream, Status::unimplemented("request without a method path"));
        };
        let path = path_and_query.path();
        let Some((service_name, method)) = split_path(path) else {
            return reject(&mut stream, Status::unimplemented(format!("malformed method path {path:?}")));
        };
        let Some(service) = self.services.get(service_name) else {
            return reject(&mut stream, Status::unimplemented(format!("unknown service {service_name}")));
        };
        let accept_encoding = head.headers.get(protocol::GRPC_ACCEPT_ENCODING).cloned();
        let mut metadata = Metadata::from_headers(head.headers);
        let mut extensions = Extensions::new();
        let mut peer = peer;
        if !self.interceptors.is_empty() {
            let mut call = CallHead::new(path.to_owned(), metadata, peer);
            // Boxed: its state would otherwise make every call's task
            // larger, and a task's future is copied as it starts.
            match Box::pin(interceptor::run(&self.interceptors, &mut call, deadline, connection_cancellation)).await {
                None => return,
                Some(Err(status)) => return reject(&mut stream, status),
                Some(Ok(())) => (metadata, extensions, peer) = call.into_parts(),
            }
        }
        let context = CallContext::new(deadline, accept_encoding, peer, extensions);
        let call = ServerCall {
            path: path_and_query.clone(),
            metadata,
            body,
            encoding,
            stream: SharedStream::new(stream),
            context,
            connection_cancellation: connection_cancellation.clone(),
            deadline,
            config,
        };
        service.call(method, call).await;
    }
}

/// Answers with a Trailers-Only response carrying `status`.
/// `/package.Service/Method` as the service and the method name.
pub(crate) fn split_path(path: &str) -> Option<(&str, &str)> {
    path.strip_prefix('/').and_then(|p| p.split_once('/'))
}

fn reject(stream: &mut ServerStream, status: Status) {
    reject_with(stream, status, Metadata::new());
}

/// Answers with a Trailers-Only response carrying `status` and `metadata`.
fn reject_with(stream: &mut ServerStream, status: Status, metadata: Metadata) {
    tracing::debug!(%status, "rejecting call");
    if let Err(error) = send_trailers_only(stream, StatusCode::OK, metadata, &status) {
        tracing::debug!(%error, "could not send the rejection");
    }
}

/// Answers a request that is not gRPC with an HTTP error status; the
/// `grpc-status` it also carries tells a gRPC client what happened.
fn reject_http(stream: &mut ServerStream, http_status: StatusCode, message: &str) {
    tracing::debug!(%http_status, message, "rejecting non-gRPC request");
    let mut metadata = Metadata::new();
    if http_status == StatusCode::METHOD_NOT_ALLOWED {
        // A fixed, valid entry: appending it cannot fail.
        let _ = metadata.append("allow", "POST");
    }
    if let Err(error) = send_trailers_only(stream, http_status, metadata, &Status::internal(message)) {
        tracing::debug!(%error, "could not send the rejection");
    }
}
