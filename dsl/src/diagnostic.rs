//! The one error type every stage of synth reports in: a [`Diagnostic`] with a
//! severity, a message, a primary span, secondary labels and hints, rendered
//! the way rustc does:
//!
//! ```text
//! error: expected `)` to close the argument list
//!  --> add.npl:3:19
//!   |
//! 3 |     ADD1(a, b
//!   |              ^ expected `)`
//! ```
//!
//! Messages are lowercase and carry no final period. A diagnostic is plain
//! data; [`Diagnostic::render`] turns it into text given the source.

use crate::span::{line_col, Span};
use serde::Serialize;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A secondary location with its own short message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; `None` for whole-file problems (a missing entry).
    pub span: Option<Span>,
    /// Printed under the caret of the primary span.
    pub span_label: Option<String>,
    pub labels: Vec<Label>,
    pub hints: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span: None,
            span_label: None,
            labels: Vec::new(),
            hints: Vec::new(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(message) }
    }

    /// Sets the primary span.
    pub fn at(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    /// Sets the primary span and the text printed under its caret.
    pub fn at_labelled(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.span = Some(span);
        self.span_label = Some(label.into());
        self
    }

    pub fn label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into() });
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hints.push(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders rustc-style: `error: message`, ` --> file:line:col`, the source
    /// lines with carets under every span, then `= hint:` lines.
    pub fn render(&self, file_name: &str, src: &str) -> String {
        let mut out = String::new();
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{sev}: {}", self.message);

        // Every span to show, primary first, sorted by position after that.
        let mut marks: Vec<(Span, Option<&str>, char)> = Vec::new();
        if let Some(span) = self.span {
            marks.push((span, self.span_label.as_deref(), '^'));
        }
        let mut secondary: Vec<&Label> = self.labels.iter().collect();
        secondary.sort_by_key(|l| l.span);
        for l in secondary {
            marks.push((l.span, Some(l.message.as_str()), '-'));
        }

        let gutter = marks
            .iter()
            .map(|(s, _, _)| line_col(src, s.start as usize).0.to_string().len())
            .max()
            .unwrap_or(1);
        let pad = " ".repeat(gutter);
        match self.span {
            Some(span) => {
                let (line, col) = line_col(src, span.start as usize);
                let _ = writeln!(out, "{pad}--> {file_name}:{line}:{col}");
            }
            None => {
                let _ = writeln!(out, "{pad}--> {file_name}");
            }
        }
        if !marks.is_empty() {
            let _ = writeln!(out, "{pad} |");
            // Group marks by line, keeping lines in source order but the
            // primary one first when it comes later in the file.
            let mut lines: Vec<usize> = Vec::new();
            for (s, _, _) in &marks {
                let l = line_col(src, s.start as usize).0;
                if !lines.contains(&l) {
                    lines.push(l);
                }
            }
            let mut ordered = lines.clone();
            ordered.sort_unstable();
            let mut prev: Option<usize> = None;
            for line in ordered {
                if let Some(p) = prev {
                    if line > p + 1 {
                        let _ = writeln!(out, "{pad}...");
                    }
                }
                prev = Some(line);
                let text = line_text(src, line);
                let shown = text.replace('\t', "    ");
                let _ = writeln!(out, "{line:>gutter$} | {}", shown.trim_end());
                for (span, msg, ch) in marks.iter().filter(|(s, _, _)| line_col(src, s.start as usize).0 == line) {
                    let (_, col) = line_col(src, span.start as usize);
                    let prefix: String = text.chars().take(col - 1).map(|c| if c == '\t' { "    " } else { " " }).collect();
                    // Clamp the caret run to the end of this line.
                    let line_chars = text.chars().count();
                    let span_chars = span.text(src).split('\n').next().unwrap_or("").chars().count();
                    let width = span_chars.min(line_chars.saturating_sub(col - 1)).max(1);
                    let carets: String = std::iter::repeat_n(*ch, width).collect();
                    match msg {
                        Some(m) => {
                            let _ = writeln!(out, "{pad} | {prefix}{carets} {m}");
                        }
                        None => {
                            let _ = writeln!(out, "{pad} | {prefix}{carets}");
                        }
                    }
                }
            }
            let _ = writeln!(out, "{pad} |");
        }
        for h in &self.hints {
            let _ = writeln!(out, "{pad} = hint: {h}");
        }
        out
    }
}

fn line_text(src: &str, line: usize) -> &str {
    src.split('\n').nth(line - 1).map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or("")
}

/// Renders many diagnostics, errors and warnings in the order given, with a
/// blank line between them.
pub fn render_all(diags: &[Diagnostic], file_name: &str, src: &str) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.render(file_name, src));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let src = "task add\nprogram ADD {\n  ADD1(a, b\n}\n";
        let off = src.find("b\n").unwrap() + 1;
        let d = Diagnostic::error("expected `)` to close the argument list")
            .at_labelled(Span::at(off), "expected `)`")
            .hint("every `(` needs a matching `)`");
        let text = d.render("add.npl", src);
        assert_eq!(
            text,
            "error: expected `)` to close the argument list\n --> add.npl:3:12\n  |\n3 |   ADD1(a, b\n  |            ^ expected `)`\n  |\n  = hint: every `(` needs a matching `)`\n"
        );
    }
}
