#!/usr/bin/env python3
"""The Neural Programmer of docs/np.md in PyTorch: the same-model twin that
synth's `np` learner (runtime/src/np/model.rs, train.rs) is timed against.

Same shapes (hidden H, embedding E, T steps, the columns a, b, c (numbers)
and city (words), a vocabulary of the same size), same soft semantics, same
training step: the batch's mean loss, backward (autograd here, written out
by hand in synth), the global gradient norm capped at 1, Gaussian gradient
noise of variance noise / (1 + step)^0.55, Adam (lr 1e-3, eps 1e-6).
Batched the way a PyTorch implementation would be: question tokens padded
(attention masked), rows padded with a row mask, pivot candidates padded
with -inf scores.

The questions are generated here, shaped like stdlib/tableqa.npl's (3 number
columns of 0..99, a word column over 5 cities, 30..100 rows, the 12 question
kinds with their templates, T = 5); they are not synth's questions.

    ~/torchenv/bin/python bench/np_torch.py --hidden 64 --batch 20 --threads 1
    ~/torchenv/bin/python bench/np_torch.py --check
"""

import argparse
import json
import math
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Operations in synth's order (Op::ALL, runtime/src/np/model.rs).
OPS = ["sum", "count", "difference", "greater", "lesser", "and", "or", "word_match", "print", "reset"]
SUM, COUNT, DIFF, GREATER, LESSER, AND, OR, WORD, PRINT, RESET = range(10)

# The world of stdlib/tableqa.npl.
COLUMNS = [("a", "number"), ("b", "number"), ("c", "number"), ("city", "word")]
NUMBER_COLUMNS = ["a", "b", "c"]
CITIES = ["oslo", "lima", "rome", "kiev", "doha"]
ROWS = (30, 100)
VALUES = 100  # cells and pivots in 0..100 (exclusive)
UNK, NUM = 0, 1  # reserved token ids; words from 2 on

# The 12 question kinds of stdlib/tableqa.npl: templates and the answer.
KINDS = [
    ["sum of {x}", "what is the total of {x}", "add up all {x}"],
    ["how many rows have {x} greater than {v}", "count the rows where {x} is more than {v}"],
    ["how many rows have {x} less than {v}", "count the rows where {x} is below {v}"],
    ["sum of {x} greater than {v}", "total of the {x} values above {v}"],
    ["print {x} less than {v}", "list the {x} values below {v}"],
    ["sum of {x} where {y} is less than {v}", "total {x} for rows whose {y} is below {v}"],
    ["print {x} where {y} is greater than {v}", "list {x} for rows whose {y} is above {v}"],
    ["print {x} where {y} is greater than {v} and {z} is less than {w}",
     "list {x} for rows with {y} above {v} and {z} below {w}"],
    ["how many rows have {y} greater than {v} or {z} less than {w}",
     "count the rows where {y} is above {v} or {z} is below {w}"],
    ["total {x} in {t}", "sum of {x} where city is {t}"],
    ["how many rows are in {t}", "count the rows whose city is {t}"],
    ["difference between sum of {x} where {y} is greater than {v} and where {y} is less than {w}",
     "how much more {x} is there where {y} is above {v} than where {y} is below {w}"],
]
T_STEPS = 5  # the longest latent program (kind 11: greater, sum, lesser, sum, difference)


# --- data ---------------------------------------------------------------------

def make_question(rng, kind):
    """One question of `kind` on a fresh table: tokens (words and ints), the
    table, the answer, and the latent program (for --check). As synth draws
    them: column holes take distinct number columns, the city hole a city of
    this table, and an instance where a `where` selects no row is drawn
    again."""
    while True:
        q = draw_question(rng, kind)
        if q is not None:
            return q


