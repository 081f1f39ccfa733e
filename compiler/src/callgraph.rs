//! The call graph: which program calls which, and which primitive actions
//! each one performs.
//!
//! Nodes are the file's programs (in source order) followed by one node per
//! primitive action the programs use (`ACT(write)`, `ACT(move)`, ... in order
//! of first use). An edge `caller -> callee` stands for all the call sites of
//! that pair, with their spans. From it come the program levels (leaves
//! first), recursion, the programs the entry never reaches, and the
//! curriculum order in which a learner meets the programs.
//!
//! One node per action rather than a single `ACT` node: NPI sees all actions
//! as one program `ACT` whose first argument picks the action, but which
//! primitives a program performs is what a reader of the graph (and the NRAM
//! mapping) wants to see, and it costs nothing: every action node has level
//! 0, so the levels are those of a single `ACT` node.
//!
//! Built from the operation graph ([`OpGraph`]), whose call and action sinks
//! are the call sites in evaluation order, so the two graphs agree by
//! construction and a compile builds each once.
//!
//! Architecture invariant: no `HashMap`; programs are ordered by source
//! position and edges by first call site, so the text and DOT are stable.

use crate::opgraph::{dot_quote, OpGraph, OpKind};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, EdgeRef};
use std::fmt::Write;
use synth_dsl::Span;

/// A node of the call graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallNode {
    /// A reference program; `span` is its name's.
    Program { name: String, span: Span },
    /// A primitive action (`write`, `move`, `swap`), traced as `ACT`.
    Action { name: String },
}

impl CallNode {
    /// `ADD`, or `ACT(write)` for an action.
    pub fn label(&self) -> String {
        match self {
            CallNode::Program { name, .. } => name.clone(),
            CallNode::Action { name } => format!("ACT({name})"),
        }
    }

    pub fn is_program(&self) -> bool {
        matches!(self, CallNode::Program { .. })
    }
}

/// All the call sites of one caller-callee pair, in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallEdge {
    pub sites: Vec<Span>,
}

#[derive(Clone, Debug)]
pub struct CallGraph {
    graph: DiGraph<CallNode, CallEdge>,
    /// Program nodes in source order (the first `programs.len()` nodes).
    programs: Vec<NodeIndex>,
    entry: Option<NodeIndex>,
    /// Per node.
    levels: Vec<u32>,
    recursive: Vec<bool>,
    reachable: Vec<bool>,
}

impl CallGraph {
    /// The call graph of the programs in `ops`; `entry` names the entry
    /// program (`None`: the first; a name no program has: no entry, and
    /// then no program counts as unused).
    pub fn build(ops: &OpGraph, entry: Option<&str>) -> CallGraph {
        let mut graph: DiGraph<CallNode, CallEdge> = DiGraph::new();
        let programs: Vec<NodeIndex> = ops
            .programs
            .iter()
            .map(|p| graph.add_node(CallNode::Program { name: p.name.clone(), span: p.span }))
            .collect();
        let find_program = |graph: &DiGraph<CallNode, CallEdge>, name: &str| {
            programs.iter().copied().find(|&n| matches!(&graph[n], CallNode::Program { name: m, .. } if m == name))
        };
        for (&caller, body) in programs.iter().zip(&ops.programs) {
            for node in body.graph.node_weights() {
                let target = match &node.kind {
                    OpKind::Call(callee) => find_program(&graph, callee),
                    OpKind::Action(action) => {
                        let existing = graph
                            .node_indices()
                            .find(|&n| matches!(&graph[n], CallNode::Action { name } if name == action));
                        Some(existing.unwrap_or_else(|| graph.add_node(CallNode::Action { name: action.clone() })))
                    }
                    _ => None,
                };
                let Some(target) = target else { continue };
                match graph.find_edge(caller, target) {
                    Some(e) => graph[e].sites.push(node.span),
                    None => {
                        graph.add_edge(caller, target, CallEdge { sites: vec![node.span] });
                    }
                }
            }
        }
        // The named entry, else the first program. An `entry` naming no
        // program leaves no entry (the checker reports it), rather than
        // calling every program unused.
        let entry = match entry {
            Some(name) => find_program(&graph, name),
            None => programs.first().copied(),
        };

        let n = graph.node_count();
        let mut reachable = vec![false; n];
        if let Some(e) = entry {
            let mut dfs = Dfs::new(&graph, e);
            while let Some(x) = dfs.next(&graph) {
                reachable[x.index()] = true;
            }
        }

        // Levels over the strongly connected components: a component's level
        // is 1 + the highest level among its callees outside it (0 when it
        // has none); actions are 0.
        let sccs = tarjan_scc(&graph);
        let mut comp = vec![0usize; n];
        for (c, members) in sccs.iter().enumerate() {
            for m in members {
                comp[m.index()] = c;
            }
        }
        let mut recursive = vec![false; n];
        for members in &sccs {
            let cyclic = members.len() > 1 || graph.find_edge(members[0], members[0]).is_some();
            for m in members {
                recursive[m.index()] = cyclic;
            }
        }
        // `tarjan_scc` lists components in reverse topological order, callees
        // first, so every callee outside a component already has its level.
        let mut comp_level = vec![0u32; sccs.len()];
        for (c, members) in sccs.iter().enumerate() {
            if members.iter().any(|&m| graph[m].is_program()) {
                let outside =
                    members.iter().flat_map(|&m| graph.neighbors(m)).map(|t| comp[t.index()]).filter(|&t| t != c);
                comp_level[c] = 1 + outside.map(|t| comp_level[t]).max().unwrap_or(0);
            }
        }
        let levels = (0..n).map(|i| comp_level[comp[i]]).collect();

        CallGraph { graph, programs, entry, levels, recursive, reachable }
    }

