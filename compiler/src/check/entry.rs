//! The entry program: the `entry NAME` item, else the first program. It
//! must exist and take no parameters, with one exception: on a tape, it
//! may declare `cells` and `timesteps`, which the world supplies (a
//! program extracted from a trained NRAM needs its modulus and its step
//! budget; docs/npl.md, "What a program sees").

use crate::ir::WorldArg;
use crate::lower::ProgSig;
use crate::suggest;
use crate::task::ProgramId;
use synth_dsl::ast::Ident;
use synth_dsl::Diagnostic;

/// The entry's id (1, the first program, when it cannot be resolved) and
/// the world's value for each of its parameters. `tape` says whether the
/// world is a tape and `timesteps` whether the task has a `learn nram`
/// block with `timesteps`.
pub(super) fn entry(
    item: Option<&Ident>,
    sigs: &[ProgSig],
    tape: bool,
    timesteps: bool,
    diags: &mut Vec<Diagnostic>,
) -> (ProgramId, Vec<WorldArg>) {
    let entry: ProgramId = match item {
        Some(id) => match sigs.iter().position(|s| s.name == id.name) {
            Some(i) => (i + 1) as ProgramId,
            None => {
                let mut d = Diagnostic::error(format!("the entry program `{}` is not defined", id.name))
                    .at_labelled(id.span, "no program has this name");
                d = match suggest::did_you_mean(&id.name, sigs.iter().map(|s| s.name.as_str())) {
                    Some(h) => d.hint(h),
                    None if sigs.is_empty() => d.hint("define it: `program MAIN { ... }`"),
                    None => d.hint(format!(
                        "the programs are {}",
                        sigs.iter().map(|s| format!("`{}`", s.name)).collect::<Vec<_>>().join(", ")
                    )),
                };
                diags.push(d);
                1
            }
        },
        None => 1,
    };
    let Some(sig) = sigs.get(entry as usize - 1) else { return (entry, Vec::new()) };
    if sig.params.is_empty() {
        return (entry, Vec::new());
    }
    if !tape {
        let first = sig.params[0].span;
        let last = sig.params[sig.params.len() - 1].span;
        diags.push(
            Diagnostic::error(format!("the entry program `{}` cannot take parameters", sig.name))
                .at_labelled(first.to(last), "nothing passes these")
                .hint("the entry program runs with no arguments; call this one from a parameterless program"),
        );
        return (entry, Vec::new());
    }
    let mut args = Vec::with_capacity(sig.params.len());
    for p in &sig.params {
        match p.name.as_str() {
            "cells" => args.push(WorldArg::Cells),
            "timesteps" => {
                if !timesteps {
                    diags.push(
                        Diagnostic::error(format!(
                            "the entry program `{}` takes `timesteps`, but the task has no `timesteps` to give it",
                            sig.name
                        ))
                        .at_labelled(p.span, "nothing supplies this")
                        .hint("`timesteps` is the `learn nram` block's step budget: add `timesteps: EXPR` to it"),
                    );
                }
                args.push(WorldArg::Timesteps);
            }
            other => {
                let mut d =
                    Diagnostic::error(format!("the entry program `{}` cannot take a parameter `{other}`", sig.name))
                        .at_labelled(p.span, "nothing passes this");
                d = match suggest::did_you_mean(other, ["cells", "timesteps"]) {
                    Some(h) => d.hint(h),
                    None => d.hint(
                        "on a tape the entry program may take only `cells` (the tape's size) and `timesteps` (the `learn nram` block's step budget), which the world passes",
                    ),
                };
                diags.push(d);
            }
        }
    }
    (entry, args)
}
