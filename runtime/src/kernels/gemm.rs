//! [`gemm`], the one single-precision matrix product of the runtime, and
//! [`PackedB`], a right-hand matrix packed once for many products.
//!
//! Two implementations sit behind the one entry point, and this function is
//! the one place that picks between them:
//! - the `gemm` crate, for a right-hand side used once (the LSTM's input
//!   projection and its `dx`, `dW` products): it reaches about 50-65 GFLOP/s
//!   per core on those shapes, and picks its own SIMD path;
//! - an AVX-512 kernel for a right-hand side packed once into [`PackedB`]
//!   (panels of 32 columns, k-blocks of 256) and reused: the LSTM's `W_hh`
//!   at every step, the inference engine's layers. Its microkernel keeps an
//!   8 x 32 block of the result in 16 registers. The `gemm` crate repacks
//!   the weights on every call, which on these small-`m` products costs as
//!   much as the arithmetic.
//!
//! A [`PackedB`] made for a [`Cpu`] without AVX-512 keeps a plain row-major
//! copy and goes to the `gemm` crate, with the same results up to rounding.

use super::{Cpu, Isa};

const MR: usize = 8;
const NR: usize = 32;
const KC: usize = 256;

/// A row-major or strided f32 matrix view: element `(r, c)` is at
/// `ptr + r * rs + c * cs`.
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

/// The right-hand side of a [`gemm`]: a matrix `(k, n)` used once, or one
/// packed for reuse.
#[derive(Clone, Copy)]
pub enum Rhs<'a> {
    Dense { k: usize, n: usize, b: Mat },
    Packed(&'a PackedB),
}

impl Rhs<'_> {
    fn k(&self) -> usize {
        match self {
            Rhs::Dense { k, .. } => *k,
            Rhs::Packed(p) => p.k,
        }
    }

    fn n(&self) -> usize {
        match self {
            Rhs::Dense { n, .. } => *n,
            Rhs::Packed(p) => p.n,
        }
    }
}

impl<'a> From<&'a PackedB> for Rhs<'a> {
    fn from(p: &'a PackedB) -> Rhs<'a> {
        Rhs::Packed(p)
    }
}

/// A right-hand matrix `(k, n)` packed for [`gemm`]: for every k-block of up
/// to `KC` rows, panels of `NR` columns (the last zero-padded), each panel
/// row-major. Without AVX-512, a plain row-major copy.
pub struct PackedB {
    k: usize,
    n: usize,
    data: Vec<f32>,
    /// The row-major copy, when the AVX-512 kernel is not to be used.
    fallback: Option<Vec<f32>>,
}

impl PackedB {
    /// Packs `b (k, n)` for the kernels of `cpu`.
    ///
    /// # Safety
    /// `b` must address `k x n` valid elements.
    pub unsafe fn new(cpu: Cpu, k: usize, n: usize, b: Mat) -> PackedB {
        let panels = n.div_ceil(NR);
        if cpu.isa() != Isa::Avx512 {
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

/// `c (m, n) = [c +] a (m, k) * b (k, n)`, `c` row-major with row stride
/// `ldc`; `k` and `n` are `b`'s.
///
/// # Safety
/// `a` must address `m x k` valid elements, a dense `b` `k x n`, and `c`
/// `m` rows of `n` writable elements that overlap neither.
pub unsafe fn gemm(m: usize, a: Mat, b: Rhs, c: *mut f32, ldc: usize, accumulate: bool) {
    let (k, n) = (b.k(), b.n());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                std::ptr::write_bytes(c.add(r * ldc), 0, n);
            }
        }
        return;
    }
    match b {
        Rhs::Dense { b, .. } => crate_gemm(m, n, k, a, b, c, ldc, accumulate),
        Rhs::Packed(PackedB { fallback: Some(dense), .. }) => crate_gemm(m, n, k, a, Mat::rows(dense, n), c, ldc, accumulate),
        Rhs::Packed(packed) => {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a `PackedB` without a fallback was made for a `Cpu`
            // with AVX-512, so the CPU has it; the caller vouches for the
            // views.
            avx512::gemm(m, a, packed, c, ldc, accumulate);
            #[cfg(not(target_arch = "x86_64"))]
            unreachable!("packed for AVX-512 off x86-64: {}x{}", packed.k, packed.n);
        }
    }
}

