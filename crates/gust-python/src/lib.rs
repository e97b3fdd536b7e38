//! `gust._gust`: the Rust core of the Python package `gust`.
//!
//! The package's Python code (`python/gust/`) gives the grpcio API; this
//! extension gives it a server and a client that speak gRPC over HTTP/2 on
//! gust's runtime. Messages cross as `bytes`: serialization stays in Python.
//! HTTP/2, framing, deadlines and flow control run on a tokio runtime outside
//! the GIL; Python threads only wait for results (GIL released) and handlers
//! run on the executor the user gave to `gust.server()`.

mod client;
mod dispatch;
mod metadata;
mod protoc;
mod raw;
mod runtime;
mod server;
mod server_call;

use pyo3::prelude::*;

#[pymodule]
fn _gust(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<server::ServerCore>()?;
    m.add_class::<server_call::ServerCallHandle>()?;
    m.add_class::<client::PyChannel>()?;
    m.add_class::<client::ClientCall>()?;
    m.add("CallTerminated", m.py().get_type::<server_call::CallTerminated>())?;
    m.add_function(wrap_pyfunction!(dispatch::at_exit, m)?)?;
    m.add_function(wrap_pyfunction!(protoc::generate_python, m)?)?;
    Ok(())
}
