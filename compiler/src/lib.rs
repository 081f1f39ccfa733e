//! `synth-compiler`: an NPL syntax tree to a runnable, learnable [`Task`].
//!
//! Pipeline: [`compile`] checks the file (names, arities, types, contexts,
//! world declarations, the `learn` block), lowers it to an IR of resolved
//! slots, and builds the call graph and operation graphs. The resulting
//! [`Task`] samples inputs ([`Task::sample`]), runs the reference programs
//! into [`Trace`]s ([`Task::trace`]), and lets a learned model drive the same
//! world through [`Instance::observe`] and [`Instance::act`]. A tape task
//! gives input/output pairs instead ([`Task::tape_example`], for NRAM) and
//! its reference run's memory writes ([`Task::tape_trace`]).
//!
//! Code map:
//! - [`builtins`]: what every lower_case name can mean (the catalogue).
//! - `check` (items, world, signatures, entry) and `lower` (bodies) turn the
//!   AST into the IR (`ir`), reporting every error as a [`Diagnostic`];
//!   `learn` reads the `learn` block against the catalogue of learners and
//!   their settings ([`learners`]); [`suggest`] finds "did you mean" names
//!   (for the runtime's messages too).
//! - [`callgraph`], [`opgraph`], [`lint`]: the graphs and the learnability lint.
//! - [`cases`]: what each program's decisions depend on, and which of those
//!   cases a set of traces shows (the coverage of a training set).
//! - `interp` runs the IR on the scratchpad (`world`) or the tape (`tape`)
//!   with values from `value`; `instance` samples inputs and generates
//!   traces and tape examples; `render` prints them; [`RunError`] is every
//!   run-time failure.
//! - [`task`]: the plain data the runtime consumes; [`Task`] (`compiled`)
//!   holds it beside the checked program and the graphs.
//!
//! This crate does no IO and uses only the randomness it derives from the
//! seeds it is handed.

// `RunError` is plain data with the program, span, size and seed a reader
// needs; it is returned per trace or per action, never in a tight loop that
// would feel its size, so it stays unboxed and easy to match on.
#![allow(clippy::result_large_err)]

pub mod builtins;
pub mod callgraph;
pub mod car_render;
pub mod cases;
mod check;
mod compiled;
mod error;
mod instance;
mod interp;
mod ir;
mod learn;
pub mod learners;
pub mod lint;
pub mod lte;
mod lower;
pub mod opgraph;
mod render;
pub mod suggest;
pub mod table;
mod tape;
pub mod task;
mod value;
mod world;

pub use compiled::{CarSet, Task};
pub use error::{RunError, RunErrorKind};
pub use cases::{CaseSet, CaseSpec};
pub use instance::Instance;
pub use ir::Limits;
pub use table::{Answer, Cell, ColumnKind, LatentStep, Op, TableColumn, TableExample};
pub use task::{
    ArgSpec, Args, Call, EndConvention, Feature, Frame, ImageSpec, LearnSpec, ObsSpec, ProgramId, ProgramInfo, SettingValue, Step,
    PadExample, TapeExample, TapeTrace, TapeWrite, Trace, ACT, ARG_SLOTS, NO_ARG, NO_ARGS,
};

use std::sync::Arc;
use synth_dsl::{ast, Diagnostic};

/// A task that compiled, with the warnings found on the way (the
/// learnability lint, unused values, settings that look misspelt).
#[derive(Clone, Debug)]
pub struct Compiled {
    pub task: Task,
    pub warnings: Vec<Diagnostic>,
}

/// Parses, checks and lowers `src`. `stem` (the file name without its
/// extension) names the task unless it has a `task NAME` item. On failure the
/// diagnostics hold at least one error (and any warnings), errors first, each
/// group in source order.
pub fn compile(src: &str, stem: &str) -> Result<Compiled, Vec<Diagnostic>> {
    let (file, diags) = synth_dsl::parse(src);
    if diags.iter().any(|d| d.is_error()) {
        return Err(sorted(diags));
    }
    match compile_file(&file, src, stem) {
        Ok(mut c) => {
            let mut warnings = diags;
            warnings.append(&mut c.warnings);
            c.warnings = sorted(warnings);
            Ok(c)
        }
        Err(mut errs) => {
            errs.extend(diags);
            Err(sorted(errs))
        }
    }
}

