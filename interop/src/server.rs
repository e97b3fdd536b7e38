//! `grpc.testing.TestService` as the interop test descriptions define it:
//! payloads of the requested sizes (zeros), `interval_us` pauses between
//! streamed responses, the echo of `x-grpc-test-echo-initial` and
//! `x-grpc-test-echo-trailing-bin`, the echo of `response_status`, the
//! compression features (`expect_compressed`: a request that should have
//! arrived compressed and did not fails with INVALID_ARGUMENT;
//! `response_compressed` / `ResponseParameters.compressed`: gzip responses),
//! and `UnimplementedCall` left unimplemented.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gust::{CallContext, Code, Encoding, Metadata, Outgoing, Request, ResponseSink, Status, Streaming};
use tokio::sync::watch;

use crate::pb::{
    BoolValue, EchoStatus, Empty, Payload, PayloadType, ResponseParameters, SimpleRequest, SimpleResponse,
    StreamingInputCallRequest, StreamingInputCallResponse, StreamingOutputCallRequest, StreamingOutputCallResponse,
    TestServiceServer,
};
use crate::{ECHO_INITIAL_KEY, ECHO_TRAILING_KEY};

/// Largest payload the server agrees to build. Sizes come from the network;
/// this keeps one request from making the server allocate gigabytes. The
/// largest size any standard case asks for is 314159 bytes.
pub const MAX_PAYLOAD_SIZE: usize = 16 * 1024 * 1024;

/// What the server saw happen to its calls, for tests that need the server's
/// side of the story (a client that cancels a call gets no status back).
#[derive(Debug)]
pub struct Observations {
    cancelled: watch::Sender<usize>,
}

impl Default for Observations {
    fn default() -> Observations {
        Observations { cancelled: watch::Sender::new(0) }
    }
}

impl Observations {
    /// How many calls ended because they were cancelled (client reset,
    /// deadline, shutdown) while their handler was still running.
    pub fn cancelled_calls(&self) -> usize {
        *self.cancelled.borrow()
    }

    /// Waits until at least `count` calls were cancelled.
    pub async fn wait_for_cancelled_calls(&self, count: usize) {
        let mut receiver = self.cancelled.subscribe();
        // The sender lives in `self`, so the wait cannot fail.
        let _ = receiver.wait_for(|cancelled| *cancelled >= count).await;
    }

    fn record_cancelled(&self) {
        self.cancelled.send_modify(|cancelled| *cancelled += 1);
    }
}

/// Counts the handler as cancelled if its future is dropped while the call's
/// context says cancelled (gust drops a cancelled call's handler).
struct CancelWatch {
    context: CallContext,
    observations: Arc<Observations>,
}

impl Drop for CancelWatch {
    fn drop(&mut self) {
        if self.context.is_cancelled() {
            self.observations.record_cancelled();
        }
    }
}

/// The interop `TestService`.
#[derive(Clone, Debug, Default)]
pub struct TestService {
    observations: Arc<Observations>,
}

impl TestService {
    /// A new service with its own observations.
    pub fn new() -> TestService {
        TestService::default()
    }

    /// What the service observed, shared with every clone.
    pub fn observations(&self) -> Arc<Observations> {
        self.observations.clone()
    }

    /// The service, ready for `gust::Server::builder().add_service(...)`.
    pub fn into_server(self) -> TestServiceServer<TestService> {
        TestServiceServer::new(self)
    }

    fn watch<T>(&self, request: &Request<T>) -> CancelWatch {
        CancelWatch { context: request.context().clone(), observations: self.observations.clone() }
    }
}

/// The echo feature: which metadata the response must carry, given the
/// request's metadata.
fn echoed_metadata(request: &Metadata) -> Result<(Metadata, Metadata), Status> {
    let invalid = |error: gust::InvalidMetadata| Status::internal(format!("cannot echo metadata: {error}"));
    let mut initial = Metadata::new();
    for value in request.get_all(ECHO_INITIAL_KEY) {
        initial.append(ECHO_INITIAL_KEY, value).map_err(invalid)?;
    }
    let mut trailing = Metadata::new();
    for value in request.get_all_bin(ECHO_TRAILING_KEY) {
        trailing.append_bin(ECHO_TRAILING_KEY, &value).map_err(invalid)?;
    }
    Ok((initial, trailing))
}

/// Sets the echoed metadata on the call's response.
fn echo_metadata<T>(request: &Request<T>) -> Result<(), Status> {
    let (initial, trailing) = echoed_metadata(request.metadata())?;
    let context = request.context();
    if !initial.is_empty() {
        context.set_initial_metadata(initial);
    }
    if !trailing.is_empty() {
        context.set_trailing_metadata(trailing);
    }
    Ok(())
}

/// The status a request asked the call to end with, if any (code 0 is OK,
/// which asks for nothing).
fn requested_status(echo: Option<&EchoStatus>) -> Option<Status> {
    let echo = echo?;
    (echo.code != 0).then(|| Status::new(Code::from_i32(echo.code), echo.message.clone()))
}

