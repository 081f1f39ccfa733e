//! The NTM training loop: input/output pairs in, the best checkpoint out.
//!
//! - Data: fresh examples every step, as in the NTM paper (each from its
//!   own seed derived from the run's, its size drawn uniformly from the
//!   training sizes); no curriculum.
//! - Step: a batch of `batch` episodes, each with its own gradient buffer
//!   (so the sum, in example order, does not depend on the thread count);
//!   the mean over episodes of each episode's mean answer cross-entropy;
//!   the gradient's global norm capped at `clip`; Adam.
//! - Validation every `validate_every` steps on `validation_count` fixed
//!   inputs of each validation size; the parameters with the most exact
//!   outputs (then right cells, then the lowest training loss since the
//!   previous validation) are kept. Training stops after `patience`
//!   perfect validations in a row, after `give_up` without a new best, at
//!   `steps`, or when a hook says stop.
//!
//! - `seeds K` trains seeds `seed .. seed + K` one after another (each on
//!   every thread), until `enough` have converged, and keeps the best:
//!   some seeds never find the memory-based solution (docs/ntm.md).
//!
//! Same seed, same machine: the same run, whatever the thread count.
//! Architecture invariant: no clock and no IO.

use super::checkpoint::{Checkpoint, CheckpointMeta, FORMAT};
use super::config::{NtmConfig, TrainConfig};
use super::data::{encode, Sequence};
use super::eval::{examples, score_examples};
use super::model::{Backward, Episode, Ntm};
use crate::env::TaskError;
use crate::hooks::Stopping;
pub use crate::hooks::{Control, Hooks, NoHooks, StopReason};
use crate::npi::train::derive_seed;
use crate::optim::FlatAdam;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use synth_compiler::{TapeExample, Task};

const STREAM_TRAIN: u64 = 51;
const STREAM_VALIDATION: u64 = 52;
const STREAM_INIT: u64 = 53;
const STREAM_SIZES: u64 = 54;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub seed: u64,
    pub step: u64,
    /// Mean answer cross-entropy (nats per answer).
    pub loss: f64,
    /// Before clipping.
    pub grad_norm: f64,
}

pub use crate::seq2seq::ValidationReport;

pub type SeedOutcome = crate::hooks::SeedOutcome<Checkpoint, ValidationReport>;
pub type TrainOutcome = crate::hooks::RunOutcome<Checkpoint, ValidationReport>;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error("{0}")]
    Model(String),
}

/// One thread's buffers, kept from step to step.
#[derive(Default)]
struct Worker {
    episode: Episode,
    backward: Backward,
}

/// The episodes of step `step` (1-based) of seed `seed`.
fn batch(task: &Task, config: &NtmConfig, cfg: &TrainConfig, seed: u64, step: u64) -> Result<Vec<Sequence>, TaskError> {
    let mut sizes = ChaCha8Rng::seed_from_u64(derive_seed(seed, STREAM_SIZES, step));
    (0..cfg.batch)
        .map(|i| {
            let size = cfg.train_sizes[sizes.random_range(0..cfg.train_sizes.len())];
            let seed = derive_seed(seed, STREAM_TRAIN, step * cfg.batch as u64 + i as u64);
            let e = task.tape_example(size, seed).map_err(|e| TaskError::new(e.to_string()))?;
            Ok(encode(config, &e))
        })
        .collect()
}

/// One optimiser step's forward and backward pass over a batch of
/// episodes, on threads: what training and the benchmark run.
pub struct Stepper {
    workers: Vec<Worker>,
    /// One gradient buffer per episode of the batch.
    grads: Vec<Vec<f32>>,
    /// The batch's gradient after [`Stepper::loss_and_gradient`].
    pub grad: Vec<f32>,
}

impl Stepper {
    pub fn new(ntm: &Ntm, threads: usize) -> Stepper {
        Stepper { workers: (0..threads.max(1)).map(|_| Worker::default()).collect(), grads: Vec::new(), grad: vec![0.0; ntm.layout.len] }
    }

