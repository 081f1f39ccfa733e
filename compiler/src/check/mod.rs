//! The checker's top level, one module per concern: [`items`] sorts the
//! file's items, [`world`] checks the world (kind, pointers, `observe`
//! features, `rows`/`cols`/`base`, a tape's `cells`), [`signatures`] reads
//! the programs' signatures (with each parameter's kind inferred from its
//! uses), [`bodies`] has [`crate::lower`] check and lower `input`, `expect`
//! and every program, and [`entry`] resolves the entry program; the `learn`
//! block is [`crate::learn`]'s (and its `timesteps` expression [`world`]'s
//! to lower). [`check`] runs them in that order and assembles the
//! plain-data parts of a [`Task`](crate::Task). Every problem becomes a
//! [`Diagnostic`]; checking goes on after an error so that one run reports
//! all it can.

mod bodies;
mod entry;
mod items;
mod signatures;
#[cfg(test)]
mod tests;
mod world;

pub(crate) use world::UNSEEN_CARS;

use crate::builtins::{self, WorldKind};
use crate::ir::{Limits, Module, Observe, ObserveKind, WorldDecl};
use crate::learn::lower_learn;
use crate::lower::{Names, Resolutions};
use crate::task::{ArgSpec, EndConvention, Feature, ImageSpec, LearnSpec, ObsSpec};
use synth_dsl::ast;
use synth_dsl::Diagnostic;

/// Everything a [`Task`](crate::Task) is made of, but the graphs, and what
/// the graphs are built from.
pub(crate) struct Checked<'f> {
    pub name: String,
    pub world: WorldKind,
    pub module: Module,
    /// The programs' syntax, in id order (`bodies[id - 1]`), and what their
    /// names resolved to.
    pub bodies: Vec<&'f ast::Program>,
    pub resolved: Vec<Resolutions>,
    /// The world's `observe` declarations that checked, in order.
    pub observes: Vec<&'f ast::Expr>,
    pub pointers: Vec<String>,
    pub actions: Vec<String>,
    pub base: u16,
    pub obs: ObsSpec,
    pub args: ArgSpec,
    pub end: EndConvention,
    pub learn: LearnSpec,
    pub limits: Limits,
}

pub(crate) fn check<'f>(file: &'f ast::File, stem: &str) -> (Option<Checked<'f>>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let items = items::collect(file, &mut diags);
    let Some((world, world_span)) = items.world else {
        diags.push(
            Diagnostic::error("the file declares no world").hint(
                "declare one, e.g. `world scratchpad(rows: 1, cols: n, base: 10) { pointer p on row 0 at left }`",
            ),
        );
        return (None, diags);
    };
    let Some(kind) = world::kind(world, &mut diags) else { return (None, diags) };
    for q in &items.questions {
        diags.push(
            Diagnostic::error(format!("`question` items belong to `table` worlds, and this world is a {}", kind.name()))
                .at_labelled(q.template_span, "a table question")
                .hint("a table task declares `world table(rows: n) { column a ... }`"),
        );
    }
    // Pointers first: every body refers to them.
    let decls = world::declarations(world, kind, &mut diags);
    let (sigs, bodies) = signatures::signatures(&items.programs, kind, &mut diags);
    let size_name = items.input.map_or_else(|| "n".to_string(), |(i, _)| i.param.name.clone());
    let pointers = &decls.pointers;
    let mut names = Names { pointers, programs: &sigs, world: kind, input_vars: Vec::new(), size_name };

    // World arguments and pointer positions, computed from the size; a
    // tape's `cells`, visible to `input` and `expect` as a variable.
    let tape = kind == WorldKind::Tape;
    let world_decl = if tape {
        world::lower_tape(world, world_span, &names, &mut diags)
    } else if kind == WorldKind::Pose {
        world::lower_pose(world, world_span, &names, &mut diags)
    } else {
        world::lower_world(world, world_span, &decls.pointer_decls, &names, &mut diags)
    };
    let cells_span = world.args.first().map_or(world.kind.span, |a| a.name.as_ref().map_or(a.value.span, |n| n.span));
    let (observes, observe_asts): (Vec<Observe>, Vec<&ast::Expr>) =
        world::observes(&decls.observes, &names, &mut diags).into_iter().unzip();
    let (input, expect_scope) =
        bodies::input(items.input.map(|(i, _)| i), &names, tape.then_some(cells_span), &mut diags);
    names.input_vars = input.slot_names.iter().skip(1).filter(|n| !n.is_empty()).cloned().collect();
    let (expect, expect_span, expect_text) =
        bodies::expect(items.expect.map(|(e, _)| e), expect_scope, &input, &names, &mut diags);
    let (procs, resolved) = bodies::programs(&items.programs, &bodies, &sigs, &names, &mut diags);
    let learned = lower_learn(items.learn.map(|(l, _)| l), kind, world.kind.span, &mut diags);
    let timesteps = learned.timesteps.map(|e| (world::lower_timesteps(e, &names, cells_span, &mut diags), e.span));
    let (entry, entry_args) =
        entry::entry(items.entry.map(|(id, _)| id), &sigs, tape, timesteps.is_some(), &mut diags);
    if diags.iter().any(|d| d.is_error()) {
        return (None, diags);
    }

    let base = world_decl.base;
    let (features, image) = match &world_decl.pose {
        Some(pose) => pose_features(pose),
        None => (features(pointers, &observes, base), None),
    };
    let actions: Vec<String> = builtins::actions(kind).map(|b| b.name.to_string()).collect();
    debug_assert!(
        kind != WorldKind::Scratchpad || actions.iter().zip(crate::ir::Action::ALL).all(|(a, b)| a == b.name())
    );
    let classes = (base + 1).max(pointers.len() as u16).max(actions.len() as u16).max(2);
    let world = WorldDecl { observes, ..world_decl };
    let module =
        Module { world, input, expect, expect_span, expect_text, procs, entry, arg_classes: classes, timesteps, entry_args };
    let checked = Checked {
        name: items.task.map_or_else(|| stem.to_string(), |(t, _)| t.name.clone()),
        world: kind,
        module,
        bodies,
        resolved,
        observes: observe_asts,
        pointers: pointers.iter().map(|(n, _)| n.clone()).collect(),
        actions,
        base,
        obs: ObsSpec { features, image },
        args: ArgSpec { classes },
        end: learned.end,
        learn: learned.spec,
        limits: learned.limits,
    };
    (Some(checked), diags)
}

