//! Table worlds and questions: what the Neural Programmer learns from.
//!
//! A table task has no reference programs. Its world declares named number
//! and word columns, its `input` block fills them (`fill(col, list)`), and
//! each `question` item pairs one or more templates (paraphrases) and typed
//! holes with an answer expression over the table. This module checks all of
//! that ([`check`]), maps every answer expression onto the Neural
//! Programmer's operations (the question's *latent program*, [`LatentStep`]),
//! samples instances ([`crate::Task::table_example`]) and runs latent
//! programs exactly ([`execute`]), which is what the learner's soft
//! execution is tested against.
//!
//! The `input` block of a table world is small and is evaluated here, by a
//! checked tree walk over `let` and `fill` statements, rather than by the
//! interpreter of scratchpad and tape programs: a table holds words, which
//! the interpreter's values do not.

use crate::interp::{seeded_rng, uniform_below, Rng};
use crate::{RunError, RunErrorKind};
use serde::{Deserialize, Serialize};
use synth_dsl::ast::{self, BinOp, ExprKind, HoleKind, Ident, ItemKind, StmtKind, UnOp, WorldDeclKind};
use synth_dsl::{Diagnostic, Span};

/// The most rows a table may have, and the longest list `input` may build.
pub const MAX_ROWS: usize = 100_000;
/// How many times an instance is drawn again when its answer is empty or
/// undefined before [`crate::Task::table_example`] gives up.
pub const MAX_ATTEMPTS: usize = 100;
/// Rows a rendered table shows in full; longer tables are abridged.
const SHOWN_ROWS: usize = 12;

// ---- plain data: what a learner sees ----------------------------------------

/// Whether a column holds numbers or words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Number,
    Word,
}

/// A table cell, a question token or a pivot: a number or a word.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    Number(i64),
    Word(String),
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Number(v) => write!(f, "{v}"),
            Cell::Word(w) => f.write_str(w),
        }
    }
}

/// One column of a sampled table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableColumn {
    pub name: String,
    pub kind: ColumnKind,
    /// One cell per row, of the column's kind.
    pub cells: Vec<Cell>,
}

/// An operation of the Neural Programmer (Neelakantan et al. 2016). Every
/// step of a latent program applies one, to a column where it needs one,
/// with a pivot where it needs one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The sum of a number column over the selected rows (a scalar).
    Sum,
    /// The number of selected rows (a scalar).
    Count,
    /// The scalar of three steps back minus the scalar of the step before.
    Difference,
    /// Selects the rows whose cell in a number column is above the pivot.
    Greater,
    /// Selects the rows whose cell in a number column is below the pivot.
    Lesser,
    /// The rows both of the last two selections hold.
    And,
    /// The rows either of the last two selections holds.
    Or,
    /// Selects the rows whose cell in a word column is the pivot word.
    WordMatch,
    /// The selected rows' cells of a column (a lookup answer).
    Print,
    /// Selects every row.
    Reset,
}

impl Op {
    /// Every operation, in the order a learner's operation softmax uses.
    pub const ALL: [Op; 10] = [
        Op::Sum,
        Op::Count,
        Op::Difference,
        Op::Greater,
        Op::Lesser,
        Op::And,
        Op::Or,
        Op::WordMatch,
        Op::Print,
        Op::Reset,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Sum => "sum",
            Op::Count => "count",
            Op::Difference => "difference",
            Op::Greater => "greater",
            Op::Lesser => "lesser",
            Op::And => "and",
            Op::Or => "or",
            Op::WordMatch => "word_match",
            Op::Print => "print",
            Op::Reset => "reset",
        }
    }

    /// Whether the operation reads a column.
    pub fn takes_column(self) -> bool {
        matches!(self, Op::Sum | Op::Greater | Op::Lesser | Op::WordMatch | Op::Print)
    }

    /// Whether the operation takes a pivot from the question.
    pub fn takes_pivot(self) -> bool {
        matches!(self, Op::Greater | Op::Lesser | Op::WordMatch)
    }
}

/// One step of a latent program, with its column and pivot resolved for one
/// instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatentStep {
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pivot: Option<Cell>,
    /// Where the pivot occurs in the question's tokens (its first
    /// occurrence): what the learner's pivot selection should pick.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pivot_token: Option<usize>,
}

impl std::fmt::Display for LatentStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.op.name())?;
        if let Some(c) = &self.column {
            write!(f, " {c}")?;
        }
        if let Some(p) = &self.pivot {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

/// The answer to a question: a scalar, or a lookup (the cells of one column
/// in the selected rows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    Scalar { value: i64 },
    Lookup { column: String, rows: Vec<usize>, cells: Vec<Cell> },
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Scalar { value } => write!(f, "{value}"),
            Answer::Lookup { column, rows, cells } => {
                let shown: Vec<String> = rows.iter().zip(cells).map(|(r, c)| format!("{r}:{c}")).collect();
                write!(f, "{column} at rows [{}]", shown.join(", "))
            }
        }
    }
}

/// One instance of a table task: a table, a question drawn from one of the
/// task's templates with its holes filled, its tokens, the answer the
/// question's expression computes, and the latent program that computes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableExample {
    pub size: usize,
    pub seed: u64,
    pub rows: usize,
    pub columns: Vec<TableColumn>,
    /// Which `question` item (0-based, in source order) and which of its
    /// templates.
    pub question: usize,
    pub template: usize,
    /// The question with its holes filled.
    pub text: String,
    /// The question's tokens: lowercase words, and numbers kept as numbers.
    pub tokens: Vec<Cell>,
    /// The numbers among the tokens, in order: the learner's pivot candidates.
    pub numbers: Vec<i64>,
    pub answer: Answer,
    pub program: Vec<LatentStep>,
}

// ---- the checked task --------------------------------------------------------

