//! The Neural Turing Machine's parameters, one episode's forward pass and
//! its hand-written backward pass (backpropagation through time).
//!
//! One timestep, as docs/ntm.md writes it:
//! 1. the LSTM controller reads the input token (one-hot), the previous
//!    read vector and its own previous output;
//! 2. a linear layer of its output gives both heads' parameters, each
//!    clipped to ±20: key `k = tanh`, key strength `beta = softplus`, gate
//!    `g = sigmoid`, shift weights `s = softmax` over -1, 0, +1, sharpening
//!    `gamma = 1 + softplus`, and for the write head erase `e = sigmoid`
//!    and add `a = tanh` vectors;
//! 3. each head addresses the memory as it was before this step: content
//!    (cosine similarity, softmax with `beta`), interpolation with its
//!    previous weighting, circular shift, sharpening (a softmax of
//!    `gamma * ln w`, so that no power underflows);
//! 4. the read head reads `r = w M`, the write head erases and adds
//!    `M[n] = M[n] * (1 - w[n] e) + w[n] a`;
//! 5. on an answer step, a linear layer of the controller output and the
//!    read vector gives the logits of the answer cell's value.
//!
//! An episode starts from learned initial weightings (a softmax over the
//! first `memory` locations, for each head) and a learned initial read
//! vector (`tanh`), as in Collier & Beel's implementation; the memory
//! starts at a small constant.
//!
//! Everything is plain `f32` code over one episode; a batch is many
//! episodes, each on its own gradient buffer (see [`super::train`]).

use super::config::{Controller, NtmConfig};
use crate::kernels::{add_into, axpy, dot, exp, sigmoid, tanh};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The value every memory cell starts from: a small constant, as the
/// "Implementing NTMs" study (Collier & Beel 2018) found stable.
pub const MEMORY_INIT: f32 = 1e-6;
/// Added under the square roots of the cosine similarity's norms.
const NORM_EPS: f32 = 1e-8;
/// Added to the shifted weighting before its logarithm.
const SHARPEN_EPS: f32 = 1e-16;
/// Every head parameter is clipped to `±PARAM_CLIP` before its activation
/// (as Collier & Beel's implementation does, for stable training).
const PARAM_CLIP: f32 = 20.0;
/// Shift offsets: the shifted weighting is `ws[i] = sum_j s[j] wg[i - SHIFTS[j]]`.
pub const SHIFTS: [isize; 3] = [-1, 0, 1];

/// Where each tensor lives in the flat parameter vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Value tokens.
    pub v: usize,
    /// Input tokens: the values, the delimiter, the answer marker.
    pub x: usize,
    pub h: usize,
    /// Memory word width.
    pub m: usize,
    /// Whether the controller is an LSTM (else one tanh layer).
    pub lstm: bool,
    /// Rows of the controller's weight: `4 h` gates of an LSTM, `h` units
    /// of a feed-forward layer.
    pub gates: usize,
    /// The recurrent part of the controller's input: the read vector, and
    /// an LSTM's previous output.
    pub zr: usize,
    /// Both heads' parameters.
    pub p: usize,
    pub wg: usize,
    pub bg: usize,
    pub wh: usize,
    pub bh: usize,
    pub wy: usize,
    pub by: usize,
    /// Logits of both heads' initial weightings over the first `memory`
    /// locations, and the initial read vector (before its tanh).
    pub w0: usize,
    pub r0: usize,
    pub memory: usize,
    pub len: usize,
}

impl Layout {
    pub fn new(c: &NtmConfig) -> Layout {
        let (v, h, m) = (c.values as usize, c.hidden, c.width);
        let x = v + 2;
        let lstm = c.controller == Controller::Lstm;
        let gates = if lstm { 4 * h } else { h };
        let zr = if lstm { m + h } else { m };
        let z = x + zr;
        let p = 4 * m + 12;
        let wg = 0;
        let bg = wg + gates * z;
        let wh = bg + gates;
        let bh = wh + p * h;
        let wy = bh + p;
        let by = wy + v * (h + m);
        let w0 = by + v;
        let r0 = w0 + 2 * c.memory;
        let len = r0 + m;
        Layout { v, x, h, m, lstm, gates, zr, p, wg, bg, wh, bh, wy, by, w0, r0, memory: c.memory, len }
    }

