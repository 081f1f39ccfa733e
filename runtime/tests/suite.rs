//! One NPI for several tasks, and new programs on a frozen core, on the
//! stdlib's real tasks: small models, seconds each.

use synth_compiler::Task;
use synth_runtime::npi::{self, Fuse, LoadError, NpiConfig, SuiteCheckpoint, SuiteJob, SuiteShape, Trainable, TrainConfig};
use synth_runtime::Environment;

fn compile(src: &str, stem: &str) -> Task {
    match synth_compiler::compile(src, stem) {
        Ok(c) => c.task,
        Err(d) => panic!("{stem} does not compile: {d:?}"),
    }
}

fn stdlib(name: &str) -> Task {
    let src = match name {
        "add" => include_str!("../../stdlib/add.npl"),
        "bubblesort" => include_str!("../../stdlib/bubblesort.npl"),
        "max" => include_str!("../../stdlib/max.npl"),
        "reverse" => include_str!("../../stdlib/reverse.npl"),
        "increment" => include_str!("../../stdlib/increment.npl"),
        _ => panic!("no {name}"),
    };
    compile(src, name)
}

fn small() -> NpiConfig {
    NpiConfig { hidden: 48, layers: 2, embedding: 16, key: 8, encoder: 48, state: 32, fuse: Fuse::Mlp, fuse_hidden: 48, observe: npi::Observe::All, vision: Default::default() }
}

fn config(steps: u64) -> TrainConfig {
    TrainConfig {
        train_sizes: (1..=6).collect(),
        traces: 64,
        steps,
        batch: 32,
        validate_every: 100,
        validation_sizes: vec![8],
        validation_count: 8,
        patience: 2,
        threads: 1,
        ..TrainConfig::default()
    }
}

