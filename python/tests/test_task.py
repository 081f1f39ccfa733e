"""Tests of the `synth` Python package against what the `synth` CLI prints.

The CLI's outputs are saved under data/ (data/make-fixtures.sh rewrites
them), so these tests need no binary. Paths are given relative to the
repository root, as the fixtures were made, hence the `at_root` fixture.
"""

import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import time

import pytest

import synth

DATA = pathlib.Path(__file__).resolve().parent / "data"
ROOT = DATA.parents[2]
REL = "python/tests/data"


def text(name):
    return (DATA / name).read_text()


def cli_json(name):
    return json.loads(text(name))


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


# --- the module ---------------------------------------------------------------


def test_version_is_the_packages():
    from importlib.metadata import version

    assert re.fullmatch(r"\d+\.\d+\.\d+.*", synth.__version__)
    assert synth.__version__ == version("synth-npl")


def test_all_names_are_exported():
    for name in synth.__all__:
        assert hasattr(synth, name), name
    for f in (synth.compile, synth.stdlib):
        assert f.__doc__


def test_exception_classes():
    assert issubclass(synth.SynthError, Exception)
    assert issubclass(synth.CompileError, synth.SynthError)
    assert issubclass(synth.TaskError, synth.SynthError)
    assert not issubclass(synth.CompileError, synth.TaskError)
    assert synth.CompileError.__module__ == "synth"
    assert synth.CompileError.__doc__


def test_stdlib_lists_every_stdlib_task():
    names = synth.stdlib()
    assert names == sorted(names)
    assert {"add", "bubblesort", "nram_copy", "tableqa"} <= set(names)
    stdlib_dir = ROOT / "stdlib"
    if stdlib_dir.is_dir():
        assert names == sorted(p.stem for p in stdlib_dir.glob("*.npl"))


def test_constants():
    assert synth.NO_ARG == 65535
    assert synth.ARG_SLOTS == 3


# --- compile ------------------------------------------------------------------


def test_compile_a_stdlib_task_by_name():
    task = synth.compile("add")
    assert task.name == "add"
    assert task.kind == "scratchpad"
    assert task.filename == "stdlib/add.npl"
    assert "program ADD1" in task.source
    assert task.warnings == []
    assert synth.compile("add.npl").source == task.source
    if (ROOT / "stdlib/add.npl").is_file():
        assert task.source == (ROOT / "stdlib/add.npl").read_text()


def test_compile_every_stdlib_task():
    kinds = {name: synth.compile(name).kind for name in synth.stdlib()}
    assert kinds["add"] == "scratchpad"
    assert kinds["nram_copy"] == "tape"
    assert kinds["tableqa"] == "table"
    assert set(kinds.values()) == {"scratchpad", "tape", "table"}


def test_compile_a_path(at_root):
    path = DATA / "three_right.npl"
    for arg in (str(path), path, f"{REL}/three_right.npl"):
        task = synth.compile(arg)
        assert task.name == "three_right"
        assert task.filename == str(arg)
        assert task.source == path.read_text()


def test_compile_source_text():
    src = text("three_right.npl")
    task = synth.compile(src)
    assert task.name == "three_right"  # its `task` item
    assert task.filename == "task.npl"
    assert task.source == src
    # Without a `task` item the name is the stem: `name`, else "task".
    anonymous = src.replace("task three_right\n", "")
    assert synth.compile(anonymous).name == "task"
    named = synth.compile(anonymous, name="walk")
    assert named.name == "walk"
    assert named.filename == "walk.npl"


def test_compile_warnings_are_the_clis(at_root):
    task = synth.compile(f"{REL}/unused_program.npl")
    assert len(task.warnings) == 1
    assert task.warnings[0].startswith("warning: program `LONELY` is never called")
    # The CLI prints them one after another with a blank line between.
    assert "\n".join(task.warnings) == text("unused_program.stderr")


