//! Custom metadata: the application's key/value pairs carried in HTTP/2
//! headers and trailers.
//!
//! Keys are lower-case `[0-9a-z_.-]+`. A key ending in `-bin` holds binary
//! values, base64-encoded on the wire (sent unpadded, received padded or not);
//! every other key holds printable ASCII. Headers the protocol itself uses
//! (`content-type`, `te`, `grpc-*`, ...) are reserved: they are never exposed
//! as metadata and cannot be set through it.
//!
//! `Metadata` stores the wire form directly (an `http::HeaderMap`), so metadata
//! received from the network reaches the application without being copied.

use std::fmt;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Ordered multi-map of metadata entries.
#[derive(Clone, Default)]
pub struct Metadata {
    headers: HeaderMap,
}

/// Why a key or value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidMetadata {
    reason: String,
}

impl fmt::Display for InvalidMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid metadata: {}", self.reason)
    }
}

impl std::error::Error for InvalidMetadata {}

fn invalid(reason: String) -> InvalidMetadata {
    InvalidMetadata { reason }
}

/// A metadata value as the application sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataValue<'a> {
    /// The value of an ASCII key.
    Ascii(&'a str),
    /// The decoded value of a `-bin` key.
    Binary(Vec<u8>),
}

/// Whether `key` is used by the protocol and so can be neither read nor set as
/// custom metadata.
pub(crate) fn is_reserved(key: &str) -> bool {
    matches!(key, "content-type" | "te" | "connection" | "host" | "user-agent" | "content-length")
        || key.starts_with("grpc-")
}

/// [`is_reserved`] for a received header: the reserved names `http` knows
/// compare as its constants (an enum), without reading their text. A call's
/// request headers are mostly these.
fn is_reserved_name(name: &HeaderName) -> bool {
    use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TE, USER_AGENT};
    [CONTENT_TYPE, TE, CONNECTION, HOST, USER_AGENT, CONTENT_LENGTH].contains(name)
        || name.as_str().starts_with("grpc-")
}

fn is_binary_key(key: &str) -> bool {
    key.ends_with("-bin")
}

fn validate_key(key: &str) -> Result<HeaderName, InvalidMetadata> {
    let valid_chars =
        key.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || matches!(b, b'_' | b'-' | b'.'));
    if key.is_empty() || !valid_chars {
        return Err(invalid(format!("key {key:?} must be non-empty lower-case [0-9a-z_.-]")));
    }
    if is_reserved(key) {
        return Err(invalid(format!("key {key:?} is reserved by the gRPC protocol")));
    }
    HeaderName::from_bytes(key.as_bytes()).map_err(|e| invalid(format!("key {key:?}: {e}")))
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Adds an ASCII entry; keeps existing entries with the same key.
    pub fn append(&mut self, key: &str, value: &str) -> Result<&mut Metadata, InvalidMetadata> {
        let name = validate_key(key)?;
        if is_binary_key(key) {
            return Err(invalid(format!("key {key:?} ends in -bin: use append_bin")));
        }
        if !value.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(invalid(format!("value of {key:?} must be printable ASCII")));
        }
        let value = HeaderValue::from_str(value).map_err(|e| invalid(e.to_string()))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Adds a binary entry under a key ending in `-bin`.
    pub fn append_bin(&mut self, key: &str, value: &[u8]) -> Result<&mut Metadata, InvalidMetadata> {
        let name = validate_key(key)?;
        if !is_binary_key(key) {
            return Err(invalid(format!("binary key {key:?} must end in -bin")));
        }
        let value = HeaderValue::from_str(&encode_base64(value)).map_err(|e| invalid(e.to_string()))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Replaces all entries of an ASCII key with one value.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<&mut Metadata, InvalidMetadata> {
        self.headers.remove(key);
        self.append(key, value)
    }

    /// Replaces all entries of a binary key with one value.
    pub fn insert_bin(&mut self, key: &str, value: &[u8]) -> Result<&mut Metadata, InvalidMetadata> {
        self.headers.remove(key);
        self.append_bin(key, value)
    }

    /// The first value of an ASCII key.
    pub fn get(&self, key: &str) -> Option<&str> {
        if is_binary_key(key) {
            return None;
        }
        self.headers.get(key).and_then(|v| v.to_str().ok())
    }

    /// The first decoded value of a binary key.
    pub fn get_bin(&self, key: &str) -> Option<Vec<u8>> {
        self.get_all_bin(key).into_iter().next()
    }

    /// Every value of an ASCII key, in order.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        if is_binary_key(key) {
            return Vec::new();
        }
        self.headers.get_all(key).iter().filter_map(|v| v.to_str().ok()).collect()
    }

    /// Every decoded value of a binary key, in order. Values that a peer joined
    /// with `,` are split, and values that are not valid base64 are skipped.
    pub fn get_all_bin(&self, key: &str) -> Vec<Vec<u8>> {
        if !is_binary_key(key) {
            return Vec::new();
        }
        self.headers
            .get_all(key)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .filter_map(|part| decode_base64(part.trim_ascii()))
            .collect()
    }

    /// Removes every value of `key`; returns whether there was any.
    pub fn remove(&mut self, key: &str) -> bool {
        self.headers.remove(key).is_some()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// All entries in order, binary values decoded. Entries whose values are
    /// not valid for their kind are skipped.
    pub fn iter(&self) -> impl Iterator<Item = (&str, MetadataValue<'_>)> {
        self.headers.iter().filter_map(|(name, value)| {
            let key = name.as_str();
            let value = if is_binary_key(key) {
                MetadataValue::Binary(decode_base64(value.as_bytes())?)
            } else {
                MetadataValue::Ascii(value.to_str().ok()?)
            };
            Some((key, value))
        })
    }

    /// Adds an entry under a protocol header that applications may not set
    /// (the runtime's own, e.g. `grpc-accept-encoding` on a rejection).
    pub(crate) fn append_reserved(&mut self, key: HeaderName, value: &'static str) {
        self.headers.append(key, HeaderValue::from_static(value));
    }

    /// Metadata from received headers: keeps all but the reserved ones. Most
    /// calls carry no custom metadata, and then nothing is allocated.
    pub(crate) fn from_headers(headers: HeaderMap) -> Metadata {
        Metadata::from_headers_with(&headers, |_, _| {})
    }

    /// [`Metadata::from_headers`], handing each reserved entry to
    /// `reserved`: a server reads the protocol's headers in the same pass
    /// instead of looking each one up. The headers are read in place, not
    /// taken apart: most entries are reserved, and the kept ones cost a
    /// reference count each.
    pub(crate) fn from_headers_with<'a>(
        headers: &'a HeaderMap,
        mut reserved: impl FnMut(&'a HeaderName, &'a HeaderValue),
    ) -> Metadata {
        let mut kept = HeaderMap::new();
        for (name, value) in headers {
            if is_reserved_name(name) {
                reserved(name, value);
            } else {
                kept.append(name.clone(), value.clone());
            }
        }
        Metadata { headers: kept }
    }

    /// Appends every entry to headers being sent.
    pub(crate) fn write_to(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
    }

    /// Adds every entry of `other`.
    pub fn extend(&mut self, other: Metadata) {
        self.headers.extend(other.headers);
    }
}

