//! The runtime's view of a task: what a learner needs from the compiler.
//!
//! [`Environment`] is what `synth_compiler::Task` provides (programs,
//! observation and argument layouts, the end convention, the `learn`
//! defaults, reference traces and fresh instances); [`World`] is what an
//! `Instance` provides (observe, act, check). The learners are written
//! against these two traits rather than the compiler's concrete types so
//! that they can be tested on small hand-written worlds, and so that the
//! compiler's errors reach the runtime as plain messages.

use synth_compiler::{ArgSpec, Args, ColumnKind, EndConvention, LearnSpec, ObsSpec, ProgramId, ProgramInfo, TableExample, TapeExample, Trace};

/// An error raised by the task: a reference program that failed, an input
/// that could not be sampled, an action a world refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TaskError {
    pub message: String,
}

impl TaskError {
    pub fn new(message: impl Into<String>) -> TaskError {
        TaskError { message: message.into() }
    }
}

/// A task a learner can train on and run in.
pub trait Environment {
    type Instance: World;

    /// The task's name (`add`).
    fn name(&self) -> &str;
    /// Hex hash of the task's source text; a checkpoint records it.
    fn source_hash(&self) -> &str;
    /// Every program, index = [`ProgramId`]; `[0]` is `ACT`.
    fn programs(&self) -> &[ProgramInfo];
    /// The program a run starts in.
    fn entry(&self) -> ProgramId;
    fn obs(&self) -> &ObsSpec;
    fn args(&self) -> &ArgSpec;
    fn end_convention(&self) -> EndConvention;
    fn learn(&self) -> &LearnSpec;
    /// The reference run on the input of this size and seed.
    fn trace(&self, size: usize, seed: u64) -> Result<Trace, TaskError>;
    /// A fresh input of this size and seed (the same input as
    /// [`Environment::trace`] with the same arguments).
    fn sample(&self, size: usize, seed: u64) -> Result<Self::Instance, TaskError>;
    /// What each program's decisions depend on, when the environment knows
    /// (a compiled task does): coverage sampling and the coverage report
    /// need it. With `edges`, the cases of a learner that sees the whole
    /// observation ([`synth_compiler::Task::case_spec`]); without, of one
    /// that sees only [`Environment::decision_features`].
    fn case_spec(&self, _edges: bool) -> Option<synth_compiler::CaseSpec> {
        None
    }
    /// Per program, whether each observation feature is one its decisions
    /// are computed from, when the environment knows (`observe:
    /// decisions`).
    fn decision_features(&self) -> Option<Vec<Vec<bool>>> {
        None
    }
    /// Per program, what it is, for a model trained on several tasks:
    /// programs of two tasks with the same definition are one program of
    /// the model (a compiled task hashes the world and the program's text,
    /// [`synth_compiler::Task::definitions`]). By default, the name: the
    /// same name is the same program.
    fn definitions(&self) -> Vec<String> {
        self.programs().iter().map(|p| if p.name == "ACT" { synth_compiler::ACT_DEFINITION.to_string() } else { p.name.clone() }).collect()
    }
    /// What the task's world is: tasks with the same one share an encoder
    /// in a model trained on several. By default, the task's name.
    fn world_definition(&self) -> String {
        self.name().to_string()
    }
}

/// One input being worked on.
pub trait World {
    /// Writes the observation, `ObsSpec::width` values.
    fn observe(&self, out: &mut [u16]);
    /// Applies one primitive action `(action, pointer, value)`. A learned
    /// model may send anything; an invalid action is an error, not a panic.
    fn act(&mut self, args: Args) -> Result<(), TaskError>;
    /// Whether the task's `expect` holds now.
    fn check(&self) -> Result<bool, TaskError>;
}

impl From<synth_compiler::RunError> for TaskError {
    fn from(e: synth_compiler::RunError) -> TaskError {
        TaskError { message: e.to_string() }
    }
}

impl Environment for synth_compiler::Task {
    type Instance = synth_compiler::Instance;

    fn name(&self) -> &str {
        &self.name
    }
    fn source_hash(&self) -> &str {
        &self.source_hash
    }
    fn programs(&self) -> &[ProgramInfo] {
        &self.programs
    }
    fn entry(&self) -> ProgramId {
        self.entry
    }
    fn obs(&self) -> &ObsSpec {
        &self.obs
    }
    fn args(&self) -> &ArgSpec {
        &self.args
    }
    fn end_convention(&self) -> EndConvention {
        self.end
    }
    fn learn(&self) -> &LearnSpec {
        &self.learn
    }
    fn trace(&self, size: usize, seed: u64) -> Result<Trace, TaskError> {
        Ok(synth_compiler::Task::trace(self, size, seed)?)
    }
    fn sample(&self, size: usize, seed: u64) -> Result<Self::Instance, TaskError> {
        Ok(synth_compiler::Task::sample(self, size, seed)?)
    }
    // A pose world's decisions read the image: no finite table of cases.
    fn case_spec(&self, edges: bool) -> Option<synth_compiler::CaseSpec> {
        self.obs.image.is_none().then(|| synth_compiler::Task::case_spec_with(self, edges))
    }
    fn decision_features(&self) -> Option<Vec<Vec<bool>>> {
        self.obs.image.is_none().then(|| synth_compiler::Task::decision_features(self))
    }
    fn definitions(&self) -> Vec<String> {
        self.definitions.clone()
    }
    fn world_definition(&self) -> String {
        self.world_definition.clone()
    }
}

