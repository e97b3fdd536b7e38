//! A field as the decoder's tables hold it: checked against HTTP's rules
//! once, when it is first decoded, so that every later reference to it is a
//! clone.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};

use super::Header;

/// A decoded field, acceptable to HTTP or not.
///
/// Unacceptable fields still take their place (and their size) in the
/// dynamic table, or the decoder would fall out of step with the peer's
/// encoder; they are kept apart so that a reference to one is refused again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Field {
    /// A field HTTP accepts, ready to hand out.
    Valid(Header),
    /// A field HTTP refuses (see `DecodeError::InvalidField`).
    Invalid {
        /// The name as it was on the wire: a later field may reuse it with a
        /// value of its own, and is then checked afresh.
        name: Bytes,
        /// The value's length, all the table needs of it (for the size).
        value_len: usize,
    },
}

impl Field {
    /// Checks a field decoded from the wire.
    pub(super) fn new(name: Bytes, value: Bytes) -> Field {
        match Header::pseudo(&name) {
            Some(variant) => Field::Valid(variant(value)),
            None => match HeaderName::from_lowercase(&name) {
                Ok(name) => Field::regular(name, value),
                Err(_) => Field::Invalid { name, value_len: value.len() },
            },
        }
    }

    /// A field with this field's name and a new value: a literal whose name
    /// is an index into the tables. The name was checked already.
    pub(super) fn with_value(&self, value: Bytes) -> Field {
        match self {
            Field::Valid(Header::Field { name, .. }) => Field::regular(name.clone(), value),
            Field::Valid(Header::Method(_)) => Field::Valid(Header::Method(value)),
            Field::Valid(Header::Scheme(_)) => Field::Valid(Header::Scheme(value)),
            Field::Valid(Header::Authority(_)) => Field::Valid(Header::Authority(value)),
            Field::Valid(Header::Path(_)) => Field::Valid(Header::Path(value)),
            Field::Valid(Header::Status(_)) => Field::Valid(Header::Status(value)),
            Field::Valid(Header::Protocol(_)) => Field::Valid(Header::Protocol(value)),
            Field::Invalid { name, .. } => Field::new(name.clone(), value),
        }
    }

    /// A regular field with an accepted name: valid if the value is.
    /// The value's bytes are shared, not copied.
    fn regular(name: HeaderName, value: Bytes) -> Field {
        let value_len = value.len();
        match HeaderValue::from_maybe_shared(value) {
            Ok(value) => Field::Valid(Header::Field { name, value }),
            Err(_) => Field::Invalid { name: Bytes::copy_from_slice(name.as_str().as_bytes()), value_len },
        }
    }

    /// The size as RFC 7541 4.1 counts it, for the dynamic table.
    pub(super) fn size(&self) -> usize {
        match self {
            Field::Valid(header) => header.size(),
            Field::Invalid { name, value_len } => name.len() + value_len + 32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &'static str, value: &'static str) -> Field {
        Field::new(Bytes::from_static(name.as_bytes()), Bytes::from_static(value.as_bytes()))
    }

    fn invalid(name: &'static str, value_len: usize) -> Field {
        Field::Invalid { name: Bytes::from_static(name.as_bytes()), value_len }
    }

    #[test]
    fn regular_and_pseudo_fields_are_valid() {
        assert_eq!(
            field("content-type", "application/grpc"),
            Field::Valid(Header::Field {
                name: http::header::CONTENT_TYPE,
                value: HeaderValue::from_static("application/grpc"),
            })
        );
        assert_eq!(field(":path", "/a.B/C"), Field::Valid(Header::Path(Bytes::from_static(b"/a.B/C"))));
        // Values with bytes past ASCII (obs-text) are acceptable to HTTP.
        assert!(matches!(Field::new(Bytes::from_static(b"x"), Bytes::from_static(b"\xff")), Field::Valid(_)));
    }

    #[test]
    fn unacceptable_names_and_values_are_invalid_with_their_size() {
        assert_eq!(field("Content-Type", "a"), invalid("Content-Type", 1));
        assert_eq!(field("bad name", ""), invalid("bad name", 0));
        assert_eq!(field("", "abc"), invalid("", 3));
        assert_eq!(field(":foo", "bar"), invalid(":foo", 3));
        assert_eq!(field(":Method", "GET"), invalid(":Method", 3));
        assert_eq!(field("x", "a\nb"), invalid("x", 3));
        assert_eq!(field("x", "a\0"), invalid("x", 2));
        assert_eq!(invalid("x", 3).size(), 36);
    }

    #[test]
    fn with_value_keeps_the_name_and_checks_the_value() {
        let content_type = field("content-type", "a");
        assert_eq!(content_type.with_value(Bytes::from_static(b"b")), field("content-type", "b"));
        assert_eq!(content_type.with_value(Bytes::from_static(b"\n")), invalid("content-type", 1));
        for name in [":method", ":scheme", ":authority", ":path", ":status", ":protocol"] {
            assert_eq!(field(name, "a").with_value(Bytes::from_static(b"b")), field(name, "b"));
        }
        // An invalid value does not taint the name...
        assert_eq!(invalid("x", 2).with_value(Bytes::from_static(b"ok")), field("x", "ok"));
        // ...but an invalid name stays invalid.
        assert_eq!(invalid("X", 2).with_value(Bytes::from_static(b"ok")), invalid("X", 2));
    }
}
