//! What the Python module hands out, built as `serde_json::Value`s from the
//! public API of `synth` and its crates. Nothing here needs Python, so the
//! workspace's `cargo test` checks it (the graphs' nodes and edges against
//! the DOT text `synth graph` prints, in particular); `crate::python` only
//! converts these values into Python objects.
//!
//! Where the CLI already prints JSON (`synth trace --format json`), the value
//! is the one it serialises, so a Python dict equals `json.loads` of the
//! CLI's output.

use serde_json::{json, Map, Value};
use synth::{CheckReport, Source};
use synth_compiler::callgraph::CallNode;
use synth_compiler::opgraph::{NramOp, OpGraph, OpKind, Port, ProgramOps};
use synth_compiler::{Call, ProgramId, Task, Trace, ARG_SLOTS, NO_ARG};
use synth_dsl::span::line_col;
use synth_dsl::{Diagnostic, Span};

/// One-based line and column of a span's start and end in `src`.
fn position(src: &str, span: Span) -> (usize, usize, usize, usize) {
    let (line, column) = line_col(src, span.start as usize);
    let (end_line, end_column) = line_col(src, span.end as usize);
    (line, column, end_line, end_column)
}

/// `line`, `column`, `end_line`, `end_column` of a span (all `null` when
/// there is none) into `m`.
fn put_position(m: &mut Map<String, Value>, src: &str, span: Option<Span>) {
    let (line, column, end_line, end_column) = match span.map(|s| position(src, s)) {
        Some((l, c, el, ec)) => (json!(l), json!(c), json!(el), json!(ec)),
        None => (Value::Null, Value::Null, Value::Null, Value::Null),
    };
    m.insert("line".into(), line);
    m.insert("column".into(), column);
    m.insert("end_line".into(), end_line);
    m.insert("end_column".into(), end_column);
}

/// A diagnostic as plain data: severity, message, where (one-based line and
/// column of the primary span, `null` for whole-file problems), the text under
/// the caret, the secondary labels, the hints, and the diagnostic rendered as
/// the CLI prints it.
pub fn diagnostic(d: &Diagnostic, source: &Source) -> Value {
    let mut m = Map::new();
    m.insert("severity".into(), json!(if d.is_error() { "error" } else { "warning" }));
    m.insert("message".into(), json!(d.message));
    put_position(&mut m, &source.text, d.span);
    m.insert("label".into(), json!(d.span_label));
    let labels: Vec<Value> = d
        .labels
        .iter()
        .map(|l| {
            let mut lm = Map::new();
            lm.insert("message".into(), json!(l.message));
            put_position(&mut lm, &source.text, Some(l.span));
            Value::Object(lm)
        })
        .collect();
    m.insert("labels".into(), Value::Array(labels));
    m.insert("hints".into(), json!(d.hints));
    m.insert("rendered".into(), json!(d.render(&source.display, &source.text)));
    Value::Object(m)
}

pub fn diagnostics(ds: &[Diagnostic], source: &Source) -> Value {
    Value::Array(ds.iter().map(|d| diagnostic(d, source)).collect())
}

/// What `synth check` found, as data; `text` is what it prints.
pub fn check_report(report: &CheckReport, source: &Source) -> Value {
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let runs: Vec<Value> = report.runs.iter().map(|(size, seeds)| json!({"size": size, "seeds": seeds})).collect();
    let inputs: u64 = report.runs.iter().map(|(_, r)| r).sum();
    json!({
        "passed": errors == 0,
        "errors": errors,
        "warnings": report.diagnostics.len() - errors,
        "runs": runs,
        "inputs": inputs,
        "diagnostics": diagnostics(&report.diagnostics, source),
        "text": report.render(source),
    })
}

