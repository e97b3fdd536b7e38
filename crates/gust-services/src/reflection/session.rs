//! One reflection stream: each request gets one response, and files already
//! sent on the stream are not sent again as dependencies.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use gust::Code;

use super::index::Index;
use super::v1::server_reflection_request::MessageRequest;
use super::v1::server_reflection_response::MessageResponse;
use super::v1::{
    ErrorResponse, ExtensionNumberResponse, FileDescriptorResponse, ListServiceResponse, ServerReflectionRequest,
    ServerReflectionResponse, ServiceResponse,
};

/// The state of one `ServerReflectionInfo` call.
pub(crate) struct Session {
    index: Arc<Index>,
    /// Names of the files sent so far on this stream.
    sent: HashSet<String>,
}

impl Session {
    pub(crate) fn new(index: Arc<Index>) -> Session {
        Session { index, sent: HashSet::new() }
    }

    /// The answer to `request`: what it asked for, or an `ErrorResponse`
    /// (NOT_FOUND for what is not known); the stream goes on either way.
    pub(crate) fn answer(&mut self, request: ServerReflectionRequest) -> ServerReflectionResponse {
        let answer = match &request.message_request {
            Some(MessageRequest::FileByFilename(name)) => {
                self.files(self.index.file(name).map(|_| name.clone()), "file", name)
            }
            Some(MessageRequest::FileContainingSymbol(symbol)) => {
                self.files(self.index.file_containing_symbol(symbol).map(str::to_owned), "symbol", symbol)
            }
            Some(MessageRequest::FileContainingExtension(extension)) => {
                let (message, number) = (&extension.containing_type, extension.extension_number);
                let file = self.index.file_containing_extension(message, number).map(str::to_owned);
                self.files(file, "extension", &format!("{number} of {message}"))
            }
            Some(MessageRequest::AllExtensionNumbersOfType(message)) => match self.index.extension_numbers(message) {
                Some(numbers) => MessageResponse::AllExtensionNumbersResponse(ExtensionNumberResponse {
                    base_type_name: message.clone(),
                    extension_number: numbers.iter().copied().collect(),
                }),
                None => error(Code::NotFound, format!("message type not found: {message}")),
            },
            Some(MessageRequest::ListServices(_)) => MessageResponse::ListServicesResponse(ListServiceResponse {
                service: self.index.services().map(|name| ServiceResponse { name: name.to_owned() }).collect(),
            }),
            None => error(Code::InvalidArgument, "the request sets none of the message_request fields".to_owned()),
        };
        ServerReflectionResponse {
            valid_host: request.host.clone(),
            original_request: Some(request),
            message_response: Some(answer),
        }
    }

    /// The file named `file` (always, even when sent before: it is what was
    /// asked for), then its transitive imports not yet sent on this stream,
    /// breadth first. `None` is the NOT_FOUND error for the `what` named `name`.
    fn files(&mut self, file: Option<String>, what: &str, name: &str) -> MessageResponse {
        let Some(file) = file else {
            return error(Code::NotFound, format!("{what} not found: {name}"));
        };
        self.sent.insert(file.clone());
        let mut encoded = Vec::new();
        let mut queue = VecDeque::from([file]);
        while let Some(name) = queue.pop_front() {
            // An import the registered sets do not hold cannot be sent; the
            // client will report it missing, which says more than failing here.
            let Some(file) = self.index.file(&name) else { continue };
            encoded.push(file.encoded.clone());
            for dependency in &file.dependencies {
                if self.sent.insert(dependency.clone()) {
                    queue.push_back(dependency.clone());
                }
            }
        }
        MessageResponse::FileDescriptorResponse(FileDescriptorResponse { file_descriptor_proto: encoded })
    }
}

fn error(code: Code, message: String) -> MessageResponse {
    MessageResponse::ErrorResponse(ErrorResponse { error_code: code as i32, error_message: message })
}

#[cfg(test)]
mod tests {
    use prost::bytes::Bytes;
    use prost::Message as _;
    use prost_types::{
        field_descriptor_proto::Type, DescriptorProto, EnumDescriptorProto, EnumValueDescriptorProto,
        FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet, MethodDescriptorProto, OneofDescriptorProto,
        ServiceDescriptorProto,
    };

