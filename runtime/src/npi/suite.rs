//! One NPI for several tasks (the paper's multi-task model, its Table 1),
//! and new programs learned on a frozen core (its section 4.3).
//!
//! A suite model has one program memory, one fuse layer, one core and one
//! set of heads for all its tasks, and one encoder per world: tasks whose
//! `world` items are the same text share one. With `vision: cnn`, the
//! encoder of a world with an image has its own CNN (`encoder.{w}.cnn`). Programs are shared by
//! definition ([`Environment::definitions`]): the same program in two task
//! files (same name, same text, same callees, same world) is one program of
//! the model, and `ACT` is one program everywhere, as in the paper.
//!
//! Each task sees the model through a *view* ([`Suite::view`]): an ordinary
//! single-task [`Npi`] whose encoder is its world's, whose program memory
//! holds its own programs (and "no call") and whose argument head holds its
//! own argument values. A view's tensors are selections of the suite's
//! variables, so the loss on a task's batch trains the suite. The program
//! and argument heads choose among the task's own programs and values: a
//! run of one task never calls another's program. A view can be written out
//! as a single-task checkpoint ([`SuiteCheckpoint::task`]), so `eval` and `run`
//! work on a suite unchanged.
//!
//! Training ([`train_suite`]) takes one task per step, each with its own
//! traces, curriculum and validation inputs; the tasks that fail most
//! validation inputs are drawn most often. With [`Trainable::New`],
//! only the programs and encoders the suite did not have before are
//! updated: every other weight keeps its bits, so the old tasks cannot move.

use super::checkpoint::{message, Checkpoint, CheckpointMeta, LoadError, SizeScore, FORMAT};
use super::config::{NpiConfig, TrainConfig};
use super::data::{Dataset, ModelShape};
use super::infer::Engine;
use super::model::{Encoder, Npi};
use super::train::{derive_seed, training_traces, Kept, Sampler, StepReport, TrainError, ValidationReport, ValidationSet, STREAM_INIT, STREAM_SAMPLER, STREAM_TASKS};
use crate::env::Environment;
use crate::hooks::{Control, Hooks, StopReason};
use crate::optim::Adam;
use crate::params::{self, SeededInit};
use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// One program of a suite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteProgram {
    pub name: String,
    pub arity: usize,
    /// What makes two tasks' programs one ([`Environment::definitions`]).
    pub definition: String,
}

/// One encoder of a suite: the world it reads and the width of its input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteWorld {
    pub definition: String,
    pub input_width: usize,
}

/// One task of a suite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteTask {
    pub name: String,
    pub source_hash: String,
    /// The task's own layout: its program ids, its argument values.
    pub shape: ModelShape,
    /// Its encoder, an index into [`SuiteShape::worlds`].
    pub world: usize,
    /// The suite program of each of the task's programs.
    pub programs: Vec<usize>,
    /// The task's program that runs first.
    pub entry: usize,
    /// `(program, row)`: the task's programs that call by a key of their
    /// own, row `row` of the suite's `memory.alias_keys`: a program that no
    /// task before called (another task's entry) has a key nobody trained
    /// to be called, so a task that calls it learns one of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<(usize, usize)>,
}

/// What a suite model is made of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteShape {
    pub programs: Vec<SuiteProgram>,
    pub worlds: Vec<SuiteWorld>,
    /// The most argument values of any task; the argument head has one
    /// class more (no argument) per slot.
    pub arg_classes: u16,
    pub tasks: Vec<SuiteTask>,
    /// Rows of `memory.alias_keys` ([`SuiteTask::aliases`]).
    #[serde(default)]
    pub alias_keys: usize,
}

/// Why tasks cannot form a suite.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SuiteError {
    #[error("task `{0}` is in the model already")]
    Duplicate(String),
    #[error("program `{name}` takes {first} arguments in one task and {second} in `{task}`; give one of them another name")]
    Arity { name: String, task: String, first: usize, second: usize },
    #[error("a model of several tasks needs the same observation for every task of one world: `{task}`'s input is {found} wide, its world's encoder reads {expected}")]
    Width { task: String, expected: usize, found: usize },
}

impl SuiteShape {
    pub fn empty() -> SuiteShape {
        SuiteShape { programs: Vec::new(), worlds: Vec::new(), arg_classes: 0, tasks: Vec::new(), alias_keys: 0 }
    }

    /// This suite with `env` added: its programs that are not in the suite
    /// yet become new programs, its world a new encoder unless a task of
    /// the same world is there.
    pub fn with<E: Environment + ?Sized>(&self, env: &E, config: &NpiConfig) -> Result<SuiteShape, SuiteError> {
        self.adding(env, config, false)
    }

