//! Expressions: infix operators by precedence climbing, loosest first as
//! NPL.md lists them (ranges `..` `..=`, `||`, `&&`, comparisons, `+ -`,
//! `* / %`), then unary `! -`, then postfix indexing `a[i]` and the primaries
//! (literals, names, calls `f(x, row: 0)`, `(e)`, lists `[a, b]`).
//!
//! Every function returns `Err::Error` when no expression starts at its
//! input, so that the caller can say what it expected there ("expected a
//! condition after `while`"), and `Err::Failure` once it has committed.
//!
//! Comparisons and ranges are non-associative: `a < b < c` and `0..1..2` are
//! errors, not `(a < b) < c`, which would compare a boolean with a number and
//! is never what the writer meant. The other binary operators associate to
//! the left.

use super::ctx::{Ctx, Nl, PFail, PResult};
use super::lex::{self, StrError};
use crate::ast::{is_keyword, BinOp, CallArg, Expr, ExprKind, Ident, UnOp};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use num_bigint::BigInt;

/// An infix operator: a binary one, or a range (`..`, `..=`).
#[derive(Clone, Copy)]
enum Infix {
    Bin(BinOp),
    Range { inclusive: bool },
}

impl Infix {
    /// Binding strength, loosest first as NPL.md lists them.
    fn prec(self) -> u8 {
        match self {
            Infix::Range { .. } => 1,
            Infix::Bin(BinOp::Or) => 2,
            Infix::Bin(BinOp::And) => 3,
            Infix::Bin(BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) => 4,
            Infix::Bin(BinOp::Add | BinOp::Sub) => 5,
            Infix::Bin(BinOp::Mul | BinOp::Div | BinOp::Rem) => 6,
        }
    }

    /// Comparisons and ranges do not chain.
    fn chains(self) -> bool {
        !matches!(self.prec(), 1 | 4)
    }

    fn symbol(self) -> &'static str {
        match self {
            Infix::Bin(op) => op.symbol(),
            Infix::Range { inclusive: true } => "..=",
            Infix::Range { inclusive: false } => "..",
        }
    }

    fn from_token(tok: &str) -> Option<Infix> {
        Some(match tok {
            "..=" => Infix::Range { inclusive: true },
            ".." => Infix::Range { inclusive: false },
            "||" => Infix::Bin(BinOp::Or),
            "&&" => Infix::Bin(BinOp::And),
            "==" => Infix::Bin(BinOp::Eq),
            "!=" => Infix::Bin(BinOp::Ne),
            "<" => Infix::Bin(BinOp::Lt),
            "<=" => Infix::Bin(BinOp::Le),
            ">" => Infix::Bin(BinOp::Gt),
            ">=" => Infix::Bin(BinOp::Ge),
            "+" => Infix::Bin(BinOp::Add),
            "-" => Infix::Bin(BinOp::Sub),
            "*" => Infix::Bin(BinOp::Mul),
            "/" => Infix::Bin(BinOp::Div),
            "%" => Infix::Bin(BinOp::Rem),
            _ => return None,
        })
    }
}

