//! Training and scoring the Learning to Execute model: the seq2seq model
//! ([`crate::seq2seq::Seq2Seq`]) over characters, fed programs the
//! compiler generates at the difficulties the curriculum draws.
//!
//! - Data: fresh programs every step (the paper's stream of random
//!   programs), the input the program's text, the target its output
//!   followed by an end marker, one token per character.
//! - Step: a batch of `batch` programs, teacher-forced cross-entropy of the
//!   target, the gradient's norm capped at `clip`, Adam at `lr`.
//! - Validation every `validate_every` steps: the teacher-forced character
//!   accuracy (the paper's measure) on `validation_count` fixed programs of
//!   the current level and of the target. The curriculum is raised when
//!   the current level's accuracy passes `target_accuracy`, or when it is
//!   lower than five validations before (the authors' rule); when it is
//!   already at the target, the learning rate is multiplied by 0.8
//!   instead.
//! - The model trained for `steps` steps is the result (not the best
//!   validation's: the paper reports the end of training).
//!
//! Scoring reports, per difficulty, the teacher-forced character accuracy
//! and the share of programs whose output greedy decoding gets exactly
//! right (each step fed the model's own previous character: a stricter
//! measure than the paper's).

use super::curriculum::{Curriculum, Level, Strategy};
use crate::hooks::{Control, Hooks, StopReason};
use crate::npi::checkpoint::message;
use crate::npi::train::derive_seed;
use crate::optim::Adam;
use crate::seq2seq::model::{Encoded, Seq2Seq};
use crate::seq2seq::Seq2SeqConfig;
use crate::settings::{count, hint, number, positive, BadValue};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synth_compiler::lte::{generate, Program, MAX_LENGTH, MAX_NESTING};
use synth_compiler::SettingValue;

/// Every character a generated program or its output holds; a token is a
/// character's place here.
pub const CHARS: &str = "0123456789abcdefghijklmnopqrstuvwxyz ()+-*=<>{}.\n";

const STREAM_TRAIN: u64 = 51;
const STREAM_LEVEL: u64 = 52;
const STREAM_VALIDATION: u64 = 53;
const STREAM_INIT: u64 = 54;
const STREAM_TEST: u64 = 55;

/// Validations looked back over to see that accuracy stopped improving.
const LOOK_BACK: usize = 5;
/// What the learning rate is multiplied by when the curriculum cannot be
/// raised.
const DECAY: f64 = 0.8;
/// Programs scored at once.
const CHUNK: usize = 64;

/// The settings `synth lte --set` takes.
pub const SETTINGS: &[(&str, &str)] = &[
    ("hidden", "units of every LSTM layer (the paper's: 400)"),
    ("layers", "LSTM layers of the encoder and of the decoder (the paper's: 2)"),
    ("embedding", "character embedding size"),
    ("attention", "`none`, or `dot`: each output step attends over the program's characters"),
    ("batch", "programs per optimiser step (the paper's: 100)"),
    ("lr", "Adam learning rate"),
    ("clip", "global gradient-norm cap (the paper's: 5)"),
    ("validate_every", "steps between two validations"),
    ("validation_count", "validation programs per difficulty"),
    ("target_accuracy", "character accuracy at which the curriculum is raised (the paper's: 0.95)"),
    ("threads", "training threads (0: one per physical core)"),
];

/// The training loop's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LteConfig {
    pub strategy: Strategy,
    pub target: Level,
    pub seed: u64,
    pub steps: u64,
    pub batch: usize,
    pub lr: f64,
    pub clip: f64,
    pub validate_every: u64,
    pub validation_count: usize,
    pub target_accuracy: f64,
    /// 0: one per physical core.
    pub threads: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("unknown Learning to Execute setting `{key}`{}", hint(&known(), key))]
    Unknown { key: String },
    #[error("Learning to Execute setting `{key}` must be {expected}, not {found}")]
    BadValue { key: String, expected: &'static str, found: String },
    #[error("the target length must be in 1..={MAX_LENGTH} and the nesting in 1..={MAX_NESTING}, not {0}")]
    Target(Level),
}

impl From<BadValue> for ConfigError {
    fn from(b: BadValue) -> Self {
        ConfigError::BadValue { key: b.key, expected: b.expected, found: b.found }
    }
}

fn known() -> Vec<&'static str> {
    SETTINGS.iter().map(|(k, _)| *k).collect()
}