    /// [`SuiteShape::with`] for a task that will train on a frozen core
    /// (`--freeze core`): it calls every program the suite had before by a
    /// key of its own, starting from the program's trained key. A frozen
    /// core can rarely be steered to a trained key from where a new program
    /// stands (RJMP's first step is to call RSHIFT, which no trained frame
    /// does at its first step), so the new task moves the key to its
    /// queries instead; the old tasks keep theirs.
    pub fn with_own_keys<E: Environment + ?Sized>(&self, env: &E, config: &NpiConfig) -> Result<SuiteShape, SuiteError> {
        self.adding(env, config, true)
    }

    fn adding<E: Environment + ?Sized>(&self, env: &E, config: &NpiConfig, own_keys: bool) -> Result<SuiteShape, SuiteError> {
        if self.task(env.name()).is_some() {
            return Err(SuiteError::Duplicate(env.name().into()));
        }
        let mut out = self.clone();
        let shape = ModelShape::for_model(env, config);
        let definition = env.world_definition();
        let width = shape.input_width();
        let world = match out.worlds.iter().position(|w| w.definition == definition) {
            Some(w) if out.worlds[w].input_width != width => {
                return Err(SuiteError::Width { task: env.name().into(), expected: out.worlds[w].input_width, found: width })
            }
            Some(w) => w,
            None => {
                out.worlds.push(SuiteWorld { definition, input_width: width });
                out.worlds.len() - 1
            }
        };
        let mut programs = Vec::new();
        for ((name, &arity), definition) in shape.programs.iter().zip(&shape.arities).zip(env.definitions()) {
            let id = match out.programs.iter().position(|p| p.definition == definition) {
                Some(id) if out.programs[id].arity != arity && name != "ACT" => {
                    return Err(SuiteError::Arity { name: name.clone(), task: env.name().into(), first: out.programs[id].arity, second: arity });
                }
                Some(id) => id,
                None => {
                    out.programs.push(SuiteProgram { name: name.clone(), arity, definition });
                    out.programs.len() - 1
                }
            };
            programs.push(id);
        }
        // A program the tasks before only ever ran as their entry, which
        // this task calls (or, with `own_keys`, any program they had): a
        // key of its own.
        let entry = env.entry() as usize;
        let mut aliases = Vec::new();
        for (local, &p) in programs.iter().enumerate() {
            let before = self.tasks.iter().any(|t| t.programs.contains(&p));
            if local != entry && before && (own_keys || !self.called(p)) {
                aliases.push((local, out.alias_keys));
                out.alias_keys += 1;
            }
        }
        out.arg_classes = out.arg_classes.max(shape.arg_classes);
        out.tasks.push(SuiteTask { name: env.name().into(), source_hash: env.source_hash().into(), shape, world, programs, entry, aliases });
        Ok(out)
    }

    /// Whether some task calls suite program `p` (rather than only running
    /// it as its entry).
    fn called(&self, p: usize) -> bool {
        self.tasks.iter().any(|t| t.programs.contains(&p) && t.programs[t.entry] != p)
    }

    /// The image world `w`'s encoder input shows, if any: its tasks'
    /// (tasks of one world observe alike).
    pub fn image(&self, w: usize) -> Option<&synth_compiler::task::ImageSpec> {
        self.tasks.iter().find(|t| t.world == w)?.shape.image.as_ref()
    }

    /// The index of the task called `name`.
    pub fn task(&self, name: &str) -> Option<usize> {
        self.tasks.iter().position(|t| t.name == name)
    }

    /// The tasks' names, in order.
    pub fn task_names(&self) -> Vec<&str> {
        self.tasks.iter().map(|t| t.name.as_str()).collect()
    }

    /// Rows of the suite's argument head that task `t`'s view keeps: per
    /// slot, its own values and then "no argument".
    fn arg_rows(&self, t: usize) -> Vec<u32> {
        let width = self.arg_classes as u32 + 1;
        let own = self.tasks[t].shape.arg_classes as u32;
        let mut rows = Vec::new();
        for s in 0..synth_compiler::ARG_SLOTS as u32 {
            rows.extend((0..own).map(|c| s * width + c));
            rows.push(s * width + width - 1);
        }
        rows
    }
}

/// A suite model: its shape and its variables.
pub struct Suite {
    pub config: NpiConfig,
    pub shape: SuiteShape,
    pub varmap: VarMap,
}

