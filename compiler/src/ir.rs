//! The checked, lowered form of an NPL file that the interpreter runs.
//!
//! Every name is resolved: locals and parameters are frame slots, pointers
//! are indices, built-ins are [`Func`] variants, programs are [`ProgramId`]s.
//! Statements are flattened into a list of [`Instr`]s with jump targets, so
//! a frame is just `(procedure, pc, slot base)` and the interpreter keeps an
//! explicit frame stack instead of recursing on the Rust stack. Expressions
//! stay trees (their depth is bounded by the source text).
//!
//! Architecture invariant: no strings are looked up while running; names are
//! kept beside the code only to write error messages and traces.

use crate::task::ProgramId;
use crate::value::{Arith, Value};
use synth_dsl::Span;

/// A slot in a frame's locals (parameters first, then `let`s and loop state).
pub(crate) type Slot = u16;

/// Where a pointer comes from: a world pointer, or a parameter holding one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ptr {
    Fixed(u16),
    Param(Slot),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// Pure, sampling and whole-pad built-ins that compute a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    RandomInt,
    RandomList,
    RandomNumber,
    Len,
    Min,
    Max,
    Abs,
    Sorted,
    Reversed,
    Repeat,
    ReadNumber,
    ReadList,
    RandomPermutation,
    RandomDistinct,
    /// `read_list(at: a, len: k)` on a tape.
    ReadTape,
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Const(Value),
    /// A local; the span is the name's, for messages.
    Local(Slot, Span),
    /// The cell under a pointer: a digit or blank.
    Cell(Ptr, Span),
    /// The cell under a pointer, blank read as 0.
    Digit(Ptr),
    Pos(Ptr),
    AtStart(Ptr),
    AtEnd(Ptr),
    /// A pose world's `angle(axis)` (false) or `target_angle(axis)` (true),
    /// in degrees.
    Angle(Ptr, bool),
    Not(Box<Expr>),
    Neg(Box<Expr>, Span),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>, Span),
    Compare(Cmp, Box<Expr>, Box<Expr>, Span),
    Range(Box<Expr>, Box<Expr>, bool, Span),
    List(Vec<Expr>),
    Index(Box<Expr>, Box<Expr>, Span),
    /// `mem[address]`: a tape cell.
    Mem(Box<Expr>, Span),
    Call(Func, Vec<Expr>, Span),
}

/// The world actions. A scratchpad's are `builtins::actions(Scratchpad)` in
/// order, a pose world's only `rotate`: an action's [`Action::code`] is its
/// index in its world's list, the first `ACT` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Write,
    Move,
    Swap,
    /// A pose world's `rotate(axis, dir)`: the axis is a pointer on the pose
    /// pad, rotating moves it (the azimuth wraps around).
    Rotate,
}

impl Action {
    pub(crate) const ALL: [Action; 3] = [Action::Write, Action::Move, Action::Swap];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Write => "write",
            Action::Move => "move",
            Action::Swap => "swap",
            Action::Rotate => "rotate",
        }
    }

    /// The action's index among its world's actions.
    pub(crate) fn code(self) -> u16 {
        match self {
            Action::Write | Action::Rotate => 0,
            Action::Move => 1,
            Action::Swap => 2,
        }
    }
}

/// The second operand of an action.
#[derive(Clone, Debug)]
pub(crate) enum ActArg {
    /// `write(p, v)`: a digit or blank.
    Value(Expr),
    /// `move(p, d)`: a direction.
    Dir(Expr),
    /// `swap(p, q)`: another pointer.
    Ptr(Ptr),
}

/// An argument of a program call.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Ptr(Ptr),
    Value(Expr),
}

#[derive(Clone, Debug)]
pub(crate) enum Instr {
    Set(Slot, Expr),
    /// `xs[i] = v` on a local list.
    SetIndex(Slot, Expr, Expr),
    /// Jump to the target unless the condition holds.
    JumpUnless(Expr, u32),
    Jump(u32),
    /// Evaluates a range or list into `state` and sets `state + 1` to 0.
    ForStart(Expr, Slot),
    /// Binds the next element of the iteration in `state` to `var`, or jumps
    /// to `exit` when there is none.
    ForNext {
        state: Slot,
        var: Slot,
        exit: u32,
    },
    Act(Action, Ptr, ActArg),
    Call(ProgramId, Box<[Arg]>),
    WriteNumber(Expr, Expr),
    WriteList(Expr, Expr),
    /// `mem[address] = value`.
    Store(Expr, Expr),
    /// `write_list(at: a, xs)` on a tape.
    WriteTape(Expr, Expr),
    /// A pose world's `camera(azimuth, elevation)` (false) or
    /// `target(azimuth, elevation)` (true), in degrees.
    SetPose(bool, Expr, Expr),
    /// A call whose value is discarded.
    Eval(Expr),
    Return,
}

