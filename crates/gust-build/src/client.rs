//! Generates the client side of a service: `XxxClient`, a typed front for a
//! `::gust::Channel` with one async method per rpc.
//!
//! As on the server side, every path is absolute so that user-named messages
//! (`Status`, `Result`, ...) cannot change what the generated code means.

use prost_build::{Method, Service};

use crate::rpc::{self, Kind};

/// Names of the client's own inherent methods; an rpc whose Rust name is one of
/// them would not compile (`new`, `connect`) or would hide a trait method
/// callers rely on (`clone`). [`crate::check`] rejects such protos up front.
pub(crate) const RESERVED_METHOD_NAMES: [&str; 3] = ["new", "connect", "clone"];

/// Appends the client struct and its methods for `service` to `buf`.
pub(crate) fn generate(service: &Service, buf: &mut String) {
    let name = &service.name;
    service.comments.append_with_indent(0, buf);
    if !service.comments.leading.is_empty() || !service.comments.trailing.is_empty() {
        buf.push_str("///\n");
    }
    buf.push_str(&format!(
        "/// Client for `{qualified}`. Cloning is cheap: clones share the channel's connection.\n",
        qualified = rpc::qualified_name(service),
    ));
    if service.methods.is_empty() {
        // Nothing ever reads the channel of a service without rpcs.
        buf.push_str("#[allow(dead_code)]\n");
    }
    buf.push_str(&format!(
        "#[derive(Clone, Debug)]\n\
         pub struct {name}Client {{\n\
             channel: ::gust::Channel,\n\
         }}\n\
         impl {name}Client {{\n\
             /// Makes calls over `channel`, which may be shared with other clients.\n\
             pub fn new(channel: ::gust::Channel) -> Self {{\n\
                 Self {{ channel }}\n\
             }}\n\
             /// Connects eagerly to `uri` (e.g. `\"http://localhost:50051\"`), so that an \
             unreachable server is reported here rather than on the first call.\n\
             pub async fn connect(uri: &str) -> ::core::result::Result<Self, ::gust::Error> {{\n\
                 ::gust::Channel::connect(uri).await.map(Self::new)\n\
             }}\n"
    ));
    for method in &service.methods {
        client_method(service, method, buf);
    }
    buf.push_str("}\n");
}

/// One client method. Requests are taken as `impl IntoRequest` /
/// `impl IntoStreamingRequest` so callers can pass a bare message (or stream)
/// or a `Request` carrying metadata and a timeout.
fn client_method(service: &Service, method: &Method, buf: &mut String) {
    let kind = Kind::of(method);
    let (input, output) = (&method.input_type, &method.output_type);
    let (param, request) = if kind.streams_requests() {
        (format!("requests: impl ::gust::IntoStreamingRequest<Message = {input}>"), "requests.into_streaming_request()")
    } else {
        (format!("request: impl ::gust::IntoRequest<{input}>"), "request.into_request()")
    };
    let response = if kind.streams_responses() {
        format!("::gust::Streaming<{output}>")
    } else {
        format!("::gust::Response<{output}>")
    };
    method.comments.append_with_indent(1, buf);
    buf.push_str(&format!(
        "pub async fn {name}(&self, {param}) -> \
         ::core::result::Result<{response}, ::gust::Status> {{\n\
             self.channel.{runtime_fn}(\"{path}\", {request}).await\n\
         }}\n",
        name = method.name,
        runtime_fn = kind.runtime_fn(),
        path = rpc::wire_path(service, method),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::tests::fibonacci;

    fn generated(service: &Service) -> String {
        let mut buf = String::new();
        generate(service, &mut buf);
        buf
    }

    #[test]
    fn client_has_constructors() {
        let code = generated(&fibonacci());
        assert!(code.contains("#[derive(Clone, Debug)]\npub struct FibonacciClient {\nchannel: ::gust::Channel,\n}"));
        assert!(code.contains("pub fn new(channel: ::gust::Channel) -> Self {"));
        assert!(code.contains("pub async fn connect(uri: &str) -> ::core::result::Result<Self, ::gust::Error> {"));
        assert!(!code.contains("allow(dead_code)"));
    }

    #[test]
    fn one_method_per_kind() {
        let code = generated(&fibonacci());
        assert!(code.contains(
            "pub async fn at_index(&self, request: impl ::gust::IntoRequest<Number>) -> \
             ::core::result::Result<::gust::Response<super::other::Reply>, ::gust::Status> {\n\
             self.channel.unary(\"/fibonacci.Fibonacci/AtIndex\", request.into_request()).await\n}"
        ));
        assert!(code.contains(
            "pub async fn get_sequence(&self, request: impl ::gust::IntoRequest<Number>) -> \
             ::core::result::Result<::gust::Streaming<super::other::Reply>, ::gust::Status> {\n\
             self.channel.server_streaming(\"/fibonacci.Fibonacci/GetSequence\", request.into_request()).await"
        ));
        assert!(code.contains(
            "pub async fn sum_indicies(&self, requests: impl ::gust::IntoStreamingRequest<Message = Number>) -> \
             ::core::result::Result<::gust::Response<super::other::Reply>, ::gust::Status> {\n\
             self.channel.client_streaming(\"/fibonacci.Fibonacci/SumIndicies\", requests.into_streaming_request()).await"
        ));
        assert!(code.contains(
            "pub async fn stream_sequence(&self, requests: impl ::gust::IntoStreamingRequest<Message = Number>) -> \
             ::core::result::Result<::gust::Streaming<super::other::Reply>, ::gust::Status> {\n\
             self.channel.bidi_streaming(\"/fibonacci.Fibonacci/StreamSequence\", requests.into_streaming_request()).await"
        ));
    }

    #[test]
    fn comments_become_doc_comments() {
        let mut service = fibonacci();
        service.comments.leading = vec![" Computes Fibonacci numbers.".to_owned()];
        service.methods[1].comments.trailing = vec![" Streams the sequence.".to_owned()];
        let code = generated(&service);
        assert!(code.starts_with("/// Computes Fibonacci numbers.\n///\n/// Client for `fibonacci.Fibonacci`."));
        assert!(code.contains("    /// Streams the sequence.\npub async fn get_sequence("));
    }

    #[test]
    fn service_without_rpcs_allows_the_unread_channel() {
        let service = Service { methods: Vec::new(), ..fibonacci() };
        assert!(generated(&service).contains("#[allow(dead_code)]\n#[derive(Clone, Debug)]"));
    }
}
