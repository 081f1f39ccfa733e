"""The NRAM of docs/nram.md in PyTorch: the same-model twin that synth's
`runtime/benches/nram_train.rs` is timed against.

One training step is what synth's trainer does: the fuzzy circuit unrolled
over T timesteps for a batch, the halting-weighted loss over graded cells
minus the entropy bonus, backward with every activation gradient clipped
elementwise, Gaussian gradient noise, the global norm capped, and Adam.
Inputs are Copy tapes (p, A[0..n-1], zeros; graded: the n cells from p),
all of one size, so the batch is one tensor: the case most favourable to
PyTorch.

    python bench/nram_torch.py --cells 32 --timesteps 20 --batch 32 --threads 2
    python bench/nram_torch.py --cells 12 --timesteps 12 --threads 1 --controller lstm
"""

import argparse
import json
import time

import torch

MODULES = [
    ("read", 1), ("zero", 0), ("one", 0), ("two", 0), ("inc", 1), ("add", 2), ("sub", 2),
    ("dec", 1), ("lt", 2), ("le", 2), ("eq", 2), ("min", 2), ("max", 2), ("write", 2),
]
EPS = 1e-7


def clip_grad(t, c):
    if t.requires_grad:
        t.register_hook(lambda g: g.clamp(-c, c))
    return t


class Nram(torch.nn.Module):
    def __init__(self, registers, hidden, controller="mlp"):
        super().__init__()
        self.lstm = controller == "lstm"
        self.r = registers
        # Logit groups: (name, width) in the order the circuit reads them.
        self.groups = []
        for q, (name, arity) in enumerate(MODULES):
            for side in "ab"[:arity]:
                self.groups.append((f"{name}{q}.{side}", registers + q))
        for i in range(registers):
            self.groups.append((f"r{i}", registers + len(MODULES)))
        width = sum(w for _, w in self.groups) + 1
        self.l1 = torch.nn.Linear(registers, hidden)
        self.l3 = torch.nn.Linear(hidden, width)
        # synth's `controller: lstm`: the ReLU layer, then an LSTM cell whose
        # state carries across timesteps, then the output layer.
        if self.lstm:
            self.cell = torch.nn.LSTMCell(hidden, hidden)
        else:
            self.l2 = torch.nn.Linear(hidden, hidden)
        for layer in (self.l1, self.l3) if self.lstm else (self.l1, self.l2, self.l3):
            bound = (1.0 / layer.in_features) ** 0.5
            torch.nn.init.uniform_(layer.weight, -bound, bound)
            torch.nn.init.zeros_(layer.bias)

    def forward(self, tape, target, graded, steps, clip_act):
        b, m = tape.shape
        mem = torch.nn.functional.one_hot(tape, m).float()
        regs = torch.zeros(b, self.r, m)
        regs[:, :, 0] = 1.0
        idx = torch.arange(m)
        add_idx = (idx[:, None] - idx[None, :]) % m  # [c, a] -> c - a
        sub_idx = (idx[None, :] - idx[:, None]) % m  # [c, a] -> a - c
        consts = {k: torch.nn.functional.one_hot(torch.tensor(v), m).float().expand(b, m) for k, v in (("zero", 0), ("one", 1), ("two", 2))}
        loss = torch.zeros(())
        entropy = torch.zeros(())
        alive = torch.ones(b)
        state = None
        for t in range(steps):
            x = regs[:, :, 0]
            if self.lstm:
                state = self.cell(torch.relu(self.l1(x)), state)
                h = state[0]
            else:
                h = torch.relu(self.l2(torch.relu(self.l1(x))))
            logits = self.l3(h)
            sel = {}
            at = 0
            for name, w in self.groups:
                lp = torch.log_softmax(logits[:, at:at + w], dim=1)
                p = lp.exp()
                entropy = entropy - (p * torch.log(p.clamp_min(EPS))).sum()
                sel[name] = p
                at += w
            f = torch.sigmoid(logits[:, at])
            values = [regs[:, i] for i in range(self.r)]
            for q, (name, arity) in enumerate(MODULES):
                stack = torch.stack(values, dim=1)  # b, R+q, m
                a = torch.einsum("bk,bkm->bm", sel[f"{name}{q}.a"], stack) if arity >= 1 else None
                c = torch.einsum("bk,bkm->bm", sel[f"{name}{q}.b"], stack) if arity >= 2 else None
                if name == "read":
                    out = torch.einsum("bi,bij->bj", a, mem)
                elif name in consts:
                    out = consts[name]
                elif name == "inc":
                    out = torch.roll(a, 1, dims=1)
                elif name == "dec":
                    out = torch.roll(a, -1, dims=1)
                elif name == "add":
                    out = torch.einsum("ba,bca->bc", a, c[:, add_idx])
                elif name == "sub":
                    out = torch.einsum("ba,bca->bc", a, c[:, sub_idx])
                elif name in ("lt", "le"):
                    ca = torch.cumsum(a, dim=1)
                    below = ca - a if name == "lt" else ca
                    pr = (c * below).sum(1)
                    out = torch.zeros(b, m)
                    out = torch.cat([(1 - pr)[:, None], pr[:, None], torch.zeros(b, m - 2)], dim=1)
                elif name == "eq":
                    pr = (a * c).sum(1)
                    out = torch.cat([(1 - pr)[:, None], pr[:, None], torch.zeros(b, m - 2)], dim=1)
                elif name == "min":
                    sa = torch.flip(torch.cumsum(torch.flip(a, [1]), 1), [1])
                    sc = torch.flip(torch.cumsum(torch.flip(c, [1]), 1), [1])
                    out = a * sc + c * sa - a * c
                elif name == "max":
                    out = a * torch.cumsum(c, 1) + c * torch.cumsum(a, 1) - a * c
                elif name == "write":
                    mem = (1 - a)[:, :, None] * mem + a[:, :, None] * c[:, None, :]
                    mem = clip_grad(mem, clip_act)
                    out = c
                values.append(clip_grad(out, clip_act))
            stack = torch.stack(values, dim=1)
            regs = torch.stack([torch.einsum("bk,bkm->bm", sel[f"r{i}"], stack) for i in range(self.r)], dim=1)
            regs = clip_grad(regs, clip_act)
            stop = f * alive if t < steps - 1 else alive
            alive = alive * (1 - f)
            picked = mem.gather(2, target[:, :, None]).squeeze(2).clamp_min(EPS).log()
            loss = loss - (stop * (picked * graded).sum(1)).sum()
        return loss / b, entropy / b


