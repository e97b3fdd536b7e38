//! What decoding a frame that breaks RFC 9113's framing rules yields.

use super::error_code::ErrorCode;

/// A frame that breaks RFC 9113 framing rules, sorted the way section 5.4
/// sorts errors: whether the whole connection or one stream has to end.
///
/// The text says which rule was broken; it exists for logs and the debug
/// data of the GOAWAY frame the engine sends, never for matching on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The connection has to end with GOAWAY carrying this code
    /// (RFC 9113 section 5.4.1).
    Connection(ErrorCode, &'static str),
    /// This stream has to be reset with RST_STREAM carrying this code; the
    /// connection goes on (RFC 9113 section 5.4.2).
    Stream(u32, ErrorCode, &'static str),
}

impl FrameError {
    /// The code to send in the GOAWAY or RST_STREAM frame: lets the engine
    /// log and count errors without caring which kind they are.
    pub(crate) fn code(&self) -> ErrorCode {
        match *self {
            FrameError::Connection(code, _) | FrameError::Stream(_, code, _) => code,
        }
    }

    /// Which rule the frame broke.
    pub(crate) fn reason(&self) -> &'static str {
        match *self {
            FrameError::Connection(_, reason) | FrameError::Stream(_, _, reason) => reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_reason_are_read_from_either_kind() {
        let connection = FrameError::Connection(ErrorCode::PROTOCOL_ERROR, "why");
        let stream = FrameError::Stream(3, ErrorCode::FRAME_SIZE_ERROR, "because");
        assert_eq!((connection.code(), connection.reason()), (ErrorCode::PROTOCOL_ERROR, "why"));
        assert_eq!((stream.code(), stream.reason()), (ErrorCode::FRAME_SIZE_ERROR, "because"));
    }
}
