//! Run-time errors: what went wrong while sampling an input, running a
//! reference program, checking `expect`, or applying a learned model's
//! action. A [`RunError`] names the program, the statement, the size and the
//! seed, so that `synth trace FILE --size S --seed K` reproduces it, and turns
//! into a [`Diagnostic`] for the same renderer as compile errors.

use synth_dsl::{Diagnostic, Span};

/// The broad class of a [`RunError`], for callers that react differently
/// (a learner treats [`RunErrorKind::BadAct`] as the model's mistake, not the
/// task's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunErrorKind {
    /// The world refused: a pointer moved off the pad, a value that is not a
    /// digit written into a cell, a number too long for its row.
    World,
    /// A value of the wrong kind at run time: `blank` in arithmetic, division
    /// by zero, an index out of range.
    Value,
    /// A program argument outside the argument classes.
    Argument,
    /// `expect` did not hold after the entry program ran.
    ExpectFailed,
    /// The run exceeded its step limit.
    StepLimit,
    /// The run exceeded its call-depth limit.
    DepthLimit,
    /// A value would exceed its size limit: an integer longer than
    /// `max_int_bits`, a list longer than `max_list_len`.
    SizeLimit,
    /// The run would hold more than `max_memory` bytes.
    MemoryLimit,
    /// [`crate::Instance::act`] got an action, pointer or value that does not
    /// exist.
    BadAct,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.headline())]
pub struct RunError {
    pub kind: RunErrorKind,
    /// What went wrong, lowercase, without the program, size or seed.
    pub message: String,
    /// The program that was running (`None` in `input`, `expect`, the world
    /// set-up, or an action applied from outside).
    pub program: Option<String>,
    /// The statement (or expression) that failed.
    pub span: Option<Span>,
    /// Printed under the caret.
    pub label: Option<String>,
    pub hint: Option<String>,
    pub size: usize,
    pub seed: u64,
}

impl RunError {
    /// The message with where and on which input it happened:
    /// "pointer `carry` moved off the left edge of row 2 in program CARRY
    /// (size 3, seed 7)".
    pub fn headline(&self) -> String {
        match &self.program {
            Some(p) => format!("{} in program {p} (size {}, seed {})", self.message, self.size, self.seed),
            None => format!("{} (size {}, seed {})", self.message, self.size, self.seed),
        }
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::error(self.headline());
        if let Some(span) = self.span {
            d = match &self.label {
                Some(l) => d.at_labelled(span, l.clone()),
                None => d.at(span),
            };
        }
        if let Some(h) = &self.hint {
            d = d.hint(h.clone());
        }
        d
    }
}

/// A run-time error before the interpreter adds the program, the statement,
/// the size and the seed.
#[derive(Clone, Debug)]
pub(crate) struct Fault {
    pub kind: RunErrorKind,
    pub message: String,
    pub label: Option<String>,
    pub hint: Option<String>,
    /// More precise than the statement, when known.
    pub span: Option<Span>,
}

impl Fault {
    pub(crate) fn new(kind: RunErrorKind, message: impl Into<String>) -> Box<Fault> {
        Box::new(Fault { kind, message: message.into(), label: None, hint: None, span: None })
    }

    pub(crate) fn label(mut self: Box<Self>, label: impl Into<String>) -> Box<Fault> {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn hint(mut self: Box<Self>, hint: impl Into<String>) -> Box<Fault> {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the span unless a more precise one is already there.
    pub(crate) fn at(mut self: Box<Self>, span: Span) -> Box<Fault> {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    pub(crate) fn into_run_error(
        self,
        program: Option<String>,
        span: Option<Span>,
        size: usize,
        seed: u64,
    ) -> RunError {
        RunError {
            kind: self.kind,
            message: self.message,
            program,
            span: self.span.or(span),
            label: self.label,
            hint: self.hint,
            size,
            seed,
        }
    }
}

pub(crate) type FaultResult<T> = Result<T, Box<Fault>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_names_program_size_and_seed() {
        let e = RunError {
            kind: RunErrorKind::World,
            message: "pointer `carry` moved off the left edge of row 2".into(),
            program: Some("CARRY".into()),
            span: Some(Span::new(9, 25)),
            label: Some("moved off the pad".into()),
            hint: None,
            size: 3,
            seed: 7,
        };
        assert_eq!(e.to_string(), "pointer `carry` moved off the left edge of row 2 in program CARRY (size 3, seed 7)");
        let src = "program CARRY {\n  move(carry, left)\n}\n";
        let mut e2 = e.clone();
        e2.span = Some(Span::new(18, 35));
        let text = e2.to_diagnostic().render("t.npl", src);
        assert!(text.contains("^^^^^^^^^^^^^^^^^ moved off the pad"), "{text}");
    }
}
