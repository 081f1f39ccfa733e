//! The checker's top level: walks the items of a file, builds the world
//! (kind, `rows`/`cols`/`base`, pointers, `observe` features), the program
//! signatures (with each parameter's kind inferred from its uses), then has
//! [`crate::lower`] check and lower every body, resolves the entry program,
//! reads the `learn` block, and assembles the plain-data parts of a
//! [`Task`](crate::Task). Every problem becomes a [`Diagnostic`]; checking
//! goes on after an error so that one run reports all it can.

use crate::builtins::{self, Kind, Ty, WorldKind};
use crate::callgraph::CallGraph;
use crate::ir::{Limits, Module, Observe, ObserveKind, ParamKind, PointerDecl, Proc, Start, WorldDecl};
use crate::learn::lower_learn;
use crate::lower::{const_int, phrase, Local, Lowerer, Names, ParamSig, Place, ProgSig};
use crate::opgraph::show_expr;
use crate::suggest;
use crate::task::{ArgSpec, EndConvention, Feature, LearnSpec, ObsSpec, ProgramId, ProgramInfo};
use crate::value::Value;
use synth_dsl::ast::{self, CallArg, ExprKind, Ident, ItemKind, PointerStart, StmtKind, WorldDeclKind};
use synth_dsl::{Diagnostic, Span};

/// The largest base a scratchpad may have.
pub(crate) const MAX_BASE: i64 = 256;

/// A program may take at most this many parameters (NPI's argument slots).
const MAX_PARAMS: usize = crate::task::ARG_SLOTS;

/// Everything a [`Task`](crate::Task) is made of, but the graphs.
pub(crate) struct Checked {
    pub name: String,
    pub module: Module,
    pub programs: Vec<ProgramInfo>,
    pub pointers: Vec<String>,
    pub actions: Vec<String>,
    pub base: u16,
    pub obs: ObsSpec,
    pub args: ArgSpec,
    pub end: EndConvention,
    pub learn: LearnSpec,
    pub limits: Limits,
}

