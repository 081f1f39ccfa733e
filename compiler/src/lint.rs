//! The learnability lint (NPL.md, "What the learner observes").
//!
//! A learner such as NPI sees, at every step, only the observation (each
//! pointer's cell and its at-start/at-end bits, plus every `observe`
//! feature), the current program's arguments, and what it remembers within
//! the current frame. A reference program whose decisions depend on anything
//! else cannot be learned from its traces. This lint walks every decision
//! of every program back through the operation graph ([`crate::opgraph`])
//! and warns where it reaches something the learner cannot see:
//!
//! - `pos(p)`, a pointer's column, unless the expression it sits in matches
//!   an `observe` declaration (the graph then holds one
//!   [`OpKind::Observed`] node instead);
//! - the counter of a `for` loop, and any variable a loop updates from its
//!   own value (a counter or accumulator kept by hand): the learner would
//!   have to count exactly, step after step, with nothing in the observation
//!   to check the count against, and such programs do not generalise to
//!   longer inputs.
//!
//! Decisions are branch and loop conditions, `for` ranges, and the arguments
//! of actions and program calls. It also warns on programs the entry never
//! calls. Every finding is a [`Diagnostic::warning`]: the program still runs.
//!
//! (A name sampled by `input` is unseen too, but the checker rejects it
//! before any graph is built.)
//!
//! Tape and table worlds are exempt from the decision rules: their learners
//! (NRAM, Neural Programmer) see only inputs and outputs, never a trace.
//!
//! The lint reads only the two graphs: the operation graph's edges into its
//! sinks carry the operands as written, which is all a message quotes.

use crate::builtins::WorldKind;
use crate::callgraph::CallGraph;
use crate::opgraph::{OpGraph, OpKind, ProgramOps, ReadKind};
use petgraph::graph::NodeIndex;
use petgraph::Direction;
use synth_dsl::{Diagnostic, Span};

/// Warnings for everything the learner of a `world` cannot see, and for
/// unused programs, ordered by position in the file.
pub fn lint(graphs: &OpGraph, calls: &CallGraph, world: WorldKind) -> Vec<Diagnostic> {
    let mut found: Vec<(Span, Diagnostic)> = Vec::new();

    if let Some(entry) = calls.entry() {
        for name in calls.unused() {
            let Some(p) = graphs.program(name) else { continue };
            let d = Diagnostic::warning(format!("program `{name}` is never called from the entry program `{entry}`"))
                .at(p.span)
                .hint(format!("call it from `{entry}` or a program it calls, or delete it"));
            found.push((p.span, d));
        }
    }

    if !matches!(world, WorldKind::Tape | WorldKind::Table) {
        for p in &graphs.programs {
            lint_program(p, &mut found);
        }
    }

    found.sort_by(|(a, da), (b, db)| a.cmp(b).then_with(|| da.message.cmp(&db.message)));
    found.into_iter().map(|(_, d)| d).collect()
}

/// Why a source is invisible to the learner. The order is the order of the
/// warnings for one decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Unseen {
    Position,
    Counter,
    Carried,
}

/// One decision: a sink and, for actions and calls, which argument.
struct Decision {
    /// The node whose value is decided on.
    value: NodeIndex,
    /// Where the condition or argument is written, and its text.
    span: Span,
    text: Option<String>,
    /// `loop condition`, `argument of `write``.
    what: String,
    is_range: bool,
}

fn decisions(p: &ProgramOps) -> Vec<Decision> {
    let mut out = Vec::new();
    for sink in p.sinks() {
        let node = &p.graph[sink];
        for (value, edge) in p.inputs(sink) {
            let what = match &node.kind {
                OpKind::Branch => "branch condition".to_string(),
                OpKind::Loop => "loop condition".to_string(),
                OpKind::ForRange { .. } => "loop range".to_string(),
                OpKind::Action(a) => format!("argument of `{a}`"),
                OpKind::Call(c) => format!("argument of `{c}`"),
                OpKind::Store => "memory write".to_string(),
                _ => continue,
            };
            let is_range = matches!(node.kind, OpKind::ForRange { .. });
            out.push(Decision { value, span: edge.span, text: edge.text, what, is_range });
        }
    }
    out
}

