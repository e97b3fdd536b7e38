//! Generates the server side of a service: the trait users implement, and the
//! `XxxServer<T>` wrapper that registers an implementation with a gust server.
//!
//! Every path in the output is absolute (`::gust::...`, `::core::...`) because
//! the code lands in a module full of user-named messages: a proto `Status`
//! enum or `Result` message must not change what the generated code means.

use prost_build::{Method, Service};

use crate::rpc::{self, Kind};

/// Appends the handler trait and its server wrapper for `service` to `buf`.
pub(crate) fn generate(service: &Service, buf: &mut String) {
    trait_(service, buf);
    wrapper(service, buf);
}

/// The trait with one async method per rpc.
///
/// Methods return `impl Future + Send` rather than being `async fn`, so that
/// the `Send` bound the multi-threaded server needs is part of the contract;
/// implementations may still be written as plain `async fn`.
fn trait_(service: &Service, buf: &mut String) {
    let name = &service.name;
    service.comments.append_with_indent(0, buf);
    if !service.comments.leading.is_empty() || !service.comments.trailing.is_empty() {
        buf.push_str("///\n");
    }
    buf.push_str(&format!(
        "/// Implement this trait to serve `{qualified}`, then register the implementation \
         with a server through [`{name}Server`].\n\
         pub trait {name}: ::core::marker::Send + ::core::marker::Sync + 'static {{\n",
        qualified = rpc::qualified_name(service),
    ));
    for method in &service.methods {
        trait_method(method, buf);
    }
    buf.push_str("}\n");
}

/// One trait method: streamed requests arrive as a `Streaming`, streamed
/// responses go into a `ResponseSink` and the method itself returns `()`.
fn trait_method(method: &Method, buf: &mut String) {
    let (params, _) = rpc::server_params(method);
    let output = if Kind::of(method).streams_responses() { "()" } else { method.output_type.as_str() };
    method.comments.append_with_indent(1, buf);
    buf.push_str(&format!(
        "fn {name}(&self, {params}) -> impl ::core::future::Future<Output = \
         ::core::result::Result<{output}, ::gust::Status>> + ::core::marker::Send;\n",
        name = method.name,
    ));
}

/// The wrapper struct, its constructors, `Clone`, and the `Service` impl that
/// routes each method name to the matching trait method.
///
/// `Clone` is written out because a derive would demand `T: Clone`; only the
/// `Arc` is cloned.
fn wrapper(service: &Service, buf: &mut String) {
    let name = &service.name;
    let qualified = rpc::qualified_name(service);
    buf.push_str(&format!(
        "/// Registers a [`{name}`] implementation with a gust server: \
         `Server::builder().add_service({name}Server::new(handler))`.\n\
         pub struct {name}Server<T> {{\n\
             inner: ::std::sync::Arc<T>,\n\
         }}\n\
         impl<T: {name}> {name}Server<T> {{\n\
             /// Wraps `inner` so that a server can route `{qualified}` calls to it.\n\
             pub fn new(inner: T) -> Self {{\n\
                 Self::from_arc(::std::sync::Arc::new(inner))\n\
             }}\n\
             /// Like [`new`](Self::new), for an implementation that other code also holds.\n\
             pub fn from_arc(inner: ::std::sync::Arc<T>) -> Self {{\n\
                 Self {{ inner }}\n\
             }}\n\
         }}\n\
         impl<T> ::core::clone::Clone for {name}Server<T> {{\n\
             fn clone(&self) -> Self {{\n\
                 Self {{ inner: ::std::sync::Arc::clone(&self.inner) }}\n\
             }}\n\
         }}\n\
         impl<T: {name}> ::gust::server::Service for {name}Server<T> {{\n\
             fn name(&self) -> &'static str {{\n\
                 \"{qualified}\"\n\
             }}\n"
    ));
    if service.methods.is_empty() {
        // Without rpcs there is nothing to match: every call is unimplemented.
        buf.push_str(
            "fn call(&self, _method: &str, call: ::gust::server::ServerCall) \
             -> ::gust::server::CallFuture {\n\
                 call.unimplemented()\n\
             }\n",
        );
    } else {
        buf.push_str(
            "fn call(&self, method: &str, call: ::gust::server::ServerCall) \
             -> ::gust::server::CallFuture {\n\
                 match method {\n",
        );
        for method in &service.methods {
            dispatch_arm(method, buf);
        }
        buf.push_str("_ => call.unimplemented(),\n}\n}\n");
    }
    buf.push_str("}\n");
}

