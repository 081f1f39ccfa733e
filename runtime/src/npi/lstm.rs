//! The core LSTM: one fused candle op per layer over a whole packed batch of
//! sequences, with hand-written backpropagation through time.
//!
//! Sequences are *packed* (as PyTorch's `PackedSequence`): sorted longest
//! first, time-major, and at step `t` only the `batch_sizes[t]` sequences
//! still running have a row. A batch of frames of different lengths thus has
//! no padding at all: `rows = sum of lengths`.
//!
//! Why a custom op: stepping candle's LSTM through time costs an op (and a
//! `narrow`, whose backward builds a full-size zero gradient) per gate per
//! step, and candle's element-wise ops run scalar `tanh`/`exp`. Here a whole
//! layer is one op: the input projection of all rows is one GEMM, the
//! recurrence one small GEMM per step (against `W_hh` packed once) plus the
//! vectorised cell kernels, and the backward pass gets `dx` and `dw` as one GEMM each from
//! the gate gradients. The batch is split over threads by sequence, which
//! needs no synchronisation between steps.

use crate::kernels::{self, gemm, Cpu, Mat, PackedB, Rhs, SendPtr};
use crate::split::run_split;
use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use candle_nn::VarBuilder;
use std::sync::{Arc, Mutex};

/// How a batch of sequences is laid out as rows: step `t` holds rows
/// `offsets[t]..offsets[t + 1]`, one per sequence still running, in the
/// order of the batch (longest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packing {
    batch_sizes: Vec<usize>,
    offsets: Vec<usize>,
}

impl Packing {
    /// `lengths` must be sorted longest first and all be at least 1.
    pub fn new(lengths: &[usize]) -> Packing {
        assert!(lengths.windows(2).all(|w| w[0] >= w[1]), "lengths must be sorted longest first");
        assert!(lengths.iter().all(|&l| l > 0), "empty sequence");
        let steps = lengths.first().copied().unwrap_or(0);
        let batch_sizes: Vec<usize> = (0..steps).map(|t| lengths.iter().take_while(|&&l| l > t).count()).collect();
        let mut offsets = Vec::with_capacity(steps + 1);
        offsets.push(0);
        for &n in &batch_sizes {
            offsets.push(offsets.last().unwrap() + n);
        }
        Packing { batch_sizes, offsets }
    }

    /// Total rows (sum of the lengths).
    pub fn rows(&self) -> usize {
        *self.offsets.last().unwrap()
    }

    /// Number of sequences.
    pub fn batch(&self) -> usize {
        self.batch_sizes.first().copied().unwrap_or(0)
    }

    /// Length of the longest sequence.
    pub fn steps(&self) -> usize {
        self.batch_sizes.len()
    }

    /// Sequences running at step `t`.
    pub fn batch_size(&self, t: usize) -> usize {
        self.batch_sizes[t]
    }

    /// Row of sequence `b` at step `t` (`b < batch_size(t)`).
    pub fn row(&self, t: usize, b: usize) -> usize {
        self.offsets[t] + b
    }
}

/// One LSTM layer, gate order i, f, g, o. Its weights are one matrix
/// `w = [W_ih | b | W_hh]` of shape `(4 * hidden, input + 1 + hidden)` (the
/// bias is the column between the two), so that the whole layer is one op
/// over one variable.
pub struct Lstm {
    /// `(4 * hidden, input + 1 + hidden)`.
    pub w: Tensor,
    input: usize,
    hidden: usize,
    /// The gradient of `w` from the last backward pass (see
    /// [`Lstm::take_grad`]).
    grad: Arc<Mutex<Option<Vec<f32>>>>,
}

impl Lstm {
    /// Weights uniform in `±1/sqrt(hidden)` (PyTorch's default); the model
    /// then sets the bias column with [`Lstm::initial_bias`].
    pub fn new(vb: VarBuilder, input: usize, hidden: usize) -> candle_core::Result<Lstm> {
        let k = 1.0 / (hidden as f64).sqrt();
        let w = vb.get_with_hints((4 * hidden, input + 1 + hidden), "w", candle_nn::Init::Uniform { lo: -k, up: k })?;
        Ok(Lstm { w, input, hidden, grad: Arc::default() })
    }

