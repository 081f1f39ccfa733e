//! Blocks and statements: `let`, assignment, `if` / `else if` / `else`,
//! `while`, `for ... in`, `return` and calls. A statement ends at a newline,
//! a `;` or the `}` of its block (see [`Ctx::braced_lines`]); inside
//! brackets and after an operator a newline is only white space.

use super::ctx::{keyword_as_name, Ctx, Nl, PResult};
use super::expr::describe_expr;
use super::lex;
use crate::ast::{is_keyword, BinOp, Block, Expr, ExprKind, Ident, Stmt, StmtKind};
use crate::diagnostic::Diagnostic;

const STATEMENTS_HINT: &str = "a statement is `let`, an assignment, `if`, `while`, `for`, `return` or a call";

/// What a block may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BlockKind {
    /// Programs and `input`: every line must do something, so a bare
    /// expression (`x == 1`, usually a mistyped assignment) is an error.
    Code,
    /// A question's answer, which is an expression.
    Answer,
}

impl<'a> Ctx<'a> {
    /// `{ stmt* }`; `what` names it for messages ("the body of program `ADD`").
    pub(super) fn block(&self, i: &'a str, what: &str, kind: BlockKind) -> PResult<'a, Block> {
        let (r, (stmts, span)) = self.braced_lines(i, what, "statement", |j| self.stmt(j, kind))?;
        Ok((r, Block { stmts, span }))
    }

    /// One statement; `i` is at its first token.
    fn stmt(&self, i: &'a str, kind: BlockKind) -> PResult<'a, Stmt> {
        if let Ok((r, w)) = lex::ident(i) {
            let word = Ident { name: w.to_string(), span: self.span(i, r) };
            // `while = 3`: someone used a keyword as a variable. Saying so
            // beats "expected a condition after `while`, found `=`".
            if is_keyword(w) && w != "let" && lex::punct(self.ws(r, Nl::End)).is_some_and(|(t, _)| t == "=") {
                return Err(self.fail(r, keyword_as_name(&word, "variable")));
            }
            let parsed = match w {
                "let" => self.let_stmt(r),
                "if" => self.if_stmt(r, kind),
                "while" => self.while_stmt(r, kind),
                "for" => self.for_stmt(r, kind),
                "return" => Ok((r, StmtKind::Return)),
                "else" => {
                    let d = Diagnostic::error("`else` without an `if`")
                        .at_labelled(word.span, "not after the `}` of an `if` branch")
                        .hint("`else` follows the `}` that closes an `if` branch: `if c { ... } else { ... }`");
                    return Err(self.fail(r, d));
                }
                _ => return self.simple_stmt(i, kind),
            };
            let (r, stmt) = parsed?;
            return Ok((r, Stmt { kind: stmt, span: self.span(i, r) }));
        }
        self.simple_stmt(i, kind)
    }

    /// An assignment or an expression used as a statement.
    fn simple_stmt(&self, i: &'a str, kind: BlockKind) -> PResult<'a, Stmt> {
        let (r, target) = match self.expr(i, Nl::End) {
            Err(nom::Err::Error(_)) => {
                let d = self.unexpected(i, "expected a statement", "expected a statement").hint(STATEMENTS_HINT);
                return Err(self.fail(i, d));
            }
            other => other?,
        };
        let k = self.ws(r, Nl::End);
        if let Some(("=", after)) = lex::punct(k) {
            if !matches!(target.kind, ExprKind::Name(_) | ExprKind::Index { .. }) {
                let d = Diagnostic::error(format!(
                    "expected a variable or an indexed cell before `=`, found {}",
                    describe_expr(&target, self.src)
                ))
                .at_labelled(target.span, "cannot be assigned to")
                .hint("only a variable (`x = e`) or a cell (`mem[i] = e`) can be assigned");
                return Err(self.fail(after, d));
            }
            let (r, value) = self.operand(after, Nl::End, "=")?;
            let span = target.span.to(value.span);
            return Ok((r, Stmt { kind: StmtKind::Assign { target, value }, span }));
        }
        if kind == BlockKind::Code && !matches!(target.kind, ExprKind::Call { .. }) {
            let found = describe_expr(&target, self.src);
            let d = Diagnostic::error(format!("expected a statement, found {found}"))
                .at_labelled(target.span, "this value is not used");
            let d = match &target.kind {
                ExprKind::Binary { op: BinOp::Eq, .. } => d.hint("to assign a value, write a single `=`"),
                _ => d.hint(STATEMENTS_HINT),
            };
            return Err(self.fail(r, d));
        }
        let span = target.span;
        Ok((r, Stmt { kind: StmtKind::Expr(target), span }))
    }

    /// After `let`: `NAME = EXPR`.
    fn let_stmt(&self, r: &'a str) -> PResult<'a, StmtKind> {
        let (r, name) = self.new_name(r, Nl::End, "variable", "`let`")?;
        let Ok((after, _)) = self.token(r, Nl::End, "=") else {
            let d = self
                .expected(r, Nl::End, &format!("expected `=` after `let {}`", name.name), "expected `=`")
                .hint(format!("a `let` gives a name to a value: `let {} = ...`", name.name));
            return Err(self.fail(r, d));
        };
        let (r, value) = self.operand(after, Nl::End, "=")?;
        Ok((r, StmtKind::Let { name, value }))
    }

    /// After `if`: the arms, then an optional `else`.
    fn if_stmt(&self, r: &'a str, kind: BlockKind) -> PResult<'a, StmtKind> {
        let (mut r, first) = self.cond_block(r, "`if`", "the `if` branch", kind)?;
        let mut arms = vec![first];
        let mut otherwise = None;
        // `else` may follow the `}` on the same line or on the next one;
        // nothing else can start a statement with `else`, so looking past a
        // newline is unambiguous.
        while let Ok((after_else, _)) = self.keyword(r, Nl::Skip, "else") {
            if let Ok((after_if, _)) = self.keyword(after_else, Nl::End, "if") {
                let (rest, arm) = self.cond_block(after_if, "`else if`", "the `else if` branch", kind)?;
                arms.push(arm);
                r = rest;
            } else {
                let (rest, block) = self.block(after_else, "the `else` branch", kind)?;
                otherwise = Some(block);
                r = rest;
                break;
            }
        }
        Ok((r, StmtKind::If { arms, otherwise }))
    }

    fn while_stmt(&self, r: &'a str, kind: BlockKind) -> PResult<'a, StmtKind> {
        let (r, (cond, body)) = self.cond_block(r, "`while`", "the body of the `while` loop", kind)?;
        Ok((r, StmtKind::While { cond, body }))
    }

    /// After `for`: `NAME in EXPR { ... }`.
    fn for_stmt(&self, r: &'a str, kind: BlockKind) -> PResult<'a, StmtKind> {
        let (r, var) = self.new_name(r, Nl::End, "loop variable", "`for`")?;
        let Ok((after_in, _)) = self.keyword(r, Nl::End, "in") else {
            let d = self
                .expected(r, Nl::End, &format!("expected `in` after `for {}`", var.name), "expected `in`")
                .hint(format!("a `for` loop reads `for {} in 0..n {{ ... }}`", var.name));
            return Err(self.fail(r, d));
        };
        let (r, iter) = match self.expr(after_in, Nl::End) {
            Err(nom::Err::Error(_)) => {
                let d = self.expected(
                    after_in,
                    Nl::End,
                    "expected a range or a list after `in`",
                    "expected a range or a list",
                );
                return Err(self.fail(after_in, d));
            }
            other => other?,
        };
        let (r, body) = self.block(r, "the body of the `for` loop", kind)?;
        Ok((r, StmtKind::For { var, iter, body }))
    }

    /// A condition and the block it guards.
    fn cond_block(&self, r: &'a str, after: &str, what: &str, kind: BlockKind) -> PResult<'a, (Expr, Block)> {
        let (r, cond) = match self.expr(r, Nl::End) {
            Err(nom::Err::Error(_)) => {
                let d =
                    self.expected(r, Nl::End, &format!("expected a condition after {after}"), "expected a condition");
                return Err(self.fail(r, d));
            }
            other => other?,
        };
        let k = self.ws(r, Nl::End);
        if lex::punct(k).is_some_and(|(t, _)| t == "=") {
            let d = self
                .unexpected(k, &format!("expected `{{` to open {what}"), "expected `{`")
                .hint("to compare two values, write `==`");
            return Err(self.fail(r, d));
        }
        let (r, body) = self.block(r, what, kind)?;
        Ok((r, (cond, body)))
    }
}
