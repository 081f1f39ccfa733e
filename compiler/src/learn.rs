//! The `learn` block: the defaults of `synth learn`, read into a
//! [`LearnSpec`], plus the two settings the compiler itself uses.
//!
//! A setting's key is its words joined with `_` (`train sizes` is
//! `train_sizes`). The compiler interprets:
//!
//! | setting | value | default |
//! | --- | --- | --- |
//! | `train sizes` | a range `1..=10`, a list `[2, 4, 8]` or one size | `1..=10` |
//! | `traces` | traces in all, spread over the train sizes | 32 per train size |
//! | `test sizes` | as `train sizes` | twice and ten times the largest train size |
//! | `steps`, `time` (seconds), `seed` | non-negative integers | unset |
//! | `return` | `after_call` or `own_step` (see [`EndConvention`]) | `own_step` |
//! | `max_steps` | interpreter steps per reference run | 50 000 000 |
//! | `max_depth` | program frames alive at once | 100 000 |
//! | `max_int_bits` | bits of the largest integer a run builds (at least 64) | 1 048 576 |
//! | `max_list_len` | elements of the longest list a run builds | 1 048 576 |
//! | `max_memory` | bytes a run holds: pad, trace, frames, values | 1 073 741 824 |
//!
//! The learner must be one of the catalogue ([`crate::learners`]) that synth
//! can train, and fit the world: `npi` learns scratchpads (from traces),
//! `nram` tapes (from input/output pairs). Without a `learn` block the
//! learner is the world's (`npi` for a scratchpad, `nram` for a tape). Every
//! other setting must be one of that learner's, with a value of the kind it
//! takes; it goes, converted, into [`LearnSpec::settings`] for the learner to
//! interpret (and range-check), except NRAM's `timesteps`, an expression of
//! the size that the compiler keeps and evaluates for every example. A
//! `learn nram` block must say `timesteps`: how long the machine runs is
//! part of the task, and no default fits every task.

use crate::builtins::WorldKind;
use crate::ir::Limits;
use crate::learners::{self, Learner, ValueKind};
use crate::suggest;
use crate::task::{EndConvention, LearnSpec, SettingValue};
use num_traits::ToPrimitive;
use std::collections::BTreeMap;
use synth_dsl::ast::{self, ExprKind, UnOp};
use synth_dsl::{Diagnostic, Span};

/// The largest input size synth accepts in a `learn` block.
const MAX_SIZE: usize = 1_000_000;

const KNOWN: &[&str] = &[
    "train_sizes",
    "traces",
    "test_sizes",
    "steps",
    "time",
    "seed",
    "return",
    "max_steps",
    "max_depth",
    "max_int_bits",
    "max_list_len",
    "max_memory",
];

/// What the `learn` block says.
pub(crate) struct LearnOut<'f> {
    pub spec: LearnSpec,
    pub end: EndConvention,
    pub limits: Limits,
    /// NRAM's `timesteps: EXPR`, for the checker to lower.
    pub timesteps: Option<&'f ast::Expr>,
}

/// The world's learner: the one that learns it when a file has no `learn`
/// block.
fn default_learner(world: WorldKind) -> &'static str {
    match world {
        WorldKind::Tape => "nram",
        WorldKind::Table => "np",
        _ => "npi",
    }
}

