//! `synth-compiler`: an NPL syntax tree to a runnable, learnable [`Task`].
//!
//! Pipeline: [`compile`] checks the file (names, arities, types, contexts,
//! world declarations, the `learn` block), lowers it to an IR of resolved
//! slots, and builds the call graph and operation graphs. The resulting
//! [`Task`] samples inputs ([`Task::sample`]), runs the reference programs
//! into [`Trace`]s ([`Task::trace`]), and lets a learned model drive the same
//! world through [`Instance::observe`] and [`Instance::act`].
//!
//! This crate does no IO and uses only the randomness it derives from the
//! seeds it is handed.

pub mod builtins;
pub mod task;

pub use task::{
    ArgSpec, Args, Call, EndConvention, Feature, Frame, LearnSpec, ObsSpec, ProgramId, ProgramInfo, SettingValue, Step,
    Trace, ACT, ARG_SLOTS, NO_ARG, NO_ARGS,
};
