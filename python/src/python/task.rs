//! `Task`: a compiled task, with what `synth check`, `synth trace` and
//! `synth graph` do as methods.

use super::graph::PyGraph;
use super::trace::{PyTrace, TraceData};
use super::{convert, diagnostics_error, run_error, size_arg, TaskError};
use crate::data;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use synth::{CheckOptions, Source};
use synth_dsl::Diagnostic;

/// A compiled task (made by `synth.compile`; immutable).
///
/// Attributes: `name`, `kind` ("scratchpad", "tape" or "table"), `source`
/// (the NPL text), `filename` (as diagnostics show it), `warnings` (the
/// compiler's warnings, rendered).
#[pyclass(name = "Task", module = "synth", frozen)]
pub struct PyTask {
    source: Source,
    task: synth_compiler::Task,
    warnings: Vec<Diagnostic>,
}

impl PyTask {
    pub fn new(source: Source, task: synth_compiler::Task, warnings: Vec<Diagnostic>) -> PyTask {
        PyTask { source, task, warnings }
    }

    /// The compiled task.
    pub fn compiled(&self) -> &synth_compiler::Task {
        &self.task
    }
}

#[pymethods]
impl PyTask {
    /// The task's name: its `task NAME` item, else the file stem.
    #[getter]
    fn name(&self) -> &str {
        &self.task.name
    }

