//! Hand-written CPU kernels for the hot loops: a vectorisable `exp` (and the
//! sigmoid and tanh built on it), the LSTM cell's element-wise forward and
//! backward, and thin wrappers over the `gemm` crate.
//!
//! Why: without MKL, candle calls scalar libm for `exp`/`tanh`, which took a
//! fifth of an LSTM training step (research/candle.md). The functions here
//! are written as plain loops over slices that LLVM turns into SIMD code; on
//! x86-64 each is compiled three times, for the baseline (SSE2), with
//! AVX2+FMA and with AVX-512, and picked at run time.
//!
//! Architecture invariant: no allocation and no threads here; callers own
//! buffers and parallelism.

/// `e^x` for f32, Cephes-style: range reduction by `ln 2`, a degree-6
/// polynomial, and the exponent set through the bit pattern. Relative error
/// is about 2e-7 over the whole range; inputs are clamped to `[-87.3, 88.3]`,
/// so the result is always finite and positive.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding and subtracting it rounds to an integer
    let x = x.clamp(-87.3, 88.3);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * C1 - n * C2;
    let r2 = r * r;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r2 + r + 1.0;
    let bits = ((n as i32 + 127) as u32) << 23;
    y * f32::from_bits(bits)
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

/// Defines `fn $name(args)` that runs `$generic` compiled with AVX-512,
/// else with AVX2+FMA, when the CPU has them, and the baseline build
/// otherwise.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $generic:ident) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn avx512($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the features were just detected.
                    return unsafe { avx512($($arg),*) };
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the features were just detected.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}
pub(crate) use multiversion;

multiversion! {
    /// The LSTM cell of one row. `gates` (`4 * hidden`, order i, f, g, o)
    /// holds the pre-activations on entry and the activations on exit;
    /// `c_prev` is the previous cell state (`None`: zeros); writes the new
    /// cell state `c`, `tanh(c)` into `tc`, and the output `h`.
    pub fn cell_forward(gates: &mut [f32], c_prev: Option<&[f32]>, c: &mut [f32], tc: &mut [f32], h: &mut [f32]) => cell_forward_generic
}

#[inline(always)]
fn cell_forward_generic(gates: &mut [f32], c_prev: Option<&[f32]>, c: &mut [f32], tc: &mut [f32], h: &mut [f32]) {
    let n = c.len();
    let (gi, rest) = gates.split_at_mut(n);
    let (gf, rest) = rest.split_at_mut(n);
    let (gg, go) = rest.split_at_mut(n);
    let (gi, gf, gg, go, tc, h) = (&mut gi[..n], &mut gf[..n], &mut gg[..n], &mut go[..n], &mut tc[..n], &mut h[..n]);
    for j in 0..n {
        gi[j] = sigmoid(gi[j]);
        gf[j] = sigmoid(gf[j]);
        gg[j] = tanh(gg[j]);
        go[j] = sigmoid(go[j]);
    }
    match c_prev {
        Some(cp) => {
            let cp = &cp[..n];
            for j in 0..n {
                c[j] = gf[j] * cp[j] + gi[j] * gg[j];
            }
        }
        None => {
            for j in 0..n {
                c[j] = gi[j] * gg[j];
            }
        }
    }
    for j in 0..n {
        let t = tanh(c[j]);
        tc[j] = t;
        h[j] = go[j] * t;
    }
}

multiversion! {
    /// Backward of [`cell_forward`] for one row. `gates` are the cached
    /// activations (`4 * hidden`), `c_prev` the previous cell state (`None`:
    /// zeros), `tc` the cached `tanh(c)`. `dh` is the full gradient of `h`;
    /// `dc` holds the gradient flowing into `c` from the next step on entry
    /// and the gradient of `c_prev` on exit. Writes the gradient of the gate
    /// pre-activations into `dgates`.
    pub fn cell_backward(gates: &[f32], c_prev: Option<&[f32]>, tc: &[f32], dh: &[f32], dc: &mut [f32], dgates: &mut [f32]) => cell_backward_generic
}

