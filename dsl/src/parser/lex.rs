//! The lexical layer: nom parsers for white space, comments, names, numbers,
//! strings and punctuation, plus [`describe`], which names whatever starts at
//! a position for the "found ..." half of an error message. Nothing here
//! knows the grammar; the grammar modules call these on the text directly
//! (there is no separate token stream, so a span is always a pair of offsets
//! into the one source string).

use super::ctx::PResult;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while, take_while1};
use nom::character::complete::{char, digit1, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::multi::many0_count;
use nom::Parser;

/// Every punctuation token, longest first so that `..=` is not read as `..`
/// followed by `=`, nor `<=` as `<` then `=`.
const PUNCT: &[&str] = &[
    "..=", "..", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "{", "}", "[", "]", ",", ":", ";", "=", "<", ">", "+",
    "-", "*", "/", "%", "!", ".", "|",
];

/// White space that does not end a line. Any Unicode space counts, so that a
/// non-breaking space pasted from a web page is not a mystery error.
pub(super) fn is_blank(c: char) -> bool {
    c != '\n' && c.is_whitespace()
}

pub(super) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub(super) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `// ...` up to, not including, the newline.
fn comment(i: &str) -> PResult<'_, &str> {
    recognize((tag("//"), take_till(|c| c == '\n'))).parse(i)
}

/// Skips blanks and comments, stopping at a newline.
pub(super) fn sp(i: &str) -> &str {
    many0_count(alt((take_while1(is_blank), comment))).parse(i).map_or(i, |(rest, _)| rest)
}

/// Skips blanks, comments and newlines.
pub(super) fn sp_nl(i: &str) -> &str {
    many0_count(alt((take_while1(char::is_whitespace), comment))).parse(i).map_or(i, |(rest, _)| rest)
}

/// `[A-Za-z_][A-Za-z0-9_]*`; keywords included (the grammar decides what a
/// keyword may do where).
pub(super) fn ident(i: &str) -> PResult<'_, &str> {
    recognize((satisfy(is_ident_start), take_while(is_ident_char))).parse(i)
}

/// A numeric literal: digits, an optional fraction and an optional exponent
/// (`42`, `0.5`, `3e-4`). A `.` is part of the number only when a digit
/// follows it, which keeps `1..=10` a range of two integers.
pub(super) fn number(i: &str) -> PResult<'_, &str> {
    recognize((digit1, opt((char('.'), digit1)), opt((one_of("eE"), opt(one_of("+-")), digit1)))).parse(i)
}

/// Whether a literal accepted by [`number`] is a float rather than an integer.
pub(super) fn is_float(text: &str) -> bool {
    text.contains(['.', 'e', 'E'])
}

/// The punctuation token at `i` (longest match) and the text after it.
pub(super) fn punct(i: &str) -> Option<(&'static str, &str)> {
    PUNCT.iter().find_map(|&p| tag::<_, _, ()>(p)(i).ok().map(|(rest, _)| (p, rest)))
}

/// What can go wrong inside a string literal; offsets are relative to the
/// opening quote.
pub(super) enum StrError {
    /// No closing quote before the end of the line.
    Unterminated,
    /// A backslash followed by something that is not an escape.
    BadEscape { at: usize, len: usize },
}

/// A string literal at `i`: `None` when `i` does not start with `"`.
/// Escapes are `\"`, `\\`, `\n` and `\t`. Strings end on their own line: an
/// unterminated one then swallows one line, not the rest of the file.
pub(super) fn string(i: &str) -> Option<Result<(&str, String), StrError>> {
    let (body, _) = char::<_, ()>('"').parse(i).ok()?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Some(Ok((&body[k + 1..], out))),
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, '\n')) | None => break,
                Some((_, other)) => return Some(Err(StrError::BadEscape { at: k + 1, len: 1 + other.len_utf8() })),
            },
            c => out.push(c),
        }
    }
    Some(Err(StrError::Unterminated))
}

/// The code part of one line: everything before a `//` that is not inside a
/// string.
pub(super) fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut k = 0;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' if in_string => k += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(k + 1) == Some(&b'/') => return &line[..k],
            _ => {}
        }
        k += 1;
    }
    line
}

