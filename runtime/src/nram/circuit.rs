//! The program a discretised NRAM runs, as a table of circuits.
//!
//! The discrete machine ([`super::discrete`]) replaces every softmax by its
//! most likely choice and halts when the halting logit is above 0. Its MLP
//! controller sees only which registers are 0, so each timestep's circuit
//! (the register or earlier output every module reads, where every
//! register's new value comes from, whether to halt) is a function of that
//! **zero pattern**: `R` bits, bit `i` set when register `i` is 0. The
//! [`CircuitTable`] computes it for all `2^R` patterns (one controller
//! forward each), removes dead modules (a module matters only if its
//! output reaches a register or a `write`, directly or through other live
//! modules; `read` has no side effect), and merges the patterns whose live
//! circuits are the same into [`Branch`]es. That table is the machine's
//! whole program: `synth extract` prints it as NPL ([`super::induced`]),
//! `synth graph --model` draws it ([`CircuitTable::to_text`],
//! [`CircuitTable::to_dot`]), and `synth run` labels every timestep with
//! its branch.
//!
//! The table reproduces the runner's choices bit for bit: the same
//! controller forward on the same 0/1 inputs, the same argmax (the first of
//! equal logits), the same halting test.

use super::config::Controller;
use super::discrete::Observer;
use super::model::{Acts, Layout, Nram};
use super::module::Module;
use crate::kernels::argmax;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The most registers a table takes: it runs the controller once for each
/// of the `2^R` zero patterns (65,536 at 16 registers).
pub const MAX_REGISTERS: usize = 16;

/// Where a value comes from: a register (as it was at the start of the
/// timestep) or a module's output in this timestep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Register(usize),
    Module(usize),
}

impl Source {
    /// The source of choice `j` among `R` registers then module outputs.
    pub(super) fn of_choice(j: usize, registers: usize) -> Source {
        if j < registers {
            Source::Register(j)
        } else {
            Source::Module(j - registers)
        }
    }

    /// Its value, given the registers at the start of the timestep and
    /// every module's output.
    pub fn value(self, registers: &[u32], outputs: &[u32]) -> u32 {
        match self {
            Source::Register(i) => registers[i],
            Source::Module(k) => outputs[k],
        }
    }

    /// Its name: `r2`, or the module's (`read0`, `inc4`; see
    /// [`module_name`]).
    pub fn name(self, modules: &[Module]) -> String {
        match self {
            Source::Register(i) => format!("r{i}"),
            Source::Module(k) => module_name(modules, k),
        }
    }
}

/// Module `k`'s name: its kind and its place in the module list (`read0`,
/// `inc4`, `write13`), the same in every branch.
pub fn module_name(modules: &[Module], k: usize) -> String {
    format!("{}{k}", modules[k].name())
}

/// A live module's inputs: `a` and `b` where its arity takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Inputs {
    pub a: Option<Source>,
    pub b: Option<Source>,
}

impl Inputs {
    fn sources(self) -> impl Iterator<Item = Source> {
        self.a.into_iter().chain(self.b)
    }
}

/// One timestep's circuit with its dead modules removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Circuit {
    /// Per module: its inputs when it is live, `None` when nothing it
    /// computes reaches a register or a `write`.
    pub modules: Vec<Option<Inputs>>,
    /// Per register: where its new value comes from.
    pub registers: Vec<Source>,
    /// Whether the machine halts after this timestep.
    pub halt: bool,
}

