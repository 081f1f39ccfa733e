//! The hand-written backward against candle's autograd: the same forward
//! written with candle ops in f64, every module as the defining sum over
//! `(a, b)` pairs (a selection matrix over the outer product of its
//! inputs), activation-gradient clipping as a custom op whose backward
//! clamps. Loss and every parameter's gradient must agree.

use super::fuzzy::{Options, Workspace, EPS};
use super::model::Nram;
use super::module::Module;
use super::config::{Controller, NramConfig};
use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Shape, Tensor, Var};
use rand::{Rng, SeedableRng};
use synth_compiler::TapeExample;

/// Identity forward; the backward clamps the gradient to `±c`.
struct ClipGrad(f64);

impl CustomOp1 for ClipGrad {
    fn name(&self) -> &'static str {
        "clip-grad"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F64(v) = s else { candle_core::bail!("f64 only") };
        let Some((a, b)) = l.contiguous_offsets() else { candle_core::bail!("contiguous only") };
        Ok((CpuStorage::F64(v[a..b].to_vec()), l.shape().clone()))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad.clamp(-self.0, self.0)?))
    }
}

fn clipped(t: Tensor, c: f32) -> candle_core::Result<Tensor> {
    if c.is_finite() {
        t.contiguous()?.apply_op1(ClipGrad(c as f64))
    } else {
        Ok(t)
    }
}

fn softmax(z: &Tensor) -> candle_core::Result<Tensor> {
    let e = z.exp()?;
    e.broadcast_div(&e.sum_keepdim(1)?)
}

fn entropy(p: &Tensor) -> candle_core::Result<Tensor> {
    (p * p.maximum(EPS as f64)?.log()?)?.sum_all()?.neg()
}

/// The selection matrix of a module's integer function: `(m^arity, m)`.
fn selection(module: Module, m: usize, dev: &Device) -> candle_core::Result<Tensor> {
    let rows = m.pow(module.arity() as u32);
    let mut s = vec![0f64; rows * m];
    for row in 0..rows {
        let (a, b) = if module.arity() == 2 { (row / m, row % m) } else { (row, 0) };
        s[row * m + module.apply(a as u32, b as u32, m as u32) as usize] = 1.0;
    }
    Tensor::from_vec(s, (rows, m), dev)
}

