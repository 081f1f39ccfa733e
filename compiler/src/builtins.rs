//! The catalogue of everything a name can mean besides a program, a variable
//! or a pointer: the pure built-ins, the samplers `input` uses, and the world
//! actions a program performs (recorded in traces as `ACT`). Every stage that
//! needs to know "what is `digit`" asks here, so the checker, the lowering,
//! the operation graph and the learnability lint agree.

/// The static type of an NPL value, as far as the checker tracks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    /// An arbitrary-precision integer.
    Int,
    Bool,
    /// What a pointer reads: a digit or `blank`.
    Cell,
    /// A pointer itself (only as an argument: `move(p, left)`).
    Pointer,
    /// `left` or `right`.
    Dir,
    List,
    Range,
    Str,
    /// Checked at run time (`min` of a list or of values).
    Any,
    /// No value (actions, writers).
    Unit,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Int => "integer",
            Ty::Bool => "boolean",
            Ty::Cell => "cell",
            Ty::Pointer => "pointer",
            Ty::Dir => "direction",
            Ty::List => "list",
            Ty::Range => "range",
            Ty::Str => "string",
            Ty::Any => "value",
            Ty::Unit => "nothing",
        }
    }
}

/// The world kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorldKind {
    Scratchpad,
    Tape,
    Table,
    Pose,
}

impl WorldKind {
    pub fn from_name(name: &str) -> Option<WorldKind> {
        Some(match name {
            "scratchpad" => WorldKind::Scratchpad,
            "tape" => WorldKind::Tape,
            "table" => WorldKind::Table,
            "pose" => WorldKind::Pose,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            WorldKind::Scratchpad => "scratchpad",
            WorldKind::Tape => "tape",
            WorldKind::Table => "table",
            WorldKind::Pose => "pose",
        }
    }

    pub const ALL: [WorldKind; 4] = [WorldKind::Scratchpad, WorldKind::Tape, WorldKind::Table, WorldKind::Pose];
}

/// What calling a name does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Computes a value from its arguments; not recorded in traces.
    Pure,
    /// Reads the world (a pointer's cell, position or boundary bit); not recorded.
    Read,
    /// Draws from the seeded RNG; only inside `input`.
    Sampler,
    /// Sets up or reads the whole world; only in `input` and `expect`.
    Setup,
    /// A primitive action: changes the world, recorded in traces as `ACT`.
    Action,
}

/// Where a built-in may be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Input,
    Expect,
    Program,
    Observe,
}

#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
}

#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub kind: Kind,
    pub params: &'static [Param],
    /// The last parameter may repeat (`min(a, b, c)`).
    pub variadic: bool,
    pub ret: Ty,
    /// `None`: every world has it.
    pub world: Option<WorldKind>,
    pub doc: &'static str,
}

impl Builtin {
    /// Whether this built-in may be called in `ctx`.
    pub fn allowed_in(&self, ctx: Context) -> bool {
        match self.kind {
            Kind::Pure => true,
            Kind::Read => true,
            Kind::Sampler => ctx == Context::Input,
            Kind::Setup => matches!(ctx, Context::Input | Context::Expect),
            Kind::Action => ctx == Context::Program,
        }
    }

    pub fn min_arity(&self) -> usize {
        if self.variadic {
            self.params.len().saturating_sub(1).max(1)
        } else {
            self.params.len()
        }
    }
}

const fn p(name: &'static str, ty: Ty) -> Param {
    Param { name, ty }
}

use Kind::*;
use Ty::*;