fn lint_program(p: &ProgramOps, found: &mut Vec<(Span, Diagnostic)>) {
    for d in decisions(p) {
        // Everything the decided value is computed from.
        let mut seen = vec![false; p.graph.node_count()];
        let mut stack = vec![d.value];
        let mut unseen: Vec<(Unseen, NodeIndex)> = Vec::new();
        let mut world_only = true;
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n.index()], true) {
                continue;
            }
            let kind = &p.graph[n].kind;
            match kind {
                OpKind::Read { what: ReadKind::Pos, .. } => unseen.push((Unseen::Position, n)),
                OpKind::Counter(_) => unseen.push((Unseen::Counter, n)),
                OpKind::Var { carried: true, .. } => unseen.push((Unseen::Carried, n)),
                _ => {}
            }
            if matches!(kind, OpKind::Var { .. } | OpKind::Counter(_) | OpKind::Param { .. }) {
                world_only = false;
            }
            // A counter's range is a decision of its own, linted there.
            if !matches!(kind, OpKind::Counter(_)) {
                stack.extend(p.graph.neighbors_directed(n, Direction::Incoming));
            }
        }
        unseen.sort();
        let mut classes: Vec<Unseen> = unseen.iter().map(|(c, _)| *c).collect();
        classes.dedup();
        for class in classes {
            let nodes: Vec<NodeIndex> = unseen.iter().filter(|(c, _)| *c == class).map(|(_, n)| *n).collect();
            let diag = warn(p, &d, class, &nodes, world_only);
            found.push((d.span, diag));
        }
    }
}

