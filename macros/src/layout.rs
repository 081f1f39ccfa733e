//! The macros' logic that needs no compiler: NPL text rebuilt from tokens at
//! their lines and columns, a byte offset of that text mapped back to the
//! token it falls in, and a Rust string literal's value. Plain functions over
//! `(line, column, text)` so that they are unit-tested without `proc_macro`.

use std::ops::Range;

/// One token as the Rust lexer saw it: where it starts (line and column both
/// 1-based, the column counted in characters, as `proc_macro::Span` gives
/// them) and its text as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub line: usize,
    pub column: usize,
    pub text: String,
}

impl Piece {
    pub fn new(line: usize, column: usize, text: impl Into<String>) -> Piece {
        Piece { line, column, text: text.into() }
    }
}

/// The text with every piece at its line and column: blank lines before the
/// first piece (so that line numbers of the text are those of the file),
/// spaces between pieces on a line. A piece that does not come after the
/// previous one (tokens from elsewhere, as a `macro_rules!` substitution
/// gives) is put one space after it. Returns the text and each piece's byte
/// range in it.
pub fn rebuild(pieces: &[Piece]) -> (String, Vec<Range<usize>>) {
    let mut out = String::new();
    let mut ranges = Vec::with_capacity(pieces.len());
    // Where the next character goes, 1-based like the pieces.
    let (mut line, mut column) = (1usize, 1usize);
    for p in pieces {
        if p.line > line {
            out.extend(std::iter::repeat_n('\n', p.line - line));
            line = p.line;
            column = 1;
        }
        if p.line == line && p.column >= column {
            out.extend(std::iter::repeat_n(' ', p.column - column));
            column = p.column;
        } else if !out.is_empty() && !out.ends_with(['\n', ' ']) {
            out.push(' ');
            column += 1;
        }
        let start = out.len();
        out.push_str(&p.text);
        ranges.push(start..out.len());
        match p.text.rfind('\n') {
            Some(i) => {
                line += p.text.matches('\n').count();
                column = p.text[i + 1..].chars().count() + 1;
            }
            None => column += p.text.chars().count(),
        }
    }
    (out, ranges)
}

