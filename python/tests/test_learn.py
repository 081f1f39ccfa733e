"""Tests of `Task.batches`, `Task.evaluate` and `Task.eval_seeds`: the
training arrays hold the reference traces, and a policy written in NumPy is
scored by synth's own closed-loop machine."""

import numpy as np
import pytest

import synth


@pytest.fixture(scope="module")
def add():
    return synth.compile("add")


def frame_steps(trace, f):
    """The steps of frame `f` of a trace, in order."""
    fr = trace.frames[f]
    return [trace.steps[i] for i in range(fr["first_step"], fr["first_step"] + fr["len"])], [
        trace.obs[i] for i in range(fr["first_step"], fr["first_step"] + fr["len"])
    ]


def classes(values, info):
    """Argument values of a trace's call as the three classes of a policy."""
    n = info["args"]["classes"]
    out = [v if v != info["args"]["no_arg"] else n for v in values]
    return out + [n] * (3 - len(out))


def test_batches_hold_the_reference_frames(add):
    b = add.batches(sizes=[2, 4], traces=4, seed=3)
    assert list(b["trace_size"]) == [2, 4, 2, 4]
    steps, width = b["obs"].shape
    assert width == add.info()["observation"]["width"]
    for k in ("program", "end", "call"):
        assert b[k].shape == (steps,)
    assert b["args"].shape == b["call_args"].shape == (steps, 3)
    assert b["end"].dtype == np.bool_ and b["obs"].dtype == np.int64
    offsets = b["frame_offsets"]
    assert offsets[0] == 0 and offsets[-1] == steps and np.all(np.diff(offsets) > 0)
    info = add.info()
    f = 0
    for t, (size, seed) in enumerate(zip(b["trace_size"], b["trace_seed"])):
        trace = add.trace(int(size), int(seed))
        for i, fr in enumerate(trace.frames):
            if fr["len"] == 0:
                continue
            assert b["frame_trace"][f] == t
            lo, hi = offsets[f], offsets[f + 1]
            ss, obs = frame_steps(trace, i)
            assert hi - lo == len(ss)
            np.testing.assert_array_equal(b["obs"][lo:hi], np.array(obs))
            assert list(b["end"][lo:hi]) == [s["end"] for s in ss]
            for r, s in zip(range(lo, hi), ss):
                assert b["program"][r] == fr["id"]
                if s["call"] is not None:
                    assert b["call"][r] == s["call"]["id"]
                    arity = len(s["call"]["args"])
                    assert list(b["call_args"][r][:arity]) == classes(s["call"]["args"], info)[:arity]
                    assert all(b["call_args"][r][arity:] == -1)
            f += 1
    assert f == len(offsets) - 1


def test_batches_default_to_the_learn_block(add):
    learn = add.info()["learn"]
    b = add.batches(traces=12)
    assert set(b["trace_size"]) <= set(learn["train_sizes"])
    assert len(b["trace_size"]) == 12
    again = add.batches(traces=12)
    for k in b:
        np.testing.assert_array_equal(b[k], again[k])


def test_batches_refuse_what_they_cannot_give(add):
    with pytest.raises(synth.TaskError, match="no training sizes"):
        add.batches(sizes=[])
    with pytest.raises(synth.TaskError, match="a table task's examples are"):
        synth.compile("tableqa").batches()


class Replay:
    """Replays each run's reference decisions, as a policy."""

    def __init__(self, task, size, count, seed):
        self.info = task.info()
        self.programs = len(self.info["programs"])
        self.runs = []
        for s in task.eval_seeds(size, count, seed):
            trace = task.trace(size, s)
            order = []
            self.linear(trace, 0, order)
            self.runs.append(order)
        self.next = [0] * count
        self.new_frames = 0

    def linear(self, trace, f, out):
        fr = trace.frames[f]
        for i in range(fr["first_step"], fr["first_step"] + fr["len"]):
            s = trace.steps[i]
            out.append(s)
            if s["child"] is not None:
                self.linear(trace, s["child"], out)

    def __call__(self, rows):
        n = len(rows["run"])
        assert rows["obs"].shape[0] == rows["args"].shape[0] == n
        self.new_frames += int(rows["new_frame"].sum())
        end, call, args = np.zeros(n, bool), np.full(n, self.programs), np.zeros((n, 3), np.int64)
        for r, run in enumerate(rows["run"]):
            s = self.runs[run][self.next[run]]
            self.next[run] += 1
            end[r] = s["end"]
            if s["call"] is not None:
                call[r] = s["call"]["id"]
                args[r] = classes(s["call"]["args"], self.info)
            else:
                args[r] = self.info["args"]["classes"]
        return end, call, args


def test_a_replaying_policy_is_exact(add):
    for size in (1, 6):
        policy = Replay(add, size, 5, seed=2)
        report = add.evaluate(policy, sizes=[size], count=5, seed=2)
        assert report["task"] == "add" and report["learner"] == "python"
        [r] = report["results"]
        assert (r["size"], r["count"], r["exact"], r["accuracy"]) == (size, 5, 5, 1.0)
        assert r["mean_steps"] == sum(len(x) for x in policy.runs) / 5
        assert policy.new_frames == sum(
            len(add.trace(size, s).frames) for s in add.eval_seeds(size, 5, 2)
        )


def test_a_policy_that_never_calls_is_scored_wrong(add):
    def end_at_once(rows):
        n = len(rows["run"])
        return {"end": np.ones(n, bool), "call": np.full(n, 5), "args": np.full((n, 3), 11)}

    report = add.evaluate(end_at_once, sizes=[3, 4], count=4)
    assert [r["exact"] for r in report["results"]] == [0, 0]
    assert [r["mean_steps"] for r in report["results"]] == [1.0, 1.0]