    /// Columns of the controller's weight matrix.
    pub fn z(&self) -> usize {
        self.x + self.zr
    }

    /// The delimiter token, between the input tape and the answers.
    pub fn delimiter(&self) -> u32 {
        self.v as u32
    }

    /// The token of an answer step.
    pub fn answer(&self) -> u32 {
        self.v as u32 + 1
    }

    /// Offsets of the read and write heads' parameters in `p`.
    fn heads(&self) -> [usize; 2] {
        [0, self.m + 6]
    }

    /// The named tensors, for safetensors: name, shape, offset.
    pub fn tensors(&self) -> Vec<(&'static str, [usize; 2], usize)> {
        vec![
            ("controller.weight", [self.gates, self.z()], self.wg),
            ("controller.bias", [1, self.gates], self.bg),
            ("heads.weight", [self.p, self.h], self.wh),
            ("heads.bias", [1, self.p], self.bh),
            ("output.weight", [self.v, self.h + self.m], self.wy),
            ("output.bias", [1, self.v], self.by),
            ("init.weighting", [2, self.memory], self.w0),
            ("init.read", [1, self.m], self.r0),
        ]
    }
}

/// A Neural Turing Machine: its shape and its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Ntm {
    pub config: NtmConfig,
    pub layout: Layout,
    pub params: Vec<f32>,
}

impl Ntm {
    /// Fresh parameters from `seed`: every weight uniform in
    /// `±1/sqrt(fan_in)` (PyTorch's default for its layers), biases zero
    /// but the LSTM forget gate's, 1.
    pub fn new(config: &NtmConfig, seed: u64) -> Ntm {
        let l = Layout::new(config);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut params = vec![0.0f32; l.len];
        let mut fill = |range: std::ops::Range<usize>, fan_in: usize| {
            let bound = 1.0 / (fan_in as f32).sqrt();
            for w in &mut params[range] {
                *w = rng.random_range(-bound..bound);
            }
        };
        fill(l.wg..l.bg, l.h);
        fill(l.wh..l.bh, l.h);
        fill(l.wy..l.by, l.h + l.m);
        // The initial weightings' logits, small and random (as Collier &
        // Beel's learned initialisation starts): with a memory whose rows
        // are all equal, exactly uniform weightings would be a symmetric
        // point where no addressing parameter gets any gradient.
        fill(l.w0..l.r0, 20);
        if l.lstm {
            params[l.bg + l.h..l.bg + 2 * l.h].fill(1.0);
        }
        Ntm { config: config.clone(), layout: l, params }
    }

    pub fn from_params(config: &NtmConfig, params: Vec<f32>) -> Option<Ntm> {
        let layout = Layout::new(config);
        (params.len() == layout.len).then(|| Ntm { config: config.clone(), layout, params })
    }

    /// Memory locations for an episode of `steps` timesteps: the config's,
    /// or as many as the episode has steps when it has more (the weights
    /// do not depend on it, so a long input gets the room it needs).
    pub fn locations(&self, steps: usize) -> usize {
        self.config.memory.max(steps)
    }
}

/// What the forward pass keeps of one head at one step.
#[derive(Clone, Debug, Default)]
struct HeadActs {
    /// `tanh` of the key's parameters.
    key: Vec<f32>,
    key_norm: f32,
    beta: f32,
    gate: f32,
    shift: [f32; 3],
    gamma: f32,
    /// Memory row norms, cosine similarities, and the weighting after
    /// content addressing, interpolation, shift and sharpening.
    row_norm: Vec<f32>,
    sim: Vec<f32>,
    wc: Vec<f32>,
    wg: Vec<f32>,
    ws: Vec<f32>,
    w: Vec<f32>,
}

