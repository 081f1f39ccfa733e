//! The operation graph: for every program, the dataflow of its operations.
//!
//! A node is one typed operation ([`OpKind`]): a read of the world through a
//! pointer, a whole `observe` feature, a parameter, a constant, arithmetic, a
//! comparison, a boolean operation, a local variable, a loop counter, or a
//! sink: a branch or loop condition, an action or a program call. An edge
//! `a -> b` says "the value of `a` flows into `b`", labelled with the operand
//! position it fills ([`Port`]) and the span of the use.
//!
//! Three clients walk it: the learnability lint ([`crate::lint`]) follows a
//! decision back to its sources; the NRAM mapping ([`ProgramOps::nram_map`])
//! reads a tape task's memory accesses, arithmetic and comparisons as NRAM
//! modules; and a table question's answer expression is the latent program
//! the Neural Programmer induces. That is why nodes are typed, never
//! strings.
//!
//! The graph is built once per compile, for a file that checked, from each
//! program's syntax and what lowering resolved its names to
//! ([`crate::lower::Resolutions`]): it never looks a name up on its own, so
//! it cannot disagree with the interpreter about what a name means. Every
//! edge into a sink carries its operand as written, for the lint's messages.
//!
//! Control flow is flattened: a local variable assigned in several places, in
//! branches or in loops, is one node whose inputs are all its assignments
//! (a conservative merge: it "may" hold any of them). A variable is a
//! frame slot as lowering allocated it: a `let` or a `for` opens a new one,
//! and assigning a parameter turns it into a variable from there on.
//!
//! Architecture invariant: no `HashMap` anywhere, nodes are numbered in the
//! order the source evaluates them, so the text and DOT forms are stable.

use crate::builtins::{Kind, Ty};
use crate::ir::Slot;
use crate::lower::{Resolutions, Resolved};
use num_bigint::BigInt;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::fmt::Write;
use synth_dsl::ast::{self, BinOp, Block, CallArg, Expr, ExprKind, StmtKind, UnOp};
use synth_dsl::visit::{walk_expr, Visitor};
use synth_dsl::Span;

/// What a read through a pointer returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadKind {
    /// The bare pointer name in a value position: the cell under it (a digit
    /// or `blank`). Observed.
    Cell,
    /// `digit(p)`: the cell, blank read as 0. Observed.
    Digit,
    /// `at_start(p)`. Observed.
    AtStart,
    /// `at_end(p)`. Observed.
    AtEnd,
    /// `pos(p)`: the pointer's column. Not observed unless an `observe`
    /// declaration covers the expression it appears in.
    Pos,
    /// A pose world's `angle(axis)`. Observed, through the image.
    Angle,
    /// A pose world's `target_angle(axis)`. Observed.
    TargetAngle,
}

impl ReadKind {
    /// The built-in's name as written (`cell` for the bare pointer).
    pub fn name(self) -> &'static str {
        match self {
            ReadKind::Cell => "cell",
            ReadKind::Digit => "digit",
            ReadKind::AtStart => "at_start",
            ReadKind::AtEnd => "at_end",
            ReadKind::Pos => "pos",
            ReadKind::Angle => "angle",
            ReadKind::TargetAngle => "target_angle",
        }
    }

    fn from_builtin(name: &str) -> Option<ReadKind> {
        Some(match name {
            "digit" => ReadKind::Digit,
            "at_start" => ReadKind::AtStart,
            "at_end" => ReadKind::AtEnd,
            "pos" => ReadKind::Pos,
            "angle" => ReadKind::Angle,
            "target_angle" => ReadKind::TargetAngle,
            _ => return None,
        })
    }

    /// Whether the learner sees this read in its observation.
    pub fn is_observed(self) -> bool {
        self != ReadKind::Pos
    }
}

/// A literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Int(BigInt),
    Float(f64),
    Bool(bool),
    Blank,
    Left,
    Right,
    Str(String),
}

impl std::fmt::Display for Const {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Const::Int(v) => write!(f, "{v}"),
            Const::Float(v) => write!(f, "{v:?}"),
            Const::Bool(v) => write!(f, "{v}"),
            Const::Blank => f.write_str("blank"),
            Const::Left => f.write_str("left"),
            Const::Right => f.write_str("right"),
            Const::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// One operation. Sources have no inputs; sinks have no outputs.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    // Sources.
    /// A read of the world through `pointer` (the name as written). When
    /// the name is a parameter holding a pointer, the parameter's node is
    /// the read's input.
    Read {
        what: ReadKind,
        pointer: String,
    },
    /// An expression equal to the world's `index`-th `observe` declaration
    /// (ignoring spans): one feature of the observation, read whole.
    Observed {
        index: usize,
        text: String,
    },
    /// The program's `index`-th parameter.
    Param {
        index: usize,
        name: String,
    },
    /// A pointer named as an argument (`move(p, left)`, `SWAP(i, j)`): the
    /// pointer itself, not the cell under it.
    Pointer(String),
    /// `mem`, the tape, as the base of `mem[i]` and `mem[i] = v`.
    Memory,
    Const(Const),

    // Values.
    /// `+ - * / %`
    Arith(BinOp),
    /// `== != < <= > >=`
    Compare(BinOp),
    /// `&& ||`
    Logic(BinOp),
    /// `!x`
    Not,
    /// `-x`
    Neg,
    /// A pure built-in (`min`, `abs`, `len`, ...) or any other lowercase call
    /// that is neither a read nor an action.
    Builtin(String),
    /// `[a, b, ...]`
    List,
    /// `a..b`, `a..=b`
    Range {
        inclusive: bool,
    },
    /// `base[index]`: a tape cell when the base is [`OpKind::Memory`], else
    /// a list element.
    Index,
    /// A local variable: its inputs are all its assignments. `carried` when
    /// a loop reassigns it from a value that depends on itself (a counter or
    /// an accumulator), so it carries a value from one iteration to the next.
    Var {
        name: String,
        carried: bool,
    },
    /// The counter of `for name in range`: its input is the range.
    Counter(String),

