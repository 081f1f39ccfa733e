//! The bodies: `input` (slot 0 is the size), `expect` (over `input`'s
//! top-level bindings) and every program, each checked and lowered by
//! [`crate::lower`], which also records what their names resolve to.

use crate::builtins::Ty;
use crate::ir::{Expr, ParamKind, Proc};
use crate::lower::{phrase, Local, Lowerer, Names, Place, ProgSig, Resolutions};
use crate::task::ProgramId;
use crate::value::Value;
use synth_dsl::ast;
use synth_dsl::{Diagnostic, Span};

/// The `input` block as a procedure, and the scope `expect` sees. On a tape
/// (`cells` is the span of the world's `cells` argument) slot 1 is the
/// number of cells, visible as `cells`.
pub(super) fn input(
    input: Option<&ast::Input>,
    names: &Names,
    cells: Option<Span>,
    diags: &mut Vec<Diagnostic>,
) -> (Proc, Vec<Local>) {
    let mut input_proc = Proc { name: "input".into(), ..Proc::default() };
    let mut expect_scope: Vec<Local> = Vec::new();
    match input {
        Some(input) => {
            let mut lw = Lowerer::new(names, Place::Input, diags);
            lw.declare(&input.param, Ty::Int, None, "size parameter");
            if let Some(span) = cells {
                lw.declare(&ast::Ident { name: "cells".into(), span }, Ty::Int, None, "tape size");
            }
            lw.lower_stmts(&input.body.stmts);
            expect_scope = lw.scopes[0].clone();
            input_proc.code = std::mem::take(&mut lw.code);
            input_proc.spans = std::mem::take(&mut lw.spans);
            input_proc.slot_names = std::mem::take(&mut lw.slot_names);
            input_proc.slots = input_proc.slot_names.len() as u16;
        }
        None => {
            diags.push(
                Diagnostic::error("the file has no `input` block").hint(
                    "sample an input of size `n`, e.g. `input(n) { let xs = random_list(n, 0..10); write_list(row: 0, xs) }`",
                ),
            );
            input_proc.slot_names = vec!["n".into()];
            if cells.is_some() {
                input_proc.slot_names.push("cells".into());
            }
            input_proc.slots = input_proc.slot_names.len() as u16;
        }
    }
    (input_proc, expect_scope)
}

/// `expect`: its lowered form, span and text.
pub(super) fn expect(
    expect: Option<&ast::Expr>,
    scope: Vec<Local>,
    input: &Proc,
    names: &Names,
    diags: &mut Vec<Diagnostic>,
) -> (Expr, Span, String) {
    match expect {
        Some(e) => {
            let mut lw = Lowerer::new(names, Place::Expect, diags);
            lw.scopes[0] = scope;
            lw.slot_names = input.slot_names.clone();
            let (ty, ir) = lw.lower_expr(e);
            if !crate::lower::accepts(Ty::Bool, ty) {
                diags.push(
                    Diagnostic::error(format!("`expect` must be a boolean, found {}", phrase(ty)))
                        .at_labelled(e.span, "not a boolean")
                        .hint("compare the result with what it should be, e.g. `expect read_number(row: 3) == a + b`"),
                );
            }
            (ir, e.span, e.to_string())
        }
        None => {
            diags.push(
                Diagnostic::error("the file has no `expect`")
                    .hint("say what a correct result is, e.g. `expect read_list(row: 0) == sorted(xs)`"),
            );
            (Expr::Const(Value::Bool(true)), Span::default(), String::new())
        }
    }
}

/// Every program's procedure and resolutions, in id order; the bodies of
/// duplicate definitions are checked too, then dropped.
pub(super) fn programs(
    programs: &[&ast::Program],
    bodies: &[&ast::Program],
    sigs: &[ProgSig],
    names: &Names,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Proc>, Vec<Resolutions>) {
    if programs.is_empty() {
        diags.push(
            Diagnostic::error("the file has no programs").hint("add a reference program: `program MAIN { ... }`"),
        );
    }
    let mut procs = Vec::new();
    let mut resolved = Vec::new();
    for (i, p) in bodies.iter().enumerate() {
        let id = (i + 1) as ProgramId;
        let mut lw = Lowerer::new(names, Place::Program(id), diags);
        for (param, sig) in p.params.iter().zip(&sigs[i].params) {
            let ty = match sig.kind {
                ParamKind::Pointer => Ty::Pointer,
                ParamKind::Dir => Ty::Dir,
                ParamKind::Value => Ty::Any,
            };
            lw.declare(param, ty, Some(sig.kind), "parameter");
        }
        lw.lower_block(&p.body);
        resolved.push(lw.resolved);
        procs.push(Proc {
            name: sigs[i].name.clone(),
            params: sigs[i].params.iter().map(|s| (s.name.clone(), s.kind)).collect(),
            code: lw.code,
            spans: lw.spans,
            slots: lw.slot_names.len() as u16,
            slot_names: lw.slot_names,
        });
    }
    // Bodies of duplicate programs are checked too, then dropped.
    for p in programs {
        if let Some(i) = sigs.iter().position(|s| s.name == p.name.name) {
            if !std::ptr::eq(bodies[i], *p) {
                let mut lw = Lowerer::new(names, Place::Program((i + 1) as ProgramId), diags);
                for param in &p.params {
                    lw.declare(param, Ty::Any, Some(ParamKind::Value), "parameter");
                }
                lw.lower_block(&p.body);
            }
        }
    }

    (procs, resolved)
}
