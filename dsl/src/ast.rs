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

/// `question "sum of {x}" | "total of {x}" (x: column) { sum(x) }`: one or
/// more templates (paraphrases of one question), the typed holes, and the
/// answer. `template` and `template_span` are the first template's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Question {
    pub template: String,
    pub template_span: Span,
    /// Every template, the first included, in source order.
    pub templates: Vec<(String, Span)>,
    pub holes: Vec<Hole>,
    pub body: Block,
}

/// `x: column`, `v: 0..100`, `t: word of city`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hole {
    pub name: Ident,
    pub kind: HoleKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum HoleKind {
    /// `column`: a number column of the table.
    Column(Span),
    /// `word of COL`: a word that occurs in that column.
    Word { column: Ident },
    /// Any other expression, which the compiler requires to be an integer
    /// range (`0..100`).
    Value(Expr),
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
    Range {
        start: Box<Expr>,
        end: Box<Expr>,
        inclusive: bool,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `name(args)`; whether it is a program, an action or a built-in is
    /// decided by the compiler.
    Call {
        callee: Ident,
        args: Vec<CallArg>,
    },
    /// `base[index]`
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
}

impl Expr {
    /// Binding strength, loosest first, as the language reference lists it:
    /// ranges, `||`, `&&`, comparisons, `+ -`, `* / %`, unary operators,
    /// then everything that needs no parentheses.
    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Range { .. } => 1,
            ExprKind::Binary { op, .. } => op.precedence(),
            ExprKind::Unary { .. } => 7,
            _ => 8,
        }
    }
}

/// An expression as NPL source, with single spaces around binary operators
/// and only the parentheses precedence needs: `(a + 1) * digit(p)`.
impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let operand = |f: &mut std::fmt::Formatter<'_>, e: &Expr, paren: bool| {
            if paren {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        };
        match &self.kind {
            ExprKind::Int(v) => write!(f, "{v}"),
            ExprKind::Float(v) => write!(f, "{v:?}"),
            ExprKind::Bool(v) => write!(f, "{v}"),
            ExprKind::Blank => f.write_str("blank"),
            ExprKind::Left => f.write_str("left"),
            ExprKind::Right => f.write_str("right"),
            ExprKind::Str(s) => write!(f, "{s:?}"),
            ExprKind::Name(n) => f.write_str(&n.name),
            ExprKind::List(xs) => {
                f.write_str("[")?;
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str("]")
            }
            ExprKind::Range { start, end, inclusive } => {
                operand(f, start, start.precedence() <= 1)?;
                f.write_str(if *inclusive { "..=" } else { ".." })?;
                operand(f, end, end.precedence() <= 1)
            }
            ExprKind::Unary { op, expr } => {
                f.write_str(match op {
                    UnOp::Not => "!",
                    UnOp::Neg => "-",
                })?;
                operand(f, expr, expr.precedence() < 7)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let p = op.precedence();
                // Left-associative, except comparisons, which do not chain.
                operand(f, lhs, lhs.precedence() < p || (p == 4 && lhs.precedence() == 4))?;
                write!(f, " {} ", op.symbol())?;
                operand(f, rhs, rhs.precedence() <= p)
            }
            ExprKind::Call { callee, args } => {
                write!(f, "{}(", callee.name)?;
                for (i, a) in args.iter().enumerate() {
                    if a.is_where() {
                        // `sum(x where y > 3)`, `count(where y > 3)`
                        write!(f, "{}where {}", if i > 0 { " " } else { "" }, a.value)?;
                        continue;
                    }
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let Some(n) = &a.name {
                        write!(f, "{}: ", n.name)?;
                    }
                    write!(f, "{}", a.value)?;
                }
                f.write_str(")")
            }
            ExprKind::Index { base, index } => {
                operand(f, base, base.precedence() < 8)?;
                write!(f, "[{index}]")
            }
        }
    }
}

fn ser_bigint<S: serde::Serializer>(v: &BigInt, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// `value` or `name: value`. A table question's row selection `where COND`
/// (`sum(x where y > 3)`, `count(where y > 3)`) is kept as an argument named
/// `where` whose value is the condition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallArg {
    pub name: Option<Ident>,
    pub value: Expr,
}

impl CallArg {
    /// Whether this is a `where COND` selection.
    pub fn is_where(&self) -> bool {
        self.name.as_ref().is_some_and(|n| n.name == "where")
    }
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

    /// Binding strength: `||` 2, `&&` 3, comparisons 4, `+ -` 5, `* / %` 6
    /// (ranges are 1, unary operators 7).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 2,
            BinOp::And => 3,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 6,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `expect` expression of `expect SRC`, printed back.
    fn shown(src: &str) -> String {
        let (file, diags) = crate::parse(&format!("expect {src}\n"));
        assert!(diags.is_empty(), "{diags:?}");
        match &file.items[0].kind {
            ItemKind::Expect(e) => e.to_string(),
            other => panic!("not an expect: {other:?}"),
        }
    }

    #[test]
    fn shows_expressions_with_needed_parentheses_only() {
        assert_eq!(shown("((a + 1)) * digit(p)"), "(a + 1) * digit(p)");
        assert_eq!(shown("a - (b - c)"), "a - (b - c)");
        assert_eq!(shown("(a - b) - c"), "a - b - c");
        assert_eq!(shown("!(pos(lo) >= pos(hi))"), "!(pos(lo) >= pos(hi))");
        assert_eq!(shown("0..(a + 1)"), "0..a + 1");
        assert_eq!(shown("read_number(row: 3)   ==  [1,2,  xs[0]]"), "read_number(row: 3) == [1, 2, xs[0]]");
        assert_eq!(shown("-(x % 2) <= -y || (blank != left && done)"), "-(x % 2) <= -y || blank != left && done");
    }
}