/// A table task as checked: what [`crate::Task::table_example`] samples from.
#[derive(Clone, Debug)]
pub(crate) struct TableSpec {
    pub columns: Vec<(String, ColumnKind)>,
    pub rows: Expr,
    pub world_span: Span,
    /// The `input` block's statements; slot 0 is the size.
    pub input: Vec<Stmt>,
    pub slots: usize,
    pub questions: Vec<QuestionSpec>,
    /// The learner's steps: the `learn np` block's `timesteps`, or the
    /// longest latent program.
    pub timesteps: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct QuestionSpec {
    pub templates: Vec<Vec<Part>>,
    pub holes: Vec<HoleSpec>,
    pub answer: AnswerExpr,
    pub latent: Vec<SymStep>,
    pub span: Span,
    /// The templates and the answer as written, for `synth graph`.
    pub template_texts: Vec<String>,
    pub answer_text: String,
}

#[derive(Clone, Debug)]
pub(crate) enum Part {
    Text(String),
    Hole(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct HoleSpec {
    pub name: String,
    pub kind: HoleSpecKind,
}

#[derive(Clone, Debug)]
pub(crate) enum HoleSpecKind {
    /// A number column, by index into the task's columns.
    Column,
    /// An integer in `lo..hi`.
    Range(i64, i64),
    /// A word of this column of the instance's table.
    Word(usize),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum ColRef {
    Fixed(usize),
    Hole(usize),
}

#[derive(Clone, Debug)]
pub(crate) enum PivotRef {
    Const(Cell),
    Hole(usize),
}

#[derive(Clone, Debug)]
pub(crate) enum Cond {
    Greater(ColRef, PivotRef),
    Lesser(ColRef, PivotRef),
    Match(ColRef, PivotRef),
    And(Box<Cond>, Box<Cond>, Span),
    Or(Box<Cond>, Box<Cond>, Span),
}

#[derive(Clone, Debug)]
pub(crate) enum Scalar {
    Sum(ColRef, Option<Cond>),
    Count(Cond),
    Diff(Box<Scalar>, Box<Scalar>, Span),
}

#[derive(Clone, Debug)]
pub(crate) enum AnswerExpr {
    Scalar(Scalar),
    Print(ColRef, Cond),
}

/// A latent program's step before an instance fills the holes.
#[derive(Clone, Debug)]
pub(crate) struct SymStep {
    pub op: Op,
    pub column: Option<ColRef>,
    pub pivot: Option<PivotRef>,
}

/// The `input` block, checked: `let` and `fill`.
#[derive(Clone, Debug)]
pub(crate) enum Stmt {
    Let(usize, Expr),
    Fill(usize, Expr, Span),
}

#[derive(Clone, Debug)]
pub(crate) struct Expr {
    pub kind: ExprK,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) enum ExprK {
    Int(i64),
    Str(String),
    Local(usize),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>, bool),
    Neg(Box<Expr>),
    Arith(BinOp, Box<Expr>, Box<Expr>),
    Call(Builtin, Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    RandomInt,
    RandomList,
    RandomWords,
    Len,
    Min,
    Max,
    Abs,
}

const BUILTINS: &[(&str, Builtin, usize, &str)] = &[
    ("random_int", Builtin::RandomInt, 1, "random_int(0..100)"),
    ("random_list", Builtin::RandomList, 2, "random_list(n, 0..100)"),
    ("random_words", Builtin::RandomWords, 2, "random_words(n, [\"oslo\", \"lima\"])"),
    ("len", Builtin::Len, 1, "len(xs)"),
    ("min", Builtin::Min, 2, "min(a, b)"),
    ("max", Builtin::Max, 2, "max(a, b)"),
    ("abs", Builtin::Abs, 1, "abs(x)"),
];

// ---- checking ------------------------------------------------------------------

/// The learner's step count when a `learn np` block gives one.
pub(crate) struct Steps {
    pub value: usize,
    pub span: Span,
}

/// Checks a table task: the world's columns and `rows`, the `input` block,
/// every question. `steps` is the `learn np` block's `timesteps`, if any.
pub(crate) fn check(file: &ast::File, world: &ast::World, steps: Option<Steps>, diags: &mut Vec<Diagnostic>) -> Option<TableSpec> {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let columns = columns(world, diags);
    let size_name = file
        .items
        .iter()
        .find_map(|i| match &i.kind {
            ItemKind::Input(inp) => Some(inp.param.name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "n".into());
    let mut scope = Scope { names: vec![size_name.clone()], columns: &columns };
    let rows = rows_arg(world, &scope, diags);
    let mut input = Vec::new();
    let mut filled: Vec<Option<Span>> = vec![None; columns.len()];
    let mut questions = Vec::new();
    for item in &file.items {
        match &item.kind {
            ItemKind::Input(inp) => {
                for s in &inp.body.stmts {
                    if let Some(s) = input_stmt(s, &mut scope, &mut filled, diags) {
                        input.push(s);
                    }
                }
            }
            ItemKind::Question(q) => {
                if let Some(q) = question(q, &columns, diags) {
                    questions.push(q);
                }
            }
            ItemKind::Program(p) => diags.push(
                Diagnostic::error("a table task has no programs")
                    .at_labelled(p.name.span, "a program in a table task")
                    .hint("the learner induces its own program from questions and answers; write `question` items instead"),
            ),
            ItemKind::Expect(e) => diags.push(
                Diagnostic::error("a table task has no `expect`")
                    .at_labelled(e.span, "not used by a table task")
                    .hint("each `question`'s answer expression says what is expected"),
            ),
            ItemKind::Entry(id) => diags.push(
                Diagnostic::error("a table task has no entry program")
                    .at_labelled(id.span, "not used by a table task")
                    .hint("delete the `entry` line"),
            ),
            _ => {}
        }
    }
    if !file.items.iter().any(|i| matches!(i.kind, ItemKind::Input(_))) && !columns.is_empty() {
        diags.push(
            Diagnostic::error("a table task needs an `input` block that fills its columns")
                .at_labelled(world.kind.span, "a table world")
                .hint("e.g. `input(n) { fill(a, random_list(n, 0..100)) }`"),
        );
    } else {
        for ((name, _), (span, f)) in columns.iter().zip(column_spans(world).into_iter().zip(&filled)) {
            if f.is_none() {
                diags.push(
                    Diagnostic::error(format!("the column `{name}` is never filled"))
                        .at_labelled(span, "declared here")
                        .hint(format!("fill it in `input`: `fill({name}, random_list(n, 0..100))`")),
                );
            }
        }
    }
    if questions.is_empty() && !file.items.iter().any(|i| matches!(i.kind, ItemKind::Question(_))) {
        diags.push(
            Diagnostic::error("a table task needs at least one `question`")
                .at_labelled(world.kind.span, "a table world")
                .hint("e.g. `question \"sum of {x}\" (x: column) { sum(x) }`"),
        );
    }
    let longest = questions.iter().map(|q| q.latent.len()).max().unwrap_or(1);
    let timesteps = match steps {
        Some(s) => {
            for q in questions.iter().filter(|q| q.latent.len() > s.value) {
                diags.push(
                    Diagnostic::error(format!(
                        "this question's latent program takes {} steps, but the learner runs {}",
                        q.latent.len(),
                        s.value
                    ))
                    .at_labelled(q.span, format!("{} steps", q.latent.len()))
                    .label(s.span, "the learner's steps")
                    .hint(format!("raise `timesteps` to {longest}, or leave it out: it defaults to the longest latent program")),
                );
            }
            s.value
        }
        None => longest,
    };
    let slots = scope.names.len();
    if diags.iter().filter(|d| d.is_error()).count() > errors {
        return None;
    }
    Some(TableSpec { columns, rows: rows?, world_span: world.kind.span, input, slots, questions, timesteps })
}

fn column_spans(world: &ast::World) -> Vec<Span> {
    world
        .decls
        .iter()
        .filter_map(|d| match &d.kind {
            WorldDeclKind::Other { keyword, names, args } if keyword.name == "column" => {
                let ok = matches!((names.len(), args.len()), (1, 0) | (0, 1));
                ok.then_some(d.span)
            }
            _ => None,
        })
        .collect()
}

/// `column NAME` and `column NAME: word`, each name new.
fn columns(world: &ast::World, diags: &mut Vec<Diagnostic>) -> Vec<(String, ColumnKind)> {
    let mut out: Vec<(String, ColumnKind)> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    const HINT: &str = "a table declares `column NAME` (numbers) or `column NAME: word` (words), one a line";
    for decl in &world.decls {
        let (name, kind) = match &decl.kind {
            WorldDeclKind::Other { keyword, names, args } if keyword.name == "column" => {
                match (names.as_slice(), args.as_slice()) {
                    ([name], []) => (name, ColumnKind::Number),
                    ([], [ast::CallArg { name: Some(name), value }]) => match &value.kind {
                        ExprKind::Name(k) if k.name == "word" => (name, ColumnKind::Word),
                        ExprKind::Name(k) if k.name == "number" => (name, ColumnKind::Number),
                        _ => {
                            diags.push(
                                Diagnostic::error(format!("a column holds numbers or words, not `{value}`"))
                                    .at_labelled(value.span, "expected `word`")
                                    .hint(HINT),
                            );
                            continue;
                        }
                    },
                    _ => {
                        diags.push(Diagnostic::error("expected one column name").at_labelled(decl.span, "not a column").hint(HINT));
                        continue;
                    }
                }
            }
            WorldDeclKind::Other { keyword, .. } => {
                let mut d = Diagnostic::error(format!("a table declares `column`s, not `{}`", keyword.name))
                    .at_labelled(keyword.span, "not a table declaration");
                d = match crate::suggest::did_you_mean(&keyword.name, ["column"]) {
                    Some(h) => d.hint(h),
                    None => d.hint(HINT),
                };
                diags.push(d);
                continue;
            }
            _ => {
                diags.push(Diagnostic::error("a table declares `column`s").at_labelled(decl.span, "not a table declaration").hint(HINT));
                continue;
            }
        };
        if let Some(d) = bad_name(name, "column") {
            diags.push(d);
            continue;
        }
        if let Some(i) = out.iter().position(|(n, _)| *n == name.name) {
            diags.push(
                Diagnostic::error(format!("the column `{}` is declared twice", name.name))
                    .at_labelled(name.span, "declared again here")
                    .label(spans[i], "first declared here"),
            );
            continue;
        }
        out.push((name.name.clone(), kind));
        spans.push(name.span);
    }
    if out.is_empty() && world.decls.is_empty() {
        diags.push(
            Diagnostic::error("the table declares no columns")
                .at_labelled(world.kind.span, "a table without columns")
                .hint("declare them in the world block: `world table(rows: n) { column a }`"),
        );
    }
    out
}

fn bad_name(name: &Ident, role: &str) -> Option<Diagnostic> {
    if synth_dsl::ast::is_keyword(&name.name) || name.is_program_name() {
        return Some(
            Diagnostic::error(format!("`{}` cannot name a {role}", name.name))
                .at_labelled(name.span, "not a lowercase name")
                .hint(format!("{role} names are lowercase words that are not keywords")),
        );
    }
    None
}

/// `table(rows: EXPR)`.
fn rows_arg(world: &ast::World, scope: &Scope, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
    let mut rows = None;
    for a in &world.args {
        match &a.name {
            Some(n) if n.name == "rows" && rows.is_none() => rows = Some(scope.expr(&a.value, diags)),
            Some(n) if n.name == "rows" => {
                diags.push(Diagnostic::error("`rows` is given twice").at_labelled(n.span, "given again here"));
            }
            _ => {
                let at = a.name.as_ref().map_or(a.value.span, |n| n.span);
                diags.push(
                    Diagnostic::error("a table world takes one argument, `rows`")
                        .at_labelled(at, "not `rows: EXPR`")
                        .hint("e.g. `world table(rows: n) { ... }`"),
                );
            }
        }
    }
    match rows {
        Some(r) => r,
        None => {
            diags.push(
                Diagnostic::error("a table world needs `rows`")
                    .at_labelled(world.kind.span, "how many rows?")
                    .hint("e.g. `world table(rows: n) { ... }`"),
            );
            None
        }
    }
}

/// The names `input` sees: the size, then its `let`s.
struct Scope<'c> {
    names: Vec<String>,
    columns: &'c [(String, ColumnKind)],
}

impl Scope<'_> {
    fn expr(&self, e: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
        let kind = match &e.kind {
            ExprKind::Int(v) => match i64::try_from(v) {
                Ok(v) => ExprK::Int(v),
                Err(_) => {
                    diags.push(Diagnostic::error("this number does not fit in 64 bits").at_labelled(e.span, "too large"));
                    return None;
                }
            },
            ExprKind::Str(s) => ExprK::Str(s.clone()),
            ExprKind::Name(id) => match self.names.iter().rposition(|n| *n == id.name) {
                Some(i) => ExprK::Local(i),
                None => {
                    let msg = if self.columns.iter().any(|(c, _)| *c == id.name) {
                        format!("the column `{}` cannot be read in `input`", id.name)
                    } else {
                        format!("unknown name `{}`", id.name)
                    };
                    let mut d = Diagnostic::error(msg).at_labelled(id.span, "not defined here");
                    if let Some(h) = crate::suggest::did_you_mean(&id.name, self.names.iter().map(String::as_str)) {
                        d = d.hint(h);
                    }
                    diags.push(d);
                    return None;
                }
            },
            ExprKind::List(xs) => {
                let items: Vec<Option<Expr>> = xs.iter().map(|x| self.expr(x, diags)).collect();
                ExprK::List(items.into_iter().collect::<Option<_>>()?)
            }
            ExprKind::Range { start, end, inclusive } => {
                let (a, b) = (self.expr(start, diags), self.expr(end, diags));
                ExprK::Range(Box::new(a?), Box::new(b?), *inclusive)
            }
            ExprKind::Unary { op: UnOp::Neg, expr } => ExprK::Neg(Box::new(self.expr(expr, diags)?)),
            ExprKind::Binary { op: op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem), lhs, rhs } => {
                let (a, b) = (self.expr(lhs, diags), self.expr(rhs, diags));
                ExprK::Arith(*op, Box::new(a?), Box::new(b?))
            }
            ExprKind::Call { callee, args } => {
                let Some(&(_, b, arity, example)) = BUILTINS.iter().find(|(n, ..)| *n == callee.name) else {
                    let mut d = Diagnostic::error(format!("`{}` is not available in a table world's `input`", callee.name))
                        .at_labelled(callee.span, "not a table built-in");
                    d = match crate::suggest::did_you_mean(&callee.name, BUILTINS.iter().map(|b| b.0).chain(["fill"])) {
                        Some(h) => d.hint(h),
                        None => d.hint("a table's `input` uses `fill`, `random_list`, `random_words`, `random_int`, `len`, `min`, `max` and `abs`"),
                    };
                    diags.push(d);
                    return None;
                };
                if args.len() != arity || args.iter().any(|a| a.name.is_some()) {
                    diags.push(
                        Diagnostic::error(format!("`{}` takes {arity} argument{}", callee.name, if arity == 1 { "" } else { "s" }))
                            .at_labelled(e.span, "wrong arguments")
                            .hint(format!("e.g. `{example}`")),
                    );
                    return None;
                }
                let items: Vec<Option<Expr>> = args.iter().map(|a| self.expr(&a.value, diags)).collect();
                ExprK::Call(b, items.into_iter().collect::<Option<_>>()?)
            }
            _ => {
                diags.push(
                    Diagnostic::error("this expression has no value in a table world's `input`")
                        .at_labelled(e.span, "not a number, word, list or range")
                        .hint("`input` builds lists of numbers and words with `random_list`, `random_words` and arithmetic"),
                );
                return None;
            }
        };
        Some(Expr { kind, span: e.span })
    }
}

fn input_stmt(
    s: &ast::Stmt,
    scope: &mut Scope,
    filled: &mut [Option<Span>],
    diags: &mut Vec<Diagnostic>,
) -> Option<Stmt> {
    match &s.kind {
        StmtKind::Let { name, value } => {
            let v = scope.expr(value, diags);
            if let Some(d) = bad_name(name, "variable") {
                diags.push(d);
                return None;
            }
            scope.names.push(name.name.clone());
            Some(Stmt::Let(scope.names.len() - 1, v?))
        }
        StmtKind::Expr(ast::Expr { kind: ExprKind::Call { callee, args }, span }) if callee.name == "fill" => {
            let [col, list] = args.as_slice() else {
                diags.push(
                    Diagnostic::error("`fill` takes a column and a list")
                        .at_labelled(*span, "wrong arguments")
                        .hint("e.g. `fill(a, random_list(n, 0..100))`"),
                );
                return None;
            };
            let ExprKind::Name(c) = &col.value.kind else {
                diags.push(Diagnostic::error("`fill`'s first argument is a column name").at_labelled(col.value.span, "not a column"));
                return None;
            };
            let Some(ci) = scope.columns.iter().position(|(n, _)| *n == c.name) else {
                let mut d = Diagnostic::error(format!("unknown column `{}`", c.name)).at_labelled(c.span, "not a column of the table");
                if let Some(h) = crate::suggest::did_you_mean(&c.name, scope.columns.iter().map(|c| c.0.as_str())) {
                    d = d.hint(h);
                }
                diags.push(d);
                return None;
            };
            let v = scope.expr(&list.value, diags)?;
            if let Some(first) = filled[ci] {
                diags.push(
                    Diagnostic::error(format!("the column `{}` is filled twice", c.name))
                        .at_labelled(*span, "filled again here")
                        .label(first, "first filled here"),
                );
                return None;
            }
            filled[ci] = Some(*span);
            Some(Stmt::Fill(ci, v, *span))
        }
        _ => {
            diags.push(
                Diagnostic::error("a table world's `input` holds `let` and `fill` statements")
                    .at_labelled(s.span, "not `let` or `fill`")
                    .hint("e.g. `fill(city, random_words(n, [\"oslo\", \"lima\"]))`"),
            );
            None
        }
    }
}

/// A question: its templates and holes, its answer, its latent program.
fn question(q: &ast::Question, columns: &[(String, ColumnKind)], diags: &mut Vec<Diagnostic>) -> Option<QuestionSpec> {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let number_columns = columns.iter().filter(|c| c.1 == ColumnKind::Number).count();
    let mut holes: Vec<HoleSpec> = Vec::new();
    let mut hole_spans: Vec<Span> = Vec::new();
    for h in &q.holes {
        if let Some(i) = holes.iter().position(|x| x.name == h.name.name) {
            diags.push(
                Diagnostic::error(format!("the hole `{}` is declared twice", h.name.name))
                    .at_labelled(h.name.span, "declared again here")
                    .label(hole_spans[i], "first declared here"),
            );
            continue;
        }
        if columns.iter().any(|(c, _)| *c == h.name.name) {
            diags.push(
                Diagnostic::error(format!("the hole `{}` has the name of a column", h.name.name))
                    .at_labelled(h.name.span, "hides the column")
                    .hint("give the hole another name"),
            );
            continue;
        }
        let kind = match &h.kind {
            HoleKind::Column(_) => HoleSpecKind::Column,
            HoleKind::Word { column } => match columns.iter().position(|(c, _)| *c == column.name) {
                Some(i) if columns[i].1 == ColumnKind::Word => HoleSpecKind::Word(i),
                Some(_) => {
                    diags.push(
                        Diagnostic::error(format!("`{}` is a number column", column.name))
                            .at_labelled(column.span, "not a word column")
                            .hint("`word of COL` takes a word column (`column city: word`); a number hole is a range, `v: 0..100`"),
                    );
                    continue;
                }
                None => {
                    let mut d = Diagnostic::error(format!("unknown column `{}`", column.name))
                        .at_labelled(column.span, "not a column of the table");
                    if let Some(hint) = crate::suggest::did_you_mean(&column.name, columns.iter().map(|c| c.0.as_str())) {
                        d = d.hint(hint);
                    }
                    diags.push(d);
                    continue;
                }
            },
            HoleKind::Value(e) => match int_range(e) {
                Some((lo, hi)) if lo < hi => HoleSpecKind::Range(lo, hi),
                Some(_) => {
                    diags.push(Diagnostic::error("this range is empty").at_labelled(e.span, "no value to draw"));
                    continue;
                }
                None => {
                    diags.push(
                        Diagnostic::error(format!("a hole is `column`, `word of COL` or an integer range, not `{e}`"))
                            .at_labelled(e.span, "not a hole kind")
                            .hint("e.g. `(x: column, v: 0..100, t: word of city)`"),
                    );
                    continue;
                }
            },
        };
        holes.push(HoleSpec { name: h.name.name.clone(), kind });
        hole_spans.push(h.span);
    }
    let column_holes = holes.iter().filter(|h| matches!(h.kind, HoleSpecKind::Column)).count();
    if column_holes > number_columns {
        diags.push(
            Diagnostic::error(format!(
                "this question has {column_holes} column holes, but the table has {number_columns} number columns"
            ))
            .at_labelled(q.template_span, "cannot be filled")
            .hint("column holes take distinct number columns"),
        );
    }

    // Templates: every hole appears in every template, and nothing else.
    let mut templates = Vec::new();
    for (text, span) in &q.templates {
        match parse_template(text) {
            Ok(parts) => {
                for p in &parts {
                    if let TemplatePart::Hole(name) = p {
                        if !holes.iter().any(|h| h.name == *name) && !q.holes.iter().any(|h| h.name.name == *name) {
                            diags.push(
                                Diagnostic::error(format!("the template names `{{{name}}}`, which is not a hole"))
                                    .at_labelled(*span, "in this template")
                                    .hint("declare it after the templates: `(x: column, v: 0..100)`"),
                            );
                        }
                    }
                }
                for h in &holes {
                    if !parts.iter().any(|p| matches!(p, TemplatePart::Hole(n) if *n == h.name)) {
                        diags.push(
                            Diagnostic::error(format!("the hole `{}` does not occur in this template", h.name))
                                .at_labelled(*span, format!("no `{{{}}}` here", h.name))
                                .hint("the learner reads the question's text only: every template says every hole"),
                        );
                    }
                }
                let parts = parts
                    .into_iter()
                    .map(|p| match p {
                        TemplatePart::Text(t) => Part::Text(t),
                        TemplatePart::Hole(n) => Part::Hole(holes.iter().position(|h| h.name == n).unwrap_or(0)),
                    })
                    .collect();
                templates.push(parts);
            }
            Err(msg) => diags.push(
                Diagnostic::error(msg)
                    .at_labelled(*span, "in this template")
                    .hint("a hole is written `{name}`; braces are only for holes"),
            ),
        }
    }

    // The answer: one expression.
    let body = &q.body;
    let expr = match body.stmts.as_slice() {
        [ast::Stmt { kind: StmtKind::Expr(e), .. }] => e,
        _ => {
            diags.push(
                Diagnostic::error("a question's answer is one expression")
                    .at_labelled(body.span, "expected one expression")
                    .hint("e.g. `{ sum(x where y > v) }`"),
            );
            return None;
        }
    };
    let cx = AnswerCx { columns, holes: &holes };
    let answer = cx.answer(expr, diags)?;
    // Numbers and words the answer compares with must be in the question.
    for (pivot, span) in cx.constants(expr) {
        for (text, tspan) in &q.templates {
            let tokens = tokenize(text);
            if !tokens.contains(&pivot) {
                diags.push(
                    Diagnostic::error(format!("`{pivot}` does not occur in the question's text"))
                        .at_labelled(span, "compared with here")
                        .label(*tspan, "this template does not say it")
                        .hint("the learner takes every pivot from the question; write it in every template, or make it a hole"),
                );
            }
        }
    }
    let mut used = vec![false; holes.len()];
    mark_used(&answer, &mut used);
    for (i, u) in used.iter().enumerate() {
        if !u {
            diags.push(
                Diagnostic::error(format!("the hole `{}` is not used by the answer", holes[i].name))
                    .at_labelled(hole_spans[i], "unused")
                    .hint("every hole should change the answer; use it or delete it"),
            );
        }
    }
    let latent = match latent(&answer) {
        Ok(l) => l,
        Err((span, msg, hint)) => {
            diags.push(Diagnostic::error(msg).at_labelled(span, "cannot be mapped onto the learner's operations").hint(hint));
            return None;
        }
    };
    if diags.iter().filter(|d| d.is_error()).count() > errors {
        return None;
    }
    let template_texts = q.templates.iter().map(|(t, _)| t.clone()).collect();
    Some(QuestionSpec { templates, holes, answer, latent, span: q.template_span, template_texts, answer_text: expr.to_string() })
}

fn int_range(e: &ast::Expr) -> Option<(i64, i64)> {
    let ExprKind::Range { start, end, inclusive } = &e.kind else { return None };
    let lo = const_int(start)?;
    let hi = const_int(end)?;
    Some((lo, if *inclusive { hi.checked_add(1)? } else { hi }))
}

fn const_int(e: &ast::Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Int(v) => i64::try_from(v).ok(),
        ExprKind::Unary { op: UnOp::Neg, expr } => const_int(expr)?.checked_neg(),
        _ => None,
    }
}

#[derive(Debug, PartialEq)]
enum TemplatePart {
    Text(String),
    Hole(String),
}

fn parse_template(text: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("a `}` without a `{` in a question template".into());
        }
        if open > 0 {
            parts.push(TemplatePart::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("a `{` without a `}` in a question template".into());
        };
        let name = after[..close].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{{{}}}` is not a hole: a hole is a name in braces", &after[..close]));
        }
        parts.push(TemplatePart::Hole(name.to_string()));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest.to_string()));
    }
    Ok(parts)
}

/// The question's tokens: maximal runs of letters, digits and `_`, lowercase;
/// a run of digits (with a `-` right before it that starts a token) is a
/// number. Everything else (spaces, punctuation) separates tokens.
pub fn tokenize(text: &str) -> Vec<Cell> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let neg = c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit());
        if c.is_alphanumeric() || c == '_' || neg {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect::<String>().to_lowercase();
            let digits = word.strip_prefix('-').unwrap_or(&word);
            match word.parse::<i64>() {
                Ok(v) if digits.chars().all(|d| d.is_ascii_digit()) => out.push(Cell::Number(v)),
                _ => out.push(Cell::Word(word)),
            }
        } else {
            i += 1;
        }
    }
    out
}

struct AnswerCx<'a> {
    columns: &'a [(String, ColumnKind)],
    holes: &'a [HoleSpec],
}

const ANSWER_HINT: &str =
    "an answer is `sum(col [where COND])`, `count(where COND)`, `print(col where COND)` or a difference of two scalars";

impl AnswerCx<'_> {
    fn answer(&self, e: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<AnswerExpr> {
        if let ExprKind::Call { callee, args } = &e.kind {
            if callee.name == "print" {
                let (col, cond) = self.col_where(callee, args, e.span, diags)?;
                let Some(cond) = cond else {
                    diags.push(
                        Diagnostic::error("`print` needs `where`")
                            .at_labelled(e.span, "which rows?")
                            .hint("e.g. `print(x where y > v)`"),
                    );
                    return None;
                };
                return Some(AnswerExpr::Print(col?, cond));
            }
        }
        Some(AnswerExpr::Scalar(self.scalar(e, diags)?))
    }

    fn scalar(&self, e: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<Scalar> {
        match &e.kind {
            ExprKind::Binary { op: BinOp::Sub, lhs, rhs } => {
                let (a, b) = (self.scalar(lhs, diags), self.scalar(rhs, diags));
                Some(Scalar::Diff(Box::new(a?), Box::new(b?), e.span))
            }
            ExprKind::Call { callee, args } if callee.name == "sum" => {
                let (col, cond) = self.col_where(callee, args, e.span, diags)?;
                let col = col?;
                if let ColRef::Fixed(i) = col {
                    if self.columns[i].1 == ColumnKind::Word {
                        diags.push(
                            Diagnostic::error(format!("`{}` is a word column, which has no sum", self.columns[i].0))
                                .at_labelled(args[0].value.span, "words")
                                .hint("sum a number column, or `count` the rows"),
                        );
                        return None;
                    }
                }
                Some(Scalar::Sum(col, cond))
            }
            ExprKind::Call { callee, args } if callee.name == "count" => match args.as_slice() {
                [w] if w.is_where() => Some(Scalar::Count(self.cond(&w.value, diags)?)),
                _ => {
                    diags.push(
                        Diagnostic::error("`count` takes a `where` condition only")
                            .at_labelled(e.span, "expected `count(where COND)`")
                            .hint("e.g. `count(where x > v)`"),
                    );
                    None
                }
            },
            ExprKind::Call { callee, .. } if callee.name == "print" => {
                diags.push(
                    Diagnostic::error("`print` is a whole answer, not a scalar")
                        .at_labelled(e.span, "a lookup answer")
                        .hint("a difference is between two `sum`s or `count`s"),
                );
                None
            }
            ExprKind::Call { callee, .. } => {
                let mut d = Diagnostic::error(format!("`{}` is not a table operation", callee.name))
                    .at_labelled(callee.span, "not `sum`, `count` or `print`");
                d = match crate::suggest::did_you_mean(&callee.name, ["sum", "count", "print"]) {
                    Some(h) => d.hint(h),
                    None => d.hint(ANSWER_HINT),
                };
                diags.push(d);
                None
            }
            _ => {
                diags.push(Diagnostic::error("expected a table operation").at_labelled(e.span, "not an answer").hint(ANSWER_HINT));
                None
            }
        }
    }

    /// `(col)`, `(col where COND)`: the column (reported when bad) and the
    /// condition.
    fn col_where(
        &self,
        callee: &Ident,
        args: &[ast::CallArg],
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(Option<ColRef>, Option<Cond>)> {
        match args {
            [c] if c.name.is_none() => Some((self.column(&c.value, diags), None)),
            [c, w] if c.name.is_none() && w.is_where() => {
                let col = self.column(&c.value, diags);
                Some((col, Some(self.cond(&w.value, diags)?)))
            }
            _ => {
                diags.push(
                    Diagnostic::error(format!("`{}` takes a column and an optional `where` condition", callee.name))
                        .at_labelled(span, "wrong arguments")
                        .hint(format!("e.g. `{}(x where y > v)`", callee.name)),
                );
                None
            }
        }
    }

    fn column(&self, e: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<ColRef> {
        let ExprKind::Name(id) = &e.kind else {
            diags.push(Diagnostic::error("expected a column").at_labelled(e.span, "not a column or column hole"));
            return None;
        };
        if let Some(i) = self.columns.iter().position(|(c, _)| *c == id.name) {
            return Some(ColRef::Fixed(i));
        }
        match self.holes.iter().position(|h| h.name == id.name) {
            Some(i) if matches!(self.holes[i].kind, HoleSpecKind::Column) => Some(ColRef::Hole(i)),
            Some(_) => {
                diags.push(
                    Diagnostic::error(format!("the hole `{}` is a value, not a column", id.name))
                        .at_labelled(id.span, "not a column")
                        .hint(format!("declare it `{}: column`", id.name)),
                );
                None
            }
            None => {
                let names = self.columns.iter().map(|c| c.0.as_str()).chain(self.holes.iter().map(|h| h.name.as_str()));
                let mut d = Diagnostic::error(format!("unknown column `{}`", id.name)).at_labelled(id.span, "not a column or hole");
                if let Some(h) = crate::suggest::did_you_mean(&id.name, names) {
                    d = d.hint(h);
                }
                diags.push(d);
                None
            }
        }
    }

    fn column_kind(&self, c: ColRef) -> ColumnKind {
        match c {
            ColRef::Fixed(i) => self.columns[i].1,
            ColRef::Hole(_) => ColumnKind::Number,
        }
    }

    fn cond(&self, e: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<Cond> {
        const HINT: &str = "a condition compares a number column with `>` or `<`, a word column with `==`, and combines them with `&&` and `||`";
        match &e.kind {
            ExprKind::Binary { op: op @ (BinOp::And | BinOp::Or), lhs, rhs } => {
                let (a, b) = (self.cond(lhs, diags), self.cond(rhs, diags));
                let (a, b) = (Box::new(a?), Box::new(b?));
                Some(if *op == BinOp::And { Cond::And(a, b, e.span) } else { Cond::Or(a, b, e.span) })
            }
            ExprKind::Binary { op: op @ (BinOp::Gt | BinOp::Lt | BinOp::Eq), lhs, rhs } => {
                let col = self.column(lhs, diags)?;
                let kind = self.column_kind(col);
                match (op, kind) {
                    (BinOp::Eq, ColumnKind::Word) => Some(Cond::Match(col, self.pivot(rhs, ColumnKind::Word, diags)?)),
                    (BinOp::Gt | BinOp::Lt, ColumnKind::Number) => {
                        let p = self.pivot(rhs, ColumnKind::Number, diags)?;
                        Some(if *op == BinOp::Gt { Cond::Greater(col, p) } else { Cond::Lesser(col, p) })
                    }
                    (BinOp::Eq, ColumnKind::Number) => {
                        diags.push(
                            Diagnostic::error("a number column is compared with `>` or `<`")
                                .at_labelled(e.span, "the learner has no equality on numbers")
                                .hint(HINT),
                        );
                        None
                    }
                    _ => {
                        diags.push(
                            Diagnostic::error("a word column is compared with `==`")
                                .at_labelled(e.span, "words have no order")
                                .hint(HINT),
                        );
                        None
                    }
                }
            }
            _ => {
                diags.push(Diagnostic::error("expected a condition on the table's rows").at_labelled(e.span, "not a row condition").hint(HINT));
                None
            }
        }
    }

    fn pivot(&self, e: &ast::Expr, kind: ColumnKind, diags: &mut Vec<Diagnostic>) -> Option<PivotRef> {
        match (&e.kind, kind) {
            (ExprKind::Name(id), _) => match self.holes.iter().position(|h| h.name == id.name) {
                Some(i) => match (&self.holes[i].kind, kind) {
                    (HoleSpecKind::Range(..), ColumnKind::Number) | (HoleSpecKind::Word(_), ColumnKind::Word) => {
                        Some(PivotRef::Hole(i))
                    }
                    _ => {
                        let want = if kind == ColumnKind::Number { "an integer range" } else { "`word of COL`" };
                        diags.push(
                            Diagnostic::error(format!("the hole `{}` cannot be compared here", id.name))
                                .at_labelled(id.span, format!("expected a hole of {want}")),
                        );
                        None
                    }
                },
                None => {
                    let mut d = Diagnostic::error(format!("unknown hole `{}`", id.name)).at_labelled(id.span, "not a hole");
                    // Suggest only holes that could stand here.
                    let fits = self.holes.iter().filter(|h| match h.kind {
                        HoleSpecKind::Range(..) => kind == ColumnKind::Number,
                        HoleSpecKind::Word(_) => kind == ColumnKind::Word,
                        HoleSpecKind::Column => false,
                    });
                    if let Some(h) = crate::suggest::did_you_mean(&id.name, fits.map(|h| h.name.as_str())) {
                        d = d.hint(h);
                    }
                    diags.push(d);
                    None
                }
            },
            (_, ColumnKind::Number) if const_int(e).is_some() => Some(PivotRef::Const(Cell::Number(const_int(e)?))),
            (ExprKind::Str(s), ColumnKind::Word) if is_one_token(s) => Some(PivotRef::Const(Cell::Word(s.clone()))),
            (ExprKind::Str(_), ColumnKind::Word) => {
                diags.push(
                    Diagnostic::error("a word is one token: lowercase letters, digits and `_`")
                        .at_labelled(e.span, "not one word"),
                );
                None
            }
            _ => {
                let want = if kind == ColumnKind::Number { "a number or a range hole" } else { "a word (`\"oslo\"`) or a word hole" };
                diags.push(Diagnostic::error(format!("expected {want}")).at_labelled(e.span, "cannot be a pivot"));
                None
            }
        }
    }

    /// The literal pivots of the answer, with their spans.
    fn constants(&self, e: &ast::Expr) -> Vec<(Cell, Span)> {
        let mut out = Vec::new();
        fn walk(e: &ast::Expr, out: &mut Vec<(Cell, Span)>) {
            match &e.kind {
                ExprKind::Binary { op: BinOp::Gt | BinOp::Lt, rhs, .. } => {
                    if let Some(v) = const_int(rhs) {
                        out.push((Cell::Number(v), rhs.span));
                    }
                }
                ExprKind::Binary { op: BinOp::Eq, rhs, .. } => {
                    if let ExprKind::Str(s) = &rhs.kind {
                        out.push((Cell::Word(s.clone()), rhs.span));
                    }
                }
                ExprKind::Binary { lhs, rhs, .. } => {
                    walk(lhs, out);
                    walk(rhs, out);
                }
                ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(&a.value, out)),
                _ => {}
            }
        }
        walk(e, &mut out);
        out
    }
}

