//! The client side of the interop test cases. Each case makes the calls its
//! description prescribes and checks everything a client must assert; a
//! failure says which case failed and what differed.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::stream;
use gust::client::ChannelBuilder;
use gust::{Channel, Code, Encoding, Metadata, Outgoing, Request, Status, Streaming};
use tokio::sync::{mpsc, oneshot};

use crate::pb::{
    BoolValue, EchoStatus, Empty, Payload, ResponseParameters, SimpleRequest, StreamingInputCallRequest,
    StreamingInputCallResponse, StreamingOutputCallRequest, StreamingOutputCallResponse, TestServiceClient,
    UnimplementedServiceClient,
};
use crate::{ECHO_INITIAL_KEY, ECHO_TRAILING_KEY};

/// The test cases this client implements, by their standard names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TestCase {
    EmptyUnary,
    LargeUnary,
    ClientStreaming,
    ServerStreaming,
    PingPong,
    EmptyStream,
    CustomMetadata,
    StatusCodeAndMessage,
    SpecialStatusMessage,
    UnimplementedMethod,
    UnimplementedService,
    CancelAfterBegin,
    CancelAfterFirstResponse,
    TimeoutOnSleepingServer,
    ClientCompressedUnary,
    ServerCompressedUnary,
    ClientCompressedStreaming,
    ServerCompressedStreaming,
    RpcSoak,
    ChannelSoak,
}

impl TestCase {
    /// Every case, in the order of the descriptions.
    pub const ALL: [TestCase; 20] = [
        TestCase::EmptyUnary,
        TestCase::LargeUnary,
        TestCase::ClientStreaming,
        TestCase::ServerStreaming,
        TestCase::PingPong,
        TestCase::EmptyStream,
        TestCase::CustomMetadata,
        TestCase::StatusCodeAndMessage,
        TestCase::SpecialStatusMessage,
        TestCase::UnimplementedMethod,
        TestCase::UnimplementedService,
        TestCase::CancelAfterBegin,
        TestCase::CancelAfterFirstResponse,
        TestCase::TimeoutOnSleepingServer,
        TestCase::ClientCompressedUnary,
        TestCase::ServerCompressedUnary,
        TestCase::ClientCompressedStreaming,
        TestCase::ServerCompressedStreaming,
        TestCase::RpcSoak,
        TestCase::ChannelSoak,
    ];

    /// The case's standard name, e.g. `"empty_unary"`.
    pub fn name(self) -> &'static str {
        match self {
            TestCase::EmptyUnary => "empty_unary",
            TestCase::LargeUnary => "large_unary",
            TestCase::ClientStreaming => "client_streaming",
            TestCase::ServerStreaming => "server_streaming",
            TestCase::PingPong => "ping_pong",
            TestCase::EmptyStream => "empty_stream",
            TestCase::CustomMetadata => "custom_metadata",
            TestCase::StatusCodeAndMessage => "status_code_and_message",
            TestCase::SpecialStatusMessage => "special_status_message",
            TestCase::UnimplementedMethod => "unimplemented_method",
            TestCase::UnimplementedService => "unimplemented_service",
            TestCase::CancelAfterBegin => "cancel_after_begin",
            TestCase::CancelAfterFirstResponse => "cancel_after_first_response",
            TestCase::TimeoutOnSleepingServer => "timeout_on_sleeping_server",
            TestCase::ClientCompressedUnary => "client_compressed_unary",
            TestCase::ServerCompressedUnary => "server_compressed_unary",
            TestCase::ClientCompressedStreaming => "client_compressed_streaming",
            TestCase::ServerCompressedStreaming => "server_compressed_streaming",
            TestCase::RpcSoak => "rpc_soak",
            TestCase::ChannelSoak => "channel_soak",
        }
    }
}

impl fmt::Display for TestCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a test case this client knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTestCase(pub String);

