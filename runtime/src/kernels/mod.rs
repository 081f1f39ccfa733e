//! The hand-written CPU kernels, in one module: a vectorisable `exp` (and
//! the sigmoid and tanh built on it), the LSTM cell's element-wise forward
//! and backward, and [`gemm`], the one matrix product every caller uses.
//!
//! Why: without MKL, candle calls scalar libm for `exp`/`tanh`, which took a
//! fifth of an LSTM training step (research/candle.md). The functions here
//! are written as plain loops over slices that LLVM turns into SIMD code; on
//! x86-64 each is compiled three times, once per [`Isa`] (the baseline,
//! AVX2+FMA, AVX-512), and a [`Cpu`] value picks one at run time. A `Cpu`
//! can only hold an instruction set the processor has (it is checked when
//! the value is made), so holding one is the licence to run that code.
//! Callers keep the `Cpu` they were built with (models, the inference
//! engine, the optimiser), which is how tests run every path the machine
//! supports side by side and how a user forces a lower one
//! ([`set_default`]; the `synth` binary reads `SYNTH_CPU`).
//!
//! The element-wise kernels give the same bits on every path (Rust never
//! fuses a multiply and an add on its own, and nothing here reorders a
//! sum); the GEMMs differ in rounding (fused multiply-adds, summation
//! order), within float tolerance.
//!
//! Architecture invariant: no allocation in the element-wise kernels and no
//! threads here; callers own buffers and parallelism.

mod gemm;

pub use gemm::{gemm, Mat, PackedB, Rhs};

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction set the kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// The target's baseline (SSE2 on x86-64); runs on any CPU.
    Portable,
    /// AVX2 with FMA.
    Avx2,
    /// AVX-512F, with AVX2 and FMA.
    Avx512,
}