fn is_one_token(s: &str) -> bool {
    !s.is_empty() && matches!(tokenize(s).as_slice(), [Cell::Word(w)] if *w == s)
}

fn mark_used(a: &AnswerExpr, used: &mut [bool]) {
    fn col(c: &ColRef, used: &mut [bool]) {
        if let ColRef::Hole(i) = c {
            used[*i] = true;
        }
    }
    fn cond(c: &Cond, used: &mut [bool]) {
        match c {
            Cond::Greater(c, p) | Cond::Lesser(c, p) | Cond::Match(c, p) => {
                col(c, used);
                if let PivotRef::Hole(i) = p {
                    used[*i] = true;
                }
            }
            Cond::And(a, b, _) | Cond::Or(a, b, _) => {
                cond(a, used);
                cond(b, used);
            }
        }
    }
    fn scalar(s: &Scalar, used: &mut [bool]) {
        match s {
            Scalar::Sum(c, w) => {
                col(c, used);
                if let Some(w) = w {
                    cond(w, used);
                }
            }
            Scalar::Count(w) => cond(w, used),
            Scalar::Diff(a, b, _) => {
                scalar(a, used);
                scalar(b, used);
            }
        }
    }
    match a {
        AnswerExpr::Scalar(s) => scalar(s, used),
        AnswerExpr::Print(c, w) => {
            col(c, used);
            cond(w, used);
        }
    }
}

