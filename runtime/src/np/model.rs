//! The Neural Programmer's parameters and its soft and hard passes, with
//! the backward pass written out by hand (docs/np.md has the equations).
//!
//! - Question RNN: `z_i = tanh([emb(w_i); z_{i-1}] Wq + bq)`, `q = z_L`.
//! - Selector, per step `t`: attention over the question states keyed by
//!   the history, `x_t = sum_i softmax_i(z_i . (h_{t-1} Wa + ba)) z_i`;
//!   `c_t = tanh([q; h_{t-1}; x_t] Ws + bs)`; the
//!   operation softmax over `U c_t`; the column logits `P c_t`, softmaxed
//!   over all columns (print, history), over the number columns (sum,
//!   greater, lesser) and over the word columns (word match); a pivot
//!   softmax per comparing operation over its candidates,
//!   `z_{pos} . (c_t A + a)`.
//! - History RNN: `h_t = tanh([sum_k alpha_k U_k; sum_j alpha_j P_j; h_{t-1}] Wh + bh)`.
//! - Soft execution: every operation's result mixed by its weight (see
//!   [`Np::forward`]); the answer is the last step's scalar or lookup.
//!
//! The selector never reads the table, so the hard pass ([`Np::select`])
//! costs the same at 100 rows as at 100,000; the program it picks is then
//! run exactly ([`super::exec::run`]).

use super::config::NpConfig;
use super::data::{Encoded, Question, Target, Vocab};
use crate::kernels::{add_into, argmax, axpy, dot, tanh};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synth_compiler::{Cell, LatentStep, Op};

/// Operations, in [`Op::ALL`]'s order.
pub const OPS: usize = Op::ALL.len();
pub(super) const SUM: usize = 0;
pub(super) const COUNT: usize = 1;
pub(super) const DIFF: usize = 2;
pub(super) const GREATER: usize = 3;
pub(super) const LESSER: usize = 4;
pub(super) const AND: usize = 5;
pub(super) const OR: usize = 6;
pub(super) const WORD: usize = 7;
pub(super) const PRINT: usize = 8;
pub(super) const RESET: usize = 9;

/// Where every tensor sits in the flat parameter vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub vocab: usize,
    pub embedding: usize,
    pub hidden: usize,
    pub columns: usize,
    pub emb: usize,
    pub wq: usize,
    pub bq: usize,
    /// The question attention's key from `h_{t-1}`: `Wa (H, H)`, `ba (H)`.
    pub wa: usize,
    pub ba: usize,
    /// The selector over `[q; h_{t-1}; attended question]`: `(3H, H)`.
    pub ws: usize,
    pub bs: usize,
    pub u: usize,
    pub p: usize,
    /// Pivot keys of greater, lesser and word match: `A (H, H)` then `a (H)`
    /// each.
    pub pivot: [usize; 3],
    pub wh: usize,
    pub bh: usize,
    pub params: usize,
}

impl Layout {
    pub fn new(config: &NpConfig) -> Layout {
        let (v, e, h, c) = (Vocab::rows(config), config.embedding, config.hidden, config.columns.len());
        let mut off = 0;
        let mut take = |n: usize| {
            let at = off;
            off += n;
            at
        };
        let emb = take(v * e);
        let wq = take((e + h) * h);
        let bq = take(h);
        let wa = take(h * h);
        let ba = take(h);
        let ws = take(3 * h * h);
        let bs = take(h);
        let u = take(OPS * h);
        let p = take(c * h);
        let pivot = [take(h * h + h), take(h * h + h), take(h * h + h)];
        let wh = take(3 * h * h);
        let bh = take(h);
        Layout { vocab: v, embedding: e, hidden: h, columns: c, emb, wq, bq, wa, ba, ws, bs, u, p, pivot, wh, bh, params: off }
    }

    /// Every tensor: name, shape, offset.
    pub fn tensors(&self) -> Vec<(&'static str, [usize; 2], usize)> {
        let (e, h) = (self.embedding, self.hidden);
        vec![
            ("embedding", [self.vocab, e], self.emb),
            ("question.w", [e + h, h], self.wq),
            ("question.b", [1, h], self.bq),
            ("attention.w", [h, h], self.wa),
            ("attention.b", [1, h], self.ba),
            ("selector.w", [3 * h, h], self.ws),
            ("selector.b", [1, h], self.bs),
            ("operations", [OPS, h], self.u),
            ("columns", [self.columns, h], self.p),
            ("pivot.greater.w", [h, h], self.pivot[0]),
            ("pivot.greater.b", [1, h], self.pivot[0] + h * h),
            ("pivot.lesser.w", [h, h], self.pivot[1]),
            ("pivot.lesser.b", [1, h], self.pivot[1] + h * h),
            ("pivot.word.w", [h, h], self.pivot[2]),
            ("pivot.word.b", [1, h], self.pivot[2] + h * h),
            ("history.w", [3 * h, h], self.wh),
            ("history.b", [1, h], self.bh),
        ]
    }
}

/// A Neural Programmer: config, layout, parameters.
#[derive(Clone, Debug)]
pub struct Np {
    pub config: NpConfig,
    pub layout: Layout,
    pub params: Vec<f32>,
    pub vocab: Vocab,
    /// Column indices of the number and of the word columns.
    pub num: Vec<usize>,
    pub word: Vec<usize>,
}

impl PartialEq for Np {
    fn eq(&self, other: &Np) -> bool {
        self.config == other.config && self.params == other.params
    }
}

/// The hard choices of one step: the operation, the columns each kind of
/// operation would read (indices into all columns), and each comparison's
/// pivot (an index into its candidates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub op: usize,
    pub column: usize,
    pub number_column: Option<usize>,
    pub word_column: Option<usize>,
    pub greater: Option<usize>,
    pub lesser: Option<usize>,
    pub word: Option<usize>,
}

