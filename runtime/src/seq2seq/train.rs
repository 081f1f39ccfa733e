//! The seq2seq training loop: input/output pairs in, the best checkpoint
//! out.
//!
//! - Data: `examples` pairs, spread evenly over the training sizes (example
//!   `i` has size `train_sizes[i % len]`), generated once and shuffled
//!   every epoch.
//! - Step: a batch of `batch` pairs, teacher-forced cross-entropy of every
//!   output token, the gradient's norm capped at `clip`, Adam.
//! - Validation every `validate_every` steps on `validation_count` fixed
//!   inputs of each validation size, decoded greedily and graded by
//!   `expect`; the parameters with the most exact outputs (then the most
//!   right cells) are kept. Training stops after `patience` perfect
//!   validations in a row, after `give_up` without a new best, at `steps`,
//!   or when a hook says stop.
//!
//! Architecture invariant: no clock and no IO; the caller's hooks see every
//! step and may stop the run.

use super::checkpoint::{Checkpoint, CheckpointMeta, SizeScore, FORMAT};
use super::config::{Seq2SeqConfig, TrainConfig};
use super::eval::score_pairs;
use super::data::Pair;
use super::model::{Encoded, Seq2Seq};
use crate::env::TaskError;
pub use crate::hooks::{Control, Hooks, NoHooks, StopReason};
use crate::hooks::Stopping;
use crate::npi::checkpoint::message;
use crate::npi::train::derive_seed;
use crate::optim::Adam;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use synth_compiler::Task;

const STREAM_TRAIN: u64 = 41;
const STREAM_VALIDATION: u64 = 42;
const STREAM_INIT: u64 = 43;
const STREAM_ORDER: u64 = 44;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: u64,
    pub epoch: u64,
    pub loss: f64,
    /// Before clipping.
    pub grad_norm: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub step: u64,
    pub scores: Vec<SizeScore>,
    /// Mean training loss since the previous validation.
    pub loss: f64,
    pub improved: bool,
    pub converged: bool,
}

impl ValidationReport {
    /// Exact outputs over all sizes, and inputs.
    pub fn exact(&self) -> (usize, usize) {
        (self.scores.iter().map(|s| s.exact).sum(), self.scores.iter().map(|s| s.count).sum())
    }
}

pub type TrainOutcome = crate::hooks::SeedOutcome<Checkpoint, ValidationReport>;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error("{0}")]
    Model(String),
}

fn model_error(e: candle_core::Error) -> TrainError {
    TrainError::Model(message(&e))
}

/// The training pairs: `cfg.examples` of them over the training sizes.
pub fn training_set(task: &Task, config: &Seq2SeqConfig, cfg: &TrainConfig) -> Result<Vec<Encoded>, TaskError> {
    (0..cfg.examples)
        .map(|i| {
            let size = cfg.train_sizes[i % cfg.train_sizes.len()];
            Ok(Pair::of(task, size, derive_seed(cfg.seed, STREAM_TRAIN, i as u64))?.encode(config))
        })
        .collect()
}

/// Trains one model from `cfg.seed`.
pub fn train(task: &Task, config: &Seq2SeqConfig, cfg: &TrainConfig, hooks: &mut dyn Hooks<StepReport, ValidationReport, Checkpoint>) -> Result<TrainOutcome, TrainError> {
    let model = Seq2Seq::new(config, derive_seed(cfg.seed, STREAM_INIT, 0)).map_err(model_error)?;
    let adam = Adam::new(&model.varmap);
    train_from(task, config, cfg, model, adam, 0, hooks)
}

/// Goes on training the model of `checkpoint` (from its step, with its
/// optimiser state when it kept one; `cfg.seed` is set to its seed) for at
/// most `cfg.steps` more steps, on the batches the uninterrupted run would
/// have drawn.
pub fn resume(task: &Task, checkpoint: &Checkpoint, cfg: &TrainConfig, hooks: &mut dyn Hooks<StepReport, ValidationReport, Checkpoint>) -> Result<TrainOutcome, TrainError> {
    let model = checkpoint.load(task).map_err(|e| TrainError::Model(e.to_string()))?;
    let mut adam = Adam::new(&model.varmap);
    if let Some(state) = &checkpoint.optimizer {
        adam.load_state(state).map_err(|e| TrainError::Model(format!("the optimiser state does not fit: {}", message(&e))))?;
    }
    let m = &checkpoint.meta;
    let cfg = TrainConfig { seed: m.seed, train_sizes: m.train_sizes.clone(), examples: m.examples, ..cfg.clone() };
    train_from(task, &m.config, &cfg, model, adam, m.step, hooks)
}