    use super::*;
    use crate::reflection::v1::ExtensionRequest;

    fn named<T: Default>(name: &str, make: impl FnOnce(Option<String>) -> T) -> T {
        make(Some(name.to_owned()))
    }

    fn field(name: &str, number: i32) -> FieldDescriptorProto {
        FieldDescriptorProto {
            name: Some(name.to_owned()),
            number: Some(number),
            r#type: Some(Type::Int32.into()),
            ..Default::default()
        }
    }

    /// `base.proto` (package `base`: message `Base` with a nested message,
    /// a nested enum and a oneof; enum `Color`), `mid.proto` importing it,
    /// and `top.proto` (package `top`) importing `mid.proto`, with a service
    /// and an extension of `base.Base`.
    fn index() -> Arc<Index> {
        let base = FileDescriptorProto {
            name: Some("base.proto".to_owned()),
            package: Some("base".to_owned()),
            message_type: vec![DescriptorProto {
                name: Some("Base".to_owned()),
                field: vec![field("id", 1)],
                oneof_decl: vec![named("choice", |name| OneofDescriptorProto { name, ..Default::default() })],
                nested_type: vec![named("Inner", |name| DescriptorProto { name, ..Default::default() })],
                enum_type: vec![named("Kind", |name| EnumDescriptorProto { name, ..Default::default() })],
                ..Default::default()
            }],
            enum_type: vec![EnumDescriptorProto {
                name: Some("Color".to_owned()),
                value: vec![named("RED", |name| EnumValueDescriptorProto { name, ..Default::default() })],
                ..Default::default()
            }],
            ..Default::default()
        };
        let mid = FileDescriptorProto {
            name: Some("mid.proto".to_owned()),
            package: Some("base".to_owned()),
            dependency: vec!["base.proto".to_owned()],
            message_type: vec![named("Mid", |name| DescriptorProto { name, ..Default::default() })],
            ..Default::default()
        };
        let top = FileDescriptorProto {
            name: Some("top.proto".to_owned()),
            package: Some("top".to_owned()),
            dependency: vec!["mid.proto".to_owned()],
            extension: vec![FieldDescriptorProto { extendee: Some(".base.Base".to_owned()), ..field("tag", 100) }],
            service: vec![ServiceDescriptorProto {
                name: Some("Svc".to_owned()),
                method: vec![named("Do", |name| MethodDescriptorProto { name, ..Default::default() })],
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut index = Index::default();
        let set = FileDescriptorSet { file: vec![base, mid, top] };
        index.add_encoded_set(&set.encode_to_vec()).unwrap();
        // A second set repeating a file does not replace it.
        let again = FileDescriptorSet {
            file: vec![FileDescriptorProto { name: Some("base.proto".to_owned()), ..Default::default() }],
        };
        index.add_encoded_set(&again.encode_to_vec()).unwrap();
        let kept = FileDescriptorProto::decode(index.file("base.proto").unwrap().encoded.clone()).unwrap();
        assert_eq!(kept.message_type.len(), 1);
        Arc::new(index)
    }

    fn ask(session: &mut Session, request: MessageRequest) -> MessageResponse {
        let request = ServerReflectionRequest { host: "h".to_owned(), message_request: Some(request) };
        let response = session.answer(request.clone());
        assert_eq!(response.valid_host, "h");
        assert_eq!(response.original_request, Some(request));
        response.message_response.unwrap()
    }

    /// The names of the files in a `FileDescriptorResponse`, in order.
    fn file_names(response: MessageResponse) -> Vec<String> {
        let MessageResponse::FileDescriptorResponse(files) = response else { panic!("not files: {response:?}") };
        let decode = |bytes: &Bytes| FileDescriptorProto::decode(&bytes[..]).unwrap().name.unwrap();
        files.file_descriptor_proto.iter().map(decode).collect()
    }

    fn not_found(response: MessageResponse) -> String {
        let MessageResponse::ErrorResponse(error) = response else { panic!("not an error: {response:?}") };
        assert_eq!(error.error_code, Code::NotFound as i32);
        error.error_message
    }

    #[test]
    fn a_file_comes_with_its_transitive_imports_once_per_stream() {
        let mut session = Session::new(index());
        let top = ask(&mut session, MessageRequest::FileByFilename("top.proto".to_owned()));
        assert_eq!(file_names(top), ["top.proto", "mid.proto", "base.proto"]);
        // Asked again, the file itself is sent; its imports went out already.
        let mid = ask(&mut session, MessageRequest::FileByFilename("mid.proto".to_owned()));
        assert_eq!(file_names(mid), ["mid.proto"]);
        // A new stream starts afresh.
        let mut session = Session::new(index());
        let mid = ask(&mut session, MessageRequest::FileByFilename("mid.proto".to_owned()));
        assert_eq!(file_names(mid), ["mid.proto", "base.proto"]);
    }

    #[test]
    fn every_kind_of_symbol_finds_its_file() {
        for (symbol, file) in [
            ("top.Svc", "top.proto"),
            ("top.Svc.Do", "top.proto"),
            ("top.tag", "top.proto"),
            ("base.Mid", "mid.proto"),
            ("base.Base", "base.proto"),
            ("base.Base.id", "base.proto"),
            ("base.Base.choice", "base.proto"),
            ("base.Base.Inner", "base.proto"),
            ("base.Base.Kind", "base.proto"),
            ("base.Color", "base.proto"),
            ("base.RED", "base.proto"),
        ] {
            let mut session = Session::new(index());
            let files = file_names(ask(&mut session, MessageRequest::FileContainingSymbol(symbol.to_owned())));
            assert_eq!(files[0], file, "{symbol}");
        }
    }

    #[test]
    fn unknown_files_and_symbols_are_not_found_and_the_stream_goes_on() {
        let mut session = Session::new(index());
        let message = not_found(ask(&mut session, MessageRequest::FileContainingSymbol("base.Nope".to_owned())));
        assert_eq!(message, "symbol not found: base.Nope");
        // Scoped the way C++ does: an enum value is not inside its enum.
        not_found(ask(&mut session, MessageRequest::FileContainingSymbol("base.Color.RED".to_owned())));
        not_found(ask(&mut session, MessageRequest::FileByFilename("nope.proto".to_owned())));
        let base = ask(&mut session, MessageRequest::FileByFilename("base.proto".to_owned()));
        assert_eq!(file_names(base), ["base.proto"]);
    }

    #[test]
    fn extensions_are_found_by_type_and_number() {
        let mut session = Session::new(index());
        let extension = |containing_type: &str, extension_number| {
            MessageRequest::FileContainingExtension(ExtensionRequest {
                containing_type: containing_type.to_owned(),
                extension_number,
            })
        };
        assert_eq!(file_names(ask(&mut session, extension("base.Base", 100)))[0], "top.proto");
        not_found(ask(&mut session, extension("base.Base", 101)));
        not_found(ask(&mut session, extension("base.Nope", 100)));

        let numbers = |session: &mut Session, message: &str| match ask(
            session,
            MessageRequest::AllExtensionNumbersOfType(message.to_owned()),
        ) {
            MessageResponse::AllExtensionNumbersResponse(numbers) => {
                assert_eq!(numbers.base_type_name, message);
                numbers.extension_number
            }
            other => panic!("not numbers: {other:?}"),
        };
        assert_eq!(numbers(&mut session, "base.Base"), [100]);
        // A known message without extensions has none; an unknown type is not found.
        assert_eq!(numbers(&mut session, "base.Mid"), Vec::<i32>::new());
        not_found(ask(&mut session, MessageRequest::AllExtensionNumbersOfType("base.Color".to_owned())));
    }

    #[test]
    fn services_are_listed_and_a_request_without_question_is_invalid() {
        let mut session = Session::new(index());
        let MessageResponse::ListServicesResponse(list) = ask(&mut session, MessageRequest::ListServices("*".into()))
        else {
            panic!("not a list")
        };
        assert_eq!(list.service, [ServiceResponse { name: "top.Svc".to_owned() }]);
        let response = session.answer(ServerReflectionRequest::default());
        let Some(MessageResponse::ErrorResponse(error)) = response.message_response else { panic!("no error") };
        assert_eq!(error.error_code, Code::InvalidArgument as i32);
    }
}