    pub fn input(&self) -> usize {
        self.input
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The initial bias: 1 for the forget gate, 0 for the others, so that
    /// the cell state starts out remembered.
    pub fn initial_bias(hidden: usize) -> Vec<f32> {
        (0..4 * hidden).map(|i| if (hidden..2 * hidden).contains(&i) { 1.0 } else { 0.0 }).collect()
    }

    /// `w` with its bias column replaced by [`Lstm::initial_bias`].
    pub fn with_initial_bias(&self, w: &[f32]) -> Vec<f32> {
        let cols = self.input + 1 + self.hidden;
        let mut w = w.to_vec();
        for (g, b) in Lstm::initial_bias(self.hidden).into_iter().enumerate() {
            w[g * cols + self.input] = b;
        }
        w
    }

    /// `x`: `(rows, input)` packed as `packing` says; returns `(rows, hidden)`.
    ///
    /// The gradient of `w` does not go into candle's `GradStore` (which
    /// would zero a weight-sized buffer and add into it); the backward pass
    /// leaves it here for [`Lstm::take_grad`].
    pub fn forward(&self, x: &Tensor, packing: &Arc<Packing>, threads: usize, cpu: Cpu) -> candle_core::Result<Tensor> {
        let mut op = LstmLayer::new(self.input, self.hidden, packing.clone(), threads, cpu);
        op.grad_w = Some(self.grad.clone());
        x.apply_op2(&self.w, op)
    }

    /// The gradient of `w` left by the last backward pass through
    /// [`Lstm::forward`], as a `(4H, input + 1 + H)` tensor.
    pub fn take_grad(&self) -> candle_core::Result<Option<Tensor>> {
        match self.grad.lock().unwrap().take() {
            Some(g) => Ok(Some(Tensor::from_vec(g, self.w.shape(), self.w.device())?)),
            None => Ok(None),
        }
    }
}

/// One LSTM layer over a packed batch as a candle op:
/// `(x (rows, input), w (4H, input + 1 + H)) -> h (rows, H)`, the state
/// starting at zero for every sequence.
///
/// Sequence `b` goes to thread `b % threads`. Each thread gathers its rows
/// into a compact matrix `S = [x | 1 | h_prev]`, computes the input
/// projection of all its rows as one GEMM, runs the recurrence, and in the
/// backward pass gets `dx` and its share of `dw = dG^T S` as one GEMM each;
/// the shares are summed in thread order, so results do not depend on
/// timing.
pub struct LstmLayer {
    input: usize,
    hidden: usize,
    packing: Arc<Packing>,
    threads: usize,
    cpu: Cpu,
    cache: Mutex<Vec<Part>>,
    /// Where the gradient of `w` goes instead of candle's `GradStore`
    /// (`None`: returned to candle as usual).
    grad_w: Option<Arc<Mutex<Option<Vec<f32>>>>>,
}

/// One thread's sequences and what their forward pass keeps for backward.
struct Part {
    /// Global batch index of local sequence `j`.
    seqs: Vec<usize>,
    packing: Packing,
    /// `(rows, input + 1 + H)`: `[x | 1 | h_prev]` per local row.
    s: Vec<f32>,
    /// `(rows, 4H)` gate activations.
    gates: Vec<f32>,
    /// `(rows, H)` cell states and their tanh.
    c: Vec<f32>,
    tc: Vec<f32>,
}

impl LstmLayer {
    pub fn new(input: usize, hidden: usize, packing: Arc<Packing>, threads: usize, cpu: Cpu) -> LstmLayer {
        LstmLayer { input, hidden, packing, threads: threads.max(1), cpu, cache: Mutex::new(Vec::new()), grad_w: None }
    }

    /// Threads worth using: at least 4 sequences each.
    fn threads_for(&self) -> usize {
        self.threads.min(self.packing.batch() / 4).max(1)
    }

    /// The sequences of thread `k` of `n` and their packing.
    fn split(&self, k: usize, n: usize) -> (Vec<usize>, Packing) {
        let p = &*self.packing;
        let seqs: Vec<usize> = (k..p.batch()).step_by(n).collect();
        let lengths: Vec<usize> = seqs.iter().map(|&b| (0..p.steps()).take_while(|&t| p.batch_size(t) > b).count()).collect();
        (seqs, Packing::new(&lengths))
    }