impl Suite {
    /// A fresh model with parameters drawn from `seed`.
    pub fn new(config: &NpiConfig, shape: &SuiteShape, seed: u64) -> candle_core::Result<Suite> {
        let c = config;
        let varmap = VarMap::new();
        let vb = SeededInit::builder(&varmap, seed, &Device::Cpu);
        let m = vb.pp("memory");
        let n = shape.programs.len();
        let randn = Init::Randn { mean: 0.0, stdev: 1.0 };
        m.get_with_hints((n, c.embedding), "embeddings", randn)?;
        m.get_with_hints((n, c.key), "keys", randn)?;
        m.get_with_hints((1, c.key), "no_call", randn)?;
        if shape.alias_keys > 0 {
            m.get_with_hints((shape.alias_keys, c.key), "alias_keys", Init::Const(0.0))?;
        }
        let (_, core, _) = Npi::shared_parts(c, &vb, shape.arg_classes as usize + 1)?;
        Npi::init_core_bias(&core, &varmap)?;
        for (w, world) in shape.worlds.iter().enumerate() {
            Encoder::new(vb.pp(format!("encoder.{w}")), c, world.input_width, shape.image(w))?;
        }
        Ok(Suite { config: c.clone(), shape: shape.clone(), varmap })
    }

    /// This model grown to `shape` (this shape with tasks added): every
    /// weight it has is kept; new programs' embeddings, new encoders and new
    /// argument values start from `seed`, new programs' keys at zero.
    pub fn grown(&self, shape: &SuiteShape, seed: u64) -> candle_core::Result<Suite> {
        let out = Suite::new(&self.config, shape, seed)?;
        let (old_a, new_a) = (self.shape.arg_classes as usize + 1, shape.arg_classes as usize + 1);
        for (name, var) in params::sorted_vars(&self.varmap) {
            let old: Vec<f32> = var.as_tensor().flatten_all()?.to_vec1()?;
            let target = out.varmap.data().lock().unwrap().get(&name).cloned();
            let Some(target) = target else { candle_core::bail!("the grown model has no `{name}`") };
            let mut values: Vec<f32> = target.as_tensor().flatten_all()?.to_vec1()?;
            match name.as_str() {
                // Old programs' rows first, new ones after.
                "memory.embeddings" => values[..old.len()].copy_from_slice(&old),
                // A new program's key starts at zero: its logit is 0 where
                // the trained keys' are large, so it is not called in place
                // of a trained program before it has learned where it is
                // (random keys took over a trained model's calls).
                "memory.keys" | "memory.alias_keys" => {
                    values[..old.len()].copy_from_slice(&old);
                    values[old.len()..].fill(0.0);
                }
                // Per slot: the old values' rows, then "no argument".
                "heads.args.weight" | "heads.args.bias" => {
                    let cols = old.len() / (synth_compiler::ARG_SLOTS * old_a);
                    for s in 0..synth_compiler::ARG_SLOTS {
                        for c in 0..old_a {
                            let to = if c + 1 == old_a { new_a - 1 } else { c };
                            let (from, to) = ((s * old_a + c) * cols, (s * new_a + to) * cols);
                            values[to..to + cols].copy_from_slice(&old[from..from + cols]);
                        }
                    }
                }
                _ => values = old,
            }
            target.set(&Tensor::from_vec(values, target.shape(), target.device())?)?;
        }
        // A new task's own key of a program some task calls starts as that
        // program's trained key.
        let keys: Vec<Vec<f32>> = self.varmap.data().lock().unwrap()["memory.keys"].as_tensor().to_vec2()?;
        let alias = out.varmap.data().lock().unwrap().get("memory.alias_keys").cloned();
        if let Some(alias) = alias {
            let mut rows: Vec<Vec<f32>> = alias.as_tensor().to_vec2()?;
            for task in &shape.tasks {
                for &(local, row) in &task.aliases {
                    let p = task.programs[local];
                    if row >= self.shape.alias_keys && p < keys.len() && self.shape.called(p) {
                        rows[row] = keys[p].clone();
                    }
                }
            }
            let flat: Vec<f32> = rows.into_iter().flatten().collect();
            alias.set(&Tensor::from_vec(flat, alias.shape(), alias.device())?)?;
        }
        Ok(out)
    }

    /// Task `t`'s view: a single-task model over this suite's variables
    /// (see the module doc). Build it anew after an optimiser step: its
    /// program memory and argument head are copies.
    pub fn view(&self, t: usize) -> candle_core::Result<Npi> {
        Ok(self.view_named(t, false)?.0)
    }