/// What the forward pass keeps of one timestep.
#[derive(Clone, Debug, Default)]
struct StepActs {
    token: u32,
    /// `[r_prev; h_prev]`, the recurrent part of the controller input.
    zr: Vec<f32>,
    /// Gate activations `i, f, g, o`, after their nonlinearities.
    gates: Vec<f32>,
    c: Vec<f32>,
    tanh_c: Vec<f32>,
    h: Vec<f32>,
    p: Vec<f32>,
    heads: [HeadActs; 2],
    erase: Vec<f32>,
    add: Vec<f32>,
    r: Vec<f32>,
    /// The memory after this step's write, `n * m`.
    mem: Vec<f32>,
    /// Softmax of the answer's logits (answer steps only).
    probs: Vec<f32>,
}

/// One episode's activations, kept for the backward pass, and the
/// buffers the backward pass uses; reused from episode to episode.
#[derive(Clone, Debug, Default)]
pub struct Episode {
    steps: Vec<StepActs>,
    len: usize,
    n: usize,
    init_mem: Vec<f32>,
    /// Both heads' initial weightings, `2 * n`.
    init_w: Vec<f32>,
    init_r: Vec<f32>,
}

/// Where a head looked at one step: its most weighted location and that
/// weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Focus {
    pub location: usize,
    pub weight: f32,
}

impl Episode {
    /// The read and write heads' focus at every step of the episode
    /// [`Ntm::forward`] last ran (what `synth run` shows).
    pub fn focus(&self) -> Vec<[Focus; 2]> {
        self.steps[..self.len]
            .iter()
            .map(|s| {
                s.heads.each_ref().map(|h| {
                    let location = crate::kernels::argmax(&h.w);
                    Focus { location, weight: h.w[location] }
                })
            })
            .collect()
    }
}

/// The result of one episode: its summed answer loss and the answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answers {
    /// `-ln p(target)` summed over answer steps (0 without targets).
    pub loss: f64,
    /// The most likely value at every answer step.
    pub values: Vec<u32>,
}

fn softplus(x: f32) -> f32 {
    if x > 20.0 {
        x
    } else {
        (1.0 + exp(x)).ln()
    }
}

/// In-place softmax.
fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = exp(*x - max);
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// `dlogits` of a softmax `y` given `dy`: `y * (dy - <dy, y>)`.
fn softmax_backward(y: &[f32], dy: &[f32], out: &mut [f32]) {
    let s = dot(y, dy);
    for ((o, &yi), &di) in out.iter_mut().zip(y).zip(dy) {
        *o = yi * (di - s);
    }
}

fn resize(v: &mut Vec<f32>, n: usize) {
    v.clear();
    v.resize(n, 0.0);
}