/// Base64 as binary metadata is sent: standard alphabet, no padding.
pub(crate) fn encode_base64(value: &[u8]) -> String {
    STANDARD_NO_PAD.encode(value)
}

/// Decodes base64 with or without padding, as peers may send either.
pub(crate) fn decode_base64(encoded: &[u8]) -> Option<Vec<u8>> {
    let unpadded = encoded.strip_suffix(b"==").or_else(|| encoded.strip_suffix(b"=")).unwrap_or(encoded);
    STANDARD_NO_PAD.decode(unpadded).ok()
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_names_are_reserved_exactly_as_keys_are() {
        let names = [
            "content-type",
            "te",
            "connection",
            "host",
            "user-agent",
            "content-length",
            "grpc-timeout",
            "grpc-status-details-bin",
            "accept",
            "accept-encoding",
            "authorization",
            "x-grpc",
            "grpc",
            "tea",
        ];
        for name in names {
            let parsed = HeaderName::from_static(name);
            assert_eq!(is_reserved_name(&parsed), is_reserved(name), "{name}");
        }
    }

    #[test]
    fn ascii_and_binary_entries_round_trip_through_headers() {
        let mut md = Metadata::new();
        md.append("x-user", "alice").unwrap();
        md.append("x-user", "bob").unwrap();
        md.append_bin("trace-bin", &[0, 1, 2, 255]).unwrap();

        let mut headers = HeaderMap::new();
        md.write_to(&mut headers);
        assert_eq!(headers["trace-bin"], "AAEC/w", "binary values go out unpadded");

        let received = Metadata::from_headers(headers);
        assert_eq!(received.get_all("x-user"), ["alice", "bob"]);
        assert_eq!(received.get_bin("trace-bin"), Some(vec![0, 1, 2, 255]));
        assert_eq!(received.get("trace-bin"), None);
    }

    #[test]
    fn binary_values_are_accepted_padded_unpadded_and_comma_joined() {
        let mut headers = HeaderMap::new();
        headers.insert("a-bin", HeaderValue::from_static("AAEC/w=="));
        headers.insert("b-bin", HeaderValue::from_static("AAEC/w"));
        headers.insert("c-bin", HeaderValue::from_static("AQ==, Ag"));
        let md = Metadata::from_headers(headers);
        assert_eq!(md.get_bin("a-bin"), Some(vec![0, 1, 2, 255]));
        assert_eq!(md.get_bin("b-bin"), Some(vec![0, 1, 2, 255]));
        assert_eq!(md.get_all_bin("c-bin"), vec![vec![1], vec![2]]);
    }

    #[test]
    fn reserved_headers_are_hidden_and_refused() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        headers.insert("grpc-timeout", HeaderValue::from_static("1S"));
        headers.insert("te", HeaderValue::from_static("trailers"));
        headers.insert("x-kept", HeaderValue::from_static("yes"));
        let md = Metadata::from_headers(headers);
        assert_eq!(md.len(), 1);
        assert_eq!(md.get("x-kept"), Some("yes"));

        let mut md = Metadata::new();
        assert!(md.append("grpc-status", "0").is_err());
        assert!(md.append("content-type", "text/plain").is_err());
    }

    #[test]
    fn invalid_keys_and_values_are_refused() {
        let mut md = Metadata::new();
        assert!(md.append("Upper", "v").is_err());
        assert!(md.append("", "v").is_err());
        assert!(md.append("sp ace", "v").is_err());
        assert!(md.append("ok", "line\nbreak").is_err());
        assert!(md.append("ok-bin", "v").is_err());
        assert!(md.append_bin("no-suffix", b"v").is_err());
        assert!(md.is_empty());
    }
}
