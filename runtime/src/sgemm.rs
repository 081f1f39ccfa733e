//! Single-precision GEMM with AVX-512 for the shapes the NPI runs: a few
//! dozen to a thousand rows against weight matrices of a few hundred by a
//! thousand, often many times against the same weights.
//!
//! Why not only the `gemm` crate: on the shapes that matter here it reaches
//! about 50-65 GFLOP/s per core, and it repacks the weights on every call
//! (an LSTM layer multiplies by the same `W_hh` at every one of its steps).
//! Here the right-hand matrix is packed once into [`PackedB`] (panels of 32
//! columns, k-blocks of 256) and reused; the microkernel keeps an 8 x 32
//! block of the result in 16 registers.
//!
//! Without AVX-512 (checked at run time) every call goes to the `gemm`
//! crate instead, with the same results up to rounding.

use crate::kernels::Mat;

const MR: usize = 8;
const NR: usize = 32;
const KC: usize = 256;

/// A right-hand matrix `(k, n)` packed for [`gemm_packed`]: for every k-block
/// of up to `KC` rows, panels of `NR` columns (the last zero-padded), each
/// panel row-major.
pub struct PackedB {
    k: usize,
    n: usize,
    data: Vec<f32>,
    /// The source, for the fallback path.
    fallback: Option<Vec<f32>>,
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl PackedB {
    /// Packs `b (k, n)`.
    ///
    /// # Safety
    /// `b` must address `k x n` valid elements.
    pub unsafe fn new(k: usize, n: usize, b: Mat) -> PackedB {
        let panels = n.div_ceil(NR);
        if !has_avx512() {
            let mut dense = vec![0f32; k * n];
            for p in 0..k {
                for j in 0..n {
                    dense[p * n + j] = *b.ptr.offset(p as isize * b.rs + j as isize * b.cs);
                }
            }
            return PackedB { k, n, data: Vec::new(), fallback: Some(dense) };
        }
        let mut data = vec![0f32; k * panels * NR];
        let mut off = 0;
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for jp in 0..panels {
                let j0 = jp * NR;
                let w = NR.min(n - j0);
                for p in 0..kc {
                    let dst = &mut data[off + p * NR..off + p * NR + w];
                    let src = b.ptr.offset((k0 + p) as isize * b.rs + j0 as isize * b.cs);
                    if b.cs == 1 {
                        dst.copy_from_slice(std::slice::from_raw_parts(src, w));
                    } else {
                        for (j, d) in dst.iter_mut().enumerate() {
                            *d = *src.offset(j as isize * b.cs);
                        }
                    }
                }
                off += kc * NR;
            }
        }
        PackedB { k, n, data, fallback: None }
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn n(&self) -> usize {
        self.n
    }
}

/// `c (m, n) = [c +] a (m, k) * b`, `c` row-major with row stride `ldc`.
///
/// # Safety
/// `a` must address `m x b.k()` valid elements and `c` `m` rows of `b.n()`
/// writable elements (not overlapping `a`).
pub unsafe fn gemm_packed(m: usize, a: Mat, b: &PackedB, c: *mut f32, ldc: usize, accumulate: bool) {
    if m == 0 || b.n == 0 {
        return;
    }
    if let Some(dense) = &b.fallback {
        crate::kernels::gemm(m, b.n, b.k, c, ldc as isize, accumulate, a, Mat::rows(dense, b.n), 1);
        return;
    }
    if b.k == 0 {
        if !accumulate {
            for r in 0..m {
                std::ptr::write_bytes(c.add(r * ldc), 0, b.n);
            }
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    avx512::gemm(m, a, b, c, ldc, accumulate);
}

/// [`gemm_packed`] with `b` packed for this one call.
///
/// # Safety
/// As [`gemm_packed`], and `b` must address `k x n` valid elements.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: *mut f32, ldc: usize, accumulate: bool) {
    if !has_avx512() {
        crate::kernels::gemm(m, n, k, c, ldc as isize, accumulate, a, b, 1);
        return;
    }
    let packed = PackedB::new(k, n, b);
    gemm_packed(m, a, &packed, c, ldc, accumulate);
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{PackedB, KC, MR, NR};

    use crate::kernels::Mat;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub unsafe fn gemm(m: usize, a: Mat, b: &PackedB, c: *mut f32, ldc: usize, accumulate: bool) {
        let (k, n) = (b.k, b.n);
        let panels = n.div_ceil(NR);
        // A block packed p-major: ap[p * rows + r].
        let mut ap = [0f32; KC * MR];
        let mut boff = 0;
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            let add = accumulate || k0 > 0;
            let mut i0 = 0;
            while i0 < m {
                // The largest block of 8, 4, 2 or 1 rows that fits: no padded rows.
                let rows = match m - i0 {
                    r if r >= 8 => 8,
                    r if r >= 4 => 4,
                    r if r >= 2 => 2,
                    _ => 1,
                };
                for p in 0..kc {
                    for r in 0..rows {
                        ap[p * rows + r] = *a.ptr.offset((i0 + r) as isize * a.rs + (k0 + p) as isize * a.cs);
                    }
                }
                for jp in 0..panels {
                    let j0 = jp * NR;
                    let w = NR.min(n - j0);
                    let bp = b.data.as_ptr().add(boff + jp * kc * NR);
                    let cp = c.add(i0 * ldc + j0);
                    match rows {
                        8 => kernel::<8>(kc, ap.as_ptr(), bp, cp, ldc, w, add),
                        4 => kernel::<4>(kc, ap.as_ptr(), bp, cp, ldc, w, add),
                        2 => kernel::<2>(kc, ap.as_ptr(), bp, cp, ldc, w, add),
                        _ => kernel::<1>(kc, ap.as_ptr(), bp, cp, ldc, w, add),
                    }
                }
                i0 += rows;
            }
            boff += kc * panels * NR;
        }
    }

    /// `c (R, w) [+]= ap (kc, R)^T * bp (kc, NR)`: an `R x 32` block of the
    /// result in `2 R` registers.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn kernel<const R: usize>(kc: usize, ap: *const f32, bp: *const f32, c: *mut f32, ldc: usize, w: usize, add: bool) {
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for p in 0..kc {
            let b0 = _mm512_loadu_ps(bp.add(p * NR));
            let b1 = _mm512_loadu_ps(bp.add(p * NR + 16));
            let a = ap.add(p * R);
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*a.add(r));
                acc[0] = _mm512_fmadd_ps(x, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(x, b1, acc[1]);
            }
        }
        let m0: __mmask16 = if w >= 16 { 0xffff } else { ((1u32 << w) - 1) as u16 };
        let m1: __mmask16 = if w >= 32 { 0xffff } else if w > 16 { ((1u32 << (w - 16)) - 1) as u16 } else { 0 };
        for (r, acc) in acc.iter().enumerate() {
            let cr = c.add(r * ldc);
            let (mut v0, mut v1) = (acc[0], acc[1]);
            if add {
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr.add(16)));
            }
            _mm512_mask_storeu_ps(cr, m0, v0);
            _mm512_mask_storeu_ps(cr.add(16), m1, v1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_naive_on_ragged_shapes() {
        for &(m, n, k) in &[(1, 1, 1), (3, 17, 5), (8, 32, 256), (13, 45, 300), (20, 1024, 257), (9, 513, 640)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 * 0.1 - 0.6).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 * 0.1 - 0.5).collect();
            let want = naive(m, n, k, &a, &b);
            // Row-major operands, then the same through transposed views.
            let mut c = vec![1f32; m * n];
            unsafe { gemm(m, n, k, Mat::rows(&a, k), Mat::rows(&b, n), c.as_mut_ptr(), n, true) };
            for (x, y) in c.iter().zip(&want) {
                assert!((x - 1.0 - y).abs() < 1e-3 * (1.0 + y.abs()), "{m}x{n}x{k}: {x} vs {}", y + 1.0);
            }
            let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect(); // (k, m)
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect(); // (n, k)
            let mut c = vec![0f32; m * (n + 3)];
            unsafe { gemm(m, n, k, Mat::transposed(&at, m), Mat::transposed(&bt, k), c.as_mut_ptr(), n + 3, false) };
            for i in 0..m {
                for j in 0..n {
                    let (x, y) = (c[i * (n + 3) + j], want[i * n + j]);
                    assert!((x - y).abs() < 1e-3 * (1.0 + y.abs()), "{m}x{n}x{k} transposed");
                }
            }
        }
    }
}
