//! The parse context every grammar module works through: the source text, the
//! diagnostics reported so far, the nesting depth, and the helpers that turn a
//! position in the text into a span or into an "expected X, found Y" error.
//!
//! The nom error type lives here too. Its two uses follow nom's own split:
//! `Err::Error` means "nothing of this kind starts here" and carries no
//! message, so a caller can try something else or say what it expected in
//! its own words; `Err::Failure` means the parser had committed and found a
//! syntax error, and carries the [`Diagnostic`]. A `Failure` without a
//! diagnostic means "already reported, give up on this item": used for an
//! unclosed block and for the nesting limit, which would otherwise be
//! reported again by every enclosing block.

use super::lex;
use crate::ast::{is_keyword, Ident};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use nom::error::{ErrorKind, ParseError};
use std::cell::{Cell, RefCell};

/// How many brackets, blocks, unary and binary operators may nest. Deeper
/// input gets a diagnostic instead of overflowing the stack, here or in the
/// passes that walk the tree recursively after us.
pub(super) const MAX_DEPTH: usize = 200;

/// The words that start an item; error recovery looks for lines that begin
/// with one of them.
pub(super) const ITEM_KEYWORDS: &[&str] =
    &["task", "world", "input", "expect", "program", "question", "learn", "entry"];

#[derive(Debug)]
pub(super) struct PErr<'a> {
    /// Where to resume after the error: just past the last good token, or
    /// past the offending one.
    pub rest: &'a str,
    pub diag: Option<Box<Diagnostic>>,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(input: &'a str, _: ErrorKind) -> Self {
        PErr { rest: input, diag: None }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

pub(super) type PResult<'a, T> = nom::IResult<&'a str, T, PErr<'a>>;
pub(super) type PFail<'a> = nom::Err<PErr<'a>>;

/// Whether a newline ends what is being parsed. Statements and items end at
/// a newline (`End`); inside `(...)` and `[...]`, and right after a binary
/// operator, a newline is just white space (`Skip`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Nl {
    End,
    Skip,
}

pub(super) struct Ctx<'a> {
    pub src: &'a str,
    diags: RefCell<Vec<Diagnostic>>,
    depth: Cell<usize>,
}

impl<'a> Ctx<'a> {
    pub fn new(src: &'a str) -> Ctx<'a> {
        Ctx { src, diags: RefCell::new(Vec::new()), depth: Cell::new(0) }
    }

    pub fn into_diags(self) -> Vec<Diagnostic> {
        self.diags.into_inner()
    }

    pub fn push(&self, d: impl Into<Diagnostic>) {
        self.diags.borrow_mut().push(d.into());
    }

    pub fn diag_count(&self) -> usize {
        self.diags.borrow().len()
    }

    // ---- positions --------------------------------------------------------

    /// The byte offset of a remainder of the source. Every `&str` the parser
    /// handles is a suffix of `src`, so this is a subtraction.
    pub fn off(&self, i: &'a str) -> usize {
        self.src.len() - i.len()
    }

    /// The source from a byte offset on; the offset must come from the
    /// parser (always a character boundary).
    pub fn at(&self, offset: usize) -> &'a str {
        self.src.get(offset..).unwrap_or("")
    }

    /// The span from the start of `from` to the start of `to`.
    pub fn span(&self, from: &'a str, to: &'a str) -> Span {
        Span::new(self.off(from), self.off(to))
    }