/// What a program parameter holds, inferred from how the body uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamKind {
    Pointer,
    Dir,
    /// A digit, blank, boolean or small integer.
    Value,
}

/// One procedure: a program, or the `input` block.
#[derive(Clone, Debug, Default)]
pub(crate) struct Proc {
    pub name: String,
    pub params: Vec<(String, ParamKind)>,
    pub code: Vec<Instr>,
    /// The statement each instruction came from.
    pub spans: Vec<Span>,
    pub slots: u16,
    /// A name per slot, for error messages (`""` for hidden loop state).
    pub slot_names: Vec<String>,
}

/// Where a pointer starts.
#[derive(Clone, Debug)]
pub(crate) enum Start {
    Left,
    Right,
    Column(Expr),
}

#[derive(Clone, Debug)]
pub(crate) struct PointerDecl {
    pub name: String,
    pub row: Expr,
    pub start: Start,
    pub span: Span,
}

/// What an `observe` feature evaluates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObserveKind {
    Bool,
    Cell,
}

#[derive(Clone, Debug)]
pub(crate) struct Observe {
    pub name: String,
    pub expr: Expr,
    pub kind: ObserveKind,
    pub span: Span,
}

/// The world's shape, evaluated with the size in slot 0: a scratchpad's
/// `rows` and `cols` (`cells` is `None`), or a tape's `cells` (`rows` and
/// `cols` are then 1, and `base` 0: there are no pointers, digits or
/// blanks).
#[derive(Clone, Debug)]
pub(crate) struct WorldDecl {
    pub rows: Expr,
    pub cols: Expr,
    pub base: u16,
    pub cells: Option<Expr>,
    /// A pose world's settings (its pad is `rows` 2 by `cols`, see
    /// [`PoseDecl`]).
    pub pose: Option<PoseDecl>,
    pub pointers: Vec<PointerDecl>,
    pub observes: Vec<Observe>,
    pub span: Span,
}

/// A pose world: the camera's pose on a two-row pad. Row 0 holds the
/// azimuth (`360 / azimuth_step` columns, column `c` is `azimuth_step * c -
/// 180 + azimuth_step` degrees, wrapping around), row 1 the elevation
/// (`180 / elevation_step + 1` columns from -90 degrees). Pointers 0 and 1
/// are the camera's axes (`azimuth`, `elevation`), 2 and 3 the target's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoseDecl {
    pub azimuth_step: u16,
    pub elevation_step: u16,
    /// The side of the square image the learner sees, in pixels.
    pub image: u16,
    /// Seen cars: seeds `0..cars`.
    pub cars: u16,
}

impl PoseDecl {
    pub(crate) fn azimuth_classes(&self) -> u16 {
        360 / self.azimuth_step
    }

    pub(crate) fn elevation_classes(&self) -> u16 {
        180 / self.elevation_step + 1
    }

    pub(crate) fn azimuth_origin(&self) -> i32 {
        self.azimuth_step as i32 - 180
    }

    pub(crate) const ELEVATION_ORIGIN: i32 = -90;

    /// Degrees of column `col` of row `row` (0 azimuth, 1 elevation).
    pub(crate) fn degrees(&self, row: usize, col: u32) -> i32 {
        if row == 0 {
            self.azimuth_origin() + self.azimuth_step as i32 * col as i32
        } else {
            PoseDecl::ELEVATION_ORIGIN + self.elevation_step as i32 * col as i32
        }
    }
}

