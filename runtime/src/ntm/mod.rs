//! The Neural Turing Machine (Graves, Wayne & Danihelka 2014) on tape
//! worlds: a baseline beside NRAM, trained on the same input/output pairs.
//! An LSTM controller with one read and one write head over a memory of
//! `memory x width` reals; content and location addressing with
//! interpolation, shift and sharpening. docs/ntm.md is the exact model.
//!
//! - [`config`]: the machine's shape and the training settings.
//! - [`data`]: a tape pair as an episode (input cells, delimiter, one
//!   answer step per graded cell).
//! - [`model`]: parameters, forward and hand-written backward (plain f32
//!   code, gradient-checked against finite differences).
//! - [`train`]: the training loop.
//! - [`eval`]: exact outputs and right cells per size.
//! - [`checkpoint`]: parameters plus metadata, checked on load.

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod eval;
pub mod model;
pub mod train;

pub use checkpoint::{Checkpoint, CheckpointMeta, LoadError};
pub use config::{settings, ConfigError, Controller, NtmConfig, TrainConfig};
pub use eval::{evaluate, EvalReport, SizeReport, SizeScore};
pub use model::Ntm;
pub use train::{resume, train, StepReport, TrainError, TrainOutcome, ValidationReport};
