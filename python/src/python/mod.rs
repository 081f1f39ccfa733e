//! The extension module `synth._native`: [`compile`] and [`stdlib`], the
//! classes `Task`, `Trace` and `Graph`, and the exceptions. Each function
//! calls the library and converts what it returns ([`crate::data`]'s values)
//! into Python objects; long work runs with the interpreter released.

mod convert;
mod graph;
mod learn;
mod model;
mod task;
mod trace;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;
use synth::{Source, SourceError};
use synth_dsl::{render_all, Diagnostic};

create_exception!(
    synth,
    SynthError,
    PyException,
    "The base class of CompileError and TaskError, the errors about a task \
(an argument of the wrong type or out of range raises Python's own errors)."
);
create_exception!(
    synth,
    CompileError,
    SynthError,
    "A task did not compile. str() of it is the diagnostics as the CLI prints \
them; the attribute `diagnostics` holds them as dicts."
);
create_exception!(
    synth,
    TaskError,
    SynthError,
    "A reference run failed, or `Task.check` found an error. str() of it is \
what the CLI prints; the attribute `diagnostics` holds the errors as dicts. \
After `Task.trace`, `kind`, `size`, `seed` and `program` say which run failed \
and how; after `Task.check`, `report` is the check's report."
);

/// The error for diagnostics `diags` of `source`, of exception type `E`,
/// with the attribute `diagnostics`; `message` is its text.
fn diagnostics_error<E: pyo3::PyTypeInfo>(
    py: Python<'_>,
    message: String,
    diags: &[Diagnostic],
    source: &Source,
) -> PyErr {
    let err = PyErr::new::<E, _>(message);
    let attach = || -> PyResult<()> {
        let list = convert::to_py(py, &crate::data::diagnostics(diags, source))?;
        err.value(py).setattr("diagnostics", list)
    };
    match attach() {
        Ok(()) => err,
        Err(e) => e,
    }
}

/// `CompileError` for a source that did not compile.
fn compile_error(py: Python<'_>, diags: &[Diagnostic], source: &Source) -> PyErr {
    diagnostics_error::<CompileError>(py, render_all(diags, &source.display, &source.text), diags, source)
}

/// `TaskError` for a failed reference run, rendered as the CLI prints it,
/// with the run's kind, size, seed and program as attributes too.
fn run_error(py: Python<'_>, e: &synth_compiler::RunError, source: &Source) -> PyErr {
    let d = e.to_diagnostic();
    let text = d.render(&source.display, &source.text);
    let err = diagnostics_error::<TaskError>(py, text, std::slice::from_ref(&d), source);
    let attach = || -> PyResult<()> {
        let value = err.value(py);
        let kind = serde_json::to_value(e.kind).unwrap_or_default();
        value.setattr("kind", convert::to_py(py, &kind)?)?;
        value.setattr("size", e.size)?;
        value.setattr("seed", e.seed)?;
        value.setattr("program", e.program.clone())
    };
    match attach() {
        Ok(()) => err,
        Err(e) => e,
    }
}

/// The Python error for a task that could not be loaded.
fn source_error(e: SourceError) -> PyErr {
    match e {
        SourceError::Read { .. } => PyOSError::new_err(e.to_string()),
        SourceError::Missing { .. } | SourceError::Unknown { .. } => {
            PyFileNotFoundError::new_err(e.to_string())
        }
    }
}

/// A size as the library takes it: sizes beyond `i64::MAX` are refused
/// here (the interpreter holds `n` as an `i64`).
fn size_arg(size: u64) -> PyResult<usize> {
    match usize::try_from(size) {
        Ok(s) if size <= i64::MAX as u64 => Ok(s),
        _ => Err(PyValueError::new_err(format!("size {size} is too large (at most {})", i64::MAX))),
    }
}

/// Compile a task and return a `Task`.
///
/// `path_or_source` is one of:
///
/// - a path (`str` or `os.PathLike`) to an existing `.npl` file;
/// - the name of a stdlib task, with or without `.npl` (`"add"`), as the
///   CLI takes it: an existing file of that name wins;
/// - NPL source text: a `str` that contains a newline.
///
/// `name` is the file stem the task is named after unless it has a
/// `task NAME` item; for source text it defaults to `"task"`, and
/// diagnostics show the text as `NAME.npl`.
///
/// Raises `CompileError` (its `str()` is the rendered diagnostics, as
/// `synth check` prints them) when the task does not compile,
/// `FileNotFoundError` when the path does not exist and is not a stdlib
/// task's name, `OSError` when the file cannot be read, and `TypeError` for
/// an argument that is neither a string nor a path.
#[pyfunction]
#[pyo3(signature = (path_or_source, name=None))]
pub(crate) fn compile(py: Python<'_>, path_or_source: &Bound<'_, PyAny>, name: Option<String>) -> PyResult<task::PyTask> {
    let source = if let Ok(s) = path_or_source.cast::<PyString>() {
        let s = s.to_str()?;
        if s.contains('\n') {
            let stem = name.clone().unwrap_or_else(|| "task".to_string());
            Source::from_text(format!("{stem}.npl"), stem, s)
        } else {
            load(py, s)?
        }
    } else if path_or_source.hasattr("__fspath__")? {
        let path: std::path::PathBuf = path_or_source.extract()?;
        let Some(path) = path.to_str() else {
            return Err(PyValueError::new_err(format!("the path {} is not valid UTF-8", path.display())));
        };
        load(py, path)?
    } else {
        let ty = path_or_source.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "compile() takes a path, a stdlib task's name or NPL source text, not {ty}"
        )));
    };
    let source = match name {
        Some(stem) => Source { stem, ..source },
        None => source,
    };
    let compiled = {
        let source = source.clone();
        py.detach(move || synth::compile(&source))
    };
    match compiled {
        Ok(c) => Ok(task::PyTask::new(source, c.task, c.warnings)),
        Err(diags) => Err(compile_error(py, &diags, &source)),
    }
}

fn load(py: Python<'_>, arg: &str) -> PyResult<Source> {
    let arg = arg.to_string();
    py.detach(move || Source::load(&arg)).map_err(source_error)
}

/// The names (file stems) of the stdlib tasks, sorted: each can be passed
/// to `compile`.
#[pyfunction]
fn stdlib() -> Vec<&'static str> {
    synth::stdlib::names().collect()
}

/// The compiled part of the `synth` package (import `synth`, not this).
#[pymodule(name = "_native")]
mod native {
    #[pymodule_export]
    use super::{compile, stdlib, CompileError, SynthError, TaskError};

    #[pymodule_export]
    use super::graph::PyGraph;
    #[pymodule_export]
    use super::model::{load, PyModel};
    #[pymodule_export]
    use super::task::PyTask;
    #[pymodule_export]
    use super::trace::PyTrace;

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("NO_ARG", synth_compiler::NO_ARG)?;
        m.add("ARG_SLOTS", synth_compiler::ARG_SLOTS)?;
        Ok(())
    }
}
