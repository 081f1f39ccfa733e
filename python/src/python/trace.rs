//! `Trace`: one reference run, in whichever form its world has.

use super::convert;
use crate::data;
use pyo3::exceptions::{PyAttributeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::Value;
use synth_compiler::{TableExample, TapeTrace, Task, Trace};

/// A reference run as the world kind gives it.
pub enum TraceData {
    Scratchpad(Trace),
    Tape(TapeTrace),
    Table(TableExample),
}

/// One reference run (made by `Task.trace`; immutable).
///
/// Every trace has `kind` (the task's world kind), `task` (its name),
/// `size`, `seed`, `render()` (the text `synth trace` prints) and
/// `to_dict()` (the JSON `synth trace --format json` prints). The other
/// attributes depend on the kind:
///
/// - scratchpad: `frames`, `steps`, `obs`;
/// - tape: `cells`, `input`, `writes`, `output`, `graded`;
/// - table: `rows`, `columns`, `question`, `template`, `text`, `tokens`,
///   `numbers`, `answer`, `program`, each the `to_dict()` entry of that
///   name.
///
/// Reading an attribute of another kind raises `AttributeError`.
#[pyclass(name = "Trace", module = "synth", frozen)]
pub struct PyTrace {
    task: Task,
    data: TraceData,
    /// A trained model's run (`Model.run`): whether `expect` holds, and
    /// why not. `None` for a reference run.
    learned: Option<(bool, Option<String>)>,
}

impl PyTrace {
    pub fn new(task: Task, data: TraceData) -> PyTrace {
        PyTrace { task, data, learned: None }
    }

    /// A trained model's run, `correct` or failed for the reason `failure`.
    pub fn of_model(task: Task, trace: Trace, correct: bool, failure: Option<String>) -> PyTrace {
        PyTrace { task, data: TraceData::Scratchpad(trace), learned: Some((correct, failure)) }
    }

    fn kind_name(&self) -> &'static str {
        match self.data {
            TraceData::Scratchpad(_) => "scratchpad",
            TraceData::Tape(_) => "tape",
            TraceData::Table(_) => "table",
        }
    }

    /// The JSON object `synth trace --format json` prints.
    fn json(&self) -> PyResult<Value> {
        let value = match &self.data {
            TraceData::Scratchpad(t) => Ok(self.task.trace_json(t)),
            TraceData::Tape(t) => serde_json::to_value(t),
            TraceData::Table(t) => serde_json::to_value(t),
        };
        value.map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn scratchpad(&self, attr: &str) -> PyResult<&Trace> {
        match &self.data {
            TraceData::Scratchpad(t) => Ok(t),
            _ => Err(self.no_attr(attr)),
        }
    }

    fn no_attr(&self, attr: &str) -> PyErr {
        PyAttributeError::new_err(format!("a {} trace has no attribute `{attr}` (see to_dict())", self.kind_name()))
    }

    /// The `to_dict()` entry `attr` of a trace of world kind `kind`.
    fn entry<'py>(&self, py: Python<'py>, kind: &str, attr: &str) -> PyResult<Bound<'py, PyAny>> {
        if self.kind_name() != kind {
            return Err(self.no_attr(attr));
        }
        let json = self.json()?;
        convert::to_py(py, json.get(attr).unwrap_or(&Value::Null))
    }
}

