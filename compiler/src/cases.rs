//! Decision cases: what a program's decisions depend on, and which of those
//! situations a set of traces shows.
//!
//! An NPI learns each decision of a program as a table of the situations it
//! has seen (BENCHMARKS.md: a model that never saw `9 + 9 + carry` writes
//! the wrong digit for it at every length). A *case* of a program is one
//! such situation, read off one step of one of its frames: the frame's
//! arguments and the observed values its decisions are computed from,
//! nothing else. Which observed values those are comes from the operation
//! graph, walked back from every decision (branch and loop conditions, the
//! arguments of actions and calls) as the learnability lint walks it:
//!
//! - a pointer's cell read as a value (`digit(in1)`, `write(out, in1)`)
//!   keeps the cell, and with it the pointer's at-start and at-end bits: the
//!   learner sees them beside the cell, and a digit at the row's edge is a
//!   case of its own to it (addition's rightmost column);
//! - a cell only ever compared with constants (`in1 != blank`) keeps which
//!   of those constants it equals, and the edge bits;
//! - `at_start(p)` and `at_end(p)` keep that bit; an `observe` feature keeps
//!   its value;
//! - a read through a pointer held in a parameter keeps every pointer.
//!
//! Everything else in the observation (cells no decision reads) is left
//! out. [`CaseSpec`] is that choice per program, [`CaseSet`] the distinct
//! cases of some traces, [`Task::render_case`] a case as a person reads it.

use crate::opgraph::{Const, OpKind, ProgramOps, ReadKind};
use crate::task::{ProgramId, Trace, ACT};
use crate::Task;
use num_traits::ToPrimitive;
use petgraph::graph::NodeIndex;
use petgraph::Direction;
use std::collections::HashSet;
use synth_dsl::ast::BinOp;

/// How a case keeps one observation feature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Its value.
    Value,
    /// Only which of these values it equals (at most 16), as a bit set:
    /// the decisions compare it with constants and nothing else.
    Tests(Vec<u16>),
}

/// What one program's cases hold, in order: its arguments, then the kept
/// observation features.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramCases {
    /// Argument slots in a case (the program's arity).
    pub arity: usize,
    /// Indices into [`crate::ObsSpec::features`], increasing, with how
    /// each is kept.
    pub features: Vec<(usize, Kept)>,
}

impl ProgramCases {
    /// Values in one case.
    pub fn width(&self) -> usize {
        self.arity + self.features.len()
    }

    /// Writes the case of a step with observation `obs` in a frame called
    /// with `args` into `out`.
    pub fn case_of(&self, args: &[u16], obs: &[u16], out: &mut Vec<u16>) {
        out.clear();
        out.extend(args.iter().take(self.arity).copied());
        for (f, kept) in &self.features {
            let v = obs.get(*f).copied().unwrap_or(u16::MAX);
            out.push(match kept {
                Kept::Value => v,
                Kept::Tests(cs) => cs.iter().enumerate().filter(|(_, &c)| c == v).fold(0, |m, (k, _)| m | 1 << k),
            });
        }
    }
}

/// Every program's [`ProgramCases`], index = [`ProgramId`] (`ACT`'s is
/// empty: it is never a frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseSpec {
    pub programs: Vec<ProgramCases>,
}

impl Task {
    /// What each program's decisions depend on (see the module docs).
    pub fn case_spec(&self) -> CaseSpec {
        self.case_spec_with(true)
    }

    /// [`Task::case_spec`], or without `edges` the cases of a learner that
    /// sees only [`Task::decision_features`].
    pub fn case_spec_with(&self, edges: bool) -> CaseSpec {
        let programs = self
            .programs
            .iter()
            .enumerate()
            .map(|(id, info)| {
                if id as ProgramId == ACT {
                    return ProgramCases { arity: 0, features: Vec::new() };
                }
                let arity = info.arity.min(crate::ARG_SLOTS);
                let features = match self.op_graph().program(&info.name) {
                    Some(ops) => self.read_features(ops, edges),
                    // No graph to read: every feature may matter.
                    None => (0..self.obs.width()).map(|f| (f, Kept::Value)).collect(),
                };
                ProgramCases { arity, features }
            })
            .collect();
        CaseSpec { programs }
    }

