//! `synth-runtime`: the learners and everything around them.
//!
//! The compiler hands over a task (programs, observation and argument
//! layouts, reference traces, a world to act in), seen here through the
//! [`Environment`] and [`World`] traits, which `synth_compiler::Task` and
//! `Instance` implement. The [`npi`] module trains a Neural
//! Programmer-Interpreter on the task's traces and runs it as an
//! interpreter on new inputs; the [`nram`] module trains a Neural
//! Random-Access Machine on the input/output pairs of a tape world.
//!
//! Code map:
//! - [`env`]: the two traits the learners are written against.
//! - [`npi`]: the NPI learner (config, data, model, training, execution,
//!   evaluation, checkpoints); start at [`npi::train`] and [`npi::evaluate`].
//! - [`nram`]: the Neural Random-Access Machine, trained on the
//!   input/output pairs of a [`TapeEnvironment`]; start at
//!   [`nram::train()`] and [`nram::evaluate`].
//! - [`optim`]: Adam with global-norm clipping, in place and deterministic,
//!   over candle variables or one flat slice.
//! - [`pair`]: two threads in lockstep, for batch-1 inference split over
//!   two cores.
//! - [`params`]: seeded parameter creation and safetensors (de)serialisation.
//! - [`settings`]: the value checks of `learn` settings both learners share.
//! - [`kernels`]: the hand-written CPU kernels (vectorised `exp`, the LSTM
//!   cell, the one GEMM entry point with an AVX-512 kernel for packed
//!   weights), compiled per instruction set and dispatched on a
//!   [`kernels::Cpu`].
//!
//! Architecture invariant: no file IO, no terminal output, no clock reads.
//! Training reports progress through hooks ([`npi::TrainHooks`]) and returns
//! checkpoints as bytes plus metadata ([`npi::Checkpoint`]); the `synth`
//! binary does the rest. Same seed, same machine, same thread count: the same
//! losses and weights.

pub mod dense;
pub mod env;
pub mod hooks;
pub mod identity;
pub mod kernels;
pub mod lte;
pub mod npi;
pub mod np;
pub mod nram;
pub mod ntm;
pub mod optim;
pub mod pair;
pub mod params;
pub mod process;
pub mod seq2seq;
pub mod settings;
pub mod split;

pub use env::{Environment, TableEnvironment, TapeEnvironment, TaskError, World};
