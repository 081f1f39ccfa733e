//! A compiled task: the plain data a learner models (see [`crate::task`])
//! beside, privately, the checked program that samples inputs and generates
//! traces, and the call and operation graphs built from it. It lives apart
//! from `task.rs` so that the plain-data types never import the IR.

use crate::callgraph::CallGraph;
use crate::ir::{Limits, Module};
use crate::opgraph::OpGraph;
use crate::task::{ArgSpec, EndConvention, LearnSpec, ObsSpec, ProgramId, ProgramInfo};
use std::sync::Arc;

/// A compiled task: what a learner must model (programs, observation,
/// arguments, `learn` defaults) and, privately, the checked program it runs
/// to sample inputs and generate traces. Cloning is cheap (the program and
/// the graphs sit behind `Arc`s), and a `Task` can be shared across threads.
#[derive(Clone)]
pub struct Task {
    pub name: String,
    /// Hex SHA-256 of the source text, for checkpoints.
    pub source_hash: String,
    /// Index = [`ProgramId`]; `programs[0]` is `ACT`.
    pub programs: Vec<ProgramInfo>,
    /// Per program, a hash of its definition: the world's text and the text
    /// of every program it reaches, comments and layout aside
    /// ([`ACT_DEFINITION`](crate::ACT_DEFINITION) for `ACT`). Programs of two
    /// tasks with the same definition behave the same, so a model trained
    /// on several tasks keeps one program for both.
    pub definitions: Vec<String>,
    /// A hash of the `world` item's text: tasks with the same world share an
    /// encoder in a model trained on several.
    pub world_definition: String,
    pub entry: ProgramId,
    /// Pointer names; an `ACT` pointer argument indexes this.
    pub pointers: Vec<String>,
    /// Action names (`write`, `move`, `swap`); an `ACT` action argument
    /// indexes this.
    pub actions: Vec<String>,
    /// The scratchpad's base; as an `ACT` write value, `base` means blank.
    pub base: u16,
    pub obs: ObsSpec,
    pub args: ArgSpec,
    pub end: EndConvention,
    pub learn: LearnSpec,
    /// Step and call-depth limits of reference runs (`learn` settings
    /// `max_steps`, `max_depth`); callers may change them.
    pub limits: Limits,
    /// Which cars a pose world's instances show (seen by default); callers
    /// may change it. Other worlds ignore it.
    pub cars: CarSet,
    pub(crate) module: Arc<Module>,
    pub(crate) graphs: Arc<(CallGraph, OpGraph)>,
    /// A table task's columns, `input` and questions (`None` for the other
    /// world kinds).
    pub(crate) table: Option<Arc<crate::table::TableSpec>>,
}

/// The cars a pose world draws its instances' car from: the `cars` seen in
/// training (seeds `0..cars`), or cars never seen in training (seeds
/// 32,768 and up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CarSet {
    #[default]
    Seen,
    Unseen,
}

impl CarSet {
    pub fn name(self) -> &'static str {
        match self {
            CarSet::Seen => "seen",
            CarSet::Unseen => "unseen",
        }
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.name)
            .field("programs", &self.programs)
            .field("entry", &self.entry)
            .field("pointers", &self.pointers)
            .field("actions", &self.actions)
            .field("base", &self.base)
            .field("obs", &self.obs)
            .field("args", &self.args)
            .field("end", &self.end)
            .field("learn", &self.learn)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Task {
    /// The id of the program named `name` (`ACT` is 0).
    pub fn program_id(&self, name: &str) -> Option<ProgramId> {
        self.programs.iter().position(|p| p.name == name).map(|i| i as ProgramId)
    }

    /// The call graph: program levels, recursion, unused programs, DOT.
    pub fn call_graph(&self) -> &CallGraph {
        &self.graphs.0
    }

    /// Every program's operation graph.
    pub fn op_graph(&self) -> &OpGraph {
        &self.graphs.1
    }
}