def draw_question(rng, kind):
    n = rng.randint(*ROWS)
    table = {c: [rng.randrange(VALUES) for _ in range(n)] for c in NUMBER_COLUMNS}
    table["city"] = [rng.choice(CITIES) for _ in range(n)]
    x, y, z = rng.sample(NUMBER_COLUMNS, 3)
    v, w = rng.randrange(VALUES), rng.randrange(VALUES)
    t = rng.choice(sorted(set(table["city"])))
    text = rng.choice(KINDS[kind])
    tokens = []
    for word in text.split():
        if word.startswith("{"):
            tokens.append({"{x}": x, "{y}": y, "{z}": z, "{v}": v, "{w}": w, "{t}": t}[word])
        else:
            tokens.append(word)
    rows = range(n)
    gt = lambda col, p: {i for i in rows if table[col][i] > p}
    lt = lambda col, p: {i for i in rows if table[col][i] < p}
    city = {i for i in rows if table["city"][i] == t}
    total = lambda col, sel: sum(table[col][i] for i in sel)
    # The answer, the rows of each `where` in it (none may be empty), and the
    # latent program: (op, column, pivot: 0/1 = first/second number token).
    if kind == 0:
        answer, wheres, program = ("scalar", total(x, rows)), [], [("sum", x, None)]
    elif kind == 1:
        sel = gt(x, v)
        answer, wheres, program = ("scalar", len(sel)), [sel], [("greater", x, 0), ("count", None, None)]
    elif kind == 2:
        sel = lt(x, v)
        answer, wheres, program = ("scalar", len(sel)), [sel], [("lesser", x, 0), ("count", None, None)]
    elif kind == 3:
        sel = gt(x, v)
        answer, wheres, program = ("scalar", total(x, sel)), [sel], [("greater", x, 0), ("sum", x, None)]
    elif kind == 4:
        sel = lt(x, v)
        answer, wheres, program = ("lookup", x, sorted(sel)), [sel], [("lesser", x, 0), ("print", x, None)]
    elif kind == 5:
        sel = lt(y, v)
        answer, wheres, program = ("scalar", total(x, sel)), [sel], [("lesser", y, 0), ("sum", x, None)]
    elif kind == 6:
        sel = gt(y, v)
        answer, wheres, program = ("lookup", x, sorted(sel)), [sel], [("greater", y, 0), ("print", x, None)]
    elif kind == 7:
        sel = gt(y, v) & lt(z, w)
        answer, wheres = ("lookup", x, sorted(sel)), [sel]
        program = [("greater", y, 0), ("lesser", z, 1), ("and", None, None), ("print", x, None)]
    elif kind == 8:
        sel = gt(y, v) | lt(z, w)
        answer, wheres = ("scalar", len(sel)), [sel]
        program = [("greater", y, 0), ("lesser", z, 1), ("or", None, None), ("count", None, None)]
    elif kind == 9:
        answer, wheres, program = ("scalar", total(x, city)), [city], [("word_match", "city", None), ("sum", x, None)]
    elif kind == 10:
        answer, wheres, program = ("scalar", len(city)), [city], [("word_match", "city", None), ("count", None, None)]
    else:
        above, below = gt(y, v), lt(y, w)
        answer, wheres = ("scalar", total(x, above) - total(x, below)), [above, below]
        program = [("greater", y, 0), ("sum", x, None), ("lesser", y, 1), ("sum", x, None), ("difference", None, None)]
    if not all(wheres):
        return None
    return {"tokens": tokens, "rows": n, "table": table, "answer": answer, "program": program, "kind": kind}


def make_questions(count, seed):
    rng = random.Random(seed)
    return [make_question(rng, rng.randrange(len(KINDS))) for _ in range(count)]


def make_vocab(questions):
    """As synth builds it: the column names, then the questions' words in the
    order they first occur; ids from 2 on."""
    words = sorted(c for c, _ in COLUMNS)
    for q in questions:
        for tok in q["tokens"]:
            if isinstance(tok, str) and tok not in words:
                words.append(tok)
    return {w: 2 + i for i, w in enumerate(words)}


def encode(q, vocab):
    """synth's Question/Encoded: token ids, number candidates (every number
    token), word candidates (word tokens found in the city column, each once)."""
    ids = [NUM if isinstance(t, int) else vocab.get(t, UNK) for t in q["tokens"]]
    numbers = [(i, t) for i, t in enumerate(q["tokens"]) if isinstance(t, int)]
    cities = set(q["table"]["city"])
    words = []
    for i, t in enumerate(q["tokens"]):
        if isinstance(t, str) and t in cities and all(w != t for _, w in words):
            words.append((i, t))
    return {**q, "ids": ids, "numbers": numbers, "words": words}


