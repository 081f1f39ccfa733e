//! The NPI model in candle: encoder, program memory, fuse layer, core LSTM
//! and heads, trained on packed batches of frames.
//!
//! ```text
//! one-hot(obs, args) --encoder MLP--> s (D)
//! program id --M_prog--> p (P)
//! [s, p] --fuse--> u --LSTM x layers--> h (H)
//! h --end--> logit of "the frame ends here"
//! h --key--> k (K);  k . M_key^T --> logits over programs + "no call"
//! h --args--> 3 x logits over argument values + NO_ARG
//! ```

use super::config::{Fuse, NpiConfig};
use super::data::{Batch, ModelShape};
use super::lstm::Lstm;
use crate::kernels::Cpu;
use crate::params::{self, SeededInit};
use candle_core::{Device, Module, Tensor, D};
use candle_nn::{Init, Linear, VarBuilder, VarMap};
use synth_compiler::ARG_SLOTS;

/// A linear layer with PyTorch's default init: weight and bias uniform in
/// `±1/sqrt(input)`. Weight `(output, input)`, bias `(output)`.
pub fn linear(vb: VarBuilder, input: usize, output: usize) -> candle_core::Result<Linear> {
    let k = 1.0 / (input as f64).sqrt();
    let u = Init::Uniform { lo: -k, up: k };
    let w = vb.get_with_hints((output, input), "weight", u)?;
    let b = vb.get_with_hints(output, "bias", u)?;
    Ok(Linear::new(w, Some(b)))
}

/// The domain encoder: `one-hot (rows, input_width) -> relu -> s (rows, state)`.
pub struct Encoder {
    /// `input_width -> encoder`.
    pub l1: Linear,
    /// `encoder -> state`.
    pub l2: Linear,
}

impl Encoder {
    pub fn new(vb: VarBuilder, input: usize, hidden: usize, state: usize) -> candle_core::Result<Encoder> {
        Ok(Encoder { l1: linear(vb.pp("l1"), input, hidden)?, l2: linear(vb.pp("l2"), hidden, state)? })
    }

    /// `x`: `(rows, input_width)`; returns `(rows, state)`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.l2.forward(&self.l1.forward(x)?.relu()?)
    }
}

/// Program memory: an embedding and a key per program.
pub struct ProgramMemory {
    /// `(programs, embedding)`: M_prog.
    pub embeddings: Tensor,
    /// `(programs + 1, key)`: M_key; the last row is "no call".
    pub keys: Tensor,
}

/// The fuse layer of [`Fuse::Mlp`]: `relu(W_s s + W_p p + b)`. `W_p p` is
/// computed once per program and gathered.
pub struct FuseMlp {
    /// `(fuse_hidden, state)`.
    pub w_state: Tensor,
    /// `(fuse_hidden, embedding)`.
    pub w_program: Tensor,
    /// `(fuse_hidden)`.
    pub bias: Tensor,
}

/// The heads on the top LSTM output.
pub struct Heads {
    /// `hidden -> 1`.
    pub end: Linear,
    /// `hidden -> key`.
    pub key: Linear,
    /// `hidden -> 3 * (arg_classes + 1)`.
    pub args: Linear,
}

/// What the model says at every row of a batch.
pub struct Outputs {
    /// `(rows)`: logit of ending the frame.
    pub end: Tensor,
    /// `(rows, programs + 1)`: program-head logits (last = no call).
    pub calls: Tensor,
    /// `(rows, 3, arg_classes + 1)`: argument-head logits.
    pub args: Tensor,
}

/// An NPI model: its parameters live in `varmap`.
pub struct Npi {
    pub config: NpiConfig,
    pub shape: ModelShape,
    pub varmap: VarMap,
    pub encoder: Encoder,
    pub memory: ProgramMemory,
    pub fuse: Option<FuseMlp>,
    pub core: Vec<Lstm>,
    pub heads: Heads,
    threads: usize,
    cpu: Cpu,
}

impl std::fmt::Debug for Npi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Npi").field("config", &self.config).field("shape", &self.shape).finish_non_exhaustive()
    }
}

