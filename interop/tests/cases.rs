//! Every interop case, gust client against gust server in one process, plus
//! the server's view of the cancelling cases, and faulty servers that each
//! case must catch.

use std::time::Duration;

use futures_util::stream;
use gust::server::Service;
use gust::{Metadata, Request, ResponseSink, Server, Status, Streaming};
use gust_interop::client::{Client, Failure, Settings, TestCase};
use gust_interop::pb::{
    BoolValue, Empty, Payload, SimpleRequest, SimpleResponse, StreamingInputCallRequest, StreamingInputCallResponse,
    StreamingOutputCallRequest, StreamingOutputCallResponse, TestServiceClient, TestServiceServer,
};
use gust_interop::server::TestService;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server on 127.0.0.1 with a free port, stopped when dropped.
struct Running {
    uri: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn start(service: impl Service) -> Running {
    let server = Server::builder().add_service(service).bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let uri = format!("http://{}", server.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_with_shutdown(async {
        let _ = stopped.await;
    }));
    Running { uri, stop: Some(stop), task: Some(task) }
}

fn client(server: &Running, settings: Settings) -> Client {
    Client::new(&server.uri, settings).expect("client")
}

/// Runs `case` against the standard server: it must pass.
async fn passes(case: TestCase) {
    let server = start(TestService::new().into_server()).await;
    if let Err(failure) = client(&server, Settings::default()).run(case).await {
        panic!("{failure}");
    }
}

macro_rules! passing_cases {
    ($($test:ident => $case:ident,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                passes(TestCase::$case).await;
            }
        )*

        /// Each case has its test above.
        #[test]
        fn every_case_is_tested() {
            let tested = [$(TestCase::$case),*];
            for case in TestCase::ALL {
                assert!(tested.contains(&case), "no test for {case}");
            }
        }
    };
}

passing_cases! {
    empty_unary => EmptyUnary,
    large_unary => LargeUnary,
    client_streaming => ClientStreaming,
    server_streaming => ServerStreaming,
    ping_pong => PingPong,
    empty_stream => EmptyStream,
    custom_metadata => CustomMetadata,
    status_code_and_message => StatusCodeAndMessage,
    special_status_message => SpecialStatusMessage,
    unimplemented_method => UnimplementedMethod,
    unimplemented_service => UnimplementedService,
    cancel_after_begin => CancelAfterBegin,
    cancel_after_first_response => CancelAfterFirstResponse,
    timeout_on_sleeping_server => TimeoutOnSleepingServer,
    client_compressed_unary => ClientCompressedUnary,
    server_compressed_unary => ServerCompressedUnary,
    client_compressed_streaming => ClientCompressedStreaming,
    server_compressed_streaming => ServerCompressedStreaming,
    rpc_soak => RpcSoak,
    channel_soak => ChannelSoak,
}

#[test]
fn case_names_round_trip() {
    for case in TestCase::ALL {
        assert_eq!(case.name().parse::<TestCase>(), Ok(case));
    }
    let error = "no_such_case".parse::<TestCase>().expect_err("unknown name accepted");
    assert!(error.to_string().contains("empty_unary"), "{error}");
}

