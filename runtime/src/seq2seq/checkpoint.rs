//! A trained seq2seq model: metadata plus safetensors bytes. A checkpoint
//! is tied to its task (name and source hash) and to the world's base.

use super::config::Seq2SeqConfig;
use super::model::Seq2Seq;
use crate::identity::{Identity, IdentityError};
use crate::npi::checkpoint::message;
use serde::{Deserialize, Serialize};
use synth_compiler::Task;

pub const FORMAT: u32 = 1;

/// Closed-loop results at one size: inputs whose output makes `expect`
/// hold, and output cells equal to the reference's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SizeScore {
    pub size: usize,
    pub count: usize,
    pub exact: usize,
    pub cells: usize,
    pub cells_right: usize,
}

impl SizeScore {
    pub fn cell_accuracy(&self) -> f64 {
        self.cells_right as f64 / self.cells.max(1) as f64
    }

    /// Counts `other`'s results (of the same size) in too.
    pub fn add(&mut self, other: &SizeScore) {
        self.exact += other.exact;
        self.cells += other.cells;
        self.cells_right += other.cells_right;
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: u32,
    pub learner: String,
    pub task: String,
    pub source_hash: String,
    pub config: Seq2SeqConfig,
    pub seed: u64,
    pub train_sizes: Vec<usize>,
    pub examples: usize,
    pub step: u64,
    pub loss: f64,
    pub validation: Vec<SizeScore>,
    /// Every validation input exact.
    pub converged: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub meta: CheckpointMeta,
    pub weights: Vec<u8>,
    pub optimizer: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LoadError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("the checkpoint's config is not a model synth can build: {0}")]
    Config(String),
    #[error("the weights cannot be read: {0}")]
    Weights(String),
    #[error("the weights do not fit the checkpoint's config: {0}")]
    Mismatch(String),
}

impl Checkpoint {
    /// Whether this checkpoint ranks before another of the same run:
    /// converged first, then more exact validation outputs, then more
    /// right cells (smaller is better).
    pub fn rank(&self) -> (bool, usize, usize) {
        let v = &self.meta.validation;
        (!self.meta.converged, usize::MAX - v.iter().map(|s| s.exact).sum::<usize>(), usize::MAX - v.iter().map(|s| s.cells_right).sum::<usize>())
    }

    pub fn save(model: &Seq2Seq, meta: CheckpointMeta) -> candle_core::Result<Checkpoint> {
        Ok(Checkpoint { meta, weights: crate::params::to_safetensors(&model.varmap)?, optimizer: None })
    }

    /// The same checkpoint with `adam`'s state, for `--resume`.
    pub fn with_optimizer(mut self, adam: &crate::optim::Adam) -> candle_core::Result<Checkpoint> {
        self.optimizer = Some(adam.state_to_safetensors()?);
        Ok(self)
    }

    /// Checks that the checkpoint fits `task`.
    pub fn check(&self, task: &Task) -> Result<(), LoadError> {
        let m = &self.meta;
        let found = Identity { format: m.format, learner: &m.learner, task: &m.task, source_hash: &m.source_hash };
        Ok(found.check(&Identity { format: FORMAT, learner: "seq2seq", task: &task.name, source_hash: &task.source_hash })?)
    }

    /// The model, after [`Checkpoint::check`].
    pub fn load(&self, task: &Task) -> Result<Seq2Seq, LoadError> {
        self.check(task)?;
        self.model()
    }

    /// The model, without checking it against a task.
    pub fn model(&self) -> Result<Seq2Seq, LoadError> {
        if !self.meta.config.is_valid() {
            return Err(LoadError::Config(format!("{:?}", self.meta.config)));
        }
        let varmap = crate::params::from_safetensors(&self.weights, &candle_core::Device::Cpu).map_err(|e| LoadError::Weights(message(&e)))?;
        for (name, var) in crate::params::sorted_vars(&varmap) {
            let values = var.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(|e| LoadError::Weights(message(&e)))?;
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                return Err(LoadError::Weights(format!("`{name}` holds {v}")));
            }
        }
        Seq2Seq::from_varmap(&self.meta.config, varmap).map_err(|e| LoadError::Mismatch(message(&e)))
    }
}