    // Sinks.
    /// The condition of an `if` or `else if` arm.
    Branch,
    /// The condition of a `while`.
    Loop,
    /// The range of a `for`: how many times it runs.
    ForRange {
        counter: String,
    },
    /// A primitive action (`write`, `move`, `swap`), traced as `ACT`.
    Action(String),
    /// A program call.
    Call(String),
    /// `base[index] = value`: a tape write when the base is
    /// [`OpKind::Memory`], else a list element's.
    Store,
}

impl OpKind {
    /// A decision or an effect: branch and loop conditions, `for` ranges,
    /// actions, program calls and stores.
    pub fn is_sink(&self) -> bool {
        matches!(
            self,
            OpKind::Branch
                | OpKind::Loop
                | OpKind::ForRange { .. }
                | OpKind::Action(_)
                | OpKind::Call(_)
                | OpKind::Store
        )
    }

    /// A condition that decides which way control goes.
    pub fn is_condition(&self) -> bool {
        matches!(self, OpKind::Branch | OpKind::Loop | OpKind::ForRange { .. })
    }

    /// Short label for DOT (and for the Python package's graph nodes).
    pub fn short(&self) -> String {
        match self {
            OpKind::Read { what, pointer } => format!("{}({pointer})", what.name()),
            OpKind::Observed { text, .. } => format!("observe {text}"),
            OpKind::Param { name, .. } => format!("param {name}"),
            OpKind::Pointer(p) => format!("pointer {p}"),
            OpKind::Memory => "mem".into(),
            OpKind::Const(c) => c.to_string(),
            OpKind::Arith(op) | OpKind::Compare(op) | OpKind::Logic(op) => op.symbol().to_string(),
            OpKind::Not => "!".into(),
            OpKind::Neg => "-".into(),
            OpKind::Builtin(n) => n.clone(),
            OpKind::List => "[...]".into(),
            OpKind::Range { inclusive: false } => "..".into(),
            OpKind::Range { inclusive: true } => "..=".into(),
            OpKind::Index => "[]".into(),
            OpKind::Var { name, carried: false } => format!("var {name}"),
            OpKind::Var { name, carried: true } => format!("var {name} (loop-carried)"),
            OpKind::Counter(n) => format!("counter {n}"),
            OpKind::Branch => "if".into(),
            OpKind::Loop => "while".into(),
            OpKind::ForRange { counter } => format!("for {counter} in"),
            OpKind::Action(a) => format!("ACT({a})"),
            OpKind::Call(p) => p.clone(),
            OpKind::Store => "store".into(),
        }
    }
}

/// One operation and where it is written: the expression for values and
/// reads, the condition for branches and loops, the call for actions and
/// calls, the name for parameters, variables and counters.
#[derive(Clone, Debug, PartialEq)]
pub struct OpNode {
    pub kind: OpKind,
    pub span: Span,
}

/// Which input of its target a value fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Port {
    /// The `n`-th operand or argument (0-based): left before right,
    /// arguments in parameter order.
    Arg(u8),
    /// One assignment of a variable (`let x = e`, `x = e`).
    Assign,
}

/// "The value flows into": `port` of the target, used at `span` (the operand
/// expression as written, so a variable's every use has its own span).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpEdge {
    pub port: Port,
    pub span: Span,
    /// On an edge into a sink (a decision or an effect), the operand as
    /// written, normalised (`digit(p) + 1 > 2`); `None` elsewhere.
    pub text: Option<String>,
}

/// The dataflow of one program. Node indices follow evaluation order.
#[derive(Clone, Debug)]
pub struct ProgramOps {
    pub name: String,
    /// Span of the program's name.
    pub span: Span,
    pub params: Vec<String>,
    pub graph: DiGraph<OpNode, OpEdge>,
}

impl ProgramOps {
    /// A node's inputs, ordered by port then by source node.
    pub fn inputs(&self, node: NodeIndex) -> Vec<(NodeIndex, OpEdge)> {
        let mut ins: Vec<(NodeIndex, OpEdge, EdgeIndex)> = self
            .graph
            .edges_directed(node, Direction::Incoming)
            .map(|e| (e.source(), e.weight().clone(), e.id()))
            .collect();
        ins.sort_by_key(|(src, e, id)| (e.port, *src, *id));
        ins.into_iter().map(|(n, e, _)| (n, e)).collect()
    }

    /// The sinks (conditions, actions, calls, stores) in source order.
    pub fn sinks(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.node_indices().filter(|&n| self.graph[n].kind.is_sink())
    }

