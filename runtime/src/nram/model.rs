//! The NRAM's parameters and its controller.
//!
//! All parameters live in one flat `Vec<f32>` ([`Nram::params`]) so that the
//! optimiser, the gradient and the checkpoint see one slice; [`Layout`]
//! says where each matrix is and where each controller output (logit)
//! sits in a row of logits.
//!
//! The controller maps the `R` inputs `P(r_i = 0)` of a timestep to its
//! logits, with every `W` stored `(in, out)` row-major:
//! - `controller: mlp`: `h1 = relu(x W1 + b1)`, `h = relu(h1 W2 + b2)`,
//!   `logits = h W3 + b3`.
//! - `controller: lstm`: `h1 = relu(x W1 + b1)`, then an LSTM cell,
//!   `[i f g o] = h1 Wx + h' Wh + b` (`h'`, `c'` the state after the
//!   previous timestep, 0 before the first), `c = σ(f) c' + σ(i) tanh(g)`,
//!   `h = σ(o) tanh(c)`, and `logits = h W3 + b3`. The forget gate's bias
//!   starts at 1.
//!
//! Rows are examples; [`Nram::controller_forward`] and
//! [`Nram::controller_backward`] run a whole batch's timestep as GEMMs, the
//! backward carrying the LSTM's state gradient from timestep to timestep
//! in [`Grads`].

use super::config::{Controller, NramConfig};
use super::module::Module;
use crate::kernels::{gemm, sigmoid, tanh, Mat, Rhs};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Where everything is: the logits of one timestep and the parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub registers: usize,
    pub modules: Vec<Module>,
    pub controller: Controller,
    pub hidden: usize,
    /// Logits per timestep.
    pub logits: usize,
    /// Offset of module `q`'s selection logits for input A (`R + q`
    /// values), when its arity takes A.
    pub a: Vec<Option<usize>>,
    /// The same for input B.
    pub b: Vec<Option<usize>>,
    /// Offset of register `i`'s selection logits: `c + i * (R + Q)`.
    pub c: usize,
    /// Offset of the halting logit (the last).
    pub f: usize,
    /// Offsets in [`Nram::params`] of `W1 (R, H)`, `b1`, the second layer,
    /// `W3 (H, L)`, `b3`, and the total count. The second layer is `W2 (H,
    /// H)` at `w2` and `b2` for an MLP; for an LSTM it is `Wx (H, 4H)` at
    /// `w2`, `Wh (H, 4H)` at `wh` and `b (4H)` at `b2`, gates in the order
    /// i, f, g, o.
    pub w1: usize,
    pub b1: usize,
    pub w2: usize,
    pub wh: usize,
    pub b2: usize,
    pub w3: usize,
    pub b3: usize,
    pub params: usize,
}

impl Layout {
    pub fn new(config: &NramConfig) -> Layout {
        let (r, q, h) = (config.registers, config.modules.len(), config.hidden);
        let (mut a, mut b) = (Vec::with_capacity(q), Vec::with_capacity(q));
        let mut off = 0;
        for (k, m) in config.modules.iter().enumerate() {
            let arity = m.arity();
            a.push((arity >= 1).then(|| {
                off += r + k;
                off - r - k
            }));
            b.push((arity >= 2).then(|| {
                off += r + k;
                off - r - k
            }));
        }
        let c = off;
        let f = c + r * (r + q);
        let logits = f + 1;
        let w1 = 0;
        let b1 = w1 + r * h;
        let w2 = b1 + h;
        // The second layer's width: H units, or 4H gates.
        let width = match config.controller {
            Controller::Mlp => h,
            Controller::Lstm => 4 * h,
        };
        let wh = w2 + h * width;
        let b2 = if config.controller == Controller::Lstm { wh + h * width } else { wh };
        let w3 = b2 + width;
        let b3 = w3 + h * logits;
        let params = b3 + logits;
        Layout { registers: r, modules: config.modules.clone(), controller: config.controller, hidden: h, logits, a, b, c, f, w1, b1, w2, wh, b2, w3, b3, params }
    }

    /// Modules `Q`.
    pub fn q(&self) -> usize {
        self.modules.len()
    }

    /// Units per row of the second layer's pre-activations: `H`, or `4H`
    /// gates for an LSTM.
    pub fn width2(&self) -> usize {
        self.w3 - self.b2
    }