impl fmt::Display for UnknownTestCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = TestCase::ALL.iter().map(|case| case.name()).collect();
        write!(f, "unknown test case {:?}; known cases: {}", self.0, known.join(", "))
    }
}

impl std::error::Error for UnknownTestCase {}

impl FromStr for TestCase {
    type Err = UnknownTestCase;
    fn from_str(name: &str) -> Result<TestCase, UnknownTestCase> {
        TestCase::ALL.into_iter().find(|case| case.name() == name).ok_or_else(|| UnknownTestCase(name.to_owned()))
    }
}

/// Settings of the soak cases (`rpc_soak`, `channel_soak`), named after the
/// standard `--soak_*` flags.
#[derive(Clone, Debug)]
pub struct SoakSettings {
    /// Number of large_unary calls to make.
    pub iterations: u32,
    /// How many of them may fail (error, or slower than `max_latency`)
    /// without failing the case.
    pub max_failures: u32,
    /// A call slower than this counts as failed.
    pub max_latency: Duration,
    /// Time allowed for all iterations; running out of it fails the case.
    pub overall_timeout: Duration,
    /// Least time between the starts of consecutive calls.
    pub min_time_between_rpcs: Duration,
}

impl Default for SoakSettings {
    fn default() -> SoakSettings {
        SoakSettings {
            iterations: 10,
            max_failures: 0,
            max_latency: Duration::from_millis(1000),
            overall_timeout: Duration::from_secs(10),
            min_time_between_rpcs: Duration::ZERO,
        }
    }
}

/// Settings of a client run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Time a case (other than the soak cases) may take before it fails.
    pub case_timeout: Duration,
    /// The soak cases' settings.
    pub soak: SoakSettings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { case_timeout: Duration::from_secs(30), soak: SoakSettings::default() }
    }
}

/// A failed case: which one and what differed from the expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The case that failed.
    pub case: TestCase,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "test case {} FAILED: {}", self.case, self.reason)
    }
}

impl std::error::Error for Failure {}

/// What a step of a case returns: `Err` carries the explanation.
type Check<T = ()> = Result<T, String>;

/// Fails the case with a message unless `condition` holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

/// Describes an RPC that failed where it should have succeeded.
fn rpc_failed(what: &str) -> impl FnOnce(Status) -> String + '_ {
    move |status| format!("{what} failed with {}: {:?}", status.code().name(), status.message())
}

/// The client of one server: runs test cases against it.
#[derive(Clone, Debug)]
pub struct Client {
    /// How to make a channel: channel_soak makes one per call.
    builder: ChannelBuilder,
    channel: Channel,
    settings: Settings,
}

impl Client {
    /// A client of the server at `uri` (`http://host:port`); it connects on
    /// its first call.
    pub fn new(uri: &str, settings: Settings) -> Result<Client, gust::Error> {
        Client::with_channel(Channel::builder(uri), settings)
    }

    /// A client whose channels `builder` makes (e.g. with TLS settings).
    pub fn with_channel(builder: ChannelBuilder, settings: Settings) -> Result<Client, gust::Error> {
        let channel = builder.clone().connect_lazy()?;
        Ok(Client { builder, channel, settings })
    }

    fn service(&self) -> TestServiceClient {
        TestServiceClient::new(self.channel.clone())
    }

    /// Runs one case; `Err` says what differed from the description.
    pub async fn run(&self, case: TestCase) -> Result<(), Failure> {
        let timeout = match case {
            TestCase::RpcSoak | TestCase::ChannelSoak => {
                self.settings.soak.overall_timeout + self.settings.case_timeout
            }
            _ => self.settings.case_timeout,
        };
        let result = match tokio::time::timeout(timeout, self.run_unbounded(case)).await {
            Ok(result) => result,
            Err(_) => Err(format!("did not finish within {timeout:?}")),
        };
        result.map_err(|reason| Failure { case, reason })
    }

