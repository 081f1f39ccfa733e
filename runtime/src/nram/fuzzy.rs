//! The fuzzy machine of docs/nram.md over a batch of examples: forward,
//! loss and the hand-written backward over the whole unrolled run.
//!
//! Every example keeps its own cell count `M` and timestep count `T`
//! (modular arithmetic is modulo the example's own `M`, so padding would
//! change the function); the circuit runs example by example, the
//! controller as one batched product per timestep. Examples are ordered by
//! `T`, longest first, so that the examples still running at timestep `t`
//! are a prefix of the batch: the controller's rows at `t`.
//!
//! What the backward needs is stored per timestep: the values the circuit
//! selects from (registers, then module outputs), every module's inputs, a
//! snapshot of the memory after every `write`, the controller's
//! activations and softmaxes. The backward clips the gradient of every
//! module output, every memory a `write` produces and every register
//! elementwise to `±clip_activations` once it is complete, as the paper
//! does. Forward-only runs ([`Workspace::evaluate`]) keep only the current
//! state, so that large tapes fit.
//!
//! The objective of a batch is the mean over its examples of the loss
//! minus `entropy` times the summed entropy of every controller softmax;
//! logs are safe (`ln max(x, 1e-7)`).

use super::model::{grow, Acts, Grads, Nram};
use super::module::{add_into, axpy, dot, Module};
use crate::kernels::{argmax, Cpu};
use synth_compiler::TapeExample;

/// The floor of the safe log.
pub const EPS: f32 = 1e-7;

/// Why an example cannot be run.
pub fn check_example(e: &TapeExample) -> Result<(), String> {
    let m = e.cells;
    let what = format!("the example of size {} (seed {})", e.size, e.seed);
    if m == 0 {
        return Err(format!("{what} has no cells"));
    }
    if m > u32::MAX as usize {
        return Err(format!("{what} has {m} cells, too many"));
    }
    if e.timesteps == 0 {
        return Err(format!("{what} has 0 timesteps"));
    }
    if e.input.len() != m || e.output.len() != m {
        return Err(format!("{what} has {m} cells but tapes of {} and {} values", e.input.len(), e.output.len()));
    }
    if let Some(v) = e.input.iter().chain(&e.output).find(|&&v| v as usize >= m) {
        return Err(format!("{what} holds the value {v}, not below its {m} cells"));
    }
    if let Some(g) = e.graded.iter().find(|&&g| g as usize >= m) {
        return Err(format!("{what} grades cell {g}, past its {m} cells"));
    }
    Ok(())
}

/// The training objective's knobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Elementwise cap on activation gradients (`f32::INFINITY`: none).
    pub clip_activations: f32,
    /// Weight of the entropy bonus.
    pub entropy: f32,
}

/// What a batch scored.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Mean loss over the examples (without the entropy bonus).
    pub loss: f64,
    /// Mean over the examples of the summed entropy of every softmax.
    pub entropy: f64,
    /// Graded cells whose most likely value (of the final memory, mixed
    /// over the halting distribution) is wrong, and graded cells in all.
    pub wrong: usize,
    pub graded: usize,
    /// Examples with every graded cell right.
    pub exact: usize,
    pub examples: usize,
}

impl Stats {
    /// Wrong graded cells over graded cells.
    pub fn error(&self) -> f64 {
        if self.graded == 0 {
            0.0
        } else {
            self.wrong as f64 / self.graded as f64
        }
    }
}

/// One example's run: its stored state and backward scratch.
#[derive(Default)]
struct Run {
    m: usize,
    t: usize,
    /// Per timestep `(R + Q) x M`: the registers at its start, then the
    /// module outputs.
    vals: Vec<f32>,
    /// Per timestep `Q x 2 x M`: every module's inputs A and B.
    ins: Vec<f32>,
    /// Memory snapshots, `M x M` each: the input, then one after every
    /// `write` of every timestep.
    mems: Vec<f32>,
    /// Per timestep: the summed safe log-likelihood of the graded cells,
    /// the halting probability `f_t`, the weight `p_t`.
    ll: Vec<f32>,
    halt: Vec<f32>,
    weight: Vec<f32>,
    /// The final memory of the graded cells, mixed over `p_t`.
    mix: Vec<f32>,
    /// Backward: the gradient of this timestep's values, of the registers
    /// after it, of the memory, of one module's inputs.
    dvals: Vec<f32>,
    dregs: Vec<f32>,
    dmem: Vec<f32>,
    da: Vec<f32>,
    db: Vec<f32>,
    /// The gradient of every halting logit.
    dhalt: Vec<f32>,
}

