//! The world block: its kind, its
//! declarations (a scratchpad's pointers and `observe` features; a tape has
//! none), its size arguments (a scratchpad's `rows`, `cols` and `base`, a
//! tape's `cells`) and every pointer's row and start column, lowered as
//! expressions of the size; and NRAM's `timesteps`, an expression of the
//! size and `cells` too.

use crate::builtins::{Ty, WorldKind};
use crate::ir::{Observe, ObserveKind, PointerDecl, Start, WorldDecl};
use crate::lower::{const_int, phrase, Local, Lowerer, Names, Place};
use crate::suggest;
use crate::value::Value;
use synth_dsl::ast::{self, CallArg, Ident, PointerStart, WorldDeclKind};
use synth_dsl::{Diagnostic, Span};

/// A pose world's axes: its pointers as programs name them.
pub(crate) const POSE_AXES: [&str; 2] = ["azimuth", "elevation"];

/// The largest base a scratchpad may have.
pub(crate) const MAX_BASE: i64 = 256;

/// The world's kind, or `None` for a kind that does not run yet (reported).
/// An unknown kind is reported and checked as a scratchpad.
pub(super) fn kind(world: &ast::World, diags: &mut Vec<Diagnostic>) -> Option<WorldKind> {
    Some(match WorldKind::from_name(&world.kind.name) {
        Some(WorldKind::Scratchpad) => WorldKind::Scratchpad,
        Some(WorldKind::Tape) => WorldKind::Tape,
        Some(WorldKind::Table) => WorldKind::Table,
        Some(WorldKind::Pose) => WorldKind::Pose,
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
    })
}

/// The world's declarations, sorted: pointers (with a valid, new name) and
/// `observe` expressions with their declarations' spans.
pub(super) struct Decls<'f> {
    pub pointers: Vec<(String, Span)>,
    pub pointer_decls: Vec<&'f ast::WorldDecl>,
    pub observes: Vec<(&'f ast::Expr, Span)>,
}

pub(super) fn declarations<'f>(world: &'f ast::World, kind: WorldKind, diags: &mut Vec<Diagnostic>) -> Decls<'f> {
    let mut pointers: Vec<(String, Span)> = Vec::new();
    let mut pointer_decls: Vec<&ast::WorldDecl> = Vec::new();
    let mut observes: Vec<(&ast::Expr, Span)> = Vec::new();
    if kind == WorldKind::Tape {
        for decl in &world.decls {
            let hint = match &decl.kind {
                WorldDeclKind::Other { keyword, .. } if keyword.name.starts_with("register") => {
                    "registers are the learner's: `learn nram { registers 4, timesteps: n + 3 }`"
                }
                _ => "a tape is only its cells: `world tape(cells: 2 * n + 2)`, read and written as `mem[i]`",
            };
            diags.push(
                Diagnostic::error("a tape world has no declarations")
                    .at_labelled(decl.span, "not part of a tape")
                    .hint(hint),
            );
        }
        return Decls { pointers, pointer_decls, observes };
    }
    if kind == WorldKind::Pose {
        for decl in &world.decls {
            diags.push(
                Diagnostic::error("a pose world has no declarations")
                    .at_labelled(decl.span, "not part of a pose world")
                    .hint("its axes `azimuth` and `elevation` are built in: read them with `angle(azimuth)`, turn them with `rotate(azimuth, left)`"),
            );
        }
        let span = world.kind.span;
        pointers = POSE_AXES.iter().map(|a| (a.to_string(), span)).collect();
        return Decls { pointers, pointer_decls, observes };
    }
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
            WorldDeclKind::Observe(e) => observes.push((e, decl.span)),
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

    Decls { pointers, pointer_decls, observes }
}

