//! The NPI model in candle: encoder, program memory, fuse layer, core LSTM
//! and heads, trained on packed batches of frames.
//!
//! ```text
//! [one-hot(obs, args), image] --encoder MLP--> s (D)
//!     image: the pixels, or with `vision: cnn` the features of
//!     conv 3x3/2 (1 -> 8), relu, conv 3x3/2 (8 -> 16), relu
//! program id --M_prog--> p (P)
//! [s, p] --fuse--> u --LSTM x layers--> h (H)
//! h --end--> logit of "the frame ends here"
//! h --key--> k (K);  k . M_key^T --> logits over programs + "no call"
//! h --args--> 3 x logits over argument values + NO_ARG
//! ```

use super::config::{Fuse, NpiConfig, Vision};
use super::data::{Batch, ModelShape};
use super::lstm::Lstm;
use crate::dense;
use crate::kernels::Cpu;
use crate::params::{self, SeededInit};
use candle_core::{Device, Tensor, D};
use candle_nn::{Init, Linear, VarBuilder, VarMap};
use synth_compiler::task::ImageSpec;
use synth_compiler::{ProgramId, ARG_SLOTS};

/// A linear layer with PyTorch's default init: weight and bias uniform in
/// `±1/sqrt(input)`. Weight `(output, input)`, bias `(output)`.
pub fn linear(vb: VarBuilder, input: usize, output: usize) -> candle_core::Result<Linear> {
    let k = 1.0 / (input as f64).sqrt();
    let u = Init::Uniform { lo: -k, up: k };
    let w = vb.get_with_hints((output, input), "weight", u)?;
    let b = vb.get_with_hints(output, "bias", u)?;
    Ok(Linear::new(w, Some(b)))
}

/// Channels of the two convolutions of [`Vision::Cnn`].
pub const CNN_CHANNELS: [usize; 2] = [8, 16];

/// The side of a 3x3 convolution's output of stride 2 and padding 1 over a
/// `side x side` input: `ceil(side / 2)`.
pub fn conv_side(side: usize) -> usize {
    side.div_ceil(2)
}

/// Features of [`Vision::Cnn`] over a `side x side` image:
/// `16 * ceil(side / 4)^2`.
pub fn cnn_features(side: usize) -> usize {
    let q = conv_side(conv_side(side));
    CNN_CHANNELS[1] * q * q
}

/// A 3x3 convolution of stride 2 and padding 1, then a ReLU, with
/// PyTorch's default init: weight and bias uniform in `±1/sqrt(in * 9)`.
///
/// It runs as a gather and a matmul (im2col): the input's 3x3 patches are
/// columns picked by a fixed index ([`Conv::patches`]), multiplied by the
/// weight. Its gradients are those of `index_select` and `matmul`. candle's
/// `conv2d` computes the same function with correct gradients, but its
/// backward pass runs two more convolutions (one of them for the gradient
/// of the pixels, which nothing needs): on a 32x32 pose task a training
/// step took about twice as long with it.
pub struct Conv {
    /// `(out, in, 3, 3)`.
    pub weight: Tensor,
    /// `(out)`.
    pub bias: Tensor,
}

impl Conv {
    /// The layer's parameters `weight` and `bias` under `vb`.
    pub fn new(vb: VarBuilder, input: usize, output: usize) -> candle_core::Result<Conv> {
        let k = 1.0 / ((input * 9) as f64).sqrt();
        let u = Init::Uniform { lo: -k, up: k };
        Ok(Conv { weight: vb.get_with_hints((output, input, 3, 3), "weight", u)?, bias: vb.get_with_hints(output, "bias", u)? })
    }