impl Ntm {
    /// Runs one episode of `tokens`; at the answer steps, `targets` (in
    /// order, when given) score the loss. The activations stay in `ep` for
    /// [`Ntm::backward`].
    pub fn forward(&self, tokens: &[u32], targets: Option<&[u32]>, ep: &mut Episode) -> Answers {
        let l = &self.layout;
        let (h, m) = (l.h, l.m);
        let n = self.locations(tokens.len());
        ep.n = n;
        ep.len = tokens.len();
        if ep.steps.len() < tokens.len() {
            ep.steps.resize_with(tokens.len(), StepActs::default);
        }
        ep.init_mem.clear();
        ep.init_mem.resize(n * m, MEMORY_INIT);
        resize(&mut ep.init_w, 2 * n);
        for head in 0..2 {
            let w = &mut ep.init_w[head * n..head * n + l.memory];
            w.copy_from_slice(&self.params[l.w0 + head * l.memory..l.w0 + (head + 1) * l.memory]);
            softmax(w);
        }
        ep.init_r.clear();
        ep.init_r.extend(self.params[l.r0..l.r0 + m].iter().map(|&x| tanh(x)));
        let mut answers = Answers::default();
        let mut answer_index = 0;
        let rest = &mut ep.steps[..];
        for (t, &token) in tokens.iter().enumerate() {
            let (done, now) = rest.split_at_mut(t);
            let prev = done.last();
            let s = &mut now[0];
            s.token = token;
            // 1. The controller.
            resize(&mut s.zr, l.zr);
            match prev {
                Some(p) => {
                    s.zr[..m].copy_from_slice(&p.r);
                    if l.lstm {
                        s.zr[m..].copy_from_slice(&p.h);
                    }
                }
                None => s.zr[..m].copy_from_slice(&ep.init_r),
            }
            resize(&mut s.gates, l.gates);
            let z = l.z();
            let w = &self.params[l.wg..l.bg];
            for (j, g) in s.gates.iter_mut().enumerate() {
                let row = &w[j * z..(j + 1) * z];
                *g = self.params[l.bg + j] + row[s.token as usize] + dot(&row[l.x..], &s.zr);
            }
            resize(&mut s.c, h);
            resize(&mut s.tanh_c, h);
            resize(&mut s.h, h);
            if !l.lstm {
                for (hk, g) in s.h.iter_mut().zip(s.gates.iter_mut()) {
                    *g = tanh(*g);
                    *hk = *g;
                }
            }
            for (j, g) in s.gates.iter_mut().enumerate().filter(|_| l.lstm) {
                *g = if (2 * h..3 * h).contains(&j) { tanh(*g) } else { sigmoid(*g) };
            }
            for k in (0..h).filter(|_| l.lstm) {
                let c_prev = prev.map_or(0.0, |p| p.c[k]);
                s.c[k] = s.gates[h + k] * c_prev + s.gates[k] * s.gates[2 * h + k];
                s.tanh_c[k] = tanh(s.c[k]);
                s.h[k] = s.gates[3 * h + k] * s.tanh_c[k];
            }
            // 2. The heads' parameters.
            resize(&mut s.p, l.p);
            let wh = &self.params[l.wh..l.bh];
            for (j, p) in s.p.iter_mut().enumerate() {
                *p = (self.params[l.bh + j] + dot(&wh[j * h..(j + 1) * h], &s.h)).clamp(-PARAM_CLIP, PARAM_CLIP);
            }
            // 3. Addressing, on the memory before this step.
            let mem_before: &[f32] = prev.map_or(&ep.init_mem[..], |p| &p.mem[..]);
            for (head, &off) in l.heads().iter().enumerate() {
                let w_prev: &[f32] = prev.map_or(&ep.init_w[head * n..(head + 1) * n], |p| &p.heads[head].w[..]);
                address(m, n, &s.p[off..], mem_before, w_prev, &mut s.heads[head]);
            }
            // 4. Read, then write.
            resize(&mut s.r, m);
            for (row, &w) in mem_before.chunks_exact(m).zip(&s.heads[0].w) {
                axpy(w, row, &mut s.r);
            }
            let we = l.heads()[1] + m + 6;
            resize(&mut s.erase, m);
            resize(&mut s.add, m);
            for k in 0..m {
                s.erase[k] = sigmoid(s.p[we + k]);
                s.add[k] = tanh(s.p[we + m + k]);
            }
            resize(&mut s.mem, n * m);
            for ((out, row), &w) in s.mem.chunks_exact_mut(m).zip(mem_before.chunks_exact(m)).zip(&s.heads[1].w) {
                for k in 0..m {
                    out[k] = row[k] * (1.0 - w * s.erase[k]) + w * s.add[k];
                }
            }
            // 5. The answer.
            if s.token == l.answer() {
                resize(&mut s.probs, l.v);
                let wy = &self.params[l.wy..l.by];
                for (j, p) in s.probs.iter_mut().enumerate() {
                    let row = &wy[j * (h + m)..(j + 1) * (h + m)];
                    *p = self.params[l.by + j] + dot(&row[..h], &s.h) + dot(&row[h..], &s.r);
                }
                softmax(&mut s.probs);
                answers.values.push(crate::kernels::argmax(&s.probs) as u32);
                if let Some(targets) = targets {
                    let p = s.probs[targets[answer_index] as usize].max(1e-30);
                    answers.loss -= (p as f64).ln();
                }
                answer_index += 1;
            }
        }
        answers
    }