/// Run-time bounds on a reference run: time (`max_steps`, each step itself
/// bounded by the size limits), the call stack (`max_depth`), the size of
/// every value (`max_int_bits`, `max_list_len`) and the memory of the run as
/// a whole (`max_memory`: the pad, the trace, the frames and the values).
/// Every operation that could allocate more checks these before it
/// allocates, so no input file can make a run exhaust the host's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Interpreter instructions per run (input and programs together).
    pub max_steps: u64,
    /// Program frames alive at once.
    pub max_depth: u32,
    /// Bits of the largest integer a run may build (its magnitude's bit
    /// length).
    #[serde(default = "Limits::default_int_bits")]
    pub max_int_bits: u64,
    /// Elements of the longest list a run may build.
    #[serde(default = "Limits::default_list_len")]
    pub max_list_len: u64,
    /// Bytes a run may hold at once: the pad's cells, the recorded trace,
    /// the frames' locals and the values they hold (integers beyond `i64`,
    /// lists). Counted conservatively: a value shared by two variables
    /// counts twice.
    #[serde(default = "Limits::default_memory")]
    pub max_memory: u64,
}

impl Limits {
    /// 2^20 bits, about 315,000 decimal digits: 30 times the 10,000-digit
    /// additions the tests run, while the slowest single operation on
    /// numbers this long (a division, or printing one in decimal) stays
    /// well under a second.
    pub const DEFAULT_INT_BITS: u64 = 1 << 20;
    /// 2^20 elements (24 MiB of values): 10,000 times bubble sort's 100.
    pub const DEFAULT_LIST_LEN: u64 = 1 << 20;
    /// 1 GiB: a trace of more than 10 million steps (each counted at twice
    /// its size, for the vectors' growth), about 100 times the 120,000
    /// steps of a bubble sort of 100 numbers.
    pub const DEFAULT_MEMORY: u64 = 1 << 30;

    fn default_int_bits() -> u64 {
        Self::DEFAULT_INT_BITS
    }

    fn default_list_len() -> u64 {
        Self::DEFAULT_LIST_LEN
    }

    fn default_memory() -> u64 {
        Self::DEFAULT_MEMORY
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 50_000_000,
            max_depth: 100_000,
            max_int_bits: Self::DEFAULT_INT_BITS,
            max_list_len: Self::DEFAULT_LIST_LEN,
            max_memory: Self::DEFAULT_MEMORY,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Module {
    pub world: WorldDecl,
    /// The `input` block; slot 0 is the size.
    pub input: Proc,
    pub expect: Expr,
    pub expect_span: Span,
    /// The expectation's source text, for messages.
    pub expect_text: String,
    /// `procs[id - 1]` is program `id` (id 0 is `ACT`).
    pub procs: Vec<Proc>,
    pub entry: ProgramId,
    /// Classes of every argument slot.
    pub arg_classes: u16,
    /// A tape task's `learn nram { timesteps: EXPR }`, evaluated with the
    /// size in slot 0 and `cells` in slot 1, and its span.
    pub timesteps: Option<(Expr, Span)>,
    /// What the world passes the entry program, parameter by parameter
    /// (empty but on a tape whose entry declares `cells` or `timesteps`).
    pub entry_args: Vec<WorldArg>,
}

/// A value the world passes to a tape task's entry program, named by the
/// parameter that receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WorldArg {
    /// The tape's number of cells.
    Cells,
    /// The `learn nram` block's `timesteps` at this size.
    Timesteps,
}

impl Module {
    /// Whether the world is a tape.
    /// The module of a task without programs (a table world): no input, no
    /// programs, an `expect` that holds.
    pub(crate) fn empty(span: Span) -> Module {
        let zero = || Expr::Const(Value::Int(0));
        Module {
            world: WorldDecl {
                rows: zero(),
                cols: zero(),
                base: 2,
                cells: None,
                pose: None,
                pointers: Vec::new(),
                observes: Vec::new(),
                span,
            },
            input: Proc {
                name: "input".into(),
                params: Vec::new(),
                code: Vec::new(),
                spans: Vec::new(),
                slots: 1,
                slot_names: vec!["n".into()],
            },
            expect: Expr::Const(Value::Bool(true)),
            expect_span: span,
            expect_text: "true".into(),
            procs: Vec::new(),
            entry: 0,
            arg_classes: 2,
            timesteps: None,
            entry_args: Vec::new(),
        }
    }

    pub(crate) fn is_tape(&self) -> bool {
        self.world.cells.is_some()
    }

    pub(crate) fn proc(&self, id: ProgramId) -> &Proc {
        &self.procs[id as usize - 1]
    }

    pub(crate) fn obs_width(&self) -> usize {
        if self.world.pose.is_some() {
            // The camera's two angles, the car, the target's two angles.
            return 5;
        }
        self.world.pointers.len() * 3 + self.world.observes.len()
    }
}
