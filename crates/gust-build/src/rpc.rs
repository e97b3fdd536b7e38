//! What the server and client generators both need to know about one rpc:
//! its call kind, the names the runtime sees, and the Rust types on each side.

use prost_build::{Method, Service};

/// The four ways a gRPC method exchanges messages.
///
/// Each kind maps to one entry point of the runtime, and the runtime gives that
/// entry point the same name on both sides (`ServerCall::unary` and
/// `Channel::unary`, ...), so the kind alone decides which function the
/// generated code calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    ServerStreaming,
    /// A stream of requests, one response.
    ClientStreaming,
    /// Streams in both directions, independent of each other.
    BidiStreaming,
}

impl Kind {
    /// The kind declared by the `stream` keywords of `method`.
    pub(crate) fn of(method: &Method) -> Kind {
        match (method.client_streaming, method.server_streaming) {
            (false, false) => Kind::Unary,
            (false, true) => Kind::ServerStreaming,
            (true, false) => Kind::ClientStreaming,
            (true, true) => Kind::BidiStreaming,
        }
    }

    /// The runtime function, on `::gust::server::ServerCall` and on
    /// `::gust::Channel`, that carries a call of this kind.
    pub(crate) fn runtime_fn(self) -> &'static str {
        match self {
            Kind::Unary => "unary",
            Kind::ServerStreaming => "server_streaming",
            Kind::ClientStreaming => "client_streaming",
            Kind::BidiStreaming => "bidi_streaming",
        }
    }

    /// Whether the client sends a stream; then the request carries a
    /// `Streaming<_>` on the server and an `IntoStreamingRequest` on the client.
    pub(crate) fn streams_requests(self) -> bool {
        matches!(self, Kind::ClientStreaming | Kind::BidiStreaming)
    }

    /// Whether the server sends a stream; then the handler writes into a
    /// `ResponseSink` and the client receives a `Streaming<_>`.
    pub(crate) fn streams_responses(self) -> bool {
        matches!(self, Kind::ServerStreaming | Kind::BidiStreaming)
    }
}

/// The fully qualified service name, `package.Service`, as servers register
/// it and as it appears in the request path (no leading dot for the empty
/// package).
pub(crate) fn qualified_name(service: &Service) -> String {
    if service.package.is_empty() {
        service.proto_name.clone()
    } else {
        format!("{}.{}", service.package, service.proto_name)
    }
}

/// The HTTP/2 `:path` of `method`: `/package.Service/Method`, with the names
/// exactly as written in the `.proto` file, as every gRPC peer expects.
pub(crate) fn wire_path(service: &Service, method: &Method) -> String {
    format!("/{}/{}", qualified_name(service), method.proto_name)
}

/// The parameters of the handler for `method`, after `&self`: their
/// declaration (`request: ::gust::Request<In>, responses: ...`) and the bare
/// names to forward them with (`request, responses`).
///
/// The trait method and the closure that calls it share this, so the two can
/// never disagree.
pub(crate) fn server_params(method: &Method) -> (String, &'static str) {
    let kind = Kind::of(method);
    let request = if kind.streams_requests() {
        format!("requests: ::gust::Request<::gust::Streaming<{}>>", method.input_type)
    } else {
        format!("request: ::gust::Request<{}>", method.input_type)
    };
    let names = match (kind.streams_requests(), kind.streams_responses()) {
        (false, false) => "request",
        (false, true) => "request, responses",
        (true, false) => "requests",
        (true, true) => "requests, responses",
    };
    if kind.streams_responses() {
        let sink = format!("responses: ::gust::ResponseSink<{}>", method.output_type);
        (format!("{request}, {sink}"), names)
    } else {
        (request, names)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use prost_build::Comments;

    /// A method as prost-build would describe it, for the generators' tests.
    pub(crate) fn method(proto_name: &str, client_streaming: bool, server_streaming: bool) -> Method {
        Method {
            name: heck::ToSnakeCase::to_snake_case(proto_name),
            proto_name: proto_name.to_owned(),
            comments: Comments::default(),
            input_type: "Number".to_owned(),
            output_type: "super::other::Reply".to_owned(),
            input_proto_type: ".fibonacci.Number".to_owned(),
            output_proto_type: ".other.Reply".to_owned(),
            options: Default::default(),
            client_streaming,
            server_streaming,
        }
    }

    /// The Fibonacci service of the seeds: one rpc of each kind.
    pub(crate) fn fibonacci() -> Service {
        Service {
            name: "Fibonacci".to_owned(),
            proto_name: "Fibonacci".to_owned(),
            package: "fibonacci".to_owned(),
            comments: Comments::default(),
            methods: vec![
                method("AtIndex", false, false),
                method("GetSequence", false, true),
                method("SumIndicies", true, false),
                method("StreamSequence", true, true),
            ],
            options: Default::default(),
        }
    }

    #[test]
    fn kinds_follow_the_stream_keywords() {
        let kinds: Vec<Kind> = fibonacci().methods.iter().map(Kind::of).collect();
        assert_eq!(kinds, [Kind::Unary, Kind::ServerStreaming, Kind::ClientStreaming, Kind::BidiStreaming]);
    }

    #[test]
    fn wire_path_uses_proto_names() {
        let service = fibonacci();
        assert_eq!(wire_path(&service, &service.methods[0]), "/fibonacci.Fibonacci/AtIndex");
    }

    #[test]
    fn wire_path_without_package_has_no_leading_dot() {
        let service = Service { package: String::new(), ..fibonacci() };
        assert_eq!(qualified_name(&service), "Fibonacci");
        assert_eq!(wire_path(&service, &service.methods[1]), "/Fibonacci/GetSequence");
    }

    #[test]
    fn nested_packages_are_dotted() {
        let service = Service { package: "foo.bar.v1".to_owned(), ..fibonacci() };
        assert_eq!(qualified_name(&service), "foo.bar.v1.Fibonacci");
    }

    #[test]
    fn handler_params_follow_the_kind() {
        let params: Vec<_> = fibonacci().methods.iter().map(server_params).collect();
        assert_eq!(params[0], ("request: ::gust::Request<Number>".to_owned(), "request"));
        assert_eq!(
            params[1],
            (
                "request: ::gust::Request<Number>, \
                 responses: ::gust::ResponseSink<super::other::Reply>"
                    .to_owned(),
                "request, responses"
            )
        );
        assert_eq!(params[2], ("requests: ::gust::Request<::gust::Streaming<Number>>".to_owned(), "requests"));
        assert_eq!(
            params[3],
            (
                "requests: ::gust::Request<::gust::Streaming<Number>>, \
                 responses: ::gust::ResponseSink<super::other::Reply>"
                    .to_owned(),
                "requests, responses"
            )
        );
    }
}