    fn forward_part(&self, k: usize, n: usize, x: &[f32], w: &[f32], wt_hh: &PackedB, h_out: SendPtr) -> Part {
        let (inp, hd) = (self.input, self.hidden);
        let cols = inp + 1 + hd;
        let g4 = 4 * hd;
        let p = &*self.packing;
        let (seqs, lp) = self.split(k, n);
        let rows = lp.rows();
        let mut s = vec![0f32; rows * cols];
        for t in 0..lp.steps() {
            for (j, &b) in seqs.iter().enumerate().take(lp.batch_size(t)) {
                let (r, gr) = (lp.row(t, j), p.row(t, b));
                s[r * cols..r * cols + inp].copy_from_slice(&x[gr * inp..(gr + 1) * inp]);
                s[r * cols + inp] = 1.0;
            }
        }
        // The input projection and bias of every row: gates = [x | 1] W_ib^T.
        let mut gates = vec![0f32; rows * g4];
        // SAFETY: lhs covers s (rows, inp + 1) with row stride cols; rhs is w's
        // first inp + 1 columns, transposed; dst is gates (rows, 4H).
        unsafe {
            let lhs = Mat { ptr: s.as_ptr(), rs: cols as isize, cs: 1 };
            let rhs = Mat { ptr: w.as_ptr(), rs: 1, cs: cols as isize };
            gemm(rows, lhs, Rhs::Dense { k: inp + 1, n: g4, b: rhs }, gates.as_mut_ptr(), g4, false);
        }
        let mut c = vec![0f32; rows * hd];
        let mut tc = vec![0f32; rows * hd];
        let mut h = vec![0f32; rows * hd];
        for t in 0..lp.steps() {
            let m = lp.batch_size(t);
            let r0 = lp.row(t, 0);
            if t > 0 {
                let q0 = lp.row(t - 1, 0);
                // Keep h_{t-1} beside x for the weight gradient.
                for j in 0..m {
                    let r = r0 + j;
                    s[r * cols + inp + 1..(r + 1) * cols].copy_from_slice(&h[(q0 + j) * hd..(q0 + j + 1) * hd]);
                }
                // SAFETY: h rows q0..q0+m (H wide), wt_hh (H, 4H), gates rows r0..r0+m.
                unsafe { gemm(m, Mat::rows(&h[q0 * hd..], hd), wt_hh.into(), gates.as_mut_ptr().add(r0 * g4), g4, true) };
            }
            for j in 0..m {
                let r = r0 + j;
                let (cp, cr) = c.split_at_mut(r * hd);
                let c_prev = (t > 0).then(|| {
                    let q = lp.row(t - 1, j);
                    &cp[q * hd..(q + 1) * hd]
                });
                kernels::cell_forward(self.cpu, &mut gates[r * g4..(r + 1) * g4], c_prev, &mut cr[..hd], &mut tc[r * hd..(r + 1) * hd], &mut h[r * hd..(r + 1) * hd]);
            }
        }
        // Scatter this thread's outputs.
        for t in 0..lp.steps() {
            for (j, &b) in seqs.iter().enumerate().take(lp.batch_size(t)) {
                let (r, gr) = (lp.row(t, j), p.row(t, b));
                // SAFETY: global row gr belongs to sequence b, which only this
                // thread handles; h_out has rows * H elements.
                unsafe { std::ptr::copy_nonoverlapping(h.as_ptr().add(r * hd), h_out.0.add(gr * hd), hd) };
            }
        }
        Part { seqs, packing: lp, s, gates, c, tc }
    }