    fn view_named(&self, t: usize, record: bool) -> candle_core::Result<(Npi, Vec<(String, Tensor)>)> {
        let task = &self.shape.tasks[t];
        let programs: Vec<u32> = task.programs.iter().map(|&p| p as u32).collect();
        // Rows of [keys; alias keys; no call].
        let n = self.shape.programs.len() as u32;
        let mut keys = programs.clone();
        for &(local, row) in &task.aliases {
            keys[local] = n + row as u32;
        }
        keys.push(n + self.shape.alias_keys as u32);
        let rows = self.shape.arg_rows(t);
        let backend = View {
            varmap: self.varmap.clone(),
            world: task.world,
            programs: Tensor::new(programs.as_slice(), &Device::Cpu)?,
            keys: Tensor::new(keys.as_slice(), &Device::Cpu)?,
            arg_rows: Tensor::new(rows.as_slice(), &Device::Cpu)?,
        };
        let recorded = std::sync::Arc::new(Mutex::new(Vec::new()));
        let backend = Recording { inner: backend, out: recorded.clone(), on: record };
        let vb = VarBuilder::from_backend(Box::new(backend), DType::F32, Device::Cpu);
        let npi = Npi::build(&self.config, &task.shape, self.varmap.clone(), vb)?;
        let named = std::mem::take(&mut *recorded.lock().unwrap());
        Ok((npi, named))
    }

    /// Task `t` as a single-task checkpoint whose weights are copies of its
    /// view's ([`Suite::task_weights`]), with `meta` (its config and shape
    /// are set here).
    pub fn task_checkpoint(&self, t: usize, mut meta: CheckpointMeta) -> candle_core::Result<Checkpoint> {
        meta.config = self.config.clone();
        meta.shape = self.shape.tasks[t].shape.clone();
        Ok(Checkpoint { meta, weights: self.task_weights(t)?, optimizer: None })
    }

    /// Task `t`'s view's weights as safetensors bytes, under the names of a
    /// single-task model: two suites give task `t` the same bytes exactly
    /// when its model is the same.
    pub fn task_weights(&self, t: usize) -> candle_core::Result<Vec<u8>> {
        let (_, named) = self.view_named(t, true)?;
        let varmap = VarMap::new();
        {
            let mut data = varmap.data().lock().unwrap();
            for (name, tensor) in named {
                data.insert(name, Var::from_tensor(&tensor.detach())?);
            }
        }
        params::to_safetensors(&varmap)
    }
}

/// The `VarBuilder` backend of a view: a single-task model's names mapped
/// onto the suite's variables.
struct View {
    varmap: VarMap,
    world: usize,
    programs: Tensor,
    /// Rows of `[keys; alias keys; no call]` in the task's order.
    keys: Tensor,
    arg_rows: Tensor,
}

impl View {
    fn tensor(&self, name: &str) -> candle_core::Result<Tensor> {
        let var = |n: &str| -> candle_core::Result<Tensor> {
            match self.varmap.data().lock().unwrap().get(n) {
                Some(v) => Ok(v.as_tensor().clone()),
                None => candle_core::bail!("the model has no `{n}`"),
            }
        };
        match name {
            "memory.embeddings" => var(name)?.index_select(&self.programs, 0),
            "memory.keys" => {
                let mut all = vec![var(name)?];
                if let Ok(aliases) = var("memory.alias_keys") {
                    all.push(aliases);
                }
                all.push(var("memory.no_call")?);
                Tensor::cat(&all, 0)?.index_select(&self.keys, 0)
            }
            "heads.args.weight" | "heads.args.bias" => var(name)?.index_select(&self.arg_rows, 0),
            n => match n.strip_prefix("encoder.") {
                Some(rest) => var(&format!("encoder.{}.{rest}", self.world)),
                None => var(n),
            },
        }
    }
}

impl candle_nn::var_builder::SimpleBackend for View {
    fn get(&self, s: Shape, name: &str, _h: Init, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        let t = self.tensor(name)?;
        if t.shape() != &s {
            candle_core::bail!("`{name}` is {:?} in the model, the task's view needs {:?}", t.dims(), s.dims());
        }
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        self.tensor(name)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensor(name).is_ok()
    }
}

/// A [`View`] that also keeps every tensor it hands out, by the name it was
/// asked for (what a single-task checkpoint of the view holds).
struct Recording {
    inner: View,
    out: std::sync::Arc<Mutex<Vec<(String, Tensor)>>>,
    on: bool,
}

impl candle_nn::var_builder::SimpleBackend for Recording {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let t = self.inner.get(s, name, h, dtype, dev)?;
        if self.on {
            self.out.lock().unwrap().push((name.to_string(), t.clone()));
        }
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.inner.get_unchecked(name, dtype, dev)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.inner.contains_tensor(name)
    }
}