/// [`compile`] for a syntax tree already parsed from `src` (the source is
/// only hashed).
pub fn compile_file(file: &ast::File, src: &str, stem: &str) -> Result<Compiled, Vec<Diagnostic>> {
    let first_world = file.items.iter().find_map(|i| match &i.kind {
        ast::ItemKind::World(w) => Some(w),
        _ => None,
    });
    if first_world.is_some_and(|w| w.kind.name == "table") {
        return compile_table(file, src, stem);
    }
    let (checked, diags) = check::check(file, stem);
    let Some(c) = checked else {
        return Err(sorted(diags));
    };
    let (ops, calls) = match graphs(&c) {
        Ok(g) => g,
        Err(opgraph::Unresolved(at)) => {
            let bug = Diagnostic::error("internal error: a name that checked has no resolution in the operation graph")
                .at_labelled(at, "this name")
                .hint("this is a bug in synth; please report it with this file");
            return Err(sorted(diags.into_iter().chain([bug]).collect()));
        }
    };
    let mut warnings = diags;
    warnings.extend(lint::lint(&ops, &calls, c.world));
    let programs = program_infos(&c.module, &calls);
    let (definitions, world_definition) = definitions(file, src, &programs, &calls);
    let task = Task {
        name: c.name,
        source_hash: sha256_hex(&fingerprint(file, src)),
        programs,
        definitions,
        world_definition,
        entry: c.module.entry,
        pointers: c.pointers,
        actions: c.actions,
        base: c.base,
        obs: c.obs,
        args: c.args,
        end: c.end,
        learn: c.learn,
        limits: c.limits,
        cars: CarSet::Seen,
        module: Arc::new(c.module),
        graphs: Arc::new((calls, ops)),
        table: None,
    };
    Ok(Compiled { task, warnings: sorted(warnings) })
}

/// A table task: no programs, so no operation or call graph of its own and
/// only `ACT` in its program list; its questions live in [`table::TableSpec`].
fn compile_table(file: &ast::File, src: &str, stem: &str) -> Result<Compiled, Vec<Diagnostic>> {
    let (checked, diags) = check::check_table(file, stem);
    let Some(c) = checked else {
        return Err(sorted(diags));
    };
    let ops = opgraph::OpGraph::build(&[], &[]).map_err(|_| sorted(diags.clone()))?;
    let calls = callgraph::CallGraph::build(&ops, None);
    let task = Task {
        name: c.name,
        source_hash: sha256_hex(&fingerprint(file, src)),
        programs: vec![ProgramInfo { name: "ACT".into(), arity: 3, level: 0, recursive: false }],
        definitions: vec![ACT_DEFINITION.into()],
        world_definition: sha256_hex(&world_text(file, src)),
        entry: ACT,
        pointers: Vec::new(),
        actions: Vec::new(),
        base: 2,
        obs: ObsSpec { features: Vec::new(), image: None },
        args: ArgSpec { classes: 2 },
        end: EndConvention::OwnStep,
        learn: c.learn,
        limits: c.limits,
        cars: CarSet::Seen,
        module: Arc::new(ir::Module::empty(c.world_span)),
        graphs: Arc::new((calls, ops)),
        table: Some(Arc::new(c.table)),
    };
    Ok(Compiled { task, warnings: sorted(diags) })
}

/// The operation graph of the checked programs, and the call graph read off
/// it: each built once per compile.
fn graphs(c: &check::Checked) -> Result<(opgraph::OpGraph, callgraph::CallGraph), opgraph::Unresolved> {
    let bodies: Vec<opgraph::Body> =
        c.bodies.iter().zip(&c.resolved).map(|(program, resolved)| opgraph::Body { program, resolved }).collect();
    let ops = opgraph::OpGraph::build(&bodies, &c.observes)?;
    let entry = (c.module.entry as usize).checked_sub(1).and_then(|i| c.module.procs.get(i)).map(|p| p.name.as_str());
    let calls = callgraph::CallGraph::build(&ops, entry);
    Ok((ops, calls))
}

