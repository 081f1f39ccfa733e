//! A trained NTM: metadata plus its parameters as safetensors, tied to its
//! task (name and source hash).

use super::config::NtmConfig;
use super::eval::SizeScore;
use super::model::{Layout, Ntm};
use crate::identity::{Identity, IdentityError};
use serde::{Deserialize, Serialize};
use synth_compiler::Task;

pub const FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: u32,
    pub learner: String,
    pub task: String,
    pub source_hash: String,
    pub config: NtmConfig,
    pub seed: u64,
    /// The run's first seed, from which its validation inputs are drawn
    /// (a resumed run validates on the same ones).
    pub run_seed: u64,
    pub train_sizes: Vec<usize>,
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
}

impl Checkpoint {
    /// Whether this checkpoint ranks before another of the same run:
    /// converged first, then more exact validation outputs, then more
    /// right cells, then a lower training loss since the last validation
    /// (smaller is better). The loss decides between perfect validations:
    /// training on after the first one sharpens the heads, which is what
    /// carries a machine past its training lengths.
    pub fn rank(&self) -> (bool, usize, usize, u64) {
        let v = &self.meta.validation;
        // A non-negative finite f64's bits order as its values do.
        let loss = if self.meta.loss.is_finite() && self.meta.loss >= 0.0 { self.meta.loss.to_bits() } else { u64::MAX };
        (!self.meta.converged, usize::MAX - v.iter().map(|s| s.exact).sum::<usize>(), usize::MAX - v.iter().map(|s| s.cells_right).sum::<usize>(), loss)
    }

    pub fn save(ntm: &Ntm, meta: CheckpointMeta) -> Checkpoint {
        let weights = crate::params::write_flat(&ntm.params, &ntm.layout.tensors());
        Checkpoint { meta, weights, optimizer: None }
    }

    /// The same checkpoint with `adam`'s state, for `--resume`.
    pub fn with_optimizer(mut self, adam: &crate::optim::FlatAdam) -> Checkpoint {
        self.optimizer = Some(adam.state_to_safetensors());
        self
    }

    /// Checks that the checkpoint fits `task`.
    pub fn check(&self, task: &Task) -> Result<(), LoadError> {
        let m = &self.meta;
        let found = Identity { format: m.format, learner: &m.learner, task: &m.task, source_hash: &m.source_hash };
        Ok(found.check(&Identity { format: FORMAT, learner: "ntm", task: &task.name, source_hash: &task.source_hash })?)
    }

    /// The machine, after [`Checkpoint::check`].
    pub fn load(&self, task: &Task) -> Result<Ntm, LoadError> {
        self.check(task)?;
        self.model()
    }

    /// The machine, without checking it against a task.
    pub fn model(&self) -> Result<Ntm, LoadError> {
        let c = &self.meta.config;
        if !c.is_valid() {
            return Err(LoadError::Config(format!("{c:?}")));
        }
        let layout = Layout::new(c);
        let params = crate::params::read_flat(&self.weights, &layout.tensors(), layout.len).map_err(|e| match e {
            crate::params::FlatError::Weights(m) | crate::params::FlatError::Mismatch(m) => LoadError::Weights(m),
        })?;
        Ntm::from_params(c, params).ok_or_else(|| LoadError::Weights("the weights do not fit the config".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let config = NtmConfig { values: 6, hidden: 5, memory: 8, width: 3, controller: crate::ntm::config::Controller::Mlp };
        let ntm = Ntm::new(&config, 4);
        let meta = CheckpointMeta {
            format: FORMAT,
            learner: "ntm".into(),
            task: "t".into(),
            source_hash: "h".into(),
            config: config.clone(),
            seed: 0,
            run_seed: 0,
            train_sizes: vec![1],
            step: 1,
            loss: 0.0,
            validation: Vec::new(),
            converged: false,
        };
        let c = Checkpoint::save(&ntm, meta);
        assert_eq!(c.model().unwrap(), ntm);
        let bad = Checkpoint { weights: b"not safetensors".to_vec(), ..c.clone() };
        assert!(matches!(bad.model(), Err(LoadError::Weights(_))));
        let mut other = c.clone();
        other.meta.config.hidden = 7;
        assert!(matches!(other.model(), Err(LoadError::Weights(_))));
        other.meta.config.width = 0;
        assert!(matches!(other.model(), Err(LoadError::Config(_))));
    }
}