def copy_batch(b, n, m, gen):
    tape = torch.zeros(b, m, dtype=torch.long)
    xs = torch.randint(1, m, (b, n), generator=gen)
    tape[:, 0] = n + 1
    tape[:, 1:n + 1] = xs
    target = tape.clone()
    target[:, n + 1:2 * n + 1] = xs
    graded = torch.zeros(b, m)
    graded[:, n + 1:2 * n + 1] = 1.0
    return tape, target, graded


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=32)
    ap.add_argument("--timesteps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--registers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--controller", choices=["mlp", "lstm"], default="mlp")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = Nram(args.registers, args.hidden, args.controller)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = (args.cells - 2) // 2
    times = []
    for step in range(args.warmup + args.steps):
        tape, target, graded = copy_batch(args.batch, n, args.cells, gen)
        t0 = time.perf_counter()
        loss, entropy = model(tape, target, graded, args.timesteps, 10.0)
        total = loss - 0.01 * entropy
        opt.zero_grad()
        total.backward()
        with torch.no_grad():
            sigma = (0.01 / (1 + step) ** 0.55) ** 0.5
            for p in model.parameters():
                p.grad.add_(torch.randn_like(p) * sigma)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 30.0)
        opt.step()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        "side": "pytorch", "torch": torch.__version__, "threads": args.threads, "cells": args.cells,
        "timesteps": args.timesteps, "batch": args.batch, "registers": args.registers, "hidden": args.hidden, "controller": args.controller,
        "median_step_ms": round(1000 * median, 2), "examples_per_s": round(args.batch / median, 1),
    }))


if __name__ == "__main__":
    main()
