//! `npl!` and `include_npl!`: an NPL task embedded in Rust source, parsed
//! and compiled when the Rust crate is compiled. Use them through the `synth`
//! crate (`synth::npl!`, `synth::include_npl!`): both expand to a
//! `synth::embedded::EmbeddedTask`, a `const` value. `docs/embedding.md` is
//! the user's page.
//!
//! A task is checked as `synth check` checks it before running anything:
//! `synth_compiler::compile`, whose errors (and the lint's, which come back
//! among the warnings) become `compile_error!`s. Warnings are dropped.
//!
//! - `npl! { ... }`: the task as tokens. The NPL text is rebuilt from them
//!   with every token at its line and column in the Rust file (`layout`),
//!   so the text's line numbers are the file's; an error is reported at the
//!   token that holds its start. The task's name is its `task NAME` line, or
//!   `embedded` when it has none.
//! - `include_npl!("path")`: the file at `path` relative to the including
//!   crate's `CARGO_MANIFEST_DIR`. An error is reported at the path literal,
//!   rendered as `synth check` renders it (`path:line:column`, the source
//!   line and carets). The expansion holds `include_str!` of the absolute
//!   path, so cargo rebuilds the crate when the file changes. The task's name
//!   is its `task NAME` line, or the file stem.
//!
//! This crate depends on the parser and the compiler only, never on the
//! runtime.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use std::path::Path;
use synth_dsl::Diagnostic;

mod layout;

use layout::Piece;

/// The name a task gets from `npl!` when it has no `task NAME` line.
const NPL_STEM: &str = "embedded";

/// An NPL task written as tokens; expands to a `synth::embedded::EmbeddedTask`.
///
/// The task is parsed and compiled when the Rust crate is compiled; an NPL
/// error is a compile error at the token it is about. Rust's lexer reads the
/// tokens first, so `//` comments are dropped and what it rejects (an
/// unbalanced bracket, a lone `'`) cannot be written here: use
/// `include_npl!` for such a task.
#[proc_macro]
pub fn npl(input: TokenStream) -> TokenStream {
    let mut pieces = Vec::new();
    let mut spans = Vec::new();
    flatten(input, &mut pieces, &mut spans);
    let (text, ranges) = layout::rebuild(&pieces);
    let errors = match errors_of(&text, NPL_STEM) {
        Ok(name) => {
            let display = Span::call_site().file();
            return embedded_task(&name, NPL_STEM, &display, TokenTree::Literal(Literal::string(&text)));
        }
        Err(errors) => errors,
    };
    let reports = errors.iter().map(|d| {
        let span = d.span.and_then(|s| layout::piece_at(&ranges, s.start as usize)).map_or_else(Span::call_site, |i| spans[i]);
        (short_message(d, &text), span)
    });
    compile_errors(reports)
}

/// An NPL task read from a file at compile time; expands to a
/// `synth::embedded::EmbeddedTask`.
///
/// The path is relative to the including crate's `CARGO_MANIFEST_DIR` (the
/// directory of its `Cargo.toml`), not to the Rust file. An NPL error is a
/// compile error at the path, holding the diagnostic as `synth check` prints
/// it.
#[proc_macro]
pub fn include_npl(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let (lit, rel) = match (tokens.next(), tokens.next()) {
        (Some(TokenTree::Literal(lit)), None) => match layout::string_literal(&lit.to_string()) {
            Some(rel) => (lit, rel),
            None => return compile_errors([("expected a string literal: the path of an NPL file".into(), lit.span())]),
        },
        (Some(t), _) => return compile_errors([("expected one string literal: the path of an NPL file".into(), t.span())]),
        (None, _) => return compile_errors([("expected one string literal: the path of an NPL file".into(), Span::call_site())]),
    };
    let span = lit.span();
    let Ok(manifest) = std::env::var("CARGO_MANIFEST_DIR") else {
        return compile_errors([("`include_npl!` needs CARGO_MANIFEST_DIR: build with cargo".into(), span)]);
    };
    let path = Path::new(&manifest).join(&rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return compile_errors([(format!("cannot read `{}`: {e}", path.display()), span)]),
    };
    let stem = Path::new(&rel).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match errors_of(&text, &stem) {
        Ok(name) => {
            let Some(abs) = path.to_str() else {
                return compile_errors([(format!("the path `{}` is not valid UTF-8", path.display()), span)]);
            };
            let include = call(&["core", "include_str"], Delimiter::Parenthesis, TokenStream::from(TokenTree::Literal(Literal::string(abs))), span);
            embedded_task(&name, &stem, &rel, TokenTree::Group(Group::new(Delimiter::None, include)))
        }
        Err(errors) => compile_errors(errors.iter().map(|d| {
            let rendered = d.render(&rel, &text);
            (rendered.strip_prefix("error: ").unwrap_or(&rendered).trim_end().to_string(), span)
        })),
    }
}