impl Circuit {
    /// The circuit the logits of one timestep choose, dead modules removed.
    pub fn choose(layout: &Layout, logits: &[f32]) -> Circuit {
        let r = layout.registers;
        let q = layout.q();
        let pick = |k: usize, o: Option<usize>| o.map(|o| Source::of_choice(argmax(&logits[o..o + r + k]), r));
        let mut modules: Vec<Option<Inputs>> = (0..q).map(|k| Some(Inputs { a: pick(k, layout.a[k]), b: pick(k, layout.b[k]) })).collect();
        let registers: Vec<Source> = (0..r).map(|i| Source::of_choice(argmax(&logits[layout.c + i * (r + q)..][..r + q]), r)).collect();
        // Backwards: a module is live when a register takes its output,
        // when it writes, or when a live module after it reads its output.
        let mut live = vec![false; q];
        for s in &registers {
            if let Source::Module(k) = *s {
                live[k] = true;
            }
        }
        for k in (0..q).rev() {
            live[k] |= layout.modules[k] == Module::Write;
            match modules[k] {
                Some(inputs) if live[k] => {
                    for s in inputs.sources() {
                        if let Source::Module(j) = s {
                            live[j] = true;
                        }
                    }
                }
                _ => modules[k] = None,
            }
        }
        Circuit { modules, registers, halt: logits[layout.f] > 0.0 }
    }

    /// The live modules, in order, with their inputs.
    pub fn live(&self) -> impl Iterator<Item = (usize, Inputs)> + '_ {
        self.modules.iter().enumerate().filter_map(|(k, m)| m.map(|i| (k, i)))
    }

    /// Whether the timestep does nothing: no module is live (so nothing is
    /// written), every register keeps its value, and the machine does not
    /// halt. Every later timestep then sees the same pattern and does
    /// nothing again, so the run's result is already final.
    pub fn is_idle(&self) -> bool {
        !self.halt && self.modules.iter().all(Option::is_none) && self.registers.iter().enumerate().all(|(i, s)| *s == Source::Register(i))
    }
}

/// The zero patterns that share one live circuit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branch {
    pub circuit: Circuit,
    /// Its zero patterns, ascending.
    pub patterns: Vec<u32>,
}

/// Why a machine has no circuit table.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CircuitError {
    #[error("the machine has {registers} registers; a circuit table takes at most {MAX_REGISTERS} (it runs the controller once for each of the 2^R zero patterns)")]
    TooManyRegisters { registers: usize },
    /// A controller whose choices depend on more than the zero pattern.
    #[error("the machine's controller is `{found}`; only an MLP controller (`controller: mlp`) is a finite program: its choices depend on nothing but which registers are zero, where a recurrent controller's also depend on what it remembers")]
    Controller { found: String },
}

/// Every zero pattern's live circuit, and the patterns merged into branches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitTable {
    pub registers: usize,
    pub modules: Vec<Module>,
    /// The distinct live circuits, in the order of their smallest pattern
    /// (so the first holds pattern 0, no register zero).
    pub branches: Vec<Branch>,
    /// Pattern -> index into `branches`.
    branch_of: Vec<usize>,
}

impl CircuitTable {
    /// The table of `nram`: `2^R` controller forwards.
    pub fn new(nram: &Nram) -> Result<CircuitTable, CircuitError> {
        match nram.config.controller {
            Controller::Mlp => {}
            found => return Err(CircuitError::Controller { found: found.name().into() }),
        }
        let l = &nram.layout;
        let r = l.registers;
        if r > MAX_REGISTERS {
            return Err(CircuitError::TooManyRegisters { registers: r });
        }
        let (mut acts, mut logits) = (Acts::default(), vec![0.0; l.logits]);
        acts.reserve(l, 1);
        let mut x = vec![0f32; r];
        let mut branches: Vec<Branch> = Vec::new();
        let mut index: HashMap<Circuit, usize> = HashMap::new();
        let mut branch_of = Vec::with_capacity(1 << r);
        for pattern in 0..1u32 << r {
            for (i, xi) in x.iter_mut().enumerate() {
                *xi = (pattern >> i & 1) as f32;
            }
            nram.controller_forward(1, &x, &mut acts, 0, None, &mut logits);
            let circuit = Circuit::choose(l, &logits);
            let b = *index.entry(circuit.clone()).or_insert_with(|| {
                branches.push(Branch { circuit, patterns: Vec::new() });
                branches.len() - 1
            });
            branches[b].patterns.push(pattern);
            branch_of.push(b);
        }
        Ok(CircuitTable { registers: r, modules: l.modules.clone(), branches, branch_of })
    }

