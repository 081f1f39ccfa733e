//! Adam with global gradient-norm clipping: [`Adam`] updates candle
//! variables in place, [`FlatAdam`] one flat parameter slice; both run the
//! same per-element update ([`update`]).
//!
//! Why not `candle_nn::AdamW`: it has no clipping, and it runs about 14
//! tensor ops (each allocating) per parameter per step. This one keeps its
//! moments as plain vectors and updates every variable with one in-place
//! pass. Variables are visited sorted by name, so runs are deterministic.

use crate::kernels::Cpu;
use crate::params::sorted_vars;
use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp2, Layout, Var};
use candle_nn::VarMap;
use std::cell::RefCell;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Adam's state for every variable of a `VarMap`.
pub struct Adam {
    vars: Vec<(String, Var)>,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    step: u64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// The instruction set of the update kernel (the same bits on every
    /// path; see [`crate::kernels`]).
    pub cpu: Cpu,
}

impl Adam {
    pub fn new(varmap: &VarMap) -> Adam {
        let vars = sorted_vars(varmap);
        let m = vars.iter().map(|(_, v)| vec![0f32; v.elem_count()]).collect();
        let v = vars.iter().map(|(_, v)| vec![0f32; v.elem_count()]).collect();
        Adam { vars, m, v, step: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, cpu: Cpu::default() }
    }

    /// The moments and step count as safetensors bytes: `m.<var>` and
    /// `v.<var>` for every variable, the step in the header's metadata.
    pub fn state_to_safetensors(&self) -> candle_core::Result<Vec<u8>> {
        let dev = candle_core::Device::Cpu;
        let mut tensors = Vec::with_capacity(2 * self.vars.len());
        for (i, (name, var)) in self.vars.iter().enumerate() {
            tensors.push((format!("m.{name}"), candle_core::Tensor::from_slice(&self.m[i], var.shape(), &dev)?));
            tensors.push((format!("v.{name}"), candle_core::Tensor::from_slice(&self.v[i], var.shape(), &dev)?));
        }
        let views: Vec<(&str, &candle_core::Tensor)> = tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
        let meta = std::collections::HashMap::from([("step".to_string(), self.step.to_string())]);
        safetensors::tensor::serialize(views, Some(meta)).map_err(|e| candle_core::Error::Msg(e.to_string()))
    }

