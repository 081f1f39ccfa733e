//! The NPI forward pass in plain Rust, for running a trained model.
//!
//! Closed-loop execution takes one step at a time, and going through candle
//! for every step costs far more than the arithmetic (a graph of ~30 ops, each
//! allocating). [`Engine`] copies the weights out once, transposed so that
//! every layer is `out += x[k] * W^T[k, :]` over contiguous rows, and then:
//! - the one-hot input makes the encoder's first layer a sum of a few rows;
//!   an image's pixels (pose worlds) add a dense product over the pixel
//!   columns, for the rows that show one; with `vision: cnn` the product is
//!   over the features of the CNN, run on the image first as two GEMMs over
//!   its 3x3 patches;
//! - inputs that are exactly zero (ReLU outputs) are skipped;
//! - the program embedding's contribution to the first layer after the
//!   encoder is precomputed per program;
//! - at batch sizes above 2 the layers run as GEMMs.
//!
//! It computes the same function as [`super::model::Npi::forward`] up to
//! float rounding.

use super::config::Fuse;
use super::data::ModelShape;
use super::model::{argmax, conv_side, Cnn, Conv, Encoder, Npi};
use crate::kernels::{self, gemm, Cpu, Mat, PackedB, SendPtr};
use crate::pair::Pair;
use candle_core::Tensor;
use std::sync::{Arc, Mutex};
use synth_compiler::ARG_SLOTS;

/// One layer's weights, transposed: `out (n) = bias + x (k) * wt (k, n)`.
struct Dense {
    /// `(k, n)` row-major, for one or two rows at a time.
    wt: Vec<f32>,
    /// The same packed for GEMMs over more rows.
    packed: PackedB,
    /// `(n)`.
    bias: Vec<f32>,
    k: usize,
    n: usize,
}

impl std::fmt::Debug for Dense {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dense({} -> {})", self.k, self.n)
    }
}

impl Dense {
    /// From a candle weight `(n, k)` and bias `(n)`, packed for `cpu`.
    fn from(cpu: Cpu, w: &Tensor, b: Option<&Tensor>) -> candle_core::Result<Dense> {
        let (n, k) = w.dims2()?;
        let wt: Vec<f32> = w.t()?.contiguous()?.flatten_all()?.to_vec1()?;
        let bias = match b {
            Some(b) => b.to_vec1()?,
            None => vec![0.0; n],
        };
        // SAFETY: wt holds k x n elements.
        let packed = unsafe { PackedB::new(cpu, k, n, Mat::rows(&wt, n)) };
        Ok(Dense { wt, packed, bias, k, n })
    }
}

/// The recurrent state of one frame: `h` and `c` of every layer.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// `(layers, hidden)`.
    pub h: Vec<f32>,
    /// `(layers, hidden)`.
    pub c: Vec<f32>,
}

/// What the model decides at one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// Logit of "the frame ends here"; ends when positive.
    pub end_logit: f32,
    /// Program-head class: a program id or `ModelShape::no_call`.
    pub call: u32,
    /// Argument values (`NO_ARG` where predicted so), not yet cut to the
    /// called program's arity.
    pub args: [u16; ARG_SLOTS],
}

impl Decision {
    pub fn end(&self) -> bool {
        self.end_logit > 0.0
    }
}

/// The inputs of one batched step: row `r`'s one-hot positions are
/// `hot[ends[r - 1]..ends[r]]`.
#[derive(Clone, Debug, Default)]
pub struct StepInputs {
    pub hot: Vec<usize>,
    pub ends: Vec<usize>,
    pub programs: Vec<u16>,
    /// The rows that show an image, ascending, each with its pixels
    /// ([`ModelShape::pixels`]); empty in a world without one.
    pub pixels: Vec<(usize, Arc<[f32]>)>,
}

impl StepInputs {
    pub fn clear(&mut self) {
        self.hot.clear();
        self.ends.clear();
        self.programs.clear();
        self.pixels.clear();
    }

    /// Adds a row: the frame's program, its observation and arguments
    /// (and the observation's image, where `shape` shows one).
    pub fn push(&mut self, shape: &ModelShape, program: u16, obs: &[u16], args: &synth_compiler::Args, tmp: &mut Vec<usize>) {
        shape.hot(program, obs, args, tmp);
        self.hot.extend_from_slice(tmp);
        self.ends.push(self.hot.len());
        if let Some(px) = shape.pixels(program, obs) {
            self.pixels.push((self.programs.len(), px));
        }
        self.programs.push(program);
    }

    pub fn rows(&self) -> usize {
        self.programs.len()
    }
}

/// Work buffers for [`Engine::step`], reused between steps.
#[derive(Default)]
pub struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
    x: Vec<f32>,
    gates: Vec<f32>,
    c: Vec<f32>,
    tc: Vec<f32>,
    out: Vec<f32>,
    calls: Vec<f32>,
    /// The pixels of the rows that show an image, and their product with
    /// the encoder's pixel columns.
    px: Vec<f32>,
    pa: Vec<f32>,
    /// The CNN's work buffers.
    conv: ConvScratch,
}

