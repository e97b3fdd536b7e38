//! The task that sends a client's request stream while the caller reads the
//! response.

use std::pin::pin;
use std::sync::{Arc, OnceLock};

use futures_core::Stream;
use futures_util::StreamExt as _;
use tokio::task::AbortHandle;

use crate::codec::{encode_frame, Encoding, OutboundMessage};
use crate::status::Status;
use crate::transport::SendBody;

/// Handle on the task sending a call's request messages. Dropping it stops
/// the task; HTTP/2 then resets the stream (RST_STREAM CANCEL) if it is still
/// open: that is how a client cancels a streaming call. (A call dropped before
/// its HEADERS frame left reaches the server as nothing at all.)
pub(crate) struct RequestPump {
    task: AbortHandle,
    /// An error found on this side (a request over the size limit), which
    /// is the real reason the call failed.
    error: Arc<OnceLock<Status>>,
}

impl RequestPump {
    /// Spawns the task: each message is encoded (compressed with the call's
    /// encoding unless it says otherwise) and sent as the stream's flow
    /// control allows, then the request stream is ended.
    pub(crate) fn spawn<S>(
        mut send: SendBody,
        requests: S,
        compression: Option<Encoding>,
        max_send_message_size: usize,
    ) -> RequestPump
    where
        S: Stream + Send + 'static,
        S::Item: OutboundMessage,
    {
        let error = Arc::new(OnceLock::new());
        let task_error = error.clone();
        let task = tokio::spawn(async move {
            let mut requests = pin!(requests);
            while let Some(message) = requests.next().await {
                let outgoing = message.into_outgoing();
                let encoding = compression.filter(|_| outgoing.compress != Some(false));
                let frame = match encode_frame(&outgoing.message, max_send_message_size, encoding) {
                    Ok(frame) => frame,
                    Err(status) => {
                        let _ = task_error.set(status);
                        send.reset(h2::Reason::CANCEL);
                        return;
                    }
                };
                if let Err(status) = send.send_frame(frame, false).await {
                    // The stream is gone; the response side reports why.
                    tracing::debug!(%status, "request stream stopped");
                    return;
                }
            }
            if let Err(status) = send.send(bytes::Bytes::new(), true).await {
                tracing::debug!(%status, "could not end the request stream");
            }
        });
        RequestPump { task: task.abort_handle(), error }
    }

    /// The local error that ended the request stream, if any.
    pub(crate) fn error(&self) -> Option<Status> {
        self.error.get().cloned()
    }
}

impl Drop for RequestPump {
    fn drop(&mut self) {
        self.task.abort();
    }
}