    /// The batch's mean loss (per answer, averaged over episodes), and its
    /// gradient in [`Stepper::grad`]. Each episode has its own gradient
    /// buffer and they are summed in order, so the result does not depend
    /// on the thread count.
    pub fn loss_and_gradient(&mut self, ntm: &Ntm, episodes: &[Sequence]) -> f64 {
        let b = episodes.len();
        self.grads.resize_with(b, || vec![0.0; ntm.layout.len]);
        let mut losses = vec![0.0f64; b];
        let per = b.div_ceil(self.workers.len()).max(1);
        std::thread::scope(|scope| {
            for (((w, ls), gs), chunk) in self.workers.iter_mut().zip(losses.chunks_mut(per)).zip(self.grads[..b].chunks_mut(per)).zip(episodes.chunks(per)) {
                scope.spawn(move || {
                    for ((seq, loss), g) in chunk.iter().zip(ls.iter_mut()).zip(gs.iter_mut()) {
                        g.iter_mut().for_each(|x| *x = 0.0);
                        let answers = seq.targets.len().max(1);
                        let out = ntm.forward(&seq.tokens, Some(&seq.targets), &mut w.episode);
                        *loss = out.loss / answers as f64;
                        let scale = 1.0 / (answers as f32 * b as f32);
                        ntm.backward(&seq.targets, scale, &w.episode, g, &mut w.backward);
                    }
                });
            }
        });
        self.grad.copy_from_slice(&self.grads[0]);
        for g in &self.grads[1..b] {
            crate::kernels::add_into(&mut self.grad, g);
        }
        losses.iter().sum::<f64>() / b as f64
    }
}

/// Trains machines from seeds `cfg.seed`, `cfg.seed + 1`, ... one after
/// another, until `cfg.enough` of them have converged or `cfg.seeds` have
/// been trained (or a hook says stop), and keeps the best.
pub fn train(task: &Task, config: &NtmConfig, cfg: &TrainConfig, hooks: &mut dyn Hooks<StepReport, ValidationReport, Checkpoint>) -> Result<TrainOutcome, TrainError> {
    let mut seeds: Vec<SeedOutcome> = Vec::new();
    let mut enough = false;
    for k in 0..cfg.seeds as u64 {
        let outcome = train_seed(task, config, cfg, cfg.seed.wrapping_add(k), None, hooks)?;
        let stopped = outcome.stop == StopReason::Stopped;
        seeds.push(outcome);
        if stopped {
            break;
        }
        if cfg.enough > 0 && seeds.iter().filter(|s| s.converged).count() >= cfg.enough {
            enough = k + 1 < cfg.seeds as u64;
            break;
        }
    }
    let best_seed = (0..seeds.len()).min_by_key(|&i| seeds[i].best.rank()).expect("at least one seed trains");
    Ok(TrainOutcome { best: seeds[best_seed].best.clone(), best_seed, seeds, enough })
}

/// Goes on training the machine of `checkpoint` (its seed, from its step,
/// with its optimiser state when it kept one) for at most `cfg.steps` more
/// steps. The examples are those the uninterrupted run would have drawn.
/// It is validated on its run's validation inputs.
pub fn resume(task: &Task, checkpoint: &Checkpoint, cfg: &TrainConfig, hooks: &mut dyn Hooks<StepReport, ValidationReport, Checkpoint>) -> Result<TrainOutcome, TrainError> {
    let cfg = &TrainConfig { seed: checkpoint.meta.run_seed, seeds: 1, ..cfg.clone() };
    checkpoint.check(task).map_err(|e| TrainError::Model(e.to_string()))?;
    let ntm = checkpoint.model().map_err(|e| TrainError::Model(e.to_string()))?;
    let mut adam = FlatAdam::new(ntm.layout.len);
    if let Some(state) = &checkpoint.optimizer {
        adam.load_state(state).map_err(|e| TrainError::Model(format!("the optimiser state does not fit: {e}")))?;
    }
    let start = Start { ntm, adam, step: checkpoint.meta.step };
    let outcome = train_seed(task, &checkpoint.meta.config, cfg, checkpoint.meta.seed, Some(start), hooks)?;
    Ok(TrainOutcome { best: outcome.best.clone(), best_seed: 0, seeds: vec![outcome], enough: false })
}

