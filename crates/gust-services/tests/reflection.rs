//! Server reflection over real TCP, both versions, called with gust's
//! generated clients; the files served are those gust-build embedded.

use futures_util::stream;
use gust::{Code, Server};
use gust_services::{health, reflection};
use prost::Message as _;
use prost_types::FileDescriptorProto;
use reflection::v1::server_reflection_request::MessageRequest;
use reflection::v1::server_reflection_response::MessageResponse;
use reflection::v1::{ServerReflectionClient, ServerReflectionRequest};

/// A server with health and both reflection versions on 127.0.0.1; its URI.
async fn start() -> String {
    let reflection = reflection::Builder::new().register_encoded_file_descriptor_set(health::v1::FILE_DESCRIPTOR_SET);
    let server = Server::builder()
        .add_service(health::service().0)
        .add_service(reflection.build_v1().unwrap())
        .add_service(reflection.build_v1alpha().unwrap())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let uri = format!("http://{}", server.local_addr());
    tokio::spawn(server.serve());
    uri
}

fn request(message_request: MessageRequest) -> ServerReflectionRequest {
    ServerReflectionRequest { host: String::new(), message_request: Some(message_request) }
}

/// The answers to `requests`, sent on one v1 stream.
async fn ask_v1(uri: &str, requests: Vec<MessageRequest>) -> Vec<MessageResponse> {
    let client = ServerReflectionClient::connect(uri).await.unwrap();
    let requests = stream::iter(requests.into_iter().map(request));
    let mut responses = client.server_reflection_info(requests).await.unwrap();
    let mut answers = Vec::new();
    while let Some(response) = responses.message().await.unwrap() {
        answers.push(response.message_response.unwrap());
    }
    answers
}

fn services(answer: &MessageResponse) -> Vec<&str> {
    let MessageResponse::ListServicesResponse(list) = answer else { panic!("not a list: {answer:?}") };
    list.service.iter().map(|service| service.name.as_str()).collect()
}

fn files(answer: &MessageResponse) -> Vec<FileDescriptorProto> {
    let MessageResponse::FileDescriptorResponse(files) = answer else { panic!("not files: {answer:?}") };
    files.file_descriptor_proto.iter().map(|bytes| FileDescriptorProto::decode(&bytes[..]).unwrap()).collect()
}

#[tokio::test]
async fn v1_lists_services_and_serves_the_embedded_files() {
    let uri = start().await;
    let answers = ask_v1(
        &uri,
        vec![
            MessageRequest::ListServices(String::new()),
            MessageRequest::FileContainingSymbol("grpc.health.v1.Health.Watch".to_owned()),
            MessageRequest::FileContainingSymbol("grpc.health.v1.HealthCheckResponse.ServingStatus".to_owned()),
            MessageRequest::FileByFilename("grpc/reflection/v1alpha/reflection.proto".to_owned()),
        ],
    )
    .await;
    assert_eq!(
        services(&answers[0]),
        ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
    );
    let health = files(&answers[1]);
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].name(), "grpc/health/v1/health.proto");
    assert_eq!(
        health[0].service[0].method.iter().map(|method| method.name()).collect::<Vec<_>>(),
        ["Check", "List", "Watch"]
    );
    assert!(health[0].source_code_info.is_none(), "embedded descriptors carry no source info");
    assert_eq!(files(&answers[2])[0].name(), "grpc/health/v1/health.proto");
    assert_eq!(files(&answers[3])[0].package(), "grpc.reflection.v1alpha");
}

#[tokio::test]
async fn v1_answers_unknown_symbols_with_not_found_and_goes_on() {
    let uri = start().await;
    let answers = ask_v1(
        &uri,
        vec![
            MessageRequest::FileContainingSymbol("helloworld.Nope".to_owned()),
            MessageRequest::FileByFilename("nope.proto".to_owned()),
            MessageRequest::AllExtensionNumbersOfType("grpc.health.v1.HealthCheckRequest".to_owned()),
            MessageRequest::FileByFilename("grpc/health/v1/health.proto".to_owned()),
        ],
    )
    .await;
    for answer in &answers[..2] {
        let MessageResponse::ErrorResponse(error) = answer else { panic!("not an error: {answer:?}") };
        assert_eq!(error.error_code, Code::NotFound as i32);
    }
    let MessageResponse::AllExtensionNumbersResponse(numbers) = &answers[2] else { panic!("{:?}", answers[2]) };
    assert!(numbers.extension_number.is_empty());
    assert_eq!(files(&answers[3])[0].name(), "grpc/health/v1/health.proto");
}

#[tokio::test]
async fn v1alpha_answers_like_v1() {
    use reflection::v1alpha::server_reflection_request::MessageRequest;
    use reflection::v1alpha::server_reflection_response::MessageResponse;
    use reflection::v1alpha::{ServerReflectionClient, ServerReflectionRequest};

    let uri = start().await;
    let client = ServerReflectionClient::connect(&uri).await.unwrap();
    let requests =
        [MessageRequest::ListServices(String::new()), MessageRequest::FileContainingSymbol("no.Such".into())].map(
            |message_request| ServerReflectionRequest {
                host: "host".to_owned(),
                message_request: Some(message_request),
            },
        );
    let mut responses = client.server_reflection_info(stream::iter(requests.clone())).await.unwrap();

    let list = responses.message().await.unwrap().unwrap();
    assert_eq!(list.valid_host, "host");
    assert_eq!(list.original_request.as_ref(), Some(&requests[0]));
    let Some(MessageResponse::ListServicesResponse(list)) = list.message_response else { panic!("not a list") };
    assert_eq!(list.service.len(), 3);
    let error = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ErrorResponse(error)) = error.message_response else { panic!("not an error") };
    assert_eq!(error.error_code, Code::NotFound as i32);
    assert!(responses.message().await.unwrap().is_none());
}

#[test]
fn a_set_that_does_not_decode_is_refused() {
    let builder = reflection::Builder::new().register_encoded_file_descriptor_set(b"\xff\xff");
    let error = builder.build_v1().err().unwrap();
    assert!(error.to_string().starts_with("descriptor set #0 is not an encoded FileDescriptorSet"), "{error}");
}
