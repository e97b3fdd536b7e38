//! The error codes RST_STREAM and GOAWAY frames carry (RFC 9113 section 7).

use std::fmt;

/// An HTTP/2 error code: why a stream was reset or a connection closed.
///
/// A newtype rather than an enum because peers may send codes this side does
/// not know, which RFC 9113 section 7 says must not trigger special behavior
/// yet still have to be carried (and logged) as received.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ErrorCode(pub(crate) u32);

impl ErrorCode {
    /// Graceful shutdown, or a stream ended without a problem.
    pub(crate) const NO_ERROR: ErrorCode = ErrorCode(0x0);
    /// The peer broke the protocol in a way no more specific code describes.
    pub(crate) const PROTOCOL_ERROR: ErrorCode = ErrorCode(0x1);
    /// This side failed for a reason of its own.
    pub(crate) const INTERNAL_ERROR: ErrorCode = ErrorCode(0x2);
    /// The peer broke the flow-control rules.
    pub(crate) const FLOW_CONTROL_ERROR: ErrorCode = ErrorCode(0x3);
    /// A SETTINGS frame was not acknowledged in time.
    pub(crate) const SETTINGS_TIMEOUT: ErrorCode = ErrorCode(0x4);
    /// A frame arrived on a stream already half-closed for the sender.
    pub(crate) const STREAM_CLOSED: ErrorCode = ErrorCode(0x5);
    /// A frame had an invalid size.
    pub(crate) const FRAME_SIZE_ERROR: ErrorCode = ErrorCode(0x6);
    /// The stream was refused before any of it was processed: safe to retry.
    pub(crate) const REFUSED_STREAM: ErrorCode = ErrorCode(0x7);
    /// The stream is no longer wanted.
    pub(crate) const CANCEL: ErrorCode = ErrorCode(0x8);
    /// The field-block compression state can no longer be kept in sync.
    pub(crate) const COMPRESSION_ERROR: ErrorCode = ErrorCode(0x9);
    /// A CONNECT tunnel's connection was reset or closed abnormally.
    pub(crate) const CONNECT_ERROR: ErrorCode = ErrorCode(0xa);
    /// The peer seems to be generating excessive load.
    pub(crate) const ENHANCE_YOUR_CALM: ErrorCode = ErrorCode(0xb);
    /// The transport's security does not meet HTTP/2's minimum requirements.
    pub(crate) const INADEQUATE_SECURITY: ErrorCode = ErrorCode(0xc);
    /// The request has to be retried over HTTP/1.1.
    pub(crate) const HTTP_1_1_REQUIRED: ErrorCode = ErrorCode(0xd);

    /// The RFC's name for this code, or `None` for a code it does not define;
    /// lets logs show `PROTOCOL_ERROR` instead of a bare number.
    pub(crate) fn name(self) -> Option<&'static str> {
        let name = match self {
            ErrorCode::NO_ERROR => "NO_ERROR",
            ErrorCode::PROTOCOL_ERROR => "PROTOCOL_ERROR",
            ErrorCode::INTERNAL_ERROR => "INTERNAL_ERROR",
            ErrorCode::FLOW_CONTROL_ERROR => "FLOW_CONTROL_ERROR",
            ErrorCode::SETTINGS_TIMEOUT => "SETTINGS_TIMEOUT",
            ErrorCode::STREAM_CLOSED => "STREAM_CLOSED",
            ErrorCode::FRAME_SIZE_ERROR => "FRAME_SIZE_ERROR",
            ErrorCode::REFUSED_STREAM => "REFUSED_STREAM",
            ErrorCode::CANCEL => "CANCEL",
            ErrorCode::COMPRESSION_ERROR => "COMPRESSION_ERROR",
            ErrorCode::CONNECT_ERROR => "CONNECT_ERROR",
            ErrorCode::ENHANCE_YOUR_CALM => "ENHANCE_YOUR_CALM",
            ErrorCode::INADEQUATE_SECURITY => "INADEQUATE_SECURITY",
            ErrorCode::HTTP_1_1_REQUIRED => "HTTP_1_1_REQUIRED",
            _ => return None,
        };
        Some(name)
    }
}

/// Prints the RFC's name, or the number in hex for a code it does not define.
impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "ErrorCode({:#x})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_print_their_rfc_names() {
        assert_eq!(format!("{:?}", ErrorCode::NO_ERROR), "NO_ERROR");
        assert_eq!(format!("{:?}", ErrorCode::FRAME_SIZE_ERROR), "FRAME_SIZE_ERROR");
        assert_eq!(format!("{:?}", ErrorCode(0xd)), "HTTP_1_1_REQUIRED");
    }

    #[test]
    fn every_code_up_to_http_1_1_required_has_a_name() {
        assert!((0x0..=0xd).all(|code| ErrorCode(code).name().is_some()));
    }

    #[test]
    fn unknown_codes_print_as_hex() {
        assert_eq!(ErrorCode(0xe).name(), None);
        assert_eq!(format!("{:?}", ErrorCode(0xbeef)), "ErrorCode(0xbeef)");
    }
}