/// What a task of a suite was trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trained {
    pub task: String,
    pub train_sizes: Vec<usize>,
    pub traces: usize,
    /// Trained with every weight of the model it was added to frozen.
    pub frozen: bool,
}

/// What a suite checkpoint's weights are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuiteMeta {
    pub format: u32,
    pub learner: String,
    pub config: NpiConfig,
    pub suite: SuiteShape,
    pub seed: u64,
    pub trained: Vec<Trained>,
    /// Optimiser steps taken when the weights were saved (in the last run).
    pub step: u64,
    pub loss: f64,
    /// Closed-loop exact matches at that step, per task and size.
    pub validation: Vec<SizeScore>,
}

/// A trained suite: metadata and safetensors bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct SuiteCheckpoint {
    pub meta: SuiteMeta,
    pub weights: Vec<u8>,
}

impl SuiteCheckpoint {
    pub fn save(suite: &Suite, meta: SuiteMeta) -> candle_core::Result<SuiteCheckpoint> {
        Ok(SuiteCheckpoint { meta: SuiteMeta { config: suite.config.clone(), suite: suite.shape.clone(), ..meta }, weights: params::to_safetensors(&suite.varmap)? })
    }

    /// The model, its weights checked against the metadata by name, shape
    /// and finiteness.
    pub fn suite(&self) -> Result<Suite, LoadError> {
        let m = &self.meta;
        if m.format != FORMAT {
            return Err(LoadError::Format { found: m.format });
        }
        if m.learner != "npi" {
            return Err(LoadError::Learner { found: m.learner.clone() });
        }
        if !m.config.is_valid() {
            return Err(LoadError::Config(format!("{:?}", m.config)));
        }
        let varmap = params::from_safetensors(&self.weights, &Device::Cpu).map_err(|e| LoadError::Weights(message(&e)))?;
        // What the metadata says the weights are.
        let want = Suite::new(&m.config, &m.suite, 0).map_err(|e| LoadError::Config(message(&e)))?;
        let have = params::sorted_vars(&varmap);
        let expected = params::sorted_vars(&want.varmap);
        if have.len() != expected.len() {
            return Err(LoadError::Mismatch(format!("{} tensors, the model has {}", have.len(), expected.len())));
        }
        for ((name, var), (want_name, want_var)) in have.iter().zip(&expected) {
            if name != want_name || var.shape() != want_var.shape() {
                return Err(LoadError::Mismatch(format!("`{name}` {:?} where the model has `{want_name}` {:?}", var.dims(), want_var.dims())));
            }
            let values = var.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(|e| LoadError::Weights(message(&e)))?;
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                return Err(LoadError::Weights(format!("`{name}` holds {v}")));
            }
        }
        Ok(Suite { config: m.config.clone(), shape: m.suite.clone(), varmap })
    }

    /// The single-task checkpoint of `env`'s task, checked against `env`
    /// like any checkpoint ([`Checkpoint::check`]).
    pub fn task<E: Environment + ?Sized>(&self, env: &E) -> Result<Checkpoint, LoadError> {
        let Some(t) = self.meta.suite.task(env.name()) else {
            return Err(LoadError::NotInSuite { task: env.name().into(), tasks: self.meta.suite.task_names().iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ") });
        };
        let suite = self.suite()?;
        let trained = self.meta.trained.iter().rfind(|x| x.task == env.name());
        let task = &self.meta.suite.tasks[t];
        let meta = CheckpointMeta {
            format: FORMAT,
            learner: "npi".into(),
            task: task.name.clone(),
            source_hash: task.source_hash.clone(),
            config: self.meta.config.clone(),
            shape: task.shape.clone(),
            seed: self.meta.seed,
            train_sizes: trained.map(|x| x.train_sizes.clone()).unwrap_or_default(),
            traces: trained.map_or(0, |x| x.traces),
            step: self.meta.step,
            loss: self.meta.loss,
            validation: self.meta.validation.iter().filter(|s| s.task.as_deref() == Some(env.name())).map(|s| SizeScore { task: None, ..s.clone() }).collect(),
        };
        let ckpt = suite.task_checkpoint(t, meta).map_err(|e| LoadError::Mismatch(message(&e)))?;
        ckpt.check(env)?;
        Ok(ckpt)
    }
}

/// Which weights a suite run trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trainable {
    /// Every weight.
    All,
    /// Only the programs from index `programs` on, the encoders from index
    /// `worlds` on, the argument values from `arg_classes` on and the alias
    /// keys from `alias_keys` on: what the model did not have before (the
    /// paper's new programs on a frozen core).
    New { programs: usize, worlds: usize, arg_classes: u16, alias_keys: usize },
}

