//! Message compression: the encodings gust speaks, and how a message is
//! compressed and (within the receive limit) decompressed.

use std::io::{Read, Write};

use bytes::{BufMut, Bytes, BytesMut};
use flate2::read::{GzDecoder, ZlibDecoder};
use flate2::write::{GzEncoder, ZlibEncoder};

use crate::status::Status;

/// A message encoding (`grpc-encoding`).
///
/// `Deflate` is the zlib format (RFC 1950), as grpc-core, grpc-java and
/// grpc-js use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// No compression.
    Identity,
    /// gzip (RFC 1952).
    Gzip,
    /// deflate in the zlib format (RFC 1950).
    Deflate,
}

/// What gust sends in `grpc-accept-encoding`.
pub(crate) const ACCEPTED: &str = "identity,gzip,deflate";

impl Encoding {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
        }
    }

    /// The encoding with this wire name, if gust speaks it.
    pub fn from_name(name: &[u8]) -> Option<Encoding> {
        match name {
            b"identity" => Some(Encoding::Identity),
            b"gzip" => Some(Encoding::Gzip),
            b"deflate" => Some(Encoding::Deflate),
            _ => None,
        }
    }

    /// Whether a `grpc-accept-encoding` value lists this encoding (identity
    /// is always accepted).
    pub(crate) fn accepted_by(self, accept_encoding: &[u8]) -> bool {
        self == Encoding::Identity
            || accept_encoding.split(|&b| b == b',').any(|name| name.trim_ascii() == self.name().as_bytes())
    }

    /// Appends `message` compressed to `out`.
    pub(crate) fn compress(self, message: &[u8], out: &mut BytesMut) -> Result<(), Status> {
        let failed = |error: std::io::Error| Status::internal(format!("{} compression failed: {error}", self.name()));
        let mut writer = out.writer();
        match self {
            Encoding::Identity => writer.write_all(message).map_err(failed),
            Encoding::Gzip => {
                let mut encoder = GzEncoder::new(writer, flate2::Compression::default());
                encoder.write_all(message).and_then(|()| encoder.finish()).map(drop).map_err(failed)
            }
            Encoding::Deflate => {
                let mut encoder = ZlibEncoder::new(writer, flate2::Compression::default());
                encoder.write_all(message).and_then(|()| encoder.finish()).map(drop).map_err(failed)
            }
        }
    }

    /// Decompresses `payload`, refusing to produce more than `max_len` bytes:
    /// inflation stops one byte past the limit, so a small message that
    /// would inflate to gigabytes costs no more than the limit.
    pub(crate) fn decompress(self, payload: Bytes, max_len: usize) -> Result<Bytes, Status> {
        let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
        let mut inflated = Vec::new();
        let read = match self {
            Encoding::Identity => return Ok(payload),
            Encoding::Gzip => GzDecoder::new(&payload[..]).take(limit).read_to_end(&mut inflated),
            Encoding::Deflate => ZlibDecoder::new(&payload[..]).take(limit).read_to_end(&mut inflated),
        };
        read.map_err(|error| Status::internal(format!("invalid {} message: {error}", self.name())))?;
        if inflated.len() > max_len {
            return Err(Status::resource_exhausted(format!(
                "decompressed message exceeds the limit of {max_len} bytes"
            )));
        }
        Ok(Bytes::from(inflated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_messages_round_trip() {
        let message = b"hello hello hello hello hello".repeat(20);
        for encoding in [Encoding::Identity, Encoding::Gzip, Encoding::Deflate] {
            let mut compressed = BytesMut::new();
            encoding.compress(&message, &mut compressed).unwrap();
            if encoding != Encoding::Identity {
                assert!(compressed.len() < message.len() / 4, "{encoding:?}");
            }
            let restored = encoding.decompress(compressed.freeze(), message.len()).unwrap();
            assert_eq!(&restored[..], &message[..]);
        }
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        let huge = vec![0u8; 64 << 20];
        for encoding in [Encoding::Gzip, Encoding::Deflate] {
            let mut bomb = BytesMut::new();
            encoding.compress(&huge, &mut bomb).unwrap();
            assert!(bomb.len() < 1 << 20, "64 MiB of zeros compresses to {} bytes", bomb.len());
            let error = encoding.decompress(bomb.freeze(), 4 << 20).unwrap_err();
            assert_eq!(error.code(), crate::Code::ResourceExhausted);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for encoding in [Encoding::Gzip, Encoding::Deflate] {
            let error = encoding.decompress(Bytes::from_static(b"not compressed"), 1024).unwrap_err();
            assert_eq!(error.code(), crate::Code::Internal);
        }
    }

    #[test]
    fn accept_encoding_lists_are_parsed() {
        assert!(Encoding::Gzip.accepted_by(b"identity, gzip"));
        assert!(Encoding::Deflate.accepted_by(b"deflate"));
        assert!(!Encoding::Gzip.accepted_by(b"deflate,identity"));
        assert!(Encoding::Identity.accepted_by(b""));
    }
}