    /// One line per node: `nK = operation inputs`, in evaluation order.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "program {}({})", self.name, self.params.join(", "));
        for n in self.graph.node_indices() {
            let _ = writeln!(out, "  n{} = {}", n.index(), self.describe(n));
        }
        out
    }

    fn describe(&self, n: NodeIndex) -> String {
        let ins: Vec<String> = self.inputs(n).iter().map(|(src, _)| format!("n{}", src.index())).collect();
        let all = ins.join(", ");
        let arg = |i: usize| ins.get(i).cloned().unwrap_or_else(|| "?".into());
        match &self.graph[n].kind {
            OpKind::Read { what, pointer } => {
                if ins.is_empty() {
                    format!("{}({pointer})", what.name())
                } else {
                    format!("{}({all})", what.name())
                }
            }
            OpKind::Observed { text, .. } => format!("observe {text}"),
            OpKind::Param { index, name } => format!("param {name} #{index}"),
            OpKind::Pointer(p) => format!("pointer {p}"),
            OpKind::Memory => "mem".into(),
            OpKind::Const(c) => c.to_string(),
            OpKind::Arith(op) | OpKind::Compare(op) | OpKind::Logic(op) => {
                format!("{} {} {}", arg(0), op.symbol(), arg(1))
            }
            OpKind::Not => format!("!{}", arg(0)),
            OpKind::Neg => format!("-{}", arg(0)),
            OpKind::Builtin(name) => format!("{name}({all})"),
            OpKind::List => format!("[{all}]"),
            OpKind::Range { inclusive } => format!("{}{}{}", arg(0), if *inclusive { "..=" } else { ".." }, arg(1)),
            OpKind::Index => format!("{}[{}]", arg(0), arg(1)),
            OpKind::Var { name, carried } => {
                format!("var {name} <- {all}{}", if *carried { " (loop-carried)" } else { "" })
            }
            OpKind::Counter(name) => format!("counter {name} <- {all}"),
            OpKind::Branch => format!("if {all}"),
            OpKind::Loop => format!("while {all}"),
            OpKind::ForRange { counter } => format!("for {counter} in {all}"),
            OpKind::Action(a) => {
                if ins.is_empty() {
                    format!("ACT({a})")
                } else {
                    format!("ACT({a}, {all})")
                }
            }
            OpKind::Call(p) => format!("{p}({all})"),
            OpKind::Store => format!("{}[{}] = {}", arg(0), arg(1), arg(2)),
        }
    }

    /// Every node's NRAM module (index = node index): memory reads and
    /// writes are `read` and `write`; `x + 1` and `1 + x` are `inc` and
    /// `x - 1` is `dec` (the `1` is absorbed), other `+` and `-` are `add`
    /// and `sub`; `<` and `>` are `lt` (with the operands swapped), `<=`
    /// and `>=` are `le`, `==` and `!=` are `eq` (the controller reads a
    /// register's zero-ness, so a test and its negation are the same to
    /// it); `min` and `max` of values are `min` and `max`; the constants 0,
    /// 1 and 2 are `zero`, `one` and `two`.
    pub fn nram_map(&self) -> Vec<NramOp> {
        let g = &self.graph;
        let mut map = vec![NramOp::Control; g.node_count()];
        let int = |n: NodeIndex| match &g[n].kind {
            OpKind::Const(Const::Int(v)) => i64::try_from(v).ok(),
            _ => None,
        };
        // Operations first, so that a constant an `inc` or `dec` absorbs is
        // known before constants are mapped.
        for n in g.node_indices() {
            let ins: Vec<NodeIndex> = self.inputs(n).into_iter().map(|(src, _)| src).collect();
            let on_memory = || ins.first().is_some_and(|&b| g[b].kind == OpKind::Memory);
            let op = match &g[n].kind {
                OpKind::Index if on_memory() => NramOp::Module("read"),
                OpKind::Store if on_memory() => NramOp::Module("write"),
                OpKind::Arith(BinOp::Add) => match ins[..] {
                    [_, b] if int(b) == Some(1) => {
                        map[b.index()] = NramOp::Absorbed(n);
                        NramOp::Module("inc")
                    }
                    [a, _] if int(a) == Some(1) => {
                        map[a.index()] = NramOp::Absorbed(n);
                        NramOp::Module("inc")
                    }
                    _ => NramOp::Module("add"),
                },
                OpKind::Arith(BinOp::Sub) => match ins[..] {
                    [_, b] if int(b) == Some(1) => {
                        map[b.index()] = NramOp::Absorbed(n);
                        NramOp::Module("dec")
                    }
                    _ => NramOp::Module("sub"),
                },
                OpKind::Compare(BinOp::Lt | BinOp::Gt) => NramOp::Module("lt"),
                OpKind::Compare(BinOp::Le | BinOp::Ge) => NramOp::Module("le"),
                OpKind::Compare(BinOp::Eq | BinOp::Ne) => NramOp::Module("eq"),
                OpKind::Builtin(name) if name == "min" && ins.len() >= 2 => NramOp::Module("min"),
                OpKind::Builtin(name) if name == "max" && ins.len() >= 2 => NramOp::Module("max"),
                OpKind::Arith(_)
                | OpKind::Logic(_)
                | OpKind::Not
                | OpKind::Neg
                | OpKind::Builtin(_)
                | OpKind::List
                | OpKind::Range { .. }
                | OpKind::Index
                | OpKind::Read { .. }
                | OpKind::Observed { .. }
                | OpKind::Action(_) => NramOp::Unmapped,
                _ => continue,
            };
            map[n.index()] = op;
        }
        for n in g.node_indices() {
            if let OpKind::Const(c) = &g[n].kind {
                if matches!(map[n.index()], NramOp::Absorbed(_)) {
                    continue;
                }
                map[n.index()] = match (c, int(n)) {
                    (_, Some(0)) => NramOp::Module("zero"),
                    (_, Some(1)) => NramOp::Module("one"),
                    (_, Some(2)) => NramOp::Module("two"),
                    (Const::Int(_), _) => NramOp::Unmapped,
                    _ => NramOp::Control,
                };
            }
        }
        map
    }

    /// [`ProgramOps::to_text`] with each node's NRAM module beside it.
    pub fn to_text_nram(&self) -> String {
        let map = self.nram_map();
        let lines: Vec<String> =
            self.graph.node_indices().map(|n| format!("  n{} = {}", n.index(), self.describe(n))).collect();
        let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) + 2;
        let mut out = String::new();
        let _ = writeln!(out, "program {}({})", self.name, self.params.join(", "));
        for (line, op) in lines.iter().zip(&map) {
            let note = match op {
                NramOp::Module(m) => m.to_string(),
                NramOp::Absorbed(into) => format!("(in n{})", into.index()),
                NramOp::Unmapped => "no module".to_string(),
                NramOp::Control => {
                    let _ = writeln!(out, "{line}");
                    continue;
                }
            };
            let pad = width - line.chars().count();
            let _ = writeln!(out, "{line}{:pad$}{note}", "");
        }
        out
    }

    /// This program as a DOT cluster (lines indented by two spaces); with
    /// `nram`, each node that is an NRAM module says which.
    fn write_dot_cluster(&self, out: &mut String, nram: bool) {
        let map = if nram { self.nram_map() } else { Vec::new() };
        let id = |n: NodeIndex| dot_quote(&format!("{}.n{}", self.name, n.index()));
        let _ = writeln!(out, "  subgraph {} {{", dot_quote(&format!("cluster_{}", self.name)));
        let _ = writeln!(out, "    label={};", dot_quote(&self.name));
        for n in self.graph.node_indices() {
            let kind = &self.graph[n].kind;
            let shape = match kind {
                OpKind::Read { .. } | OpKind::Observed { .. } => "ellipse",
                OpKind::Param { .. } | OpKind::Pointer(_) | OpKind::Memory => "house",
                OpKind::Const(_) => "plaintext",
                OpKind::Var { .. } | OpKind::Counter(_) => "box, style=rounded",
                OpKind::Branch | OpKind::Loop | OpKind::ForRange { .. } => "diamond",
                OpKind::Action(_) | OpKind::Call(_) | OpKind::Store => "box, style=bold",
                _ => "box",
            };
            let label = match map.get(n.index()) {
                Some(NramOp::Module(m)) => format!("{}\n[{m}]", kind.short()),
                _ => kind.short(),
            };
            let _ = writeln!(out, "    {} [label={}, shape={shape}];", id(n), dot_quote(&label));
        }
        let mut edges: Vec<_> = self.graph.edge_references().collect();
        edges.sort_by_key(|e| (e.target(), e.weight().port, e.source(), e.id()));
        for e in edges {
            let operands = self
                .graph
                .edges_directed(e.target(), Direction::Incoming)
                .filter(|x| matches!(x.weight().port, Port::Arg(_)))
                .count();
            match e.weight().port {
                Port::Arg(i) if operands > 1 => {
                    let _ = writeln!(out, "    {} -> {} [label=\"{i}\"];", id(e.source()), id(e.target()));
                }
                _ => {
                    let _ = writeln!(out, "    {} -> {};", id(e.source()), id(e.target()));
                }
            }
        }
        let _ = writeln!(out, "  }}");
    }
}