    async fn run_unbounded(&self, case: TestCase) -> Check {
        let client = self.service();
        match case {
            TestCase::EmptyUnary => empty_unary(&client).await,
            TestCase::LargeUnary => large_unary(&client).await,
            TestCase::ClientStreaming => client_streaming(&client).await,
            TestCase::ServerStreaming => server_streaming(&client).await,
            TestCase::PingPong => ping_pong(&client).await,
            TestCase::EmptyStream => empty_stream(&client).await,
            TestCase::CustomMetadata => custom_metadata(&client).await,
            TestCase::StatusCodeAndMessage => status_code_and_message(&client).await,
            TestCase::SpecialStatusMessage => special_status_message(&client).await,
            TestCase::UnimplementedMethod => unimplemented_method(&client).await,
            TestCase::UnimplementedService => unimplemented_service(&self.channel).await,
            TestCase::CancelAfterBegin => cancel_after_begin(&client).await,
            TestCase::CancelAfterFirstResponse => cancel_after_first_response(&client).await,
            TestCase::TimeoutOnSleepingServer => timeout_on_sleeping_server(&client).await,
            TestCase::ClientCompressedUnary => client_compressed_unary(&client).await,
            TestCase::ServerCompressedUnary => server_compressed_unary(&client).await,
            TestCase::ClientCompressedStreaming => client_compressed_streaming(&client).await,
            TestCase::ServerCompressedStreaming => server_compressed_streaming(&client).await,
            TestCase::RpcSoak => soak(&self.settings.soak, || async { Ok(self.service()) }).await,
            TestCase::ChannelSoak => {
                soak(&self.settings.soak, || async {
                    let channel =
                        self.builder.clone().connect_lazy().map_err(|error| format!("new channel: {error}"))?;
                    Ok(TestServiceClient::new(channel))
                })
                .await
            }
        }
    }
}

// Sizes and values from the test descriptions.
const LARGE_REQUEST_SIZE: usize = 271_828;
const LARGE_RESPONSE_SIZE: i32 = 314_159;
const STREAM_REQUEST_SIZES: [usize; 4] = [27_182, 8, 1_828, 45_904];
const STREAM_RESPONSE_SIZES: [i32; 4] = [31_415, 9, 2_653, 58_979];
const ECHO_INITIAL_VALUE: &str = "test_initial_metadata_value";
const ECHO_TRAILING_VALUE: [u8; 3] = [0xab, 0xab, 0xab];
const STATUS_MESSAGE: &str = "test status message";
const SPECIAL_STATUS_MESSAGE: &str = "\t\ntest with whitespace\r\nand Unicode BMP \u{263a} and non-BMP \u{1f608}\t\n";

fn zeros(size: usize) -> Option<Payload> {
    Some(Payload { body: vec![0; size].into(), ..Payload::default() })
}

fn large_unary_request() -> SimpleRequest {
    SimpleRequest { response_size: LARGE_RESPONSE_SIZE, payload: zeros(LARGE_REQUEST_SIZE), ..SimpleRequest::default() }
}

fn streaming_request(response_size: i32, request_size: usize) -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: vec![ResponseParameters { size: response_size, ..ResponseParameters::default() }],
        payload: zeros(request_size),
        ..StreamingOutputCallRequest::default()
    }
}

/// Checks that `payload` holds `size` zero bytes.
fn check_payload(payload: Option<&Payload>, size: i32, what: &str) -> Check {
    let body = payload.map_or(&[][..], |payload| &payload.body[..]);
    ensure!(payload.is_some() || size == 0, "{what}: the response has no payload (expected {size} bytes)");
    ensure!(
        i32::try_from(body.len()).ok() == Some(size),
        "{what}: response payload is {} bytes, expected {size}",
        body.len()
    );
    if let Some(position) = body.iter().position(|&byte| byte != 0) {
        return Err(format!("{what}: response payload byte {position} is {:#04x}, expected zeros", body[position]));
    }
    Ok(())
}

