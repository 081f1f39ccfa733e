//! NPI hyper-parameters: the model's sizes ([`NpiConfig`]) and the training
//! loop's settings ([`TrainConfig`]), both filled from a task's `learn`
//! block by [`settings`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use crate::settings::{count, hint, number, positive, show, BadValue};
use super::sample::Sampling;
use synth_compiler::{LearnSpec, SettingValue};

/// How the program embedding and the encoded state become the core's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fuse {
    /// The paper's: concatenate, then an MLP with a ReLU hidden layer of
    /// `fuse_hidden` units. Its linear decoder is folded into the first LSTM
    /// layer's input projection (two linear maps in a row are one).
    Mlp,
    /// Concatenate and feed the LSTM directly.
    Concat,
}

/// What the encoder of a program's steps sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observe {
    /// The whole observation, for every program (the paper's).
    #[default]
    All,
    /// Only the observation features the program's decisions are computed
    /// from, as the compiler reads them off the operation graph: a program
    /// then cannot tell apart situations its reference treats alike (a
    /// digit column at the row's edge and one in the middle), and needs far
    /// fewer traces to have seen every case.
    Decisions,
}

/// How the encoder sees an observation's image (pose worlds; no effect in a
/// world without one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vision {
    /// The raw pixels are columns of the encoder's first layer (an MLP on
    /// the pixels).
    #[default]
    Pixels,
    /// A small CNN in front of the encoder, as the NPI paper's car domain
    /// has: two 3x3 convolutions of stride 2 and padding 1 (1 -> 8 -> 16
    /// channels, each with a ReLU), whose `16 * ceil(side / 4)^2` features
    /// take the pixels' place in the encoder input.
    Cnn,
}

/// The sizes of an NPI model. Defaults follow the paper (core LSTM 2 x 256)
/// and, where the paper is silent, the f1sherb0y PyTorch peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NpiConfig {
    /// Units per core LSTM layer (`hidden`).
    pub hidden: usize,
    /// Core LSTM layers (`layers`).
    pub layers: usize,
    /// Program embedding size P (`embedding`).
    pub embedding: usize,
    /// Program key size K (`key`).
    pub key: usize,
    /// Hidden units of the encoder MLP (`encoder`).
    pub encoder: usize,
    /// Size D of the encoded state (`state`).
    pub state: usize,
    /// `fuse mlp` or `fuse concat`.
    pub fuse: Fuse,
    /// Hidden units of the fuse MLP (`fuse_hidden`).
    pub fuse_hidden: usize,
    /// What each program's encoder input keeps (`observe`).
    #[serde(default)]
    pub observe: Observe,
    /// How the encoder sees an image (`vision`); a config written before
    /// this setting reads as [`Vision::Pixels`].
    #[serde(default)]
    pub vision: Vision,
}

impl Default for NpiConfig {
    fn default() -> Self {
        NpiConfig { hidden: 256, layers: 2, embedding: 64, key: 32, encoder: 128, state: 128, fuse: Fuse::Mlp, fuse_hidden: 256, observe: Observe::All, vision: Vision::Pixels }
    }
}

/// How training frames are sampled.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Curriculum {
    /// Every training frame equally often.
    Uniform,
    /// The paper's, plus hard-frame replay. A program is drawn with
    /// probability softmax(error / temperature) over the programs' current
    /// frame error rates (re-estimated every `every` steps), mixed with
    /// `floor` of the uniform-over-frames distribution so nothing is
    /// forgotten; then one of its frames uniformly. In addition, a share
    /// `hard` of every batch is drawn from the frames the model got wrong the
    /// last time it saw them (a rare digit pair, a long loop), which the
    /// per-program weights alone do not single out.
    Adaptive { temperature: f64, every: u64, floor: f64, hard: f64 },
}

