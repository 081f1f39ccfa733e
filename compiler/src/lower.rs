//! Checks and lowers the bodies of an NPL file — statements and expressions
//! of programs, `input`, `expect`, `observe` lines and world arguments — into
//! the IR, in one pass.
//!
//! Every name is resolved here (locals and parameters to slots, pointers to
//! indices, built-ins to [`Func`]s and actions, programs to ids), every call
//! is checked for arity (named arguments must match parameter names), every
//! operand for its static type ([`Ty`]), and every built-in for the place it
//! is used in (samplers only in `input`, actions only in programs, whole-row
//! set-up only in `input` and `expect`). Errors are collected, not returned:
//! a failed sub-expression lowers to a poison value of type [`Ty::Any`] so one
//! mistake does not cascade into more.
//!
//! Lowering also records what every name and callee of a body resolved to
//! ([`Resolutions`]), so that the operation graph ([`crate::opgraph`]) is
//! built from the same resolution instead of repeating it.

use crate::builtins::{self, Builtin, Context, Kind, Ty, WorldKind};
use crate::ir::{ActArg, Action, Arg, Cmp, Expr, Func, Instr, ParamKind, Ptr, Slot};
use crate::suggest;
use crate::task::ProgramId;
use crate::value::{Arith, Value};
use std::collections::BTreeMap;
use synth_dsl::ast::{self, BinOp, CallArg, ExprKind, Ident, StmtKind, UnOp};
use synth_dsl::{Diagnostic, Span};

/// What one identifier of a body stands for, as lowering resolved it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Resolved {
    /// A parameter or a local variable: its frame slot. At a `let`, a `for`
    /// or a parameter list, the slot the name declares. Slots are never
    /// reused within a procedure, so a slot is one variable.
    Local(Slot),
    /// A world pointer.
    Pointer,
    /// A program call's callee.
    Program,
    /// A built-in's or an action's callee.
    Builtin(&'static Builtin),
    /// `mem`, a tape world's tape, in `mem[i]` or `mem[i] = v`.
    Tape,
    /// A pose world's `up` (right, true) or `down` (left, false).
    Direction(bool),
}

/// Every identifier of one body that resolved, by the span of the
/// identifier (a name expression, a declared name, or a callee).
#[derive(Clone, Debug, Default)]
pub(crate) struct Resolutions(BTreeMap<Span, Resolved>);

impl Resolutions {
    pub(crate) fn get(&self, at: Span) -> Option<Resolved> {
        self.0.get(&at).copied()
    }

    fn record(&mut self, at: Span, what: Resolved) {
        self.0.insert(at, what);
    }
}

/// A program's signature, known before any body is lowered.
#[derive(Clone, Debug)]
pub(crate) struct ProgSig {
    pub name: String,
    pub span: Span,
    pub params: Vec<ParamSig>,
}

#[derive(Clone, Debug)]
pub(crate) struct ParamSig {
    pub name: String,
    pub span: Span,
    pub kind: ParamKind,
    /// Where the body uses it as a pointer or direction, for hints.
    pub why: Option<Span>,
}

/// The item-level names every body may refer to.
pub(crate) struct Names<'a> {
    pub pointers: &'a [(String, Span)],
    /// Index `id - 1` is program `id`.
    pub programs: &'a [ProgSig],
    pub world: WorldKind,
    /// Names bound in `input`, for the hint when a program uses one.
    pub input_vars: Vec<String>,
    /// The name of `input`'s size parameter (`n`).
    pub size_name: String,
}

impl Names<'_> {
    pub(crate) fn program(&self, name: &str) -> Option<ProgramId> {
        self.programs.iter().position(|p| p.name == name).map(|i| (i + 1) as ProgramId)
    }
}

/// Where a body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    World,
    /// An expression of a `learn` block (NRAM's `timesteps`): like the
    /// world's arguments, a function of the size (and of `cells`).
    Learn,
    Input,
    Expect,
    Observe,
    Program(ProgramId),
}

impl Place {
    fn context(self) -> Option<Context> {
        match self {
            Place::World | Place::Learn => None,
            Place::Input => Some(Context::Input),
            Place::Expect => Some(Context::Expect),
            Place::Observe => Some(Context::Observe),
            Place::Program(_) => Some(Context::Program),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::World => "the world block",
            Place::Learn => "`timesteps`",
            Place::Input => "`input`",
            Place::Expect => "`expect`",
            Place::Observe => "an `observe` line",
            Place::Program(_) => "a program",
        }
    }

    fn sees_pointers(self) -> bool {
        !matches!(self, Place::World | Place::Learn)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Local {
    pub name: String,
    pub slot: Slot,
    pub ty: Ty,
    pub span: Span,
    pub param: Option<ParamKind>,
}

/// A type as a noun phrase for messages: "an integer", "a direction (`left` or `right`)".
pub(crate) fn phrase(t: Ty) -> &'static str {
    match t {
        Ty::Int => "an integer",
        Ty::Bool => "a boolean",
        Ty::Cell => "a digit or `blank`",
        Ty::Pointer => "a pointer",
        Ty::Dir => "a direction (`left` or `right`)",
        Ty::List => "a list",
        Ty::Range => "a range such as `0..10`",
        Ty::Str => "a string",
        Ty::Any => "a value",
        Ty::Unit => "nothing",
    }
}

/// Whether a value of type `found` may stand where `expected` is wanted.
/// Digits and cells mix freely (a cell's `blank` is caught at run time).
pub(crate) fn accepts(expected: Ty, found: Ty) -> bool {
    if found == Ty::Unit {
        return false;
    }
    if expected == Ty::Any || found == Ty::Any {
        return true;
    }
    match expected {
        Ty::Int | Ty::Cell => matches!(found, Ty::Int | Ty::Cell),
        other => other == found,
    }
}

fn comparable(a: Ty, b: Ty) -> bool {
    if a == Ty::Unit || b == Ty::Unit {
        return false;
    }
    accepts(a, b) || accepts(b, a)
}

fn signature(b: &Builtin) -> String {
    let mut params: Vec<&str> = b.params.iter().map(|p| p.name).collect();
    if b.variadic {
        params.push("...");
    }
    format!("`{}({})`: {}", b.name, params.join(", "), b.doc)
}

/// What lowering a call produced.
enum Lowered {
    Value(Ty, Expr),
    Instr(Instr),
    Nothing,
}

pub(crate) struct Lowerer<'a> {
    names: &'a Names<'a>,
    place: Place,
    pub diags: &'a mut Vec<Diagnostic>,
    pub scopes: Vec<Vec<Local>>,
    pub slot_names: Vec<String>,
    pub code: Vec<Instr>,
    pub spans: Vec<Span>,
    pub resolved: Resolutions,
}

fn poison() -> (Ty, Expr) {
    (Ty::Any, Expr::Const(Value::Unit))
}

