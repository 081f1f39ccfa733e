//! Neural Programmer checkpoints: the parameters as safetensors bytes and
//! a serde metadata record (config with its vocabulary, task, training
//! state, validation scores). Nothing is written here; the caller stores
//! both.
//!
//! Loading checks the record against the task before touching the
//! parameters ([`crate::identity`]), then the config against the task's
//! columns, then the bytes: parameters that are not safetensors, not
//! finite, or not the shapes the config makes are refused with a message.
//! Nothing here panics on garbage.

use super::config::NpConfig;
use super::model::{Layout, Np};
use crate::env::TableEnvironment;
use crate::identity::{Identity, IdentityError};
use serde::{Deserialize, Serialize};

/// The version of the checkpoint layout written by this code.
pub const FORMAT: u32 = 1;

/// Validation at one size: questions, and right answers of the hard pass.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SizeScore {
    pub size: usize,
    pub count: usize,
    pub right: usize,
}

/// What a checkpoint's parameters are and what they were trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: u32,
    pub learner: String,
    pub task: String,
    pub source_hash: String,
    pub config: NpConfig,
    /// The seed the model was trained from.
    pub seed: u64,
    pub train_sizes: Vec<usize>,
    /// Training questions.
    pub questions: usize,
    /// Optimiser steps taken when the parameters were saved.
    pub step: u64,
    /// Whether every validation answer was right then.
    pub converged: bool,
    /// Mean training loss around that step.
    pub loss: f64,
    pub validation: Vec<SizeScore>,
}

/// A trained model: metadata plus safetensors bytes.
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
    #[error("the checkpoint's columns are {found}, the task's are {expected}")]
    Columns { expected: String, found: String },
    #[error("the checkpoint's model config is invalid: {0}")]
    Config(String),
    #[error("the checkpoint's model is {found}, the task's settings make {expected}")]
    ConfigDiffers { expected: String, found: String },
    #[error("the checkpoint's parameters do not load: {0}")]
    Weights(String),
    #[error("the checkpoint's parameters do not fit its model config: {0}")]
    Mismatch(String),
}

/// A config in a line: `5 steps, hidden 64, embedding 64, 40 words`.
pub fn describe(c: &NpConfig) -> String {
    format!("{} steps, hidden {}, embedding {}, {} words", c.timesteps, c.hidden, c.embedding, c.vocab.len())
}

fn columns_list(c: &[(String, synth_compiler::ColumnKind)]) -> String {
    let names: Vec<String> = c.iter().map(|(n, k)| format!("{n} ({})", if *k == synth_compiler::ColumnKind::Word { "words" } else { "numbers" })).collect();
    names.join(", ")
}

impl Checkpoint {
    /// Which of two models to keep: the smaller rank (converged first, then
    /// the fewest wrong validation answers).
    pub fn rank(&self) -> (bool, usize) {
        (!self.meta.converged, self.meta.validation.iter().map(|s| s.count - s.right.min(s.count)).sum())
    }

    /// `np`'s parameters with `meta` (whose config is taken from it).
    pub fn save(np: &Np, mut meta: CheckpointMeta) -> Checkpoint {
        meta.config = np.config.clone();
        let weights = crate::params::write_flat(&np.params, &np.layout.tensors());
        Checkpoint { meta, weights, optimizer: None }
    }

    /// The same checkpoint with `adam`'s state.
    pub fn with_optimizer(mut self, adam: &crate::optim::FlatAdam) -> Checkpoint {
        self.optimizer = Some(adam.state_to_safetensors());
        self
    }

    /// Checks that the checkpoint is a Neural Programmer of `env`'s task,
    /// source and columns.
    pub fn check<E: TableEnvironment + ?Sized>(&self, env: &E) -> Result<(), LoadError> {
        let m = &self.meta;
        let found = Identity { format: m.format, learner: &m.learner, task: &m.task, source_hash: &m.source_hash };
        found.check(&Identity { format: FORMAT, learner: "np", task: env.name(), source_hash: env.source_hash() })?;
        let columns = env.columns();
        if m.config.columns != columns {
            return Err(LoadError::Columns { expected: columns_list(&columns), found: columns_list(&m.config.columns) });
        }
        Ok(())
    }

    /// Refuses a checkpoint whose model is not of `config`'s shape
    /// (vocabulary aside: training makes it).
    pub fn check_config(&self, config: &NpConfig) -> Result<(), LoadError> {
        let mine = NpConfig { vocab: Vec::new(), ..self.meta.config.clone() };
        if &mine != config {
            let show = |c: &NpConfig| format!("{} steps, hidden {}, embedding {}", c.timesteps, c.hidden, c.embedding);
            return Err(LoadError::ConfigDiffers { expected: show(config), found: show(&mine) });
        }
        Ok(())
    }

    /// The model, after [`Checkpoint::check`].
    pub fn load<E: TableEnvironment + ?Sized>(&self, env: &E) -> Result<Np, LoadError> {
        self.check(env)?;
        self.model()
    }

    /// The model, without checking it against a task.
    pub fn model(&self) -> Result<Np, LoadError> {
        let config = &self.meta.config;
        if !config.is_valid() {
            return Err(LoadError::Config(describe(config)));
        }
        let layout = Layout::new(config);
        let params = crate::params::read_flat(&self.weights, &layout.tensors(), layout.params).map_err(|e| match e {
            crate::params::FlatError::Weights(m) => LoadError::Weights(m),
            crate::params::FlatError::Mismatch(m) => LoadError::Mismatch(m),
        })?;
        Ok(Np::with_params(config, params))
    }
}