/// The batch objective and its gradient by candle.
fn reference(nram: &Nram, batch: &[&TapeExample], opts: Options) -> candle_core::Result<(f64, Vec<f64>)> {
    let dev = Device::Cpu;
    let l = &nram.layout;
    let (r, q) = (l.registers, l.q());
    let vars: Vec<Var> = l
        .tensors()
        .iter()
        .map(|&(_, [a, b], off)| {
            let v: Vec<f64> = nram.params[off..off + a * b].iter().map(|&x| x as f64).collect();
            Var::from_vec(v, (a, b), &dev)
        })
        .collect::<candle_core::Result<_>>()?;
    let names = l.tensors();
    let get = |name: &str| names.iter().position(|t| t.0 == name).map(|i| vars[i].as_tensor().clone());
    let [w1, b1, w3, b3] = ["controller.w1", "controller.b1", "controller.w3", "controller.b3"].map(|n| get(n).expect("every controller has it"));
    let hidden = l.hidden;
    let mut total_loss = Tensor::zeros((), DType::F64, &dev)?;
    let mut total_entropy = Tensor::zeros((), DType::F64, &dev)?;
    for e in batch {
        let m = e.cells;
        let onehot = |v: usize| -> candle_core::Result<Tensor> {
            let mut x = vec![0f64; m];
            x[v % m] = 1.0;
            Tensor::from_vec(x, (1, m), &dev)
        };
        let mut mem = {
            let mut x = vec![0f64; m * m];
            for (i, &v) in e.input.iter().enumerate() {
                x[i * m + v as usize] = 1.0;
            }
            Tensor::from_vec(x, (m, m), &dev)?
        };
        let mut regs: Vec<Tensor> = (0..r).map(|_| onehot(0)).collect::<candle_core::Result<_>>()?;
        let mut state = (Tensor::zeros((1, hidden), DType::F64, &dev)?, Tensor::zeros((1, hidden), DType::F64, &dev)?);
        let mut lls = Vec::new();
        let mut halts = Vec::new();
        for t in 0..e.timesteps {
            let x = Tensor::cat(&regs.iter().map(|g| g.narrow(1, 0, 1)).collect::<candle_core::Result<Vec<_>>>()?, 1)?;
            let h1 = x.matmul(&w1)?.broadcast_add(&b1)?.relu()?;
            let h2 = match l.controller {
                Controller::Mlp => h1.matmul(&get("controller.w2").unwrap())?.broadcast_add(&get("controller.b2").unwrap())?.relu()?,
                Controller::Lstm => {
                    let z = (h1.matmul(&get("controller.lstm.wx").unwrap())? + state.0.matmul(&get("controller.lstm.wh").unwrap())?)?.broadcast_add(&get("controller.lstm.b").unwrap())?;
                    let gate = |k: usize| z.narrow(1, k * hidden, hidden);
                    let sig = |t: Tensor| -> candle_core::Result<Tensor> { (t.neg()?.exp()? + 1.0)?.recip() };
                    let (i, f, g, o) = (sig(gate(0)?)?, sig(gate(1)?)?, gate(2)?.tanh()?, sig(gate(3)?)?);
                    let c = ((f * &state.1)? + (i * g)?)?;
                    let h = (o * c.tanh()?)?;
                    state = (h.clone(), c);
                    h
                }
            };
            let logits = h2.matmul(&w3)?.broadcast_add(&b3)?;
            let mut vals: Vec<Tensor> = regs.clone();
            for (k, &module) in l.modules.iter().enumerate() {
                let v = Tensor::cat(&vals, 0)?;
                let pick = |o: Option<usize>, total: &mut Tensor| -> candle_core::Result<Option<Tensor>> {
                    let Some(o) = o else { return Ok(None) };
                    let s = softmax(&logits.narrow(1, o, r + k)?)?;
                    *total = (&*total + entropy(&s)?)?;
                    Ok(Some(s.matmul(&v)?))
                };
                let a = pick(l.a[k], &mut total_entropy)?;
                let b = pick(l.b[k], &mut total_entropy)?;
                let out = match (module, a, b) {
                    (Module::Read, Some(a), _) => a.matmul(&mem)?,
                    (Module::Write, Some(a), Some(b)) => {
                        let at = a.t()?;
                        mem = clipped((mem.broadcast_mul(&(at.affine(-1.0, 1.0))?)? + at.matmul(&b)?)?, opts.clip_activations)?;
                        b
                    }
                    (_, None, None) => onehot(module.apply(0, 0, m as u32) as usize)?,
                    (_, Some(a), None) => a.matmul(&selection(module, m, &dev)?)?,
                    (_, Some(a), Some(b)) => a.t()?.matmul(&b)?.reshape((1, m * m))?.matmul(&selection(module, m, &dev)?)?,
                    _ => candle_core::bail!("bad arity"),
                };
                vals.push(clipped(out, opts.clip_activations)?);
            }
            let w = Tensor::cat(&vals, 0)?;
            let mut next = Vec::new();
            for i in 0..r {
                let s = softmax(&logits.narrow(1, l.c + i * (r + q), r + q)?)?;
                total_entropy = (total_entropy + entropy(&s)?)?;
                next.push(clipped(s.matmul(&w)?, opts.clip_activations)?);
            }
            if t + 1 < e.timesteps {
                regs = next;
            }
            let mut ll = Tensor::zeros((), DType::F64, &dev)?;
            for &g in &e.graded {
                let p = mem.narrow(0, g as usize, 1)?.narrow(1, e.output[g as usize] as usize, 1)?;
                ll = (ll + p.maximum(EPS as f64)?.log()?.sum_all()?)?;
            }
            lls.push(ll);
            let z = logits.narrow(1, l.f, 1)?.sum_all()?;
            halts.push((z.neg()?.exp()? + 1.0)?.recip()?);
        }
        let mut survive = Tensor::ones((), DType::F64, &dev)?;
        for (t, ll) in lls.iter().enumerate() {
            let p = if t + 1 == lls.len() { survive.clone() } else { (&survive * &halts[t])? };
            total_loss = (total_loss - (p * ll)?)?;
            survive = (&survive * halts[t].affine(-1.0, 1.0)?)?;
        }
    }
    let n = batch.len() as f64;
    let objective = ((total_loss / n)? - (total_entropy * (opts.entropy as f64 / n))?)?;
    let grads = objective.backward()?;
    let mut flat = Vec::new();
    for v in &vars {
        let g = grads.get(v).map(|g| g.flatten_all().and_then(|g| g.to_vec1::<f64>())).transpose()?.unwrap_or_else(|| vec![0.0; v.elem_count()]);
        flat.extend(g);
    }
    Ok((objective.to_scalar::<f64>()?, flat))
}