// ---- the latent program ----------------------------------------------------------

type MapError = (Span, String, String);

fn step(op: Op, column: Option<ColRef>, pivot: Option<PivotRef>) -> SymStep {
    SymStep { op, column, pivot }
}

/// Maps an answer onto the Neural Programmer's operations. The row
/// selection starts with every row selected; a comparison or word match
/// replaces it; `and`/`or` combine the last two selections; `sum`, `count`
/// and `print` read the current one (and leave it as it was); `difference`
/// subtracts the scalar of the step before from the scalar three steps back.
pub(crate) fn latent(a: &AnswerExpr) -> Result<Vec<SymStep>, MapError> {
    let mut out = Vec::new();
    match a {
        AnswerExpr::Scalar(s) => scalar_steps(s, true, &mut out)?,
        AnswerExpr::Print(c, w) => {
            cond_steps(w, &mut out)?;
            out.push(step(Op::Print, Some(*c), None));
        }
    }
    Ok(out)
}

fn cond_steps(c: &Cond, out: &mut Vec<SymStep>) -> Result<(), MapError> {
    match c {
        Cond::Greater(col, p) => out.push(step(Op::Greater, Some(*col), Some(p.clone()))),
        Cond::Lesser(col, p) => out.push(step(Op::Lesser, Some(*col), Some(p.clone()))),
        Cond::Match(col, p) => out.push(step(Op::WordMatch, Some(*col), Some(p.clone()))),
        Cond::And(a, b, span) | Cond::Or(a, b, span) => {
            let op = if matches!(c, Cond::And(..)) { Op::And } else { Op::Or };
            let (mut first, mut second) = (Vec::new(), Vec::new());
            cond_steps(a, &mut first)?;
            cond_steps(b, &mut second)?;
            // `and`/`or` combine the last two selections, so the second
            // operand must be one step; the operations commute, so a simple
            // left operand can go second.
            if second.len() != 1 {
                if first.len() != 1 {
                    return Err((
                        *span,
                        format!("both sides of this `{}` take several steps", if op == Op::And { "&&" } else { "||" }),
                        "`and` and `or` combine the last two row selections: one side must be a single comparison, as in `(a > 1 && b < 2) || c > 3`".into(),
                    ));
                }
                std::mem::swap(&mut first, &mut second);
            }
            out.extend(first);
            out.extend(second);
            out.push(step(op, None, None));
        }
    }
    Ok(())
}