/// The items of a file, one of each kind but programs.
#[derive(Default)]
struct Items<'f> {
    task: Option<(&'f Ident, Span)>,
    world: Option<(&'f ast::World, Span)>,
    input: Option<(&'f ast::Input, Span)>,
    expect: Option<(&'f ast::Expr, Span)>,
    learn: Option<(&'f ast::Learn, Span)>,
    entry: Option<(&'f Ident, Span)>,
    programs: Vec<&'f ast::Program>,
}

fn once<'f, T>(slot: &mut Option<(&'f T, Span)>, value: &'f T, span: Span, what: &str, diags: &mut Vec<Diagnostic>) {
    match slot {
        Some((_, first)) => diags.push(
            Diagnostic::error(format!("the file has two `{what}` items"))
                .at_labelled(span, format!("a second `{what}`"))
                .label(*first, "the first one is here")
                .hint(format!("a task has one `{what}`; merge them or delete one")),
        ),
        None => *slot = Some((value, span)),
    }
}

pub(crate) fn check(file: &ast::File, stem: &str) -> (Option<Checked>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut items = Items::default();
    for item in &file.items {
        let span = item.span;
        match &item.kind {
            ItemKind::Task(id) => once(&mut items.task, id, span, "task", &mut diags),
            ItemKind::World(w) => once(&mut items.world, w, span, "world", &mut diags),
            ItemKind::Input(i) => once(&mut items.input, i, span, "input", &mut diags),
            ItemKind::Expect(e) => once(&mut items.expect, e, span, "expect", &mut diags),
            ItemKind::Learn(l) => once(&mut items.learn, l, span, "learn", &mut diags),
            ItemKind::Entry(id) => once(&mut items.entry, id, span, "entry", &mut diags),
            ItemKind::Program(p) => items.programs.push(p),
            ItemKind::Question(q) => diags.push(
                Diagnostic::error("`question` items belong to `table` worlds, which are not supported yet")
                    .at_labelled(q.template_span, "a table question"),
            ),
        }
    }

    // ----- the world -----
    let Some((world, world_span)) = items.world else {
        diags.push(
            Diagnostic::error("the file declares no world").hint(
                "declare one, e.g. `world scratchpad(rows: 1, cols: n, base: 10) { pointer p on row 0 at left }`",
            ),
        );
        return (None, diags);
    };
    let kind = match WorldKind::from_name(&world.kind.name) {
        Some(WorldKind::Scratchpad) => WorldKind::Scratchpad,
        Some(other) => {
            diags.push(
                Diagnostic::error(format!("world `{}` is not supported yet", other.name()))
                    .at_labelled(world.kind.span, "not supported yet")
                    .hint("only `scratchpad` worlds compile today; `tape`, `table` and `pose` parse but do not run"),
            );
            return (None, diags);
        }
        None => {
            let mut d = Diagnostic::error(format!("unknown world kind `{}`", world.kind.name))
                .at_labelled(world.kind.span, "not a world kind");
            d = match suggest::did_you_mean(&world.kind.name, WorldKind::ALL.iter().map(|k| k.name())) {
                Some(h) => d.hint(h),
                None => d.hint("the world kinds are `scratchpad`, `tape`, `table` and `pose`"),
            };
            diags.push(d);
            // Check the rest as a scratchpad, the only kind that runs.
            WorldKind::Scratchpad
        }
    };

    // Pointers first: every body refers to them.
    let mut pointers: Vec<(String, Span)> = Vec::new();
    let mut pointer_decls: Vec<&ast::WorldDecl> = Vec::new();
    let mut observe_exprs: Vec<(&ast::Expr, Span)> = Vec::new();
    for decl in &world.decls {
        match &decl.kind {
            WorldDeclKind::Pointer { name, .. } => {
                if let Some(d) = bad_name(name, "pointer") {
                    diags.push(d);
                    continue;
                }
                if let Some((_, first)) = pointers.iter().find(|(n, _)| *n == name.name) {
                    diags.push(
                        Diagnostic::error(format!("the pointer `{}` is declared twice", name.name))
                            .at_labelled(name.span, "declared again here")
                            .label(*first, "first declared here")
                            .hint("every pointer needs its own name"),
                    );
                    continue;
                }
                pointers.push((name.name.clone(), name.span));
                pointer_decls.push(decl);
            }
            WorldDeclKind::Observe(e) => observe_exprs.push((e, decl.span)),
            WorldDeclKind::Other { keyword, .. } => {
                let mut d = Diagnostic::error(format!(
                    "a scratchpad declares `pointer`s and `observe` features, not `{}`",
                    keyword.name
                ))
                .at_labelled(keyword.span, "not a scratchpad declaration");
                d = match suggest::did_you_mean(&keyword.name, ["pointer", "observe"]) {
                    Some(h) => d.hint(h),
                    None => d.hint("declare a pointer as `pointer p on row 0 at left`"),
                };
                diags.push(d);
            }
        }
    }
    if pointers.is_empty() && !world.decls.iter().any(|d| matches!(d.kind, WorldDeclKind::Pointer { .. })) {
        diags.push(
            Diagnostic::error("the scratchpad declares no pointers")
                .at_labelled(world.kind.span, "a world without pointers")
                .hint("programs act through pointers; declare one in the world block: `pointer p on row 0 at left`"),
        );
    }

    // Program signatures, before any body: calls may go forward.
    let mut sigs: Vec<ProgSig> = Vec::new();
    let mut bodies: Vec<&ast::Program> = Vec::new();
    for p in &items.programs {
        let name = &p.name;
        if !name.is_program_name() {
            let upper = name.name.to_uppercase();
            diags.push(
                Diagnostic::error(format!("program names are written in UPPER_CASE, found `{}`", name.name))
                    .at_labelled(name.span, "not an UPPER_CASE name")
                    .hint(format!("write `program {upper}`; lower_case names are variables, pointers and built-ins")),
            );
        }
        if let Some(first) = sigs.iter().find(|s| s.name == name.name) {
            diags.push(
                Diagnostic::error(format!("the program `{}` is defined twice", name.name))
                    .at_labelled(name.span, "defined again here")
                    .label(first.span, "first defined here")
                    .hint("rename one of them; every program needs its own name"),
            );
            continue;
        }
        if p.params.len() > MAX_PARAMS {
            let extra = &p.params[MAX_PARAMS];
            diags.push(
                Diagnostic::error(format!(
                    "program `{}` takes {} parameters, but a program can take at most {MAX_PARAMS}",
                    name.name,
                    p.params.len()
                ))
                .at_labelled(extra.span.to(p.params[p.params.len() - 1].span), "too many parameters")
                .hint("NPI passes a call's arguments in 3 slots; split the program, or pass fewer values"),
            );
        }
        let params = p
            .params
            .iter()
            .map(|id| ParamSig { name: id.name.clone(), span: id.span, kind: ParamKind::Value, why: None })
            .collect();
        sigs.push(ProgSig { name: name.name.clone(), span: name.span, params });
        bodies.push(p);
    }
    infer_param_kinds(&items.programs, &mut sigs);

    let size_name = items.input.map_or_else(|| "n".to_string(), |(i, _)| i.param.name.clone());
    let mut names = Names { pointers: &pointers, programs: &sigs, world: kind, input_vars: Vec::new(), size_name };

    // World arguments and pointer positions, computed from the size.
    let world_decl = lower_world(world, world_span, &pointer_decls, &names, &mut diags);

    // `observe` features.
    let mut observes = Vec::new();
    for (e, span) in &observe_exprs {
        let mut lw = Lowerer::new(&names, Place::Observe, &mut diags);
        let (ty, ir) = lw.lower_expr(e);
        let kind = match ty {
            Ty::Bool => Some(ObserveKind::Bool),
            Ty::Cell => Some(ObserveKind::Cell),
            Ty::Any => None,
            other => {
                diags.push(
                    Diagnostic::error(format!(
                        "`observe` takes a boolean (such as `pos(lo) >= pos(hi)`) or a pointer's cell (such as `p`), found {}",
                        phrase(other)
                    ))
                    .at_labelled(e.span, format!("this is {}", phrase(other)))
                    .hint("the learner sees each feature as a small category; compare an integer to make it a boolean"),
                );
                None
            }
        };
        if let Some(kind) = kind {
            observes.push(Observe { name: show_expr(e), expr: ir, kind, span: *span });
        }
    }

    // `input`: slot 0 is the size.
    let mut input_proc = Proc { name: "input".into(), ..Proc::default() };
    let mut expect_scope: Vec<Local> = Vec::new();
    match items.input {
        Some((input, _)) => {
            let mut lw = Lowerer::new(&names, Place::Input, &mut diags);
            lw.declare(&input.param, Ty::Int, None, "size parameter");
            lw.lower_stmts(&input.body.stmts);
            expect_scope = lw.scopes[0].clone();
            input_proc.code = std::mem::take(&mut lw.code);
            input_proc.spans = std::mem::take(&mut lw.spans);
            input_proc.slot_names = std::mem::take(&mut lw.slot_names);
            input_proc.slots = input_proc.slot_names.len() as u16;
        }
        None => {
            diags.push(
                Diagnostic::error("the file has no `input` block").hint(
                    "sample an input of size `n`, e.g. `input(n) { let xs = random_list(n, 0..10); write_list(row: 0, xs) }`",
                ),
            );
            input_proc.slot_names = vec!["n".into()];
            input_proc.slots = 1;
        }
    }
    names.input_vars = input_proc.slot_names.iter().skip(1).filter(|n| !n.is_empty()).cloned().collect();

    // `expect`, over the input's top-level bindings.
    let (expect, expect_span, expect_text) = match items.expect {
        Some((e, _)) => {
            let mut lw = Lowerer::new(&names, Place::Expect, &mut diags);
            lw.scopes[0] = expect_scope;
            lw.slot_names = input_proc.slot_names.clone();
            let (ty, ir) = lw.lower_expr(e);
            if !crate::lower::accepts(Ty::Bool, ty) {
                diags.push(
                    Diagnostic::error(format!("`expect` must be a boolean, found {}", phrase(ty)))
                        .at_labelled(e.span, "not a boolean")
                        .hint("compare the result with what it should be, e.g. `expect read_number(row: 3) == a + b`"),
                );
            }
            (ir, e.span, show_expr(e))
        }
        None => {
            diags.push(
                Diagnostic::error("the file has no `expect`")
                    .hint("say what a correct result is, e.g. `expect read_list(row: 0) == sorted(xs)`"),
            );
            (crate::ir::Expr::Const(Value::Bool(true)), Span::default(), String::new())
        }
    };

    // Programs.
    if items.programs.is_empty() {
        diags.push(
            Diagnostic::error("the file has no programs").hint("add a reference program: `program MAIN { ... }`"),
        );
    }
    let mut procs = Vec::new();
    for (i, p) in bodies.iter().enumerate() {
        let id = (i + 1) as ProgramId;
        let mut lw = Lowerer::new(&names, Place::Program(id), &mut diags);
        for (param, sig) in p.params.iter().zip(&sigs[i].params) {
            let ty = match sig.kind {
                ParamKind::Pointer => Ty::Pointer,
                ParamKind::Dir => Ty::Dir,
                ParamKind::Value => Ty::Any,
            };
            lw.declare(param, ty, Some(sig.kind), "parameter");
        }
        lw.lower_block(&p.body);
        procs.push(Proc {
            name: sigs[i].name.clone(),
            params: sigs[i].params.iter().map(|s| (s.name.clone(), s.kind)).collect(),
            code: lw.code,
            spans: lw.spans,
            slots: lw.slot_names.len() as u16,
            slot_names: lw.slot_names,
        });
    }
    // Bodies of duplicate programs are checked too, then dropped.
    for p in &items.programs {
        if let Some(i) = sigs.iter().position(|s| s.name == p.name.name) {
            if !std::ptr::eq(bodies[i], *p) {
                let mut lw = Lowerer::new(&names, Place::Program((i + 1) as ProgramId), &mut diags);
                for param in &p.params {
                    lw.declare(param, Ty::Any, Some(ParamKind::Value), "parameter");
                }
                lw.lower_block(&p.body);
            }
        }
    }

    // The entry program.
    let entry: ProgramId = match items.entry {
        Some((id, _)) => match sigs.iter().position(|s| s.name == id.name) {
            Some(i) => (i + 1) as ProgramId,
            None => {
                let mut d = Diagnostic::error(format!("the entry program `{}` is not defined", id.name))
                    .at_labelled(id.span, "no program has this name");
                d = match suggest::did_you_mean(&id.name, sigs.iter().map(|s| s.name.as_str())) {
                    Some(h) => d.hint(h),
                    None if sigs.is_empty() => d.hint("define it: `program MAIN { ... }`"),
                    None => d.hint(format!(
                        "the programs are {}",
                        sigs.iter().map(|s| format!("`{}`", s.name)).collect::<Vec<_>>().join(", ")
                    )),
                };
                diags.push(d);
                1
            }
        },
        None => 1,
    };
    if let Some(sig) = sigs.get(entry as usize - 1) {
        if !sig.params.is_empty() {
            let first = sig.params[0].span;
            let last = sig.params[sig.params.len() - 1].span;
            diags.push(
                Diagnostic::error(format!("the entry program `{}` cannot take parameters", sig.name))
                    .at_labelled(first.to(last), "nothing passes these")
                    .hint("the entry program runs with no arguments; call this one from a parameterless program"),
            );
        }
    }

    let learned = lower_learn(items.learn.map(|(l, _)| l), &mut diags);

    if diags.iter().any(|d| d.is_error()) {
        return (None, diags);
    }

    // Plain-data parts.
    let call_graph = CallGraph::build(file);
    let mut programs = vec![ProgramInfo { name: "ACT".into(), arity: 3, level: 0, recursive: false }];
    for s in &sigs {
        programs.push(ProgramInfo {
            name: s.name.clone(),
            arity: s.params.len(),
            level: call_graph.level(&s.name).unwrap_or(1),
            recursive: call_graph.is_recursive(&s.name),
        });
    }
    let base = world_decl.base;
    let mut features = Vec::new();
    for (p, _) in &pointers {
        features.push(Feature { name: p.clone(), classes: base + 1 });
        features.push(Feature { name: format!("{p}.start"), classes: 2 });
        features.push(Feature { name: format!("{p}.end"), classes: 2 });
    }
    for o in &observes {
        let classes = match o.kind {
            ObserveKind::Bool => 2,
            ObserveKind::Cell => base + 1,
        };
        features.push(Feature { name: o.name.clone(), classes });
    }
    let actions: Vec<String> = builtins::actions(WorldKind::Scratchpad).map(|b| b.name.to_string()).collect();
    debug_assert!(actions.iter().zip(crate::ir::Action::ALL).all(|(a, b)| a == b.name()));
    let classes = (base + 1).max(pointers.len() as u16).max(actions.len() as u16).max(2);
    let module = Module {
        world: WorldDecl { observes, ..world_decl },
        input: input_proc,
        expect,
        expect_span,
        expect_text,
        procs,
        entry,
        arg_classes: classes,
    };
    let checked = Checked {
        name: items.task.map_or_else(|| stem.to_string(), |(t, _)| t.name.clone()),
        module,
        programs,
        pointers: pointers.into_iter().map(|(n, _)| n).collect(),
        actions,
        base,
        obs: ObsSpec { features },
        args: ArgSpec { classes },
        end: learned.end,
        learn: learned.spec,
        limits: learned.limits,
    };
    (Some(checked), diags)
}

/// A name that cannot name a pointer (or parameter): a keyword or an
/// UPPER_CASE name.
fn bad_name(id: &Ident, what: &str) -> Option<Diagnostic> {
    if ast::is_keyword(&id.name) {
        return Some(
            Diagnostic::error(format!("`{}` is a keyword and cannot name a {what}", id.name))
                .at_labelled(id.span, "reserved word")
                .hint(format!("pick another name, e.g. `{}_`", id.name)),
        );
    }
    if id.is_program_name() {
        return Some(
            Diagnostic::error(format!("`{}` is written like a program name, but names a {what}", id.name))
                .at_labelled(id.span, "UPPER_CASE names are programs")
                .hint(format!("{what}s are lower_case: `{}`", id.name.to_lowercase())),
        );
    }
    None
}

/// `rows`, `cols` and `base`, then every pointer's row and start column.
fn lower_world(
    world: &ast::World,
    span: Span,
    pointer_decls: &[&ast::WorldDecl],
    names: &Names,
    diags: &mut Vec<Diagnostic>,
) -> WorldDecl {
    const PARAMS: [&str; 3] = ["rows", "cols", "base"];
    let example = "write `world scratchpad(rows: 2, cols: n + 1, base: 10) { ... }`";
    let mut bound: [Option<&ast::Expr>; 3] = [None, None, None];
    let mut positional = 0;
    for CallArg { name, value } in &world.args {
        let i = match name {
            Some(n) => match PARAMS.iter().position(|p| *p == n.name) {
                Some(i) => i,
                None => {
                    let mut d = Diagnostic::error(format!("a scratchpad has no argument `{}`", n.name))
                        .at_labelled(n.span, "unknown argument");
                    d = match suggest::did_you_mean(&n.name, PARAMS) {
                        Some(h) => d.hint(h),
                        None => d.hint("a scratchpad takes `rows`, `cols` and `base`"),
                    };
                    diags.push(d);
                    continue;
                }
            },
            None => {
                while positional < 3 && bound[positional].is_some() {
                    positional += 1;
                }
                if positional == 3 {
                    diags.push(
                        Diagnostic::error("a scratchpad takes 3 arguments: `rows`, `cols` and `base`")
                            .at_labelled(value.span, "one argument too many"),
                    );
                    continue;
                }
                positional
            }
        };
        if bound[i].is_some() {
            diags.push(
                Diagnostic::error(format!("the world argument `{}` is given twice", PARAMS[i]))
                    .at_labelled(value.span, "given again here"),
            );
            continue;
        }
        bound[i] = Some(value);
    }
    let missing: Vec<&str> = PARAMS.iter().zip(&bound).filter(|(_, b)| b.is_none()).map(|(p, _)| *p).collect();
    if !missing.is_empty() {
        let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
        diags.push(
            Diagnostic::error(format!("the scratchpad is missing {list}"))
                .at_labelled(world.kind.span, format!("needs {list}"))
                .hint(example),
        );
    }

    let mut lw = Lowerer::new(names, Place::World, diags);
    let size_id = Ident { name: names.size_name.clone(), span };
    lw.declare(&size_id, Ty::Int, None, "size parameter");
    if names.size_name != "n" {
        lw.scopes[0].push(Local { name: "n".into(), slot: 0, ty: Ty::Int, span, param: None });
    }
    let int_arg = |lw: &mut Lowerer, e: Option<&ast::Expr>, what: &str| -> crate::ir::Expr {
        let Some(e) = e else { return crate::ir::Expr::Const(Value::Int(1)) };
        let (ty, ir) = lw.lower_expr(e);
        if !crate::lower::accepts(Ty::Int, ty) {
            lw.diags.push(
                Diagnostic::error(format!("{what} must be an integer, found {}", phrase(ty)))
                    .at_labelled(e.span, "not an integer"),
            );
        }
        ir
    };
    let rows = int_arg(&mut lw, bound[0], "`rows`");
    let cols = int_arg(&mut lw, bound[1], "`cols`");
    let base_ir = int_arg(&mut lw, bound[2], "`base`");
    let mut base: u16 = 10;
    if let Some(e) = bound[2] {
        match const_int(&base_ir) {
            Some(b) if (2..=MAX_BASE).contains(&b) => base = b as u16,
            Some(b) => lw.diags.push(
                Diagnostic::error(format!("the base must be between 2 and {MAX_BASE}, found {b}"))
                    .at_labelled(e.span, "out of range")
                    .hint("cells hold the digits 0..base; `base: 10` for decimal digits"),
            ),
            None => lw.diags.push(
                Diagnostic::error("the base must be a constant")
                    .at_labelled(e.span, "not a constant")
                    .hint("the learner sees a fixed number of cell values, so the base cannot depend on the size"),
            ),
        }
    }
    for (what, e, ir) in [("rows", bound[0], &rows), ("cols", bound[1], &cols)] {
        if let (Some(e), Some(v)) = (e, const_int(ir)) {
            if v < 1 {
                lw.diags.push(
                    Diagnostic::error(format!("`{what}` must be at least 1, found {v}"))
                        .at_labelled(e.span, "too small"),
                );
            }
        }
    }
    let const_rows = const_int(&rows);
    let const_cols = const_int(&cols);

    let mut pointers = Vec::new();
    for decl in pointer_decls {
        let WorldDeclKind::Pointer { name, row, start } = &decl.kind else { continue };
        let row_ir = int_arg(&mut lw, Some(row), "a pointer's row");
        if let (Some(r), Some(rows)) = (const_int(&row_ir), const_rows) {
            if r < 0 || r >= rows {
                lw.diags.push(
                    Diagnostic::error(format!(
                        "pointer `{}` is on row {r}, but the pad's rows are 0 to {}",
                        name.name,
                        rows - 1
                    ))
                    .at_labelled(row.span, "no such row")
                    .hint(format!(
                        "rows are numbered from 0; put it on row {} at most, or give the world `rows: {}`",
                        rows - 1,
                        r + 1
                    )),
                );
            }
        }
        let start = match start {
            PointerStart::Left(_) => Start::Left,
            PointerStart::Right(_) => Start::Right,
            PointerStart::Column(e) => {
                let ir = int_arg(&mut lw, Some(e), "a pointer's column");
                if let (Some(c), Some(cols)) = (const_int(&ir), const_cols) {
                    if c < 0 || c >= cols {
                        lw.diags.push(
                            Diagnostic::error(format!(
                                "pointer `{}` starts at column {c}, but the pad's columns are 0 to {}",
                                name.name,
                                cols - 1
                            ))
                            .at_labelled(e.span, "no such column")
                            .hint("start it `at left`, `at right`, or at a column inside the pad"),
                        );
                    }
                }
                Start::Column(ir)
            }
        };
        pointers.push(PointerDecl { name: name.name.clone(), row: row_ir, start, span: decl.span });
    }
    WorldDecl { rows, cols, base, pointers, observes: Vec::new(), span }
}

/// Infers which parameters hold pointers or directions: a parameter passed
/// where a built-in wants a pointer (`move(p, d)`) or a direction, or to a
/// program parameter already known to hold one, is one. Iterates to a fixed
/// point so that kinds flow through chains of calls.
fn infer_param_kinds(programs: &[&ast::Program], sigs: &mut [ProgSig]) {
    loop {
        let mut found: Vec<(usize, usize, ParamKind, Span)> = Vec::new();
        for p in programs {
            let Some(i) = sigs.iter().position(|s| s.name == p.name.name) else { continue };
            let params = &sigs[i].params;
            let mut visit = |callee: &Ident, args: &[CallArg]| {
                let kinds: Vec<Option<(usize, ParamKind)>> = {
                    let mut positional = 0usize;
                    args.iter()
                        .map(|a| {
                            let slot = match &a.name {
                                Some(n) => param_index(callee, n, sigs),
                                None => {
                                    positional += 1;
                                    Some(positional - 1)
                                }
                            }?;
                            let kind = param_kind(callee, slot, sigs)?;
                            Some((slot, kind))
                        })
                        .collect()
                };
                for (a, k) in args.iter().zip(kinds) {
                    let Some((_, kind)) = k else { continue };
                    if let ExprKind::Name(id) = &a.value.kind {
                        if let Some(j) = params.iter().position(|q| q.name == id.name) {
                            if params[j].kind == ParamKind::Value {
                                found.push((i, j, kind, a.value.span));
                            }
                        }
                    }
                }
            };
            walk_calls(&p.body, &mut visit);
        }
        if found.is_empty() {
            return;
        }
        for (i, j, kind, span) in found {
            if sigs[i].params[j].kind == ParamKind::Value {
                sigs[i].params[j].kind = kind;
                sigs[i].params[j].why = Some(span);
            }
        }
    }
}

/// The index of a named argument's parameter.
fn param_index(callee: &Ident, name: &Ident, sigs: &[ProgSig]) -> Option<usize> {
    if callee.is_program_name() {
        sigs.iter().find(|s| s.name == callee.name)?.params.iter().position(|p| p.name == name.name)
    } else {
        builtins::lookup(&callee.name)?.params.iter().position(|p| p.name == name.name)
    }
}

/// The pointer or direction kind a callee wants at a parameter.
fn param_kind(callee: &Ident, slot: usize, sigs: &[ProgSig]) -> Option<ParamKind> {
    if callee.is_program_name() {
        let k = sigs.iter().find(|s| s.name == callee.name)?.params.get(slot)?.kind;
        (k != ParamKind::Value).then_some(k)
    } else {
        let b = builtins::lookup(&callee.name)?;
        if !matches!(b.kind, Kind::Action | Kind::Read) {
            return None;
        }
        match b.params.get(slot)?.ty {
            Ty::Pointer => Some(ParamKind::Pointer),
            Ty::Dir => Some(ParamKind::Dir),
            _ => None,
        }
    }
}

fn walk_calls(b: &ast::Block, f: &mut dyn FnMut(&Ident, &[CallArg])) {
    for s in &b.stmts {
        match &s.kind {
            StmtKind::Let { value, .. } => walk_expr(value, f),
            StmtKind::Assign { target, value } => {
                walk_expr(target, f);
                walk_expr(value, f);
            }
            StmtKind::If { arms, otherwise } => {
                for (c, blk) in arms {
                    walk_expr(c, f);
                    walk_calls(blk, f);
                }
                if let Some(blk) = otherwise {
                    walk_calls(blk, f);
                }
            }
            StmtKind::While { cond, body } => {
                walk_expr(cond, f);
                walk_calls(body, f);
            }
            StmtKind::For { iter, body, .. } => {
                walk_expr(iter, f);
                walk_calls(body, f);
            }
            StmtKind::Return => {}
            StmtKind::Expr(e) => walk_expr(e, f),
        }
    }
}

fn walk_expr(e: &ast::Expr, f: &mut dyn FnMut(&Ident, &[CallArg])) {
    match &e.kind {
        ExprKind::Call { callee, args } => {
            f(callee, args);
            for a in args {
                walk_expr(&a.value, f);
            }
        }
        ExprKind::List(items) => items.iter().for_each(|i| walk_expr(i, f)),
        ExprKind::Range { start, end, .. } => {
            walk_expr(start, f);
            walk_expr(end, f);
        }
        ExprKind::Unary { expr, .. } => walk_expr(expr, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk_expr(lhs, f);
            walk_expr(rhs, f);
        }
        ExprKind::Index { base, index } => {
            walk_expr(base, f);
            walk_expr(index, f);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::ParamKind;
    use crate::task::EndConvention;
    use crate::{compile, Compiled};

    const WORLD: &str = "world scratchpad(rows: 2, cols: n + 1, base: 10) {
  pointer a on row 0 at left
  pointer b on row 1 at right
}
input(n) {
  let xs = random_list(n, 0..10)
  write_list(row: 0, xs)
}
expect read_list(row: 0) == xs
";

    fn ok(programs: &str) -> Compiled {
        let src = format!("{WORLD}{programs}");
        match compile(&src, "t") {
            Ok(c) => c,
            Err(d) => panic!("{}", synth_dsl::render_all(&d, "t.npl", &src)),
        }
    }

    /// The error messages, in order.
    fn errors(src: &str) -> Vec<String> {
        match compile(src, "t") {
            Ok(_) => Vec::new(),
            Err(d) => d.into_iter().filter(|d| d.is_error()).map(|d| d.message).collect(),
        }
    }

    #[test]
    fn parameter_kinds_flow_through_calls() {
        let c = ok("program MAIN { OUTER(a, right) }
program OUTER(p, d) { INNER(p, d) }
program INNER(q, e) { move(q, e) }
");
        let m = &c.task.module;
        for name in ["OUTER", "INNER"] {
            let id = c.task.program_id(name).unwrap();
            let kinds: Vec<ParamKind> = m.proc(id).params.iter().map(|p| p.1).collect();
            assert_eq!(kinds, vec![ParamKind::Pointer, ParamKind::Dir], "{name}");
        }
        let t = c.task.trace(3, 0).unwrap();
        let text = c.task.render_trace(&t);
        assert!(text.contains("OUTER(a, right)") && text.contains("INNER(a, right)"), "{text}");
    }

    #[test]
    fn entry_levels_and_layout() {
        let c = ok("program MAIN { STEP(); STEP() }
program STEP { move(a, right) }
program SPIN { SPIN() }
");
        let t = &c.task;
        assert_eq!(t.entry, 1);
        let names: Vec<&str> = t.programs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ACT", "MAIN", "STEP", "SPIN"]);
        assert_eq!(t.programs.iter().map(|p| p.level).collect::<Vec<_>>(), [0, 2, 1, 1]);
        assert!(t.programs[3].recursive && !t.programs[1].recursive);
        let features: Vec<(&str, u16)> = t.obs.features.iter().map(|f| (f.name.as_str(), f.classes)).collect();
        assert_eq!(features, [("a", 11), ("a.start", 2), ("a.end", 2), ("b", 11), ("b.start", 2), ("b.end", 2)]);
        assert_eq!(t.args.classes, 11);
        assert_eq!(t.actions, ["write", "move", "swap"]);
        assert_eq!(t.end, EndConvention::OwnStep);

        let c = ok("entry STEP\nprogram MAIN { STEP() }\nprogram STEP { move(a, right) }\n");
        assert_eq!(c.task.entry, 2);
    }

    #[test]
    fn reports_every_error_not_just_the_first() {
        let src = format!(
            "{WORLD}program MAIN {{
  move(a, 3)
  write(a, left)
  LSHIT()
  let x = y
  swap(a, 4)
}}
program LSHIFT {{ move(a, left) }}
"
        );
        let errs = errors(&src);
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(errs[0].contains("direction"));
        assert!(errs[1].contains("a digit or `blank`"));
        assert_eq!(errs[2], "unknown program `LSHIT`");
        assert_eq!(errs[3], "unknown variable `y`");
        assert!(errs[4].contains("must be a pointer"));
    }

    #[test]
    fn contexts_are_enforced() {
        let src = "world scratchpad(rows: 1, cols: n, base: 10) {
  pointer p on row 0 at left
}
input(n) {
  move(p, right)
  MAIN()
}
expect random_int(0..2) == 1
program MAIN {
  let r = read_number(row: 0)
  let s = random_number(digits: 2)
}
";
        let errs = errors(src);
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(errs.iter().any(|e| e.contains("`move` is an action")));
        assert!(errs.iter().any(|e| e.starts_with("programs can only be called from programs")));
        assert_eq!(errs.iter().filter(|e| e.contains("draws a random value")).count(), 2, "{errs:#?}");
        assert!(errs.iter().any(|e| e.contains("`read_number` works on whole rows")));
    }

    #[test]
    fn world_problems() {
        let errs = errors(
            "world scratchpad(rows: 2, colls: n, base: n) {
  pointer p on row 5 at 0
  pointer p on row 0 at left
  pointer WALL on row 0 at left
  register r
}
input(n) { write_number(row: 0, 1) }
expect true
program MAIN { return }
",
        );
        assert!(errs.iter().any(|e| e == "a scratchpad has no argument `colls`"), "{errs:#?}");
        assert!(errs.iter().any(|e| e == "the scratchpad is missing `cols`"));
        assert!(errs.iter().any(|e| e == "the base must be a constant"));
        assert!(errs.iter().any(|e| e.starts_with("pointer `p` is on row 5")));
        assert!(errs.iter().any(|e| e == "the pointer `p` is declared twice"));
        assert!(errs.iter().any(|e| e.contains("`WALL` is written like a program name")));
        assert!(errs.iter().any(|e| e.contains("not `register`")));
    }

    #[test]
    fn missing_items() {
        let errs = errors("world scratchpad(rows: 1, cols: n, base: 10) { pointer p on row 0 at left }\n");
        assert_eq!(errs, ["the file has no `input` block", "the file has no `expect`", "the file has no programs"]);
        let errs = errors("task t\n");
        assert_eq!(errs, ["the file declares no world"]);
    }

    #[test]
    fn learn_block_reaches_the_task() {
        let c = ok("program MAIN { return }
learn npi {
  train sizes [2, 4], traces 10
  test sizes 8..=9
  return: after_call
  max_steps 1234
  hidden 64, lr 3e-4
}
");
        let t = &c.task;
        assert_eq!(t.learn.train_sizes, [2, 4]);
        assert_eq!(t.learn.test_sizes, [8, 9]);
        assert_eq!(t.learn.traces, 10);
        assert_eq!(t.end, EndConvention::AfterCall);
        assert_eq!(t.limits.max_steps, 1234);
        assert_eq!(t.learn.settings.len(), 2);
    }

    #[test]
    fn observe_features() {
        let src = "world scratchpad(rows: 1, cols: n, base: 4) {
  pointer lo on row 0 at left
  pointer hi on row 0 at right
  observe pos(lo) >= pos(hi)
  observe hi
}
input(n) { write_list(row: 0, [1, 2, 3]) }
expect true
program MAIN { return }
";
        let c = compile(src, "t").unwrap();
        let f: Vec<(&str, u16)> = c.task.obs.features.iter().map(|f| (f.name.as_str(), f.classes)).collect();
        assert_eq!(&f[6..], [("pos(lo) >= pos(hi)", 2), ("hi", 5)]);
        let inst = c.task.sample(3, 0).unwrap();
        let mut obs = vec![0; c.task.obs.width()];
        inst.observe(&mut obs);
        assert_eq!(obs, [1, 1, 0, 3, 0, 1, 0, 3]);
    }
}