impl Npi {
    /// A fresh model with parameters drawn from `seed`.
    pub fn new(config: &NpiConfig, shape: &ModelShape, seed: u64) -> candle_core::Result<Npi> {
        let varmap = VarMap::new();
        let vb = SeededInit::builder(&varmap, seed, &Device::Cpu);
        let npi = Npi::build(config, shape, varmap.clone(), vb)?;
        Npi::init_core_bias(&npi.core, &varmap)?;
        Ok(npi)
    }

    /// The model over existing parameters (checked by name and shape).
    pub fn from_varmap(config: &NpiConfig, shape: &ModelShape, varmap: VarMap) -> candle_core::Result<Npi> {
        let (vb, used) = params::existing_builder(&varmap, &Device::Cpu);
        let npi = Npi::build(config, shape, varmap.clone(), vb)?;
        let unused = used.unused(&varmap);
        if let Some(name) = unused.first() {
            candle_core::bail!("the weights hold {} tensor{} the config's model does not use, such as `{name}`", unused.len(), if unused.len() == 1 { "" } else { "s" });
        }
        Ok(npi)
    }

    /// The model over whatever `vb` hands out for its parameter names (a
    /// multi-task model's view of one task, [`super::suite`]); `varmap` is
    /// what its optimiser updates.
    pub(crate) fn build(config: &NpiConfig, shape: &ModelShape, varmap: VarMap, vb: VarBuilder) -> candle_core::Result<Npi> {
        let c = config;
        let encoder = Encoder::new(vb.pp("encoder"), shape.input_width(), c.encoder, c.state)?;
        let m = vb.pp("memory");
        let n = shape.programs();
        let memory = ProgramMemory {
            embeddings: m.get_with_hints((n, c.embedding), "embeddings", Init::Randn { mean: 0.0, stdev: 1.0 })?,
            keys: m.get_with_hints((n + 1, c.key), "keys", Init::Randn { mean: 0.0, stdev: 1.0 })?,
        };
        let (fuse, core, heads) = Npi::shared_parts(c, &vb, shape.arg_width())?;
        Ok(Npi {
            config: config.clone(),
            shape: shape.clone(),
            varmap,
            encoder,
            memory,
            fuse,
            core,
            heads,
            threads: candle_core::utils::get_num_threads(),
            cpu: Cpu::default(),
        })
    }

    /// The parts after the encoder and the program memory: the fuse layer,
    /// the core and the heads (whose argument head has `arg_width` classes
    /// per slot).
    pub(crate) fn shared_parts(c: &NpiConfig, vb: &VarBuilder, arg_width: usize) -> candle_core::Result<(Option<FuseMlp>, Vec<Lstm>, Heads)> {
        let (fuse, core_input) = match c.fuse {
            Fuse::Mlp => {
                let f = vb.pp("fuse");
                let k = 1.0 / ((c.state + c.embedding) as f64).sqrt();
                let u = Init::Uniform { lo: -k, up: k };
                let fuse = FuseMlp {
                    w_state: f.get_with_hints((c.fuse_hidden, c.state), "w_state", u)?,
                    w_program: f.get_with_hints((c.fuse_hidden, c.embedding), "w_program", u)?,
                    bias: f.get_with_hints(c.fuse_hidden, "bias", u)?,
                };
                (Some(fuse), c.fuse_hidden)
            }
            Fuse::Concat => (None, c.state + c.embedding),
        };
        let mut core = Vec::with_capacity(c.layers);
        for l in 0..c.layers {
            let input = if l == 0 { core_input } else { c.hidden };
            core.push(Lstm::new(vb.pp(format!("core.l{l}")), input, c.hidden)?);
        }
        let h = vb.pp("heads");
        let heads = Heads {
            end: linear(h.pp("end"), c.hidden, 1)?,
            key: linear(h.pp("key"), c.hidden, c.key)?,
            args: linear(h.pp("args"), c.hidden, ARG_SLOTS * arg_width)?,
        };
        Ok((fuse, core, heads))
    }

    /// Sets each core layer's bias column to [`Lstm::initial_bias`], as a
    /// fresh model starts.
    pub(crate) fn init_core_bias(core: &[Lstm], varmap: &VarMap) -> candle_core::Result<()> {
        for (l, layer) in core.iter().enumerate() {
            let w = layer.with_initial_bias(&layer.w.flatten_all()?.to_vec1()?);
            params::set_var(varmap, &format!("core.l{l}.w"), w)?;
        }
        Ok(())
    }