def test_syntax_error_is_the_clis_message(at_root):
    with pytest.raises(synth.CompileError) as info:
        synth.compile(f"{REL}/syntax_error.npl")
    err = info.value
    message = str(err)
    assert message == text("syntax_error.stderr")
    assert f"--> {REL}/syntax_error.npl:15:16" in message
    assert "  STEP(p, right" in message
    assert re.search(r"^\s+\|\s+\^ expected `\)`$", message, re.M)
    [d] = err.diagnostics
    assert d["severity"] == "error"
    assert d["message"] == "expected `)` to close the argument list, found `}`"
    assert (d["line"], d["column"]) == (15, 16)
    assert d["label"] == "expected `)`"
    assert d["rendered"] == message


def test_errors_in_source_text_name_the_stem():
    src = text("syntax_error.npl")
    with pytest.raises(synth.CompileError, match=r"--> broken\.npl:15:16"):
        synth.compile(src, name="broken")
    with pytest.raises(synth.CompileError, match=r"--> task\.npl:15:16"):
        synth.compile(src)


def test_compile_errors_have_diagnostics_for_every_error():
    src = text("three_right.npl").replace("move(p, right)", "move(q, right)")
    with pytest.raises(synth.CompileError) as info:
        synth.compile(src)
    diags = info.value.diagnostics
    assert len(diags) == 3
    assert all(d["severity"] == "error" for d in diags)
    assert [d["line"] for d in diags] == [17, 18, 19]
    assert str(info.value) == "\n".join(d["rendered"] for d in diags)


def test_unknown_stdlib_name():
    with pytest.raises(FileNotFoundError) as info:
        synth.compile("addd")
    expected = "no task `addd`: it is neither a file nor a stdlib task (stdlib tasks: {})".format(
        ", ".join(synth.stdlib())
    )
    assert str(info.value) == expected


def test_missing_file():
    with pytest.raises(FileNotFoundError, match=r"^no task file `no/such/task\.npl`$"):
        synth.compile("no/such/task.npl")
    with pytest.raises(FileNotFoundError, match=r"^no task file `nosuch\.npl`$"):
        synth.compile("nosuch.npl")


@pytest.mark.parametrize("arg", [3, None, b"add", ["add"]])
def test_compile_refuses_other_types(arg):
    with pytest.raises(TypeError):
        synth.compile(arg)


def test_tasks_are_immutable():
    task = synth.compile("add")
    with pytest.raises(AttributeError):
        task.name = "sub"
    with pytest.raises(TypeError):
        synth.Task()


# --- trace --------------------------------------------------------------------


def test_trace_is_the_clis_json_and_text():
    trace = synth.compile("add").trace(3, 0)
    assert trace.to_dict() == cli_json("add_3_0.json")
    assert trace.render() == text("add_3_0.txt")
    assert (trace.kind, trace.task, trace.size, trace.seed) == ("scratchpad", "add", 3, 0)
    assert synth.compile("add").trace(3).to_dict() == trace.to_dict()


def test_trace_frames_steps_and_obs_agree_with_the_json():
    task = synth.compile("add")
    trace = task.trace(3, 0)
    d = trace.to_dict()
    frames, steps, obs = trace.frames, trace.steps, trace.obs
    assert len(frames) == len(d["frames"]) == 11
    assert len(steps) == len(obs) == sum(f["len"] for f in frames) == 47
    width = len(task.info()["observation"]["features"])
    assert all(len(o) == width for o in obs)
    root = frames[0]
    assert (root["program"], root["id"], root["depth"], root["parent"]) == ("ADD", 1, 0, None)
    for i, (frame, jf) in enumerate(zip(frames, d["frames"])):
        for key in ("program", "id", "args", "text"):
            assert frame[key] == jf["call"][key]
        assert frame["parent"] == jf["parent"]
        assert frame["depth"] == jf["depth"]
        mine = steps[frame["first_step"] : frame["first_step"] + frame["len"]]
        assert [s["call"] for s in mine] == [s["call"] for s in jf["steps"]]
        assert [s["end"] for s in mine] == [s["end"] for s in jf["steps"]]
        assert [s["child"] for s in mine] == [s["child"] for s in jf["steps"]]
        assert obs[frame["first_step"] : frame["first_step"] + frame["len"]] == [s["obs"] for s in jf["steps"]]
        for s in mine:
            if s["child"] is not None:
                assert frames[s["child"]]["parent"] == i
                assert frames[s["child"]]["id"] == s["call"]["id"]


