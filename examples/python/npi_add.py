#!/usr/bin/env python3
"""A Neural Programmer-Interpreter in PyTorch, trained on synth's traces.

The model is this file's own; synth only supplies the task: the training
traces of `add` as arrays (`task.batches`) and the closed-loop scoring
(`task.evaluate`), the same inputs, limits and exact-match check as
`synth eval`. Nothing here knows what addition is.

    pip install ./python torch
    python examples/python/npi_add.py [--task add] [--steps 12000] [--sizes 20,100]

Model: one-hot(observation, frame arguments) -> MLP encoder; the frame's
program embedded; both fused by an MLP into an LSTM (fresh state at every
call); heads for "end", the call (a program or no call) and its three
argument classes. Loss: binary cross-entropy on end plus cross-entropy on
the call and the arguments where they are trained (targets of -1 are not).
"""

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

import synth


class Npi(nn.Module):
    def __init__(self, info, hidden=256, layers=2):
        super().__init__()
        self.obs_classes = [f["classes"] for f in info["observation"]["features"]]
        self.arg_classes = info["args"]["classes"] + 1  # + "no argument"
        self.programs = len(info["programs"])
        self.offsets = torch.tensor(np.cumsum([0] + self.obs_classes[:-1]), dtype=torch.long)
        width = sum(self.obs_classes) + 3 * self.arg_classes
        self.encoder = nn.Sequential(nn.Linear(width, 128), nn.ReLU(), nn.Linear(128, 128))
        self.program = nn.Embedding(self.programs, 64)
        self.fuse = nn.Sequential(nn.Linear(128 + 64, 256), nn.ReLU())
        self.lstm = nn.LSTM(256, hidden, num_layers=layers, batch_first=True)
        self.end = nn.Linear(hidden, 1)
        self.call = nn.Linear(hidden, self.programs + 1)
        self.args = nn.Linear(hidden, 3 * self.arg_classes)

    def one_hot(self, obs, args):
        """(..., W) observation and (..., 3) argument classes -> one-hot input."""
        width = sum(self.obs_classes)
        x = torch.zeros(*obs.shape[:-1], width + 3 * self.arg_classes)
        x.scatter_(-1, obs + self.offsets, 1.0)
        slots = width + torch.arange(3) * self.arg_classes
        x.scatter_(-1, args + slots, 1.0)
        return x

    def inputs(self, obs, args, program):
        return self.fuse(torch.cat([self.encoder(self.one_hot(obs, args)), self.program(program)], -1))

    def heads(self, h):
        return self.end(h).squeeze(-1), self.call(h), self.args(h).unflatten(-1, (3, self.arg_classes))


def frames_batch(b, ids):
    """Frames `ids` of a batches() dict, padded to the longest: inputs,
    targets and a mask of real steps, (frames, T, ...)."""
    off = b["frame_offsets"]
    lengths = [int(off[f + 1] - off[f]) for f in ids]
    t = max(lengths)
    idx = np.zeros((len(ids), t), np.int64)
    mask = np.zeros((len(ids), t), bool)
    for i, f in enumerate(ids):
        idx[i, : lengths[i]] = np.arange(off[f], off[f + 1])
        mask[i, : lengths[i]] = True
    g = lambda k: torch.from_numpy(b[k][idx])
    return g("obs"), g("args"), g("program"), g("end").float(), g("call"), g("call_args"), torch.from_numpy(mask)


def train(model, b, steps, batch, lr, seed, log, validate):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    frames = len(b["frame_offsets"]) - 1
    bce = nn.BCEWithLogitsLoss(reduction="none")
    ce = nn.CrossEntropyLoss(ignore_index=-1, reduction="sum")
    best = (-1.0, None)
    # The rate drops tenfold for the last quarter of the steps.
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[int(steps * 0.75)], gamma=0.1)
    for step in range(1, steps + 1):
        obs, args, program, end, call, call_args, mask = frames_batch(b, rng.choice(frames, batch, replace=False))
        h, _ = model.lstm(model.inputs(obs, args, program))
        e, c, a = model.heads(h)
        call = call.masked_fill(~mask, -1)
        call_args = call_args.masked_fill(~mask.unsqueeze(-1), -1)
        n = mask.sum()
        loss = ((bce(e, end) * mask).sum() + ce(c.flatten(0, 1), call.flatten()) + ce(a.flatten(0, 2), call_args.flatten())) / n
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % log == 0:
            acc = validate()
            print(f"step {step:5d}  loss {loss.item():.4f}  validation {acc:.3f}", flush=True)
            if acc > best[0]:
                best = (acc, {k: v.clone() for k, v in model.state_dict().items()})
            if acc == 1.0:
                break
    model.load_state_dict(best[1])
    return best[0]


class Policy:
    """The model run closed-loop: one LSTM step for every row, states kept
    per (run, frame) and started fresh at each call."""

    def __init__(self, model):
        self.model = model
        self.states = {}

    @torch.inference_mode()
    def __call__(self, rows):
        m = self.model
        n = len(rows["run"])
        layers, hidden = m.lstm.num_layers, m.lstm.hidden_size
        h0 = torch.zeros(layers, n, hidden)
        c0 = torch.zeros(layers, n, hidden)
        keys = list(zip(rows["run"].tolist(), rows["frame"].tolist()))
        for i, (k, new) in enumerate(zip(keys, rows["new_frame"].tolist())):
            if not new:
                h0[:, i], c0[:, i] = self.states[k]
        x = m.inputs(torch.from_numpy(rows["obs"]), torch.from_numpy(rows["args"]), torch.from_numpy(rows["program"]))
        out, (h, c) = m.lstm(x.unsqueeze(1), (h0, c0))
        for i, k in enumerate(keys):
            self.states[k] = (h[:, i], c[:, i])
        e, call, args = m.heads(out.squeeze(1))
        return (e > 0).numpy(), call.argmax(-1).numpy(), args.argmax(-1).numpy()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", default="add")
    p.add_argument("--steps", type=int, default=12000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sizes", default="20,100")
    p.add_argument("--count", type=int, default=32)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--log", type=int, default=500, help="steps between validations")
    p.add_argument("--validate", type=int, default=20, help="the input size validated on")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    task = synth.compile(a.task)
    t0 = time.perf_counter()
    b = task.batches(seed=a.seed)
    print(f"{len(b['trace_size'])} traces, {len(b['frame_offsets']) - 1} frames, {len(b['end'])} steps "
          f"in {time.perf_counter() - t0:.3f} s", flush=True)
    model = Npi(task.info(), hidden=a.hidden)
    t0 = time.perf_counter()
    # Validation as synth learn does it: closed loop, on inputs of other
    # seeds than the test's, the best weights kept; exact there ends training.
    validate = lambda: task.evaluate(Policy(model), sizes=[a.validate], count=32, seed=a.seed + 1)["results"][0]["accuracy"]
    best = train(model, b, a.steps, a.batch, a.lr, a.seed, a.log, validate)
    print(f"trained in {time.perf_counter() - t0:.0f} s (best validation {best:.3f} at size {a.validate})", flush=True)
    t0 = time.perf_counter()
    report = task.evaluate(Policy(model), sizes=[int(s) for s in a.sizes.split(",")], count=a.count, learner="torch-npi")
    print(f"evaluated in {time.perf_counter() - t0:.0f} s")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