/// Settings of the training loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub seed: u64,
    /// Input sizes of the training traces.
    pub train_sizes: Vec<usize>,
    /// Training traces in all, spread evenly over `train_sizes`.
    pub traces: usize,
    /// How the training inputs are drawn (`sampling`).
    #[serde(default)]
    pub sampling: Sampling,
    /// Most optimiser steps (`steps`).
    pub steps: u64,
    /// Frames per optimiser step (`batch`).
    pub batch: usize,
    /// Adam learning rate (`lr`).
    pub lr: f64,
    /// The rate is multiplied by `lr_decay` every `lr_decay_every` steps.
    pub lr_decay: f64,
    pub lr_decay_every: u64,
    /// Global gradient-norm cap (`clip`; 0 = none).
    pub clip: f64,
    pub curriculum: Curriculum,
    /// Closed-loop validation every this many steps (`validate_every`).
    pub validate_every: u64,
    /// Input sizes of the validation runs (`validation_sizes`). Default: the
    /// largest training size, then 2 and 4 times it while the validation
    /// budget lasts.
    pub validation_sizes: Vec<usize>,
    /// Validation inputs per size (`validation_count`).
    pub validation_count: usize,
    /// Most reference steps in one validation, when the sizes are the
    /// default (`validation_budget`): a task whose runs grow fast with the
    /// size (bubble sort) validates on fewer and smaller inputs.
    pub validation_budget: usize,
    /// Stop after this many perfect validations in a row (`patience`).
    pub patience: usize,
    /// Halve the learning rate after this many validations in a row that do
    /// not improve on the best (`plateau`; 0 = never).
    pub plateau: usize,
    /// Stop after this many validations in a row that score no more
    /// closed-loop exact matches than the best before them (`give_up`;
    /// 0 = never). A perfect validation counts as progress.
    pub give_up: usize,
    /// Worker threads for the LSTM and GEMMs (`threads`; 0 = one per
    /// physical core).
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 0,
            train_sizes: (1..=10).collect(),
            traces: 64,
            sampling: Sampling::Random,
            steps: 20_000,
            batch: 64,
            lr: 1e-3,
            lr_decay: 0.95,
            lr_decay_every: 1_000,
            clip: 1.0,
            curriculum: Curriculum::Adaptive { temperature: 0.1, every: 100, floor: 0.5, hard: 0.25 },
            validate_every: 200,
            validation_sizes: Vec::new(),
            validation_count: 16,
            validation_budget: 40_000,
            patience: 3,
            plateau: 5,
            give_up: 25,
            threads: 0,
        }
    }
}

impl TrainConfig {
    /// The sizes to validate on when none are set: the largest training
    /// size and 2 and 4 times it.
    pub fn default_validation_sizes(&self) -> Vec<usize> {
        let top = self.train_sizes.iter().copied().max().unwrap_or(1);
        vec![top, 2 * top, 4 * top]
    }

    /// The thread count to use.
    pub fn threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            crate::settings::cores()
        }
    }
}

/// A `learn` setting the NPI learner cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown npi setting `{key}`{}", hint(&known(), key))]
    Unknown { key: String },
    #[error("npi setting `{key}` expects {expected}, found {found}")]
    BadValue { key: String, expected: &'static str, found: String },
}

impl From<BadValue> for ConfigError {
    fn from(b: BadValue) -> ConfigError {
        ConfigError::BadValue { key: b.key, expected: b.expected, found: b.found }
    }
}

/// The setting names NPI takes.
fn known() -> Vec<&'static str> {
    crate::settings::known("npi")
}





impl NpiConfig {
    /// Every size is at least 1 (a checkpoint's config comes from a file).
    pub fn is_valid(&self) -> bool {
        [self.hidden, self.layers, self.embedding, self.key, self.encoder, self.state, self.fuse_hidden].iter().all(|&x| (1..=1 << 16).contains(&x))
    }