/// A trained NPI's weights as plain vectors (see the module doc).
#[derive(Debug)]
pub struct Engine {
    pub shape: ModelShape,
    /// The instruction set of every kernel (the model's).
    cpu: Cpu,
    hidden: usize,
    layers: usize,
    /// The one-hot columns of `input_width -> encoder`; rows summed over
    /// the hot positions.
    enc1: Dense,
    /// Its pixel columns (`pixels -> encoder`, no bias), in a world with
    /// an image; with a CNN, its feature columns (`features -> encoder`).
    enc1_pixels: Option<Dense>,
    /// The CNN on the image (`vision: cnn`).
    cnn: Option<ConvNet>,
    /// `encoder -> state`.
    enc2: Dense,
    /// `fuse mlp`: `state -> fuse_hidden`, and per program
    /// `W_p p + b` `(programs, fuse_hidden)`.
    fuse: Option<(Dense, Vec<f32>)>,
    /// `fuse concat`: the program embedding's part of the first LSTM layer,
    /// `(programs, 4H)`.
    core0_program: Option<Vec<f32>>,
    /// Per layer, `[x, h] -> 4H` with `W_ih` and `W_hh` stacked.
    core: Vec<Dense>,
    /// `hidden -> 1 + key + 3 * arg_width`.
    heads: Dense,
    /// `(key, programs + 1)`.
    keys_t: Vec<f32>,
    key: usize,
    /// The core split in two, made on first use.
    split: std::sync::OnceLock<SplitCore>,
}

/// One half of an LSTM layer's gate columns (see [`Engine::split`]).
struct Half {
    /// `(k, 4 * units)`: the i, f, g, o columns of `units`, row-major.
    wt: Vec<f32>,
    bias: Vec<f32>,
    units: std::ops::Range<usize>,
}

/// Work buffers of one half.
#[derive(Default, Debug)]
struct HalfScratch {
    gates: Vec<f32>,
    c: Vec<f32>,
    tc: Vec<f32>,
}

/// The core LSTM's weights split by hidden unit over two threads.
#[derive(Debug)]
pub struct SplitCore {
    cpu: Cpu,
    layers: Vec<[Half; 2]>,
    /// `fuse concat`: each half's columns of `Engine::core0_program`.
    core0_program: Option<[Vec<f32>; 2]>,
    halves: [Mutex<HalfScratch>; 2],
}

impl std::fmt::Debug for Half {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Like `Dense`: the shape, not the weights.
        write!(f, "Half(units {:?}, {} inputs)", self.units, self.wt.len() / (4 * self.units.len()).max(1))
    }
}

impl SplitCore {
    /// Layer `l`'s gates, cell and output for half `h`'s units, for `rows`
    /// rows of staged input `b` (`rows x k`).
    ///
    /// # Safety
    /// `cs[r]`, `hs[r]` address row `r`'s `c` and `h` of layer `l`
    /// (`hidden` long) and `xo` the `rows x hidden` output; no other thread
    /// touches this half's units of them during the call.
    #[allow(clippy::too_many_arguments)]
    unsafe fn layer_half(&self, l: usize, h: usize, rows: usize, k: usize, b: &[f32], programs: &[u16], cs: &[SendPtr; 2], hs: &[SendPtr; 2], xo: SendPtr) {
        let half = &self.layers[l][h];
        let m = half.units.len();
        let hd = self.layers[l][1].units.end;
        let mut guard = self.halves[h].lock().unwrap_or_else(|e| e.into_inner());
        let sc = &mut *guard;
        sc.c.resize(m, 0.0);
        sc.tc.resize(m, 0.0);
        for r in 0..rows {
            sc.gates.clear();
            sc.gates.extend_from_slice(&half.bias);
            if l == 0 {
                if let Some(per) = &self.core0_program {
                    let p = programs[r] as usize;
                    add_to(self.cpu, &mut sc.gates, &per[h][p * 4 * m..(p + 1) * 4 * m]);
                }
            }
            axpy_rows(self.cpu, &mut sc.gates, &b[r * k..(r + 1) * k], &half.wt);
            // SAFETY: per the contract, these ranges are this half's alone.
            let (c_row, h_row, x_row) = unsafe {
                (
                    std::slice::from_raw_parts_mut(cs[r].0.add(half.units.start), m),
                    std::slice::from_raw_parts_mut(hs[r].0.add(half.units.start), m),
                    std::slice::from_raw_parts_mut(xo.0.add(r * hd + half.units.start), m),
                )
            };
            kernels::cell_forward(self.cpu, &mut sc.gates, Some(c_row), &mut sc.c, &mut sc.tc, x_row);
            c_row.copy_from_slice(&sc.c);
            h_row.copy_from_slice(x_row);
        }
    }
}