/// The model's shape and the loop's settings for `strategy` towards
/// `target`, from the defaults and `set` (`--set` values).
pub fn settings(strategy: Strategy, target: Level, seed: u64, steps: u64, set: &BTreeMap<String, SettingValue>) -> Result<(Seq2SeqConfig, LteConfig), ConfigError> {
    if !(1..=MAX_LENGTH).contains(&target.length) || !(1..=MAX_NESTING).contains(&target.nesting) {
        return Err(ConfigError::Target(target));
    }
    if let Some(k) = crate::settings::unknown(set, &known()) {
        return Err(ConfigError::Unknown { key: k.clone() });
    }
    let mut model = Seq2SeqConfig { values: CHARS.len() as u32, hidden: 256, layers: 2, embedding: 32, attention: true, words: Vec::new() };
    let mut cfg = LteConfig { strategy, target, seed, steps, batch: 64, lr: 2e-3, clip: 5.0, validate_every: 100, validation_count: 100, target_accuracy: 0.95, threads: 0 };
    for (key, v) in set {
        if crate::seq2seq::config::model_setting(&mut model, key, v)? {
            continue;
        }
        match key.as_str() {
            "batch" => cfg.batch = positive(key, v, 1 << 16)?,
            "lr" => cfg.lr = number(key, v, 0.0, 10.0)?,
            "clip" => cfg.clip = number(key, v, 0.0, 1e6)?,
            "validate_every" => cfg.validate_every = positive(key, v, usize::MAX)? as u64,
            "validation_count" => cfg.validation_count = positive(key, v, 1 << 20)?,
            "target_accuracy" => cfg.target_accuracy = number(key, v, 0.0, 1.0)?,
            "threads" => cfg.threads = count(key, v)?,
            _ => unreachable!("checked above"),
        }
    }
    Ok((model, cfg))
}

impl LteConfig {
    pub fn threads(&self) -> usize {
        crate::settings::threads(self.threads)
    }
}

/// A character's token.
fn token(c: char) -> u32 {
    CHARS.find(c).unwrap_or_else(|| panic!("the generator wrote {c:?}, which is not in CHARS")) as u32
}

/// A program as tokens: its text in, its output and the end marker out.
pub fn encode(p: &Program, config: &Seq2SeqConfig) -> Encoded {
    Encoded { input: p.text.chars().map(token).collect(), target: p.output.chars().map(token).chain([config.row_end()]).collect() }
}

/// The characters of decoded `tokens`, up to the end marker.
pub fn text(tokens: &[u32]) -> String {
    tokens.iter().map_while(|&t| CHARS.chars().nth(t as usize)).collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: u64,
    pub loss: f64,
    pub level: Level,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub step: u64,
    /// The level validated (where the curriculum stood).
    pub level: Level,
    /// Teacher-forced character accuracy at `level`.
    pub accuracy: f64,
    /// The same at the target.
    pub target_accuracy: f64,
    /// Mean training loss since the previous validation.
    pub loss: f64,
    pub lr: f64,
    /// The level training goes on at, when the curriculum was raised.
    pub raised: Option<Level>,
}

pub struct Outcome {
    pub model: Seq2Seq,
    pub steps: u64,
    pub stop: StopReason,
    pub losses: Vec<f32>,
    pub validations: Vec<ValidationReport>,
    pub curriculum: Curriculum,
    pub lr: f64,
}

/// The `count` programs of `level` drawn from `seed` on `stream`.
fn programs(seed: u64, stream: u64, level: Level, count: usize) -> Vec<Program> {
    let base = ((level.length as u64) << 40) + ((level.nesting as u64) << 32);
    (0..count).map(|i| generate(level.length, level.nesting, derive_seed(seed, stream, base + i as u64))).collect()
}

/// The test programs of `level` (`synth lte`'s table), never the training
/// stream's or the validation's seeds.
pub fn test_programs(seed: u64, level: Level, count: usize) -> Vec<Program> {
    programs(seed, STREAM_TEST, level, count)
}