/// The operation graphs of every program of a file, in source order.
#[derive(Clone, Debug, Default)]
pub struct OpGraph {
    pub programs: Vec<ProgramOps>,
    /// The world's `observe` declarations as written (normalised spacing),
    /// in order: [`OpKind::Observed::index`] indexes this.
    pub observes: Vec<String>,
}

impl OpGraph {
    /// The graphs of checked programs, in order, given the world's
    /// `observe` declarations.
    pub(crate) fn build(bodies: &[Body], observes: &[&Expr]) -> Result<OpGraph, Unresolved> {
        let programs = bodies.iter().map(|b| Builder::program(b, observes)).collect::<Result<_, _>>()?;
        Ok(OpGraph { programs, observes: observes.iter().map(|e| e.to_string()).collect() })
    }

    /// The graph of the program named `name` (the first, if defined twice).
    pub fn program(&self, name: &str) -> Option<&ProgramOps> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// Every program's [`ProgramOps::to_text`], separated by blank lines,
    /// after the list of `observe` features when there are any.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (i, o) in self.observes.iter().enumerate() {
            let _ = writeln!(out, "observe #{i} {o}");
        }
        for (i, p) in self.programs.iter().enumerate() {
            if i > 0 || !self.observes.is_empty() {
                out.push('\n');
            }
            out.push_str(&p.to_text());
        }
        out
    }

    /// One `digraph ops` with a cluster per program; node ids are
    /// `"PROGRAM.nK"`, as in the text form.
    pub fn to_dot(&self) -> String {
        self.dot(false)
    }

    /// [`OpGraph::to_dot`] with every node that is an NRAM module labelled
    /// with it (for tape tasks).
    pub fn to_dot_nram(&self) -> String {
        self.dot(true)
    }

    fn dot(&self, nram: bool) -> String {
        let mut out = String::from("digraph ops {\n  node [fontname=\"monospace\"];\n");
        for p in &self.programs {
            p.write_dot_cluster(&mut out, nram);
        }
        out.push_str("}\n");
        out
    }

    /// [`OpGraph::to_text`] with, beside every node, the NRAM module it
    /// maps to ([`ProgramOps::nram_map`]), then the modules every program
    /// uses together ([`OpGraph::nram_modules`]).
    pub fn to_text_nram(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.programs.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&p.to_text_nram());
        }
        let _ = writeln!(out, "\nnram modules: {}", self.nram_modules().join(", "));
        out
    }

    /// The NRAM modules the programs use, each once, in the order of
    /// [`crate::learners::NRAM_MODULES`]: what `modules: program` trains
    /// with.
    pub fn nram_modules(&self) -> Vec<&'static str> {
        let used: Vec<&'static str> = self
            .programs
            .iter()
            .flat_map(|p| p.nram_map())
            .filter_map(|m| match m {
                NramOp::Module(m) => Some(m),
                _ => None,
            })
            .collect();
        crate::learners::NRAM_MODULES.iter().copied().filter(|m| used.contains(m)).collect()
    }
}

/// How one node of a tape program maps onto NRAM's modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NramOp {
    /// The node is computed by this module (`read`, `inc`, `lt`, ...).
    Module(&'static str),
    /// The node is part of the module of the node it flows into: the `1`
    /// of `x + 1` is in the `inc`.
    Absorbed(NodeIndex),
    /// An operation no module computes: `*`, `/`, `%`, `&&`, `||`, `!`,
    /// unary `-`, a constant other than 0, 1 and 2, a list, a range, a
    /// built-in other than `min` and `max` of two or more values.
    Unmapped,
    /// Not an operation a module computes: a variable, a parameter, a loop
    /// counter, the tape itself, a condition or a program call. NRAM's
    /// controller stands for these (which register holds what, when to
    /// stop).
    Control,
}

