//! The `start` setting: a circuit the controller starts next to, written
//! as `synth run` prints one (`read2(r0) inc3(read2) write4(one1, inc3)
//! r0 := read2`). Each module named `<name><k>` (its place `k` in the
//! module list) takes the inputs in parentheses, each register `r<i>` the
//! value after `:=`; values are registers and earlier modules. Starting
//! sets the controller's output biases so that every named choice is
//! `start_logit` above the others (so its probability is about
//! `e^logit / (e^logit + choices - 1)`), and the halting bias to
//! `-max(10, start_logit)`, so that the circuit runs every timestep (at
//! `-5`, a run of 24 timesteps would stop early one time in seven). The
//! weights into the logits stay random, so zero patterns can still
//! branch.
//!
//! What it is for: to find out whether a circuit one believes does the
//! task is one the fuzzy machine keeps (started right next to it, does
//! training stay there?), and how far from it training still finds it.

use super::circuit::Source;
use super::model::{Layout, Nram};

/// The choices a start circuit names: the logits to raise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choices(pub Vec<usize>);

/// The value names of a layout as `synth run` prints them: registers
/// `r0..`, then `<module><k>`.
fn value_names(l: &Layout) -> Vec<String> {
    (0..l.registers + l.q()).map(|j| Source::of_choice(j, l.registers).name(&l.modules)).collect()
}

/// Splits a start circuit into names and the punctuation `(`, `)`, `,`,
/// `:=`.
fn tokens(spec: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = spec.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut w = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric() || **c == '_') {
                w.push(c);
                chars.next();
            }
            out.push(w);
        } else if c == ':' {
            chars.next();
            if chars.next() != Some('=') {
                return Err("`:` must be followed by `=` (`r0 := read2`)".into());
            }
            out.push(":=".into());
        } else if matches!(c, '(' | ')' | ',' | '=') {
            chars.next();
            out.push(if c == '=' { ":=".into() } else { c.to_string() });
        } else {
            return Err(format!("unexpected `{c}`"));
        }
    }
    Ok(out)
}

/// The logits a start circuit raises, or what is wrong with it.
pub fn parse(l: &Layout, spec: &str) -> Result<Choices, String> {
    let names = value_names(l);
    let r = l.registers;
    let index = |name: &str| names.iter().position(|n| n == name);
    let known = || format!("the values are {}", names.join(", "));
    let toks = tokens(spec)?;
    let mut at = 0;
    let mut choices = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    while at < toks.len() {
        let name = &toks[at];
        let Some(v) = index(name) else {
            return Err(format!("no module or register is called `{name}`; {}", known()));
        };
        if seen.contains(&v) {
            return Err(format!("`{name}` is given twice"));
        }
        seen.push(v);
        at += 1;
        if v < r {
            // r<i> := value
            if toks.get(at).map(String::as_str) != Some(":=") {
                return Err(format!("a register takes its new value after `:=` (`{name} := ...`)"));
            }
            let Some(value) = toks.get(at + 1) else {
                return Err(format!("`{name} :=` has no value"));
            };
            let Some(j) = index(value) else {
                return Err(format!("`{name} := {value}`: no module or register is called `{value}`; {}", known()));
            };
            choices.push(l.c + v * (r + l.q()) + j);
            at += 2;
            continue;
        }
        let k = v - r;
        let module = l.modules[k];
        let arity = module.arity();
        let mut args = Vec::new();
        if toks.get(at).map(String::as_str) == Some("(") {
            at += 1;
            loop {
                match toks.get(at).map(String::as_str) {
                    Some(")") => {
                        at += 1;
                        break;
                    }
                    Some(",") => at += 1,
                    Some(a) if a != "(" && a != ":=" => {
                        args.push(a.to_string());
                        at += 1;
                    }
                    _ => return Err(format!("`{name}(` is not closed by `)`")),
                }
            }
        }
        if args.len() != arity {
            return Err(format!("`{name}` takes {arity} input{}, given {}", if arity == 1 { "" } else { "s" }, args.len()));
        }
        for (a, off) in args.iter().zip([l.a[k], l.b[k]]) {
            let Some(j) = index(a) else {
                return Err(format!("`{name}({a})`: no module or register is called `{a}`; {}", known()));
            };
            if j >= r + k {
                return Err(format!("`{name}` cannot read `{a}`: a module reads registers and the modules before it"));
            }
            choices.push(off.expect("arity gives the offsets") + j);
        }
    }
    Ok(Choices(choices))
}

impl Nram {
    /// Sets the output biases so that the controller starts next to the
    /// circuit `choices` names (see the module's documentation).
    pub fn start_at(&mut self, choices: &Choices, logit: f32) {
        let b3 = self.layout.b3;
        for &c in &choices.0 {
            self.params[b3 + c] = logit;
        }
        self.params[b3 + self.layout.f] = -logit.max(10.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nram::config::NramConfig;
    use crate::nram::module::Module;

    fn layout() -> Layout {
        Layout::new(&NramConfig { registers: 2, modules: vec![Module::One, Module::Read, Module::Inc, Module::Write], hidden: 4, ..NramConfig::default() })
    }

    #[test]
    fn a_circuit_names_its_logits() {
        let l = layout();
        let c = parse(&l, "read1(r0) inc2(read1) write3(one0, inc2) r0 := inc2 r1=read1").unwrap();
        // values: r0 r1 one0 read1 inc2 write3
        assert_eq!(c.0, vec![l.a[1].unwrap(), l.a[2].unwrap() + 3, l.a[3].unwrap() + 2, l.b[3].unwrap() + 4, l.c + 4, l.c + 6 + 3]);
        let mut nram = Nram::new(&NramConfig { registers: 2, modules: l.modules.clone(), hidden: 4, ..NramConfig::default() }, 0);
        nram.start_at(&c, 6.0);
        assert_eq!(nram.params[l.b3 + l.a[2].unwrap() + 3], 6.0);
        assert_eq!(nram.params[l.b3 + l.f], -10.0);
    }

    #[test]
    fn mistakes_are_named() {
        let l = layout();
        for (spec, want) in [
            ("read7(r0)", "no module or register is called `read7`; the values are r0, r1, one0, read1, inc2, write3"),
            ("read1(r0, r1)", "`read1` takes 1 input, given 2"),
            ("inc2(write3)", "`inc2` cannot read `write3`"),
            ("r0 read1", "a register takes its new value after `:=`"),
            ("r0 := ", "`r0 :=` has no value"),
            ("read1(r0", "`read1(` is not closed by `)`"),
            ("read1(r0) read1(r1)", "`read1` is given twice"),
            ("r0 : read1", "`:` must be followed by `=`"),
            ("read1[r0]", "unexpected `[`"),
        ] {
            let e = parse(&l, spec).unwrap_err();
            assert!(e.contains(want), "{spec}: {e}");
        }
    }
}