    /// The zero pattern of `registers`: bit `i` set when register `i` is 0.
    pub fn pattern(registers: &[u32]) -> u32 {
        registers.iter().enumerate().fold(0, |p, (i, &v)| p | ((v == 0) as u32) << i)
    }

    /// The branch a zero pattern takes.
    pub fn branch_of(&self, pattern: u32) -> usize {
        self.branch_of[pattern as usize]
    }

    /// A set of patterns as a condition on the registers, in NPL:
    /// `(r0 == 0 && r1 != 0) || r2 == 0`, or `always` for all of them.
    pub fn describe_patterns(&self, patterns: &[u32]) -> String {
        let off: Vec<u32> = (0..1u32 << self.registers).filter(|p| patterns.binary_search(p).is_err()).collect();
        condition(&cover(patterns, &off, self.registers)).unwrap_or_else(|| "always".into())
    }

    /// The registers a branch's circuit sets, with their sources, leaving
    /// out those that keep their value.
    pub fn updates(circuit: &Circuit) -> impl Iterator<Item = (usize, Source)> + '_ {
        circuit.registers.iter().enumerate().filter(|(i, s)| **s != Source::Register(*i)).map(|(i, s)| (i, *s))
    }

    /// One line for live module `k` of a circuit: `inc4 = inc(read0)`,
    /// `write13: mem[r1] = inc4`.
    pub fn describe_module(&self, k: usize, inputs: Inputs) -> String {
        let name = |s: Option<Source>| s.map_or_else(String::new, |s| s.name(&self.modules));
        let m = self.modules[k];
        match (m, m.arity()) {
            (Module::Read, _) => format!("{} = mem[{}]", module_name(&self.modules, k), name(inputs.a)),
            (Module::Write, _) => format!("{}: mem[{}] = {}", module_name(&self.modules, k), name(inputs.a), name(inputs.b)),
            (_, 0) => format!("{} = {}()", module_name(&self.modules, k), m.name()),
            (_, 1) => format!("{} = {}({})", module_name(&self.modules, k), m.name(), name(inputs.a)),
            _ => format!("{} = {}({}, {})", module_name(&self.modules, k), m.name(), name(inputs.a), name(inputs.b)),
        }
    }

    /// The table as text: per branch, its patterns, live modules, register
    /// updates and halting.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "// {} registers, modules [{}]: {} zero patterns, {} distinct live circuits\n",
            self.registers,
            self.modules.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
            1u64 << self.registers,
            self.branches.len()
        );
        for (b, branch) in self.branches.iter().enumerate() {
            let _ = writeln!(out, "branch {b}: {}", self.describe_patterns(&branch.patterns));
            let c = &branch.circuit;
            for (k, inputs) in c.live() {
                let _ = writeln!(out, "  {}", self.describe_module(k, inputs));
            }
            for (i, s) in Self::updates(c) {
                let _ = writeln!(out, "  r{i} := {}", s.name(&self.modules));
            }
            if c.halt {
                out.push_str("  halt\n");
            } else if c.is_idle() {
                out.push_str("  (nothing changes)\n");
            }
        }
        out
    }

    /// The table as DOT: one cluster per branch, with a node per register
    /// (as read at the start of the timestep, and as set at its end), per
    /// live module, and for halting; edges for each module input (labelled
    /// `a`/`b` when it takes two) and each register update.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph nram {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
        for (b, branch) in self.branches.iter().enumerate() {
            let c = &branch.circuit;
            let label = self.describe_patterns(&branch.patterns).replace('"', "\\\"");
            let _ = writeln!(out, "  subgraph cluster_{b} {{\n    label=\"branch {b}: {label}\";");
            let node = |s: Source| match s {
                Source::Register(i) => format!("b{b}_r{i}"),
                Source::Module(k) => format!("b{b}_m{k}"),
            };
            let mut used = vec![false; self.registers];
            for s in c.live().flat_map(|(_, i)| i.sources()).chain(Self::updates(c).map(|(_, s)| s)) {
                if let Source::Register(i) = s {
                    used[i] = true;
                }
            }
            for i in (0..self.registers).filter(|&i| used[i]) {
                let _ = writeln!(out, "    b{b}_r{i} [label=\"r{i}\", shape=box];");
            }
            for (k, inputs) in c.live() {
                let m = self.modules[k];
                let _ = writeln!(out, "    b{b}_m{k} [label=\"{}\", shape={}];", module_name(&self.modules, k), if m == Module::Write { "house" } else { "ellipse" });
                let two = m.arity() == 2;
                for (s, port) in [(inputs.a, "a"), (inputs.b, "b")] {
                    if let Some(s) = s {
                        let attr = if two { format!(" [label=\"{port}\"]") } else { String::new() };
                        let _ = writeln!(out, "    {} -> b{b}_m{k}{attr};", node(s));
                    }
                }
            }
            for (i, s) in Self::updates(c) {
                let _ = writeln!(out, "    b{b}_n{i} [label=\"r{i}'\", shape=box, style=bold];\n    {} -> b{b}_n{i};", node(s));
            }
            if c.halt {
                let _ = writeln!(out, "    b{b}_halt [label=\"halt\", shape=octagon];");
            }
            out.push_str("  }\n");
        }
        out.push_str("}\n");
        out
    }
}