/// Buffers reused from batch to batch.
#[derive(Default)]
pub struct Workspace {
    /// The instruction set the circuit's loops are compiled for.
    pub cpu: Cpu,
    runs: Vec<Run>,
    /// Batch slots, longest `T` first.
    order: Vec<usize>,
    /// Controller rows per timestep (examples still running) and the
    /// offset of each timestep's first row.
    active: Vec<usize>,
    row0: Vec<usize>,
    x: Vec<f32>,
    acts: Acts,
    /// Logits, turned into softmaxes (and the halting sigmoid) in place,
    /// and the softmaxes' safe logs `ln max(p, 1e-7)`.
    probs: Vec<f32>,
    logp: Vec<f32>,
    dlogits: Vec<f32>,
    grads: Grads,
    dx: Vec<f32>,
    /// Per module: writes before it in its timestep.
    writes_before: Vec<usize>,
}

#[inline(always)]
fn clip(v: &mut [f32], c: f32) {
    if c.is_finite() {
        v.iter_mut().for_each(|x| *x = x.clamp(-c, c));
    }
}

/// Softmax of `z` in place, its safe logs `ln max(p, 1e-7)` into `lp`
/// (as `z - max - ln sum`: one log per softmax); returns its safe entropy.
#[inline(always)]
fn softmax(z: &mut [f32], lp: &mut [f32]) -> f32 {
    let top = z.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let mut s = 0.0f32;
    for (v, l) in z.iter_mut().zip(lp.iter_mut()) {
        *l = *v - top;
        *v = crate::kernels::exp(*l);
        s += *v;
    }
    let (inv, ln_s) = (1.0 / s, s.ln());
    let floor = EPS.ln();
    let mut h = 0.0f32;
    for (v, l) in z.iter_mut().zip(lp.iter_mut()) {
        *v *= inv;
        *l = (*l - ln_s).max(floor);
        h -= *v * *l;
    }
    h
}

/// Backward of a softmax `p` with the entropy bonus: `g` holds the
/// objective's gradient with respect to `p` on entry and with respect to
/// the logits on exit. `bonus` is the entropy weight over the batch size.
#[inline(always)]
fn softmax_backward(p: &[f32], lp: &[f32], g: &mut [f32], bonus: f32) {
    if bonus != 0.0 {
        for ((gj, &pj), &lj) in g.iter_mut().zip(p).zip(lp) {
            // d(-bonus * H)/dp = bonus * (ln max(p, eps) + [p > eps])
            *gj += bonus * (lj + if pj > EPS { 1.0 } else { 0.0 });
        }
    }
    let s = dot(p, g);
    for (gj, &pj) in g.iter_mut().zip(p) {
        *gj = pj * (*gj - s);
    }
}

/// Scales a distribution back to mass 1; the backward treats this as the
/// identity (the paper's "enforcing distribution constraints"). A binary
/// module's output has the product of its inputs' masses, so a circuit
/// that writes such a value and reads it back the next timestep (merge's
/// pointers kept in cells: `a = a + le(mem[a], mem[b])`) raises rounding
/// error to a power that grows with every timestep: without this, a
/// nearly discrete merge circuit reached infinite memory values within 20
/// timesteps, and a near solution could not be trained. Registers and
/// written values are where a value crosses from one timestep to the
/// next, so renormalising them bounds every mass.
#[inline(always)]
fn renormalise(v: &mut [f32]) {
    let s: f32 = v.iter().sum();
    if s > 0.0 && s != 1.0 {
        let inv = 1.0 / s;
        v.iter_mut().for_each(|x| *x *= inv);
    }
}

/// `out = sum_j s_j v_j` over the first `s.len()` rows of `v` (`M` each).
#[inline(always)]
fn select(s: &[f32], v: &[f32], m: usize, out: &mut [f32]) {
    out.fill(0.0);
    for (j, &w) in s.iter().enumerate() {
        axpy(w, &v[j * m..(j + 1) * m], out);
    }
}