/// One step of a forward pass.
#[derive(Clone, Debug, Default)]
struct StepTape {
    /// The question attention: key, weights over the tokens, and the
    /// attended state.
    key: Vec<f32>,
    att: Vec<f32>,
    ctx: Vec<f32>,
    c: Vec<f32>,
    op: Vec<f32>,
    all: Vec<f32>,
    num: Vec<f32>,
    word: Vec<f32>,
    /// Pivot keys and softmaxes: greater, lesser, word match.
    keys: [Vec<f32>; 3],
    betas: [Vec<f32>; 3],
    colsum: Vec<f32>,
    sum: f32,
    count: f32,
    diff: f32,
    /// The greater, lesser and word-match selections.
    sel: [Vec<f32>; 3],
    s: f32,
    /// `[sum alpha U; sum alpha P]`, the history's input besides `h_{t-1}`.
    xh: Vec<f32>,
    h: Vec<f32>,
}

/// What the soft pass is scored by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// Delta of the Huber loss on the scalar answer's relative error.
    pub huber: f32,
    /// Weight of the lookup answer's mean log-loss over cells.
    pub lookup_weight: f32,
    /// Weight of the bonus for the entropy of every step's operation and
    /// column softmaxes (subtracted from the loss).
    pub entropy: f32,
}

/// The loss of one example and what it says.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Loss {
    /// The answer's loss.
    pub loss: f64,
    /// Summed entropy of the operation and column softmaxes.
    pub entropy: f64,
    /// What the gradient is of: `loss - entropy weight * entropy`.
    pub objective: f64,
    /// The soft answer: the last scalar, or the share of lookup cells on
    /// the right side of 1/2.
    pub scalar: f64,
    pub cells_right: f64,
    /// Minus the log-likelihood of the program the pass was pulled toward
    /// ([`Np::forward_toward`]; 0 otherwise), already in `objective`.
    pub imitation: f64,
}

/// The least weight a log-likelihood reads, so that a choice the selector
/// gives no weight costs a finite amount.
const TINY: f32 = 1e-12;

/// One of a step's softmaxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Weights {
    Op,
    All,
    Num,
    Word,
    /// Greater (0), lesser (1), word match (2).
    Pivot(usize),
}

/// A step's weights of one softmax.
fn st_weights(st: &StepTape, w: Weights) -> &[f32] {
    match w {
        Weights::Op => &st.op,
        Weights::All => &st.all,
        Weights::Num => &st.num,
        Weights::Word => &st.word,
        Weights::Pivot(k) => &st.betas[k],
    }
}

/// Buffers of a forward and backward pass, reused across examples.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    z: Vec<f32>,
    steps: Vec<StepTape>,
    /// Row selections, two before the first step: slot `t + 2` after step
    /// `t`.
    rs: Vec<f32>,
    /// Gradients of the same.
    dz: Vec<f32>,
    drs: Vec<f32>,
    ds: Vec<f32>,
    dlk: Vec<f32>,
    scratch: Vec<f32>,
    /// The entropy weight of the last forward pass.
    entropy: f32,
    /// The program the last forward pass was pulled toward, and the weight
    /// of its log-likelihood (0: none).
    toward: Vec<Choice>,
    toward_weight: f32,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }
}

fn softmax(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !m.is_finite() {
        x.fill(0.0);
        return;
    }
    let mut total = 0.0;
    for v in x.iter_mut() {
        *v = crate::kernels::exp(*v - m);
        total += *v;
    }
    x.iter_mut().for_each(|v| *v /= total);
}

/// `dx += a * (da - <a, da>)`, the softmax's backward.
fn softmax_back(a: &[f32], da: &[f32], dx: &mut [f32]) {
    let s = dot(a, da);
    for ((d, &ai), &gi) in dx.iter_mut().zip(a).zip(da) {
        *d += ai * (gi - s);
    }
}

/// `out = b + x W`, `W` row-major with `x.len()` rows of `out.len()`.
fn affine(x: &[f32], w: &[f32], b: &[f32], out: &mut [f32]) {
    let n = out.len();
    out.copy_from_slice(b);
    for (r, &xr) in x.iter().enumerate() {
        if xr != 0.0 {
            axpy(xr, &w[r * n..(r + 1) * n], out);
        }
    }
}

/// The backward of [`affine`] given `dout`: `dW += x (x) dout`, `db +=
/// dout`, `dx += W dout` (when given).
fn affine_back(x: &[f32], w: &[f32], dout: &[f32], dw: &mut [f32], db: &mut [f32], dx: Option<&mut [f32]>) {
    let n = dout.len();
    add_into(db, dout);
    for (r, &xr) in x.iter().enumerate() {
        if xr != 0.0 {
            axpy(xr, dout, &mut dw[r * n..(r + 1) * n]);
        }
    }
    if let Some(dx) = dx {
        for (r, d) in dx.iter_mut().enumerate() {
            *d += dot(&w[r * n..(r + 1) * n], dout);
        }
    }
}

fn one_hot(v: &mut [f32], k: Option<usize>) {
    v.fill(0.0);
    if let Some(k) = k {
        v[k] = 1.0;
    }
}

