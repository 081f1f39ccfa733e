//! The seq2seq baseline's two configs: [`Seq2SeqConfig`], the model's
//! shape (which a checkpoint records), and [`TrainConfig`], the training
//! loop's. Both come from the `learn` block's shared lines (train sizes,
//! traces, steps, seed) and the seq2seq settings given with `--set`; a
//! setting this learner does not know is refused by name.

use crate::settings::{count, hint, number, positive, BadValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synth_compiler::{LearnSpec, SettingValue};

/// Largest `hidden` and `embedding`.
const MAX_WIDTH: usize = 4096;
/// Largest `layers`.
const MAX_LAYERS: usize = 4;

/// The settings seq2seq takes, with what they mean.
pub const SETTINGS: &[(&str, &str)] = &[
    ("hidden", "units of every LSTM layer (the NPI paper's baseline: 256)"),
    ("layers", "LSTM layers of the encoder and of the decoder (the paper's: 2)"),
    ("embedding", "token embedding size"),
    ("attention", "`none`, or `dot`: each output step attends over the encoder's states (Luong et al. 2015)"),
    ("batch", "examples per optimiser step"),
    ("lr", "Adam learning rate"),
    ("clip", "global gradient-norm cap (0: none)"),
    ("validate_every", "steps between two validations"),
    ("validation_sizes", "input sizes of the validation runs (default: the largest training size)"),
    ("validation_count", "validation inputs per size"),
    ("patience", "perfect validations in a row that end training"),
    ("give_up", "validations in a row without more exact outputs than the best before training stops (0: never)"),
    ("threads", "training threads (0: one per physical core)"),
];

/// The model's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2SeqConfig {
    /// Cell-value tokens `0..values`: on a pad the digits and blank (the
    /// last); on a tape the values up to the largest training tape's
    /// length, the last standing for itself and every larger value.
    pub values: u32,
    pub hidden: usize,
    pub layers: usize,
    pub embedding: usize,
    /// Dot-product attention over the encoder's top-layer states at every
    /// output step.
    #[serde(default)]
    pub attention: bool,
    /// A table task's words, sorted: token `i` is `words[i]`, and `values`
    /// is their number ([`super::data::vocabulary`]). Empty for other
    /// worlds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
}

impl Seq2SeqConfig {
    /// Tokens: the cell values, the end of a row, and the decoder's start.
    pub fn vocab(&self) -> usize {
        self.values as usize + 2
    }

    pub fn row_end(&self) -> u32 {
        self.values
    }

    pub fn go(&self) -> u32 {
        self.values + 1
    }

    /// A cell value's token (the last value token for one too large).
    pub fn token(&self, v: u32) -> u32 {
        v.min(self.values - 1)
    }

    /// A word's token (a table task's), or the unknown word's.
    pub fn word(&self, w: &str) -> u32 {
        let find = |w: &str| self.words.binary_search_by(|x| x.as_str().cmp(w)).ok();
        find(w).or_else(|| find(super::data::UNKNOWN)).expect("the words hold the unknown word") as u32
    }

    /// A table task's decoded `tokens` as words, up to the first row-end
    /// (`?` for a token that is no word).
    pub fn words_of(&self, tokens: &[u32]) -> Vec<&str> {
        tokens.iter().take_while(|&&t| t != self.row_end()).map(|&t| self.words.get(t as usize).map_or("?", String::as_str)).collect()
    }

    /// Whether the config describes a model that can exist.
    pub fn is_valid(&self) -> bool {
        (2..1 << 20).contains(&self.values)
            && (self.words.is_empty() || (self.words.len() == self.values as usize && self.words.is_sorted() && self.words.iter().any(|w| w == super::data::UNKNOWN)))
            && (1..=MAX_WIDTH).contains(&self.hidden) && (1..=MAX_LAYERS).contains(&self.layers) && (1..=MAX_WIDTH).contains(&self.embedding)
    }
}

