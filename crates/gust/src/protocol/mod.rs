//! Facts of the gRPC-over-HTTP/2 protocol shared by client and server: header
//! names, content types, and how a [`Status`] travels in trailers.

pub(crate) mod percent;
pub(crate) mod timeout;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::metadata::{self, Metadata};
use crate::status::{Code, Status};

// Header names as `HeaderName` values, not strings: a map looked up or
// filled with a string parses and classifies the name each time, on every
// call.
pub(crate) const CONTENT_TYPE: HeaderName = http::header::CONTENT_TYPE;
pub(crate) const GRPC_CONTENT_TYPE: HeaderValue = HeaderValue::from_static("application/grpc");
pub(crate) const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
pub(crate) const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
pub(crate) const GRPC_STATUS_DETAILS: HeaderName = HeaderName::from_static("grpc-status-details-bin");
pub(crate) const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
pub(crate) const GRPC_ENCODING: HeaderName = HeaderName::from_static("grpc-encoding");
pub(crate) const GRPC_ACCEPT_ENCODING: HeaderName = HeaderName::from_static("grpc-accept-encoding");
pub(crate) const TE: HeaderName = http::header::TE;
pub(crate) const USER_AGENT: HeaderName = http::header::USER_AGENT;

/// The `user-agent` gust clients send, in the structure the protocol recommends.
pub(crate) const GUST_USER_AGENT: &str = concat!("grpc-rust-gust/", env!("CARGO_PKG_VERSION"));

/// Whether a `content-type` names gRPC: `application/grpc` alone or followed
/// by `+format` or `;parameters`.
pub(crate) fn is_grpc_content_type(value: &[u8]) -> bool {
    match value.strip_prefix(b"application/grpc") {
        Some(rest) => rest.is_empty() || rest[0] == b'+' || rest[0] == b';',
        None => false,
    }
}

/// The `grpc-status` value of `code`: the code's number in decimal, from a
/// table, as `HeaderValue::from(u16)` would allocate for it on every call.
fn status_value(code: Code) -> HeaderValue {
    const DIGITS: [&str; 17] =
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"];
    HeaderValue::from_static(DIGITS[code as usize])
}

/// Writes `status` as `grpc-status`, `grpc-message`, `grpc-status-details-bin`
/// and its metadata.
pub(crate) fn write_status(status: &Status, headers: &mut HeaderMap) {
    headers.insert(GRPC_STATUS, status_value(status.code()));
    if !status.message().is_empty() {
        // Percent-encoding leaves only printable ASCII, always a valid value.
        if let Ok(value) = HeaderValue::from_str(&percent::encode(status.message())) {
            headers.insert(GRPC_MESSAGE, value);
        }
    }
    if !status.details().is_empty() {
        if let Ok(value) = HeaderValue::from_str(&metadata::encode_base64(status.details())) {
            headers.insert(GRPC_STATUS_DETAILS, value);
        }
    }
    status.metadata().write_to(headers);
}

/// Reads the status a peer sent in trailers (or a Trailers-Only response),
/// with the other entries as its metadata; gives the headers back if they
/// carry no `grpc-status`.
pub(crate) fn read_status(headers: HeaderMap) -> Result<Status, HeaderMap> {
    let Some(raw) = headers.get(GRPC_STATUS) else {
        return Err(headers);
    };
    let code =
        std::str::from_utf8(raw.as_bytes()).ok().and_then(|digits| digits.parse::<i32>().ok()).map(Code::from_i32);
    let Some(code) = code else {
        return Ok(Status::unknown(format!("malformed grpc-status {raw:?}")));
    };
    let message = headers.get(GRPC_MESSAGE).map(|v| percent::decode(v.as_bytes())).unwrap_or_default();
    let mut status = Status::new(code, message);
    if let Some(decoded) = headers.get(GRPC_STATUS_DETAILS).and_then(|v| metadata::decode_base64(v.as_bytes())) {
        status = status.with_details(decoded);
    }
    Ok(status.with_metadata(Metadata::from_headers(headers)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_content_types() {
        for ok in ["application/grpc", "application/grpc+proto", "application/grpc;charset=utf-8"] {
            assert!(is_grpc_content_type(ok.as_bytes()), "{ok}");
        }
        for bad in ["application/json", "application/grpcx", "text/plain", ""] {
            assert!(!is_grpc_content_type(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn status_round_trips_through_trailers() {
        let mut md = Metadata::new();
        md.append("x-reason", "quota").unwrap();
        let sent = Status::resource_exhausted("100% used ☺").with_details(vec![8, 1]).with_metadata(md);
        let mut trailers = HeaderMap::new();
        write_status(&sent, &mut trailers);
        assert_eq!(trailers[GRPC_STATUS], "8");
        assert_eq!(trailers[GRPC_MESSAGE], "100%25 used %E2%98%BA");

        let received = read_status(trailers).unwrap();
        assert_eq!(received.code(), Code::ResourceExhausted);
        assert_eq!(received.message(), "100% used ☺");
        assert_eq!(&received.details()[..], &[8, 1]);
        assert_eq!(received.metadata().get("x-reason"), Some("quota"));
        assert!(received.metadata().get(GRPC_STATUS.as_str()).is_none());
    }

    #[test]
    fn every_code_is_written_as_its_number() {
        for code in Code::ALL {
            let mut trailers = HeaderMap::new();
            write_status(&Status::new(code, ""), &mut trailers);
            assert_eq!(trailers[GRPC_STATUS], (code as i32).to_string(), "{code:?}");
        }
    }

    #[test]
    fn missing_or_malformed_grpc_status() {
        assert!(read_status(HeaderMap::new()).is_err());
        let mut trailers = HeaderMap::new();
        trailers.insert(GRPC_STATUS, HeaderValue::from_static("abc"));
        assert_eq!(read_status(trailers).unwrap().code(), Code::Unknown);
    }
}
