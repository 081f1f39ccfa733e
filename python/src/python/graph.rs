//! `Graph`: a call graph, operation graph or a table task's latent programs,
//! as DOT text and as networkx-ready nodes and edges.

use super::convert;
use crate::data::GraphData;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// A graph of a task, as `synth graph --format dot` prints it (`dot`) and as
/// plain data (`nodes`, `edges`) that networkx takes as it is:
///
///     g = networkx.DiGraph()
///     g.add_nodes_from(graph.nodes)
///     g.add_edges_from(graph.edges)
///
/// Node ids are the DOT text's (unquoted): a program's name or `ACT(move)`
/// in a call graph, `PROGRAM.nK` in an operation graph, `qQsK` for step K of
/// question Q's latent program.
#[pyclass(name = "Graph", module = "synth", frozen)]
pub struct PyGraph {
    pub data: GraphData,
}

#[pymethods]
impl PyGraph {
    /// `"calls"`, `"ops"`, or `"latent"` (a table task's questions).
    #[getter]
    fn kind(&self) -> &'static str {
        self.data.kind
    }

    /// The graph in Graphviz DOT, exactly as `synth graph --format dot`
    /// prints it (with `--ops` for an operation graph).
    #[getter]
    fn dot(&self) -> &str {
        &self.data.dot
    }

    /// A list of `(id, attributes)`: for a call graph `kind` ("program" or
    /// "action"), `name`, `label`, `level`, and for programs `recursive`,
    /// `entry`, `unused` and where the name is written (`line`, `column`,
    /// ...); for an operation graph `program`, `index`, `kind`, `label`,
    /// `sink`, `text` (the source it stands for), where it is written and,
    /// on a tape task, `nram` (its NRAM module or None); for latent
    /// programs `question`, `step`, `label`, `op`, `template`, `answer`.
    #[getter]
    fn nodes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        convert::nodes(py, &self.data.nodes)
    }

    /// A list of `(source, target, attributes)`: for a call graph `sites`
    /// (the number of call sites) and `calls` (their `line` and `column`);
    /// for an operation graph `port` (the operand's position, or "assign")
    /// and `text` (the operand as written, on edges into a decision or an
    /// effect) and where the use is written. `label` is there when the DOT
    /// text labels the edge, with the same text.
    #[getter]
    fn edges<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        convert::edges(py, &self.data.edges)
    }

    fn __repr__(&self) -> String {
        format!("<synth.Graph {}: {} nodes, {} edges>", self.data.kind, self.data.nodes.len(), self.data.edges.len())
    }
}