/// A call as the JSON trace shows it: the program's name and id, the
/// arguments it takes (its arity's worth, without the unused [`NO_ARG`]
/// slots) and the call as text.
pub fn call(task: &Task, c: &Call) -> Value {
    let info = task.programs.get(c.program as usize);
    let arity = info.map_or(ARG_SLOTS, |p| p.arity).min(ARG_SLOTS);
    json!({
        "program": info.map(|p| p.name.clone()),
        "id": c.program,
        "args": c.args[..arity].to_vec(),
        "text": task.render_call(c),
    })
}

/// A trace's frames, flat in pre-order: each frame's call (as [`call`]),
/// parent, depth, and its steps' range in [`steps`].
pub fn frames(task: &Task, trace: &Trace) -> Value {
    let frames: Vec<Value> = trace
        .frames
        .iter()
        .map(|f| {
            let mut m = match call(task, &Call { program: f.program, args: f.args }) {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            m.insert("parent".into(), json!(f.parent));
            m.insert("depth".into(), json!(f.depth));
            m.insert("first_step".into(), json!(f.first_step));
            m.insert("len".into(), json!(f.len));
            Value::Object(m)
        })
        .collect();
    Value::Array(frames)
}

/// A trace's steps, in the order of `Trace::steps`: the call (or `null`),
/// whether the frame ends, the frame a program call opened.
pub fn steps(task: &Task, trace: &Trace) -> Value {
    let steps: Vec<Value> = trace
        .steps
        .iter()
        .map(|s| {
            json!({
                "call": s.call.as_ref().map(|c| call(task, c)),
                "end": s.end,
                "child": s.child,
            })
        })
        .collect();
    Value::Array(steps)
}

/// One observation per step, `obs_width` values each.
pub fn observations(trace: &Trace) -> Vec<Vec<u16>> {
    let w = trace.obs_width;
    (0..trace.steps.len()).map(|i| trace.obs.get(i * w..(i + 1) * w).unwrap_or(&[]).to_vec()).collect()
}

/// What a learner (and a reader) needs to know about a compiled task, by
/// world kind.
pub fn info(task: &Task) -> Value {
    let kind = task.world().name();
    let mut m = Map::new();
    m.insert("name".into(), json!(task.name));
    m.insert("kind".into(), json!(kind));
    m.insert("source_hash".into(), json!(task.source_hash));
    m.insert("learn".into(), serde_json::to_value(&task.learn).unwrap_or(Value::Null));
    m.insert("limits".into(), serde_json::to_value(task.limits).unwrap_or(Value::Null));
    if task.is_table() {
        let columns: Vec<Value> = task
            .table_columns()
            .into_iter()
            .map(|(name, kind)| json!({"name": name, "kind": serde_json::to_value(kind).unwrap_or(Value::Null)}))
            .collect();
        m.insert("columns".into(), Value::Array(columns));
        m.insert("timesteps".into(), json!(task.table_timesteps()));
        m.insert("questions".into(), serde_json::to_value(task.latent_programs()).unwrap_or(Value::Null));
        let ops: Vec<&str> = synth_compiler::Op::ALL.iter().map(|o| o.name()).collect();
        m.insert("operations".into(), json!(ops));
        return Value::Object(m);
    }
    let calls = task.call_graph();
    let programs: Vec<Value> = task
        .programs
        .iter()
        .enumerate()
        .map(|(id, p)| {
            json!({"name": p.name, "id": id, "arity": p.arity, "level": p.level, "recursive": p.recursive})
        })
        .collect();
    m.insert("programs".into(), Value::Array(programs));
    m.insert("entry".into(), json!(program_name(task, task.entry)));
    m.insert("entry_id".into(), json!(task.entry));
    m.insert("curriculum".into(), json!(calls.curriculum_order()));
    m.insert("unused".into(), json!(calls.unused()));
    if task.is_tape() {
        m.insert("nram_modules".into(), json!(task.nram_modules()));
        return Value::Object(m);
    }
    // As a trace's JSON lists them: `rendered` only where it holds.
    let mut observation =
        json!({"features": task.obs.features, "width": task.obs.width(), "one_hot_width": task.obs.one_hot_width()});
    if let Some(image) = &task.obs.image {
        observation["image"] = serde_json::to_value(image).unwrap_or(Value::Null);
    }
    m.insert("observation".into(), observation);
    m.insert("args".into(), json!({"classes": task.args.classes, "slots": ARG_SLOTS, "no_arg": NO_ARG}));
    m.insert("actions".into(), json!(task.actions));
    m.insert("pointers".into(), json!(task.pointers));
    m.insert("base".into(), json!(task.base));
    m.insert("end".into(), serde_json::to_value(task.end).unwrap_or(Value::Null));
    Value::Object(m)
}

fn program_name(task: &Task, id: ProgramId) -> Option<&str> {
    task.programs.get(id as usize).map(|p| p.name.as_str())
}

/// A graph as `synth graph --format dot` prints it, and the same nodes and
/// edges as data: `(id, attributes)` and `(source, target, attributes)`, ids
/// as in the DOT text (unquoted).
#[derive(Clone, Debug)]
pub struct GraphData {
    /// `calls`, `ops` or `latent` (a table task's questions).
    pub kind: &'static str,
    pub dot: String,
    pub nodes: Vec<(String, Value)>,
    pub edges: Vec<(String, String, Value)>,
}

/// The call graph (`synth graph`); a table task's is its latent programs,
/// as the CLI shows them.
pub fn call_graph(task: &Task, src: &str) -> GraphData {
    if task.is_table() {
        return latent_graph(task);
    }
    let g = task.call_graph();
    let unused = g.unused();
    let mut nodes = Vec::new();
    for n in g.graph().node_indices() {
        let node = &g.graph()[n];
        let id = node.label();
        let attrs = match node {
            CallNode::Program { name, span } => {
                let level = g.level(name).unwrap_or(0);
                let recursive = g.is_recursive(name);
                let mut label = format!("{name}\nlevel {level}");
                if recursive {
                    label.push_str(", recursive");
                }
                let mut m = Map::new();
                m.insert("kind".into(), json!("program"));
                m.insert("name".into(), json!(name));
                m.insert("label".into(), json!(label));
                m.insert("level".into(), json!(level));
                m.insert("recursive".into(), json!(recursive));
                m.insert("entry".into(), json!(g.entry() == Some(name.as_str())));
                m.insert("unused".into(), json!(unused.contains(&name.as_str())));
                put_position(&mut m, src, Some(*span));
                Value::Object(m)
            }
            CallNode::Action { name } => {
                json!({"kind": "action", "name": name, "label": id, "level": 0})
            }
        };
        nodes.push((id, attrs));
    }
    let mut edges = Vec::new();
    for caller in g.programs() {
        for (callee, sites) in g.callees(caller) {
            let calls: Vec<Value> = sites
                .iter()
                .map(|s| {
                    let (line, column, _, _) = position(src, *s);
                    json!({"line": line, "column": column})
                })
                .collect();
            let mut m = Map::new();
            m.insert("sites".into(), json!(sites.len()));
            m.insert("calls".into(), Value::Array(calls));
            if sites.len() > 1 {
                m.insert("label".into(), json!(format!("x{}", sites.len())));
            }
            edges.push((caller.to_string(), callee.label(), Value::Object(m)));
        }
    }
    GraphData { kind: "calls", dot: g.to_dot(), nodes, edges }
}

/// Every program's operation graph, or one program's (`synth graph --ops`);
/// on a tape task each node carries the NRAM module it maps to. A table
/// task's is its latent programs. `Err` names a program the task lacks.
pub fn op_graph(task: &Task, src: &str, program: Option<&str>) -> Result<GraphData, String> {
    if task.is_table() {
        return match program {
            None => Ok(latent_graph(task)),
            Some(_) => Err(format!(
                "task `{}` has a table world, which has no programs; `op_graph()` without a program gives every question's latent program",
                task.name
            )),
        };
    }
    let all = task.op_graph();
    let graph = match program {
        None => all.clone(),
        Some(name) => match all.program(name) {
            Some(p) => OpGraph { programs: vec![p.clone()], observes: all.observes.clone() },
            None => {
                let names: Vec<&str> = all.programs.iter().map(|p| p.name.as_str()).collect();
                let mut msg = format!("task `{}` has no program `{name}` (its programs: {})", task.name, names.join(", "));
                if let Some(hint) = synth_compiler::suggest::did_you_mean(name, names.iter().copied()) {
                    msg.push_str("; ");
                    msg.push_str(&hint);
                }
                return Err(msg);
            }
        },
    };
    let tape = task.is_tape();
    let dot = if tape { graph.to_dot_nram() } else { graph.to_dot() };
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for p in &graph.programs {
        program_ops(p, src, tape, &mut nodes, &mut edges);
    }
    Ok(GraphData { kind: "ops", dot, nodes, edges })
}

/// One program's nodes and edges, ids `PROGRAM.nK` as in the DOT text.
fn program_ops(
    p: &ProgramOps,
    src: &str,
    tape: bool,
    nodes: &mut Vec<(String, Value)>,
    edges: &mut Vec<(String, String, Value)>,
) {
    let id = |i: usize| format!("{}.n{i}", p.name);
    let nram = if tape { p.nram_map() } else { Vec::new() };
    for n in p.graph.node_indices() {
        let node = &p.graph[n];
        let mut label = node.kind.short();
        let mut m = Map::new();
        m.insert("program".into(), json!(p.name));
        m.insert("index".into(), json!(n.index()));
        m.insert("kind".into(), json!(op_kind_name(&node.kind)));
        m.insert("sink".into(), json!(node.kind.is_sink()));
        m.insert("text".into(), json!(node.span.text(src)));
        if tape {
            let module = match nram.get(n.index()) {
                Some(NramOp::Module(module)) => {
                    label = format!("{label}\n[{module}]");
                    Some(*module)
                }
                _ => None,
            };
            m.insert("nram".into(), json!(module));
        }
        m.insert("label".into(), json!(label));
        put_position(&mut m, src, Some(node.span));
        nodes.push((id(n.index()), Value::Object(m)));
    }
    // As the DOT text orders them: by target, port, source, then insertion.
    let raw = p.graph.raw_edges();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by_key(|&i| (raw[i].target(), raw[i].weight.port, raw[i].source(), i));
    for i in order {
        let e = &raw[i];
        let operands =
            raw.iter().filter(|x| x.target() == e.target() && matches!(x.weight.port, Port::Arg(_))).count();
        let mut m = Map::new();
        match e.weight.port {
            Port::Arg(k) => {
                m.insert("port".into(), json!(k));
                if operands > 1 {
                    m.insert("label".into(), json!(k.to_string()));
                }
            }
            Port::Assign => {
                m.insert("port".into(), json!("assign"));
            }
        }
        m.insert("text".into(), json!(e.weight.text));
        put_position(&mut m, src, Some(e.weight.span));
        edges.push((id(e.source().index()), id(e.target().index()), Value::Object(m)));
    }
}

/// The operation's kind as one word.
fn op_kind_name(kind: &OpKind) -> &'static str {
    match kind {
        OpKind::Read { .. } => "read",
        OpKind::Observed { .. } => "observed",
        OpKind::Param { .. } => "param",
        OpKind::Pointer(_) => "pointer",
        OpKind::Memory => "memory",
        OpKind::Const(_) => "const",
        OpKind::Arith(_) => "arith",
        OpKind::Compare(_) => "compare",
        OpKind::Logic(_) => "logic",
        OpKind::Not => "not",
        OpKind::Neg => "neg",
        OpKind::Builtin(_) => "builtin",
        OpKind::List => "list",
        OpKind::Range { .. } => "range",
        OpKind::Index => "index",
        OpKind::Var { .. } => "var",
        OpKind::Counter(_) => "counter",
        OpKind::Branch => "branch",
        OpKind::Loop => "loop",
        OpKind::ForRange { .. } => "for_range",
        OpKind::Action(_) => "action",
        OpKind::Call(_) => "call",
        OpKind::Store => "store",
    }
}

