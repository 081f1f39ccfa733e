//! The Neural Programmer's training loop: questions and answers in, the
//! best checkpoint out.
//!
//! - Data: `questions` instances, spread evenly over the training sizes,
//!   generated once (from the run's seed, the same for every model seed)
//!   and shuffled every epoch. The vocabulary is the column names and the
//!   words of those questions, in the order they first occur.
//! - Step: a batch of `batch` questions, split into [`PARTS`] fixed parts
//!   whose gradients are summed in order (so the thread count changes
//!   speed, never numbers); the soft pass and its backward per question;
//!   the mean gradient's norm capped at `clip`; Gaussian noise of variance
//!   `noise / (1 + step)^noise_decay` added (Neelakantan et al. 2015);
//!   Adam.
//! - Validation every `validate_every` steps on `validation_count` fixed
//!   questions at each validation size: the hard pass's program run
//!   exactly, its answer against the reference's. The parameters with the
//!   most right answers are kept.
//! - A seed has **converged** when every validation answer is right; it
//!   stops after `patience` such validations in a row, after `give_up`
//!   validations in a row without a new best, at `steps`, or when a hook
//!   says stop (which stops every seed).
//! - `seeds K` trains seeds `seed .. seed + K` one after another and keeps
//!   the best; a converged seed ends the run.
//!
//! Architecture invariant: no clock and no IO; the caller's
//! [`TrainHooks`] see every step and may stop the run.

use super::checkpoint::{Checkpoint, CheckpointMeta, SizeScore, FORMAT};
use super::config::{ConfigError, NpConfig, TrainConfig};
use super::data::{collect_words, Encoded, Question, Vocab};
use super::exec;
use super::model::{Choice, Np, Objective, Workspace};
use super::search;
use crate::env::{TableEnvironment, TaskError};
use crate::npi::train::derive_seed;
pub use crate::hooks::{Control, Hooks, NoHooks, StopReason};
use crate::hooks::Stopping;
use crate::optim::{add_noise, FlatAdam};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use synth_compiler::TableExample;

/// The fixed parts a batch is split into.
pub const PARTS: usize = 4;

const STREAM_TRAIN: u64 = 21;
const STREAM_VALIDATION: u64 = 22;
const STREAM_INIT: u64 = 23;
const STREAM_ORDER: u64 = 24;
const STREAM_NOISE: u64 = 25;

/// One optimiser step of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub seed: u64,
    pub step: u64,
    pub epoch: u64,
    /// Mean loss of the batch.
    pub loss: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
}

/// One validation of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub seed: u64,
    pub step: u64,
    /// Per validation size.
    pub scores: Vec<SizeScore>,
    /// Mean training loss since the previous validation.
    pub loss: f64,
    /// The new best parameters of this seed.
    pub improved: bool,
    /// Every validation answer right.
    pub converged: bool,
    /// Program search so far (`search` setting): questions searched, and
    /// programs found that answer theirs.
    #[serde(default)]
    pub searched: usize,
    #[serde(default)]
    pub found: usize,
}

impl ValidationReport {
    /// Right answers over all sizes, and questions.
    pub fn right(&self) -> (usize, usize) {
        (self.scores.iter().map(|s| s.right).sum(), self.scores.iter().map(|s| s.count).sum())
    }

    /// The share of right answers.
    pub fn accuracy(&self) -> f64 {
        let (r, n) = self.right();
        r as f64 / n.max(1) as f64
    }
}

/// What the caller sees of training: [`Hooks`] over the Neural
/// Programmer's reports, and the training set once it is made.
pub trait TrainHooks: Hooks<StepReport, ValidationReport, Checkpoint> + Send {
    /// Once the training questions are generated: their number and the
    /// vocabulary's size.
    fn on_data(&mut self, _questions: usize, _vocab: usize) {}
}
impl TrainHooks for NoHooks {}

/// The result of one seed.
pub type SeedOutcome = crate::hooks::SeedOutcome<Checkpoint, ValidationReport>;