    /// The gather of [`Conv::forward`] over a `side x side` input of
    /// `channels` channels laid out position by position (`(side * side,
    /// channels)` per row): for every output position (row by row), then
    /// every channel, then the 3x3 offsets row by row, the input column it
    /// reads; `side * side * channels` (a column of zeros) where the patch
    /// reaches into the padding.
    pub fn patches(side: usize, channels: usize) -> Vec<u32> {
        let o = conv_side(side);
        let zero = (side * side * channels) as u32;
        let mut index = Vec::with_capacity(o * o * channels * 9);
        for oy in 0..o {
            for ox in 0..o {
                for c in 0..channels {
                    for ky in 0..3 {
                        for kx in 0..3 {
                            // Input pixel (2 oy + ky - 1, 2 ox + kx - 1).
                            let at = (2 * oy + ky).checked_sub(1).zip((2 * ox + kx).checked_sub(1)).filter(|&(y, x)| y < side && x < side);
                            index.push(at.map_or(zero, |(y, x)| ((y * side + x) * channels + c) as u32));
                        }
                    }
                }
            }
        }
        index
    }

    /// `x`: `(rows, positions * in)`, position-major; `patches`: the
    /// layer's [`Conv::patches`] over `positions` for `outputs` output
    /// positions. Returns `(rows, outputs * out)`, position-major.
    pub fn forward(&self, x: &Tensor, patches: &Tensor, outputs: usize) -> candle_core::Result<Tensor> {
        let (out, input, _, _) = self.weight.dims4()?;
        let rows = x.dim(0)?;
        let zero = Tensor::zeros((rows, 1), x.dtype(), x.device())?;
        let p = Tensor::cat(&[x, &zero], 1)?.index_select(patches, 1)?.reshape((rows * outputs, input * 9))?;
        let y = p.matmul(&self.weight.reshape((out, input * 9))?.t()?)?.broadcast_add(&self.bias)?.relu()?;
        y.reshape((rows, outputs * out))
    }
}

/// The CNN of [`Vision::Cnn`]: two [`Conv`]s, 1 -> 8 -> 16 channels.
pub struct Cnn {
    pub c1: Conv,
    pub c2: Conv,
    /// The image's side.
    pub side: usize,
    /// Each layer's [`Conv::patches`].
    patches: [Tensor; 2],
}

impl Cnn {
    /// Parameters `c1.*` and `c2.*` under `vb`, for `side x side` images.
    pub fn new(vb: VarBuilder, side: usize) -> candle_core::Result<Cnn> {
        let c1 = Conv::new(vb.pp("c1"), 1, CNN_CHANNELS[0])?;
        let c2 = Conv::new(vb.pp("c2"), CNN_CHANNELS[0], CNN_CHANNELS[1])?;
        Cnn::of(c1, c2, side, vb.device())
    }

    /// The CNN of two layers (`c1` of 1 input channel, `c2` of `c1`'s
    /// outputs) on `side x side` images.
    pub fn of(c1: Conv, c2: Conv, side: usize, device: &Device) -> candle_core::Result<Cnn> {
        let middle = c1.weight.dim(0)?;
        let patches = [Conv::patches(side, 1), Conv::patches(conv_side(side), middle)];
        let [a, b] = patches.map(|p| Tensor::new(p, device));
        Ok(Cnn { c1, c2, side, patches: [a?, b?] })
    }

    /// `pixels`: `(rows, side * side)` row by row from the top; returns
    /// `(rows, cnn_features(side))`: for every output position (row by
    /// row), every channel.
    pub fn forward(&self, pixels: &Tensor) -> candle_core::Result<Tensor> {
        let o1 = conv_side(self.side);
        let o2 = conv_side(o1);
        let h = self.c1.forward(pixels, &self.patches[0], o1 * o1)?;
        self.c2.forward(&h, &self.patches[1], o2 * o2)
    }

    /// Features out of one image.
    pub fn features(&self) -> usize {
        let o = conv_side(conv_side(self.side));
        self.c2.bias.dims1().map_or(0, |c| c * o * o)
    }
}

/// The domain encoder: `one-hot (rows, input_width) -> relu -> s (rows,
/// state)`. With [`Vision::Cnn`] and an image, the input's pixel columns go
/// through a [`Cnn`] first, whose features take their place.
pub struct Encoder {
    /// `input -> encoder`, where `input` is the encoder input's width, or
    /// with a CNN its one-hot columns and the CNN's features.
    pub l1: Linear,
    /// `encoder -> state`.
    pub l2: Linear,
    /// The CNN on the image ([`Vision::Cnn`] in a world with one).
    pub cnn: Option<Cnn>,
    /// The first pixel column of the input.
    pixel_offset: usize,
}

