#!/usr/bin/env python3
"""PyTorch reference for synth's NPI training and inference speed.

The same model, sizes and training step as synth's NPI
(runtime/src/npi/model.rs, lstm.rs, optim.rs; sizes from config.rs and the
addition task of stdlib/add.npl), written in plain PyTorch so that both can be
timed on the same machine. Run it as

    python bench/npi_torch.py [--json] [--threads 2,1] [--runs 5]

Model (defaults of synth's NpiConfig, shapes of the `add` task):
    one-hot(obs 60 + args 3x12 = 96) -> Linear 128 -> ReLU -> Linear 128 = s
    relu(W_s s + W_p M_prog[program] + b)  (fuse MLP, 256 units)
    2-layer LSTM, 256 units, fresh zero state per frame
    heads on h: end (1 logit), key (32) . M_key^T over 5 programs + "no call",
                3 argument heads of 11 values + NO_ARG
    loss = (sum BCE(end) - sum masked log p(call) - sum masked log p(args))
           / steps, over the real (unpadded) steps
    Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), global-norm clipping at 1.0

Measured, for every thread count asked:
    train  trace-steps/s = B*T / optimiser-step time (the median single
           step over all timed runs, as synth's bench reports it), B in
           {1, 64}, T = 20, with nn.LSTM and with an LSTMCell loop;
    infer  model steps/s at batch 1 (and 32 runs in lockstep, as synth's
           bench also does), closed loop: one step at a time with the LSTM
           state carried, encoder + fuse + LSTM step + heads + argmax,
           decisions read back into Python, under torch.inference_mode().
           Observations come from a precomputed pool (no environment is run).
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# --- sizes -----------------------------------------------------------------

# synth NpiConfig::default() (runtime/src/npi/config.rs).
HIDDEN = 256
LAYERS = 2
EMBEDDING = 64  # P
KEY = 32  # K
ENCODER = 128
STATE = 128  # D
FUSE_HIDDEN = 256

# The `add` task (stdlib/add.npl), as synth's checker derives it
# (compiler/src/check.rs): per pointer a cell of base+1 = 11 classes and the
# two 2-class boundary bits `start` / `end`; argument values 0..arg_classes
# with arg_classes = max(base+1, pointers, actions, 2) = 11, plus NO_ARG.
POINTERS = 4
FEATURES = [11, 2, 2] * POINTERS
OBS_WIDTH = sum(FEATURES)  # 60
ARG_SLOTS = 3
ARG_CLASSES = 11
ARG_WIDTH = ARG_CLASSES + 1  # 12, NO_ARG included
INPUT_WIDTH = OBS_WIDTH + ARG_SLOTS * ARG_WIDTH  # 96
PROGRAMS = ["ACT", "ADD", "ADD1", "CARRY", "LSHIFT"]
N_PROG = len(PROGRAMS)
CALL_CLASSES = N_PROG + 1  # every program, then "no call"

T_STEPS = 20
LR = 1e-3
CLIP = 1.0


def uniform_(t, k):
    with torch.no_grad():
        t.uniform_(-k, k)
    return t


class Npi(nn.Module):
    """synth's NPI (fuse mlp). `core` is "lstm" (nn.LSTM) or "cell" (LSTMCell loop)."""

    def __init__(self, core="lstm"):
        super().__init__()
        self.core_kind = core
        self.enc1 = nn.Linear(INPUT_WIDTH, ENCODER)
        self.enc2 = nn.Linear(ENCODER, STATE)
        self.embeddings = nn.Parameter(torch.randn(N_PROG, EMBEDDING))  # M_prog
        self.keys = nn.Parameter(torch.randn(CALL_CLASSES, KEY))  # M_key, last row = no call
        k = 1.0 / math.sqrt(STATE + EMBEDDING)
        self.w_state = nn.Parameter(uniform_(torch.empty(FUSE_HIDDEN, STATE), k))
        self.w_program = nn.Parameter(uniform_(torch.empty(FUSE_HIDDEN, EMBEDDING), k))
        self.fuse_bias = nn.Parameter(uniform_(torch.empty(FUSE_HIDDEN), k))
        if core == "lstm":
            self.lstm = nn.LSTM(FUSE_HIDDEN, HIDDEN, num_layers=LAYERS)
            cells = [(getattr(self.lstm, f"bias_ih_l{l}"), getattr(self.lstm, f"bias_hh_l{l}")) for l in range(LAYERS)]
        else:
            self.cells = nn.ModuleList([nn.LSTMCell(FUSE_HIDDEN if l == 0 else HIDDEN, HIDDEN) for l in range(LAYERS)])
            cells = [(c.bias_ih, c.bias_hh) for c in self.cells]
        # synth has one bias vector per layer (b_ih + b_hh), forget gate at 1:
        # keep b_ih trainable with that init and freeze b_hh at zero, so the
        # trained parameters are the same in number and kind.
        for b_ih, b_hh in cells:
            with torch.no_grad():
                b_ih.zero_()
                b_ih[HIDDEN:2 * HIDDEN] = 1.0
                b_hh.zero_()
            b_hh.requires_grad_(False)
        self.end = nn.Linear(HIDDEN, 1)
        self.key = nn.Linear(HIDDEN, KEY)
        self.args = nn.Linear(HIDDEN, ARG_SLOTS * ARG_WIDTH)

    per_program_cache = None  # set for inference: W_p M_prog + b, as synth's Engine precomputes

    def core_input(self, x, program):
        """x (rows, INPUT_WIDTH) one-hot, program (rows) -> (rows, FUSE_HIDDEN)."""
        s = self.enc2(F.relu(self.enc1(x)))
        per_program = self.per_program_cache
        if per_program is None:
            per_program = F.linear(self.embeddings, self.w_program, self.fuse_bias)  # (programs, fuse)
        return F.relu(F.linear(s, self.w_state) + per_program[program])

    def heads(self, h):
        """h (rows, HIDDEN) -> end (rows), calls (rows, CALL_CLASSES), args (rows, 3, ARG_WIDTH)."""
        end = self.end(h).squeeze(-1)
        calls = self.key(h) @ self.keys.t()
        args = self.args(h).view(-1, ARG_SLOTS, ARG_WIDTH)
        return end, calls, args

    def forward(self, x, program, batch_sizes):
        """Teacher-forced, every frame from a zero state, over a packed batch
        as synth lays it out: rows time-major, frames longest first, step t
        holding the batch_sizes[t] frames still running (no padding).
        x (rows, INPUT_WIDTH), program (rows), batch_sizes (T) int64 tensor.
        Returns the heads over the rows."""
        u = self.core_input(x, program)
        t, b = len(batch_sizes), int(batch_sizes[0])
        if self.core_kind == "lstm":
            if u.shape[0] == t * b:  # all frames T long: plain (T, B, F)
                h = self.lstm(u.view(t, b, FUSE_HIDDEN))[0].reshape(t * b, HIDDEN)
            else:
                h = self.lstm(nn.utils.rnn.PackedSequence(u, batch_sizes))[0].data
        else:
            hs = []
            state = [None] * LAYERS
            off = 0
            for bt in batch_sizes.tolist():
                y = u[off:off + bt]
                off += bt
                for l, cell in enumerate(self.cells):
                    prev = None if state[l] is None else (state[l][0][:bt], state[l][1][:bt])
                    state[l] = cell(y, prev)
                    y = state[l][0]
                hs.append(y)
            h = torch.cat(hs)
        return self.heads(h)

    # --- closed-loop inference: one step, state carried ---------------------

    def fresh_state(self, batch=1):
        z = torch.zeros(LAYERS, batch, HIDDEN)
        return (z, z.clone())

    def step(self, x, program, state):
        """x (1, INPUT_WIDTH), program (1), state (h, c) each (LAYERS, 1, H)."""
        u = self.core_input(x, program)
        if self.core_kind == "lstm":
            h, state = self.lstm(u.unsqueeze(0), state)
            h = h[0]
        else:
            hs, cs = [], []
            y = u
            for l, cell in enumerate(self.cells):
                hl, cl = cell(y, (state[0][l], state[1][l]))
                hs.append(hl)
                cs.append(cl)
                y = hl
            h, state = y, (torch.stack(hs), torch.stack(cs))
        return self.heads(h), state