    /// Returns this thread's `dw` share `(4H, cols)`; writes its rows of
    /// `dx`.
    fn backward_part(&self, part: &Part, grad: &[f32], w: &[f32], w_hh: &PackedB, dx_out: SendPtr) -> Vec<f32> {
        let (inp, hd) = (self.input, self.hidden);
        let cols = inp + 1 + hd;
        let g4 = 4 * hd;
        let p = &*self.packing;
        let lp = &part.packing;
        let rows = lp.rows();
        let mut dg = vec![0f32; rows * g4];
        let seqs = lp.batch();
        let mut dh_rec = vec![0f32; seqs * hd];
        let mut dc = vec![0f32; seqs * hd];
        let mut dh = vec![0f32; hd];
        for t in (0..lp.steps()).rev() {
            let m = lp.batch_size(t);
            let r0 = lp.row(t, 0);
            for j in 0..m {
                let r = r0 + j;
                let gr = p.row(t, part.seqs[j]);
                for (d, (a, e)) in dh.iter_mut().zip(grad[gr * hd..(gr + 1) * hd].iter().zip(&dh_rec[j * hd..(j + 1) * hd])) {
                    *d = a + e;
                }
                let c_prev = (t > 0).then(|| {
                    let q = lp.row(t - 1, j);
                    &part.c[q * hd..(q + 1) * hd]
                });
                kernels::cell_backward(
                    self.cpu,
                    &part.gates[r * g4..(r + 1) * g4],
                    c_prev,
                    &part.tc[r * hd..(r + 1) * hd],
                    &dh,
                    &mut dc[j * hd..(j + 1) * hd],
                    &mut dg[r * g4..(r + 1) * g4],
                );
            }
            if t > 0 {
                // dh_{t-1} = dG_t W_hh, for the sequences still running at t.
                // SAFETY: dg rows r0..r0+m (4H wide); dh_rec has room for m rows.
                unsafe { gemm(m, Mat::rows(&dg[r0 * g4..], g4), w_hh.into(), dh_rec.as_mut_ptr(), hd, false) };
            }
        }
        // dx = dG W_ih for every row, then scattered.
        let mut dx = vec![0f32; rows * inp];
        // SAFETY: dg (rows, 4H); W_ih is w's first inp columns; dx (rows, inp).
        unsafe {
            let rhs = Mat { ptr: w.as_ptr(), rs: cols as isize, cs: 1 };
            gemm(rows, Mat::rows(&dg, g4), Rhs::Dense { k: g4, n: inp, b: rhs }, dx.as_mut_ptr(), inp, false);
        }
        for t in 0..lp.steps() {
            for (j, &b) in part.seqs.iter().enumerate().take(lp.batch_size(t)) {
                let (r, gr) = (lp.row(t, j), p.row(t, b));
                // SAFETY: global row gr belongs to sequence b, which only this
                // thread handles.
                unsafe { std::ptr::copy_nonoverlapping(dx.as_ptr().add(r * inp), dx_out.0.add(gr * inp), inp) };
            }
        }
        // dw = dG^T [x | 1 | h_prev].
        let mut dw = vec![0f32; g4 * cols];
        // SAFETY: lhs is dg (rows, 4H) transposed; rhs is s (rows, cols).
        unsafe {
            let lhs = Mat { ptr: dg.as_ptr(), rs: 1, cs: g4 as isize };
            gemm(g4, lhs, Rhs::Dense { k: rows, n: cols, b: Mat::rows(&part.s, cols) }, dw.as_mut_ptr(), cols, false);
        }
        dw
    }
}

fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    let Some((start, end)) = l.contiguous_offsets() else {
        candle_core::bail!("lstm: {what} must be contiguous")
    };
    Ok(&s.as_slice::<f32>()?[start..end])
}

fn tensor_f32<'a>(s: &'a candle_core::Storage, l: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    match s {
        candle_core::Storage::Cpu(s) => f32_slice(s, l, what),
        _ => candle_core::bail!("lstm: cpu only"),
    }
}

