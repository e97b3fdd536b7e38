//! Client interceptors: code that sees every call a channel makes before it
//! is sent, and can add metadata (credentials, trace ids), log it, or fail
//! it with a status. They run within the call's timeout.
//!
//! ```no_run
//! use gust::client::OutgoingCall;
//!
//! # fn run() -> Result<(), gust::Error> {
//! let channel = gust::Channel::builder("http://localhost:50051")
//!     .intercept(|call: &mut OutgoingCall| {
//!         eprintln!("calling {}", call.path());
//!         call.metadata_mut().insert("x-request-id", "42").map_err(|e| gust::Status::internal(e.to_string()))?;
//!         Ok(())
//!     })
//!     .connect_lazy()?;
//! # Ok(()) }
//! ```
//!
//! A channel without interceptors pays nothing for them: its calls skip
//! this step.

use std::fmt;
use std::sync::Arc;

use crate::metadata::Metadata;
use crate::server::InterceptFuture;
use crate::status::Status;

/// Looks at (and may change) each call before it is sent. Plain closures
/// `Fn(&mut OutgoingCall) -> Result<(), Status>` are client interceptors.
pub trait ClientInterceptor: Send + Sync + 'static {
    /// Checks or amends the call; `Err` fails it with that status, without
    /// sending anything.
    fn intercept<'a>(&'a self, call: &'a mut OutgoingCall) -> InterceptFuture<'a>;
}

impl<F> ClientInterceptor for F
where
    F: Fn(&mut OutgoingCall) -> Result<(), Status> + Send + Sync + 'static,
{
    fn intercept<'a>(&'a self, call: &'a mut OutgoingCall) -> InterceptFuture<'a> {
        Box::pin(std::future::ready(self(call)))
    }
}

/// A call about to be sent, as client interceptors see it.
#[derive(Debug)]
pub struct OutgoingCall {
    path: &'static str,
    metadata: Metadata,
    secure: bool,
}

impl OutgoingCall {
    /// The method's path, `/package.Service/Method`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The metadata the call will send.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The metadata the call will send, mutably.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// Whether the channel runs over TLS.
    pub fn is_secure(&self) -> bool {
        self.secure
    }
}

/// A channel's interceptors, in the order they run.
#[derive(Clone, Default)]
pub(crate) struct Interceptors(Vec<Arc<dyn ClientInterceptor>>);

impl Interceptors {
    pub(crate) fn push(&mut self, interceptor: Arc<dyn ClientInterceptor>) {
        self.0.push(interceptor);
    }

    /// Adds `other`'s interceptors after these.
    pub(crate) fn append(&mut self, mut other: Interceptors) {
        self.0.append(&mut other.0);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs every interceptor on a copy of the call's metadata; returns the
    /// metadata to send.
    pub(crate) async fn run(&self, path: &'static str, metadata: &Metadata, secure: bool) -> Result<Metadata, Status> {
        let mut call = OutgoingCall { path, metadata: metadata.clone(), secure };
        for interceptor in &self.0 {
            interceptor.intercept(&mut call).await?;
        }
        Ok(call.metadata)
    }
}

impl fmt::Debug for Interceptors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} interceptors", self.0.len())
    }
}