impl Np {
    /// Fresh parameters from `seed`: matrices uniform in `±sqrt(1/fan_in)`,
    /// word embeddings in `±0.1`, operation and column embeddings in
    /// `±sqrt(3/H)` (logits of about unit variance), biases 0.
    pub fn new(config: &NpConfig, seed: u64) -> Np {
        let layout = Layout::new(config);
        let mut params = vec![0f32; layout.params];
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (e, h) = (layout.embedding, layout.hidden);
        let hs = (1.0 / h as f32).sqrt();
        let mut fill = |off: usize, len: usize, s: f32| {
            for p in &mut params[off..off + len] {
                *p = rng.random_range(-s..s);
            }
        };
        fill(layout.emb, layout.vocab * e, 0.1);
        fill(layout.wq, (e + h) * h, (1.0 / (e + h) as f32).sqrt());
        fill(layout.wa, h * h, hs);
        fill(layout.ws, 3 * h * h, (1.0 / (3 * h) as f32).sqrt());
        fill(layout.u, OPS * h, (3.0 / h as f32).sqrt());
        fill(layout.p, layout.columns * h, (3.0 / h as f32).sqrt());
        for k in layout.pivot {
            fill(k, h * h, hs);
        }
        fill(layout.wh, 3 * h * h, (1.0 / (3 * h) as f32).sqrt());
        Np::with_params(config, params)
    }

    /// A model of `config` with these parameters (of the layout's length).
    pub fn with_params(config: &NpConfig, params: Vec<f32>) -> Np {
        let layout = Layout::new(config);
        assert_eq!(params.len(), layout.params, "parameters for another layout");
        let (num, word) = config.column_kinds();
        Np { config: config.clone(), layout, params, vocab: Vocab::new(config), num, word }
    }

    /// The question RNN over `tokens` into `z (L, H)`.
    fn question(&self, tokens: &[u32], z: &mut Vec<f32>) {
        let l = &self.layout;
        let (e, h) = (l.embedding, l.hidden);
        let p = &self.params;
        z.clear();
        z.resize(tokens.len() * h, 0.0);
        for (i, &tok) in tokens.iter().enumerate() {
            let (prev, cur) = z.split_at_mut(i * h);
            let out = &mut cur[..h];
            let x = &p[l.emb + tok as usize * e..l.emb + (tok as usize + 1) * e];
            affine(x, &p[l.wq..l.wq + e * h], &p[l.bq..l.bq + h], out);
            if i > 0 {
                let zp = &prev[(i - 1) * h..];
                for (r, &v) in zp.iter().enumerate() {
                    axpy(v, &p[l.wq + (e + r) * h..l.wq + (e + r + 1) * h], out);
                }
            }
            out.iter_mut().for_each(|v| *v = tanh(*v));
        }
    }

    /// The selector of one step: `c`, the softmaxes, the pivot keys and
    /// softmaxes, from `q`, `h_prev` and the question states `z`.
    fn selector(&self, question: &Question, z: &[f32], q: &[f32], h_prev: &[f32], st: &mut StepTape) {
        let l = &self.layout;
        let h = l.hidden;
        let p = &self.params;
        // Attention over the question's states, keyed by the history.
        st.key.resize(h, 0.0);
        affine(h_prev, &p[l.wa..l.wa + h * h], &p[l.ba..l.ba + h], &mut st.key);
        let len = z.len() / h;
        st.att.clear();
        st.att.extend((0..len).map(|i| dot(&z[i * h..(i + 1) * h], &st.key)));
        softmax(&mut st.att);
        st.ctx.clear();
        st.ctx.resize(h, 0.0);
        for (i, &a) in st.att.iter().enumerate() {
            axpy(a, &z[i * h..(i + 1) * h], &mut st.ctx);
        }
        st.c.resize(h, 0.0);
        affine(q, &p[l.ws..l.ws + h * h], &p[l.bs..l.bs + h], &mut st.c);
        for (r, &v) in h_prev.iter().chain(&st.ctx).enumerate() {
            axpy(v, &p[l.ws + (h + r) * h..l.ws + (h + r + 1) * h], &mut st.c);
        }
        st.c.iter_mut().for_each(|v| *v = tanh(*v));
        st.op.resize(OPS, 0.0);
        for k in 0..OPS {
            st.op[k] = dot(&p[l.u + k * h..l.u + (k + 1) * h], &st.c);
        }
        if self.word.is_empty() {
            st.op[WORD] = f32::NEG_INFINITY;
        }
        softmax(&mut st.op);
        st.all.resize(l.columns, 0.0);
        for j in 0..l.columns {
            st.all[j] = dot(&p[l.p + j * h..l.p + (j + 1) * h], &st.c);
        }
        st.num.clear();
        st.num.extend(self.num.iter().map(|&j| st.all[j]));
        st.word.clear();
        st.word.extend(self.word.iter().map(|&j| st.all[j]));
        softmax(&mut st.all);
        softmax(&mut st.num);
        softmax(&mut st.word);
        for k in 0..3 {
            let off = l.pivot[k];
            let key = &mut st.keys[k];
            key.resize(h, 0.0);
            affine(&st.c, &p[off..off + h * h], &p[off + h * h..off + h * h + h], key);
            let beta = &mut st.betas[k];
            beta.clear();
            if k < 2 {
                beta.extend(question.numbers.iter().map(|&(pos, _)| dot(&z[pos * h..(pos + 1) * h], key)));
            } else {
                beta.extend(question.words.iter().map(|(pos, _)| dot(&z[pos * h..(pos + 1) * h], key)));
            }
            softmax(beta);
        }
    }

    /// The history RNN's step from the weights in `st` (`xh` filled here).
    fn history(&self, h_prev: &[f32], st: &mut StepTape) {
        let l = &self.layout;
        let h = l.hidden;
        let p = &self.params;
        st.xh.clear();
        st.xh.resize(2 * h, 0.0);
        for k in 0..OPS {
            if st.op[k] != 0.0 {
                axpy(st.op[k], &p[l.u + k * h..l.u + (k + 1) * h], &mut st.xh[..h]);
            }
        }
        for j in 0..l.columns {
            axpy(st.all[j], &p[l.p + j * h..l.p + (j + 1) * h], &mut st.xh[h..]);
        }
        st.h.resize(h, 0.0);
        affine(&st.xh, &p[l.wh..l.wh + 2 * h * h], &p[l.bh..l.bh + h], &mut st.h);
        for (r, &v) in h_prev.iter().enumerate() {
            axpy(v, &p[l.wh + (2 * h + r) * h..l.wh + (2 * h + r + 1) * h], &mut st.h);
        }
        st.h.iter_mut().for_each(|v| *v = tanh(*v));
    }