impl<'a> Lowerer<'a> {
    pub(crate) fn new(names: &'a Names<'a>, place: Place, diags: &'a mut Vec<Diagnostic>) -> Lowerer<'a> {
        Lowerer {
            names,
            place,
            diags,
            scopes: vec![Vec::new()],
            slot_names: Vec::new(),
            code: Vec::new(),
            spans: Vec::new(),
            resolved: Resolutions::default(),
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn lookup(&self, name: &str) -> Option<&Local> {
        self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|l| l.name == name)
    }

    /// Whether `id` is `mem`, the tape of a tape world (which no variable
    /// can shadow: declaring one is an error).
    fn is_mem(&self, id: &Ident) -> bool {
        self.names.world == WorldKind::Tape && id.name == "mem"
    }

    /// `mem[index]`: a read of the tape.
    fn lower_mem_read(&mut self, mem: &Ident, index: &ast::Expr, span: Span) -> (Ty, Expr) {
        if matches!(self.place, Place::World | Place::Learn) {
            let (message, label) = match self.place {
                Place::World => ("the world block cannot read the tape", "the tape is built from these arguments"),
                _ => ("`timesteps` cannot read the tape", "a function of the size alone"),
            };
            self.err(
                Diagnostic::error(message)
                    .at_labelled(mem.span, label)
                    .hint(format!("compute it from the size `{}` (and `cells`)", self.names.size_name)),
            );
            return poison();
        }
        self.resolved.record(mem.span, Resolved::Tape);
        let a = self.expect_ty(index, Ty::Int, "an address");
        (Ty::Int, Expr::Mem(Box::new(a), span))
    }

    fn pointer(&self, name: &str) -> Option<usize> {
        if !self.place.sees_pointers() {
            return None;
        }
        self.names.pointers.iter().position(|(n, _)| n == name)
    }

    /// Adds a slot that is visible under `name` from now to the end of the
    /// current scope (or a hidden slot when `name` is empty).
    pub(crate) fn new_slot(&mut self, name: &str) -> Slot {
        let s = self.slot_names.len() as Slot;
        self.slot_names.push(name.to_string());
        s
    }

    /// Declares a variable (or parameter), reporting bad and duplicate names.
    pub(crate) fn declare(&mut self, id: &Ident, ty: Ty, param: Option<ParamKind>, what: &str) -> Slot {
        self.check_binding_name(id, what);
        let slot = self.new_slot(&id.name);
        self.resolved.record(id.span, Resolved::Local(slot));
        self.scopes.last_mut().expect("a scope").push(Local { name: id.name.clone(), slot, ty, span: id.span, param });
        slot
    }

    /// Reports a name that cannot be bound: a keyword, a program-style name,
    /// a pointer's name, or one already bound here.
    fn check_binding_name(&mut self, id: &Ident, what: &str) {
        let name = &id.name;
        if self.is_mem(id) {
            self.err(
                Diagnostic::error(format!("`mem` is the tape and cannot name a {what}"))
                    .at_labelled(id.span, "would hide the tape")
                    .hint("pick another name; `mem[i]` reads the tape's cell `i`"),
            );
        } else if ast::is_keyword(name) {
            self.err(
                Diagnostic::error(format!("`{name}` is a keyword and cannot name a {what}"))
                    .at_labelled(id.span, "reserved word")
                    .hint(format!("pick another name, e.g. `{name}_`")),
            );
        } else if id.is_program_name() {
            self.err(
                Diagnostic::error(format!("`{name}` is written like a program name, but names a {what}"))
                    .at_labelled(id.span, "UPPER_CASE names are programs")
                    .hint(format!("{what}s are lower_case: `{}`", name.to_lowercase())),
            );
        } else if let Some(p) = self.pointer(name) {
            let span = self.names.pointers[p].1;
            self.err(
                Diagnostic::error(format!("`{name}` is already the name of a pointer"))
                    .at_labelled(id.span, format!("this {what} would hide the pointer"))
                    .label(span, "the pointer is declared here"),
            );
        } else if let Some(prev) = self.lookup(name) {
            let prev_span = prev.span;
            let kind = if prev.param.is_some() { "parameter" } else { "variable" };
            self.err(
                Diagnostic::error(format!("`{name}` is already defined"))
                    .at_labelled(id.span, format!("a second {what} named `{name}`"))
                    .label(prev_span, format!("the {kind} is defined here"))
                    .hint(format!("to change it, assign without `let`: `{name} = ...`; or pick another name")),
            );
        }
    }

    pub(crate) fn emit(&mut self, i: Instr, span: Span) -> usize {
        self.code.push(i);
        self.spans.push(span);
        self.code.len() - 1
    }

    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    fn patch(&mut self, at: usize, target: u32) {
        match &mut self.code[at] {
            Instr::JumpUnless(_, t) | Instr::Jump(t) => *t = target,
            Instr::ForNext { exit, .. } => *exit = target,
            _ => unreachable!("only jumps are patched"),
        }
    }

    // ----- statements -----

    pub(crate) fn lower_block(&mut self, b: &ast::Block) {
        self.scopes.push(Vec::new());
        self.lower_stmts(&b.stmts);
        self.scopes.pop();
    }

    /// Lowers statements in the current scope (so their `let`s stay visible).
    pub(crate) fn lower_stmts(&mut self, stmts: &[ast::Stmt]) {
        for s in stmts {
            self.lower_stmt(s);
        }
    }

    fn lower_stmt(&mut self, s: &ast::Stmt) {
        let span = s.span;
        match &s.kind {
            StmtKind::Let { name, value } => {
                let (ty, e) = self.lower_value(value);
                let slot = self.declare(name, ty, None, "variable");
                self.emit(Instr::Set(slot, e), span);
            }
            StmtKind::Assign { target, value } => self.lower_assign(target, value, span),
            StmtKind::If { arms, otherwise } => {
                let mut ends = Vec::new();
                for (i, (cond, block)) in arms.iter().enumerate() {
                    let c = self.lower_cond(cond, "if");
                    let j = self.emit(Instr::JumpUnless(c, 0), cond.span);
                    self.lower_block(block);
                    if i + 1 < arms.len() || otherwise.is_some() {
                        ends.push(self.emit(Instr::Jump(0), span));
                    }
                    let h = self.here();
                    self.patch(j, h);
                }
                if let Some(b) = otherwise {
                    self.lower_block(b);
                }
                let h = self.here();
                for e in ends {
                    self.patch(e, h);
                }
            }
            StmtKind::While { cond, body } => {
                let top = self.here();
                let c = self.lower_cond(cond, "while");
                let j = self.emit(Instr::JumpUnless(c, 0), cond.span);
                self.lower_block(body);
                self.emit(Instr::Jump(top), span);
                let h = self.here();
                self.patch(j, h);
            }
            StmtKind::For { var, iter, body } => {
                let (ty, e) = self.lower_expr(iter);
                let elem = match ty {
                    Ty::Range => Ty::Int,
                    Ty::List | Ty::Any => Ty::Any,
                    other => {
                        self.err(
                            Diagnostic::error(format!(
                                "`for` iterates over a range or a list, found {}",
                                phrase(other)
                            ))
                            .at_labelled(iter.span, "not a range or list")
                            .hint("write a range: `for i in 0..len(xs) { ... }`"),
                        );
                        Ty::Any
                    }
                };
                self.scopes.push(Vec::new());
                let state = self.new_slot("");
                self.new_slot("");
                self.emit(Instr::ForStart(e, state), iter.span);
                let top = self.here();
                let v = self.declare(var, elem, None, "variable");
                let j = self.emit(Instr::ForNext { state, var: v, exit: 0 }, var.span);
                self.lower_block(body);
                self.emit(Instr::Jump(top), span);
                let h = self.here();
                self.patch(j, h);
                self.scopes.pop();
            }
            StmtKind::Return => {
                if self.place == Place::Input || matches!(self.place, Place::Program(_)) {
                    self.emit(Instr::Return, span);
                } else {
                    self.err(Diagnostic::error("`return` is not allowed here").at(span));
                }
            }
            StmtKind::Expr(e) => match &e.kind {
                ExprKind::Call { callee, args } => match self.lower_call(callee, args, e.span, true) {
                    Lowered::Instr(i) => {
                        self.emit(i, span);
                    }
                    Lowered::Value(ty, ir) => {
                        if ty != Ty::Unit && ty != Ty::Any {
                            self.err(
                                Diagnostic::warning(format!("the value of `{}` is not used", callee.name))
                                    .at_labelled(e.span, format!("this computes {} and drops it", phrase(ty)))
                                    .hint(format!("bind it: `let x = {}(...)`", callee.name)),
                            );
                        }
                        self.emit(Instr::Eval(ir), span);
                    }
                    Lowered::Nothing => {}
                },
                _ => {
                    self.lower_expr(e);
                    self.err(
                        Diagnostic::error("this expression does nothing on its own")
                            .at_labelled(e.span, "not a call")
                            .hint("a statement is `let`, an assignment, `if`, `while`, `for`, `return` or a call"),
                    );
                }
            },
        }
    }

    fn lower_assign(&mut self, target: &ast::Expr, value: &ast::Expr, span: Span) {
        let (vty, ve) = self.lower_value(value);
        match &target.kind {
            ExprKind::Name(id) => {
                let Some(local) = self.lookup(&id.name).cloned() else {
                    if self.pointer(&id.name).is_some() {
                        self.err(
                            Diagnostic::error(format!("cannot assign to pointer `{}`", id.name))
                                .at_labelled(id.span, "a pointer, not a variable")
                                .hint(format!("to change the cell under it, write `write({}, v)`", id.name)),
                        );
                    } else {
                        self.unknown_variable(id);
                    }
                    return;
                };
                self.resolved.record(id.span, Resolved::Local(local.slot));
                if local.param == Some(ParamKind::Pointer) {
                    self.err(
                        Diagnostic::error(format!("cannot assign to `{}`, which holds a pointer", id.name))
                            .at_labelled(id.span, "a pointer parameter")
                            .hint(format!("to change the cell under it, write `write({}, v)`", id.name)),
                    );
                    return;
                }
                if !comparable(local.ty, vty) {
                    self.err(
                        Diagnostic::error(format!("`{}` holds {}, not {}", id.name, phrase(local.ty), phrase(vty)))
                            .at_labelled(value.span, format!("this is {}", phrase(vty)))
                            .label(local.span, "defined here"),
                    );
                }
                self.emit(Instr::Set(local.slot, ve), span);
            }
            ExprKind::Index { base, index } => {
                let ExprKind::Name(id) = &base.kind else {
                    self.err(Diagnostic::error("only a variable's elements can be assigned").at(base.span));
                    return;
                };
                if self.is_mem(id) {
                    if !matches!(self.place, Place::Input | Place::Program(_)) {
                        self.err(
                            Diagnostic::error(format!("{} cannot write the tape", self.place.describe()))
                                .at_labelled(target.span, "a write"),
                        );
                        return;
                    }
                    self.resolved.record(id.span, Resolved::Tape);
                    let a = self.expect_ty(index, Ty::Int, "an address");
                    if !accepts(Ty::Int, vty) {
                        self.err(
                            Diagnostic::error(format!("a tape cell holds an integer, not {}", phrase(vty)))
                                .at_labelled(value.span, format!("this is {}", phrase(vty)))
                                .hint("every cell holds an integer in `0..cells`"),
                        );
                    }
                    self.emit(Instr::Store(a, ve), span);
                    return;
                }
                let Some(local) = self.lookup(&id.name).cloned() else {
                    self.unknown_variable(id);
                    return;
                };
                self.resolved.record(id.span, Resolved::Local(local.slot));
                if !accepts(Ty::List, local.ty) {
                    self.err(
                        Diagnostic::error(format!("`{}` holds {}, which has no elements", id.name, phrase(local.ty)))
                            .at_labelled(base.span, "not a list"),
                    );
                }
                let i = self.expect_ty(index, Ty::Int, "an index");
                self.emit(Instr::SetIndex(local.slot, i, ve), span);
            }
            _ => {
                self.err(
                    Diagnostic::error("can only assign to a variable")
                        .at_labelled(target.span, "not a variable")
                        .hint("write `x = value` with `x` bound by `let`"),
                );
            }
        }
    }

    /// A condition of `if`/`while`: a boolean.
    fn lower_cond(&mut self, e: &ast::Expr, what: &str) -> Expr {
        let (ty, ir) = self.lower_expr(e);
        if !accepts(Ty::Bool, ty) {
            let hint = match ty {
                Ty::Cell => "compare the cell explicitly, e.g. `p != blank`",
                Ty::Int => "compare it explicitly, e.g. `x != 0`",
                _ => "write a comparison such as `a < b` or a test such as `at_end(p)`",
            };
            self.err(
                Diagnostic::error(format!("the condition of `{what}` must be a boolean, found {}", phrase(ty)))
                    .at_labelled(e.span, "not a boolean")
                    .hint(hint),
            );
        }
        ir
    }

    /// An expression whose value is used: not a call that returns nothing.
    fn lower_value(&mut self, e: &ast::Expr) -> (Ty, Expr) {
        let (ty, ir) = self.lower_expr(e);
        if ty == Ty::Unit {
            return poison();
        }
        (ty, ir)
    }

    /// Lowers `e` and checks it has type `want`; `what` names the use for the
    /// message ("`write` expects ... for `v`").
    fn expect_ty(&mut self, e: &ast::Expr, want: Ty, what: &str) -> Expr {
        let (ty, ir) = self.lower_expr(e);
        if ty != Ty::Unit && !accepts(want, ty) {
            let mut d = Diagnostic::error(format!("{what} must be {}, found {}", phrase(want), phrase(ty)))
                .at_labelled(e.span, format!("this is {}", phrase(ty)));
            if want == Ty::Dir && self.names.world == WorldKind::Pose {
                d = d.hint("the camera turns one step at a time: `rotate(azimuth, left)`, `rotate(elevation, up)`");
            } else if want == Ty::Dir && ty == Ty::Int {
                d = d.hint("a pointer moves one cell at a time: call `move(p, right)` once per cell");
            } else if want == Ty::Cell && ty == Ty::Dir {
                d = d.hint("`left` and `right` are directions for `move`; a cell holds a digit or `blank`");
            }
            self.err(d);
        }
        ir
    }

    // ----- expressions -----

    pub(crate) fn lower_expr(&mut self, e: &ast::Expr) -> (Ty, Expr) {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(i) => (Ty::Int, Expr::Const(Value::from_big(i.clone()))),
            ExprKind::Float(_) => {
                self.err(
                    Diagnostic::error("decimal numbers are only allowed in `learn` settings")
                        .at_labelled(span, "not an integer")
                        .hint("NPL computes with integers; use `/` and `%` for division"),
                );
                poison()
            }
            ExprKind::Bool(b) => (Ty::Bool, Expr::Const(Value::Bool(*b))),
            ExprKind::Blank => (Ty::Cell, Expr::Const(Value::Blank)),
            ExprKind::Left => (Ty::Dir, Expr::Const(Value::Dir(crate::value::Dir::Left))),
            ExprKind::Right => (Ty::Dir, Expr::Const(Value::Dir(crate::value::Dir::Right))),
            ExprKind::Str(s) => (Ty::Str, Expr::Const(Value::Str(s.as_str().into()))),
            ExprKind::Name(id) => self.lower_name(id),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.lower_value(it).1);
                }
                (Ty::List, Expr::List(out))
            }
            ExprKind::Range { start, end, inclusive } => {
                let a = self.expect_ty(start, Ty::Int, "the start of a range");
                let b = self.expect_ty(end, Ty::Int, "the end of a range");
                (Ty::Range, Expr::Range(Box::new(a), Box::new(b), *inclusive, span))
            }
            ExprKind::Unary { op: UnOp::Not, expr } => {
                let (ty, a) = self.lower_expr(expr);
                if !accepts(Ty::Bool, ty) {
                    self.err(
                        Diagnostic::error(format!("`!` negates a boolean, found {}", phrase(ty)))
                            .at_labelled(expr.span, "not a boolean"),
                    );
                }
                (Ty::Bool, Expr::Not(Box::new(a)))
            }
            ExprKind::Unary { op: UnOp::Neg, expr } => {
                let a = self.arith_operand(expr, "-");
                (Ty::Int, Expr::Neg(Box::new(a), span))
            }
            ExprKind::Binary { op, lhs, rhs } => self.lower_binary(*op, lhs, rhs, span),
            ExprKind::Call { callee, args } => match self.lower_call(callee, args, span, false) {
                Lowered::Value(ty, ir) => (ty, ir),
                Lowered::Instr(_) | Lowered::Nothing => poison(),
            },
            ExprKind::Index { base, index } => {
                if let ExprKind::Name(id) = &base.kind {
                    if self.is_mem(id) {
                        return self.lower_mem_read(id, index, span);
                    }
                }
                let (bty, b) = self.lower_expr(base);
                if !accepts(Ty::List, bty) {
                    self.err(
                        Diagnostic::error(format!("only lists can be indexed, found {}", phrase(bty)))
                            .at_labelled(base.span, "not a list"),
                    );
                }
                let i = self.expect_ty(index, Ty::Int, "an index");
                (Ty::Any, Expr::Index(Box::new(b), Box::new(i), span))
            }
        }
    }

    fn arith_operand(&mut self, e: &ast::Expr, op: &str) -> Expr {
        if matches!(e.kind, ExprKind::Blank) {
            self.err(
                Diagnostic::error(format!("`blank` cannot be used in `{op}`"))
                    .at_labelled(e.span, "an empty cell, not a number")
                    .hint("`blank` only compares with `==` and `!=`; `digit(p)` reads blank as 0"),
            );
            return poison().1;
        }
        let (ty, ir) = self.lower_expr(e);
        if !accepts(Ty::Int, ty) {
            self.err(
                Diagnostic::error(format!("`{op}` works on integers, found {}", phrase(ty)))
                    .at_labelled(e.span, format!("this is {}", phrase(ty))),
            );
        }
        ir
    }

    fn lower_binary(&mut self, op: BinOp, lhs: &ast::Expr, rhs: &ast::Expr, span: Span) -> (Ty, Expr) {
        let arith = |op| match op {
            BinOp::Add => Some(Arith::Add),
            BinOp::Sub => Some(Arith::Sub),
            BinOp::Mul => Some(Arith::Mul),
            BinOp::Div => Some(Arith::Div),
            BinOp::Rem => Some(Arith::Rem),
            _ => None,
        };
        let cmp = match op {
            BinOp::Eq => Some(Cmp::Eq),
            BinOp::Ne => Some(Cmp::Ne),
            BinOp::Lt => Some(Cmp::Lt),
            BinOp::Le => Some(Cmp::Le),
            BinOp::Gt => Some(Cmp::Gt),
            BinOp::Ge => Some(Cmp::Ge),
            _ => None,
        };
        if let Some(a) = arith(op) {
            let x = self.arith_operand(lhs, op.symbol());
            let y = self.arith_operand(rhs, op.symbol());
            return (Ty::Int, Expr::Arith(a, Box::new(x), Box::new(y), span));
        }
        match (op, cmp) {
            (BinOp::And | BinOp::Or, _) => {
                let mut sides = Vec::new();
                for side in [lhs, rhs] {
                    let (ty, ir) = self.lower_expr(side);
                    if !accepts(Ty::Bool, ty) {
                        self.err(
                            Diagnostic::error(format!("`{}` combines booleans, found {}", op.symbol(), phrase(ty)))
                                .at_labelled(side.span, "not a boolean"),
                        );
                    }
                    sides.push(ir);
                }
                let b = Box::new(sides.pop().expect("two sides"));
                let a = Box::new(sides.pop().expect("two sides"));
                (Ty::Bool, if op == BinOp::And { Expr::And(a, b) } else { Expr::Or(a, b) })
            }
            (_, Some(c @ (Cmp::Eq | Cmp::Ne))) => {
                let (ta, a) = self.lower_expr(lhs);
                let (tb, b) = self.lower_expr(rhs);
                if !comparable(ta, tb) {
                    self.err(
                        Diagnostic::error(format!("cannot compare {} with {}", phrase(ta), phrase(tb)))
                            .at_labelled(rhs.span, format!("this is {}", phrase(tb)))
                            .label(lhs.span, format!("this is {}", phrase(ta)))
                            .hint(format!("`{}` compares two values of the same kind", op.symbol())),
                    );
                }
                (Ty::Bool, Expr::Compare(c, Box::new(a), Box::new(b), span))
            }
            (_, Some(c)) => {
                let mut sides = Vec::new();
                for side in [lhs, rhs] {
                    if matches!(side.kind, ExprKind::Blank) {
                        self.err(
                            Diagnostic::error(format!("`blank` cannot be ordered with `{}`", op.symbol()))
                                .at_labelled(side.span, "an empty cell, not a number")
                                .hint("`blank` only compares with `==` and `!=`"),
                        );
                        sides.push(poison().1);
                        continue;
                    }
                    let (ty, ir) = self.lower_expr(side);
                    if !accepts(Ty::Int, ty) {
                        self.err(
                            Diagnostic::error(format!(
                                "`{}` orders integers or digits, found {}",
                                op.symbol(),
                                phrase(ty)
                            ))
                            .at_labelled(side.span, format!("this is {}", phrase(ty))),
                        );
                    }
                    sides.push(ir);
                }
                let b = Box::new(sides.pop().expect("two sides"));
                let a = Box::new(sides.pop().expect("two sides"));
                (Ty::Bool, Expr::Compare(c, a, b, span))
            }
            _ => unreachable!("every binary operator is handled"),
        }
    }

    fn lower_name(&mut self, id: &Ident) -> (Ty, Expr) {
        if self.is_mem(id) {
            self.err(
                Diagnostic::error("`mem` is the tape, not a value")
                    .at_labelled(id.span, "the whole tape")
                    .hint("read one cell with `mem[i]`"),
            );
            return poison();
        }
        if let Some(l) = self.lookup(&id.name).cloned() {
            self.resolved.record(id.span, Resolved::Local(l.slot));
            return match l.param {
                Some(ParamKind::Pointer) => (Ty::Cell, Expr::Cell(Ptr::Param(l.slot), id.span)),
                _ => (l.ty, Expr::Local(l.slot, id.span)),
            };
        }
        if self.names.world == WorldKind::Pose {
            if let Some(d) = self.pose_name(id) {
                return d;
            }
        }
        if let Some(p) = self.pointer(&id.name) {
            self.resolved.record(id.span, Resolved::Pointer);
            return (Ty::Cell, Expr::Cell(Ptr::Fixed(p as u16), id.span));
        }
        if id.is_program_name() && self.names.program(&id.name).is_some() {
            self.err(
                Diagnostic::error(format!("`{}` is a program, not a value", id.name))
                    .at_labelled(id.span, "programs do not return values")
                    .hint(format!("call it as a statement: `{}()`", id.name)),
            );
            return poison();
        }
        if let Some(b) = builtins::lookup_in(&id.name, self.names.world) {
            self.err(
                Diagnostic::error(format!("`{}` is a built-in function, not a value", id.name))
                    .at_labelled(id.span, "missing its arguments")
                    .hint(format!("call it: {}", signature(b))),
            );
            return poison();
        }
        self.unknown_variable(id);
        poison()
    }

    /// `rotate(azimuth, up)` and `rotate(elevation, left)`: the azimuth
    /// turns left or right, the elevation up or down (a direction in a
    /// variable is not checked here).
    fn check_rotation(&mut self, axis: Option<Ptr>, dir: &ast::Expr) {
        let Some(Ptr::Fixed(axis)) = axis else { return };
        let vertical = match &dir.kind {
            ExprKind::Left | ExprKind::Right => false,
            ExprKind::Name(id) if matches!(id.name.as_str(), "up" | "down") && self.lookup(&id.name).is_none() => true,
            _ => return,
        };
        if vertical == (axis == 1) {
            return;
        }
        let (name, dirs, example) = if axis == 0 {
            ("azimuth", "`left` or `right`", "rotate(azimuth, left)")
        } else {
            ("elevation", "`up` or `down`", "rotate(elevation, up)")
        };
        self.err(
            Diagnostic::error(format!("the {name} turns {dirs}"))
                .at_labelled(dir.span, format!("not a direction of the {name}"))
                .hint(format!("e.g. `{example}`")),
        );
    }

    /// A pose world's own names in a value position: `up` and `down` are
    /// the elevation's directions (`right` and `left` as the pad sees
    /// them); an axis is not a value.
    fn pose_name(&mut self, id: &Ident) -> Option<(Ty, Expr)> {
        match id.name.as_str() {
            "up" | "down" => {
                let up = id.name == "up";
                self.resolved.record(id.span, Resolved::Direction(up));
                let d = if up { crate::value::Dir::Right } else { crate::value::Dir::Left };
                Some((Ty::Dir, Expr::Const(Value::Dir(d))))
            }
            axis if self.pointer(axis).is_some() => {
                self.err(
                    Diagnostic::error(format!("`{axis}` is an axis of the camera, not a value"))
                        .at_labelled(id.span, "an axis")
                        .hint(format!("read its angle in degrees with `angle({axis})`")),
                );
                Some(poison())
            }
            _ => None,
        }
    }

    fn unknown_variable(&mut self, id: &Ident) {
        let name = &id.name;
        let mut d = Diagnostic::error(format!("unknown variable `{name}`")).at_labelled(id.span, "not defined here");
        let in_program = matches!(self.place, Place::Program(_));
        let tape = self.names.world == WorldKind::Tape;
        if in_program && tape && name == "cells" {
            d = d.hint(
                "the tape's size `cells` is visible in `input` and `expect`, not in programs: a program finds its data through the tape, as the learner does",
            );
        } else if self.place == Place::World && tape && name == "cells" {
            d = d.hint(format!("`cells` is what this argument defines; compute it from the size `{}`", self.names.size_name));
        } else if in_program && *name == self.names.size_name {
            d = d.hint(format!(
                "the size `{name}` is visible in the world block, `input` and `expect`, not in programs: a program learns from what it observes"
            ));
        } else if in_program && self.names.input_vars.iter().any(|v| v == name) {
            d = d.hint(format!(
                "`{name}` is bound in `input`; programs see the pad only through their pointers, so `{name}` is not visible here"
            ));
        } else if self.place == Place::World && self.names.pointers.iter().any(|(p, _)| p == name) {
            d = d.hint(format!("the world's size arguments may use only `{}`", self.names.size_name));
        } else {
            let mut candidates: Vec<&str> = self.scopes.iter().flatten().map(|l| l.name.as_str()).collect();
            if self.place.sees_pointers() {
                candidates.extend(self.names.pointers.iter().map(|(p, _)| p.as_str()));
            }
            if let Some(h) = suggest::did_you_mean(name, candidates) {
                d = d.hint(h);
            } else if self.place.sees_pointers() && self.names.pointers.is_empty() {
                d = d.hint(format!("pointers are declared in the world block: `pointer {name} on row 0 at left`"));
            }
        }
        self.err(d);
    }

    /// Lowers an operand that must be a pointer: a world pointer's name or a
    /// parameter holding a pointer.
    fn lower_ptr(&mut self, e: &ast::Expr, what: &str) -> Option<Ptr> {
        if let ExprKind::Name(id) = &e.kind {
            if let Some(l) = self.lookup(&id.name).cloned() {
                self.resolved.record(id.span, Resolved::Local(l.slot));
                if l.param == Some(ParamKind::Pointer) {
                    return Some(Ptr::Param(l.slot));
                }
                let kind = if l.param.is_some() { "a parameter" } else { "a variable" };
                self.err(
                    Diagnostic::error(format!("{what} must be a pointer, but `{}` is {kind}", id.name))
                        .at_labelled(id.span, "not a pointer")
                        .label(l.span, "defined here"),
                );
                return None;
            }
            if let Some(p) = self.pointer(&id.name) {
                self.resolved.record(id.span, Resolved::Pointer);
                return Some(Ptr::Fixed(p as u16));
            }
            let mut d =
                Diagnostic::error(format!("unknown pointer `{}`", id.name)).at_labelled(id.span, "no such pointer");
            let candidates = self.names.pointers.iter().map(|(p, _)| p.as_str());
            match suggest::did_you_mean(&id.name, candidates) {
                Some(h) => d = d.hint(h),
                None => {
                    d = d.hint(format!(
                        "pointers are declared in the world block: `pointer {} on row 0 at left`",
                        id.name
                    ))
                }
            }
            self.err(d);
            return None;
        }
        let (ty, _) = self.lower_expr(e);
        if ty != Ty::Any {
            self.err(
                Diagnostic::error(format!("{what} must be a pointer, found {}", phrase(ty)))
                    .at_labelled(e.span, "expected a pointer's name")
                    .hint("name a pointer declared in the world block, e.g. `move(p, left)`"),
            );
        }
        None
    }

    // ----- calls -----

    /// Matches arguments to parameters: positional ones in order, named ones
    /// by name. Returns one expression per parameter.
    fn bind<'e>(
        &mut self,
        who: &str,
        params: &[&str],
        args: &'e [CallArg],
        span: Span,
        sig: &str,
    ) -> Option<Vec<&'e ast::Expr>> {
        let mut slots: Vec<Option<&ast::Expr>> = vec![None; params.len()];
        let mut ok = true;
        let mut positional = 0usize;
        for a in args {
            match &a.name {
                Some(n) => match params.iter().position(|p| *p == n.name) {
                    Some(i) if slots[i].is_some() => {
                        self.err(
                            Diagnostic::error(format!("{who} got `{}` twice", n.name))
                                .at_labelled(n.span, "given again here")
                                .hint(sig.to_string()),
                        );
                        ok = false;
                    }
                    Some(i) => slots[i] = Some(&a.value),
                    None => {
                        let mut d = Diagnostic::error(format!("{who} has no parameter `{}`", n.name))
                            .at_labelled(n.span, "unknown parameter name");
                        if let Some(h) = suggest::did_you_mean(&n.name, params.iter().copied()) {
                            d = d.hint(h);
                        }
                        self.err(d.hint(sig.to_string()));
                        ok = false;
                    }
                },
                None => {
                    while positional < slots.len() && slots[positional].is_some() {
                        positional += 1;
                    }
                    if positional < slots.len() {
                        slots[positional] = Some(&a.value);
                        positional += 1;
                    } else {
                        let n = params.len();
                        self.err(
                            Diagnostic::error(format!(
                                "{who} takes {n} argument{} but {} were given",
                                if n == 1 { "" } else { "s" },
                                args.len()
                            ))
                            .at_labelled(a.value.span, "one argument too many")
                            .hint(sig.to_string()),
                        );
                        return None;
                    }
                }
            }
        }
        let missing: Vec<&str> = params.iter().zip(&slots).filter(|(_, s)| s.is_none()).map(|(p, _)| *p).collect();
        if !missing.is_empty() && ok {
            let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
            self.err(
                Diagnostic::error(format!(
                    "{who} is missing the argument{} {list}",
                    if missing.len() == 1 { "" } else { "s" }
                ))
                .at_labelled(span, format!("{} argument{} given", args.len(), if args.len() == 1 { "" } else { "s" }))
                .hint(sig.to_string()),
            );
            return None;
        }
        if !ok {
            return None;
        }
        Some(slots.into_iter().map(|s| s.expect("every slot is bound")).collect())
    }

    fn lower_call(&mut self, callee: &Ident, args: &[CallArg], span: Span, stmt: bool) -> Lowered {
        if callee.is_program_name() {
            let Some(id) = self.names.program(&callee.name) else {
                let mut d = Diagnostic::error(format!("unknown program `{}`", callee.name))
                    .at_labelled(callee.span, "no program has this name");
                let names = self.names.programs.iter().map(|p| p.name.as_str());
                if let Some(h) = suggest::did_you_mean(&callee.name, names) {
                    d = d.hint(h);
                } else if builtins::lookup_in(&callee.name.to_lowercase(), self.names.world).is_some() {
                    d = d.hint(format!("built-ins are lower_case: `{}(...)`", callee.name.to_lowercase()));
                } else {
                    d = d.hint(format!("define it: `program {} {{ ... }}`", callee.name));
                }
                self.err(d);
                self.lower_args_for_errors(args);
                return Lowered::Nothing;
            };
            self.resolved.record(callee.span, Resolved::Program);
            return self.lower_program_call(id, callee, args, span, stmt);
        }
        let world = self.names.world;
        let Some(b) = builtins::lookup_in(&callee.name, world) else {
            let mut d = Diagnostic::error(format!("unknown function `{}`", callee.name))
                .at_labelled(callee.span, "not a built-in or action");
            let upper = callee.name.to_uppercase();
            if self.names.program(&upper).is_some() {
                d = d.hint(format!("programs are called by their UPPER_CASE name: `{upper}(...)`"));
            } else if self.pointer(&callee.name).is_some() {
                d = d.hint(format!(
                    "`{}` is a pointer: read its cell as `{}`, act on it with `write`, `move` or `swap`",
                    callee.name, callee.name
                ));
            } else if let Some(h) = suggest::did_you_mean(&callee.name, builtins::visible(world).map(|b| b.name)) {
                d = d.hint(h);
            }
            self.err(d);
            self.lower_args_for_errors(args);
            return Lowered::Nothing;
        };
        if b.world.is_some_and(|w| w != world) {
            self.err(
                Diagnostic::error(format!("`{}` is not available in a `{}` world", b.name, world.name()))
                    .at_labelled(callee.span, format!("belongs to `{}` worlds", b.world.map_or("", |w| w.name()))),
            );
            self.lower_args_for_errors(args);
            return Lowered::Nothing;
        }
        if !self.check_context(b, callee) {
            self.lower_args_for_errors(args);
            return Lowered::Nothing;
        }
        self.resolved.record(callee.span, Resolved::Builtin(b));
        if !stmt && b.ret == Ty::Unit {
            self.err(
                Diagnostic::error(format!("`{}` does not return a value", b.name))
                    .at_labelled(span, "used as a value here")
                    .hint(format!("call it on a line of its own: `{}(...)`", b.name)),
            );
            self.lower_args_for_errors(args);
            return Lowered::Nothing;
        }
        self.lower_builtin(b, callee, args, span)
    }

    /// Lowers arguments of a call that failed to resolve, to report errors
    /// inside them too.
    fn lower_args_for_errors(&mut self, args: &[CallArg]) {
        for a in args {
            if let ExprKind::Name(id) = &a.value.kind {
                // A bare name may be a pointer operand; do not call it unknown
                // as a variable when it is a pointer.
                if self.pointer(&id.name).is_some() || self.lookup(&id.name).is_some() {
                    continue;
                }
            }
            self.lower_expr(&a.value);
        }
    }

    fn check_context(&mut self, b: &Builtin, callee: &Ident) -> bool {
        let name = b.name;
        let Some(ctx) = self.place.context() else {
            if b.kind == Kind::Pure {
                return true;
            }
            let what = if self.place == Place::Learn { "`timesteps` is" } else { "world arguments are" };
            self.err(
                Diagnostic::error(format!("`{name}` cannot be used in {}", self.place.describe()))
                    .at_labelled(callee.span, "not allowed here")
                    .hint(format!(
                        "{what} computed from the size `{}` with arithmetic, `min`, `max` and `abs`",
                        self.names.size_name
                    )),
            );
            return false;
        };
        if b.allowed_in(ctx) {
            return true;
        }
        let place = self.place.describe();
        let d = match b.kind {
            Kind::Sampler => Diagnostic::error(format!("`{name}` draws a random value, so it can only be used in `input`"))
                .at_labelled(callee.span, format!("not allowed in {place}"))
                .hint(if matches!(self.place, Place::Program(_)) {
                    "a program must decide from what it observes; sample the input in the `input` block"
                } else {
                    "sample values in `input` with `let x = ...`; its bindings are visible to `expect`"
                }),
            Kind::Setup if self.names.world == WorldKind::Tape => Diagnostic::error(format!(
                "`{name}` works on whole lists of cells, so it can only be used in `input` and `expect`"
            ))
            .at_labelled(callee.span, format!("not allowed in {place}"))
            .hint("programs read and write the tape one cell at a time: `mem[i]` and `mem[i] = v`"),
            Kind::Setup if self.names.world == WorldKind::Pose => Diagnostic::error(format!(
                "`{name}` sets up the world, so it can only be used in `input`"
            ))
            .at_labelled(callee.span, format!("not allowed in {place}"))
            .hint("programs turn the camera with `rotate(azimuth, left)` and read it with `angle(azimuth)`"),
            Kind::Setup => Diagnostic::error(format!(
                "`{name}` works on whole rows, so it can only be used in `input` and `expect`"
            ))
            .at_labelled(callee.span, format!("not allowed in {place}"))
            .hint("programs see the pad only through their pointers: read `p` or `digit(p)`, act with `write`, `move` and `swap`"),
            Kind::Action => Diagnostic::error(format!("`{name}` is an action, and only programs act on the world"))
                .at_labelled(callee.span, format!("not allowed in {place}"))
                .hint(match self.place {
                    Place::Input => "set up the pad with `write_number(row: r, x)` or `write_list(row: r, xs)`",
                    Place::Expect => "`expect` only checks the result; it cannot change the pad",
                    _ => "move the action into a program",
                }),
            Kind::Pure | Kind::Read => Diagnostic::error(format!("`{name}` cannot be used in {place}")).at(callee.span),
        };
        self.err(d);
        false
    }

    fn lower_builtin(&mut self, b: &'static Builtin, callee: &Ident, args: &[CallArg], span: Span) -> Lowered {
        let name = b.name;
        let sig = signature(b);
        let who = format!("`{name}`");
        if b.variadic {
            if let Some(a) = args.iter().find_map(|a| a.name.as_ref()) {
                self.err(
                    Diagnostic::error(format!("`{name}` takes no named arguments"))
                        .at_labelled(a.span, "not a parameter")
                        .hint(sig),
                );
                return Lowered::Nothing;
            }
            if args.is_empty() {
                self.err(Diagnostic::error(format!("`{name}` needs at least one argument")).at(span).hint(sig));
                return Lowered::Nothing;
            }
            let f = if name == "min" { Func::Min } else { Func::Max };
            let mut irs = Vec::new();
            if args.len() == 1 {
                irs.push(self.expect_ty(
                    &args[0].value,
                    Ty::List,
                    &format!("`{name}` of one argument takes a list; it"),
                ));
            } else {
                for a in args {
                    irs.push(self.expect_ty(&a.value, Ty::Int, &format!("each argument of `{name}`")));
                }
            }
            return Lowered::Value(Ty::Int, Expr::Call(f, irs, span));
        }
        let params: Vec<&str> = b.params.iter().map(|p| p.name).collect();
        let Some(bound) = self.bind(&who, &params, args, span, &sig) else {
            return Lowered::Nothing;
        };
        let what = |i: usize| format!("the `{}` argument of `{name}`", b.params[i].name);
        let ptr_what = |i: usize| format!("the `{}` argument of `{name}`", b.params[i].name);
        match name {
            "digit" | "pos" | "at_start" | "at_end" => {
                let Some(p) = self.lower_ptr(bound[0], &ptr_what(0)) else { return Lowered::Nothing };
                let e = match name {
                    "digit" => Expr::Digit(p),
                    "pos" => Expr::Pos(p),
                    "at_start" => Expr::AtStart(p),
                    _ => Expr::AtEnd(p),
                };
                Lowered::Value(b.ret, e)
            }
            "angle" | "target_angle" => {
                let Some(p) = self.lower_ptr(bound[0], &ptr_what(0)) else { return Lowered::Nothing };
                Lowered::Value(b.ret, Expr::Angle(p, name == "target_angle"))
            }
            "rotate" => {
                let p = self.lower_ptr(bound[0], &ptr_what(0));
                let d = self.expect_ty(bound[1], Ty::Dir, &what(1));
                self.check_rotation(p, bound[1]);
                match p {
                    Some(p) => Lowered::Instr(Instr::Act(Action::Rotate, p, ActArg::Dir(d))),
                    None => Lowered::Nothing,
                }
            }
            "camera" | "target" => {
                let az = self.expect_ty(bound[0], Ty::Int, &what(0));
                let el = self.expect_ty(bound[1], Ty::Int, &what(1));
                Lowered::Instr(Instr::SetPose(name == "target", az, el))
            }
            "write" | "move" | "swap" => {
                let p = self.lower_ptr(bound[0], &ptr_what(0));
                let (action, arg) = match name {
                    "write" => (Action::Write, Some(ActArg::Value(self.expect_ty(bound[1], Ty::Cell, &what(1))))),
                    "move" => (Action::Move, Some(ActArg::Dir(self.expect_ty(bound[1], Ty::Dir, &what(1))))),
                    _ => (Action::Swap, self.lower_ptr(bound[1], &ptr_what(1)).map(ActArg::Ptr)),
                };
                match (p, arg) {
                    (Some(p), Some(arg)) => Lowered::Instr(Instr::Act(action, p, arg)),
                    _ => Lowered::Nothing,
                }
            }
            "write_list" if b.world == Some(WorldKind::Tape) => {
                let at = self.expect_ty(bound[0], Ty::Int, &what(0));
                let xs = self.expect_ty(bound[1], Ty::List, &what(1));
                Lowered::Instr(Instr::WriteTape(at, xs))
            }
            "write_number" | "write_list" => {
                let row = self.expect_ty(bound[0], Ty::Int, &what(0));
                let want = if name == "write_number" { Ty::Int } else { Ty::List };
                let x = self.expect_ty(bound[1], want, &what(1));
                Lowered::Instr(if name == "write_number" {
                    Instr::WriteNumber(row, x)
                } else {
                    Instr::WriteList(row, x)
                })
            }
            _ => {
                let f = match name {
                    "random_int" => Func::RandomInt,
                    "random_list" => Func::RandomList,
                    "random_number" => Func::RandomNumber,
                    "len" => Func::Len,
                    "abs" => Func::Abs,
                    "sorted" => Func::Sorted,
                    "reversed" => Func::Reversed,
                    "repeat" => Func::Repeat,
                    "read_number" => Func::ReadNumber,
                    "read_list" if b.world == Some(WorldKind::Tape) => Func::ReadTape,
                    "read_list" => Func::ReadList,
                    "random_permutation" => Func::RandomPermutation,
                    "random_distinct" => Func::RandomDistinct,
                    other => {
                        self.err(Diagnostic::error(format!("`{other}` is not implemented yet")).at(callee.span));
                        return Lowered::Nothing;
                    }
                };
                let mut irs = Vec::with_capacity(bound.len());
                for (i, e) in bound.iter().enumerate() {
                    irs.push(self.expect_ty(e, b.params[i].ty, &what(i)));
                }
                Lowered::Value(b.ret, Expr::Call(f, irs, span))
            }
        }
    }

    fn lower_program_call(
        &mut self,
        id: ProgramId,
        callee: &Ident,
        args: &[CallArg],
        span: Span,
        stmt: bool,
    ) -> Lowered {
        let sig = &self.names.programs[id as usize - 1];
        if !matches!(self.place, Place::Program(_)) {
            let hint = match self.place {
                Place::Input => "`input` only sets up the pad; the entry program runs after it by itself",
                Place::Expect => "`expect` checks the pad after the entry program ran",
                _ => "program calls are statements inside programs",
            };
            self.err(
                Diagnostic::error(format!(
                    "programs can only be called from programs, not from {}",
                    self.place.describe()
                ))
                .at_labelled(callee.span, "a program call")
                .hint(hint),
            );
            return Lowered::Nothing;
        }
        if !stmt {
            self.err(
                Diagnostic::error(format!("program `{}` does not return a value", callee.name))
                    .at_labelled(span, "used as a value here")
                    .hint(format!("call it on a line of its own: `{}(...)`", callee.name)),
            );
            return Lowered::Nothing;
        }
        let params: Vec<&str> = sig.params.iter().map(|p| p.name.as_str()).collect();
        let shown = format!("program {}({}) is defined here", sig.name, params.join(", "));
        let who = format!("program `{}`", sig.name);
        let sig = sig.clone();
        let Some(bound) = self.bind(&who, &params, args, span, &shown) else {
            return Lowered::Nothing;
        };
        let mut out = Vec::with_capacity(bound.len());
        let mut ok = true;
        for (p, e) in sig.params.iter().zip(bound) {
            let what = format!("the `{}` argument of {}", p.name, sig.name);
            match p.kind {
                ParamKind::Pointer => {
                    let before = self.diags.len();
                    match self.lower_ptr(e, &what) {
                        Some(ptr) => out.push(Arg::Ptr(ptr)),
                        None => {
                            ok = false;
                            if let (Some(why), Some(d)) = (p.why, self.diags.get_mut(before)) {
                                d.labels.push(synth_dsl::Label {
                                    span: why,
                                    message: format!("`{}` is a pointer because it is used as one here", p.name),
                                });
                            }
                        }
                    }
                }
                ParamKind::Dir => out.push(Arg::Value(self.expect_ty(e, Ty::Dir, &what))),
                ParamKind::Value => {
                    let (ty, ir) = self.lower_expr(e);
                    if !matches!(ty, Ty::Int | Ty::Cell | Ty::Bool | Ty::Any) {
                        self.err(
                            Diagnostic::error(format!(
                                "{what} must be a digit, `blank`, a boolean or a small integer, found {}",
                                phrase(ty)
                            ))
                            .at_labelled(e.span, format!("this is {}", phrase(ty)))
                            .hint("program arguments are small integers the learner sees in its argument slots"),
                        );
                    }
                    out.push(Arg::Value(ir));
                }
            }
        }
        if !ok {
            return Lowered::Nothing;
        }
        Lowered::Instr(Instr::Call(id, out.into_boxed_slice()))
    }
}