/// `ACT`, then every program with its arity, level and recursion.
fn program_infos(module: &ir::Module, calls: &callgraph::CallGraph) -> Vec<ProgramInfo> {
    let mut programs = vec![ProgramInfo { name: "ACT".into(), arity: 3, level: 0, recursive: false }];
    for p in &module.procs {
        programs.push(ProgramInfo {
            name: p.name.clone(),
            arity: p.params.len(),
            level: calls.level(&p.name).unwrap_or(1),
            recursive: calls.is_recursive(&p.name),
        });
    }
    programs
}

/// Errors before warnings; within each, whole-file problems first, then by
/// position. Stable, so equal positions keep the order they were found in.
fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| (!d.is_error(), d.span.map(|s| (s.start, s.end))));
    diags
}

/// What a task's source hash covers: every item but `learn`, without
/// comments and with each run of whitespace made one space, so that editing
/// a comment, the layout or the `learn` block keeps a trained checkpoint
/// usable, and any other edit does not.
fn fingerprint(file: &ast::File, src: &str) -> String {
    let mut out = String::new();
    for item in &file.items {
        if matches!(item.kind, ast::ItemKind::Learn(_)) {
            continue;
        }
        out.push_str(&normalized(item, src));
        out.push('\n');
    }
    out
}

/// An item's source text without comments, each run of whitespace made one
/// space.
fn normalized(item: &ast::Item, src: &str) -> String {
    let text = src.get(item.span.start as usize..item.span.end as usize).unwrap_or("");
    let mut in_string = false;
    let mut chars = text.chars().peekable();
    let mut code = String::new();
    while let Some(c) = chars.next() {
        if in_string {
            code.push(c);
            match c {
                '\\' => code.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '/' && chars.peek() == Some(&'/') {
            for c in chars.by_ref() {
                if c == '\n' {
                    code.push('\n');
                    break;
                }
            }
        } else {
            in_string = c == '"';
            code.push(c);
        }
    }
    code.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The definition of `ACT`: the same in every task, as in the NPI paper,
/// where every domain's primitive actions go through one program.
pub const ACT_DEFINITION: &str = "ACT";

/// The `world` item's normalized text.
fn world_text(file: &ast::File, src: &str) -> String {
    file.items.iter().filter(|i| matches!(i.kind, ast::ItemKind::World(_))).map(|i| normalized(i, src)).collect::<Vec<_>>().join("\n")
}

/// Per program, a hash of what it does: the world it acts in and the text
/// of every program it reaches (itself included), by name. Two tasks whose
/// programs have the same definition run them the same way, so a model
/// trained on several tasks keeps one program for both
/// ([`Task::definitions`]). Also the world's own hash.
fn definitions(file: &ast::File, src: &str, programs: &[ProgramInfo], calls: &callgraph::CallGraph) -> (Vec<String>, String) {
    let world = world_text(file, src);
    let texts: std::collections::BTreeMap<&str, String> = file
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ast::ItemKind::Program(p) => Some((p.name.name.as_str(), normalized(i, src))),
            _ => None,
        })
        .collect();
    let mut out = vec![ACT_DEFINITION.to_string()];
    for p in programs.iter().skip(1) {
        // Everything `p` reaches, sorted by name so the order of the file's
        // items does not matter.
        let mut reached = std::collections::BTreeSet::from([p.name.as_str()]);
        let mut todo = vec![p.name.as_str()];
        while let Some(n) = todo.pop() {
            for (callee, _) in calls.callees(n) {
                if let callgraph::CallNode::Program { name, .. } = callee {
                    if reached.insert(name.as_str()) {
                        todo.push(name.as_str());
                    }
                }
            }
        }
        let mut text = format!("world {world}\nroot {}\n", p.name);
        for n in reached {
            text.push_str(texts.get(n).map_or("", |t| t.as_str()));
            text.push('\n');
        }
        out.push(sha256_hex(&text));
    }
    (out, sha256_hex(&world))
}

fn sha256_hex(src: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(src.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