fn scalar_steps(s: &Scalar, first: bool, out: &mut Vec<SymStep>) -> Result<(), MapError> {
    match s {
        Scalar::Sum(c, None) => {
            if !first {
                out.push(step(Op::Reset, None, None));
            }
            out.push(step(Op::Sum, Some(*c), None));
        }
        Scalar::Sum(c, Some(w)) => {
            cond_steps(w, out)?;
            out.push(step(Op::Sum, Some(*c), None));
        }
        Scalar::Count(w) => {
            cond_steps(w, out)?;
            out.push(step(Op::Count, None, None));
        }
        Scalar::Diff(a, b, span) => {
            scalar_steps(a, first, out)?;
            let mut second = Vec::new();
            scalar_steps(b, false, &mut second)?;
            if second.len() != 2 {
                return Err((
                    *span,
                    "the right-hand side of this difference takes more than two steps".into(),
                    "`difference` subtracts the scalar of the step before from the scalar three steps back: the right-hand side must be one comparison (or none) and a `sum` or `count`".into(),
                ));
            }
            out.extend(second);
            out.push(step(Op::Difference, None, None));
        }
    }
    Ok(())
}

// ---- exact execution --------------------------------------------------------------

/// Runs a latent program exactly on a table: the hard semantics that the
/// learner's soft execution must agree with on one-hot choices. Starts with
/// every row selected; the answer is the last step's output. Errors name the
/// step (1-based) and what was wrong; an overflowing sum is an error too.
pub fn execute(columns: &[TableColumn], program: &[LatentStep]) -> Result<Answer, String> {
    let rows = columns.first().map_or(0, |c| c.cells.len());
    let mut selections: Vec<Vec<bool>> = vec![vec![true; rows]];
    let mut scalars: Vec<Option<i64>> = Vec::new();
    let mut last: Option<Answer> = None;
    for (t, s) in program.iter().enumerate() {
        let at = t + 1;
        let column = || -> Result<&TableColumn, String> {
            let name = s.column.as_deref().ok_or_else(|| format!("step {at}: `{}` needs a column", s.op.name()))?;
            columns.iter().find(|c| c.name == name).ok_or_else(|| format!("step {at}: no column `{name}`"))
        };
        let current = selections.last().cloned().unwrap_or_default();
        let mut scalar = None;
        let mut answer = None;
        let selection = match s.op {
            Op::Greater | Op::Lesser => {
                let col = column()?;
                let Some(Cell::Number(p)) = s.pivot else { return Err(format!("step {at}: `{}` needs a number pivot", s.op.name())) };
                col.cells
                    .iter()
                    .map(|c| match c {
                        Cell::Number(v) => Ok(if s.op == Op::Greater { *v > p } else { *v < p }),
                        Cell::Word(_) => Err(format!("step {at}: `{}` is a word column", col.name)),
                    })
                    .collect::<Result<Vec<bool>, String>>()?
            }
            Op::WordMatch => {
                let col = column()?;
                let Some(Cell::Word(p)) = &s.pivot else { return Err(format!("step {at}: `word_match` needs a word pivot")) };
                col.cells.iter().map(|c| matches!(c, Cell::Word(w) if w == p)).collect()
            }
            Op::Reset => vec![true; rows],
            Op::And | Op::Or => {
                let n = selections.len();
                if n < 3 {
                    return Err(format!("step {at}: `{}` needs two row selections before it", s.op.name()));
                }
                let (a, b) = (&selections[n - 1], &selections[n - 2]);
                a.iter().zip(b).map(|(x, y)| if s.op == Op::And { *x && *y } else { *x || *y }).collect()
            }
            Op::Sum => {
                let col = column()?;
                let mut total: i64 = 0;
                for (c, sel) in col.cells.iter().zip(&current) {
                    match c {
                        Cell::Number(v) if *sel => total = total.checked_add(*v).ok_or(format!("step {at}: the sum overflows"))?,
                        Cell::Number(_) => {}
                        Cell::Word(_) => return Err(format!("step {at}: `{}` is a word column", col.name)),
                    }
                }
                scalar = Some(total);
                current.clone()
            }
            Op::Count => {
                scalar = Some(current.iter().filter(|s| **s).count() as i64);
                current.clone()
            }
            Op::Difference => {
                let back = |k: usize| t.checked_sub(k).and_then(|i| scalars[i]);
                let (Some(a), Some(b)) = (back(3), back(1)) else {
                    return Err(format!("step {at}: `difference` needs scalars three steps and one step back"));
                };
                scalar = Some(a.checked_sub(b).ok_or(format!("step {at}: the difference overflows"))?);
                current.clone()
            }
            Op::Print => {
                let col = column()?;
                let rows: Vec<usize> = current.iter().enumerate().filter(|(_, s)| **s).map(|(i, _)| i).collect();
                let cells = rows.iter().map(|&i| col.cells[i].clone()).collect();
                answer = Some(Answer::Lookup { column: col.name.clone(), rows, cells });
                current.clone()
            }
        };
        if let Some(v) = scalar {
            answer = Some(Answer::Scalar { value: v });
        }
        scalars.push(scalar);
        selections.push(selection);
        last = answer;
    }
    last.ok_or_else(|| "the program ends without a scalar or a lookup".into())
}