impl Engine {
    /// Copies the weights out of `npi`.
    pub fn new(npi: &Npi) -> candle_core::Result<Engine> {
        let cfg = &npi.config;
        let cpu = npi.cpu();
        let shape = npi.shape.clone();
        let n = shape.programs();
        let (enc1, enc1_pixels) = first_layer(cpu, &npi.encoder, &shape)?;
        let cnn = npi.encoder.cnn.as_ref().map(|c| ConvNet::new(cpu, c)).transpose()?;
        let enc2 = Dense::from(cpu, npi.encoder.l2.weight(), npi.encoder.l2.bias())?;
        let emb = &npi.memory.embeddings;
        let (fuse, core0_program) = match (&npi.fuse, cfg.fuse) {
            (Some(f), Fuse::Mlp) => {
                let dense = Dense::from(cpu, &f.w_state, None)?;
                let per: Vec<f32> = emb.matmul(&f.w_program.t()?)?.broadcast_add(&f.bias)?.flatten_all()?.to_vec1()?;
                (Some((dense, per)), None)
            }
            _ => {
                let w0 = &npi.core[0].w;
                let p = w0.narrow(1, cfg.state, cfg.embedding)?;
                let per: Vec<f32> = emb.matmul(&p.t()?)?.flatten_all()?.to_vec1()?;
                (None, Some(per))
            }
        };
        let mut core = Vec::new();
        for (l, layer) in npi.core.iter().enumerate() {
            let (inp, hd) = (layer.input(), layer.hidden());
            // Concat: the embedding's columns are in core0_program already.
            let used = if l == 0 && core0_program.is_some() { cfg.state } else { inp };
            let w = Tensor::cat(&[&layer.w.narrow(1, 0, used)?, &layer.w.narrow(1, inp + 1, hd)?], 1)?;
            let b = layer.w.narrow(1, inp, 1)?.squeeze(1)?;
            core.push(Dense::from(cpu, &w, Some(&b))?);
        }
        let hw = Tensor::cat(&[npi.heads.end.weight(), npi.heads.key.weight(), npi.heads.args.weight()], 0)?;
        let hb = Tensor::cat(&[npi.heads.end.bias().unwrap(), npi.heads.key.bias().unwrap(), npi.heads.args.bias().unwrap()], 0)?;
        let heads = Dense::from(cpu, &hw, Some(&hb))?;
        let keys_t: Vec<f32> = npi.memory.keys.t()?.contiguous()?.flatten_all()?.to_vec1()?;
        debug_assert_eq!(keys_t.len(), cfg.key * (n + 1));
        Ok(Engine { shape, cpu, hidden: cfg.hidden, layers: cfg.layers, enc1, enc1_pixels, cnn, enc2, fuse, core0_program, core, heads, keys_t, key: cfg.key, split: Default::default() })
    }

    /// The core's weights split by hidden unit into two halves, for
    /// [`Engine::step_split`] (made once, on the first call).
    pub fn split(&self) -> &SplitCore {
        self.split.get_or_init(|| self.make_split())
    }

    fn make_split(&self) -> SplitCore {
        let hd = self.hidden;
        let cut = [0, hd / 2, hd];
        // Half `h`'s columns of a `(.., 4H)` row: i, f, g, o of its units.
        let columns = |row: &[f32], h: usize, out: &mut Vec<f32>| {
            for g in 0..4 {
                out.extend_from_slice(&row[g * hd + cut[h]..g * hd + cut[h + 1]]);
            }
        };
        let layers = self
            .core
            .iter()
            .map(|d| {
                std::array::from_fn(|h| {
                    let (mut wt, mut bias) = (Vec::new(), Vec::new());
                    for r in 0..d.k {
                        columns(&d.wt[r * d.n..(r + 1) * d.n], h, &mut wt);
                    }
                    columns(&d.bias, h, &mut bias);
                    Half { wt, bias, units: cut[h]..cut[h + 1] }
                })
            })
            .collect();
        let core0_program = self.core0_program.as_ref().map(|per| {
            std::array::from_fn(|h| {
                let mut out = Vec::new();
                for row in per.chunks(4 * hd) {
                    columns(row, h, &mut out);
                }
                out
            })
        });
        SplitCore { cpu: self.cpu, layers, core0_program, halves: Default::default() }
    }

    /// The state of a frame that has just been called.
    pub fn fresh_state(&self) -> State {
        State { h: vec![0.0; self.layers * self.hidden], c: vec![0.0; self.layers * self.hidden] }
    }

    /// One step for every row of `inputs`; `states[r]` is row `r`'s frame
    /// state, advanced in place. Decisions are written to `out`.
    pub fn step(&self, inputs: &StepInputs, states: &mut [&mut State], out: &mut Vec<Decision>, s: &mut Scratch) {
        self.step_split(inputs, states, out, s, None)
    }

