//! The NRAM's modules (the paper's gates): their names and arities, their
//! integer functions (for the discrete machine), and their fuzzy versions
//! over distributions with hand-written backward passes.
//!
//! A fuzzy module maps the distributions of its inputs `A`, `B` over `0..M`
//! to the distribution of its integer function applied to independent
//! draws: `P(m(A,B) = c) = sum over a, b with m(a,b) = c of P(A=a) P(B=b)`,
//! arithmetic modulo `M`. Each is computed in its cheapest form: shifts for
//! `inc`/`dec`, cyclic convolution and correlation (O(M^2)) for `add`/`sub`,
//! running prefix and suffix sums (O(M)) for the comparisons, `min` and
//! `max`. `read` and `write` touch the memory, so the circuit
//! ([`super::fuzzy`]) runs them; their integer versions are here.
//!
//! Every backward *adds* into the input gradients, so that a caller can
//! accumulate.

use serde::{Deserialize, Serialize};

/// One module of the circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// `mem[a]`.
    Read,
    Zero,
    One,
    Two,
    /// `a + 1 mod M`.
    Inc,
    /// `a + b mod M`.
    Add,
    /// `a - b mod M`.
    Sub,
    /// `a - 1 mod M`.
    Dec,
    /// `a < b` as 0/1.
    Lt,
    /// `a <= b` as 0/1.
    Le,
    /// `a == b` as 0/1.
    Eq,
    Min,
    Max,
    /// `mem[a] := b`; returns `b`.
    Write,
}

impl Module {
    /// The paper's fourteen, in the paper's order: the default module list.
    pub const PAPER: [Module; 14] = [
        Module::Read,
        Module::Zero,
        Module::One,
        Module::Two,
        Module::Inc,
        Module::Add,
        Module::Sub,
        Module::Dec,
        Module::Lt,
        Module::Le,
        Module::Eq,
        Module::Min,
        Module::Max,
        Module::Write,
    ];

