//! How many streams a connection has open, and for how long it has had none:
//! what keepalive (ping only while calls are active) and the server's idle
//! timeout decide on. h2 tracks streams too, but only inside the connection
//! object its driver borrows; this counter can be shared with other tasks.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// The number of open streams of one connection; clones share the count.
#[derive(Clone)]
pub(crate) struct ActiveStreams {
    count: Arc<watch::Sender<usize>>,
}

/// One open stream: counted from creation until dropped.
pub(crate) struct StreamActivity {
    count: Arc<watch::Sender<usize>>,
}

impl ActiveStreams {
    pub(crate) fn new() -> ActiveStreams {
        ActiveStreams { count: Arc::new(watch::Sender::new(0)) }
    }

    /// Counts one more open stream, until the returned guard is dropped.
    pub(crate) fn track(&self) -> StreamActivity {
        self.count.send_modify(|count| *count += 1);
        StreamActivity { count: self.count.clone() }
    }

    /// Resolves once at least one stream is open.
    pub(crate) async fn busy(&self) {
        // The sender lives in `self`, so waiting cannot fail.
        let _ = self.count.subscribe().wait_for(|count| *count > 0).await;
    }

    /// Resolves once no stream has been open for `duration` without a break.
    pub(crate) async fn idle_for(&self, duration: Duration) {
        let mut count = self.count.subscribe();
        loop {
            let _ = count.wait_for(|count| *count == 0).await;
            tokio::select! {
                () = tokio::time::sleep(duration) => return,
                _ = count.wait_for(|count| *count > 0) => {}
            }
        }
    }
}

impl Drop for StreamActivity {
    fn drop(&mut self) {
        self.count.send_modify(|count| *count -= 1);
    }
}