impl CustomOp2 for LstmLayer {
    fn name(&self) -> &'static str {
        "lstm-layer"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (inp, hd) = (self.input, self.hidden);
        let rows = self.packing.rows();
        let cols = inp + 1 + hd;
        if l1.dims() != [rows, inp] || l2.dims() != [4 * hd, cols] {
            candle_core::bail!("lstm: expected x ({rows}, {inp}) and w ({}, {cols}), got {:?} and {:?}", 4 * hd, l1.dims(), l2.dims());
        }
        let x = f32_slice(s1, l1, "x")?;
        let w = f32_slice(s2, l2, "w")?;
        // W_hh^T (H, 4H), packed once for the recurrent GEMM of every step.
        // SAFETY: the view addresses w's last H columns, transposed.
        let wt_hh = unsafe { PackedB::new(self.cpu, hd, 4 * hd, Mat { ptr: w.as_ptr().add(inp + 1), rs: 1, cs: cols as isize }) };
        let mut h = vec![0f32; rows * hd];
        let hp = SendPtr(h.as_mut_ptr());
        let n = self.threads_for();
        let parts = run_split(n, |k| self.forward_part(k, n, x, w, &wt_hh, hp));
        *self.cache.lock().unwrap() = parts;
        Ok((CpuStorage::F32(h), Shape::from((rows, hd))))
    }

    fn bwd(&self, _x: &Tensor, w: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let (inp, hd) = (self.input, self.hidden);
        let rows = self.packing.rows();
        let cols = inp + 1 + hd;
        let parts = self.cache.lock().unwrap();
        if parts.is_empty() {
            candle_core::bail!("lstm: backward before forward");
        }
        let grad_res = grad_res.contiguous()?;
        let (gs, gl) = grad_res.storage_and_layout();
        let (ws, wl) = w.storage_and_layout();
        let grad = tensor_f32(&gs, gl, "grad")?;
        let wv = tensor_f32(&ws, wl, "w")?;
        let mut dx = vec![0f32; rows * inp];
        let dxp = SendPtr(dx.as_mut_ptr());
        // W_hh (4H, H), packed once for the recurrent GEMM of every step.
        // SAFETY: the view addresses w's last H columns.
        let w_hh = unsafe { PackedB::new(self.cpu, 4 * hd, hd, Mat { ptr: wv.as_ptr().add(inp + 1), rs: cols as isize, cs: 1 }) };
        let shares = run_split(parts.len(), |k| self.backward_part(&parts[k], grad, wv, &w_hh, dxp));
        let mut shares = shares.into_iter();
        let mut dw = shares.next().unwrap();
        for s in shares {
            for (a, b) in dw.iter_mut().zip(&s) {
                *a += b;
            }
        }
        let dev = w.device();
        let dx = Some(Tensor::from_vec(dx, (rows, inp), dev)?);
        match &self.grad_w {
            Some(slot) => {
                let mut slot = slot.lock().unwrap();
                match slot.as_mut() {
                    // The layer ran twice in one graph: gradients add up.
                    Some(acc) => acc.iter_mut().zip(&dw).for_each(|(a, b)| *a += b),
                    None => *slot = Some(dw),
                }
                Ok((dx, None))
            }
            None => Ok((dx, Some(Tensor::from_vec(dw, (4 * hd, cols), dev)?))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var, D};
    use rand::{Rng, SeedableRng};

    /// The same layer from ordinary candle ops, step by step.
    fn reference(x: &Tensor, w: &Tensor, p: &Packing, inp: usize, hd: usize) -> candle_core::Result<Tensor> {
        let w_ih = w.narrow(1, 0, inp)?;
        let b = w.narrow(1, inp, 1)?.squeeze(1)?;
        let w_hh = w.narrow(1, inp + 1, hd)?;
        let xproj = x.matmul(&w_ih.t()?)?.broadcast_add(&b)?;
        let mut hs: Vec<Tensor> = Vec::new();
        let mut state: Option<(Tensor, Tensor)> = None;
        for t in 0..p.steps() {
            let bt = p.batch_size(t);
            let mut g = xproj.narrow(0, p.row(t, 0), bt)?;
            if let Some((hp, _)) = &state {
                g = (g + hp.narrow(0, 0, bt)?.matmul(&w_hh.t()?)?)?;
            }
            let i = candle_nn::ops::sigmoid(&g.narrow(D::Minus1, 0, hd)?)?;
            let f = candle_nn::ops::sigmoid(&g.narrow(D::Minus1, hd, hd)?)?;
            let gg = g.narrow(D::Minus1, 2 * hd, hd)?.tanh()?;
            let o = candle_nn::ops::sigmoid(&g.narrow(D::Minus1, 3 * hd, hd)?)?;
            let c = match &state {
                Some((_, cp)) => ((f * cp.narrow(0, 0, bt)?)? + (i * gg)?)?,
                None => (i * gg)?,
            };
            let h = (o * c.tanh()?)?;
            hs.push(h.clone());
            state = Some((h, c));
        }
        Tensor::cat(&hs, 0)
    }

    fn max_abs(a: &Tensor) -> f32 {
        a.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
    }

    /// Largest difference between the fused op on `cpu`'s path and the
    /// reference, in the output and the gradients of `x` and `w`, relative
    /// to each one's scale. Returns the fused op's output and gradients.
    fn check_on(cpu: Cpu, lengths: &[usize], inp: usize, hd: usize, threads: usize) -> [Tensor; 3] {
        let dev = Device::Cpu;
        let p = Arc::new(Packing::new(lengths));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut rand = |n: usize, s: f32| -> Vec<f32> { (0..n).map(|_| rng.random_range(-s..s)).collect() };
        let rows = p.rows();
        let x = Var::from_vec(rand(rows * inp, 2.0), (rows, inp), &dev).unwrap();
        let w = Var::from_vec(rand(4 * hd * (inp + 1 + hd), 0.5), (4 * hd, inp + 1 + hd), &dev).unwrap();
        let probe = Tensor::from_vec(rand(rows * hd, 1.0), (rows, hd), &dev).unwrap();

        let fused = x.as_tensor().apply_op2(w.as_tensor(), LstmLayer::new(inp, hd, p.clone(), threads, cpu)).unwrap();
        let refr = reference(x.as_tensor(), w.as_tensor(), &p, inp, hd).unwrap();
        let d = max_abs(&(&fused - &refr).unwrap());
        assert!(d < 1e-5, "forward differs by {d} on {:?}", cpu.isa());

        let g1 = (&fused * &probe).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (refr * &probe).unwrap().sum_all().unwrap().backward().unwrap();
        for (name, v) in [("x", &x), ("w", &w)] {
            let (a, b) = (g1.get(v).unwrap(), g2.get(v).unwrap());
            let scale = max_abs(b).max(1e-3);
            let d = max_abs(&(a - b).unwrap());
            assert!(d / scale < 2e-6, "gradient of {name} differs by {d} (scale {scale}) on {:?}", cpu.isa());
        }
        [fused, g1.get(&x).unwrap().clone(), g1.get(&w).unwrap().clone()]
    }

    /// [`check_on`] on every path this CPU supports, each path's output and
    /// gradients also compared with the portable path's.
    fn check(lengths: &[usize], inp: usize, hd: usize, threads: usize) {
        let portable = check_on(Cpu::portable(), lengths, inp, hd, threads);
        for cpu in Cpu::all() {
            let got = check_on(cpu, lengths, inp, hd, threads);
            for (name, (a, b)) in ["h", "dx", "dw"].iter().zip(got.iter().zip(&portable)) {
                let scale = max_abs(b).max(1e-3);
                let d = max_abs(&(a - b).unwrap());
                assert!(d / scale < 2e-6, "{name} on {:?} differs from portable by {d} (scale {scale})", cpu.isa());
            }
        }
    }

    #[test]
    fn fused_lstm_matches_reference_single_sequence() {
        check(&[6], 5, 8, 1);
    }

    #[test]
    fn fused_lstm_matches_reference_packed_ragged() {
        check(&[7, 7, 5, 4, 4, 2, 1, 1, 1], 3, 16, 1);
    }

    #[test]
    fn fused_lstm_matches_reference_threaded() {
        check(&[9, 8, 8, 8, 6, 6, 5, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1], 7, 12, 2);
        check(&[5; 16], 4, 32, 3);
    }

    /// Wide enough for the AVX-512 GEMM's full 8 x 32 blocks and k-blocks
    /// of 256, and for vector tails in the cell kernels.
    #[test]
    fn fused_lstm_matches_reference_wide() {
        check(&[4, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1], 9, 67, 1);
    }

    #[test]
    fn layer_hands_its_weight_gradient_over() {
        let dev = Device::Cpu;
        let varmap = candle_nn::VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&varmap, candle_core::DType::F32, &dev);
        let layer = Lstm::new(vb, 3, 8).unwrap();
        let p = Arc::new(Packing::new(&[4, 3, 1]));
        let x = Var::from_vec((0..p.rows() * 3).map(|i| (i as f32 * 0.37).sin()).collect(), (p.rows(), 3), &dev).unwrap();
        let loss = layer.forward(x.as_tensor(), &p, 2, Cpu::default()).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        assert!(grads.get(&layer.w).is_none());
        let side = layer.take_grad().unwrap().unwrap();
        let plain = x.as_tensor().apply_op2(&layer.w, LstmLayer::new(3, 8, p.clone(), 1, Cpu::default())).unwrap().sum_all().unwrap().backward().unwrap();
        assert!(max_abs(&(side - plain.get(&layer.w).unwrap()).unwrap()) < 1e-6);
        assert!(layer.take_grad().unwrap().is_none());
    }

    #[test]
    fn packing_rows() {
        let p = Packing::new(&[3, 2, 2, 1]);
        assert_eq!(p.rows(), 8);
        assert_eq!(p.steps(), 3);
        assert_eq!((p.batch_size(0), p.batch_size(1), p.batch_size(2)), (4, 3, 1));
        assert_eq!(p.row(1, 2), 6);
        assert_eq!(p.row(2, 0), 7);
    }
}
