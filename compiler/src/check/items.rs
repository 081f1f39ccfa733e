//! The items of a file: at most one of each kind but programs, in source
//! order, with an error for every second `task`, `world`, `input`, `expect`,
//! `learn` or `entry`. `question` items are collected for table worlds; the
//! other world kinds report them.

use synth_dsl::ast::{self, Ident, ItemKind};
use synth_dsl::{Diagnostic, Span};

/// The items of a file, one of each kind but programs.
#[derive(Default)]
pub(super) struct Items<'f> {
    pub task: Option<(&'f Ident, Span)>,
    pub world: Option<(&'f ast::World, Span)>,
    pub input: Option<(&'f ast::Input, Span)>,
    pub expect: Option<(&'f ast::Expr, Span)>,
    pub learn: Option<(&'f ast::Learn, Span)>,
    pub entry: Option<(&'f Ident, Span)>,
    pub programs: Vec<&'f ast::Program>,
    pub questions: Vec<&'f ast::Question>,
}

fn once<'f, T>(slot: &mut Option<(&'f T, Span)>, value: &'f T, span: Span, what: &str, diags: &mut Vec<Diagnostic>) {
    match slot {
        Some((_, first)) => diags.push(
            Diagnostic::error(format!("the file has two `{what}` items"))
                .at_labelled(span, format!("a second `{what}`"))
                .label(*first, "the first one is here")
                .hint(format!("a task has one `{what}`; merge them or delete one")),
        ),
        None => *slot = Some((value, span)),
    }
}

/// Sorts the items of `file` by kind.
pub(super) fn collect<'f>(file: &'f ast::File, diags: &mut Vec<Diagnostic>) -> Items<'f> {
    let mut items = Items::default();
    for item in &file.items {
        let span = item.span;
        match &item.kind {
            ItemKind::Task(id) => once(&mut items.task, id, span, "task", diags),
            ItemKind::World(w) => once(&mut items.world, w, span, "world", diags),
            ItemKind::Input(i) => once(&mut items.input, i, span, "input", diags),
            ItemKind::Expect(e) => once(&mut items.expect, e, span, "expect", diags),
            ItemKind::Learn(l) => once(&mut items.learn, l, span, "learn", diags),
            ItemKind::Entry(id) => once(&mut items.entry, id, span, "entry", diags),
            ItemKind::Program(p) => items.programs.push(p),
            ItemKind::Question(q) => items.questions.push(q),
        }
    }
    items
}