impl Trainable {
    /// What is new in `suite` against `before`, the model it grew from.
    pub fn new_in(before: &SuiteShape) -> Trainable {
        Trainable::New { programs: before.programs.len(), worlds: before.worlds.len(), arg_classes: before.arg_classes, alias_keys: before.alias_keys }
    }
}

/// Keeps only the gradients of what `trainable` lets train.
fn restrict(grads: &mut candle_core::backprop::GradStore, suite: &Suite, trainable: Trainable) -> candle_core::Result<()> {
    let Trainable::New { programs, worlds, arg_classes, alias_keys } = trainable else { return Ok(()) };
    let width = suite.shape.arg_classes as usize + 1;
    for (name, var) in params::sorted_vars(&suite.varmap) {
        let new_world = name.strip_prefix("encoder.").and_then(|r| r.split('.').next()).and_then(|w| w.parse::<usize>().ok()).is_some_and(|w| w >= worlds);
        if new_world {
            continue;
        }
        let Some(g) = grads.remove(var.as_tensor()) else { continue };
        let n = var.dims()[0];
        let new_row: Option<Box<dyn Fn(usize) -> bool>> = match name.as_str() {
            "memory.embeddings" | "memory.keys" => Some(Box::new(|p| p >= programs)),
            "memory.alias_keys" => Some(Box::new(|r| r >= alias_keys)),
            // Per slot: the values the old tasks did not have; not "no
            // argument", which they all use.
            "heads.args.weight" | "heads.args.bias" => Some(Box::new(|r| (arg_classes as usize..width - 1).contains(&(r % width)))),
            _ => None,
        };
        if let Some(new_row) = new_row {
            let mask: Vec<f32> = (0..n).map(|r| new_row(r) as u8 as f32).collect();
            let shape: Vec<usize> = std::iter::once(n).chain(std::iter::repeat_n(1, var.rank() - 1)).collect();
            let mask = Tensor::from_vec(mask, shape, &Device::Cpu)?;
            grads.insert(var.as_tensor(), g.broadcast_mul(&mask)?);
        }
    }
    Ok(())
}

/// One task a suite run trains on: its environment and its own data and
/// validation settings (its `learn` block's).
pub struct SuiteJob<'a, E> {
    pub env: &'a E,
    pub cfg: TrainConfig,
}

/// The result of [`train_suite`].
#[derive(Clone, Debug)]
pub struct SuiteOutcome {
    pub best: SuiteCheckpoint,
    pub steps: u64,
    pub stop: StopReason,
    pub losses: Vec<f32>,
    pub validations: Vec<ValidationReport>,
}

