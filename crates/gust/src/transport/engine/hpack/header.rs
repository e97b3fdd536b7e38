//! A decoded header field as the rest of the engine sees it: regular fields
//! already in `http`'s types, pseudo-headers apart.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};

/// One decoded header field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// A regular field, validated as `http`'s types require; its name was
    /// lowercase on the wire, as HTTP/2 requires (RFC 9113 8.2.1).
    Field {
        /// The field name.
        name: HeaderName,
        /// The field value.
        value: HeaderValue,
    },
    /// `:method`, kept apart (as are the other pseudo-headers) so the caller
    /// can check the pseudo-header rules of RFC 9113 8.3.
    Method(Bytes),
    /// `:scheme`.
    Scheme(Bytes),
    /// `:authority`.
    Authority(Bytes),
    /// `:path`.
    Path(Bytes),
    /// `:status`.
    Status(Bytes),
    /// `:protocol` (extended CONNECT, RFC 8441).
    Protocol(Bytes),
}

impl Header {
    /// The pseudo-header variant for `name`, if it is one of the
    /// pseudo-headers HTTP/2 defines: how the decoder turns a name on the wire
    /// into a variant.
    pub(super) fn pseudo(name: &[u8]) -> Option<fn(Bytes) -> Header> {
        let variant: fn(Bytes) -> Header = match name {
            b":method" => Header::Method,
            b":scheme" => Header::Scheme,
            b":authority" => Header::Authority,
            b":path" => Header::Path,
            b":status" => Header::Status,
            b":protocol" => Header::Protocol,
            _ => return None,
        };
        Some(variant)
    }

    /// The name as it appears on the wire (pseudo-headers with their colon).
    pub(crate) fn name(&self) -> &str {
        match self {
            Header::Field { name, .. } => name.as_str(),
            Header::Method(_) => ":method",
            Header::Scheme(_) => ":scheme",
            Header::Authority(_) => ":authority",
            Header::Path(_) => ":path",
            Header::Status(_) => ":status",
            Header::Protocol(_) => ":protocol",
        }
    }

    /// The value's bytes.
    pub(crate) fn value(&self) -> &[u8] {
        match self {
            Header::Field { value, .. } => value.as_bytes(),
            Header::Method(value)
            | Header::Scheme(value)
            | Header::Authority(value)
            | Header::Path(value)
            | Header::Status(value)
            | Header::Protocol(value) => value,
        }
    }

    /// The size as RFC 7541 4.1 counts it (name + value + 32): what the
    /// dynamic table charges for the field, and what
    /// SETTINGS_MAX_HEADER_LIST_SIZE limits (RFC 9113 6.5.2).
    pub(crate) fn size(&self) -> usize {
        self.name().len() + self.value().len() + 32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_counts_name_value_and_32() {
        let field = Header::Field {
            name: HeaderName::from_static("custom-key"),
            value: HeaderValue::from_static("custom-header"),
        };
        assert_eq!(field.size(), 55);
        assert_eq!(Header::Authority(Bytes::from_static(b"www.example.com")).size(), 57);
        assert_eq!(Header::Status(Bytes::from_static(b"302")).size(), 42);
    }

    #[test]
    fn every_pseudo_header_maps_to_a_variant_with_its_name() {
        for name in [":method", ":scheme", ":authority", ":path", ":status", ":protocol"] {
            let variant = Header::pseudo(name.as_bytes()).expect(name);
            let header = variant(Bytes::from_static(b"v"));
            assert_eq!(header.name(), name);
            assert_eq!(header.value(), b"v");
        }
        assert!(Header::pseudo(b":foo").is_none());
        assert!(Header::pseudo(b"method").is_none());
    }
}