/// A table task, checked: its name, `learn` defaults, limits and table.
pub(crate) struct CheckedTable {
    pub name: String,
    pub learn: LearnSpec,
    pub limits: Limits,
    pub table: crate::table::TableSpec,
    pub world_span: synth_dsl::Span,
}

/// Checks a file whose world is a table (see [`crate::table`]).
pub(crate) fn check_table(file: &ast::File, stem: &str) -> (Option<CheckedTable>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let items = items::collect(file, &mut diags);
    let Some((world, _)) = items.world else { return (None, diags) };
    let learn = items.learn.map(|(l, _)| l);
    let learned = lower_learn(learn, WorldKind::Table, world.kind.span, &mut diags);
    // `learn np { timesteps T }`: the learner's steps, checked against every
    // question's latent program.
    let steps = learn.and_then(|l| {
        l.lines.iter().flat_map(|line| line.clauses.iter()).find_map(|c| {
            let named = c.words.len() == 1 && c.words[0].name == "timesteps";
            match (&learned.spec.settings.get("timesteps"), named) {
                (Some(crate::task::SettingValue::Int(v)), true) => {
                    Some(crate::table::Steps { value: *v as usize, span: c.span })
                }
                _ => None,
            }
        })
    });
    let table = crate::table::check(file, world, steps, &mut diags);
    if diags.iter().any(|d| d.is_error()) {
        return (None, diags);
    }
    let Some(table) = table else { return (None, diags) };
    let checked = CheckedTable {
        name: items.task.map_or_else(|| stem.to_string(), |(t, _)| t.name.clone()),
        learn: learned.spec,
        limits: learned.limits,
        table,
        world_span: world.kind.span,
    };
    (Some(checked), diags)
}

/// A pose world's observation: the camera's azimuth and elevation and the
/// car, which the learner sees only as the image they render, then the
/// target's azimuth and elevation.
fn pose_features(pose: &crate::ir::PoseDecl) -> (Vec<Feature>, Option<ImageSpec>) {
    let (az, el) = (pose.azimuth_classes(), pose.elevation_classes());
    let rendered = |name: &str, classes| Feature { name: name.into(), classes, rendered: true };
    let features = vec![
        rendered("azimuth", az),
        rendered("elevation", el),
        rendered("car", u16::MAX),
        Feature::plain("target_azimuth", az),
        Feature::plain("target_elevation", el),
    ];
    let image = ImageSpec {
        side: pose.image,
        car: 2,
        azimuth: 0,
        elevation: 1,
        azimuth_step: pose.azimuth_step as i32,
        elevation_step: pose.elevation_step as i32,
        azimuth_origin: pose.azimuth_origin(),
        elevation_origin: crate::ir::PoseDecl::ELEVATION_ORIGIN,
    };
    (features, Some(image))
}

/// The observation: every pointer's cell and its at-start and at-end bits,
/// then every `observe` feature.
fn features(pointers: &[(String, synth_dsl::Span)], observes: &[Observe], base: u16) -> Vec<Feature> {
    let mut features = Vec::new();
    for (p, _) in pointers {
        features.push(Feature::plain(p.clone(), base + 1));
        features.push(Feature::plain(format!("{p}.start"), 2));
        features.push(Feature::plain(format!("{p}.end"), 2));
    }
    for o in observes {
        let classes = match o.kind {
            ObserveKind::Bool => 2,
            ObserveKind::Cell => base + 1,
        };
        features.push(Feature::plain(o.name.clone(), classes));
    }
    features
}