// ---- sampling ----------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Val {
    Int(i64),
    Word(String),
    List(Vec<Val>),
    Range(i64, i64),
}

struct Sampler<'a> {
    spec: &'a TableSpec,
    size: usize,
    seed: u64,
}

impl Sampler<'_> {
    fn err(&self, span: Span, message: String, label: &str) -> RunError {
        RunError {
            kind: RunErrorKind::Value,
            message,
            program: None,
            span: Some(span),
            label: Some(label.into()),
            hint: None,
            size: self.size,
            seed: self.seed,
        }
    }

    fn eval(&self, e: &Expr, slots: &[Option<Val>], rng: &mut Rng) -> Result<Val, RunError> {
        let int = |v: Val, span: Span| match v {
            Val::Int(i) => Ok(i),
            _ => Err(self.err(span, "expected an integer".into(), "not an integer")),
        };
        let overflow = |span| self.err(span, "an integer overflows 64 bits".into(), "overflows");
        Ok(match &e.kind {
            ExprK::Int(v) => Val::Int(*v),
            ExprK::Str(s) => Val::Word(s.clone()),
            ExprK::Local(i) => slots[*i].clone().ok_or_else(|| self.err(e.span, "a name used before its `let`".into(), "no value yet"))?,
            ExprK::List(xs) => Val::List(xs.iter().map(|x| self.eval(x, slots, rng)).collect::<Result<_, _>>()?),
            ExprK::Range(a, b, inclusive) => {
                let lo = int(self.eval(a, slots, rng)?, a.span)?;
                let hi = int(self.eval(b, slots, rng)?, b.span)?;
                let hi = if *inclusive { hi.checked_add(1).ok_or_else(|| overflow(e.span))? } else { hi };
                Val::Range(lo, hi)
            }
            ExprK::Neg(x) => Val::Int(int(self.eval(x, slots, rng)?, x.span)?.checked_neg().ok_or_else(|| overflow(e.span))?),
            ExprK::Arith(op, a, b) => {
                let x = int(self.eval(a, slots, rng)?, a.span)?;
                let y = int(self.eval(b, slots, rng)?, b.span)?;
                let r = match op {
                    BinOp::Add => x.checked_add(y),
                    BinOp::Sub => x.checked_sub(y),
                    BinOp::Mul => x.checked_mul(y),
                    BinOp::Div if y == 0 => return Err(self.err(e.span, "division by zero".into(), "divides by zero")),
                    BinOp::Div => x.checked_div_euclid(y),
                    BinOp::Rem if y == 0 => return Err(self.err(e.span, "division by zero".into(), "divides by zero")),
                    _ => x.checked_rem_euclid(y),
                };
                Val::Int(r.ok_or_else(|| overflow(e.span))?)
            }
            ExprK::Call(b, args) => {
                let vals: Vec<Val> = args.iter().map(|a| self.eval(a, slots, rng)).collect::<Result<_, _>>()?;
                self.call(*b, vals, args, e.span, rng)?
            }
        })
    }

    fn call(&self, b: Builtin, vals: Vec<Val>, args: &[Expr], span: Span, rng: &mut Rng) -> Result<Val, RunError> {
        let range = |v: &Val, span: Span| match v {
            Val::Range(lo, hi) if lo < hi => Ok((*lo, *hi)),
            Val::Range(..) => Err(self.err(span, "the range is empty".into(), "empty range")),
            _ => Err(self.err(span, "expected a range".into(), "not a range")),
        };
        let count = |v: &Val, span: Span| match v {
            Val::Int(k) if *k >= 0 && (*k as usize) <= MAX_ROWS => Ok(*k as usize),
            Val::Int(k) => Err(self.err(span, format!("a list of {k} elements (at most {MAX_ROWS})"), "bad length")),
            _ => Err(self.err(span, "expected an integer".into(), "not an integer")),
        };
        let draw = |rng: &mut Rng, lo: i64, hi: i64| lo.wrapping_add(uniform_below(rng, hi.wrapping_sub(lo) as u64) as i64);
        Ok(match b {
            Builtin::RandomInt => {
                let (lo, hi) = range(&vals[0], args[0].span)?;
                Val::Int(draw(rng, lo, hi))
            }
            Builtin::RandomList => {
                let k = count(&vals[0], args[0].span)?;
                let (lo, hi) = range(&vals[1], args[1].span)?;
                Val::List((0..k).map(|_| Val::Int(draw(rng, lo, hi))).collect())
            }
            Builtin::RandomWords => {
                let k = count(&vals[0], args[0].span)?;
                let words: Vec<String> = match &vals[1] {
                    Val::List(xs) if !xs.is_empty() => xs
                        .iter()
                        .map(|x| match x {
                            Val::Word(w) if is_one_token(w) => Ok(w.clone()),
                            _ => Err(self.err(args[1].span, "`random_words` draws from a list of words, each one token".into(), "not a list of words")),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(self.err(args[1].span, "`random_words` draws from a non-empty list of words".into(), "not a list of words")),
                };
                Val::List((0..k).map(|_| Val::Word(words[uniform_below(rng, words.len() as u64) as usize].clone())).collect())
            }
            Builtin::Len => match &vals[0] {
                Val::List(xs) => Val::Int(xs.len() as i64),
                _ => return Err(self.err(args[0].span, "`len` takes a list".into(), "not a list")),
            },
            Builtin::Min | Builtin::Max => {
                let a = match &vals[0] { Val::Int(v) => *v, _ => return Err(self.err(args[0].span, "expected an integer".into(), "not an integer")) };
                let c = match &vals[1] { Val::Int(v) => *v, _ => return Err(self.err(args[1].span, "expected an integer".into(), "not an integer")) };
                Val::Int(if b == Builtin::Min { a.min(c) } else { a.max(c) })
            }
            Builtin::Abs => match &vals[0] {
                Val::Int(v) => Val::Int(v.checked_abs().ok_or_else(|| self.err(span, "an integer overflows 64 bits".into(), "overflows"))?),
                _ => return Err(self.err(args[0].span, "expected an integer".into(), "not an integer")),
            },
        })
    }

    /// Draws one table.
    fn table(&self, rng: &mut Rng) -> Result<Vec<TableColumn>, RunError> {
        let spec = self.spec;
        let mut slots: Vec<Option<Val>> = vec![None; spec.slots.max(1)];
        slots[0] = Some(Val::Int(self.size as i64));
        let rows = match self.eval(&spec.rows, &slots, rng)? {
            Val::Int(r) if r >= 1 && r as usize <= MAX_ROWS => r as usize,
            Val::Int(r) => {
                return Err(RunError {
                    kind: RunErrorKind::World,
                    hint: Some(format!("a table has 1 to {MAX_ROWS} rows")),
                    ..self.err(spec.rows.span, format!("the table would have {r} rows"), "rows at this size")
                })
            }
            _ => return Err(self.err(spec.rows.span, "`rows` is an integer".into(), "not an integer")),
        };
        let mut columns: Vec<TableColumn> =
            spec.columns.iter().map(|(n, k)| TableColumn { name: n.clone(), kind: *k, cells: Vec::new() }).collect();
        for s in &spec.input {
            match s {
                Stmt::Let(slot, e) => slots[*slot] = Some(self.eval(e, &slots, rng)?),
                Stmt::Fill(ci, e, span) => {
                    let col = &mut columns[*ci];
                    let Val::List(xs) = self.eval(e, &slots, rng)? else {
                        return Err(self.err(e.span, format!("`fill` takes a list for column `{}`", col.name), "not a list"));
                    };
                    if xs.len() != rows {
                        return Err(RunError {
                            kind: RunErrorKind::World,
                            ..self.err(*span, format!("column `{}` filled with {} value{}, but the table has {rows} row{}", col.name, xs.len(), plural(xs.len()), plural(rows)), "wrong length")
                        });
                    }
                    col.cells = xs
                        .into_iter()
                        .map(|x| match (x, col.kind) {
                            (Val::Int(v), ColumnKind::Number) => Ok(Cell::Number(v)),
                            (Val::Word(w), ColumnKind::Word) if is_one_token(&w) => Ok(Cell::Word(w)),
                            (Val::Word(w), ColumnKind::Word) => Err(self.err(
                                e.span,
                                format!("`{w}` in column `{}` is not one word (lowercase letters, digits and `_`)", col.name),
                                "not a word",
                            )),
                            _ => Err(self.err(
                                e.span,
                                format!("column `{}` holds {}", col.name, if col.kind == ColumnKind::Number { "numbers" } else { "words" }),
                                "values of the wrong kind",
                            )),
                        })
                        .collect::<Result<_, _>>()?;
                }
            }
        }
        Ok(columns)
    }
}

/// Hole values of one instance.
#[derive(Clone, Debug)]
enum HoleVal {
    Column(usize),
    Cell(Cell),
}

impl TableSpec {
    /// One instance; see [`crate::Task::table_example`].
    pub(crate) fn example(&self, size: usize, seed: u64) -> Result<TableExample, RunError> {
        let sampler = Sampler { spec: self, size, seed };
        let mut rng = seeded_rng(size, seed);
        for _ in 0..MAX_ATTEMPTS {
            let columns = sampler.table(&mut rng)?;
            let qi = uniform_below(&mut rng, self.questions.len() as u64) as usize;
            let q = &self.questions[qi];
            let ti = uniform_below(&mut rng, q.templates.len() as u64) as usize;
            let Some(holes) = self.fill_holes(q, &columns, &mut rng) else { continue };
            let Some(answer) = eval_answer(&q.answer, &holes, &columns) else { continue };
            let text: String = q.templates[ti]
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.clone(),
                    Part::Hole(h) => match &holes[*h] {
                        HoleVal::Column(c) => self.columns[*c].0.clone(),
                        HoleVal::Cell(c) => c.to_string(),
                    },
                })
                .collect();
            let tokens = tokenize(&text);
            let numbers = tokens.iter().filter_map(|t| if let Cell::Number(v) = t { Some(*v) } else { None }).collect();
            let program = q
                .latent
                .iter()
                .map(|s| {
                    let column = s.column.map(|c| self.columns[col_index(c, &holes)].0.clone());
                    let pivot = s.pivot.as_ref().map(|p| pivot_value(p, &holes));
                    let pivot_token = pivot.as_ref().and_then(|p| tokens.iter().position(|t| t == p));
                    LatentStep { op: s.op, column, pivot, pivot_token }
                })
                .collect();
            let rows = columns.first().map_or(0, |c| c.cells.len());
            return Ok(TableExample {
                size,
                seed,
                rows,
                columns,
                question: qi,
                template: ti,
                text,
                tokens,
                numbers,
                answer,
                program,
            });
        }
        Err(RunError {
            kind: RunErrorKind::World,
            message: format!("no question with a defined, non-empty answer in {MAX_ATTEMPTS} draws"),
            program: None,
            span: Some(self.world_span),
            label: Some("the tables drawn at this size".into()),
            hint: Some(
                "every `where` must select some rows: widen the hole ranges, or draw column values that the conditions can match".into(),
            ),
            size,
            seed,
        })
    }

    /// Column holes take distinct number columns; range holes any value of
    /// their range; word holes a word of their column in this table, the
    /// distinct words drawn evenly, two holes of one column never the same
    /// word. `None` when the table has too few words.
    fn fill_holes(&self, q: &QuestionSpec, columns: &[TableColumn], rng: &mut Rng) -> Option<Vec<HoleVal>> {
        let mut free: Vec<usize> = (0..self.columns.len()).filter(|&i| self.columns[i].1 == ColumnKind::Number).collect();
        let mut out = Vec::new();
        let mut taken: Vec<(usize, Cell)> = Vec::new();
        for h in &q.holes {
            out.push(match &h.kind {
                HoleSpecKind::Column => {
                    if free.is_empty() {
                        return None;
                    }
                    let k = uniform_below(rng, free.len() as u64) as usize;
                    HoleVal::Column(free.remove(k))
                }
                HoleSpecKind::Range(lo, hi) => {
                    HoleVal::Cell(Cell::Number(lo.wrapping_add(uniform_below(rng, hi.wrapping_sub(*lo) as u64) as i64)))
                }
                HoleSpecKind::Word(c) => {
                    // Distinct from the words earlier holes of this column took.
                    let mut words: Vec<&Cell> = columns[*c].cells.iter().collect();
                    words.sort();
                    words.dedup();
                    words.retain(|w| !taken.iter().any(|(tc, tw)| tc == c && tw == *w));
                    if words.is_empty() {
                        return None;
                    }
                    let w = words[uniform_below(rng, words.len() as u64) as usize].clone();
                    taken.push((*c, w.clone()));
                    HoleVal::Cell(w)
                }
            });
        }
        Some(out)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn col_index(c: ColRef, holes: &[HoleVal]) -> usize {
    match c {
        ColRef::Fixed(i) => i,
        ColRef::Hole(h) => match holes[h] {
            HoleVal::Column(i) => i,
            HoleVal::Cell(_) => unreachable!("a column hole holds a column"),
        },
    }
}

fn pivot_value(p: &PivotRef, holes: &[HoleVal]) -> Cell {
    match p {
        PivotRef::Const(c) => c.clone(),
        PivotRef::Hole(h) => match &holes[*h] {
            HoleVal::Cell(c) => c.clone(),
            HoleVal::Column(_) => unreachable!("a value hole holds a value"),
        },
    }
}

/// The rows a condition selects; `None` when it selects none (an empty
/// selection makes the answer undefined, and the instance is drawn again).
fn select(c: &Cond, holes: &[HoleVal], columns: &[TableColumn]) -> Option<Vec<bool>> {
    let sel: Vec<bool> = match c {
        Cond::Greater(col, p) | Cond::Lesser(col, p) => {
            let Cell::Number(p) = pivot_value(p, holes) else { return None };
            let greater = matches!(c, Cond::Greater(..));
            columns[col_index(*col, holes)]
                .cells
                .iter()
                .map(|x| matches!(x, Cell::Number(v) if if greater { *v > p } else { *v < p }))
                .collect()
        }
        Cond::Match(col, p) => {
            let p = pivot_value(p, holes);
            columns[col_index(*col, holes)].cells.iter().map(|x| *x == p).collect()
        }
        Cond::And(a, b, _) | Cond::Or(a, b, _) => {
            let and = matches!(c, Cond::And(..));
            // Each side must select rows on its own, too: an empty side
            // makes the question degenerate.
            let (x, y) = (select(a, holes, columns)?, select(b, holes, columns)?);
            x.iter().zip(&y).map(|(x, y)| if and { *x && *y } else { *x || *y }).collect()
        }
    };
    sel.iter().any(|s| *s).then_some(sel)
}

fn eval_scalar(s: &Scalar, holes: &[HoleVal], columns: &[TableColumn]) -> Option<i64> {
    match s {
        Scalar::Sum(c, w) => {
            let rows = columns.first().map_or(0, |c| c.cells.len());
            let sel = match w {
                Some(w) => select(w, holes, columns)?,
                None => vec![true; rows],
            };
            let mut total: i64 = 0;
            for (x, s) in columns[col_index(*c, holes)].cells.iter().zip(sel) {
                if let (Cell::Number(v), true) = (x, s) {
                    total = total.checked_add(*v)?;
                }
            }
            Some(total)
        }
        Scalar::Count(w) => Some(select(w, holes, columns)?.iter().filter(|s| **s).count() as i64),
        Scalar::Diff(a, b, _) => eval_scalar(a, holes, columns)?.checked_sub(eval_scalar(b, holes, columns)?),
    }
}

/// The answer expression's value, computed directly (not through the latent
/// program); `None` when undefined (an empty selection, an overflow).
fn eval_answer(a: &AnswerExpr, holes: &[HoleVal], columns: &[TableColumn]) -> Option<Answer> {
    match a {
        AnswerExpr::Scalar(s) => Some(Answer::Scalar { value: eval_scalar(s, holes, columns)? }),
        AnswerExpr::Print(c, w) => {
            let sel = select(w, holes, columns)?;
            let col = &columns[col_index(*c, holes)];
            let rows: Vec<usize> = sel.iter().enumerate().filter(|(_, s)| **s).map(|(i, _)| i).collect();
            let cells = rows.iter().map(|&i| col.cells[i].clone()).collect();
            Some(Answer::Lookup { column: col.name.clone(), rows, cells })
        }
    }
}

// ---- rendering ---------------------------------------------------------------------

/// A question's latent program before any instance: columns and pivots are
/// the holes' names in braces (`greater {y} {v}`) or the constants the
/// answer names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatentProgram {
    pub templates: Vec<String>,
    pub answer: String,
    pub steps: Vec<String>,
}

