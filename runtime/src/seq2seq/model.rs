//! The seq2seq model: an LSTM encoder reads the input (a sampled pad, an
//! input tape: [`super::data`]), an LSTM decoder writes the output, one
//! token at a time.
//!
//! ```text
//! input rows, each ended by ROW_END --embed--> LSTM x layers --> last h = context
//! GO, out[0], out[1], ... --embed--> [e; context] --> LSTM x layers --> h --head--> next token
//! ```
//!
//! The decoder sees the context at every step (Cho et al. 2014), so the two
//! LSTMs run as packed batches through the same fused layer as the NPI
//! ([`crate::npi::lstm`]). Training is teacher-forced; inference is greedy,
//! each step fed the model's own previous token, for as many tokens as the
//! output rows hold (the world fixes the output's length; the model does
//! not predict it).

use super::config::Seq2SeqConfig;
use crate::kernels::Cpu;
use crate::npi::lstm::{Lstm, Packing};
use crate::npi::model::linear;
use crate::params::{self, SeededInit};
use candle_core::{Device, Tensor};
use candle_nn::{Init, Linear, VarBuilder, VarMap};
use std::sync::Arc;

/// An example as token sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// Every row of the sampled pad, each followed by ROW_END.
    pub input: Vec<u32>,
    /// Every output row after the reference run, each followed by ROW_END.
    pub target: Vec<u32>,
}

pub struct Seq2Seq {
    pub config: Seq2SeqConfig,
    pub varmap: VarMap,
    /// `(vocab, embedding)`.
    pub embedding: Tensor,
    pub encoder: Vec<Lstm>,
    pub decoder: Vec<Lstm>,
    /// `hidden -> vocab`.
    pub head: Linear,
    /// With attention: `[context; h] (2 hidden) -> hidden`, then tanh,
    /// before the head.
    pub attend: Option<Linear>,
    threads: usize,
    cpu: Cpu,
}

impl Seq2Seq {
    /// A fresh model with parameters drawn from `seed`.
    pub fn new(config: &Seq2SeqConfig, seed: u64) -> candle_core::Result<Seq2Seq> {
        let varmap = VarMap::new();
        let vb = SeededInit::builder(&varmap, seed, &Device::Cpu);
        let m = Seq2Seq::build(config, varmap.clone(), vb)?;
        for (i, l) in m.encoder.iter().chain(&m.decoder).enumerate() {
            let name = if i < m.encoder.len() { format!("encoder.l{i}.w") } else { format!("decoder.l{}.w", i - m.encoder.len()) };
            let w = l.w.flatten_all()?.to_vec1::<f32>()?;
            params::set_var(&varmap, &name, l.with_initial_bias(&w))?;
        }
        Ok(m)
    }

    /// The model over existing parameters (checked by name and shape).
    pub fn from_varmap(config: &Seq2SeqConfig, varmap: VarMap) -> candle_core::Result<Seq2Seq> {
        let (vb, used) = params::existing_builder(&varmap, &Device::Cpu);
        let m = Seq2Seq::build(config, varmap.clone(), vb)?;
        if let Some(name) = used.unused(&varmap).first() {
            candle_core::bail!("the weights hold `{name}`, which the config's model does not use");
        }
        Ok(m)
    }