    /// Per program, whether each observation feature is one its decisions
    /// are computed from: [`Task::case_spec`]'s features without the edge
    /// bits it adds beside a cell read as a value or tested (those are
    /// there because a learner that sees them tells the row's edge apart;
    /// one that sees only this does not have to). `ACT` and programs
    /// without an operation graph keep every feature.
    pub fn decision_features(&self) -> Vec<Vec<bool>> {
        let width = self.obs.width();
        let spec = self.case_spec_with(false);
        spec.programs
            .iter()
            .enumerate()
            .map(|(id, c)| {
                if id as ProgramId == ACT {
                    return vec![true; width];
                }
                let mut keep = vec![false; width];
                for (f, _) in &c.features {
                    keep[*f] = true;
                }
                keep
            })
            .collect()
    }

    /// The observation features `ops`' decisions are computed from; with
    /// `edges`, a cell read brings its pointer's edge bits along.
    fn read_features(&self, ops: &ProgramOps, edges: bool) -> Vec<(usize, Kept)> {
        let np = self.pointers.len();
        // Per feature: not read, or kept as a value, or only tested.
        let mut kept: Vec<Option<Kept>> = vec![None; self.obs.width()];
        let keep = |f: usize, how: Kept, kept: &mut Vec<Option<Kept>>| {
            let Some(slot) = kept.get_mut(f) else { return };
            *slot = Some(match (slot.take(), how) {
                (Some(Kept::Tests(mut a)), Kept::Tests(b)) => {
                    for c in b {
                        if !a.contains(&c) {
                            a.push(c);
                        }
                    }
                    a.sort_unstable();
                    if a.len() > 16 { Kept::Value } else { Kept::Tests(a) }
                }
                (None, how) => how,
                _ => Kept::Value,
            });
        };
        let g = &ops.graph;
        let mut seen = vec![false; g.node_count()];
        let mut stack: Vec<NodeIndex> = Vec::new();
        for sink in ops.sinks() {
            stack.extend(g.neighbors_directed(sink, Direction::Incoming));
        }
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n.index()], true) {
                continue;
            }
            stack.extend(g.neighbors_directed(n, Direction::Incoming));
            match &g[n].kind {
                OpKind::Observed { index, .. } => keep(3 * np + index, Kept::Value, &mut kept),
                OpKind::Read { what, pointer } => {
                    let which: Vec<usize> = match self.pointers.iter().position(|p| p == pointer) {
                        Some(p) => vec![p],
                        None => (0..np).collect(),
                    };
                    for p in which {
                        match what {
                            ReadKind::Cell | ReadKind::Digit => {
                                let how = match (what, self.tests_only(ops, n)) {
                                    (ReadKind::Cell, Some(cs)) => Kept::Tests(cs),
                                    _ => Kept::Value,
                                };
                                keep(3 * p, how, &mut kept);
                                if edges {
                                    keep(3 * p + 1, Kept::Value, &mut kept);
                                    keep(3 * p + 2, Kept::Value, &mut kept);
                                }
                            }
                            ReadKind::AtStart => keep(3 * p + 1, Kept::Value, &mut kept),
                            ReadKind::AtEnd => keep(3 * p + 2, Kept::Value, &mut kept),
                            // Not observed (the lint says so); nothing to keep.
                            ReadKind::Pos => {}
                            // A pose world's (which has no case table).
                            ReadKind::Angle | ReadKind::TargetAngle => {}
                        }
                    }
                }
                _ => {}
            }
        }
        kept.into_iter().enumerate().filter_map(|(f, k)| k.map(|k| (f, k))).collect()
    }

    /// The constants a read is compared with, when every use of it is an
    /// `==` or `!=` against a constant cell value.
    fn tests_only(&self, ops: &ProgramOps, read: NodeIndex) -> Option<Vec<u16>> {
        let g = &ops.graph;
        let mut consts = Vec::new();
        for user in g.neighbors_directed(read, Direction::Outgoing) {
            if !matches!(g[user].kind, OpKind::Compare(BinOp::Eq | BinOp::Ne)) {
                return None;
            }
            let other = g.neighbors_directed(user, Direction::Incoming).find(|&o| o != read)?;
            let c = match &g[other].kind {
                OpKind::Const(Const::Blank) => self.base,
                OpKind::Const(Const::Int(v)) => v.to_u16().filter(|&v| v < self.base)?,
                _ => return None,
            };
            if !consts.contains(&c) {
                consts.push(c);
            }
        }
        consts.sort_unstable();
        (!consts.is_empty()).then_some(consts)
    }

    /// A case of `program` as a person reads it, in the trace's notation:
    /// `in1=9 in2=[0] carry=_` (`[`/`]`: at the row's start/end), `in1!=_`
    /// for a cell only tested, `at_end(k)`, `(pos(lo) < pos(hi))=true`;
    /// a program with parameters first shows its call, `CARRY(7)`.
    pub fn render_case(&self, spec: &ProgramCases, program: ProgramId, case: &[u16]) -> String {
        let mut parts: Vec<String> = Vec::new();
        if spec.arity > 0 {
            let mut args = crate::NO_ARGS;
            for (a, &v) in args.iter_mut().zip(case).take(spec.arity) {
                *a = v;
            }
            parts.push(self.render_call(&crate::Call { program, args }));
        }
        let values = &case[spec.arity.min(case.len())..];
        let at = |f: usize| spec.features.iter().position(|(g, _)| *g == f);
        let shown = |v: u16| if v == self.base { "_".to_string() } else { v.to_string() };
        let np = self.pointers.len();
        for (p, name) in self.pointers.iter().enumerate() {
            let (cell, start, end) = (at(3 * p), at(3 * p + 1), at(3 * p + 2));
            let bit = |k: Option<usize>| k.and_then(|k| values.get(k)).is_some_and(|&v| v == 1);
            match cell {
                Some(k) => {
                    let v = values.get(k).copied().unwrap_or(u16::MAX);
                    let text = match &spec.features[k].1 {
                        Kept::Value => format!("={}", shown(v)),
                        Kept::Tests(cs) => match cs.iter().enumerate().find(|(j, _)| v & (1 << j) != 0) {
                            Some((_, &c)) => format!("={}", shown(c)),
                            None => format!("!={}", cs.iter().map(|&c| shown(c)).collect::<Vec<_>>().join(",")),
                        },
                    };
                    let (op, value) = text.split_at(if text.starts_with('!') { 2 } else { 1 });
                    parts.push(format!(
                        "{name}{op}{}{value}{}",
                        if bit(start) { "[" } else { "" },
                        if bit(end) { "]" } else { "" }
                    ));
                }
                None => {
                    for (k, what) in [(start, "at_start"), (end, "at_end")] {
                        if k.is_some() {
                            parts.push(format!("{}{what}({name})", if bit(k) { "" } else { "!" }));
                        }
                    }
                }
            }
        }
        for (f, feature) in self.obs.features.iter().enumerate().skip(3 * np) {
            if let Some(k) = at(f) {
                let v = values.get(k).copied().unwrap_or(u16::MAX);
                let text = if feature.classes == 2 { (v == 1).to_string() } else { shown(v) };
                parts.push(format!("({})={text}", feature.name));
            }
        }
        if parts.is_empty() {
            "(any)".to_string()
        } else {
            parts.join(" ")
        }
    }
}

