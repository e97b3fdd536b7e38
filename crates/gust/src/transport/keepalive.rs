//! HTTP/2 keepalive: a PING every interval proves the peer, and every hop to
//! it, still answers. A connection whose PING goes unanswered within the
//! timeout is dead (a crashed host or a dropped NAT mapping sends no FIN) and
//! is closed, so calls fail fast with UNAVAILABLE instead of hanging, and a
//! client reconnects on its next call.
//!
//! grpc-go pings after `Time` without any frame read; h2 does not report
//! reads, so here the PING goes out every `interval` whatever the traffic
//! (one PING frame per interval: cheap).

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use super::engine::Pinger;
use super::{status_from_h2, ActiveStreams};
use crate::status::Status;

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
    /// resolves while the peer answers, nor without an interval or a
    /// `ping_pong` handle (h2 hands out one per connection). The connection
    /// must be driven meanwhile, or no PING is ever sent.
    ///
    /// One timer serves both the wait between PINGs and the wait for the
    /// PONG: this future lives in every connection's task for as long as the
    /// connection, so its size is memory per idle connection.
    pub(crate) async fn run(self, ping_pong: Option<impl PingPong>, streams: ActiveStreams) {
        let (Some(interval), Some(mut ping_pong)) = (self.interval, ping_pong) else {
            return std::future::pending().await;
        };
        let mut timer = pin!(tokio::time::sleep(interval));
        loop {
            timer.as_mut().await;
            if !self.while_idle {
                // Boxed: the wait is as large as the timer, and only clients
                // that ping busy connections alone ever make it.
                Box::pin(streams.busy()).await;
            }
            if let Err(error) = ping_pong.send_ping() {
                tracing::debug!(%error, "keepalive PING failed");
                return;
            }
            timer.as_mut().reset(Instant::now() + self.timeout);
            let pong = poll_fn(|cx| match ping_pong.poll_pong(cx) {
                Poll::Ready(pong) => Poll::Ready(Some(pong)),
                Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
            });
            match pong.await {
                Some(Ok(())) => {}
                Some(Err(error)) => {
                    tracing::debug!(%error, "keepalive PING failed");
                    return;
                }
                None => {
                    tracing::debug!(timeout = ?self.timeout, "keepalive PING unanswered; closing the connection");
                    return;
                }
            }
            timer.as_mut().reset(Instant::now() + interval);
        }
    }
}

/// A connection's PINGs, whichever HTTP/2 implementation carries them: h2
/// on the client, gust's engine on the server.
pub(crate) trait PingPong {
    /// Sends a PING.
    fn send_ping(&mut self) -> Result<(), Status>;
    /// Resolves when the last PING was acknowledged.
    fn poll_pong(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>>;
}

impl PingPong for h2::PingPong {
    fn send_ping(&mut self) -> Result<(), Status> {
        h2::PingPong::send_ping(self, h2::Ping::opaque()).map_err(status_from_h2)
    }

    fn poll_pong(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        h2::PingPong::poll_pong(self, cx).map_ok(|_pong| ()).map_err(status_from_h2)
    }
}

impl PingPong for Pinger {
    fn send_ping(&mut self) -> Result<(), Status> {
        Pinger::send_ping(self)
    }

    fn poll_pong(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Pinger::poll_pong(self, cx)
    }
}