/// The `gemm` crate on one thread.
///
/// # Safety
/// As [`gemm`].
#[allow(clippy::too_many_arguments)]
unsafe fn crate_gemm(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: *mut f32, ldc: usize, accumulate: bool) {
    ::gemm::gemm(
        m,
        n,
        k,
        c,
        1,
        ldc as isize,
        accumulate,
        a.ptr,
        a.cs,
        a.rs,
        b.ptr,
        b.cs,
        b.rs,
        if accumulate { 1.0 } else { 0.0 },
        1.0,
        false,
        false,
        false,
        ::gemm::Parallelism::None,
    )
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{PackedB, KC, MR, NR};

    use super::Mat;
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

    fn close(x: f32, y: f32) -> bool {
        (x - y).abs() < 1e-3 * (1.0 + y.abs())
    }

    /// Dense and packed, row-major and through transposed views, plain and
    /// accumulating, on every path this CPU has: the naive product, and the
    /// portable path's result up to rounding.
    #[test]
    fn matches_naive_on_ragged_shapes_on_every_path() {
        for &(m, n, k) in &[(1, 1, 1), (3, 17, 5), (5, 7, 3), (8, 32, 256), (13, 45, 300), (20, 1024, 257), (9, 513, 640), (4, 6, 0), (0, 5, 5)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 * 0.1 - 0.6).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 * 0.1 - 0.5).collect();
            let want = naive(m, n, k, &a, &b);
            let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect(); // (k, m)
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect(); // (n, k)
            let mut portable: Option<Vec<f32>> = None;
            for cpu in Cpu::all() {
                let what = format!("{m}x{n}x{k} on {:?}", cpu.isa());
                // SAFETY (every call below): the views cover the vectors
                // made above, with the shapes given.
                let packed = unsafe { PackedB::new(cpu, k, n, Mat::rows(&b, n)) };
                let packed_t = unsafe { PackedB::new(cpu, k, n, Mat::transposed(&bt, k)) };
                let mut results = Vec::new();
                for rhs in [Rhs::Dense { k, n, b: Mat::rows(&b, n) }, Rhs::Packed(&packed)] {
                    let mut c = vec![1f32; m * n];
                    unsafe { gemm(m, Mat::rows(&a, k), rhs, c.as_mut_ptr(), n, true) };
                    for (x, y) in c.iter().zip(&want) {
                        assert!(close(x - 1.0, *y), "{what}: {x} vs {}", y + 1.0);
                    }
                    results.push(c);
                }
                for rhs in [Rhs::Dense { k, n, b: Mat::transposed(&bt, k) }, Rhs::Packed(&packed_t)] {
                    let mut c = vec![7f32; m * (n + 3)];
                    unsafe { gemm(m, Mat::transposed(&at, m), rhs, c.as_mut_ptr(), n + 3, false) };
                    for i in 0..m {
                        for j in 0..n {
                            assert!(close(c[i * (n + 3) + j], want[i * n + j]), "{what} transposed");
                        }
                        assert_eq!(&c[i * (n + 3) + n..(i + 1) * (n + 3)], &[7.0; 3], "{what}: wrote past the row");
                    }
                }
                let packed_result = results.pop().unwrap();
                match &portable {
                    None => portable = Some(packed_result),
                    Some(p) => assert!(p.iter().zip(&packed_result).all(|(x, y)| close(*x, *y)), "{what} differs from portable"),
                }
            }
        }
    }
}
