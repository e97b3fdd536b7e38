//! HTTP/2 spoken by hand over a TcpStream, for attacks the h2 crate refuses
//! to make: frames are a 9-byte header (24-bit length, type, flags, 31-bit
//! stream id) and a payload (RFC 9113 section 4.1); header blocks are HPACK
//! literals (RFC 7541).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

pub const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;

pub const PROTOCOL_ERROR: u32 = 0x1;
pub const FRAME_SIZE_ERROR: u32 = 0x6;
pub const REFUSED_STREAM: u32 = 0x7;
pub const CANCEL: u32 = 0x8;
pub const ENHANCE_YOUR_CALM: u32 = 0xb;

/// One frame, encoded.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A SETTINGS payload.
pub fn settings(values: &[(u16, u32)]) -> Vec<u8> {
    values.iter().flat_map(|(id, value)| [&id.to_be_bytes()[..], &value.to_be_bytes()[..]].concat()).collect()
}

/// An HPACK integer with an `prefix`-bit prefix, `first` holding the bits above it.
pub fn hpack_int(first: u8, prefix: u32, mut value: usize, out: &mut Vec<u8>) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

/// A header field as a literal with a new name; `indexed` adds it to the
/// peer's dynamic table (incremental indexing), else it is not indexed.
pub fn hpack_literal(name: &str, value: &[u8], indexed: bool, out: &mut Vec<u8>) {
    if indexed {
        out.push(0x40);
    } else {
        out.push(0x00);
    }
    hpack_int(0, 7, name.len(), out);
    out.extend_from_slice(name.as_bytes());
    hpack_int(0, 7, value.len(), out);
    out.extend_from_slice(value);
}

/// A reference to an entry of the static or dynamic table (62 = newest dynamic).
pub fn hpack_indexed(index: usize, out: &mut Vec<u8>) {
    hpack_int(0x80, 7, index, out);
}

/// The header block of a gRPC request to `path`.
pub fn request_block(path: &str) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ] {
        hpack_literal(name, value.as_bytes(), false, &mut block);
    }
    block
}

/// A gRPC message with its 5-byte prefix.
pub fn grpc_message(message: &impl prost::Message) -> Vec<u8> {
    super::raw::frame(message).to_vec()
}

/// A received frame.
#[derive(Debug)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The error code of a GOAWAY or RST_STREAM.
    pub fn error_code(&self) -> u32 {
        let at = if self.kind == GOAWAY { 4 } else { 0 };
        u32::from_be_bytes(self.payload[at..at + 4].try_into().unwrap())
    }
}

/// A hand-driven HTTP/2 client connection.
pub struct RawConnection {
    pub socket: TcpStream,
}

impl RawConnection {
    /// Connects without sending anything.
    pub async fn connect(addr: SocketAddr) -> RawConnection {
        RawConnection { socket: TcpStream::connect(addr).await.unwrap() }
    }

    /// Connects and completes the handshake with `settings`: preface and
    /// SETTINGS, the server's SETTINGS acknowledged, and a PING answered, so
    /// the server applies its own settings from then on.
    pub async fn handshake(addr: SocketAddr, values: &[(u16, u32)]) -> RawConnection {
        let mut connection = RawConnection::connect(addr).await;
        connection.send(&[PREFACE, &frame(SETTINGS, 0, 0, &settings(values))].concat()).await;
        connection.expect(|frame| frame.kind == SETTINGS && frame.flags & ACK == 0).await;
        connection.send(&frame(SETTINGS, ACK, 0, &[])).await;
        connection.ping().await;
        connection
    }

    /// Sends a PING and waits for its acknowledgement.
    pub async fn ping(&mut self) {
        self.send(&frame(PING, 0, 0, b"gustping")).await;
        self.expect(|frame| frame.kind == PING && frame.flags & ACK != 0 && frame.payload == b"gustping").await;
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.socket.write_all(bytes).await.unwrap();
    }

    /// The next frame; `None` once the server closed the connection.
    pub async fn read_frame(&mut self) -> Option<Frame> {
        let mut header = [0; 9];
        self.socket.read_exact(&mut header).await.ok()?;
        let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let mut payload = vec![0; length];
        self.socket.read_exact(&mut payload).await.ok()?;
        let stream = u32::from_be_bytes(header[5..9].try_into().unwrap()) & 0x7fff_ffff;
        Some(Frame { kind: header[3], flags: header[4], stream, payload })
    }

    /// Reads frames until one matches; panics if the connection ends first.
    pub async fn expect(&mut self, wanted: impl Fn(&Frame) -> bool) -> Frame {
        loop {
            match self.read_frame().await {
                Some(frame) if wanted(&frame) => return frame,
                Some(_) => {}
                None => panic!("connection closed before the expected frame"),
            }
        }
    }

    /// Reads until the server closes the connection, acknowledging its
    /// PINGs if `answer_pings`; returns the last GOAWAY it sent, if any.
    pub async fn until_closed(&mut self, answer_pings: bool) -> Option<Frame> {
        let mut goaway = None;
        while let Some(frame) = self.read_frame().await {
            if frame.kind == GOAWAY {
                goaway = Some(frame);
            } else if answer_pings && frame.kind == PING && frame.flags & ACK == 0 {
                // The server may already have closed its side: ignore errors.
                let _ = self.socket.write_all(&self::frame(PING, ACK, 0, &frame.payload)).await;
            }
        }
        goaway
    }
}