/// The `observe` features that check, with the expressions they came from.
pub(super) fn observes<'f>(
    exprs: &[(&'f ast::Expr, Span)],
    names: &Names,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(Observe, &'f ast::Expr)> {
    let mut observes = Vec::new();
    for (e, span) in exprs {
        let mut lw = Lowerer::new(names, Place::Observe, diags);
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
            observes.push((Observe { name: e.to_string(), expr: ir, kind, span: *span }, *e));
        }
    }

    observes
}

/// A name that cannot name a pointer (or parameter): a keyword or an
/// UPPER_CASE name.
pub(super) fn bad_name(id: &Ident, what: &str) -> Option<Diagnostic> {
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

/// Which expression gives each of `rows`, `cols` and `base`: named
/// arguments by name, the others in turn.
fn bind_args<'w>(world: &'w ast::World, diags: &mut Vec<Diagnostic>) -> [Option<&'w ast::Expr>; 3] {
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

    bound
}

/// A tape's `cells`, lowered as an expression of the size: the world's
/// shape with `cells` set (and one row, one column and base 0 for the pad
/// the interpreter keeps beside every world).
pub(super) fn lower_tape(world: &ast::World, span: Span, names: &Names, diags: &mut Vec<Diagnostic>) -> WorldDecl {
    let example = "write `world tape(cells: 2 * n + 2)`";
    let mut cells: Option<&ast::Expr> = None;
    for CallArg { name, value } in &world.args {
        match name {
            Some(n) if n.name != "cells" => {
                let mut d = Diagnostic::error(format!("a tape has no argument `{}`", n.name))
                    .at_labelled(n.span, "unknown argument");
                d = match suggest::did_you_mean(&n.name, ["cells"]) {
                    Some(h) => d.hint(h),
                    None => d.hint(format!("a tape takes one argument, `cells`: {example}")),
                };
                diags.push(d);
            }
            _ if cells.is_some() => diags.push(
                Diagnostic::error("a tape takes one argument, `cells`")
                    .at_labelled(value.span, "one argument too many")
                    .hint(example),
            ),
            _ => cells = Some(value),
        }
    }
    if cells.is_none() && !world.args.iter().any(|a| a.name.as_ref().is_some_and(|n| n.name != "cells")) {
        diags.push(
            Diagnostic::error("the tape is missing `cells`")
                .at_labelled(world.kind.span, "needs `cells`")
                .hint(format!("{example}: the tape's number of cells at size `n`, every value in `0..cells`")),
        );
    }
    let mut lw = size_lowerer(names, Place::World, span, diags);
    let ir = int_arg(&mut lw, cells, "`cells`");
    if let (Some(e), Some(v)) = (cells, const_int(&ir)) {
        if v < 1 {
            lw.diags.push(
                Diagnostic::error(format!("`cells` must be at least 1, found {v}")).at_labelled(e.span, "too small"),
            );
        }
    }
    let one = || crate::ir::Expr::Const(Value::Int(1));
    WorldDecl { rows: one(), cols: one(), base: 0, cells: Some(ir), pose: None, pointers: Vec::new(), observes: Vec::new(), span }
}

/// The most seen cars a pose world may have: seen cars are seeds
/// `0..cars`, unseen ones [`UNSEEN_CARS`] on.
pub(crate) const MAX_CARS: i64 = 32_768;

/// The first seed of the unseen cars.
pub(crate) const UNSEEN_CARS: u16 = 32_768;

/// A pose world's settings: `image` (pixels a side, 8..=128, default 32),
/// `azimuth` and `elevation` (degrees a rotation turns, default 15; 360 and
/// 180 must be multiples), `cars` (seen cars, default 100), all constants.
/// Its pad: two rows, the camera's and the target's pointers on each.
pub(super) fn lower_pose(world: &ast::World, span: Span, names: &Names, diags: &mut Vec<Diagnostic>) -> WorldDecl {
    const PARAMS: [&str; 4] = ["image", "azimuth", "elevation", "cars"];
    const DEFAULTS: [i64; 4] = [32, 15, 15, 100];
    let example = "write `world pose(image: 32, azimuth: 15, elevation: 15, cars: 100)`";
    let mut values = DEFAULTS;
    let mut given = [false; 4];
    let mut lw = size_lowerer(names, Place::World, span, diags);
    for CallArg { name, value } in &world.args {
        let Some(n) = name else {
            lw.diags.push(
                Diagnostic::error("a pose world's arguments are named")
                    .at_labelled(value.span, "name this argument")
                    .hint(example),
            );
            continue;
        };
        let Some(i) = PARAMS.iter().position(|p| *p == n.name) else {
            let mut d = Diagnostic::error(format!("a pose world has no argument `{}`", n.name))
                .at_labelled(n.span, "unknown argument");
            d = match suggest::did_you_mean(&n.name, PARAMS) {
                Some(h) => d.hint(h),
                None => d.hint(format!("a pose world takes `image`, `azimuth`, `elevation` and `cars`: {example}")),
            };
            lw.diags.push(d);
            continue;
        };
        if std::mem::replace(&mut given[i], true) {
            lw.diags.push(
                Diagnostic::error(format!("the world argument `{}` is given twice", PARAMS[i]))
                    .at_labelled(value.span, "given again here"),
            );
            continue;
        }
        let ir = int_arg(&mut lw, Some(value), &format!("`{}`", PARAMS[i]));
        let Some(v) = const_int(&ir) else {
            lw.diags.push(
                Diagnostic::error(format!("`{}` must be a constant", PARAMS[i]))
                    .at_labelled(value.span, "not a constant")
                    .hint("the learner sees images of one size and poses on one grid, whatever the size `n`"),
            );
            continue;
        };
        let problem = match i {
            0 if !(8..=128).contains(&v) => Some(format!("`image` is the side of the image in pixels, 8 to 128, not {v}")),
            1 | 2 if !(1..=90).contains(&v) || (if i == 1 { 360 } else { 180 }) % v != 0 => Some(format!(
                "`{}` is the degrees one rotation turns; it must divide {} evenly, and {v} does not",
                PARAMS[i],
                if i == 1 { 360 } else { 180 }
            )),
            3 if !(1..=MAX_CARS).contains(&v) => {
                Some(format!("`cars` is the number of cars seen in training, 1 to {MAX_CARS}, not {v}"))
            }
            _ => None,
        };
        match problem {
            Some(m) => lw.diags.push(Diagnostic::error(m).at_labelled(value.span, "out of range")),
            None => values[i] = v,
        }
    }
    let pose = crate::ir::PoseDecl {
        image: values[0] as u16,
        azimuth_step: values[1] as u16,
        elevation_step: values[2] as u16,
        cars: values[3] as u16,
    };
    let int = |v: i64| crate::ir::Expr::Const(Value::Int(v));
    let cols = pose.azimuth_classes().max(pose.elevation_classes()) as i64;
    let pointer = |name: &str, row: i64| PointerDecl { name: name.into(), row: int(row), start: Start::Left, span };
    let pointers = vec![
        pointer("azimuth", 0),
        pointer("elevation", 1),
        pointer("target azimuth", 0),
        pointer("target elevation", 1),
    ];
    WorldDecl { rows: int(2), cols: int(cols), base: 2, cells: None, pose: Some(pose), pointers, observes: Vec::new(), span }
}

/// NRAM's `timesteps`: an integer expression of the size and `cells`
/// (slots 0 and 1).
pub(super) fn lower_timesteps(
    e: &ast::Expr,
    names: &Names,
    cells_span: Span,
    diags: &mut Vec<Diagnostic>,
) -> crate::ir::Expr {
    let mut lw = size_lowerer(names, Place::Learn, e.span, diags);
    lw.declare(&Ident { name: "cells".into(), span: cells_span }, Ty::Int, None, "tape size");
    int_arg(&mut lw, Some(e), "`timesteps`")
}

/// A lowerer whose slot 0 is the size, under its name and as `n`.
fn size_lowerer<'a>(names: &'a Names<'a>, place: Place, span: Span, diags: &'a mut Vec<Diagnostic>) -> Lowerer<'a> {
    let mut lw = Lowerer::new(names, place, diags);
    let size_id = Ident { name: names.size_name.clone(), span };
    lw.declare(&size_id, Ty::Int, None, "size parameter");
    if names.size_name != "n" {
        lw.scopes[0].push(Local { name: "n".into(), slot: 0, ty: Ty::Int, span, param: None });
    }
    lw
}

