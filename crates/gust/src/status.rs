//! The outcome of a call: a [`Code`], a message, optional binary details, and
//! the trailing metadata that travels with it.
//!
//! Invariants:
//! - every call ends with exactly one `Status`; a successful call ends with
//!   [`Code::Ok`], and an `Err(Status)` returned by a handler or a client call
//!   carries the code the peer (or the runtime) chose;
//! - the message is text for humans; programs branch on [`Status::code`] and
//!   read structured data from [`Status::details`] (the serialized
//!   `google.rpc.Status` carried in `grpc-status-details-bin`).

use std::fmt;

use bytes::Bytes;

use crate::metadata::Metadata;

/// The 17 gRPC status codes, with their wire numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Code {
    /// Not an error; returned on success.
    Ok = 0,
    /// The operation was cancelled, typically by the caller.
    Cancelled = 1,
    /// Unknown error, e.g. an error from another address space with no mapping.
    Unknown = 2,
    /// The client specified an invalid argument.
    InvalidArgument = 3,
    /// The deadline expired before the operation could complete.
    DeadlineExceeded = 4,
    /// Some requested entity was not found.
    NotFound = 5,
    /// The entity a client attempted to create already exists.
    AlreadyExists = 6,
    /// The caller does not have permission to execute the operation.
    PermissionDenied = 7,
    /// Some resource has been exhausted (a quota, a size limit, ...).
    ResourceExhausted = 8,
    /// The system is not in a state required for the operation.
    FailedPrecondition = 9,
    /// The operation was aborted, typically due to a concurrency issue.
    Aborted = 10,
    /// The operation was attempted past the valid range.
    OutOfRange = 11,
    /// The operation is not implemented or supported.
    Unimplemented = 12,
    /// An invariant expected by the underlying system was broken.
    Internal = 13,
    /// The service is currently unavailable; retrying may help.
    Unavailable = 14,
    /// Unrecoverable data loss or corruption.
    DataLoss = 15,
    /// The request lacks valid authentication credentials.
    Unauthenticated = 16,
}

impl Code {
    /// Every code, in wire order.
    pub const ALL: [Code; 17] = [
        Code::Ok,
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];

    /// The code for a wire number; numbers outside 0..=16 are `Unknown`, as
    /// grpc-go and grpc-core treat them.
    pub fn from_i32(value: i32) -> Code {
        usize::try_from(value).ok().and_then(|index| Code::ALL.get(index).copied()).unwrap_or(Code::Unknown)
    }

    /// The canonical upper-case name, as in `grpc.StatusCode` (`"NOT_FOUND"`).
    pub fn name(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
    }

    /// The code a client synthesizes when a response carries no `grpc-status`
    /// but a non-200 HTTP status (gRPC's "HTTP to gRPC status code mapping").
    pub fn from_http_status(status: u16) -> Code {
        match status {
            400 => Code::Internal,
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::Unimplemented,
            429 | 502..=504 => Code::Unavailable,
            _ => Code::Unknown,
        }
    }