/// The result of [`train`]: its best checkpoint is the best seed's,
/// converged first, then the most right validation answers, then the
/// fewest steps.
pub type TrainOutcome = crate::hooks::RunOutcome<Checkpoint, ValidationReport>;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("generating questions: {0}")]
    Task(#[from] TaskError),
    #[error("bad question: {0}")]
    Example(String),
    #[error("cannot resume: {0}")]
    Resume(#[from] super::checkpoint::LoadError),
    #[error("cannot resume: the checkpoint's optimiser state does not load: {0}")]
    Optimizer(String),
}

/// The training questions of `cfg`, generated on `threads` threads, and
/// the vocabulary they make (`vocab` when given: a resumed model keeps
/// its own).
pub fn training_set<E: TableEnvironment + ?Sized>(env: &E, model: &NpConfig, cfg: &TrainConfig, vocab: Option<&[String]>) -> Result<(NpConfig, Vec<Encoded>), TrainError> {
    let n = cfg.questions;
    let sizes = &cfg.train_sizes;
    if sizes.is_empty() {
        return Err(ConfigError::NoTrainSizes.into());
    }
    let threads = cfg.threads().max(1);
    let mut config = model.clone();
    let mut words: Vec<String> = match vocab {
        Some(v) => v.to_vec(),
        None => collect_words(std::iter::empty(), &model.columns),
    };
    let mut out = Vec::with_capacity(n);
    // Chunks of instances generated in parallel, then folded into the
    // vocabulary and encoded in order.
    const CHUNK: usize = 2048;
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let gen = |range: std::ops::Range<usize>| -> Result<Vec<TableExample>, TaskError> {
            range.map(|i| env.example(sizes[i % sizes.len()], derive_seed(cfg.seed, STREAM_TRAIN, i as u64))).collect()
        };
        let per = (end - start).div_ceil(threads);
        let chunks: Vec<Result<Vec<TableExample>, TaskError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|k| {
                let lo = (start + k * per).min(end);
                let hi = (lo + per).min(end);
                let gen = &gen;
                s.spawn(move || gen(lo..hi))
            }).collect();
            handles.into_iter().map(|h| h.join().expect("question generator panicked")).collect()
        });
        for chunk in chunks {
            let chunk = chunk?;
            if vocab.is_none() {
                for e in &chunk {
                    for t in &e.tokens {
                        if let synth_compiler::Cell::Word(w) = t {
                            if !words.contains(w) {
                                words.push(w.clone());
                            }
                        }
                    }
                }
                config.vocab = words.clone();
            }
            let v = Vocab::new(&config);
            for e in &chunk {
                out.push(Encoded::new(&config, &v, e).map_err(|m| TrainError::Example(format!("{} rows, seed {}: {m}", e.rows, e.seed)))?);
            }
        }
    }
    // Ids never change as the vocabulary grows (words are only appended),
    // so what was encoded early stands.
    config.vocab = words;
    Ok((config, out))
}

/// The validation questions: `validation_count` at each validation size.
pub fn validation_set<E: TableEnvironment + ?Sized>(env: &E, cfg: &TrainConfig) -> Result<Vec<(usize, Vec<TableExample>)>, TrainError> {
    cfg.validation_sizes()
        .into_iter()
        .map(|size| {
            let v: Result<Vec<TableExample>, TaskError> = (0..cfg.validation_count).map(|j| env.example(size, derive_seed(cfg.seed, STREAM_VALIDATION, ((size as u64) << 24) + j as u64))).collect();
            Ok((size, v?))
        })
        .collect()
}

/// Whether the hard pass of `np` answers `e` right.
pub fn answers_right(np: &Np, e: &TableExample, ws: &mut Workspace) -> bool {
    let q = Question::new(&np.vocab, &e.tokens, &e.columns);
    let choices = np.select(&q, ws);
    let program = np.program(&q, &e.tokens, &choices);
    exec::run(&e.columns, &program) == e.answer
}

