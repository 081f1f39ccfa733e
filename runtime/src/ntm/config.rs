//! The NTM's two configs: [`NtmConfig`], the machine's shape (which a
//! checkpoint records), and [`TrainConfig`], the training loop's. They come
//! from the `learn` block's shared lines (train sizes, steps, seed), and
//! from `learn ntm { ... }` settings or `--set`; a setting the NTM does not
//! know is refused by name.

use crate::settings::{count, number, positive, BadValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synth_compiler::{LearnSpec, SettingValue};

const MAX_WIDTH: usize = 4096;
const MAX_MEMORY: usize = 1 << 16;

/// The machine's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NtmConfig {
    /// Cell values `0..values` (the tape's values up to its length at the
    /// largest training size, as for the seq2seq baseline; a larger value
    /// reads as the last).
    pub values: u32,
    /// Units of the LSTM controller.
    pub hidden: usize,
    /// Memory locations (more when an episode has more steps).
    pub memory: usize,
    /// Width of a memory word.
    pub width: usize,
    pub controller: Controller,
}

/// The controller network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Controller {
    /// An LSTM: it can remember by itself, as well as in the memory.
    Lstm,
    /// One tanh layer of the input and the read vector: everything it
    /// remembers is in the memory (the NTM paper's feed-forward
    /// controller). The default: with an LSTM the machine learns copy by
    /// remembering in the controller and does not generalise (docs/ntm.md).
    Mlp,
}

impl Controller {
    pub fn name(self) -> &'static str {
        match self {
            Controller::Lstm => "lstm",
            Controller::Mlp => "mlp",
        }
    }
}

impl NtmConfig {
    pub fn is_valid(&self) -> bool {
        (2..1 << 20).contains(&self.values) && (1..=MAX_WIDTH).contains(&self.hidden) && (1..=MAX_MEMORY).contains(&self.memory) && (1..=MAX_WIDTH).contains(&self.width)
    }

    /// A value's token (the last value for one too large).
    pub fn token(&self, v: u32) -> u32 {
        v.min(self.values - 1)
    }
}

/// Settings of the training loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub seed: u64,
    pub train_sizes: Vec<usize>,
    pub steps: u64,
    pub batch: usize,
    pub lr: f64,
    pub clip: f64,
    pub validate_every: u64,
    pub validation_sizes: Vec<usize>,
    pub validation_count: usize,
    pub patience: usize,
    pub give_up: usize,
    /// Seeds trained one after another, the best kept.
    pub seeds: usize,
    /// Converged seeds after which no more are trained (0: all).
    pub enough: usize,
    /// 0: one per physical core.
    pub threads: usize,
}

impl TrainConfig {
    pub fn threads(&self) -> usize {
        crate::settings::threads(self.threads)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("unknown NTM setting `{key}`{}", crate::settings::hint(&known(), key))]
    Unknown { key: String },
    #[error("NTM setting `{key}` must be {expected}, not {found}")]
    BadValue { key: String, expected: &'static str, found: String },
    #[error("the NTM needs `train sizes ...` in the learn block")]
    Empty,
}

impl From<BadValue> for ConfigError {
    fn from(b: BadValue) -> Self {
        ConfigError::BadValue { key: b.key, expected: b.expected, found: b.found }
    }
}

fn known() -> Vec<&'static str> {
    crate::settings::known("ntm")
}

/// The configs for a task of `values` cell values: the `learn` block's
/// shared lines and `settings` (the block's when it is `learn ntm`, and
/// `--set`).
pub fn settings(values: u32, learn: &LearnSpec, settings: &BTreeMap<String, SettingValue>) -> Result<(NtmConfig, TrainConfig), ConfigError> {
    if let Some(k) = crate::settings::unknown(settings, &known()) {
        return Err(ConfigError::Unknown { key: k.clone() });
    }
    let mut model = NtmConfig { values, hidden: 100, memory: 128, width: 20, controller: Controller::Mlp };
    let largest = learn.train_sizes.iter().copied().max().unwrap_or(1);
    let mut cfg = TrainConfig {
        seed: learn.seed.unwrap_or(0),
        train_sizes: learn.train_sizes.clone(),
        steps: learn.steps.unwrap_or(20_000),
        batch: 4,
        lr: 1e-3,
        clip: 10.0,
        validate_every: 1000,
        validation_sizes: vec![largest],
        validation_count: 32,
        patience: 10,
        give_up: 20,
        seeds: 1,
        enough: 1,
        threads: 0,
    };
    for (key, v) in settings {
        match key.as_str() {
            "hidden" => model.hidden = positive(key, v, MAX_WIDTH)?,
            "memory" => model.memory = positive(key, v, MAX_MEMORY)?,
            "width" => model.width = positive(key, v, MAX_WIDTH)?,
            "controller" => {
                model.controller = match v {
                    SettingValue::Word(w) if w == "lstm" => Controller::Lstm,
                    SettingValue::Word(w) if w == "mlp" => Controller::Mlp,
                    _ => return Err(BadValue::new(key, "`lstm` or `mlp`", v).into()),
                }
            }
            "batch" => cfg.batch = positive(key, v, 1 << 16)?,
            "lr" => cfg.lr = number(key, v, 0.0, 10.0)?,
            "clip" => cfg.clip = number(key, v, 0.0, 1e6)?,
            "validate_every" => cfg.validate_every = positive(key, v, usize::MAX)? as u64,
            "validation_sizes" => cfg.validation_sizes = crate::settings::sizes(key, v)?,
            "validation_count" => cfg.validation_count = positive(key, v, 1 << 20)?,
            "patience" => cfg.patience = positive(key, v, usize::MAX)?,
            "give_up" => cfg.give_up = count(key, v)?,
            "seeds" => cfg.seeds = positive(key, v, 1 << 16)?,
            "enough" => cfg.enough = count(key, v)?,
            "threads" => cfg.threads = count(key, v)?,
            _ => unreachable!("checked above"),
        }
    }
    if cfg.train_sizes.is_empty() {
        return Err(ConfigError::Empty);
    }
    Ok((model, cfg))
}