impl Isa {
    /// Every instruction set, lowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// The name `SYNTH_CPU` takes: `portable`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// The CPU features this path's code is compiled with: exactly the
    /// `target_feature` lists of [`multiversion!`] and of the AVX-512 GEMM,
    /// and so exactly what must be detected before running it.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            Isa::Portable => &[],
            Isa::Avx2 => &["avx2", "fma"],
            Isa::Avx512 => &["avx512f", "avx2", "fma"],
        }
    }

    /// Whether this CPU has every feature of [`Isa::features`].
    fn detected(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self.features().iter().all(|&f| match f {
                "avx512f" => std::is_x86_feature_detected!("avx512f"),
                "avx2" => std::is_x86_feature_detected!("avx2"),
                "fma" => std::is_x86_feature_detected!("fma"),
                _ => false,
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Isa::Portable
        }
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an instruction set cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsaError {
    #[error("unknown instruction set `{0}` (expected portable, avx2 or avx512)")]
    Unknown(String),
    #[error("this cpu lacks {isa} ({}); it supports {}", .isa.features().join(", "), supported_names())]
    Unsupported { isa: Isa },
}

fn supported_names() -> String {
    Cpu::all().iter().map(|c| c.isa().name()).collect::<Vec<_>>().join(", ")
}

impl std::str::FromStr for Isa {
    type Err = IsaError;

    fn from_str(s: &str) -> Result<Isa, IsaError> {
        Isa::ALL.into_iter().find(|i| i.name() == s).ok_or_else(|| IsaError::Unknown(s.to_string()))
    }
}

/// An instruction set this CPU supports: the kernels' dispatch key. Only
/// [`Cpu::new`] (which checks) and the constructors built on it make one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cpu(Isa);

/// The process default: 0 while unset (the best supported), else
/// `1 + Isa as u8`.
static DEFAULT: AtomicU8 = AtomicU8::new(0);

impl Cpu {
    /// `isa`, if this CPU has every feature it needs.
    pub fn new(isa: Isa) -> Result<Cpu, IsaError> {
        if isa.detected() {
            Ok(Cpu(isa))
        } else {
            Err(IsaError::Unsupported { isa })
        }
    }

    /// The baseline, supported everywhere.
    pub fn portable() -> Cpu {
        Cpu(Isa::Portable)
    }

    /// The highest instruction set this CPU supports.
    pub fn best() -> Cpu {
        *Cpu::all().last().expect("portable is always supported")
    }

    /// Every instruction set this CPU supports, lowest (portable) first.
    pub fn all() -> Vec<Cpu> {
        Isa::ALL.into_iter().filter_map(|i| Cpu::new(i).ok()).collect()
    }

    pub fn isa(self) -> Isa {
        self.0
    }
}

/// The process default ([`set_default`]), else [`Cpu::best`]. Models, the
/// inference engine and the optimiser take it when they are made.
impl Default for Cpu {
    fn default() -> Cpu {
        match DEFAULT.load(Ordering::Relaxed) {
            0 => Cpu::best(),
            v => Cpu(Isa::ALL[v as usize - 1]),
        }
    }
}

/// Sets the instruction set that objects made from now on use by default
/// (`SYNTH_CPU` in the `synth` binary): a lower one than the CPU's best, to
/// check or work around a path. Objects already made keep theirs.
pub fn set_default(cpu: Cpu) {
    DEFAULT.store(1 + cpu.0 as u8, Ordering::Relaxed);
}

/// The constants of [`exp`], which its vector twin (`simd`) shares so that
/// both give the same bits: the clamp, `log2(e)`, `ln 2` split in two for
/// the range reduction, the rounding constant (1.5 * 2^23: adding and
/// subtracting it rounds to an integer), and the polynomial's coefficients
/// from the highest.
mod exp_consts {
    pub const LO: f32 = -87.3;
    pub const HI: f32 = 88.3;
    pub const LOG2E: f32 = std::f32::consts::LOG2_E;
    pub const C1: f32 = 0.693_359_4;
    pub const C2: f32 = -2.121_944_4e-4;
    pub const ROUND: f32 = 12_582_912.0;
    pub const P0: f32 = 1.987_569_1e-4;
    pub const P: [f32; 5] = [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5];
}

/// `e^x` for f32, Cephes-style: range reduction by `ln 2`, a degree-6
/// polynomial, and the exponent set through the bit pattern. Relative error
/// is about 2e-7 over the whole range; inputs are clamped to `[-87.3, 88.3]`,
/// so the result is always finite and positive.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    use exp_consts::*;
    let x = x.clamp(LO, HI);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * C1 - n * C2;
    let r2 = r * r;
    let mut p = P0;
    for c in P {
        p = p * r + c;
    }
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

/// Index of the largest value (the first on ties): every learner's hard
/// choice among logits or probabilities.
pub fn argmax(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best
}

/// Defines `fn $name(cpu: Cpu, args)` that runs `$generic` compiled for
/// `cpu`'s instruction set.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $generic:ident) => {
        $(#[$m])*
        $vis fn $name(cpu: $crate::kernels::Cpu, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                // The feature lists are `Isa::features`.
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn avx512($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                match cpu.isa() {
                    // SAFETY: a `Cpu` holds only an instruction set whose
                    // features were detected (`Cpu::new`).
                    $crate::kernels::Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::kernels::Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::kernels::Isa::Portable => {}
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            let _ = cpu;
            $generic($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// The LSTM cell of one row. `gates` (`4 * hidden`, order i, f, g, o)
/// holds the pre-activations on entry and the activations on exit;
/// `c_prev` is the previous cell state (`None`: zeros); writes the new
/// cell state `c`, `tanh(c)` into `tc`, and the output `h`.
///
/// On AVX2 and AVX-512 it runs hand-vectorised code ([`simd`]): the
/// compiler's vectorisation of the plain loops ran 2-3x slower. Every path
/// computes the same operations in the same order, so the bits are the same.
pub fn cell_forward(cpu: Cpu, gates: &mut [f32], c_prev: Option<&[f32]>, c: &mut [f32], tc: &mut [f32], h: &mut [f32]) {
    let n = c.len();
    assert!(gates.len() >= 4 * n && tc.len() >= n && h.len() >= n && c_prev.is_none_or(|p| p.len() >= n), "cell_forward: short buffers");
    // SAFETY: the lengths were checked above; a `Cpu` holds only a detected
    // instruction set, so its path's features are there.
    #[cfg(target_arch = "x86_64")]
    let done = unsafe {
        let (g, cp) = (gates.as_mut_ptr(), c_prev.map(<[f32]>::as_ptr));
        match cpu.isa() {
            Isa::Avx512 => simd::cell_forward_avx512(n, g, cp, c.as_mut_ptr(), tc.as_mut_ptr(), h.as_mut_ptr()),
            Isa::Avx2 => simd::cell_forward_avx2(n, g, cp, c.as_mut_ptr(), tc.as_mut_ptr(), h.as_mut_ptr()),
            Isa::Portable => 0,
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = {
        let _ = cpu;
        0
    };
    // The units the vectors did not cover (all of them on the portable path).
    cell_forward_generic(done, gates, c_prev, c, tc, h);
}

/// [`cell_forward`] as plain loops over units `from..`: the whole row on the
/// portable path (the compiler vectorises them for the target's baseline,
/// SSE2 or NEON), the tail the vectors left otherwise.
fn cell_forward_generic(from: usize, gates: &mut [f32], c_prev: Option<&[f32]>, c: &mut [f32], tc: &mut [f32], h: &mut [f32]) {
    let n = c.len();
    let (gi, rest) = gates.split_at_mut(n);
    let (gf, rest) = rest.split_at_mut(n);
    let (gg, go) = rest.split_at_mut(n);
    let (gi, gf, gg, go, tc, h) = (&mut gi[..n], &mut gf[..n], &mut gg[..n], &mut go[..n], &mut tc[..n], &mut h[..n]);
    for j in from..n {
        gi[j] = sigmoid(gi[j]);
        gf[j] = sigmoid(gf[j]);
        gg[j] = tanh(gg[j]);
        go[j] = sigmoid(go[j]);
    }
    match c_prev {
        Some(cp) => {
            let cp = &cp[..n];
            for j in from..n {
                c[j] = gf[j] * cp[j] + gi[j] * gg[j];
            }
        }
        None => {
            for j in from..n {
                c[j] = gi[j] * gg[j];
            }
        }
    }
    for j in from..n {
        let t = tanh(c[j]);
        tc[j] = t;
        h[j] = go[j] * t;
    }
}

/// Hand-vectorised kernels, written once over [`simd::Lanes`] and compiled
/// for AVX2 (8 lanes) and AVX-512 (16 lanes). They follow [`exp`],
/// [`sigmoid`] and [`tanh`] operation for operation (separate multiplies and
/// adds, never fused, as the scalar code compiles).
#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// The vector operations the kernels need.
    pub trait Lanes: Copy {
        const N: usize;
        unsafe fn splat(x: f32) -> Self;
        unsafe fn load(p: *const f32) -> Self;
        unsafe fn store(self, p: *mut f32);
        unsafe fn add(self, o: Self) -> Self;
        unsafe fn sub(self, o: Self) -> Self;
        unsafe fn mul(self, o: Self) -> Self;
        unsafe fn div(self, o: Self) -> Self;
        unsafe fn min(self, o: Self) -> Self;
        unsafe fn max(self, o: Self) -> Self;
        unsafe fn neg(self) -> Self;
        /// `2^n` for lanes holding integers `n` in `-126..=127`.
        unsafe fn pow2(self) -> Self;
    }

    macro_rules! lanes {
        ($t:ty, $n:expr, $set1:ident, $load:ident, $store:ident, $add:ident, $sub:ident, $mul:ident, $div:ident, $min:ident, $max:ident, $cvt:ident, $addi:ident, $slli:ident, $set1i:ident, $xor:ident, $to_ps:ident, $to_si:ident) => {
            impl Lanes for $t {
                const N: usize = $n;
                #[inline(always)]
                unsafe fn splat(x: f32) -> Self {
                    $set1(x)
                }
                #[inline(always)]
                unsafe fn load(p: *const f32) -> Self {
                    $load(p)
                }
                #[inline(always)]
                unsafe fn store(self, p: *mut f32) {
                    $store(p, self)
                }
                #[inline(always)]
                unsafe fn add(self, o: Self) -> Self {
                    $add(self, o)
                }
                #[inline(always)]
                unsafe fn sub(self, o: Self) -> Self {
                    $sub(self, o)
                }
                #[inline(always)]
                unsafe fn mul(self, o: Self) -> Self {
                    $mul(self, o)
                }
                #[inline(always)]
                unsafe fn div(self, o: Self) -> Self {
                    $div(self, o)
                }
                #[inline(always)]
                unsafe fn min(self, o: Self) -> Self {
                    $min(self, o)
                }
                #[inline(always)]
                unsafe fn max(self, o: Self) -> Self {
                    $max(self, o)
                }
                #[inline(always)]
                unsafe fn neg(self) -> Self {
                    $to_ps($xor($to_si(self), $set1i(i32::MIN)))
                }
                #[inline(always)]
                unsafe fn pow2(self) -> Self {
                    $to_ps($slli::<23>($addi($cvt(self), $set1i(127))))
                }
            }
        };
    }

    lanes!(__m512, 16, _mm512_set1_ps, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps, _mm512_min_ps, _mm512_max_ps, _mm512_cvttps_epi32, _mm512_add_epi32, _mm512_slli_epi32, _mm512_set1_epi32, _mm512_xor_si512, _mm512_castsi512_ps, _mm512_castps_si512);
    lanes!(__m256, 8, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps, _mm256_min_ps, _mm256_max_ps, _mm256_cvttps_epi32, _mm256_add_epi32, _mm256_slli_epi32, _mm256_set1_epi32, _mm256_xor_si256, _mm256_castsi256_ps, _mm256_castps_si256);

    /// [`super::exp`], lane by lane, from the same constants.
    #[inline(always)]
    unsafe fn exp<V: Lanes>(x: V) -> V {
        use super::exp_consts::*;
        let s = |c: f32| V::splat(c);
        let x = x.max(s(LO)).min(s(HI));
        let round = s(ROUND);
        let n = x.mul(s(LOG2E)).add(round).sub(round);
        let r = x.sub(n.mul(s(C1))).sub(n.mul(s(C2)));
        let r2 = r.mul(r);
        let mut p = s(P0);
        for c in P {
            p = p.mul(r).add(s(c));
        }
        p.mul(r2).add(r).add(s(1.0)).mul(n.pow2())
    }

    #[inline(always)]
    unsafe fn sigmoid<V: Lanes>(x: V) -> V {
        let one = V::splat(1.0);
        one.div(one.add(exp(x.neg())))
    }

    #[inline(always)]
    unsafe fn tanh<V: Lanes>(x: V) -> V {
        let one = V::splat(1.0);
        one.sub(V::splat(2.0).div(exp(V::splat(2.0).mul(x)).add(one)))
    }

    /// [`super::cell_forward`] over the first `n / V::N * V::N` units;
    /// returns how many it did.
    #[inline(always)]
    unsafe fn cell_forward<V: Lanes>(n: usize, g: *mut f32, cp: Option<*const f32>, c: *mut f32, tc: *mut f32, h: *mut f32) -> usize {
        let end = n / V::N * V::N;
        for j in (0..end).step_by(V::N) {
            let (pi, pf, pg, po) = (g.add(j), g.add(n + j), g.add(2 * n + j), g.add(3 * n + j));
            let (i, f, gg, o) = (sigmoid(V::load(pi)), sigmoid(V::load(pf)), tanh(V::load(pg)), sigmoid(V::load(po)));
            i.store(pi);
            f.store(pf);
            gg.store(pg);
            o.store(po);
            let ig = i.mul(gg);
            let cj = match cp {
                Some(cp) => f.mul(V::load(cp.add(j))).add(ig),
                None => ig,
            };
            cj.store(c.add(j));
            let t = tanh(cj);
            t.store(tc.add(j));
            o.mul(t).store(h.add(j));
        }
        end
    }

    /// # Safety
    /// AVX-512F; `g` addresses `4 n` floats, the others `n`.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn cell_forward_avx512(n: usize, g: *mut f32, cp: Option<*const f32>, c: *mut f32, tc: *mut f32, h: *mut f32) -> usize {
        cell_forward::<__m512>(n, g, cp, c, tc, h)
    }

    /// # Safety
    /// AVX2; `g` addresses `4 n` floats, the others `n`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn cell_forward_avx2(n: usize, g: *mut f32, cp: Option<*const f32>, c: *mut f32, tc: *mut f32, h: *mut f32) -> usize {
        cell_forward::<__m256>(n, g, cp, c, tc, h)
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

/// A raw pointer that may cross threads. Used where worker threads write
/// disjoint rows of one output buffer; each use states why the rows are
/// disjoint.
#[derive(Clone, Copy)]
pub struct SendPtr(pub *mut f32);
// SAFETY: only used for disjoint writes (see the uses).
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// The pointer. A closure that calls this captures the whole `SendPtr`
    /// (a closure naming `.0` would capture the bare pointer, which may not
    /// cross threads).
    pub fn get(self) -> *mut f32 {
        self.0
    }
}

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
    fn detection_checks_every_feature_a_path_enables() {
        #[cfg(target_arch = "x86_64")]
        {
            let (f512, avx2, fma) = (std::is_x86_feature_detected!("avx512f"), std::is_x86_feature_detected!("avx2"), std::is_x86_feature_detected!("fma"));
            assert_eq!(Cpu::new(Isa::Avx2).is_ok(), avx2 && fma);
            assert_eq!(Cpu::new(Isa::Avx512).is_ok(), f512 && avx2 && fma);
        }
        assert_eq!(Cpu::all()[0], Cpu::portable());
        assert_eq!(Cpu::best(), *Cpu::all().last().unwrap());
        for cpu in Cpu::all() {
            assert_eq!(Cpu::new(cpu.isa()), Ok(cpu));
        }
    }

    #[test]
    fn isa_names_parse_and_unknown_ones_are_refused() {
        for isa in Isa::ALL {
            assert_eq!(isa.name().parse::<Isa>(), Ok(isa));
        }
        let e = "avx-512".parse::<Isa>().unwrap_err();
        assert_eq!(e.to_string(), "unknown instruction set `avx-512` (expected portable, avx2 or avx512)");
        if let Err(e) = Cpu::new(Isa::Avx512) {
            assert!(e.to_string().starts_with("this cpu lacks avx512 (avx512f, avx2, fma); it supports portable"), "{e}");
        }
    }

    /// Random `(gates, c_prev, dh, dc)` for `n` hidden units.
    fn cell_inputs(n: usize, seed: u32) -> [Vec<f32>; 4] {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        let mut next = |scale: f32| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32 * 2.0 - 1.0) * scale
        };
        [(0..4 * n).map(|_| next(6.0)).collect(), (0..n).map(|_| next(2.0)).collect(), (0..n).map(|_| next(1.0)).collect(), (0..n).map(|_| next(1.0)).collect()]
    }

    /// The LSTM cell forward and backward give the same bits on every path
    /// this CPU has as on the portable one, odd widths (vector tails) and
    /// a missing previous state included.
    #[test]
    fn cell_kernels_agree_bit_for_bit_on_every_path() {
        let run = |cpu: Cpu, n: usize, seed: u32, first: bool| {
            let [mut gates, c_prev, dh, mut dc] = cell_inputs(n, seed);
            let c_prev = (!first).then_some(c_prev.as_slice());
            let (mut c, mut tc, mut h) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
            cell_forward(cpu, &mut gates, c_prev, &mut c, &mut tc, &mut h);
            let mut dgates = vec![0f32; 4 * n];
            cell_backward(cpu, &gates, c_prev, &tc, &dh, &mut dc, &mut dgates);
            [gates, c, tc, h, dc, dgates].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>())
        };
        for (n, seed) in [(1, 1), (7, 2), (16, 3), (37, 4), (256, 5), (259, 6)] {
            for first in [false, true] {
                let want = run(Cpu::portable(), n, seed, first);
                for cpu in Cpu::all() {
                    assert_eq!(run(cpu, n, seed, first), want, "{:?}, {n} units", cpu.isa());
                }
            }
        }
    }
}

// ---- vector helpers, written so that they vectorise ----

/// `y += w x`.
#[inline(always)]
pub fn axpy(w: f32, x: &[f32], y: &mut [f32]) {
    let n = y.len();
    for (yi, xi) in y.iter_mut().zip(&x[..n]) {
        *yi += w * xi;
    }
}

/// `y += x`.
#[inline(always)]
pub fn add_into(y: &mut [f32], x: &[f32]) {
    let n = y.len();
    for (yi, xi) in y.iter_mut().zip(&x[..n]) {
        *yi += xi;
    }
}

/// The dot product, in eight lanes so that it vectorises.
#[inline(always)]
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0f32; 8];
    let mut cx = x.chunks_exact(8);
    let mut cy = y.chunks_exact(8);
    for (a, b) in cx.by_ref().zip(cy.by_ref()) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let tail: f32 = cx.remainder().iter().zip(cy.remainder()).map(|(a, b)| a * b).sum();
    acc.iter().sum::<f32>() + tail
}