/// The zero patterns that agree with `zero` on the registers of `mask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cube {
    pub mask: u32,
    pub zero: u32,
}

impl Cube {
    pub fn contains(self, pattern: u32) -> bool {
        pattern & self.mask == self.zero
    }
}

/// A few cubes that together hold every pattern of `on` and none of `off`
/// (a pattern in neither may fall either way): each pattern of `on` that no
/// cube holds yet grows into a cube by dropping the registers, one at a
/// time from `r0`, whose test no pattern of `off` needs. Greedy, so not
/// always the fewest cubes, but every cube is as large as it can grow.
pub fn cover(on: &[u32], off: &[u32], registers: usize) -> Vec<Cube> {
    let mut cubes: Vec<Cube> = Vec::new();
    for &p in on {
        if cubes.iter().any(|c| c.contains(p)) {
            continue;
        }
        let mut mask = ((1u64 << registers) - 1) as u32;
        for i in 0..registers {
            let m = mask & !(1 << i);
            if !off.iter().any(|&o| o & m == p & m) {
                mask = m;
            }
        }
        cubes.push(Cube { mask, zero: p & mask });
    }
    cubes
}

/// Cubes as an NPL condition on registers `r0, r1, ...`: `(r0 == 0 && r1
/// != 0) || r2 == 0`; `None` when a cube holds every pattern (the condition
/// is always true).
pub fn condition(cubes: &[Cube]) -> Option<String> {
    let mut terms = Vec::with_capacity(cubes.len());
    for c in cubes {
        if c.mask == 0 {
            return None;
        }
        let lits: Vec<String> = (0..32).filter(|i| c.mask >> i & 1 == 1).map(|i| format!("r{i} {} 0", if c.zero >> i & 1 == 1 { "==" } else { "!=" })).collect();
        let term = lits.join(" && ");
        terms.push(if cubes.len() > 1 && lits.len() > 1 { format!("({term})") } else { term });
    }
    Some(terms.join(" || "))
}

