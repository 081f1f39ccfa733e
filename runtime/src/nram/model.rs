//! The NRAM's parameters and its controller.
//!
//! All parameters live in one flat `Vec<f32>` ([`Nram::params`]) so that the
//! optimiser, the gradient and the checkpoint see one slice; [`Layout`]
//! says where each matrix is and where each controller output (logit)
//! sits in a row of logits.
//!
//! The controller (`controller: mlp`) maps the `R` inputs `P(r_i = 0)` of
//! a timestep to its logits: `h1 = relu(x W1 + b1)`, `h2 = relu(h1 W2 +
//! b2)`, `logits = h2 W3 + b3`, with every `W` stored `(in, out)`
//! row-major. Rows are examples; [`Nram::controller_forward`] and
//! [`Nram::controller_backward`] run a whole batch's timestep as GEMMs.

use super::config::NramConfig;
use super::module::Module;
use crate::kernels::{gemm, Mat, Rhs};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Where everything is: the logits of one timestep and the parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub registers: usize,
    pub modules: Vec<Module>,
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
    /// Offsets of `W1 (R, H)`, `b1`, `W2 (H, H)`, `b2`, `W3 (H, L)`, `b3`
    /// in [`Nram::params`], and the total count.
    pub w1: usize,
    pub b1: usize,
    pub w2: usize,
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
        let b2 = w2 + h * h;
        let w3 = b2 + h;
        let b3 = w3 + h * logits;
        let params = b3 + logits;
        Layout { registers: r, modules: config.modules.clone(), hidden: h, logits, a, b, c, f, w1, b1, w2, b2, w3, b3, params }
    }

    /// Modules `Q`.
    pub fn q(&self) -> usize {
        self.modules.len()
    }

    /// The named parameter tensors: `(name, shape, offset)`, as a
    /// checkpoint stores them.
    pub fn tensors(&self) -> [(&'static str, [usize; 2], usize); 6] {
        let (r, h, l) = (self.registers, self.hidden, self.logits);
        [
            ("controller.w1", [r, h], self.w1),
            ("controller.b1", [1, h], self.b1),
            ("controller.w2", [h, h], self.w2),
            ("controller.b2", [1, h], self.b2),
            ("controller.w3", [h, l], self.w3),
            ("controller.b3", [1, l], self.b3),
        ]
    }
}

/// A machine: its config, layout and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Nram {
    pub config: NramConfig,
    pub layout: Layout,
    pub params: Vec<f32>,
}

impl Nram {
    /// Fresh parameters from `seed`: weights uniform in `±sqrt(1/fan_in)`,
    /// biases 0.
    pub fn new(config: &NramConfig, seed: u64) -> Nram {
        let layout = Layout::new(config);
        let mut params = vec![0f32; layout.params];
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for (off, fan_in, len) in [(layout.w1, layout.registers, layout.b1 - layout.w1), (layout.w2, layout.hidden, layout.b2 - layout.w2), (layout.w3, layout.hidden, layout.b3 - layout.w3)] {
            let s = (1.0 / fan_in as f32).sqrt();
            for p in &mut params[off..off + len] {
                *p = rng.random_range(-s..s);
            }
        }
        Nram { config: config.clone(), layout, params }
    }

    /// The controller on `n` rows: `x (n, R)` in, `h1`, `h2 (n, H)` and
    /// `logits (n, L)` out.
    pub fn controller_forward(&self, n: usize, x: &[f32], h1: &mut [f32], h2: &mut [f32], logits: &mut [f32]) {
        let l = &self.layout;
        let (r, h, nl) = (l.registers, l.hidden, l.logits);
        let p = &self.params;
        assert!(x.len() >= n * r && h1.len() >= n * h && h2.len() >= n * h && logits.len() >= n * nl, "controller buffers too small");
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
        linear(n, &h1[..n * h], h, &p[l.w2..l.b2], &p[l.b2..l.b2 + h], &mut h2[..n * h]);
        h2[..n * h].iter_mut().for_each(|v| *v = v.max(0.0));
        linear(n, &h2[..n * h], h, &p[l.w3..l.b3], &p[l.b3..l.b3 + nl], &mut logits[..n * nl]);
    }

    /// Backward of [`Nram::controller_forward`] on `n` rows: adds the
    /// parameters' gradient into `grad` and writes the inputs' gradient
    /// `dx (n, R)`. `dlogits` is consumed; `dh (n, H)` is scratch.
    #[allow(clippy::too_many_arguments)]
    pub fn controller_backward(&self, n: usize, x: &[f32], h1: &[f32], h2: &[f32], dlogits: &[f32], dh2: &mut [f32], dh1: &mut [f32], grad: &mut [f32], dx: &mut [f32]) {
        let l = &self.layout;
        let (r, h, nl) = (l.registers, l.hidden, l.logits);
        let p = &self.params;
        assert!(dlogits.len() >= n * nl && dh2.len() >= n * h && dh1.len() >= n * h && dx.len() >= n * r && grad.len() == p.len(), "controller buffers too small");
        if n == 0 {
            return;
        }
        // Layer 3: dW3 += h2^T dlogits, db3 += colsum, dh2 = dlogits W3^T.
        weight_grad(n, &h2[..n * h], h, &dlogits[..n * nl], nl, &mut grad[l.w3..l.b3 + nl]);
        // SAFETY: dlogits is (n, nl), W3 is (h, nl) so its transpose is
        // (nl, h), dh2 has n rows of h.
        unsafe { gemm(n, Mat::rows(dlogits, nl), Rhs::Dense { k: nl, n: h, b: Mat::transposed(&p[l.w3..l.b3], nl) }, dh2.as_mut_ptr(), h, false) };
        relu_backward(&mut dh2[..n * h], &h2[..n * h]);
        // Layer 2.
        weight_grad(n, &h1[..n * h], h, &dh2[..n * h], h, &mut grad[l.w2..l.b2 + h]);
        // SAFETY: as above with W2 (h, h).
        unsafe { gemm(n, Mat::rows(dh2, h), Rhs::Dense { k: h, n: h, b: Mat::transposed(&p[l.w2..l.b2], h) }, dh1.as_mut_ptr(), h, false) };
        relu_backward(&mut dh1[..n * h], &h1[..n * h]);
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

/// `dW (k, cols) += x^T (k, n) d (n, cols)`, `db += colsum(d)`, for the
/// gradient `dwb` of a weight matrix followed by its bias.
fn weight_grad(n: usize, x: &[f32], k: usize, d: &[f32], cols: usize, dwb: &mut [f32]) {
    let (dw, db) = dwb.split_at_mut(k * cols);
    for row in d.chunks_exact(cols).take(n) {
        super::module::add_into(db, row);
    }
    // SAFETY: x^T is (k, n), d is (n, cols), dw has k rows of cols.
    unsafe { gemm(k, Mat::transposed(x, k), Rhs::Dense { k: n, n: cols, b: Mat::rows(d, cols) }, dw.as_mut_ptr(), cols, true) };
}
