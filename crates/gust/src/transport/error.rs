//! What an HTTP/2 failure means to a gRPC call.

use crate::status::{Code, Status};

/// Maps an h2 error to the status a call ends with: a stream reset maps per
/// the protocol's RST_STREAM table; a lost or refused connection is
/// UNAVAILABLE (the call may be retried elsewhere).
pub(crate) fn status_from_h2(error: h2::Error) -> Status {
    if error.is_io() || error.is_go_away() {
        return Status::unavailable(format!("connection lost: {error}"));
    }
    match error.reason() {
        Some(reason) if error.is_reset() => status_from_reset(reason),
        _ => Status::internal(format!("HTTP/2 error: {error}")),
    }
}

/// The status for a RST_STREAM the peer sent.
pub(crate) fn status_from_reset(reason: h2::Reason) -> Status {
    Status::new(Code::from_h2_reason(reason), format!("stream reset by peer: {reason:?}"))
}