    /// [`Engine::step`], with the LSTM layers of steps of at most two rows
    /// run half on this thread and half on `pair`'s partner when `split` is
    /// given (`split` from [`Engine::split`]). The decisions and states are
    /// the same bits either way.
    pub fn step_split(&self, inputs: &StepInputs, states: &mut [&mut State], out: &mut Vec<Decision>, s: &mut Scratch, split: Option<(&SplitCore, &Pair)>) {
        let rows = inputs.rows();
        assert_eq!(states.len(), rows);
        out.clear();
        if rows == 0 {
            return;
        }
        let hd = self.hidden;
        // Encoder, first layer: a sum of rows of W1^T, plus the pixels'
        // product with their columns where a row shows an image.
        let e = self.enc1.n;
        let images = self.enc1_pixels.as_ref().filter(|_| !inputs.pixels.is_empty());
        s.a.clear();
        let mut start = 0;
        for &end in &inputs.ends {
            let row0 = s.a.len();
            s.a.extend_from_slice(&self.enc1.bias);
            let row = &mut s.a[row0..];
            for &j in &inputs.hot[start..end] {
                add_to(self.cpu, row, &self.enc1.wt[j * e..(j + 1) * e]);
            }
            if images.is_none() {
                relu(row);
            }
            start = end;
        }
        if let Some(d) = images {
            add_pixels(self.cpu, d, self.cnn.as_ref(), &inputs.pixels, &mut s.a, &mut s.px, &mut s.pa, &mut s.conv);
            relu(&mut s.a);
        }
        // Encoder, second layer.
        dense(self.cpu, &self.enc2, &s.a, rows, &mut s.b);
        // Fuse.
        let x_width = match &self.fuse {
            Some((w, per)) => {
                let f = w.n;
                s.x.clear();
                for &p in &inputs.programs {
                    s.x.extend_from_slice(&per[p as usize * f..(p as usize + 1) * f]);
                }
                matmul_acc(self.cpu, &s.b, rows, w, &mut s.x);
                relu(&mut s.x);
                f
            }
            None => {
                std::mem::swap(&mut s.x, &mut s.b);
                self.enc2.n
            }
        };
        // Core LSTM.
        let mut width = x_width;
        for (l, layer) in self.core.iter().enumerate() {
            let k = width + hd;
            debug_assert_eq!(layer.k, k);
            // Stage [x, h] per row.
            s.b.clear();
            for (r, st) in states.iter().enumerate() {
                s.b.extend_from_slice(&s.x[r * width..(r + 1) * width]);
                s.b.extend_from_slice(&st.h[l * hd..(l + 1) * hd]);
            }
            if let Some((split, pair)) = split.filter(|_| rows <= 2) {
                s.x.clear();
                s.x.resize(rows * hd, 0.0);
                let xo = SendPtr(s.x.as_mut_ptr());
                let mut cs = [SendPtr(std::ptr::null_mut()); 2];
                let mut hs = [SendPtr(std::ptr::null_mut()); 2];
                for (r, st) in states.iter_mut().enumerate() {
                    cs[r] = SendPtr(st.c[l * hd..].as_mut_ptr());
                    hs[r] = SendPtr(st.h[l * hd..].as_mut_ptr());
                }
                let b = &s.b;
                let programs = &inputs.programs;
                pair.run(&|h| {
                    // SAFETY: half h reads and writes only units split.layers[l][h].units
                    // of each row's c, h and x; the two halves are disjoint.
                    unsafe { split.layer_half(l, h, rows, k, b, programs, &cs, &hs, xo) }
                });
                width = hd;
                continue;
            }
            s.gates.clear();
            for r in 0..rows {
                s.gates.extend_from_slice(&layer.bias);
                if l == 0 {
                    if let Some(per) = &self.core0_program {
                        let p = inputs.programs[r] as usize;
                        let g = s.gates.len() - 4 * hd;
                        add_to(self.cpu, &mut s.gates[g..], &per[p * 4 * hd..(p + 1) * 4 * hd]);
                    }
                }
            }
            matmul_acc(self.cpu, &s.b, rows, layer, &mut s.gates);
            s.c.resize(hd, 0.0);
            s.tc.resize(hd, 0.0);
            s.x.clear();
            s.x.resize(rows * hd, 0.0);
            for (r, st) in states.iter_mut().enumerate() {
                let g = &mut s.gates[r * 4 * hd..(r + 1) * 4 * hd];
                let h = &mut s.x[r * hd..(r + 1) * hd];
                kernels::cell_forward(self.cpu, g, Some(&st.c[l * hd..(l + 1) * hd]), &mut s.c, &mut s.tc, h);
                st.c[l * hd..(l + 1) * hd].copy_from_slice(&s.c);
                st.h[l * hd..(l + 1) * hd].copy_from_slice(h);
            }
            width = hd;
        }
        // Heads.
        dense(self.cpu, &self.heads, &s.x, rows, &mut s.out);
        let (kd, aw, nc) = (self.key, self.shape.arg_width(), self.shape.call_classes());
        let ow = self.heads.n;
        for r in 0..rows {
            let o = &s.out[r * ow..(r + 1) * ow];
            let key = &o[1..1 + kd];
            s.calls.clear();
            s.calls.resize(nc, 0.0);
            for (i, &kv) in key.iter().enumerate() {
                add_scaled(&mut s.calls, &self.keys_t[i * nc..(i + 1) * nc], kv);
            }
            let mut args = [0u16; ARG_SLOTS];
            for (slot, a) in args.iter_mut().enumerate() {
                let lo = 1 + kd + slot * aw;
                *a = self.shape.arg_value(argmax(&o[lo..lo + aw]));
            }
            out.push(Decision { end_logit: o[0], call: argmax(&s.calls) as u32, args });
        }
    }
}

/// The encoder's first layer `l1`: its one-hot columns with the bias, and
/// its pixel columns (or with a CNN its feature columns) when `shape` has
/// an image.
fn first_layer(cpu: Cpu, encoder: &Encoder, shape: &ModelShape) -> candle_core::Result<(Dense, Option<Dense>)> {
    let l1 = &encoder.l1;
    let (w, b) = (l1.weight(), l1.bias());
    if shape.image_pixels() == 0 {
        return Ok((Dense::from(cpu, w, b)?, None));
    }
    let at = encoder.pixel_offset();
    let columns = w.dim(1)? - at;
    Ok((Dense::from(cpu, &w.narrow(1, 0, at)?, b)?, Some(Dense::from(cpu, &w.narrow(1, at, columns)?, None)?)))
}

/// A 3x3 convolution of stride 2 and padding 1 with a ReLU, as a GEMM of
/// the input's patches: `out (positions, out) = patches (positions, in *
/// 9) * wt (in * 9, out)`, position-major like the model's
/// ([`Conv::forward`]).
#[derive(Debug)]
struct ConvLayer {
    /// `in * 9 -> out`, from the candle weight `(out, in, 3, 3)`.
    dense: Dense,
    /// [`Conv::patches`] of the layer's input.
    patches: Vec<u32>,
}