def loss_fn(out, batch):
    """synth's Npi::loss: heads summed, masked where not trained, divided by
    the number of steps (rows)."""
    end, calls, args = out
    rows = end.shape[0]
    l_end = F.binary_cross_entropy_with_logits(end, batch["end"], reduction="sum")
    lp = F.log_softmax(calls, -1).gather(1, batch["call"].unsqueeze(1)).squeeze(1)
    l_call = (lp * batch["call_mask"]).sum()
    la = F.log_softmax(args, -1).gather(2, batch["args"].unsqueeze(2)).squeeze(2)
    l_args = (la * batch["arg_mask"]).sum()
    return (l_end - l_call - l_args) / rows


# Frame lengths (steps) of the add task's training frames and how many of
# each, from 640 reference traces of sizes 1..=10 (`synth trace add --size
# 1+i%10 --seed i`, i < 640): ADD1 2-3 steps, CARRY 4, LSHIFT 5, ADD 2n+3.
ADD_FRAME_LENGTHS = {2: 2142, 3: 1798, 4: 1762, 5: 3953, 7: 64, 9: 62, 11: 74, 13: 59, 15: 74, 17: 53, 19: 59, 21: 77, 23: 33}


def frame_lengths(b, t, gen, lengths):
    if lengths == "full":
        return [t] * b
    if lengths == "random":  # uniform in 5..t, one frame of t
        return [t] + torch.randint(min(5, t), t + 1, (b - 1,), generator=gen).tolist()
    if lengths == "add":  # drawn from the add task's frames
        ls = list(ADD_FRAME_LENGTHS)
        w = torch.tensor([ADD_FRAME_LENGTHS[k] for k in ls], dtype=torch.float)
        return [ls[i] for i in torch.multinomial(w, b, replacement=True, generator=gen).tolist()]
    raise ValueError(lengths)


