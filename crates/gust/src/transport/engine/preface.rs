//! The bytes a client sends first on every HTTP/2 connection.

/// The client connection preface (RFC 9113 section 3.4): a string no
/// HTTP/1.1 server accepts, so that a server that does not speak HTTP/2 fails
/// at once. A server reads exactly these bytes before the client's SETTINGS.
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
