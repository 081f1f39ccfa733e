//! The seq2seq baseline: an LSTM encoder-decoder that maps a task's input
//! to its output (a scratchpad's sampled pad to its output rows, an input
//! tape to the final tape, a table and a question to the answer), trained on input/output pairs only (no
//! traces). It is what the NPI paper measured its model against
//! (a 2 x 256 LSTM that fails to sort past the lengths it was trained on),
//! so any task can be compared with the NPI on the same inputs:
//! `synth learn TASK --learner seq2seq`.
//!
//! - [`config`]: the model's shape and the training settings (`--set`).
//! - [`data`]: an input/output pair of the world as tokens, and grading.
//! - [`model`]: the model, teacher-forced loss, greedy decoding.
//! - [`train`]: the training loop with validation and the best checkpoint.
//! - [`eval`]: closed-loop results per size, graded by the task's `expect`.
//! - [`checkpoint`]: what a run directory holds.

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod eval;
pub mod model;
pub mod train;

pub use checkpoint::{Checkpoint, CheckpointMeta, LoadError, SizeScore};
pub use data::{tokens, values, vocabulary, Pair};
pub use config::{settings, ConfigError, Seq2SeqConfig, TrainConfig};
pub use eval::{evaluate, EvalReport, SizeReport};
pub use model::Seq2Seq;
pub use train::{resume, train, StepReport, TrainError, TrainOutcome, ValidationReport};
