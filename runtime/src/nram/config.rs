//! NRAM hyper-parameters: the machine's shape ([`NramConfig`]) and the
//! training loop's settings ([`TrainConfig`]), both filled from a task's
//! `learn` block by [`settings`]. docs/nram.md says what each one means.

use super::module::Module;
use crate::env::TapeEnvironment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use crate::settings::{count, hint, number, positive, show, BadValue};
use synth_compiler::{LearnSpec, SettingValue};

/// The controller network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Controller {
    /// Two hidden layers of `hidden` ReLU units, then one linear layer to
    /// every logit of the timestep.
    Mlp,
    /// One hidden layer of `hidden` ReLU units, then an LSTM layer of
    /// `hidden` cells that carries its state from timestep to timestep,
    /// then one linear layer to every logit.
    Lstm,
}

impl Controller {
    /// Its name in a `learn` block.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Mlp => "mlp",
            Controller::Lstm => "lstm",
        }
    }
}

/// The shape of an NRAM: registers, the circuit's modules, the controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NramConfig {
    /// Registers `R` (`registers`).
    pub registers: usize,
    /// The circuit's modules in order (`modules`); the paper's fourteen by
    /// default.
    pub modules: Vec<Module>,
    /// `controller mlp`.
    pub controller: Controller,
    /// Units per hidden layer of the controller (`hidden`).
    pub hidden: usize,
}

impl Default for NramConfig {
    fn default() -> Self {
        NramConfig { registers: 4, modules: Module::PAPER.to_vec(), controller: Controller::Mlp, hidden: 64 }
    }
}

/// Largest register count, module count and hidden width a config may
/// have: far above any useful machine, low enough that a corrupt
/// checkpoint's config cannot ask for an absurd allocation.
pub const MAX_REGISTERS: usize = 64;
pub const MAX_MODULES: usize = 64;
pub const MAX_HIDDEN: usize = 4096;

impl NramConfig {
    /// Whether every size is in range and there is at least one module
    /// (a checkpoint's config comes from a file).
    pub fn is_valid(&self) -> bool {
        (1..=MAX_REGISTERS).contains(&self.registers) && (1..=MAX_MODULES).contains(&self.modules.len()) && (1..=MAX_HIDDEN).contains(&self.hidden)
    }

    /// The module names, comma-separated.
    pub fn module_names(&self) -> String {
        self.modules.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
    }
}

/// Settings of the training loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The first seed; seed `k` of `seeds` is `seed + k`.
    pub seed: u64,
    /// Seeds trained (`seeds`); the best is kept.
    pub seeds: usize,
    /// Input sizes to train on, ascending: the curriculum's levels.
    pub train_sizes: Vec<usize>,
    /// Most optimiser steps per seed (`steps`).
    pub steps: u64,
    /// Examples per optimiser step (`batch`).
    pub batch: usize,
    /// Adam learning rate (`lr`).
    pub lr: f64,
    /// Global gradient-norm cap (`clip`; 0 = none).
    pub clip: f64,
    /// Elementwise cap on the gradient of every activation (registers,
    /// memory, module outputs) as it flows back (`clip_activations`;
    /// 0 = none).
    pub clip_activations: f64,
    /// Gradient noise: Gaussian of variance `noise / (1 + step)^0.55`
    /// (`noise`; 0 = none).
    pub noise: f64,
    /// Entropy bonus weight (`entropy`), multiplied by
    /// `entropy_decay^(step / 1000)`.
    pub entropy: f64,
    pub entropy_decay: f64,
    /// The curriculum level rises when the validation error at it is below
    /// this (`curriculum_threshold`).
    pub curriculum_threshold: f64,
    /// At most one rise every this many steps (`curriculum_gap`).
    pub curriculum_gap: u64,
    /// Validation every this many steps (`validate_every`).
    pub validate_every: u64,
    /// Validation examples per training size (`validation_count`).
    pub validation_count: usize,
    /// Stop after this many validations in a row at error 0 on the last
    /// level (`patience`).
    pub patience: usize,
    /// Stop after this many validations in a row that do not improve on
    /// the best (`give_up`; 0 = never).
    pub give_up: usize,
    /// Once this many seeds converged, the others stop and seeds not yet
    /// started are skipped (`enough`; 0 = train every seed to its end, as
    /// a count of seeds converged out of K needs).
    pub enough: usize,
    /// Seeds trained at once (`threads`; 0 = one per core). Each seed runs
    /// on one thread, so threads change speed, never numbers.
    pub threads: usize,
    /// A circuit the controller starts next to (`start`; see
    /// [`super::start`]), and how sure it starts of each of its choices
    /// (`start_logit`).
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default = "default_start_logit")]
    pub start_logit: f64,
}

