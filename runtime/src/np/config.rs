//! The Neural Programmer's two configs: [`NpConfig`], the model's shape
//! (columns, vocabulary, steps, sizes), which a checkpoint records, and
//! [`TrainConfig`], the training loop's settings. Both come from a table
//! task's `learn` block (with `--set` applied); every value is checked
//! here, beside the code that uses it, and a setting this learner does not
//! know is refused by name.

use crate::env::TableEnvironment;
use crate::settings::{count, hint, number, positive, show, BadValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synth_compiler::{ColumnKind, LearnSpec, SettingValue};

/// Largest `hidden` and `embedding`.
const MAX_WIDTH: usize = 4096;
/// Largest `timesteps`.
pub const MAX_TIMESTEPS: usize = 64;

/// The model's shape: what a checkpoint's parameters are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NpConfig {
    /// The table's columns in declaration order, with their kinds.
    pub columns: Vec<(String, ColumnKind)>,
    /// The question words the model knows, ids from
    /// [`super::data::FIRST_WORD`] on in this order; every other word reads
    /// as the unknown word.
    pub vocab: Vec<String>,
    /// Steps of the selector (the paper's T).
    pub timesteps: usize,
    /// Units of the question RNN, the selector and the history RNN.
    pub hidden: usize,
    /// Word embedding size.
    pub embedding: usize,
}

impl NpConfig {
    /// Whether the config describes a model that can exist: at least one
    /// column, one step, and sizes within the limits.
    pub fn is_valid(&self) -> bool {
        !self.columns.is_empty()
            && (1..=MAX_TIMESTEPS).contains(&self.timesteps)
            && (1..=MAX_WIDTH).contains(&self.hidden)
            && (1..=MAX_WIDTH).contains(&self.embedding)
            && self.vocab.len() < 1 << 20
    }

    /// Indices of the number columns, then of the word columns.
    pub fn column_kinds(&self) -> (Vec<usize>, Vec<usize>) {
        let of = |k: ColumnKind| self.columns.iter().enumerate().filter(|(_, c)| c.1 == k).map(|(i, _)| i).collect();
        (of(ColumnKind::Number), of(ColumnKind::Word))
    }
}

/// Settings of the training loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The first seed; seed `k` of `seeds` is `seed + k`.
    pub seed: u64,
    /// Seeds trained one after another (`seeds`); the best is kept.
    pub seeds: usize,
    /// Table sizes (rows) of the training questions.
    pub train_sizes: Vec<usize>,
    /// Training questions in all, spread evenly over the sizes
    /// (`questions`): a fixed set, shuffled every epoch.
    pub questions: usize,
    /// Most optimiser steps per seed (`steps`).
    pub steps: u64,
    /// Questions per optimiser step (`batch`).
    pub batch: usize,
    /// Adam's learning rate and epsilon (`lr`, `epsilon`).
    pub lr: f64,
    pub epsilon: f64,
    /// Global gradient-norm cap (`clip`; 0 = none).
    pub clip: f64,
    /// Gradient noise of variance `noise / (1 + step)^noise_decay`, added
    /// after clipping (`noise`; 0 = none).
    pub noise: f64,
    pub noise_decay: f64,
    /// The scalar answers' loss is the Huber loss of the relative error
    /// divided by its delta (`huber`): quadratic below `huber`, slope 1
    /// above.
    pub huber: f64,
    /// Weight of the lookup loss (mean log-loss over cells) against the
    /// scalar one (`lookup_weight`).
    pub lookup_weight: f64,
    /// Weight of the entropy bonus on the operation and column softmaxes at
    /// step 0 (`entropy`), multiplied by `entropy_decay^(step / 1000)`.
    pub entropy: f64,
    pub entropy_decay: f64,
    /// Program search (`search`, `imitate`): every step, up to `search`
    /// of the batch's worst-answered questions whose hard program is wrong
    /// are searched ([`super::search`]); the most likely program that
    /// answers one exactly is remembered, and from then on that question's
    /// loss adds `imitate` times minus its log-likelihood (0 = no search).
    pub search: usize,
    pub imitate: f64,
    /// Validation every this many steps (`validate_every`), on
    /// `validation_count` fixed questions at each of
    /// [`TrainConfig::validation_sizes`].
    pub validate_every: u64,
    pub validation_count: usize,
    /// Stop after this many perfect validations in a row (`patience`).
    pub patience: usize,
    /// Stop after this many validations in a row that do not improve on
    /// the best (`give_up`; 0 = never).
    pub give_up: usize,
    /// Threads sharing every batch (`threads`; 0 = one per core). The
    /// batch is split the same way whatever the count, so threads change
    /// speed, never numbers.
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 0,
            seeds: 1,
            train_sizes: (30..=100).collect(),
            questions: 50_000,
            steps: 30_000,
            batch: 20,
            lr: 1e-3,
            epsilon: 1e-6,
            clip: 1.0,
            noise: 0.0,
            noise_decay: 0.55,
            huber: 0.05,
            lookup_weight: 10.0,
            entropy: 0.0,
            entropy_decay: 0.5,
            search: 2,
            imitate: 1.0,
            validate_every: 500,
            validation_count: 50,
            patience: 3,
            give_up: 0,
            threads: 0,
        }
    }
}

