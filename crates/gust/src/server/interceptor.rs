//! Server interceptors: code that sees each call's path, metadata and peer
//! before its handler runs, and can refuse the call with any status
//! (UNAUTHENTICATED, PERMISSION_DENIED, ...) or hand the handler typed
//! values (say, verified token claims) through the call's [`Extensions`].
//!
//! ```no_run
//! use gust::server::CallHead;
//! use gust::Status;
//!
//! #[derive(Clone)]
//! struct User(String);
//!
//! let builder = gust::Server::builder().intercept(|call: &mut CallHead| {
//!     let user = call.metadata().get("x-user").ok_or_else(|| Status::unauthenticated("no x-user"))?;
//!     let user = User(user.to_owned());
//!     call.extensions_mut().insert(user);
//!     Ok(())
//! });
//! // and in a handler: request.extensions().get::<User>()
//! ```
//!
//! A server without interceptors pays nothing for them: the router skips
//! this step when none is installed.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use http::Extensions;
use tokio_util::sync::CancellationToken;

use crate::metadata::Metadata;
use crate::status::Status;
use crate::transport::Peer;

/// What an interceptor's check returns: `Err` ends the call with that status.
pub type InterceptFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Status>> + Send + 'a>>;

/// Looks at (and may change) a call before its handler runs.
///
/// Plain closures `Fn(&mut CallHead) -> Result<(), Status>` are
/// interceptors; for checks that must wait (a key server, a database), use
/// [`async_interceptor`] or implement this trait.
pub trait Interceptor: Send + Sync + 'static {
    /// Checks the call; `Err` refuses it with that status, before the
    /// request message is read.
    fn intercept<'a>(&'a self, call: &'a mut CallHead) -> InterceptFuture<'a>;
}

impl<F> Interceptor for F
where
    F: Fn(&mut CallHead) -> Result<(), Status> + Send + Sync + 'static,
{
    fn intercept<'a>(&'a self, call: &'a mut CallHead) -> InterceptFuture<'a> {
        Box::pin(std::future::ready(self(call)))
    }
}

/// An interceptor from an async function that takes the call's head and
/// gives it back (with changes) to let the call go on.
pub fn async_interceptor<F, Fut>(check: F) -> impl Interceptor
where
    F: Fn(CallHead) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallHead, Status>> + Send + 'static,
{
    AsyncInterceptor(check)
}

struct AsyncInterceptor<F>(F);

impl<F, Fut> Interceptor for AsyncInterceptor<F>
where
    F: Fn(CallHead) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallHead, Status>> + Send + 'static,
{
    fn intercept<'a>(&'a self, call: &'a mut CallHead) -> InterceptFuture<'a> {
        let checked = (self.0)(std::mem::take(call));
        Box::pin(async move {
            *call = checked.await?;
            Ok(())
        })
    }
}

/// A call as interceptors see it: everything but the messages.
#[derive(Debug, Default)]
pub struct CallHead {
    /// `/package.Service/Method`.
    path: String,
    metadata: Metadata,
    extensions: Extensions,
    peer: Peer,
}

impl CallHead {
    pub(crate) fn new(path: String, metadata: Metadata, peer: Peer) -> CallHead {
        CallHead { path, metadata, extensions: Extensions::new(), peer }
    }

    pub(crate) fn into_parts(self) -> (Metadata, Extensions, Peer) {
        (self.metadata, self.extensions, self.peer)
    }

    /// The method's path, `/package.Service/Method`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The request metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The request metadata, mutably: the handler sees the changes.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// Values for the handler ([`Request::extensions`](crate::Request::extensions)).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Values for the handler, mutably: insert one per type.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// The address of the client.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer.addr
    }

    /// The client's verified TLS certificate chain, leaf first, in DER
    /// (see [`CallContext::peer_certificates`](crate::CallContext::peer_certificates)).
    pub fn peer_certificates(&self) -> Option<&[Vec<u8>]> {
        self.peer.certificates.as_deref()
    }
}

/// Runs every interceptor in order until one refuses the call. They run
/// within the call's deadline; `None` when the server stopped meanwhile
/// (the call is then dropped without an answer, like any cancelled one). A
/// client's reset of the call is noticed once they are done.
pub(crate) async fn run(
    interceptors: &[Arc<dyn Interceptor>],
    call: &mut CallHead,
    deadline: Option<Instant>,
    cancellation: &CancellationToken,
) -> Option<Result<(), Status>> {
    let checks = async {
        for interceptor in interceptors {
            interceptor.intercept(call).await?;
        }
        Ok(())
    };
    let expired = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        result = checks => Some(result),
        () = expired => Some(Err(Status::deadline_exceeded("deadline exceeded"))),
        () = cancellation.cancelled() => None,
    }
}