impl<'a> Ctx<'a> {
    /// An expression; `nl` says whether a newline ends it.
    pub(super) fn expr(&self, i: &'a str, nl: Nl) -> PResult<'a, Expr> {
        self.infix_expr(i, nl, 0)
    }

    /// Precedence climbing: an operand, then operators at least as strong as
    /// `min_prec`, each with a right operand of strictly stronger operators
    /// (so that equal ones associate to the left). One function for every
    /// level keeps the stack shallow for deeply bracketed input.
    fn infix_expr(&self, i: &'a str, nl: Nl, min_prec: u8) -> PResult<'a, Expr> {
        let (mut r, mut lhs) = self.unary(i, nl)?;
        // `a + b + c + ...` builds a left-leaning tree as deep as the chain
        // is long, so each operator counts as a level of nesting.
        let mut depth = self.depth();
        let mut previous: Option<(Infix, Span)> = None;
        while let Some((op, after, op_span)) = self.infix_op(r, nl) {
            if op.prec() < min_prec {
                break;
            }
            if let Some((prev, prev_span)) = previous.filter(|(p, _)| !p.chains() && p.prec() == op.prec()) {
                return Err(self.fail(after, self.chained(prev, prev_span, op, op_span)));
            }
            depth.bump(self.at(op_span.start as usize))?;
            let (rest, rhs) =
                self.operand_with(after, nl, op.symbol(), |ctx, j, nl| ctx.infix_expr(j, nl, op.prec() + 1))?;
            let span = lhs.span.to(rhs.span);
            let (lhs_box, rhs_box) = (Box::new(lhs), Box::new(rhs));
            let kind = match op {
                Infix::Bin(op) => ExprKind::Binary { op, lhs: lhs_box, rhs: rhs_box },
                Infix::Range { inclusive } => ExprKind::Range { start: lhs_box, end: rhs_box, inclusive },
            };
            lhs = Expr { kind, span };
            previous = Some((op, op_span));
            r = rest;
        }
        Ok((r, lhs))
    }

    /// The infix operator at `r`, the text after it and its span.
    /// Punctuation is read longest-first, so `<` never matches `<=`.
    fn infix_op(&self, r: &'a str, nl: Nl) -> Option<(Infix, &'a str, Span)> {
        let j = self.ws(r, nl);
        let (tok, after) = lex::punct(j)?;
        Infix::from_token(tok).map(|op| (op, after, self.span(j, after)))
    }

    fn chained(&self, first: Infix, first_span: Span, second: Infix, second_span: Span) -> Diagnostic {
        if let Infix::Range { .. } = first {
            return Diagnostic::error("ranges cannot be chained")
                .at_labelled(second_span, format!("a second `{}`", second.symbol()))
                .hint("a range has one start and one end, as in `0..n`");
        }
        Diagnostic::error("comparison operators cannot be chained")
            .at_labelled(second_span, "second comparison")
            .label(first_span, "first comparison")
            .hint(format!(
                "compare two values at a time and join the results with `&&`: `a {} b && b {} c`",
                first.symbol(),
                second.symbol()
            ))
    }

    /// The operand after an operator (binary, unary or `=`). A newline right
    /// after an operator does not end the statement, so `a +` at the end of a
    /// line continues on the next.
    pub(super) fn operand(&self, after: &'a str, nl: Nl, op: &str) -> PResult<'a, Expr> {
        self.operand_with(after, nl, op, |ctx, j, nl| ctx.expr(j, nl))
    }

    fn operand_with(
        &self,
        after: &'a str,
        nl: Nl,
        op: &str,
        next: impl FnOnce(&Self, &'a str, Nl) -> PResult<'a, Expr>,
    ) -> PResult<'a, Expr> {
        let j = self.ws(after, Nl::Skip);
        match next(self, j, nl) {
            Err(nom::Err::Error(_)) => {
                let mut d = self.expected(
                    after,
                    Nl::Skip,
                    &format!("expected an expression after `{op}`"),
                    "expected an expression",
                );
                if lex::punct(j).is_some_and(|(t, _)| t == "=") && ["+", "-", "*", "/", "%"].contains(&op) {
                    d = d.hint(format!("NPL has no `{op}=`; write `x = x {op} ...`"));
                }
                Err(self.fail(after, d))
            }
            other => other,
        }
    }

    fn unary(&self, i: &'a str, nl: Nl) -> PResult<'a, Expr> {
        let j = self.ws(i, nl);
        let (op, sym, after) = match lex::punct(j) {
            Some(("!", after)) => (UnOp::Not, "!", after),
            Some(("-", after)) => (UnOp::Neg, "-", after),
            _ => return self.postfix(j, nl),
        };
        let _depth = self.enter(j)?;
        let (r, e) = self.operand_with(after, nl, sym, |ctx, j, nl| ctx.unary(j, nl))?;
        let span = Span::new(self.off(j), e.span.end as usize);
        Ok((r, Expr { kind: ExprKind::Unary { op, expr: Box::new(e) }, span }))
    }

    /// A primary followed by any number of `[index]`.
    fn postfix(&self, i: &'a str, nl: Nl) -> PResult<'a, Expr> {
        let (mut r, mut e) = self.primary(i, nl)?;
        let mut depth = self.depth();
        while let Ok((after, open)) = self.token(r, nl, "[") {
            depth.bump(self.at(open.start as usize))?;
            let j = self.ws(after, Nl::Skip);
            let (rest, index) = match self.expr(j, Nl::Skip) {
                Err(nom::Err::Error(_)) => {
                    let d = self.expected(after, Nl::Skip, "expected an index after `[`", "expected an index");
                    return Err(self.fail(after, d));
                }
                other => other?,
            };
            let (rest, close) = self.close(rest, open, "]", "the index")?;
            let span = e.span.to(close);
            e = Expr { kind: ExprKind::Index { base: Box::new(e), index: Box::new(index) }, span };
            r = rest;
        }
        Ok((r, e))
    }

    /// The closing delimiter `close` of something opened at `open`.
    fn close(&self, r: &'a str, open: Span, close: &str, what: &str) -> PResult<'a, Span> {
        self.token(r, Nl::Skip, close).map_err(|_| {
            let d = self.expected(
                r,
                Nl::Skip,
                &format!("expected `{close}` to close {what}"),
                &format!("expected `{close}`"),
            );
            self.fail(r, self.with_opener(d, open, open.text(self.src)))
        })
    }

    fn primary(&self, i: &'a str, nl: Nl) -> PResult<'a, Expr> {
        let j = self.ws(i, nl);
        if let Ok((r, text)) = lex::number(j) {
            return self.number(j, r, text);
        }
        if let Some(res) = lex::string(j) {
            return match res {
                Ok((r, s)) => Ok((r, Expr { kind: ExprKind::Str(s), span: self.span(j, r) })),
                Err(e) => Err(self.string_error(j, e)),
            };
        }
        if let Ok((r, w)) = lex::ident(j) {
            return self.word_expr(j, r, w, nl);
        }
        match lex::punct(j) {
            Some(("(", after)) => self.parenthesised(j, after),
            Some(("[", after)) => {
                let open = self.span(j, after);
                let _depth = self.enter(j)?;
                let (r, (items, close)) = self.list(after, open)?;
                Ok((r, Expr { kind: ExprKind::List(items), span: open.to(close) }))
            }
            _ => Err(self.no_match(j)),
        }
    }

    /// A literal keyword, a name or a call; `w` is the word from `j` to `r`.
    fn word_expr(&self, j: &'a str, r: &'a str, w: &str, nl: Nl) -> PResult<'a, Expr> {
        let span = self.span(j, r);
        let kind = match w {
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            "blank" => ExprKind::Blank,
            "left" => ExprKind::Left,
            "right" => ExprKind::Right,
            _ if is_keyword(w) => return Err(self.no_match(j)),
            _ => {
                let callee = Ident { name: w.to_string(), span };
                if let Ok((after, open)) = self.token(r, nl, "(") {
                    let _depth = self.enter(self.at(open.start as usize))?;
                    let (r, (args, close)) = self.call_args(after, open)?;
                    let span = span.to(close);
                    return Ok((r, Expr { kind: ExprKind::Call { callee, args }, span }));
                }
                ExprKind::Name(callee)
            }
        };
        Ok((r, Expr { kind, span }))
    }

    /// `( expr )`; `j` is at the `(`, `after` just past it.
    fn parenthesised(&self, j: &'a str, after: &'a str) -> PResult<'a, Expr> {
        let open = self.span(j, after);
        let _depth = self.enter(j)?;
        let (r, mut e) = match self.expr(self.ws(after, Nl::Skip), Nl::Skip) {
            Err(nom::Err::Error(_)) => {
                let d = self.expected(after, Nl::Skip, "expected an expression after `(`", "expected an expression");
                return Err(self.fail(after, d));
            }
            other => other?,
        };
        let (r, close) = self.close(r, open, ")", "the parentheses")?;
        // The span covers the parentheses: `(a + b)` is what a message about
        // this operand should underline.
        e.span = open.to(close);
        Ok((r, e))
    }

    fn number(&self, j: &'a str, r: &'a str, text: &str) -> PResult<'a, Expr> {
        let span = self.span(j, r);
        if r.starts_with(lex::is_ident_char) {
            // `10m`, `2x`: report the whole word, not `10` then a stray name.
            let end = r.find(|c| !lex::is_ident_char(c)).unwrap_or(r.len());
            let word = Span::new(span.start as usize, self.off(r) + end);
            let d = Diagnostic::error(format!("invalid number `{}`", word.text(self.src)))
                .at_labelled(word, "not a number")
                .hint("a number is digits with an optional fraction and exponent, such as `42`, `0.5` or `3e-4`; names cannot start with a digit");
            return Err(self.fail(&r[end..], d));
        }
        let kind = if lex::is_float(text) {
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => ExprKind::Float(v),
                _ => {
                    let d = Diagnostic::error(format!("number `{text}` is too large")).at_labelled(span, "too large");
                    return Err(self.fail(r, d));
                }
            }
        } else {
            // `number` accepted only ASCII digits, so this parse succeeds.
            ExprKind::Int(text.parse::<BigInt>().unwrap_or_default())
        };
        Ok((r, Expr { kind, span }))
    }

    pub(super) fn string_error(&self, j: &'a str, e: StrError) -> PFail<'a> {
        let start = self.off(j);
        match e {
            StrError::Unterminated => {
                let line_end = j.find('\n').unwrap_or(j.len());
                let d = Diagnostic::error("unterminated string")
                    .at_labelled(Span::new(start, start + 1), "this string is never closed")
                    .hint("a string ends on the line where it starts; add the closing `\"`");
                self.fail(&j[line_end..], d)
            }
            StrError::BadEscape { at, len } => {
                let span = Span::new(start + at, start + at + len);
                let d = Diagnostic::error(format!("unknown escape `{}` in a string", span.text(self.src)))
                    .at_labelled(span, "unknown escape")
                    .hint("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`");
                let rest = j.find('\n').unwrap_or(j.len());
                self.fail(&j[rest..], d)
            }
        }
    }

    /// The arguments of a call after its `(`, up to and including the `)`;
    /// also used for a world's arguments.
    pub(super) fn call_args(&self, after_open: &'a str, open: Span) -> PResult<'a, (Vec<CallArg>, Span)> {
        let mut args = Vec::new();
        let mut r = after_open;
        loop {
            if let Ok((rest, close)) = self.token(r, Nl::Skip, ")") {
                return Ok((rest, (args, close)));
            }
            let (rest, arg) = match self.where_arg(r)? {
                Some(ok) => ok,
                None => match self.call_arg(self.ws(r, Nl::Skip), Nl::Skip) {
                    Err(nom::Err::Error(_)) => {
                        let d = self.expected(r, Nl::Skip, "expected an argument or `)`", "expected an argument");
                        return Err(self.fail(r, self.with_opener(d, open, "(")));
                    }
                    other => other?,
                },
            };
            args.push(arg);
            // `sum(x where y > 3)`: a selection follows a value without `,`.
            let rest = match self.where_arg(rest)? {
                Some((rest, w)) => {
                    args.push(w);
                    rest
                }
                None => rest,
            };
            if let Ok((rest, _)) = self.token(rest, Nl::Skip, ",") {
                r = rest;
                continue;
            }
            if let Ok((rest, close)) = self.token(rest, Nl::Skip, ")") {
                return Ok((rest, (args, close)));
            }
            let mut d = self.expected(rest, Nl::Skip, "expected `)` to close the argument list", "expected `)`");
            if self.starts_expr(rest) {
                d = d.hint("separate arguments with `,`");
            }
            return Err(self.fail(rest, self.with_opener(d, open, "(")));
        }
    }

    /// `where COND` (a table question's row selection) at `r`, kept as an
    /// argument named `where`; `None` when `r` does not start with the word
    /// `where` used that way (`where: 3` is an ordinary named argument, and
    /// `where (a > 1)` a condition in parentheses).
    fn where_arg(&self, r: &'a str) -> Result<Option<(&'a str, CallArg)>, PFail<'a>> {
        let Ok((after, name)) = self.keyword(r, Nl::Skip, "where") else { return Ok(None) };
        if self.peek(after, Nl::Skip, ":") {
            return Ok(None);
        }
        let (rest, value) = match self.expr(self.ws(after, Nl::Skip), Nl::Skip) {
            Err(nom::Err::Error(_)) => {
                let d = self
                    .expected(after, Nl::Skip, "expected a condition after `where`", "expected a condition")
                    .hint("for example `sum(x where y > 50)` or `count(where city == t)`");
                return Err(self.fail(after, d));
            }
            other => other?,
        };
        let name = Ident { name: "where".into(), span: name };
        Ok(Some((rest, CallArg { name: Some(name), value })))
    }

    /// `value` or `name: value`.
    pub(super) fn call_arg(&self, j: &'a str, nl: Nl) -> PResult<'a, CallArg> {
        if let Ok((r, name)) = self.word(j, nl) {
            if let Ok((after, _)) = self.token(r, nl, ":") {
                let (r, value) = match self.expr(self.ws(after, nl), nl) {
                    Err(nom::Err::Error(_)) => {
                        let msg = format!("expected a value after `{}:`", name.name);
                        return Err(self.fail(after, self.expected(after, nl, &msg, "expected a value")));
                    }
                    other => other?,
                };
                return Ok((r, CallArg { name: Some(name), value }));
            }
        }
        let (r, value) = self.expr(j, nl)?;
        Ok((r, CallArg { name: None, value }))
    }

    /// The elements of a list after its `[`, up to and including the `]`.
    fn list(&self, after_open: &'a str, open: Span) -> PResult<'a, (Vec<Expr>, Span)> {
        let mut items = Vec::new();
        let mut r = after_open;
        loop {
            if let Ok((rest, close)) = self.token(r, Nl::Skip, "]") {
                return Ok((rest, (items, close)));
            }
            let (rest, item) = match self.expr(self.ws(r, Nl::Skip), Nl::Skip) {
                Err(nom::Err::Error(_)) => {
                    let d = self.expected(r, Nl::Skip, "expected a list element or `]`", "expected an element");
                    return Err(self.fail(r, self.with_opener(d, open, "[")));
                }
                other => other?,
            };
            items.push(item);
            if let Ok((rest, _)) = self.token(rest, Nl::Skip, ",") {
                r = rest;
                continue;
            }
            if let Ok((rest, close)) = self.token(rest, Nl::Skip, "]") {
                return Ok((rest, (items, close)));
            }
            let mut d = self.expected(rest, Nl::Skip, "expected `]` to close the list", "expected `]`");
            if self.starts_expr(rest) {
                d = d.hint("separate list elements with `,`");
            }
            return Err(self.fail(rest, self.with_opener(d, open, "[")));
        }
    }

    /// Whether an expression could start at `i` (after white space): decides
    /// whether "missing `,`?" is a helpful hint.
    fn starts_expr(&self, i: &'a str) -> bool {
        let j = self.ws(i, Nl::Skip);
        lex::ident(j).is_ok_and(|(_, w)| !is_keyword(w) || matches!(w, "true" | "false" | "blank" | "left" | "right"))
            || lex::number(j).is_ok()
            || j.starts_with(['"', '(', '[', '!', '-'])
    }
}

/// How a message names an expression that is in the wrong place.
pub(super) fn describe_expr(e: &Expr, src: &str) -> String {
    match &e.kind {
        ExprKind::Name(id) => format!("the name `{}`", id.name),
        ExprKind::Int(_) | ExprKind::Float(_) => format!("the number `{}`", e.span.text(src)),
        ExprKind::Bool(_) | ExprKind::Blank | ExprKind::Left | ExprKind::Right => format!("`{}`", e.span.text(src)),
        ExprKind::Str(_) => "a string".into(),
        ExprKind::List(_) => "a list".into(),
        ExprKind::Range { .. } => "a range".into(),
        ExprKind::Call { .. } => "a call".into(),
        ExprKind::Index { .. } => "an indexed value".into(),
        ExprKind::Unary { .. } | ExprKind::Binary { .. } => "an expression".into(),
    }
}