/// The distinct cases of some traces, per program.
#[derive(Clone, Debug)]
pub struct CaseSet {
    pub spec: CaseSpec,
    sets: Vec<HashSet<Box<[u16]>>>,
    buf: Vec<u16>,
}

impl CaseSet {
    pub fn new(spec: CaseSpec) -> CaseSet {
        let sets = spec.programs.iter().map(|_| HashSet::new()).collect();
        CaseSet { spec, sets, buf: Vec::new() }
    }

    /// Calls `f(sets, program, case)` for the case of every step of
    /// `trace`.
    fn each_case(&mut self, trace: &Trace, mut f: impl FnMut(&mut [HashSet<Box<[u16]>>], usize, &[u16])) {
        let CaseSet { spec, sets, buf } = self;
        for frame in &trace.frames {
            let p = frame.program as usize;
            let Some(pc) = spec.programs.get(p) else { continue };
            for i in frame.step_range() {
                pc.case_of(&frame.args, trace.obs(i), buf);
                f(sets, p, buf);
            }
        }
    }

    /// Adds every step of `trace`; returns how many cases were new.
    pub fn add(&mut self, trace: &Trace) -> usize {
        let mut new = 0;
        self.each_case(trace, |sets, p, case| {
            if !sets[p].contains(case) {
                sets[p].insert(case.into());
                new += 1;
            }
        });
        new
    }