/// The match arm that hands a call of `method` to the trait.
///
/// The closure's parameters are annotated so the runtime's generic message
/// types are fixed by the signature, not inferred from the handler body.
fn dispatch_arm(method: &Method, buf: &mut String) {
    let (params, args) = rpc::server_params(method);
    buf.push_str(&format!(
        "\"{proto_name}\" => {{\n\
             let inner = ::std::sync::Arc::clone(&self.inner);\n\
             call.{runtime_fn}(move |{params}| async move {{ inner.{name}({args}).await }})\n\
         }}\n",
        proto_name = method.proto_name,
        runtime_fn = Kind::of(method).runtime_fn(),
        name = method.name,
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
    fn trait_has_one_method_per_kind() {
        let code = generated(&fibonacci());
        assert!(code.contains("pub trait Fibonacci: ::core::marker::Send + ::core::marker::Sync + 'static {"));
        assert!(code.contains(
            "fn at_index(&self, request: ::gust::Request<Number>) -> impl ::core::future::Future<Output = \
             ::core::result::Result<super::other::Reply, ::gust::Status>> + ::core::marker::Send;"
        ));
        assert!(code.contains(
            "fn get_sequence(&self, request: ::gust::Request<Number>, responses: \
             ::gust::ResponseSink<super::other::Reply>) -> impl ::core::future::Future<Output = \
             ::core::result::Result<(), ::gust::Status>>"
        ));
        assert!(code.contains(
            "fn sum_indicies(&self, requests: ::gust::Request<::gust::Streaming<Number>>) -> \
             impl ::core::future::Future<Output = ::core::result::Result<super::other::Reply, ::gust::Status>>"
        ));
        assert!(code.contains(
            "fn stream_sequence(&self, requests: ::gust::Request<::gust::Streaming<Number>>, \
             responses: ::gust::ResponseSink<super::other::Reply>) -> impl ::core::future::Future<Output = \
             ::core::result::Result<(), ::gust::Status>>"
        ));
    }

    #[test]
    fn service_dispatches_proto_method_names() {
        let code = generated(&fibonacci());
        assert!(code.contains("impl<T: Fibonacci> ::gust::server::Service for FibonacciServer<T> {"));
        assert!(code.contains("\"fibonacci.Fibonacci\""));
        assert!(code.contains(
            "\"AtIndex\" => {\nlet inner = ::std::sync::Arc::clone(&self.inner);\n\
             call.unary(move |request: ::gust::Request<Number>| async move { inner.at_index(request).await })"
        ));
        assert!(code.contains(
            "call.server_streaming(move |request: ::gust::Request<Number>, responses: \
             ::gust::ResponseSink<super::other::Reply>| async move { inner.get_sequence(request, responses).await })"
        ));
        assert!(code.contains(
            "call.client_streaming(move |requests: ::gust::Request<::gust::Streaming<Number>>| \
             async move { inner.sum_indicies(requests).await })"
        ));
        assert!(code.contains(
            "call.bidi_streaming(move |requests: ::gust::Request<::gust::Streaming<Number>>, responses: \
             ::gust::ResponseSink<super::other::Reply>| async move { inner.stream_sequence(requests, responses).await })"
        ));
        assert!(code.contains("_ => call.unimplemented(),"));
    }

    #[test]
    fn comments_become_doc_comments() {
        let mut service = fibonacci();
        service.comments.leading = vec![" Computes Fibonacci numbers.".to_owned()];
        service.methods[0].comments.leading = vec![" The number at an index.".to_owned()];
        let code = generated(&service);
        assert!(code.starts_with("/// Computes Fibonacci numbers.\n///\n/// Implement this trait"));
        assert!(code.contains("    /// The number at an index.\nfn at_index("));
    }

    #[test]
    fn service_without_rpcs_answers_unimplemented() {
        let service = Service { methods: Vec::new(), ..fibonacci() };
        let code = generated(&service);
        assert!(code.contains("'static {\n}"));
        assert!(code.contains("_method: &str"));
        assert!(!code.contains("match method"));
    }
}