/// Trains `cfg.seeds` seeds of a fresh model of `model`'s shape (its
/// vocabulary is made from the training questions).
pub fn train<E: TableEnvironment + ?Sized>(env: &E, model: &NpConfig, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError> {
    train_from(env, model, cfg, None, hooks)
}

/// Continues training `checkpoint` for at most `cfg.steps` more steps: one
/// seed, the checkpoint's, from its parameters and step, on the same
/// questions in a fresh order and with a fresh optimiser.
pub fn resume<E: TableEnvironment + ?Sized>(env: &E, checkpoint: &Checkpoint, cfg: &TrainConfig, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError> {
    let np = checkpoint.load(env)?;
    let cfg = TrainConfig { seeds: 1, ..cfg.clone() };
    let start = Start { params: np.params, step: checkpoint.meta.step, seed: checkpoint.meta.seed, optimizer: checkpoint.optimizer.clone() };
    train_from(env, &checkpoint.meta.config, &cfg, Some(&start), hooks)
}

struct Start {
    params: Vec<f32>,
    step: u64,
    seed: u64,
    /// Adam's state then, when the checkpoint kept it.
    optimizer: Option<Vec<u8>>,
}

fn train_from<E: TableEnvironment + ?Sized>(env: &E, model: &NpConfig, cfg: &TrainConfig, start: Option<&Start>, hooks: &mut dyn TrainHooks) -> Result<TrainOutcome, TrainError> {
    let (config, data) = training_set(env, model, cfg, start.map(|_| model.vocab.as_slice()))?;
    if data.is_empty() {
        return Err(TrainError::Example("no training questions".into()));
    }
    hooks.on_data(data.len(), config.vocab.len());
    let validation = validation_set(env, cfg)?;
    let mut seeds = Vec::new();
    for k in 0..cfg.seeds.max(1) {
        let seed = start.map_or(cfg.seed.wrapping_add(k as u64), |s| s.seed);
        let o = train_seed(env, &config, cfg, seed, start, &data, &validation, hooks)?;
        let done = o.converged || o.stop == StopReason::Stopped;
        seeds.push(o);
        if done {
            break;
        }
    }
    let best_seed = (0..seeds.len()).min_by_key(|&k| (seeds[k].best.rank(), seeds[k].best.meta.step, k)).expect("at least one seed");
    Ok(TrainOutcome { best: seeds[best_seed].best.clone(), best_seed, seeds, enough: false })
}

/// How far one program search goes: distinct machine states kept per step,
/// and right programs scored by the selector.
const SEARCH_LIMITS: search::Limits = search::Limits { states: 20_000, programs: 64 };

/// The per-part state of a step: a workspace, a gradient, a loss.
struct Part {
    ws: Workspace,
    grad: Vec<f32>,
    loss: f64,
    /// Each of its examples' index and answer loss.
    losses: Vec<(usize, f64)>,
}

#[allow(clippy::too_many_arguments)]
fn train_seed<E: TableEnvironment + ?Sized>(
    env: &E,
    config: &NpConfig,
    cfg: &TrainConfig,
    seed: u64,
    start: Option<&Start>,
    data: &[Encoded],
    validation: &[(usize, Vec<TableExample>)],
    hooks: &mut dyn TrainHooks,
) -> Result<SeedOutcome, TrainError> {
    let mut np = Np::new(config, derive_seed(seed, STREAM_INIT, 0));
    let first = start.map_or(0, |s| s.step);
    if let Some(s) = start {
        np.params.copy_from_slice(&s.params);
    }
    let mut adam = FlatAdam::new(np.params.len());
    adam.eps = cfg.epsilon;
    if let Some(bytes) = start.and_then(|s| s.optimizer.as_deref()) {
        adam.load_state(bytes).map_err(TrainError::Optimizer)?;
    }
    let mut parts: Vec<Part> = (0..PARTS).map(|_| Part { ws: Workspace::new(), grad: vec![0f32; np.params.len()], loss: 0.0, losses: Vec::new() }).collect();
    let mut grad = vec![0f32; np.params.len()];
    let mut noise = ChaCha8Rng::seed_from_u64(derive_seed(seed, STREAM_NOISE, first));
    let threads = cfg.threads().clamp(1, PARTS);
    let batch = cfg.batch.min(data.len()).max(1);
    let per_epoch = (data.len() / batch).max(1) as u64;
    let mut order: Vec<usize> = Vec::new();
    let mut order_epoch = u64::MAX;
    let meta = |step: u64, converged: bool, loss: f64, validation: Vec<SizeScore>| CheckpointMeta {
        format: FORMAT,
        learner: "np".into(),
        task: env.name().into(),
        source_hash: env.source_hash().into(),
        config: config.clone(),
        seed,
        train_sizes: cfg.train_sizes.clone(),
        questions: data.len(),
        step,
        converged,
        loss,
        validation,
    };
    let mut best: Option<Checkpoint> = None;
    let mut converged = false;
    let mut losses = Vec::new();
    let mut validations = Vec::new();
    let mut window = (0.0f64, 0usize);
    let mut stopping = Stopping::new(cfg.patience, cfg.give_up);
    let mut stop = StopReason::Steps;
    let mut vws = Workspace::new();
    // Programs found by search that answer a training question, by
    // question (not kept in checkpoints: a resumed run searches again).
    let mut memory: Vec<Option<Vec<Choice>>> = vec![None; data.len()];
    let (mut searched, mut remembered) = (0usize, 0usize);
    let mut step = first;
    let end = first.saturating_add(cfg.steps);

    while step < end {
        let epoch = step / per_epoch;
        if epoch != order_epoch {
            order = (0..data.len()).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(seed, STREAM_ORDER, epoch)));
            order_epoch = epoch;
        }
        let at = (step % per_epoch) as usize * batch;
        let ids = &order[at..at + batch];
        step += 1;
        let per = batch.div_ceil(PARTS);
        let objective = Objective { huber: cfg.huber as f32, lookup_weight: cfg.lookup_weight as f32, entropy: cfg.entropy_at(step) as f32 };
        let imitate = cfg.imitate as f32;
        let work = |part: &mut Part, k: usize| {
            part.grad.fill(0.0);
            part.loss = 0.0;
            part.losses.clear();
            for &i in ids.iter().skip(k * per).take(per) {
                let l = match &memory[i] {
                    Some(p) => np.forward_toward(&data[i], objective, p, imitate, &mut part.ws),
                    None => np.forward(&data[i], objective, None, &mut part.ws),
                };
                np.backward(&data[i], &mut part.ws, &mut part.grad);
                part.loss += l.loss;
                part.losses.push((i, l.loss));
            }
        };
        if threads == 1 {
            for (k, p) in parts.iter_mut().enumerate() {
                work(p, k);
            }
        } else {
            let per_thread = PARTS.div_ceil(threads);
            std::thread::scope(|s| {
                for (c, chunk) in parts.chunks_mut(per_thread).enumerate() {
                    let work = &work;
                    s.spawn(move || {
                        for (k, p) in chunk.iter_mut().enumerate() {
                            work(p, c * per_thread + k);
                        }
                    });
                }
            });
        }
        grad.fill(0.0);
        let mut loss = 0.0;
        for p in &parts {
            crate::kernels::add_into(&mut grad, &p.grad);
            loss += p.loss;
        }
        if cfg.search > 0 {
            // The worst-answered examples whose hard program is wrong:
            // search for a program that answers them, remember it (in place
            // of the one found before: the selector ranks them better as it
            // learns), and pull toward it from this step on.
            let mut worst: Vec<(usize, f64)> = parts.iter().flat_map(|p| p.losses.iter().copied()).collect();
            worst.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let ws = &mut parts[0].ws;
            let mut tried = 0;
            for &(i, _) in &worst {
                if tried == cfg.search {
                    break;
                }
                let e = &data[i];
                let hard = np.select(&e.question, ws);
                if np.answers(e, &hard, ws) {
                    continue;
                }
                tried += 1;
                searched += 1;
                if let Some(p) = search::search(&np, e, SEARCH_LIMITS, ws) {
                    debug_assert!(np.answers(e, &p, ws), "a program the search found does not answer");
                    if memory[i].as_ref() != Some(&p) {
                        np.forward_toward(e, objective, &p, imitate, ws);
                        np.backward(e, ws, &mut grad);
                        memory[i] = Some(p);
                    }
                    remembered += 1;
                }
            }
        }
        loss /= batch as f64;
        let inv = 1.0 / batch as f32;
        grad.iter_mut().for_each(|g| *g *= inv);
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
            adam.step(&mut np.params, &grad, cfg.lr, 0.0);
        }
        losses.push(loss as f32);
        window = (window.0 + loss, window.1 + 1);
        let mut control = hooks.on_step(&StepReport { seed, step, epoch, loss, grad_norm: norm });
        if step.is_multiple_of(cfg.validate_every) || step == end || control == Control::Stop {
            let scores: Vec<SizeScore> = validation
                .iter()
                .map(|(size, examples)| SizeScore { size: *size, count: examples.len(), right: examples.iter().filter(|e| answers_right(&np, e, &mut vws)).count() })
                .collect();
            let now_converged = scores.iter().all(|s| s.right == s.count);
            converged |= now_converged;
            let mean_loss = window.0 / window.1.max(1) as f64;
            window = (0.0, 0);
            let rank = (!now_converged, scores.iter().map(|s| s.count - s.right).sum::<usize>());
            let improved = best.as_ref().is_none_or(|b| rank < b.rank());
            if improved {
                best = Some(Checkpoint::save(&np, meta(step, now_converged, mean_loss, scores.clone())).with_optimizer(&adam));
            }
            let report = ValidationReport { seed, step, scores, loss: mean_loss, improved, converged: now_converged, searched, found: remembered };
            let ends = stopping.record(now_converged, improved);
            if let Some(b) = &best {
                if hooks.on_validation(&report, b) == Control::Stop {
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
            stop = StopReason::Stopped;
            break;
        }
    }
    let best = best.unwrap_or_else(|| Checkpoint::save(&np, meta(step, false, f64::NAN, Vec::new())));
    Ok(SeedOutcome { seed, best, converged, steps: step, stop, losses, validations })
}