    /// The named parameter tensors: `(name, shape, offset)`, as a
    /// checkpoint stores them.
    pub fn tensors(&self) -> Vec<(&'static str, [usize; 2], usize)> {
        let (r, h, l) = (self.registers, self.hidden, self.logits);
        let mut t = vec![("controller.w1", [r, h], self.w1), ("controller.b1", [1, h], self.b1)];
        match self.controller {
            Controller::Mlp => t.extend([("controller.w2", [h, h], self.w2), ("controller.b2", [1, h], self.b2)]),
            Controller::Lstm => t.extend([("controller.lstm.wx", [h, 4 * h], self.w2), ("controller.lstm.wh", [h, 4 * h], self.wh), ("controller.lstm.b", [1, 4 * h], self.b2)]),
        }
        t.extend([("controller.w3", [h, l], self.w3), ("controller.b3", [1, l], self.b3)]);
        t
    }
}

/// A machine: its config, layout and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Nram {
    pub config: NramConfig,
    pub layout: Layout,
    pub params: Vec<f32>,
}

/// The controller's activations, row by row: what the backward needs.
/// A row is one example at one timestep; the caller decides which rows
/// a timestep uses.
#[derive(Default)]
pub struct Acts {
    /// `(rows, H)`: the first hidden layer.
    pub h1: Vec<f32>,
    /// `(rows, H)` for an MLP (its second hidden layer) or `(rows, 4H)` for
    /// an LSTM (its gates after their sigmoid or tanh).
    pub z: Vec<f32>,
    /// `(rows, H)`: an LSTM's cell state (empty for an MLP).
    pub c: Vec<f32>,
    /// `(rows, H)`: the layer the logits read (an MLP's second hidden
    /// layer again, an LSTM's output).
    pub h: Vec<f32>,
}

impl Acts {
    /// Room for `rows` rows.
    pub fn reserve(&mut self, l: &Layout, rows: usize) {
        let h = l.hidden;
        grow(&mut self.h1, rows * h);
        grow(&mut self.z, rows * l.width2());
        grow(&mut self.h, rows * h);
        if l.controller == Controller::Lstm {
            grow(&mut self.c, rows * h);
        }
    }
}

/// The controller's backward scratch, and the LSTM's state gradient
/// carried from a timestep to the one before it.
#[derive(Default)]
pub struct Grads {
    dh: Vec<f32>,
    dz: Vec<f32>,
    dh1: Vec<f32>,
    /// The gradient of the state after the previous timestep: `h'`, `c'`.
    dh_prev: Vec<f32>,
    dc_prev: Vec<f32>,
}

impl Grads {
    /// Before the last timestep's backward: room for `rows` rows, and no
    /// state gradient from after the last timestep.
    pub fn start(&mut self, l: &Layout, rows: usize) {
        let h = l.hidden;
        grow(&mut self.dh, rows * h);
        grow(&mut self.dz, rows * l.width2());
        grow(&mut self.dh1, rows * h);
        grow(&mut self.dh_prev, rows * h);
        grow(&mut self.dc_prev, rows * h);
        self.dh_prev[..rows * h].fill(0.0);
        self.dc_prev[..rows * h].fill(0.0);
    }
}