/// How often a run met each zero pattern, and in what order it first met
/// them: an [`Observer`] for [`super::Runner::run_observed`].
#[derive(Clone, Debug, Default)]
pub struct PatternTally {
    /// Timesteps per pattern (`2^R` entries once anything was counted).
    pub counts: Vec<u64>,
    /// Patterns in the order they were first met.
    pub order: Vec<u32>,
}

impl PatternTally {
    pub fn new(registers: usize) -> PatternTally {
        PatternTally { counts: vec![0; 1 << registers.min(MAX_REGISTERS)], order: Vec::new() }
    }

    /// Per branch of `table`: the timesteps that took it.
    pub fn per_branch(&self, table: &CircuitTable) -> Vec<u64> {
        let mut taken = vec![0; table.branches.len()];
        for (p, &c) in self.counts.iter().enumerate() {
            taken[table.branch_of(p as u32)] += c;
        }
        taken
    }

    /// The branches of `table` in the order the runs first took them, then
    /// those never taken, in table order.
    pub fn branch_order(&self, table: &CircuitTable) -> Vec<usize> {
        let mut order: Vec<usize> = Vec::with_capacity(table.branches.len());
        for b in self.order.iter().map(|&p| table.branch_of(p)).chain(0..table.branches.len()) {
            if !order.contains(&b) {
                order.push(b);
            }
        }
        order
    }
}

