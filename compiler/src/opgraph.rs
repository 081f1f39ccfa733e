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
//! decision back to its sources; the NRAM mapping reads a tape task's
//! arithmetic and comparisons as modules; and a table question's answer
//! expression is the latent program the Neural Programmer induces. That is
//! why nodes are typed, never strings.
//!
//! The graph is built from the parsed, unresolved syntax tree, assumed to have
//! passed the checker; on a file that did not, it still builds (an unknown
//! name becomes [`OpKind::Unbound`]) and never panics.
//!
//! Control flow is flattened: a local variable assigned in several places, in
//! branches or in loops, is one node whose inputs are all its assignments
//! (a conservative merge: it "may" hold any of them). A `let` opens a new
//! variable (shadowing an outer one of the same name), scoped to its block.
//!
//! Architecture invariant: no `HashMap` anywhere, nodes are numbered in the
//! order the source evaluates them, so the text and DOT forms are stable.

use crate::builtins::{self, Kind, Ty};
use num_bigint::BigInt;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::fmt::Write;
use synth_dsl::ast::{self, BinOp, Block, CallArg, Expr, ExprKind, ItemKind, StmtKind, UnOp, WorldDeclKind};
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
        }
    }

    fn from_builtin(name: &str) -> Option<ReadKind> {
        Some(match name {
            "digit" => ReadKind::Digit,
            "at_start" => ReadKind::AtStart,
            "at_end" => ReadKind::AtEnd,
            "pos" => ReadKind::Pos,
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
    Const(Const),
    /// A name bound by `input` (or its size parameter `n`): programs cannot
    /// see it (the checker rejects it).
    Input(String),
    /// A name bound nowhere (the checker reports it).
    Unbound(String),

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
    /// `base[index]` (tape memory)
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
    /// `base[index] = value` (tape memory).
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

    /// Short label for DOT.
    fn short(&self) -> String {
        match self {
            OpKind::Read { what, pointer } => format!("{}({pointer})", what.name()),
            OpKind::Observed { text, .. } => format!("observe {text}"),
            OpKind::Param { name, .. } => format!("param {name}"),
            OpKind::Pointer(p) => format!("pointer {p}"),
            OpKind::Const(c) => c.to_string(),
            OpKind::Input(n) => format!("input {n}"),
            OpKind::Unbound(n) => format!("unbound {n}"),
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpEdge {
    pub port: Port,
    pub span: Span,
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
        let mut ins: Vec<(NodeIndex, OpEdge, EdgeIndex)> =
            self.graph.edges_directed(node, Direction::Incoming).map(|e| (e.source(), *e.weight(), e.id())).collect();
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
            OpKind::Const(c) => c.to_string(),
            OpKind::Input(name) => format!("input {name}"),
            OpKind::Unbound(name) => format!("unbound {name}"),
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

    /// This program as a DOT cluster (lines indented by two spaces).
    fn write_dot_cluster(&self, out: &mut String) {
        let id = |n: NodeIndex| dot_quote(&format!("{}.n{}", self.name, n.index()));
        let _ = writeln!(out, "  subgraph {} {{", dot_quote(&format!("cluster_{}", self.name)));
        let _ = writeln!(out, "    label={};", dot_quote(&self.name));
        for n in self.graph.node_indices() {
            let kind = &self.graph[n].kind;
            let shape = match kind {
                OpKind::Read { .. } | OpKind::Observed { .. } => "ellipse",
                OpKind::Param { .. } | OpKind::Pointer(_) => "house",
                OpKind::Const(_) => "plaintext",
                OpKind::Input(_) | OpKind::Unbound(_) => "octagon",
                OpKind::Var { .. } | OpKind::Counter(_) => "box, style=rounded",
                OpKind::Branch | OpKind::Loop | OpKind::ForRange { .. } => "diamond",
                OpKind::Action(_) | OpKind::Call(_) | OpKind::Store => "box, style=bold",
                _ => "box",
            };
            let _ = writeln!(out, "    {} [label={}, shape={shape}];", id(n), dot_quote(&kind.short()));
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
    pub fn build(file: &ast::File) -> OpGraph {
        let env = Env::new(file);
        let mut programs = Vec::new();
        for item in &file.items {
            if let ItemKind::Program(p) = &item.kind {
                programs.push(Builder::program(&env, p));
            }
        }
        let observes = env.observes.iter().map(|e| show_expr(e)).collect();
        OpGraph { programs, observes }
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
        let mut out = String::from("digraph ops {\n  node [fontname=\"monospace\"];\n");
        for p in &self.programs {
            p.write_dot_cluster(&mut out);
        }
        out.push_str("}\n");
        out
    }
}

/// What the whole file says about names a program may mention.
struct Env<'a> {
    /// Pointer names declared in the world, in order.
    pointers: Vec<&'a str>,
    /// Names `input` binds, its size parameter first.
    inputs: Vec<&'a str>,
    observes: Vec<&'a Expr>,
}

impl<'a> Env<'a> {
    fn new(file: &'a ast::File) -> Env<'a> {
        let mut env = Env { pointers: Vec::new(), inputs: Vec::new(), observes: Vec::new() };
        for item in &file.items {
            match &item.kind {
                ItemKind::World(w) => {
                    for d in &w.decls {
                        match &d.kind {
                            WorldDeclKind::Pointer { name, .. } => env.pointers.push(&name.name),
                            WorldDeclKind::Observe(e) => env.observes.push(e),
                            WorldDeclKind::Other { .. } => {}
                        }
                    }
                }
                ItemKind::Input(input) => {
                    env.inputs.push(&input.param.name);
                    collect_lets(&input.body, &mut env.inputs);
                }
                _ => {}
            }
        }
        env
    }

    fn is_pointer(&self, name: &str) -> bool {
        self.pointers.contains(&name)
    }
}

fn collect_lets<'a>(block: &'a Block, out: &mut Vec<&'a str>) {
    for s in &block.stmts {
        match &s.kind {
            StmtKind::Let { name, .. } => out.push(&name.name),
            StmtKind::Assign { target: Expr { kind: ExprKind::Name(name), .. }, .. } => out.push(&name.name),
            StmtKind::If { arms, otherwise } => {
                for (_, b) in arms {
                    collect_lets(b, out);
                }
                if let Some(b) = otherwise {
                    collect_lets(b, out);
                }
            }
            StmtKind::While { body, .. } => collect_lets(body, out),
            StmtKind::For { var, body, .. } => {
                out.push(&var.name);
                collect_lets(body, out);
            }
            _ => {}
        }
    }
}

/// What a name means at one point of a program.
enum Binding {
    Node(NodeIndex),
    Pointer,
    Input,
    Unbound,
}

struct VarInfo {
    node: NodeIndex,
    /// Loop depth of the `let`.
    depth: u32,
    /// The value nodes of assignments made deeper in loops than the `let`.
    looped: Vec<NodeIndex>,
}

struct Builder<'e, 'a> {
    env: &'e Env<'a>,
    graph: DiGraph<OpNode, OpEdge>,
    params: Vec<(String, NodeIndex)>,
    /// Innermost scope last.
    scopes: Vec<Vec<(String, usize)>>,
    vars: Vec<VarInfo>,
    loop_depth: u32,
}

impl<'e, 'a> Builder<'e, 'a> {
    fn program(env: &'e Env<'a>, p: &ast::Program) -> ProgramOps {
        let mut b = Builder {
            env,
            graph: DiGraph::new(),
            params: Vec::new(),
            scopes: vec![Vec::new()],
            vars: Vec::new(),
            loop_depth: 0,
        };
        for (index, param) in p.params.iter().enumerate() {
            let n = b.add(OpKind::Param { index, name: param.name.clone() }, param.span);
            b.params.push((param.name.clone(), n));
        }
        b.block(&p.body);
        b.mark_carried();
        ProgramOps {
            name: p.name.name.clone(),
            span: p.name.span,
            params: p.params.iter().map(|i| i.name.clone()).collect(),
            graph: b.graph,
        }
    }

    fn add(&mut self, kind: OpKind, span: Span) -> NodeIndex {
        self.graph.add_node(OpNode { kind, span })
    }

    fn flow(&mut self, from: NodeIndex, to: NodeIndex, port: Port, span: Span) {
        self.graph.add_edge(from, to, OpEdge { port, span });
    }

    fn resolve(&self, name: &str) -> Binding {
        for scope in self.scopes.iter().rev() {
            if let Some((_, v)) = scope.iter().rev().find(|(n, _)| n == name) {
                return Binding::Node(self.vars[*v].node);
            }
        }
        if let Some((_, n)) = self.params.iter().find(|(n, _)| n == name) {
            return Binding::Node(*n);
        }
        if self.env.is_pointer(name) {
            Binding::Pointer
        } else if self.env.inputs.contains(&name) {
            Binding::Input
        } else {
            Binding::Unbound
        }
    }

    fn resolve_var(&self, name: &str) -> Option<usize> {
        self.scopes.iter().rev().find_map(|s| s.iter().rev().find(|(n, _)| n == name).map(|(_, v)| *v))
    }

    fn declare(&mut self, name: &str, kind: OpKind, span: Span) -> usize {
        let node = self.add(kind, span);
        self.vars.push(VarInfo { node, depth: self.loop_depth, looped: Vec::new() });
        let v = self.vars.len() - 1;
        self.scopes.last_mut().expect("a scope is always open").push((name.to_string(), v));
        v
    }

    fn block(&mut self, block: &Block) {
        self.scopes.push(Vec::new());
        for s in &block.stmts {
            self.stmt(s);
        }
        self.scopes.pop();
    }

    fn looped_block(&mut self, block: &Block, counter: Option<(&ast::Ident, NodeIndex)>) {
        self.loop_depth += 1;
        self.scopes.push(Vec::new());
        if let Some((var, range)) = counter {
            let v = self.declare(&var.name, OpKind::Counter(var.name.clone()), var.span);
            let node = self.vars[v].node;
            self.flow(range, node, Port::Arg(0), var.span);
        }
        self.block(block);
        self.scopes.pop();
        self.loop_depth -= 1;
    }

    fn stmt(&mut self, s: &ast::Stmt) {
        match &s.kind {
            StmtKind::Let { name, value } => {
                let val = self.expr(value);
                let v = self.declare(&name.name, OpKind::Var { name: name.name.clone(), carried: false }, name.span);
                let node = self.vars[v].node;
                self.flow(val, node, Port::Assign, value.span);
            }
            StmtKind::Assign { target, value } => match &target.kind {
                ExprKind::Name(name) => {
                    let val = self.expr(value);
                    let v = match self.resolve_var(&name.name) {
                        Some(v) => v,
                        None => {
                            // Assigning a parameter or an undeclared name: a
                            // variable of the program's outermost scope that
                            // may also hold the parameter's value.
                            let param = self.params.iter().find(|(n, _)| *n == name.name).map(|(_, n)| *n);
                            let node = self.add(OpKind::Var { name: name.name.clone(), carried: false }, name.span);
                            self.vars.push(VarInfo { node, depth: 0, looped: Vec::new() });
                            let v = self.vars.len() - 1;
                            self.scopes[0].push((name.name.clone(), v));
                            if let Some(p) = param {
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
                    self.flow(b, store, Port::Arg(0), base.span);
                    self.flow(i, store, Port::Arg(1), index.span);
                    self.flow(val, store, Port::Arg(2), value.span);
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
                    self.flow(c, sink, Port::Arg(0), cond.span);
                    self.block(body);
                }
                if let Some(body) = otherwise {
                    self.block(body);
                }
            }
            StmtKind::While { cond, body } => {
                let c = self.expr(cond);
                let sink = self.add(OpKind::Loop, cond.span);
                self.flow(c, sink, Port::Arg(0), cond.span);
                self.looped_block(body, None);
            }
            StmtKind::For { var, iter, body } => {
                let r = self.expr(iter);
                let sink = self.add(OpKind::ForRange { counter: var.name.clone() }, iter.span);
                self.flow(r, sink, Port::Arg(0), iter.span);
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
            if let Some(index) = self.env.observes.iter().position(|o| same_expr(o, e)) {
                if !self.mentions_local(e) {
                    return self.add(OpKind::Observed { index, text: show_expr(self.env.observes[index]) }, e.span);
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
            ExprKind::Name(name) => match self.resolve(&name.name) {
                Binding::Node(n) => n,
                Binding::Pointer => self.add(OpKind::Read { what: ReadKind::Cell, pointer: name.name.clone() }, e.span),
                Binding::Input => self.add(OpKind::Input(name.name.clone()), e.span),
                Binding::Unbound => self.add(OpKind::Unbound(name.name.clone()), e.span),
            },
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

    fn op(&mut self, kind: OpKind, span: Span, ins: Vec<(NodeIndex, Span)>) -> NodeIndex {
        let n = self.add(kind, span);
        for (i, (src, at)) in ins.into_iter().enumerate() {
            self.flow(src, n, Port::Arg(port(i)), at);
        }
        n
    }

    fn call(&mut self, callee: &ast::Ident, args: &[CallArg], span: Span) -> NodeIndex {
        let name = callee.name.as_str();
        if callee.is_program_name() {
            let ins: Vec<_> = args.iter().map(|a| (self.pointer_arg(&a.value), a.value.span)).collect();
            return self.op(OpKind::Call(name.to_string()), span, ins);
        }
        let Some(builtin) = builtins::lookup(name) else {
            let ins: Vec<_> = args.iter().map(|a| (self.expr(&a.value), a.value.span)).collect();
            return self.op(OpKind::Builtin(name.to_string()), span, ins);
        };
        if let Some(what) = ReadKind::from_builtin(name) {
            if let [CallArg { value: Expr { kind: ExprKind::Name(p), .. }, .. }] = args {
                match self.resolve(&p.name) {
                    Binding::Pointer | Binding::Unbound | Binding::Input => {
                        return self.add(OpKind::Read { what, pointer: p.name.clone() }, span);
                    }
                    Binding::Node(n) => {
                        let read = self.add(OpKind::Read { what, pointer: p.name.clone() }, span);
                        self.flow(n, read, Port::Arg(0), args[0].value.span);
                        return read;
                    }
                }
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
            ins.push((slot, node, a.value.span));
        }
        let kind = match builtin.kind {
            Kind::Action => OpKind::Action(name.to_string()),
            _ => OpKind::Builtin(name.to_string()),
        };
        let n = self.add(kind, span);
        for (slot, src, at) in ins {
            self.flow(src, n, Port::Arg(port(slot)), at);
        }
        n
    }

    /// An argument where a pointer is expected: a bare pointer name is the
    /// pointer itself, not its cell.
    fn pointer_arg(&mut self, e: &Expr) -> NodeIndex {
        if let ExprKind::Name(name) = &e.kind {
            if let Binding::Pointer = self.resolve(&name.name) {
                return self.add(OpKind::Pointer(name.name.clone()), e.span);
            }
        }
        self.expr(e)
    }

    /// Whether `e` names a parameter or local variable, which would make it
    /// differ from an `observe` declaration that spells the same text.
    fn mentions_local(&self, e: &Expr) -> bool {
        let mut found = false;
        walk_names(e, &mut |name| {
            if let Binding::Node(_) = self.resolve(name) {
                found = true;
            }
        });
        found
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

fn walk_names(e: &Expr, f: &mut dyn FnMut(&str)) {
    match &e.kind {
        ExprKind::Name(n) => f(&n.name),
        ExprKind::List(xs) => xs.iter().for_each(|x| walk_names(x, f)),
        ExprKind::Range { start, end, .. } => {
            walk_names(start, f);
            walk_names(end, f);
        }
        ExprKind::Unary { expr, .. } => walk_names(expr, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk_names(lhs, f);
            walk_names(rhs, f);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| walk_names(&a.value, f)),
        ExprKind::Index { base, index } => {
            walk_names(base, f);
            walk_names(index, f);
        }
        _ => {}
    }
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

/// Binding strength, loosest first, as NPL.md lists it.
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Range { .. } => 1,
        ExprKind::Binary { op, .. } => binop_precedence(*op),
        ExprKind::Unary { .. } => 7,
        _ => 8,
    }
}

fn binop_precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 2,
        BinOp::And => 3,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
        BinOp::Add | BinOp::Sub => 5,
        BinOp::Mul | BinOp::Div | BinOp::Rem => 6,
    }
}

/// An expression as NPL source, with single spaces around binary operators
/// and only the parentheses precedence needs.
pub fn show_expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

fn write_operand(out: &mut String, e: &Expr, paren: bool) {
    if paren {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_expr(out, e);
    }
}

fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Int(v) => {
            let _ = write!(out, "{v}");
        }
        ExprKind::Float(v) => {
            let _ = write!(out, "{v:?}");
        }
        ExprKind::Bool(v) => {
            let _ = write!(out, "{v}");
        }
        ExprKind::Blank => out.push_str("blank"),
        ExprKind::Left => out.push_str("left"),
        ExprKind::Right => out.push_str("right"),
        ExprKind::Str(s) => {
            let _ = write!(out, "{s:?}");
        }
        ExprKind::Name(n) => out.push_str(&n.name),
        ExprKind::List(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, x);
            }
            out.push(']');
        }
        ExprKind::Range { start, end, inclusive } => {
            write_operand(out, start, precedence(start) <= 1);
            out.push_str(if *inclusive { "..=" } else { ".." });
            write_operand(out, end, precedence(end) <= 1);
        }
        ExprKind::Unary { op, expr } => {
            out.push(match op {
                UnOp::Not => '!',
                UnOp::Neg => '-',
            });
            write_operand(out, expr, precedence(expr) < 7);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let p = binop_precedence(*op);
            // Left-associative, except comparisons, which do not chain.
            write_operand(out, lhs, precedence(lhs) < p || (p == 4 && precedence(lhs) == 4));
            let _ = write!(out, " {} ", op.symbol());
            write_operand(out, rhs, precedence(rhs) <= p);
        }
        ExprKind::Call { callee, args } => {
            out.push_str(&callee.name);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if let Some(n) = &a.name {
                    let _ = write!(out, "{}: ", n.name);
                }
                write_expr(out, &a.value);
            }
            out.push(')');
        }
        ExprKind::Index { base, index } => {
            write_operand(out, base, precedence(base) < 8);
            out.push('[');
            write_expr(out, index);
            out.push(']');
        }
    }
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

/// Builders for syntax trees in unit tests, while a test wants a tree without
/// going through the parser. Every node gets a distinct fake span.
#[cfg(test)]
pub(crate) mod tree {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use synth_dsl::ast::*;

    static NEXT: AtomicU32 = AtomicU32::new(0);

    pub fn span() -> Span {
        let s = NEXT.fetch_add(10, Ordering::Relaxed);
        Span { start: s, end: s + 5 }
    }
    pub fn ident(name: &str) -> Ident {
        Ident { name: name.into(), span: span() }
    }
    fn ex(kind: ExprKind) -> Expr {
        Expr { kind, span: span() }
    }
    pub fn name(n: &str) -> Expr {
        ex(ExprKind::Name(ident(n)))
    }
    pub fn int(v: i64) -> Expr {
        ex(ExprKind::Int(BigInt::from(v)))
    }
    pub fn blank() -> Expr {
        ex(ExprKind::Blank)
    }
    pub fn left() -> Expr {
        ex(ExprKind::Left)
    }
    pub fn right() -> Expr {
        ex(ExprKind::Right)
    }
    pub fn not(e: Expr) -> Expr {
        ex(ExprKind::Unary { op: UnOp::Not, expr: Box::new(e) })
    }
    pub fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
        ex(ExprKind::Binary { op, lhs: Box::new(l), rhs: Box::new(r) })
    }
    pub fn range(a: Expr, b: Expr) -> Expr {
        ex(ExprKind::Range { start: Box::new(a), end: Box::new(b), inclusive: false })
    }
    pub fn call(f: &str, args: Vec<Expr>) -> Expr {
        ex(ExprKind::Call {
            callee: ident(f),
            args: args.into_iter().map(|value| CallArg { name: None, value }).collect(),
        })
    }
    fn st(kind: StmtKind) -> Stmt {
        Stmt { kind, span: span() }
    }
    pub fn do_(e: Expr) -> Stmt {
        st(StmtKind::Expr(e))
    }
    pub fn let_(n: &str, e: Expr) -> Stmt {
        st(StmtKind::Let { name: ident(n), value: e })
    }
    pub fn set(n: &str, e: Expr) -> Stmt {
        st(StmtKind::Assign { target: name(n), value: e })
    }
    pub fn block(stmts: Vec<Stmt>) -> Block {
        Block { stmts, span: span() }
    }
    pub fn if_(c: Expr, body: Vec<Stmt>) -> Stmt {
        st(StmtKind::If { arms: vec![(c, block(body))], otherwise: None })
    }
    pub fn while_(c: Expr, body: Vec<Stmt>) -> Stmt {
        st(StmtKind::While { cond: c, body: block(body) })
    }
    pub fn for_(v: &str, r: Expr, body: Vec<Stmt>) -> Stmt {
        st(StmtKind::For { var: ident(v), iter: r, body: block(body) })
    }
    fn item(kind: ItemKind) -> Item {
        Item { kind, span: span() }
    }
    pub fn program(n: &str, params: &[&str], body: Vec<Stmt>) -> Item {
        item(ItemKind::Program(Program {
            name: ident(n),
            params: params.iter().map(|p| ident(p)).collect(),
            body: block(body),
        }))
    }
    pub fn entry(n: &str) -> Item {
        item(ItemKind::Entry(ident(n)))
    }
    /// A scratchpad with the given pointers on row 0 and `observe` lines.
    pub fn world(pointers: &[&str], observes: Vec<Expr>) -> Item {
        let mut decls: Vec<WorldDecl> = pointers
            .iter()
            .map(|p| WorldDecl {
                kind: WorldDeclKind::Pointer { name: ident(p), row: int(0), start: PointerStart::Left(span()) },
                span: span(),
            })
            .collect();
        decls.extend(observes.into_iter().map(|e| WorldDecl { kind: WorldDeclKind::Observe(e), span: span() }));
        item(ItemKind::World(World { kind: ident("scratchpad"), args: Vec::new(), decls }))
    }
    pub fn file(items: Vec<Item>) -> File {
        File { items }
    }
}

#[cfg(test)]
mod tests {
    use super::tree::*;
    use super::*;

    #[test]
    fn shows_expressions_with_needed_parentheses_only() {
        let e = bin(BinOp::Mul, bin(BinOp::Add, name("a"), int(1)), call("digit", vec![name("p")]));
        assert_eq!(show_expr(&e), "(a + 1) * digit(p)");
        let e = bin(BinOp::Sub, name("a"), bin(BinOp::Sub, name("b"), name("c")));
        assert_eq!(show_expr(&e), "a - (b - c)");
        let e = not(bin(BinOp::Ge, call("pos", vec![name("lo")]), call("pos", vec![name("hi")])));
        assert_eq!(show_expr(&e), "!(pos(lo) >= pos(hi))");
        let e = range(int(0), bin(BinOp::Add, name("a"), int(1)));
        assert_eq!(show_expr(&e), "0..a + 1");
    }

    #[test]
    fn mirrored_comparisons_are_the_same_expression() {
        let a = bin(BinOp::Ge, call("pos", vec![name("lo")]), call("pos", vec![name("hi")]));
        let b = bin(BinOp::Le, call("pos", vec![name("hi")]), call("pos", vec![name("lo")]));
        let c = bin(BinOp::Le, call("pos", vec![name("lo")]), call("pos", vec![name("hi")]));
        assert!(same_expr(&a, &b));
        assert!(!same_expr(&a, &c));
    }

    #[test]
    fn add1_dataflow() {
        // program ADD1 { let s = digit(in1) + digit(in2); write(out, s % 10); if s >= 10 { CARRY() } }
        let f = file(vec![
            world(&["in1", "in2", "out"], vec![]),
            program(
                "ADD1",
                &[],
                vec![
                    let_("s", bin(BinOp::Add, call("digit", vec![name("in1")]), call("digit", vec![name("in2")]))),
                    do_(call("write", vec![name("out"), bin(BinOp::Rem, name("s"), int(10))])),
                    if_(bin(BinOp::Ge, name("s"), int(10)), vec![do_(call("CARRY", vec![]))]),
                ],
            ),
        ]);
        let g = OpGraph::build(&f);
        assert_eq!(
            g.to_text(),
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
"
        );
    }

    #[test]
    fn variables_merge_assignments_and_loops_mark_counters() {
        // program P(c) { let x = 0; while x < 3 { x = x + 1 }; let y = c; if at_end(i) { y = 1 }; for t in 0..y { move(i, right) } }
        let f = file(vec![
            world(&["i"], vec![]),
            program(
                "P",
                &["c"],
                vec![
                    let_("x", int(0)),
                    while_(bin(BinOp::Lt, name("x"), int(3)), vec![set("x", bin(BinOp::Add, name("x"), int(1)))]),
                    let_("y", name("c")),
                    if_(call("at_end", vec![name("i")]), vec![set("y", int(1))]),
                    for_("t", range(int(0), name("y")), vec![do_(call("move", vec![name("i"), right()]))]),
                ],
            ),
        ]);
        let g = OpGraph::build(&f);
        assert_eq!(
            g.to_text(),
            "program P(c)
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
        let obs = bin(BinOp::Ge, call("pos", vec![name("lo")]), call("pos", vec![name("hi")]));
        let cond = not(bin(BinOp::Le, call("pos", vec![name("hi")]), call("pos", vec![name("lo")])));
        let f = file(vec![world(&["lo", "hi"], vec![obs]), program("P", &[], vec![while_(cond, vec![])])]);
        let g = OpGraph::build(&f);
        assert_eq!(
            g.to_text(),
            "observe #0 pos(lo) >= pos(hi)

program P()
  n0 = observe pos(lo) >= pos(hi)
  n1 = !n0
  n2 = while n1
"
        );
    }
}