impl Task {
    /// The NRAM modules (`read`, `write`, `inc`, ...) the reference
    /// programs' operation graph uses, in the default module order: what
    /// `modules: program` trains with. Empty for a scratchpad task.
    pub fn nram_modules(&self) -> Vec<&'static str> {
        if !self.module.is_tape() {
            return Vec::new();
        }
        self.op_graph().nram_modules()
    }

    /// The task's world kind: a scratchpad, a tape or a table (the kinds
    /// that compile).
    pub fn world(&self) -> crate::builtins::WorldKind {
        if self.is_table() {
            crate::builtins::WorldKind::Table
        } else if self.is_tape() {
            crate::builtins::WorldKind::Tape
        } else {
            crate::builtins::WorldKind::Scratchpad
        }
    }

    /// Whether the task's world is a tape (learned by NRAM from
    /// [`Task::tape_example`]s) rather than a scratchpad (learned by NPI
    /// from [`Task::trace`]s).
    pub fn is_tape(&self) -> bool {
        self.module.is_tape()
    }

    /// Whether the task's world is a table (learned by the Neural Programmer
    /// from [`Task::table_example`]s). A table task has no reference
    /// programs: [`Task::sample`] and [`Task::trace`] refuse it.
    pub fn is_table(&self) -> bool {
        self.table.is_some()
    }

    /// One instance of a table task at size `size` (the `n` of `rows: EXPR`
    /// and of `input`) from seed `seed`: a table drawn by `input`, a
    /// question (every `question` item, then every one of its templates,
    /// drawn evenly) with its holes filled (column holes take distinct number
    /// columns, range holes any value of the range, word holes any distinct
    /// word of their column in this table, all evenly), its tokens, the
    /// answer its expression computes exactly, and its latent program with
    /// columns and pivots resolved. An instance whose answer is undefined
    /// (a `where` that selects no rows, an overflow) is drawn again, up to
    /// [`crate::table::MAX_ATTEMPTS`] times, then it is an error. The same
    /// `(size, seed)` always gives the same instance.
    /// Runs the reference once at `size` and `seed` in whatever world the
    /// task has (a trace on a scratchpad, an input/output pair on a tape, a
    /// question on a table) and keeps nothing: whether the task runs there.
    pub fn run_reference(&self, size: usize, seed: u64) -> Result<(), crate::RunError> {
        if self.is_table() {
            self.table_example(size, seed).map(drop)
        } else if self.is_tape() {
            self.tape_example(size, seed).map(drop)
        } else {
            self.trace(size, seed).map(drop)
        }
    }

    pub fn table_example(&self, size: usize, seed: u64) -> Result<crate::TableExample, crate::RunError> {
        match &self.table {
            Some(t) => t.example(size, seed),
            None => Err(crate::RunError {
                kind: crate::RunErrorKind::World,
                message: format!("task `{}` has a {} world, which has no table questions", self.name, self.world().name()),
                program: None,
                span: Some(self.module.world.span),
                label: Some("not a table world".into()),
                hint: Some("table examples come from `world table(rows: n) { ... }` and `question` items".into()),
                size,
                seed,
            }),
        }
    }

    /// A table task's learner steps: the `learn np` block's `timesteps`, or
    /// else the longest latent program among its questions. `None` for the
    /// other world kinds.
    pub fn table_timesteps(&self) -> Option<usize> {
        self.table.as_ref().map(|t| t.timesteps)
    }

    /// Every question's latent program, in source order, with holes by name
    /// (empty for the other world kinds).
    pub fn latent_programs(&self) -> Vec<crate::table::LatentProgram> {
        self.table.as_ref().map_or_else(Vec::new, |t| t.latent_programs())
    }

    /// A table task's columns, each with its kind, in declaration order.
    pub fn table_columns(&self) -> Vec<(String, crate::ColumnKind)> {
        self.table.as_ref().map_or_else(Vec::new, |t| t.columns.clone())
    }
}
