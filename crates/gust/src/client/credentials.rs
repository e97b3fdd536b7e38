//! Call credentials: a bearer token sent with every call of a channel, as
//! `authorization: Bearer <token>`, static or fetched per call from a
//! [`TokenSource`] (which may refresh it, asynchronously).
//!
//! Tokens go only over TLS unless the channel explicitly allows plaintext
//! ([`ChannelBuilder::allow_insecure_credentials`](super::ChannelBuilder::allow_insecure_credentials)):
//! as grpc-go refuses per-RPC credentials that require transport security on
//! an insecure connection, building such a channel fails.

use std::future::Future;
use std::pin::Pin;

use super::interceptor::{ClientInterceptor, OutgoingCall};
use crate::server::InterceptFuture;
use crate::status::Status;

/// What [`TokenSource::token`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<String, Status>> + Send + 'a>>;

/// Gives the token for each call. An `Err` fails the call with that status
/// (say UNAUTHENTICATED, or UNAVAILABLE when a token server is down).
///
/// Async closures `Fn() -> impl Future<Output = Result<String, Status>>`
/// are token sources.
pub trait TokenSource: Send + Sync + 'static {
    /// The token for the next call.
    fn token(&self) -> TokenFuture<'_>;
}

impl<F, Fut> TokenSource for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, Status>> + Send + 'static,
{
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self())
    }
}

/// A token that never changes.
pub(crate) struct StaticToken(pub(crate) String);

impl TokenSource for StaticToken {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }
}

/// Adds `authorization: Bearer <token>` to every call.
pub(crate) struct BearerCredentials<S>(pub(crate) S);

impl<S: TokenSource> ClientInterceptor for BearerCredentials<S> {
    fn intercept<'a>(&'a self, call: &'a mut OutgoingCall) -> InterceptFuture<'a> {
        Box::pin(async move {
            let token = self.0.token().await?;
            call.metadata_mut()
                .insert("authorization", &format!("Bearer {token}"))
                .map_err(|error| Status::unauthenticated(format!("unusable bearer token: {error}")))?;
            Ok(())
        })
    }
}