    /// Restores what [`Adam::state_to_safetensors`] wrote, for the same
    /// variables; refuses bytes whose names or sizes differ.
    pub fn load_state(&mut self, bytes: &[u8]) -> candle_core::Result<()> {
        let err = candle_core::Error::Msg;
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| err(e.to_string()))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| err(e.to_string()))?;
        let step: u64 = header.metadata().as_ref().and_then(|m| m.get("step")).and_then(|s| s.parse().ok()).ok_or_else(|| err("no step count".into()))?;
        if st.len() != 2 * self.vars.len() {
            return Err(err(format!("{} tensors for {} variables", st.len(), self.vars.len())));
        }
        let read = |name: &str, len: usize| -> candle_core::Result<Vec<f32>> {
            let t = st.tensor(name).map_err(|_| err(format!("no `{name}`")))?;
            if t.dtype() != safetensors::Dtype::F32 || t.data().len() != 4 * len {
                return Err(err(format!("`{name}` has the wrong type or size")));
            }
            let values: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            // Corrupt bytes read as NaN, or as a negative second moment
            // whose square root is NaN: either would poison every weight
            // at the first step.
            let bad = if name.starts_with("v.") { values.iter().find(|x| !(x.is_finite() && **x >= 0.0)) } else { values.iter().find(|x| !x.is_finite()) };
            if let Some(x) = bad {
                return Err(err(format!("`{name}` holds {x}")));
            }
            Ok(values)
        };
        let mut m = Vec::with_capacity(self.vars.len());
        let mut v = Vec::with_capacity(self.vars.len());
        for (name, var) in &self.vars {
            m.push(read(&format!("m.{name}"), var.elem_count())?);
            v.push(read(&format!("v.{name}"), var.elem_count())?);
        }
        (self.m, self.v, self.step) = (m, v, step);
        Ok(())
    }

    /// Parameters above which [`Adam::step`] uses several threads.
    pub const PARALLEL: usize = 4_000_000;

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The global L2 norm of the gradients of the variables.
    pub fn grad_norm(&self, grads: &GradStore) -> candle_core::Result<f64> {
        let mut total = 0f64;
        for (_, var) in &self.vars {
            total += sum_squares(grads, var)?;
        }
        Ok(total.sqrt())
    }

    /// One update with learning rate `lr`, after scaling the gradients so
    /// that their global norm is at most `clip` (0: no clipping). Returns the
    /// norm before clipping. Variables without a gradient are left alone.
    /// Models of more than [`Adam::PARALLEL`] parameters are split over
    /// `threads` threads (the update is memory-bound; below that size a
    /// second thread costs more than it saves); the result does not depend
    /// on the split.
    pub fn step(&mut self, grads: &GradStore, lr: f64, clip: f64, threads: usize) -> candle_core::Result<f64> {
        let params: usize = self.m.iter().map(|m| m.len()).sum();
        self.step_split(grads, lr, clip, if params > Self::PARALLEL { threads.max(1) } else { 1 })
    }

    fn step_split(&mut self, grads: &GradStore, lr: f64, clip: f64, threads: usize) -> candle_core::Result<f64> {
        let groups = self.groups(threads);
        // Per-variable sums of squares in parallel, added up in order.
        let sums: Vec<candle_core::Result<Vec<f64>>> = run_groups(&groups, |range| range.map(|i| sum_squares(grads, &self.vars[i].1)).collect());
        let mut total = 0f64;
        for s in sums {
            total += s?.iter().sum::<f64>();
        }
        let norm = total.sqrt();
        if !norm.is_finite() {
            // A step on a non-finite gradient would poison every weight.
            return Ok(norm);
        }
        let scale = if clip > 0.0 && norm > clip { clip / norm } else { 1.0 };
        self.step += 1;
        let hyper = AdamStep::new(self.beta1, self.beta2, self.eps, lr, self.step, scale);
        let (vars, cpu) = (&self.vars, self.cpu);
        // Hand each group its own moments.
        let mut moments: Vec<(&mut Vec<f32>, &mut Vec<f32>)> = self.m.iter_mut().zip(self.v.iter_mut()).collect();
        let mut per_group: Vec<Vec<Moments>> = Vec::new();
        let mut rest = moments.drain(..).enumerate();
        for g in &groups {
            per_group.push(rest.by_ref().take(g.len()).map(|(i, (m, v))| (i, m, v)).collect());
        }
        let work = |group: Vec<Moments>| -> candle_core::Result<()> {
            for (i, m, v) in group {
                let var = &vars[i].1;
                let Some(g) = grads.get(var) else { continue };
                let g = g.contiguous()?;
                let op = Update { cpu, m: RefCell::new(m), v: RefCell::new(v), hyper };
                var.as_tensor().inplace_op2(&g, &op)?;
            }
            Ok(())
        };
        if per_group.len() == 1 {
            work(per_group.pop().unwrap())?;
        } else {
            let results: Vec<candle_core::Result<()>> = std::thread::scope(|s| {
                let handles: Vec<_> = per_group.into_iter().map(|g| s.spawn(|| work(g))).collect();
                handles.into_iter().map(|h| h.join().expect("adam worker panicked")).collect()
            });
            for r in results {
                r?;
            }
        }
        Ok(norm)
    }

    /// Consecutive ranges of variables with about equal element counts.
    fn groups(&self, threads: usize) -> Vec<std::ops::Range<usize>> {
        let total: usize = self.m.iter().map(|m| m.len()).sum();
        let per = total.div_ceil(threads).max(1);
        let mut out = Vec::new();
        let (mut start, mut acc) = (0, 0);
        for (i, m) in self.m.iter().enumerate() {
            acc += m.len();
            if acc >= per * (out.len() + 1) && out.len() + 1 < threads {
                out.push(start..i + 1);
                start = i + 1;
            }
        }
        out.push(start..self.m.len());
        out
    }
}

/// Adam over one flat slice of parameters (a model that keeps all its
/// parameters in one `Vec<f32>`), with the same update as [`Adam`].
#[derive(Clone, Debug, PartialEq)]
pub struct FlatAdam {
    m: Vec<f32>,
    v: Vec<f32>,
    step: u64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub cpu: Cpu,
}