impl World for synth_compiler::Instance {
    fn observe(&self, out: &mut [u16]) {
        synth_compiler::Instance::observe(self, out)
    }
    fn act(&mut self, args: synth_compiler::Args) -> Result<(), TaskError> {
        Ok(synth_compiler::Instance::act(self, args)?)
    }
    fn check(&self) -> Result<bool, TaskError> {
        Ok(synth_compiler::Instance::check(self)?)
    }
}

/// A tape task as NRAM sees it: input/output pairs and nothing else.
/// `synth_compiler::Task` implements it for tape worlds; tests implement it
/// on small hand-written tasks.
pub trait TapeEnvironment: Sync {
    /// The task's name (`copy`).
    fn name(&self) -> &str;
    /// Hex hash of the task's source text; a checkpoint records it.
    fn source_hash(&self) -> &str;
    fn learn(&self) -> &LearnSpec;
    /// The input/output pair of this size and seed.
    fn example(&self, size: usize, seed: u64) -> Result<TapeExample, TaskError>;
    /// The modules the reference program's operation graph uses
    /// (`modules: program`), by name.
    fn program_modules(&self) -> Vec<String>;
}

impl TapeEnvironment for synth_compiler::Task {
    fn name(&self) -> &str {
        &self.name
    }
    fn source_hash(&self) -> &str {
        &self.source_hash
    }
    fn learn(&self) -> &LearnSpec {
        &self.learn
    }
    fn example(&self, size: usize, seed: u64) -> Result<TapeExample, TaskError> {
        Ok(self.nram_example(size, seed)?)
    }
    fn program_modules(&self) -> Vec<String> {
        self.nram_modules().into_iter().map(String::from).collect()
    }
}

/// A table task as the Neural Programmer sees it: (table, question, answer)
/// instances, and the columns every table has. `synth_compiler::Task`
/// implements it for table worlds; tests implement it on small
/// hand-written tasks.
pub trait TableEnvironment: Sync {
    /// The task's name (`tableqa`).
    fn name(&self) -> &str;
    /// Hex hash of the task's source text; a checkpoint records it.
    fn source_hash(&self) -> &str;
    fn learn(&self) -> &LearnSpec;
    /// The instance of this size (rows) and seed.
    fn example(&self, size: usize, seed: u64) -> Result<TableExample, TaskError>;
    /// Every table's columns, in declaration order, with their kinds.
    fn columns(&self) -> Vec<(String, ColumnKind)>;
    /// The learner's steps: the `learn` block's `timesteps`, or the longest
    /// latent program.
    fn timesteps(&self) -> usize;
    /// One name per `question` item, in source order (its first template),
    /// for reports per question.
    fn question_names(&self) -> Vec<String>;
}

impl TableEnvironment for synth_compiler::Task {
    fn name(&self) -> &str {
        &self.name
    }
    fn source_hash(&self) -> &str {
        &self.source_hash
    }
    fn learn(&self) -> &LearnSpec {
        &self.learn
    }
    fn example(&self, size: usize, seed: u64) -> Result<TableExample, TaskError> {
        Ok(self.table_example(size, seed)?)
    }
    fn columns(&self) -> Vec<(String, ColumnKind)> {
        self.table_columns()
    }
    fn timesteps(&self) -> usize {
        self.table_timesteps().unwrap_or(1)
    }
    fn question_names(&self) -> Vec<String> {
        self.latent_programs().into_iter().map(|p| p.templates.into_iter().next().unwrap_or_default()).collect()
    }
}

/// The seed of evaluation input `i` of size `size` from `seed` for a task
/// of `task`'s world: those its own learner's `synth eval` draws (the NPI's
/// for a scratchpad, NRAM's for a tape, the Neural Programmer's for a
/// table), so that every learner, and a model outside synth, is scored on
/// the same inputs.
pub fn eval_seed(task: &synth_compiler::Task, seed: u64, size: usize, i: usize) -> u64 {
    if task.is_tape() {
        crate::nram::eval::eval_seed(seed, size, i)
    } else if task.is_table() {
        crate::np::eval::eval_seed(seed, size, i)
    } else {
        crate::npi::eval_seed(seed, size, i)
    }
}