def collate(batch):
    """Pads a list of encoded questions into tensors. The comparisons and
    word matches of every (candidate, column, row) are precomputed here, as
    data: they depend only on the table and the question."""
    b = len(batch)
    num_cols = [j for j, (_, k) in enumerate(COLUMNS) if k == "number"]
    word_cols = [j for j, (_, k) in enumerate(COLUMNS) if k == "word"]
    cn, cw, c = len(num_cols), len(word_cols), len(COLUMNS)
    L = max(len(q["ids"]) for q in batch)
    R = max(q["rows"] for q in batch)
    kn = max(1, max(len(q["numbers"]) for q in batch))
    kw = max(1, max(len(q["words"]) for q in batch))
    tokens = torch.zeros(b, L, dtype=torch.long)
    lengths = torch.zeros(b, dtype=torch.long)
    num_pos = torch.zeros(b, kn, dtype=torch.long)
    num_val = torch.zeros(b, kn)
    num_mask = torch.zeros(b, kn, dtype=torch.bool)
    word_pos = torch.zeros(b, kw, dtype=torch.long)
    word_mask = torch.zeros(b, kw, dtype=torch.bool)
    values = torch.zeros(b, cn, R)
    cell_word = torch.full((b, cw, R), -1, dtype=torch.long)  # index into the word candidates, -1: none
    row_mask = torch.zeros(b, R)
    rows = torch.zeros(b)
    is_lookup = torch.zeros(b, dtype=torch.bool)
    y = torch.zeros(b)
    target = torch.zeros(b, c, R)
    for k, q in enumerate(batch):
        n = q["rows"]
        tokens[k, :len(q["ids"])] = torch.tensor(q["ids"])
        lengths[k] = len(q["ids"])
        for m, (pos, val) in enumerate(q["numbers"]):
            num_pos[k, m], num_val[k, m], num_mask[k, m] = pos, val, True
        cand = {}
        for m, (pos, word) in enumerate(q["words"]):
            word_pos[k, m], word_mask[k, m] = pos, True
            cand[word] = m
        for jj, j in enumerate(num_cols):
            values[k, jj, :n] = torch.tensor(q["table"][COLUMNS[j][0]], dtype=torch.float)
        for jj, j in enumerate(word_cols):
            cell_word[k, jj, :n] = torch.tensor([cand.get(w, -1) for w in q["table"][COLUMNS[j][0]]])
        row_mask[k, :n] = 1.0
        rows[k] = n
        if q["answer"][0] == "scalar":
            y[k] = q["answer"][1]
        else:
            is_lookup[k] = True
            col = [name for name, _ in COLUMNS].index(q["answer"][1])
            target[k, col, q["answer"][2]] = 1.0
    valid = num_mask[:, :, None, None] & (row_mask[:, None, None, :] > 0)  # (b, kn, 1, R)
    pivots = num_val[:, :, None, None]
    gt = ((values[:, None] > pivots) & valid).float()  # (b, kn, cn, R)
    lt = ((values[:, None] < pivots) & valid).float()
    match = (cell_word[:, None] == torch.arange(kw).view(1, kw, 1, 1)).float()  # (b, kw, cw, R)
    return {
        "tokens": tokens, "lengths": lengths, "num_pos": num_pos, "num_mask": num_mask,
        "word_pos": word_pos, "word_mask": word_mask, "values": values, "row_mask": row_mask,
        "rows": rows, "gt": gt, "lt": lt, "match": match, "is_lookup": is_lookup, "y": y, "target": target,
    }


# --- model --------------------------------------------------------------------

def masked_softmax(scores, mask):
    """Softmax over the valid entries (padding scored -inf); 0 everywhere when
    nothing is valid (synth's softmax of an empty candidate list)."""
    any_valid = mask.any(-1, keepdim=True)
    scores = scores.masked_fill(~mask, float("-inf"))
    scores = torch.where(any_valid, scores, torch.zeros_like(scores))
    return torch.softmax(scores, -1) * any_valid