/// Makes `v` at least `n` long (buffers reused from batch to batch).
pub(super) fn grow(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

impl Nram {
    /// Fresh parameters from `seed`: weights uniform in `±sqrt(1/fan_in)`,
    /// biases 0 (an LSTM's forget gate 1).
    pub fn new(config: &NramConfig, seed: u64) -> Nram {
        let layout = Layout::new(config);
        let mut params = vec![0f32; layout.params];
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let h = layout.hidden;
        for (off, fan_in, len) in [(layout.w1, layout.registers, layout.b1 - layout.w1), (layout.w2, h, layout.b2 - layout.w2), (layout.w3, h, layout.b3 - layout.w3)] {
            let s = (1.0 / fan_in as f32).sqrt();
            for p in &mut params[off..off + len] {
                *p = rng.random_range(-s..s);
            }
        }
        if layout.controller == Controller::Lstm {
            params[layout.b2 + h..layout.b2 + 2 * h].fill(1.0);
        }
        Nram { config: config.clone(), layout, params }
    }

    /// The controller on `n` rows starting at row `row0` of `acts`: `x (n,
    /// R)` in, activations and `logits (n, L)` out. `prev` is the first
    /// row of the same examples at the previous timestep (an LSTM's state
    /// comes from there; `None` at the first timestep). `prev == row0`
    /// is allowed: the state is then updated in place.
    pub fn controller_forward(&self, n: usize, x: &[f32], acts: &mut Acts, row0: usize, prev: Option<usize>, logits: &mut [f32]) {
        let l = &self.layout;
        let (r, h, nl) = (l.registers, l.hidden, l.logits);
        let p = &self.params;
        let w2 = l.width2();
        assert!(x.len() >= n * r && acts.h1.len() >= (row0 + n) * h && acts.z.len() >= (row0 + n) * w2 && acts.h.len() >= (row0 + n) * h && logits.len() >= n * nl, "controller buffers too small");
        let h1 = &mut acts.h1[row0 * h..(row0 + n) * h];
        // The first layer has only R inputs: a plain loop beats a GEMM call.
        for row in 0..n {
            let out = &mut h1[row * h..(row + 1) * h];
            out.copy_from_slice(&p[l.b1..l.b1 + h]);
            for i in 0..r {
                let xi = x[row * r + i];
                if xi != 0.0 {
                    super::module::axpy(xi, &p[l.w1 + i * h..l.w1 + (i + 1) * h], out);
                }
            }
            relu(out);
        }
        let z = &mut acts.z[row0 * w2..(row0 + n) * w2];
        linear(n, h1, h, &p[l.w2..l.wh], &p[l.b2..l.b2 + w2], z);
        match l.controller {
            Controller::Mlp => {
                relu(z);
                acts.h[row0 * h..(row0 + n) * h].copy_from_slice(z);
            }
            Controller::Lstm => {
                if let Some(prev) = prev {
                    // SAFETY: h' is (n, h), Wh is (h, 4h), z has n rows of 4h.
                    unsafe { gemm(n, Mat::rows(&acts.h[prev * h..(prev + n) * h], h), Rhs::Dense { k: h, n: w2, b: Mat::rows(&p[l.wh..l.b2], w2) }, z.as_mut_ptr(), w2, true) };
                }
                assert!(acts.c.len() >= (row0 + n) * h, "controller buffers too small");
                for row in 0..n {
                    let g = &mut z[row * w2..(row + 1) * w2];
                    for j in 0..h {
                        let (i, f, gg, o) = (sigmoid(g[j]), sigmoid(g[h + j]), tanh(g[2 * h + j]), sigmoid(g[3 * h + j]));
                        g[j] = i;
                        g[h + j] = f;
                        g[2 * h + j] = gg;
                        g[3 * h + j] = o;
                        let c_prev = prev.map_or(0.0, |pr| acts.c[(pr + row) * h + j]);
                        let c = f * c_prev + i * gg;
                        acts.c[(row0 + row) * h + j] = c;
                        acts.h[(row0 + row) * h + j] = o * tanh(c);
                    }
                }
            }
        }
        linear(n, &acts.h[row0 * h..(row0 + n) * h], h, &p[l.w3..l.b3], &p[l.b3..l.b3 + nl], &mut logits[..n * nl]);
    }

    /// Backward of [`Nram::controller_forward`] on the same rows: adds the
    /// parameters' gradient into `grad` and writes the inputs' gradient
    /// `dx (n, R)`. An LSTM adds the state gradient `g` carries from the
    /// next timestep (rows past the examples that ran then are 0) and
    /// leaves there the gradient of the previous timestep's state.
    #[allow(clippy::too_many_arguments)]
    pub fn controller_backward(&self, n: usize, x: &[f32], acts: &Acts, row0: usize, prev: Option<usize>, dlogits: &[f32], g: &mut Grads, grad: &mut [f32], dx: &mut [f32]) {
        let l = &self.layout;
        let (r, h, nl) = (l.registers, l.hidden, l.logits);
        let w2 = l.width2();
        let p = &self.params;
        assert!(dlogits.len() >= n * nl && g.dh.len() >= n * h && g.dz.len() >= n * w2 && dx.len() >= n * r && grad.len() == p.len(), "controller buffers too small");
        if n == 0 {
            return;
        }
        let h1 = &acts.h1[row0 * h..(row0 + n) * h];
        let hh = &acts.h[row0 * h..(row0 + n) * h];
        let z = &acts.z[row0 * w2..(row0 + n) * w2];
        // Output layer: dW3 += h^T dlogits, db3 += colsum, dh = dlogits W3^T.
        weight_grad(n, hh, h, &dlogits[..n * nl], nl, &mut grad[l.w3..l.b3]);
        bias_grad(n, &dlogits[..n * nl], &mut grad[l.b3..l.b3 + nl]);
        let dh = &mut g.dh[..n * h];
        // SAFETY: dlogits is (n, nl), W3 is (h, nl) so its transpose is
        // (nl, h), dh has n rows of h.
        unsafe { gemm(n, Mat::rows(dlogits, nl), Rhs::Dense { k: nl, n: h, b: Mat::transposed(&p[l.w3..l.b3], nl) }, dh.as_mut_ptr(), h, false) };
        let dz = &mut g.dz[..n * w2];
        match l.controller {
            Controller::Mlp => {
                dz.copy_from_slice(dh);
                relu_backward(dz, z);
            }
            Controller::Lstm => {
                for row in 0..n {
                    for j in 0..h {
                        let at = row * h + j;
                        let gz = &z[row * w2..(row + 1) * w2];
                        let (i, f, gg, o) = (gz[j], gz[h + j], gz[2 * h + j], gz[3 * h + j]);
                        let c = acts.c[row0 * h + at];
                        let c_prev = prev.map_or(0.0, |pr| acts.c[pr * h + at]);
                        let tc = tanh(c);
                        let dhj = dh[at] + g.dh_prev[at];
                        let dc = dhj * o * (1.0 - tc * tc) + g.dc_prev[at];
                        let d = &mut dz[row * w2..(row + 1) * w2];
                        d[j] = dc * gg * i * (1.0 - i);
                        d[h + j] = dc * c_prev * f * (1.0 - f);
                        d[2 * h + j] = dc * i * (1.0 - gg * gg);
                        d[3 * h + j] = dhj * tc * o * (1.0 - o);
                        g.dc_prev[at] = dc * f;
                    }
                }
                if let Some(prev) = prev {
                    let hp = &acts.h[prev * h..(prev + n) * h];
                    weight_grad(n, hp, h, dz, w2, &mut grad[l.wh..l.b2]);
                    // SAFETY: dz is (n, 4h), Wh^T is (4h, h), dh_prev has n rows of h.
                    unsafe { gemm(n, Mat::rows(dz, w2), Rhs::Dense { k: w2, n: h, b: Mat::transposed(&p[l.wh..l.b2], w2) }, g.dh_prev.as_mut_ptr(), h, false) };
                }
            }
        }
        // The second layer's input weights and bias.
        weight_grad(n, h1, h, dz, w2, &mut grad[l.w2..l.wh]);
        bias_grad(n, dz, &mut grad[l.b2..l.w3]);
        let dh1 = &mut g.dh1[..n * h];
        // SAFETY: dz is (n, w2), W2 (or Wx) is (h, w2) so its transpose is
        // (w2, h), dh1 has n rows of h.
        unsafe { gemm(n, Mat::rows(dz, w2), Rhs::Dense { k: w2, n: h, b: Mat::transposed(&p[l.w2..l.wh], w2) }, dh1.as_mut_ptr(), h, false) };
        relu_backward(dh1, h1);
        // Layer 1, by hand (R inputs).
        for row in 0..n {
            let d = &dh1[row * h..(row + 1) * h];
            super::module::add_into(&mut grad[l.b1..l.b1 + h], d);
            for i in 0..r {
                let xi = x[row * r + i];
                if xi != 0.0 {
                    super::module::axpy(xi, d, &mut grad[l.w1 + i * h..l.w1 + (i + 1) * h]);
                }
                dx[row * r + i] = super::module::dot(d, &p[l.w1 + i * h..l.w1 + (i + 1) * h]);
            }
        }
    }
}

fn relu(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = x.max(0.0));
}