impl TableSpec {
    pub(crate) fn latent_programs(&self) -> Vec<LatentProgram> {
        self.questions
            .iter()
            .map(|q| {
                let hole = |i: usize| format!("{{{}}}", q.holes[i].name);
                let steps = q
                    .latent
                    .iter()
                    .map(|s| {
                        let mut out = s.op.name().to_string();
                        match s.column {
                            Some(ColRef::Fixed(i)) => out += &format!(" {}", self.columns[i].0),
                            Some(ColRef::Hole(h)) => out += &format!(" {}", hole(h)),
                            None => {}
                        }
                        match &s.pivot {
                            Some(PivotRef::Const(c)) => out += &format!(" {c}"),
                            Some(PivotRef::Hole(h)) => out += &format!(" {}", hole(*h)),
                            None => {}
                        }
                        out
                    })
                    .collect();
                LatentProgram { templates: q.template_texts.clone(), answer: q.answer_text.clone(), steps }
            })
            .collect()
    }
}

/// Every question's latent program as text: its templates, its answer
/// expression, then one step a line.
pub fn latent_programs_text(programs: &[LatentProgram], timesteps: usize) -> String {
    use std::fmt::Write;
    let mut out = format!("// latent programs; the learner runs {timesteps} steps\n");
    for (i, p) in programs.iter().enumerate() {
        let templates: Vec<String> = p.templates.iter().map(|t| format!("{t:?}")).collect();
        let _ = writeln!(out, "question {}  {}", i + 1, templates.join(" | "));
        let _ = writeln!(out, "  answer  {}", p.answer);
        for (k, s) in p.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}  {s}", k + 1);
        }
    }
    out
}

