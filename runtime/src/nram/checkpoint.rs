//! NRAM checkpoints: the controller's parameters as safetensors bytes and a
//! serde metadata record (config, task, training state, validation
//! scores). Nothing is written here; the caller stores both.
//!
//! Loading checks the record against the task before touching the
//! parameters and refuses, with a message that says what differs, a
//! checkpoint of another learner, task or version of the task's source,
//! or (when the caller asks, [`Checkpoint::check_config`]) of another
//! machine config. Then the bytes: parameters that are not safetensors,
//! not finite, or not the shapes the record's config makes are refused
//! too. Nothing here panics on garbage.

use super::config::NramConfig;
use super::model::{Layout, Nram};
use crate::env::TapeEnvironment;
use crate::identity::{Identity, IdentityError};
use serde::{Deserialize, Serialize};

/// The version of the checkpoint layout written by this code.
pub const FORMAT: u32 = 1;

/// How a machine scored at one size: the fuzzy machine (the most likely
/// value of every graded cell) and the discrete one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SizeScore {
    pub size: usize,
    /// Examples, and graded cells over all of them.
    pub count: usize,
    pub graded: usize,
    /// Wrong graded cells and exact matches of the fuzzy machine.
    pub wrong: usize,
    pub exact: usize,
    /// The same for the discrete machine.
    pub discrete_wrong: usize,
    pub discrete_exact: usize,
    /// Timesteps the discrete machine ran, over all examples (0 in
    /// checkpoints written before it was counted).
    #[serde(default)]
    pub discrete_steps: usize,
}

impl SizeScore {
    /// The fuzzy error: wrong graded cells over graded cells.
    pub fn error(&self) -> f64 {
        self.wrong as f64 / self.graded.max(1) as f64
    }

    /// The discrete machine's error.
    pub fn discrete_error(&self) -> f64 {
        self.discrete_wrong as f64 / self.graded.max(1) as f64
    }
}

/// What a checkpoint's parameters are and what they were trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: u32,
    pub learner: String,
    pub task: String,
    pub source_hash: String,
    pub config: NramConfig,
    /// The seed this machine was trained from.
    pub seed: u64,
    pub train_sizes: Vec<usize>,
    /// Optimiser steps taken when the parameters were saved.
    pub step: u64,
    /// The curriculum level (an index into `train_sizes`) at that step.
    pub level: usize,
    /// Whether the parameters had converged (at the last level, error 0 at
    /// every training size, fuzzy and discrete).
    pub converged: bool,
    /// Mean training loss around that step.
    pub loss: f64,
    /// Validation scores at that step, per training size.
    pub validation: Vec<SizeScore>,
}

/// A trained machine: metadata plus safetensors bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub meta: CheckpointMeta,
    pub weights: Vec<u8>,
    /// Adam's state when the parameters were saved
    /// ([`crate::optim::FlatAdam::state_to_safetensors`]), for `--resume`;
    /// `None` for a checkpoint saved without it.
    pub optimizer: Option<Vec<u8>>,
}

/// Why a checkpoint cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("the checkpoint's machine config is invalid: {0}")]
    Config(String),
    #[error("the checkpoint's machine is {found}, the task's settings make {expected}")]
    ConfigDiffers { expected: String, found: String },
    /// The parameters are not safetensors, or hold values that are not
    /// finite.
    #[error("the checkpoint's parameters do not load: {0}")]
    Weights(String),
    /// The parameters load but are not the machine the metadata describes.
    #[error("the checkpoint's parameters do not fit its machine config: {0}")]
    Mismatch(String),
}

/// A config in a line: `4 registers, modules [read, ...], mlp 64`.
pub fn describe(c: &NramConfig) -> String {
    format!("{} registers, modules [{}], {} controller of {} hidden units", c.registers, c.module_names(), c.controller.name(), c.hidden)
}

impl Checkpoint {
    /// Which of two machines to keep: the smaller rank (a converged one
    /// first, then the fewest wrong graded cells of the fuzzy machine over
    /// the validation).
    pub fn rank(&self) -> (bool, usize) {
        (!self.meta.converged, self.meta.validation.iter().map(|s| s.wrong).sum())
    }

    /// `nram`'s parameters with `meta` (whose config is taken from it).
    pub fn save(nram: &Nram, mut meta: CheckpointMeta) -> Checkpoint {
        meta.config = nram.config.clone();
        let weights = crate::params::write_flat(&nram.params, &nram.layout.tensors());
        Checkpoint { meta, weights, optimizer: None }
    }