class NeuralProgrammer(nn.Module):
    """runtime/src/np/model.rs's parameters: embedding (V, E), question RNN
    (E+H -> H), attention key (H -> H), selector (3H -> H), operation (10, H)
    and column (C, H) embeddings, pivot keys for greater, lesser and word
    match (H -> H each, here one H -> 3H layer: the same parameters), history
    RNN (3H -> H). One bias per layer: nn.RNN's second bias is frozen at 0."""

    def __init__(self, vocab, embedding, hidden, columns, timesteps):
        super().__init__()
        e, h = embedding, hidden
        self.h = h
        self.timesteps = timesteps
        self.embedding = nn.Embedding(vocab, e)
        self.question = nn.RNN(e, h, batch_first=True)  # tanh
        self.attention = nn.Linear(h, h)
        self.selector = nn.Linear(3 * h, h)
        self.ops = nn.Parameter(torch.empty(len(OPS), h))
        self.cols = nn.Parameter(torch.empty(len(columns), h))
        self.pivot = nn.Linear(h, 3 * h)
        self.history = nn.Linear(3 * h, h)
        self.num_cols = [j for j, (_, k) in enumerate(columns) if k == "number"]
        self.word_cols = [j for j, (_, k) in enumerate(columns) if k == "word"]
        # synth's initialisation: matrices uniform in +-sqrt(1/fan_in) (the
        # question RNN's over E+H), word embeddings +-0.1, operation and column
        # embeddings +-sqrt(3/H), biases 0.
        with torch.no_grad():
            self.embedding.weight.uniform_(-0.1, 0.1)
            for w in (self.question.weight_ih_l0, self.question.weight_hh_l0):
                w.uniform_(-math.sqrt(1 / (e + h)), math.sqrt(1 / (e + h)))
            for layer in (self.attention, self.selector, self.pivot, self.history):
                bound = math.sqrt(1 / layer.in_features)
                layer.weight.uniform_(-bound, bound)
                layer.bias.zero_()
            self.question.bias_ih_l0.zero_()
            self.question.bias_hh_l0.zero_()
            self.ops.uniform_(-math.sqrt(3 / h), math.sqrt(3 / h))
            self.cols.uniform_(-math.sqrt(3 / h), math.sqrt(3 / h))
        self.question.bias_hh_l0.requires_grad_(False)
        op_mask = torch.zeros(len(OPS))
        if not self.word_cols:
            op_mask[WORD] = float("-inf")  # no word column: word_match left out
        self.register_buffer("op_mask", op_mask)

    def forward(self, batch, forced=None):
        """The soft pass over a padded batch: (last step's scalar (b), lookup
        probabilities (b, C, R)). `forced[t]` (for --check) makes step t's
        softmaxes one-hot: a dict of (b,) indices `op`, `col` (all columns),
        `num`, `word` (within the number/word columns), `greater`, `lesser`,
        `wordpivot`."""
        tokens, lengths = batch["tokens"], batch["lengths"]
        b, L = tokens.shape
        h_dim = self.h
        rows = batch["row_mask"]
        z, _ = self.question(self.embedding(tokens))  # (b, L, H); padding sits after each question
        ar = torch.arange(b)
        q = z[ar, lengths - 1]
        tok_mask = torch.arange(L)[None, :] < lengths[:, None]
        zn = z.gather(1, batch["num_pos"][:, :, None].expand(-1, -1, h_dim))  # number candidates (b, kn, H)
        zw = z.gather(1, batch["word_pos"][:, :, None].expand(-1, -1, h_dim))  # word candidates (b, kw, H)
        h = z.new_zeros(b, h_dim)
        rs, rs2 = rows, rows  # the selections one and two steps back (every row at the start)
        scalars = []
        for t in range(self.timesteps):
            # Selector.
            key = self.attention(h)
            att = masked_softmax(torch.einsum("blh,bh->bl", z, key), tok_mask)
            ctx = torch.einsum("bl,blh->bh", att, z)
            c = torch.tanh(self.selector(torch.cat([q, h, ctx], -1)))
            op = torch.softmax(c @ self.ops.t() + self.op_mask, -1)
            col_logits = c @ self.cols.t()
            col_all = torch.softmax(col_logits, -1)
            col_num = torch.softmax(col_logits[:, self.num_cols], -1)
            col_word = torch.softmax(col_logits[:, self.word_cols], -1)
            keys = self.pivot(c).view(b, 3, h_dim)
            beta_g = masked_softmax(torch.einsum("bkh,bh->bk", zn, keys[:, 0]), batch["num_mask"])
            beta_l = masked_softmax(torch.einsum("bkh,bh->bk", zn, keys[:, 1]), batch["num_mask"])
            beta_w = masked_softmax(torch.einsum("bkh,bh->bk", zw, keys[:, 2]), batch["word_mask"])
            if forced is not None:
                f = forced[t]
                one = lambda idx, like: F.one_hot(idx, like.shape[-1]).to(like.dtype)
                op, col_all, col_num, col_word = one(f["op"], op), one(f["col"], col_all), one(f["num"], col_num), one(f["word"], col_word)
                beta_g = one(f["greater"], beta_g) * batch["num_mask"]
                beta_l = one(f["lesser"], beta_l) * batch["num_mask"]
                beta_w = one(f["wordpivot"], beta_w) * batch["word_mask"]
            # Soft execution: scalars.
            colsum = torch.einsum("bi,bji->bj", rs, batch["values"])
            s_sum = (col_num * colsum).sum(-1)
            s_count = rs.sum(-1)
            s_diff = (scalars[t - 3] if t >= 3 else 0.0) - (scalars[t - 1] if t >= 1 else 0.0)
            if not torch.is_tensor(s_diff):
                s_diff = torch.zeros_like(s_sum)
            s = op[:, SUM] * s_sum + op[:, COUNT] * s_count + op[:, DIFF] * s_diff
            # Selections.
            greater = torch.einsum("bkj,bkji->bi", beta_g[:, :, None] * col_num[:, None, :], batch["gt"])
            lesser = torch.einsum("bkj,bkji->bi", beta_l[:, :, None] * col_num[:, None, :], batch["lt"])
            match = torch.einsum("bmj,bmji->bi", beta_w[:, :, None] * col_word[:, None, :], batch["match"])
            keep = op[:, SUM] + op[:, COUNT] + op[:, DIFF] + op[:, PRINT]
            new = (op[:, GREATER, None] * greater + op[:, LESSER, None] * lesser + op[:, WORD, None] * match
                   + op[:, AND, None] * rs * rs2 + op[:, OR, None] * (rs + rs2 - rs * rs2)
                   + op[:, RESET, None] * rows + keep[:, None] * rs)
            if t + 1 < self.timesteps:
                h = torch.tanh(self.history(torch.cat([op @ self.ops, col_all @ self.cols, h], -1)))
                rs, rs2 = new, rs
                scalars.append(s)
            else:
                lookup = op[:, PRINT, None, None] * col_all[:, :, None] * rs[:, None, :]  # reads the selection before it
                return s, lookup