/// Every question's latent program in Graphviz DOT: one cluster per
/// question, its steps chained in order.
pub fn latent_programs_dot(programs: &[LatentProgram]) -> String {
    use std::fmt::Write;
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph latent {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
    for (i, p) in programs.iter().enumerate() {
        let q = i + 1;
        let _ = writeln!(out, "  subgraph cluster_q{q} {{");
        let _ = writeln!(out, "    label=\"{}\";", esc(&format!("{}: {}", p.templates[0], p.answer)));
        for (k, s) in p.steps.iter().enumerate() {
            let _ = writeln!(out, "    q{q}s{} [label=\"{}\"];", k + 1, esc(s));
        }
        for k in 1..p.steps.len() {
            let _ = writeln!(out, "    q{q}s{k} -> q{q}s{};", k + 1);
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

impl TableExample {
    /// The instance for people (`synth trace`): the table (its first and
    /// last rows when it is long), the question and its tokens, the answer
    /// and the latent program.
    pub fn render(&self, task: &str) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "{task}  size {}  seed {}  question {} template {}", self.size, self.seed, self.question + 1, self.template + 1);
        let _ = writeln!(out, "table ({} rows)", self.rows);
        let widths: Vec<usize> = self
            .columns
            .iter()
            .map(|c| c.cells.iter().map(|x| x.to_string().len()).chain([c.name.len()]).max().unwrap_or(1))
            .collect();
        let row_w = (self.rows.saturating_sub(1)).to_string().len().max(3);
        let mut line = format!("  {:>row_w$}", "row");
        for (c, w) in self.columns.iter().zip(&widths) {
            let _ = write!(line, "  {:>w$}", c.name);
        }
        let _ = writeln!(out, "{}", line.trim_end());
        let shown: Vec<usize> = if self.rows <= SHOWN_ROWS {
            (0..self.rows).collect()
        } else {
            (0..SHOWN_ROWS - 3).chain(self.rows - 2..self.rows).collect()
        };
        for (k, &r) in shown.iter().enumerate() {
            if k > 0 && shown[k - 1] + 1 != r {
                let _ = writeln!(out, "  {:>row_w$}  ({} rows not shown)", "...", r - shown[k - 1] - 1);
            }
            let mut line = format!("  {r:>row_w$}");
            for (c, w) in self.columns.iter().zip(&widths) {
                let _ = write!(line, "  {:>w$}", c.cells[r].to_string());
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let _ = writeln!(out, "question  {}", self.text);
        let tokens: Vec<String> = self
            .tokens
            .iter()
            .map(|t| match t {
                Cell::Number(v) => format!("#{v}"),
                Cell::Word(w) => w.clone(),
            })
            .collect();
        let _ = writeln!(out, "tokens    {}", tokens.join(" "));
        let _ = writeln!(out, "answer    {}", self.answer);
        let _ = writeln!(out, "latent program ({} steps)", self.program.len());
        for (i, s) in self.program.iter().enumerate() {
            let _ = writeln!(out, "  {}  {s}", i + 1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_numbers() {
        let t = tokenize("How many rows have b greater than 42? -7, X_1.");
        let shown: Vec<String> = t.iter().map(|c| format!("{c:?}")).collect();
        assert_eq!(
            shown.join(" "),
            "Word(\"how\") Word(\"many\") Word(\"rows\") Word(\"have\") Word(\"b\") Word(\"greater\") Word(\"than\") Number(42) Number(-7) Word(\"x_1\")"
        );
    }

    #[test]
    fn templates_split_at_holes() {
        assert_eq!(
            parse_template("sum of {x} where {y} < 3").unwrap(),
            vec![
                TemplatePart::Text("sum of ".into()),
                TemplatePart::Hole("x".into()),
                TemplatePart::Text(" where ".into()),
                TemplatePart::Hole("y".into()),
                TemplatePart::Text(" < 3".into())
            ]
        );
        assert!(parse_template("a {x").is_err());
        assert!(parse_template("a } x").is_err());
        assert!(parse_template("a {x y} b").is_err());
    }
}