impl FlatAdam {
    /// Fresh moments for `len` parameters.
    pub fn new(len: usize) -> FlatAdam {
        FlatAdam { m: vec![0.0; len], v: vec![0.0; len], step: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, cpu: Cpu::default() }
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The moments and the step count as safetensors bytes (`adam.m`,
    /// `adam.v`, and `adam.step` as one f32, exact below 2^24 steps): what a
    /// checkpoint keeps so that a resumed run goes on with them.
    pub fn state_to_safetensors(&self) -> Vec<u8> {
        let n = self.m.len();
        let step = [self.step as f32];
        // In-memory f32 slices of consistent shapes always serialise.
        crate::params::slices_to_safetensors(&[("adam.m", &[n], &self.m), ("adam.v", &[n], &self.v), ("adam.step", &[1], &step)]).expect("consistent shapes serialise")
    }

    /// Restores the state [`FlatAdam::state_to_safetensors`] saved; the
    /// error says why it does not fit this optimiser (another parameter
    /// count, a negative second moment, not safetensors).
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), String> {
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
        let n = self.m.len();
        let m = crate::params::read_f32(&st, "adam.m", &[n])?;
        let v = crate::params::read_f32(&st, "adam.v", &[n])?;
        let step = crate::params::read_f32(&st, "adam.step", &[1])?[0];
        if v.iter().any(|&x| x < 0.0) || step < 0.0 || step.fract() != 0.0 {
            return Err("the second moments or the step count are out of range".into());
        }
        (self.m, self.v, self.step) = (m, v, step as u64);
        Ok(())
    }

    /// One update of `w` with gradient `g` and learning rate `lr`, after
    /// scaling the gradient so that its L2 norm is at most `clip` (0: no
    /// clipping). Returns the norm before clipping; a non-finite gradient
    /// is skipped, as [`Adam::step`] does.
    ///
    /// # Panics
    /// If `w`, `g` and the moments differ in length (a programming error:
    /// the optimiser is made for its model).
    pub fn step(&mut self, w: &mut [f32], g: &[f32], lr: f64, clip: f64) -> f64 {
        assert!(w.len() == self.m.len() && g.len() == self.m.len(), "FlatAdam made for {} parameters, given {} and {}", self.m.len(), w.len(), g.len());
        let norm = sum_sq(g).sqrt();
        if !norm.is_finite() {
            return norm;
        }
        let scale = if clip > 0.0 && norm > clip { clip / norm } else { 1.0 };
        self.step += 1;
        let hyper = AdamStep::new(self.beta1, self.beta2, self.eps, lr, self.step, scale);
        update(self.cpu, w, g, &mut self.m, &mut self.v, hyper);
        norm
    }
}

fn sum_squares(grads: &GradStore, var: &Var) -> candle_core::Result<f64> {
    let Some(g) = grads.get(var) else { return Ok(0.0) };
    let g = g.contiguous()?;
    let (s, l) = g.storage_and_layout();
    let candle_core::Storage::Cpu(s) = &*s else { candle_core::bail!("adam: cpu only") };
    let (a, b) = l.contiguous_offsets().unwrap();
    let x = &s.as_slice::<f32>()?[a..b];
    Ok(sum_sq(x))
}

/// Adds `sd` times standard normal draws to every value of `g` (Marsaglia's
/// polar method: two draws per accepted pair, one log, no trigonometry).
pub fn add_noise(g: &mut [f32], sd: f64, rng: &mut ChaCha8Rng) {
    for pair in g.chunks_mut(2) {
        let (u, v, s) = loop {
            let u: f64 = rng.random::<f64>() * 2.0 - 1.0;
            let v: f64 = rng.random::<f64>() * 2.0 - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                break (u, v, s);
            }
        };
        let k = sd * (-2.0 * s.ln() / s).sqrt();
        pair[0] += (u * k) as f32;
        if let Some(x) = pair.get_mut(1) {
            *x += (v * k) as f32;
        }
    }
}

/// Sum of squares in f64, eight lanes so that it vectorises.
fn sum_sq(x: &[f32]) -> f64 {
    let mut acc = [0f64; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] += (c[k] as f64) * (c[k] as f64);
        }
    }
    acc.iter().sum::<f64>() + tail.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>()
}

/// Runs `f` on every group, in parallel when there are several, and returns
/// the results in group order.
fn run_groups<T: Send>(groups: &[std::ops::Range<usize>], f: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    if groups.len() == 1 {
        return vec![f(groups[0].clone())];
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = groups.iter().map(|g| {
            let f = &f;
            let g = g.clone();
            s.spawn(move || f(g))
        }).collect();
        handles.into_iter().map(|h| h.join().expect("adam worker panicked")).collect()
    })
}

/// A variable's index and its first and second moments.
type Moments<'a> = (usize, &'a mut Vec<f32>, &'a mut Vec<f32>);