fn default_start_logit() -> f64 {
    5.0
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 0,
            seeds: 1,
            train_sizes: (1..=10).collect(),
            steps: 20_000,
            batch: 32,
            lr: 0.01,
            clip: 10.0,
            clip_activations: 10.0,
            noise: 0.01,
            entropy: 0.01,
            entropy_decay: 0.5,
            curriculum_threshold: 0.1,
            curriculum_gap: 200,
            validate_every: 100,
            validation_count: 16,
            patience: 3,
            give_up: 0,
            enough: 1,
            threads: 0,
            start: None,
            start_logit: default_start_logit(),
        }
    }
}

impl TrainConfig {
    /// The number of seeds trained at once.
    pub fn threads(&self) -> usize {
        let t = if self.threads > 0 { self.threads } else { crate::settings::cores() };
        t.clamp(1, self.seeds.max(1))
    }

    /// The entropy weight at `step`.
    pub fn entropy_at(&self, step: u64) -> f64 {
        self.entropy * self.entropy_decay.powf(step as f64 / 1000.0)
    }

    /// The gradient noise's standard deviation at `step`.
    pub fn noise_std_at(&self, step: u64) -> f64 {
        (self.noise / (1.0 + step as f64).powf(0.55)).sqrt()
    }
}

/// A `learn` setting the NRAM learner cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown nram setting `{key}`{}", hint(&known(), key))]
    Unknown { key: String },
    #[error("nram setting `{key}` expects {expected}, found {found}")]
    BadValue { key: String, expected: &'static str, found: String },
    #[error("nram setting `modules`: unknown module `{name}` (known: {})", Module::PAPER.map(|m| m.name()).join(", "))]
    UnknownModule { name: String },
    #[error("nram setting `modules: program`: the reference program uses no module")]
    NoProgramModules,
    #[error("no training sizes")]
    NoTrainSizes,
    #[error("nram setting `start`: {0}")]
    Start(String),
}

impl From<BadValue> for ConfigError {
    fn from(b: BadValue) -> ConfigError {
        ConfigError::BadValue { key: b.key, expected: b.expected, found: b.found }
    }
}

/// The settings this learner applies.
const APPLIED: &[&str] = &[
    "registers",
    "modules",
    "controller",
    "hidden",
    "seeds",
    "batch",
    "lr",
    "clip",
    "clip_activations",
    "noise",
    "entropy",
    "entropy_decay",
    "curriculum_threshold",
    "curriculum_gap",
    "validate_every",
    "validation_count",
    "patience",
    "give_up",
    "enough",
    "threads",
    "start",
    "start_logit",
];

/// The setting names NRAM takes: those it applies, its entry in the
/// compiler's catalogue of learners, `timesteps` (which the compiler
/// evaluates into every example) and `return` (which the compiler reads).
fn known() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = APPLIED.to_vec();
    for s in crate::settings::known("nram").into_iter().chain(["timesteps"]) {
        if !names.contains(&s) {
            names.push(s);
        }
    }
    names
}





/// The module list of a `modules` value: `program` (the reference
/// program's, from `program`), or module names separated by spaces or
/// commas (`read, inc, write`), repeats allowed.
fn modules(v: &SettingValue, program: &dyn Fn() -> Vec<String>) -> Result<Vec<Module>, ConfigError> {
    let w = match v {
        SettingValue::Word(w) => w.clone(),
        // The learn block's `modules [read, inc, write]`.
        SettingValue::Words(ws) => ws.join(" "),
        _ => return Err(ConfigError::BadValue { key: "modules".into(), expected: "module names or `program`", found: show(v) }),
    };
    let names: Vec<String> = if w.trim() == "program" {
        let p = program();
        if p.is_empty() {
            return Err(ConfigError::NoProgramModules);
        }
        p
    } else {
        w.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(String::from).collect()
    };
    if names.is_empty() || names.len() > MAX_MODULES {
        return Err(ConfigError::BadValue { key: "modules".into(), expected: "1 to 64 module names or `program`", found: show(v) });
    }
    names.iter().map(|n| Module::from_name(n).ok_or_else(|| ConfigError::UnknownModule { name: n.clone() })).collect()
}

