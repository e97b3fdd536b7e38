//! HTTP/2 settings both sides can tune.

use std::time::Duration;

/// HTTP/2 connection settings.
///
/// The windows bound how much unread data a peer may send: per stream, and in
/// total per connection. Larger windows speed up large messages on links with
/// latency; they never let memory grow without bound.
#[derive(Clone, Debug)]
pub struct Http2Settings {
    /// Initial flow-control window of each stream, in bytes.
    pub initial_stream_window: u32,
    /// Initial flow-control window of the connection, in bytes.
    pub initial_connection_window: u32,
    /// Largest frame payload accepted, in bytes: how large the peer may cut
    /// its DATA frames. The default, 64 KiB, is four times HTTP/2's initial
    /// 16 KiB, because the reader pays per frame: h2 reads 8 KiB, then the
    /// rest of the frame its header announced, and wakes the stream's reader
    /// once per frame. A stream of small messages took 2.1 reads per 16 KiB
    /// received in 16 KiB frames, 0.6 in 64 KiB frames. The price is coarser
    /// interleaving of streams on one connection: lower it where a slow
    /// link carries many streams at once.
    pub max_frame_size: u32,
    /// Largest header list accepted (HPACK-decoded size), in bytes.
    pub max_header_list_size: u32,
    /// Most streams the peer may have open at once (advertised by servers).
    pub max_concurrent_streams: u32,
    /// How long a new connection may take to complete the HTTP/2 preface
    /// (also bounds a peer that connects and sends nothing).
    pub handshake_timeout: Duration,
    /// Most bytes buffered while waiting for the socket: bounds the memory a
    /// peer that never reads can pin. The server's engine counts it per
    /// connection (responses wait, and the connection stops reading, while
    /// this much is queued); h2, on the client, per stream.
    pub max_send_buffer_size: usize,
    /// Most streams the peer may reset before the server answered them, net
    /// of the calls answered since (HTTP/2 rapid reset, CVE-2023-44487);
    /// more is answered with GOAWAY(ENHANCE_YOUR_CALM).
    pub max_pending_accept_reset_streams: usize,
    /// Most streams this side may reset because of the peer's errors on one
    /// connection before it sends GOAWAY(ENHANCE_YOUR_CALM): a peer that
    /// keeps provoking errors loses its connection.
    pub max_local_error_reset_streams: usize,
}

impl Default for Http2Settings {
    fn default() -> Http2Settings {
        Http2Settings {
            initial_stream_window: 1024 * 1024,
            initial_connection_window: 4 * 1024 * 1024,
            max_frame_size: 64 * 1024,
            max_header_list_size: 16 * 1024,
            max_concurrent_streams: 1024,
            handshake_timeout: Duration::from_secs(20),
            max_send_buffer_size: 400 * 1024,
            max_pending_accept_reset_streams: 20,
            max_local_error_reset_streams: 1024,
        }
    }
}