struct Update<'a> {
    cpu: Cpu,
    m: RefCell<&'a mut Vec<f32>>,
    v: RefCell<&'a mut Vec<f32>>,
    hyper: AdamStep,
}

impl InplaceOp2 for Update<'_> {
    fn name(&self) -> &'static str {
        "adam-update"
    }

    fn cpu_fwd(&self, s1: &mut CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<()> {
        let (Some((a1, b1)), Some((a2, b2))) = (l1.contiguous_offsets(), l2.contiguous_offsets()) else {
            candle_core::bail!("adam: non-contiguous variable or gradient")
        };
        let CpuStorage::F32(w) = s1 else { candle_core::bail!("adam: f32 only") };
        let w = &mut w[a1..b1];
        let g = &s2.as_slice::<f32>()?[a2..b2];
        let mut m = self.m.borrow_mut();
        let mut v = self.v.borrow_mut();
        if w.len() != g.len() || w.len() != m.len() {
            candle_core::bail!("adam: size mismatch");
        }
        update(self.cpu, w, g, m.as_mut_slice(), v.as_mut_slice(), self.hyper);
        Ok(())
    }
}

/// The constants of one Adam step, in the precision the update runs in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// Factor applied to every gradient (global-norm clipping).
    pub scale: f32,
    pub beta1: f32,
    pub beta2: f32,
    /// `lr / (1 - beta1^t)`.
    pub step_size: f32,
    /// `sqrt(1 - beta2^t)`.
    pub c2_sqrt: f32,
    pub eps: f32,
}

impl AdamStep {
    /// Step `step` (counted from 1) with learning rate `lr` and gradient
    /// factor `scale`; the bias corrections are computed in f64.
    pub fn new(beta1: f64, beta2: f64, eps: f64, lr: f64, step: u64, scale: f64) -> AdamStep {
        let t = step.min(i32::MAX as u64) as i32;
        let c1 = 1.0 - beta1.powi(t);
        let c2 = 1.0 - beta2.powi(t);
        AdamStep { scale: scale as f32, beta1: beta1 as f32, beta2: beta2 as f32, step_size: (lr / c1) as f32, c2_sqrt: c2.sqrt() as f32, eps: eps as f32 }
    }
}

crate::kernels::multiversion! {
    /// Adam's update of parameters `w` with gradient `g` and moments `m`,
    /// `v` (all the same length), on `cpu`'s kernel path (the same bits on
    /// every path).
    pub fn update(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], hyper: AdamStep) => update_generic
}