impl NramConfig {
    /// Applies the model settings among `settings`; other keys are left
    /// alone. `program` gives the reference program's modules, for
    /// `modules: program`.
    pub fn apply(&mut self, settings: &BTreeMap<String, SettingValue>, program: &dyn Fn() -> Vec<String>) -> Result<(), ConfigError> {
        for (key, v) in settings {
            let k = key.as_str();
            match k {
                "registers" => self.registers = positive(k, v, MAX_REGISTERS)?,
                "hidden" => self.hidden = positive(k, v, MAX_HIDDEN)?,
                "modules" => self.modules = modules(v, program)?,
                "controller" => {
                    self.controller = match v {
                        SettingValue::Word(w) if w == "mlp" => Controller::Mlp,
                        SettingValue::Word(w) if w == "lstm" => Controller::Lstm,
                        _ => return Err(ConfigError::BadValue { key: key.clone(), expected: "`mlp` or `lstm`", found: show(v) }),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl TrainConfig {
    /// The training settings of a `learn` block: sizes, steps and seed from
    /// its fields, the rest from its settings.
    pub fn from_learn(learn: &LearnSpec) -> Result<TrainConfig, ConfigError> {
        let mut c = TrainConfig::default();
        if !learn.train_sizes.is_empty() {
            let mut sizes = learn.train_sizes.clone();
            sizes.sort_unstable();
            sizes.dedup();
            c.train_sizes = sizes;
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
                "seeds" => self.seeds = positive(k, v, 1 << 16)?,
                "batch" => self.batch = positive(k, v, 1 << 16)?,
                "lr" => self.lr = number(k, v, 1e-9, 10.0)?,
                "clip" => self.clip = number(k, v, 0.0, 1e9)?,
                "clip_activations" => self.clip_activations = number(k, v, 0.0, 1e9)?,
                "noise" => self.noise = number(k, v, 0.0, 1e6)?,
                "entropy" => self.entropy = number(k, v, 0.0, 1e6)?,
                "entropy_decay" => self.entropy_decay = number(k, v, 0.0, 1.0)?,
                "curriculum_threshold" => self.curriculum_threshold = number(k, v, 0.0, 1.0)?,
                "curriculum_gap" => self.curriculum_gap = count(k, v)? as u64,
                "validate_every" => self.validate_every = positive(k, v, usize::MAX)? as u64,
                "validation_count" => self.validation_count = positive(k, v, 1 << 20)?,
                "patience" => self.patience = positive(k, v, usize::MAX)?,
                "give_up" => self.give_up = count(k, v)?,
                "enough" => self.enough = count(k, v)?,
                "threads" => self.threads = count(k, v)?,
                "start" => match v {
                    SettingValue::Word(w) => self.start = Some(w.clone()),
                    _ => return Err(ConfigError::BadValue { key: key.clone(), expected: "a circuit in double quotes", found: show(v) }),
                },
                "start_logit" => self.start_logit = number(k, v, 0.0, 50.0)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// Both configs from `learn` (a task's `learn` block, with any `--set`
/// applied), refusing settings NRAM does not know; `env` gives the
/// reference program's modules for `modules: program`.
pub fn settings<E: TapeEnvironment + ?Sized>(env: &E, learn: &LearnSpec) -> Result<(NramConfig, TrainConfig), ConfigError> {
    if let Some(k) = crate::settings::unknown(&learn.settings, &known()) {
        return Err(ConfigError::Unknown { key: k.clone() });
    }
    let mut model = NramConfig::default();
    model.apply(&learn.settings, &|| env.program_modules())?;
    let train = TrainConfig::from_learn(learn)?;
    if train.train_sizes.is_empty() {
        return Err(ConfigError::NoTrainSizes);
    }
    if let Some(s) = &train.start {
        super::start::parse(&super::model::Layout::new(&model), s).map_err(ConfigError::Start)?;
    }
    Ok((model, train))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learn(pairs: &[(&str, SettingValue)]) -> LearnSpec {
        LearnSpec {
            learner: "nram".into(),
            train_sizes: vec![3, 1, 2],
            traces: 0,
            test_sizes: vec![10],
            steps: Some(500),
            time: None,
            seed: Some(4),
            settings: pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        }
    }

    fn parse(pairs: &[(&str, SettingValue)]) -> Result<(NramConfig, TrainConfig), ConfigError> {
        let l = learn(pairs);
        let mut m = NramConfig::default();
        m.apply(&l.settings, &|| vec!["read".into(), "inc".into(), "write".into()])?;
        if let Some(k) = crate::settings::unknown(&l.settings, &known()) {
            return Err(ConfigError::Unknown { key: k.clone() });
        }
        Ok((m, TrainConfig::from_learn(&l)?))
    }

    /// `start` is checked against the machine's modules before training.
    #[test]
    fn a_start_circuit_is_checked_against_the_modules() {
        let env = crate::nram::toy::ToyEnv::new(crate::nram::toy::Toy::Access, vec![1, 2]);
        let mut l = learn(&[("modules", SettingValue::Word("zero read write".into())), ("start", SettingValue::Word("read1(zero0) write2(zero0, read1)".into())), ("start_logit", SettingValue::Int(7))]);
        let (_, t) = settings(&env, &l).unwrap();
        assert_eq!((t.start.as_deref(), t.start_logit), (Some("read1(zero0) write2(zero0, read1)"), 7.0));
        l.settings.insert("start".into(), SettingValue::Word("read1(write2)".into()));
        assert!(matches!(settings(&env, &l), Err(ConfigError::Start(m)) if m.contains("`read1` cannot read `write2`")));
        l.settings.insert("start".into(), SettingValue::Int(3));
        assert!(matches!(settings(&env, &l), Err(ConfigError::BadValue { .. })));
    }

    #[test]
    fn settings_map_onto_configs() {
        let (m, t) = parse(&[
            ("registers", SettingValue::Int(6)),
            ("modules", SettingValue::Word("read, zero inc,write".into())),
            ("lr", SettingValue::Float(3e-3)),
            ("seeds", SettingValue::Int(5)),
            ("noise", SettingValue::Int(0)),
            ("timesteps", SettingValue::Int(9)),
        ])
        .unwrap();
        assert_eq!((m.registers, m.hidden), (6, 64));
        assert_eq!(m.modules, vec![Module::Read, Module::Zero, Module::Inc, Module::Write]);
        assert_eq!((t.lr, t.seeds, t.noise, t.steps, t.seed), (3e-3, 5, 0.0, 500, 4));
        assert_eq!(t.train_sizes, vec![1, 2, 3]);
        assert_eq!(NramConfig::default().modules, Module::PAPER.to_vec());
        let (m, _) = parse(&[("modules", SettingValue::Word("program".into()))]).unwrap();
        assert_eq!(m.modules, vec![Module::Read, Module::Inc, Module::Write]);
    }

    /// Every setting this learner applies changes a config, and so does
    /// every setting the catalogue lists for it: the lists cannot drift.
    #[test]
    fn every_setting_is_applied() {
        let defaults = parse(&[]).unwrap();
        let catalogue = synth_compiler::learners::lookup("nram").map_or(&[][..], |l| l.settings);
        let names: Vec<&str> = APPLIED.iter().copied().chain(catalogue.iter().map(|s| s.name)).filter(|n| *n != "timesteps").collect();
        for name in names {
            let v = match name {
                "modules" => SettingValue::Word("add".into()),
                "controller" => SettingValue::Word("lstm".into()),
                "start" => SettingValue::Word("read0(r0)".into()),
                "lr" | "clip" | "clip_activations" | "noise" | "entropy" | "entropy_decay" | "curriculum_threshold" => SettingValue::Float(0.25),
                _ => SettingValue::Int(7),
            };
            let set = parse(&[(name, v)]).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_ne!(set, defaults, "`{name}` changes nothing");
        }
    }

    #[test]
    fn bad_settings_are_refused_with_a_hint() {
        let e = parse(&[("registres", SettingValue::Int(3))]).unwrap_err();
        assert_eq!(e.to_string(), "unknown nram setting `registres` (did you mean `registers`?)");
        let e = parse(&[("hidden", SettingValue::Float(1.5))]).unwrap_err();
        assert_eq!(e.to_string(), "nram setting `hidden` expects a positive integer in range, found 1.5");
        let e = parse(&[("modules", SettingValue::Word("read mul".into()))]).unwrap_err();
        assert!(e.to_string().starts_with("nram setting `modules`: unknown module `mul` (known: read, zero,"), "{e}");
        assert!(parse(&[("registers", SettingValue::Int(1000))]).is_err());
        assert!(parse(&[("entropy_decay", SettingValue::Float(2.0))]).is_err());
        assert!(parse(&[("controller", SettingValue::Word("gru".into()))]).is_err());
    }
}