    fn build(c: &Seq2SeqConfig, varmap: VarMap, vb: VarBuilder) -> candle_core::Result<Seq2Seq> {
        let embedding = vb.get_with_hints((c.vocab(), c.embedding), "embedding", Init::Randn { mean: 0.0, stdev: 1.0 })?;
        let layers = |prefix: &str, first: usize| -> candle_core::Result<Vec<Lstm>> {
            (0..c.layers).map(|i| Lstm::new(vb.pp(prefix).pp(format!("l{i}")), if i == 0 { first } else { c.hidden }, c.hidden)).collect()
        };
        let encoder = layers("encoder", c.embedding)?;
        let decoder = layers("decoder", c.embedding + c.hidden)?;
        let head = linear(vb.pp("head"), c.hidden, c.vocab())?;
        let attend = if c.attention { Some(linear(vb.pp("attend"), 2 * c.hidden, c.hidden)?) } else { None };
        Ok(Seq2Seq { config: c.clone(), varmap, embedding, encoder, decoder, head, attend, threads: 1, cpu: Cpu::default() })
    }

    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// The encoder over `inputs`: the top layer's output rows, each input's
    /// last row (its context), and each input's rows in order.
    fn encode_batch(&self, inputs: &[&[u32]]) -> candle_core::Result<(Tensor, Vec<u32>, Vec<Vec<u32>>)> {
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(inputs[i].len()));
        let lens: Vec<usize> = order.iter().map(|&i| inputs[i].len()).collect();
        let packing = Arc::new(Packing::new(&lens));
        let mut tokens = Vec::with_capacity(packing.rows());
        for t in 0..packing.steps() {
            tokens.extend(order[..packing.batch_size(t)].iter().map(|&i| inputs[i][t]));
        }
        let mut x = self.embedding.index_select(&Tensor::new(tokens, &Device::Cpu)?, 0)?;
        for l in &self.encoder {
            x = l.forward(&x, &packing, self.threads, self.cpu)?;
        }
        let mut rows = vec![Vec::new(); inputs.len()];
        for (b, &i) in order.iter().enumerate() {
            rows[i] = (0..lens[b]).map(|t| packing.row(t, b) as u32).collect();
        }
        let last = rows.iter().map(|r| *r.last().expect("no empty input")).collect();
        Ok((x, last, rows))
    }

    /// Dot-product attention of the decoder's top rows `x` (packed as
    /// `packing`, example `order[b]` in slot `b`) over the encoder's rows
    /// `enc` of each example (`rows`): `tanh(W [context; h] + b)` per row.
    fn attention(&self, attend: &Linear, x: &Tensor, packing: &Packing, order: &[usize], enc: &Tensor, rows: &[Vec<u32>]) -> candle_core::Result<Tensor> {
        let (n, h) = (order.len(), self.config.hidden);
        let te = rows.iter().map(Vec::len).max().unwrap_or(1);
        let td = packing.steps();
        let mut enc_idx = vec![0u32; n * te];
        let mut mask = vec![-1e9f32; n * te];
        for (i, r) in rows.iter().enumerate() {
            for (k, &row) in r.iter().enumerate() {
                enc_idx[i * te + k] = row;
                mask[i * te + k] = 0.0;
            }
        }
        let (mut dec_idx, mut back) = (vec![0u32; n * td], vec![0u32; packing.rows()]);
        for t in 0..td {
            for (b, &i) in order[..packing.batch_size(t)].iter().enumerate() {
                let row = packing.row(t, b);
                dec_idx[i * td + t] = row as u32;
                back[row] = (i * td + t) as u32;
            }
        }
        let e_pad = enc.index_select(&Tensor::new(enc_idx, &Device::Cpu)?, 0)?.reshape((n, te, h))?;
        let d_pad = x.index_select(&Tensor::new(dec_idx, &Device::Cpu)?, 0)?.reshape((n, td, h))?;
        let mask = Tensor::from_vec(mask, (n, 1, te), &Device::Cpu)?;
        let scores = d_pad.matmul(&e_pad.transpose(1, 2)?.contiguous()?)?.broadcast_add(&mask)?;
        let weights = candle_nn::ops::softmax(&scores, candle_core::D::Minus1)?;
        let ctx = weights.matmul(&e_pad)?.reshape((n * td, h))?.index_select(&Tensor::new(back, &Device::Cpu)?, 0)?;
        crate::dense::linear(&Tensor::cat(&[&ctx, x], 1)?, attend, self.threads)?.tanh()
    }

    /// Mean cross-entropy of the targets, teacher-forced.
    pub fn loss(&self, batch: &[&Encoded]) -> candle_core::Result<Tensor> {
        let (logits, want) = self.logits(batch)?;
        candle_nn::loss::cross_entropy(&logits, &Tensor::new(want, &Device::Cpu)?)
    }

    /// The teacher-forced logits `(rows, vocab)` of every output token, and
    /// the targets, both packed (time-major, longest target first).
    pub fn logits(&self, batch: &[&Encoded]) -> candle_core::Result<(Tensor, Vec<u32>)> {
        let inputs: Vec<&[u32]> = batch.iter().map(|e| e.input.as_slice()).collect();
        let (enc, last, enc_rows) = self.encode_batch(&inputs)?;
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(batch[i].target.len()));
        let lens: Vec<usize> = order.iter().map(|&i| batch[i].target.len()).collect();
        let packing = Arc::new(Packing::new(&lens));
        let (mut fed, mut want, mut ctx) = (Vec::new(), Vec::new(), Vec::new());
        for t in 0..packing.steps() {
            for &i in &order[..packing.batch_size(t)] {
                let target = &batch[i].target;
                fed.push(if t == 0 { self.config.go() } else { target[t - 1] });
                want.push(target[t]);
                ctx.push(last[i]);
            }
        }
        let e = self.embedding.index_select(&Tensor::new(fed, &Device::Cpu)?, 0)?;
        let c = enc.index_select(&Tensor::new(ctx, &Device::Cpu)?, 0)?;
        let mut x = Tensor::cat(&[&e, &c], 1)?;
        for l in &self.decoder {
            x = l.forward(&x, &packing, self.threads, self.cpu)?;
        }
        if let Some(attend) = &self.attend {
            x = self.attention(attend, &x, &packing, &order, &enc, &enc_rows)?;
        }
        Ok((crate::dense::linear(&x, &self.head, self.threads)?, want))
    }

    /// Gradients of `loss` for every parameter (the LSTM layers hand theirs
    /// over directly, see [`Lstm::forward`]).
    pub fn backward(&self, loss: &Tensor) -> candle_core::Result<candle_core::backprop::GradStore> {
        let mut grads = loss.backward()?;
        for l in self.encoder.iter().chain(&self.decoder) {
            if let Some(g) = l.take_grad()? {
                grads.insert(&l.w, g);
            }
        }
        Ok(grads)
    }

    /// Greedy decoding: `lengths[i]` tokens for `inputs[i]`, each step fed
    /// the previous step's most likely token.
    pub fn decode(&self, inputs: &[&[u32]], lengths: &[usize]) -> candle_core::Result<Vec<Vec<u32>>> {
        let (enc, last, enc_rows) = self.encode_batch(inputs)?;
        let n = inputs.len();
        let h = self.config.hidden;
        let ctx = enc.index_select(&Tensor::new(last, &Device::Cpu)?, 0)?.flatten_all()?.to_vec1::<f32>()?;
        let attend = match &self.attend {
            Some(a) => Some((enc.flatten_all()?.to_vec1::<f32>()?, a.weight().flatten_all()?.to_vec1::<f32>()?, a.bias().expect("a bias").to_vec1::<f32>()?)),
            None => None,
        };
        let mut combined = vec![0f32; h];
        let mut scores = Vec::new();
        let emb = self.embedding.flatten_all()?.to_vec1::<f32>()?;
        let layers: Vec<Step> = self.decoder.iter().map(Step::of).collect::<candle_core::Result<_>>()?;
        let head_w = self.head.weight().flatten_all()?.to_vec1::<f32>()?;
        let head_b = self.head.bias().expect("the head has a bias").to_vec1::<f32>()?;
        let (e, v) = (self.config.embedding, self.config.vocab());
        let mut hs = vec![vec![0f32; n * h]; layers.len()];
        let mut cs = hs.clone();
        let mut prev = vec![self.config.go(); n];
        let mut out: Vec<Vec<u32>> = lengths.iter().map(|&l| Vec::with_capacity(l)).collect();
        let steps = lengths.iter().copied().max().unwrap_or(0);
        let mut x = vec![0f32; n * (e + h)];
        for t in 0..steps {
            // Every sequence runs every step (the finished ones' tokens are
            // dropped): the batch stays one matrix.
            for b in 0..n {
                let row = &mut x[b * (e + h)..(b + 1) * (e + h)];
                let tok = prev[b] as usize;
                row[..e].copy_from_slice(&emb[tok * e..(tok + 1) * e]);
                row[e..].copy_from_slice(&ctx[b * h..(b + 1) * h]);
            }
            let mut input = x.clone();
            for (k, l) in layers.iter().enumerate() {
                l.step(&input, n, &mut hs[k], &mut cs[k]);
                input = hs[k].clone();
            }
            for b in 0..n {
                let mut top = &input[b * h..(b + 1) * h];
                if let Some((enc, w, bias)) = &attend {
                    // Softmax of the dot products with this input's encoder
                    // rows, their weighted sum, and the combining layer.
                    scores.clear();
                    scores.extend(enc_rows[b].iter().map(|&r| dot(&enc[r as usize * h..(r as usize + 1) * h], top)));
                    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let sum: f32 = scores.iter_mut().map(|s| {
                        *s = (*s - max).exp();
                        *s
                    }).sum();
                    let mut ctx_b = vec![0f32; h];
                    for (&r, &s) in enc_rows[b].iter().zip(&scores) {
                        for (c, &e) in ctx_b.iter_mut().zip(&enc[r as usize * h..(r as usize + 1) * h]) {
                            *c += s / sum * e;
                        }
                    }
                    for (j, out) in combined.iter_mut().enumerate() {
                        let row = &w[j * 2 * h..(j + 1) * 2 * h];
                        *out = (bias[j] + dot(&row[..h], &ctx_b) + dot(&row[h..], top)).tanh();
                    }
                    top = &combined;
                }
                let mut best = (f32::NEG_INFINITY, 0u32);
                for j in 0..v {
                    let s = head_b[j] + dot(&head_w[j * h..(j + 1) * h], top);
                    if s > best.0 {
                        best = (s, j as u32);
                    }
                }
                prev[b] = best.1;
                if t < lengths[b] {
                    out[b].push(best.1);
                }
            }
        }
        Ok(out)
    }
}

