//! Items (`task`, `world`, `input`, `expect`, `program`, `question`, `learn`,
//! `entry`) and the lines of the two item bodies that are not statements:
//! world declarations (`pointer in1 on row 0 at right`, `observe EXPR`) and
//! `learn` settings (`train sizes 1..=10, traces 64`).

use super::ctx::{keyword_as_name, Ctx, Nl, PResult, ITEM_KEYWORDS};
use super::lex;
use super::stmt::BlockKind;
use crate::ast::{
    is_keyword, Clause, ExprKind, Hole, HoleKind, Ident, Input, Item, ItemKind, Learn, LearnLine, PointerStart, Program, Question,
    World, WorldDecl, WorldDeclKind,
};
use crate::diagnostic::Diagnostic;
use crate::span::Span;

const ITEMS_HINT: &str =
    "an item starts with `task`, `world`, `input`, `expect`, `program`, `question`, `learn` or `entry`";

const SETTING_HINT: &str =
    "a setting is one or more words and a value, as in `train sizes 1..=10, traces 64` or `return: after_call`";

impl<'a> Ctx<'a> {
    /// One item; `i` is at its first token.
    pub(super) fn item(&self, i: &'a str) -> PResult<'a, Item> {
        let Ok((r, kw)) = lex::ident(i) else {
            let d = if i.starts_with('}') {
                self.unmatched_close(i)
            } else {
                self.unexpected(i, "expected an item", "expected an item").hint(ITEMS_HINT).into()
            };
            return Err(self.fail(i, d));
        };
        let kw_span = self.span(i, r);
        let (rest, kind) = match kw {
            "task" => {
                let (r, name) = self.item_name(r, "task", "task", "for example `task add`")?;
                (r, ItemKind::Task(name))
            }
            "entry" => {
                let (r, name) = self.item_name(r, "entry", "program", "for example `entry ADD`")?;
                (r, ItemKind::Entry(name))
            }
            "expect" => {
                let (r, e) = match self.expr(r, Nl::End) {
                    Err(nom::Err::Error(_)) => {
                        let d = self
                            .expected(r, Nl::End, "expected an expression after `expect`", "expected an expression")
                            .hint("for example `expect read_number(row: 3) == a + b`");
                        return Err(self.fail(r, d));
                    }
                    other => other?,
                };
                (r, ItemKind::Expect(e))
            }
            "world" => self.world(r)?,
            "input" => self.input(r)?,
            "program" => self.program(r)?,
            "question" => self.question(r)?,
            "learn" => self.learn(r)?,
            _ => return Err(self.fail(r, self.unknown_item(kw, kw_span, r))),
        };
        Ok((rest, Item { kind, span: Span::new(kw_span.start as usize, self.off(rest)) }))
    }

    /// What follows an item: the end of its line.
    pub(super) fn end_of_item(&self, rest: &'a str) -> Option<Diagnostic> {
        let k = self.ws(rest, Nl::End);
        if k.is_empty() || k.starts_with('\n') {
            return None;
        }
        Some(if k.starts_with('}') {
            self.unmatched_close(k)
        } else {
            self.unexpected(k, "expected the end of the line", "expected a new line")
                .hint("each item starts on a line of its own")
                .into()
        })
    }

    fn unknown_item(&self, word: &str, span: Span, r: &'a str) -> Diagnostic {
        if is_keyword(word) {
            return Diagnostic::error(format!("expected an item, found `{word}`"))
                .at_labelled(span, "not an item")
                .hint("statements belong inside the `{ ... }` of a `program` or of `input`");
        }
        let d = Diagnostic::error(format!("unknown item `{word}`")).at_labelled(span, "not an item keyword");
        if let Some(kw) = suggest(word, ITEM_KEYWORDS) {
            d.hint(format!("did you mean `{kw}`?"))
        } else if self.peek(r, Nl::End, "(") || self.peek(r, Nl::End, "=") {
            d.hint("statements belong inside the `{ ... }` of a `program` or of `input`")
        } else {
            d.hint(ITEMS_HINT)
        }
    }

    /// The name after `task` or `entry`.
    fn item_name(&self, r: &'a str, kw: &str, role: &str, example: &str) -> PResult<'a, Ident> {
        match self.word(r, Nl::End) {
            Ok((rest, id)) if is_keyword(&id.name) => Err(self.fail(rest, keyword_as_name(&id, role))),
            Ok(ok) => Ok(ok),
            Err(_) => {
                let d = self
                    .expected(
                        r,
                        Nl::End,
                        &format!("expected a {role} name after `{kw}`"),
                        &format!("expected a {role} name"),
                    )
                    .hint(example.to_string());
                Err(self.fail(r, d))
            }
        }
    }

    /// After `world`: `KIND(args) { decls }`; the arguments and the block may
    /// each be left out (`world tape(size: 8)`).
    fn world(&self, r: &'a str) -> PResult<'a, ItemKind> {
        let (r, kind) = match self.word(r, Nl::End) {
            Ok((rest, id)) if !is_keyword(&id.name) => (rest, id),
            _ => {
                let d = self
                    .expected(r, Nl::End, "expected a world kind after `world`", "expected a world kind")
                    .hint("the world kinds are `scratchpad`, `tape`, `table` and `pose`");
                return Err(self.fail(r, d));
            }
        };
        let (r, args) = match self.token(r, Nl::End, "(") {
            Ok((after, open)) => {
                let _depth = self.enter(self.at(open.start as usize))?;
                let (rest, (args, _)) = self.call_args(after, open)?;
                (rest, args)
            }
            Err(_) => (r, Vec::new()),
        };
        let what = format!("the declarations of world `{}`", kind.name);
        let (r, decls) = if self.peek(r, Nl::Skip, "{") {
            let (rest, (decls, _)) = self.braced_lines(r, &what, "declaration", |j| self.world_decl(j))?;
            (rest, decls)
        } else if matches!(self.ws(r, Nl::End).as_bytes().first(), None | Some(b'\n')) {
            (r, Vec::new())
        } else {
            let d = self.expected(r, Nl::End, &format!("expected `{{` to open {what}"), "expected `{`");
            return Err(self.fail(r, d));
        };
        Ok((r, ItemKind::World(World { kind, args, decls })))
    }

    /// One line of a world block; `i` is at its first token.
    fn world_decl(&self, i: &'a str) -> PResult<'a, WorldDecl> {
        let (r, kw) = match self.word(i, Nl::End) {
            Ok((rest, kw)) if !is_keyword(&kw.name) => (rest, kw),
            _ => {
                let d = self.unexpected(
                    i,
                    "expected a declaration such as `pointer` or `observe`",
                    "expected a declaration",
                );
                return Err(self.fail(i, d));
            }
        };
        let (r, kind) = match kw.name.as_str() {
            "pointer" => self.pointer(r)?,
            "observe" => {
                let (r, e) = match self.expr(r, Nl::End) {
                    Err(nom::Err::Error(_)) => {
                        let d = self
                            .expected(r, Nl::End, "expected an expression after `observe`", "expected an expression")
                            .hint("for example `observe pos(lo) >= pos(hi)`");
                        return Err(self.fail(r, d));
                    }
                    other => other?,
                };
                (r, WorldDeclKind::Observe(e))
            }
            _ => self.other_decl(r, kw)?,
        };
        Ok((r, WorldDecl { kind, span: self.span(i, r) }))
    }

    /// After `pointer`: `NAME on row EXPR at left|right|EXPR`.
    fn pointer(&self, r: &'a str) -> PResult<'a, WorldDeclKind> {
        let (r, name) = self.new_name(r, Nl::End, "pointer", "`pointer`")?;
        let example = format!("for example `pointer {} on row 0 at left`", name.name);
        let Ok((after_on, _)) = self.keyword(r, Nl::End, "on") else {
            let d = self
                .expected(r, Nl::End, "expected `on row` after the pointer name", "expected `on row`")
                .hint(example);
            return Err(self.fail(r, d));
        };
        let Ok((after_row, _)) = self.keyword(after_on, Nl::End, "row") else {
            let d = self.expected(after_on, Nl::End, "expected `row` after `on`", "expected `row`").hint(example);
            return Err(self.fail(after_on, d));
        };
        let (r, row) = match self.expr(after_row, Nl::End) {
            Err(nom::Err::Error(_)) => {
                let d = self
                    .expected(after_row, Nl::End, "expected the pointer's row after `on row`", "expected a row number")
                    .hint(example);
                return Err(self.fail(after_row, d));
            }
            other => other?,
        };
        let Ok((after_at, _)) = self.keyword(r, Nl::End, "at") else {
            let d = self
                .expected(r, Nl::End, "expected `at` and where the pointer starts after the row", "expected `at`")
                .hint("a pointer starts `at left`, `at right` or `at COLUMN`");
            return Err(self.fail(r, d));
        };
        let (r, at) = match self.expr(after_at, Nl::End) {
            Err(nom::Err::Error(_)) => {
                let d = self
                    .expected(after_at, Nl::End, "expected where the pointer starts after `at`", "expected a column")
                    .hint("a pointer starts `at left`, `at right` or `at COLUMN`");
                return Err(self.fail(after_at, d));
            }
            other => other?,
        };
        let start = match at.kind {
            ExprKind::Left => PointerStart::Left(at.span),
            ExprKind::Right => PointerStart::Right(at.span),
            _ => PointerStart::Column(at),
        };
        Ok((r, WorldDeclKind::Pointer { name, row, start }))
    }

    /// Any other declaration: `KEYWORD NAME* ARG, ARG, ...` where the names
    /// are plain words and the arguments run to the end of the line
    /// (`register r`, `column price values: 0..100`). Which keywords exist is
    /// the compiler's business.
    fn other_decl(&self, mut r: &'a str, keyword: Ident) -> PResult<'a, WorldDeclKind> {
        let mut names = Vec::new();
        while let Ok((rest, w)) = self.word(r, Nl::End) {
            if is_keyword(&w.name) || self.peek(rest, Nl::End, ":") || self.peek(rest, Nl::End, "(") {
                break;
            }
            names.push(w);
            r = rest;
        }
        let mut args = Vec::new();
        while !matches!(self.ws(r, Nl::End).as_bytes().first(), None | Some(b'\n' | b';' | b'}')) {
            let (rest, arg) = match self.call_arg(self.ws(r, Nl::End), Nl::End) {
                Err(nom::Err::Error(_)) => {
                    let msg = format!("expected a value or the end of the `{}` declaration", keyword.name);
                    return Err(self.fail(r, self.expected(r, Nl::End, &msg, "expected a value")));
                }
                other => other?,
            };
            args.push(arg);
            r = rest;
            match self.token(r, Nl::End, ",") {
                Ok((rest, _)) => r = rest,
                Err(_) => break,
            }
        }
        Ok((r, WorldDeclKind::Other { keyword, names, args }))
    }

    /// After `input`: `(n) { stmts }`.
    fn input(&self, r: &'a str) -> PResult<'a, ItemKind> {
        let Ok((after, open)) = self.token(r, Nl::End, "(") else {
            let d = self
                .expected(r, Nl::End, "expected `(` after `input`", "expected `(`")
                .hint("the input block names its size parameter: `input(n) { ... }`");
            return Err(self.fail(r, d));
        };
        let (r, param) = self.new_name(after, Nl::Skip, "size parameter", "`input(`")?;
        let Ok((r, _)) = self.token(r, Nl::Skip, ")") else {
            let d = self.expected(r, Nl::Skip, "expected `)` after the size parameter", "expected `)`");
            let d = self.with_opener(d, open, "(").hint("`input` takes one parameter, the size: `input(n)`");
            return Err(self.fail(r, d));
        };
        let (r, body) = self.block(r, "the body of `input`", BlockKind::Code)?;
        Ok((r, ItemKind::Input(Input { param, body })))
    }

    /// After `program`: `NAME(params) { stmts }`, the parentheses optional.
    fn program(&self, r: &'a str) -> PResult<'a, ItemKind> {
        let (r, name) = match self.word(r, Nl::End) {
            Ok((rest, id)) if is_keyword(&id.name) => return Err(self.fail(rest, keyword_as_name(&id, "program"))),
            Ok(ok) => ok,
            Err(_) => {
                let d = self
                    .expected(r, Nl::End, "expected a program name after `program`", "expected a program name")
                    .hint("program names are UPPER_CASE, as in `program ADD { ... }`");
                return Err(self.fail(r, d));
            }
        };
        let (r, params) = match self.token(r, Nl::End, "(") {
            Ok((after, open)) => self.params(after, open)?,
            Err(_) => (r, Vec::new()),
        };
        let what = format!("the body of program `{}`", name.name);
        if !self.peek(r, Nl::Skip, "{") {
            let d = self
                .expected(r, Nl::Skip, &format!("expected `{{` to open {what}"), "expected `{`")
                .hint(format!("a program's statements go between braces: `program {} {{ ... }}`", name.name));
            return Err(self.fail(r, d));
        }
        let (r, body) = self.block(r, &what, BlockKind::Code)?;
        Ok((r, ItemKind::Program(Program { name, params, body })))
    }

    /// A program's parameter names after `(`, up to and including `)`.
    fn params(&self, mut r: &'a str, open: Span) -> PResult<'a, Vec<Ident>> {
        let mut params = Vec::new();
        loop {
            if let Ok((rest, _)) = self.token(r, Nl::Skip, ")") {
                return Ok((rest, params));
            }
            let (rest, name) = match self.word(r, Nl::Skip) {
                Ok((rest, id)) if is_keyword(&id.name) => {
                    return Err(self.fail(rest, keyword_as_name(&id, "parameter")))
                }
                Ok(ok) => ok,
                Err(_) => {
                    let d = self.expected(r, Nl::Skip, "expected a parameter name or `)`", "expected a parameter name");
                    return Err(self.fail(r, self.with_opener(d, open, "(")));
                }
            };
            params.push(name);
            if let Ok((rest, _)) = self.token(rest, Nl::Skip, ",") {
                r = rest;
                continue;
            }
            if let Ok((rest, _)) = self.token(rest, Nl::Skip, ")") {
                return Ok((rest, params));
            }
            let mut d = self.expected(rest, Nl::Skip, "expected `)` to close the parameter list", "expected `)`");
            if self.word(rest, Nl::Skip).is_ok() {
                d = d.hint("separate parameters with `,`");
            }
            return Err(self.fail(rest, self.with_opener(d, open, "(")));
        }
    }

    /// After `question`: `"template" | "paraphrase" (holes) { answer }`; the
    /// holes may start on the next line.
    fn question(&self, r: &'a str) -> PResult<'a, ItemKind> {
        let mut templates = Vec::new();
        let mut r = r;
        loop {
            let j = self.ws(r, Nl::End);
            match lex::string(j) {
                Some(Ok((rest, s))) => {
                    templates.push((s, self.span(j, rest)));
                    r = rest;
                }
                Some(Err(e)) => return Err(self.string_error(j, e)),
                None => {
                    let d = if templates.is_empty() {
                        self.expected(r, Nl::End, "expected a template string after `question`", "expected a string")
                    } else {
                        self.expected(r, Nl::Skip, "expected another template string after `|`", "expected a string")
                    };
                    let d = d.hint("for example `question \"sum of {x}\" | \"total {x}\" (x: column) { sum(x) }`");
                    return Err(self.fail(r, d));
                }
            }
            match self.token(r, Nl::Skip, "|") {
                Ok((rest, _)) => r = self.ws(rest, Nl::Skip),
                Err(_) => break,
            }
        }
        let (r, holes) = match self.token(r, Nl::Skip, "(") {
            Ok((after, open)) => self.holes(after, open)?,
            Err(_) => (r, Vec::new()),
        };
        let (r, body) = self.block(r, "the answer of the question", BlockKind::Answer)?;
        let (template, template_span) = templates[0].clone();
        Ok((r, ItemKind::Question(Question { template, template_span, templates, holes, body })))
    }

    /// A question's holes after `(`, up to and including `)`:
    /// `x: column`, `v: 0..100`, `t: word of city`.
    fn holes(&self, mut r: &'a str, open: Span) -> PResult<'a, Vec<Hole>> {
        const HINT: &str = "a hole is `NAME: column`, `NAME: word of COLUMN` or `NAME: a..b`";
        let mut holes = Vec::new();
        loop {
            if let Ok((rest, _)) = self.token(r, Nl::Skip, ")") {
                return Ok((rest, holes));
            }
            let start = self.ws(r, Nl::Skip);
            let (rest, name) = match self.word(r, Nl::Skip) {
                Ok((rest, id)) if is_keyword(&id.name) => return Err(self.fail(rest, keyword_as_name(&id, "hole"))),
                Ok(ok) => ok,
                Err(_) => {
                    let d = self.expected(r, Nl::Skip, "expected a hole name or `)`", "expected a hole name");
                    return Err(self.fail(r, self.with_opener(d, open, "(").hint(HINT)));
                }
            };
            let Ok((rest, _)) = self.token(rest, Nl::Skip, ":") else {
                let d = self
                    .expected(rest, Nl::Skip, &format!("expected `:` and the kind of hole `{}`", name.name), "expected `:`")
                    .hint(HINT);
                return Err(self.fail(rest, d));
            };
            let (rest, kind) = match self.word(rest, Nl::Skip) {
                Ok((after, w)) if w.name == "column" && !self.peek(after, Nl::Skip, "(") => {
                    (after, HoleKind::Column(w.span))
                }
                Ok((after, w)) if w.name == "word" && self.keyword(after, Nl::Skip, "of").is_ok() => {
                    let (after_of, _) = self.keyword(after, Nl::Skip, "of")?;
                    match self.word(after_of, Nl::Skip) {
                        Ok((after, column)) if !is_keyword(&column.name) => (after, HoleKind::Word { column }),
                        _ => {
                            let d = self
                                .expected(after_of, Nl::Skip, "expected a word column after `word of`", "expected a column")
                                .hint("for example `t: word of city`");
                            return Err(self.fail(after_of, d));
                        }
                    }
                }
                _ => match self.expr(self.ws(rest, Nl::Skip), Nl::Skip) {
                    Err(nom::Err::Error(_)) => {
                        let d = self
                            .expected(rest, Nl::Skip, &format!("expected the kind of hole `{}`", name.name), "expected a hole kind")
                            .hint(HINT);
                        return Err(self.fail(rest, d));
                    }
                    other => {
                        let (after, e) = other?;
                        (after, HoleKind::Value(e))
                    }
                },
            };
            holes.push(Hole { name, kind, span: self.span(start, rest) });
            if let Ok((rest, _)) = self.token(rest, Nl::Skip, ",") {
                r = rest;
                continue;
            }
            if let Ok((rest, _)) = self.token(rest, Nl::Skip, ")") {
                return Ok((rest, holes));
            }
            let mut d = self.expected(rest, Nl::Skip, "expected `)` to close the holes", "expected `)`");
            if self.word(rest, Nl::Skip).is_ok() {
                d = d.hint("separate holes with `,`");
            }
            return Err(self.fail(rest, self.with_opener(d, open, "(")));
        }
    }

    /// After `learn`: `LEARNER { settings }`.
    fn learn(&self, r: &'a str) -> PResult<'a, ItemKind> {
        let (r, learner) = match self.word(r, Nl::End) {
            Ok((rest, id)) if is_keyword(&id.name) => return Err(self.fail(rest, keyword_as_name(&id, "learner"))),
            Ok(ok) => ok,
            Err(_) => {
                let d = self
                    .expected(r, Nl::End, "expected a learner name after `learn`", "expected a learner")
                    .hint("for example `learn npi { train sizes 1..=10, traces 64 }`");
                return Err(self.fail(r, d));
            }
        };
        let what = format!("the settings of `learn {}`", learner.name);
        let (r, (lines, _)) = self.braced_lines(r, &what, "setting", |j| self.learn_line(j))?;
        Ok((r, ItemKind::Learn(Learn { learner, lines })))
    }

    /// One line of settings: clauses separated by `,`. A newline right after
    /// a `,` continues the line.
    fn learn_line(&self, i: &'a str) -> PResult<'a, LearnLine> {
        let (mut r, first) = self.clause(i, None)?;
        let mut clauses = vec![first];
        loop {
            let k = self.ws(r, Nl::End);
            if let Some((",", after)) = lex::punct(k) {
                let (rest, c) = self.clause(self.ws(after, Nl::Skip), Some(after))?;
                clauses.push(c);
                r = rest;
                continue;
            }
            if !matches!(k.as_bytes().first(), None | Some(b'\n' | b';' | b'}')) {
                let d = self
                    .unexpected(k, "expected `,` or a new line after the setting", "expected `,` or a new line")
                    .hint(SETTING_HINT);
                return Err(self.fail(r, d));
            }
            return Ok((r, LearnLine { clauses, span: self.span(i, r) }));
        }
    }

    /// `words [:] [value]`; `i` is at its first token, `after_comma` is set
    /// when a `,` came before it.
    fn clause(&self, i: &'a str, after_comma: Option<&'a str>) -> PResult<'a, Clause> {
        let mut words = Vec::new();
        let mut r = i;
        // Words run until something that is not a plain word: a literal
        // (`true`), a call (`f(`), a number, `:` ... A value that starts
        // with a name therefore needs the colon: `optimizer: adam`.
        while let Ok((rest, w)) = self.word(r, Nl::End) {
            if matches!(w.name.as_str(), "true" | "false" | "blank" | "left" | "right") || self.peek(rest, Nl::End, "(")
            {
                break;
            }
            words.push(w);
            r = rest;
        }
        let Some(first) = words.first().map(|w| w.span) else {
            let d = match after_comma {
                Some(after) => self.expected(after, Nl::Skip, "expected a setting after `,`", "expected a setting"),
                None => self.unexpected(i, "expected the name of a setting", "expected a setting"),
            };
            return Err(self.fail(i, d.hint(SETTING_HINT)));
        };
        let named = words.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(" ");
        let last = words.last().map_or(first, |w| w.span);
        let k = self.ws(r, Nl::End);
        let (r, value) = if let Some((":", after)) = lex::punct(k) {
            // A keyword alone after the colon is a word (`modules: program`).
            if let Ok((rest, w)) = self.word(after, Nl::End) {
                let ends = matches!(self.ws(rest, Nl::End).as_bytes().first(), None | Some(b'\n' | b',' | b';' | b'}'));
                let literal = matches!(w.name.as_str(), "true" | "false" | "blank" | "left" | "right");
                if is_keyword(&w.name) && !literal && ends {
                    let span = first.to(w.span);
                    let value = crate::ast::Expr { span: w.span, kind: ExprKind::Name(w) };
                    return Ok((rest, Clause { words, value: Some(value), span }));
                }
            }
            match self.expr(after, Nl::End) {
                Err(nom::Err::Error(_)) => {
                    let d = self
                        .expected(after, Nl::End, &format!("expected a value after `{named}:`"), "expected a value")
                        .hint(SETTING_HINT);
                    return Err(self.fail(after, d));
                }
                other => {
                    let (rest, v) = other?;
                    (rest, Some(v))
                }
            }
        } else if matches!(k.as_bytes().first(), None | Some(b'\n' | b',' | b';' | b'}')) {
            (r, None)
        } else {
            match self.expr(k, Nl::End) {
                Err(nom::Err::Error(_)) => {
                    let d = self
                        .expected(r, Nl::End, &format!("expected a value for `{named}`"), "expected a value")
                        .hint(SETTING_HINT);
                    return Err(self.fail(r, d));
                }
                other => {
                    let (rest, v) = other?;
                    (rest, Some(v))
                }
            }
        };
        let span = first.to(value.as_ref().map_or(last, |v| v.span));
        Ok((r, Clause { words, value, span }))
    }
}

/// The candidate closest to `word` in (optimal string alignment) edit
/// distance, ignoring case, if it is close enough to be a typo: one edit for
/// short words, two for words of five letters or more.
pub(super) fn suggest<'k>(word: &str, candidates: &[&'k str]) -> Option<&'k str> {
    if word.len() > 16 {
        return None;
    }
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|&c| (crate::edit_distance(&word, c), c))
        .filter(|&(d, c)| d <= if c.len() >= 5 { 2 } else { 1 })
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}
