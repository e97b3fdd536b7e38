//! Keepalive PINGs on a server connection, for [`crate::transport::Keepalive`].

use std::sync::Arc;
use std::task::{Context, Poll};

use super::frame_writer;
use super::handles::register;
use super::state::Shared;
use crate::status::Status;

/// Sends keepalive PINGs on a connection and hears their ACKs.
pub(crate) struct Pinger {
    pub(crate) shared: Arc<Shared>,
}

/// The payload of keepalive PINGs, told apart from a shutdown's PING.
pub(crate) const KEEPALIVE_PING: [u8; 8] = *b"gust-kap";

impl Pinger {
    /// Sends a PING.
    pub(crate) fn send_ping(&mut self) -> Result<(), Status> {
        let mut state = self.shared.lock();
        if let Some(why) = state.lost {
            return Err(Status::unavailable(format!("connection lost: {why}")));
        }
        state.pong = false;
        state.out.append(|buf| frame_writer::write_ping(buf, false, KEEPALIVE_PING));
        state.wake_driver();
        Ok(())
    }

    /// Resolves when the peer acknowledged the last PING.
    pub(crate) fn poll_pong(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        let mut state = self.shared.lock();
        if std::mem::take(&mut state.pong) {
            return Poll::Ready(Ok(()));
        }
        if let Some(why) = state.lost {
            return Poll::Ready(Err(Status::unavailable(format!("connection lost: {why}"))));
        }
        register(&mut state.pong_waiter, cx.waker());
        Poll::Pending
    }
}
