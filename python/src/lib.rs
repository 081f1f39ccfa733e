//! `synth-python`: the Python package `synth-npl` (imported as `synth`),
//! built by maturin from `python/pyproject.toml`.
//!
//! - [`data`]: what the package hands out (diagnostics, trace frames and
//!   steps, a task's description, graphs as nodes and edges), built from the
//!   public API of `synth` as `serde_json` values. It needs no Python, so
//!   the workspace's tests check it.
//! - `python` (feature `python`, which maturin turns on): the extension
//!   module `synth._native`, which converts those values into Python
//!   objects. Without the feature this crate is only [`data`], and building
//!   or testing the workspace never compiles PyO3 or looks for a Python.

pub mod data;
pub mod learn;
pub mod model;
pub mod worlds;

#[cfg(feature = "python")]
mod python;