/// A value's debug form cut to a readable length (responses carry payloads
/// of hundreds of kilobytes).
fn brief(value: &impl fmt::Debug) -> String {
    const LIMIT: usize = 160;
    let text = format!("{value:?}");
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}... ({} more characters)", &text[..end], text.len() - end),
        None => text,
    }
}

/// Checks that a call failed with `code` (and `message`, if given).
fn check_status<T: fmt::Debug>(result: Result<T, Status>, code: Code, message: Option<&str>, what: &str) -> Check {
    let status = match result {
        Ok(value) => return Err(format!("{what} succeeded ({}); expected status {}", brief(&value), code.name())),
        Err(status) => status,
    };
    ensure!(
        status.code() == code,
        "{what} ended with status {} ({:?}); expected {}",
        status.code().name(),
        status.message(),
        code.name()
    );
    if let Some(message) = message {
        ensure!(status.message() == message, "{what}: status message is {:?}; expected {message:?}", status.message());
    }
    Ok(())
}

/// A request stream the caller feeds message by message; dropping the sender
/// half-closes it.
fn request_channel<M: Send + 'static>() -> (mpsc::Sender<M>, impl futures_util::Stream<Item = M> + Send + 'static) {
    let (sender, receiver) = mpsc::channel::<M>(1);
    let requests =
        stream::unfold(
            receiver,
            |mut receiver| async move { receiver.recv().await.map(|message| (message, receiver)) },
        );
    (sender, requests)
}

/// Reads every message of a response stream to its OK end.
async fn read_all<M: gust::codec::Message>(responses: &mut Streaming<M>, what: &str) -> Check<Vec<M>> {
    let mut messages = Vec::new();
    while let Some(message) = responses.message().await.map_err(rpc_failed(what))? {
        messages.push(message);
    }
    Ok(messages)
}

/// Checks the sizes of streamed responses against the expected ones.
fn check_stream_payloads(responses: &[StreamingOutputCallResponse], sizes: &[i32], what: &str) -> Check {
    ensure!(
        responses.len() == sizes.len(),
        "{what}: received {} responses, expected exactly {}",
        responses.len(),
        sizes.len()
    );
    for (index, (response, &size)) in responses.iter().zip(sizes).enumerate() {
        check_payload(response.payload.as_ref(), size, &format!("{what}, response {}", index + 1))?;
    }
    Ok(())
}

/// Checks that the channel still works after a cancelled call.
async fn check_channel_usable(client: &TestServiceClient, what: &str) -> Check {
    client
        .empty_call(Empty {})
        .await
        .map(drop)
        .map_err(|status| format!("{what}: EmptyCall on the same channel afterwards failed: {status}"))
}

async fn empty_unary(client: &TestServiceClient) -> Check {
    let response = client.empty_call(Empty {}).await.map_err(rpc_failed("EmptyCall"))?;
    ensure!(*response == Empty {}, "EmptyCall returned {:?}, expected an empty message", *response);
    Ok(())
}

async fn large_unary(client: &TestServiceClient) -> Check {
    let response = client.unary_call(large_unary_request()).await.map_err(rpc_failed("UnaryCall"))?;
    check_payload(response.payload.as_ref(), LARGE_RESPONSE_SIZE, "UnaryCall")
}

async fn client_streaming(client: &TestServiceClient) -> Check {
    let requests: Vec<StreamingInputCallRequest> = STREAM_REQUEST_SIZES
        .iter()
        .map(|&size| StreamingInputCallRequest { payload: zeros(size), ..StreamingInputCallRequest::default() })
        .collect();
    let response =
        client.streaming_input_call(stream::iter(requests)).await.map_err(rpc_failed("StreamingInputCall"))?;
    let expected: usize = STREAM_REQUEST_SIZES.iter().sum();
    ensure!(
        usize::try_from(response.aggregated_payload_size).ok() == Some(expected),
        "StreamingInputCall: aggregated_payload_size is {}, expected {expected}",
        response.aggregated_payload_size
    );
    Ok(())
}