    /// Adds to `grad` the gradient of `scale` times the summed answer loss
    /// of the episode [`Ntm::forward`] last ran in `ep` with `targets`.
    pub fn backward(&self, targets: &[u32], scale: f32, ep: &Episode, grad: &mut [f32], b: &mut Backward) {
        let l = &self.layout;
        let (h, m, n) = (l.h, l.m, ep.n);
        let z = l.z();
        b.reset(l, n);
        let mut answer_index = targets.len();
        for t in (0..ep.len).rev() {
            let s = &ep.steps[t];
            let prev = t.checked_sub(1).map(|p| &ep.steps[p]);
            let mem_before: &[f32] = prev.map_or(&ep.init_mem[..], |p| &p.mem[..]);
            // dh and dr start from what step t + 1 sent back.
            b.dh.copy_from_slice(&b.dh_next);
            b.dr.copy_from_slice(&b.dr_next);
            // 5. The answer.
            if s.token == l.answer() {
                answer_index -= 1;
                let target = targets[answer_index] as usize;
                for (j, (d, &p)) in b.dlogits.iter_mut().zip(&s.probs).enumerate() {
                    *d = scale * (p - if j == target { 1.0 } else { 0.0 });
                }
                for j in 0..l.v {
                    let d = b.dlogits[j];
                    let row = l.wy + j * (h + m);
                    axpy(d, &s.h, &mut grad[row..row + h]);
                    axpy(d, &s.r, &mut grad[row + h..row + h + m]);
                    grad[l.by + j] += d;
                    axpy(d, &self.params[row..row + h], &mut b.dh);
                    axpy(d, &self.params[row + h..row + h + m], &mut b.dr);
                }
            }
            // 4. Write: dM (after) -> dw_write, de, da, dM (before).
            let ww = &s.heads[1].w;
            resize(&mut b.dw[1], n);
            b.dw[1].copy_from_slice(&b.dw_next[1]);
            resize(&mut b.derase, m);
            resize(&mut b.dadd, m);
            for (i, (dmem, row)) in b.dmem.chunks_exact_mut(m).zip(mem_before.chunks_exact(m)).enumerate() {
                let w = ww[i];
                let mut dw = 0.0;
                for k in 0..m {
                    let d = dmem[k];
                    dw += d * (s.add[k] - row[k] * s.erase[k]);
                    b.derase[k] -= d * row[k] * w;
                    b.dadd[k] += d * w;
                    dmem[k] = d * (1.0 - w * s.erase[k]);
                }
                b.dw[1][i] += dw;
            }
            // Read: dr -> dw_read, dM (before).
            resize(&mut b.dw[0], n);
            b.dw[0].copy_from_slice(&b.dw_next[0]);
            for (i, (dmem, row)) in b.dmem.chunks_exact_mut(m).zip(mem_before.chunks_exact(m)).enumerate() {
                b.dw[0][i] += dot(&b.dr, row);
                axpy(s.heads[0].w[i], &b.dr, dmem);
            }
            // 3. Addressing, each head; dw_prev goes to step t - 1.
            resize(&mut b.dp, l.p);
            let we = l.heads()[1] + m + 6;
            for k in 0..m {
                let (e, a) = (s.erase[k], s.add[k]);
                b.dp[we + k] = b.derase[k] * e * (1.0 - e);
                b.dp[we + m + k] = b.dadd[k] * (1.0 - a * a);
            }
            for (head, &off) in l.heads().iter().enumerate() {
                let w_prev: &[f32] = prev.map_or(&ep.init_w[head * n..(head + 1) * n], |p| &p.heads[head].w[..]);
                let dw = std::mem::take(&mut b.dw[head]);
                let mut dw_prev = std::mem::take(&mut b.dw_next[head]);
                dw_prev.iter_mut().for_each(|x| *x = 0.0);
                address_backward(m, n, &s.p[off..], mem_before, w_prev, &s.heads[head], &dw, &mut b.dp[off..], &mut b.dmem, &mut dw_prev, &mut b.scratch);
                b.dw[head] = dw;
                b.dw_next[head] = dw_prev;
            }
            // 2. The heads' layer (no gradient through a clipped value).
            for j in 0..l.p {
                let d = if s.p[j].abs() < PARAM_CLIP { b.dp[j] } else { 0.0 };
                let row = l.wh + j * h;
                axpy(d, &s.h, &mut grad[row..row + h]);
                grad[l.bh + j] += d;
                axpy(d, &self.params[row..row + h], &mut b.dh);
            }
            // 1. The controller.
            resize(&mut b.dgates, l.gates);
            if !l.lstm {
                for k in 0..h {
                    b.dgates[k] = b.dh[k] * (1.0 - s.h[k] * s.h[k]);
                }
            }
            for k in (0..h).filter(|_| l.lstm) {
                let (i, f, g, o) = (s.gates[k], s.gates[h + k], s.gates[2 * h + k], s.gates[3 * h + k]);
                let tc = s.tanh_c[k];
                let dc = b.dc_next[k] + b.dh[k] * o * (1.0 - tc * tc);
                let c_prev = prev.map_or(0.0, |p| p.c[k]);
                b.dgates[k] = dc * g * i * (1.0 - i);
                b.dgates[h + k] = dc * c_prev * f * (1.0 - f);
                b.dgates[2 * h + k] = dc * i * (1.0 - g * g);
                b.dgates[3 * h + k] = b.dh[k] * tc * o * (1.0 - o);
                b.dc_next[k] = dc * f;
            }
            resize(&mut b.dzr, l.zr);
            for j in 0..l.gates {
                let d = b.dgates[j];
                let row = l.wg + j * z;
                grad[row + s.token as usize] += d;
                axpy(d, &s.zr, &mut grad[row + l.x..row + z]);
                grad[l.bg + j] += d;
                axpy(d, &self.params[row + l.x..row + z], &mut b.dzr);
            }
            b.dr_next.copy_from_slice(&b.dzr[..m]);
            if l.lstm {
                b.dh_next.copy_from_slice(&b.dzr[m..]);
            }
        }
        // The learned initial state: what step 0 sent back to it.
        for head in 0..2 {
            let w = &ep.init_w[head * n..head * n + l.memory];
            let at = l.w0 + head * l.memory;
            resize(&mut b.scratch.a, l.memory);
            softmax_backward(w, &b.dw_next[head][..l.memory], &mut b.scratch.a);
            add_into(&mut grad[at..at + l.memory], &b.scratch.a);
        }
        for k in 0..m {
            let r = ep.init_r[k];
            grad[l.r0 + k] += b.dr_next[k] * (1.0 - r * r);
        }
    }
}