def make_batch(b, t, gen, lengths="full"):
    """A random teacher-forcing batch of B frames, packed as synth packs it
    (time-major, longest first, no padding): one-hot observations and frame
    arguments, frame program, targets and masks."""
    lens = sorted(frame_lengths(b, t, gen, lengths), reverse=True)
    steps_max = lens[0]
    batch_sizes = torch.tensor([sum(1 for l in lens if l > i) for i in range(steps_max)], dtype=torch.int64)
    # rows: for each step i, the frames j < batch_sizes[i]
    frame_of_row = torch.cat([torch.arange(int(n)) for n in batch_sizes])
    step_of_row = torch.cat([torch.full((int(n),), i) for i, n in enumerate(batch_sizes)])
    rows = frame_of_row.shape[0]
    x = torch.zeros(rows, INPUT_WIDTH)
    base = 0
    for c in FEATURES:
        v = torch.randint(0, c, (rows,), generator=gen)
        x.scatter_(1, (base + v).unsqueeze(1), 1.0)
        base += c
    frame_args = torch.randint(0, ARG_WIDTH, (b, ARG_SLOTS), generator=gen)  # constant over a frame
    for s in range(ARG_SLOTS):
        x.scatter_(1, (base + s * ARG_WIDTH + frame_args[frame_of_row, s]).unsqueeze(1), 1.0)
    program = torch.randint(1, N_PROG, (b,), generator=gen)[frame_of_row]
    end = (step_of_row == torch.tensor(lens)[frame_of_row] - 1).float()
    call = torch.randint(0, CALL_CLASSES, (rows,), generator=gen)
    args = torch.randint(0, ARG_WIDTH, (rows, ARG_SLOTS), generator=gen)
    arity = torch.tensor([3, 0, 0, 0, 0, 0])[call]  # ACT takes 3 arguments, the others and "no call" none
    arg_mask = (torch.arange(ARG_SLOTS).view(1, 3) < arity.unsqueeze(1)).float()
    return {
        "x": x,
        "program": program,
        "batch_sizes": batch_sizes,
        "end": end,
        "call": call,
        "call_mask": torch.ones(rows),
        "args": args,
        "arg_mask": arg_mask,
        "real_steps": rows,
    }


def make_optimizer(model, kind):
    params = [p for p in model.parameters() if p.requires_grad]
    if kind == "fused":
        return torch.optim.Adam(params, lr=LR, fused=True)
    if kind == "foreach":
        return torch.optim.Adam(params, lr=LR, foreach=True)
    return torch.optim.Adam(params, lr=LR, foreach=False)


def train_step(model, opt, batch):
    opt.zero_grad(set_to_none=True)
    out = model(batch["x"], batch["program"], batch["batch_sizes"])
    loss = loss_fn(out, batch)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
    opt.step()
    return loss.item()


