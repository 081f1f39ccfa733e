//! `Task.batches` and `Task.evaluate`: [`crate::learn`]'s arrays as NumPy
//! arrays, and a Python callable as the policy of closed-loop runs.

use super::convert;
use crate::learn::{self, Array, Data};
use crate::worlds::{self, EvalError};
use synth_compiler::{Answer, TableExample, TapeExample};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict};
use synth_runtime::npi::{self, Decision, ModelShape, Policy, PolicyEvalError, Rows};

/// `arrays` as a dict of NumPy arrays (int64, uint64 or bool), each writable and
/// owning its data.
pub fn to_numpy<'py>(py: Python<'py>, arrays: &[Array]) -> PyResult<Bound<'py, PyDict>> {
    let np = py.import("numpy")?;
    let out = PyDict::new(py);
    for a in arrays {
        let (bytes, dtype): (Vec<u8>, &str) = match &a.data {
            Data::I64(v) => (v.iter().flat_map(|x| x.to_le_bytes()).collect(), "<i8"),
            Data::U64(v) => (v.iter().flat_map(|x| x.to_le_bytes()).collect(), "<u8"),
            Data::Bool(v) => (v.iter().map(|&b| b as u8).collect(), "?"),
        };
        let buf = PyByteArray::new(py, &bytes);
        let arr = np.call_method1("frombuffer", (buf, dtype))?.call_method1("reshape", (a.shape.clone(),))?;
        out.set_item(a.name, arr)?;
    }
    Ok(out)
}

/// A NumPy-convertible value as `n` int64s (row-major).
fn ints(np: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<i64>> {
    Ok(int_array(np, v, &format!("the policy's `{what}`"))?.0)
}

/// A NumPy-convertible value of integers as int64s (row-major) and its
/// shape; `what` names it in the error for anything else.
pub(crate) fn int_array(np: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<i64>, Vec<usize>)> {
    let arr = np.call_method1("asarray", (v,)).map_err(|e| PyTypeError::new_err(format!("{what} is not an array: {e}")))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "i" | "u" | "b") {
        return Err(PyTypeError::new_err(format!("{what} must hold integers, not dtype kind '{kind}'")));
    }
    let arr = np.call_method1("ascontiguousarray", (arr, "<i8"))?;
    let shape: Vec<usize> = arr.getattr("shape")?.extract()?;
    let bytes: Vec<u8> = arr.call_method0("tobytes")?.extract()?;
    Ok((bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))).collect(), shape))
}

/// A Python callable deciding every step: given a dict of the rows'
/// arrays, it returns `end`, `call` and `args`.
struct PyPolicy<'py> {
    py: Python<'py>,
    np: Bound<'py, PyAny>,
    callable: Bound<'py, PyAny>,
    shape: ModelShape,
}

impl Policy for PyPolicy<'_> {
    type State = ();
    type Error = PyErr;

    fn shape(&self) -> &ModelShape {
        &self.shape
    }

    fn fresh_state(&self) {}

    fn decide(&mut self, rows: &Rows, _states: &mut [&mut ()], out: &mut Vec<Decision>) -> PyResult<()> {
        let batch = to_numpy(self.py, &learn::row_arrays(&self.shape, rows))?;
        let answer = self.callable.call1((batch,))?;
        let (end, call, args) = if let Ok(d) = answer.cast::<PyDict>() {
            let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
                d.get_item(k)?.ok_or_else(|| PyValueError::new_err(format!("the policy's dict has no `{k}` (it must have `end`, `call` and `args`)")))
            };
            (get("end")?, get("call")?, get("args")?)
        } else {
            answer.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)>().map_err(|_| {
                PyTypeError::new_err("the policy must return (end, call, args) or a dict with those keys")
            })?
        };
        let end: Vec<bool> = ints(&self.np, &end, "end")?.into_iter().map(|e| e != 0).collect();
        let call = ints(&self.np, &call, "call")?;
        let args = ints(&self.np, &args, "args")?;
        learn::decisions(&self.shape, rows.len(), &end, &call, &args, out).map_err(PyValueError::new_err)
    }
}