fn warn(p: &ProgramOps, d: &Decision, class: Unseen, nodes: &[NodeIndex], world_only: bool) -> Diagnostic {
    let mut names: Vec<String> = Vec::new();
    for &n in nodes {
        let name = match &p.graph[n].kind {
            OpKind::Read { what, pointer } => format!("`{}({pointer})`", what.name()),
            OpKind::Counter(name) | OpKind::Var { name, .. } => format!("`{name}`"),
            _ => continue,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let plural = names.len() > 1;
    let list = join_and(&names);
    let (seen, reason) = match class {
        Unseen::Position => (list, if plural { "pointers' columns" } else { "a pointer's column" }.to_string()),
        Unseen::Counter => (
            format!("the loop counter{} {list}", if plural { "s" } else { "" }),
            "how many times the loop has run".to_string(),
        ),
        Unseen::Carried => (
            list,
            if plural {
                "values carried from one loop iteration to the next"
            } else {
                "a value carried from one loop iteration to the next"
            }
            .to_string(),
        ),
    };
    let verb = if plural { "are" } else { "is" };
    let mut diag = Diagnostic::warning(format!(
        "the learner cannot see {seen}: this {} depends on {reason}, which {verb} not observed",
        d.what
    ))
    .at_labelled(d.span, format!("this {}", d.what));

    // Point at sources outside the decision itself (reached through a variable).
    for &n in nodes {
        let s = p.graph[n].span;
        if s.start >= d.span.start && s.end <= d.span.end {
            continue;
        }
        let label = match class {
            Unseen::Position => "a pointer's column, not observed",
            Unseen::Counter => "the loop counter",
            Unseen::Carried => "updated from its own value in a loop",
        };
        diag = diag.label(s, label);
    }

    let hint = match class {
        Unseen::Position => {
            let pointer = nodes
                .iter()
                .find_map(|&n| match &p.graph[n].kind {
                    OpKind::Read { pointer, .. } => Some(pointer.as_str()),
                    _ => None,
                })
                .unwrap_or("p");
            let ends = format!("`at_start({pointer})` or `at_end({pointer})`");
            match &d.text {
                _ if d.is_range => format!("loop with `while` on something observed instead, such as `while !at_start({pointer})` or `while !at_end({pointer})`"),
                Some(text) if world_only => format!("add `observe {text}` to the world block, or decide from {ends}"),
                _ => format!(
                    "add an `observe` line to the world block with the feature this needs (such as `observe pos({pointer}) == 0`), or decide from {ends}"
                ),
            }
        }
        Unseen::Counter | Unseen::Carried => {
            "keep the count on the pad instead: move a pointer once per iteration and decide from the cell under it or `at_end(p)`".to_string()
        }
    };
    diag.hint(hint)
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendered lint warnings for a source text (which must compile),
    /// linted as if its world were `world`.
    fn check_as(src: &str, world: WorldKind) -> String {
        let c = match crate::compile(src, "test") {
            Ok(c) => c,
            Err(d) => panic!("{}", synth_dsl::render_all(&d, "test.npl", src)),
        };
        let (ops, calls) = (c.task.op_graph(), c.task.call_graph());
        synth_dsl::render_all(&lint(ops, calls, world), "test.npl", src)
    }

    fn check(src: &str) -> String {
        check_as(src, WorldKind::Scratchpad)
    }

    const WORLD: &str = "world scratchpad(rows: 2, cols: n + 1, base: 10) {
  pointer lo on row 0 at left
  pointer hi on row 0 at right
  pointer out on row 1 at right
  observe pos(lo) >= pos(hi)
}
input(n) {
  let xs = random_list(n, 0..10)
  write_list(row: 0, xs)
}
expect true
";

    #[test]
    fn an_observed_comparison_makes_positions_visible() {
        // Written as declared, mirrored, negated, and inside a larger condition.
        let src = format!(
            "{WORLD}program P {{
  while !(pos(lo) >= pos(hi)) {{ Q() }}
  if pos(hi) <= pos(lo) && lo != blank {{ Q() }}
}}
program Q {{ move(lo, right) }}
"
        );
        assert_eq!(check(&src), "");
    }

    #[test]
    fn observed_reads_parameters_and_locals_derived_from_them_are_visible() {
        let src = format!(
            "{WORLD}program P {{
  let s = digit(lo) + digit(hi)
  if s >= 10 && !at_end(out) {{ Q(s / 10) }}
  let t = s
  if at_start(lo) {{ t = 0 }}
  write(out, t % 10)
  for i in 0..3 {{ move(out, left) }}
}}
program Q(c) {{
  let d = c + 1
  while lo != blank {{ move(lo, right) }}
  write(out, d)
}}
"
        );
        assert_eq!(check(&src), "");
    }

    #[test]
    fn a_flag_set_in_a_loop_is_not_a_counter() {
        let src = format!(
            "{WORLD}program P {{
  let seen = false
  while !at_end(lo) {{
    if lo == 0 {{ seen = true }}
    move(lo, right)
  }}
  if seen {{ write(out, 1) }}
}}
"
        );
        assert_eq!(check(&src), "");
    }

    #[test]
    fn an_unobserved_comparison_is_flagged_once_per_decision() {
        let src = format!(
            "{WORLD}program P {{
  while pos(lo) < pos(hi) {{ move(lo, right) }}
}}
"
        );
        let out = check(&src);
        assert_eq!(out.matches("warning:").count(), 1, "{out}");
        assert!(out.contains("the learner cannot see `pos(lo)` and `pos(hi)`: this loop condition depends on pointers' columns, which are not observed"), "{out}");
        assert!(out.contains("hint: add `observe pos(lo) < pos(hi)` to the world block"), "{out}");
    }

    #[test]
    fn a_position_reached_through_a_variable_is_labelled_where_it_is_read() {
        let src = format!(
            "{WORLD}program P {{
  let d = pos(hi) - pos(lo)
  if d > 2 {{ move(lo, right) }}
}}
"
        );
        let out = check(&src);
        assert!(out.contains("this branch condition depends on pointers' columns"), "{out}");
        assert!(out.contains("a pointer's column, not observed"), "{out}");
        assert!(out.contains("add an `observe` line to the world block"), "{out}");
    }

    #[test]
    fn tape_worlds_are_exempt_from_the_decision_rules() {
        // Tape worlds do not compile yet: lint a scratchpad program that
        // counts as if it were one.
        let src = format!("{WORLD}program P {{\n  for i in 0..3 {{ if i == 0 {{ move(lo, right) }} }}\n}}\n");
        assert_ne!(check(&src), "");
        assert_eq!(check_as(&src, WorldKind::Tape), "");
    }

    #[test]
    fn unused_programs_name_the_entry() {
        let src = format!(
            "{WORLD}program A {{ B() }}
program B {{ return }}
program C {{ return }}
entry A
"
        );
        let src = src.as_str();
        let out = check(src);
        assert!(out.contains("warning: program `C` is never called from the entry program `A`"), "{out}");
        assert_eq!(out.matches("warning:").count(), 1, "{out}");
    }
}