/// Reads the `learn` block of a file whose world is `world` (declared at
/// `world_span`, the span of its kind).
pub(crate) fn lower_learn<'f>(
    learn: Option<&'f ast::Learn>,
    world: WorldKind,
    world_span: Span,
    diags: &mut Vec<Diagnostic>,
) -> LearnOut<'f> {
    let mut spec = LearnSpec {
        learner: learn.map_or_else(|| default_learner(world).to_string(), |l| l.learner.name.clone()),
        train_sizes: Vec::new(),
        traces: 0,
        test_sizes: Vec::new(),
        steps: None,
        time: None,
        seed: None,
        settings: BTreeMap::new(),
    };
    let mut end = EndConvention::OwnStep;
    let mut limits = Limits::default();
    let mut traces: Option<usize> = None;
    let mut test: Option<Vec<usize>> = None;
    let mut train: Option<Vec<usize>> = None;
    let mut seen: Vec<(String, Span)> = Vec::new();
    let mut timesteps: Option<&ast::Expr> = None;
    let learner = match learn {
        Some(l) => known_learner(&l.learner, world, diags).filter(|learner| fits_world(learner, &l.learner, world, diags)),
        None => learners::lookup(default_learner(world)),
    };

    for clause in learn.iter().flat_map(|l| l.lines.iter()).flat_map(|line| line.clauses.iter()) {
        if clause.words.is_empty() {
            diags.push(
                Diagnostic::error("expected a setting name")
                    .at_labelled(clause.span, "a value without a name")
                    .hint("write settings as `name value`, e.g. `traces 64`"),
            );
            continue;
        }
        let key: String = clause.words.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join("_");
        let shown = key.replace('_', " ");
        let key_span = clause.words[0].span.to(clause.words[clause.words.len() - 1].span);
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            diags.push(
                Diagnostic::error(format!("the setting `{shown}` is given twice"))
                    .at_labelled(key_span, "given again here")
                    .label(*first, "first given here"),
            );
            continue;
        }
        seen.push((key.clone(), key_span));
        let value = clause.value.as_ref();
        let need_value = |diags: &mut Vec<Diagnostic>, example: &str| {
            diags.push(
                Diagnostic::error(format!("the setting `{shown}` needs a value"))
                    .at_labelled(key_span, "no value")
                    .hint(format!("e.g. `{shown} {example}`")),
            );
        };
        match key.as_str() {
            "train_sizes" | "test_sizes" => match value {
                Some(v) => {
                    if let Some(sizes) = sizes(v, &shown, diags) {
                        if key == "train_sizes" {
                            train = Some(sizes);
                        } else {
                            test = Some(sizes);
                        }
                    }
                }
                None => need_value(diags, "1..=10"),
            },
            "traces" | "steps" | "time" | "seed" | "max_steps" | "max_depth" | "max_int_bits" | "max_list_len"
            | "max_memory" => {
                let Some(v) = value else {
                    need_value(diags, "100");
                    continue;
                };
                let allow_zero = key == "seed";
                let Some(n) = count(v, &shown, allow_zero, diags) else { continue };
                match key.as_str() {
                    "traces" => traces = Some(n as usize),
                    "steps" => spec.steps = Some(n),
                    "time" => spec.time = Some(n),
                    "seed" => spec.seed = Some(n),
                    "max_steps" => limits.max_steps = n,
                    "max_list_len" => limits.max_list_len = n,
                    "max_memory" => limits.max_memory = n,
                    // Integers up to 64 bits take the interpreter's fast path,
                    // which does not look at the limit.
                    "max_int_bits" if n < 64 => diags.push(
                        Diagnostic::error("`max int bits` is at least 64")
                            .at_labelled(v.span, "too small")
                            .hint("integers that fit in 64 bits are always allowed"),
                    ),
                    "max_int_bits" => limits.max_int_bits = n,
                    _ => match u32::try_from(n) {
                        Ok(d) => limits.max_depth = d,
                        Err(_) => diags.push(
                            Diagnostic::error(format!("`max depth` is at most {}", u32::MAX))
                                .at_labelled(v.span, "too large"),
                        ),
                    },
                }
            }
            "return" => match value.map(|v| &v.kind) {
                Some(ExprKind::Name(id)) if id.name == "after_call" => end = EndConvention::AfterCall,
                Some(ExprKind::Name(id)) if id.name == "own_step" => end = EndConvention::OwnStep,
                _ => diags.push(
                    Diagnostic::error("`return` is `after_call` or `own_step`")
                        .at_labelled(value.map_or(key_span, |v| v.span), "expected `after_call` or `own_step`")
                        .hint("`return: after_call` predicts a frame's end on its last call, as in the NPI paper"),
                ),
            },
            _ => {
                // An expression setting of a learner that was refused (a
                // `learn npi` block on a tape): the learner's error says it.
                let expr = |l: &Learner| l.setting(&key).is_some_and(|s| s.kind == ValueKind::Expr);
                if learner.is_none() && learners::LEARNERS.iter().any(expr) {
                    continue;
                }
                if let Some(learner) = learner {
                    if !learner_setting(learner, &key, key_span, value, diags) {
                        continue;
                    }
                    if learner.setting(&key).is_some_and(|s| s.kind == ValueKind::Expr) {
                        timesteps = value;
                        continue;
                    }
                }
                match setting_value(value) {
                    Ok(v) => {
                        spec.settings.insert(key, v);
                    }
                    Err(span) => diags.push(
                        Diagnostic::error(format!("the setting `{shown}` has a value synth cannot pass on"))
                            .at_labelled(span, "not a number, word or list of integers")
                            .hint("a setting's value is a number (`lr 3e-4`), a word (`optimizer adam`), a list of integers or nothing (a flag)"),
                    ),
                }
            }
        }
    }

    if learner.is_some_and(|l| l.setting("timesteps").is_some_and(|s| s.kind == ValueKind::Expr)) && timesteps.is_none() {
        let d = match learn {
            Some(l) => Diagnostic::error(format!("`learn {}` needs `timesteps`", l.learner.name))
                .at_labelled(l.learner.span, "no `timesteps` in this block"),
            None => Diagnostic::error("a tape world needs a `learn nram` block that says its `timesteps`")
                .at_labelled(world_span, "learned by NRAM"),
        };
        diags.push(d.hint(
            "say how many steps the machine runs at size `n`, e.g. `timesteps: n + 3`; the expression may use `n` and `cells`, and should comfortably allow a natural circuit",
        ));
    }

    spec.train_sizes = train.unwrap_or_else(|| (1..=10).collect());
    spec.traces = traces.unwrap_or(32 * spec.train_sizes.len());
    let largest = spec.train_sizes.iter().copied().max().unwrap_or(10);
    spec.test_sizes = test.unwrap_or_else(|| vec![largest * 2, largest * 10]);
    LearnOut { spec, end, limits, timesteps }
}

