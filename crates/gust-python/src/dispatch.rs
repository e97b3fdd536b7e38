//! Threads that run Python code on behalf of tokio tasks.
//!
//! Tokio workers never take the GIL. When a task needs Python (a new call to
//! hand to the server's executor, a done-callback to run) it posts a job to a
//! dispatcher: a plain thread that takes the GIL and runs the jobs queued so
//! far. Server calls and user callbacks have separate dispatchers, so a slow
//! callback cannot delay the start of calls.
//!
//! At interpreter exit ([`close`], called from an `atexit` hook) the
//! dispatchers stop taking the GIL: attaching a thread to a finalizing
//! interpreter is not safe. Jobs posted after that are dropped.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;

/// Work that needs the GIL.
pub(crate) type Job = Box<dyn for<'py> FnOnce(Python<'py>) + Send>;

/// Most jobs run per GIL acquisition, so Python threads get their turn.
const BATCH: usize = 64;

/// Whether Python may still be entered, and how many dispatchers are in it.
struct Gate {
    closed: bool,
    attached: usize,
}

static GATE: Mutex<Gate> = Mutex::new(Gate { closed: false, attached: 0 });
static GATE_LEFT: Condvar = Condvar::new();

/// How long [`close_dispatchers`] waits for a dispatcher still running a job.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

static CALLS: OnceLock<Dispatcher> = OnceLock::new();
static CALLBACKS: OnceLock<Dispatcher> = OnceLock::new();

/// A queue of jobs and the thread that runs them.
pub(crate) struct Dispatcher {
    sender: Mutex<Sender<Job>>,
}

impl Dispatcher {
    fn start(name: &str) -> Dispatcher {
        let (sender, receiver) = mpsc::channel();
        let spawned = std::thread::Builder::new().name(name.to_owned()).spawn(move || run(receiver));
        if let Err(error) = spawned {
            tracing::error!(%error, "gust: cannot start the {name} thread");
        }
        Dispatcher { sender: Mutex::new(sender) }
    }

    /// Queues `job`; it runs soon on the dispatcher's thread, with the GIL.
    pub(crate) fn post(&self, job: Job) {
        let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        // The thread only ends with the process; a failed send drops the job.
        let _ = sender.send(job);
    }
}

/// The dispatcher that hands new server calls to Python.
pub(crate) fn calls() -> &'static Dispatcher {
    CALLS.get_or_init(|| Dispatcher::start("gust-calls"))
}

/// The dispatcher that runs callbacks (done-callbacks, RPC termination
/// callbacks, server stop events).
pub(crate) fn callbacks() -> &'static Dispatcher {
    CALLBACKS.get_or_init(|| Dispatcher::start("gust-callbacks"))
}

/// The dispatcher thread: attached to the interpreter for its whole life (a
/// thread state made once, not per job), detached while it waits for jobs.
fn run(receiver: Receiver<Job>) {
    // Only this thread uses it; the mutex makes it shareable with `detach`.
    let receiver = Mutex::new(receiver);
    let mut counted = false;
    let attached = Python::try_attach(|py| loop {
        let Some(job) = py.detach(|| next_job(&receiver, &mut counted)) else {
            return;
        };
        job(py);
        let receiver = receiver.lock().unwrap_or_else(PoisonError::into_inner);
        for job in receiver.try_iter().take(BATCH - 1) {
            job(py);
        }
    });
    if attached.is_none() {
        tracing::debug!("gust: the interpreter is not available; the dispatcher stops");
    }
}

/// Waits (detached) for the next job. The thread counts as attached from
/// the moment it takes a job until it waits again (`counted`), so that
/// [`at_exit`] can wait for it. Once the gate is closed it never returns:
/// the thread must not take the GIL of a finalizing interpreter.
fn next_job(receiver: &Mutex<Receiver<Job>>, counted: &mut bool) -> Option<Job> {
    if std::mem::replace(counted, false) {
        GATE.lock().unwrap_or_else(PoisonError::into_inner).attached -= 1;
        GATE_LEFT.notify_all();
    }
    let job = receiver.lock().unwrap_or_else(PoisonError::into_inner).recv().ok()?;
    let mut gate = GATE.lock().unwrap_or_else(PoisonError::into_inner);
    if gate.closed {
        drop(gate);
        drop(job);
        park_forever();
    }
    gate.attached += 1;
    *counted = true;
    Some(job)
}

fn park_forever() -> ! {
    loop {
        std::thread::park();
    }
}

/// Called at interpreter exit (an `atexit` hook): stops the dispatchers from
/// running Python code, waiting (a bounded time) for a job still running, and
/// keeps waiting threads from taking the GIL again.
#[pyfunction]
pub(crate) fn at_exit(py: Python<'_>) {
    crate::runtime::set_exiting();
    py.detach(|| {
        let mut gate = GATE.lock().unwrap_or_else(PoisonError::into_inner);
        gate.closed = true;
        let _ = GATE_LEFT
            .wait_timeout_while(gate, CLOSE_WAIT, |gate| gate.attached > 0)
            .unwrap_or_else(PoisonError::into_inner);
    });
}

/// Calls `callback()` from the callbacks dispatcher; an exception is reported
/// as unraisable (printed), as Python does for errors in callbacks.
pub(crate) fn post_callback(callback: Py<PyAny>) {
    callbacks().post(Box::new(move |py| {
        if let Err(error) = callback.call0(py) {
            error.write_unraisable(py, None);
        }
    }));
}