fn train_from(task: &Task, config: &Seq2SeqConfig, cfg: &TrainConfig, mut model: Seq2Seq, mut adam: Adam, first: u64, hooks: &mut dyn Hooks<StepReport, ValidationReport, Checkpoint>) -> Result<TrainOutcome, TrainError> {
    let data = training_set(task, config, cfg)?;
    // The validation pairs, drawn once.
    let validation: Vec<(usize, Vec<Pair>)> = cfg
        .validation_sizes
        .iter()
        .map(|&size| {
            let pairs = (0..cfg.validation_count).map(|i| Pair::of(task, size, derive_seed(cfg.seed, STREAM_VALIDATION, ((size as u64) << 24) + i as u64))).collect::<Result<_, _>>()?;
            Ok((size, pairs))
        })
        .collect::<Result<_, TaskError>>()?;
    let threads = cfg.threads();
    model.set_threads(threads);
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(cfg.seed, STREAM_ORDER, 0));
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(&mut rng);
    let (mut cursor, mut epoch) = (0usize, 0u64);
    let mut stopping = Stopping::new(cfg.patience, cfg.give_up);
    let mut best: Option<Checkpoint> = None;
    let (mut losses, mut validations) = (Vec::new(), Vec::new());
    let mut window = (0.0f64, 0usize);
    let mut stop = StopReason::Steps;
    let per_batch = cfg.batch.min(data.len());
    // The next `per_batch` examples of the shuffled epochs.
    let mut next_batch = || {
        let mut batch = Vec::with_capacity(per_batch);
        while batch.len() < per_batch {
            if cursor == order.len() {
                order.shuffle(&mut rng);
                cursor = 0;
                epoch += 1;
            }
            batch.push(order[cursor]);
            cursor += 1;
        }
        (batch, epoch)
    };
    // A resumed run skips the batches it has trained on.
    for _ in 0..first {
        next_batch();
    }
    let mut step = first;
    let last_step = first.saturating_add(cfg.steps);
    while step < last_step {
        let (indices, epoch) = next_batch();
        let batch: Vec<&Encoded> = indices.iter().map(|&i| &data[i]).collect();
        let loss = model.loss(&batch).map_err(model_error)?;
        let value = loss.to_scalar::<f32>().map_err(model_error)? as f64;
        let grads = model.backward(&loss).map_err(model_error)?;
        let grad_norm = adam.step(&grads, cfg.lr, cfg.clip, threads).map_err(model_error)?;
        step += 1;
        losses.push(value as f32);
        window = (window.0 + value, window.1 + 1);
        if hooks.on_step(&StepReport { step, epoch, loss: value, grad_norm }) == Control::Stop {
            stop = StopReason::Stopped;
        }
        let last = step == last_step || stop == StopReason::Stopped;
        if step.is_multiple_of(cfg.validate_every) || (last && best.is_none()) {
            let scores = validation.iter().map(|(size, pairs)| score_pairs(task, &model, *size, pairs)).collect::<Result<Vec<_>, _>>()?;
            let converged = scores.iter().all(|s| s.exact == s.count);
            let meta = CheckpointMeta {
                format: FORMAT,
                learner: "seq2seq".into(),
                task: task.name.clone(),
                source_hash: task.source_hash.clone(),
                config: config.clone(),
                seed: cfg.seed,
                train_sizes: cfg.train_sizes.clone(),
                examples: cfg.examples,
                step,
                loss: window.0 / window.1.max(1) as f64,
                validation: scores.clone(),
                converged,
            };
            let candidate = Checkpoint::save(&model, meta).map_err(model_error)?.with_optimizer(&adam).map_err(model_error)?;
            let improved = best.as_ref().is_none_or(|b| candidate.rank() < b.rank());
            if improved {
                best = Some(candidate);
            }
            let report = ValidationReport { step, scores, loss: window.0 / window.1.max(1) as f64, improved, converged };
            window = (0.0, 0);
            let said = hooks.on_validation(&report, best.as_ref().expect("set above"));
            let exact_gain = improved;
            validations.push(report);
            if said == Control::Stop {
                stop = StopReason::Stopped;
            } else if let Some(why) = stopping.record(converged, exact_gain) {
                stop = why;
                break;
            }
        }
        if stop == StopReason::Stopped {
            break;
        }
    }
    let best = best.ok_or_else(|| TrainError::Model("no step was taken".into()))?;
    Ok(TrainOutcome { seed: cfg.seed, converged: best.meta.converged, best, steps: step - first, stop, losses, validations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Ten steps, then ten more resumed from the checkpoint (the optimiser
    /// state kept), give the losses of twenty in one go.
    #[test]
    fn resuming_continues_the_same_run() {
        let task = synth_compiler::compile(include_str!("../../../stdlib/bubblesort.npl"), "bubblesort").unwrap().task;
        let mut learn = task.learn.clone();
        learn.train_sizes = vec![2, 3];
        learn.traces = 40;
        learn.steps = Some(20);
        let set: BTreeMap<String, synth_compiler::SettingValue> = [("hidden", 16), ("embedding", 8), ("batch", 8), ("validate_every", 10), ("validation_count", 2), ("threads", 1), ("patience", 100)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), synth_compiler::SettingValue::Int(v)))
            .collect();
        let (config, cfg) = crate::seq2seq::settings(11, &learn, &set).unwrap();
        let whole = train(&task, &config, &cfg, &mut NoHooks).unwrap();
        let half = TrainConfig { steps: 10, ..cfg.clone() };
        let first = train(&task, &config, &half, &mut NoHooks).unwrap();
        assert_eq!(first.best.meta.step, 10);
        let rest = resume(&task, &first.best, &half, &mut NoHooks).unwrap();
        assert_eq!(rest.losses[..], whole.losses[10..]);
        assert_eq!(rest.steps, 10);
    }

    /// A small model learns to sort short lists: the loss falls, and the
    /// same seed gives the same run.
    #[test]
    fn training_lowers_the_loss_and_is_deterministic() {
        let task = synth_compiler::compile(include_str!("../../../stdlib/bubblesort.npl"), "bubblesort").unwrap().task;
        let mut learn = task.learn.clone();
        learn.train_sizes = vec![2, 3];
        learn.traces = 64;
        learn.steps = Some(200);
        let set: BTreeMap<String, synth_compiler::SettingValue> = [("hidden", 24), ("embedding", 8), ("batch", 16), ("validate_every", 100), ("validation_count", 4), ("threads", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), synth_compiler::SettingValue::Int(v)))
            .collect();
        let (config, cfg) = crate::seq2seq::settings(11, &learn, &set).unwrap();
        let a = train(&task, &config, &cfg, &mut NoHooks).unwrap();
        let first: f32 = a.losses[..10].iter().sum::<f32>() / 10.0;
        let last: f32 = a.losses[190..].iter().sum::<f32>() / 10.0;
        assert!(last < 0.6 * first, "loss {first} -> {last}");
        assert_eq!(a.validations.len(), 2);
        let b = train(&task, &config, &cfg, &mut NoHooks).unwrap();
        assert_eq!(a.losses, b.losses);
        assert_eq!(a.best.weights, b.best.weights);
        // With attention, too: the loss falls and the attention layer's
        // weights move from their initial values (they get gradients).
        let attention = crate::seq2seq::Seq2SeqConfig { attention: true, ..config.clone() };
        let c = train(&task, &attention, &cfg, &mut NoHooks).unwrap();
        let last_c: f32 = c.losses[190..].iter().sum::<f32>() / 10.0;
        assert!(last_c < 0.6 * first, "attention: loss {first} -> {last_c}");
        let trained = c.best.model().unwrap().attend.unwrap().weight().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let fresh = Seq2Seq::new(&attention, derive_seed(cfg.seed, STREAM_INIT, 0)).unwrap();
        let initial = fresh.attend.unwrap().weight().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(trained.iter().zip(&initial).filter(|(a, b)| a != b).count() > trained.len() / 2);
    }
}
