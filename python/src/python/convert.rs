//! `serde_json::Value` to Python objects: `null` to `None`, numbers to `int`
//! or `float`, arrays to lists, objects to dicts (in the value's key order),
//! so a converted value equals `json.loads` of the same value printed.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use serde_json::Value;

pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_bound_py_any(py)?
            } else if let Some(u) = n.as_u64() {
                u.into_bound_py_any(py)?
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let items = items.iter().map(|x| to_py(py, x)).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, x) in map {
                dict.set_item(k, to_py(py, x)?)?;
            }
            dict.into_any()
        }
    })
}

/// A list of `(id, attributes)` pairs, as `networkx` takes nodes.
pub fn nodes<'py>(py: Python<'py>, nodes: &[(String, Value)]) -> PyResult<Bound<'py, PyList>> {
    let items = nodes
        .iter()
        .map(|(id, attrs)| PyTuple::new(py, [PyString::new(py, id).into_any(), to_py(py, attrs)?]))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// A list of `(source, target, attributes)` triples, as `networkx` takes
/// edges.
pub fn edges<'py>(py: Python<'py>, edges: &[(String, String, Value)]) -> PyResult<Bound<'py, PyList>> {
    let items = edges
        .iter()
        .map(|(a, b, attrs)| {
            PyTuple::new(py, [PyString::new(py, a).into_any(), PyString::new(py, b).into_any(), to_py(py, attrs)?])
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}