def test_traces_are_deterministic_and_seeded():
    task = synth.compile("bubblesort")
    assert task.trace(6, 9).to_dict() == task.trace(6, 9).to_dict()
    assert task.trace(6, 9).to_dict() != task.trace(6, 10).to_dict()


def test_tape_trace_is_the_clis():
    trace = synth.compile("nram_copy").trace(3, 1)
    d = trace.to_dict()
    assert d == cli_json("nram_copy_3_1.json")
    assert trace.render() == text("nram_copy_3_1.txt")
    assert trace.kind == "tape"
    for attr in ("cells", "input", "writes", "output", "graded", "size", "seed"):
        assert getattr(trace, attr) == d[attr]
    for attr in ("frames", "steps", "obs", "rows", "answer"):
        with pytest.raises(AttributeError, match="a tape trace has no attribute"):
            getattr(trace, attr)
    assert not hasattr(trace, "frames")


def test_table_trace_is_the_clis():
    trace = synth.compile("tableqa").trace(6, 3)
    d = trace.to_dict()
    assert d == cli_json("tableqa_6_3.json")
    assert trace.render() == text("tableqa_6_3.txt")
    assert trace.kind == "table"
    for attr in ("rows", "columns", "question", "template", "text", "tokens", "numbers", "answer", "program"):
        assert getattr(trace, attr) == d[attr]
    for attr in ("frames", "input"):
        with pytest.raises(AttributeError, match="a table trace has no attribute"):
            getattr(trace, attr)


def test_a_failing_reference_raises_the_clis_message(at_root):
    task = synth.compile(f"{REL}/three_right.npl")
    assert task.trace(4).size == 4
    with pytest.raises(synth.TaskError) as info:
        task.trace(2, 0)
    err = info.value
    assert str(err) == text("trace_three_right_2.stderr")
    assert (err.kind, err.size, err.seed, err.program) == ("world", 2, 0, "RIGHT3")
    [d] = err.diagnostics
    assert d["message"] == "pointer `p` moved off the right edge of row 0 in program RIGHT3 (size 2, seed 0)"
    assert (d["line"], d["column"]) == (18, 3)


@pytest.mark.parametrize(
    "size, seed, error",
    [
        (-1, 0, OverflowError),
        (3, -1, OverflowError),
        (2**64, 0, OverflowError),
        (3, 2**64, OverflowError),
        (2**63, 0, ValueError),
        ("3", 0, TypeError),
        (3.0, 0, TypeError),
        (None, 0, TypeError),
    ],
)
def test_trace_refuses_bad_sizes_and_seeds(size, seed, error):
    with pytest.raises(error):
        synth.compile("add").trace(size, seed)


@pytest.mark.parametrize(
    "name, size, words",
    [
        ("add", 10**9, "more than the memory limit"),
        ("add", 10**7, "would exceed the limit of 1048576 bits"),
        ("add", 2**63 - 1, "not a small integer"),
        ("increment", 0, "needs at least 1 digit"),
        ("nram_copy", 10**9, "more than the memory limit"),
        ("tableqa", 10**9, "the table would have 1000000000 rows"),
        ("tableqa", 0, "the table would have 0 rows"),
    ],
)
def test_huge_and_empty_sizes_hit_the_limits(name, size, words):
    start = time.monotonic()
    with pytest.raises(synth.TaskError, match=re.escape(words)) as info:
        synth.compile(name).trace(size)
    assert info.value.size == size
    assert time.monotonic() - start < 30


def test_traces_run_in_threads():
    task = synth.compile("bubblesort")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        dicts = list(pool.map(lambda seed: task.trace(20, seed).to_dict(), [1, 2, 1]))
    assert dicts[0] == dicts[2] != dicts[1]


# --- check --------------------------------------------------------------------


def test_check_is_the_clis():
    report = synth.compile("add").check()
    assert report["passed"] is True
    assert report["text"] == text("check_add.txt")
    assert report["errors"] == report["warnings"] == 0
    assert report["diagnostics"] == []
    sizes = [r["size"] for r in report["runs"]]
    assert sizes == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 100, 1000]
    assert report["inputs"] == sum(r["seeds"] for r in report["runs"]) == 50


