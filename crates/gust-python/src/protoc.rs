//! Code generation for `python -m gust.protoc`: the Python generator of
//! gust-build, so that no protoc binary and no grpcio-tools are needed.

use gust_build::python::{self, Options, Output};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Generates Python for `files` (searched in `includes`). Returns
/// `(output, path, content)` per generated file, where `output` is
/// `"python"`, `"pyi"` or `"grpc_python"` (the protoc flag it belongs to) and
/// `path` is relative to that output directory. A `.proto` error raises
/// `ValueError` reading `file:line:column: message`.
#[pyfunction]
#[pyo3(signature = (files, includes, messages, type_stubs, grpc, relative_imports))]
pub fn generate_python(
    py: Python<'_>,
    files: Vec<String>,
    includes: Vec<String>,
    messages: bool,
    type_stubs: bool,
    grpc: bool,
    relative_imports: bool,
) -> PyResult<Vec<(&'static str, String, String)>> {
    let options =
        Options::new().messages(messages).type_stubs(type_stubs).grpc(grpc).relative_imports(relative_imports);
    let generated = py
        .detach(|| python::generate(&files, &includes, &options))
        .map_err(|error| PyValueError::new_err(error.to_string()))?;
    Ok(generated
        .into_iter()
        .map(|file| {
            let output = match file.output {
                Output::Messages => "python",
                Output::TypeStubs => "pyi",
                Output::Grpc => "grpc_python",
            };
            (output, file.path, file.content)
        })
        .collect())
}