impl ConvLayer {
    fn new(cpu: Cpu, conv: &Conv, side: usize) -> candle_core::Result<ConvLayer> {
        let (out, input, kh, kw) = conv.weight.dims4()?;
        if (kh, kw) != (3, 3) {
            candle_core::bail!("a {kh}x{kw} convolution where the engine runs 3x3 ones");
        }
        let dense = Dense::from(cpu, &conv.weight.reshape((out, input * 9))?, Some(&conv.bias))?;
        Ok(ConvLayer { dense, patches: Conv::patches(side, input) })
    }

    /// `x`: the layer's input, `(positions, in)`; writes `(o * o, out)`
    /// to `out`. `patches` is a work buffer.
    fn forward(&self, cpu: Cpu, x: &[f32], out: &mut Vec<f32>, patches: &mut Vec<f32>) {
        patches.clear();
        // The index's past-the-end column is the padding's zero.
        patches.extend(self.patches.iter().map(|&i| x.get(i as usize).copied().unwrap_or(0.0)));
        let positions = patches.len() / self.dense.k;
        dense(cpu, &self.dense, patches, positions, out);
        relu(out);
    }
}

/// The CNN of `vision: cnn` ([`super::model::Cnn`]) in plain Rust.
#[derive(Debug)]
struct ConvNet {
    c1: ConvLayer,
    c2: ConvLayer,
    side: usize,
}

/// Work buffers of [`ConvNet::features`].
#[derive(Default)]
struct ConvScratch {
    image: Vec<f32>,
    hidden: Vec<f32>,
    out: Vec<f32>,
    patches: Vec<f32>,
}

impl ConvNet {
    fn new(cpu: Cpu, cnn: &Cnn) -> candle_core::Result<ConvNet> {
        let side = cnn.side;
        Ok(ConvNet { c1: ConvLayer::new(cpu, &cnn.c1, side)?, c2: ConvLayer::new(cpu, &cnn.c2, conv_side(side))?, side })
    }

    /// Appends the features of `image` (`side * side` pixels; pixels
    /// beyond are ignored, missing ones are black) to `out`.
    fn features(&self, cpu: Cpu, image: &[f32], out: &mut Vec<f32>, s: &mut ConvScratch) {
        let n = self.side * self.side;
        s.image.clear();
        s.image.extend_from_slice(&image[..image.len().min(n)]);
        s.image.resize(n, 0.0);
        self.c1.forward(cpu, &s.image, &mut s.hidden, &mut s.patches);
        self.c2.forward(cpu, &s.hidden, &mut s.out, &mut s.patches);
        out.extend_from_slice(&s.out);
    }
}

/// Adds `d`'s product with each image row's pixels (or with `cnn`, with
/// their CNN features) to that row of `a` (`rows x d.n`). `px`, `pa` and
/// `conv` are work buffers. Pixels beyond `d.k` are ignored, missing ones
/// are black.
#[allow(clippy::too_many_arguments)]
fn add_pixels(cpu: Cpu, d: &Dense, cnn: Option<&ConvNet>, rows: &[(usize, Arc<[f32]>)], a: &mut [f32], px: &mut Vec<f32>, pa: &mut Vec<f32>, conv: &mut ConvScratch) {
    let (k, n, m) = (d.k, d.n, rows.len());
    px.clear();
    for (_, p) in rows {
        let row0 = px.len();
        match cnn {
            Some(cnn) => cnn.features(cpu, p, px, conv),
            None => px.extend_from_slice(&p[..p.len().min(k)]),
        }
        px.resize(row0 + k, 0.0);
    }
    pa.clear();
    pa.resize(m * n, 0.0);
    matmul_acc(cpu, px, m, d, pa);
    for (i, &(r, _)) in rows.iter().enumerate() {
        add_to(cpu, &mut a[r * n..(r + 1) * n], &pa[i * n..(i + 1) * n]);
    }
}

/// `out (rows, n) = bias + x (rows, k) * wt (k, n)`.
fn dense(cpu: Cpu, d: &Dense, x: &[f32], rows: usize, out: &mut Vec<f32>) {
    out.clear();
    for _ in 0..rows {
        out.extend_from_slice(&d.bias);
    }
    matmul_acc(cpu, x, rows, d, out);
}

/// `out (rows, n) += x (rows, k) * wt (k, n)`.
fn matmul_acc(cpu: Cpu, x: &[f32], rows: usize, d: &Dense, out: &mut [f32]) {
    let (k, n) = (d.k, d.n);
    assert!(x.len() >= rows * k && out.len() >= rows * n);
    if rows <= 2 {
        for r in 0..rows {
            axpy_rows(cpu, &mut out[r * n..(r + 1) * n], &x[r * k..(r + 1) * k], &d.wt);
        }
    } else {
        // SAFETY: x holds (rows, k) and out (rows, n), as just checked.
        unsafe { gemm(rows, Mat::rows(x, k), (&d.packed).into(), out.as_mut_ptr(), n, true) };
    }
}

kernels::multiversion! {
    /// `out (n) += sum_k x[k] * wt[k, :]`, skipping zero inputs, four rows
    /// of `wt` at a time.
    fn axpy_rows(out: &mut [f32], x: &[f32], wt: &[f32]) => axpy_rows_generic
}