    /// Threads the LSTM op may use.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The instruction set of the LSTM kernels (default: the process's,
    /// [`Cpu::default`]); the inference engine made from this model uses it
    /// too.
    pub fn set_cpu(&mut self, cpu: Cpu) {
        self.cpu = cpu;
    }

    pub fn cpu(&self) -> Cpu {
        self.cpu
    }

    /// Runs every frame of the batch, teacher-forced.
    pub fn forward(&self, batch: &Batch) -> candle_core::Result<Outputs> {
        let rows = batch.rows();
        let s = self.encoder.forward(&batch.input)?;
        let mut x = match &self.fuse {
            Some(f) => {
                let per_program = self.memory.embeddings.matmul(&f.w_program.t()?)?.broadcast_add(&f.bias)?;
                let p = per_program.index_select(&batch.program, 0)?;
                (s.matmul(&f.w_state.t()?)? + p)?.relu()?
            }
            None => {
                let p = self.memory.embeddings.index_select(&batch.program, 0)?;
                Tensor::cat(&[&s, &p], 1)?
            }
        };
        for l in &self.core {
            x = l.forward(&x, &batch.packing, self.threads, self.cpu)?;
        }
        let end = self.heads.end.forward(&x)?.squeeze(1)?;
        let key = self.heads.key.forward(&x)?;
        let calls = key.matmul(&self.memory.keys.t()?)?;
        let args = self.heads.args.forward(&x)?.reshape((rows, ARG_SLOTS, self.shape.arg_width()))?;
        Ok(Outputs { end, calls, args })
    }

    /// Gradients of `loss` for every parameter. Use this rather than
    /// `loss.backward()`: the LSTM layers hand their weight gradients over
    /// directly (see [`Lstm::forward`]).
    pub fn backward(&self, loss: &Tensor) -> candle_core::Result<candle_core::backprop::GradStore> {
        let mut grads = loss.backward()?;
        for l in &self.core {
            if let Some(g) = l.take_grad()? {
                grads.insert(&l.w, g);
            }
        }
        Ok(grads)
    }

    /// Mean over rows of the negative log-likelihood of the targets: end
    /// (binary), program (where trained) and arguments (where trained).
    pub fn loss(&self, out: &Outputs, batch: &Batch) -> candle_core::Result<Tensor> {
        let rows = batch.rows() as f64;
        let end = bce_with_logits(&out.end, &batch.end)?.sum_all()?;
        let lp = candle_nn::ops::log_softmax(&out.calls, D::Minus1)?;
        let call = (lp.gather(&batch.call.unsqueeze(1)?, 1)?.squeeze(1)? * &batch.call_mask)?.sum_all()?;
        let la = candle_nn::ops::log_softmax(&out.args, D::Minus1)?;
        let args = (la.gather(&batch.args.unsqueeze(2)?, 2)?.squeeze(2)? * &batch.arg_mask)?.sum_all()?;
        ((end - call)? - args)? / rows
    }
}

/// `max(x, 0) - x y + log(1 + exp(-|x|))`: binary cross-entropy on logits,
/// finite for any logit (candle's own computes a sigmoid then a log).
pub fn bce_with_logits(x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    let soft = ((x.abs()?.neg()?.exp()? + 1.0)?).log()?;
    (x.relu()? - (x * y)?)? + soft
}

/// Decisions at every row: whether they match the targets.
pub struct Scores {
    /// Per row: every trained head's argmax matches its target.
    pub correct: Vec<bool>,
    /// Per row: correct, and every trained head's target beats the next
    /// best choice by at least [`SURE_MARGIN`] in logits. A decision that
    /// wins by a hair can flip under float rounding or the next update.
    pub sure: Vec<bool>,
}

/// The logit margin of a decision that counts as sure: about 88 % of the
/// probability against a single rival.
pub const SURE_MARGIN: f32 = 2.0;

/// How far `logits[target]` is above the best other logit.
fn margin(logits: &[f32], target: usize) -> f32 {
    let rival = logits.iter().enumerate().filter(|&(i, _)| i != target).map(|(_, &x)| x).fold(f32::NEG_INFINITY, f32::max);
    logits[target] - rival
}