    /// The same checkpoint with `adam`'s state.
    pub fn with_optimizer(mut self, adam: &crate::optim::FlatAdam) -> Checkpoint {
        self.optimizer = Some(adam.state_to_safetensors());
        self
    }

    /// Checks that the checkpoint is an NRAM of `env`'s task and source.
    pub fn check<E: TapeEnvironment + ?Sized>(&self, env: &E) -> Result<(), LoadError> {
        let m = &self.meta;
        let found = Identity { format: m.format, learner: &m.learner, task: &m.task, source_hash: &m.source_hash };
        found.check(&Identity { format: FORMAT, learner: "nram", task: env.name(), source_hash: env.source_hash() })?;
        Ok(())
    }

    /// Refuses a checkpoint whose machine is not `config` (to resume or
    /// compare under the task's own settings).
    pub fn check_config(&self, config: &NramConfig) -> Result<(), LoadError> {
        if &self.meta.config != config {
            return Err(LoadError::ConfigDiffers { expected: describe(config), found: describe(&self.meta.config) });
        }
        Ok(())
    }

    /// The machine, after [`Checkpoint::check`].
    pub fn load<E: TapeEnvironment + ?Sized>(&self, env: &E) -> Result<Nram, LoadError> {
        self.check(env)?;
        self.model()
    }

    /// The machine, without checking it against a task.
    pub fn model(&self) -> Result<Nram, LoadError> {
        let config = &self.meta.config;
        if !config.is_valid() {
            return Err(LoadError::Config(describe(config)));
        }
        let layout = Layout::new(config);
        let params = crate::params::read_flat(&self.weights, &layout.tensors(), layout.params).map_err(|e| match e {
            crate::params::FlatError::Weights(m) => LoadError::Weights(m),
            crate::params::FlatError::Mismatch(m) => LoadError::Mismatch(m),
        })?;
        Ok(Nram { config: config.clone(), layout, params })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nram::module::Module;
    use crate::nram::toy::{Toy, ToyEnv};

    fn meta(config: &NramConfig) -> CheckpointMeta {
        CheckpointMeta {
            format: FORMAT,
            learner: "nram".into(),
            task: "access".into(),
            source_hash: "toy".into(),
            config: config.clone(),
            seed: 1,
            train_sizes: vec![1, 2],
            step: 10,
            level: 1,
            converged: false,
            loss: 0.5,
            validation: Vec::new(),
        }
    }

    #[test]
    fn round_trips_and_refuses_other_tasks_and_configs() {
        let config = NramConfig { registers: 2, hidden: 5, modules: vec![Module::Read, Module::Write], ..NramConfig::default() };
        let nram = Nram::new(&config, 3);
        let c = Checkpoint::save(&nram, meta(&config));
        let env = ToyEnv::new(Toy::Access, vec![1, 2]);
        assert_eq!(c.load(&env).unwrap(), nram);
        let other = ToyEnv::new(Toy::Copy, vec![1, 2]);
        assert_eq!(c.load(&other).unwrap_err().to_string(), "the checkpoint was trained on task `access`, not `copy`");
        let e = c.check_config(&NramConfig::default()).unwrap_err();
        assert!(e.to_string().starts_with("the checkpoint's machine is 2 registers, modules [read, write], mlp controller of 5 hidden units, the task's settings make 4 registers"), "{e}");
        c.check_config(&config).unwrap();
        // Another config's metadata over these parameters.
        let mut wrong = c.clone();
        wrong.meta.config.hidden = 6;
        assert!(matches!(wrong.model(), Err(LoadError::Mismatch(_))));
        wrong.meta.config.registers = 0;
        assert!(matches!(wrong.model(), Err(LoadError::Config(_))));
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let config = NramConfig { registers: 2, hidden: 3, modules: vec![Module::Inc], ..NramConfig::default() };
        let good = Checkpoint::save(&Nram::new(&config, 0), meta(&config));
        let mut c = good.clone();
        c.weights = b"not safetensors at all".to_vec();
        assert!(matches!(c.model(), Err(LoadError::Weights(_))));
        // Every truncation and a flipped byte anywhere: an error or a
        // machine, never a panic.
        for cut in 0..good.weights.len() {
            c.weights = good.weights[..cut].to_vec();
            assert!(c.model().is_err());
        }
        for i in 0..good.weights.len() {
            c.weights = good.weights.clone();
            c.weights[i] ^= 0xff;
            let _ = c.model();
        }
        let mut nan = Nram::new(&config, 0);
        nan.params[0] = f32::NAN;
        let c = Checkpoint::save(&nan, meta(&config));
        assert_eq!(c.model().unwrap_err().to_string(), "the checkpoint's parameters do not load: `controller.w1` holds NaN");
    }
}
