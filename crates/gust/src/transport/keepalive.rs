//! HTTP/2 keepalive: a PING every interval proves the peer, and every hop to
//! it, still answers. A connection whose PING goes unanswered within the
//! timeout is dead (a crashed host or a dropped NAT mapping sends no FIN) and
//! is closed, so calls fail fast with UNAVAILABLE instead of hanging, and a
//! client reconnects on its next call.
//!
//! grpc-go pings after `Time` without any frame read; h2 does not report
//! reads, so here the PING goes out every `interval` whatever the traffic
//! (one PING frame per interval: cheap).

use std::time::Duration;

use super::ActiveStreams;

/// When to ping (grpc-go's `keepalive.ClientParameters`/`ServerParameters`).
#[derive(Clone, Debug)]
pub(crate) struct Keepalive {
    /// Time between PINGs; `None` never pings.
    pub(crate) interval: Option<Duration>,
    /// How long a PING may go unanswered before the connection is closed.
    pub(crate) timeout: Duration,
    /// Whether to ping while no stream is open (`PermitWithoutStream`).
    pub(crate) while_idle: bool,
}

/// grpc-go's default keepalive timeout.
pub(crate) const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

impl Keepalive {
    /// Pings as configured; resolves when a PING went unanswered within the
    /// timeout (or the connection failed): the caller then closes it. Never
    /// resolves while the peer answers. The connection must be driven
    /// meanwhile, or no PING is ever sent.
    pub(crate) async fn run(self, mut ping_pong: h2::PingPong, streams: ActiveStreams) {
        let Some(interval) = self.interval else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(interval).await;
            if !self.while_idle {
                streams.busy().await;
            }
            match tokio::time::timeout(self.timeout, ping_pong.ping(h2::Ping::opaque())).await {
                Ok(Ok(_pong)) => {}
                Ok(Err(error)) => {
                    tracing::debug!(%error, "keepalive PING failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(timeout = ?self.timeout, "keepalive PING unanswered; closing the connection");
                    return;
                }
            }
        }
    }
}
