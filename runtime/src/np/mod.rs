//! The Neural Programmer (Neelakantan, Le & Sutskever, ICLR 2016), trained
//! by gradient descent on the (table, question, answer) instances of a
//! table world: the program is latent, induced from answers alone.
//! docs/np.md is the exact model.
//!
//! Code map:
//! - [`config`]: [`NpConfig`] (the model's shape, vocabulary included) and
//!   [`TrainConfig`], from `learn` settings.
//! - [`data`]: questions as token ids and pivot candidates; training
//!   instances as flat arrays and targets.
//! - [`model`]: the parameters; the soft pass, its hand-written backward,
//!   and the hard pass (the induced program).
//! - [`exec`]: exact execution of a program, the hard semantics.
//! - [`search`]: programs that answer a training question, found by
//!   running them, for the selector to be pulled toward.
//! - [`train`]: the training loop: a fixed question set shuffled per
//!   epoch, Adam, clipping, decaying gradient noise, validation, seeds.
//! - [`eval`]: answer and program accuracy per size and per question.
//! - [`checkpoint`]: parameters plus metadata, checked on load.
//!
//! Start at [`train()`], [`evaluate`] and [`Checkpoint::load`].
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod eval;
pub mod exec;
pub mod model;
pub mod search;
pub mod train;

#[cfg(test)]
mod tests;

pub use checkpoint::{Checkpoint, CheckpointMeta, LoadError};
pub use config::{settings, ConfigError, NpConfig, TrainConfig};
pub use data::{Encoded, Question, Target, Vocab};
pub use eval::{evaluate, Asked, EvalReport, QuestionReport, SizeReport};
pub use model::{Choice, Np, Workspace};
pub use train::{resume, train, Control, Hooks, NoHooks, SeedOutcome, StepReport, StopReason, TrainError, TrainHooks, TrainOutcome, ValidationReport};