/// One program as the graph reads it: its syntax and what lowering resolved
/// each of its names to.
pub(crate) struct Body<'a> {
    pub program: &'a ast::Program,
    pub resolved: &'a Resolutions,
}

/// A name lowering did not resolve in a program that checked: a bug in
/// synth, reported rather than guessed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unresolved(pub Span);

/// What a frame slot holds while the graph is built.
#[derive(Clone, Copy)]
enum SlotNode {
    Param(NodeIndex),
    /// An index into [`Builder::vars`].
    Var(usize),
}

struct VarInfo {
    node: NodeIndex,
    /// Loop depth of the `let`.
    depth: u32,
    /// The value nodes of assignments made deeper in loops than the `let`.
    looped: Vec<NodeIndex>,
}

struct Builder<'a> {
    resolved: &'a Resolutions,
    observes: &'a [&'a Expr],
    graph: DiGraph<OpNode, OpEdge>,
    /// By frame slot.
    slots: Vec<Option<SlotNode>>,
    vars: Vec<VarInfo>,
    loop_depth: u32,
    /// The first name found unresolved.
    unresolved: Option<Span>,
}

impl<'a> Builder<'a> {
    fn program(body: &Body<'a>, observes: &'a [&'a Expr]) -> Result<ProgramOps, Unresolved> {
        let p = body.program;
        let mut b = Builder {
            resolved: body.resolved,
            observes,
            graph: DiGraph::new(),
            slots: Vec::new(),
            vars: Vec::new(),
            loop_depth: 0,
            unresolved: None,
        };
        for (index, param) in p.params.iter().enumerate() {
            let n = b.add(OpKind::Param { index, name: param.name.clone() }, param.span);
            b.bind(param, SlotNode::Param(n));
        }
        b.block(&p.body);
        if let Some(at) = b.unresolved {
            return Err(Unresolved(at));
        }
        b.mark_carried();
        Ok(ProgramOps {
            name: p.name.name.clone(),
            span: p.name.span,
            params: p.params.iter().map(|i| i.name.clone()).collect(),
            graph: b.graph,
        })
    }

    fn add(&mut self, kind: OpKind, span: Span) -> NodeIndex {
        self.graph.add_node(OpNode { kind, span })
    }

    fn flow(&mut self, from: NodeIndex, to: NodeIndex, port: Port, span: Span) {
        self.graph.add_edge(from, to, OpEdge { port, span, text: None });
    }

    /// The edge from a decided value into a sink, with the operand as written.
    fn decide(&mut self, from: NodeIndex, to: NodeIndex, port: Port, operand: &Expr) {
        let text = Some(operand.to_string());
        self.graph.add_edge(from, to, OpEdge { port, span: operand.span, text });
    }

    fn resolve(&mut self, id: &ast::Ident) -> Option<Resolved> {
        let r = self.resolved.get(id.span);
        if r.is_none() {
            self.unresolved.get_or_insert(id.span);
        }
        r
    }

    /// The slot a declared or assigned name resolved to.
    fn slot_of(&mut self, id: &ast::Ident) -> Option<usize> {
        match self.resolve(id)? {
            Resolved::Local(slot) => Some(usize::from(slot)),
            _ => {
                self.unresolved.get_or_insert(id.span);
                None
            }
        }
    }

    fn bind(&mut self, id: &ast::Ident, node: SlotNode) {
        if let Some(slot) = self.slot_of(id) {
            if self.slots.len() <= slot {
                self.slots.resize(slot + 1, None);
            }
            self.slots[slot] = Some(node);
        }
    }

    fn slot(&self, slot: Slot) -> Option<SlotNode> {
        self.slots.get(usize::from(slot)).copied().flatten()
    }

    fn node_of(&self, s: SlotNode) -> NodeIndex {
        match s {
            SlotNode::Param(n) => n,
            SlotNode::Var(v) => self.vars[v].node,
        }
    }

    /// A new variable node for `id`, bound to its slot.
    fn declare(&mut self, id: &ast::Ident, kind: OpKind) -> usize {
        let node = self.add(kind, id.span);
        self.vars.push(VarInfo { node, depth: self.loop_depth, looped: Vec::new() });
        let v = self.vars.len() - 1;
        self.bind(id, SlotNode::Var(v));
        v
    }

    fn block(&mut self, block: &Block) {
        for s in &block.stmts {
            self.stmt(s);
        }
    }

    fn looped_block(&mut self, block: &Block, counter: Option<(&ast::Ident, NodeIndex)>) {
        self.loop_depth += 1;
        if let Some((var, range)) = counter {
            let v = self.declare(var, OpKind::Counter(var.name.clone()));
            let node = self.vars[v].node;
            self.flow(range, node, Port::Arg(0), var.span);
        }
        self.block(block);
        self.loop_depth -= 1;
    }

    fn stmt(&mut self, s: &ast::Stmt) {
        match &s.kind {
            StmtKind::Let { name, value } => {
                let val = self.expr(value);
                let v = self.declare(name, OpKind::Var { name: name.name.clone(), carried: false });
                let node = self.vars[v].node;
                self.flow(val, node, Port::Assign, value.span);
            }
            StmtKind::Assign { target, value } => match &target.kind {
                ExprKind::Name(name) => {
                    let val = self.expr(value);
                    let Some(slot) = self.slot_of(name) else { return };
                    let v = match self.slot(slot as Slot) {
                        Some(SlotNode::Var(v)) => v,
                        param => {
                            // Assigning a parameter: from here on a variable
                            // of the program's outermost scope that may also
                            // hold the parameter's value.
                            let node = self.add(OpKind::Var { name: name.name.clone(), carried: false }, name.span);
                            self.vars.push(VarInfo { node, depth: 0, looped: Vec::new() });
                            let v = self.vars.len() - 1;
                            self.bind(name, SlotNode::Var(v));
                            if let Some(SlotNode::Param(p)) = param {
                                self.flow(p, node, Port::Assign, name.span);
                            }
                            v
                        }
                    };
                    let node = self.vars[v].node;
                    self.flow(val, node, Port::Assign, value.span);
                    if self.loop_depth > self.vars[v].depth {
                        self.vars[v].looped.push(val);
                    }
                }
                ExprKind::Index { base, index } => {
                    let b = self.expr(base);
                    let i = self.expr(index);
                    let val = self.expr(value);
                    let store = self.add(OpKind::Store, s.span);
                    self.decide(b, store, Port::Arg(0), base);
                    self.decide(i, store, Port::Arg(1), index);
                    self.decide(val, store, Port::Arg(2), value);
                }
                _ => {
                    self.expr(target);
                    self.expr(value);
                }
            },
            StmtKind::If { arms, otherwise } => {
                for (cond, body) in arms {
                    let c = self.expr(cond);
                    let sink = self.add(OpKind::Branch, cond.span);
                    self.decide(c, sink, Port::Arg(0), cond);
                    self.block(body);
                }
                if let Some(body) = otherwise {
                    self.block(body);
                }
            }
            StmtKind::While { cond, body } => {
                let c = self.expr(cond);
                let sink = self.add(OpKind::Loop, cond.span);
                self.decide(c, sink, Port::Arg(0), cond);
                self.looped_block(body, None);
            }
            StmtKind::For { var, iter, body } => {
                let r = self.expr(iter);
                let sink = self.add(OpKind::ForRange { counter: var.name.clone() }, iter.span);
                self.decide(r, sink, Port::Arg(0), iter);
                self.looped_block(body, Some((var, r)));
            }
            StmtKind::Return => {}
            StmtKind::Expr(e) => {
                self.expr(e);
            }
        }
    }

    /// The node holding `e`'s value.
    fn expr(&mut self, e: &Expr) -> NodeIndex {
        if !matches!(e.kind, ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Blank | ExprKind::Left | ExprKind::Right)
        {
            if let Some(index) = self.observes.iter().position(|o| same_expr(o, e)) {
                if !self.mentions_local(e) {
                    let text = self.observes[index].to_string();
                    return self.add(OpKind::Observed { index, text }, e.span);
                }
            }
        }
        match &e.kind {
            ExprKind::Int(v) => self.add(OpKind::Const(Const::Int(v.clone())), e.span),
            ExprKind::Float(v) => self.add(OpKind::Const(Const::Float(*v)), e.span),
            ExprKind::Bool(v) => self.add(OpKind::Const(Const::Bool(*v)), e.span),
            ExprKind::Blank => self.add(OpKind::Const(Const::Blank), e.span),
            ExprKind::Left => self.add(OpKind::Const(Const::Left), e.span),
            ExprKind::Right => self.add(OpKind::Const(Const::Right), e.span),
            ExprKind::Str(s) => self.add(OpKind::Const(Const::Str(s.clone())), e.span),
            ExprKind::Name(name) => self.name(name, e.span),
            ExprKind::List(items) => {
                let ins: Vec<_> = items.iter().map(|x| (self.expr(x), x.span)).collect();
                self.op(OpKind::List, e.span, ins)
            }
            ExprKind::Range { start, end, inclusive } => {
                let ins = vec![(self.expr(start), start.span), (self.expr(end), end.span)];
                self.op(OpKind::Range { inclusive: *inclusive }, e.span, ins)
            }
            ExprKind::Unary { op, expr } => {
                let ins = vec![(self.expr(expr), expr.span)];
                let kind = match op {
                    UnOp::Not => OpKind::Not,
                    UnOp::Neg => OpKind::Neg,
                };
                self.op(kind, e.span, ins)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let ins = vec![(self.expr(lhs), lhs.span), (self.expr(rhs), rhs.span)];
                let kind = match op {
                    BinOp::Or | BinOp::And => OpKind::Logic(*op),
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => OpKind::Compare(*op),
                    BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => OpKind::Arith(*op),
                };
                self.op(kind, e.span, ins)
            }
            ExprKind::Index { base, index } => {
                let ins = vec![(self.expr(base), base.span), (self.expr(index), index.span)];
                self.op(OpKind::Index, e.span, ins)
            }
            ExprKind::Call { callee, args } => self.call(callee, args, e.span),
        }
    }

    /// A name in a value position: a parameter's or variable's node, or the
    /// cell under a world pointer.
    fn name(&mut self, name: &ast::Ident, span: Span) -> NodeIndex {
        match self.resolve(name) {
            Some(Resolved::Local(slot)) => match self.slot(slot) {
                Some(s) => self.node_of(s),
                None => {
                    self.unresolved.get_or_insert(name.span);
                    self.add(OpKind::Var { name: name.name.clone(), carried: false }, span)
                }
            },
            Some(Resolved::Pointer) => {
                self.add(OpKind::Read { what: ReadKind::Cell, pointer: name.name.clone() }, span)
            }
            Some(Resolved::Tape) => self.add(OpKind::Memory, span),
            Some(Resolved::Direction(up)) => self.add(OpKind::Const(if up { Const::Right } else { Const::Left }), span),
            _ => {
                self.unresolved.get_or_insert(name.span);
                self.add(OpKind::Var { name: name.name.clone(), carried: false }, span)
            }
        }
    }

    fn op(&mut self, kind: OpKind, span: Span, ins: Vec<(NodeIndex, Span)>) -> NodeIndex {
        let n = self.add(kind, span);
        for (i, (src, at)) in ins.into_iter().enumerate() {
            self.flow(src, n, Port::Arg(port(i)), at);
        }
        n
    }

    fn call(&mut self, callee: &ast::Ident, args: &[CallArg], span: Span) -> NodeIndex {
        let name = callee.name.as_str();
        let builtin = match self.resolve(callee) {
            Some(Resolved::Program) => {
                let ins: Vec<_> = args.iter().map(|a| (self.pointer_arg(&a.value), &a.value)).collect();
                let n = self.add(OpKind::Call(name.to_string()), span);
                for (i, (src, operand)) in ins.into_iter().enumerate() {
                    self.decide(src, n, Port::Arg(port(i)), operand);
                }
                return n;
            }
            Some(Resolved::Builtin(b)) => b,
            _ => {
                self.unresolved.get_or_insert(callee.span);
                let ins: Vec<_> = args.iter().map(|a| (self.expr(&a.value), a.value.span)).collect();
                return self.op(OpKind::Builtin(name.to_string()), span, ins);
            }
        };
        if let Some(what) = ReadKind::from_builtin(name) {
            if let [CallArg { value: Expr { kind: ExprKind::Name(p), .. }, .. }] = args {
                let read = self.add(OpKind::Read { what, pointer: p.name.clone() }, span);
                if let Some(Resolved::Local(slot)) = self.resolve(p) {
                    if let Some(s) = self.slot(slot) {
                        let n = self.node_of(s);
                        self.flow(n, read, Port::Arg(0), args[0].value.span);
                    }
                }
                return read;
            }
        }
        // Arguments in parameter order: named ones by name, the rest in turn.
        let mut ins = Vec::new();
        let mut next = 0;
        for a in args {
            let slot = match &a.name {
                Some(n) => builtin.params.iter().position(|p| p.name == n.name.as_str()).unwrap_or(next),
                None => next,
            };
            next = slot + 1;
            let ty = builtin.params.get(slot).or(builtin.params.last()).map(|p| p.ty);
            let node = if ty == Some(Ty::Pointer) { self.pointer_arg(&a.value) } else { self.expr(&a.value) };
            ins.push((slot, node, &a.value));
        }
        if builtin.kind == Kind::Action {
            let n = self.add(OpKind::Action(name.to_string()), span);
            for (slot, src, operand) in ins {
                self.decide(src, n, Port::Arg(port(slot)), operand);
            }
            n
        } else {
            let n = self.add(OpKind::Builtin(name.to_string()), span);
            for (slot, src, operand) in ins {
                self.flow(src, n, Port::Arg(port(slot)), operand.span);
            }
            n
        }
    }

    /// An argument where a pointer is expected: a bare pointer name is the
    /// pointer itself, not its cell.
    fn pointer_arg(&mut self, e: &Expr) -> NodeIndex {
        if let ExprKind::Name(name) = &e.kind {
            if let Some(Resolved::Pointer) = self.resolved.get(name.span) {
                return self.add(OpKind::Pointer(name.name.clone()), e.span);
            }
        }
        self.expr(e)
    }

    /// Whether `e` names a parameter or local variable, which would make it
    /// differ from an `observe` declaration that spells the same text.
    fn mentions_local(&self, e: &Expr) -> bool {
        struct Locals<'r> {
            resolved: &'r Resolutions,
            found: bool,
        }
        impl Visitor for Locals<'_> {
            fn visit_expr(&mut self, e: &Expr) {
                if let ExprKind::Name(n) = &e.kind {
                    self.found |= matches!(self.resolved.get(n.span), Some(Resolved::Local(_)));
                }
                walk_expr(self, e);
            }
        }
        let mut v = Locals { resolved: self.resolved, found: false };
        v.visit_expr(e);
        v.found
    }

    /// Marks variables that a loop reassigns from their own value.
    fn mark_carried(&mut self) {
        for v in 0..self.vars.len() {
            let info = &self.vars[v];
            if info.looped.is_empty() || !matches!(self.graph[info.node].kind, OpKind::Var { .. }) {
                continue;
            }
            let target = info.node;
            let mut seen = vec![false; self.graph.node_count()];
            let mut stack: Vec<NodeIndex> = info.looped.clone();
            let mut carried = false;
            while let Some(n) = stack.pop() {
                if n == target {
                    carried = true;
                    break;
                }
                if std::mem::replace(&mut seen[n.index()], true) {
                    continue;
                }
                stack.extend(self.graph.neighbors_directed(n, Direction::Incoming));
            }
            if carried {
                if let OpKind::Var { carried, .. } = &mut self.graph[target].kind {
                    *carried = true;
                }
            }
        }
    }
}