/// The backward pass's buffers, reused from episode to episode.
#[derive(Clone, Debug, Default)]
pub struct Backward {
    dh: Vec<f32>,
    dh_next: Vec<f32>,
    dc_next: Vec<f32>,
    dr: Vec<f32>,
    dr_next: Vec<f32>,
    dmem: Vec<f32>,
    dw: [Vec<f32>; 2],
    dw_next: [Vec<f32>; 2],
    dlogits: Vec<f32>,
    derase: Vec<f32>,
    dadd: Vec<f32>,
    dp: Vec<f32>,
    dgates: Vec<f32>,
    dzr: Vec<f32>,
    scratch: Scratch,
}

impl Backward {
    fn reset(&mut self, l: &Layout, n: usize) {
        resize(&mut self.dh, l.h);
        resize(&mut self.dh_next, l.h);
        resize(&mut self.dc_next, l.h);
        resize(&mut self.dr, l.m);
        resize(&mut self.dr_next, l.m);
        resize(&mut self.dmem, n * l.m);
        resize(&mut self.dlogits, l.v);
        for head in 0..2 {
            resize(&mut self.dw[head], n);
            resize(&mut self.dw_next[head], n);
        }
    }
}

/// Per-location buffers of [`address_backward`].
#[derive(Clone, Debug, Default)]
struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
    dk: Vec<f32>,
}

