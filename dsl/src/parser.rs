//! The NPL parser: source text to an [`ast::File`] plus every syntax error it
//! found, as [`Diagnostic`]s. [`parse`] is the only public item; nom's types
//! stay inside this module.
//!
//! It is nom over the text, with no separate token stream: the lexical
//! parsers (`lex`) are nom combinators, and the grammar (`expr`, `stmt`,
//! `item`) is recursive descent written with them, through a context
//! (`ctx::Ctx`) that holds the source, the diagnostics and the nesting depth.
//! Newlines matter, so white space is skipped in one of two ways (`ctx::Nl`):
//! a newline ends a statement or an item, except inside `(...)` and `[...]`
//! and right after a binary operator or a `,`.
//!
//! Errors are meant for someone who has never seen NPL before: each says what
//! was expected and what was found, with a caret where the missing thing
//! belongs and often a hint. After an error the parser recovers (`recover`):
//! at the next line of a block when only that line is broken, otherwise at
//! the next line that starts with an item keyword, so that one run reports
//! every independent mistake. Input nested deeper than `ctx::MAX_DEPTH` is an
//! error rather than a stack overflow; no input makes the parser panic.

mod ctx;
mod expr;
mod item;
mod lex;
mod recover;
mod stmt;
#[cfg(test)]
mod tests;

use crate::ast::{self, File};
use crate::diagnostic::Diagnostic;
use ctx::{Ctx, Nl};

/// Parses a whole file. Returns the tree of everything that parsed and the
/// syntax errors, in source order; the tree is complete only when there are
/// no errors (an item with an error inside a block keeps its other
/// statements; an item that could not be finished is left out).
pub fn parse(src: &str) -> (File, Vec<Diagnostic>) {
    let ctx = Ctx::new(src);
    let mut items: Vec<ast::Item> = Vec::new();
    // A byte-order mark, as some Windows editors write, is not text.
    let mut i = src.strip_prefix('\u{feff}').unwrap_or(src);
    loop {
        let j = ctx.ws(i, Nl::Skip);
        if j.is_empty() {
            break;
        }
        let reported = ctx.diag_count();
        match ctx.item(j) {
            Ok((rest, item)) => {
                items.push(item);
                i = match ctx.end_of_item(rest) {
                    None => rest,
                    Some(d) => {
                        ctx.push(d);
                        ctx.resync(j, rest)
                    }
                };
            }
            Err(nom::Err::Failure(e) | nom::Err::Error(e)) => {
                match e.diag {
                    Some(d) => ctx.push(*d),
                    // Gave up after reporting (the nesting limit); the
                    // fallback only guards against a silent failure.
                    None if ctx.diag_count() == reported => {
                        ctx.push(ctx.unexpected(e.rest, "expected an item", "syntax error here"))
                    }
                    None => {}
                }
                i = ctx.resync(j, e.rest);
            }
            Err(nom::Err::Incomplete(_)) => {
                ctx.push(ctx.unexpected(j, "expected an item", "syntax error here"));
                i = ctx.resync(j, j);
            }
        }
    }
    (File { items }, ctx.into_diags())
}
