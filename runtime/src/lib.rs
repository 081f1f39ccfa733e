//! `synth-runtime`: the learners and everything around them.
//!
//! The compiler hands over a task (programs, observation and argument
//! layouts, reference traces, a world to act in), seen here through the
//! [`Environment`] and [`World`] traits. The [`npi`] module trains a
//! Neural Programmer-Interpreter on the task's traces and runs it as an
//! interpreter on new inputs.
//!
//! Architecture invariant: no file IO, no terminal output, no clock reads.
//! Training reports progress through hooks ([`npi::TrainHooks`]) and returns
//! checkpoints as bytes plus metadata; the `synth` binary does the rest.

pub mod env;
pub mod kernels;
pub mod npi;
pub mod optim;
pub mod params;
pub mod sgemm;

pub use env::{Environment, TaskError, World};
