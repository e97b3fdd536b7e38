//! The extension's one tokio runtime, and how a Python thread waits on it.
//!
//! Python threads never run tokio tasks' work; they wait for results with the
//! GIL released. They wake up every [`TICK`] to let Python run its signal
//! handlers, so that Ctrl-C interrupts a blocked `wait_for_termination()` or
//! a blocking call as it does with grpcio.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::FutureExt as _;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

/// How often a waiting Python thread checks for signals.
const TICK: Duration = Duration::from_millis(100);

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// Set at interpreter exit (from an `atexit` hook, before finalization).
/// A thread that is waiting then never takes the GIL again: a thread that
/// attaches to a finalizing interpreter is ended with `pthread_exit`, which
/// must not unwind through Rust frames. It sleeps until the process ends,
/// as Python 3.14 does with such threads itself.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Marks the interpreter as exiting (see [`EXITING`]).
pub(crate) fn set_exiting() {
    EXITING.store(true, Ordering::SeqCst);
}

fn park_if_exiting() {
    while EXITING.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

/// The runtime, started on first use (multi-threaded: HTTP/2, framing,
/// deadlines and flow control run on its workers, outside the GIL).
pub(crate) fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("gust-worker")
            .build()
            .unwrap_or_else(|error| panic!("gust: cannot start the tokio runtime: {error}"))
    })
}

/// Runs `future` to completion on this (Python) thread with the GIL released,
/// checking for signals every tick: a KeyboardInterrupt raised by a signal
/// handler drops the future and propagates.
pub(crate) fn wait<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let runtime = runtime();
    let mut future = std::pin::pin!(future);
    // Fast path: a result that is already there (a buffered message, free
    // channel capacity) costs neither a GIL release nor a park.
    {
        let _entered = runtime.enter();
        if let Some(output) = future.as_mut().now_or_never() {
            return Ok(output);
        }
    }
    loop {
        let output = py.detach(|| {
            let output = runtime.block_on(async { tokio::time::timeout(TICK, future.as_mut()).await.ok() });
            park_if_exiting();
            output
        });
        match output {
            Some(output) => return Ok(output),
            None => py.check_signals()?,
        }
    }
}

/// [`wait`] for at most `timeout` seconds (forever if `None`); `None` when
/// the time ran out.
pub(crate) fn wait_for<F>(py: Python<'_>, future: F, timeout: Option<f64>) -> PyResult<Option<F::Output>>
where
    F: Future + Send,
    F::Output: Send,
{
    let timeout = timeout.map(seconds);
    wait(py, async move {
        match timeout {
            Some(timeout) => tokio::time::timeout(timeout, future).await.ok(),
            None => Some(future.await),
        }
    })
}

/// A Python duration in seconds (negative and NaN count as zero, too large
/// as practically forever).
pub(crate) fn seconds(value: f64) -> Duration {
    if value.is_nan() || value <= 0.0 {
        Duration::ZERO
    } else {
        Duration::try_from_secs_f64(value).unwrap_or(Duration::from_secs(100 * 365 * 24 * 3600))
    }
}