/// Whether `learner` learns `world`; reports the mismatch if not.
fn fits_world(learner: &Learner, name: &ast::Ident, world: WorldKind, diags: &mut Vec<Diagnostic>) -> bool {
    let wanted = default_learner(world);
    // The NTM is the other learner of tape worlds (a baseline beside NRAM).
    if learner.name == wanted || (learner.name == "ntm" && world == WorldKind::Tape) {
        return true;
    }
    let (why, hint) = match world {
        WorldKind::Table => (
            format!("`{}` does not learn table worlds: the Neural Programmer does, from questions and answers", learner.name),
            "write `learn np { ... }`".to_string(),
        ),
        _ if learner.name == "np" => (
            format!("`np` learns table worlds, but this task's world is a {}", world.name()),
            format!("write `learn {wanted} {{ ... }}`"),
        ),
        WorldKind::Tape => (
            format!("`{}` learns from traces of a scratchpad, but a tape world is learned from input/output pairs", learner.name),
            "write `learn nram { ... }`".to_string(),
        ),
        _ => (
            format!("`{}` learns tape worlds, but this task's world is a {}", learner.name, world.name()),
            format!("write `learn {wanted} {{ ... }}`, or declare a tape: `world tape(cells: 2 * n + 2)`"),
        ),
    };
    diags.push(Diagnostic::error(why).at_labelled(name.span, "does not learn this world").hint(hint));
    false
}

/// The learner a `learn` block names, if synth can train it; reports an
/// unknown learner (with the closest name) or one not supported yet.
///
/// A learner synth cannot train yet is still checked when it is the one that
/// learns `world` (`learn np` on a table), so that its settings are checked
/// before the learner exists; `synth learn` refuses it.
fn known_learner(name: &ast::Ident, world: WorldKind, diags: &mut Vec<Diagnostic>) -> Option<&'static Learner> {
    let trainable = || learners::LEARNERS.iter().filter(|l| l.implemented).map(|l| format!("`{}`", l.name));
    match learners::lookup(&name.name) {
        Some(l) if l.implemented || l.name == default_learner(world) => Some(l),
        Some(l) => {
            diags.push(
                Diagnostic::error(format!("learner `{}` is not supported yet", l.name))
                    .at_labelled(name.span, "not supported yet")
                    .hint(format!(
                        "`{}` is {}; synth trains {} today",
                        l.name,
                        l.doc,
                        trainable().collect::<Vec<_>>().join(", ")
                    )),
            );
            None
        }
        None => {
            let mut d =
                Diagnostic::error(format!("unknown learner `{}`", name.name)).at_labelled(name.span, "not a learner");
            let all: Vec<String> = learners::LEARNERS.iter().map(|l| format!("`{}`", l.name)).collect();
            d = match suggest::did_you_mean(&name.name, learners::LEARNERS.iter().map(|l| l.name)) {
                Some(h) => d.hint(h),
                None => d.hint(format!("the learners are {}", all.join(", "))),
            };
            diags.push(d);
            None
        }
    }
}

