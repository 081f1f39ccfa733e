//! The NPI training loop: reference traces in, the best checkpoint out.
//!
//! - Data: `traces` reference runs spread over `train_sizes`, from seeds
//!   derived from the run's seed, cut into frames.
//! - Batches: `batch` frames drawn by the curriculum, packed (no padding).
//! - Step: teacher-forced forward, loss, backward, Adam with global-norm
//!   clipping; the learning rate decays stepwise.
//! - Curriculum ([`Curriculum::Adaptive`], the paper's): programs are drawn
//!   with probability softmax(error / temperature), where a program's error
//!   is the share of its frames with a wrong decision in the training
//!   batches since the last re-estimate.
//! - Validation: the model runs closed-loop on validation inputs (fixed for
//!   the run, from their own seeds); the best weights by exact matches (ties:
//!   lower training loss) are kept; training stops once validation has been
//!   perfect `patience` times in a row, or when it has scored no more exact
//!   matches than its best for `give_up` validations in a row (it stopped
//!   improving: more steps on the same traces will not help). When the best
//!   weights still fail a validation input, the outcome says where they go
//!   wrong first ([`Divergence`]).
//!
//! Same seed, same machine, same thread count: the same loss curve.
//! Architecture invariant: no clock and no IO; the caller's [`TrainHooks`]
//! see every step and may stop the run (time budgets, Ctrl-C).

use super::checkpoint::{Checkpoint, CheckpointMeta, LoadError, SizeScore, FORMAT};
use super::config::{ConfigError, Curriculum, NpiConfig, TrainConfig};
use super::data::{Dataset, ModelShape};
use super::diagnose::{first_divergence, Divergence};
use super::exec::{run_batch, Job, Limits, RunOutcome};
use super::infer::Engine;
use super::model::{Npi, Scores};
use super::sample::TrainingSet;
use crate::env::{Environment, TaskError};
use crate::optim::Adam;
use candle_core::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
pub use crate::hooks::{Control, Hooks, NoHooks, StopReason, Stopping};

/// One optimiser step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: u64,
    pub loss: f64,
    pub lr: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// Frames and steps (rows) in the batch.
    pub frames: usize,
    pub rows: usize,
}

/// One closed-loop validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub step: u64,
    pub scores: Vec<SizeScore>,
    /// Mean training loss since the previous validation.
    pub loss: f64,
    /// Share of training frames decided entirely right (teacher-forced),
    /// over the batches since the previous validation.
    pub frame_accuracy: f64,
    /// The new best checkpoint.
    pub improved: bool,
}

impl ValidationReport {
    pub fn exact(&self) -> usize {
        self.scores.iter().map(|s| s.exact).sum()
    }
    pub fn count(&self) -> usize {
        self.scores.iter().map(|s| s.count).sum()
    }
    pub fn perfect(&self) -> bool {
        self.exact() == self.count()
    }
}

/// What the caller sees of a training run: [`Hooks`] over NPI's reports
/// (every `Hooks<StepReport, ValidationReport, Checkpoint>` is one). The
/// best checkpoint comes with every validation: save it to survive an
/// interruption.
pub trait TrainHooks: Hooks<StepReport, ValidationReport, Checkpoint> {}
impl<T: Hooks<StepReport, ValidationReport, Checkpoint> + ?Sized> TrainHooks for T {}

/// The result of [`train`].
#[derive(Clone, Debug)]
pub struct TrainOutcome {
    /// The best weights by validation.
    pub best: Checkpoint,
    pub steps: u64,
    pub stop: StopReason,
    /// The loss of every step.
    pub losses: Vec<f32>,
    pub validations: Vec<ValidationReport>,
    /// When the best checkpoint fails a validation input: the first wrong
    /// decision in the first input it fails.
    pub diagnosis: Option<Divergence>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("generating training data: {0}")]
    Task(#[from] TaskError),
    #[error("the task produced no training frames")]
    NoData,
    #[error("cannot resume: {0}")]
    Resume(LoadError),
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
}

/// A seed for item `i` of stream `stream`, derived from the run's seed
/// (SplitMix64, so nearby inputs give unrelated outputs).
pub fn derive_seed(seed: u64, stream: u64, i: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xD1B5_4A32_D192_ED69);
    for _ in 0..2 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

