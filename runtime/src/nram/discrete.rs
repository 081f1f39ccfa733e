//! The discretised machine: every softmax replaced by its most likely
//! choice, every register and cell an integer, halting when `f > 0.5` (or at
//! the example's last timestep). It runs in O(T (Q + R) + controller) time
//! and O(M) memory, so a machine trained on small tapes can be run on
//! 1,000 cells and more.
//!
//! The controller still computes with floats, but sees only the exact
//! `P(r_i = 0)` of integer registers: 0 or 1.
//!
//! A run can report every timestep to an [`Observer`] ([`Runner::run_observed`]):
//! [`Runner::run_traced`] records a [`TraceStep`] per timestep (what `synth
//! run` shows), and [`super::circuit`] counts the zero patterns met. The
//! plain [`Runner::run`] observes with `()`, which compiles to nothing, so
//! the untraced loop is the same code as before.

use super::fuzzy::check_example;
use super::circuit::Circuit;
use super::model::{Acts, Layout, Nram};
use super::module::Module;
use crate::kernels::argmax;
use synth_compiler::TapeExample;

/// The end of a discrete run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The final tape.
    pub tape: Vec<u32>,
    /// Timesteps run (at most the example's `timesteps`).
    pub steps: usize,
}

/// What a run reports at the end of every timestep.
pub trait Observer {
    /// `logits` are the controller's for the timestep (the circuit they
    /// choose is [`Circuit::choose`]); `values` holds the registers at the
    /// start of the timestep, then every module's output in order;
    /// `registers` the registers after it; `halt` whether the machine stops
    /// here (by its halting logit; the last timestep of the budget reports
    /// `false` unless it halts too).
    fn timestep(&mut self, layout: &Layout, logits: &[f32], values: &[u32], registers: &[u32], halt: bool);
}

/// Observes nothing: the plain run.
impl Observer for () {
    #[inline(always)]
    fn timestep(&mut self, _: &Layout, _: &[f32], _: &[u32], _: &[u32], _: bool) {}
}

/// One timestep of a traced run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// The registers at its start (their zero pattern chose the circuit).
    pub registers: Vec<u32>,
    /// Every module's output, in module order (dead modules too).
    pub outputs: Vec<u32>,
    /// The registers at its end.
    pub next: Vec<u32>,
    /// Whether the machine halted after it.
    pub halt: bool,
    /// The live circuit the controller chose for it.
    pub circuit: Circuit,
}

/// Records every timestep.
impl Observer for Vec<TraceStep> {
    fn timestep(&mut self, layout: &Layout, logits: &[f32], values: &[u32], registers: &[u32], halt: bool) {
        let r = registers.len();
        self.push(TraceStep { registers: values[..r].to_vec(), outputs: values[r..].to_vec(), next: registers.to_vec(), halt, circuit: Circuit::choose(layout, logits) });
    }
}

/// Buffers for discrete runs, reused from run to run.
#[derive(Default)]
pub struct Runner {
    x: Vec<f32>,
    acts: Acts,
    logits: Vec<f32>,
    vals: Vec<u32>,
    regs: Vec<u32>,
}

impl Runner {
    pub fn new() -> Runner {
        Runner::default()
    }

    /// Runs `nram` on `e`'s input tape for at most `e.timesteps` steps.
    pub fn run(&mut self, nram: &Nram, e: &TapeExample) -> Result<Outcome, String> {
        self.run_observed(nram, e, &mut ())
    }

    /// [`Runner::run`], recording every timestep.
    pub fn run_traced(&mut self, nram: &Nram, e: &TapeExample) -> Result<(Outcome, Vec<TraceStep>), String> {
        let mut trace = Vec::new();
        let out = self.run_observed(nram, e, &mut trace)?;
        Ok((out, trace))
    }