/// The piece whose text holds byte `offset`; else the last piece before it
/// (an error at the end of a line, after its last token); else the first
/// piece. `None` only when there are no pieces.
pub fn piece_at(ranges: &[Range<usize>], offset: usize) -> Option<usize> {
    if ranges.is_empty() {
        return None;
    }
    if let Some(i) = ranges.iter().position(|r| r.contains(&offset)) {
        return Some(i);
    }
    Some(ranges.iter().rposition(|r| r.start <= offset).unwrap_or(0))
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// The value of a Rust string literal as written (`"a\n"`, `r"a"`,
/// `r#"a"#`); `None` for anything else (a byte string, a C string, a suffix).
pub fn string_literal(lit: &str) -> Option<String> {
    if let Some(raw) = lit.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let body = raw[hashes..].strip_prefix('"')?;
        let close = format!("\"{}", "#".repeat(hashes));
        return body.strip_suffix(close.as_str()).map(str::to_string);
    }
    let body = lit.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'x' => {
                let hex: String = [chars.next()?, chars.next()?].iter().collect();
                out.push(char::from(u8::from_str_radix(&hex, 16).ok().filter(|b| *b < 0x80)?));
            }
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let mut hex = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        '_' => {}
                        h => hex.push(h),
                    }
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            // A line continuation: the newline and the next line's leading
            // whitespace are dropped.
            '\n' => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, ranges: &[Range<usize>]) -> Vec<String> {
        ranges.iter().map(|r| text[r.clone()].to_string()).collect()
    }

    #[test]
    fn pieces_land_at_their_line_and_column() {
        // task t
        //   let s = "a {x}"    (line 3)
        //   for i in 1..=10 {
        let pieces = [
            Piece::new(2, 5, "task"),
            Piece::new(2, 10, "t"),
            Piece::new(3, 7, "let"),
            Piece::new(3, 11, "s"),
            Piece::new(3, 13, "="),
            Piece::new(3, 15, "\"a {x}\""),
            Piece::new(4, 7, "for"),
            Piece::new(4, 11, "i"),
            Piece::new(4, 13, "in"),
            Piece::new(4, 16, "1"),
            Piece::new(4, 17, "."),
            Piece::new(4, 18, "."),
            Piece::new(4, 19, "="),
            Piece::new(4, 20, "10"),
            Piece::new(4, 23, "{"),
        ];
        let (text, ranges) = rebuild(&pieces);
        assert_eq!(text, "\n    task t\n      let s = \"a {x}\"\n      for i in 1..=10 {");
        assert_eq!(texts(&text, &ranges), pieces.iter().map(|p| p.text.clone()).collect::<Vec<_>>());
        for (p, r) in pieces.iter().zip(&ranges) {
            assert_eq!(line_column(&text, r.start), (p.line, p.column), "{p:?}");
        }
    }

    #[test]
    fn a_piece_over_several_lines_moves_the_cursor() {
        let pieces = [Piece::new(1, 3, "\"a\nbc\""), Piece::new(2, 6, "x"), Piece::new(3, 1, "y")];
        let (text, ranges) = rebuild(&pieces);
        assert_eq!(text, "  \"a\nbc\"  x\ny");
        assert_eq!(line_column(&text, ranges[1].start), (2, 6));
        assert_eq!(line_column(&text, ranges[2].start), (3, 1));
    }

    #[test]
    fn pieces_out_of_order_are_separated_by_a_space() {
        let pieces = [Piece::new(5, 10, "a"), Piece::new(5, 3, "b"), Piece::new(2, 1, "c"), Piece::new(5, 4, "d")];
        let (text, ranges) = rebuild(&pieces);
        assert_eq!(text, "\n\n\n\n         a b c d");
        assert_eq!(texts(&text, &ranges), ["a", "b", "c", "d"]);
    }

    #[test]
    fn non_ascii_columns_count_characters() {
        let pieces = [Piece::new(1, 1, "\"é\""), Piece::new(1, 5, "x")];
        let (text, ranges) = rebuild(&pieces);
        assert_eq!(text, "\"é\" x");
        assert_eq!(line_column(&text, ranges[1].start), (1, 5));
    }

    #[test]
    fn offsets_map_to_the_token_holding_them_or_the_one_before() {
        let ranges = [2..6, 7..8, 10..12];
        assert_eq!(piece_at(&ranges, 2), Some(0));
        assert_eq!(piece_at(&ranges, 5), Some(0));
        assert_eq!(piece_at(&ranges, 6), Some(0), "the space after a token");
        assert_eq!(piece_at(&ranges, 7), Some(1));
        assert_eq!(piece_at(&ranges, 9), Some(1));
        assert_eq!(piece_at(&ranges, 11), Some(2));
        assert_eq!(piece_at(&ranges, 99), Some(2), "past the end");
        assert_eq!(piece_at(&ranges, 0), Some(0), "before the first token");
        assert_eq!(piece_at(&[], 0), None);
    }

    #[test]
    fn string_literals_are_unescaped() {
        assert_eq!(string_literal(r#""tasks/add.npl""#).as_deref(), Some("tasks/add.npl"));
        assert_eq!(string_literal(r#""a\\b\"c\n\x41\u{e9}""#).as_deref(), Some("a\\b\"c\nAé"));
        assert_eq!(string_literal("\"a\\\n    b\"").as_deref(), Some("ab"));
        assert_eq!(string_literal(r###"r#"a"b"#"###).as_deref(), Some("a\"b"));
        assert_eq!(string_literal(r#"r"a\n""#).as_deref(), Some("a\\n"));
        assert_eq!(string_literal(r#"b"a""#), None);
        assert_eq!(string_literal("12"), None);
        assert_eq!(string_literal(r#""a"x"#), None);
    }
}