/// `d *= (h > 0)`, the ReLU's backward given its output `h`.
fn relu_backward(d: &mut [f32], h: &[f32]) {
    for (g, &y) in d.iter_mut().zip(h) {
        if y <= 0.0 {
            *g = 0.0;
        }
    }
}

/// `out (n, cols) = x (n, k) W (k, cols) + bias`.
fn linear(n: usize, x: &[f32], k: usize, w: &[f32], bias: &[f32], out: &mut [f32]) {
    let cols = bias.len();
    for row in out.chunks_exact_mut(cols).take(n) {
        row.copy_from_slice(bias);
    }
    // SAFETY: x is (n, k), w is (k, cols), out has n rows of cols.
    unsafe { gemm(n, Mat::rows(x, k), Rhs::Dense { k, n: cols, b: Mat::rows(w, cols) }, out.as_mut_ptr(), cols, true) };
}

/// `dW (k, cols) += x^T (k, n) d (n, cols)`.
fn weight_grad(n: usize, x: &[f32], k: usize, d: &[f32], cols: usize, dw: &mut [f32]) {
    assert!(dw.len() >= k * cols, "weight gradient too small");
    // SAFETY: x^T is (k, n), d is (n, cols), dw has k rows of cols.
    unsafe { gemm(k, Mat::transposed(x, k), Rhs::Dense { k: n, n: cols, b: Mat::rows(d, cols) }, dw.as_mut_ptr(), cols, true) };
}

/// `db += colsum(d)` over the first `n` rows of `d (n, db.len())`.
fn bias_grad(n: usize, d: &[f32], db: &mut [f32]) {
    for row in d.chunks_exact(db.len()).take(n) {
        super::module::add_into(db, row);
    }
}