    /// [`Runner::run`], reporting every timestep to `observer`.
    pub fn run_observed<O: Observer>(&mut self, nram: &Nram, e: &TapeExample, observer: &mut O) -> Result<Outcome, String> {
        check_example(e)?;
        let l = &nram.layout;
        let (r, q, nl) = (l.registers, l.q(), l.logits);
        let m = e.cells as u32;
        self.x.resize(r, 0.0);
        self.acts.reserve(l, 1);
        self.logits.resize(nl, 0.0);
        self.regs.clear();
        self.regs.resize(r, 0);
        let mut tape = e.input.clone();
        let mut steps = 0;
        while steps < e.timesteps {
            steps += 1;
            for (x, &v) in self.x.iter_mut().zip(&self.regs) {
                *x = (v == 0) as u32 as f32;
            }
            // The state after the previous timestep is row 0 itself.
            nram.controller_forward(1, &self.x, &mut self.acts, 0, (steps > 1).then_some(0), &mut self.logits);
            self.vals.clear();
            self.vals.extend_from_slice(&self.regs);
            for (k, &module) in l.modules.iter().enumerate() {
                let n = r + k;
                let pick = |o: Option<usize>| o.map_or(0, |o| self.vals[argmax(&self.logits[o..o + n])]);
                let (a, b) = (pick(l.a[k]), pick(l.b[k]));
                let out = match module {
                    Module::Read => tape[a as usize],
                    Module::Write => {
                        tape[a as usize] = b;
                        b
                    }
                    _ => module.apply(a, b, m),
                };
                self.vals.push(out);
            }
            for i in 0..r {
                let o = l.c + i * (r + q);
                self.regs[i] = self.vals[argmax(&self.logits[o..o + r + q])];
            }
            let halt = self.logits[l.f] > 0.0;
            observer.timestep(l, &self.logits, &self.vals, &self.regs, halt);
            if halt {
                break;
            }
        }
        Ok(Outcome { tape, steps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nram::config::{Controller, NramConfig};
    use crate::nram::fuzzy::Workspace;
    use rand::{Rng, SeedableRng};

    /// With the controller's last layer scaled by 10^6, every softmax and
    /// the halting sigmoid are one-hot to float precision (unless two
    /// logits tie to within about 10^-5, which these seeds never make), and
    /// then the fuzzy machine's most likely final tape is the discrete
    /// machine's tape.
    #[test]
    fn discrete_equals_fuzzy_when_the_controller_is_sure() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let configs = [
            NramConfig { hidden: 16, ..NramConfig::default() },
            NramConfig { registers: 2, hidden: 8, modules: vec![Module::Write, Module::Read, Module::Add, Module::Write, Module::Inc, Module::Min], ..NramConfig::default() },
            NramConfig { registers: 3, hidden: 8, controller: Controller::Lstm, ..NramConfig::default() },
        ];
        let mut halted_early = 0;
        for (c, config) in configs.iter().enumerate() {
            for seed in 0..8u64 {
                let mut nram = Nram::new(config, seed + 100 * c as u64);
                let l = nram.layout.clone();
                // Random biases: with zero ones, a controller whose ReLUs are
                // all off has equal logits, a uniform softmax.
                for range in [l.b1..l.w2, l.b2..l.w3, l.b3..l.params] {
                    for p in &mut nram.params[range] {
                        *p = rng.random_range(-0.5..0.5);
                    }
                }
                for p in &mut nram.params[l.w3..] {
                    *p *= 1e6;
                }
                // Halting logits spread around 0, so that some runs stop early.
                nram.params[l.b3 + l.f] = rng.random_range(-2e6..2e6);
                for m in [3usize, 5, 9] {
                    let input: Vec<u32> = (0..m).map(|_| rng.random_range(0..m as u32)).collect();
                    let e = TapeExample { size: m, seed, cells: m, timesteps: 1 + rng.random_range(0..6), output: input.clone(), input, graded: (0..m as u32).collect() };
                    let discrete = Runner::new().run(&nram, &e).unwrap();
                    halted_early += (discrete.steps < e.timesteps) as usize;
                    let mut ws = Workspace::new();
                    ws.evaluate(&nram, &[&e]);
                    assert_eq!(ws.prediction(0, &e), discrete.tape, "config {c}, seed {seed}, {m} cells, {} of {} steps", discrete.steps, e.timesteps);
                }
            }
        }
        assert!(halted_early > 0);
    }

    /// A machine trained on small tapes runs on large ones in O(M) memory.
    #[test]
    fn runs_on_large_tapes() {
        let nram = Nram::new(&NramConfig::default(), 1);
        let m = 5000;
        let e = TapeExample { size: m, seed: 0, cells: m, timesteps: 2000, input: (0..m as u32).collect(), output: vec![0; m], graded: vec![0] };
        let out = Runner::new().run(&nram, &e).unwrap();
        assert_eq!(out.tape.len(), m);
        assert!(out.steps <= 2000);
        let bad = TapeExample { input: vec![m as u32; m], ..e };
        assert!(Runner::new().run(&nram, &bad).is_err());
    }
}
