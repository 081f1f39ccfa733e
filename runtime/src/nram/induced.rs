//! The induced program: a [`CircuitTable`] written as an NPL program over
//! the task's own tape, which does exactly what the discrete machine does
//! on every input (what `synth extract` prints; docs/nram.md, "The induced
//! program").
//!
//! ```text
//! program EXTRACTED(cells, timesteps) {
//!   let r0 = 0
//!   let r1 = 0
//!   for step in 0..timesteps {
//!     if r0 == 0 {
//!       // branch 0: taken 120 of 480 timesteps
//!       let read0 = mem[r0]
//!       let inc1 = (read0 + 1) % cells
//!       r0 = inc1
//!     } else {
//!       ...
//!       return
//!     }
//!   }
//! }
//! ```
//!
//! Registers start at 0; each loop iteration is one timestep. The branch is
//! chosen by the zero pattern at its start: one `if`/`else if` per branch
//! of the table, those the sample runs took first (in the order they first
//! took them), each condition as short as the branches before it allow,
//! the last a plain `else`. In a branch, each live module in order is a
//! `let` named after it (`read0`, `inc4`: kind and place in the module
//! list) computing [`Module::apply`]'s integer function modulo `cells`
//! (NPL's `%` is floor division's, so `(a - 1) % cells` wraps as `dec`
//! does, and `1 % cells` is the `one` module's output even on a tape of 1
//! cell); a `write` is `mem[a] = b` where it runs, so a later `read` sees
//! it; then the registers take their new values all at once (ordered, with
//! a saved copy where two registers swap, so that each reads the old
//! value); then `return` if the machine halts there. A branch that changes
//! nothing and does not halt repeats forever, so it returns at once: the
//! tape is final.

use super::circuit::{condition, cover, module_name, Circuit, CircuitTable, PatternTally, Source};
use super::module::Module;
use std::fmt::Write as _;

/// How sample runs used the table's branches: the order they first took
/// them and how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Every branch once: those taken, in the order first taken, then the
    /// others.
    pub order: Vec<usize>,
    /// Timesteps per branch.
    pub taken: Vec<u64>,
    /// Runs and timesteps in all.
    pub runs: usize,
    pub timesteps: u64,
}

impl Usage {
    /// From the tally of `runs` runs.
    pub fn new(table: &CircuitTable, tally: &PatternTally, runs: usize) -> Usage {
        let taken = tally.per_branch(table);
        Usage { order: tally.branch_order(table), timesteps: taken.iter().sum(), taken, runs }
    }