def test_check_sizes_and_seeds():
    report = synth.compile("add").check(sizes=[2, 3], seeds=1)
    assert report["text"] == text("check_add_sizes.txt")
    assert all(r["seeds"] == 1 for r in report["runs"])
    assert report == synth.compile("add").check([2, 3], 1)


def test_check_reports_warnings(at_root):
    report = synth.compile(f"{REL}/unused_program.npl").check(sizes=[1], seeds=1)
    assert report["passed"] is True
    assert report["warnings"] == 1
    [d] = report["diagnostics"]
    assert d["severity"] == "warning"
    assert report["text"].startswith(text("unused_program.stderr"))


def test_check_failure_raises_the_clis_message(at_root):
    task = synth.compile(f"{REL}/three_right.npl")
    with pytest.raises(synth.TaskError) as info:
        task.check()
    err = info.value
    assert str(err) == text("check_three_right.stderr")
    assert err.report["passed"] is False
    assert err.report["errors"] == 1
    assert err.report["text"] == str(err)
    assert err.diagnostics == err.report["diagnostics"]
    assert err.diagnostics[0]["message"].startswith("pointer `p` moved off the right edge")
    # From size 4 on it runs.
    assert task.check(sizes=[4, 5], seeds=2)["passed"]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"sizes": [-1]}, OverflowError),
        ({"sizes": [2**63]}, ValueError),
        ({"sizes": "3"}, TypeError),
        ({"sizes": 3}, TypeError),
        ({"seeds": -1}, OverflowError),
        ({"seeds": "4"}, TypeError),
    ],
)
def test_check_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error):
        synth.compile("add").check(**kwargs)


def test_check_tape_and_table_tasks():
    for name in ("nram_copy", "tableqa"):
        assert synth.compile(name).check(sizes=[3], seeds=1)["passed"]


# --- graphs -------------------------------------------------------------------


def assert_networkx_shape(graph):
    """What networkx.DiGraph.add_nodes_from/add_edges_from accept."""
    ids = set()
    for node in graph.nodes:
        assert isinstance(node, tuple) and len(node) == 2
        assert isinstance(node[0], str) and isinstance(node[1], dict)
        ids.add(node[0])
    assert len(ids) == len(graph.nodes)
    for edge in graph.edges:
        assert isinstance(edge, tuple) and len(edge) == 3
        assert edge[0] in ids and edge[1] in ids
        assert isinstance(edge[2], dict)


def dot_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def assert_matches_dot(graph, quoted=True):
    """Every node (with its label) and edge is in the DOT text, and no other."""
    q = dot_quote if quoted else (lambda s: s)
    lines = [line.strip() for line in graph.dot.splitlines()]
    node_lines = [l for l in lines if " [" in l and "->" not in l and not l.startswith("node ")]
    edge_lines = [l for l in lines if " -> " in l]
    assert len(node_lines) == len(graph.nodes)
    assert len(edge_lines) == len(graph.edges)
    for nid, attrs in graph.nodes:
        assert any(
            l.startswith(f"{q(nid)} [label={dot_quote(attrs['label'])}") or l == f"{q(nid)} [shape=ellipse];"
            for l in node_lines
        ), nid
    for a, b, attrs in graph.edges:
        label = f" [label={dot_quote(attrs['label'])}]" if "label" in attrs else ""
        assert f"{q(a)} -> {q(b)}{label};" in edge_lines


def test_call_graph_is_the_clis():
    graph = synth.compile("add").call_graph()
    assert graph.kind == "calls"
    assert graph.dot == text("add_calls.dot")
    assert_networkx_shape(graph)
    assert_matches_dot(graph)
    nodes = dict(graph.nodes)
    assert set(nodes) == {"ADD", "ADD1", "CARRY", "LSHIFT", "ACT(write)", "ACT(move)"}
    assert nodes["ADD"]["level"] == 3 and nodes["ADD"]["entry"] is True
    assert nodes["CARRY"]["level"] == 1 and nodes["CARRY"]["kind"] == "program"
    assert nodes["ACT(move)"] == {"kind": "action", "name": "move", "label": "ACT(move)", "level": 0}
    lines = synth.compile("add").source.splitlines()
    at = lambda a: lines[a["line"] - 1][a["column"] - 1 :]
    assert at(nodes["ADD"]).startswith("ADD {")
    edges = {(a, b): attrs for a, b, attrs in graph.edges}
    assert edges[("LSHIFT", "ACT(move)")]["sites"] == 4
    assert edges[("LSHIFT", "ACT(move)")]["label"] == "x4"
    assert len(edges[("LSHIFT", "ACT(move)")]["calls"]) == 4
    assert edges[("ADD", "ADD1")]["sites"] == 1
    [site] = edges[("ADD", "ADD1")]["calls"]
    assert at(site).startswith("ADD1()")
    assert all(at(site).startswith("move(") for site in edges[("LSHIFT", "ACT(move)")]["calls"])