/// One LSTM layer's weights for stepping (gate order i, f, g, o; `w` is
/// `(4H, input + 1 + H)` as in [`Lstm`]).
struct Step {
    w: Vec<f32>,
    input: usize,
    hidden: usize,
}

impl Step {
    fn of(l: &Lstm) -> candle_core::Result<Step> {
        Ok(Step { w: l.w.flatten_all()?.to_vec1::<f32>()?, input: l.input(), hidden: l.hidden() })
    }

    /// One step of `n` sequences: `x` `(n, input)`, `h` and `c` `(n, H)`
    /// updated in place.
    fn step(&self, x: &[f32], n: usize, h: &mut [f32], c: &mut [f32]) {
        let (inp, hd) = (self.input, self.hidden);
        let cols = inp + 1 + hd;
        let mut g = vec![0f32; 4 * hd];
        for b in 0..n {
            let xb = &x[b * inp..(b + 1) * inp];
            // Every gate is computed before `h` is written.
            let hb = &h[b * hd..(b + 1) * hd];
            for (j, gj) in g.iter_mut().enumerate() {
                let w = &self.w[j * cols..(j + 1) * cols];
                *gj = dot(&w[..inp], xb) + w[inp] + dot(&w[inp + 1..], hb);
            }
            for k in 0..hd {
                let i = sigmoid(g[k]);
                let f = sigmoid(g[hd + k]);
                let gg = g[2 * hd + k].tanh();
                let o = sigmoid(g[3 * hd + k]);
                let cell = f * c[b * hd + k] + i * gg;
                c[b * hd + k] = cell;
                h[b * hd + k] = o * cell.tanh();
            }
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// A dot product in eight lanes (vectorised by the compiler).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ar.iter().zip(br) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::data::Pair;
    use super::*;

    fn task(name: &str) -> synth_compiler::Task {
        let src = std::fs::read_to_string(format!("{}/../stdlib/{name}.npl", env!("CARGO_MANIFEST_DIR"))).unwrap();
        synth_compiler::compile(&src, name).unwrap().task
    }

    /// Greedy decoding (plain Rust, one step at a time) agrees with the
    /// fused layers' teacher-forced pass: fed the decoded tokens, the
    /// logits' argmax at every step is the token decoded there.
    #[test]
    fn greedy_decoding_matches_the_fused_pass() {
        for attention in [false, true] {
            let config = Seq2SeqConfig { values: 11, hidden: 12, layers: 2, embedding: 6, attention, words: Vec::new() };
            decoding_matches(&config);
        }
    }

    fn decoding_matches(config: &Seq2SeqConfig) {
        let config = config.clone();
        let model = Seq2Seq::new(&config, 3).unwrap();
        let task = task("bubblesort");
        let examples: Vec<Encoded> = [(4, 1), (7, 2), (2, 3)].iter().map(|&(n, s)| Pair::of(&task, n, s).unwrap().encode(&config)).collect();
        let inputs: Vec<&[u32]> = examples.iter().map(|e| e.input.as_slice()).collect();
        let lengths: Vec<usize> = examples.iter().map(|e| e.target.len()).collect();
        let decoded = model.decode(&inputs, &lengths).unwrap();
        for (e, tokens) in examples.iter().zip(&decoded) {
            assert_eq!(tokens.len(), e.target.len());
            let fed = Encoded { input: e.input.clone(), target: tokens.clone() };
            let (logits, want) = model.logits(&[&fed]).unwrap();
            let argmax: Vec<u32> = logits.argmax(1).unwrap().to_vec1().unwrap();
            assert_eq!(&want, tokens);
            assert_eq!(&argmax, tokens);
        }
    }

    #[test]
    fn tokens_round_trip_through_cells() {
        let config = Seq2SeqConfig { values: 11, hidden: 4, layers: 1, embedding: 2, attention: false, words: Vec::new() };
        let sort = task("bubblesort");
        let p = Pair::of(&sort, 5, 0).unwrap();
        let Pair::Pad(e) = &p else { panic!("a pad") };
        let enc = p.encode(&config);
        assert_eq!(enc.input.len(), e.rows * (e.cols + 1));
        assert_eq!(enc.target.len(), e.output_rows.len() * (e.cols + 1));
        assert_eq!(p.cells(&config, &enc.target), p.reference(&config));
        assert_eq!(p.grade(&sort, &config, &p.reference(&config)).unwrap(), (true, e.output.len(), e.output.len()));
        // A token that is no cell value reads as blank.
        assert_eq!(p.cells(&config, &[3, config.go(), 4, 5, 6, 7, config.row_end()])[..2], [3, 10]);

        // A tape: the input tape in, the final tape out, graded cells scored;
        // values past the known ones read as the last.
        let copy = task("nram_copy");
        let values = super::super::data::values(&copy, &[2]).unwrap();
        let config = Seq2SeqConfig { values, hidden: 4, layers: 1, embedding: 2, attention: false, words: Vec::new() };
        let p = Pair::of(&copy, 4, 1).unwrap();
        let Pair::Tape(e) = &p else { panic!("a tape") };
        let enc = p.encode(&config);
        assert_eq!(enc.input.len(), e.cells + 1);
        assert!(enc.input.iter().all(|&t| t < values || t == config.row_end()));
        let (exact, right, all) = p.grade(&copy, &config, &p.reference(&config)).unwrap();
        assert!(exact && right == all && all == e.graded.len());
        let mut wrong = p.reference(&config);
        wrong[e.graded[0] as usize] += 1;
        assert!(!p.grade(&copy, &config, &wrong).unwrap().0);
    }
}