impl Outputs {
    /// Compares the argmax decisions with `batch`'s targets.
    pub fn score(&self, batch: &Batch) -> candle_core::Result<Scores> {
        let end: Vec<f32> = self.end.to_vec1()?;
        let calls: Vec<Vec<f32>> = self.calls.to_vec2()?;
        let args: Vec<Vec<Vec<f32>>> = self.args.to_vec3()?;
        let mut correct = Vec::with_capacity(batch.rows());
        let mut sure = Vec::with_capacity(batch.rows());
        for (r, t) in batch.targets.iter().enumerate() {
            let end_margin = if t.end { end[r] } else { -end[r] };
            let mut ok = (end[r] > 0.0) == t.end;
            let mut least = end_margin;
            if let Some(c) = t.call {
                ok &= argmax(&calls[r]) == c as usize;
                least = least.min(margin(&calls[r], c as usize));
            }
            for (logits, target) in args[r].iter().zip(&t.args) {
                if let Some(a) = target {
                    ok &= argmax(logits) == *a as usize;
                    least = least.min(margin(logits, *a as usize));
                }
            }
            correct.push(ok);
            sure.push(ok && least >= SURE_MARGIN);
        }
        Ok(Scores { correct, sure })
    }
}

pub use crate::kernels::argmax;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_the_lead_over_the_best_rival() {
        assert_eq!(margin(&[1.0, 4.0, 3.5], 1), 0.5);
        assert_eq!(margin(&[1.0, 4.0, 3.5], 2), -0.5);
        // The 8-against-9 tie of a half-learned `9 + 9 + carry`: right, not sure.
        let logits = [-2.7, 0.3, 3.4, 9.1132, 9.1183];
        assert_eq!(argmax(&logits), 4);
        assert!(margin(&logits, 4) < SURE_MARGIN);
    }

    /// A decision only the image tells: the same car seen from the front
    /// ends its frame, seen from the side calls `ACT(1, 2, 3)`; every
    /// one-hot bit is the same in both. A small model learns it, and the
    /// inference engine decides as the model does.
    #[test]
    fn a_small_npi_learns_what_only_the_image_shows() {
        use crate::npi::config::Observe;
        use crate::npi::data::{tests::image_shape, Dataset};
        use crate::npi::infer::{Engine, Scratch, StepInputs};
        use synth_compiler::{Call, Frame, Step, Trace, NO_ARGS};
        let shape = image_shape(16);
        let (front, side) = ([1, 0, 12, 7, 0], [1, 0, 18, 7, 0]);
        let mut trace = Trace { size: 1, seed: 0, obs_width: 5, frames: Vec::new(), steps: Vec::new(), obs: Vec::new() };
        for i in 0..8u32 {
            let ends = i % 2 == 0;
            trace.frames.push(Frame { program: 1, args: NO_ARGS, parent: None, depth: 0, first_step: i, len: 1 });
            let call = (!ends).then_some(Call { program: 0, args: [1, 2, 3] });
            trace.steps.push(Step { call, end: ends, child: None });
            trace.obs.extend_from_slice(if ends { &front } else { &side });
        }
        let data = Dataset::from_traces(&shape, [&trace]);
        let cfg = NpiConfig { hidden: 16, layers: 1, embedding: 4, key: 4, encoder: 16, state: 16, fuse: Fuse::Mlp, fuse_hidden: 16, observe: Observe::All };
        let npi = Npi::new(&cfg, &shape, 7).unwrap();
        let mut opt = crate::optim::Adam::new(&npi.varmap);
        let ids: Vec<usize> = (0..data.frames.len()).collect();
        let batch = data.batch(&ids, &Device::Cpu).unwrap();
        for _ in 0..300 {
            let loss = npi.loss(&npi.forward(&batch).unwrap(), &batch).unwrap();
            opt.step(&npi.backward(&loss).unwrap(), 1e-2, 1.0, 1).unwrap();
        }
        let scores = npi.forward(&batch).unwrap().score(&batch).unwrap();
        assert!(scores.sure.iter().all(|&s| s), "{:?}", scores.sure);
        let engine = Engine::new(&npi).unwrap();
        let (mut inputs, mut out) = (StepInputs::default(), Vec::new());
        for (obs, ends) in [(front, true), (side, false)] {
            inputs.clear();
            inputs.push(&shape, 1, &obs, &NO_ARGS, &mut Vec::new());
            engine.step(&inputs, &mut [&mut engine.fresh_state()], &mut out, &mut Scratch::default());
            assert_eq!(out[0].end(), ends);
        }
    }
}
