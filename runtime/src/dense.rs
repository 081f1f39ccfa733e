//! A dense layer, `y = x W^T [+ b]`, as one candle op whose forward and
//! backward products run on synth's own GEMM over several threads.
//!
//! candle's `Linear` is a `matmul` and a `broadcast_add`; with candle on one
//! thread (the `synth` binary's default, see `src/main.rs`) every product of
//! the NPI's encoder, fuse layer and heads ran on one core while the other
//! waited, and the bias gradient went through candle's strided row sum.
//! Here the rows of `y` and `dx` and the columns of `dW` are split over the
//! threads; each output element is computed by exactly one thread, so the
//! results do not depend on timing. `dx` is computed only when `x` carries a
//! gradient (an encoder's one-hot input does not).

use crate::kernels::{gemm, Mat, Rhs, SendPtr};
use crate::split::run_split;
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};

/// Multiply-adds a thread should have before a product is split: below
/// this, starting a thread costs more than it saves.
const WORK_PER_THREAD: usize = 1 << 20;

/// `x (rows, in) W^T (in, out) + b (out)`, with `W` `(out, in)`; every
/// tensor f32 on the CPU. `threads` bounds the threads used. The products
/// are the `gemm` crate's, which picks its own SIMD path (as candle's
/// `matmul` does).
pub fn dense(x: &Tensor, w: &Tensor, b: Option<&Tensor>, threads: usize) -> candle_core::Result<Tensor> {
    let op = Dense { threads: threads.max(1) };
    // The op reads its inputs as dense row-major blocks (free when they
    // already are).
    let (x, w) = (x.contiguous()?, w.contiguous()?);
    match b {
        Some(b) => x.apply_op3(&w, &b.contiguous()?, op),
        None => x.apply_op2(&w, op),
    }
}

/// [`dense`] through a candle `Linear`'s weight and bias.
pub fn linear(x: &Tensor, l: &candle_nn::Linear, threads: usize) -> candle_core::Result<Tensor> {
    dense(x, l.weight(), l.bias(), threads)
}

struct Dense {
    threads: usize,
}

impl Dense {
    /// Threads worth using for `work` multiply-adds split into at most
    /// `parts` pieces.
    fn threads_for(&self, work: usize, parts: usize) -> usize {
        self.threads.min(work / WORK_PER_THREAD).min(parts).max(1)
    }

    fn forward(&self, x: &[f32], xl: &Layout, w: &[f32], wl: &Layout, b: Option<&[f32]>) -> candle_core::Result<(CpuStorage, Shape)> {
        let (rows, input) = xl.shape().dims2()?;
        let (out, w_in) = wl.shape().dims2()?;
        if w_in != input || b.is_some_and(|b| b.len() != out) {
            candle_core::bail!("dense: x {:?}, w {:?} and b {:?} do not fit", xl.dims(), wl.dims(), b.map(<[f32]>::len));
        }
        let mut y = vec![0f32; rows * out];
        let yp = SendPtr(y.as_mut_ptr());
        let n = self.threads_for(rows * input * out, rows);
        run_split(n, |k| {
            let (r0, r1) = (rows * k / n, rows * (k + 1) / n);
            // SAFETY: x rows r0..r1 (input wide), W^T as a strided view of
            // w (out, input); y rows r0..r1 are this thread's alone.
            unsafe {
                let yk = yp.get().add(r0 * out);
                let rhs = Rhs::Dense { k: input, n: out, b: Mat { ptr: w.as_ptr(), rs: 1, cs: input as isize } };
                gemm(r1 - r0, Mat::rows(&x[r0 * input..], input), rhs, yk, out, false);
                if let Some(b) = b {
                    for r in 0..r1 - r0 {
                        let row = std::slice::from_raw_parts_mut(yk.add(r * out), out);
                        crate::kernels::add_into(row, b);
                    }
                }
            }
        });
        Ok((CpuStorage::F32(y), Shape::from((rows, out))))
    }

    /// `(dx, dW, db)` for `dy`; `dx` only when `want_dx`.
    fn backward(&self, x: &Tensor, w: &Tensor, dy: &Tensor, want_dx: bool) -> candle_core::Result<(Option<Tensor>, Tensor, Tensor)> {
        let (rows, input) = x.dims2()?;
        let out = w.dim(0)?;
        let (x, w, dy) = (x.contiguous()?, w.contiguous()?, dy.contiguous()?);
        let (xs, xl) = x.storage_and_layout();
        let (ws, wl) = w.storage_and_layout();
        let (gs, gl) = dy.storage_and_layout();
        let xv = slice(&xs, xl)?;
        let wv = slice(&ws, wl)?;
        let g = slice(&gs, gl)?;
        let dev = w.device();
        let dx = if want_dx {
            let mut dx = vec![0f32; rows * input];
            let dxp = SendPtr(dx.as_mut_ptr());
            let n = self.threads_for(rows * input * out, rows);
            run_split(n, |k| {
                let (r0, r1) = (rows * k / n, rows * (k + 1) / n);
                    // SAFETY: dy rows r0..r1 (out wide) times w (out, input);
                // dx rows r0..r1 are this thread's alone.
                unsafe { gemm(r1 - r0, Mat::rows(&g[r0 * out..], out), Rhs::Dense { k: out, n: input, b: Mat::rows(wv, input) }, dxp.get().add(r0 * input), input, false) };
            });
            Some(Tensor::from_vec(dx, (rows, input), dev)?)
        } else {
            None
        };
        // dW = dy^T x, split by columns (of x) over the threads.
        let mut dw = vec![0f32; out * input];
        let dwp = SendPtr(dw.as_mut_ptr());
        let n = self.threads_for(rows * input * out, input);
        run_split(n, |k| {
            let (c0, c1) = (input * k / n, input * (k + 1) / n);
            // SAFETY: dy transposed (out, rows) times x's columns c0..c1
            // (rows, c1 - c0); dW's columns c0..c1 are this thread's alone.
            unsafe {
                let rhs = Rhs::Dense { k: rows, n: c1 - c0, b: Mat { ptr: xv.as_ptr().add(c0), rs: input as isize, cs: 1 } };
                gemm(out, Mat { ptr: g.as_ptr(), rs: 1, cs: out as isize }, rhs, dwp.get().add(c0), input, false);
            }
        });
        let mut db = vec![0f32; out];
        for r in 0..rows {
            crate::kernels::add_into(&mut db, &g[r * out..(r + 1) * out]);
        }
        Ok((dx, Tensor::from_vec(dw, (out, input), dev)?, Tensor::from_vec(db, out, dev)?))
    }
}

