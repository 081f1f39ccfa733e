"""Tests of `synth.load` and `Model`: a checkpoint `synth learn` saved, run
and scored from Python with the same results as `synth run` and `synth eval`.

Training needs the CLI: the tests of trained models run when SYNTH_CLI names
a `synth` binary built from the same sources (as `.ci/run` does)."""

import json
import os
import subprocess

import pytest

import synth

needs_cli = pytest.mark.skipif("SYNTH_CLI" not in os.environ, reason="set SYNTH_CLI to a built synth binary")


def cli(*args):
    run = subprocess.run([os.environ["SYNTH_CLI"], *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A few steps of each learner: untrained, but real checkpoints."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name in ["add", "nram_access", "tableqa"]:
        out[name] = root / name
        cli("learn", name, "--out", str(out[name]), "--steps", "20", "--count", "1", "--quiet", "--threads", "1")
    out["s2s"] = root / "s2s"
    small = ["--set", "hidden=16", "--set", "embedding=8", "--set", "validate_every=10", "--set", "validation_count=4"]
    cli("learn", "bubblesort", "--learner", "seq2seq", "--out", str(out["s2s"]), "--steps", "20", "--count", "1", "--quiet", "--threads", "1", *small)
    out["ntm"] = root / "ntm"
    small = ["--set", "hidden=12", "--set", "width=6", "--set", "memory=16", "--set", "validate_every=10", "--set", "validation_count=4"]
    cli("learn", "copy", "--out", str(out["ntm"]), "--steps", "20", "--count", "1", "--quiet", "--threads", "1", *small)
    return out


# --- without a trained model ---------------------------------------------------


def test_load_of_a_directory_without_a_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no model"):
        synth.load(tmp_path)


def test_load_of_damaged_metadata_names_the_file(tmp_path):
    (tmp_path / "model.json").write_text("{ not json")
    with pytest.raises(synth.SynthError, match="model.json` is not a synth checkpoint"):
        synth.load(tmp_path, task="add")
    with pytest.raises(synth.SynthError, match="is not a synth checkpoint"):
        synth.load(tmp_path)


def test_a_model_of_several_tasks_needs_the_task(tmp_path):
    meta = {"learner": "npi", "suite": {}, "trained": [{"task": "increment"}, {"task": "reverse"}]}
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(synth.SynthError, match=r"several tasks \(increment, reverse\); pass the one to run as task="):
        synth.load(tmp_path)


def test_missing_weights_are_named(tmp_path):
    meta = {"learner": "nram", "task": "nram_access"}
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(synth.SynthError, match="is not a synth checkpoint"):
        synth.load(tmp_path)


# --- trained models (with the CLI) ----------------------------------------------


@needs_cli
@pytest.mark.parametrize("name,learner", [("add", "npi"), ("nram_access", "nram"), ("tableqa", "np")])
def test_load_reads_the_checkpoint(runs, name, learner):
    m = synth.load(runs[name])
    assert m.learner == learner
    assert m.task.name == name
    assert m.path == str(runs[name])
    assert m.meta == json.loads((runs[name] / "model.json").read_text())
    assert repr(m) == f"<synth.Model {learner} of `{name}` in {runs[name]}>"
    # The task can be given as a Task or as what compile takes.
    assert synth.load(runs[name], task=synth.compile(name)).task.name == name
    assert synth.load(str(runs[name]), task=name).learner == learner


@needs_cli
@pytest.mark.parametrize("name,task", [("add", "add"), ("nram_access", "nram_access"), ("tableqa", "tableqa"), ("s2s", "bubblesort"), ("ntm", "copy")])
def test_evaluate_is_synth_eval(runs, name, task):
    m = synth.load(runs[name])
    ours = m.evaluate(sizes=[3, 6], count=5, seed=2, threads=1)
    theirs = json.loads(cli("eval", task, "--model", str(runs[name]), "--sizes", "3,6", "--count", "5", "--seed", "2", "--json"))
    assert ours == theirs


@needs_cli
def test_a_seq2seq_run_decodes_the_output_rows(runs):
    m = synth.load(runs["s2s"])
    assert m.learner == "seq2seq" and m.task.name == "bubblesort"
    r = m.run(6, seed=2)
    assert r["output_rows"] == [0] and len(r["output"]) == len(r["reference"]) == r["cols"]
    assert len(r["input"]) == r["rows"] * r["cols"]
    assert sorted(r["input"]) == sorted(r["reference"])  # bubblesort permutes its row
    shown = cli("run", "bubblesort", "--model", str(runs["s2s"]), "--size", "6", "--seed", "2")
    assert ("`expect` holds" in shown) == r["correct"]
    seeds = m.task.eval_seeds(4, 6, 0)
    exact = sum(m.run(4, s)["correct"] for s in seeds)
    assert exact == m.evaluate(sizes=[4], count=6)["results"][0]["exact"]


@needs_cli
def test_an_ntm_run_is_the_final_tape(runs):
    m = synth.load(runs["ntm"])
    assert m.learner == "ntm" and m.task.name == "copy"
    r = m.run(5, seed=3)
    assert len(r["output"]) == len(r["reference"]) == len(r["input"]) == r["cells"]
    assert all(r["output"][c] == r["input"][c] for c in range(r["cells"]) if c not in r["graded"])
    assert r["correct"] == all(r["output"][c] == r["reference"][c] for c in r["graded"])
    shown = cli("run", "copy", "--model", str(runs["ntm"]), "--size", "5", "--seed", "3")
    assert (f"{len(r['graded'])} of {len(r['graded'])} graded cells right" in shown) == r["correct"]


@needs_cli
def test_an_npi_run_is_a_learned_trace(runs):
    m = synth.load(runs["add"])
    t = m.run(4, seed=1)
    assert isinstance(t, synth.Trace)
    assert t.learned and t.kind == "scratchpad" and (t.size, t.seed) == (4, 1)
    assert (t.failure is None) == t.correct
    assert "(learned, " in repr(t)
    # Its first line is the `synth run` view's.
    shown = [l for l in cli("run", "add", "--model", str(runs["add"]), "--size", "4", "--seed", "1").splitlines() if not l.startswith("//")]
    assert shown[0].split() == t.render().splitlines()[2].split()
    # The runs evaluate scores are these runs.
    seeds = m.task.eval_seeds(3, 6, 0)
    exact = sum(m.run(3, s).correct for s in seeds)
    assert exact == m.evaluate(sizes=[3], count=6, threads=1)["results"][0]["exact"]
    # A reference trace is not learned, and correct.
    r = m.task.trace(4, 1)
    assert not r.learned and r.correct and r.failure is None


@needs_cli
def test_an_nram_run_is_the_synth_run_tape(runs):
    m = synth.load(runs["nram_access"])
    r = m.run(5, seed=3)
    ref = m.task.trace(5, 3)
    assert r["input"] == ref.input and r["reference"] == ref.output and r["graded"] == ref.graded
    assert r["cells"] == ref.cells and r["steps"] <= r["timesteps"]
    assert r["wrong"] == [c for c in r["graded"] if r["output"][c] != r["reference"][c]]
    assert r["correct"] == (r["wrong"] == [])
    lines = cli("run", "nram_access", "--model", str(runs["nram_access"]), "--size", "5", "--seed", "3").splitlines()
    tape = lines[lines.index("// the final tape") + 2 : lines.index("// the final tape") + 2 + r["cells"]]
    assert [int(l.split()[2]) for l in tape] == r["output"]


@needs_cli
def test_a_neural_programmer_run_answers_the_sampled_question(runs):
    m = synth.load(runs["tableqa"])
    r = m.run(8, seed=4)
    ref = m.task.trace(8, 4)
    assert r["text"] == ref.text and r["columns"] == ref.columns
    assert r["latent"] == ref.program and r["reference"] == ref.answer
    assert r["correct"] == (r["answer"] == r["reference"])
    assert all("op" in step for step in r["program"])
    shown = cli("run", "tableqa", "--model", str(runs["tableqa"]), "--size", "8", "--seed", "4")
    assert f"question: {r['text']}" in shown
    assert ("right;" if r["correct"] else "WRONG;") in shown


@needs_cli
def test_a_model_refuses_another_task(runs):
    with pytest.raises(synth.SynthError, match="trained on task `add`, not `sub`"):
        synth.load(runs["add"], task="sub")
    with pytest.raises(synth.SynthError, match="cannot use"):
        synth.load(runs["nram_access"], task="nram_copy")
    with pytest.raises(synth.SynthError, match="cannot use"):
        synth.load(runs["tableqa"], task="tableqa_sales")


@needs_cli
def test_task_evaluate_draws_the_inputs_synth_eval_draws(runs):
    """A policy that answers as the trained model does scores what the
    model's own evaluation scores: the same inputs, counted the same way."""
    nram = synth.load(runs["nram_access"])

    def machine(inputs):
        out = [nram.run(int(n), int(s))["output"] for n, s in zip(inputs["size"], inputs["seed"])]
        width = inputs["input"].shape[1]
        return [o + [-1] * (width - len(o)) for o in out]

    ours = nram.task.evaluate(machine, sizes=[4, 7], count=6, seed=3)
    theirs = nram.evaluate(sizes=[4, 7], count=6, seed=3)
    assert [r["exact"] for r in ours["results"]] == [r["exact"] for r in theirs["results"]]
    assert [r["error"] for r in ours["results"]] == pytest.approx([r["discrete_error"] for r in theirs["results"]])

    np_model = synth.load(runs["tableqa"])
    answers = lambda qs: [np_model.run(q["size"], q["seed"])["answer"] for q in qs]
    ours = np_model.task.evaluate(answers, sizes=[6], count=8, seed=1)
    theirs = np_model.evaluate(sizes=[6], count=8, seed=1)
    assert ours["results"][0]["exact"] == theirs["results"][0]["exact"]
    assert [q["exact"] for q in ours["questions"]] == [q["exact"] for q in theirs["questions"]]


@needs_cli
def test_a_model_of_several_tasks_loads_per_task(tmp_path):
    multi = tmp_path / "multi"
    cli("learn", "increment", "reverse", "--out", str(multi), "--steps", "10", "--count", "1", "--quiet", "--threads", "1")
    with pytest.raises(synth.SynthError, match=r"several tasks \(increment, reverse\)"):
        synth.load(multi)
    for name in ["increment", "reverse"]:
        m = synth.load(multi, task=name)
        assert m.learner == "npi" and m.task.name == name
        ours = m.evaluate(sizes=[3], count=4, threads=1)
        assert ours == json.loads(cli("eval", name, "--model", str(multi), "--sizes", "3", "--count", "4", "--json"))
        assert m.run(3, 1).learned