#[pymethods]
impl PyTrace {
    /// The task's world kind: "scratchpad", "tape" or "table".
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind_name()
    }

    /// The task's name.
    #[getter]
    fn task(&self) -> &str {
        &self.task.name
    }

    /// Whether a trained model made this run (`Model.run`) rather than the
    /// task's reference programs (`Task.trace`).
    #[getter]
    fn learned(&self) -> bool {
        self.learned.is_some()
    }

    /// Whether the run ended with the entry program returned and `expect`
    /// holding: always true of a reference run.
    #[getter]
    fn correct(&self) -> bool {
        self.learned.as_ref().is_none_or(|(c, _)| *c)
    }

    /// Why a model's run failed (`the step limit was reached`, ...), or
    /// None.
    #[getter]
    fn failure(&self) -> Option<String> {
        self.learned.as_ref().and_then(|(_, f)| f.clone())
    }

    /// The input size `n`.
    #[getter]
    fn size(&self) -> usize {
        match &self.data {
            TraceData::Scratchpad(t) => t.size,
            TraceData::Tape(t) => t.size,
            TraceData::Table(t) => t.size,
        }
    }

    #[getter]
    fn seed(&self) -> u64 {
        match &self.data {
            TraceData::Scratchpad(t) => t.seed,
            TraceData::Tape(t) => t.seed,
            TraceData::Table(t) => t.seed,
        }
    }

    /// Scratchpad: the program invocations in pre-order (`frames[0]` is the
    /// entry program's), each a dict: `program` (name), `id`, `args` (as
    /// many as the program takes), `text` (the call as the trace shows
    /// it), `parent` (a frame index or None), `depth`, and its steps
    /// `steps[first_step:first_step + len]`.
    #[getter]
    fn frames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.scratchpad("frames")?;
        convert::to_py(py, &data::frames(&self.task, t))
    }

    /// Scratchpad: every decision, in the order of the frames' step ranges,
    /// each a dict: `call` (None, or a dict with `program`, `id`, `args`,
    /// `text`), `end` (whether the frame ends here), `child` (the index of
    /// the frame a program call opened, or None).
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.scratchpad("steps")?;
        convert::to_py(py, &data::steps(&self.task, t))
    }

    /// Scratchpad: the observation at every step (a list per step of the
    /// features' values, in the order of `Task.info()["observation"]`).
    #[getter]
    fn obs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let t = self.scratchpad("obs")?;
        PyList::new(py, data::observations(t))
    }

    /// Tape: the number of cells of the tape.
    #[getter]
    fn cells<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "tape", "cells")
    }

    /// Tape: the input tape.
    #[getter]
    fn input<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "tape", "input")
    }

    /// Tape: every write, in order: dicts with `program`, `address`, `value`.
    #[getter]
    fn writes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "tape", "writes")
    }

    /// Tape: the final tape.
    #[getter]
    fn output<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "tape", "output")
    }

    /// Tape: the cells the programs wrote, ascending.
    #[getter]
    fn graded<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "tape", "graded")
    }

    /// Table: the number of rows.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "rows")
    }

    /// Table: the columns, each with its `name`, `kind` and `cells`.
    #[getter]
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "columns")
    }

    /// Table: which `question` item (from 0, in source order).
    #[getter]
    fn question<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "question")
    }

    /// Table: which of the question's templates (from 0).
    #[getter]
    fn template<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "template")
    }

    /// Table: the question with its holes filled.
    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "text")
    }

    /// Table: the question's tokens (words, and numbers as ints).
    #[getter]
    fn tokens<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "tokens")
    }

    /// Table: the numbers among the tokens, in order.
    #[getter]
    fn numbers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "numbers")
    }

    /// Table: the answer, a dict with `kind` "scalar" (and `value`) or
    /// "lookup" (and `column`, `rows`, `cells`).
    #[getter]
    fn answer<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "answer")
    }

    /// Table: the latent program, a list of steps with `op` and, where
    /// they apply, `column`, `pivot`, `pivot_token`.
    #[getter]
    fn program<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.entry(py, "table", "program")
    }

    /// The run as text, exactly as `synth trace` prints it.
    fn render(&self) -> String {
        match &self.data {
            TraceData::Scratchpad(t) => self.task.render_trace(t),
            TraceData::Tape(t) => self.task.render_tape_trace(t),
            TraceData::Table(t) => t.render(&self.task.name),
        }
    }

    /// The run as the JSON object `synth trace --format json` prints, made
    /// of dicts, lists, strings, ints, bools and None: equal to `json.loads`
    /// of the CLI's output.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.json()?)
    }

    fn __repr__(&self) -> String {
        let what = match &self.data {
            TraceData::Scratchpad(t) => format!("{} steps in {} frames", t.steps.len(), t.frames.len()),
            TraceData::Tape(t) => format!("{} cells, {} writes", t.cells, t.writes.len()),
            TraceData::Table(t) => format!("{} rows, question {} template {}", t.rows, t.question + 1, t.template + 1),
        };
        let by = match &self.learned {
            None => String::new(),
            Some((true, _)) => " (learned, correct)".to_string(),
            Some((false, f)) => format!(" (learned, failed: {})", f.as_deref().unwrap_or("wrong")),
        };
        format!("<synth.Trace {} size {} seed {}: {what}{by}>", self.task.name, self.size(), self.seed())
    }
}