fn port(i: usize) -> u8 {
    u8::try_from(i).unwrap_or(u8::MAX)
}

/// Structural equality ignoring spans. A comparison also equals its mirror
/// (`a >= b` is `b <= a`, `a == b` is `b == a`), so an `observe` line
/// matches however the program orders the operands.
pub fn same_expr(a: &Expr, b: &Expr) -> bool {
    use ExprKind as K;
    match (&a.kind, &b.kind) {
        (K::Int(x), K::Int(y)) => x == y,
        (K::Float(x), K::Float(y)) => x == y,
        (K::Bool(x), K::Bool(y)) => x == y,
        (K::Blank, K::Blank) | (K::Left, K::Left) | (K::Right, K::Right) => true,
        (K::Str(x), K::Str(y)) => x == y,
        (K::Name(x), K::Name(y)) => x.name == y.name,
        (K::List(xs), K::List(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_expr(x, y)),
        (K::Range { start: s1, end: e1, inclusive: i1 }, K::Range { start: s2, end: e2, inclusive: i2 }) => {
            i1 == i2 && same_expr(s1, s2) && same_expr(e1, e2)
        }
        (K::Unary { op: o1, expr: x }, K::Unary { op: o2, expr: y }) => o1 == o2 && same_expr(x, y),
        (K::Binary { op: o1, lhs: l1, rhs: r1 }, K::Binary { op: o2, lhs: l2, rhs: r2 }) => {
            (o1 == o2 && same_expr(l1, l2) && same_expr(r1, r2))
                || (mirror(*o1) == Some(*o2) && same_expr(l1, r2) && same_expr(r1, l2))
        }
        (K::Call { callee: c1, args: a1 }, K::Call { callee: c2, args: a2 }) => {
            c1.name == c2.name
                && a1.len() == a2.len()
                && a1.iter().zip(a2).all(|(x, y)| {
                    x.name.as_ref().map(|i| &i.name) == y.name.as_ref().map(|i| &i.name)
                        && same_expr(&x.value, &y.value)
                })
        }
        (K::Index { base: b1, index: i1 }, K::Index { base: b2, index: i2 }) => same_expr(b1, b2) && same_expr(i1, i2),
        _ => false,
    }
}

/// The comparison that means the same with its operands swapped.
fn mirror(op: BinOp) -> Option<BinOp> {
    Some(match op {
        BinOp::Eq => BinOp::Eq,
        BinOp::Ne => BinOp::Ne,
        BinOp::Lt => BinOp::Gt,
        BinOp::Gt => BinOp::Lt,
        BinOp::Le => BinOp::Ge,
        BinOp::Ge => BinOp::Le,
        _ => return None,
    })
}

/// Quotes a DOT identifier or label.
pub(crate) fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use synth_dsl::ast::ItemKind;

    /// The operation graphs of a file that must compile.
    fn ops(src: &str) -> String {
        match crate::compile(src, "t") {
            Ok(c) => c.task.op_graph().to_text(),
            Err(d) => panic!("{}", synth_dsl::render_all(&d, "t.npl", src)),
        }
    }

    fn task(world: &str, programs: &str) -> String {
        format!(
            "world scratchpad(rows: 2, cols: n + 1, base: 10) {{\n{world}}}\ninput(n) {{ write_number(row: 0, 1) }}\nexpect true\n{programs}"
        )
    }

    #[test]
    fn mirrored_comparisons_are_the_same_expression() {
        let (file, _) =
            synth_dsl::parse("expect pos(lo) >= pos(hi)\nexpect pos(hi) <= pos(lo)\nexpect pos(lo) <= pos(hi)\n");
        let e: Vec<&Expr> = file
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Expect(e) => Some(e),
                _ => None,
            })
            .collect();
        assert!(same_expr(e[0], e[1]));
        assert!(!same_expr(e[0], e[2]));
    }

    #[test]
    fn add1_dataflow() {
        let src = task(
            "  pointer in1 on row 0 at left\n  pointer in2 on row 0 at left\n  pointer out on row 1 at left\n",
            "program ADD1 {\n  let s = digit(in1) + digit(in2)\n  write(out, s % 10)\n  if s >= 10 { CARRY() }\n}\nprogram CARRY { move(out, left) }\n",
        );
        assert_eq!(
            ops(&src),
            "program ADD1()
  n0 = digit(in1)
  n1 = digit(in2)
  n2 = n0 + n1
  n3 = var s <- n2
  n4 = pointer out
  n5 = 10
  n6 = n3 % n5
  n7 = ACT(write, n4, n6)
  n8 = 10
  n9 = n3 >= n8
  n10 = if n9
  n11 = CARRY()

program CARRY()
  n0 = pointer out
  n1 = left
  n2 = ACT(move, n0, n1)
"
        );
    }

    #[test]
    fn variables_merge_assignments_and_loops_mark_counters() {
        let src = task(
            "  pointer i on row 0 at left\n",
            "program MAIN { P(1) }\nprogram P(c) {\n  let x = 0\n  while x < 3 { x = x + 1 }\n  let y = c\n  if at_end(i) { y = 1 }\n  for t in 0..y { move(i, right) }\n}\n",
        );
        assert_eq!(
            ops(&src),
            "program MAIN()
  n0 = 1
  n1 = P(n0)

program P(c)
  n0 = param c #0
  n1 = 0
  n2 = var x <- n1, n7 (loop-carried)
  n3 = 3
  n4 = n2 < n3
  n5 = while n4
  n6 = 1
  n7 = n2 + n6
  n8 = var y <- n0, n11
  n9 = at_end(i)
  n10 = if n9
  n11 = 1
  n12 = 0
  n13 = n12..n8
  n14 = for t in n13
  n15 = counter t <- n13
  n16 = pointer i
  n17 = right
  n18 = ACT(move, n16, n17)
"
        );
    }

    #[test]
    fn observe_declarations_are_read_whole() {
        let src = task(
            "  pointer lo on row 0 at left\n  pointer hi on row 0 at right\n  observe pos(lo) >= pos(hi)\n",
            "program P {\n  while !(pos(hi) <= pos(lo)) { move(lo, right) }\n}\n",
        );
        assert_eq!(
            ops(&src),
            "observe #0 pos(lo) >= pos(hi)

program P()
  n0 = observe pos(lo) >= pos(hi)
  n1 = !n0
  n2 = while n1
  n3 = pointer lo
  n4 = right
  n5 = ACT(move, n3, n4)
"
        );
    }

    #[test]
    fn decisions_carry_their_operands_as_written() {
        let src = task(
            "  pointer p on row 0 at left\n",
            "program P {\n  if ((digit(p))) + 1 > 2 { write(p, (digit(p) + 1) % 10) }\n}\n",
        );
        let c = crate::compile(&src, "t").expect("compiles");
        let p = &c.task.op_graph().programs[0];
        let texts: Vec<String> = p.sinks().flat_map(|s| p.inputs(s)).map(|(_, e)| e.text.unwrap_or_default()).collect();
        assert_eq!(texts, ["digit(p) + 1 > 2", "p", "(digit(p) + 1) % 10"]);
    }
}