async fn server_streaming(client: &TestServiceClient) -> Check {
    let request = StreamingOutputCallRequest {
        response_parameters: STREAM_RESPONSE_SIZES
            .iter()
            .map(|&size| ResponseParameters { size, ..ResponseParameters::default() })
            .collect(),
        ..StreamingOutputCallRequest::default()
    };
    let mut responses = client.streaming_output_call(request).await.map_err(rpc_failed("StreamingOutputCall"))?;
    let received = read_all(&mut responses, "StreamingOutputCall").await?;
    check_stream_payloads(&received, &STREAM_RESPONSE_SIZES, "StreamingOutputCall")
}

async fn ping_pong(client: &TestServiceClient) -> Check {
    let (sender, requests) = request_channel();
    let mut responses = client.full_duplex_call(requests).await.map_err(rpc_failed("FullDuplexCall"))?;
    for (index, (&response_size, &request_size)) in STREAM_RESPONSE_SIZES.iter().zip(&STREAM_REQUEST_SIZES).enumerate()
    {
        let what = format!("FullDuplexCall, ping {}", index + 1);
        sender
            .send(streaming_request(response_size, request_size))
            .await
            .map_err(|_| format!("{what}: the request stream closed early"))?;
        let response = responses
            .message()
            .await
            .map_err(rpc_failed(&what))?
            .ok_or_else(|| format!("{what}: the server ended the call instead of answering"))?;
        check_payload(response.payload.as_ref(), response_size, &what)?;
    }
    drop(sender);
    let extra = read_all(&mut responses, "FullDuplexCall after half-close").await?;
    ensure!(extra.is_empty(), "FullDuplexCall: {} responses more than the 4 expected", extra.len());
    Ok(())
}

async fn empty_stream(client: &TestServiceClient) -> Check {
    let requests = stream::empty::<StreamingOutputCallRequest>();
    let mut responses = client.full_duplex_call(requests).await.map_err(rpc_failed("FullDuplexCall"))?;
    let received = read_all(&mut responses, "FullDuplexCall").await?;
    ensure!(received.is_empty(), "FullDuplexCall: received {} responses to no request, expected none", received.len());
    Ok(())
}

fn echo_metadata() -> Check<Metadata> {
    let mut metadata = Metadata::new();
    metadata.append(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE).map_err(|error| error.to_string())?;
    metadata.append_bin(ECHO_TRAILING_KEY, &ECHO_TRAILING_VALUE).map_err(|error| error.to_string())?;
    Ok(metadata)
}

/// Checks the echoed metadata: the initial value in `initial`, the binary
/// trailing value in `trailing`.
fn check_echo(initial: &Metadata, trailing: Option<&Metadata>, what: &str) -> Check {
    let value = initial.get(ECHO_INITIAL_KEY);
    ensure!(
        value == Some(ECHO_INITIAL_VALUE),
        "{what}: initial metadata {ECHO_INITIAL_KEY} is {value:?}, expected {ECHO_INITIAL_VALUE:?}"
    );
    let value = trailing.and_then(|trailing| trailing.get_bin(ECHO_TRAILING_KEY));
    ensure!(
        value.as_deref() == Some(&ECHO_TRAILING_VALUE[..]),
        "{what}: trailing metadata {ECHO_TRAILING_KEY} is {value:02x?}, expected {ECHO_TRAILING_VALUE:02x?}"
    );
    Ok(())
}

async fn custom_metadata(client: &TestServiceClient) -> Check {
    let request = Request::new(large_unary_request()).with_metadata(echo_metadata()?);
    let response = client.unary_call(request).await.map_err(rpc_failed("UnaryCall"))?;
    check_payload(response.payload.as_ref(), LARGE_RESPONSE_SIZE, "UnaryCall")?;
    check_echo(response.metadata(), Some(response.trailers()), "UnaryCall")?;

    let request = streaming_request(LARGE_RESPONSE_SIZE, LARGE_REQUEST_SIZE);
    let request = Request::new(stream::iter([request])).with_metadata(echo_metadata()?);
    let mut responses = client.full_duplex_call(request).await.map_err(rpc_failed("FullDuplexCall"))?;
    let received = read_all(&mut responses, "FullDuplexCall").await?;
    check_stream_payloads(&received, &[LARGE_RESPONSE_SIZE], "FullDuplexCall")?;
    check_echo(responses.metadata(), responses.trailers(), "FullDuplexCall")
}