/// Checks a setting that is not one of the shared ones against `learner`'s
/// catalogue: an unknown name or a value of the wrong kind is an error.
/// Returns whether the setting is fine.
fn learner_setting(
    learner: &Learner,
    key: &str,
    key_span: Span,
    value: Option<&ast::Expr>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let shown = key.replace('_', " ");
    let Some(setting) = learner.setting(key) else {
        let names = KNOWN.iter().copied().chain(learner.settings.iter().map(|s| s.name));
        let quoted = |names: &mut dyn Iterator<Item = &str>| {
            names.map(|k| format!("`{}`", k.replace('_', " "))).collect::<Vec<_>>().join(", ")
        };
        // `fuse concat` reads as the words of one name; a word value needs `:`.
        let word_value = learner.settings.iter().find_map(|s| {
            let rest = key.strip_prefix(s.name)?.strip_prefix('_')?;
            (matches!(s.kind, ValueKind::Word(_) | ValueKind::Words { .. } | ValueKind::Expr) && value.is_none())
                .then_some((s.name, rest))
        });
        let d = Diagnostic::error(format!("the learner `{}` has no setting `{shown}`", learner.name))
            .at_labelled(key_span, "unknown setting");
        diags.push(match (word_value, suggest::closest(key, names)) {
            (Some((name, rest)), _) => d.hint(format!(
                "a value that is a word follows a colon: `{}: {}`",
                name.replace('_', " "),
                rest.replace('_', " ")
            )),
            (None, Some(known)) => d.hint(format!("did you mean `{}`?", known.replace('_', " "))),
            (None, None) => d.hint(format!(
                "`{}` takes {}; every learner takes {}",
                learner.name,
                quoted(&mut learner.settings.iter().map(|s| s.name)),
                quoted(&mut KNOWN.iter().copied())
            )),
        });
        return false;
    };
    let fits = match (setting.kind, value.map(|v| &v.kind)) {
        (ValueKind::Positive, Some(_)) => value.and_then(literal).is_some_and(|x| x >= 1),
        (ValueKind::Count, Some(_)) => value.and_then(literal).is_some_and(|x| x >= 0),
        (ValueKind::Number, Some(ExprKind::Float(_))) => true,
        (ValueKind::Number, Some(ExprKind::Unary { op: UnOp::Neg, expr })) => {
            matches!(expr.kind, ExprKind::Float(_) | ExprKind::Int(_))
        }
        (ValueKind::Number, Some(ExprKind::Int(_))) => true,
        (ValueKind::Word(words), Some(ExprKind::Name(id))) => words.contains(&id.name.as_str()),
        (ValueKind::Sizes, Some(ExprKind::List(items))) => {
            !items.is_empty() && items.iter().all(|e| literal(e).is_some_and(|x| x >= 1))
        }
        (ValueKind::Sizes, Some(_)) => value.and_then(literal).is_some_and(|x| x >= 1),
        (ValueKind::Words { list, .. }, Some(ExprKind::List(items))) => {
            !items.is_empty()
                && items.iter().all(|e| matches!(&e.kind, ExprKind::Name(id) if list.contains(&id.name.as_str())))
        }
        (ValueKind::Words { alone, .. }, Some(ExprKind::Name(id))) => alone.contains(&id.name.as_str()),
        (ValueKind::Expr, Some(_)) => true,
        (ValueKind::Text, Some(ExprKind::Str(_))) => true,
        _ => false,
    };
    if !fits {
        let want = setting.kind.phrase();
        let (span, found) = match value {
            Some(v) => (v.span, format!("found `{v}`")),
            None => (key_span, "found no value".to_string()),
        };
        let mut d = Diagnostic::error(format!("the {} setting `{shown}` takes {want}, {found}", learner.name))
            .at_labelled(span, format!("not {want}"));
        match (setting.kind, value.map(|v| &v.kind)) {
            (ValueKind::Word(words), Some(ExprKind::Name(id))) => {
                if let Some(h) = suggest::did_you_mean(&id.name, words.iter().copied()) {
                    d = d.hint(h);
                }
            }
            (ValueKind::Words { list, alone }, Some(ExprKind::List(items))) => {
                let bad = items.iter().find(|e| !matches!(&e.kind, ExprKind::Name(id) if list.contains(&id.name.as_str())));
                match bad.map(|e| &e.kind) {
                    Some(ExprKind::Name(id)) => {
                        d = d.label(id.span, "not one of them");
                        if let Some(h) = suggest::did_you_mean(&id.name, list.iter().chain(alone).copied()) {
                            d = d.hint(h);
                        }
                    }
                    Some(_) => {}
                    None => d = d.hint("list at least one"),
                }
                d = d.hint(format!("the names are {}", list.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ")));
            }
            (ValueKind::Words { list, alone }, Some(ExprKind::Name(id))) => {
                if let Some(h) = suggest::did_you_mean(&id.name, alone.iter().copied()) {
                    d = d.hint(h);
                } else if list.contains(&id.name.as_str()) {
                    d = d.hint(format!("a list of one is written in brackets: `[{}]`", id.name));
                }
            }
            _ => {}
        }
        diags.push(d.hint(format!("`{shown}`: {}", setting.doc)));
    }
    fits
}

/// An integer literal (possibly negated) as a `BigInt`-free `i128`.
fn literal(e: &ast::Expr) -> Option<i128> {
    match &e.kind {
        ExprKind::Int(i) => i.to_i128(),
        ExprKind::Unary { op: UnOp::Neg, expr } => literal(expr).map(|v| -v),
        _ => None,
    }
}

fn sizes(v: &ast::Expr, shown: &str, diags: &mut Vec<Diagnostic>) -> Option<Vec<usize>> {
    let bad = |diags: &mut Vec<Diagnostic>, span: Span, msg: String, label: &str| {
        diags.push(
            Diagnostic::error(msg)
                .at_labelled(span, label.to_string())
                .hint(format!("write `{shown} 1..=10`, `{shown} [20, 100, 1000]` or `{shown} 5`")),
        );
        None
    };
    let check = |diags: &mut Vec<Diagnostic>, x: i128, span: Span| -> Option<usize> {
        if x < 1 {
            diags.push(Diagnostic::error(format!("sizes start at 1, found {x}")).at_labelled(span, "not a valid size"));
            None
        } else if x > MAX_SIZE as i128 {
            diags.push(
                Diagnostic::error(format!("size {x} is larger than synth supports ({MAX_SIZE})"))
                    .at_labelled(span, "too large"),
            );
            None
        } else {
            Some(x as usize)
        }
    };
    match &v.kind {
        ExprKind::Int(_) => {
            let x = literal(v)?;
            Some(vec![check(diags, x, v.span)?])
        }
        ExprKind::Range { start, end, inclusive } => {
            let (Some(a), Some(b)) = (literal(start), literal(end)) else {
                return bad(diags, v.span, format!("`{shown}` needs integer bounds"), "not integer literals");
            };
            let b = if *inclusive { b } else { b - 1 };
            if b < a {
                let text = if *inclusive { "..=" } else { ".." };
                return bad(
                    diags,
                    v.span,
                    format!("the range of `{shown}` is empty"),
                    &format!("`{}{text}{}` contains no size", literal(start)?, literal(end)?),
                );
            }
            let a = check(diags, a, start.span)?;
            let b = check(diags, b, end.span)?;
            if b - a >= 100_000 {
                return bad(diags, v.span, format!("`{shown}` lists more than 100000 sizes"), "too many sizes");
            }
            Some((a..=b).collect())
        }
        ExprKind::List(items) => {
            if items.is_empty() {
                return bad(diags, v.span, format!("`{shown}` is empty"), "no sizes");
            }
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for it in items {
                match literal(it) {
                    Some(x) => match check(diags, x, it.span) {
                        Some(s) => out.push(s),
                        None => ok = false,
                    },
                    None => {
                        bad(diags, it.span, format!("`{shown}` lists integers"), "not an integer");
                        ok = false;
                    }
                }
            }
            ok.then_some(out)
        }
        _ => bad(diags, v.span, format!("`{shown}` takes a range, a list or one size"), "not a range or list of sizes"),
    }
}

fn count(v: &ast::Expr, shown: &str, allow_zero: bool, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    match literal(v) {
        Some(x) if x >= i128::from(!allow_zero) && x <= u64::MAX as i128 => Some(x as u64),
        Some(x) => {
            let want = if allow_zero { "a non-negative integer" } else { "a positive integer" };
            diags.push(
                Diagnostic::error(format!("`{shown}` must be {want}, found {x}")).at_labelled(v.span, "out of range"),
            );
            None
        }
        None => {
            diags.push(
                Diagnostic::error(format!("`{shown}` takes an integer"))
                    .at_labelled(v.span, "not an integer literal")
                    .hint(format!("e.g. `{shown} 100`")),
            );
            None
        }
    }
}

fn setting_value(v: Option<&ast::Expr>) -> Result<SettingValue, Span> {
    let Some(v) = v else { return Ok(SettingValue::Flag(true)) };
    match &v.kind {
        ExprKind::Int(_) | ExprKind::Unary { op: UnOp::Neg, .. } if literal(v).is_some() => {
            literal(v).and_then(|x| i64::try_from(x).ok()).map(SettingValue::Int).ok_or(v.span)
        }
        ExprKind::Float(f) => Ok(SettingValue::Float(*f)),
        ExprKind::Unary { op: UnOp::Neg, expr } => match expr.kind {
            ExprKind::Float(f) => Ok(SettingValue::Float(-f)),
            _ => Err(v.span),
        },
        ExprKind::Bool(b) => Ok(SettingValue::Flag(*b)),
        ExprKind::Name(id) => Ok(SettingValue::Word(id.name.clone())),
        ExprKind::Str(s) => Ok(SettingValue::Word(s.clone())),
        ExprKind::Left => Ok(SettingValue::Word("left".into())),
        ExprKind::Right => Ok(SettingValue::Word("right".into())),
        ExprKind::List(items) if !items.is_empty() && items.iter().all(|e| matches!(e.kind, ExprKind::Name(_))) => {
            let words = items.iter().filter_map(|e| match &e.kind {
                ExprKind::Name(id) => Some(id.name.clone()),
                _ => None,
            });
            Ok(SettingValue::Words(words.collect()))
        }
        ExprKind::List(items) => {
            let ints: Option<Vec<i64>> = items.iter().map(|e| literal(e).and_then(|x| i64::try_from(x).ok())).collect();
            ints.map(SettingValue::List).ok_or(v.span)
        }
        ExprKind::Range { start, end, inclusive } => {
            let (Some(a), Some(b)) = (literal(start), literal(end)) else { return Err(v.span) };
            let b = if *inclusive { b } else { b - 1 };
            if b - a > 100_000 {
                return Err(v.span);
            }
            let list: Option<Vec<i64>> = (a..=b).map(|x| i64::try_from(x).ok()).collect();
            list.map(SettingValue::List).ok_or(v.span)
        }
        _ => Err(v.span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use synth_dsl::ast::{Clause, Expr, Ident, Learn, LearnLine};

    fn id(name: &str) -> Ident {
        Ident { name: name.into(), span: Span::default() }
    }

    fn int(i: i64) -> Expr {
        Expr { kind: ExprKind::Int(BigInt::from(i)), span: Span::default() }
    }

    fn clause(words: &[&str], value: Option<Expr>) -> Clause {
        Clause { words: words.iter().map(|w| id(w)).collect(), value, span: Span::default() }
    }

    fn learn(clauses: Vec<Clause>) -> Learn {
        Learn { learner: id("npi"), lines: vec![LearnLine { clauses, span: Span::default() }] }
    }

    #[test]
    fn reads_sizes_traces_and_the_end_convention() {
        let range = Expr {
            kind: ExprKind::Range { start: Box::new(int(2)), end: Box::new(int(5)), inclusive: true },
            span: Span::default(),
        };
        let l = learn(vec![
            clause(&["train", "sizes"], Some(range)),
            clause(&["traces"], Some(int(64))),
            clause(&["return"], Some(Expr { kind: ExprKind::Name(id("after_call")), span: Span::default() })),
            clause(&["hidden"], Some(int(256))),
            clause(&["max", "steps"], Some(int(1000))),
            clause(&["fuse"], Some(Expr { kind: ExprKind::Name(id("concat")), span: Span::default() })),
        ]);
        let mut diags = Vec::new();
        let out = lower_learn(Some(&l), WorldKind::Scratchpad, Span::default(), &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(out.spec.train_sizes, vec![2, 3, 4, 5]);
        assert_eq!(out.spec.traces, 64);
        assert_eq!(out.spec.test_sizes, vec![10, 50]);
        assert_eq!(out.end, EndConvention::AfterCall);
        assert_eq!(out.limits.max_steps, 1000);
        assert_eq!(out.spec.settings.get("hidden"), Some(&SettingValue::Int(256)));
        assert_eq!(out.spec.settings.get("fuse"), Some(&SettingValue::Word("concat".into())));
        // A setting without a value is a flag.
        assert_eq!(setting_value(None), Ok(SettingValue::Flag(true)));
    }

    #[test]
    fn reads_the_size_and_memory_limits() {
        let l = learn(vec![
            clause(&["max", "int", "bits"], Some(int(4096))),
            clause(&["max", "list", "len"], Some(int(100))),
            clause(&["max", "memory"], Some(int(1 << 20))),
        ]);
        let mut diags = Vec::new();
        let out = lower_learn(Some(&l), WorldKind::Scratchpad, Span::default(), &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!((out.limits.max_int_bits, out.limits.max_list_len, out.limits.max_memory), (4096, 100, 1 << 20));
        let mut diags = Vec::new();
        let small = learn(vec![clause(&["max", "int", "bits"], Some(int(63)))]);
        let out = lower_learn(Some(&small), WorldKind::Scratchpad, Span::default(), &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "`max int bits` is at least 64");
        assert_eq!(out.limits.max_int_bits, Limits::DEFAULT_INT_BITS);
    }

    #[test]
    fn rejects_empty_ranges_and_zero() {
        let empty = Expr {
            kind: ExprKind::Range { start: Box::new(int(10)), end: Box::new(int(1)), inclusive: true },
            span: Span::default(),
        };
        let l = learn(vec![clause(&["train", "sizes"], Some(empty)), clause(&["test", "sizes"], Some(int(0)))]);
        let mut diags = Vec::new();
        lower_learn(Some(&l), WorldKind::Scratchpad, Span::default(), &mut diags);
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags[0].message.contains("empty"));
        assert!(diags[1].message.contains("sizes start at 1"));
    }

    #[test]
    fn learners_and_their_settings_come_from_the_catalogue() {
        let word = |w: &str| Some(Expr { kind: ExprKind::Name(id(w)), span: Span::default() });
        let messages = |l: Learn| {
            let mut diags = Vec::new();
            lower_learn(Some(&l), WorldKind::Scratchpad, Span::default(), &mut diags);
            diags.into_iter().map(|d| (d.message, d.hints.join(" | "))).collect::<Vec<_>>()
        };
        let l = learn(vec![
            clause(&["hiden"], Some(int(12))),
            clause(&["fuse"], word("concatt")),
            clause(&["layers"], Some(int(0))),
            clause(&["lr"], word("fast")),
        ]);
        let m = messages(l);
        assert_eq!(m.len(), 4, "{m:#?}");
        assert_eq!(m[0].0, "the learner `npi` has no setting `hiden`");
        assert_eq!(m[0].1, "did you mean `hidden`?");
        assert_eq!(m[1].0, "the npi setting `fuse` takes `mlp` or `concat`, found `concatt`");
        assert!(m[1].1.starts_with("did you mean `concat`?"), "{}", m[1].1);
        assert_eq!(m[2].0, "the npi setting `layers` takes a positive integer, found `0`");
        assert_eq!(m[3].0, "the npi setting `lr` takes a number, found `fast`");

        let m = messages(learn(vec![clause(&["curriculum", "uniform"], None)]));
        assert_eq!(
            m,
            [(
                "the learner `npi` has no setting `curriculum uniform`".to_string(),
                "a value that is a word follows a colon: `curriculum: uniform`".to_string()
            )]
        );

        let mut l = learn(vec![clause(&["hidden"], Some(int(3)))]);
        l.learner = id("np");
        assert_eq!(
            messages(l.clone()).iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
            ["`np` learns table worlds, but this task's world is a scratchpad"]
        );
        l.learner = id("nip");
        assert_eq!(messages(l), [("unknown learner `nip`".to_string(), "did you mean `npi`?".to_string())]);
    }

    #[test]
    fn defaults_without_a_block() {
        let mut diags = Vec::new();
        let out = lower_learn(None, WorldKind::Scratchpad, Span::default(), &mut diags);
        assert_eq!(out.spec.learner, "npi");
        assert_eq!(out.spec.train_sizes, (1..=10).collect::<Vec<_>>());
        assert_eq!(out.spec.traces, 320);
        assert_eq!(out.end, EndConvention::OwnStep);
    }
}