/// Trains `suite` on `jobs` (tasks of the suite), one task per step
/// ([`TaskPicker`]). `cfg` holds the loop's settings (steps, batch, rate, validation
/// rhythm, stopping, seed, threads); each job's own config its traces and
/// validation inputs. `trained` is what the checkpoint records the suite was
/// trained on before this run.
pub fn train_suite<E>(
    mut suite: Suite,
    jobs: &[SuiteJob<E>],
    trainable: Trainable,
    cfg: &TrainConfig,
    trained: Vec<Trained>,
    hooks: &mut dyn Hooks<StepReport, ValidationReport, SuiteCheckpoint>,
) -> Result<SuiteOutcome, TrainError>
where
    E: Environment,
    E::Instance: Send,
{
    let threads = cfg.threads();
    let dev = Device::Cpu;
    let mut tasks = Vec::with_capacity(jobs.len());
    for (k, job) in jobs.iter().enumerate() {
        let Some(t) = suite.shape.task(job.env.name()) else {
            return Err(TrainError::Task(crate::env::TaskError::new(format!("task `{}` is not in the model", job.env.name()))));
        };
        let job_cfg = TrainConfig { seed: cfg.seed, ..job.cfg.clone() };
        let traces = training_traces(job.env, &suite.config, &job_cfg)?;
        let data = Dataset::from_traces(&suite.shape.tasks[t].shape, &traces);
        if data.frames.is_empty() {
            return Err(TrainError::NoData);
        }
        let sampler = Sampler::new(&data, cfg.curriculum, derive_seed(cfg.seed, STREAM_SAMPLER, derive_seed(k as u64, STREAM_TASKS, 0)));
        let validation = ValidationSet::new(job.env, &job_cfg)?;
        tasks.push((t, data, sampler, validation));
    }
    if tasks.is_empty() {
        return Err(TrainError::NoData);
    }
    let mut record = trained;
    for job in jobs {
        record.retain(|x| x.task != job.env.name());
        record.push(Trained { task: job.env.name().into(), train_sizes: job.cfg.train_sizes.clone(), traces: job.cfg.traces, frozen: trainable != Trainable::All });
    }
    let mut opt = Adam::new(&suite.varmap);
    let cpu = crate::kernels::Cpu::default();
    opt.cpu = cpu;
    let meta = |step: u64, loss: f64, validation: Vec<SizeScore>| SuiteMeta {
        format: FORMAT,
        learner: "npi".into(),
        config: suite.config.clone(),
        suite: suite.shape.clone(),
        seed: cfg.seed,
        trained: record.clone(),
        step,
        loss,
        validation,
    };
    let mut kept = Kept::new(cfg, None);
    let mut losses = Vec::new();
    let mut stop = StopReason::Steps;
    let mut step = 0u64;
    let mut picker = TaskPicker::new(jobs.len(), derive_seed(cfg.seed, STREAM_TASKS, 1));
    while step < cfg.steps {
        step += 1;
        let k = picker.next();
        let (t, data, sampler, _) = &mut tasks[k];
        let mut view = suite.view(*t)?;
        view.set_threads(threads);
        view.set_cpu(cpu);
        let ids = sampler.sample(cfg.batch);
        let batch = data.batch(&ids, &dev)?;
        let out = view.forward(&batch)?;
        let loss = view.loss(&out, &batch)?;
        let mut grads = view.backward(&loss)?;
        restrict(&mut grads, &suite, trainable)?;
        let lr = kept.lr_scale * cfg.lr * cfg.lr_decay.powi((step / cfg.lr_decay_every.max(1)) as i32);
        let grad_norm = opt.step(&grads, lr, cfg.clip, threads)?;
        let loss = loss.to_scalar::<f32>()?;
        losses.push(loss);
        let scores = out.score(&batch)?;
        let (right, frames) = sampler.observe(data, &batch.row_frame, &scores);
        kept.add_step(loss as f64, right, frames);
        if step.is_multiple_of(sampler.every()) {
            sampler.reweigh();
        }
        let report = StepReport { step, loss: loss as f64, lr, grad_norm, frames: ids.len(), rows: batch.rows() };
        let mut control = hooks.on_step(&report);
        if step.is_multiple_of(cfg.validate_every) || step == cfg.steps || control == Control::Stop {
            let mut scores = Vec::new();
            for ((t, _, _, validation), job) in tasks.iter().zip(jobs) {
                let mut view = suite.view(*t)?;
                view.set_cpu(cpu);
                let engine = Engine::new(&view)?;
                let (task_scores, _) = validation.run(job.env, &engine, threads, false)?;
                scores.extend(task_scores.into_iter().map(|s| SizeScore { task: Some(job.env.name().into()), ..s }));
            }
            picker.reweigh(jobs.iter().map(|j| {
                let of = scores.iter().filter(|s| s.task.as_deref() == Some(j.env.name()));
                let (e, c) = of.fold((0, 0), |(e, c), s| (e + s.exact, c + s.count));
                1.0 - e as f64 / c.max(1) as f64
            }));
            let (hook, ends) = kept.validated(step, scores, |loss, scores| SuiteCheckpoint::save(&suite, meta(step, loss, scores.to_vec())), hooks)?;
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
        None => SuiteCheckpoint::save(&suite, meta(step, f64::NAN, Vec::new()))?,
    };
    // The suite is moved in so that nothing else holds its variables while
    // they train; it is not needed after.
    suite.varmap = VarMap::new();
    Ok(SuiteOutcome { best, steps: step, stop, losses, validations })
}

/// Which task trains at each step: drawn with probability
/// `FLOOR / tasks + (1 - FLOOR) * error / total error`, where a task's
/// error is its share of failed inputs at the last validation (every task
/// alike before the first, or when none fails). A task that learns slowly
/// gets most steps; one already learned keeps a share, so that what the
/// others teach the shared core does not make it forget.
struct TaskPicker {
    weights: Vec<f64>,
    rng: ChaCha8Rng,
}

impl TaskPicker {
    const FLOOR: f64 = 0.5;

    fn new(tasks: usize, seed: u64) -> TaskPicker {
        TaskPicker { weights: vec![1.0 / tasks as f64; tasks], rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    fn next(&mut self) -> usize {
        let mut u: f64 = self.rng.random();
        for (k, &w) in self.weights.iter().enumerate() {
            if u < w {
                return k;
            }
            u -= w;
        }
        self.weights.len() - 1
    }

    fn reweigh(&mut self, errors: impl Iterator<Item = f64>) {
        let errors: Vec<f64> = errors.collect();
        let n = errors.len() as f64;
        let total: f64 = errors.iter().sum();
        for (w, e) in self.weights.iter_mut().zip(&errors) {
            *w = if total > 0.0 { Self::FLOOR / n + (1.0 - Self::FLOOR) * e / total } else { 1.0 / n };
        }
    }
}

/// A fresh suite of `envs` with parameters from `seed`'s init stream.
pub fn new_suite<E: Environment + ?Sized>(envs: &[&E], config: &NpiConfig, seed: u64) -> Result<Suite, TrainError> {
    let mut shape = SuiteShape::empty();
    for env in envs {
        shape = shape.with(*env, config).map_err(|e| TrainError::Task(crate::env::TaskError::new(e.to_string())))?;
    }
    Ok(Suite::new(config, &shape, derive_seed(seed, STREAM_INIT, 0))?)
}

/// The seed the new parts of a suite grown from one of `tasks` tasks start
/// from ([`Suite::grown`]): the init stream of the run's seed, apart from
/// the fresh model's.
pub fn growth_seed(seed: u64, tasks: usize) -> u64 {
    derive_seed(seed, STREAM_INIT, 1 + tasks as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npi::config::Vision;
    use crate::npi::data::tests::{trace_of, PoseTask};
    use crate::npi::infer::{Scratch, StepInputs};

    /// With `vision: cnn`, a world with an image has a CNN of its own under
    /// its encoder's prefix: a task's view uses it, its loss trains it, the
    /// task's single-task weights hold it and the engine runs it.
    #[test]
    fn a_world_with_an_image_has_its_own_cnn() {
        let cfg = NpiConfig { hidden: 8, layers: 1, embedding: 4, key: 4, encoder: 8, state: 8, fuse_hidden: 8, vision: Vision::Cnn, ..NpiConfig::default() };
        let task = PoseTask::new(16);
        let shape = SuiteShape::empty().with(&task, &cfg).unwrap();
        let suite = Suite::new(&cfg, &shape, 1).unwrap();
        let names: Vec<String> = params::sorted_vars(&suite.varmap).into_iter().map(|(n, _)| n).collect();
        let cnn: Vec<&String> = names.iter().filter(|n| n.contains("cnn")).collect();
        assert_eq!(cnn, ["encoder.0.cnn.c1.bias", "encoder.0.cnn.c1.weight", "encoder.0.cnn.c2.bias", "encoder.0.cnn.c2.weight"]);
        let view = suite.view(0).unwrap();
        assert_eq!(view.encoder.cnn.as_ref().map(|c| c.features()), Some(256));
        // The view's loss reaches the suite's CNN.
        let data = Dataset::from_traces(&view.shape, [&trace_of(&[[1, 4, 12, 7, 2], [2, 0, 18, 9, 0]], 1, synth_compiler::NO_ARGS)]);
        let batch = data.batch(&[0, 1], &Device::Cpu).unwrap();
        let grads = view.backward(&view.loss(&view.forward(&batch).unwrap(), &batch).unwrap()).unwrap();
        let c1 = suite.varmap.data().lock().unwrap()["encoder.0.cnn.c1.weight"].as_tensor().clone();
        let g = grads.get(&c1).expect("a gradient for the suite's CNN");
        assert!(g.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() > 0.0);
        // The task's own weights: a single-task model with a CNN.
        let varmap = params::from_safetensors(&suite.task_weights(0).unwrap(), &Device::Cpu).unwrap();
        assert!(varmap.data().lock().unwrap().contains_key("encoder.cnn.c2.weight"));
        let single = Npi::from_varmap(&cfg, &view.shape, varmap).unwrap();
        let engine = Engine::new(&single).unwrap();
        let (mut inputs, mut out) = (StepInputs::default(), Vec::new());
        inputs.push(&view.shape, 1, &[1, 4, 12, 7, 2], &synth_compiler::NO_ARGS, &mut Vec::new());
        engine.step(&inputs, &mut [&mut engine.fresh_state()], &mut out, &mut Scratch::default());
        let end: Vec<f32> = view.forward(&batch).unwrap().end.to_vec1().unwrap();
        let row = batch.row_frame.iter().position(|&f| f == 0).unwrap();
        assert!((out[0].end_logit - end[row]).abs() < 1e-4, "{} vs {}", out[0].end_logit, end[row]);
    }
}
