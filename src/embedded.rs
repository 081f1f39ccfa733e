//! Tasks embedded in a Rust program: what `synth::npl!` and
//! `synth::include_npl!` expand to (`docs/embedding.md`).
//!
//! Both macros parse and compile the task when the Rust crate is compiled,
//! with the same `synth_compiler::compile` that `synth check` starts with; an
//! NPL error (the lint's included) is a Rust compile error. A program that
//! builds therefore holds only tasks that compile, and an [`EmbeddedTask`]
//! is a `const` value holding the task's text, to be compiled again at run
//! time by [`EmbeddedTask::task`]:
//!
//! ```
//! use std::sync::LazyLock;
//! use synth::embedded::EmbeddedTask;
//!
//! static INCREMENT: EmbeddedTask = synth::npl! {
//!     task increment
//!     world scratchpad(rows: 1, cols: n + 1, base: 2) {
//!       pointer p on row 0 at right
//!     }
//!     input(n) {
//!       let a = random_number(digits: n)
//!       write_number(row: 0, a)
//!     }
//!     expect read_number(row: 0) == a + 1
//!     program INCREMENT {
//!       while p == 1 {
//!         write(p, 0)
//!         move(p, left)
//!       }
//!       write(p, 1)
//!     }
//! };
//! static TASK: LazyLock<synth::Task> = LazyLock::new(|| INCREMENT.task());
//!
//! assert_eq!(TASK.name, "increment");
//! assert!(TASK.trace(4, 0).is_ok());
//! ```

use crate::source::Source;
use synth_compiler::{Compiled, Task};

/// An NPL task checked when the Rust crate was compiled. Made by
/// `synth::npl!` and `synth::include_npl!`, never by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddedTask {
    name: &'static str,
    stem: &'static str,
    display: &'static str,
    text: &'static str,
}

impl EmbeddedTask {
    #[doc(hidden)]
    pub const fn __new(name: &'static str, stem: &'static str, display: &'static str, text: &'static str) -> EmbeddedTask {
        EmbeddedTask { name, stem, display, text }
    }

    /// The task's name: its `task NAME` line; without one, `embedded` for
    /// `npl!` and the file stem for `include_npl!`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The NPL text. For `npl!` it is rebuilt from the tokens with each at its
    /// line and column in the Rust file (blank lines before the first, `//`
    /// comments gone), so that a diagnostic rendered against it names the
    /// Rust file's lines; for `include_npl!` it is the file's text.
    pub const fn text(&self) -> &'static str {
        self.text
    }

    /// As a [`Source`], for [`crate::check()`] (which also runs the reference
    /// programs): shown as the Rust file that holds the `npl!` or the path
    /// given to `include_npl!`.
    pub fn source(&self) -> Source {
        Source::from_text(self.display, self.stem, self.text)
    }

    /// Compiles the text, with its warnings.
    ///
    /// # Panics
    ///
    /// Only if the text does not compile. The macro compiled the same text
    /// with the same `synth-compiler` when the crate was built, so this would
    /// take a compiler that changed between the build and the run, which the
    /// one `synth` version the macro and this crate come from rules out.
    pub fn compile(&self) -> Compiled {
        match synth_compiler::compile(self.text, self.stem) {
            Ok(c) => c,
            Err(diags) => panic!(
                "the embedded task `{}` checked at build time does not compile at run time:\n{}",
                self.name,
                synth_dsl::render_all(&diags, self.display, self.text)
            ),
        }
    }

    /// The compiled task (see [`EmbeddedTask::compile`] for when it panics).
    /// Each call compiles the text again; keep the result, e.g. in a
    /// `std::sync::LazyLock<Task>`.
    pub fn task(&self) -> Task {
        self.compile().task
    }
}
