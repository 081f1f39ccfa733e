//! Braced lists of lines and how the parser gets back on its feet after an
//! error, at two levels:
//!
//! - **Line level.** Blocks of statements, world declarations and `learn`
//!   settings are all `{ line* }` and share [`Ctx::braced_lines`]. When a line
//!   fails, its diagnostic is recorded and [`Ctx::skip_line`] moves past the
//!   rest of that line (and past any `{ ... }` the line opened), so the next
//!   line is parsed normally and one file can report several errors.
//! - **Item level.** When an item cannot be completed (a block never closed,
//!   a missing name, the nesting limit), [`Ctx::resync`] skips to the next
//!   line that starts with an item keyword, and parsing goes on from there.
//!
//! Both scans are byte-level and only stop at ASCII bytes, so every slice
//! they return starts on a character boundary.

use super::ctx::{Ctx, Nl, PErr, PResult, ITEM_KEYWORDS};
use super::item::suggest;
use super::lex;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

impl<'a> Ctx<'a> {
    /// `{ line* }`, each line parsed by `line` and ended by a newline, a `;`
    /// or the closing `}`. `what` names the block for messages ("the body of
    /// program `ADD`"), `line_name` one line of it ("statement").
    pub(super) fn braced_lines<T>(
        &self,
        i: &'a str,
        what: &str,
        line_name: &str,
        mut line: impl FnMut(&'a str) -> PResult<'a, T>,
    ) -> PResult<'a, (Vec<T>, Span)> {
        let Ok((mut r, open)) = self.token(i, Nl::Skip, "{") else {
            let d = self.expected(i, Nl::Skip, &format!("expected `{{` to open {what}"), "expected `{`");
            return Err(self.fail(i, d));
        };
        let _depth = self.enter(self.at(open.start as usize))?;
        let mut lines = Vec::new();
        loop {
            let j = self.skip_separators(r);
            if let Ok((rest, close)) = self.token(j, Nl::End, "}") {
                return Ok((rest, (lines, open.to(close))));
            }
            // A block that runs into the next item (or the end of the file)
            // was never closed. Stopping here, rather than reading the next
            // item as statements, keeps that item intact. The blocks around
            // this one are unclosed as well; reporting the innermost and
            // abandoning the item says it once instead of once per level.
            if j.is_empty() || self.starts_item(j) {
                let d = self
                    .expected(j, Nl::Skip, &format!("expected `}}` to close {what}"), "expected `}`")
                    .label(open, "this `{` is never closed")
                    .hint("every `{` needs a matching `}`");
                self.push(d);
                return Err(self.abort(j));
            }
            match line(j) {
                Ok((rest, value)) => {
                    lines.push(value);
                    r = self.end_of_line(rest, line_name);
                }
                Err(nom::Err::Failure(PErr { rest, diag: Some(d) })) => {
                    self.push(*d);
                    r = self.skip_line(j, rest);
                }
                // Reported already (an unclosed block, the nesting limit):
                // abandon the item.
                Err(nom::Err::Failure(e)) => return Err(nom::Err::Failure(e)),
                Err(_) => {
                    let msg = format!("expected a {line_name}");
                    self.push(self.unexpected(j, &msg, &msg));
                    r = self.skip_line(j, j);
                }
            }
            if r.len() >= j.len() {
                // Cannot happen (`j` starts with neither `}` nor an item),
                // but a parser that stops advancing must not loop forever.
                r = self.at(self.off(j) + j.chars().next().map_or(0, char::len_utf8));
            }
        }
    }