    /// How many distinct cases of `trace` the set lacks, leaving the set
    /// as it is.
    pub fn count_new(&mut self, trace: &Trace) -> usize {
        let mut fresh: HashSet<(usize, Box<[u16]>)> = HashSet::new();
        self.each_case(trace, |sets, p, case| {
            if !sets[p].contains(case) {
                fresh.insert((p, case.into()));
            }
        });
        fresh.len()
    }

    /// Adds the cases of `trace` that `known` holds.
    pub fn add_known(&mut self, trace: &Trace, known: &CaseSet) {
        self.each_case(trace, |sets, p, case| {
            if known.contains(p as ProgramId, case) && !sets[p].contains(case) {
                sets[p].insert(case.into());
            }
        });
    }

    /// Distinct cases of `program`.
    pub fn len(&self, program: ProgramId) -> usize {
        self.sets.get(program as usize).map_or(0, |s| s.len())
    }

    pub fn is_empty(&self) -> bool {
        self.sets.iter().all(|s| s.is_empty())
    }

    pub fn contains(&self, program: ProgramId, case: &[u16]) -> bool {
        self.sets.get(program as usize).is_some_and(|s| s.contains(case))
    }

    /// `program`'s cases, sorted.
    pub fn cases(&self, program: ProgramId) -> Vec<&[u16]> {
        let mut out: Vec<&[u16]> = self.sets.get(program as usize).map_or_else(Vec::new, |s| s.iter().map(|c| &c[..]).collect());
        out.sort_unstable();
        out
    }