/// Closed-loop exact match of `policy` on `count` inputs of each size, as
/// `synth eval --json` reports it.
pub fn evaluate<'py>(py: Python<'py>, task: &synth_compiler::Task, policy: Bound<'py, PyAny>, sizes: &[usize], count: usize, seed: u64, learner: &str) -> PyResult<Bound<'py, PyAny>> {
    if task.is_tape() {
        return evaluate_tape(py, task, policy, sizes, count, seed, learner);
    }
    if task.is_table() {
        return evaluate_table(py, task, policy, sizes, count, seed, learner);
    }
    if !policy.is_callable() {
        return Err(PyTypeError::new_err("policy must be callable: given a dict of the rows' arrays, it returns (end, call, args)"));
    }
    let mut p = PyPolicy { py, np: py.import("numpy")?.into_any(), callable: policy, shape: ModelShape::of(task) };
    match npi::evaluate_policy(task, &mut p, sizes, count, seed, learner) {
        Ok(report) => convert::to_py(py, &serde_json::to_value(&report).map_err(|e| PyValueError::new_err(e.to_string()))?),
        Err(PolicyEvalError::Policy(e)) => Err(e),
        Err(PolicyEvalError::Task(e)) => Err(super::TaskError::new_err(e.message)),
    }
}

/// A report, or the error that stopped its evaluation, as Python values.
fn report<'py, R: serde::Serialize>(py: Python<'py>, r: Result<R, EvalError<PyErr>>) -> PyResult<Bound<'py, PyAny>> {
    match r {
        Ok(report) => convert::to_py(py, &serde_json::to_value(&report).map_err(|e| PyValueError::new_err(e.to_string()))?),
        Err(EvalError::Policy(e)) => Err(e),
        Err(EvalError::Task(m)) => Err(super::TaskError::new_err(m)),
    }
}

/// A tape task's closed-loop score: `policy` maps one size's input tapes
/// to final tapes.
fn evaluate_tape<'py>(py: Python<'py>, task: &synth_compiler::Task, policy: Bound<'py, PyAny>, sizes: &[usize], count: usize, seed: u64, learner: &str) -> PyResult<Bound<'py, PyAny>> {
    if !policy.is_callable() {
        return Err(PyTypeError::new_err("policy must be callable: given a dict of the input tapes' arrays, it returns their final tapes"));
    }
    let np = py.import("numpy")?.into_any();
    let run = |examples: &[TapeExample]| -> PyResult<Vec<Vec<i64>>> {
        let batch = to_numpy(py, &worlds::tape_inputs(examples))?;
        let tapes = np.call_method1("asarray", (policy.call1((batch,))?,))?;
        let shape: Vec<usize> = tapes.getattr("shape")?.extract()?;
        let [n, c] = shape[..] else {
            return Err(PyValueError::new_err(format!("the policy must return a 2-d array (inputs, cells), not one of shape {shape:?}")));
        };
        let flat = ints(&np, &tapes, "tapes")?;
        debug_assert_eq!(flat.len(), n * c);
        Ok(flat.chunks(c.max(1)).take(n).map(<[i64]>::to_vec).collect())
    };
    report(py, worlds::evaluate_tape(task, sizes, count, seed, learner, run, PyValueError::new_err))
}

/// A table task's score: `policy` answers one size's questions.
fn evaluate_table<'py>(py: Python<'py>, task: &synth_compiler::Task, policy: Bound<'py, PyAny>, sizes: &[usize], count: usize, seed: u64, learner: &str) -> PyResult<Bound<'py, PyAny>> {
    if !policy.is_callable() {
        return Err(PyTypeError::new_err("policy must be callable: given a list of questions (dicts), it returns their answers"));
    }
    let json = py.import("json")?;
    let run = |examples: &[TableExample]| -> PyResult<Vec<Answer>> {
        let mut asked = Vec::with_capacity(examples.len());
        for e in examples {
            let mut v = serde_json::to_value(e).map_err(|e| PyValueError::new_err(e.to_string()))?;
            if let Some(m) = v.as_object_mut() {
                m.remove("answer");
                m.remove("program");
            }
            asked.push(v);
        }
        let answers = policy.call1((convert::to_py(py, &serde_json::Value::Array(asked))?,))?;
        let mut out = Vec::new();
        for (i, a) in answers.try_iter()?.enumerate() {
            let a = a?;
            if let Ok(value) = a.extract::<i64>() {
                out.push(Answer::Scalar { value });
                continue;
            }
            let text: String = json.call_method1("dumps", (&a,))?.extract()?;
            let answer = serde_json::from_str(&text).map_err(|e| {
                PyValueError::new_err(format!("answer {i} ({text}) is neither an int nor an answer dict ({{\"kind\": \"scalar\", \"value\": V}} or {{\"kind\": \"lookup\", \"column\", \"rows\", \"cells\"}}): {e}"))
            })?;
            out.push(answer);
        }
        Ok(out)
    };
    report(py, worlds::evaluate_table(task, sizes, count, seed, learner, run, PyValueError::new_err))
}