    /// The world kind: "scratchpad" (learned by NPI), "tape" (NRAM) or
    /// "table" (the Neural Programmer).
    #[getter]
    fn kind(&self) -> &'static str {
        self.task.world().name()
    }

    /// The task's NPL source text.
    #[getter]
    fn source(&self) -> &str {
        &self.source.text
    }

    /// The name diagnostics show for the source: the path given,
    /// `stdlib/NAME.npl`, or `NAME.npl` for source text.
    #[getter]
    fn filename(&self) -> &str {
        &self.source.display
    }

    /// The compiler's warnings (the learnability lint, unused values,
    /// settings that look misspelt), each rendered as `synth check` prints
    /// it.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.iter().map(|d| d.render(&self.source.display, &self.source.text)).collect()
    }

    /// What `synth check` does: run the reference on sampled inputs at
    /// several sizes (`sizes`, default `[1, 2, 3, 4, 5, 8]`, plus the
    /// `learn` block's train and test sizes up to 1,000) with seeds
    /// `0..seeds` (default 4) and verify `expect`, and count the decision
    /// cases the `learn` block's traces show.
    ///
    /// Returns a dict: `passed` (True), `errors`, `warnings`, `runs` (a
    /// list of `{"size", "seeds"}`), `inputs` (runs in all),
    /// `diagnostics` (dicts) and `text` (what `synth check` prints).
    ///
    /// Raises `TaskError`, whose `str()` is what `synth check` prints, when
    /// a reference run fails; its `report` attribute holds the same dict
    /// with `passed` False.
    #[pyo3(signature = (sizes=None, seeds=None))]
    fn check<'py>(&self, py: Python<'py>, sizes: Option<Vec<u64>>, seeds: Option<u64>) -> PyResult<Bound<'py, PyAny>> {
        let defaults = CheckOptions::default();
        let mut opts = CheckOptions { seeds: seeds.unwrap_or(defaults.seeds), ..defaults };
        if let Some(sizes) = sizes {
            let sizes = sizes.into_iter().map(size_arg).collect::<PyResult<Vec<usize>>>()?;
            // As the CLI: the sizes named are run whatever their size; only
            // the learn block's are capped.
            opts.max_size = sizes.iter().copied().fold(opts.max_size, usize::max);
            opts.sizes = sizes;
        }
        let source = self.source.clone();
        let report = py.detach(move || synth::check(&source, &opts));
        let value = data::check_report(&report, &self.source);
        if report.has_errors() {
            let err = diagnostics_error::<TaskError>(py, report.render(&self.source), &report.diagnostics, &self.source);
            err.value(py).setattr("report", convert::to_py(py, &value)?)?;
            return Err(err);
        }
        convert::to_py(py, &value)
    }

    /// One reference run at size `size` (the input size `n`) from seed
    /// `seed`, as `synth trace` shows it: a `Trace`. For a scratchpad task
    /// it is the execution trace; for a tape task the input tape, the
    /// programs' memory writes and the final tape; for a table task one
    /// question on a table with its answer and latent program.
    ///
    /// Raises `TaskError` (with the message `synth trace` prints) when the
    /// run fails, including when it exceeds the task's limits; `ValueError`
    /// or `OverflowError` for a size or seed out of range.
    #[pyo3(signature = (size, seed=0))]
    fn trace(&self, py: Python<'_>, size: u64, seed: u64) -> PyResult<PyTrace> {
        let size = size_arg(size)?;
        let task = self.task.clone();
        let run = py.detach(move || {
            let run = if task.is_table() {
                task.table_example(size, seed).map(TraceData::Table)
            } else if task.is_tape() {
                task.tape_trace(size, seed).map(TraceData::Tape)
            } else {
                task.trace(size, seed).map(TraceData::Scratchpad)
            };
            run.map_err(Box::new)
        });
        match run {
            Ok(data) => Ok(PyTrace::new(self.task.clone(), data)),
            Err(e) => Err(run_error(py, &e, &self.source)),
        }
    }

    /// The call graph, as `synth graph` shows it: a `Graph` whose `dot` is
    /// `synth graph --format dot`. A table task's graph is every question's
    /// latent program.
    fn call_graph(&self) -> PyGraph {
        PyGraph { data: data::call_graph(&self.task, &self.source.text) }
    }

    /// The operation graph of every program (`synth graph --ops`), or of
    /// the program named `program`: a `Graph`. On a tape task each node
    /// carries its NRAM module; a table task's graph is every question's
    /// latent program. Raises `ValueError` for a program the task lacks.
    #[pyo3(signature = (program=None))]
    fn op_graph(&self, program: Option<&str>) -> PyResult<PyGraph> {
        data::op_graph(&self.task, &self.source.text, program)
            .map(|data| PyGraph { data })
            .map_err(PyValueError::new_err)
    }

    /// What a learner must model, as a dict of plain values.
    ///
    /// Every kind: `name`, `kind`, `source_hash`, `learn` (the `learn`
    /// block: `learner`, `train_sizes`, `traces`, `test_sizes`, `steps`,
    /// `time`, `seed`, `settings`) and `limits` (of a reference run).
    /// Scratchpad and tape: `programs` (`name`, `id`, `arity`, `level`,
    /// `recursive`; id 0 is `ACT`), `entry`, `entry_id`, `curriculum`,
    /// `unused`. Scratchpad: `observation` (`features` with their `name`
    /// and `classes`, `width`, `one_hot_width`), `args` (`classes`, `slots`,
    /// and `no_arg`, the value of an unused argument slot), `actions`,
    /// `pointers`, `base`, `end` (the end convention). Tape:
    /// `nram_modules`. Table: `columns`, `timesteps`, `questions` (each
    /// one's `templates`, `answer` and latent program `steps`),
    /// `operations`.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &data::info(&self.task))
    }

    /// A pose task's images of observations, as its learner sees them:
    /// `obs` is (rows, features) as `batches()["obs"]` or a trace's steps
    /// hold them; the result is a float32 array (rows, side, side) of grays
    /// in 0..1, row 0 at the top. A task without images raises ValueError.
    fn images<'py>(&self, py: Python<'py>, obs: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let Some(spec) = self.task.obs.image.clone() else {
            return Err(PyValueError::new_err(format!("task `{}` has no images: only a pose world's learner sees one", self.task.name)));
        };
        let np = py.import("numpy")?;
        let (values, shape) = super::learn::int_array(&np, &obs, "`obs`")?;
        let width = self.task.obs.width();
        let rows = match shape.as_slice() {
            [w] if *w == width => 1,
            [r, w] if *w == width => *r,
            _ => return Err(PyValueError::new_err(format!("`obs` must be (rows, {width}) observations, not shape {shape:?}"))),
        };
        if let Some(bad) = values.iter().find(|v| !(0..=u16::MAX as i64).contains(v)) {
            return Err(PyValueError::new_err(format!("observation value {bad} is out of range")));
        }
        let side = spec.side as usize;
        let out: Vec<u8> = py.detach(move || {
            let mut out = Vec::with_capacity(rows * side * side * 4);
            for row in values.chunks_exact(width) {
                let obs: Vec<u16> = row.iter().map(|&v| v as u16).collect();
                for p in synth_runtime::npi::images::pixels(&spec, &obs).iter() {
                    out.extend_from_slice(&p.to_le_bytes());
                }
            }
            out
        });
        let buf = pyo3::types::PyByteArray::new(py, &out);
        np.call_method1("frombuffer", (buf, "<f4"))?.call_method1("reshape", ((rows, side, side),))
    }

    /// The training traces `synth learn` would draw (the `learn` block's
    /// sizes, trace count, seed and sampling, unless `sizes`, `traces` or
    /// `seed` are given), cut into frames, as a dict of NumPy arrays
    /// (int64 unless said): per step, frame by frame, `obs` (steps,
    /// features), `program` and `args` (steps, 3), the frame's program and
    /// argument classes, `end` (bool), `call` (the target program id, the
    /// number of programs for no call, -1 on an own end step) and
    /// `call_args` (steps, 3; -1 where not trained); per frame
    /// `frame_offsets` (frames + 1) and `frame_trace`; per trace
    /// `trace_size` and `trace_seed`. An argument class is its value, or
    /// `info()["args"]["classes"]` for no argument.
    ///
    /// For a tape task: `traces` examples (default: the `learn` block's
    /// `traces`, or 1000), example `i` of size `sizes[i % len(sizes)]`, as
    /// `input` and `output` (examples, cells; the initial and the
    /// reference's final tape, padded with -1 to the longest), `graded`
    /// (examples, cells; bool: the cells scored), `cells`, `timesteps`,
    /// `size` and `seed` (uint64): example `i` is `trace(size[i],
    /// seed[i])`. A table task has no arrays: its examples are
    /// `trace(size, seed)`.
    #[pyo3(signature = (sizes=None, traces=None, seed=None))]
    fn batches<'py>(&self, py: Python<'py>, sizes: Option<Vec<u64>>, traces: Option<usize>, seed: Option<u64>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let sizes = sizes.map(|s| s.into_iter().map(size_arg).collect::<PyResult<Vec<_>>>()).transpose()?;
        let task = self.task.clone();
        let arrays = py
            .detach(move || if task.is_tape() { crate::worlds::tape_batches(&task, sizes, traces, seed) } else { crate::learn::batches(&task, sizes, traces, seed) })
            .map_err(TaskError::new_err)?;
        super::learn::to_numpy(py, &arrays)
    }

    /// Runs `policy` closed-loop on `count` inputs of each size (default:
    /// the `learn` block's test sizes), the inputs, step limits and scoring
    /// of `synth eval`, and returns what `synth eval --json` prints:
    /// `{"task", "learner", "results": [{"size", "count", "exact",
    /// "accuracy", "mean_steps"}]}`.
    ///
    /// `policy(rows)` is called once per step with a dict of arrays, one
    /// row per run still going: `run`, `frame` (the frame's number in its
    /// run), `new_frame` (bool: its first step; a recurrent model starts a
    /// fresh state), `depth`, `program`, `args` (rows, 3; classes) and
    /// `obs` (rows, features). It returns `(end, call, args)` or a dict with
    /// those keys: `end` (truthy ends the frame), `call` (a program id, or
    /// the number of programs for no call) and `args` (rows, 3; classes).
    /// An exception from the policy stops the evaluation and propagates.
    ///
    /// A tape task's `policy(inputs)` is called once per size with a dict
    /// of arrays, one row per input: `input` (inputs, cells; padded with
    /// -1), `cells`, `timesteps`, `size`, `seed`; it returns the final
    /// tapes (inputs, at least cells). The result per size: `cells`,
    /// `graded`, `error` (the share of graded cells wrong, the NRAM
    /// paper's error), `exact`, `accuracy`.
    ///
    /// A table task's `policy(questions)` is called once per size with a
    /// list of dicts, `trace(size, seed).to_dict()` without `answer` and
    /// `program`; it returns one answer per question: an int (a scalar
    /// answer) or a dict as `Trace.answer` holds one. The result: `exact`
    /// and `accuracy` per size and per question (`questions`).
    #[pyo3(signature = (policy, sizes=None, count=32, seed=0, learner="python"))]
    fn evaluate<'py>(&self, py: Python<'py>, policy: Bound<'py, PyAny>, sizes: Option<Vec<u64>>, count: usize, seed: u64, learner: &str) -> PyResult<Bound<'py, PyAny>> {
        let sizes = match sizes {
            Some(s) => s.into_iter().map(size_arg).collect::<PyResult<Vec<_>>>()?,
            None => self.task.learn.test_sizes.clone(),
        };
        if sizes.is_empty() {
            return Err(PyValueError::new_err("no sizes to evaluate: pass sizes= or add `test sizes [...]` to the learn block"));
        }
        super::learn::evaluate(py, &self.task, policy, &sizes, count, seed, learner)
    }

    /// The seeds of the `count` inputs of size `size` that `evaluate` and
    /// `synth eval --seed SEED` run: input `i` is `trace(size, seeds[i])`.
    #[pyo3(signature = (size, count=32, seed=0))]
    fn eval_seeds(&self, size: u64, count: usize, seed: u64) -> PyResult<Vec<u64>> {
        let size = size_arg(size)?;
        Ok((0..count).map(|i| synth_runtime::env::eval_seed(&self.task, seed, size, i)).collect())
    }

    fn __repr__(&self) -> String {
        format!("<synth.Task {} ({}) from {}>", self.task.name, self.task.world().name(), self.source.display)
    }
}