fn names(shape: &SuiteShape) -> Vec<&str> {
    shape.programs.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn tasks_share_programs_by_definition_and_encoders_by_world() {
    let mut shape = SuiteShape::empty();
    for t in ["bubblesort", "reverse", "max"] {
        shape = shape.with(&stdlib(t), &small()).unwrap();
    }
    // max.npl's bubble sort is bubblesort.npl's: only MAX and RJMP are new,
    // and the two tasks read one world.
    assert_eq!(names(&shape), ["ACT", "BUBBLESORT", "BUBBLE", "BSTEP", "COMPSWAP", "RSHIFT", "RESET", "LSHIFT", "REVERSE", "SWAPSTEP", "MAX", "RJMP"]);
    assert_eq!(shape.worlds.len(), 2);
    let (sort, max) = (&shape.tasks[0], &shape.tasks[2]);
    assert_eq!(sort.world, max.world);
    assert_eq!(max.programs, [0, 10, 11, 1, 2, 3, 4, 5, 6, 7]);
    // bubblesort only ever runs BUBBLESORT as its entry, so its key was
    // never trained to be called: MAX calls it by a key of its own.
    assert_eq!(max.aliases, [(3, 0)]);
    assert_eq!(shape.alias_keys, 1);
    assert!(sort.aliases.is_empty());
    // On a frozen core, a new task calls every program the model had by a
    // key of its own; its new programs have theirs anyway.
    let frozen = SuiteShape::empty().with(&stdlib("bubblesort"), &small()).unwrap().with_own_keys(&stdlib("max"), &small()).unwrap();
    let own: Vec<usize> = frozen.tasks[1].aliases.iter().map(|a| a.0).collect();
    assert_eq!(own, [0, 3, 4, 5, 6, 7, 8, 9]);
    // A changed world is another world, and its programs other programs.
    let edited = compile(&include_str!("../../stdlib/max.npl").replace("pointer k on row 0 at 1", "pointer k on row 0 at 0").replace("task max", "task max2"), "max2");
    let grown = shape.with(&edited, &small()).unwrap();
    assert_eq!(grown.worlds.len(), 3);
    assert_eq!(grown.programs.len(), shape.programs.len() + 9);
    assert!(matches!(shape.with(&stdlib("reverse"), &small()), Err(npi::suite::SuiteError::Duplicate(_))));
}

#[test]
fn one_model_learns_two_tasks_and_each_reads_it_as_its_own() {
    let (inc, rev) = (stdlib("increment"), stdlib("reverse"));
    let suite = npi::new_suite(&[&inc, &rev], &small(), 3).unwrap();
    let jobs = [SuiteJob { env: &inc, cfg: config(0) }, SuiteJob { env: &rev, cfg: config(0) }];
    let cfg = TrainConfig { validation_sizes: vec![8, 20], patience: 3, ..config(1500) };
    let jobs = jobs.map(|j| SuiteJob { cfg: cfg.clone(), ..j });
    let outcome = npi::train_suite(suite, &jobs, Trainable::All, &cfg, Vec::new(), &mut npi::NoHooks).unwrap();
    let best = &outcome.best;
    assert!(best.meta.validation.iter().all(|s| s.exact == s.count), "{:?}", best.meta.validation);
    assert_eq!(best.meta.validation.iter().filter_map(|s| s.task.as_deref()).collect::<Vec<_>>(), ["increment", "increment", "reverse", "reverse"]);
    // Through its metadata and bytes, each task's part is a model of its
    // own that generalises, and acts exactly as the suite's view.
    let json = serde_json::to_string(&best.meta).unwrap();
    let back = SuiteCheckpoint { meta: serde_json::from_str(&json).unwrap(), weights: best.weights.clone() };
    let suite = back.suite().unwrap();
    for (t, task) in [&inc, &rev].into_iter().enumerate() {
        let ckpt = back.task(task).unwrap();
        assert_eq!(ckpt.meta.task, task.name());
        let own = npi::Engine::new(&ckpt.load(task).unwrap()).unwrap();
        let view = npi::Engine::new(&suite.view(t).unwrap()).unwrap();
        let report = npi::evaluate(task, &own, &[20], 8, 5, 1).unwrap();
        assert_eq!(report.results[0].exact, 8, "{}: {report:?}", task.name());
        for seed in 0..3 {
            assert_eq!(npi::run(&own, task, 12, seed).unwrap().trace, npi::run(&view, task, 12, seed).unwrap().trace);
        }
    }
    let err = back.task(&stdlib("add")).unwrap_err();
    assert!(matches!(err, LoadError::NotInSuite { .. }));
    assert_eq!(err.to_string(), "the model was trained on `increment`, `reverse`, not on `add`");
    // Weights that are not the model the metadata describes are refused.
    let mut other = back.clone();
    other.meta.config.hidden = 40;
    assert!(matches!(other.suite(), Err(LoadError::Mismatch(_))));
}

#[test]
fn a_frozen_core_learns_new_programs_and_keeps_every_old_weight() {
    let (sort, max) = (stdlib("bubblesort"), stdlib("max"));
    let cfg = TrainConfig { train_sizes: vec![2, 3, 4], validation_sizes: vec![4], ..config(60) };
    let jobs = [SuiteJob { env: &sort, cfg: cfg.clone() }];
    let old = npi::train_suite(npi::new_suite(&[&sort], &small(), 1).unwrap(), &jobs, Trainable::All, &cfg, Vec::new(), &mut npi::NoHooks).unwrap();
    let base = old.best.suite().unwrap();
    let shape = base.shape.with(&max, &base.config).unwrap();
    let grown = base.grown(&shape, npi::growth_seed(1, 1)).unwrap();
    // Growing keeps every weight: bubblesort's part is the same bits.
    let weights = |s: &npi::Suite| s.task_weights(0).unwrap();
    assert_eq!(weights(&base), weights(&grown));
    let trainable = Trainable::new_in(&base.shape);
    let jobs = [SuiteJob { env: &max, cfg: cfg.clone() }];
    let new = npi::train_suite(grown, &jobs, trainable, &cfg, old.best.meta.trained.clone(), &mut npi::NoHooks).unwrap();
    let after = new.best.suite().unwrap();
    assert_eq!(weights(&base), weights(&after), "bubblesort's weights moved");
    assert!(new.best.meta.trained.iter().any(|t| t.task == "max" && t.frozen));
    // MAX and RJMP did train.
    let rows = |s: &npi::Suite, var: &str| -> Vec<Vec<f32>> {
        let data = s.varmap.data().lock().unwrap();
        data[var].as_tensor().to_vec2().unwrap()
    };
    let (before, trained) = (rows(&grown_again(&base, &shape), "memory.embeddings"), rows(&after, "memory.embeddings"));
    assert_eq!(before[..8], trained[..8]);
    assert_ne!(before[8], trained[8]);
    assert_ne!(before[9], trained[9]);
    // MAX's own key for BUBBLESORT trained too; bubblesort's did not.
    let (before, trained) = (rows(&grown_again(&base, &shape), "memory.alias_keys"), rows(&after, "memory.alias_keys"));
    assert_ne!(before[0], trained[0]);
}

/// The model `a_frozen_core_...` started from (growing is deterministic).
fn grown_again(base: &npi::Suite, shape: &SuiteShape) -> npi::Suite {
    base.grown(shape, npi::growth_seed(1, 1)).unwrap()
}