def loss_fn(s, lookup, batch, huber, lookup_weight):
    """Per question: Huber of the relative error over its delta (scalar
    answers), or lookup_weight x the mean log-loss over the R x C cells
    (lookup answers); the batch's mean."""
    y = batch["y"]
    err = (s - y) / y.abs().clamp_min(1.0)
    scalar = F.huber_loss(err, torch.zeros_like(err), reduction="none", delta=huber) / huber
    p = torch.where(batch["target"] > 0, lookup, 1.0 - lookup)
    nll = -(p.clamp_min(1e-6).log() * batch["row_mask"][:, None, :]).sum((1, 2))
    look = lookup_weight * nll / (batch["rows"] * lookup.shape[1])
    return torch.where(batch["is_lookup"], look, scalar).mean()


# --- training step --------------------------------------------------------------

class Trainer:
    def __init__(self, model, lr, eps, clip, noise, noise_decay, huber, lookup_weight, seed):
        self.model = model
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.opt = torch.optim.Adam(self.params, lr=lr, eps=eps)
        self.clip, self.noise, self.noise_decay = clip, noise, noise_decay
        self.huber, self.lookup_weight = huber, lookup_weight
        self.gen = torch.Generator().manual_seed(seed)
        self.step_no = 0

    def step(self, batch):
        self.step_no += 1
        self.opt.zero_grad(set_to_none=True)
        s, lookup = self.model(batch)
        loss = loss_fn(s, lookup, batch, self.huber, self.lookup_weight)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        if torch.isfinite(norm):  # synth skips the update on a non-finite gradient
            if self.noise > 0:
                sd = math.sqrt(self.noise / (1 + self.step_no) ** self.noise_decay)
                with torch.no_grad():
                    for p in self.params:
                        p.grad.add_(torch.randn(p.shape, generator=self.gen), alpha=sd)
            self.opt.step()
        return loss.item()


def count_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def synth_param_count(vocab, e, h, c):
    """runtime/src/np/model.rs's Layout::new, for the shapes check."""
    return vocab * e + (e + h) * h + h + h * h + h + 3 * h * h + h + len(OPS) * h + c * h + 3 * (h * h + h) + 3 * h * h + h


# --- --check ---------------------------------------------------------------------

