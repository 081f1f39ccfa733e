//! The syntax tree of an NPL file, exactly as written: no name is resolved
//! here. Every node carries the [`Span`] of its text so that later stages can
//! point at it. The compiler (`synth-compiler`) checks and lowers this tree;
//! nothing downstream of the compiler sees it.

use crate::span::Span;
use num_bigint::BigInt;
use serde::Serialize;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl Ident {
    /// `UPPER_CASE` names are programs: the first letter is an uppercase
    /// ASCII letter and no letter is lowercase (`ADD1`, `BSTEP`, `L_SHIFT`).
    pub fn is_program_name(&self) -> bool {
        is_program_name(&self.name)
    }
}

pub fn is_program_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_ascii_lowercase())
}

/// A whole `.npl` file: its items in source order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub kind: ItemKind,
    /// From the item's keyword to its closing brace or end of line.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ItemKind {
    /// `task NAME`
    Task(Ident),
    /// `world KIND(args) { decls }`
    World(World),
    /// `input(n) { stmts }`
    Input(Input),
    /// `expect EXPR`
    Expect(Expr),
    /// `program NAME(params) { stmts }`
    Program(Program),
    /// `question "template" { expr }`
    Question(Question),
    /// `learn LEARNER { settings }`
    Learn(Learn),
    /// `entry NAME`
    Entry(Ident),
}

/// `world scratchpad(rows: 4, cols: n + 2, base: 10) { pointer ... }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct World {
    /// `scratchpad`, `tape`, `table`, `pose`.
    pub kind: Ident,
    pub args: Vec<CallArg>,
    pub decls: Vec<WorldDecl>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorldDecl {
    pub kind: WorldDeclKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum WorldDeclKind {
    /// `pointer NAME on row EXPR at left|right|EXPR`
    Pointer { name: Ident, row: Expr, start: PointerStart },
    /// `observe EXPR`: an extra feature of the learner's observation.
    Observe(Expr),
    /// Any other declaration of a non-scratchpad world, kept as words and
    /// optional values (`register r`, `column price`), for the world kinds
    /// that later stages add. The compiler rejects what it does not know.
    Other { keyword: Ident, names: Vec<Ident>, args: Vec<CallArg> },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum PointerStart {
    Left(Span),
    Right(Span),
    Column(Expr),
}

/// `input(n) { ... }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Input {
    /// The size parameter (`n`).
    pub param: Ident,
    pub body: Block,
}

/// `program NAME(params) { ... }`; the parentheses may be omitted when there
/// are no parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Program {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub body: Block,
}

/// `question "Sum of {col}" { sum(col) }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Question {
    pub template: String,
    pub template_span: Span,
    pub body: Block,
}

/// `learn npi { train sizes 1..=10, traces 64 \n test sizes [20, 100] }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Learn {
    pub learner: Ident,
    /// One entry per line; a line is a comma-separated list of clauses.
    pub lines: Vec<LearnLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LearnLine {
    pub clauses: Vec<Clause>,
    pub span: Span,
}

/// `sizes 1..=10`, `traces 64`, `return: after_call`, `test sizes [20, 100]`:
/// one or more words, an optional `:`, and an optional value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Clause {
    pub words: Vec<Ident>,
    pub value: Option<Expr>,
    pub span: Span,
}

/// `{ stmt* }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// From `{` to `}` inclusive.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum StmtKind {
    /// `let x = e`
    Let { name: Ident, value: Expr },
    /// `x = e`, `mem[i] = e`: the target is a [`ExprKind::Name`] or an
    /// [`ExprKind::Index`].
    Assign { target: Expr, value: Expr },
    /// `if c { } else if c { } else { }`: one `(condition, block)` per arm.
    If { arms: Vec<(Expr, Block)>, otherwise: Option<Block> },
    /// `while c { }`
    While { cond: Expr, body: Block },
    /// `for i in a..b { }`
    For { var: Ident, iter: Expr, body: Block },
    /// `return`
    Return,
    /// A call used as a statement: a program call, an action or a built-in.
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ExprKind {
    Int(#[serde(serialize_with = "ser_bigint")] BigInt),
    /// Decimal literals (`3e-4`, `0.5`); only `learn` settings accept them.
    Float(f64),
    Bool(bool),
    Blank,
    Left,
    Right,
    Str(String),
    Name(Ident),
    List(Vec<Expr>),
    /// `a..b` or `a..=b`
    Range { start: Box<Expr>, end: Box<Expr>, inclusive: bool },
    Unary { op: UnOp, expr: Box<Expr> },
    Binary { op: BinOp, lhs: Box<Expr>, rhs: Box<Expr> },
    /// `name(args)`; whether it is a program, an action or a built-in is
    /// decided by the compiler.
    Call { callee: Ident, args: Vec<CallArg> },
    /// `base[index]`
    Index { base: Box<Expr>, index: Box<Expr> },
}

fn ser_bigint<S: serde::Serializer>(v: &BigInt, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// `value` or `name: value`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallArg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

/// Words that cannot name pointers, variables or programs.
pub const KEYWORDS: &[&str] = &[
    "task", "world", "input", "expect", "program", "entry", "learn", "question", "let", "if", "else", "while", "for",
    "in", "return", "true", "false", "blank", "left", "right",
];

pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}
