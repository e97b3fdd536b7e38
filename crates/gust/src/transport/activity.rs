//! How many streams a connection has open, and for how long it has had none:
//! what keepalive (ping only while calls are active) and the server's idle
//! timeout decide on. h2 tracks streams too, but only inside the connection
//! object its driver borrows; this counter can be shared with other tasks.
//!
//! Every call opens and closes a stream, so counting costs one atomic
//! operation each way; waiters are woken only when the count moves between
//! zero and one.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// The number of open streams of one connection; clones share the count.
#[derive(Clone, Default)]
pub(crate) struct ActiveStreams {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    count: AtomicUsize,
    /// Notified when the count becomes zero or stops being zero.
    emptied_or_filled: Notify,
}

/// One open stream: counted from creation until dropped.
pub(crate) struct StreamActivity {
    shared: Arc<Shared>,
}

impl ActiveStreams {
    pub(crate) fn new() -> ActiveStreams {
        ActiveStreams::default()
    }

    /// Counts one more open stream, until the returned guard is dropped.
    pub(crate) fn track(&self) -> StreamActivity {
        if self.shared.count.fetch_add(1, Ordering::AcqRel) == 0 {
            self.shared.emptied_or_filled.notify_waiters();
        }
        StreamActivity { shared: self.shared.clone() }
    }

    /// Resolves once at least one stream is open.
    pub(crate) async fn busy(&self) {
        self.wait_until(|count| count > 0).await;
    }

    /// Resolves once no stream has been open for `duration` without a break.
    pub(crate) async fn idle_for(&self, duration: Duration) {
        loop {
            self.wait_until(|count| count == 0).await;
            tokio::select! {
                () = tokio::time::sleep(duration) => return,
                () = self.busy() => {}
            }
        }
    }

    /// Resolves once the count satisfies `done`.
    async fn wait_until(&self, done: impl Fn(usize) -> bool) {
        loop {
            // Registered before the count is read, so a change between the
            // read and the wait still wakes this waiter.
            let mut changed = pin!(self.shared.emptied_or_filled.notified());
            changed.as_mut().enable();
            if done(self.shared.count.load(Ordering::Acquire)) {
                return;
            }
            changed.await;
        }
    }
}

impl Drop for StreamActivity {
    fn drop(&mut self) {
        if self.shared.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.emptied_or_filled.notify_waiters();
        }
    }
}