    /// The step's hard choices from its softmaxes.
    fn choose(&self, st: &StepTape) -> Choice {
        let pick = |v: &[f32]| (!v.is_empty()).then(|| argmax(v));
        Choice {
            op: argmax(&st.op),
            column: argmax(&st.all),
            number_column: pick(&st.num).map(|j| self.num[j]),
            word_column: pick(&st.word).map(|j| self.word[j]),
            greater: pick(&st.betas[0]),
            lesser: pick(&st.betas[1]),
            word: pick(&st.betas[2]),
        }
    }

    /// Makes the step's softmaxes one-hot at `c`.
    fn force(&self, st: &mut StepTape, c: &Choice) {
        one_hot(&mut st.op, Some(c.op));
        one_hot(&mut st.all, Some(c.column));
        one_hot(&mut st.num, c.number_column.and_then(|j| self.num.iter().position(|&x| x == j)));
        one_hot(&mut st.word, c.word_column.and_then(|j| self.word.iter().position(|&x| x == j)));
        one_hot(&mut st.betas[0], c.greater);
        one_hot(&mut st.betas[1], c.lesser);
        one_hot(&mut st.betas[2], c.word);
    }

    /// The hard pass: every step's argmax choices, the history fed the
    /// chosen operation's and column's embeddings.
    pub fn select(&self, question: &Question, ws: &mut Workspace) -> Vec<Choice> {
        let h = self.layout.hidden;
        self.question(&question.tokens, &mut ws.z);
        let q = last_state(&ws.z, question.tokens.len(), h);
        let mut h_prev = vec![0f32; h];
        let mut st = StepTape::default();
        let mut out = Vec::with_capacity(self.config.timesteps);
        for _ in 0..self.config.timesteps {
            self.selector(question, &ws.z, &q, &h_prev, &mut st);
            let c = self.choose(&st);
            self.force(&mut st, &c);
            self.history(&h_prev, &mut st);
            std::mem::swap(&mut h_prev, &mut st.h);
            out.push(c);
        }
        out
    }

    /// The softmax entries a step's choice `c` reads: its operation, the
    /// column that operation reads (number columns for sum and the
    /// comparisons, word columns for word match, any column for print)
    /// and its pivot. Entries with no candidate are left out.
    fn targets(&self, st: &StepTape, c: &Choice) -> Vec<(Weights, usize)> {
        let mut out = vec![(Weights::Op, c.op)];
        let num = c.number_column.and_then(|j| self.num.iter().position(|&x| x == j));
        let word = c.word_column.and_then(|j| self.word.iter().position(|&x| x == j));
        match c.op {
            SUM => out.extend(num.map(|k| (Weights::Num, k))),
            GREATER | LESSER => {
                let kind = usize::from(c.op == LESSER);
                out.extend(num.map(|k| (Weights::Num, k)));
                out.extend(if kind == 0 { c.greater } else { c.lesser }.map(|k| (Weights::Pivot(kind), k)));
            }
            WORD => {
                out.extend(word.map(|k| (Weights::Word, k)));
                out.extend(c.word.map(|k| (Weights::Pivot(2), k)));
            }
            PRINT => out.push((Weights::All, c.column)),
            _ => {}
        }
        out.retain(|&(w, k)| k < st_weights(st, w).len());
        out
    }

    /// The summed log weight of `choices` under the selector (of each
    /// step's operation, and the column and pivot it reads), the history
    /// fed the choices, as the hard pass feeds it its own.
    pub fn log_likelihood(&self, question: &Question, choices: &[Choice], ws: &mut Workspace) -> f32 {
        let h = self.layout.hidden;
        self.question(&question.tokens, &mut ws.z);
        let q = last_state(&ws.z, question.tokens.len(), h);
        let mut h_prev = vec![0f32; h];
        let mut st = StepTape::default();
        let mut total = 0f32;
        for c in choices.iter().take(self.config.timesteps) {
            self.selector(question, &ws.z, &q, &h_prev, &mut st);
            total += self.targets(&st, c).iter().map(|&(w, k)| st_weights(&st, w)[k].max(TINY).ln()).sum::<f32>();
            self.force(&mut st, c);
            self.history(&h_prev, &mut st);
            std::mem::swap(&mut h_prev, &mut st.h);
        }
        total
    }

    /// Whether `choices`, run exactly on `e`'s table, give its answer.
    pub fn answers(&self, e: &Encoded, choices: &[Choice], ws: &mut Workspace) -> bool {
        let objective = Objective { huber: 1.0, lookup_weight: 1.0, entropy: 0.0 };
        let l = self.forward(e, objective, Some(choices), ws);
        match e.target {
            Target::Scalar(y) => (l.scalar - y).abs() < 0.5,
            Target::Lookup { .. } => l.cells_right >= 1.0,
        }
    }