    /// The code for an HTTP/2 RST_STREAM error code received from the peer,
    /// per the protocol document's mapping table.
    pub fn from_h2_reason(reason: h2::Reason) -> Code {
        match reason {
            h2::Reason::CANCEL => Code::Cancelled,
            h2::Reason::REFUSED_STREAM => Code::Unavailable,
            h2::Reason::ENHANCE_YOUR_CALM => Code::ResourceExhausted,
            h2::Reason::INADEQUATE_SECURITY => Code::PermissionDenied,
            _ => Code::Internal,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The status of a finished call: what a handler returns as its error and
/// what a caller receives.
#[derive(Clone)]
pub struct Status {
    code: Code,
    message: String,
    /// Details and metadata, boxed: most statuses have neither, and a small
    /// `Status` keeps every `Result<_, Status>` small.
    extra: Option<Box<StatusExtra>>,
}

#[derive(Clone, Default)]
struct StatusExtra {
    details: Bytes,
    metadata: Metadata,
}

/// What `details()` and `metadata()` return for a status that has none.
static NO_EXTRA: std::sync::LazyLock<StatusExtra> = std::sync::LazyLock::new(StatusExtra::default);

macro_rules! code_constructors {
    ($($(#[$doc:meta])* $name:ident => $code:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(message: impl Into<String>) -> Status {
                Status::new(Code::$code, message)
            }
        )*
    };
}

impl Status {
    /// A status with `code` and a human-readable `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Status {
        Status { code, message: message.into(), extra: None }
    }

    /// The status of a successful call.
    pub fn ok() -> Status {
        Status::new(Code::Ok, "")
    }

    /// The status a peer sent in trailers (or in a Trailers-Only response),
    /// with their other entries as its metadata; `None` when they carry no
    /// `grpc-status`. For tools that read HTTP/2 responses themselves, as
    /// `gust bench` does.
    pub fn from_trailers(trailers: http::HeaderMap) -> Option<Status> {
        crate::protocol::read_status(trailers).ok()
    }

    code_constructors! {
        /// `CANCELLED` with `message`.
        cancelled => Cancelled,
        /// `UNKNOWN` with `message`.
        unknown => Unknown,
        /// `INVALID_ARGUMENT` with `message`.
        invalid_argument => InvalidArgument,
        /// `DEADLINE_EXCEEDED` with `message`.
        deadline_exceeded => DeadlineExceeded,
        /// `NOT_FOUND` with `message`.
        not_found => NotFound,
        /// `ALREADY_EXISTS` with `message`.
        already_exists => AlreadyExists,
        /// `PERMISSION_DENIED` with `message`.
        permission_denied => PermissionDenied,
        /// `RESOURCE_EXHAUSTED` with `message`.
        resource_exhausted => ResourceExhausted,
        /// `FAILED_PRECONDITION` with `message`.
        failed_precondition => FailedPrecondition,
        /// `ABORTED` with `message`.
        aborted => Aborted,
        /// `OUT_OF_RANGE` with `message`.
        out_of_range => OutOfRange,
        /// `UNIMPLEMENTED` with `message`.
        unimplemented => Unimplemented,
        /// `INTERNAL` with `message`.
        internal => Internal,
        /// `UNAVAILABLE` with `message`.
        unavailable => Unavailable,
        /// `DATA_LOSS` with `message`.
        data_loss => DataLoss,
        /// `UNAUTHENTICATED` with `message`.
        unauthenticated => Unauthenticated,
    }

    /// Attaches binary details (by convention a serialized `google.rpc.Status`),
    /// sent as `grpc-status-details-bin`.
    pub fn with_details(mut self, details: impl Into<Bytes>) -> Status {
        self.extra_mut().details = details.into();
        self
    }

    /// Attaches trailing metadata sent along with the status.
    pub fn with_metadata(mut self, metadata: Metadata) -> Status {
        self.extra_mut().metadata = metadata;
        self
    }

    /// The status code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The human-readable message (already percent-decoded).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The binary details; empty when the peer sent none.
    pub fn details(&self) -> &Bytes {
        &self.extra().details
    }

    /// Trailing metadata received with (or to be sent with) the status.
    pub fn metadata(&self) -> &Metadata {
        &self.extra().metadata
    }

    /// Mutable access to the trailing metadata.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.extra_mut().metadata
    }

    fn extra(&self) -> &StatusExtra {
        self.extra.as_deref().unwrap_or(&NO_EXTRA)
    }

    fn extra_mut(&mut self) -> &mut StatusExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Whether this is the status of a successful call.
    pub fn is_ok(&self) -> bool {
        self.code == Code::Ok
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Status");
        debug.field("code", &self.code).field("message", &self.message);
        if !self.details().is_empty() {
            debug.field("details", self.details());
        }
        if !self.metadata().is_empty() {
            debug.field("metadata", self.metadata());
        }
        debug.finish()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

impl std::error::Error for Status {}

impl From<std::io::Error> for Status {
    /// I/O errors on a call's transport mean the peer is gone or unreachable.
    fn from(error: std::io::Error) -> Status {
        Status::unavailable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_numbers() {
        for (number, code) in Code::ALL.iter().enumerate() {
            assert_eq!(*code as usize, number);
            assert_eq!(Code::from_i32(number as i32), *code);
        }
        assert_eq!(Code::from_i32(17), Code::Unknown);
        assert_eq!(Code::from_i32(-1), Code::Unknown);
    }

    #[test]
    fn http_statuses_map_as_the_spec_says() {
        assert_eq!(Code::from_http_status(400), Code::Internal);
        assert_eq!(Code::from_http_status(401), Code::Unauthenticated);
        assert_eq!(Code::from_http_status(403), Code::PermissionDenied);
        assert_eq!(Code::from_http_status(404), Code::Unimplemented);
        for unavailable in [429, 502, 503, 504] {
            assert_eq!(Code::from_http_status(unavailable), Code::Unavailable);
        }
        assert_eq!(Code::from_http_status(500), Code::Unknown);
    }

    #[test]
    fn display_names_the_code_and_message() {
        assert_eq!(Status::not_found("no such user").to_string(), "NOT_FOUND: no such user");
        assert_eq!(Status::ok().to_string(), "OK");
    }
}