/// The task's name if `text` compiles without errors, else the errors in
/// source order.
fn errors_of(text: &str, stem: &str) -> Result<String, Vec<Diagnostic>> {
    match synth_compiler::compile(text, stem) {
        Ok(c) => {
            let errors: Vec<Diagnostic> = c.warnings.into_iter().filter(Diagnostic::is_error).collect();
            if errors.is_empty() {
                Ok(c.task.name)
            } else {
                Err(errors)
            }
        }
        Err(diags) => Err(diags.into_iter().filter(Diagnostic::is_error).collect()),
    }
}

/// A diagnostic for a compile error spanned at its token: the message, the
/// primary span's label, the other labels with their line and column, and
/// the hints, in the words `synth check` prints.
fn short_message(d: &Diagnostic, text: &str) -> String {
    let mut out = d.message.clone();
    if let Some(l) = &d.span_label {
        out.push_str(&format!("\n= label: {l}"));
    }
    for l in &d.labels {
        let (line, column) = layout::line_column(text, l.span.start as usize);
        out.push_str(&format!("\n= note: line {line}, column {column}: {}", l.message));
    }
    for h in &d.hints {
        out.push_str(&format!("\n= hint: {h}"));
    }
    out
}

/// Every token of `input` with its text, in order; a group's delimiters are
/// tokens of their own. Doc comments (`///`, `//!`), which Rust hands over
/// as `#[doc = ...]` attributes, are dropped: they are comments to NPL too.
fn flatten(input: TokenStream, pieces: &mut Vec<Piece>, spans: &mut Vec<Span>) {
    let mut tokens = input.into_iter().peekable();
    while let Some(t) = tokens.next() {
        match t {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    push(pieces, spans, g.span_open(), open.to_string());
                }
                flatten(g.stream(), pieces, spans);
                if !close.is_empty() {
                    push(pieces, spans, g.span_close(), close.to_string());
                }
            }
            TokenTree::Punct(p) if p.as_char() == '#' && p.span().source_text().is_some_and(|s| s.starts_with('/')) => {
                // `#`, for an inner doc comment `!`, then `[doc = "..."]`.
                if matches!(tokens.peek(), Some(TokenTree::Punct(b)) if b.as_char() == '!') {
                    tokens.next();
                }
                if matches!(tokens.peek(), Some(TokenTree::Group(_))) {
                    tokens.next();
                }
            }
            TokenTree::Punct(p) => push(pieces, spans, p.span(), p.as_char().to_string()),
            TokenTree::Ident(i) => push(pieces, spans, i.span(), i.to_string()),
            TokenTree::Literal(l) => {
                let text = l.span().source_text().unwrap_or_else(|| l.to_string());
                push(pieces, spans, l.span(), text)
            }
        }
    }
}

fn push(pieces: &mut Vec<Piece>, spans: &mut Vec<Span>, span: Span, text: String) {
    pieces.push(Piece::new(span.line(), span.column(), text));
    spans.push(span);
}

/// `::synth::embedded::EmbeddedTask::__new(name, stem, display, text)`.
fn embedded_task(name: &str, stem: &str, display: &str, text: TokenTree) -> TokenStream {
    let mut args = TokenStream::new();
    for s in [name, stem, display] {
        args.extend([TokenTree::Literal(Literal::string(s)), TokenTree::Punct(Punct::new(',', Spacing::Alone))]);
    }
    args.extend([text]);
    call(&["synth", "embedded", "EmbeddedTask", "__new"], Delimiter::Parenthesis, args, Span::call_site())
}

/// `::a::b::c` followed by `args` in `delimiter`, with a `!` before them when
/// the path names a macro (`core::include_str`, `core::compile_error`).
fn call(path: &[&str], delimiter: Delimiter, args: TokenStream, span: Span) -> TokenStream {
    let mut out = TokenStream::new();
    for segment in path {
        let mut colons = [Punct::new(':', Spacing::Joint), Punct::new(':', Spacing::Alone)];
        for c in &mut colons {
            c.set_span(span);
        }
        out.extend(colons.map(TokenTree::Punct));
        out.extend([TokenTree::Ident(Ident::new(segment, span))]);
    }
    if path.first() == Some(&"core") {
        let mut bang = Punct::new('!', Spacing::Alone);
        bang.set_span(span);
        out.extend([TokenTree::Punct(bang)]);
    }
    let mut group = Group::new(delimiter, args);
    group.set_span(span);
    out.extend([TokenTree::Group(group)]);
    out
}

/// One `compile_error!` per message at its span, in a block so that the
/// expansion is one expression.
fn compile_errors(errors: impl IntoIterator<Item = (String, Span)>) -> TokenStream {
    let mut body = TokenStream::new();
    for (message, span) in errors {
        let mut lit = Literal::string(&message);
        lit.set_span(span);
        body.extend(call(&["core", "compile_error"], Delimiter::Brace, TokenStream::from(TokenTree::Literal(lit)), span));
    }
    TokenStream::from(TokenTree::Group(Group::new(Delimiter::Brace, body)))
}
