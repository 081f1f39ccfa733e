//! `synth.load` and `Model`: a trained model from a run directory, run and
//! scored from Python exactly as `synth run` and `synth eval` do.

use super::task::PyTask;
use super::trace::PyTrace;
use super::{compile, convert, size_arg, SynthError, TaskError};
use crate::model::{self, Run};
use pyo3::exceptions::{PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use synth::rundir::{RunDir, RunDirError};
use synth::trained::{self, LoadError, Trained};

/// A trained model (made by `synth.load`; immutable).
///
/// Attributes: `path` (the run directory), `learner` ("npi", "nram", "np" or
/// "seq2seq"), `task` (the `Task` it runs on), `meta` (the checkpoint's
/// `model.json` as a dict: config, seed, step, training sizes, the
/// validation it was kept for).
#[pyclass(name = "Model", module = "synth", frozen)]
pub struct PyModel {
    path: String,
    task: Py<PyTask>,
    trained: Trained,
}

/// Load the model `synth learn` saved in the run directory `path`.
///
/// `task` is the task to run it on: a `Task`, or what `compile` takes (a
/// path or a stdlib task's name). By default, the stdlib task the
/// checkpoint names. The checkpoint must have been trained on that task's
/// source (its hash is checked); a model of several tasks needs `task`.
///
/// Raises `FileNotFoundError` when `path` holds no model, `SynthError` when
/// the checkpoint is damaged or does not fit the task (the message names
/// the file, as the CLI's does), and what `compile` raises for `task`.
#[pyfunction]
#[pyo3(signature = (path, task=None))]
pub fn load(py: Python<'_>, path: std::path::PathBuf, task: Option<&Bound<'_, PyAny>>) -> PyResult<PyModel> {
    let dir = RunDir::new(&path);
    if !dir.has_model() {
        return Err(PyFileNotFoundError::new_err(RunDirError::NoModel { path: path.display().to_string() }.to_string()));
    }
    let task: Py<PyTask> = match task {
        Some(t) => match t.cast::<PyTask>() {
            Ok(t) => t.clone().unbind(),
            Err(_) => Py::new(py, compile(py, t, None)?)?,
        },
        None => {
            let name = model::task_name(&dir).map_err(SynthError::new_err)?;
            let arg = pyo3::types::PyString::new(py, &name);
            Py::new(py, compile(py, arg.as_any(), None)?)?
        }
    };
    let compiled = task.get().compiled().clone();
    let loaded = py.detach(|| trained::load(&compiled, &dir));
    let trained = loaded.map_err(|e| match e {
        LoadError::RunDir(RunDirError::Read { .. }) => pyo3::exceptions::PyOSError::new_err(e.to_string()),
        _ => SynthError::new_err(e.to_string()),
    })?;
    Ok(PyModel { path: path.display().to_string(), task, trained })
}

#[pymethods]
impl PyModel {
    /// The run directory the model was loaded from.
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// The learner that trained it: "npi", "nram", "np" or "seq2seq".
    #[getter]
    fn learner(&self) -> &'static str {
        self.trained.learner()
    }

    /// The `Task` the model runs on.
    #[getter]
    fn task(&self, py: Python<'_>) -> Py<PyTask> {
        self.task.clone_ref(py)
    }

    /// The checkpoint's metadata (`model.json`) as a dict.
    #[getter]
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.trained.meta())
    }

    /// The model on the input of `size` drawn from `seed` (the input
    /// `Task.trace(size, seed)` runs), as `synth run` shows it.
    ///
    /// - NPI: a `Trace` of the model's own run (`learned` true), with
    ///   `correct` and `failure`; compare it with `task.trace(size, seed)`.
    /// - NRAM: a dict: `input`, the discrete machine's final tape `output`,
    ///   the reference's final tape `reference`, `graded`, `wrong` (the
    ///   graded cells that differ), `correct`, `steps` of `timesteps`,
    ///   `halted`, `cells`.
    /// - Neural Programmer: a dict: `text` (the question), `columns`, the
    ///   induced `program` and its `answer`, the `latent` program and its
    ///   answer `reference`, `correct`, `program_agrees`.
    /// - seq2seq: a dict: the sampled pad `input` (`rows` x `cols`), the
    ///   decoded `output` of the `output_rows`, the reference's
    ///   `reference`, `correct`.
    ///
    /// Raises `TaskError` when the input cannot be drawn at that size.
    #[pyo3(signature = (size, seed=0))]
    fn run<'py>(&self, py: Python<'py>, size: u64, seed: u64) -> PyResult<Bound<'py, PyAny>> {
        let size = size_arg(size)?;
        let task = self.task.get().compiled();
        let run = py.detach(|| model::run(task, &self.trained, size, seed)).map_err(TaskError::new_err)?;
        match run {
            Run::Npi { trace, correct, failure } => Ok(Bound::new(py, PyTrace::of_model(task.clone(), trace, correct, failure))?.into_any()),
            Run::Other(value) => convert::to_py(py, &value),
        }
    }

    /// Closed-loop results on `count` inputs of each size (default: the
    /// `learn` block's test sizes), from `seed`: the dict `synth eval
    /// --json` prints for this model (NPI: `exact`, `accuracy`,
    /// `mean_steps` per size; NRAM: the fuzzy and the discrete machine's
    /// errors per size; Neural Programmer: answers and programs per size
    /// and per question). `threads` defaults to one per core.
    #[pyo3(signature = (sizes=None, count=32, seed=0, threads=None))]
    fn evaluate<'py>(&self, py: Python<'py>, sizes: Option<Vec<u64>>, count: usize, seed: u64, threads: Option<usize>) -> PyResult<Bound<'py, PyAny>> {
        let task = self.task.get().compiled();
        let sizes = match sizes {
            Some(s) => s.into_iter().map(size_arg).collect::<PyResult<Vec<_>>>()?,
            None => task.learn.test_sizes.clone(),
        };
        if sizes.is_empty() {
            return Err(PyValueError::new_err("no sizes to evaluate: pass sizes= or add `test sizes [...]` to the learn block"));
        }
        let threads = threads.filter(|&t| t > 0).unwrap_or_else(|| synth_runtime::npi::TrainConfig::default().threads());
        let report = py.detach(|| self.trained.evaluate(task, &sizes, count, seed, threads)).map_err(TaskError::new_err)?;
        convert::to_py(py, &report)
    }

    fn __repr__(&self) -> String {
        format!("<synth.Model {} of `{}` in {}>", self.trained.learner(), self.task.get().compiled().name, self.path)
    }
}
