"""The Neural Turing Machine of docs/ntm.md in PyTorch: the same-model twin
that synth's `runtime/benches/ntm_train.rs` is timed against.

Same machine (a one-layer tanh or an LSTM controller, one read and one write head whose
parameters are clipped to +-20, key tanh, content and location addressing
with interpolation, a shift over -1/0/+1 and sharpening as a softmax of
gamma * log w, memory starting at 1e-6, learned initial weightings and
read vector), same
episodes (the stdlib `copy` tape: n symbols 1..8, a 0, room for the copy,
at least 10 cells; then a delimiter step and one answer step per copied
cell), same loss (each episode's mean answer cross-entropy, averaged over
the batch), global gradient norm capped at 10, Adam at 1e-3. A batch is
one tensor of episodes of one length, the form most favourable to PyTorch
(pytorch-ntm trains the same way).

    python bench/ntm_torch.py --n 10 --threads 2 [--controller lstm]
    python bench/ntm_torch.py --n 20 --threads 1
    python bench/ntm_torch.py --train 20000 --threads 2   # train copy on 1..20, report exact at 20

Prints one JSON line per measurement.
"""

import argparse
import json
import random
import time

import torch
import torch.nn.functional as F

VALUES = 42  # synth's `values` for copy trained on 1..20: cells at n=20, plus 1
SHIFTS = (-1, 0, 1)


def episode(n, rng):
    xs = [rng.randrange(1, 9) for _ in range(n)]
    tokens = xs + [VALUES] + [VALUES + 1] * n
    return tokens, xs


class Ntm(torch.nn.Module):
    def __init__(self, controller="mlp", hidden=100, memory=128, width=20):
        super().__init__()
        self.h, self.n, self.m = hidden, memory, width
        self.lstm = controller == "lstm"
        x = VALUES + 2
        if self.lstm:
            self.ctrl = torch.nn.LSTMCell(x + width, hidden)
            with torch.no_grad():
                self.ctrl.bias_ih.zero_()
                self.ctrl.bias_hh.zero_()
                self.ctrl.bias_ih[hidden:2 * hidden] = 1.0
        else:
            self.ctrl = torch.nn.Linear(x + width, hidden)
        self.heads = torch.nn.Linear(hidden, 4 * width + 12)
        self.out = torch.nn.Linear(hidden + width, VALUES)
        self.w0 = torch.nn.Parameter(torch.empty(2, memory).uniform_(-20 ** -0.5, 20 ** -0.5))
        self.r0 = torch.nn.Parameter(torch.zeros(width))

    def address(self, p, mem, w_prev):
        m = self.m
        k = torch.tanh(p[:, :m])
        beta = F.softplus(p[:, m])
        g = torch.sigmoid(p[:, m + 1])
        s = torch.softmax(p[:, m + 2:m + 5], dim=1)
        gamma = 1 + F.softplus(p[:, m + 5])
        kn = torch.sqrt((k * k).sum(1) + 1e-8)
        rn = torch.sqrt((mem * mem).sum(2) + 1e-8)
        sim = torch.einsum("bm,bnm->bn", k, mem) / (kn[:, None] * rn)
        wc = torch.softmax(beta[:, None] * sim, dim=1)
        wg = g[:, None] * wc + (1 - g[:, None]) * w_prev
        ws = sum(s[:, j:j + 1] * torch.roll(wg, d, dims=1) for j, d in enumerate(SHIFTS))
        return torch.softmax(gamma[:, None] * torch.log(ws + 1e-16), dim=1)

    def forward(self, tokens):
        b, t = tokens.shape
        n = max(self.n, t)
        m = self.m
        mem = torch.full((b, n, m), 1e-6)
        w0 = F.pad(torch.softmax(self.w0, dim=1), (0, n - self.n))
        w_r = w0[0].expand(b, n)
        w_w = w0[1].expand(b, n)
        r = torch.tanh(self.r0).expand(b, m)
        h = torch.zeros(b, self.h)
        c = torch.zeros(b, self.h)
        x = F.one_hot(tokens, VALUES + 2).float()
        logits = []
        for step in range(t):
            if self.lstm:
                h, c = self.ctrl(torch.cat([x[:, step], r], 1), (h, c))
            else:
                h = torch.tanh(self.ctrl(torch.cat([x[:, step], r], 1)))
            p = self.heads(h).clamp(-20, 20)
            w_r = self.address(p[:, :m + 6], mem, w_r)
            w_w = self.address(p[:, m + 6:], mem, w_w)
            r = torch.einsum("bn,bnm->bm", w_r, mem)
            e = torch.sigmoid(p[:, 2 * m + 12:3 * m + 12])
            a = torch.tanh(p[:, 3 * m + 12:])
            mem = mem * (1 - w_w[:, :, None] * e[:, None, :]) + w_w[:, :, None] * a[:, None, :]
            if tokens[0, step] == VALUES + 1:
                logits.append(self.out(torch.cat([h, r], 1)))
        return torch.stack(logits, 1)


def batch(n, size, rng):
    eps = [episode(n, rng) for _ in range(size)]
    return torch.tensor([e[0] for e in eps]), torch.tensor([e[1] for e in eps])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--controller", choices=["mlp", "lstm"], default="mlp")
    ap.add_argument("--train", type=int, default=0, help="train this many steps on lengths 1..20 instead of timing")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    model = Ntm(a.controller)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(tokens, targets):
        opt.zero_grad()
        logits = model(tokens)
        loss = F.cross_entropy(logits.reshape(-1, VALUES), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        return loss.item()

    if a.train:
        start = time.time()
        for s in range(1, a.train + 1):
            loss = step(*batch(rng.randint(1, 20), a.batch, rng))
            if s % 500 == 0:
                with torch.no_grad():
                    tokens, targets = batch(20, 32, random.Random(12345))
                    exact = (model(tokens).argmax(2) == targets).all(1).sum().item()
                print(json.dumps({"step": s, "loss": loss, "exact_at_20": exact, "of": 32, "seconds": round(time.time() - start, 1)}), flush=True)
        return
    batches = [batch(a.n, a.batch, rng) for _ in range(4)]
    steps = batches[0][0].shape[1]
    for k in range(3):
        step(*batches[k % 4])
    rounds = []
    for r in range(5):
        t0 = time.perf_counter()
        reps = 8
        for k in range(reps):
            step(*batches[(r * reps + k) % 4])
        rounds.append((time.perf_counter() - t0) * 1e3 / reps)
    ms = sorted(rounds)[len(rounds) // 2]
    print(json.dumps({
        "task": "copy", "controller": a.controller, "n": a.n, "steps": steps, "batch": a.batch, "threads": a.threads,
        "ms_per_step": round(ms, 2), "episodes_per_s": round(a.batch * 1e3 / ms),
        "episode_steps_per_s": round(a.batch * steps * 1e3 / ms), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