fn bool_value(value: bool) -> Option<BoolValue> {
    Some(BoolValue { value })
}

async fn client_compressed_unary(client: &TestServiceClient) -> Check {
    let request =
        |expect_compressed| SimpleRequest { expect_compressed: bool_value(expect_compressed), ..large_unary_request() };

    // The probe: the call says gzip but its message goes uncompressed; a
    // server with the CompressedRequest feature refuses it.
    let probe = Request::new(request(true)).with_compression(Encoding::Gzip).with_message_compression(false);
    let result = client.unary_call(probe).await.map(|response| response.into_inner());
    check_status(result, Code::InvalidArgument, None, "UnaryCall probe (expect_compressed, sent uncompressed)")?;

    let what = "UnaryCall with a gzip-compressed request";
    let compressed = Request::new(request(true)).with_compression(Encoding::Gzip);
    let response = client.unary_call(compressed).await.map_err(rpc_failed(what))?;
    check_payload(response.payload.as_ref(), LARGE_RESPONSE_SIZE, what)?;

    let what = "UnaryCall with an uncompressed request";
    let response = client.unary_call(request(false)).await.map_err(rpc_failed(what))?;
    check_payload(response.payload.as_ref(), LARGE_RESPONSE_SIZE, what)
}

async fn server_compressed_unary(client: &TestServiceClient) -> Check {
    for compressed in [true, false] {
        let what = format!("UnaryCall with response_compressed {compressed}");
        let request = SimpleRequest { response_compressed: bool_value(compressed), ..large_unary_request() };
        let response = client.unary_call(request).await.map_err(rpc_failed(&what))?;
        ensure!(
            response.message_compressed() == compressed,
            "{what}: the response's compressed flag is {}, expected {compressed}",
            response.message_compressed()
        );
        check_payload(response.payload.as_ref(), LARGE_RESPONSE_SIZE, &what)?;
    }
    Ok(())
}

async fn client_compressed_streaming(client: &TestServiceClient) -> Check {
    let request = |expect_compressed, size| StreamingInputCallRequest {
        payload: zeros(size),
        expect_compressed: bool_value(expect_compressed),
    };

    // The probe: a gzip call whose only message goes uncompressed although
    // it expects compression; the server refuses it.
    let probe = stream::iter([Outgoing::uncompressed(request(true, 27_182))]);
    let result = client
        .streaming_input_call(Request::new(probe).with_compression(Encoding::Gzip))
        .await
        .map(|response| response.into_inner());
    check_status(
        result,
        Code::InvalidArgument,
        None,
        "StreamingInputCall probe (expect_compressed, sent uncompressed)",
    )?;

    let what = "StreamingInputCall with a compressed then an uncompressed request";
    let requests =
        stream::iter([Outgoing::compressed(request(true, 27_182)), Outgoing::uncompressed(request(false, 45_904))]);
    let response = client
        .streaming_input_call(Request::new(requests).with_compression(Encoding::Gzip))
        .await
        .map_err(rpc_failed(what))?;
    ensure!(
        response.aggregated_payload_size == 73_086,
        "{what}: aggregated_payload_size is {}, expected 73086",
        response.aggregated_payload_size
    );
    Ok(())
}