#[inline(always)]
fn update_generic(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], hyper: AdamStep) {
    let AdamStep { scale, beta1: b1, beta2: b2, step_size, c2_sqrt, eps } = hyper;
    let n = w.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let gi = g[i] * scale;
        m[i] = b1 * m[i] + (1.0 - b1) * gi;
        v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
        w[i] -= step_size * m[i] / (v[i].sqrt() / c2_sqrt + eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// A saved state goes on where it stopped; a state of another length
    /// or garbage is refused.
    #[test]
    fn flat_adam_state_round_trips() {
        let (mut w, g) = (vec![0.5f32, -1.0, 2.0], vec![0.1f32, 0.2, -0.3]);
        let mut a = FlatAdam::new(3);
        a.step(&mut w, &g, 0.01, 0.0);
        a.step(&mut w, &g, 0.01, 0.0);
        let mut b = FlatAdam::new(3);
        b.load_state(&a.state_to_safetensors()).unwrap();
        assert_eq!(a, b);
        let (mut wa, mut wb) = (w.clone(), w.clone());
        a.step(&mut wa, &g, 0.01, 0.0);
        b.step(&mut wb, &g, 0.01, 0.0);
        assert_eq!(wa, wb);
        assert!(FlatAdam::new(4).load_state(&a.state_to_safetensors()).unwrap_err().contains("adam.m"));
        assert!(FlatAdam::new(3).load_state(b"not safetensors").is_err());
    }

    /// Two steps, save, restore into a fresh optimiser, one more step: the
    /// same weights as three steps without the round trip.
    #[test]
    fn state_round_trips() {
        let setup = || {
            let varmap = VarMap::new();
            let dev = Device::Cpu;
            let vs: Vec<Tensor> = (0..3).map(|i| varmap.get(4 + i, &format!("v{i}"), candle_nn::Init::Const(1.0 + i as f64), candle_core::DType::F32, &dev).unwrap()).collect();
            (varmap, vs)
        };
        let step = |opt: &mut Adam, vs: &[Tensor]| {
            let loss = vs.iter().map(|v| v.sqr().unwrap().sum_all().unwrap()).reduce(|a, b| (a + b).unwrap()).unwrap();
            opt.step(&loss.backward().unwrap(), 0.1, 0.0, 1).unwrap();
        };
        let (varmap, vs) = setup();
        let mut opt = Adam::new(&varmap);
        for _ in 0..3 {
            step(&mut opt, &vs);
        }
        let (varmap2, vs2) = setup();
        let mut opt2 = Adam::new(&varmap2);
        for _ in 0..2 {
            step(&mut opt2, &vs2);
        }
        let bytes = opt2.state_to_safetensors().unwrap();
        let mut opt3 = Adam::new(&varmap2);
        opt3.load_state(&bytes).unwrap();
        assert_eq!(opt3.steps(), 2);
        step(&mut opt3, &vs2);
        for (a, b) in vs.iter().zip(&vs2) {
            assert_eq!(a.to_vec1::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
        }
        // Another model's state is refused.
        let other = VarMap::new();
        other.get(3, "w", candle_nn::Init::Const(0.0), candle_core::DType::F32, &Device::Cpu).unwrap();
        assert!(Adam::new(&other).load_state(&bytes).is_err());
        assert!(Adam::new(&varmap2).load_state(b"not safetensors").is_err());
    }

    #[test]
    fn threads_do_not_change_the_update() {
        let run = |threads: usize| -> Vec<Vec<f32>> {
            let varmap = VarMap::new();
            let dev = Device::Cpu;
            let vs: Vec<Tensor> = (0..5).map(|i| varmap.get(10 + 7 * i, &format!("v{i}"), candle_nn::Init::Const(1.0 + i as f64), candle_core::DType::F32, &dev).unwrap()).collect();
            let mut opt = Adam::new(&varmap);
            assert_eq!(opt.groups(threads).len(), threads.min(5));
            for _ in 0..3 {
                let loss = vs.iter().map(|v| v.sqr().unwrap().sum_all().unwrap()).reduce(|a, b| (a + b).unwrap()).unwrap();
                opt.step_split(&loss.backward().unwrap(), 0.1, 5.0, threads).unwrap();
            }
            vs.iter().map(|v| v.to_vec1().unwrap()).collect()
        };
        assert_eq!(run(1), run(3));
    }

    /// The update kernel gives the same bits on every path this CPU has.
    #[test]
    fn every_path_gives_the_same_update() {
        let run = |cpu: Cpu| -> Vec<u32> {
            let varmap = VarMap::new();
            let dev = Device::Cpu;
            // 37 elements: whole vectors and a tail on every path.
            let x = varmap.get(37, "x", candle_nn::Init::Uniform { lo: -3.0, up: 3.0 }, candle_core::DType::F32, &dev).unwrap();
            varmap.data().lock().unwrap()["x"].set(&Tensor::from_vec((0..37).map(|i| (i as f32 * 0.77).sin() * 3.0).collect::<Vec<f32>>(), 37, &dev).unwrap()).unwrap();
            let mut opt = Adam::new(&varmap);
            opt.cpu = cpu;
            for _ in 0..5 {
                let loss = x.sqr().unwrap().sum_all().unwrap();
                opt.step(&loss.backward().unwrap(), 0.1, 1.0, 1).unwrap();
            }
            x.to_vec1::<f32>().unwrap().iter().map(|v| v.to_bits()).collect()
        };
        let want = run(Cpu::portable());
        for cpu in Cpu::all() {
            assert_eq!(run(cpu), want, "{:?}", cpu.isa());
        }
    }

    #[test]
    fn adam_minimises_a_quadratic_and_clips() {
        let varmap = VarMap::new();
        let x = varmap.get(3, "x", candle_nn::Init::Const(5.0), candle_core::DType::F32, &Device::Cpu).unwrap();
        let target = Tensor::new(&[1f32, -2.0, 0.5], &Device::Cpu).unwrap();
        let mut opt = Adam::new(&varmap);
        let mut first = 0.0;
        for i in 0..500 {
            let loss = (&x - &target).unwrap().sqr().unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            let norm = opt.step(&grads, 0.05, 1.0, 2).unwrap();
            if i == 0 {
                first = norm;
            }
        }
        assert!(first > 1.0);
        let got: Vec<f32> = x.to_vec1().unwrap();
        for (a, b) in got.iter().zip([1.0, -2.0, 0.5]) {
            assert!((a - b).abs() < 1e-2, "{got:?}");
        }
    }
}