/// One head's addressing at one step: from its parameters `p` (key, then
/// beta, gate, three shift logits, gamma), the memory and its previous
/// weighting, to its new weighting `acts.w`.
fn address(m: usize, n: usize, p: &[f32], mem: &[f32], w_prev: &[f32], acts: &mut HeadActs) {
    acts.key.clear();
    acts.key.extend(p[..m].iter().map(|&x| tanh(x)));
    let key = &acts.key;
    acts.key_norm = (dot(key, key) + NORM_EPS).sqrt();
    acts.beta = softplus(p[m]);
    acts.gate = sigmoid(p[m + 1]);
    acts.shift = [p[m + 2], p[m + 3], p[m + 4]];
    softmax(&mut acts.shift);
    acts.gamma = 1.0 + softplus(p[m + 5]);
    for v in [&mut acts.row_norm, &mut acts.sim, &mut acts.wc, &mut acts.wg, &mut acts.ws, &mut acts.w] {
        resize(v, n);
    }
    for (i, row) in mem.chunks_exact(m).enumerate() {
        acts.row_norm[i] = (dot(row, row) + NORM_EPS).sqrt();
        acts.sim[i] = dot(key, row) / (acts.key_norm * acts.row_norm[i]);
        acts.wc[i] = acts.beta * acts.sim[i];
    }
    softmax(&mut acts.wc);
    let g = acts.gate;
    for ((wg, &wc), &wp) in acts.wg.iter_mut().zip(&acts.wc).zip(w_prev) {
        *wg = g * wc + (1.0 - g) * wp;
    }
    for i in 0..n {
        let mut v = 0.0;
        for (j, &d) in SHIFTS.iter().enumerate() {
            v += acts.shift[j] * acts.wg[(i as isize - d).rem_euclid(n as isize) as usize];
        }
        acts.ws[i] = v;
    }
    for i in 0..n {
        acts.w[i] = acts.gamma * (acts.ws[i] + SHARPEN_EPS).ln();
    }
    softmax(&mut acts.w);
}