    /// `program`'s cases that `other` lacks, sorted.
    pub fn missing_from<'a>(&'a self, other: &CaseSet, program: ProgramId) -> Vec<&'a [u16]> {
        self.cases(program).into_iter().filter(|c| !other.contains(program, c)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADD: &str = include_str!("../../stdlib/add.npl");
    const BUBBLESORT: &str = include_str!("../../stdlib/bubblesort.npl");

    fn task(src: &str) -> Task {
        crate::compile(src, "t").unwrap().task
    }

    /// Every program's kept features, by name, as text.
    fn spec_text(t: &Task) -> String {
        let spec = t.case_spec();
        let mut out = String::new();
        for (p, c) in spec.programs.iter().enumerate().skip(1) {
            let fs: Vec<String> = c
                .features
                .iter()
                .map(|(f, k)| match k {
                    Kept::Value => t.obs.features[*f].name.clone(),
                    Kept::Tests(cs) => format!("{} in {cs:?}", t.obs.features[*f].name),
                })
                .collect();
            out.push_str(&format!("{}/{}: {}\n", t.programs[p].name, c.arity, fs.join(", ")));
        }
        out
    }

    #[test]
    fn addition_decides_on_the_digits_it_adds_and_the_blanks_it_tests() {
        let t = task(ADD);
        assert_eq!(
            spec_text(&t),
            "ADD/0: in1 in [10], in1.start, in1.end, in2 in [10], in2.start, in2.end, carry in [10], carry.start, carry.end\n\
             ADD1/0: in1, in1.start, in1.end, in2, in2.start, in2.end, carry, carry.start, carry.end\n\
             CARRY/0: \n\
             LSHIFT/0: \n"
        );
    }

    /// `observe: decisions` keeps the cells decisions read, without the edge
    /// bits the case report adds beside them; at_end reads keep theirs.
    #[test]
    fn decision_features_leave_out_the_edges_only_the_report_adds() {
        let names = |t: &Task| -> Vec<String> {
            t.decision_features()
                .iter()
                .zip(&t.programs)
                .skip(1)
                .map(|(keep, p)| {
                    let kept: Vec<&str> = keep.iter().zip(&t.obs.features).filter(|(k, _)| **k).map(|(_, f)| f.name.as_str()).collect();
                    format!("{}: {}", p.name, kept.join(", "))
                })
                .collect()
        };
        assert_eq!(names(&task(ADD)), ["ADD: in1, in2, carry", "ADD1: in1, in2, carry", "CARRY: ", "LSHIFT: "]);
        let sort = names(&task(BUBBLESORT));
        assert!(sort.contains(&"BUBBLESORT: k.end".to_string()), "{sort:?}");
        assert!(sort.contains(&"COMPSWAP: i, j".to_string()), "{sort:?}");
        assert_eq!(task(ADD).decision_features()[0].len(), task(ADD).obs.width());
    }

    #[test]
    fn bubble_sort_decides_on_edges_and_neighbours() {
        let t = task(BUBBLESORT);
        let text = spec_text(&t);
        assert!(text.contains("BUBBLESORT/0: k.end\n"), "{text}");
        assert!(text.contains("COMPSWAP/0: i, i.start, i.end, j, j.start, j.end\n"), "{text}");
        assert!(text.contains("BUBBLE/0: j in [10], j.start, j.end\n"), "{text}");
    }

    #[test]
    fn cases_are_counted_once_and_rendered_as_in_traces() {
        let t = task(ADD);
        let mut set = CaseSet::new(t.case_spec());
        let trace = t.trace(3, 1).unwrap();
        let first = set.add(&trace);
        assert!(first > 0);
        assert_eq!(set.add(&trace), 0, "the same trace adds nothing new");
        let add1 = t.program_id("ADD1").unwrap();
        let spec = &set.spec.programs[add1 as usize];
        // Three columns and the carry column, if any: one case each.
        let shown: Vec<String> = set.cases(add1).iter().map(|c| t.render_case(spec, add1, c)).collect();
        assert!(shown.iter().any(|s| s.ends_with("carry=_]")), "{shown:?}");
        assert!(shown.iter().all(|s| s.starts_with("in1=")), "{shown:?}");
        let lshift = t.program_id("LSHIFT").unwrap();
        assert_eq!(set.len(lshift), 1);
        assert_eq!(t.render_case(&set.spec.programs[lshift as usize], lshift, set.cases(lshift)[0]), "(any)");
        let add = t.program_id("ADD").unwrap();
        let spec = &set.spec.programs[add as usize];
        let shown: Vec<String> = set.cases(add).iter().map(|c| t.render_case(spec, add, c)).collect();
        // The loop tests for blanks only; the last test is at the row's start
        // after a final carry.
        assert_eq!(shown, ["in1!=_ in2!=_ carry=_", "in1!=_] in2!=_] carry=_]", "in1=_ in2=_ carry!=_", "in1=[_ in2=[_ carry=[_"]);
    }
}