/// Whatever starts at a position, as an error message names it.
pub(super) struct Found {
    /// "`}`", "`while`", "end of line", "a string", ...
    pub text: String,
    /// Its length in bytes; 0 for the end of a line or of the file.
    pub len: usize,
    /// A character that is no part of NPL at all (`$`, `é`, `≤`): reported
    /// as "unexpected character" rather than "expected X, found Y".
    pub stray: Option<char>,
}

/// Names what starts at `j`, which must be past any white space.
pub(super) fn describe(j: &str) -> Found {
    let plain = |text: String, len: usize| Found { text, len, stray: None };
    let Some(first) = j.chars().next() else {
        return plain("end of file".into(), 0);
    };
    if first == '\n' {
        return plain("end of line".into(), 0);
    }
    if let Ok((rest, word)) = ident(j).or_else(|_| number(j)) {
        return plain(format!("`{}`", shorten(word)), j.len() - rest.len());
    }
    if first == '"' {
        let len = match string(j) {
            Some(Ok((rest, _))) => j.len() - rest.len(),
            _ => j.find('\n').unwrap_or(j.len()),
        };
        return plain("a string".into(), len);
    }
    if let Some((p, _)) = punct(j) {
        return plain(format!("`{p}`"), p.len());
    }
    Found { text: format!("`{}`", first.escape_debug()), len: first.len_utf8(), stray: Some(first) }
}

/// Long words are cut so that the message stays on one line.
fn shorten(word: &str) -> String {
    const MAX: usize = 24;
    if word.len() <= MAX {
        word.to_string()
    } else {
        format!("{}...", &word[..MAX])
    }
}

/// A hint for characters people type by habit or paste from elsewhere.
pub(super) fn lookalike_hint(c: char) -> Option<&'static str> {
    Some(match c {
        '&' => "for \"and\", write `&&`",
        '|' => "for \"or\", write `||`",
        '#' => "comments start with `//`",
        '\'' | '\u{2018}' | '\u{2019}' => "strings use double quotes: `\"...\"`",
        '\u{201c}' | '\u{201d}' | '\u{201e}' => "strings use straight double quotes: `\"...\"`",
        '\u{2264}' => "write `<=`",
        '\u{2265}' => "write `>=`",
        '\u{2260}' => "write `!=`",
        '\u{2212}' | '\u{2013}' | '\u{2014}' => "write the ASCII minus `-`",
        '\u{00d7}' => "write `*`",
        '\u{00f7}' => "write `/`",
        c if c.is_alphabetic() => "names use only ASCII letters, digits and `_`",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stop_before_ranges() {
        assert_eq!(number("1..=10").unwrap(), ("..=10", "1"));
        assert_eq!(number("0..10").unwrap(), ("..10", "0"));
        assert_eq!(number("3e-4,").unwrap(), (",", "3e-4"));
        assert_eq!(number("0.5 ").unwrap(), (" ", "0.5"));
        assert_eq!(number("2e").unwrap(), ("e", "2"));
    }

    #[test]
    fn punctuation_is_longest_match() {
        assert_eq!(punct("..=3").unwrap().0, "..=");
        assert_eq!(punct("<=").unwrap().0, "<=");
        assert_eq!(punct("= =").unwrap().0, "=");
        assert!(punct("&x").is_none());
    }

    #[test]
    fn white_space_and_comments() {
        assert_eq!(sp("  // hi\n x"), "\n x");
        assert_eq!(sp_nl("  // hi\n x"), "x");
        assert_eq!(strip_comment("f(\"//\") // c"), "f(\"//\") ");
    }

    #[test]
    fn strings() {
        assert!(matches!(string("\"a\\\"b\" x"), Some(Ok((" x", s))) if s == "a\"b"));
        assert!(matches!(string("\"abc\n\""), Some(Err(StrError::Unterminated))));
        assert!(matches!(string("\"a\\qb\""), Some(Err(StrError::BadEscape { at: 2, len: 2 }))));
        assert!(string("x").is_none());
    }
}