/// Folds an integer expression without variables (`4`, `2 + 3`), for the
/// checks that can be made at compile time (pointer rows in range).
pub(crate) fn const_int(e: &Expr) -> Option<i64> {
    match e {
        Expr::Const(v) => v.as_i64(),
        Expr::Neg(a, _) => const_int(a)?.checked_neg(),
        Expr::Arith(op, a, b, _) => {
            let v = crate::value::arith(*op, &Value::Int(const_int(a)?), &Value::Int(const_int(b)?), 128).ok()?;
            v.as_i64()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_cells_mix_but_nothing_else_does() {
        assert!(accepts(Ty::Int, Ty::Cell) && accepts(Ty::Cell, Ty::Int));
        assert!(accepts(Ty::Any, Ty::List) && accepts(Ty::Dir, Ty::Any));
        assert!(!accepts(Ty::Dir, Ty::Int) && !accepts(Ty::Cell, Ty::Dir) && !accepts(Ty::Int, Ty::Bool));
        assert!(!accepts(Ty::Any, Ty::Unit));
        assert!(comparable(Ty::Cell, Ty::Int) && !comparable(Ty::List, Ty::Int));
    }

    #[test]
    fn folds_constants() {
        let c = |i| Box::new(Expr::Const(Value::Int(i)));
        let span = Span::default();
        assert_eq!(const_int(&Expr::Arith(Arith::Add, c(2), c(3), span)), Some(5));
        assert_eq!(const_int(&Expr::Neg(c(4), span)), Some(-4));
        assert_eq!(const_int(&Expr::Arith(Arith::Div, c(1), c(0), span)), None);
        assert_eq!(const_int(&Expr::Local(0, span)), None);
    }
}