def test_call_graph_of_a_recursive_task():
    graph = synth.compile("add_recursive").call_graph()
    assert_matches_dot(graph)
    assert any(attrs.get("recursive") for _, attrs in graph.nodes)


def test_op_graph_is_the_clis():
    graph = synth.compile("add").op_graph()
    assert graph.kind == "ops"
    assert graph.dot == text("add_ops.dot")
    assert_networkx_shape(graph)
    assert_matches_dot(graph)
    nodes = dict(graph.nodes)
    assert {attrs["program"] for attrs in nodes.values()} == {"ADD", "ADD1", "CARRY", "LSHIFT"}
    assert all(nid == f"{a['program']}.n{a['index']}" for nid, a in graph.nodes)
    assert all("nram" not in a for a in nodes.values())
    sinks = [a for a in nodes.values() if a["sink"]]
    assert {a["kind"] for a in sinks} >= {"loop", "branch", "action", "call"}
    assert any(a["kind"] == "read" and a["text"] == "in1" for a in nodes.values())


def test_op_graph_of_one_program():
    task = synth.compile("add")
    graph = task.op_graph("CARRY")
    assert_matches_dot(graph)
    assert {a["program"] for _, a in graph.nodes} == {"CARRY"}
    assert 'subgraph "cluster_CARRY"' in graph.dot
    assert "cluster_ADD" not in graph.dot
    # Its nodes and edges are the whole graph's for that program.
    whole = task.op_graph()
    assert graph.nodes == [n for n in whole.nodes if n[1]["program"] == "CARRY"]
    assert graph.edges == [e for e in whole.edges if e[0].startswith("CARRY.")]


def test_op_graph_of_an_unknown_program():
    with pytest.raises(ValueError, match=r"no program `ADD2`.*did you mean `ADD`\?"):
        synth.compile("add").op_graph("ADD2")


def test_tape_op_graph_names_nram_modules():
    task = synth.compile("nram_copy")
    graph = task.op_graph()
    assert graph.dot == text("nram_copy_ops.dot")
    assert_matches_dot(graph)
    modules = {a["nram"] for _, a in graph.nodes} - {None}
    assert modules and modules <= set(task.info()["nram_modules"]) | {"zero", "one", "two"}
    assert_matches_dot(task.call_graph())


def test_table_graphs_are_its_latent_programs():
    task = synth.compile("tableqa")
    for graph in (task.call_graph(), task.op_graph()):
        assert graph.kind == "latent"
        assert graph.dot == text("tableqa.dot")
        assert_networkx_shape(graph)
        assert_matches_dot(graph, quoted=False)
    first = dict(task.call_graph().nodes)["q1s1"]
    assert first["question"] == 1 and first["step"] == 1
    with pytest.raises(ValueError, match="table world"):
        task.op_graph("ADD")


def test_graphs_load_into_networkx():
    nx = pytest.importorskip("networkx")
    graph = synth.compile("add").call_graph()
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from(graph.edges)
    assert g.number_of_nodes() == len(graph.nodes)
    assert g.edges["LSHIFT", "ACT(move)"]["sites"] == 4


# --- info ---------------------------------------------------------------------