fn slice<'a>(s: &'a candle_core::Storage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    match s {
        candle_core::Storage::Cpu(s) => cpu_slice(s, l),
        _ => candle_core::bail!("dense: cpu only"),
    }
}

fn cpu_slice<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&s.as_slice::<f32>()?[start..end]),
        None => candle_core::bail!("dense: inputs must be contiguous"),
    }
}

impl CustomOp2 for Dense {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout, ws: &CpuStorage, wl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward(cpu_slice(xs, xl)?, xl, cpu_slice(ws, wl)?, wl, None)
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _y: &Tensor, dy: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, _) = self.backward(x, w, dy, x.track_op())?;
        Ok((dx, Some(dw)))
    }
}

impl CustomOp3 for Dense {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout, ws: &CpuStorage, wl: &Layout, bs: &CpuStorage, bl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward(cpu_slice(xs, xl)?, xl, cpu_slice(ws, wl)?, wl, Some(cpu_slice(bs, bl)?))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _b: &Tensor, _y: &Tensor, dy: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, db) = self.backward(x, w, dy, x.track_op())?;
        Ok((dx, Some(dw), Some(db)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
    }

    /// Output and every gradient match candle's `matmul` + `broadcast_add`,
    /// with and without a bias, on every thread count,
    /// on shapes big enough to be split; an input that carries no gradient
    /// gets none.
    #[test]
    fn matches_candle_ops_in_value_and_gradient() {
        let dev = Device::Cpu;
        for &(rows, input, out) in &[(3, 5, 2), (700, 129, 33), (64, 256, 1), (1300, 64, 300)] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (rows, input), &dev).unwrap()).unwrap();
            let w = Var::from_tensor(&Tensor::randn(0f32, 0.3, (out, input), &dev).unwrap()).unwrap();
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, out, &dev).unwrap()).unwrap();
            let up = Tensor::randn(0f32, 1.0, (rows, out), &dev).unwrap();
            for bias in [true, false] {
                let want = {
                    let y = x.matmul(&w.t().unwrap()).unwrap();
                    if bias {
                        y.broadcast_add(&b).unwrap()
                    } else {
                        y
                    }
                };
                let wg = (&want * &up).unwrap().sum_all().unwrap().backward().unwrap();
                {
                    for threads in [1, 2, 3] {
                        let y = dense(&x, &w, bias.then_some(b.as_tensor()), threads).unwrap();
                        let what = format!("{rows}x{input}x{out}, bias {bias}, {threads} threads");
                        assert!(max_diff(&y, &want) < 1e-3, "{what}: output");
                        let g = (&y * &up).unwrap().sum_all().unwrap().backward().unwrap();
                        assert!(max_diff(g.get(&x).unwrap(), wg.get(&x).unwrap()) < 1e-3, "{what}: dx");
                        assert!(max_diff(g.get(&w).unwrap(), wg.get(&w).unwrap()) < 1e-2, "{what}: dw");
                        if bias {
                            assert!(max_diff(g.get(&b).unwrap(), wg.get(&b).unwrap()) < 1e-3, "{what}: db");
                        }
                    }
                }
            }
            // A constant input: no gradient for it.
            let c = x.as_tensor().detach();
            let y = dense(&c, &w, Some(&b), 2).unwrap();
            let g = y.sum_all().unwrap().backward().unwrap();
            assert!(g.get(&c).is_none() && g.get(&w).is_some());
        }
    }

    /// A transposed (strided) input is read as what it is.
    #[test]
    fn takes_strided_inputs() {
        let dev = Device::Cpu;
        let xt = Tensor::randn(0f32, 1.0, (7, 5), &dev).unwrap();
        let w = Tensor::randn(0f32, 1.0, (3, 7), &dev).unwrap();
        let want = xt.t().unwrap().contiguous().unwrap().matmul(&w.t().unwrap()).unwrap();
        let y = dense(&xt.t().unwrap(), &w, None, 2).unwrap();
        assert!(max_diff(&y, &want) < 1e-4);
    }

    /// Same inputs, same bits, whatever the thread count.
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (1300, 200), &dev).unwrap()).unwrap();
        let w = Var::from_tensor(&Tensor::randn(0f32, 0.3, (160, 200), &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, 160, &dev).unwrap()).unwrap();
        let run = |threads: usize| {
            let y = dense(&x, &w, Some(&b), threads).unwrap();
            let g = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            [y, g.get(&x).unwrap().clone(), g.get(&w).unwrap().clone(), g.get(&b).unwrap().clone()].map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        };
        let one = run(1);
        for threads in [2, 3] {
            assert!(one == run(threads), "{threads} threads");
        }
    }
}