    /// The program of `choices` for a question with these `tokens`: each
    /// step's operation with the column and pivot it reads.
    pub fn program(&self, question: &Question, tokens: &[Cell], choices: &[Choice]) -> Vec<LatentStep> {
        let name = |j: Option<usize>| j.map(|j| self.config.columns[j].0.clone());
        choices
            .iter()
            .map(|c| {
                let op = Op::ALL[c.op];
                let (column, pivot) = match c.op {
                    SUM => (name(c.number_column), None),
                    GREATER | LESSER => (name(c.number_column), if c.op == GREATER { c.greater } else { c.lesser }.map(|k| question.numbers[k].0)),
                    WORD => (name(c.word_column), c.word.map(|k| question.words[k].0)),
                    PRINT => (name(Some(c.column)), None),
                    _ => (None, None),
                };
                LatentStep { op, column, pivot: pivot.map(|pos| tokens[pos].clone()), pivot_token: pivot }
            })
            .collect()
    }

    /// The soft pass over one example, and its loss. With `forced`, every
    /// step's softmaxes are one-hot at those choices (what the hard pass
    /// runs). Leaves in `ws` what [`Np::backward`] needs.
    ///
    /// Per step, with `rs` the row selection before it, `rs'` the one
    /// before that (both every row at the start), and `S` the scalars of
    /// earlier steps (0 before the first):
    /// - sum `= sum_j a_num_j sum_i rs_i v_ij`, count `= sum_i rs_i`,
    ///   difference `= S_{t-3} - S_{t-1}`;
    /// - greater `g_i = sum_j a_num_j sum_k b_k [v_ij > n_k]`, lesser
    ///   likewise with `<`, word match `sum_j a_word_j sum_m b_m [cell_ij = w_m]`;
    /// - and `rs_i rs'_i`, or `rs_i + rs'_i - rs_i rs'_i`, reset 1;
    /// - the new selection mixes those by the operation weights, sum,
    ///   count, difference and print keeping `rs`; the scalar mixes sum,
    ///   count and difference;
    /// - the last step's lookup is `a_print a_all_j rs_i`.
    pub fn forward(&self, e: &Encoded, objective: Objective, forced: Option<&[Choice]>, ws: &mut Workspace) -> Loss {
        ws.toward.clear();
        ws.toward_weight = 0.0;
        self.pass(e, objective, forced, ws)
    }

    /// The soft pass of [`Np::forward`], its objective plus `weight` times
    /// minus the log-likelihood of `program` under the selector: at every
    /// step, of its operation and of the column and pivot that operation
    /// reads. The soft pass itself is not forced: the history reads the
    /// selector's own weights, as in training without a program.
    pub fn forward_toward(&self, e: &Encoded, objective: Objective, program: &[Choice], weight: f32, ws: &mut Workspace) -> Loss {
        ws.toward.clear();
        ws.toward.extend_from_slice(&program[..program.len().min(self.config.timesteps)]);
        ws.toward_weight = weight;
        self.pass(e, objective, None, ws)
    }

    fn pass(&self, e: &Encoded, objective: Objective, forced: Option<&[Choice]>, ws: &mut Workspace) -> Loss {
        let Objective { huber, lookup_weight, entropy } = objective;
        ws.entropy = entropy;
        let h = self.layout.hidden;
        let t_max = self.config.timesteps;
        let r = e.rows;
        let (cn, cw) = (self.num.len(), self.word.len());
        self.question(&e.question.tokens, &mut ws.z);
        let q = last_state(&ws.z, e.question.tokens.len(), h);
        ws.steps.resize_with(t_max, StepTape::default);
        ws.rs.clear();
        ws.rs.resize((t_max + 2) * r, 1.0);
        let zero = vec![0f32; h];
        for t in 0..t_max {
            let (before, rest) = ws.steps.split_at_mut(t);
            let st = &mut rest[0];
            let h_prev: &[f32] = if t == 0 { &zero } else { &before[t - 1].h };
            self.selector(&e.question, &ws.z, &q, h_prev, st);
            if let Some(f) = forced {
                self.force(st, &f[t]);
            }
            let (old, new) = ws.rs.split_at_mut((t + 2) * r);
            let prev = &old[(t + 1) * r..(t + 2) * r];
            let prev2 = &old[t * r..(t + 1) * r];
            let out = &mut new[..r];
            // Scalars.
            st.colsum.clear();
            st.colsum.extend((0..cn).map(|j| dot(prev, &e.values[j * r..(j + 1) * r])));
            st.sum = dot(&st.num, &st.colsum);
            st.count = prev.iter().sum();
            let s_at = |k: usize| before.get(k).map_or(0.0, |s| s.s);
            st.diff = if t >= 3 { s_at(t - 3) } else { 0.0 } - if t >= 1 { s_at(t - 1) } else { 0.0 };
            st.s = st.op[SUM] * st.sum + st.op[COUNT] * st.count + st.op[DIFF] * st.diff;
            // Selections.
            for k in 0..3 {
                st.sel[k].clear();
                st.sel[k].resize(r, 0.0);
            }
            for (kind, cmp) in [(0usize, true), (1, false)] {
                for (kk, &(_, n)) in e.question.numbers.iter().enumerate() {
                    let n = n as f32;
                    for j in 0..cn {
                        let a = st.num[j] * st.betas[kind][kk];
                        if a == 0.0 {
                            continue;
                        }
                        for (g, &v) in st.sel[kind].iter_mut().zip(&e.values[j * r..(j + 1) * r]) {
                            if if cmp { v > n } else { v < n } {
                                *g += a;
                            }
                        }
                    }
                }
            }
            for j in 0..cw {
                for (w, &m) in st.sel[2].iter_mut().zip(&e.matches[j * r..(j + 1) * r]) {
                    if m > 0 {
                        *w += st.word[j] * st.betas[2][m as usize - 1];
                    }
                }
            }
            let a = &st.op;
            let keep = a[SUM] + a[COUNT] + a[DIFF] + a[PRINT];
            for i in 0..r {
                let (x, y) = (prev[i], prev2[i]);
                out[i] = a[GREATER] * st.sel[0][i] + a[LESSER] * st.sel[1][i] + a[WORD] * st.sel[2][i] + a[AND] * x * y + a[OR] * (x + y - x * y) + a[RESET] + keep * x;
            }
            if t + 1 < t_max {
                self.history(h_prev, st);
            }
        }
        let entropy_sum: f64 = ws.steps.iter().map(|st| entropy_of(&st.op) + entropy_of(&st.all)).sum();
        let imitation: f64 = ws.steps.iter().zip(&ws.toward).map(|(st, c)| self.targets(st, c).iter().map(|&(w, k)| -(st_weights(st, w)[k].max(TINY) as f64).ln()).sum::<f64>()).sum();
        let bonus = entropy as f64 * entropy_sum - ws.toward_weight as f64 * imitation;
        // The loss on the last step's answer.
        let last = &ws.steps[t_max - 1];
        ws.ds.clear();
        ws.ds.resize(t_max, 0.0);
        ws.dlk.clear();
        match &e.target {
            Target::Scalar(y) => {
                // The relative error, so that counts weigh as much as sums.
                let scale = y.abs().max(1.0);
                let err = (last.s as f64 - y) / scale;
                let d = huber as f64;
                // Huber divided by its delta: slope 1 beyond `huber`.
                let (loss, grad) = if err.abs() <= d { (0.5 * err * err / d, err / d) } else { (err.abs() - 0.5 * d, err.signum()) };
                ws.ds[t_max - 1] = (grad / scale) as f32;
                Loss { loss, entropy: entropy_sum, objective: loss - bonus, scalar: last.s as f64, cells_right: 0.0, imitation }
            }
            Target::Lookup { column, rows } => {
                let c = self.layout.columns;
                let prev = &ws.rs[t_max * r..(t_max + 1) * r];
                let scale = lookup_weight / (r * c).max(1) as f32;
                ws.dlk.resize(r * c, 0.0);
                let (mut loss, mut right) = (0f64, 0usize);
                const EPS: f32 = 1e-6;
                for j in 0..c {
                    let mut next = rows.iter().peekable();
                    for i in 0..r {
                        let target = j == *column && next.next_if(|&&x| x as usize == i).is_some();
                        let lk = last.op[PRINT] * last.all[j] * prev[i];
                        right += usize::from((lk > 0.5) == target);
                        let (p, sign) = if target { (lk, -1.0) } else { (1.0 - lk, 1.0) };
                        loss -= (p.max(EPS) as f64).ln();
                        if p > EPS {
                            ws.dlk[j * r + i] = scale * sign / p;
                        }
                    }
                }
                let loss = loss * scale as f64;
                Loss { loss, entropy: entropy_sum, objective: loss - bonus, scalar: 0.0, cells_right: right as f64 / (r * c).max(1) as f64, imitation }
            }
        }
    }

