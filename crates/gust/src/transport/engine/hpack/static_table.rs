//! The static table of RFC 7541 Appendix A: 61 fields both ends know, at
//! indexes 1 to 61.

use std::sync::LazyLock;

use bytes::Bytes;

use super::field::Field;

/// The number of entries: dynamic table indexes follow them.
pub(crate) const LEN: usize = 61;

/// The static table's (name, value) entries; index `i` is `ENTRIES[i - 1]`.
const ENTRIES: [(&str, &str); LEN] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// The entries as decoded fields, built once, so an indexed static field
/// costs a clone.
static FIELDS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    ENTRIES
        .iter()
        .map(|&(name, value)| Field::new(Bytes::from_static(name.as_bytes()), Bytes::from_static(value.as_bytes())))
        .collect()
});

/// The field at `index` (1 to 61), for the decoder.
pub(super) fn get(index: usize) -> Option<&'static Field> {
    FIELDS.get(index.checked_sub(1)?)
}

/// How a field the encoder is about to send stands in the static table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StaticMatch {
    /// An entry has this name and value: the field is just this index.
    Field(usize),
    /// The entry at this index has the name (not the value).
    Name(usize),
    /// The name is not in the table.
    None,
}

/// Looks up a field for the encoder.
pub(super) fn find(name: &str, value: &[u8]) -> StaticMatch {
    let Some(first) = first_index_of_name(name) else { return StaticMatch::None };
    let same_name = ENTRIES.iter().enumerate().skip(first - 1).take_while(|(_, &(entry_name, _))| entry_name == name);
    for (position, &(_, entry_value)) in same_name {
        if entry_value.as_bytes() == value {
            return StaticMatch::Field(position + 1);
        }
    }
    StaticMatch::Name(first)
}

/// The first index with this name: a `match`, which compiles to a few
/// comparisons rather than a scan of the table (a test checks it against
/// [`ENTRIES`]).
fn first_index_of_name(name: &str) -> Option<usize> {
    let index = match name {
        ":authority" => 1,
        ":method" => 2,
        ":path" => 4,
        ":scheme" => 6,
        ":status" => 8,
        "accept-charset" => 15,
        "accept-encoding" => 16,
        "accept-language" => 17,
        "accept-ranges" => 18,
        "accept" => 19,
        "access-control-allow-origin" => 20,
        "age" => 21,
        "allow" => 22,
        "authorization" => 23,
        "cache-control" => 24,
        "content-disposition" => 25,
        "content-encoding" => 26,
        "content-language" => 27,
        "content-length" => 28,
        "content-location" => 29,
        "content-range" => 30,
        "content-type" => 31,
        "cookie" => 32,
        "date" => 33,
        "etag" => 34,
        "expect" => 35,
        "expires" => 36,
        "from" => 37,
        "host" => 38,
        "if-match" => 39,
        "if-modified-since" => 40,
        "if-none-match" => 41,
        "if-range" => 42,
        "if-unmodified-since" => 43,
        "last-modified" => 44,
        "link" => 45,
        "location" => 46,
        "max-forwards" => 47,
        "proxy-authenticate" => 48,
        "proxy-authorization" => 49,
        "range" => 50,
        "referer" => 51,
        "refresh" => 52,
        "retry-after" => 53,
        "server" => 54,
        "set-cookie" => 55,
        "strict-transport-security" => 56,
        "transfer-encoding" => 57,
        "user-agent" => 58,
        "vary" => 59,
        "via" => 60,
        "www-authenticate" => 61,
        _ => return None,
    };
    Some(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::engine::hpack::Header;

    #[test]
    fn first_index_of_name_agrees_with_the_entries() {
        for (position, &(name, _)) in ENTRIES.iter().enumerate() {
            let first = ENTRIES.iter().position(|&(entry_name, _)| entry_name == name).unwrap() + 1;
            assert_eq!(first_index_of_name(name), Some(first), "{name} at {}", position + 1);
        }
        assert_eq!(first_index_of_name("grpc-status"), None);
        assert_eq!(first_index_of_name("Content-Type"), None);
    }

    #[test]
    fn every_entry_is_a_valid_field() {
        for index in 1..=61 {
            let Some(Field::Valid(header)) = get(index) else { panic!("entry {index} is not valid") };
            assert_eq!((header.name(), header.value()), (ENTRIES[index - 1].0, ENTRIES[index - 1].1.as_bytes()));
        }
        assert_eq!(get(2), Some(&Field::Valid(Header::Method(Bytes::from_static(b"GET")))));
        assert_eq!(get(0), None);
        assert_eq!(get(62), None);
    }

    #[test]
    fn find_prefers_an_entry_with_the_value() {
        assert_eq!(find(":status", b"200"), StaticMatch::Field(8));
        assert_eq!(find(":status", b"500"), StaticMatch::Field(14));
        assert_eq!(find(":status", b"201"), StaticMatch::Name(8));
        assert_eq!(find("accept-encoding", b"gzip, deflate"), StaticMatch::Field(16));
        assert_eq!(find("content-type", b"application/grpc"), StaticMatch::Name(31));
        assert_eq!(find("content-type", b""), StaticMatch::Field(31));
        assert_eq!(find("grpc-status", b"0"), StaticMatch::None);
    }
}