/// Where a resumed seed starts.
struct Start {
    ntm: Ntm,
    adam: FlatAdam,
    step: u64,
}

/// Trains one machine from `seed` (or from `start`), validated on the
/// run's validation set (drawn from `cfg.seed`, the same for every seed).
fn train_seed(task: &Task, config: &NtmConfig, cfg: &TrainConfig, seed: u64, start: Option<Start>, hooks: &mut dyn Hooks<StepReport, ValidationReport, Checkpoint>) -> Result<SeedOutcome, TrainError> {
    // The validation pairs, drawn once.
    let validation: Vec<(usize, Vec<TapeExample>)> = cfg
        .validation_sizes
        .iter()
        .map(|&size| {
            let seeds: Vec<u64> = (0..cfg.validation_count).map(|i| derive_seed(cfg.seed, STREAM_VALIDATION, ((size as u64) << 24) + i as u64)).collect();
            Ok((size, examples(task, size, &seeds)?))
        })
        .collect::<Result<_, TaskError>>()?;
    let (mut ntm, mut adam, first) = match start {
        Some(s) => (s.ntm, s.adam, s.step),
        None => {
            let ntm = Ntm::new(config, derive_seed(seed, STREAM_INIT, 0));
            let adam = FlatAdam::new(ntm.layout.len);
            (ntm, adam, 0)
        }
    };
    let threads = cfg.threads().clamp(1, cfg.batch);
    let mut stepper = Stepper::new(&ntm, threads);
    let mut stopping = Stopping::new(cfg.patience, cfg.give_up);
    let mut best: Option<Checkpoint> = None;
    let (mut losses, mut validations) = (Vec::new(), Vec::new());
    let mut window = (0.0f64, 0usize);
    let mut stop = StopReason::Steps;
    let mut step = first;
    let last_step = first.saturating_add(cfg.steps);
    while step < last_step {
        let episodes = batch(task, config, cfg, seed, step + 1)?;
        let loss = stepper.loss_and_gradient(&ntm, &episodes);
        let grad_norm = adam.step(&mut ntm.params, &stepper.grad, cfg.lr, cfg.clip);
        step += 1;
        losses.push(loss as f32);
        window = (window.0 + loss, window.1 + 1);
        if hooks.on_step(&StepReport { seed, step, loss, grad_norm }) == Control::Stop {
            stop = StopReason::Stopped;
        }
        let last = step == last_step || stop == StopReason::Stopped;
        if step.is_multiple_of(cfg.validate_every) || (last && best.is_none()) {
            let scores: Vec<_> = validation.iter().map(|(size, pairs)| score_examples(&ntm, *size, pairs, threads)).collect();
            let converged = scores.iter().all(|s| s.exact == s.count);
            let mean = window.0 / window.1.max(1) as f64;
            let meta = CheckpointMeta {
                format: FORMAT,
                learner: "ntm".into(),
                task: task.name.clone(),
                source_hash: task.source_hash.clone(),
                config: config.clone(),
                seed,
                run_seed: cfg.seed,
                train_sizes: cfg.train_sizes.clone(),
                step,
                loss: mean,
                validation: scores.clone(),
                converged,
            };
            let candidate = Checkpoint::save(&ntm, meta).with_optimizer(&adam);
            let improved = best.as_ref().is_none_or(|b| candidate.rank() < b.rank());
            // Progress for `give_up` is more right outputs or cells, not
            // a lower loss alone.
            let gained = best.as_ref().is_none_or(|b| {
                let (c, e, r, _) = candidate.rank();
                let (bc, be, br, _) = b.rank();
                (c, e, r) < (bc, be, br)
            });
            if improved {
                best = Some(candidate);
            }
            let report = ValidationReport { step, scores, loss: mean, improved, converged };
            window = (0.0, 0);
            let said = hooks.on_validation(&report, best.as_ref().expect("set above"));
            validations.push(report);
            if said == Control::Stop {
                stop = StopReason::Stopped;
            } else if let Some(why) = stopping.record(converged, gained) {
                stop = why;
                break;
            }
        }
        if stop == StopReason::Stopped {
            break;
        }
    }
    let best = best.ok_or_else(|| TrainError::Model("no step was taken".into()))?;
    Ok(SeedOutcome { seed, converged: best.meta.converged, best, steps: step - first, stop, losses, validations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use synth_compiler::SettingValue;

    fn copy() -> Task {
        synth_compiler::compile(include_str!("../../../stdlib/copy.npl"), "copy").unwrap().task
    }

    fn configs(task: &Task, steps: u64, threads: i64) -> (NtmConfig, TrainConfig) {
        let mut learn = task.learn.clone();
        learn.train_sizes = vec![1, 2, 3];
        learn.steps = Some(steps);
        let mut set: BTreeMap<String, SettingValue> = [("hidden", 32), ("width", 8), ("memory", 16), ("batch", 8), ("validate_every", 500), ("validation_count", 16), ("threads", threads)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), SettingValue::Int(v)))
            .collect();
        set.insert("lr".into(), SettingValue::Float(3e-3));
        let values = crate::seq2seq::values(task, &learn.train_sizes).unwrap();
        crate::ntm::settings(values, &learn, &set).unwrap()
    }

    /// Same seed, same run, on one thread or two.
    #[test]
    fn training_is_deterministic_whatever_the_threads() {
        let task = copy();
        let (config, cfg) = configs(&task, 30, 1);
        let a = train(&task, &config, &cfg, &mut NoHooks).unwrap();
        let (_, two) = configs(&task, 30, 2);
        let b = train(&task, &config, &two, &mut NoHooks).unwrap();
        assert_eq!(a.seeds[0].losses, b.seeds[0].losses);
        assert_eq!(a.best.weights, b.best.weights);
    }

    /// Training 30 steps, then resuming for 30 more, gives the machine 60
    /// steps in one go give (the same examples, Adam's state kept).
    #[test]
    fn resuming_continues_the_same_run() {
        let task = copy();
        let (config, mut cfg) = configs(&task, 60, 1);
        cfg.validate_every = 30;
        cfg.patience = 100;
        let whole = train(&task, &config, &cfg, &mut NoHooks).unwrap();
        let first = train(&task, &config, &TrainConfig { steps: 30, ..cfg.clone() }, &mut NoHooks).unwrap();
        // The kept checkpoint is the one of step 30 (its only validation).
        assert_eq!(first.best.meta.step, 30);
        let rest = resume(&task, &first.best, &TrainConfig { steps: 30, ..cfg.clone() }, &mut NoHooks).unwrap();
        assert_eq!(rest.seeds[0].losses[..], whole.seeds[0].losses[30..]);
        assert_eq!(rest.seeds[0].steps, 30);
    }

    /// A small machine learns to copy short lists exactly (in about 5,000
    /// steps).
    #[test]
    fn learns_to_copy_short_lists() {
        let task = copy();
        let (config, cfg) = configs(&task, 8000, 0);
        let out = train(&task, &config, &cfg, &mut NoHooks).unwrap();
        let s = &out.seeds[0];
        let first: f32 = s.losses[..20].iter().sum::<f32>() / 20.0;
        assert!(s.converged, "copy at sizes 1..3 not learned in {} steps: loss {first} -> {:?}", s.steps, s.validations.last());
    }
}