/// Trains one model as `cfg` says.
pub fn train(config: &Seq2SeqConfig, cfg: &LteConfig, hooks: &mut dyn Hooks<StepReport, ValidationReport, Curriculum>) -> Result<Outcome, String> {
    let err = |e: candle_core::Error| message(&e);
    let mut model = Seq2Seq::new(config, derive_seed(cfg.seed, STREAM_INIT, 0)).map_err(err)?;
    let threads = cfg.threads();
    model.set_threads(threads);
    let mut adam = Adam::new(&model.varmap);
    let mut curriculum = Curriculum::new(cfg.strategy, cfg.target);
    let target_set: Vec<Encoded> = programs(cfg.seed, STREAM_VALIDATION, cfg.target, cfg.validation_count).iter().map(|p| encode(p, config)).collect();
    let mut level_set = Vec::new();
    let mut level_set_of = None;
    let (mut lr, mut history) = (cfg.lr, Vec::<f64>::new());
    let (mut losses, mut validations) = (Vec::new(), Vec::new());
    let mut window = (0.0f64, 0usize);
    let mut stop = StopReason::Steps;
    let mut step = 0;
    while step < cfg.steps {
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(cfg.seed, STREAM_LEVEL, step));
        let batch: Vec<Encoded> = (0..cfg.batch)
            .map(|i| {
                let l = curriculum.draw(&mut rng);
                encode(&generate(l.length, l.nesting, derive_seed(cfg.seed, STREAM_TRAIN, step * cfg.batch as u64 + i as u64)), config)
            })
            .collect();
        let refs: Vec<&Encoded> = batch.iter().collect();
        let loss = model.loss(&refs).map_err(err)?;
        let value = loss.to_scalar::<f32>().map_err(err)? as f64;
        let grads = model.backward(&loss).map_err(err)?;
        adam.step(&grads, lr, cfg.clip, threads).map_err(err)?;
        step += 1;
        losses.push(value as f32);
        window = (window.0 + value, window.1 + 1);
        if hooks.on_step(&StepReport { step, loss: value, level: curriculum.current }) == Control::Stop {
            stop = StopReason::Stopped;
        }
        if step.is_multiple_of(cfg.validate_every) || step == cfg.steps || stop == StopReason::Stopped {
            if level_set_of != Some(curriculum.current) {
                level_set = programs(cfg.seed, STREAM_VALIDATION, curriculum.current, cfg.validation_count).iter().map(|p| encode(p, config)).collect();
                level_set_of = Some(curriculum.current);
            }
            let level = curriculum.current;
            let accuracy = teacher_forced(&model, &level_set).map_err(err)?.fraction();
            let target_accuracy = if level == cfg.target { accuracy } else { teacher_forced(&model, &target_set).map_err(err)?.fraction() };
            let stalled = history.len() >= LOOK_BACK && history[history.len() - LOOK_BACK] > accuracy;
            let mut raised = None;
            history.push(accuracy);
            if accuracy > cfg.target_accuracy || stalled {
                if curriculum.harder() {
                    raised = Some(curriculum.current);
                } else {
                    lr *= DECAY;
                }
                history.clear();
            }
            let report = ValidationReport { step, level, accuracy, target_accuracy, loss: window.0 / window.1.max(1) as f64, lr, raised };
            window = (0.0, 0);
            if hooks.on_validation(&report, &curriculum) == Control::Stop {
                stop = StopReason::Stopped;
            }
            validations.push(report);
        }
        if stop == StopReason::Stopped {
            break;
        }
    }
    Ok(Outcome { model, steps: step, stop, losses, validations, curriculum, lr })
}

/// A trained model's weights as safetensors bytes.
pub fn save(model: &Seq2Seq) -> Result<Vec<u8>, String> {
    crate::params::to_safetensors(&model.varmap).map_err(|e| message(&e))
}

/// The model of `config` over saved `bytes` (checked by name and shape).
pub fn load(config: &Seq2SeqConfig, bytes: &[u8]) -> Result<Seq2Seq, String> {
    let varmap = crate::params::from_safetensors(bytes, &candle_core::Device::Cpu).map_err(|e| message(&e))?;
    Seq2Seq::from_varmap(config, varmap).map_err(|e| message(&e))
}

/// Right characters among those counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Chars {
    pub right: usize,
    pub all: usize,
}

impl Chars {
    pub fn fraction(&self) -> f64 {
        self.right as f64 / self.all.max(1) as f64
    }
}

/// Teacher-forced character accuracy of `model` on `set` (the end marker
/// counts as a character, as the paper's `.` does).
pub fn teacher_forced(model: &Seq2Seq, set: &[Encoded]) -> candle_core::Result<Chars> {
    let mut c = Chars::default();
    for chunk in set.chunks(CHUNK) {
        let refs: Vec<&Encoded> = chunk.iter().collect();
        let (logits, want) = model.logits(&refs)?;
        let got = logits.argmax(1)?.to_vec1::<u32>()?;
        c.right += got.iter().zip(&want).filter(|(a, b)| a == b).count();
        c.all += want.len();
    }
    Ok(c)
}

/// How a model does on one difficulty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelScore {
    pub length: usize,
    pub nesting: usize,
    pub count: usize,
    /// Teacher-forced character accuracy (the paper's measure).
    pub char_accuracy: f64,
    /// Programs whose output greedy decoding gets exactly right.
    pub exact: usize,
    pub exact_accuracy: f64,
}