/// The gradient of [`address`]: given `dw` (of the new weighting), adds to
/// `dp` (the head's parameters), `dmem` (the memory before the step) and
/// `dw_prev` (the previous weighting).
#[allow(clippy::too_many_arguments)]
fn address_backward(m: usize, n: usize, p: &[f32], mem: &[f32], w_prev: &[f32], acts: &HeadActs, dw: &[f32], dp: &mut [f32], dmem: &mut [f32], dw_prev: &mut [f32], s: &mut Scratch) {
    // Sharpening: w = softmax(gamma * ln u), u = ws + eps.
    resize(&mut s.a, n);
    softmax_backward(&acts.w, dw, &mut s.a);
    let mut dgamma = 0.0;
    resize(&mut s.b, n);
    for i in 0..n {
        let u = acts.ws[i] + SHARPEN_EPS;
        dgamma += s.a[i] * u.ln();
        s.b[i] = s.a[i] * acts.gamma / u; // d ws
    }
    // Shift: ws[i] = sum_j shift[j] wg[i - d_j].
    let mut dshift = [0.0f32; 3];
    resize(&mut s.a, n); // d wg
    for i in 0..n {
        for (j, &d) in SHIFTS.iter().enumerate() {
            let src = (i as isize - d).rem_euclid(n as isize) as usize;
            s.a[src] += acts.shift[j] * s.b[i];
            dshift[j] += s.b[i] * acts.wg[src];
        }
    }
    // Interpolation: wg = g wc + (1 - g) w_prev.
    let g = acts.gate;
    let mut dgate = 0.0;
    for i in 0..n {
        dgate += s.a[i] * (acts.wc[i] - w_prev[i]);
        dw_prev[i] += (1.0 - g) * s.a[i];
        s.a[i] *= g; // d wc
    }
    // Content: wc = softmax(beta * sim).
    softmax_backward(&acts.wc, &s.a, &mut s.b); // d (beta sim)
    let mut dbeta = 0.0;
    let key = &acts.key;
    resize(&mut s.dk, m);
    let kn = acts.key_norm;
    for (i, (row, drow)) in mem.chunks_exact(m).zip(dmem.chunks_exact_mut(m)).enumerate() {
        dbeta += s.b[i] * acts.sim[i];
        let dsim = acts.beta * s.b[i];
        if dsim == 0.0 {
            continue;
        }
        let rn = acts.row_norm[i];
        let sim = acts.sim[i];
        let (a, b) = (dsim / (kn * rn), dsim * sim);
        for k in 0..m {
            s.dk[k] += a * row[k] - b * key[k] / (kn * kn);
            drow[k] += a * key[k] - b * row[k] / (rn * rn);
        }
    }
    for k in 0..m {
        dp[k] += s.dk[k] * (1.0 - key[k] * key[k]);
    }
    dp[m] += dbeta * sigmoid(p[m]);
    dp[m + 1] += dgate * g * (1.0 - g);
    let ds = dot(&acts.shift, &dshift);
    for j in 0..3 {
        dp[m + 2 + j] += acts.shift[j] * (dshift[j] - ds);
    }
    dp[m + 5] += dgamma * sigmoid(p[m + 5]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> NtmConfig {
        NtmConfig { values: 5, hidden: 6, memory: 7, width: 4, controller: Controller::Lstm }
    }

    fn episode(l: &Layout) -> (Vec<u32>, Vec<u32>) {
        let tokens = vec![1, 3, 0, 4, l.delimiter(), l.answer(), l.answer(), l.answer()];
        (tokens, vec![1, 3, 4])
    }

    /// The hand-written gradient equals central finite differences (in
    /// f64 of the f32 loss, on a random subset of the parameters).
    #[test]
    fn gradient_matches_finite_differences() {
        for controller in [Controller::Lstm, Controller::Mlp] {
            gradient_check(NtmConfig { controller, ..small() });
        }
    }

    fn gradient_check(c: NtmConfig) {
        let mut ntm = Ntm::new(&c, 3);
        // Larger weights than at initialisation, so that every path of
        // the addressing carries gradient.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for w in &mut ntm.params {
            *w += rng.random_range(-0.5..0.5);
        }
        let (tokens, targets) = episode(&ntm.layout);
        let mut ep = Episode::default();
        ntm.forward(&tokens, Some(&targets), &mut ep);
        let mut grad = vec![0.0; ntm.layout.len];
        ntm.backward(&targets, 1.0, &ep, &mut grad, &mut Backward::default());
        let mut checked = 0;
        for i in (0..ntm.layout.len).step_by(7) {
            let h = 1e-2f32;
            let mut plus = ntm.clone();
            plus.params[i] += h;
            let mut minus = ntm.clone();
            minus.params[i] -= h;
            let lp = plus.forward(&tokens, Some(&targets), &mut Episode::default()).loss;
            let lm = minus.forward(&tokens, Some(&targets), &mut Episode::default()).loss;
            let numeric = (lp - lm) / (2.0 * h as f64);
            let err = (numeric - grad[i] as f64).abs();
            assert!(err < 2e-3 + 2e-2 * numeric.abs(), "{:?} parameter {i}: numeric {numeric}, analytic {}", c.controller, grad[i]);
            checked += usize::from(numeric.abs() > 1e-4);
        }
        assert!(checked > ntm.layout.len / 7 / 3, "{:?}: only {checked} parameters carry gradient", c.controller);
    }

    /// Forward does not depend on what the episode buffers held before.
    #[test]
    fn buffers_are_reusable() {
        let ntm = Ntm::new(&small(), 1);
        let (tokens, targets) = episode(&ntm.layout);
        let mut ep = Episode::default();
        let long: Vec<u32> = (0..30).map(|i| if i < 20 { i % 5 } else { ntm.layout.answer() }).collect();
        ntm.forward(&long, None, &mut ep);
        let a = ntm.forward(&tokens, Some(&targets), &mut ep);
        let b = ntm.forward(&tokens, Some(&targets), &mut Episode::default());
        assert_eq!(a, b);
    }
}