/// Runs `case`, which must pass, and waits until the server saw `count`
/// cancelled calls: the server's side of the cancelling cases.
async fn server_sees_cancellation(case: TestCase, count: usize) {
    let service = TestService::new();
    let observations = service.observations();
    let server = start(service.into_server()).await;
    if let Err(failure) = client(&server, Settings::default()).run(case).await {
        panic!("{failure}");
    }
    tokio::time::timeout(Duration::from_secs(10), observations.wait_for_cancelled_calls(count))
        .await
        .unwrap_or_else(|_| panic!("{case}: the server saw {} cancelled calls", observations.cancelled_calls()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_after_begin_cancels_the_server_call() {
    server_sees_cancellation(TestCase::CancelAfterBegin, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_after_first_response_cancels_the_server_call() {
    server_sees_cancellation(TestCase::CancelAfterFirstResponse, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_on_sleeping_server_cancels_the_server_call() {
    server_sees_cancellation(TestCase::TimeoutOnSleepingServer, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_echoes_metadata_on_every_call_kind() {
    let server = start(TestService::new().into_server()).await;
    let client = TestServiceClient::new(gust::Channel::from_uri(&server.uri).expect("channel"));
    let mut metadata = Metadata::new();
    metadata.append("x-grpc-test-echo-initial", "hello").expect("ascii");
    metadata.append_bin("x-grpc-test-echo-trailing-bin", &[0, 1, 2]).expect("binary");

    let response = client.empty_call(Request::new(Empty {}).with_metadata(metadata.clone())).await.expect("EmptyCall");
    assert_eq!(response.metadata().get("x-grpc-test-echo-initial"), Some("hello"));
    assert_eq!(response.trailers().get_bin("x-grpc-test-echo-trailing-bin"), Some(vec![0, 1, 2]));

    // One response, so that the initial metadata has headers of its own (a
    // Trailers-Only response carries it in the trailers' block).
    let parameters = gust_interop::pb::ResponseParameters { size: 1, ..Default::default() };
    let request = StreamingOutputCallRequest { response_parameters: vec![parameters], ..Default::default() };
    let request = Request::new(request).with_metadata(metadata.clone());
    let mut responses = client.streaming_output_call(request).await.expect("StreamingOutputCall");
    assert!(responses.message().await.expect("response").is_some());
    assert!(responses.message().await.expect("status").is_none());
    assert_eq!(responses.metadata().get("x-grpc-test-echo-initial"), Some("hello"));
    assert_eq!(responses.trailers().and_then(|t| t.get_bin("x-grpc-test-echo-trailing-bin")), Some(vec![0, 1, 2]));

    let requests = Request::new(stream::iter([StreamingInputCallRequest::default()])).with_metadata(metadata);
    let response = client.streaming_input_call(requests).await.expect("StreamingInputCall");
    assert_eq!(response.metadata().get("x-grpc-test-echo-initial"), Some("hello"));
    assert_eq!(response.trailers().get_bin("x-grpc-test-echo-trailing-bin"), Some(vec![0, 1, 2]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_duplex_answers_after_all_requests() {
    let server = start(TestService::new().into_server()).await;
    let client = TestServiceClient::new(gust::Channel::from_uri(&server.uri).expect("channel"));
    let request = |size| StreamingOutputCallRequest {
        response_parameters: vec![gust_interop::pb::ResponseParameters { size, ..Default::default() }],
        ..Default::default()
    };
    // A request stream that never ends gets no answer: the server waits for
    // the half-close before it answers.
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let requests = stream::unfold(receiver, |mut r| async move { r.recv().await.map(|m| (m, r)) });
    let mut responses = client.half_duplex_call(requests).await.expect("HalfDuplexCall");
    sender.send(request(3)).await.expect("send");
    sender.send(request(5)).await.expect("send");
    let early = tokio::time::timeout(Duration::from_millis(200), responses.message()).await;
    assert!(early.is_err(), "HalfDuplexCall answered before the half-close: {early:?}");
    drop(sender);
    let mut sizes = Vec::new();
    while let Some(response) = responses.message().await.expect("HalfDuplexCall") {
        sizes.push(response.payload.map_or(0, |p| p.body.len()));
    }
    assert_eq!(sizes, [3, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_us_paces_the_responses() {
    let server = start(TestService::new().into_server()).await;
    let client = TestServiceClient::new(gust::Channel::from_uri(&server.uri).expect("channel"));
    let parameters = gust_interop::pb::ResponseParameters { size: 1, interval_us: 50_000, ..Default::default() };
    let request = StreamingOutputCallRequest { response_parameters: vec![parameters; 3], ..Default::default() };
    let started = std::time::Instant::now();
    let mut responses = client.streaming_output_call(request).await.expect("StreamingOutputCall");
    let mut count = 0;
    while responses.message().await.expect("StreamingOutputCall").is_some() {
        count += 1;
    }
    assert_eq!(count, 3);
    // A lower bound only: the pauses must have happened.
    assert!(started.elapsed() >= Duration::from_millis(150), "3 x 50 ms took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_bad_payload_requests() {
    let server = start(TestService::new().into_server()).await;
    let client = TestServiceClient::new(gust::Channel::from_uri(&server.uri).expect("channel"));
    for request in [
        SimpleRequest { response_size: -1, ..Default::default() },
        SimpleRequest { response_size: i32::MAX, ..Default::default() },
        SimpleRequest { response_type: 7, response_size: 1, ..Default::default() },
    ] {
        let status = client.unary_call(request.clone()).await.expect_err("bad request accepted");
        assert_eq!(status.code(), gust::Code::InvalidArgument, "{request:?}: {status}");
    }
}

// ---- Faulty servers: each case must notice what is wrong. ----

/// One way for a server to be wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    ShortUnaryPayload,
    NonZeroUnaryPayload,
    WrongAggregate,
    DropsLastStreamedResponse,
    BuffersFullDuplex,
    AnswersEmptyStream,
    NoTrailingEcho,
    NoInitialEchoOnDuplex,
    WrongStatusMessage,
    StripsWhitespaceFromStatus,
    ImplementsUnimplementedCall,
    IgnoresResponseCompressed,
    IgnoresExpectCompressed,
    IgnoresExpectCompressedOnStream,
    CompressesEveryStreamedResponse,
}

/// The standard service with one fault.
struct Faulty {
    fault: Fault,
    inner: TestService,
}

impl gust_interop::pb::TestService for Faulty {
    async fn empty_call(&self, request: Request<Empty>) -> Result<Empty, Status> {
        self.inner.empty_call(request).await
    }

    async fn unary_call(&self, request: Request<SimpleRequest>) -> Result<SimpleResponse, Status> {
        let mut request = request;
        match self.fault {
            Fault::IgnoresResponseCompressed => request.get_mut().response_compressed = None,
            Fault::IgnoresExpectCompressed => request.get_mut().expect_compressed = None,
            _ => {}
        }
        let context = request.context().clone();
        let result = self.inner.unary_call(request).await;
        match self.fault {
            Fault::ShortUnaryPayload => result.map(|mut response| {
                if let Some(payload) = &mut response.payload {
                    payload.body.truncate(payload.body.len().saturating_sub(1));
                }
                response
            }),
            Fault::NonZeroUnaryPayload => result.map(|mut response| {
                if let Some(payload) = response.payload.as_mut() {
                    let mut body = payload.body.to_vec();
                    if let Some(byte) = body.last_mut() {
                        *byte = 1;
                    }
                    payload.body = body.into();
                }
                response
            }),
            Fault::NoTrailingEcho => {
                context.set_trailing_metadata(Metadata::new());
                result
            }
            Fault::WrongStatusMessage => result.map_err(|status| Status::new(status.code(), "another message")),
            Fault::StripsWhitespaceFromStatus => {
                result.map_err(|status| Status::new(status.code(), status.message().trim()))
            }
            _ => result,
        }
    }

    async fn cacheable_unary_call(&self, request: Request<SimpleRequest>) -> Result<SimpleResponse, Status> {
        self.inner.cacheable_unary_call(request).await
    }

    async fn streaming_output_call(
        &self,
        request: Request<StreamingOutputCallRequest>,
        mut responses: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        if self.fault == Fault::CompressesEveryStreamedResponse {
            let mut request = request;
            for parameters in &mut request.get_mut().response_parameters {
                parameters.compressed = Some(BoolValue { value: true });
            }
            return self.inner.streaming_output_call(request, responses).await;
        }
        if self.fault != Fault::DropsLastStreamedResponse {
            return self.inner.streaming_output_call(request, responses).await;
        }
        let parameters = &request.get_ref().response_parameters;
        for parameters in parameters.iter().take(parameters.len().saturating_sub(1)) {
            let body = vec![0; usize::try_from(parameters.size).unwrap_or(0)].into();
            responses
                .send(StreamingOutputCallResponse { payload: Some(Payload { body, ..Default::default() }) })
                .await?;
        }
        Ok(())
    }

    async fn streaming_input_call(
        &self,
        request: Request<Streaming<StreamingInputCallRequest>>,
    ) -> Result<StreamingInputCallResponse, Status> {
        if self.fault == Fault::IgnoresExpectCompressedOnStream {
            let mut requests = request.into_inner();
            let mut aggregated_payload_size = 0;
            while let Some(message) = requests.message().await? {
                aggregated_payload_size += message.payload.map_or(0, |p| p.body.len() as i32);
            }
            return Ok(StreamingInputCallResponse { aggregated_payload_size });
        }
        let result = self.inner.streaming_input_call(request).await;
        if self.fault == Fault::WrongAggregate {
            return result
                .map(|r| StreamingInputCallResponse { aggregated_payload_size: r.aggregated_payload_size + 1 });
        }
        result
    }

    async fn full_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
        mut responses: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        match self.fault {
            Fault::BuffersFullDuplex => self.inner.half_duplex_call(request, responses).await,
            Fault::AnswersEmptyStream => {
                responses.send(StreamingOutputCallResponse::default()).await?;
                self.inner.full_duplex_call(request, responses).await
            }
            Fault::NoInitialEchoOnDuplex => {
                let mut request = request;
                request.metadata_mut().remove("x-grpc-test-echo-initial");
                self.inner.full_duplex_call(request, responses).await
            }
            _ => self.inner.full_duplex_call(request, responses).await,
        }
    }

    async fn half_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
        responses: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        self.inner.half_duplex_call(request, responses).await
    }

    async fn unimplemented_call(&self, request: Request<Empty>) -> Result<Empty, Status> {
        if self.fault == Fault::ImplementsUnimplementedCall {
            return Ok(Empty {});
        }
        self.inner.unimplemented_call(request).await
    }
}

/// Runs `case` against a server with `fault`: it must fail, saying `expected`.
async fn fails(case: TestCase, fault: Fault, expected: &str) {
    let server = start(TestServiceServer::new(Faulty { fault, inner: TestService::new() })).await;
    let settings = Settings { case_timeout: Duration::from_secs(3), ..Settings::default() };
    match client(&server, settings).run(case).await {
        Ok(()) => panic!("{case} passed against a server with fault {fault:?}"),
        Err(Failure { case: failed, reason }) => {
            assert_eq!(failed, case);
            assert!(reason.contains(expected), "{case} with {fault:?}: reason {reason:?} lacks {expected:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_unary_catches_a_short_payload() {
    fails(TestCase::LargeUnary, Fault::ShortUnaryPayload, "314158 bytes, expected 314159").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_unary_catches_a_payload_that_is_not_zeros() {
    fails(TestCase::LargeUnary, Fault::NonZeroUnaryPayload, "expected zeros").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_streaming_catches_a_wrong_aggregate() {
    fails(TestCase::ClientStreaming, Fault::WrongAggregate, "74923, expected 74922").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_streaming_catches_a_missing_response() {
    fails(TestCase::ServerStreaming, Fault::DropsLastStreamedResponse, "received 3 responses, expected exactly 4")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_pong_catches_a_server_that_waits_for_the_half_close() {
    fails(TestCase::PingPong, Fault::BuffersFullDuplex, "did not finish").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_stream_catches_an_unasked_response() {
    fails(TestCase::EmptyStream, Fault::AnswersEmptyStream, "received 1 responses to no request").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_metadata_catches_a_missing_trailing_echo() {
    fails(TestCase::CustomMetadata, Fault::NoTrailingEcho, "trailing metadata x-grpc-test-echo-trailing-bin is None")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_metadata_catches_a_missing_initial_echo_on_full_duplex() {
    fails(
        TestCase::CustomMetadata,
        Fault::NoInitialEchoOnDuplex,
        "FullDuplexCall: initial metadata x-grpc-test-echo-initial is None",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_code_and_message_catches_a_wrong_message() {
    fails(TestCase::StatusCodeAndMessage, Fault::WrongStatusMessage, "\"another message\"").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn special_status_message_catches_lost_whitespace() {
    fails(TestCase::SpecialStatusMessage, Fault::StripsWhitespaceFromStatus, "status message is").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unimplemented_method_catches_an_implemented_method() {
    fails(TestCase::UnimplementedMethod, Fault::ImplementsUnimplementedCall, "succeeded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_fails_when_no_server_listens() {
    // Bind a port, then free it: nothing listens there any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let uri = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let client = Client::new(&uri, Settings::default()).expect("client");
    let failure = client.run(TestCase::EmptyUnary).await.expect_err("passed without a server");
    assert!(failure.to_string().contains("empty_unary"), "{failure}");
    assert!(failure.reason.contains("UNAVAILABLE"), "{failure}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_compressed_unary_catches_an_uncompressed_response() {
    fails(
        TestCase::ServerCompressedUnary,
        Fault::IgnoresResponseCompressed,
        "response_compressed true: the response's compressed flag is false, expected true",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_compressed_unary_catches_a_server_without_the_feature() {
    fails(TestCase::ClientCompressedUnary, Fault::IgnoresExpectCompressed, "UnaryCall probe").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_compressed_streaming_catches_a_server_without_the_feature() {
    fails(TestCase::ClientCompressedStreaming, Fault::IgnoresExpectCompressedOnStream, "StreamingInputCall probe")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_compressed_streaming_catches_a_compressed_response_that_should_not_be() {
    fails(
        TestCase::ServerCompressedStreaming,
        Fault::CompressesEveryStreamedResponse,
        "response 2: the compressed flag is true, expected false",
    )
    .await;
}
