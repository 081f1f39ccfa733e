//! Program signatures, known before any body is lowered (calls may go
//! forward): names in UPPER_CASE, defined once, at most [`MAX_PARAMS`]
//! parameters, and each parameter's kind (pointer, direction or value)
//! inferred from how the bodies use it.

use crate::builtins::{self, Kind, Ty, WorldKind};
use crate::ir::ParamKind;
use crate::lower::{ParamSig, ProgSig};
use synth_dsl::ast::{self, CallArg, ExprKind, Ident};
use synth_dsl::visit::{walk_expr, Visitor};
use synth_dsl::{Diagnostic, Span};

/// A program may take at most this many parameters (NPI's argument slots).
const MAX_PARAMS: usize = crate::task::ARG_SLOTS;

/// The signature of every program defined once, in order, and its syntax
/// (`bodies[i]` has signature `sigs[i]`).
pub(super) fn signatures<'f>(
    programs: &[&'f ast::Program],
    world: WorldKind,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<ProgSig>, Vec<&'f ast::Program>) {
    let mut sigs: Vec<ProgSig> = Vec::new();
    let mut bodies: Vec<&ast::Program> = Vec::new();
    for p in programs {
        let name = &p.name;
        if !name.is_program_name() {
            let upper = name.name.to_uppercase();
            diags.push(
                Diagnostic::error(format!("program names are written in UPPER_CASE, found `{}`", name.name))
                    .at_labelled(name.span, "not an UPPER_CASE name")
                    .hint(format!("write `program {upper}`; lower_case names are variables, pointers and built-ins")),
            );
        }
        if let Some(first) = sigs.iter().find(|s| s.name == name.name) {
            diags.push(
                Diagnostic::error(format!("the program `{}` is defined twice", name.name))
                    .at_labelled(name.span, "defined again here")
                    .label(first.span, "first defined here")
                    .hint("rename one of them; every program needs its own name"),
            );
            continue;
        }
        if p.params.len() > MAX_PARAMS {
            let extra = &p.params[MAX_PARAMS];
            diags.push(
                Diagnostic::error(format!(
                    "program `{}` takes {} parameters, but a program can take at most {MAX_PARAMS}",
                    name.name,
                    p.params.len()
                ))
                .at_labelled(extra.span.to(p.params[p.params.len() - 1].span), "too many parameters")
                .hint("NPI passes a call's arguments in 3 slots; split the program, or pass fewer values"),
            );
        }
        let params = p
            .params
            .iter()
            .map(|id| ParamSig { name: id.name.clone(), span: id.span, kind: ParamKind::Value, why: None })
            .collect();
        sigs.push(ProgSig { name: name.name.clone(), span: name.span, params });
        bodies.push(*p);
    }

    infer_param_kinds(programs, world, &mut sigs);
    (sigs, bodies)
}

/// Infers which parameters hold pointers or directions: a parameter passed
/// where a built-in wants a pointer (`move(p, d)`) or a direction, or to a
/// program parameter already known to hold one, is one. Iterates to a fixed
/// point so that kinds flow through chains of calls.
fn infer_param_kinds(programs: &[&ast::Program], world: WorldKind, sigs: &mut [ProgSig]) {
    loop {
        let mut found: Vec<(usize, usize, ParamKind, Span)> = Vec::new();
        for p in programs {
            let Some(i) = sigs.iter().position(|s| s.name == p.name.name) else { continue };
            let params = &sigs[i].params;
            let mut visit = |callee: &Ident, args: &[CallArg]| {
                let kinds: Vec<Option<(usize, ParamKind)>> = {
                    let mut positional = 0usize;
                    args.iter()
                        .map(|a| {
                            let slot = match &a.name {
                                Some(n) => param_index(callee, n, world, sigs),
                                None => {
                                    positional += 1;
                                    Some(positional - 1)
                                }
                            }?;
                            let kind = param_kind(callee, slot, world, sigs)?;
                            Some((slot, kind))
                        })
                        .collect()
                };
                for (a, k) in args.iter().zip(kinds) {
                    let Some((_, kind)) = k else { continue };
                    if let ExprKind::Name(id) = &a.value.kind {
                        if let Some(j) = params.iter().position(|q| q.name == id.name) {
                            if params[j].kind == ParamKind::Value {
                                found.push((i, j, kind, a.value.span));
                            }
                        }
                    }
                }
            };
            walk_calls(&p.body, &mut visit);
        }
        if found.is_empty() {
            return;
        }
        for (i, j, kind, span) in found {
            if sigs[i].params[j].kind == ParamKind::Value {
                sigs[i].params[j].kind = kind;
                sigs[i].params[j].why = Some(span);
            }
        }
    }
}

/// The index of a named argument's parameter.
fn param_index(callee: &Ident, name: &Ident, world: WorldKind, sigs: &[ProgSig]) -> Option<usize> {
    if callee.is_program_name() {
        sigs.iter().find(|s| s.name == callee.name)?.params.iter().position(|p| p.name == name.name)
    } else {
        builtins::lookup_in(&callee.name, world)?.params.iter().position(|p| p.name == name.name)
    }
}

/// The pointer or direction kind a callee wants at a parameter.
fn param_kind(callee: &Ident, slot: usize, world: WorldKind, sigs: &[ProgSig]) -> Option<ParamKind> {
    if callee.is_program_name() {
        let k = sigs.iter().find(|s| s.name == callee.name)?.params.get(slot)?.kind;
        (k != ParamKind::Value).then_some(k)
    } else {
        let b = builtins::lookup_in(&callee.name, world)?;
        if !matches!(b.kind, Kind::Action | Kind::Read) {
            return None;
        }
        match b.params.get(slot)?.ty {
            Ty::Pointer => Some(ParamKind::Pointer),
            Ty::Dir => Some(ParamKind::Dir),
            _ => None,
        }
    }
}

/// Calls `f` on every call in a block, with its callee and arguments.
fn walk_calls(b: &ast::Block, f: &mut dyn FnMut(&Ident, &[CallArg])) {
    struct Calls<'a>(&'a mut dyn FnMut(&Ident, &[CallArg]));
    impl Visitor for Calls<'_> {
        fn visit_expr(&mut self, e: &ast::Expr) {
            if let ExprKind::Call { callee, args } = &e.kind {
                (self.0)(callee, args);
            }
            walk_expr(self, e);
        }
    }
    Calls(f).visit_block(b);
}