    /// The gradient of the loss of the last [`Np::forward`] on `e`, added
    /// into `grad`.
    pub fn backward(&self, e: &Encoded, ws: &mut Workspace, grad: &mut [f32]) {
        let l = &self.layout;
        let (h, emb_w) = (l.hidden, l.embedding);
        let t_max = self.config.timesteps;
        let r = e.rows;
        let (cn, cw) = (self.num.len(), self.word.len());
        let p = &self.params;
        let len = e.question.tokens.len();
        let q = last_state(&ws.z, len, h);
        ws.dz.clear();
        ws.dz.resize(len * h, 0.0);
        ws.drs.clear();
        ws.drs.resize((t_max + 2) * r, 0.0);
        let mut dq = vec![0f32; h];
        let mut dh = vec![0f32; h];
        let mut dh_prev = vec![0f32; h];
        let zero = vec![0f32; h];
        let mut dop = [0f32; OPS];
        let mut dall = vec![0f32; l.columns];
        let mut dnum = vec![0f32; cn];
        let mut dword = vec![0f32; cw];
        let mut dbeta: [Vec<f32>; 3] = Default::default();
        let mut dc = vec![0f32; h];
        let mut dx = vec![0f32; 2 * h];
        let mut dpre = vec![0f32; h];
        for t in (0..t_max).rev() {
            let st = &ws.steps[t];
            let h_prev: &[f32] = if t == 0 { &zero } else { &ws.steps[t - 1].h };
            dop.fill(0.0);
            dall.fill(0.0);
            dnum.fill(0.0);
            dword.fill(0.0);
            for k in 0..3 {
                dbeta[k].clear();
                dbeta[k].resize(st.betas[k].len(), 0.0);
            }
            dh_prev.fill(0.0);
            // The history RNN (`dh` is the gradient of h_t).
            if t + 1 < t_max {
                for ((d, &y), &g) in dpre.iter_mut().zip(&st.h).zip(&dh) {
                    *d = g * (1.0 - y * y);
                }
                dx.fill(0.0);
                {
                    let (dw, db) = grad[l.wh..l.bh + h].split_at_mut(3 * h * h);
                    affine_back(&st.xh, &p[l.wh..l.wh + 2 * h * h], &dpre, &mut dw[..2 * h * h], db, Some(&mut dx));
                    for (rr, &v) in h_prev.iter().enumerate() {
                        axpy(v, &dpre, &mut dw[(2 * h + rr) * h..(2 * h + rr + 1) * h]);
                        dh_prev[rr] += dot(&p[l.wh + (2 * h + rr) * h..l.wh + (2 * h + rr + 1) * h], &dpre);
                    }
                }
                for k in 0..OPS {
                    dop[k] += dot(&dx[..h], &p[l.u + k * h..l.u + (k + 1) * h]);
                    if st.op[k] != 0.0 {
                        axpy(st.op[k], &dx[..h], &mut grad[l.u + k * h..l.u + (k + 1) * h]);
                    }
                }
                for j in 0..l.columns {
                    dall[j] += dot(&dx[h..], &p[l.p + j * h..l.p + (j + 1) * h]);
                    axpy(st.all[j], &dx[h..], &mut grad[l.p + j * h..l.p + (j + 1) * h]);
                }
            }
            let (old, new) = ws.drs.split_at_mut((t + 2) * r);
            let drs = &new[..r];
            let (dprev2, dprev) = old[t * r..(t + 2) * r].split_at_mut(r);
            let prev = &ws.rs[(t + 1) * r..(t + 2) * r];
            let prev2 = &ws.rs[t * r..(t + 1) * r];
            // The lookup answer, at the last step.
            if t + 1 == t_max && !ws.dlk.is_empty() {
                for j in 0..l.columns {
                    let d = &ws.dlk[j * r..(j + 1) * r];
                    let through = dot(d, prev);
                    dop[PRINT] += st.all[j] * through;
                    dall[j] += st.op[PRINT] * through;
                    axpy(st.op[PRINT] * st.all[j], d, dprev);
                }
            }
            // The scalar.
            let ds = ws.ds[t];
            if ds != 0.0 {
                dop[SUM] += ds * st.sum;
                dop[COUNT] += ds * st.count;
                dop[DIFF] += ds * st.diff;
                let dsum = ds * st.op[SUM];
                for j in 0..cn {
                    dnum[j] += dsum * st.colsum[j];
                    if st.num[j] != 0.0 {
                        axpy(dsum * st.num[j], &e.values[j * r..(j + 1) * r], dprev);
                    }
                }
                let dcount = ds * st.op[COUNT];
                dprev.iter_mut().for_each(|d| *d += dcount);
                let dd = ds * st.op[DIFF];
                if t >= 3 {
                    ws.ds[t - 3] += dd;
                }
                if t >= 1 {
                    ws.ds[t - 1] -= dd;
                }
            }
            // The selection.
            let a = &st.op;
            let keep = a[SUM] + a[COUNT] + a[DIFF] + a[PRINT];
            let mut dkeep = 0.0;
            for i in 0..r {
                let d = drs[i];
                if d == 0.0 {
                    continue;
                }
                let (x, y) = (prev[i], prev2[i]);
                dop[GREATER] += d * st.sel[0][i];
                dop[LESSER] += d * st.sel[1][i];
                dop[WORD] += d * st.sel[2][i];
                dop[AND] += d * x * y;
                dop[OR] += d * (x + y - x * y);
                dop[RESET] += d;
                dkeep += d * x;
                dprev[i] += d * (keep + a[AND] * y + a[OR] * (1.0 - y));
                dprev2[i] += d * (a[AND] * x + a[OR] * (1.0 - x));
            }
            for k in [SUM, COUNT, DIFF, PRINT] {
                dop[k] += dkeep;
            }
            for (kind, op, cmp) in [(0usize, GREATER, true), (1, LESSER, false)] {
                for (kk, &(_, n)) in e.question.numbers.iter().enumerate() {
                    let n = n as f32;
                    for j in 0..cn {
                        let mut s = 0.0;
                        for (&d, &v) in drs.iter().zip(&e.values[j * r..(j + 1) * r]) {
                            if if cmp { v > n } else { v < n } {
                                s += d;
                            }
                        }
                        let s = s * a[op];
                        dnum[j] += st.betas[kind][kk] * s;
                        dbeta[kind][kk] += st.num[j] * s;
                    }
                }
            }
            if !st.betas[2].is_empty() {
                for j in 0..cw {
                    for (&d, &m) in drs.iter().zip(&e.matches[j * r..(j + 1) * r]) {
                        if m > 0 {
                            let s = d * a[WORD];
                            dword[j] += st.betas[2][m as usize - 1] * s;
                            dbeta[2][m as usize - 1] += st.word[j] * s;
                        }
                    }
                }
            }
            // The entropy bonus: d(-w H)/d a_k = w (log a_k + 1).
            if ws.entropy != 0.0 {
                let w = ws.entropy;
                for (d, &a) in dop.iter_mut().zip(&st.op) {
                    if a > 0.0 {
                        *d += w * (a.ln() + 1.0);
                    }
                }
                for (d, &a) in dall.iter_mut().zip(&st.all) {
                    if a > 0.0 {
                        *d += w * (a.ln() + 1.0);
                    }
                }
            }
            // The program the pass is pulled toward: d(-w log a_k)/d a_k = -w / a_k.
            if let Some(c) = ws.toward.get(t) {
                let w = ws.toward_weight;
                for (which, k) in self.targets(st, c) {
                    let a = st_weights(st, which)[k].max(TINY);
                    let d = match which {
                        Weights::Op => &mut dop[k],
                        Weights::All => &mut dall[k],
                        Weights::Num => &mut dnum[k],
                        Weights::Word => &mut dword[k],
                        Weights::Pivot(kind) => &mut dbeta[kind][k],
                    };
                    *d -= w / a;
                }
            }
            // The softmaxes, into logits, into c.
            dc.fill(0.0);
            let mut dlogit = [0f32; OPS];
            softmax_back(&st.op, &dop, &mut dlogit);
            for k in 0..OPS {
                if dlogit[k] != 0.0 {
                    axpy(dlogit[k], &st.c, &mut grad[l.u + k * h..l.u + (k + 1) * h]);
                    axpy(dlogit[k], &p[l.u + k * h..l.u + (k + 1) * h], &mut dc);
                }
            }
            ws.scratch.clear();
            ws.scratch.resize(l.columns, 0.0);
            softmax_back(&st.all, &dall, &mut ws.scratch);
            let mut dsub = vec![0f32; cn.max(cw)];
            softmax_back(&st.num, &dnum, &mut dsub[..cn]);
            for (jj, &j) in self.num.iter().enumerate() {
                ws.scratch[j] += dsub[jj];
            }
            dsub.fill(0.0);
            softmax_back(&st.word, &dword, &mut dsub[..cw]);
            for (jj, &j) in self.word.iter().enumerate() {
                ws.scratch[j] += dsub[jj];
            }
            for j in 0..l.columns {
                let d = ws.scratch[j];
                if d != 0.0 {
                    axpy(d, &st.c, &mut grad[l.p + j * h..l.p + (j + 1) * h]);
                    axpy(d, &p[l.p + j * h..l.p + (j + 1) * h], &mut dc);
                }
            }
            for k in 0..3 {
                if st.betas[k].is_empty() {
                    continue;
                }
                let mut dscore = vec![0f32; st.betas[k].len()];
                softmax_back(&st.betas[k], &dbeta[k], &mut dscore);
                let mut dkey = vec![0f32; h];
                for (m, &d) in dscore.iter().enumerate() {
                    if d == 0.0 {
                        continue;
                    }
                    let pos = if k < 2 { e.question.numbers[m].0 } else { e.question.words[m].0 };
                    axpy(d, &ws.z[pos * h..(pos + 1) * h], &mut dkey);
                    axpy(d, &st.keys[k], &mut ws.dz[pos * h..(pos + 1) * h]);
                }
                let off = l.pivot[k];
                let (dw, db) = grad[off..off + h * h + h].split_at_mut(h * h);
                affine_back(&st.c, &p[off..off + h * h], &dkey, dw, db, Some(&mut dc));
            }
            // c = tanh([q; h_prev; ctx] Ws + bs).
            for ((d, &y), &g) in dpre.iter_mut().zip(&st.c).zip(&dc) {
                *d = g * (1.0 - y * y);
            }
            let mut dctx = vec![0f32; h];
            {
                let (dw, db) = grad[l.ws..l.bs + h].split_at_mut(3 * h * h);
                affine_back(&q, &p[l.ws..l.ws + h * h], &dpre, &mut dw[..h * h], db, Some(&mut dq));
                for (rr, &v) in h_prev.iter().enumerate() {
                    axpy(v, &dpre, &mut dw[(h + rr) * h..(h + rr + 1) * h]);
                    dh_prev[rr] += dot(&p[l.ws + (h + rr) * h..l.ws + (h + rr + 1) * h], &dpre);
                }
                for (rr, &v) in st.ctx.iter().enumerate() {
                    axpy(v, &dpre, &mut dw[(2 * h + rr) * h..(2 * h + rr + 1) * h]);
                    dctx[rr] = dot(&p[l.ws + (2 * h + rr) * h..l.ws + (2 * h + rr + 1) * h], &dpre);
                }
            }
            // The attention: ctx = sum_i att_i z_i, att = softmax(z_i . key).
            let datt: Vec<f32> = (0..len).map(|i| dot(&dctx, &ws.z[i * h..(i + 1) * h])).collect();
            let mut dscore = vec![0f32; len];
            softmax_back(&st.att, &datt, &mut dscore);
            let mut dkey = vec![0f32; h];
            for i in 0..len {
                axpy(st.att[i], &dctx, &mut ws.dz[i * h..(i + 1) * h]);
                if dscore[i] != 0.0 {
                    axpy(dscore[i], &ws.z[i * h..(i + 1) * h], &mut dkey);
                    axpy(dscore[i], &st.key, &mut ws.dz[i * h..(i + 1) * h]);
                }
            }
            {
                let (dw, db) = grad[l.wa..l.ba + h].split_at_mut(h * h);
                affine_back(h_prev, &p[l.wa..l.wa + h * h], &dkey, dw, db, Some(&mut dh_prev));
            }
            std::mem::swap(&mut dh, &mut dh_prev);
        }
        // The question RNN, back through time.
        if len > 0 {
            add_into(&mut ws.dz[(len - 1) * h..len * h], &dq);
        }
        for i in (0..len).rev() {
            let tok = e.question.tokens[i] as usize;
            for rr in 0..h {
                let y = ws.z[i * h + rr];
                dpre[rr] = ws.dz[i * h + rr] * (1.0 - y * y);
            }
            let x = &p[l.emb + tok * emb_w..l.emb + (tok + 1) * emb_w];
            {
                let (dw, db) = grad[l.wq..l.bq + h].split_at_mut((emb_w + h) * h);
                affine_back(x, &p[l.wq..l.wq + emb_w * h], &dpre, &mut dw[..emb_w * h], db, None);
                if i > 0 {
                    for rr in 0..h {
                        let v = ws.z[(i - 1) * h + rr];
                        axpy(v, &dpre, &mut dw[(emb_w + rr) * h..(emb_w + rr + 1) * h]);
                        ws.dz[(i - 1) * h + rr] += dot(&p[l.wq + (emb_w + rr) * h..l.wq + (emb_w + rr + 1) * h], &dpre);
                    }
                }
            }
            for c in 0..emb_w {
                grad[l.emb + tok * emb_w + c] += dot(&p[l.wq + c * h..l.wq + (c + 1) * h], &dpre);
            }
        }
    }
}

/// `-sum a log a` over the nonzero weights.
fn entropy_of(a: &[f32]) -> f64 {
    -a.iter().filter(|&&x| x > 0.0).map(|&x| x as f64 * (x as f64).ln()).sum::<f64>()
}

/// The last question state (zeros for an empty question).
fn last_state(z: &[f32], len: usize, h: usize) -> Vec<f32> {
    if len == 0 {
        vec![0.0; h]
    } else {
        z[(len - 1) * h..len * h].to_vec()
    }
}