fn random_example(rng: &mut impl Rng, m: usize, t: usize) -> TapeExample {
    let input: Vec<u32> = (0..m).map(|_| rng.random_range(0..m as u32)).collect();
    let output: Vec<u32> = (0..m).map(|_| rng.random_range(0..m as u32)).collect();
    let graded: Vec<u32> = (0..m as u32).filter(|_| rng.random_bool(0.6)).collect();
    TapeExample { size: m, seed: 0, cells: m, timesteps: t, input, output, graded }
}

fn check(config: &NramConfig, batch: &[TapeExample], opts: Options, seed: u64) {
    let mut nram = Nram::new(config, seed);
    // Larger weights than at initialisation, so that softmaxes are far
    // from uniform and ReLUs are mixed.
    nram.params.iter_mut().enumerate().for_each(|(i, p)| *p = *p * 3.0 + ((i as f32) * 0.37).sin() * 0.3);
    let refs: Vec<&TapeExample> = batch.iter().collect();
    let mut ws = Workspace::new();
    let mut grad = vec![0f32; nram.params.len()];
    let stats = ws.train_step(&nram, &refs, opts, &mut grad);
    let (want_obj, want) = reference(&nram, &refs, opts).unwrap();
    let got_obj = stats.loss - opts.entropy as f64 * stats.entropy;
    assert!((got_obj - want_obj).abs() <= 1e-4 * want_obj.abs().max(1.0), "objective {got_obj} vs {want_obj}");
    for (name, [a, b], off) in nram.layout.tensors() {
        let (g, w) = (&grad[off..off + a * b], &want[off..off + a * b]);
        let scale = w.iter().fold(0f64, |s, x| s.max(x.abs()));
        let err = g.iter().zip(w).fold(0f64, |s, (&g, &w)| s.max((g as f64 - w).abs()));
        assert!(err <= 2e-4 * scale + 1e-7, "{name}: max error {err:e} against max gradient {scale:e} ({config:?}, {opts:?})\n{g:?}\n{w:?}");
    }
}

/// Random small machines, every module among them, batches of examples of
/// different sizes and lengths, with and without activation clipping and
/// the entropy bonus.
#[test]
fn backward_matches_candle_autograd() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let configs = [
        NramConfig { registers: 3, hidden: 6, ..NramConfig::default() },
        NramConfig { registers: 2, modules: vec![Module::Write, Module::Read, Module::Inc, Module::Write, Module::Read], hidden: 5, ..NramConfig::default() },
        NramConfig { registers: 2, modules: vec![Module::Add, Module::Sub, Module::Lt, Module::Le, Module::Eq], hidden: 4, ..NramConfig::default() },
        NramConfig { registers: 4, modules: vec![Module::Min, Module::Max, Module::Dec, Module::Write, Module::Zero, Module::Two], hidden: 7, ..NramConfig::default() },
        NramConfig { registers: 3, hidden: 5, controller: Controller::Lstm, ..NramConfig::default() },
        NramConfig { registers: 2, modules: vec![Module::Read, Module::Inc, Module::Write, Module::Lt], hidden: 6, controller: Controller::Lstm },
    ];
    for (i, config) in configs.iter().enumerate() {
        for (clip, entropy) in [(f32::INFINITY, 0.0), (f32::INFINITY, 0.3), (0.02, 0.1)] {
            let batch: Vec<TapeExample> = [(5, 3), (3, 1), (4, 4)].iter().map(|&(m, t)| random_example(&mut rng, m, t)).collect();
            check(config, &batch, Options { clip_activations: clip, entropy }, i as u64);
        }
    }
}