    /// No runs: the branches in table order.
    pub fn none(table: &CircuitTable) -> Usage {
        let n = table.branches.len();
        Usage { order: (0..n).collect(), taken: vec![0; n], runs: 0, timesteps: 0 }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The program `name(cells, timesteps)` that runs `table`, with `comment`
/// (lines without `//`) above it.
pub fn program(table: &CircuitTable, usage: &Usage, name: &str, comment: &[String]) -> String {
    let mut out = String::new();
    for line in comment {
        let _ = writeln!(out, "//{}{line}", if line.is_empty() { "" } else { " " });
    }
    let _ = writeln!(out, "program {name}(cells, timesteps) {{");
    for i in 0..table.registers {
        let _ = writeln!(out, "  let r{i} = 0");
    }
    out.push_str("  for step in 0..timesteps {\n");
    let n = usage.order.len();
    for (pos, &b) in usage.order.iter().enumerate() {
        let branch = &table.branches[b];
        let later: Vec<u32> = usage.order[pos + 1..].iter().flat_map(|&l| table.branches[l].patterns.iter().copied()).collect();
        let cond = condition(&cover(&branch.patterns, &later, table.registers));
        let indent = match (n, pos, cond) {
            (1, _, _) => "    ",
            (_, 0, Some(c)) => {
                let _ = writeln!(out, "    if {c} {{");
                "      "
            }
            (_, _, Some(c)) => {
                let _ = writeln!(out, "    }} else if {c} {{");
                "      "
            }
            (_, _, None) => {
                out.push_str("    } else {\n");
                "      "
            }
        };
        let taken = usage.taken[b];
        let note = match (usage.runs, taken) {
            (0, _) => String::new(),
            (_, 0) => ": never taken".into(),
            (_, t) => format!(": {} of {} timesteps", thousands(t), thousands(usage.timesteps)),
        };
        let _ = writeln!(out, "{indent}// branch {b}{note}");
        body(&mut out, table, &branch.circuit, indent);
    }
    if n > 1 {
        out.push_str("    }\n");
    }
    out.push_str("  }\n}\n");
    out
}

/// One branch's statements.
fn body(out: &mut String, table: &CircuitTable, c: &Circuit, indent: &str) {
    if c.is_idle() {
        let _ = writeln!(out, "{indent}// nothing changes, so nothing will: the tape is final\n{indent}return");
        return;
    }
    let modules = &table.modules;
    let used = |k: usize| c.registers.contains(&Source::Module(k)) || c.live().any(|(_, i)| i.a == Some(Source::Module(k)) || i.b == Some(Source::Module(k)));
    for (k, inputs) in c.live() {
        let name = module_name(modules, k);
        let arg = |s: Option<Source>| s.map_or_else(|| "0".to_string(), |s| s.name(modules));
        let (a, b) = (arg(inputs.a), arg(inputs.b));
        let line = match modules[k] {
            Module::Read => format!("let {name} = mem[{a}]"),
            Module::Zero => format!("let {name} = 0"),
            Module::One => format!("let {name} = 1 % cells"),
            Module::Two => format!("let {name} = 2 % cells"),
            Module::Inc => format!("let {name} = ({a} + 1) % cells"),
            Module::Dec => format!("let {name} = ({a} - 1) % cells"),
            Module::Add => format!("let {name} = ({a} + {b}) % cells"),
            Module::Sub => format!("let {name} = ({a} - {b}) % cells"),
            Module::Lt => format!("let {name} = 0\n{indent}if {a} < {b} {{ {name} = 1 % cells }}"),
            Module::Le => format!("let {name} = 0\n{indent}if {a} <= {b} {{ {name} = 1 % cells }}"),
            Module::Eq => format!("let {name} = 0\n{indent}if {a} == {b} {{ {name} = 1 % cells }}"),
            Module::Min => format!("let {name} = min({a}, {b})"),
            Module::Max => format!("let {name} = max({a}, {b})"),
            Module::Write if used(k) => format!("mem[{a}] = {b}\n{indent}let {name} = {b}"),
            Module::Write => format!("mem[{a}] = {b}"),
        };
        let _ = writeln!(out, "{indent}{line}");
    }
    for line in register_updates(c, modules) {
        let _ = writeln!(out, "{indent}{line}");
    }
    if c.halt {
        let _ = writeln!(out, "{indent}return");
    }
}

/// The assignments that give every register its new value at once: a
/// register is set only after every register that reads its old value, and
/// where they read each other in a cycle, one old value is saved first
/// (`let old_r0 = r0`).
fn register_updates(c: &Circuit, modules: &[Module]) -> Vec<String> {
    let mut moves: Vec<(usize, String)> = CircuitTable::updates(c).map(|(i, s)| (i, s.name(modules))).collect();
    let mut lines = Vec::new();
    while !moves.is_empty() {
        let read = |i: usize, moves: &[(usize, String)]| moves.iter().any(|(_, s)| *s == format!("r{i}"));
        match (0..moves.len()).find(|&m| !read(moves[m].0, &moves)) {
            Some(m) => {
                let (i, s) = moves.remove(m);
                lines.push(format!("r{i} = {s}"));
            }
            None => {
                let i = moves[0].0;
                lines.push(format!("let old_r{i} = r{i}"));
                for (_, s) in moves.iter_mut().filter(|(_, s)| *s == format!("r{i}")) {
                    *s = format!("old_r{i}");
                }
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn updates(registers: Vec<Source>) -> Vec<String> {
        register_updates(&Circuit { modules: vec![None], registers, halt: false }, &[Module::Inc])
    }

    #[test]
    fn registers_update_at_once() {
        use Source::{Module as M, Register as R};
        // A swap needs a saved copy; a chain is ordered.
        assert_eq!(updates(vec![R(1), R(0)]), ["let old_r0 = r0", "r0 = r1", "r1 = old_r0"]);
        assert_eq!(updates(vec![R(1), R(2), M(0)]), ["r0 = r1", "r1 = r2", "r2 = inc0"]);
        assert_eq!(updates(vec![R(0), R(1)]), Vec::<String>::new());
        // A three-cycle and a register read twice.
        assert_eq!(updates(vec![R(2), R(0), R(1), R(0)]), ["r3 = r0", "let old_r0 = r0", "r0 = r2", "r2 = r1", "r1 = old_r0"]);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
