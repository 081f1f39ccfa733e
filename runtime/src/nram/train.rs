//! The NRAM training loop: input/output pairs in, the best checkpoint out.
//!
//! - Data: fresh examples every step, from seeds derived from the run's
//!   seed; sizes drawn by the curriculum (Zaremba & Sutskever's mixture,
//!   docs/nram.md) over the sorted training sizes, one level per size.
//! - Step: forward, loss and the hand-written backward ([`Workspace`]),
//!   the global norm of the gradient capped at `clip`, Gaussian noise of
//!   variance `noise / (1 + step)^0.55` added, then Adam.
//! - Validation every `validate_every` steps, on `validation_count` fixed
//!   examples of every training size (the same for every seed): the fuzzy
//!   error (wrong graded cells after taking every distribution's most
//!   likely value) and exact matches, and the discrete machine's. The
//!   level rises when the fuzzy error at it is below
//!   `curriculum_threshold`, at most once every `curriculum_gap` steps.
//!   The parameters with the fewest wrong cells over all validation sizes
//!   (fuzzy, then discrete) are kept.
//! - A seed has **converged** when, at the last level, the validation
//!   error is 0 at every training size for both the fuzzy and the discrete
//!   machine; it stops after `patience` such validations in a row, after
//!   `give_up` validations in a row without a new best, at `steps`, or when
//!   a hook says stop (which stops every seed).
//! - `seeds K` trains seeds `seed .. seed + K` on `threads` threads, each
//!   seed on one thread from start to end, and keeps the best.
//!
//! Same seed, same machine: the same loss curve, whatever the thread
//! count. Architecture invariant: no clock and no IO; the caller's
//! [`TrainHooks`] see every step and may stop the run.

use super::checkpoint::{Checkpoint, CheckpointMeta, SizeScore, FORMAT};
use super::config::{ConfigError, NramConfig, TrainConfig};
use super::discrete::Runner;
use super::eval::score;
use super::fuzzy::{check_example, Options, Workspace};
use super::model::Nram;
use crate::env::{TapeEnvironment, TaskError};
use crate::npi::train::derive_seed;
pub use crate::hooks::{Control, Hooks, NoHooks, StopReason};
use crate::hooks::Stopping;
use crate::optim::{add_noise, FlatAdam};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use synth_compiler::TapeExample;

const STREAM_TRAIN: u64 = 11;
const STREAM_VALIDATION: u64 = 12;
const STREAM_INIT: u64 = 13;
const STREAM_SAMPLER: u64 = 14;
const STREAM_NOISE: u64 = 15;

/// One optimiser step of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub seed: u64,
    pub step: u64,
    /// Mean loss of the batch (without the entropy bonus).
    pub loss: f64,
    /// Mean summed entropy of the controller's softmaxes.
    pub entropy: f64,
    /// The batch's fuzzy error.
    pub error: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// The curriculum level (an index into the training sizes).
    pub level: usize,
}

/// One validation of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub seed: u64,
    pub step: u64,
    /// The level the step trained at (before any rise this validation
    /// causes).
    pub level: usize,
    /// Per training size.
    pub scores: Vec<SizeScore>,
    /// Mean training loss since the previous validation.
    pub loss: f64,
    /// The new best parameters of this seed.
    pub improved: bool,
    /// At the last level, error 0 at every size, fuzzy and discrete.
    pub converged: bool,
}

impl ValidationReport {
    /// Wrong graded cells over all sizes (the fuzzy machine).
    pub fn wrong(&self) -> usize {
        self.scores.iter().map(|s| s.wrong).sum()
    }
    /// Fuzzy error over all sizes.
    pub fn error(&self) -> f64 {
        self.wrong() as f64 / self.scores.iter().map(|s| s.graded).sum::<usize>().max(1) as f64
    }
}

/// What the caller sees of training: [`Hooks`] over the NRAM's reports
/// (every `Hooks<StepReport, ValidationReport, Checkpoint> + Send` is one).
pub trait TrainHooks: Hooks<StepReport, ValidationReport, Checkpoint> + Send {}
impl<T: Hooks<StepReport, ValidationReport, Checkpoint> + Send + ?Sized> TrainHooks for T {}