#[inline(always)]
fn cell_backward_generic(gates: &[f32], c_prev: Option<&[f32]>, tc: &[f32], dh: &[f32], dc: &mut [f32], dgates: &mut [f32]) {
    let n = dc.len();
    let (gi, gf, gg, go) = (&gates[..n], &gates[n..2 * n], &gates[2 * n..3 * n], &gates[3 * n..4 * n]);
    let (di, rest) = dgates.split_at_mut(n);
    let (df, rest) = rest.split_at_mut(n);
    let (dg, dout) = rest.split_at_mut(n);
    let (di, df, dg, dout, tc, dh) = (&mut di[..n], &mut df[..n], &mut dg[..n], &mut dout[..n], &tc[..n], &dh[..n]);
    for j in 0..n {
        let o = go[j];
        let t = tc[j];
        dout[j] = dh[j] * t * o * (1.0 - o);
        let d = dc[j] + dh[j] * o * (1.0 - t * t);
        let (i, g) = (gi[j], gg[j]);
        di[j] = d * g * i * (1.0 - i);
        dg[j] = d * i * (1.0 - g * g);
        dc[j] = d;
    }
    match c_prev {
        Some(cp) => {
            let cp = &cp[..n];
            for j in 0..n {
                let f = gf[j];
                df[j] = dc[j] * cp[j] * f * (1.0 - f);
                dc[j] *= f;
            }
        }
        None => {
            for j in 0..n {
                df[j] = 0.0;
                dc[j] = 0.0;
            }
        }
    }
}

/// A row-major or strided f32 matrix view for [`gemm`]: element `(r, c)` is
/// at `ptr + r * rs + c * cs`.
#[derive(Clone, Copy)]
pub struct Mat {
    pub ptr: *const f32,
    pub rs: isize,
    pub cs: isize,
}

impl Mat {
    /// A row-major matrix with `cols` columns starting at `data[0]`.
    pub fn rows(data: &[f32], cols: usize) -> Mat {
        Mat { ptr: data.as_ptr(), rs: cols as isize, cs: 1 }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(data: &[f32], cols: usize) -> Mat {
        Mat { ptr: data.as_ptr(), rs: 1, cs: cols as isize }
    }
}

/// `dst (m, n) = [dst +] lhs (m, k) * rhs (k, n)`, where `dst` is row-major
/// with row stride `dst_rs`.
///
/// # Safety
/// Every element addressed through the three views must be in bounds, and
/// `dst` must not overlap `lhs` or `rhs`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_rs: isize,
    accumulate: bool,
    lhs: Mat,
    rhs: Mat,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                for c in 0..n {
                    *dst.offset(r as isize * dst_rs + c as isize) = 0.0;
                }
            }
        }
        return;
    }
    let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_rs,
        accumulate,
        lhs.ptr,
        lhs.cs,
        lhs.rs,
        rhs.ptr,
        rhs.cs,
        rhs.rs,
        if accumulate { 1.0 } else { 0.0 },
        1.0,
        false,
        false,
        false,
        par,
    )
}

/// A raw pointer that may cross threads. Used where worker threads write
/// disjoint rows of one output buffer; each use states why the rows are
/// disjoint.
#[derive(Clone, Copy)]
pub struct SendPtr(pub *mut f32);
// SAFETY: only used for disjoint writes (see the uses).
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std() {
        let mut worst = 0.0f32;
        let mut x = -80.0f32;
        while x < 80.0 {
            let rel = ((exp(x) - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
            x += 0.0137;
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
        assert!(exp(-1000.0) > 0.0 && exp(1000.0).is_finite());
    }

    #[test]
    fn tanh_and_sigmoid_match_std() {
        let mut x = -20.0f32;
        while x < 20.0 {
            assert!((tanh(x) - x.tanh()).abs() < 1e-6, "tanh({x})");
            assert!((sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6, "sigmoid({x})");
            x += 0.01;
        }
    }

    #[test]
    fn gemm_matches_naive() {
        let (m, n, k) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..n * k).map(|i| (i % 5) as f32 - 1.0).collect(); // (n, k): used transposed
        let mut d = vec![1.0f32; m * n];
        unsafe { gemm(m, n, k, d.as_mut_ptr(), n as isize, true, Mat::rows(&a, k), Mat::transposed(&b, k), 1) };
        for r in 0..m {
            for c in 0..n {
                let want: f32 = 1.0 + (0..k).map(|i| a[r * k + i] * b[c * k + i]).sum::<f32>();
                assert!((d[r * n + c] - want).abs() < 1e-5);
            }
        }
    }
}