/// Backward of [`select`]: writes `ds_j = <dout, v_j>` and adds `s_j dout`
/// into `dv_j`.
#[inline(always)]
fn select_backward(s: &[f32], v: &[f32], m: usize, dout: &[f32], ds: &mut [f32], dv: &mut [f32]) {
    for (j, &w) in s.iter().enumerate() {
        ds[j] = dot(dout, &v[j * m..(j + 1) * m]);
        axpy(w, dout, &mut dv[j * m..(j + 1) * m]);
    }
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Forward and backward on `batch`: writes the gradient of the batch
    /// objective into `grad` (one value per parameter) and returns the
    /// batch's scores. Examples must pass [`check_example`].
    pub fn train_step(&mut self, nram: &Nram, batch: &[&TapeExample], opts: Options, grad: &mut [f32]) -> Stats {
        let stats = self.forward(nram, batch, true);
        grad.fill(0.0);
        self.backward(nram, batch, opts, grad);
        stats
    }

    /// Forward only, keeping no history: the scores of `batch`.
    pub fn evaluate(&mut self, nram: &Nram, batch: &[&TapeExample]) -> Stats {
        self.forward(nram, batch, false)
    }

    /// After a forward: the most likely value of every graded cell of
    /// example `k` of the batch, in `graded` order.
    pub fn prediction(&self, k: usize, e: &TapeExample) -> Vec<u32> {
        let run = &self.runs[k];
        let m = run.m;
        (0..e.graded.len()).map(|g| argmax(&run.mix[g * m..(g + 1) * m]) as u32).collect()
    }

    fn forward(&mut self, nram: &Nram, batch: &[&TapeExample], store: bool) -> Stats {
        let l = &nram.layout;
        let (r, q, nl) = (l.registers, l.q(), l.logits);
        let w = l.modules.iter().filter(|m| **m == Module::Write).count();
        self.writes_before.clear();
        let mut seen = 0;
        for m in &l.modules {
            self.writes_before.push(seen);
            seen += (*m == Module::Write) as usize;
        }
        let b = batch.len();
        while self.runs.len() < b {
            self.runs.push(Run::default());
        }
        self.order.clear();
        self.order.extend(0..b);
        self.order.sort_by_key(|&k| std::cmp::Reverse(batch[k].timesteps));
        let tmax = batch.iter().map(|e| e.timesteps).max().unwrap_or(0);
        self.active.clear();
        self.row0.clear();
        let mut rows = 0;
        for t in 0..tmax {
            let n = self.order.iter().take_while(|&&k| batch[k].timesteps > t).count();
            self.active.push(n);
            self.row0.push(if store { rows } else { 0 });
            rows += n;
        }
        let rows = if store { rows } else { b };
        grow(&mut self.x, rows * r);
        self.acts.reserve(l, rows);
        grow(&mut self.probs, rows * nl);
        grow(&mut self.logp, rows * nl);

        // Set every run up: registers one-hot 0, memory one-hot input.
        for (k, e) in batch.iter().enumerate() {
            let run = &mut self.runs[k];
            let (m, t) = (e.cells, e.timesteps);
            run.m = m;
            run.t = t;
            let (tv, ts) = if store { (t, 1 + t * w) } else { (2, 1) };
            grow(&mut run.vals, tv * (r + q) * m);
            grow(&mut run.ins, (if store { t } else { 1 }) * q * 2 * m);
            grow(&mut run.mems, ts * m * m);
            run.vals[..r * m].fill(0.0);
            for i in 0..r {
                run.vals[i * m] = 1.0;
            }
            let mem = &mut run.mems[..m * m];
            mem.fill(0.0);
            for (i, &v) in e.input.iter().enumerate() {
                mem[i * m + v as usize] = 1.0;
            }
            run.ll.clear();
            run.halt.clear();
            run.weight.clear();
            run.mix.clear();
            run.mix.resize(e.graded.len() * m, 0.0);
        }

        let mut entropy = 0.0f64;
        // Survival probability before each run's current timestep.
        let mut survive = vec![1.0f32; b];
        for t in 0..tmax {
            let n = self.active[t];
            let row0 = self.row0[t];
            for (row, &k) in self.order[..n].iter().enumerate() {
                let run = &self.runs[k];
                let vt = (if store { t } else { t % 2 }) * (r + q) * run.m;
                for i in 0..r {
                    self.x[(row0 + row) * r + i] = run.vals[vt + i * run.m];
                }
            }
            let prev = t.checked_sub(1).map(|s| self.row0[s]);
            nram.controller_forward(n, &self.x[row0 * r..], &mut self.acts, row0, prev, &mut self.probs[row0 * nl..]);
            for (row, &k) in self.order[..n].iter().enumerate() {
                let e = batch[k];
                let run = &mut self.runs[k];
                let p = &mut self.probs[(row0 + row) * nl..(row0 + row + 1) * nl];
                let lp = &mut self.logp[(row0 + row) * nl..(row0 + row + 1) * nl];
                let mut h = 0.0f32;
                step_forward(self.cpu, nram, &self.writes_before, w, run, t, p, lp, store, &mut h);
                entropy += h as f64;
                // Halting.
                let f = crate::kernels::sigmoid(p[l.f]);
                p[l.f] = f;
                let last = t + 1 == run.t;
                let pt = if last { survive[k] } else { f * survive[k] };
                survive[k] *= 1.0 - f;
                run.halt.push(f);
                run.weight.push(pt);
                let m = run.m;
                let snap = if store { (t + 1) * w } else { 0 };
                let mem = &run.mems[snap * m * m..(snap + 1) * m * m];
                let mut ll = 0.0f32;
                for (&cell, mix) in e.graded.iter().zip(run.mix.chunks_exact_mut(m)) {
                    let row = &mem[cell as usize * m..(cell as usize + 1) * m];
                    ll += row[e.output[cell as usize] as usize].max(EPS).ln();
                    axpy(pt, row, mix);
                }
                run.ll.push(ll);
            }
        }

        let mut stats = Stats { examples: b, ..Stats::default() };
        let mut loss = 0.0f64;
        for (k, e) in batch.iter().enumerate() {
            let run = &self.runs[k];
            loss -= run.weight.iter().zip(&run.ll).map(|(&p, &ll)| p as f64 * ll as f64).sum::<f64>();
            let m = run.m;
            let mut wrong = 0;
            for (g, &cell) in e.graded.iter().enumerate() {
                wrong += (argmax(&run.mix[g * m..(g + 1) * m]) as u32 != e.output[cell as usize]) as usize;
            }
            stats.wrong += wrong;
            stats.graded += e.graded.len();
            stats.exact += (wrong == 0) as usize;
        }
        stats.loss = loss / b.max(1) as f64;
        stats.entropy = entropy / b.max(1) as f64;
        stats
    }

    fn backward(&mut self, nram: &Nram, batch: &[&TapeExample], opts: Options, grad: &mut [f32]) {
        let l = &nram.layout;
        let (r, q, nl) = (l.registers, l.q(), l.logits);
        let w = l.modules.iter().filter(|m| **m == Module::Write).count();
        let b = batch.len();
        let scale = 1.0 / b.max(1) as f32;
        let bonus = opts.entropy * scale;
        for k in 0..b {
            let run = &mut self.runs[k];
            let (m, t) = (run.m, run.t);
            grow(&mut run.dvals, (r + q) * m);
            grow(&mut run.dregs, r * m);
            grow(&mut run.dmem, m * m);
            grow(&mut run.da, m);
            grow(&mut run.db, m);
            run.dregs[..r * m].fill(0.0);
            run.dmem[..m * m].fill(0.0);
            // Halting: loss = V_0 with V_{T-1} = c_{T-1} and V_t = f_t c_t +
            // (1 - f_t) V_{t+1}, c_t = -ll_t; dloss/df_t = S_{t-1} (c_t -
            // V_{t+1}) where S is the survival probability.
            run.dhalt.clear();
            run.dhalt.resize(t, 0.0);
            let mut v = -run.ll[t - 1];
            let mut after = vec![0f32; t];
            for s in (0..t - 1).rev() {
                after[s] = v;
                let f = run.halt[s];
                v = f * -run.ll[s] + (1.0 - f) * v;
            }
            let mut survive = 1.0f32;
            for s in 0..t - 1 {
                let f = run.halt[s];
                run.dhalt[s] = scale * survive * (-run.ll[s] - after[s]) * f * (1.0 - f);
                survive *= 1.0 - f;
            }
        }
        let tmax = self.active.len();
        self.grads.start(l, b);
        for t in (0..tmax).rev() {
            let n = self.active[t];
            let row0 = self.row0[t];
            grow(&mut self.dlogits, n * nl);
            grow(&mut self.dx, n * r);
            for (row, &k) in self.order[..n].iter().enumerate() {
                let e = batch[k];
                let run = &mut self.runs[k];
                let p = &self.probs[(row0 + row) * nl..(row0 + row + 1) * nl];
                let lp = &self.logp[(row0 + row) * nl..(row0 + row + 1) * nl];
                let d = &mut self.dlogits[row * nl..(row + 1) * nl];
                step_backward(self.cpu, nram, &self.writes_before, w, run, e, t, p, lp, d, opts.clip_activations, bonus, scale);
            }
            let prev = t.checked_sub(1).map(|s| self.row0[s]);
            nram.controller_backward(n, &self.x[row0 * r..], &self.acts, row0, prev, &self.dlogits, &mut self.grads, grad, &mut self.dx);
            for (row, &k) in self.order[..n].iter().enumerate() {
                let run = &mut self.runs[k];
                let m = run.m;
                for i in 0..r {
                    run.dvals[i * m] += self.dx[row * r + i];
                }
                let (dv, dr) = (&mut run.dvals[..r * m], &mut run.dregs[..r * m]);
                clip(dv, opts.clip_activations);
                dr.copy_from_slice(dv);
            }
        }
    }
}

