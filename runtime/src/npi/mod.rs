//! The Neural Programmer-Interpreter (Reed & de Freitas, ICLR 2016).
//!
//! Code map:
//! - [`config`]: [`NpiConfig`] (sizes) and [`TrainConfig`], from `learn` settings.
//! - [`coverage`]: which decision cases the training traces hold, before training.
//! - [`sample`]: the training inputs, random or picked for coverage.
//! - [`data`]: traces cut into frames, frames packed into batches.
//! - [`images`]: the pictures of a pose world's observations, memoised.
//! - [`diagnose`]: the first wrong decision of a failed run.
//! - [`lstm`]: the core LSTM as one fused candle op with hand-written BPTT.
//! - [`model`]: the candle model and its loss.
//! - [`train`]: the training loop, curriculum, validation, hooks.
//! - [`infer`]: the forward pass in plain Rust for running a trained model.
//! - [`exec`]: closed-loop execution (the model as an interpreter).
//! - [`eval`]: exact-match accuracy per size.
//! - [`checkpoint`]: weights plus metadata, checked against the task on load.
//! - [`suite`]: one model for several tasks, and new programs on a frozen core.
//! - [`memory`]: the memory a run will need, estimated before allocating.

pub mod checkpoint;
pub mod config;
pub mod coverage;
pub mod data;
pub mod diagnose;
pub mod eval;
pub mod exec;
pub mod images;
pub mod infer;
pub mod lstm;
pub mod memory;
pub mod model;
pub mod sample;
pub mod suite;
pub mod train;

pub use checkpoint::{Checkpoint, CheckpointMeta, LoadError, SizeScore};
pub use config::{settings, ConfigError, Curriculum, Fuse, NpiConfig, Observe, TrainConfig, Vision};
pub use coverage::{coverage, Coverage, ProgramCoverage};
pub use data::{Batch, Dataset, ModelShape};
pub use diagnose::{first_divergence, Decided, Divergence};
pub use eval::{eval_seed, evaluate, evaluate_policy, EvalReport, PolicyEvalError, SizeReport};
pub use exec::{run, run_batch, run_policy, Failure, Job, Limits, Policy, Rows, RunOutcome};
pub use infer::{Decision, Engine, SplitCore};
pub use memory::{Footprint, MemoryError};
pub use model::Npi;
pub use sample::{Sampling, TrainingSet};
pub use suite::{growth_seed, new_suite, train_suite, Suite, SuiteCheckpoint, SuiteJob, SuiteMeta, SuiteOutcome, SuiteShape, Trainable, Trained};
pub use train::{resume, resume_checked, train, train_model, Control, Hooks, Resumable, NoHooks, StepReport, StopReason, TrainError, TrainHooks, TrainOutcome, ValidationReport};