def test_policy_errors_propagate(add):
    class Boom(Exception):
        pass

    def boom(rows):
        raise Boom("from the policy")

    with pytest.raises(Boom, match="from the policy"):
        add.evaluate(boom, sizes=[2], count=2)
    with pytest.raises(ValueError, match="end"):
        add.evaluate(lambda rows: (np.zeros(1, bool), np.zeros(9, int), np.zeros((9, 3), int)), sizes=[2], count=2)
    with pytest.raises(TypeError, match="integers"):
        add.evaluate(lambda rows: (np.zeros(2, bool), np.zeros(2), np.zeros((2, 3))), sizes=[2], count=2)
    with pytest.raises(TypeError, match=r"\(end, call, args\)"):
        add.evaluate(lambda rows: 3, sizes=[2], count=2)
    with pytest.raises(ValueError, match="no `args`"):
        add.evaluate(lambda rows: {"end": [0, 0], "call": [0, 0]}, sizes=[2], count=2)
    with pytest.raises(ValueError, match="negative"):
        n = 2
        add.evaluate(lambda rows: (np.zeros(n, bool), np.full(n, -1), np.zeros((n, 3), int)), sizes=[2], count=n)
    with pytest.raises(TypeError, match="callable"):
        add.evaluate(42, sizes=[2])
    with pytest.raises(ValueError, match="2-d array"):
        synth.compile("nram_copy").evaluate(lambda rows: None, sizes=[2])


def test_eval_seeds_are_synths(add):
    seeds = add.eval_seeds(5, count=4, seed=1)
    assert len(seeds) == 4 and len(set(seeds)) == 4
    assert seeds == add.eval_seeds(5, count=4, seed=1)
    assert seeds != add.eval_seeds(5, count=4, seed=2)


# --- tape and table tasks ------------------------------------------------------


def test_tape_batches_hold_the_reference_examples():
    copy = synth.compile("nram_copy")
    b = copy.batches(sizes=[3, 6], traces=5, seed=2)
    assert b["input"].shape == b["output"].shape == b["graded"].shape
    assert b["graded"].dtype == np.bool_ and b["seed"].dtype == np.uint64
    assert list(b["size"]) == [3, 6, 3, 6, 3]
    for i in range(5):
        t = copy.trace(int(b["size"][i]), int(b["seed"][i]))
        c = int(b["cells"][i])
        assert c == t.cells
        assert list(b["input"][i, :c]) == t.input and list(b["output"][i, :c]) == t.output
        assert (b["input"][i, c:] == -1).all()
        assert list(np.flatnonzero(b["graded"][i])) == t.graded
    # Same arguments, same arrays.
    again = copy.batches(sizes=[3, 6], traces=5, seed=2)
    assert all((again[k] == b[k]).all() for k in b)


def test_a_tape_policy_is_scored_on_its_graded_cells():
    rev = synth.compile("nram_reverse")

    def oracle(inputs):
        out = np.full(inputs["input"].shape, -1)
        for i, (size, seed) in enumerate(zip(inputs["size"], inputs["seed"])):
            t = rev.trace(int(size), int(seed))
            out[i, : t.cells] = t.output
        return out

    report = rev.evaluate(oracle, sizes=[4, 9], count=6, seed=3, learner="oracle")
    assert report["task"] == "nram_reverse" and report["learner"] == "oracle"
    assert [r["size"] for r in report["results"]] == [4, 9]
    assert all(r["exact"] == 6 and r["error"] == 0.0 and r["graded"] > 0 for r in report["results"])
    # Handing the input back scores the cells the reverse changes.
    lazy = rev.evaluate(lambda inputs: inputs["input"], sizes=[9], count=6, seed=3)
    seeds = rev.eval_seeds(9, 6, 3)
    traces = [rev.trace(9, s) for s in seeds]
    graded = sum(len(t.graded) for t in traces)
    wrong = sum(sum(t.input[g] != t.output[g] for g in t.graded) for t in traces)
    assert lazy["results"][0]["graded"] == graded
    assert lazy["results"][0]["error"] == pytest.approx(wrong / graded)
    with pytest.raises(ValueError, match="2-d array"):
        rev.evaluate(lambda inputs: inputs["cells"], sizes=[4], count=2)
    with pytest.raises(ValueError, match="cells"):
        rev.evaluate(lambda inputs: inputs["input"][:, :1], sizes=[4], count=2)
    with pytest.raises(ZeroDivisionError):
        rev.evaluate(lambda inputs: 1 / 0, sizes=[4], count=2)


def test_a_table_policy_answers_questions_it_sees_without_answers():
    tq = synth.compile("tableqa")
    seen = []

    def oracle(questions):
        seen.extend(questions)
        return [tq.trace(q["size"], q["seed"]).answer for q in questions]

    report = tq.evaluate(oracle, sizes=[5, 10], count=8, seed=1)
    assert all("answer" not in q and "program" not in q and "text" in q and "columns" in q for q in seen)
    assert [r["exact"] for r in report["results"]] == [8, 8]
    assert sum(q["count"] for q in report["questions"]) == 16
    assert {q["template"] for q in report["questions"]} >= {"sum of {x}"}
    # Scalars may be given as ints.
    scalars = tq.evaluate(lambda qs: [0] * len(qs), sizes=[5], count=8, seed=1)
    want = sum(tq.trace(5, s).answer == {"kind": "scalar", "value": 0} for s in tq.eval_seeds(5, 8, 1))
    assert scalars["results"][0]["exact"] == want
    with pytest.raises(ValueError, match="neither an int nor an answer"):
        tq.evaluate(lambda qs: ["seven"] * len(qs), sizes=[5], count=2)
    with pytest.raises(ValueError, match="answers for 2 questions"):
        tq.evaluate(lambda qs: [], sizes=[5], count=2)