def time_train(core, b, t, runs, steps, warmup, opt_kind, lengths, seed=0):
    torch.manual_seed(seed)
    model = Npi(core)
    opt = make_optimizer(model, opt_kind)
    gen = torch.Generator().manual_seed(seed + 1)
    batches = [make_batch(b, t, gen, lengths) for _ in range(4)]
    for i in range(warmup):
        train_step(model, opt, batches[i % len(batches)])
    per_run = []
    per_step = []
    losses = []
    for _ in range(runs):
        real = 0
        t0 = time.perf_counter()
        for i in range(steps):
            bt = batches[i % len(batches)]
            s0 = time.perf_counter()
            losses.append(train_step(model, opt, bt))
            per_step.append(time.perf_counter() - s0)
            real += bt["real_steps"]
        dt = time.perf_counter() - t0
        per_run.append(real / dt)
    assert all(math.isfinite(l) for l in losses)
    # Headline: the median single step, as synth's bench reports it; the
    # median of the runs' mean throughput is kept alongside.
    ms = statistics.median(per_step) * 1e3
    mean_real = statistics.mean(bt["real_steps"] for bt in batches)
    return {
        "rows": round(mean_real),
        "ms_per_step": ms,
        "trace_steps_per_s": mean_real / (ms / 1e3),
        "run_trace_steps_per_s": statistics.median(per_run),
        "runs": per_run,
        "first_loss": losses[0],
        "last_loss": losses[-1],
    }


def time_infer(core, runs, steps, warmup, batch=1, frame_len=20, seed=0):
    """Closed-loop model steps/s: `batch` runs in lockstep, one model step at
    a time, LSTM state carried (reset to zero every `frame_len` steps, as a
    new frame would), decisions read back into Python every step."""
    torch.manual_seed(seed)
    model = Npi(core).eval()
    gen = torch.Generator().manual_seed(seed + 2)
    # A pool of observations as one-hot positions plus the frame's program
    # (what an interpreter hands the model every step).
    pool = []
    for _ in range(64):
        cols, base = [], 0
        for c in FEATURES:
            cols.append(base + torch.randint(0, c, (batch,), generator=gen))
            base += c
        for s in range(ARG_SLOTS):
            cols.append(base + s * ARG_WIDTH + torch.randint(0, ARG_WIDTH, (batch,), generator=gen))
        pool.append((torch.stack(cols, 1), torch.randint(1, N_PROG, (batch,), generator=gen)))

    def run(n):
        decisions = None
        state = model.fresh_state(batch)
        for i in range(n):
            if i % frame_len == 0:
                state = model.fresh_state(batch)  # a new frame starts from zero
            hot, prog = pool[i % len(pool)]
            x = torch.zeros(batch, INPUT_WIDTH)
            x.scatter_(1, hot, 1.0)
            (end, calls, args), state = model.step(x, prog, state)
            decisions = ((end > 0).tolist(), calls.argmax(-1).tolist(), args.argmax(-1).tolist())
        return decisions

    with torch.inference_mode():
        model.per_program_cache = F.linear(model.embeddings, model.w_program, model.fuse_bias)
        run(warmup)
        per_run = []
        for _ in range(runs):
            t0 = time.perf_counter()
            run(steps)
            per_run.append(steps * batch / (time.perf_counter() - t0))
    med = statistics.median(per_run)
    return {"steps_per_s": med, "us_per_model_call": 1e6 * batch / med, "runs": per_run}