    /// The name a `modules [..]` setting uses: `read`, `inc`, ...
    pub fn name(self) -> &'static str {
        match self {
            Module::Read => "read",
            Module::Zero => "zero",
            Module::One => "one",
            Module::Two => "two",
            Module::Inc => "inc",
            Module::Add => "add",
            Module::Sub => "sub",
            Module::Dec => "dec",
            Module::Lt => "lt",
            Module::Le => "le",
            Module::Eq => "eq",
            Module::Min => "min",
            Module::Max => "max",
            Module::Write => "write",
        }
    }

    /// The module called `name`, if any.
    pub fn from_name(name: &str) -> Option<Module> {
        Module::PAPER.into_iter().find(|m| m.name() == name)
    }

    /// Inputs taken: 0, 1 or 2.
    pub fn arity(self) -> usize {
        match self {
            Module::Zero | Module::One | Module::Two => 0,
            Module::Read | Module::Inc | Module::Dec => 1,
            _ => 2,
        }
    }

    /// The integer function on `a, b` in `0..m` (`m >= 1`), for every module
    /// but `read` and `write` (which need the memory; see
    /// [`super::discrete`]). Unused inputs are ignored.
    pub fn apply(self, a: u32, b: u32, m: u32) -> u32 {
        let (a, b, m) = (a as u64, b as u64, m as u64);
        let r = match self {
            Module::Zero => 0,
            Module::One => 1,
            Module::Two => 2,
            Module::Inc => a + 1,
            Module::Dec => a + m - 1,
            Module::Add => a + b,
            Module::Sub => a + m - b,
            Module::Lt => (a < b) as u64,
            Module::Le => (a <= b) as u64,
            Module::Eq => (a == b) as u64,
            Module::Min => a.min(b),
            Module::Max => a.max(b),
            Module::Read | Module::Write => 0,
        };
        (r % m) as u32
    }

    /// The fuzzy module: writes the output distribution `out` (`M` values)
    /// from the input distributions `a`, `b` (each `M` values; ignored when
    /// the arity does not take them). `read` and `write` are not pure
    /// functions of their inputs: for them `out` is left alone.
    #[inline(always)]
    pub fn forward(self, a: &[f32], b: &[f32], out: &mut [f32]) {
        let m = out.len();
        match self {
            Module::Zero | Module::One | Module::Two => {
                out.fill(0.0);
                let k = match self {
                    Module::Zero => 0,
                    Module::One => 1,
                    _ => 2,
                };
                out[k % m] = 1.0;
            }
            Module::Inc => {
                out[1..].copy_from_slice(&a[..m - 1]);
                out[0] = a[m - 1];
            }
            Module::Dec => {
                out[..m - 1].copy_from_slice(&a[1..]);
                out[m - 1] = a[0];
            }
            Module::Add => {
                // out[(x + y) % m] += a[x] b[y]
                out.fill(0.0);
                for (x, &w) in a[..m].iter().enumerate() {
                    if w == 0.0 {
                        continue;
                    }
                    axpy(w, &b[..m - x], &mut out[x..]);
                    axpy(w, &b[m - x..m], &mut out[..x]);
                }
            }
            Module::Sub => {
                // out[(x - y) % m] += a[x] b[y]
                out.fill(0.0);
                for (y, &w) in b[..m].iter().enumerate() {
                    if w == 0.0 {
                        continue;
                    }
                    axpy(w, &a[y..m], &mut out[..m - y]);
                    axpy(w, &a[..y], &mut out[m - y..]);
                }
            }
            Module::Lt | Module::Le | Module::Eq => {
                // out[1] = P(true), out[0] = the mass of the other pairs
                // (1 - P(true) for distributions, written as the sum over
                // pairs so that the backward is that sum's exact gradient).
                let p = self.truth(a, b);
                let total = a[..m].iter().sum::<f32>() * b[..m].iter().sum::<f32>();
                out.fill(0.0);
                out[0] += total - p;
                out[1 % m] += p;
            }
            Module::Min => {
                // P(min = c) = a[c] P(B >= c) + b[c] P(A > c)
                let (mut sb, mut sa) = (0.0f32, 0.0f32);
                for c in (0..m).rev() {
                    sb += b[c];
                    out[c] = a[c] * sb + b[c] * sa;
                    sa += a[c];
                }
            }
            Module::Max => {
                // P(max = c) = a[c] P(B <= c) + b[c] P(A < c)
                let (mut pb, mut pa) = (0.0f32, 0.0f32);
                for c in 0..m {
                    pb += b[c];
                    out[c] = a[c] * pb + b[c] * pa;
                    pa += a[c];
                }
            }
            Module::Read | Module::Write => {}
        }
    }

    /// `P(a < b)`, `P(a <= b)` or `P(a == b)`.
    #[inline(always)]
    fn truth(self, a: &[f32], b: &[f32]) -> f32 {
        let m = a.len();
        let mut p = 0.0f32;
        match self {
            Module::Lt => {
                let mut below = 0.0f32;
                for y in 0..m {
                    p += b[y] * below;
                    below += a[y];
                }
            }
            Module::Le => {
                let mut upto = 0.0f32;
                for y in 0..m {
                    upto += a[y];
                    p += b[y] * upto;
                }
            }
            _ => p = dot(&a[..m], &b[..m]),
        }
        p
    }

    /// Backward of [`Module::forward`]: adds the gradients of `a` and `b`
    /// given the gradient `dout` of the output. Not for `read` and `write`.
    #[inline(always)]
    pub fn backward(self, a: &[f32], b: &[f32], dout: &[f32], da: &mut [f32], db: &mut [f32]) {
        let m = dout.len();
        match self {
            Module::Zero | Module::One | Module::Two | Module::Read | Module::Write => {}
            Module::Inc => {
                add_into(&mut da[..m - 1], &dout[1..]);
                da[m - 1] += dout[0];
            }
            Module::Dec => {
                add_into(&mut da[1..], &dout[..m - 1]);
                da[0] += dout[m - 1];
            }
            Module::Add => {
                for x in 0..m {
                    // da[x] = sum_y dout[(x + y) % m] b[y]
                    da[x] += dot(&dout[x..], &b[..m - x]) + dot(&dout[..x], &b[m - x..m]);
                    let w = a[x];
                    if w != 0.0 {
                        // db[y] += a[x] dout[(x + y) % m]
                        axpy(w, &dout[x..], &mut db[..m - x]);
                        axpy(w, &dout[..x], &mut db[m - x..m]);
                    }
                }
            }
            Module::Sub => {
                for y in 0..m {
                    // db[y] = sum_x a[x] dout[(x - y) % m]
                    db[y] += dot(&a[y..m], &dout[..m - y]) + dot(&a[..y], &dout[m - y..]);
                    let w = b[y];
                    if w != 0.0 {
                        // da[x] += b[y] dout[(x - y) % m]
                        axpy(w, &dout[..m - y], &mut da[y..m]);
                        axpy(w, &dout[m - y..], &mut da[..y]);
                    }
                }
            }
            Module::Lt | Module::Le | Module::Eq => {
                // out[1] = p, out[0] = sum(a) sum(b) - p (the same cell when
                // m = 1).
                let dp = dout[1 % m] - dout[0];
                let (sa, sb) = (a[..m].iter().sum::<f32>(), b[..m].iter().sum::<f32>());
                let (ca, cb) = (dout[0] * sb, dout[0] * sa);
                da[..m].iter_mut().for_each(|x| *x += ca);
                db[..m].iter_mut().for_each(|x| *x += cb);
                match self {
                    Module::Lt => {
                        // p = sum_y b[y] sum_{x<y} a[x]
                        let mut below = 0.0f32;
                        for y in 0..m {
                            db[y] += dp * below;
                            below += a[y];
                        }
                        let mut above = 0.0f32;
                        for x in (0..m).rev() {
                            da[x] += dp * above;
                            above += b[x];
                        }
                    }
                    Module::Le => {
                        let mut upto = 0.0f32;
                        for y in 0..m {
                            upto += a[y];
                            db[y] += dp * upto;
                        }
                        let mut from = 0.0f32;
                        for x in (0..m).rev() {
                            from += b[x];
                            da[x] += dp * from;
                        }
                    }
                    _ => {
                        axpy(dp, &b[..m], &mut da[..m]);
                        axpy(dp, &a[..m], &mut db[..m]);
                    }
                }
            }
            Module::Min => {
                // out[c] = a[c] SB(>=c) + b[c] SA(>c)
                let (mut sb, mut sa) = (0.0f32, 0.0f32);
                for c in (0..m).rev() {
                    sb += b[c];
                    da[c] += dout[c] * sb;
                    db[c] += dout[c] * sa;
                    sa += a[c];
                }
                // da[x] += sum_{c<x} dout[c] b[c]; db[y] += sum_{c<=y} dout[c] a[c]
                let (mut pb, mut pa) = (0.0f32, 0.0f32);
                for x in 0..m {
                    da[x] += pb;
                    pb += dout[x] * b[x];
                    pa += dout[x] * a[x];
                    db[x] += pa;
                }
            }
            Module::Max => {
                // out[c] = a[c] PB(<=c) + b[c] PA(<c)
                let (mut pb, mut pa) = (0.0f32, 0.0f32);
                for c in 0..m {
                    pb += b[c];
                    da[c] += dout[c] * pb;
                    db[c] += dout[c] * pa;
                    pa += a[c];
                }
                // da[x] += sum_{c>x} dout[c] b[c]; db[y] += sum_{c>=y} dout[c] a[c]
                let (mut sb, mut sa) = (0.0f32, 0.0f32);
                for x in (0..m).rev() {
                    da[x] += sb;
                    sb += dout[x] * b[x];
                    sa += dout[x] * a[x];
                    db[x] += sa;
                }
            }
        }
    }
}

