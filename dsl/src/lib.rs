//! `synth-dsl`: NPL source text to a syntax tree.
//!
//! - [`span`]: byte ranges into the source; line and column only when printed.
//! - [`ast`]: the tree as written ([`ast::File`] of [`ast::Item`]s), unresolved.
//! - [`parser`]: [`parse`], nom over the text; never panics, and reports every
//!   syntax error it can recover from as a [`Diagnostic`].
//! - [`visit`]: one walk over the tree ([`visit::Visitor`]) for the passes
//!   that read it as written.
//! - [`diagnostic`]: the one error type of the whole toolchain and its
//!   rustc-style renderer.
//!
//! This crate does no IO.

pub mod ast;
pub mod diagnostic;
pub mod distance;
pub mod parser;
pub mod span;
pub mod visit;

pub use diagnostic::{render_all, Diagnostic, Label, Severity};
pub use distance::edit_distance;
pub use parser::parse;
pub use span::Span;
