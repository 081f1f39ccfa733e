//! `synth`: neural program learning from reference programs written in NPL.
//!
//! This crate is the facade over the three library crates: what a Rust
//! program embeds to compile tasks, run their reference programs and train
//! learners on them.
//!
//! - [`synth_dsl`]: NPL text to a syntax tree, and the [`Diagnostic`] type.
//! - [`synth_compiler`]: the syntax tree to a [`Task`] that samples inputs,
//!   runs the reference programs into [`Trace`]s and lets a model drive the
//!   same world; the call graph and operation graphs.
//! - [`synth_runtime`]: the learners (NPI first) trained on those traces.
//!
//! Here: [`Source`] (a task file, or a stdlib task named by its stem),
//! [`stdlib`] (the embedded task library), [`compile`] and [`check`] (what
//! `synth check` does, also used by the snapshot tests), [`extract`] (a
//! trained NRAM's discrete program as an NPL file, `synth extract`), [`testing`]
//! (snapshot tests of a task, `synth test`), [`npl!`] and [`include_npl!`]
//! (a task embedded in Rust source and checked when the crate is compiled,
//! [`embedded`]), [`rundir`] (the files `synth learn` writes) and
//! [`trained`] (the model in a run directory, whichever learner trained
//! it, checked against its task and ready to run or evaluate). A compiled
//! [`Task`] runs its reference programs (`Task::trace`); `runtime::npi`
//! trains and runs a learner on it.
//!
//! The `synth` binary (`src/main.rs` and its private `cli` module) adds what
//! only a command line needs: plots, the progress bar, the clock and Ctrl-C.
//! None of it is part of this API.

// The macros expand to `::synth::...` paths, which this names inside the
// crate too (its unit tests and doctests).
extern crate self as synth;

pub use synth_compiler as compiler;
pub use synth_dsl as dsl;
pub use synth_runtime as runtime;

pub use synth_compiler::{Task, Trace};
pub use synth_dsl::Diagnostic;

pub mod check;
pub mod coverage;
pub mod embedded;
pub mod extract;
pub mod rundir;
pub mod source;
pub mod stdlib;
pub mod testing;
pub mod trained;

pub use check::{check, CheckOptions, CheckReport};
pub use source::{Source, SourceError};
pub use synth_macros::{include_npl, npl};

/// Parses and compiles a source. On failure the diagnostics hold at least one
/// error; on success the warnings (lint) come with the task.
pub fn compile(source: &Source) -> Result<synth_compiler::Compiled, Vec<Diagnostic>> {
    synth_compiler::compile(&source.text, &source.stem)
}