/// An integer expression of the size (`None`: absent, lowered as 1).
fn int_arg(lw: &mut Lowerer, e: Option<&ast::Expr>, what: &str) -> crate::ir::Expr {
    let Some(e) = e else { return crate::ir::Expr::Const(Value::Int(1)) };
    let (ty, ir) = lw.lower_expr(e);
    if !crate::lower::accepts(Ty::Int, ty) {
        lw.diags.push(
            Diagnostic::error(format!("{what} must be an integer, found {}", phrase(ty)))
                .at_labelled(e.span, "not an integer"),
        );
    }
    ir
}

/// `rows`, `cols` and `base`, then every pointer's row and start column.
pub(super) fn lower_world(
    world: &ast::World,
    span: Span,
    pointer_decls: &[&ast::WorldDecl],
    names: &Names,
    diags: &mut Vec<Diagnostic>,
) -> WorldDecl {
    let bound = bind_args(world, diags);
    let mut lw = size_lowerer(names, Place::World, span, diags);
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
    let pointers = lower_pointers(&mut lw, pointer_decls, const_rows, const_cols);
    WorldDecl { rows, cols, base, cells: None, pose: None, pointers, observes: Vec::new(), span }
}

/// Every pointer's row and start column, checked against the pad's size
/// when both are constants.
fn lower_pointers(
    lw: &mut Lowerer,
    pointer_decls: &[&ast::WorldDecl],
    const_rows: Option<i64>,
    const_cols: Option<i64>,
) -> Vec<PointerDecl> {
    let mut pointers = Vec::new();
    for decl in pointer_decls {
        let WorldDeclKind::Pointer { name, row, start } = &decl.kind else { continue };
        let row_ir = int_arg(lw, Some(row), "a pointer's row");
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
                let ir = int_arg(lw, Some(e), "a pointer's column");
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
    pointers
}
