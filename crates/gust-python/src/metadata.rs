//! Metadata between Python (a sequence of `(key, value)` pairs, values `str`
//! for ASCII keys and `bytes` for `-bin` keys, as in grpcio) and gust.

use gust::{Metadata, MetadataValue};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

/// Reads Python metadata (`None` or an iterable of pairs). The error says
/// which entry is invalid; callers turn it into the status grpcio gives.
pub(crate) fn from_python(metadata: Option<&Bound<'_, PyAny>>) -> Result<Metadata, String> {
    let mut result = Metadata::new();
    let Some(metadata) = metadata.filter(|m| !m.is_none()) else {
        return Ok(result);
    };
    let entries = metadata.try_iter().map_err(|_| "metadata must be a sequence of (key, value) pairs".to_owned())?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
            entry.extract().map_err(|_| format!("metadata entry {entry} is not a (key, value) pair"))?;
        let key = text(&key).ok_or_else(|| format!("metadata key {key} is not a string"))?;
        if key.ends_with("-bin") {
            let value = binary(&value).ok_or_else(|| format!("value of {key:?} must be bytes"))?;
            result.append_bin(&key, &value).map_err(|e| e.to_string())?;
        } else {
            let value = text(&value).ok_or_else(|| format!("value of {key:?} must be a string"))?;
            result.append(&key, &value).map_err(|e| e.to_string())?;
        }
    }
    Ok(result)
}

/// Metadata as a Python list of `(key, value)` tuples.
pub(crate) fn to_python<'py>(py: Python<'py>, metadata: &Metadata) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (key, value) in metadata.iter() {
        let value = match value {
            MetadataValue::Ascii(text) => PyString::new(py, text).into_any(),
            MetadataValue::Binary(bytes) => PyBytes::new(py, &bytes).into_any(),
        };
        list.append(PyTuple::new(py, [PyString::new(py, key).into_any(), value])?)?;
    }
    Ok(list)
}

/// A `str`, or `bytes` holding ASCII.
fn text(value: &Bound<'_, PyAny>) -> Option<String> {
    if let Ok(text) = value.extract::<String>() {
        return Some(text);
    }
    let bytes = value.cast::<PyBytes>().ok()?;
    std::str::from_utf8(bytes.as_bytes()).ok().map(str::to_owned)
}

/// `bytes`, or a `str` taken as UTF-8.
fn binary(value: &Bound<'_, PyAny>) -> Option<Vec<u8>> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Some(bytes.as_bytes().to_vec());
    }
    value.extract::<String>().ok().map(String::into_bytes)
}