async fn server_compressed_streaming(client: &TestServiceClient) -> Check {
    let expected = [(true, 31_415), (false, 92_653)];
    let request = StreamingOutputCallRequest {
        response_parameters: expected
            .iter()
            .map(|&(compressed, size)| ResponseParameters {
                size,
                compressed: bool_value(compressed),
                ..Default::default()
            })
            .collect(),
        ..StreamingOutputCallRequest::default()
    };
    let what = "StreamingOutputCall";
    let mut responses = client.streaming_output_call(request).await.map_err(rpc_failed(what))?;
    for (index, &(compressed, size)) in expected.iter().enumerate() {
        let what = format!("{what}, response {}", index + 1);
        let response = responses
            .message()
            .await
            .map_err(rpc_failed(&what))?
            .ok_or_else(|| format!("{what}: the call ended after {index} responses, expected 2"))?;
        ensure!(
            responses.last_message_compressed() == compressed,
            "{what}: the compressed flag is {}, expected {compressed}",
            responses.last_message_compressed()
        );
        check_payload(response.payload.as_ref(), size, &what)?;
    }
    let extra = read_all(&mut responses, what).await?;
    ensure!(extra.is_empty(), "{what}: {} responses more than the 2 expected", extra.len());
    Ok(())
}

/// Asks for `code` and `message` with a UnaryCall, and with a FullDuplexCall
/// if `duplex`, and checks both come back unchanged.
async fn echo_status(client: &TestServiceClient, code: i32, message: &str, duplex: bool) -> Check {
    let response_status = Some(EchoStatus { code, message: message.to_owned() });
    let expected = Code::from_i32(code);
    let request = SimpleRequest { response_status: response_status.clone(), ..SimpleRequest::default() };
    check_status(client.unary_call(request).await.map(|r| r.into_inner()), expected, Some(message), "UnaryCall")?;
    if duplex {
        let request = StreamingOutputCallRequest { response_status, ..StreamingOutputCallRequest::default() };
        let result = async {
            let mut responses = client.full_duplex_call(stream::iter([request])).await?;
            let mut received = Vec::new();
            while let Some(response) = responses.message().await? {
                received.push(response);
            }
            Ok::<_, Status>(received)
        }
        .await;
        check_status(result, expected, Some(message), "FullDuplexCall")?;
    }
    Ok(())
}

async fn status_code_and_message(client: &TestServiceClient) -> Check {
    echo_status(client, Code::Unknown as i32, STATUS_MESSAGE, true).await
}

async fn special_status_message(client: &TestServiceClient) -> Check {
    echo_status(client, Code::Unknown as i32, SPECIAL_STATUS_MESSAGE, false).await
}

async fn unimplemented_method(client: &TestServiceClient) -> Check {
    let result = client.unimplemented_call(Empty {}).await.map(|r| r.into_inner());
    check_status(result, Code::Unimplemented, None, "TestService/UnimplementedCall")
}

async fn unimplemented_service(channel: &Channel) -> Check {
    let client = UnimplementedServiceClient::new(channel.clone());
    let result = client.unimplemented_call(Empty {}).await.map(|r| r.into_inner());
    check_status(result, Code::Unimplemented, None, "UnimplementedService/UnimplementedCall")
}

/// Cancels a StreamingInputCall once it started (its headers are on the
/// wire) but before any request was sent.
///
/// gust cancels a call by dropping it, which resets the stream with CANCEL;
/// the CANCELLED status is then the caller's own. What can still go wrong,
/// and is checked: the call ending on its own before the cancel, and the
/// channel being unusable afterwards.
async fn cancel_after_begin(client: &TestServiceClient) -> Check {
    let (started, started_rx) = oneshot::channel::<()>();
    let mut started = Some(started);
    // Reports its first poll (the stream is open), then never yields a
    // request nor ends.
    let requests = stream::poll_fn(move |_| {
        if let Some(started) = started.take() {
            let _ = started.send(());
        }
        Poll::<Option<StreamingInputCallRequest>>::Pending
    });
    // Boxed, so that dropping it below really drops (cancels) the call.
    let mut call = Box::pin(client.streaming_input_call(requests));
    let ended_early = |result: Result<gust::Response<StreamingInputCallResponse>, Status>| {
        format!("StreamingInputCall ended before it was cancelled: {}", brief(&result.map(|r| r.into_inner())))
    };
    tokio::select! {
        result = &mut call => return Err(ended_early(result)),
        Ok(()) = started_rx => {}
    }
    // The stream is open but its headers may still wait in the connection's
    // queue. A call queued after them that made a round trip proves they
    // reached the server: only then is this a cancel "after begin".
    tokio::select! {
        result = &mut call => return Err(ended_early(result)),
        result = client.empty_call(Empty {}) => {
            result.map_err(rpc_failed("EmptyCall made while StreamingInputCall was open"))?;
        }
    }
    // Dropping the call cancels it.
    drop(call);
    check_channel_usable(client, "after cancelling StreamingInputCall").await
}