def count_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--threads", default="2,1", help="torch intra-op thread counts to measure (default 2,1)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per config (median reported)")
    ap.add_argument("--steps-b1", type=int, default=30, help="optimiser steps per timed run at B=1")
    ap.add_argument("--steps-b64", type=int, default=8, help="optimiser steps per timed run at B=64")
    ap.add_argument("--warmup", type=int, default=3, help="untimed optimiser steps before timing")
    ap.add_argument("--infer-steps", type=int, default=1000, help="model steps (rows) per timed inference run")
    ap.add_argument("--batches", default="1,64", help="training batch sizes (default 1,64)")
    ap.add_argument("--infer-batches", default="1,32", help="inference runs in lockstep (default 1,32; synth's bench does 1 and 32)")
    ap.add_argument("--cores", default="lstm,cell", help="LSTM forms: lstm (nn.LSTM), cell (LSTMCell loop)")
    ap.add_argument("--adam", default="fused", choices=["fused", "foreach", "loop"], help="torch Adam implementation (default fused, the fastest on CPU here)")
    ap.add_argument("--lengths", default="full", choices=["full", "random"], help="frame lengths of the B=1/B=64 batches: all T (default) or uniform 5..T (packed)")
    ap.add_argument("--add-batch", type=int, default=64, help="also train on this many frames with the add task's frame lengths (packed, as synth's `train add` line; 0: skip)")
    ap.add_argument("--no-infer", action="store_true")
    a = ap.parse_args()

    threads = [int(x) for x in a.threads.split(",") if x]
    batches = [int(x) for x in a.batches.split(",") if x]
    infer_batches = [int(x) for x in a.infer_batches.split(",") if x]
    cores = [c for c in a.cores.split(",") if c]
    n_params = count_params(Npi("lstm"))
    info = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "shape": {
            "features": FEATURES,
            "obs_width": OBS_WIDTH,
            "arg_classes": ARG_CLASSES,
            "arg_width": ARG_WIDTH,
            "input_width": INPUT_WIDTH,
            "programs": PROGRAMS,
            "call_classes": CALL_CLASSES,
        },
        "config": {
            "hidden": HIDDEN, "layers": LAYERS, "embedding": EMBEDDING, "key": KEY,
            "encoder": ENCODER, "state": STATE, "fuse": "mlp", "fuse_hidden": FUSE_HIDDEN,
        },
        "params": n_params,
        "T": T_STEPS,
        "lr": LR, "clip": CLIP, "adam": a.adam, "lengths": a.lengths,
    }
    if not a.json:
        print(f"torch {info['torch']}, python {info['python']}, {info['cpus']} cpus")
        print(f"shape: features {FEATURES} -> obs {OBS_WIDTH}, args 3 x {ARG_WIDTH} -> input {INPUT_WIDTH}; "
              f"programs {PROGRAMS} (+ no call = {CALL_CLASSES}); params {n_params:,}")
        print(f"model: encoder {ENCODER}->{STATE}, embedding {EMBEDDING}, key {KEY}, fuse mlp {FUSE_HIDDEN}, "
              f"LSTM {LAYERS}x{HIDDEN}; T={T_STEPS}, Adam({a.adam}) lr {LR}, clip {CLIP}, lengths {a.lengths}")
        print()
        print(f"{'threads':>7} {'core':>6} {'B':>6} {'rows':>5} {'ms/step':>9} {'trace-steps/s':>14}")
        sys.stdout.flush()
    train = []
    infer = []
    # (label, frames, frame lengths, optimiser steps per timed run)
    configs = [(str(b), b, a.lengths, a.steps_b1 if b == 1 else a.steps_b64) for b in batches]
    if a.add_batch:
        configs.append((f"add{a.add_batch}", a.add_batch, "add", a.steps_b1))
    for nt in threads:
        torch.set_num_threads(nt)
        for core in cores:
            for label, b, lengths, steps in configs:
                r = time_train(core, b, T_STEPS, a.runs, steps, a.warmup, a.adam, lengths)
                r.update({"threads": nt, "core": core, "batch": label, "frames": b, "lengths": lengths})
                train.append(r)
                if not a.json:
                    print(f"{nt:>7} {core:>6} {label:>6} {r['rows']:>5} {r['ms_per_step']:>9.2f} {r['trace_steps_per_s']:>14,.0f}")
                    sys.stdout.flush()
        if not a.no_infer:
            for ib in infer_batches:
                for core in cores:
                    r = time_infer(core, a.runs, max(a.infer_steps // ib, 200), warmup=100, batch=ib)
                    r.update({"threads": nt, "core": core, "batch": ib})
                    infer.append(r)
    if not a.json and infer:
        print()
        print(f"{'threads':>7} {'core':>6} {'B':>4} {'model steps/s':>14} {'us/call':>9}   (closed loop inference)")
        for r in infer:
            print(f"{r['threads']:>7} {r['core']:>6} {r['batch']:>4} {r['steps_per_s']:>14,.0f} {r['us_per_model_call']:>9.1f}")

    def best(rows, key, **match):
        xs = [r[key] for r in rows if all(r[k] == v for k, v in match.items())]
        return max(xs) if xs else None

    summary = {}
    for nt in threads:
        summary[f"threads{nt}"] = {
            **{f"train_b{c[0]}": best(train, "trace_steps_per_s", threads=nt, batch=c[0]) for c in configs},
            **{f"infer_b{b}": best(infer, "steps_per_s", threads=nt, batch=b) for b in infer_batches},
        }
    summary["any"] = {
        **{f"train_b{c[0]}": best(train, "trace_steps_per_s", batch=c[0]) for c in configs},
        **{f"infer_b{b}": best(infer, "steps_per_s", batch=b) for b in infer_batches},
    }
    if a.json:
        print(json.dumps({**info, "train": train, "infer": infer, "best": summary}))
    else:
        print()
        print("best form per thread count, and over both (training trace-steps/s; inference model steps/s):")
        for k, v in summary.items():
            print(f"  {k}: " + ", ".join(f"{n} {x:,.0f}" for n, x in v.items() if x is not None))


if __name__ == "__main__":
    main()
