//! The Neural Random-Access Machine (Kurach, Andrychowicz & Sutskever,
//! ICLR 2016), trained by gradient descent on the input/output pairs of a
//! tape world. docs/nram.md is the exact model.
//!
//! Code map:
//! - [`config`]: [`NramConfig`] (the machine's shape) and [`TrainConfig`],
//!   from `learn` settings.
//! - [`module`]: the modules, integer and fuzzy, with their backward passes.
//! - [`model`]: the parameters and the controller MLP.
//! - [`fuzzy`]: the fuzzy machine over a batch: forward, loss, backward.
//! - [`discrete`]: the discretised machine, integer registers and tape,
//!   optionally traced timestep by timestep.
//! - [`circuit`]: the discrete machine's program: the live circuit of every
//!   zero pattern, merged into branches; as text and DOT.
//! - [`induced`]: that program as NPL (`synth extract`).
//! - [`train`]: the training loop: curriculum, noise, entropy, validation,
//!   seeds, hooks.
//! - [`eval`]: fuzzy and discrete error and exact matches per size.
//! - [`checkpoint`]: parameters plus metadata, checked on load.
//! - [`start`]: the `start` setting, a circuit the controller starts next to.
//! - [`toy`]: the paper's easy tasks as hand-written tape worlds.
//!
//! Start at [`train()`], [`evaluate`] and [`Checkpoint::load`].
pub mod checkpoint;
pub mod circuit;
pub mod config;
pub mod discrete;
pub mod eval;
pub mod fuzzy;
pub mod induced;
pub mod model;
pub mod module;
pub mod start;
pub mod toy;
pub mod train;

#[cfg(test)]
mod gradcheck;

pub use checkpoint::{Checkpoint, CheckpointMeta, LoadError, SizeScore};
pub use circuit::{Branch, Circuit, CircuitError, CircuitTable, PatternTally, Source};
pub use config::{settings, ConfigError, Controller, NramConfig, TrainConfig};
pub use discrete::{Observer, Outcome, Runner, TraceStep};
pub use eval::{evaluate, EvalReport, SizeReport};
pub use fuzzy::{Options, Stats, Workspace};
pub use model::{Layout, Nram};
pub use module::Module;
pub use train::{resume, train, Control, Hooks, NoHooks, SeedOutcome, StepReport, StopReason, TrainError, TrainHooks, TrainOutcome, ValidationReport};