/// A table task's graph: every question's latent program, its steps chained
/// (ids `qQsK` as in the DOT text).
fn latent_graph(task: &Task) -> GraphData {
    let programs = task.latent_programs();
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for (i, p) in programs.iter().enumerate() {
        let q = i + 1;
        for (k, s) in p.steps.iter().enumerate() {
            let op = s.split(' ').next().unwrap_or("");
            nodes.push((
                format!("q{q}s{}", k + 1),
                json!({"question": q, "step": k + 1, "label": s, "op": op,
                       "template": p.templates.first(), "answer": p.answer}),
            ));
        }
        for k in 1..p.steps.len() {
            edges.push((format!("q{q}s{k}"), format!("q{q}s{}", k + 1), json!({})));
        }
    }
    GraphData { kind: "latent", dot: synth_compiler::table::latent_programs_dot(&programs), nodes, edges }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(stem: &str) -> (Task, Source) {
        let source = Source::load(stem).unwrap();
        let task = synth::compile(&source).unwrap().task;
        (task, source)
    }

    /// A DOT id or label as the graphs quote it.
    fn quote(s: &str) -> String {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
    }

    /// Every node's id and label, and every edge with its label, is in the
    /// DOT text, and the DOT text has no other node or edge.
    fn agrees(g: &GraphData, stem: &str) {
        let latent = g.kind == "latent";
        let id = |s: &str| if latent { s.to_string() } else { quote(s) };
        let node_lines = g.dot.lines().filter(|l| l.contains(" [") && !l.contains("->") && !l.trim_start().starts_with("node "));
        let edge_lines = g.dot.lines().filter(|l| l.contains(" -> "));
        assert_eq!(node_lines.count(), g.nodes.len(), "{stem}: nodes\n{}", g.dot);
        assert_eq!(edge_lines.count(), g.edges.len(), "{stem}: edges\n{}", g.dot);
        for (n, attrs) in &g.nodes {
            let label = attrs["label"].as_str().unwrap();
            let with_label = format!("{} [label={}", id(n), quote(label));
            let action = attrs["kind"] == "action";
            assert!(
                g.dot.contains(&with_label) || (action && g.dot.contains(&format!("{} [shape=ellipse]", id(n)))),
                "{stem}: node {n} labelled {label:?} not in\n{}",
                g.dot
            );
        }
        for (a, b, attrs) in &g.edges {
            let line = match attrs.get("label").and_then(Value::as_str) {
                Some(l) => format!("{} -> {} [label={}];", id(a), id(b), quote(l)),
                None => format!("{} -> {};", id(a), id(b)),
            };
            assert!(g.dot.lines().any(|l| l.trim() == line), "{stem}: edge {line} not in\n{}", g.dot);
        }
    }

    #[test]
    fn graphs_agree_with_their_dot_text_on_every_stdlib_task() {
        for stem in synth::stdlib::names() {
            let (task, source) = compiled(stem);
            agrees(&call_graph(&task, &source.text), stem);
            agrees(&op_graph(&task, &source.text, None).unwrap(), stem);
            if !task.is_table() {
                for p in &task.op_graph().programs {
                    let one = op_graph(&task, &source.text, Some(&p.name)).unwrap();
                    agrees(&one, stem);
                    assert!(one.nodes.iter().all(|(_, a)| a["program"] == p.name.as_str()));
                }
            }
        }
    }

    #[test]
    fn the_dot_text_is_the_cli_s() {
        let (task, source) = compiled("add");
        assert_eq!(call_graph(&task, &source.text).dot, task.call_graph().to_dot());
        assert_eq!(op_graph(&task, &source.text, None).unwrap().dot, task.op_graph().to_dot());
        let (tape, source) = compiled("nram_copy");
        assert_eq!(op_graph(&tape, &source.text, None).unwrap().dot, tape.op_graph().to_dot_nram());
        let (table, source) = compiled("tableqa");
        let latent = synth_compiler::table::latent_programs_dot(&table.latent_programs());
        assert_eq!(call_graph(&table, &source.text).dot, latent);
        assert_eq!(op_graph(&table, &source.text, None).unwrap().dot, latent);
    }

    #[test]
    fn an_unknown_program_is_named_with_a_suggestion() {
        let (task, source) = compiled("add");
        let err = op_graph(&task, &source.text, Some("ADD2")).unwrap_err();
        assert!(err.contains("no program `ADD2`") && err.contains("did you mean `ADD`?"), "{err}");
        let (table, source) = compiled("tableqa");
        assert!(op_graph(&table, &source.text, Some("ADD")).is_err());
    }

    #[test]
    fn frames_and_steps_match_the_json_trace() {
        let (task, _) = compiled("add");
        let trace = task.trace(3, 1).unwrap();
        let json = task.trace_json(&trace);
        let frames = frames(&task, &trace);
        let steps = steps(&task, &trace);
        let obs = observations(&trace);
        for (i, f) in json["frames"].as_array().unwrap().iter().enumerate() {
            let flat = &frames[i];
            for key in ["program", "id", "args", "text"] {
                assert_eq!(flat[key], f["call"][key], "frame {i} {key}");
            }
            assert_eq!(flat["parent"], f["parent"]);
            assert_eq!(flat["depth"], f["depth"]);
            let first = flat["first_step"].as_u64().unwrap() as usize;
            for (k, s) in f["steps"].as_array().unwrap().iter().enumerate() {
                assert_eq!(steps[first + k]["call"], s["call"]);
                assert_eq!(steps[first + k]["end"], s["end"]);
                assert_eq!(steps[first + k]["child"], s["child"]);
                assert_eq!(json!(obs[first + k]), s["obs"]);
            }
        }
    }

    #[test]
    fn diagnostics_carry_positions_and_the_rendered_text() {
        let source = Source::from_text("bad.npl", "bad", "task t\nprogram ADD {\n  ADD1(a, b\n}\n");
        let errs = synth::compile(&source).unwrap_err();
        let d = diagnostic(&errs[0], &source);
        assert_eq!(d["severity"], "error");
        assert!(d["line"].as_u64().is_some() && d["column"].as_u64().is_some());
        let rendered = d["rendered"].as_str().unwrap();
        assert!(rendered.contains(&format!("--> bad.npl:{}:{}", d["line"], d["column"])), "{rendered}");
    }

    #[test]
    fn info_says_what_applies_to_each_world() {
        let (add, _) = compiled("add");
        let i = info(&add);
        assert_eq!(i["kind"], "scratchpad");
        assert_eq!(i["entry"], "ADD");
        assert_eq!(i["programs"][0]["name"], "ACT");
        assert_eq!(i["args"]["no_arg"], json!(NO_ARG));
        assert_eq!(i["learn"]["learner"], "npi");
        let (tape, _) = compiled("nram_copy");
        let i = info(&tape);
        assert_eq!(i["kind"], "tape");
        assert!(i["nram_modules"].as_array().is_some_and(|m| !m.is_empty()));
        assert!(i.get("observation").is_none());
        let (table, _) = compiled("tableqa");
        let i = info(&table);
        assert_eq!(i["kind"], "table");
        assert!(i["columns"].as_array().is_some_and(|c| !c.is_empty()));
        assert!(i.get("programs").is_none());
    }
}