// The vector helpers the fuzzy machine and the controller use.
pub(crate) use crate::kernels::{add_into, axpy, dot};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn dist(rng: &mut impl Rng, m: usize) -> Vec<f32> {
        let v: Vec<f32> = (0..m).map(|_| rng.random::<f32>() + 0.01).collect();
        let s: f32 = v.iter().sum();
        v.iter().map(|x| x / s).collect()
    }

    /// Every fuzzy module equals the defining sum over `(a, b)` pairs of its
    /// integer function, and its backward equals the gradient of that sum.
    #[test]
    fn fuzzy_modules_are_the_defining_sums() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for m in [1usize, 2, 3, 5, 8, 13] {
            for module in Module::PAPER {
                if matches!(module, Module::Read | Module::Write) {
                    continue;
                }
                let (a, b, dout) = (dist(&mut rng, m), dist(&mut rng, m), (0..m).map(|_| rng.random::<f32>() - 0.5).collect::<Vec<f32>>());
                let pairs: Vec<(usize, usize)> = match module.arity() {
                    0 => vec![(0, 0)],
                    1 => (0..m).map(|x| (x, 0)).collect(),
                    _ => (0..m).flat_map(|x| (0..m).map(move |y| (x, y))).collect(),
                };
                let weight = |x: usize, y: usize| -> f32 {
                    match module.arity() {
                        0 => 1.0,
                        1 => a[x],
                        _ => a[x] * b[y],
                    }
                };
                let mut want = vec![0f32; m];
                let (mut want_da, mut want_db) = (vec![0f32; m], vec![0f32; m]);
                for &(x, y) in &pairs {
                    let c = module.apply(x as u32, y as u32, m as u32) as usize;
                    want[c] += weight(x, y);
                    match module.arity() {
                        1 => want_da[x] += dout[c],
                        2 => {
                            want_da[x] += dout[c] * b[y];
                            want_db[y] += dout[c] * a[x];
                        }
                        _ => {}
                    }
                }
                let mut out = vec![f32::NAN; m];
                module.forward(&a, &b, &mut out);
                let (mut da, mut db) = (vec![0f32; m], vec![0f32; m]);
                module.backward(&a, &b, &dout, &mut da, &mut db);
                for (got, want, what) in [(&out, &want, "out"), (&da, &want_da, "da"), (&db, &want_db, "db")] {
                    for (g, w) in got.iter().zip(want.iter()) {
                        assert!((g - w).abs() < 1e-5, "{module:?} m={m} {what}: {got:?} vs {want:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn names_round_trip_and_integer_functions_wrap() {
        for m in Module::PAPER {
            assert_eq!(Module::from_name(m.name()), Some(m));
        }
        assert_eq!(Module::from_name("mul"), None);
        assert_eq!(Module::Dec.apply(0, 0, 5), 4);
        assert_eq!(Module::Sub.apply(1, 3, 5), 3);
        assert_eq!(Module::Add.apply(4, 3, 5), 2);
        assert_eq!(Module::Two.apply(0, 0, 2), 0);
        assert_eq!(Module::Lt.apply(3, 4, 1000), 1);
    }
}