/// Greedy decodings of `programs`: the predicted output of each.
pub fn predict(model: &Seq2Seq, programs: &[Program]) -> candle_core::Result<Vec<String>> {
    let mut out = Vec::with_capacity(programs.len());
    for chunk in programs.chunks(CHUNK) {
        let encoded: Vec<Encoded> = chunk.iter().map(|p| encode(p, &model.config)).collect();
        let inputs: Vec<&[u32]> = encoded.iter().map(|e| e.input.as_slice()).collect();
        // One token past the reference's end marker shows an output that
        // goes on too long.
        let lengths: Vec<usize> = encoded.iter().map(|e| e.target.len() + 1).collect();
        out.extend(model.decode(&inputs, &lengths)?.iter().map(|t| text(t)));
    }
    Ok(out)
}

/// `model` on the test programs of every difficulty up to `target`
/// (`count` of each), length varying fastest.
pub fn evaluate(model: &Seq2Seq, target: Level, count: usize, seed: u64) -> candle_core::Result<Vec<LevelScore>> {
    let mut scores = Vec::new();
    for nesting in 1..=target.nesting {
        for length in 1..=target.length {
            let level = Level { length, nesting };
            let set = test_programs(seed, level, count);
            let encoded: Vec<Encoded> = set.iter().map(|p| encode(p, &model.config)).collect();
            let chars = teacher_forced(model, &encoded)?;
            let exact = predict(model, &set)?.iter().zip(&set).filter(|(got, p)| **got == p.output).count();
            scores.push(LevelScore { length, nesting, count, char_accuracy: chars.fraction(), exact, exact_accuracy: exact as f64 / count.max(1) as f64 });
        }
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::NoHooks;

    fn set(pairs: &[(&str, i64)]) -> BTreeMap<String, SettingValue> {
        pairs.iter().map(|(k, v)| (k.to_string(), SettingValue::Int(*v))).collect()
    }

    /// Every character the generator writes has a token, and decoding
    /// tokens gives the text back up to the end marker.
    #[test]
    fn programs_round_trip_through_tokens() {
        let (config, _) = settings(Strategy::None, Level { length: 2, nesting: 2 }, 0, 1, &BTreeMap::new()).unwrap();
        for length in [1, 5, 18] {
            for nesting in 0..=MAX_NESTING {
                for seed in 0..20 {
                    let p = generate(length, nesting, seed);
                    let e = encode(&p, &config);
                    assert_eq!(text(&e.input), p.text);
                    assert_eq!(text(&e.target), p.output);
                    assert_eq!(*e.target.last().unwrap(), config.row_end());
                }
            }
        }
    }

    #[test]
    fn settings_are_checked() {
        let target = Level { length: 2, nesting: 1 };
        let e = settings(Strategy::Naive, target, 0, 1, &set(&[("hiden", 8)])).unwrap_err();
        assert!(e.to_string().contains("did you mean `hidden`"), "{e}");
        assert!(matches!(settings(Strategy::Naive, Level { length: 0, nesting: 1 }, 0, 1, &BTreeMap::new()), Err(ConfigError::Target(_))));
        let (m, c) = settings(Strategy::Naive, target, 3, 9, &set(&[("hidden", 8), ("batch", 4)])).unwrap();
        assert_eq!((m.hidden, c.batch, c.seed, c.steps), (8, 4, 3, 9));
    }

    /// A small model on the easiest programs: the loss falls, the
    /// curriculum climbs once the level is mastered, the same seed gives
    /// the same run, and scoring covers every difficulty.
    #[test]
    fn training_learns_and_is_deterministic() {
        let target = Level { length: 2, nesting: 1 };
        let (config, cfg) = settings(
            Strategy::Naive,
            target,
            1,
            150,
            &set(&[("hidden", 48), ("embedding", 16), ("batch", 32), ("validate_every", 25), ("validation_count", 32), ("threads", 1), ("layers", 1)]),
        )
        .unwrap();
        let cfg = LteConfig { target_accuracy: 0.45, ..cfg };
        let a = train(&config, &cfg, &mut NoHooks).unwrap();
        let first: f32 = a.losses[..10].iter().sum::<f32>() / 10.0;
        let last: f32 = a.losses[140..].iter().sum::<f32>() / 10.0;
        assert!(last < 0.7 * first, "loss {first} -> {last}");
        assert_eq!(a.validations.len(), 6);
        assert!(a.validations.iter().any(|v| v.raised == Some(target)), "{:?}", a.validations);
        let b = train(&config, &cfg, &mut NoHooks).unwrap();
        assert_eq!(a.losses, b.losses);
        let scores = evaluate(&a.model, target, 8, 0).unwrap();
        assert_eq!(scores.iter().map(|s| (s.length, s.nesting)).collect::<Vec<_>>(), vec![(1, 1), (2, 1)]);
        assert!(scores.iter().all(|s| s.char_accuracy > 0.2 && s.exact <= s.count));
    }
}
