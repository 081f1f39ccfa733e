//! The entry program: the `entry NAME` item, else the first program. It
//! must exist and take no parameters.

use crate::lower::ProgSig;
use crate::suggest;
use crate::task::ProgramId;
use synth_dsl::ast::Ident;
use synth_dsl::Diagnostic;

/// The entry's id (1, the first program, when it cannot be resolved).
pub(super) fn entry(item: Option<&Ident>, sigs: &[ProgSig], diags: &mut Vec<Diagnostic>) -> ProgramId {
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
    if let Some(sig) = sigs.get(entry as usize - 1) {
        if !sig.params.is_empty() {
            let first = sig.params[0].span;
            let last = sig.params[sig.params.len() - 1].span;
            diags.push(
                Diagnostic::error(format!("the entry program `{}` cannot take parameters", sig.name))
                    .at_labelled(first.to(last), "nothing passes these")
                    .hint("the entry program runs with no arguments; call this one from a parameterless program"),
            );
        }
    }

    entry
}