// Every stream of `derive_seed` in one place, so that no two share an id.
pub(super) const STREAM_TRACES: u64 = 1;
const STREAM_VALIDATION: u64 = 2;
pub(super) const STREAM_INIT: u64 = 3;
pub(super) const STREAM_SAMPLER: u64 = 4;
pub(super) const STREAM_COVERAGE: u64 = 5;
pub(super) const STREAM_CANDIDATES: u64 = 6;
pub(super) const STREAM_TASKS: u64 = 7;

/// The training traces of `cfg` for a model of `model`: the first
/// `cfg.traces` of their [`TrainingSet`].
pub fn training_traces<E: Environment + ?Sized>(env: &E, model: &NpiConfig, cfg: &TrainConfig) -> Result<Vec<synth_compiler::Trace>, TaskError> {
    if cfg.train_sizes.is_empty() {
        return Ok(Vec::new());
    }
    TrainingSet::new(env, model, cfg).take(cfg.traces)
}

/// Trains a fresh model on `env`'s traces.
pub fn train<E>(env: &E, model: &NpiConfig, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError>
where
    E: Environment,
    E::Instance: Send,
{
    let npi = Npi::new(model, &ModelShape::for_model(env, model), derive_seed(cfg.seed, STREAM_INIT, 0))?;
    train_model(env, npi, cfg, hooks)
}

/// Trains `npi` further on `env`'s traces, with a fresh optimiser.
pub fn train_model<E>(env: &E, npi: Npi, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError>
where
    E: Environment,
    E::Instance: Send,
{
    let opt = Adam::new(&npi.varmap);
    run(env, npi, opt, None, cfg, hooks)
}

/// A checkpoint ready to resume: its model built and its optimiser state
/// loaded, both checked against the task and each other (see
/// [`Resumable::new`]), before any training work starts.
pub struct Resumable<'a> {
    from: &'a Checkpoint,
    npi: Npi,
    opt: Adam,
}

impl<'a> Resumable<'a> {
    /// Checks `from` against `env` ([`Checkpoint::load`]) and loads its
    /// optimiser state, if it has one, into an optimiser over its weights.
    pub fn new<E: Environment + ?Sized>(env: &E, from: &'a Checkpoint) -> Result<Resumable<'a>, LoadError> {
        let npi = from.load(env)?;
        let mut opt = Adam::new(&npi.varmap);
        if let Some(bytes) = &from.optimizer {
            opt.load_state(bytes).map_err(|e| LoadError::Optimizer(super::checkpoint::message(&e)))?;
        }
        Ok(Resumable { from, npi, opt })
    }
}

/// Continues the training that saved `from`: its weights, its optimiser
/// state when it has one, the learning-rate schedule from its step, and a
/// new stream of batches. Its validation score is the one to beat, so a
/// checkpoint the new steps do not improve on comes back unchanged. Step
/// numbers in hooks and in the outcome count from the start of this call
/// (add `from.meta.step` for the total).
pub fn resume<E>(env: &E, from: &Checkpoint, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError>
where
    E: Environment,
    E::Instance: Send,
{
    resume_checked(env, Resumable::new(env, from).map_err(TrainError::Resume)?, cfg, hooks)
}

/// [`resume`] from a checkpoint already checked, so that a caller can refuse
/// a bad one before it announces training.
pub fn resume_checked<E>(env: &E, r: Resumable, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError>
where
    E: Environment,
    E::Instance: Send,
{
    run(env, r.npi, r.opt, Some(r.from), cfg, hooks)
}

fn run<E>(env: &E, mut npi: Npi, mut opt: Adam, from: Option<&Checkpoint>, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError>
where
    E: Environment,
    E::Instance: Send,
{
    // The optimiser runs on the model's kernel path.
    opt.cpu = npi.cpu();
    let offset = from.map_or(0, |c| c.meta.step);
    let threads = cfg.threads();
    npi.set_threads(threads);
    let dev = Device::Cpu;
    let traces = training_traces(env, &npi.config, cfg)?;
    let data = Dataset::from_traces(&npi.shape, &traces);
    if data.frames.is_empty() {
        return Err(TrainError::NoData);
    }
    drop(traces);
    let mut sampler = Sampler::new(&data, cfg.curriculum, derive_seed(cfg.seed, STREAM_SAMPLER, offset));
    let validation = ValidationSet::new(env, cfg)?;

    let meta = |npi: &Npi, step: u64, loss: f64, validation: Vec<SizeScore>| CheckpointMeta {
        format: FORMAT,
        learner: "npi".into(),
        task: env.name().into(),
        source_hash: env.source_hash().into(),
        config: npi.config.clone(),
        shape: npi.shape.clone(),
        seed: cfg.seed,
        train_sizes: cfg.train_sizes.clone(),
        traces: cfg.traces,
        step,
        loss,
        validation,
    };
    // Resuming: the checkpoint's own score, when it was measured on the
    // same validation inputs, is the one to beat.
    let best: Option<(usize, f64, Checkpoint)> = from.filter(|c| c.meta.seed == cfg.seed && validation.sizes() == c.meta.validation.iter().map(|s| (s.size, s.count)).collect::<Vec<_>>()).map(|c| {
        let mut c = c.clone();
        c.meta.step = 0;
        (c.meta.validation.iter().map(|s| s.exact).sum(), c.meta.loss, c)
    });
    let mut losses = Vec::new();
    let mut kept = Kept::new(cfg, best);
    let mut stop = StopReason::Steps;
    let mut step = 0u64;
    while step < cfg.steps {
        step += 1;
        let ids = sampler.sample(cfg.batch);
        let batch = data.batch(&ids, &dev)?;
        let out = npi.forward(&batch)?;
        let loss = npi.loss(&out, &batch)?;
        let grads = npi.backward(&loss)?;
        let lr = kept.lr_scale * cfg.lr * cfg.lr_decay.powi(((offset + step) / cfg.lr_decay_every.max(1)) as i32);
        let grad_norm = opt.step(&grads, lr, cfg.clip, threads)?;
        let loss = loss.to_scalar::<f32>()?;
        losses.push(loss);
        let scores = out.score(&batch)?;
        let (right, frames) = sampler.observe(&data, &batch.row_frame, &scores);
        kept.add_step(loss as f64, right, frames);
        if step.is_multiple_of(sampler.every()) {
            sampler.reweigh();
        }
        let report = StepReport { step, loss: loss as f64, lr, grad_norm, frames: ids.len(), rows: batch.rows() };
        let mut control = hooks.on_step(&report);
        if step.is_multiple_of(cfg.validate_every) || step == cfg.steps || control == Control::Stop {
            let engine = Engine::new(&npi)?;
            let (scores, _) = validation.run(env, &engine, threads, false)?;
            let (hook, ends) = kept.validated(step, scores, |loss, scores| Checkpoint::save(&npi, meta(&npi, step, loss, scores.to_vec()))?.with_optimizer(&opt), hooks)?;
            if hook == Control::Stop {
                control = Control::Stop;
            }
            if let Some(why) = ends {
                stop = why;
                break;
            }
        }
        if control == Control::Stop {
            stop = StopReason::Stopped;
            break;
        }
    }
    let Kept { best, validations, .. } = kept;
    let best = match best {
        Some((_, _, c)) => c,
        None => Checkpoint::save(&npi, meta(&npi, step, f64::NAN, Vec::new()))?.with_optimizer(&opt)?,
    };
    let diagnosis = if best.meta.validation.iter().any(|s| s.exact < s.count) { validation.diagnose(env, &best, threads)? } else { None };
    Ok(TrainOutcome { best, steps: step, stop, losses, validations, diagnosis })
}

/// What an NPI training loop keeps across validations: the training loss
/// and frames right since the last one, every report, the best checkpoint
/// by exact matches (ties: the lower training loss), whether a validation
/// is progress for `give_up` (more exact matches than ever before, or all
/// of them), and the reduce-on-plateau factor of the learning rate (halved
/// after `plateau` validations without a new best, down to 1/64).
pub(super) struct Kept<C> {
    /// Summed loss and steps since the last validation.
    window_loss: (f64, usize),
    /// Frames decided right and frames since the last validation.
    window_frames: (usize, usize),
    pub(super) validations: Vec<ValidationReport>,
    pub(super) best: Option<(usize, f64, C)>,
    best_exact: Option<usize>,
    /// Validations since the best last improved.
    stale: usize,
    pub(super) lr_scale: f64,
    plateau: usize,
    stopping: Stopping,
}

impl<C> Kept<C> {
    /// `best`: the checkpoint to beat, `(exact, loss, checkpoint)`, if any.
    pub(super) fn new(cfg: &TrainConfig, best: Option<(usize, f64, C)>) -> Kept<C> {
        let best_exact = best.as_ref().map(|b| b.0);
        Kept {
            window_loss: (0.0, 0),
            window_frames: (0, 0),
            validations: Vec::new(),
            best,
            best_exact,
            stale: 0,
            lr_scale: 1.0,
            plateau: cfg.plateau,
            stopping: Stopping::new(cfg.patience, cfg.give_up),
        }
    }

    /// One training step's loss and its batch's frames decided right.
    pub(super) fn add_step(&mut self, loss: f64, right: usize, frames: usize) {
        self.window_loss = (self.window_loss.0 + loss, self.window_loss.1 + 1);
        self.window_frames = (self.window_frames.0 + right, self.window_frames.1 + frames);
    }

    /// A validation at `step` that scored `scores`: records it ([`Kept::record`],
    /// with the mean training loss since the last one; `save` makes the
    /// checkpoint from that loss and the scores), reports it to `hooks` with
    /// the best checkpoint and keeps the report. Returns what the hook said,
    /// and why to stop if it is time.
    pub(super) fn validated<E>(
        &mut self,
        step: u64,
        scores: Vec<SizeScore>,
        save: impl FnOnce(f64, &[SizeScore]) -> Result<C, E>,
        hooks: &mut dyn Hooks<StepReport, ValidationReport, C>,
    ) -> Result<(Control, Option<StopReason>), E> {
        let loss = self.window_loss.0 / self.window_loss.1.max(1) as f64;
        let exact: usize = scores.iter().map(|s| s.exact).sum();
        let count: usize = scores.iter().map(|s| s.count).sum();
        let (improved, ends) = self.record(exact, count, loss, || save(loss, &scores))?;
        let frame_accuracy = self.window_frames.0 as f64 / self.window_frames.1.max(1) as f64;
        let report = ValidationReport { step, scores, loss, frame_accuracy, improved };
        self.window_loss = (0.0, 0);
        self.window_frames = (0, 0);
        let hook = hooks.on_validation(&report, self.best());
        self.validations.push(report);
        Ok((hook, ends))
    }

    /// Records a validation of `exact` right of `count` at training loss
    /// `loss`, saving the checkpoint `save` makes when it is the new best;
    /// returns whether it was, and why to stop if it is time.
    fn record<E>(&mut self, exact: usize, count: usize, loss: f64, save: impl FnOnce() -> Result<C, E>) -> Result<(bool, Option<StopReason>), E> {
        let progress = self.best_exact.is_none_or(|b| exact > b) || exact == count;
        if progress {
            self.best_exact = Some(self.best_exact.map_or(exact, |b| b.max(exact)));
        }
        let improved = match &self.best {
            None => true,
            Some((e, l, _)) => exact > *e || (exact == *e && loss < *l),
        };
        self.stale = if improved { 0 } else { self.stale + 1 };
        if self.plateau > 0 && self.stale >= self.plateau && self.lr_scale > 1.0 / 64.0 {
            self.lr_scale /= 2.0;
            self.stale = 0;
        }
        if improved {
            self.best = Some((exact, loss, save()?));
        }
        Ok((improved, self.stopping.record(exact == count, progress)))
    }

    /// The best checkpoint, once a validation was recorded.
    pub(super) fn best(&self) -> &C {
        &self.best.as_ref().expect("a validation was recorded").2
    }
}

/// The validation inputs of a run: sizes, seeds and step limits, fixed at
/// the start so that validations are comparable.
pub(super) struct ValidationSet {
    items: Vec<(usize, u64, Limits)>,
}

impl ValidationSet {
    pub(super) fn new<E: Environment + ?Sized>(env: &E, cfg: &TrainConfig) -> Result<ValidationSet, TaskError> {
        let item = |size: usize, j: usize| -> Result<(usize, u64, Limits, usize), TaskError> {
            let seed = derive_seed(cfg.seed, STREAM_VALIDATION, ((size as u64) << 20) + j as u64);
            let reference = env.trace(size, seed)?;
            Ok((size, seed, Limits::of_trace(&reference), reference.steps.len()))
        };
        let mut items = Vec::new();
        if !cfg.validation_sizes.is_empty() {
            for &size in &cfg.validation_sizes {
                for j in 0..cfg.validation_count {
                    let (size, seed, limits, _) = item(size, j)?;
                    items.push((size, seed, limits));
                }
            }
            return Ok(ValidationSet { items });
        }
        // Default sizes: as many inputs as the budget allows, smallest size
        // first; at least 4 of the smallest.
        let mut spent = 0;
        'sizes: for size in cfg.default_validation_sizes() {
            for j in 0..cfg.validation_count {
                let (size, seed, limits, steps) = item(size, j)?;
                if spent + steps > cfg.validation_budget && items.len() >= 4 {
                    break 'sizes;
                }
                spent += steps;
                items.push((size, seed, limits));
            }
        }
        Ok(ValidationSet { items })
    }

    /// `(size, count)` per size, in order.
    pub(super) fn sizes(&self) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for &(size, _, _) in &self.items {
            match out.last_mut() {
                Some((s, n)) if *s == size => *n += 1,
                _ => out.push((size, 1)),
            }
        }
        out
    }

    /// The scores per size, and every run's outcome (with its trace when
    /// `record`). Recording changes no decision: the runs are batched the
    /// same way.
    pub(super) fn run<E>(&self, env: &E, engine: &Engine, threads: usize, record: bool) -> Result<(Vec<SizeScore>, Vec<RunOutcome>), TaskError>
    where
        E: Environment,
        E::Instance: Send,
    {
        let mut jobs = Vec::with_capacity(self.items.len());
        for &(size, seed, limits) in &self.items {
            jobs.push(Job { world: env.sample(size, seed)?, limits, size, seed });
        }
        let outcomes = run_batch(engine, env.entry(), env.end_convention(), jobs, threads, record);
        let mut scores: Vec<SizeScore> = Vec::new();
        for (&(size, _, _), o) in self.items.iter().zip(&outcomes) {
            match scores.last_mut() {
                Some(s) if s.size == size => {
                    s.count += 1;
                    s.exact += o.correct as usize;
                }
                _ => scores.push(SizeScore { size, count: 1, exact: o.correct as usize, task: None }),
            }
        }
        Ok((scores, outcomes))
    }

    /// Runs `best` on the validation inputs again, recording, and finds the
    /// first wrong decision in the first input it fails. `None` when it
    /// fails none here (a checkpoint from another validation set) or its
    /// run matches the reference step for step.
    fn diagnose<E>(&self, env: &E, best: &Checkpoint, threads: usize) -> Result<Option<Divergence>, TrainError>
    where
        E: Environment,
        E::Instance: Send,
    {
        // Our own checkpoint; should it not load, there is just no diagnosis.
        let Ok(npi) = best.model() else { return Ok(None) };
        let engine = Engine::new(&npi)?;
        let (_, outcomes) = self.run(env, &engine, threads, true)?;
        let Some((k, o)) = outcomes.iter().enumerate().find(|(_, o)| !o.correct) else {
            return Ok(None);
        };
        let (size, seed, _) = self.items[k];
        let reference = env.trace(size, seed)?;
        Ok(o.trace.as_ref().and_then(|t| first_divergence(&reference, t, o.failure.clone())))
    }
}

/// Draws training frames: a program by the curriculum's weights, then one of
/// its frames uniformly.
pub(super) struct Sampler {
    by_program: Vec<Vec<usize>>,
    /// Frame share of every program (the uniform-over-frames weights).
    share: Vec<f64>,
    weights: Vec<f64>,
    error: Vec<f64>,
    /// Frames seen and frames wrong per program since the last reweigh.
    seen: Vec<(usize, usize)>,
    curriculum: Curriculum,
    rng: ChaCha8Rng,
    /// Frames wrong when last seen (unseen frames count as wrong), as a
    /// set with O(1) insert and remove: `hard` lists them, `hard_at[f]` is
    /// `f`'s index in it.
    hard: Vec<usize>,
    hard_at: Vec<Option<usize>>,
}

impl Sampler {
    pub(super) fn new(data: &Dataset, curriculum: Curriculum, seed: u64) -> Sampler {
        let n = data.shape.programs();
        let mut by_program = vec![Vec::new(); n];
        for (i, f) in data.frames.iter().enumerate() {
            by_program[f.program as usize].push(i);
        }
        let total = data.frames.len() as f64;
        let share: Vec<f64> = by_program.iter().map(|v| v.len() as f64 / total).collect();
        let mut s = Sampler {
            weights: share.clone(),
            error: vec![1.0; n],
            seen: vec![(0, 0); n],
            share,
            by_program,
            curriculum,
            rng: ChaCha8Rng::seed_from_u64(seed),
            hard: (0..data.frames.len()).collect(),
            hard_at: (0..data.frames.len()).map(Some).collect(),
        };
        s.reweigh();
        s
    }

    pub(super) fn every(&self) -> u64 {
        match self.curriculum {
            Curriculum::Adaptive { every, .. } => every.max(1),
            Curriculum::Uniform => u64::MAX,
        }
    }

    pub(super) fn sample(&mut self, batch: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(batch);
        if let Curriculum::Adaptive { hard, .. } = self.curriculum {
            // At most two copies of each hard frame per batch.
            let n = ((hard * batch as f64).round() as usize).min(2 * self.hard.len());
            for _ in 0..n {
                out.push(self.hard[self.rng.random_range(0..self.hard.len())]);
            }
        }
        while out.len() < batch {
            let mut u: f64 = self.rng.random();
            let mut p = self.weights.len() - 1;
            for (i, &w) in self.weights.iter().enumerate() {
                if u < w {
                    p = i;
                    break;
                }
                u -= w;
            }
            while self.by_program[p].is_empty() {
                p = (p + 1) % self.by_program.len();
            }
            let frames = &self.by_program[p];
            out.push(frames[self.rng.random_range(0..frames.len())]);
        }
        out
    }

    /// Counts the frames of a batch decided right; returns (right, frames).
    /// A frame goes to the hard set unless every decision in it is sure
    /// (`Scores::sure`): a rare case the model gets right by a hair (the
    /// 19 of `9 + 9 + carry` against the 18 of its common neighbours) would
    /// otherwise be replayed no more than any other and can stay at a tie
    /// for thousands of steps, flipping with every update.
    pub(super) fn observe(&mut self, data: &Dataset, row_frame: &[usize], scores: &Scores) -> (usize, usize) {
        // Rows are packed time-major; collect per-frame verdicts by frame id
        // (a frame drawn twice counts twice, as it was trained twice).
        let mut verdict: std::collections::BTreeMap<usize, (bool, bool, usize)> = std::collections::BTreeMap::new();
        for ((&f, &ok), &sure) in row_frame.iter().zip(&scores.correct).zip(&scores.sure) {
            let e = verdict.entry(f).or_insert((true, true, 0));
            e.0 &= ok;
            e.1 &= sure;
            e.2 += 1;
        }
        let (mut right, mut frames) = (0, 0);
        for (f, (ok, sure, rows)) in verdict {
            self.mark(f, !sure);
            let fr = &data.frames[f];
            let copies = rows / fr.len.max(1);
            let p = fr.program as usize;
            self.seen[p].0 += copies;
            self.seen[p].1 += copies * (!ok) as usize;
            frames += copies;
            right += copies * ok as usize;
        }
        (right, frames)
    }

    fn mark(&mut self, f: usize, wrong: bool) {
        match (self.hard_at[f], wrong) {
            (None, true) => {
                self.hard_at[f] = Some(self.hard.len());
                self.hard.push(f);
            }
            (Some(i), false) => {
                self.hard.swap_remove(i);
                if let Some(&moved) = self.hard.get(i) {
                    self.hard_at[moved] = Some(i);
                }
                self.hard_at[f] = None;
            }
            _ => {}
        }
    }

    pub(super) fn reweigh(&mut self) {
        let Curriculum::Adaptive { temperature, floor, .. } = self.curriculum else {
            return;
        };
        for (e, s) in self.error.iter_mut().zip(&mut self.seen) {
            if s.0 > 0 {
                *e = s.1 as f64 / s.0 as f64;
            }
            *s = (0, 0);
        }
        let live: Vec<bool> = self.by_program.iter().map(|v| !v.is_empty()).collect();
        let top = self.error.iter().zip(&live).filter(|(_, &l)| l).map(|(&e, _)| e).fold(f64::MIN, f64::max);
        let exps: Vec<f64> = self.error.iter().zip(&live).map(|(&e, &l)| if l { ((e - top) / temperature).exp() } else { 0.0 }).collect();
        let z: f64 = exps.iter().sum();
        for (i, w) in self.weights.iter_mut().enumerate() {
            *w = (1.0 - floor) * exps[i] / z + floor * self.share[i];
        }
    }
}