#[inline(always)]
fn axpy_rows_generic(out: &mut [f32], x: &[f32], wt: &[f32]) {
    let n = out.len();
    let mut nz = [0usize; 4];
    let mut m = 0;
    for (i, &v) in x.iter().enumerate() {
        if v != 0.0 {
            nz[m] = i;
            m += 1;
            if m == 4 {
                axpy4(out, x, wt, n, nz);
                m = 0;
            }
        }
    }
    for &a in &nz[..m] {
        let (wa, xa) = (&wt[a * n..(a + 1) * n], x[a]);
        for j in 0..n {
            out[j] += xa * wa[j];
        }
    }
}

/// `out += x[a] wt[a] + x[b] wt[b] + x[c] wt[c] + x[d] wt[d]` for the
/// rows `[a, b, c, d]` of `wt` (each `n` wide).
#[inline(always)]
fn axpy4(out: &mut [f32], x: &[f32], wt: &[f32], n: usize, [a, b, c, d]: [usize; 4]) {
    let (wa, wb, wc, wd) = (&wt[a * n..(a + 1) * n], &wt[b * n..(b + 1) * n], &wt[c * n..(c + 1) * n], &wt[d * n..(d + 1) * n]);
    let (xa, xb, xc, xd) = (x[a], x[b], x[c], x[d]);
    let out = &mut out[..n];
    for j in 0..n {
        out[j] += xa * wa[j] + xb * wb[j] + xc * wc[j] + xd * wd[j];
    }
}

kernels::multiversion! {
    fn add_to(out: &mut [f32], x: &[f32]) => add_to_generic
}

#[inline(always)]
fn add_to_generic(out: &mut [f32], x: &[f32]) {
    let x = &x[..out.len()];
    for (o, v) in out.iter_mut().zip(x) {
        *o += v;
    }
}

fn add_scaled(out: &mut [f32], x: &[f32], a: f32) {
    for (o, v) in out.iter_mut().zip(x) {
        *o += a * v;
    }
}