/// Every built-in and action, in the order the docs list them.
pub const BUILTINS: &[Builtin] = &[
    // Every world.
    Builtin { name: "random_int", kind: Sampler, params: &[p("range", Range)], variadic: false, ret: Int, world: None, doc: "a uniform integer in the range" },
    Builtin { name: "random_list", kind: Sampler, params: &[p("n", Int), p("range", Range)], variadic: false, ret: List, world: None, doc: "n uniform integers in the range" },
    Builtin { name: "len", kind: Pure, params: &[p("list", List)], variadic: false, ret: Int, world: None, doc: "the length of a list" },
    Builtin { name: "min", kind: Pure, params: &[p("a", Any), p("b", Any)], variadic: true, ret: Int, world: None, doc: "the least element of a list, or the least of two or more values" },
    Builtin { name: "max", kind: Pure, params: &[p("a", Any), p("b", Any)], variadic: true, ret: Int, world: None, doc: "the greatest element of a list, or the greatest of two or more values" },
    Builtin { name: "abs", kind: Pure, params: &[p("x", Int)], variadic: false, ret: Int, world: None, doc: "the absolute value" },
    Builtin { name: "sorted", kind: Pure, params: &[p("list", List)], variadic: false, ret: List, world: None, doc: "the list in ascending order" },
    Builtin { name: "reversed", kind: Pure, params: &[p("list", List)], variadic: false, ret: List, world: None, doc: "the list in reverse order" },
    Builtin { name: "repeat", kind: Pure, params: &[p("list", List), p("times", Int)], variadic: false, ret: List, world: None, doc: "the list written `times` times, one copy after another" },
    Builtin { name: "random_permutation", kind: Sampler, params: &[p("n", Int)], variadic: false, ret: List, world: None, doc: "the integers 0..n in a random order" },
    Builtin { name: "random_distinct", kind: Sampler, params: &[p("k", Int), p("range", Range)], variadic: false, ret: List, world: None, doc: "k distinct integers from the range, in a random order" },
    // Scratchpad.
    Builtin { name: "random_number", kind: Sampler, params: &[p("digits", Int)], variadic: false, ret: Int, world: Some(WorldKind::Scratchpad), doc: "a number of exactly `digits` digits in the world's base, no leading zero unless it has one digit" },
    Builtin { name: "write_number", kind: Setup, params: &[p("row", Int), p("x", Int)], variadic: false, ret: Unit, world: Some(WorldKind::Scratchpad), doc: "writes x right-aligned on the row, in the world's base" },
    Builtin { name: "read_number", kind: Setup, params: &[p("row", Int)], variadic: false, ret: Int, world: Some(WorldKind::Scratchpad), doc: "the row's digits read as a number, blanks skipped" },
    Builtin { name: "write_list", kind: Setup, params: &[p("row", Int), p("xs", List)], variadic: false, ret: Unit, world: Some(WorldKind::Scratchpad), doc: "writes the list left-aligned on the row, one element per cell" },
    Builtin { name: "read_list", kind: Setup, params: &[p("row", Int)], variadic: false, ret: List, world: Some(WorldKind::Scratchpad), doc: "the row's non-blank cells, left to right" },
    Builtin { name: "digit", kind: Read, params: &[p("p", Pointer)], variadic: false, ret: Int, world: Some(WorldKind::Scratchpad), doc: "the digit under the pointer, blank read as 0" },
    Builtin { name: "pos", kind: Read, params: &[p("p", Pointer)], variadic: false, ret: Int, world: Some(WorldKind::Scratchpad), doc: "the pointer's column" },
    Builtin { name: "at_start", kind: Read, params: &[p("p", Pointer)], variadic: false, ret: Bool, world: Some(WorldKind::Scratchpad), doc: "whether the pointer is in the row's first column" },
    Builtin { name: "at_end", kind: Read, params: &[p("p", Pointer)], variadic: false, ret: Bool, world: Some(WorldKind::Scratchpad), doc: "whether the pointer is in the row's last column" },
    Builtin { name: "write", kind: Action, params: &[p("p", Pointer), p("v", Cell)], variadic: false, ret: Unit, world: Some(WorldKind::Scratchpad), doc: "writes a digit (or blank) under the pointer" },
    Builtin { name: "move", kind: Action, params: &[p("p", Pointer), p("dir", Dir)], variadic: false, ret: Unit, world: Some(WorldKind::Scratchpad), doc: "moves the pointer one column left or right" },
    Builtin { name: "swap", kind: Action, params: &[p("p", Pointer), p("q", Pointer)], variadic: false, ret: Unit, world: Some(WorldKind::Scratchpad), doc: "swaps the cells under two pointers" },
    // Pose (the axes `azimuth` and `elevation` are the world's pointers).
    Builtin { name: "camera", kind: Setup, params: &[p("azimuth", Int), p("elevation", Int)], variadic: false, ret: Unit, world: Some(WorldKind::Pose), doc: "points the camera at the car from this azimuth and elevation, in degrees" },
    Builtin { name: "target", kind: Setup, params: &[p("azimuth", Int), p("elevation", Int)], variadic: false, ret: Unit, world: Some(WorldKind::Pose), doc: "sets the pose the program must reach, in degrees" },
    Builtin { name: "angle", kind: Read, params: &[p("axis", Pointer)], variadic: false, ret: Int, world: Some(WorldKind::Pose), doc: "the camera's angle on the axis (`azimuth` or `elevation`), in degrees; the learner sees it only through the image" },
    Builtin { name: "target_angle", kind: Read, params: &[p("axis", Pointer)], variadic: false, ret: Int, world: Some(WorldKind::Pose), doc: "the target's angle on the axis, in degrees" },
    Builtin { name: "rotate", kind: Action, params: &[p("axis", Pointer), p("dir", Dir)], variadic: false, ret: Unit, world: Some(WorldKind::Pose), doc: "turns the camera one step about the axis: `azimuth` `left` or `right`, `elevation` `up` or `down`" },
    // Tape (`mem[i]` and `mem[i] = v` are syntax, not built-ins).
    Builtin { name: "write_list", kind: Setup, params: &[p("at", Int), p("xs", List)], variadic: false, ret: Unit, world: Some(WorldKind::Tape), doc: "writes the list into the cells from address `at` on" },
    Builtin { name: "read_list", kind: Setup, params: &[p("at", Int), p("len", Int)], variadic: false, ret: List, world: Some(WorldKind::Tape), doc: "the `len` cells from address `at` on, as a list" },
];

/// Looks a built-in up by name, in any world (the first entry of that name:
/// the shared one, else the scratchpad's).
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Looks a built-in up by name as `world` sees it: its own or a shared one
/// first, else another world's (which the checker then reports as belonging
/// to that world).
pub fn lookup_in(name: &str, world: WorldKind) -> Option<&'static Builtin> {
    visible(world).find(|b| b.name == name).or_else(|| lookup(name))
}

/// The actions of a world kind, in their fixed order: an action's index here
/// is its first `ACT` argument in traces.
pub fn actions(world: WorldKind) -> impl Iterator<Item = &'static Builtin> {
    BUILTINS.iter().filter(move |b| b.kind == Kind::Action && b.world == Some(world))
}

/// The built-ins visible in a world (shared ones and the world's own).
pub fn visible(world: WorldKind) -> impl Iterator<Item = &'static Builtin> {
    BUILTINS.iter().filter(move |b| b.world.is_none() || b.world == Some(world))
}