    pub fn ws(&self, i: &'a str, nl: Nl) -> &'a str {
        match nl {
            Nl::End => lex::sp(i),
            Nl::Skip => lex::sp_nl(i),
        }
    }

    /// The end of the last code (not white space, not a comment) before
    /// `pos`: where a caret goes when something is missing at the end of a
    /// line.
    pub fn prev_end(&self, pos: usize) -> usize {
        let mut end = pos.min(self.src.len());
        loop {
            let line_start = self.src[..end].rfind('\n').map_or(0, |k| k + 1);
            let code = lex::strip_comment(&self.src[line_start..end]).trim_end();
            if !code.is_empty() {
                return line_start + code.len();
            }
            if line_start == 0 {
                return 0;
            }
            end = line_start - 1;
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.src.as_bytes()[..offset.min(self.src.len())].iter().filter(|&&b| b == b'\n').count()
    }

    pub fn same_line(&self, a: Span, b: Span) -> bool {
        self.line_of(a.start as usize) == self.line_of(b.start as usize)
    }

    // ---- errors -----------------------------------------------------------

    pub fn fail(&self, rest: &'a str, d: impl Into<Diagnostic>) -> PFail<'a> {
        nom::Err::Failure(PErr { rest, diag: Some(Box::new(d.into())) })
    }

    /// Gives up on the current item; the diagnostic has been pushed already.
    pub fn abort(&self, rest: &'a str) -> PFail<'a> {
        nom::Err::Failure(PErr { rest, diag: None })
    }

    pub fn no_match(&self, rest: &'a str) -> PFail<'a> {
        nom::Err::Error(PErr { rest, diag: None })
    }

    /// "{message}, found {what is there}" for something missing after the
    /// last token before `i`. The caret goes under what was found when it is
    /// on the same line, and right after the last token otherwise: a missing
    /// `)` is shown where it belongs, not under the `}` three lines down.
    pub fn expected(&self, i: &'a str, nl: Nl, message: &str, label: &str) -> Expected {
        let prev = self.prev_end(self.off(i));
        let j = self.ws(i, nl);
        let tok = self.off(j);
        let found = lex::describe(j);
        let same_line = !self.src[prev.min(tok)..tok].contains('\n');
        let span = if same_line && found.len > 0 { Span::new(tok, tok + found.len) } else { Span::at(prev) };
        found_diag(message, label, &found, span)
    }

    /// Like [`Ctx::expected`], with the caret under whatever starts at `j`
    /// (past white space): for a line that starts with the wrong thing.
    pub fn unexpected(&self, j: &'a str, message: &str, label: &str) -> Expected {
        let tok = self.off(j);
        let found = lex::describe(j);
        let span = if found.len > 0 { Span::new(tok, tok + found.len) } else { Span::at(self.prev_end(tok)) };
        found_diag(message, label, &found, span)
    }

    /// Adds a label on the opening delimiter when it is on another line than
    /// the error, so that the reader sees which one is not closed.
    pub fn with_opener(&self, d: Expected, open: Span, text: &str) -> Expected {
        match d.0.span {
            Some(at) if !self.same_line(at, open) => d.label(open, format!("`{text}` opened here")),
            _ => d,
        }
    }

    // ---- tokens -----------------------------------------------------------

    /// The punctuation token `p` after white space.
    pub fn token(&self, i: &'a str, nl: Nl, p: &str) -> PResult<'a, Span> {
        let j = self.ws(i, nl);
        match lex::punct(j) {
            Some((t, rest)) if t == p => Ok((rest, self.span(j, rest))),
            _ => Err(self.no_match(j)),
        }
    }

    /// Whether the punctuation token at `i` (after white space) is `p`.
    pub fn peek(&self, i: &'a str, nl: Nl, p: &str) -> bool {
        lex::punct(self.ws(i, nl)).is_some_and(|(t, _)| t == p)
    }

    /// Any identifier, keywords included, after white space.
    pub fn word(&self, i: &'a str, nl: Nl) -> PResult<'a, Ident> {
        let j = self.ws(i, nl);
        let (rest, w) = lex::ident(j)?;
        Ok((rest, Ident { name: w.to_string(), span: self.span(j, rest) }))
    }

    /// The word `kw` after white space.
    pub fn keyword(&self, i: &'a str, nl: Nl, kw: &str) -> PResult<'a, Span> {
        match self.word(i, nl) {
            Ok((rest, w)) if w.name == kw => Ok((rest, w.span)),
            _ => Err(self.no_match(i)),
        }
    }

    /// Whether an item keyword starts at `j`.
    pub fn starts_item(&self, j: &'a str) -> bool {
        lex::ident(j).is_ok_and(|(_, w)| ITEM_KEYWORDS.contains(&w))
    }

    /// A name that a declaration introduces: any identifier but a keyword.
    /// `role` says what it names ("variable", "pointer"), `after` what came
    /// before it (``"`let`"``).
    pub fn new_name(&self, i: &'a str, nl: Nl, role: &str, after: &str) -> PResult<'a, Ident> {
        match self.word(i, nl) {
            Ok((rest, id)) if is_keyword(&id.name) => Err(self.fail(rest, keyword_as_name(&id, role))),
            Ok(ok) => Ok(ok),
            Err(_) => {
                let d = self.expected(
                    i,
                    nl,
                    &format!("expected a {role} name after {after}"),
                    &format!("expected a {role} name"),
                );
                Err(self.fail(i, d))
            }
        }
    }

    // ---- nesting ----------------------------------------------------------

    /// Enters one level of nesting; fails with a diagnostic past [`MAX_DEPTH`].
    pub fn enter(&self, at: &'a str) -> Result<Depth<'_, 'a>, PFail<'a>> {
        let mut d = self.depth();
        d.bump(at)?;
        Ok(d)
    }

    /// A guard that has entered no level yet (see [`Depth::bump`]).
    pub fn depth(&self) -> Depth<'_, 'a> {
        Depth { ctx: self, levels: 0 }
    }
}

/// Levels of nesting entered by one parser function, left again on drop.
pub(super) struct Depth<'c, 'a> {
    ctx: &'c Ctx<'a>,
    levels: usize,
}

impl<'a> Depth<'_, 'a> {
    pub fn bump(&mut self, at: &'a str) -> Result<(), PFail<'a>> {
        let ctx = self.ctx;
        if ctx.depth.get() >= MAX_DEPTH {
            let start = ctx.off(at);
            let len = lex::describe(at).len;
            ctx.push(
                Diagnostic::error("this is nested too deeply")
                    .at_labelled(Span::new(start, start + len), format!("more than {MAX_DEPTH} levels deep"))
                    .hint(format!(
                        "at most {MAX_DEPTH} brackets, blocks and operators may nest; split this up with `let` or a helper program"
                    )),
            );
            return Err(ctx.abort(at));
        }
        ctx.depth.set(ctx.depth.get() + 1);
        self.levels += 1;
        Ok(())
    }
}

impl Drop for Depth<'_, '_> {
    fn drop(&mut self) {
        self.ctx.depth.set(self.ctx.depth.get() - self.levels);
    }
}

/// An "expected X, found Y" diagnostic under construction. When Y is a
/// character NPL does not use at all, the message is "unexpected character"
/// with a hint about that character, and the caller's hints (written for a
/// wrong token, not a wrong character) are left out.
pub(super) struct Expected(Diagnostic, bool);

impl Expected {
    pub fn hint(self, hint: impl Into<String>) -> Expected {
        match self.1 {
            true => self,
            false => Expected(self.0.hint(hint), false),
        }
    }

    pub fn label(self, span: Span, message: impl Into<String>) -> Expected {
        Expected(self.0.label(span, message), self.1)
    }
}

impl From<Expected> for Diagnostic {
    fn from(e: Expected) -> Diagnostic {
        e.0
    }
}

fn found_diag(message: &str, label: &str, found: &lex::Found, span: Span) -> Expected {
    match found.stray {
        Some(c) => {
            let d = Diagnostic::error(format!("unexpected character {}", found.text)).at_labelled(span, label);
            Expected(
                match lex::lookalike_hint(c) {
                    Some(h) => d.hint(h),
                    None => d,
                },
                true,
            )
        }
        None => Expected(Diagnostic::error(format!("{message}, found {}", found.text)).at_labelled(span, label), false),
    }
}

/// "`while` is a keyword and cannot name a variable".
pub(super) fn keyword_as_name(id: &Ident, role: &str) -> Diagnostic {
    let hint = if role == "program" {
        format!("program names are UPPER_CASE, such as `{}`", id.name.to_ascii_uppercase())
    } else {
        let suffix = match role.split(' ').next_back().unwrap_or(role) {
            "variable" => "var",
            "parameter" => "arg",
            "pointer" => "ptr",
            other => other,
        };
        format!("choose another name, such as `{}_{suffix}`", id.name)
    };
    Diagnostic::error(format!("`{}` is a keyword and cannot name a {role}", id.name))
        .at_labelled(id.span, "keyword")
        .hint(hint)
}