/// Cancels a FullDuplexCall after its first response (see
/// [`cancel_after_begin`] for what cancelling means here).
async fn cancel_after_first_response(client: &TestServiceClient) -> Check {
    let (sender, requests) = request_channel();
    let mut responses = client.full_duplex_call(requests).await.map_err(rpc_failed("FullDuplexCall"))?;
    sender
        .send(streaming_request(STREAM_RESPONSE_SIZES[0], STREAM_REQUEST_SIZES[0]))
        .await
        .map_err(|_| "FullDuplexCall: the request stream closed early".to_owned())?;
    let response = responses
        .message()
        .await
        .map_err(rpc_failed("FullDuplexCall"))?
        .ok_or("FullDuplexCall: the server ended the call instead of answering")?;
    check_payload(response.payload.as_ref(), STREAM_RESPONSE_SIZES[0], "FullDuplexCall")?;
    drop(responses);
    drop(sender);
    check_channel_usable(client, "after cancelling FullDuplexCall").await
}

async fn timeout_on_sleeping_server(client: &TestServiceClient) -> Check {
    let (sender, requests) = request_channel();
    let request = Request::new(requests).with_timeout(Duration::from_millis(1));
    let result = async {
        let mut responses = client.full_duplex_call(request).await?;
        // The server may be gone already; the status tells, not the send.
        let _ = sender.send(StreamingOutputCallRequest { payload: zeros(27_182), ..Default::default() }).await;
        let mut received = Vec::new();
        while let Some(response) = responses.message().await? {
            received.push(response);
        }
        Ok::<_, Status>(received)
    }
    .await;
    check_status(result, Code::DeadlineExceeded, None, "FullDuplexCall with a 1 ms timeout")
}

/// Runs `settings.iterations` large_unary calls, each on the client
/// `client_for_iteration` gives (the same channel, or a new one).
async fn soak<F, Fut>(settings: &SoakSettings, mut client_for_iteration: F) -> Check
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Check<TestServiceClient>>,
{
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut done = 0;
    for iteration in 0..settings.iterations {
        if started.elapsed() >= settings.overall_timeout {
            break;
        }
        let iteration_start = Instant::now();
        let result = match client_for_iteration().await {
            Ok(client) => large_unary(&client).await,
            Err(error) => Err(error),
        };
        let latency = iteration_start.elapsed();
        match result {
            Err(error) => failures.push(format!("iteration {iteration}: {error}")),
            Ok(()) if latency > settings.max_latency => failures.push(format!(
                "iteration {iteration}: took {latency:?}, over the acceptable {:?}",
                settings.max_latency
            )),
            Ok(()) => {}
        }
        done += 1;
        let next = iteration_start + settings.min_time_between_rpcs;
        tokio::time::sleep_until(next.into()).await;
    }
    ensure!(
        done == settings.iterations,
        "only {done} of {} iterations ran within the overall timeout of {:?}",
        settings.iterations,
        settings.overall_timeout
    );
    ensure!(
        failures.len() <= settings.max_failures as usize,
        "{} of {done} iterations failed (at most {} may): {}",
        failures.len(),
        settings.max_failures,
        failures.join("; ")
    );
    Ok(())
}