impl Observer for PatternTally {
    fn timestep(&mut self, _: &Layout, _: &[f32], values: &[u32], registers: &[u32], _halt: bool) {
        let p = CircuitTable::pattern(&values[..registers.len()]) as usize;
        if let Some(c) = self.counts.get_mut(p) {
            if *c == 0 {
                self.order.push(p as u32);
            }
            *c += 1;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::nram::config::NramConfig;
    use crate::nram::discrete::{Runner, TraceStep};
    use rand::{Rng, SeedableRng};
    use synth_compiler::TapeExample;

    /// Sets the controller so that, whatever its input, it picks the
    /// choices `choose` gives (as indices among registers then outputs)
    /// and halts when `halt` says: the last layer's weights 0 and its
    /// biases one-hot. `choose(k, port)` is module `k`'s input (`port` 0
    /// for A, 1 for B); `reg(i)` register `i`'s source.
    pub(crate) fn constant_controller(nram: &mut Nram, choose: &dyn Fn(usize, usize) -> usize, reg: &dyn Fn(usize) -> usize, halt: bool) {
        let l = nram.layout.clone();
        let (r, q) = (l.registers, l.q());
        nram.params[l.w3..l.b3].fill(0.0);
        nram.params[l.b3..].fill(0.0);
        for k in 0..q {
            for (port, o) in [l.a[k], l.b[k]].into_iter().enumerate() {
                if let Some(o) = o {
                    nram.params[l.b3 + o + choose(k, port)] = 1.0;
                }
            }
        }
        for i in 0..r {
            nram.params[l.b3 + l.c + i * (r + q) + reg(i)] = 1.0;
        }
        nram.params[l.b3 + l.f] = if halt { 1.0 } else { -1.0 };
    }

    /// A machine with random biases in every layer, so that its choices
    /// vary with the zero pattern, and a halting logit near 0, so that
    /// some runs halt early.
    pub(crate) fn random_machine(config: &NramConfig, seed: u64) -> Nram {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut nram = Nram::new(config, seed);
        let l = nram.layout.clone();
        for range in [l.b1..l.w2, l.b2..l.w3, l.b3..l.params] {
            for p in &mut nram.params[range] {
                *p = rng.random_range(-0.5..0.5);
            }
        }
        nram.params[l.b3 + l.f] = rng.random_range(-0.3..0.3);
        nram
    }

    fn example(m: usize, timesteps: usize, rng: &mut impl Rng) -> TapeExample {
        let input: Vec<u32> = (0..m).map(|_| rng.random_range(0..m as u32)).collect();
        TapeExample { size: m, seed: 0, cells: m, timesteps, output: input.clone(), input, graded: vec![0] }
    }

    /// Replays a traced run through the table: every timestep's registers,
    /// outputs of live modules, writes and halting are the table's.
    fn replay(table: &CircuitTable, input: &[u32], trace: &[TraceStep], tape: &[u32]) {
        let mut mem = input.to_vec();
        let m = mem.len() as u32;
        for (t, s) in trace.iter().enumerate() {
            let c = &table.branches[table.branch_of(CircuitTable::pattern(&s.registers))].circuit;
            for (k, i) in c.live() {
                let (a, b) = (i.a.map(|a| a.value(&s.registers, &s.outputs)), i.b.map(|b| b.value(&s.registers, &s.outputs)));
                let want = match table.modules[k] {
                    Module::Read => mem[a.unwrap() as usize],
                    Module::Write => {
                        mem[a.unwrap() as usize] = b.unwrap();
                        b.unwrap()
                    }
                    other => other.apply(a.unwrap_or(0), b.unwrap_or(0), m),
                };
                assert_eq!(s.outputs[k], want, "timestep {t}, module {k}");
            }
            for (i, src) in c.registers.iter().enumerate() {
                assert_eq!(s.next[i], src.value(&s.registers, &s.outputs), "timestep {t}, register {i}");
            }
            assert_eq!(s.halt, c.halt);
            if t + 1 < trace.len() {
                assert_eq!(trace[t + 1].registers, s.next);
            }
        }
        assert_eq!(mem, tape, "the live modules' writes make the final tape");
    }

    #[test]
    fn the_table_replays_random_machines() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let configs = [NramConfig { hidden: 12, ..NramConfig::default() }, NramConfig { registers: 3, hidden: 8, modules: vec![Module::Write, Module::Read, Module::Add, Module::Write, Module::Lt, Module::Two], ..NramConfig::default() }];
        let (mut halted, mut branched, mut dead) = (0, 0, 0);
        for config in &configs {
            for seed in 0..6 {
                let nram = random_machine(config, seed);
                let table = CircuitTable::new(&nram).unwrap();
                branched += (table.branches.len() > 1) as usize;
                dead += table.branches.iter().filter(|b| b.circuit.modules.iter().any(Option::is_none)).count();
                assert_eq!(table.branches.iter().map(|b| b.patterns.len()).sum::<usize>(), 1 << config.registers);
                for m in [1, 4, 9] {
                    let e = example(m, 12, &mut rng);
                    let (out, trace) = Runner::new().run_traced(&nram, &e).unwrap();
                    assert_eq!(out, Runner::new().run(&nram, &e).unwrap());
                    assert_eq!(trace.len(), out.steps);
                    halted += trace.last().is_some_and(|s| s.halt) as usize;
                    replay(&table, &e.input, &trace, &out.tape);
                }
            }
        }
        // The random machines exercise branches, dead modules and halting.
        assert!(halted > 0 && branched > 0 && dead > 0, "{halted} {branched} {dead}");
    }

    #[test]
    fn dead_modules_are_removed_and_patterns_merged() {
        let config = NramConfig { registers: 2, hidden: 4, modules: vec![Module::Read, Module::Inc, Module::Read, Module::Write, Module::Add], ..NramConfig::default() };
        let mut nram = Nram::new(&config, 0);
        // read0 = mem[r0]; inc1 = inc(read0); read2 = mem[inc1];
        // write3: mem[r1] = read2; add4 = add(r0, r1), which nothing uses.
        let choose = |k: usize, port: usize| [[0, 0], [2, 0], [3, 0], [1, 4], [0, 1]][k][port];
        constant_controller(&mut nram, &choose, &|i| [2, 1][i], false);
        let table = CircuitTable::new(&nram).unwrap();
        assert_eq!(table.branches.len(), 1);
        assert_eq!(table.branches[0].patterns, [0, 1, 2, 3]);
        let c = &table.branches[0].circuit;
        assert_eq!(c.live().map(|(k, _)| k).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(c.registers, [Source::Module(0), Source::Register(1)]);
        assert_eq!(table.describe_module(3, c.modules[3].unwrap()), "write3: mem[r1] = read2");
        let text = table.to_text();
        assert!(text.contains("branch 0: always\n"), "{text}");
        assert!(text.contains("  inc1 = inc(read0)\n") && text.contains("  r0 := read0\n") && !text.contains("add4"), "{text}");
        let dot = table.to_dot();
        assert!(dot.contains("b0_m1 -> b0_m2;") && dot.contains("b0_m0 -> b0_n0;") && !dot.contains("b0_m4"), "{dot}");
        // Without the write, nothing is live but what r0 takes.
        let choose = |k: usize, port: usize| [[0, 0], [2, 0], [3, 0], [0, 0], [0, 1]][k][port];
        constant_controller(&mut nram, &choose, &|i| [5, 1][i], true);
        let c = &CircuitTable::new(&nram).unwrap().branches[0].circuit;
        assert_eq!(c.live().map(|(k, _)| k).collect::<Vec<_>>(), [3]);
        assert!(c.halt);
    }

    #[test]
    fn an_idle_circuit_changes_nothing() {
        let config = NramConfig { registers: 2, hidden: 4, modules: vec![Module::Read, Module::Inc], ..NramConfig::default() };
        let mut nram = Nram::new(&config, 0);
        constant_controller(&mut nram, &|_, _| 0, &|i| i, false);
        let table = CircuitTable::new(&nram).unwrap();
        assert!(table.branches[0].circuit.is_idle());
        assert!(table.to_text().contains("(nothing changes)"));
        nram.config.registers = 17;
        nram.layout.registers = 17;
        assert_eq!(CircuitTable::new(&nram).unwrap_err(), CircuitError::TooManyRegisters { registers: 17 });
    }

    #[test]
    fn covers_hold_their_patterns_and_avoid_the_others() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for r in 1..=6usize {
            for _ in 0..50 {
                let (mut on, mut off) = (Vec::new(), Vec::new());
                for p in 0..1u32 << r {
                    match rng.random_range(0..3) {
                        0 => on.push(p),
                        1 => off.push(p),
                        _ => {}
                    }
                }
                let cubes = cover(&on, &off, r);
                assert!(on.iter().all(|&p| cubes.iter().any(|c| c.contains(p))));
                assert!(off.iter().all(|&p| !cubes.iter().any(|c| c.contains(p))));
            }
        }
        // r0 zero, whatever r1: one test; everything: no test.
        assert_eq!(condition(&cover(&[1, 3], &[0, 2], 2)).unwrap(), "r0 == 0");
        assert_eq!(condition(&cover(&[0, 3], &[1, 2], 2)).unwrap(), "(r0 != 0 && r1 != 0) || (r0 == 0 && r1 == 0)");
        assert_eq!(condition(&cover(&[2], &[], 2)), None);
    }

    #[test]
    fn the_tally_counts_patterns_in_the_order_met() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let nram = random_machine(&NramConfig { registers: 3, hidden: 8, ..NramConfig::default() }, 4);
        let table = CircuitTable::new(&nram).unwrap();
        let mut tally = PatternTally::new(3);
        let mut steps = 0;
        for m in [3, 5, 8] {
            steps += Runner::new().run_observed(&nram, &example(m, 10, &mut rng), &mut tally).unwrap().steps as u64;
        }
        assert_eq!(tally.counts.iter().sum::<u64>(), steps);
        assert_eq!(tally.order[0], 0b111, "every register starts at 0");
        assert_eq!(tally.per_branch(&table).iter().sum::<u64>(), steps);
        let order = tally.branch_order(&table);
        assert_eq!(order.len(), table.branches.len());
        assert_eq!(order[0], table.branch_of(0b111));
    }
}