impl Encoder {
    /// An encoder of `config`'s sizes for inputs `input` wide whose last
    /// `image.pixels()` columns are the image's pixels, if there is one.
    pub fn new(vb: VarBuilder, config: &NpiConfig, input: usize, image: Option<&ImageSpec>) -> candle_core::Result<Encoder> {
        let (hidden, state) = (config.encoder, config.state);
        let pixel_offset = match image {
            Some(spec) => match input.checked_sub(spec.pixels()) {
                Some(at) => at,
                None => candle_core::bail!("an encoder input {input} wide cannot hold a {0}x{0} image", spec.side),
            },
            None => input,
        };
        let (cnn, width) = match image.filter(|_| config.vision == Vision::Cnn) {
            Some(spec) => {
                let side = spec.side as usize;
                (Some(Cnn::new(vb.pp("cnn"), side)?), pixel_offset + cnn_features(side))
            }
            None => (None, input),
        };
        Ok(Encoder { l1: linear(vb.pp("l1"), width, hidden)?, l2: linear(vb.pp("l2"), hidden, state)?, cnn, pixel_offset })
    }

    /// `x`: `(rows, input_width)`; returns `(rows, state)`. `shown`, with a
    /// CNN: `(rows, 1)`, 1 where the row shows its image and 0 where it
    /// shows none ([`ModelShape::shows_image`]), whose CNN features are
    /// then zero; `None`: every row shows its image.
    ///
    /// Its dense layers run on up to `threads` threads ([`crate::dense`]).
    pub fn forward(&self, x: &Tensor, shown: Option<&Tensor>, threads: usize) -> candle_core::Result<Tensor> {
        let first = match &self.cnn {
            None => dense::linear(x, &self.l1, threads)?,
            Some(cnn) => {
                let pixels = x.narrow(1, self.pixel_offset, cnn.side * cnn.side)?;
                let mut features = cnn.forward(&pixels)?;
                if let Some(shown) = shown {
                    features = features.broadcast_mul(shown)?;
                }
                dense::linear(&Tensor::cat(&[&x.narrow(1, 0, self.pixel_offset)?, &features], 1)?, &self.l1, threads)?
            }
        };
        dense::linear(&first.relu()?, &self.l2, threads)
    }

    /// The first pixel column of the input (its width without an image):
    /// with a CNN, also the first feature column of `l1`.
    pub fn pixel_offset(&self) -> usize {
        self.pixel_offset
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
        let encoder = Encoder::new(vb.pp("encoder"), c, shape.input_width(), shape.image.as_ref())?;
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
            threads: crate::settings::cores(),
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
        let threads = self.threads;
        let s = self.encoder.forward(&batch.input, self.shown(batch)?.as_ref(), threads)?;
        let mut x = match &self.fuse {
            Some(f) => {
                let per_program = self.memory.embeddings.matmul(&f.w_program.t()?)?.broadcast_add(&f.bias)?;
                let p = per_program.index_select(&batch.program, 0)?;
                (dense::dense(&s, &f.w_state, None, threads)? + p)?.relu()?
            }
            None => {
                let p = self.memory.embeddings.index_select(&batch.program, 0)?;
                Tensor::cat(&[&s, &p], 1)?
            }
        };
        for l in &self.core {
            x = l.forward(&x, &batch.packing, self.threads, self.cpu)?;
        }
        let end = dense::linear(&x, &self.heads.end, threads)?.squeeze(1)?;
        let key = dense::linear(&x, &self.heads.key, threads)?;
        let calls = key.matmul(&self.memory.keys.t()?)?;
        let args = dense::linear(&x, &self.heads.args, threads)?.reshape((rows, ARG_SLOTS, self.shape.arg_width()))?;
        Ok(Outputs { end, calls, args })
    }

