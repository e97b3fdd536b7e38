//! gRPC server reflection (grpc/grpc doc/server-reflection.md), in both
//! versions clients use: `grpc.reflection.v1.ServerReflection` and the older
//! `grpc.reflection.v1alpha.ServerReflection` (grpcio's reflection client,
//! older grpcurl).
//!
//! It serves the files of the descriptor sets registered with the
//! [`Builder`], usually the `FILE_DESCRIPTOR_SET` that gust-build puts in
//! each generated module:
//!
//! ```ignore
//! let reflection = gust_services::reflection::Builder::new()
//!     .register_encoded_file_descriptor_set(helloworld::FILE_DESCRIPTOR_SET);
//! Server::builder()
//!     .add_service(reflection.build_v1()?)
//!     .add_service(reflection.build_v1alpha()?)
//! ```
//!
//! `list_services` names every service of the registered files. A file is
//! sent with those of its transitive imports not yet sent on the stream, as
//! grpc-go does; unknown files, symbols, extensions and types are answered
//! with a NOT_FOUND `ErrorResponse`, and the stream goes on.

mod index;
mod session;

use std::fmt;
use std::sync::Arc;

use gust::{Request, ResponseSink, Status, Streaming};

use index::Index;
use session::Session;

/// The messages, service trait, server and client of `grpc.reflection.v1`.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/grpc.reflection.v1.rs"));
}

/// The messages, service trait, server and client of
/// `grpc.reflection.v1alpha`: the same messages as [`v1`], in the package
/// older clients call.
pub mod v1alpha {
    include!(concat!(env!("OUT_DIR"), "/grpc.reflection.v1alpha.rs"));
}

/// Collects the descriptor sets to serve, then builds the reflection
/// service in either version (or both, from one builder).
#[derive(Clone, Debug)]
pub struct Builder {
    sets: Vec<Vec<u8>>,
    include_reflection_service: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder { sets: Vec::new(), include_reflection_service: true }
    }
}

impl Builder {
    /// A builder serving nothing yet but the reflection protos themselves.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Serves the files of an encoded `google.protobuf.FileDescriptorSet`,
    /// such as a generated module's `FILE_DESCRIPTOR_SET`. Files with the
    /// name of one registered before are skipped.
    pub fn register_encoded_file_descriptor_set(mut self, encoded: impl AsRef<[u8]>) -> Builder {
        self.sets.push(encoded.as_ref().to_vec());
        self
    }

    /// Whether the reflection protos (both versions) are among the files
    /// served, so that the reflection service lists itself, as grpc-go's
    /// does (default: yes).
    pub fn include_reflection_service(mut self, include: bool) -> Builder {
        self.include_reflection_service = include;
        self
    }

    /// `grpc.reflection.v1.ServerReflection`, to add to a server.
    pub fn build_v1(&self) -> Result<v1::ServerReflectionServer<ReflectionService>, BuildError> {
        self.service().map(v1::ServerReflectionServer::new)
    }

    /// `grpc.reflection.v1alpha.ServerReflection`, to add to a server.
    pub fn build_v1alpha(&self) -> Result<v1alpha::ServerReflectionServer<ReflectionService>, BuildError> {
        self.service().map(v1alpha::ServerReflectionServer::new)
    }

    fn service(&self) -> Result<ReflectionService, BuildError> {
        let own: &[&[u8]] = if self.include_reflection_service {
            &[v1::FILE_DESCRIPTOR_SET, v1alpha::FILE_DESCRIPTOR_SET]
        } else {
            &[]
        };
        let mut index = Index::default();
        let sets = self.sets.iter().map(Vec::as_slice).chain(own.iter().copied());
        for (position, set) in sets.enumerate() {
            index.add_encoded_set(set).map_err(|error| BuildError { position, error })?;
        }
        Ok(ReflectionService { index: Arc::new(index) })
    }
}

/// A registered descriptor set could not be decoded.
#[derive(Debug)]
pub struct BuildError {
    /// Which registration (counted from 0) failed.
    position: usize,
    error: prost::DecodeError,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "descriptor set #{} is not an encoded FileDescriptorSet: {}", self.position, self.error)
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The reflection service over the registered files; both versions'
/// traits are implemented by it. Made by [`Builder`].
pub struct ReflectionService {
    index: Arc<Index>,
}

impl ReflectionService {
    /// Answers each request of the stream in turn, in the message types of
    /// either version: `into_v1` and `from_v1` convert between them.
    async fn serve<Req, Resp>(
        &self,
        requests: Request<Streaming<Req>>,
        mut responses: ResponseSink<Resp>,
        into_v1: impl Fn(Req) -> Result<v1::ServerReflectionRequest, Status>,
        from_v1: impl Fn(v1::ServerReflectionResponse) -> Result<Resp, Status>,
    ) -> Result<(), Status>
    where
        Req: prost::Message + Default + 'static,
        Resp: prost::Message + Default + 'static,
    {
        let mut session = Session::new(Arc::clone(&self.index));
        let mut requests = requests.into_inner();
        while let Some(request) = requests.message().await? {
            let answer = session.answer(into_v1(request)?);
            responses.send(from_v1(answer)?).await?;
        }
        Ok(())
    }
}

impl v1::ServerReflection for ReflectionService {
    async fn server_reflection_info(
        &self,
        requests: Request<Streaming<v1::ServerReflectionRequest>>,
        responses: ResponseSink<v1::ServerReflectionResponse>,
    ) -> Result<(), Status> {
        self.serve(requests, responses, Ok, Ok).await
    }
}

impl v1alpha::ServerReflection for ReflectionService {
    async fn server_reflection_info(
        &self,
        requests: Request<Streaming<v1alpha::ServerReflectionRequest>>,
        responses: ResponseSink<v1alpha::ServerReflectionResponse>,
    ) -> Result<(), Status> {
        self.serve(requests, responses, transcode, transcode).await
    }
}

/// The same message in the other version's types: both versions share
/// field numbers and types, so the encoding of one decodes as the other.
fn transcode<From: prost::Message, To: prost::Message + Default>(message: From) -> Result<To, Status> {
    To::decode(message.encode_to_vec().as_slice())
        .map_err(|error| Status::internal(format!("reflection versions disagree: {error}")))
}