/// The result of one seed.
pub type SeedOutcome = crate::hooks::SeedOutcome<Checkpoint, ValidationReport>;

/// The result of [`train`]: its best checkpoint is the best seed's,
/// converged first, then the fewest wrong validation cells (fuzzy, then
/// discrete), then the fewest steps.
pub type TrainOutcome = crate::hooks::RunOutcome<Checkpoint, ValidationReport>;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("generating examples: {0}")]
    Task(#[from] TaskError),
    #[error("bad example: {0}")]
    Example(String),
    #[error("cannot resume: {0}")]
    Resume(#[from] super::checkpoint::LoadError),
    #[error("cannot resume: the checkpoint's optimiser state does not load: {0}")]
    Optimizer(String),
}

/// One example from `env`, checked.
fn example<E: TapeEnvironment + ?Sized>(env: &E, size: usize, seed: u64) -> Result<TapeExample, TrainError> {
    let e = env.example(size, seed)?;
    check_example(&e).map_err(TrainError::Example)?;
    Ok(e)
}

/// The validation examples: `validation_count` of every training size,
/// from the run's first seed.
fn validation_set<E: TapeEnvironment + ?Sized>(env: &E, cfg: &TrainConfig) -> Result<Vec<Vec<TapeExample>>, TrainError> {
    cfg.train_sizes.iter().map(|&size| (0..cfg.validation_count).map(|j| example(env, size, derive_seed(cfg.seed, STREAM_VALIDATION, ((size as u64) << 24) + j as u64))).collect()).collect()
}

/// Draws a level by the curriculum: 10 % uniform over all levels, 25 %
/// uniform in `[0, D + e]`, 65 % `D + e`, `e ~ Geometric(1/2)` from 0.
fn draw_level(rng: &mut ChaCha8Rng, level: usize, levels: usize) -> usize {
    let u: f64 = rng.random();
    let mut e = 0;
    while e < levels && rng.random_bool(0.5) {
        e += 1;
    }
    let top = (level + e).min(levels - 1);
    if u < 0.10 {
        rng.random_range(0..levels)
    } else if u < 0.35 {
        rng.random_range(0..=top)
    } else {
        top
    }
}

/// Trains `cfg.seeds` seeds of a fresh `model` on `env` and returns every
/// seed's outcome and the best checkpoint.
pub fn train<E: TapeEnvironment + ?Sized>(env: &E, model: &NramConfig, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError> {
    train_from(env, model, cfg, None, hooks)
}

/// Continues training `checkpoint` (which must belong to `env` and have
/// `model`'s config) for at most `cfg.steps` more steps: one seed, the
/// checkpoint's, from its parameters, step and curriculum level, with
/// fresh examples (drawn from where the step count left off) and a fresh
/// optimiser (its moments are not saved). `cfg.seeds` is ignored.
pub fn resume<E: TapeEnvironment + ?Sized>(env: &E, checkpoint: &Checkpoint, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError> {
    let nram = checkpoint.load(env)?;
    let cfg = TrainConfig { seeds: 1, seed: checkpoint.meta.seed, ..cfg.clone() };
    let start = Start { params: nram.params, step: checkpoint.meta.step, level: checkpoint.meta.level, optimizer: checkpoint.optimizer.clone() };
    train_from(env, &checkpoint.meta.config, &cfg, Some(&start), hooks)
}

/// Where a resumed seed starts.
struct Start {
    params: Vec<f32>,
    step: u64,
    level: usize,
    /// Adam's state then, when the checkpoint kept it.
    optimizer: Option<Vec<u8>>,
}

fn train_from<E: TapeEnvironment + ?Sized>(env: &E, model: &NramConfig, cfg: &TrainConfig, start: Option<&Start>, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError> {
    if cfg.train_sizes.is_empty() {
        return Err(ConfigError::NoTrainSizes.into());
    }
    let mut cfg = cfg.clone();
    cfg.train_sizes.sort_unstable();
    cfg.train_sizes.dedup();
    let validation = validation_set(env, &cfg)?;
    let seeds = cfg.seeds.max(1);
    let hooks = Mutex::new(hooks);
    let stop = AtomicBool::new(false);
    let enough = AtomicBool::new(false);
    let converged = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SeedOutcome, TrainError>>>> = Mutex::new((0..seeds).map(|_| None).collect());
    let worker = || loop {
        let k = next.fetch_add(1, Ordering::SeqCst);
        if k >= seeds || stop.load(Ordering::SeqCst) {
            break;
        }
        let r = train_seed(env, model, &cfg, cfg.seed.wrapping_add(k as u64), start, &validation, &hooks, &stop);
        match &r {
            Err(_) => stop.store(true, Ordering::SeqCst),
            Ok(o) if o.converged && cfg.enough > 0 && converged.fetch_add(1, Ordering::SeqCst) + 1 >= cfg.enough => {
                enough.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
            }
            Ok(_) => {}
        }
        results.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(r);
    };
    let threads = cfg.threads();
    if threads <= 1 {
        worker();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(worker);
            }
        });
    }
    let mut outcomes = Vec::with_capacity(seeds);
    for r in results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().flatten() {
        outcomes.push(r?);
    }
    let best_seed = (0..outcomes.len())
        .min_by_key(|&k| {
            let o = &outcomes[k];
            let v = &o.best.meta.validation;
            (!o.converged, v.iter().map(|s| s.wrong).sum::<usize>(), v.iter().map(|s| s.discrete_wrong).sum::<usize>(), o.best.meta.step, k)
        })
        .ok_or_else(|| TrainError::Example("no seed was trained".into()))?;
    Ok(TrainOutcome { best: outcomes[best_seed].best.clone(), best_seed, seeds: outcomes, enough: enough.into_inner() })
}

/// One seed from start to end, on the calling thread.
#[allow(clippy::too_many_arguments)]
fn train_seed<E: TapeEnvironment + ?Sized>(env: &E, model: &NramConfig, cfg: &TrainConfig, seed: u64, start: Option<&Start>, validation: &[Vec<TapeExample>], hooks: &Mutex<&mut dyn TrainHooks>, stop_all: &AtomicBool) -> Result<SeedOutcome, TrainError> {
    let mut nram = Nram::new(model, derive_seed(seed, STREAM_INIT, 0));
    let first = start.map_or(0, |s| s.step);
    if let Some(s) = start {
        nram.params.copy_from_slice(&s.params);
    } else if let Some(spec) = &cfg.start {
        let choices = super::start::parse(&nram.layout, spec).map_err(ConfigError::Start)?;
        nram.start_at(&choices, cfg.start_logit as f32);
    }
    let mut adam = FlatAdam::new(nram.params.len());
    if let Some(bytes) = start.and_then(|s| s.optimizer.as_deref()) {
        adam.load_state(bytes).map_err(TrainError::Optimizer)?;
    }
    let mut grad = vec![0f32; nram.params.len()];
    let mut ws = Workspace::new();
    let mut runner = Runner::new();
    // A resumed seed draws from streams of its own, keyed by the step it
    // resumes at, so it does not replay the examples it started with.
    let mut sampler = ChaCha8Rng::seed_from_u64(derive_seed(seed, STREAM_SAMPLER, first));
    let mut noise = ChaCha8Rng::seed_from_u64(derive_seed(seed, STREAM_NOISE, first));
    let levels = cfg.train_sizes.len();
    let last = levels - 1;
    let (mut level, mut risen_at) = (start.map_or(0, |s| s.level.min(last)), first);
    let mut drawn = first * cfg.batch as u64;
    let meta = |step: u64, level: usize, converged: bool, loss: f64, validation: Vec<SizeScore>| CheckpointMeta {
        format: FORMAT,
        learner: "nram".into(),
        task: env.name().into(),
        source_hash: env.source_hash().into(),
        config: model.clone(),
        seed,
        train_sizes: cfg.train_sizes.clone(),
        step,
        level,
        converged,
        loss,
        validation,
    };
    let lock = || hooks.lock().unwrap_or_else(|e| e.into_inner());
    // The best parameters and their (fuzzy, discrete) wrong cells.
    let mut best: Option<((usize, usize), Checkpoint)> = None;
    let mut converged = false;
    let mut losses = Vec::new();
    let mut validations = Vec::new();
    let mut window = (0.0f64, 0usize);
    let mut stopping = Stopping::new(cfg.patience, cfg.give_up);
    let mut stop = StopReason::Steps;
    let mut step = first;
    let end = first.saturating_add(cfg.steps);
    while step < end {
        if stop_all.load(Ordering::SeqCst) {
            stop = StopReason::Stopped;
            break;
        }
        step += 1;
        let mut batch = Vec::with_capacity(cfg.batch);
        for _ in 0..cfg.batch {
            let size = cfg.train_sizes[draw_level(&mut sampler, level, levels)];
            batch.push(example(env, size, derive_seed(seed, STREAM_TRAIN, drawn))?);
            drawn += 1;
        }
        let refs: Vec<&TapeExample> = batch.iter().collect();
        let clip_activations = if cfg.clip_activations > 0.0 { cfg.clip_activations as f32 } else { f32::INFINITY };
        let opts = Options { clip_activations, entropy: cfg.entropy_at(step) as f32 };
        let stats = ws.train_step(&nram, &refs, opts, &mut grad);
        let norm = grad.iter().map(|&g| g as f64 * g as f64).sum::<f64>().sqrt();
        if norm.is_finite() {
            if cfg.clip > 0.0 && norm > cfg.clip {
                let s = (cfg.clip / norm) as f32;
                grad.iter_mut().for_each(|g| *g *= s);
            }
            let sd = cfg.noise_std_at(step);
            if sd > 0.0 {
                add_noise(&mut grad, sd, &mut noise);
            }
            adam.step(&mut nram.params, &grad, cfg.lr, 0.0);
        }
        losses.push(stats.loss as f32);
        window = (window.0 + stats.loss, window.1 + 1);
        let report = StepReport { seed, step, loss: stats.loss, entropy: stats.entropy, error: stats.error(), grad_norm: norm, level };
        let mut control = lock().on_step(&report);
        if step.is_multiple_of(cfg.validate_every) || step == end || control == Control::Stop {
            let mut scores = Vec::with_capacity(levels);
            for (&size, examples) in cfg.train_sizes.iter().zip(validation) {
                scores.push(score(&nram, size, examples, Some(&mut ws), &mut runner)?);
            }
            let trained_at = level;
            let now_converged = level == last && scores.iter().all(|s| s.wrong == 0 && s.discrete_wrong == 0);
            converged |= now_converged;
            if level < last && scores[level].error() < cfg.curriculum_threshold && step - risen_at >= cfg.curriculum_gap {
                // Every size up to the first one still above the threshold
                // is learned: the curriculum moves straight to that one.
                level = (level + 1..last).find(|&d| scores[d].error() >= cfg.curriculum_threshold).unwrap_or(last);
                risen_at = step;
            }
            let wrong = (scores.iter().map(|s| s.wrong).sum::<usize>(), scores.iter().map(|s| s.discrete_wrong).sum::<usize>());
            let mean_loss = window.0 / window.1.max(1) as f64;
            window = (0.0, 0);
            let improved = best.as_ref().is_none_or(|(w, _)| wrong < *w) || (now_converged && !best.as_ref().is_some_and(|(_, c)| c.meta.converged));
            if improved {
                let c = Checkpoint::save(&nram, meta(step, trained_at, now_converged, mean_loss, scores.clone())).with_optimizer(&adam);
                best = Some((wrong, c));
            }
            let report = ValidationReport { seed, step, level: trained_at, scores, loss: mean_loss, improved, converged: now_converged };
            let ends = stopping.record(now_converged, improved);
            if let Some((_, b)) = &best {
                if lock().on_validation(&report, b) == Control::Stop {
                    control = Control::Stop;
                }
            }
            validations.push(report);
            if let Some(why) = ends {
                stop = why;
                break;
            }
        }
        if control == Control::Stop {
            stop_all.store(true, Ordering::SeqCst);
            stop = StopReason::Stopped;
            break;
        }
    }
    let best = match best {
        Some((_, c)) => c,
        None => Checkpoint::save(&nram, meta(step, level, false, f64::NAN, Vec::new())),
    };
    Ok(SeedOutcome { seed, best, converged, steps: step, stop, losses, validations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nram::toy::{Toy, ToyEnv};

    fn small(steps: u64) -> (NramConfig, TrainConfig) {
        let model = NramConfig { hidden: 16, ..NramConfig::default() };
        let cfg = TrainConfig { steps, batch: 8, train_sizes: vec![1, 2, 3], validate_every: 5, validation_count: 4, ..TrainConfig::default() };
        (model, cfg)
    }

    /// Same seed, same loss curve, whether seeds run on one thread or two;
    /// another seed, another curve.
    #[test]
    fn training_is_deterministic() {
        let env = ToyEnv::new(Toy::Copy, vec![1, 2, 3]);
        let (model, mut cfg) = small(12);
        cfg.seeds = 2;
        cfg.threads = 1;
        let a = train(&env, &model, &cfg, &mut NoHooks).unwrap();
        cfg.threads = 2;
        let b = train(&env, &model, &cfg, &mut NoHooks).unwrap();
        assert_eq!(a.seeds.len(), 2);
        for (x, y) in a.seeds.iter().zip(&b.seeds) {
            assert_eq!(x.losses, y.losses);
            assert_eq!(x.best, y.best);
        }
        assert_ne!(a.seeds[0].losses, a.seeds[1].losses);
        assert!(a.seeds[0].losses.iter().all(|l| l.is_finite()));
        assert_eq!(a.seeds[0].validations.len(), 3);
    }

    /// A hook's stop ends every seed.
    #[test]
    fn hooks_stop_training() {
        struct StopAt(u64);
        impl Hooks<StepReport, ValidationReport, Checkpoint> for StopAt {
            fn on_step(&mut self, r: &StepReport) -> Control {
                if r.step >= self.0 {
                    Control::Stop
                } else {
                    Control::Continue
                }
            }
        }
        let env = ToyEnv::new(Toy::Access, vec![1, 2, 3]);
        let (model, mut cfg) = small(100);
        cfg.seeds = 3;
        let out = train(&env, &model, &cfg, &mut StopAt(3)).unwrap();
        assert!(out.seeds.iter().all(|s| s.stop == StopReason::Stopped && s.steps <= 3));
    }

    /// Access on small tapes converges: error 0 at the last level, fuzzy and
    /// discrete, and the discrete machine is right on tapes ten times as
    /// long.
    #[test]
    fn access_converges() {
        let env = ToyEnv::new(Toy::Access, vec![1, 2, 3]);
        let model = NramConfig { hidden: 32, ..NramConfig::default() };
        let cfg = TrainConfig { steps: 1500, train_sizes: vec![1, 2, 3], batch: 16, entropy: 0.01, validate_every: 50, seeds: 3, threads: 1, ..TrainConfig::default() };
        let out = train(&env, &model, &cfg, &mut NoHooks).unwrap();
        assert!(out.converged() >= 1, "{:?}", out.seeds.iter().map(|s| (s.steps, s.validations.last().map(|v| v.error()))).collect::<Vec<_>>());
        // `enough 1` (the default): on one thread, the seeds after the
        // first that converged are not trained.
        assert!(out.enough && out.seeds.last().unwrap().converged && out.seeds.len() < 3, "{:?}", out.seeds.iter().map(|s| s.converged).collect::<Vec<_>>());
        let best = &out.best.meta;
        assert!(best.converged && best.validation.iter().all(|s| s.wrong == 0 && s.discrete_wrong == 0), "{best:?}");
        let report = crate::nram::evaluate(&env, &out.best.model().unwrap(), &[30], 20, 1, 0).unwrap();
        assert_eq!((report.results[0].discrete_accuracy, report.results[0].fuzzy_error), (1.0, None), "{report:?}");
    }
}