/// A payload of `size` zero bytes, of the (only supported) COMPRESSABLE type.
fn zero_payload(response_type: i32, size: i32) -> Result<Payload, Status> {
    if response_type != PayloadType::Compressable as i32 {
        return Err(Status::invalid_argument(format!("unsupported response_type {response_type}")));
    }
    let size = usize::try_from(size).map_err(|_| Status::invalid_argument(format!("negative payload size {size}")))?;
    if size > MAX_PAYLOAD_SIZE {
        return Err(Status::invalid_argument(format!(
            "payload size {size} is over this server's limit of {MAX_PAYLOAD_SIZE} bytes"
        )));
    }
    Ok(Payload { r#type: PayloadType::Compressable as i32, body: vec![0; size].into() })
}

/// Whether a nullable `BoolValue` is set to true.
fn is_true(value: Option<&BoolValue>) -> bool {
    value.is_some_and(|value| value.value)
}

/// Sends the response one `ResponseParameters` describes, after its pause,
/// compressed if the parameters ask for it.
async fn send_response(
    response_type: i32,
    parameters: &ResponseParameters,
    responses: &mut ResponseSink<StreamingOutputCallResponse>,
) -> Result<(), Status> {
    if let Ok(interval) = u64::try_from(parameters.interval_us) {
        if interval > 0 {
            tokio::time::sleep(Duration::from_micros(interval)).await;
        }
    }
    let response = StreamingOutputCallResponse { payload: Some(zero_payload(response_type, parameters.size)?) };
    if is_true(parameters.compressed.as_ref()) {
        responses.send(Outgoing::compressed(response)).await
    } else {
        responses.send(Outgoing::uncompressed(response)).await
    }
}

/// Answers one streaming request: its status if it asks for one, else one
/// response per `ResponseParameters`, in order.
async fn answer(
    request: &StreamingOutputCallRequest,
    responses: &mut ResponseSink<StreamingOutputCallResponse>,
) -> Result<(), Status> {
    if let Some(status) = requested_status(request.response_status.as_ref()) {
        return Err(status);
    }
    // The call's encoding goes out with the response headers, so it is
    // chosen as soon as some response asks for compression; responses that
    // do not are then sent uncompressed one by one.
    if request.response_parameters.iter().any(|parameters| is_true(parameters.compressed.as_ref())) {
        responses.context().set_compression(Encoding::Gzip);
    }
    for parameters in &request.response_parameters {
        send_response(request.response_type, parameters, responses).await?;
    }
    Ok(())
}

/// The CompressedRequest feature: a message that says it should have
/// arrived compressed but did not fails the call.
fn check_compressed(expect_compressed: Option<&BoolValue>, compressed: bool) -> Result<(), Status> {
    if is_true(expect_compressed) && !compressed {
        return Err(Status::invalid_argument("expect_compressed is set but the request message arrived uncompressed"));
    }
    Ok(())
}

fn payload_len(payload: Option<&Payload>) -> usize {
    payload.map_or(0, |payload| payload.body.len())
}

impl crate::pb::TestService for TestService {
    async fn empty_call(&self, request: Request<Empty>) -> Result<Empty, Status> {
        let _watch = self.watch(&request);
        echo_metadata(&request)?;
        Ok(Empty {})
    }

    async fn unary_call(&self, request: Request<SimpleRequest>) -> Result<SimpleResponse, Status> {
        let _watch = self.watch(&request);
        echo_metadata(&request)?;
        let message = request.get_ref();
        check_compressed(message.expect_compressed.as_ref(), request.message_compressed())?;
        if let Some(status) = requested_status(message.response_status.as_ref()) {
            return Err(status);
        }
        if is_true(message.response_compressed.as_ref()) {
            request.context().set_compression(Encoding::Gzip);
        }
        let payload = zero_payload(message.response_type, message.response_size)?;
        let server_id = if message.fill_server_id { "gust-interop-server".to_owned() } else { String::new() };
        Ok(SimpleResponse { payload: Some(payload), server_id, ..SimpleResponse::default() })
    }

    async fn cacheable_unary_call(&self, request: Request<SimpleRequest>) -> Result<SimpleResponse, Status> {
        let _watch = self.watch(&request);
        let (mut initial, trailing) = echoed_metadata(request.metadata())?;
        initial.insert("cache-control", "max-age=60, public").map_err(|error| Status::internal(error.to_string()))?;
        request.context().set_initial_metadata(initial);
        request.context().set_trailing_metadata(trailing);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_nanos()).unwrap_or_default();
        let payload = Payload { r#type: PayloadType::Compressable as i32, body: nanos.to_string().into() };
        Ok(SimpleResponse { payload: Some(payload), ..SimpleResponse::default() })
    }

    async fn streaming_output_call(
        &self,
        request: Request<StreamingOutputCallRequest>,
        mut responses: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        let _watch = self.watch(&request);
        echo_metadata(&request)?;
        answer(request.get_ref(), &mut responses).await
    }

    async fn streaming_input_call(
        &self,
        request: Request<Streaming<StreamingInputCallRequest>>,
    ) -> Result<StreamingInputCallResponse, Status> {
        let _watch = self.watch(&request);
        echo_metadata(&request)?;
        let mut requests = request.into_inner();
        let mut aggregated: usize = 0;
        while let Some(message) = requests.message().await? {
            check_compressed(message.expect_compressed.as_ref(), requests.last_message_compressed())?;
            aggregated = aggregated.saturating_add(payload_len(message.payload.as_ref()));
        }
        let aggregated_payload_size = i32::try_from(aggregated).unwrap_or(i32::MAX);
        Ok(StreamingInputCallResponse { aggregated_payload_size })
    }

    async fn full_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
        mut responses: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        let _watch = self.watch(&request);
        echo_metadata(&request)?;
        let mut requests = request.into_inner();
        while let Some(message) = requests.message().await? {
            answer(&message, &mut responses).await?;
        }
        Ok(())
    }

    async fn half_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
        mut responses: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        let _watch = self.watch(&request);
        echo_metadata(&request)?;
        let mut requests = request.into_inner();
        let mut received = Vec::new();
        while let Some(message) = requests.message().await? {
            received.push(message);
        }
        for message in &received {
            answer(message, &mut responses).await?;
        }
        Ok(())
    }

    async fn unimplemented_call(&self, _request: Request<Empty>) -> Result<Empty, Status> {
        Err(Status::unimplemented("grpc.testing.TestService/UnimplementedCall is not implemented, on purpose"))
    }
}
