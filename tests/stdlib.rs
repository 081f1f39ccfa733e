//! Every stdlib task checks clean, and its trace, call graph and operation
//! graphs are pinned by snapshots (byte-stable: seeded sampling, no hash-map
//! order in any output).

use rand::{Rng, SeedableRng};
use synth::{check, stdlib, CheckOptions, Source};

fn source(stem: &str) -> Source {
    Source::from_text(format!("stdlib/{stem}.npl"), stem, stdlib::get(stem).unwrap())
}

#[test]
fn stdlib_checks_clean() {
    for stem in stdlib::names() {
        let src = source(stem);
        let report = check(&src, &CheckOptions::default());
        assert!(report.diagnostics.is_empty(), "{stem}:\n{}", report.render(&src));
    }
}

#[test]
fn stdlib_snapshots() {
    for stem in stdlib::names() {
        let task = synth::compile(&source(stem)).unwrap().task;
        if task.is_table() {
            // A table task: one instance, as text and as JSON.
            let example = task.table_example(40, 1).unwrap();
            insta::assert_snapshot!(format!("{stem}_example"), example.render(&task.name));
            insta::assert_json_snapshot!(format!("{stem}_example_json"), task.table_example(5, 2).unwrap());
            let latent = synth_compiler::table::latent_programs_text(&task.latent_programs(), task.table_timesteps().unwrap());
            insta::assert_snapshot!(format!("{stem}_latent"), latent);
            continue;
        }
        if task.is_tape() {
            // A tape task: its memory writes, and its operations as NRAM modules.
            let trace = task.tape_trace(3, 1).unwrap();
            insta::assert_snapshot!(format!("{stem}_trace"), task.render_tape_trace(&trace));
            insta::assert_snapshot!(format!("{stem}_calls"), task.call_graph().to_text());
            insta::assert_snapshot!(format!("{stem}_ops"), task.op_graph().to_text_nram());
            continue;
        }
        let trace = task.trace(3, 1).unwrap();
        insta::assert_snapshot!(format!("{stem}_trace"), task.render_trace(&trace));
        insta::assert_snapshot!(format!("{stem}_calls"), task.call_graph().to_text());
        insta::assert_snapshot!(format!("{stem}_ops"), task.op_graph().to_text());
    }
}

/// The reference of every stdlib task satisfies its `expect` on random inputs
/// of sizes up to 200 (`Task::trace` and `Task::tape_example` check `expect`
/// after the run).
#[test]
fn stdlib_references_satisfy_expect() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    for stem in stdlib::names() {
        let task = synth::compile(&source(stem)).unwrap().task;
        for _ in 0..12 {
            let size = rng.random_range(1..=200);
            let seed = rng.random::<u64>();
            let run = task.run_reference(size, seed);
            if let Err(e) = run {
                panic!("{stem} at size {size}, seed {seed}: {}", e.to_diagnostic().render(&format!("stdlib/{stem}.npl"), stdlib::get(stem).unwrap()));
            }
        }
    }
}