crate::kernels::multiversion! {
    /// One timestep of one run: softmaxes its logits `p` in place (their
    /// safe logs into `lp`; the halting logit is left to the caller), runs
    /// the circuit and, unless it is the last timestep, the register
    /// update. Adds the summed entropy of the softmaxes into `entropy`.
    #[allow(clippy::too_many_arguments)]
    fn step_forward(nram: &Nram, writes_before: &[usize], w: usize, run: &mut Run, t: usize, p: &mut [f32], lp: &mut [f32], store: bool, entropy: &mut f32) => step_forward_generic
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn step_forward_generic(nram: &Nram, writes_before: &[usize], w: usize, run: &mut Run, t: usize, p: &mut [f32], lp: &mut [f32], store: bool, total: &mut f32) {
    let l = &nram.layout;
    let (r, q, m) = (l.registers, l.q(), run.m);
    let width = (r + q) * m;
    let (vt, vn) = if store { (t, t + 1) } else { (t % 2, (t + 1) % 2) };
    let it = if store { t } else { 0 };
    let mut entropy = 0.0f32;
    for (k, &module) in l.modules.iter().enumerate() {
        let n = r + k;
        let ins = &mut run.ins[(it * q + k) * 2 * m..(it * q + k + 1) * 2 * m];
        let (ia, ib) = ins.split_at_mut(m);
        let vals = &run.vals[vt * width..vt * width + n * m];
        if let Some(o) = l.a[k] {
            entropy += softmax(&mut p[o..o + n], &mut lp[o..o + n]);
            select(&p[o..o + n], vals, m, ia);
        }
        if let Some(o) = l.b[k] {
            entropy += softmax(&mut p[o..o + n], &mut lp[o..o + n]);
            select(&p[o..o + n], vals, m, ib);
        }
        let snap = if store { t * w + writes_before[k] } else { 0 };
        let out_at = vt * width + n * m;
        match module {
            Module::Read => {
                let mem = &run.mems[snap * m * m..(snap + 1) * m * m];
                let out = &mut run.vals[out_at..out_at + m];
                out.fill(0.0);
                for (i, &ai) in ia.iter().enumerate() {
                    if ai != 0.0 {
                        axpy(ai, &mem[i * m..(i + 1) * m], out);
                    }
                }
            }
            Module::Write => {
                // The value written is renormalised, and so is every
                // register after its update (below): see `renormalise`.
                renormalise(ib);
                let next = if store { snap + 1 } else { 0 };
                if next != snap {
                    run.mems.copy_within(snap * m * m..(snap + 1) * m * m, next * m * m);
                }
                let mem = &mut run.mems[next * m * m..(next + 1) * m * m];
                for (i, &ai) in ia.iter().enumerate() {
                    if ai != 0.0 {
                        let row = &mut mem[i * m..(i + 1) * m];
                        for (x, &y) in row.iter_mut().zip(ib.iter()) {
                            *x += ai * (y - *x);
                        }
                    }
                }
                run.vals[out_at..out_at + m].copy_from_slice(ib);
            }
            _ => module.forward(ia, ib, &mut run.vals[out_at..out_at + m]),
        }
    }
    let n = r + q;
    for i in 0..r {
        let o = l.c + i * n;
        entropy += softmax(&mut p[o..o + n], &mut lp[o..o + n]);
    }
    if t + 1 < run.t {
        let (cur, next) = run.vals.split_at_mut(vn.max(vt) * width);
        let (cur, next) = if vn > vt { (&cur[vt * width..], &mut next[..width]) } else { (&next[..width], &mut cur[vn * width..(vn + 1) * width]) };
        for i in 0..r {
            let o = l.c + i * n;
            select(&p[o..o + n], cur, m, &mut next[i * m..(i + 1) * m]);
            renormalise(&mut next[i * m..(i + 1) * m]);
        }
    }
    *total += entropy;
}

crate::kernels::multiversion! {
    /// Backward of timestep `t` of one run. On entry `run.dregs` holds the
    /// gradient of the registers after the timestep and `run.dmem` that of the
    /// memory after it (without this timestep's loss); on exit `run.dvals`'
    /// first `R` rows hold the gradient of the registers at its start (without
    /// the controller's part, which the caller adds), `run.dmem` that of the
    /// memory at its start, and `d` the gradient of its logits.
    #[allow(clippy::too_many_arguments)]
    fn step_backward(nram: &Nram, writes_before: &[usize], w: usize, run: &mut Run, e: &TapeExample, t: usize, p: &[f32], lp: &[f32], d: &mut [f32], clip_at: f32, bonus: f32, scale: f32) => step_backward_generic
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn step_backward_generic(nram: &Nram, writes_before: &[usize], w: usize, run: &mut Run, e: &TapeExample, t: usize, p: &[f32], lp: &[f32], d: &mut [f32], clip_at: f32, bonus: f32, scale: f32) {
    let l = &nram.layout;
    let (r, q, m) = (l.registers, l.q(), run.m);
    let width = (r + q) * m;
    let vals = &run.vals[t * width..(t + 1) * width];
    let dvals = &mut run.dvals[..width];
    dvals.fill(0.0);
    d.fill(0.0);
    // This timestep's loss: -p_t / B * ln max(mem, eps) at every graded
    // cell's right value. Without a write the memory is a constant.
    if w > 0 {
        let snap = (t + 1) * w;
        let mem = &run.mems[snap * m * m..(snap + 1) * m * m];
        let pt = run.weight[t] * scale;
        for &cell in &e.graded {
            let at = cell as usize * m + e.output[cell as usize] as usize;
            if mem[at] > EPS {
                run.dmem[at] -= pt / mem[at];
            }
        }
    }
    // The register update (none after the last timestep).
    let n = r + q;
    for i in 0..r {
        let o = l.c + i * n;
        if t + 1 < run.t {
            select_backward(&p[o..o + n], vals, m, &run.dregs[i * m..(i + 1) * m], &mut d[o..o + n], dvals);
        }
        softmax_backward(&p[o..o + n], &lp[o..o + n], &mut d[o..o + n], bonus);
    }
    // The modules, last first.
    for (k, &module) in l.modules.iter().enumerate().rev() {
        let nk = r + k;
        let ins = &run.ins[(t * q + k) * 2 * m..(t * q + k + 1) * 2 * m];
        let (ia, ib) = ins.split_at(m);
        let (dv_in, dv_rest) = dvals.split_at_mut(nk * m);
        let dout = &mut dv_rest[..m];
        clip(dout, clip_at);
        let (da, db) = (&mut run.da[..m], &mut run.db[..m]);
        da.fill(0.0);
        db.fill(0.0);
        let snap = t * w + writes_before[k];
        match module {
            Module::Read => {
                let mem = &run.mems[snap * m * m..(snap + 1) * m * m];
                for i in 0..m {
                    da[i] = dot(dout, &mem[i * m..(i + 1) * m]);
                }
                if w > 0 {
                    for (i, &ai) in ia.iter().enumerate() {
                        if ai != 0.0 {
                            axpy(ai, dout, &mut run.dmem[i * m..(i + 1) * m]);
                        }
                    }
                }
            }
            Module::Write => {
                // mem'_i = mem_i + a_i (b - mem_i); out = b.
                let dmem = &mut run.dmem[..m * m];
                clip(dmem, clip_at);
                let mem = &run.mems[snap * m * m..(snap + 1) * m * m];
                for i in 0..m {
                    let g = &mut dmem[i * m..(i + 1) * m];
                    da[i] = dot(g, ib) - dot(g, &mem[i * m..(i + 1) * m]);
                    let ai = ia[i];
                    if ai != 0.0 {
                        axpy(ai, g, db);
                        g.iter_mut().for_each(|x| *x *= 1.0 - ai);
                    }
                }
                add_into(db, dout);
            }
            _ => module.backward(ia, ib, dout, da, db),
        }
        if let Some(o) = l.b[k] {
            select_backward(&p[o..o + nk], vals, m, db, &mut d[o..o + nk], dv_in);
            softmax_backward(&p[o..o + nk], &lp[o..o + nk], &mut d[o..o + nk], bonus);
        }
        if let Some(o) = l.a[k] {
            select_backward(&p[o..o + nk], vals, m, da, &mut d[o..o + nk], dv_in);
            softmax_backward(&p[o..o + nk], &lp[o..o + nk], &mut d[o..o + nk], bonus);
        }
    }
    d[l.f] = run.dhalt[t];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nram::config::NramConfig;

    /// A nearly discrete circuit that writes `max(mem[0], mem[0])` back to
    /// cell 0 every timestep squares the mass of the cell (a product of its
    /// inputs' masses) each time, so rounding error in the softmaxes grows
    /// as a power of 2^t. Cell 0 holds the largest value, so the choices
    /// that leak (to values below it) shrink instead of growing: the value
    /// stays right, and renormalising written values and registers keeps
    /// the loss and the gradient finite.
    #[test]
    fn masses_stay_one_in_feedback_loops() {
        let config = NramConfig { registers: 1, modules: vec![Module::Zero, Module::Read, Module::Max, Module::Write], hidden: 4, ..NramConfig::default() };
        let mut nram = Nram::new(&config, 3);
        let l = nram.layout.clone();
        // A constant circuit: no weights into the logits, and biases that
        // make every choice nearly certain.
        nram.params[l.w3..l.b3].fill(0.0);
        let bias = &mut nram.params[l.b3..l.b3 + l.logits];
        // Values: r0, zero, read, max, write.
        bias[l.a[1].unwrap() + 1] = 10.0; // read(zero)
        bias[l.a[2].unwrap() + 2] = 10.0; // max(read, read)
        bias[l.b[2].unwrap() + 2] = 10.0;
        bias[l.a[3].unwrap() + 1] = 10.0; // write(zero, max)
        bias[l.b[3].unwrap() + 3] = 10.0;
        bias[l.f] = -20.0;
        let m = 11;
        let mut input = vec![0u32; m];
        input[0] = m as u32 - 1;
        let e = TapeExample { size: 1, seed: 0, cells: m, timesteps: 60, output: input.clone(), input, graded: vec![0] };
        let mut ws = Workspace::new();
        let stats = ws.evaluate(&nram, &[&e]);
        assert!(stats.loss.is_finite() && stats.loss >= 0.0 && stats.loss < 0.01, "loss {}", stats.loss);
        assert_eq!(stats.wrong, 0);
        let mut grad = vec![0f32; nram.params.len()];
        let stats = ws.train_step(&nram, &[&e], Options { clip_activations: 10.0, entropy: 0.0 }, &mut grad);
        assert!(stats.loss.is_finite() && grad.iter().all(|g| g.is_finite()), "loss {}", stats.loss);
    }
}
