"""synth: neural program learning from reference programs written in NPL.

This package compiles NPL tasks (``.npl`` files, or the stdlib's by name),
runs their reference programs and reads their graphs, with the same results
as the ``synth`` command line:

- ``compile(path_or_source, name=None)`` -> ``Task``
- ``stdlib()``: the names of the stdlib tasks
- ``Task.check()``, ``Task.trace()``, ``Task.call_graph()``,
  ``Task.op_graph()``, ``Task.info()``
- ``Task.batches()`` and ``Task.evaluate(policy)``: training traces as
  NumPy arrays, and closed-loop scoring of your own model
- ``load(run_dir, task=None)`` -> ``Model`` (a checkpoint ``synth learn``
  saved): ``Model.run()``, ``Model.evaluate()``
- ``Trace`` (``render()``, ``to_dict()``) and ``Graph`` (``dot``, ``nodes``,
  ``edges``)
- ``CompileError`` and ``TaskError``, both subclasses of ``SynthError``

See docs/python.md in the repository for a guide and a reference.
"""

from ._native import (
    ARG_SLOTS,
    NO_ARG,
    CompileError,
    Graph,
    Model,
    SynthError,
    Task,
    TaskError,
    Trace,
    __version__,
    compile,
    load,
    stdlib,
)

__all__ = [
    "ARG_SLOTS",
    "NO_ARG",
    "CompileError",
    "Graph",
    "Model",
    "SynthError",
    "Task",
    "TaskError",
    "Trace",
    "__version__",
    "compile",
    "load",
    "stdlib",
]