/// Settings of the training loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub seed: u64,
    pub train_sizes: Vec<usize>,
    /// Training examples in all, spread over the sizes (the `learn`
    /// block's `traces`): a fixed set, shuffled every epoch.
    pub examples: usize,
    pub steps: u64,
    pub batch: usize,
    pub lr: f64,
    pub clip: f64,
    pub validate_every: u64,
    pub validation_sizes: Vec<usize>,
    pub validation_count: usize,
    pub patience: usize,
    pub give_up: usize,
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
    #[error("unknown seq2seq setting `{key}`{}", hint(&known(), key))]
    Unknown { key: String },
    #[error("seq2seq setting `{key}` must be {expected}, not {found}")]
    BadValue { key: String, expected: &'static str, found: String },
    #[error("seq2seq needs `train sizes ...` and at least one trace in the learn block")]
    Empty,
}

impl From<BadValue> for ConfigError {
    fn from(b: BadValue) -> Self {
        ConfigError::BadValue { key: b.key, expected: b.expected, found: b.found }
    }
}

fn known() -> Vec<&'static str> {
    SETTINGS.iter().map(|(k, _)| *k).collect()
}

/// Applies `key` when it is one of the model's own settings (`hidden`,
/// `layers`, `embedding`, `attention`), which every user of the model
/// (`synth learn --learner seq2seq`, `synth lte`) reads alike; false for
/// any other key.
pub fn model_setting(model: &mut Seq2SeqConfig, key: &str, v: &SettingValue) -> Result<bool, BadValue> {
    match key {
        "hidden" => model.hidden = positive(key, v, MAX_WIDTH)?,
        "layers" => model.layers = positive(key, v, MAX_LAYERS)?,
        "embedding" => model.embedding = positive(key, v, MAX_WIDTH)?,
        "attention" => {
            model.attention = match v {
                SettingValue::Word(w) if w == "dot" => true,
                SettingValue::Word(w) if w == "none" => false,
                _ => return Err(BadValue::new(key, "`none` or `dot`", v)),
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The configs for a task of `values` cell values ([`super::data::values`]): the `learn` block's shared lines
/// and `settings` (the `--set` values; the block's own settings belong to
/// its learner).
pub fn settings(values: u32, learn: &LearnSpec, settings: &BTreeMap<String, SettingValue>) -> Result<(Seq2SeqConfig, TrainConfig), ConfigError> {
    if let Some(k) = crate::settings::unknown(settings, &known()) {
        return Err(ConfigError::Unknown { key: k.clone() });
    }
    let mut model = Seq2SeqConfig { values, hidden: 256, layers: 2, embedding: 32, attention: false, words: Vec::new() };
    let largest = learn.train_sizes.iter().copied().max().unwrap_or(1);
    let mut cfg = TrainConfig {
        seed: learn.seed.unwrap_or(0),
        train_sizes: learn.train_sizes.clone(),
        examples: learn.traces,
        steps: learn.steps.unwrap_or(20_000),
        batch: 64,
        lr: 1e-3,
        clip: 5.0,
        validate_every: 500,
        validation_sizes: vec![largest],
        validation_count: 32,
        patience: 1,
        give_up: 10,
        threads: 0,
    };
    for (key, v) in settings {
        if model_setting(&mut model, key, v)? {
            continue;
        }
        match key.as_str() {
            "batch" => cfg.batch = positive(key, v, 1 << 20)?,
            "lr" => cfg.lr = number(key, v, 0.0, 10.0)?,
            "clip" => cfg.clip = number(key, v, 0.0, 1e6)?,
            "validate_every" => cfg.validate_every = positive(key, v, usize::MAX)? as u64,
            "validation_sizes" => cfg.validation_sizes = crate::settings::sizes(key, v)?,
            "validation_count" => cfg.validation_count = positive(key, v, 1 << 20)?,
            "patience" => cfg.patience = positive(key, v, usize::MAX)?,
            "give_up" => cfg.give_up = count(key, v)?,
            "threads" => cfg.threads = count(key, v)?,
            _ => unreachable!("checked above"),
        }
    }
    if cfg.train_sizes.is_empty() || cfg.examples == 0 {
        return Err(ConfigError::Empty);
    }
    Ok((model, cfg))
}