def forced_programs(questions, timesteps):
    """Every question's latent program as one-hot choices per step, padded
    at the front with `reset` (which keeps every row and makes no scalar)."""
    names = [n for n, _ in COLUMNS]
    num_names = [n for n, k in COLUMNS if k == "number"]
    word_names = [n for n, k in COLUMNS if k == "word"]
    steps = []
    for t in range(timesteps):
        f = {k: [] for k in ("op", "col", "num", "word", "greater", "lesser", "wordpivot")}
        for q in questions:
            prog = q["program"]
            pad = timesteps - len(prog)
            op, col, pivot = ("reset", None, None) if t < pad else prog[t - pad]
            f["op"].append(OPS.index(op))
            f["col"].append(names.index(col) if col else 0)
            f["num"].append(num_names.index(col) if col in num_names else 0)
            f["word"].append(word_names.index(col) if col in word_names else 0)
            f["greater"].append(pivot if op == "greater" else 0)
            f["lesser"].append(pivot if op == "lesser" else 0)
            f["wordpivot"].append(0)  # the city is the only word candidate
        steps.append({k: torch.tensor(v) for k, v in f.items()})
    return steps


def check(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    questions = make_questions(240, seed=1)
    vocab = make_vocab(questions)
    enc = [encode(q, vocab) for q in questions]
    model = NeuralProgrammer(2 + len(vocab), args.embedding, args.hidden, COLUMNS, T_STEPS)
    n = count_params(model)
    assert n == synth_param_count(2 + len(vocab), args.embedding, args.hidden, len(COLUMNS)), n
    # 1. With one-hot choices the soft execution is exact execution: every
    #    kind's latent program gives the generated answer.
    batch = collate(enc)
    with torch.no_grad():
        s, lookup = model(batch, forced=forced_programs(enc, T_STEPS))
    for k, q in enumerate(enc):
        if q["answer"][0] == "scalar":
            assert float(s[k]) == float(q["answer"][1]), (q["tokens"], float(s[k]), q["answer"])
        else:
            assert torch.equal(lookup[k], batch["target"][k]), q["tokens"]
    assert {q["kind"] for q in enc} == set(range(len(KINDS)))
    # 2. Training on a tiny fixed batch: the loss is finite and falls.
    tiny = collate(enc[:8])
    trainer = Trainer(model, lr=1e-2, eps=1e-6, clip=1.0, noise=0.0, noise_decay=0.55,
                      huber=args.huber, lookup_weight=args.lookup_weight, seed=0)
    losses = [trainer.step(tiny) for _ in range(60)]
    assert all(math.isfinite(x) for x in losses), losses
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.7 * first, (first, last)
    print(json.dumps({"check": "ok", "params": n, "vocab": 2 + len(vocab), "forced_exact": len(enc),
                      "loss_first5": round(first, 4), "loss_last5": round(last, 4)}))


# --- benchmark ------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--embedding", type=int, default=64)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--steps", type=int, default=300, help="timed optimiser steps")
    ap.add_argument("--warmup", type=int, default=20, help="untimed optimiser steps first")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--batches", type=int, default=64, help="distinct batches, built before timing and cycled")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eps", type=float, default=1e-6)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--noise", type=float, default=0.0, help="gradient noise variance at step 0 (synth's default: none)")
    ap.add_argument("--huber", type=float, default=0.05)
    ap.add_argument("--lookup-weight", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true", help="sanity checks instead of timing")
    args = ap.parse_args()
    if args.check:
        check(args)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    questions = make_questions(args.batches * args.batch, seed=args.seed + 1)
    vocab = make_vocab(questions)
    enc = [encode(q, vocab) for q in questions]
    batches = [collate(enc[i * args.batch:(i + 1) * args.batch]) for i in range(args.batches)]
    model = NeuralProgrammer(2 + len(vocab), args.embedding, args.hidden, COLUMNS, T_STEPS)
    trainer = Trainer(model, args.lr, args.eps, args.clip, args.noise, 0.55, args.huber, args.lookup_weight, args.seed)
    for i in range(args.warmup):
        trainer.step(batches[i % len(batches)])
    times, losses = [], []
    t0 = time.perf_counter()
    for i in range(args.steps):
        s0 = time.perf_counter()
        losses.append(trainer.step(batches[(args.warmup + i) % len(batches)]))
        times.append(time.perf_counter() - s0)
    total = time.perf_counter() - t0
    assert all(math.isfinite(x) for x in losses)
    times.sort()
    print(json.dumps({
        "learner": "np", "impl": "torch", "hidden": args.hidden, "batch": args.batch, "threads": args.threads,
        "steps_per_s": round(args.steps / total, 2), "questions_per_s": round(args.steps * args.batch / total, 1),
        "embedding": args.embedding, "timesteps": T_STEPS, "vocab": 2 + len(vocab), "params": count_params(model),
        "steps": args.steps, "median_step_ms": round(1000 * times[len(times) // 2], 3), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
