//! A call's response as the client receives it.

use std::ops::{Deref, DerefMut};

use crate::metadata::Metadata;

/// The response of a unary or client-streaming call: the message with the
/// server's initial and trailing metadata. (Streaming calls return a
/// [`Streaming`](crate::Streaming), which carries both too.)
///
/// It dereferences to the message, so `client.at_index(n).await?.value` reads
/// a field directly.
#[derive(Debug)]
pub struct Response<T> {
    metadata: Metadata,
    message: T,
    trailers: Metadata,
    compressed: bool,
}

impl<T> Response<T> {
    pub(crate) fn from_parts(metadata: Metadata, message: T, trailers: Metadata, compressed: bool) -> Response<T> {
        Response { metadata, message, trailers, compressed }
    }

    /// Whether the message arrived compressed.
    pub fn message_compressed(&self) -> bool {
        self.compressed
    }

    /// The server's initial metadata (response headers). A response that
    /// carried no message (an error, or a Trailers-Only response) has only
    /// one header block: its metadata is all in the trailers.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The server's trailing metadata.
    pub fn trailers(&self) -> &Metadata {
        &self.trailers
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// The message, consuming the response.
    pub fn into_inner(self) -> T {
        self.message
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.message
    }
}

impl<T> DerefMut for Response<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.message
    }
}