    /// Applies the model settings among `settings` (`hidden 128`, `fuse
    /// concat`, ...); other keys are left alone.
    pub fn apply(&mut self, settings: &BTreeMap<String, SettingValue>) -> Result<(), ConfigError> {
        for (key, v) in settings {
            let k = key.as_str();
            match k {
                "hidden" => self.hidden = positive(k, v, usize::MAX)?,
                "layers" => self.layers = positive(k, v, usize::MAX)?,
                "embedding" => self.embedding = positive(k, v, usize::MAX)?,
                "key" => self.key = positive(k, v, usize::MAX)?,
                "encoder" => self.encoder = positive(k, v, usize::MAX)?,
                "state" => self.state = positive(k, v, usize::MAX)?,
                "fuse_hidden" => self.fuse_hidden = positive(k, v, usize::MAX)?,
                "observe" => {
                    self.observe = match v {
                        SettingValue::Word(w) if w == "all" => Observe::All,
                        SettingValue::Word(w) if w == "decisions" => Observe::Decisions,
                        _ => return Err(ConfigError::BadValue { key: key.clone(), expected: "`all` or `decisions`", found: show(v) }),
                    }
                }
                "vision" => {
                    self.vision = match v {
                        SettingValue::Word(w) if w == "pixels" => Vision::Pixels,
                        SettingValue::Word(w) if w == "cnn" => Vision::Cnn,
                        _ => return Err(ConfigError::BadValue { key: key.clone(), expected: "`pixels` or `cnn`", found: show(v) }),
                    }
                }
                "fuse" => {
                    self.fuse = match v {
                        SettingValue::Word(w) if w == "mlp" => Fuse::Mlp,
                        SettingValue::Word(w) if w == "concat" => Fuse::Concat,
                        _ => return Err(ConfigError::BadValue { key: key.clone(), expected: "`mlp` or `concat`", found: show(v) }),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl TrainConfig {
    /// The training settings of a `learn` block: sizes, traces, steps and
    /// seed from its fields, the rest from its settings.
    pub fn from_learn(learn: &LearnSpec) -> Result<TrainConfig, ConfigError> {
        let mut c = TrainConfig::default();
        if !learn.train_sizes.is_empty() {
            c.train_sizes = learn.train_sizes.clone();
        }
        if learn.traces > 0 {
            c.traces = learn.traces;
        }
        if let Some(s) = learn.steps {
            c.steps = s;
        }
        if let Some(s) = learn.seed {
            c.seed = s;
        }
        c.apply(&learn.settings)?;
        Ok(c)
    }

    /// Applies the training settings among `settings`; other keys are left
    /// alone.
    pub fn apply(&mut self, settings: &BTreeMap<String, SettingValue>) -> Result<(), ConfigError> {
        for (key, v) in settings {
            let k = key.as_str();
            match k {
                "batch" => self.batch = positive(k, v, usize::MAX)?,
                "lr" => self.lr = number(k, v, 1e-9, 10.0)?,
                "lr_decay" => self.lr_decay = number(k, v, 0.0, 1.0)?,
                "lr_decay_every" => self.lr_decay_every = positive(k, v, usize::MAX)? as u64,
                "clip" => self.clip = number(k, v, 0.0, 1e9)?,
                "validate_every" => self.validate_every = positive(k, v, usize::MAX)? as u64,
                "validation_count" => self.validation_count = positive(k, v, usize::MAX)?,
                "validation_budget" => self.validation_budget = positive(k, v, usize::MAX)?,
                "patience" => self.patience = positive(k, v, usize::MAX)?,
                "plateau" => self.plateau = count(k, v)?,
                "give_up" => self.give_up = count(k, v)?,
                "threads" => self.threads = count(k, v)?,
                "validation_sizes" => match v {
                    SettingValue::List(l) if !l.is_empty() && l.iter().all(|&x| x > 0) => self.validation_sizes = l.iter().map(|&x| x as usize).collect(),
                    SettingValue::Int(x) if *x > 0 => self.validation_sizes = vec![*x as usize],
                    _ => return Err(ConfigError::BadValue { key: key.clone(), expected: "a list of positive sizes", found: show(v) }),
                },
                "sampling" => {
                    self.sampling = match v {
                        SettingValue::Word(w) if w == "random" => Sampling::Random,
                        SettingValue::Word(w) if w == "coverage" => Sampling::Coverage,
                        _ => return Err(ConfigError::BadValue { key: key.clone(), expected: "`random` or `coverage`", found: show(v) }),
                    }
                }
                "curriculum" => {
                    self.curriculum = match v {
                        SettingValue::Word(w) if w == "uniform" => Curriculum::Uniform,
                        SettingValue::Word(w) if w == "adaptive" => match self.curriculum {
                            Curriculum::Adaptive { .. } => self.curriculum,
                            Curriculum::Uniform => TrainConfig::default().curriculum,
                        },
                        _ => return Err(ConfigError::BadValue { key: key.clone(), expected: "`adaptive` or `uniform`", found: show(v) }),
                    }
                }
                "temperature" => {
                    let t = number(k, v, 1e-6, 1e6)?;
                    if let Curriculum::Adaptive { temperature, .. } = &mut self.curriculum {
                        *temperature = t;
                    }
                }
                "hard" => {
                    let h = number(k, v, 0.0, 1.0)?;
                    if let Curriculum::Adaptive { hard, .. } = &mut self.curriculum {
                        *hard = h;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Both configs from a `learn` block, refusing settings neither knows.
pub fn settings(learn: &LearnSpec) -> Result<(NpiConfig, TrainConfig), ConfigError> {
    if let Some(k) = crate::settings::unknown(&learn.settings, &known()) {
        return Err(ConfigError::Unknown { key: k.clone() });
    }
    let mut model = NpiConfig::default();
    model.apply(&learn.settings)?;
    Ok((model, TrainConfig::from_learn(learn)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learn(pairs: &[(&str, SettingValue)]) -> LearnSpec {
        LearnSpec {
            learner: "npi".into(),
            train_sizes: vec![1, 2, 3],
            traces: 30,
            test_sizes: vec![10],
            steps: Some(500),
            time: None,
            seed: Some(4),
            settings: pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        }
    }

    #[test]
    fn settings_map_onto_configs() {
        let (m, t) = settings(&learn(&[
            ("hidden", SettingValue::Int(128)),
            ("fuse", SettingValue::Word("concat".into())),
            ("lr", SettingValue::Float(3e-4)),
            ("curriculum", SettingValue::Word("uniform".into())),
            ("plateau", SettingValue::Int(0)),
            ("give_up", SettingValue::Int(7)),
        ]))
        .unwrap();
        assert_eq!((t.plateau, t.give_up), (0, 7));
        assert_eq!((m.hidden, m.fuse, m.layers), (128, Fuse::Concat, 2));
        assert_eq!((t.lr, t.curriculum, t.steps, t.seed, t.traces), (3e-4, Curriculum::Uniform, 500, 4, 30));
        assert_eq!(t.default_validation_sizes(), vec![3, 6, 12]);
    }

    /// Every setting the catalogue lists for NPI changes a config: the two
    /// lists cannot drift apart.
    #[test]
    fn every_catalogue_setting_is_applied() {
        use synth_compiler::learners::{self, ValueKind};
        let npi = learners::lookup("npi").expect("npi is in the catalogue");
        let defaults = settings(&learn(&[])).unwrap();
        for s in npi.settings {
            let v = match s.kind {
                ValueKind::Positive | ValueKind::Count => SettingValue::Int(7),
                ValueKind::Number => SettingValue::Float(0.5),
                ValueKind::Word(words) => SettingValue::Word(words[words.len() - 1].to_string()),
                ValueKind::Sizes => SettingValue::List(vec![7]),
                // NRAM's kinds; no NPI setting has them.
                ValueKind::Words { .. } | ValueKind::Expr | ValueKind::Text => unreachable!("`{}` has an NRAM kind", s.name),
            };
            let set = settings(&learn(&[(s.name, v)])).unwrap_or_else(|e| panic!("{}: {e}", s.name));
            assert_ne!(set, defaults, "`{}` changes nothing", s.name);
        }
    }

    /// `vision` takes `pixels` (the default) or `cnn`, and nothing else.
    #[test]
    fn vision_is_pixels_or_cnn() {
        assert_eq!(settings(&learn(&[])).unwrap().0.vision, Vision::Pixels);
        let (m, _) = settings(&learn(&[("vision", SettingValue::Word("cnn".into()))])).unwrap();
        assert_eq!(m.vision, Vision::Cnn);
        let e = settings(&learn(&[("vision", SettingValue::Word("conv".into()))])).unwrap_err();
        assert_eq!(e.to_string(), "npi setting `vision` expects `pixels` or `cnn`, found `conv`");
        let e = settings(&learn(&[("visoin", SettingValue::Word("cnn".into()))])).unwrap_err();
        assert_eq!(e.to_string(), "unknown npi setting `visoin` (did you mean `vision`?)");
    }

    /// A config written before `vision` (a checkpoint's) reads as pixels,
    /// and one with it reads back.
    #[test]
    fn a_config_without_vision_reads_as_pixels() {
        let old = r#"{"hidden":256,"layers":2,"embedding":64,"key":32,"encoder":128,"state":128,"fuse":"mlp","fuse_hidden":256,"observe":"all"}"#;
        assert_eq!(serde_json::from_str::<NpiConfig>(old).unwrap(), NpiConfig::default());
        let cnn = NpiConfig { vision: Vision::Cnn, ..NpiConfig::default() };
        let text = serde_json::to_string(&cnn).unwrap();
        assert!(text.ends_with(r#","vision":"cnn"}"#), "{text}");
        assert_eq!(serde_json::from_str::<NpiConfig>(&text).unwrap(), cnn);
    }

    #[test]
    fn bad_settings_are_refused_with_a_hint() {
        let e = settings(&learn(&[("hiden", SettingValue::Int(12))])).unwrap_err();
        assert_eq!(e.to_string(), "unknown npi setting `hiden` (did you mean `hidden`?)");
        let e = settings(&learn(&[("hidden", SettingValue::Float(1.5))])).unwrap_err();
        assert_eq!(e.to_string(), "npi setting `hidden` expects a positive integer, found 1.5");
    }
}