    /// The underlying graph, for clients that run their own algorithms.
    pub fn graph(&self) -> &DiGraph<CallNode, CallEdge> {
        &self.graph
    }

    /// The entry program: the `entry NAME` item, else the first program.
    pub fn entry(&self) -> Option<&str> {
        self.entry.map(|e| self.name(e))
    }

    /// Program names in source order.
    pub fn programs(&self) -> impl Iterator<Item = &str> + '_ {
        self.programs.iter().map(|&n| self.name(n))
    }

    /// The node of a program (`ADD`) or an action (`write`).
    pub fn node(&self, name: &str) -> Option<NodeIndex> {
        self.graph.node_indices().find(|&n| self.name(n) == name)
    }

    /// A program's level: 1 for a program that only acts (or does nothing),
    /// else 1 + its highest callee's; the programs of a recursive cycle share
    /// the level computed from the callees outside the cycle. Actions are 0.
    pub fn level(&self, name: &str) -> Option<u32> {
        self.node(name).map(|n| self.levels[n.index()])
    }

    /// Every program's level, in source order.
    pub fn levels(&self) -> Vec<(&str, u32)> {
        self.programs.iter().map(|&n| (self.name(n), self.levels[n.index()])).collect()
    }

    /// Whether the program can call itself, directly or through others.
    pub fn is_recursive(&self, name: &str) -> bool {
        self.node(name).is_some_and(|n| self.recursive[n.index()])
    }

    /// What a program calls: each callee's label (`CARRY`, `ACT(move)`) and
    /// call sites, in order of the first call.
    pub fn callees(&self, name: &str) -> Vec<(&CallNode, &[Span])> {
        let Some(n) = self.node(name) else { return Vec::new() };
        let mut out: Vec<_> = self.graph.edges(n).map(|e| (e.id(), e.target(), e.weight())).collect();
        out.sort_by_key(|(id, _, _)| *id);
        out.into_iter().map(|(_, t, w)| (&self.graph[t], w.sites.as_slice())).collect()
    }

    /// Programs the entry program never reaches, in source order (empty when
    /// there is no entry).
    pub fn unused(&self) -> Vec<&str> {
        if self.entry.is_none() {
            return Vec::new();
        }
        self.programs.iter().filter(|n| !self.reachable[n.index()]).map(|&n| self.name(n)).collect()
    }

    /// The programs the entry reaches, leaves first: by level, then by
    /// source order. Unreachable programs are left out: no trace ever calls
    /// them, so there is nothing to learn them from.
    pub fn curriculum_order(&self) -> Vec<&str> {
        let mut order: Vec<NodeIndex> = self.programs.iter().copied().filter(|n| self.reachable[n.index()]).collect();
        // Stable sort: ties keep source order.
        order.sort_by_key(|n| self.levels[n.index()]);
        order.into_iter().map(|n| self.name(n)).collect()
    }

    /// The graph as text, one line per program in source order:
    ///
    /// ```text
    /// entry ADD
    /// ADD    (level 3) -> ADD1, LSHIFT
    /// CARRY  (level 1) -> ACT(move) x2, ACT(write)
    /// curriculum CARRY, LSHIFT, ADD1, ADD
    /// ```
    ///
    /// `xN` counts call sites when there are several; `recursive` and
    /// `unused` follow the level when they apply.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "entry {}", self.entry().unwrap_or("(none)"));
        let width = self.programs().map(str::len).max().unwrap_or(0);
        for &n in &self.programs {
            let name = self.name(n);
            let mut tags = format!("level {}", self.levels[n.index()]);
            if self.recursive[n.index()] {
                tags.push_str(", recursive");
            }
            if self.entry.is_some() && !self.reachable[n.index()] {
                tags.push_str(", unused");
            }
            let callees: Vec<String> = self
                .callees(name)
                .into_iter()
                .map(|(c, sites)| if sites.len() > 1 { format!("{} x{}", c.label(), sites.len()) } else { c.label() })
                .collect();
            let head = format!("{name:<width$} ({tags})");
            if callees.is_empty() {
                let _ = writeln!(out, "{head}");
            } else {
                let _ = writeln!(out, "{head} -> {}", callees.join(", "));
            }
        }
        let order = self.curriculum_order();
        if order.is_empty() {
            out.push_str("curriculum\n");
        } else {
            let _ = writeln!(out, "curriculum {}", order.join(", "));
        }
        out
    }

    /// The graph in Graphviz DOT: programs as boxes labelled with their
    /// level (the entry doubled, unused ones dashed), actions as ellipses,
    /// one rank per level, edges labelled `xN` when a pair has N > 1 call
    /// sites.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph calls {\n  node [shape=box, fontname=\"monospace\"];\n");
        for n in self.graph.node_indices() {
            let node = &self.graph[n];
            let id = dot_quote(&node.label());
            match node {
                CallNode::Program { name, .. } => {
                    let mut label = format!("{name}\nlevel {}", self.levels[n.index()]);
                    if self.recursive[n.index()] {
                        label.push_str(", recursive");
                    }
                    let mut attrs = format!("label={}", dot_quote(&label));
                    if Some(n) == self.entry {
                        attrs.push_str(", peripheries=2");
                    }
                    if self.entry.is_some() && !self.reachable[n.index()] {
                        attrs.push_str(", style=dashed");
                    }
                    let _ = writeln!(out, "  {id} [{attrs}];");
                }
                CallNode::Action { .. } => {
                    let _ = writeln!(out, "  {id} [shape=ellipse];");
                }
            }
        }
        let max = self.levels.iter().copied().max().unwrap_or(0);
        for level in 0..=max {
            let ids: Vec<String> = self
                .graph
                .node_indices()
                .filter(|n| self.levels[n.index()] == level)
                .map(|n| dot_quote(&self.graph[n].label()))
                .collect();
            if ids.len() > 1 {
                let _ = writeln!(out, "  {{ rank=same; {}; }}", ids.join("; "));
            }
        }
        for &n in &self.programs {
            for (callee, sites) in self.callees(self.name(n)) {
                let (from, to) = (dot_quote(&self.graph[n].label()), dot_quote(&callee.label()));
                if sites.len() > 1 {
                    let _ = writeln!(out, "  {from} -> {to} [label=\"x{}\"];", sites.len());
                } else {
                    let _ = writeln!(out, "  {from} -> {to};");
                }
            }
        }
        out.push_str("}\n");
        out
    }

    fn name(&self, n: NodeIndex) -> &str {
        match &self.graph[n] {
            CallNode::Program { name, .. } | CallNode::Action { name } => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The call graph of programs over a one-pointer scratchpad.
    fn calls(programs: &str) -> CallGraph {
        let src = format!(
            "world scratchpad(rows: 1, cols: n, base: 10) {{
  pointer in1 on row 0 at left
  pointer in2 on row 0 at left
  pointer carry on row 0 at left
  pointer out on row 0 at left
}}
input(n) {{ write_number(row: 0, 1) }}
expect true
{programs}"
        );
        match crate::compile(&src, "t") {
            Ok(c) => c.task.call_graph().clone(),
            Err(d) => panic!("{}", synth_dsl::render_all(&d, "t.npl", &src)),
        }
    }

    /// The addition task's programs.
    fn add() -> CallGraph {
        calls(
            "program ADD { while in1 != blank { ADD1(); LSHIFT() } }
program ADD1 {
  write(out, 1)
  if in1 >= 1 { CARRY() }
}
program CARRY { move(carry, left); write(carry, 1); move(carry, left) }
program LSHIFT { move(in1, left); move(in2, left); move(carry, left); move(out, left) }
",
        )
    }

    #[test]
    fn levels_of_addition() {
        let g = add();
        assert_eq!(g.levels(), vec![("ADD", 3), ("ADD1", 2), ("CARRY", 1), ("LSHIFT", 1)]);
        assert_eq!(g.level("write"), Some(0));
        assert_eq!(g.curriculum_order(), vec!["CARRY", "LSHIFT", "ADD1", "ADD"]);
        assert!(g.unused().is_empty());
        assert!(!g.is_recursive("ADD"));
        assert_eq!(
            g.to_text(),
            "entry ADD
ADD    (level 3) -> ADD1, LSHIFT
ADD1   (level 2) -> ACT(write), CARRY
CARRY  (level 1) -> ACT(move) x2, ACT(write)
LSHIFT (level 1) -> ACT(move) x4
curriculum CARRY, LSHIFT, ADD1, ADD
"
        );
    }

    #[test]
    fn recursion_shares_one_level_from_callees_outside_the_cycle() {
        // MAIN -> REC; REC -> STEP, REC (self); A <-> B, B -> STEP, B -> REC.
        let g = calls(
            "program MAIN { A(); REC() }
program REC { if in1 != blank { STEP(); REC() } }
program STEP { move(in1, left) }
program A { B() }
program B { REC(); if at_end(in1) { A() } }
program LONELY { return }
",
        );
        assert_eq!(g.levels(), vec![("MAIN", 4), ("REC", 2), ("STEP", 1), ("A", 3), ("B", 3), ("LONELY", 1)]);
        assert!(g.is_recursive("REC"));
        assert!(g.is_recursive("A") && g.is_recursive("B"));
        assert!(!g.is_recursive("STEP") && !g.is_recursive("MAIN") && !g.is_recursive("nonesuch"));
        assert_eq!(g.unused(), vec!["LONELY"]);
        assert_eq!(g.curriculum_order(), vec!["STEP", "REC", "A", "B", "MAIN"]);
        assert_eq!(
            g.to_text(),
            "entry MAIN
MAIN   (level 4) -> A, REC
REC    (level 2, recursive) -> STEP, REC
STEP   (level 1) -> ACT(move)
A      (level 3, recursive) -> B
B      (level 3, recursive) -> REC, A
LONELY (level 1, unused)
curriculum STEP, REC, A, B, MAIN
"
        );
    }

    #[test]
    fn entry_item_overrides_the_first_program() {
        let g = calls("program HELPER { return }\nprogram MAIN { HELPER() }\nentry MAIN\n");
        assert_eq!(g.entry(), Some("MAIN"));
        assert!(g.unused().is_empty());
        // An entry naming no program: no entry, and nothing called unused.
        let src = "world scratchpad(rows: 1, cols: n, base: 10) { pointer p on row 0 at left }
input(n) { write_number(row: 0, 1) }
expect true
program A { return }
";
        let c = crate::compile(src, "t").expect("compiles");
        let g = CallGraph::build(c.task.op_graph(), Some("NOPE"));
        assert_eq!(g.entry(), None);
        assert!(g.unused().is_empty());
        assert!(g.curriculum_order().is_empty());
    }

    #[test]
    fn dot_ranks_levels_and_counts_sites() {
        let dot = add().to_dot();
        assert!(dot.starts_with("digraph calls {\n"), "{dot}");
        assert!(dot.contains("  \"ADD\" [label=\"ADD\\nlevel 3\", peripheries=2];\n"), "{dot}");
        assert!(dot.contains("  { rank=same; \"CARRY\"; \"LSHIFT\"; }\n"), "{dot}");
        assert!(dot.contains("  \"LSHIFT\" -> \"ACT(move)\" [label=\"x4\"];\n"), "{dot}");
    }
}