def test_info_of_a_scratchpad_task():
    task = synth.compile("add")
    info = task.info()
    trace = task.trace(3, 0).to_dict()
    assert json.loads(json.dumps(info)) == info  # plain data
    assert (info["name"], info["kind"]) == ("add", "scratchpad")
    assert info["programs"][0] == {"name": "ACT", "id": 0, "arity": 3, "level": 0, "recursive": False}
    assert [p["name"] for p in info["programs"]] == trace["programs"]
    assert [p["level"] for p in info["programs"]] == [0, 3, 2, 1, 1]
    assert (info["entry"], info["entry_id"]) == ("ADD", 1)
    assert info["curriculum"] == ["CARRY", "LSHIFT", "ADD1", "ADD"]
    assert info["unused"] == []
    assert info["observation"]["features"] == trace["features"]
    assert info["observation"]["width"] == len(trace["features"]) == 12
    assert info["observation"]["one_hot_width"] == sum(f["classes"] for f in trace["features"])
    assert info["args"] == {"classes": info["args"]["classes"], "slots": 3, "no_arg": synth.NO_ARG}
    assert info["args"]["classes"] >= 11
    assert info["actions"] == trace["actions"] == ["write", "move", "swap"]
    assert info["pointers"] == trace["pointers"] == ["in1", "in2", "carry", "out"]
    assert info["base"] == 10
    assert info["end"] == trace["end"] == "own_step"
    learn = info["learn"]
    assert learn["learner"] == "npi"
    assert learn["train_sizes"] == list(range(1, 11))
    assert learn["traces"] == 1000
    assert learn["test_sizes"] == [20, 100, 1000]
    assert isinstance(learn["settings"], dict)
    assert info["limits"]["max_steps"] > 0
    assert re.fullmatch(r"[0-9a-f]{64}", info["source_hash"])


def test_info_of_a_tape_task():
    info = synth.compile("nram_copy").info()
    assert info["kind"] == "tape"
    assert info["learn"]["learner"] == "nram"
    assert info["nram_modules"] and all(isinstance(m, str) for m in info["nram_modules"])
    assert info["programs"][0]["name"] == "ACT"
    for key in ("observation", "args", "actions", "pointers", "columns"):
        assert key not in info


def test_info_of_a_table_task():
    task = synth.compile("tableqa")
    info = task.info()
    example = task.trace(6, 3).to_dict()
    assert info["kind"] == "table"
    assert info["learn"]["learner"] == "np"
    assert [c["name"] for c in info["columns"]] == [c["name"] for c in example["columns"]]
    assert [c["kind"] for c in info["columns"]] == [c["kind"] for c in example["columns"]]
    assert info["timesteps"] >= len(example["program"])
    assert len(info["questions"]) >= 1
    assert set(info["questions"][0]) == {"templates", "answer", "steps"}
    assert "sum" in info["operations"]
    for key in ("programs", "observation", "args"):
        assert key not in info


# --- repr ---------------------------------------------------------------------


def test_reprs():
    task = synth.compile("add")
    assert repr(task) == "<synth.Task add (scratchpad) from stdlib/add.npl>"
    assert repr(task.trace(3, 0)) == "<synth.Trace add size 3 seed 0: 47 steps in 11 frames>"
    assert repr(synth.compile("nram_copy").trace(3, 1)).startswith("<synth.Trace nram_copy size 3 seed 1: ")
    assert repr(task.call_graph()) == "<synth.Graph calls: 6 nodes, 7 edges>"


# --- against a built CLI (opt-in) ----------------------------------------------


@pytest.mark.skipif("SYNTH_CLI" not in os.environ, reason="set SYNTH_CLI to a built synth binary")
@pytest.mark.parametrize("name", synth.stdlib())
def test_every_stdlib_task_agrees_with_the_cli(name):
    """With SYNTH_CLI set to a `synth` binary built from the same sources."""

    def cli(*args):
        run = subprocess.run([os.environ["SYNTH_CLI"], *args], capture_output=True, text=True, check=True)
        return run.stdout

    task = synth.compile(name)
    trace = task.trace(5, 2)
    assert trace.to_dict() == json.loads(cli("trace", name, "--size", "5", "--seed", "2", "--format", "json"))
    assert trace.render() == cli("trace", name, "--size", "5", "--seed", "2")
    assert task.call_graph().dot == cli("graph", name, "--format", "dot")
    assert task.op_graph().dot == cli("graph", name, "--ops", "--format", "dot")
    assert task.check(sizes=[1, 2], seeds=1)["text"] == cli("check", name, "--sizes", "1,2", "--seeds", "1")