impl TrainConfig {
    /// The threads a batch is split over.
    pub fn threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()).min(8),
            t => t,
        }
    }

    /// The entropy bonus's weight at `step`.
    pub fn entropy_at(&self, step: u64) -> f64 {
        self.entropy * self.entropy_decay.powf(step as f64 / 1000.0)
    }

    /// The standard deviation of the gradient noise at `step`.
    pub fn noise_std_at(&self, step: u64) -> f64 {
        (self.noise / (1.0 + step as f64).powf(self.noise_decay)).sqrt()
    }

    /// The training sizes validation uses: all of them when there are at
    /// most eight, else eight spread evenly from the smallest to the
    /// largest.
    pub fn validation_sizes(&self) -> Vec<usize> {
        let s = &self.train_sizes;
        if s.len() <= 8 {
            return s.clone();
        }
        let mut out: Vec<usize> = (0..8).map(|i| s[i * (s.len() - 1) / 7]).collect();
        out.dedup();
        out
    }
}

/// A `learn` setting the Neural Programmer cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown np setting `{key}`{}", hint(&known(), key))]
    Unknown { key: String },
    #[error("np setting `{key}` expects {expected}, found {found}")]
    BadValue { key: String, expected: &'static str, found: String },
    #[error("no training sizes")]
    NoTrainSizes,
    #[error("the task has no table world: the Neural Programmer learns table questions")]
    NotATable,
}

impl From<BadValue> for ConfigError {
    fn from(b: BadValue) -> ConfigError {
        ConfigError::BadValue { key: b.key, expected: b.expected, found: b.found }
    }
}

/// The setting names the learner takes (`timesteps` among them, which the
/// compiler resolves into the task).
fn known() -> Vec<&'static str> {
    crate::settings::known("np")
}

impl TrainConfig {
    /// Applies the training settings among `settings`; other keys are left
    /// alone.
    pub fn apply(&mut self, settings: &BTreeMap<String, SettingValue>) -> Result<(), ConfigError> {
        for (key, v) in settings {
            let k = key.as_str();
            match k {
                "questions" => self.questions = positive(k, v, 10_000_000)?,
                "seeds" => self.seeds = positive(k, v, 1 << 16)?,
                "batch" => self.batch = positive(k, v, 1 << 16)?,
                "lr" => self.lr = number(k, v, 1e-9, 10.0)?,
                "epsilon" => self.epsilon = number(k, v, 1e-12, 1.0)?,
                "clip" => self.clip = number(k, v, 0.0, 1e9)?,
                "noise" => self.noise = number(k, v, 0.0, 1e6)?,
                "noise_decay" => self.noise_decay = number(k, v, 0.0, 10.0)?,
                "huber" => self.huber = number(k, v, 1e-6, 1e9)?,
                "lookup_weight" => self.lookup_weight = number(k, v, 0.0, 1e9)?,
                "entropy" => self.entropy = number(k, v, 0.0, 1e6)?,
                "entropy_decay" => self.entropy_decay = number(k, v, 0.0, 1.0)?,
                "search" => self.search = count(k, v)?,
                "imitate" => self.imitate = number(k, v, 0.0, 1e6)?,
                "validate_every" => self.validate_every = positive(k, v, usize::MAX)? as u64,
                "validation_count" => self.validation_count = positive(k, v, 1 << 20)?,
                "patience" => self.patience = positive(k, v, usize::MAX)?,
                "give_up" => self.give_up = count(k, v)?,
                "threads" => self.threads = count(k, v)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// The model's width settings and the training config of `learn` (a
/// task's `learn` block, with any `--set` applied), refusing settings the
/// learner does not know. The vocabulary is left empty: training fills it
/// from the training questions.
pub fn settings<E: TableEnvironment + ?Sized>(env: &E, learn: &LearnSpec) -> Result<(NpConfig, TrainConfig), ConfigError> {
    if let Some(k) = crate::settings::unknown(&learn.settings, &known()) {
        return Err(ConfigError::Unknown { key: k.clone() });
    }
    let columns = env.columns();
    if columns.is_empty() {
        return Err(ConfigError::NotATable);
    }
    let mut model = NpConfig { columns, vocab: Vec::new(), timesteps: env.timesteps().clamp(1, MAX_TIMESTEPS), hidden: 64, embedding: 64 };
    for (key, v) in &learn.settings {
        let k = key.as_str();
        match k {
            "hidden" => model.hidden = positive(k, v, MAX_WIDTH)?,
            "embedding" => model.embedding = positive(k, v, MAX_WIDTH)?,
            // The compiler resolved it into the task's timesteps.
            "timesteps" => {
                if !matches!(v, SettingValue::Int(_)) {
                    return Err(ConfigError::BadValue { key: key.clone(), expected: "a positive integer", found: show(v) });
                }
            }
            _ => {}
        }
    }
    let mut train = TrainConfig::default();
    if !learn.train_sizes.is_empty() {
        let mut sizes = learn.train_sizes.clone();
        sizes.sort_unstable();
        sizes.dedup();
        train.train_sizes = sizes;
    }
    if let Some(s) = learn.steps {
        train.steps = s;
    }
    if let Some(s) = learn.seed {
        train.seed = s;
    }
    train.apply(&learn.settings)?;
    if train.train_sizes.is_empty() {
        return Err(ConfigError::NoTrainSizes);
    }
    Ok((model, train))
}