    /// Blank lines, comments and `;`s between lines.
    pub(super) fn skip_separators(&self, mut r: &'a str) -> &'a str {
        loop {
            let j = self.ws(r, Nl::Skip);
            match j.strip_prefix(';') {
                Some(rest) => r = rest,
                None => return j,
            }
        }
    }

    /// After a line that parsed: a newline or `;` must follow, or the `}`
    /// that closes the block. Anything else is reported, and the rest of the
    /// line skipped.
    fn end_of_line(&self, rest: &'a str, line_name: &str) -> &'a str {
        let k = self.ws(rest, Nl::End);
        match k.as_bytes().first() {
            None | Some(b'}') => k,
            Some(b'\n' | b';') => &k[1..],
            Some(_) => {
                let d = self
                    .unexpected(k, &format!("expected the end of the {line_name}"), "expected a new line or `;`")
                    .hint(format!("put each {line_name} on its own line, or separate them with `;`"));
                self.push(d);
                self.skip_line(rest, rest)
            }
        }
    }

    /// Skips the rest of a line that failed to parse. `start` is where the
    /// line began, `err` where the error was found. Counting braces from
    /// `start` means a failed `while x + {` also skips the body it opened;
    /// the scan stops
    /// - after the first newline or `;` at brace depth 0 that is not before
    ///   `err` (a line broken inside parentheses is skipped whole),
    /// - before a `}` at depth 0 (it closes the enclosing block),
    /// - at a line that starts with an item keyword (the block is unclosed,
    ///   which the caller then reports).
    pub(super) fn skip_line(&self, start: &'a str, err: &'a str) -> &'a str {
        let bytes = self.src.as_bytes();
        let err_at = self.off(err).max(self.off(start));
        let mut pos = self.off(start);
        let mut depth = 0usize;
        while pos < bytes.len() {
            match bytes[pos] {
                b'"' => pos = skip_string(bytes, pos),
                b'/' if bytes.get(pos + 1) == Some(&b'/') => {
                    pos = memchr(bytes, pos, b'\n');
                    continue;
                }
                b'{' => depth += 1,
                b'}' if depth == 0 => return self.at(pos),
                b'}' => depth -= 1,
                b';' if depth == 0 && pos >= err_at => return self.at(pos + 1),
                b'\n' => {
                    if depth == 0 && pos >= err_at {
                        return self.at(pos + 1);
                    }
                    let next = self.ws(self.at(pos + 1), Nl::End);
                    if self.starts_item(next) {
                        return next;
                    }
                }
                _ => {}
            }
            pos += 1;
        }
        self.at(bytes.len())
    }

    /// After an item failed: the first line after the error that starts with
    /// an item keyword (or the end of the file). The line holding the error
    /// itself counts when the error is at its first word, as for a block cut
    /// short by the next item. A line that starts at column 0 with a word one
    /// typo away from an item keyword (`programm`) counts too, so that the
    /// misspelling is reported rather than skipped.
    pub(super) fn resync(&self, item_start: &'a str, err: &'a str) -> &'a str {
        let src = self.src;
        let start = self.off(item_start);
        let mut pos = self.off(err).max(start);
        let line_start = src[..pos].rfind('\n').map_or(0, |k| k + 1);
        if pos > start && src[line_start..pos].trim().is_empty() {
            let j = self.ws(self.at(pos), Nl::End);
            if self.starts_item(j) {
                return j;
            }
        }
        loop {
            match src[pos..].find('\n') {
                None => return self.at(src.len()),
                Some(k) => pos += k + 1,
            }
            let line = self.at(pos);
            let j = self.ws(line, Nl::End);
            let misspelled = || lex::ident(line).is_ok_and(|(_, w)| suggest(w, ITEM_KEYWORDS).is_some());
            if self.starts_item(j) || misspelled() {
                return j;
            }
        }
    }

    /// "unmatched `}`" for a closing brace that closes nothing.
    pub(super) fn unmatched_close(&self, j: &'a str) -> Diagnostic {
        let at = self.off(j);
        Diagnostic::error("unmatched `}`")
            .at_labelled(Span::new(at, at + 1), "this `}` has no matching `{`")
            .hint("remove it, or look for a missing `{` earlier")
    }
}

/// The offset of the closing quote of the string opening at `pos`, or of the
/// newline that ends an unterminated one (strings stay on one line).
fn skip_string(bytes: &[u8], pos: usize) -> usize {
    let mut k = pos + 1;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' if bytes.get(k + 1) != Some(&b'\n') => k += 1,
            b'"' => return k,
            b'\n' => return k - 1,
            _ => {}
        }
        k += 1;
    }
    bytes.len()
}

/// The offset of the next `needle` at or after `from`, or the end.
fn memchr(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes[from..].iter().position(|&b| b == needle).map_or(bytes.len(), |k| from + k)
}
