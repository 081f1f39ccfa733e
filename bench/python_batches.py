#!/usr/bin/env python3
"""How fast the Python package hands a task's training traces to a model.

    pip install ./python
    python bench/python_batches.py [--task add] [--traces 640,6400] [--rounds 5]

Times `task.batches(traces=N)` (the task's `learn` block's sizes; reference
runs, frames cut, NumPy arrays built, all in Rust) and prints one JSON
object per trace count: the median wall time and the decisions (trace
steps) per second. The Python trace generators of the NPI
reimplementations produce 60-80k decisions per second.
"""

import argparse
import json
import statistics
import time

import synth


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--task", default="add")
    p.add_argument("--traces", default="640,6400")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    task = synth.compile(a.task)
    for n in (int(x) for x in a.traces.split(",")):
        times = []
        for r in range(a.rounds):
            t0 = time.perf_counter()
            b = task.batches(traces=n, seed=r)
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        steps = len(b["end"])
        print(json.dumps({"task": a.task, "traces": n, "steps": steps, "seconds": round(t, 4), "decisions_per_s": round(steps / t)}))


if __name__ == "__main__":
    main()
