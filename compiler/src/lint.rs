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
//! - a name sampled by `input` (the checker rejects these too; the lint says
//!   why it matters);
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
//! Tape and table worlds are exempt from the decision rules: their learners
//! (NRAM, Neural Programmer) see only inputs and outputs, never a trace.

use crate::builtins::WorldKind;
use crate::callgraph::CallGraph;
use crate::opgraph::{show_expr, OpGraph, OpKind, ProgramOps, ReadKind};
use petgraph::graph::NodeIndex;
use petgraph::Direction;
use synth_dsl::ast::{self, Block, Expr, ExprKind, ItemKind, StmtKind};
use synth_dsl::{Diagnostic, Span};

/// Warnings for everything the learner cannot see, and for unused programs,
/// ordered by position in the file.
pub fn lint(file: &ast::File, graphs: &OpGraph) -> Vec<Diagnostic> {
    let mut found: Vec<(Span, Diagnostic)> = Vec::new();

    let calls = CallGraph::build(file);
    if let Some(entry) = calls.entry() {
        for name in calls.unused() {
            let Some(p) = graphs.program(name) else { continue };
            let d = Diagnostic::warning(format!("program `{name}` is never called from the entry program `{entry}`"))
                .at(p.span)
                .hint(format!("call it from `{entry}` or a program it calls, or delete it"));
            found.push((p.span, d));
        }
    }

    let exempt = file.items.iter().any(|i| match &i.kind {
        ItemKind::World(w) => matches!(WorldKind::from_name(&w.kind.name), Some(WorldKind::Tape | WorldKind::Table)),
        _ => false,
    });
    if !exempt {
        let size = file.items.iter().find_map(|i| match &i.kind {
            ItemKind::Input(input) => Some(input.param.name.as_str()),
            _ => None,
        });
        for p in &graphs.programs {
            lint_program(file, p, size, &mut found);
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
    Input,
    Counter,
    Carried,
}

/// One decision: a sink and, for actions and calls, which argument.
struct Decision {
    /// The node whose value is decided on.
    value: NodeIndex,
    /// The condition or argument as written.
    span: Span,
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
            out.push(Decision { value, span: edge.span, what, is_range: matches!(node.kind, OpKind::ForRange { .. }) });
        }
    }
    out
}

fn lint_program(file: &ast::File, p: &ProgramOps, size: Option<&str>, found: &mut Vec<(Span, Diagnostic)>) {
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
                OpKind::Input(_) => unseen.push((Unseen::Input, n)),
                OpKind::Counter(_) => unseen.push((Unseen::Counter, n)),
                OpKind::Var { carried: true, .. } => unseen.push((Unseen::Carried, n)),
                _ => {}
            }
            if matches!(
                kind,
                OpKind::Var { .. } | OpKind::Counter(_) | OpKind::Param { .. } | OpKind::Input(_) | OpKind::Unbound(_)
            ) {
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
            let diag = warn(file, p, &d, class, &nodes, size, world_only);
            found.push((d.span, diag));
        }
    }
}

fn warn(
    file: &ast::File,
    p: &ProgramOps,
    d: &Decision,
    class: Unseen,
    nodes: &[NodeIndex],
    size: Option<&str>,
    world_only: bool,
) -> Diagnostic {
    let mut names: Vec<String> = Vec::new();
    for &n in nodes {
        let name = match &p.graph[n].kind {
            OpKind::Read { what, pointer } => format!("`{}({pointer})`", what.name()),
            OpKind::Input(name) | OpKind::Counter(name) | OpKind::Var { name, .. } => format!("`{name}`"),
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
        Unseen::Input => {
            let is_size =
                nodes.iter().all(|&n| matches!(&p.graph[n].kind, OpKind::Input(name) if Some(name.as_str()) == size));
            let reason = if is_size {
                "the size of the input".to_string()
            } else if plural {
                "values sampled by `input`".to_string()
            } else {
                "a value sampled by `input`".to_string()
            };
            (list, reason)
        }
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
            Unseen::Input => "sampled by `input`",
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
            match find_expr(file, d.span) {
                _ if d.is_range => format!("loop with `while` on something observed instead, such as `while !at_start({pointer})` or `while !at_end({pointer})`"),
                Some(e) if world_only => {
                    format!("add `observe {}` to the world block, or decide from {ends}", show_expr(e))
                }
                _ => format!(
                    "add an `observe` line to the world block with the feature this needs (such as `observe pos({pointer}) == 0`), or decide from {ends}"
                ),
            }
        }
        Unseen::Input => {
            "programs see the input only through pointers: write it onto the pad in `input` (`write_number`, `write_list`) and read it under a pointer".to_string()
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

/// The expression of a program written exactly at `span`.
fn find_expr(file: &ast::File, span: Span) -> Option<&Expr> {
    file.items.iter().find_map(|i| match &i.kind {
        ItemKind::Program(p) => find_in_block(&p.body, span),
        _ => None,
    })
}

fn find_in_block(b: &Block, span: Span) -> Option<&Expr> {
    b.stmts.iter().find_map(|s| match &s.kind {
        StmtKind::Let { value, .. } => find_in_expr(value, span),
        StmtKind::Assign { target, value } => find_in_expr(target, span).or_else(|| find_in_expr(value, span)),
        StmtKind::If { arms, otherwise } => arms
            .iter()
            .find_map(|(c, body)| find_in_expr(c, span).or_else(|| find_in_block(body, span)))
            .or_else(|| otherwise.as_ref().and_then(|body| find_in_block(body, span))),
        StmtKind::While { cond, body } => find_in_expr(cond, span).or_else(|| find_in_block(body, span)),
        StmtKind::For { iter, body, .. } => find_in_expr(iter, span).or_else(|| find_in_block(body, span)),
        StmtKind::Return => None,
        StmtKind::Expr(e) => find_in_expr(e, span),
    })
}

fn find_in_expr(e: &Expr, span: Span) -> Option<&Expr> {
    if e.span == span {
        return Some(e);
    }
    match &e.kind {
        ExprKind::List(xs) => xs.iter().find_map(|x| find_in_expr(x, span)),
        ExprKind::Range { start, end, .. } => find_in_expr(start, span).or_else(|| find_in_expr(end, span)),
        ExprKind::Unary { expr, .. } => find_in_expr(expr, span),
        ExprKind::Binary { lhs, rhs, .. } => find_in_expr(lhs, span).or_else(|| find_in_expr(rhs, span)),
        ExprKind::Call { args, .. } => args.iter().find_map(|a| find_in_expr(&a.value, span)),
        ExprKind::Index { base, index } => find_in_expr(base, span).or_else(|| find_in_expr(index, span)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendered warnings for a source text (which must parse).
    fn check(src: &str) -> String {
        let (file, diags) = synth_dsl::parse(src);
        assert!(diags.is_empty(), "{}", synth_dsl::render_all(&diags, "test.npl", src));
        let ops = OpGraph::build(&file);
        synth_dsl::render_all(&lint(&file, &ops), "test.npl", src)
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
        let src = "world tape(size: 10) {
  register r
}
program P {
  for i in 0..3 { mem[i] = i }
}
";
        assert_eq!(check(src), "");
    }

    #[test]
    fn unused_programs_name_the_entry() {
        let src = "program A { B() }
program B { }
program C { }
entry A
";
        let out = check(src);
        assert!(out.contains("warning: program `C` is never called from the entry program `A`"), "{out}");
        assert_eq!(out.matches("warning:").count(), 1, "{out}");
    }
}