    /// With a CNN, the rows of `batch` that show their image as a `(rows,
    /// 1)` mask ([`Encoder::forward`]); `None` when every row does (or
    /// without a CNN).
    fn shown(&self, batch: &Batch) -> candle_core::Result<Option<Tensor>> {
        if self.encoder.cnn.is_none() {
            return Ok(None);
        }
        let n = self.shape.programs();
        let shows: Vec<f32> = (0..n).map(|p| self.shape.shows_image(p as ProgramId) as u8 as f32).collect();
        if shows.iter().all(|&s| s == 1.0) {
            return Ok(None);
        }
        Ok(Some(Tensor::from_vec(shows, (n, 1), batch.program.device())?.index_select(&batch.program, 0)?))
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

    /// The CNN's convolutions are candle's `conv2d` of stride 2 and
    /// padding 1 (with bias and ReLU), their features position-major, on
    /// even and odd sides.
    #[test]
    fn the_cnn_is_two_strided_convolutions() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        for side in [8usize, 9, 16] {
            let varmap = VarMap::new();
            let cnn = Cnn::new(SeededInit::builder(&varmap, side as u64, &Device::Cpu), side).unwrap();
            let rows = 3;
            let px: Vec<f32> = (0..rows * side * side).map(|_| rng.random()).collect();
            let px = Tensor::from_vec(px, (rows, side * side), &Device::Cpu).unwrap();
            let got: Vec<Vec<f32>> = cnn.forward(&px).unwrap().to_vec2().unwrap();
            let conv = |x: &Tensor, c: &Conv| x.conv2d(&c.weight, 1, 2, 1, 1).unwrap().broadcast_add(&c.bias.reshape((1, (), 1, 1)).unwrap()).unwrap().relu().unwrap();
            let y = conv(&conv(&px.reshape((rows, 1, side, side)).unwrap(), &cnn.c1), &cnn.c2);
            let q = conv_side(conv_side(side));
            assert_eq!(y.dims(), [rows, 16, q, q]);
            let want: Vec<Vec<f32>> = y.permute((0, 2, 3, 1)).unwrap().flatten_from(1).unwrap().to_vec2().unwrap();
            assert_eq!(got[0].len(), cnn_features(side));
            assert_eq!(cnn.features(), cnn_features(side));
            for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
                assert!((g - w).abs() < 1e-5, "side {side}: {g} vs conv2d {w}");
            }
            assert!(got.iter().flatten().any(|&v| v > 0.0));
        }
    }

    /// The CNN's gradients are the loss's: central differences in f64 on
    /// tiny images of an even and an odd side agree with the backward
    /// pass for every weight and bias, and the f32 backward pass (the one
    /// training takes) with the f64 one.
    #[test]
    fn the_cnn_gradients_are_the_finite_differences() {
        use candle_core::{DType, Var};
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for side in [6usize, 5] {
            let rows = 3;
            let mut var = |dims: &[usize], scale: f64| {
                let n: usize = dims.iter().product();
                let v: Vec<f64> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
                Var::from_vec(v, dims, &Device::Cpu).unwrap()
            };
            let vars = [var(&[8, 1, 3, 3], 0.6), var(&[8], 0.3), var(&[16, 8, 3, 3], 0.3), var(&[16], 0.3)];
            let pixels = var(&[rows, side * side], 1.0).as_tensor().abs().unwrap().detach();
            let q = conv_side(conv_side(side));
            let coefficients = var(&[rows, 16 * q * q], 1.0).as_tensor().detach();
            let loss = |v: &[Tensor]| -> Tensor {
                let cnn = Cnn::of(Conv { weight: v[0].clone(), bias: v[1].clone() }, Conv { weight: v[2].clone(), bias: v[3].clone() }, side, &Device::Cpu).unwrap();
                let f = cnn.forward(&pixels).unwrap();
                assert_eq!(f.dims(), [rows, cnn_features(side)]);
                (f * &coefficients).unwrap().sum_all().unwrap()
            };
            let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
            let grads = loss(&tensors).backward().unwrap();
            // candle's f32 path (the one training takes) gives the f64
            // path's gradients, up to rounding.
            let single: Vec<Var> = vars.iter().map(|v| Var::from_tensor(&v.as_tensor().to_dtype(DType::F32).unwrap()).unwrap()).collect();
            let cnn = Cnn::of(Conv { weight: single[0].as_tensor().clone(), bias: single[1].as_tensor().clone() }, Conv { weight: single[2].as_tensor().clone(), bias: single[3].as_tensor().clone() }, side, &Device::Cpu).unwrap();
            let f = cnn.forward(&pixels.to_dtype(DType::F32).unwrap()).unwrap();
            let grads32 = (f * coefficients.to_dtype(DType::F32).unwrap()).unwrap().sum_all().unwrap().backward().unwrap();
            for (v, v32) in vars.iter().zip(&single) {
                let want: Vec<f64> = grads.get(v.as_tensor()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
                let got: Vec<f32> = grads32.get(v32.as_tensor()).expect("an f32 gradient").flatten_all().unwrap().to_vec1().unwrap();
                for (a, b) in got.iter().zip(&want) {
                    assert!((*a as f64 - b).abs() <= 1e-3 * (1.0 + b.abs()), "side {side}: f32 gradient {a}, f64 {b}");
                }
            }
            let eps = 1e-6;
            for (k, v) in vars.iter().enumerate() {
                let analytic: Vec<f64> = grads.get(v.as_tensor()).expect("a gradient").flatten_all().unwrap().to_vec1().unwrap();
                let values: Vec<f64> = v.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
                for (i, &g) in analytic.iter().enumerate() {
                    let at = |d: f64| {
                        let mut moved = values.clone();
                        moved[i] += d;
                        let mut t = tensors.clone();
                        t[k] = Tensor::from_vec(moved, v.dims(), &Device::Cpu).unwrap();
                        loss(&t).to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
                    };
                    let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
                    assert!((numeric - g).abs() <= 1e-5 * (1.0 + g.abs()), "side {side}, tensor {k}, element {i}: backward {g}, finite differences {numeric}");
                }
            }
        }
    }

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
        learns_what_only_the_image_shows(Vision::Pixels, 1e-2, 300);
    }

    /// The same through the CNN (`vision: cnn`), whose weights train. At
    /// its init the two images' features differ little, and a rate of
    /// `1e-2` grows the CNN's and encoder's activations until the core
    /// saturates before it tells them apart: the default rate, longer.
    #[test]
    fn a_small_npi_with_a_cnn_learns_what_only_the_image_shows() {
        learns_what_only_the_image_shows(Vision::Cnn, 1e-3, 1000);
    }

    fn learns_what_only_the_image_shows(vision: Vision, lr: f64, steps: usize) {
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
        let cfg = NpiConfig { hidden: 16, layers: 1, embedding: 4, key: 4, encoder: 16, state: 16, fuse: Fuse::Mlp, fuse_hidden: 16, observe: Observe::All, vision };
        let npi = Npi::new(&cfg, &shape, 7).unwrap();
        assert_eq!(npi.encoder.cnn.is_some(), vision == Vision::Cnn);
        let cnn_weights = ["encoder.cnn.c1.weight", "encoder.cnn.c1.bias", "encoder.cnn.c2.weight", "encoder.cnn.c2.bias"];
        let mut opt = crate::optim::Adam::new(&npi.varmap);
        let ids: Vec<usize> = (0..data.frames.len()).collect();
        let batch = data.batch(&ids, &Device::Cpu).unwrap();
        for step in 0..steps {
            let loss = npi.loss(&npi.forward(&batch).unwrap(), &batch).unwrap();
            let grads = npi.backward(&loss).unwrap();
            if step == 0 {
                // The CNN's gradients reach its weights.
                let vars = npi.varmap.data().lock().unwrap();
                for name in cnn_weights {
                    match vars.get(name) {
                        Some(v) => {
                            let g = grads.get(v.as_tensor()).unwrap_or_else(|| panic!("no gradient for `{name}`"));
                            assert!(g.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() > 0.0, "`{name}`'s gradient is zero");
                        }
                        None => assert_eq!(vision, Vision::Pixels, "no `{name}`"),
                    }
                }
            }
            opt.step(&grads, lr, 1.0, 1).unwrap();
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

