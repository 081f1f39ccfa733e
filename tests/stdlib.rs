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

/// Through `synth::testing`, the path `synth test` and a user's own
/// snapshot tests take: `tests/snapshots/stdlib__{stem}_{view}.snap`.
#[test]
fn stdlib_snapshots() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for stem in stdlib::names() {
        let task = synth::compile(&source(stem)).unwrap().task;
        let snapshots = synth::testing::task_snapshots(&task).unwrap();
        let named: Vec<(String, &str, &str)> = snapshots.iter().map(|s| (format!("stdlib__{}", s.name(stem)), s.expression, s.text.as_str())).collect();
        synth::testing::assert_snapshots_in(&dir, &named);
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