fn relu(x: &mut [f32]) {
    for v in x {
        *v = v.max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npi::config::{Fuse, NpiConfig, Observe, Vision};
    use crate::npi::data::{Dataset, ModelShape};
    use rand::{Rng, SeedableRng};
    use synth_compiler::{Call, EndConvention, Frame, ProgramInfo, Step, Trace, NO_ARGS};

    fn shape() -> ModelShape {
        let programs: Vec<ProgramInfo> = [("ACT", 3), ("MAIN", 0), ("SUB", 1)]
            .iter()
            .map(|&(n, a)| ProgramInfo { name: n.into(), arity: a, level: 0, recursive: false })
            .collect();
        ModelShape::new(vec![5, 2, 3], 4, &programs, EndConvention::OwnStep)
    }

    /// The layout of [`shape`] and the range each feature draws from.
    fn plain() -> (ModelShape, Vec<u16>) {
        (shape(), vec![5, 2, 3])
    }

    /// A pose world's layout with `side`-pixel images and its ranges.
    fn pictured(side: u16) -> (ModelShape, Vec<u16>) {
        (crate::npi::data::tests::image_shape(side), crate::npi::data::tests::IMAGE_RANGES.to_vec())
    }

    /// Random frames: the engine, stepping through them, must decide what
    /// the candle model decides on the packed batch, both on `cpu`'s path.
    /// Returns the end logits of every step, one frame at a time and then
    /// all frames in lockstep.
    fn engine_matches_model_on(cpu: Cpu, fuse: Fuse, vision: Vision, hidden: usize, (shape, ranges): (ModelShape, Vec<u16>)) -> Vec<f32> {
        let cfg = NpiConfig { hidden, layers: 2, embedding: 6, key: 5, encoder: 12, state: 10, fuse, fuse_hidden: 14, observe: Observe::All, vision };
        let mut npi = Npi::new(&cfg, &shape, 11).unwrap();
        npi.set_cpu(cpu);
        let mut logits = Vec::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut trace = Trace { size: 0, seed: 0, obs_width: ranges.len(), frames: Vec::new(), steps: Vec::new(), obs: Vec::new() };
        for f in 0..6 {
            let len = 1 + f % 4 + f / 2;
            let first = trace.steps.len() as u32;
            for t in 0..len {
                let end = t + 1 == len;
                let call = (!end).then(|| Call { program: 0, args: [rng.random_range(0..4), rng.random_range(0..4), rng.random_range(0..4)] });
                trace.steps.push(Step { call, end, child: None });
                trace.obs.extend(ranges.iter().map(|&c| rng.random_range(0..c)));
            }
            let args = if f % 2 == 0 { NO_ARGS } else { [rng.random_range(0..4), synth_compiler::NO_ARG, synth_compiler::NO_ARG] };
            trace.frames.push(Frame { program: 1 + (f % 2) as u16, args, parent: None, depth: 0, first_step: first, len: len as u32 });
        }
        let data = Dataset::from_traces(&shape, [&trace]);
        let ids: Vec<usize> = (0..data.frames.len()).collect();
        let batch = data.batch(&ids, &candle_core::Device::Cpu).unwrap();
        let out = npi.forward(&batch).unwrap();
        let end: Vec<f32> = out.end.to_vec1().unwrap();
        let calls: Vec<Vec<f32>> = out.calls.to_vec2().unwrap();
        let engine = Engine::new(&npi).unwrap();
        // Row of (frame, step) in the packed batch.
        let mut row_of = std::collections::HashMap::new();
        for (r, &f) in batch.row_frame.iter().enumerate() {
            let step = row_of.keys().filter(|(ff, _)| *ff == f).count();
            row_of.insert((f, step), r);
        }
        let mut scratch = Scratch::default();
        let mut tmp = Vec::new();
        for (f, fr) in data.frames.iter().enumerate() {
            let mut state = engine.fresh_state();
            for t in 0..fr.len {
                let mut inputs = StepInputs::default();
                inputs.push(&shape, fr.program, data.obs(fr.first + t), &fr.args, &mut tmp);
                let mut out = Vec::new();
                engine.step(&inputs, &mut [&mut state], &mut out, &mut scratch);
                let r = row_of[&(f, t)];
                assert!((out[0].end_logit - end[r]).abs() < 1e-4, "end logit frame {f} step {t}: {} vs {}", out[0].end_logit, end[r]);
                assert_eq!(out[0].call as usize, crate::npi::model::argmax(&calls[r]), "call at frame {f} step {t}");
                logits.push(out[0].end_logit);
            }
        }
        // All frames in lockstep: the batched path.
        let mut states: Vec<State> = data.frames.iter().map(|_| engine.fresh_state()).collect();
        for t in 0.. {
            let live: Vec<usize> = (0..data.frames.len()).filter(|&f| data.frames[f].len > t).collect();
            if live.is_empty() {
                break;
            }
            let mut inputs = StepInputs::default();
            for &f in &live {
                let fr = &data.frames[f];
                inputs.push(&shape, fr.program, data.obs(fr.first + t), &fr.args, &mut tmp);
            }
            let mut refs: Vec<&mut State> = states.iter_mut().enumerate().filter(|(f, _)| live.contains(f)).map(|(_, s)| s).collect();
            let mut out = Vec::new();
            engine.step(&inputs, &mut refs, &mut out, &mut scratch);
            for (k, &f) in live.iter().enumerate() {
                let r = row_of[&(f, t)];
                assert!((out[k].end_logit - end[r]).abs() < 1e-4, "batched end logit frame {f} step {t}");
                logits.push(out[k].end_logit);
            }
        }
        logits
    }

    /// [`engine_matches_model_on`] on every path this CPU supports, each
    /// path's logits also compared with the portable path's.
    fn engine_matches_model(fuse: Fuse, hidden: usize, layout: impl Fn() -> (ModelShape, Vec<u16>)) {
        engine_matches_model_seeing(fuse, Vision::Pixels, hidden, layout)
    }

    /// [`engine_matches_model`] with the encoder seeing images as `vision`
    /// says.
    fn engine_matches_model_seeing(fuse: Fuse, vision: Vision, hidden: usize, layout: impl Fn() -> (ModelShape, Vec<u16>)) {
        let portable = engine_matches_model_on(Cpu::portable(), fuse, vision, hidden, layout());
        for cpu in Cpu::all() {
            let got = engine_matches_model_on(cpu, fuse, vision, hidden, layout());
            assert_eq!(got.len(), portable.len());
            for (i, (a, b)) in got.iter().zip(&portable).enumerate() {
                assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "step {i} on {:?}: {a} vs portable {b}", cpu.isa());
            }
        }
    }

    #[test]
    fn engine_matches_model_fuse_mlp() {
        engine_matches_model(Fuse::Mlp, 16, plain);
    }

    #[test]
    fn engine_matches_model_fuse_concat() {
        engine_matches_model(Fuse::Concat, 16, plain);
    }

    /// Layers wide enough for the packed GEMM's full blocks and for vector
    /// tails in the element-wise kernels.
    #[test]
    fn engine_matches_model_wide() {
        engine_matches_model(Fuse::Mlp, 45, plain);
    }

    /// Inputs with images: the pixel columns' product, one row at a time
    /// and as a GEMM over the lockstep rows.
    #[test]
    fn engine_matches_model_on_images_fuse_mlp() {
        engine_matches_model(Fuse::Mlp, 16, || pictured(8));
    }

    #[test]
    fn engine_matches_model_on_images_fuse_concat() {
        engine_matches_model(Fuse::Concat, 16, || pictured(16));
    }

    /// Images through the CNN (`vision: cnn`): the plain-Rust convolutions
    /// compute candle's, on an even side and an odd one (whose last
    /// output's patch reaches into the padding).
    #[test]
    fn engine_matches_model_on_images_cnn_fuse_mlp() {
        engine_matches_model_seeing(Fuse::Mlp, Vision::Cnn, 16, || pictured(16));
    }

    #[test]
    fn engine_matches_model_on_images_cnn_fuse_concat() {
        engine_matches_model_seeing(Fuse::Concat, Vision::Cnn, 16, || pictured(9));
    }

    /// Rows that show no image have no CNN features, in the model and in
    /// the engine.
    #[test]
    fn engine_matches_model_on_images_cnn_some_rows() {
        engine_matches_model_seeing(Fuse::Mlp, Vision::Cnn, 16, || {
            let (mut shape, ranges) = pictured(8);
            shape.observed = Some(vec![vec![true; 5], vec![false, true, false, false, true], vec![true; 5]]);
            (shape, ranges)
        });
    }

    /// Only some programs see the image (`observe: decisions`): rows with
    /// and without one in the same step.
    #[test]
    fn engine_matches_model_on_images_some_rows() {
        engine_matches_model(Fuse::Mlp, 16, || {
            let (mut shape, ranges) = pictured(8);
            shape.observed = Some(vec![vec![true; 5], vec![false, true, false, false, true], vec![true; 5]]);
            (shape, ranges)
        });
    }

    /// A world without an image steps exactly as before images: the
    /// one-hot path's bits do not depend on the image code.
    #[test]
    fn an_engine_without_an_image_has_no_pixel_columns() {
        let vision = Vision::Pixels;
        let cfg = NpiConfig { hidden: 8, layers: 1, embedding: 6, key: 5, encoder: 12, state: 10, fuse: Fuse::Mlp, fuse_hidden: 14, observe: Observe::All, vision };
        let engine = Engine::new(&Npi::new(&cfg, &shape(), 1).unwrap()).unwrap();
        assert!(engine.enc1_pixels.is_none());
        assert_eq!(engine.enc1.k, shape().input_width());
        let mut inputs = StepInputs::default();
        inputs.push(&shape(), 1, &[1, 0, 2], &[0, 0, 0], &mut Vec::new());
        assert!(inputs.pixels.is_empty());
        let pictured = Engine::new(&Npi::new(&cfg, &pictured(8).0, 1).unwrap()).unwrap();
        assert_eq!((pictured.enc1.k, pictured.enc1_pixels.as_ref().map(|d| (d.k, d.n))), (23, Some((64, 12))));
        assert!(pictured.cnn.is_none());
        // With a CNN, the feature columns: 16 channels of 2 x 2 for 8 x 8.
        let cnn = Engine::new(&Npi::new(&NpiConfig { vision: Vision::Cnn, ..cfg.clone() }, &super::tests::pictured(8).0, 1).unwrap()).unwrap();
        assert_eq!((cnn.enc1.k, cnn.enc1_pixels.as_ref().map(|d| (d.k, d.n))), (23, Some((64, 12))));
        assert!(cnn.cnn.is_some());
        let cnn = Engine::new(&Npi::new(&NpiConfig { vision: Vision::Cnn, ..cfg.clone() }, &super::tests::pictured(16).0, 1).unwrap()).unwrap();
        assert_eq!(cnn.enc1_pixels.as_ref().map(|d| (d.k, d.n)), Some((256, 12)));
        // No CNN without an image.
        let plain = Engine::new(&Npi::new(&NpiConfig { vision: Vision::Cnn, ..cfg }, &shape(), 1).unwrap()).unwrap();
        assert!(plain.cnn.is_none() && plain.enc1_pixels.is_none());
    }

    /// Stepping with the core split over two threads gives the same bits
    /// as one thread, one and two rows at a time, odd hidden sizes included.
    fn split_matches_one_thread(fuse: Fuse, hidden: usize) {
        for cpu in Cpu::all() {
            split_matches_one_thread_on(cpu, fuse, Vision::Pixels, hidden, plain());
        }
    }

    fn split_matches_one_thread_on(cpu: Cpu, fuse: Fuse, vision: Vision, hidden: usize, (shape, ranges): (ModelShape, Vec<u16>)) {
        let cfg = NpiConfig { hidden, layers: 2, embedding: 6, key: 5, encoder: 12, state: 10, fuse, fuse_hidden: 14, observe: Observe::All, vision };
        let mut npi = Npi::new(&cfg, &shape, 3).unwrap();
        npi.set_cpu(cpu);
        let engine = Engine::new(&npi).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let (mut scratch, mut tmp) = (Scratch::default(), Vec::new());
        crate::pair::with_pair(|pair| {
            for rows in [1, 2] {
                let mut one: Vec<State> = (0..rows).map(|_| engine.fresh_state()).collect();
                let mut two = one.clone();
                for _ in 0..12 {
                    let mut inputs = StepInputs::default();
                    for _ in 0..rows {
                        let obs: Vec<u16> = ranges.iter().map(|&c| rng.random_range(0..c)).collect();
                        inputs.push(&shape, rng.random_range(1..3), &obs, &[rng.random_range(0..4), 0, 0], &mut tmp);
                    }
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    engine.step(&inputs, &mut one.iter_mut().collect::<Vec<_>>(), &mut a, &mut scratch);
                    engine.step_split(&inputs, &mut two.iter_mut().collect::<Vec<_>>(), &mut b, &mut scratch, Some((engine.split(), pair)));
                    assert_eq!(a, b);
                    assert_eq!(one, two);
                }
            }
        });
    }

    #[test]
    fn split_matches_one_thread_fuse_mlp() {
        split_matches_one_thread(Fuse::Mlp, 16);
        split_matches_one_thread(Fuse::Mlp, 15);
    }

    #[test]
    fn split_matches_one_thread_on_images() {
        for cpu in Cpu::all() {
            split_matches_one_thread_on(cpu, Fuse::Mlp, Vision::Pixels, 15, pictured(8));
            split_matches_one_thread_on(cpu, Fuse::Mlp, Vision::Cnn, 15, pictured(8));
        }
    }

    #[test]
    fn split_matches_one_thread_fuse_concat() {
        split_matches_one_thread(Fuse::Concat, 16);
        split_matches_one_thread(Fuse::Concat, 7);
    }
}
