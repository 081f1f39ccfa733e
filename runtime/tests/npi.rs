//! The NPI learner end to end on the compiler's real tasks: small, seeded,
//! seconds each.

use synth_compiler::Task;
use synth_runtime::npi::{self, Checkpoint, Dataset, Fuse, LoadError, ModelShape, Npi, NpiConfig, TrainConfig};
use synth_runtime::optim::Adam;
use synth_runtime::Environment;

const ADD: &str = include_str!("../../stdlib/add.npl");
const BUBBLESORT: &str = include_str!("../../stdlib/bubblesort.npl");

fn compile(src: &str, stem: &str) -> Task {
    match synth_compiler::compile(src, stem) {
        Ok(c) => c.task,
        Err(d) => panic!("{stem} does not compile: {d:?}"),
    }
}

/// stdlib's addition in base 4: the same programs and world, a digit table
/// of 4 x 4 x 2 entries, so that sizes 1..=3 show every entry.
fn add_base4() -> Task {
    compile(&ADD.replace("base: 10", "base: 4").replace("% 10", "% 4").replace(">= 10", ">= 4"), "add")
}

fn small() -> NpiConfig {
    NpiConfig { hidden: 48, layers: 2, embedding: 16, key: 8, encoder: 48, state: 32, fuse: Fuse::Mlp, fuse_hidden: 48, observe: npi::Observe::All, vision: Default::default() }
}

/// Addition at sizes 1..=3 needs many short traces to show every digit
/// triple with a carry (zeros appear only below the leading digit).
fn quick_train_config(seed: u64) -> TrainConfig {
    TrainConfig {
        seed,
        train_sizes: vec![1, 2, 3],
        traces: 1000,
        steps: 3000,
        batch: 32,
        lr: 1e-3,
        lr_decay_every: 500,
        validate_every: 100,
        validation_sizes: vec![5],
        validation_count: 8,
        patience: 3,
        threads: 1,
        ..TrainConfig::default()
    }
}

#[test]
fn overfits_a_handful_of_frames() {
    let task = compile(ADD, "add");
    let shape = ModelShape::of(&task);
    let traces: Vec<_> = (0..2).map(|s| task.trace(2, s).unwrap()).collect();
    let data = Dataset::from_traces(&shape, &traces);
    let ids: Vec<usize> = (0..data.frames.len()).collect();
    let batch = data.batch(&ids, &candle_core::Device::Cpu).unwrap();
    let npi = Npi::new(&small(), &shape, 1).unwrap();
    let mut opt = Adam::new(&npi.varmap);
    let mut losses = Vec::new();
    for _ in 0..300 {
        let out = npi.forward(&batch).unwrap();
        let loss = npi.loss(&out, &batch).unwrap();
        let grads = npi.backward(&loss).unwrap();
        opt.step(&grads, 1e-2, 1.0, 1).unwrap();
        losses.push(loss.to_scalar::<f32>().unwrap());
    }
    let out = npi.forward(&batch).unwrap();
    let right = out.score(&batch).unwrap().correct.iter().filter(|&&c| c).count();
    assert!(losses[299] < losses[0] / 50.0, "loss {} -> {}", losses[0], losses[299]);
    assert_eq!(right, batch.rows(), "every step decided right after overfitting");
}

#[test]
fn learns_addition_and_generalises_to_longer_numbers() {
    let task = add_base4();
    let outcome = npi::train(&task, &small(), &quick_train_config(3), &mut npi::NoHooks).unwrap();
    let best = &outcome.best.meta;
    assert!(best.validation.iter().all(|s| s.exact == s.count), "validation at step {}: {:?}", best.step, best.validation);
    let net = outcome.best.load(&task).unwrap();
    let engine = npi::Engine::new(&net).unwrap();
    let report = npi::evaluate(&task, &engine, &[5, 8], 16, 99, 1).unwrap();
    for r in &report.results {
        assert_eq!(r.exact, r.count, "size {}: {:?}", r.size, report);
    }
}

#[test]
fn same_seed_same_loss_curve() {
    let task = add_base4();
    let cfg = TrainConfig { steps: 25, validate_every: 1000, ..quick_train_config(5) };
    let a = npi::train(&task, &small(), &cfg, &mut npi::NoHooks).unwrap();
    let b = npi::train(&task, &small(), &cfg, &mut npi::NoHooks).unwrap();
    assert_eq!(a.losses, b.losses);
    assert_eq!(a.best.weights, b.best.weights);
    let c = npi::train(&task, &small(), &TrainConfig { seed: 6, ..cfg.clone() }, &mut npi::NoHooks).unwrap();
    assert_ne!(a.losses, c.losses);
    // Threads split the work by sequence and sum in a fixed order.
    let cfg = TrainConfig { threads: 2, batch: 64, ..cfg };
    let d = npi::train(&task, &small(), &cfg, &mut npi::NoHooks).unwrap();
    let e = npi::train(&task, &small(), &cfg, &mut npi::NoHooks).unwrap();
    assert_eq!(d.losses, e.losses);
}

#[test]
fn checkpoint_round_trips_and_refuses_other_tasks() {
    let task = compile(ADD, "add");
    let cfg = TrainConfig { steps: 20, validate_every: 1000, validation_sizes: vec![3], validation_count: 2, ..quick_train_config(7) };
    let outcome = npi::train(&task, &small(), &cfg, &mut npi::NoHooks).unwrap();
    let ckpt = &outcome.best;
    // Metadata and weights survive serialisation.
    let json = serde_json::to_string(&ckpt.meta).unwrap();
    let back = Checkpoint { meta: serde_json::from_str(&json).unwrap(), weights: ckpt.weights.clone(), optimizer: ckpt.optimizer.clone() };
    assert_eq!(&back, ckpt);
    // The reloaded model acts exactly as the saved one.
    let before = npi::Engine::new(&ckpt.model().unwrap()).unwrap();
    let after = npi::Engine::new(&back.load(&task).unwrap()).unwrap();
    for seed in 0..3 {
        let (x, y) = (npi::run(&before, &task, 4, seed).unwrap(), npi::run(&after, &task, 4, seed).unwrap());
        assert_eq!(x.trace, y.trace);
        assert_eq!(x.steps, y.steps);
    }

    let sort = compile(BUBBLESORT, "bubblesort");
    assert!(matches!(back.load(&sort), Err(LoadError::Task { .. })));
    // Another learn block is the same task; another program body is not.
    let relearned = compile(&ADD.replace("test sizes [20, 100, 1000]", "test sizes [20, 100]"), "add");
    assert!(back.load(&relearned).is_ok());
    let edited = compile(&ADD.replace("if s >= 10", "if s > 9"), "add");
    let err = back.load(&edited).unwrap_err();
    assert!(matches!(err, LoadError::Source { .. }), "{err}");
    assert!(err.to_string().contains("another version of `add`"), "{err}");
    let renamed = compile(&ADD.replace("LSHIFT", "SHIFT"), "add");
    let err = back.load(&renamed).unwrap_err();
    assert_eq!(err.to_string(), "the checkpoint's programs are [ACT/3, ADD/0, ADD1/0, CARRY/0, LSHIFT/0], the task's are [ACT/3, ADD/0, ADD1/0, CARRY/0, SHIFT/0]");
    assert!(matches!(back.load(&add_base4()), Err(LoadError::Observation { .. }) | Err(LoadError::Arguments { .. })));
}

#[test]
fn an_untrained_model_fails_cleanly() {
    let task = compile(ADD, "add");
    let net = Npi::new(&NpiConfig::default(), &ModelShape::of(&task), 9).unwrap();
    let engine = npi::Engine::new(&net).unwrap();
    for seed in 0..8 {
        let run = npi::run(&engine, &task, 6, seed).unwrap();
        assert!(!run.correct);
        assert!(run.failure.is_some());
        let trace = run.trace.unwrap();
        // The model's own trace renders like a reference trace.
        assert!(task.render_trace(&trace).starts_with("// add, size 6"));
        assert_eq!(trace.steps.len(), run.steps);
    }
    assert_eq!(task.entry(), 1);
}

/// A model too small for its task: validation stops improving, training
/// stops on its own (not at the step budget) with the best checkpoint, and
/// the outcome says which decision the best weights get wrong first.
#[test]
fn a_run_whose_validation_stops_improving_stops_and_says_where_it_fails() {
    let task = add_base4();
    let tiny = NpiConfig { hidden: 8, layers: 1, embedding: 4, key: 4, encoder: 8, state: 8, fuse: Fuse::Concat, fuse_hidden: 8, observe: npi::Observe::All, vision: Default::default() };
    let cfg = TrainConfig {
        traces: 16,
        steps: 2000,
        validate_every: 5,
        validation_sizes: vec![6],
        validation_count: 4,
        give_up: 3,
        plateau: 1,
        ..quick_train_config(1)
    };
    let outcome = npi::train(&task, &tiny, &cfg, &mut npi::NoHooks).unwrap();
    assert_eq!(outcome.stop, npi::StopReason::Plateau);
    assert!(outcome.steps < cfg.steps, "stopped at step {}", outcome.steps);
    // The last `give_up` validations scored no more than the best before them.
    let v = &outcome.validations;
    let (before, last) = v.split_at(v.len() - 3);
    let best = before.iter().map(|r| r.exact()).max().unwrap();
    assert!(last.iter().all(|r| r.exact() <= best && !r.perfect()), "{v:?}");
    // The kept checkpoint is the best validation's, not the last step's.
    let kept = v.iter().rev().find(|r| r.improved).unwrap();
    assert_eq!(outcome.best.meta.step, kept.step);
    // Where the best weights first go wrong: a real decision of a real run.
    let d = outcome.diagnosis.expect("the best checkpoint fails validation");
    assert_eq!(d.size, 6);
    assert_ne!(d.model, d.reference);
    assert_eq!(d.obs.len(), task.obs.width());
    let text = d.render(&task).join("\n");
    assert!(text.starts_with("in ADD()"), "{text}");
    assert!(text.contains("\n  the reference: ") && text.contains("\n  the model:     "), "{text}");
    let net = outcome.best.load(&task).unwrap();
    let run = npi::run(&npi::Engine::new(&net).unwrap(), &task, d.size, d.seed).unwrap();
    assert!(!run.correct, "the diagnosed input fails on its own too");
}

/// The coverage report counts the training traces' decision cases against
/// those the reference meets, and more traces of the same seed cover more.
#[test]
fn coverage_counts_the_cases_training_will_see() {
    let task = compile(ADD, "add");
    let cfg = |traces| TrainConfig { traces, ..TrainConfig::default() };
    let few = npi::coverage(&task, &NpiConfig::default(), &cfg(16)).unwrap();
    let add1 = few.programs.iter().find(|p| p.name == "ADD1").unwrap();
    // 100 pairs in the rightmost column, 200 columns further left, and the
    // column that holds only a carry.
    assert_eq!(add1.met, 301);
    assert!(add1.settled && add1.covered < add1.met);
    assert_eq!(add1.missing.len(), add1.met - add1.covered);
    assert!(!few.complete());
    let enough = few.enough.expect("a few thousand traces show every case");
    assert!(enough > 16);
    let text = few.details(3).join("\n");
    assert!(text.contains("missing ADD1 cases: in1="), "{text}");
    assert!(text.contains(&format!("raise `traces` (the first {enough} traces of seed 0 hold every case)")), "{text}");
    assert!(few.headline().starts_with("16 traces cover "), "{}", few.headline());
    // Exactly that many leading traces hold them all.
    let just = npi::coverage(&task, &NpiConfig::default(), &cfg(enough)).unwrap();
    assert!(just.complete(), "{}", just.headline());
    assert_eq!(just.enough, Some(enough));
    let short = npi::coverage(&task, &NpiConfig::default(), &cfg(enough - 1)).unwrap();
    assert!(!short.complete());
    // Programs that decide the same way every time are not counted.
    assert!(just.programs.iter().filter(|p| !p.decides()).all(|p| ["CARRY", "LSHIFT"].contains(&p.name.as_str())));
}

/// `sampling coverage` picks each training input for the decision cases
/// the traces before it lack: far fewer traces hold every case, the first
/// traces do not depend on how many there are, and the report points a
/// randomly drawn set that misses cases at it.
#[test]
fn coverage_sampling_needs_fewer_traces() {
    let task = compile(ADD, "add");
    let cfg = |traces, sampling| TrainConfig { traces, sampling, ..TrainConfig::default() };
    let random = npi::coverage(&task, &NpiConfig::default(), &cfg(64, npi::Sampling::Random)).unwrap();
    let picked = npi::coverage(&task, &NpiConfig::default(), &cfg(64, npi::Sampling::Coverage)).unwrap();
    let add1 = |c: &npi::Coverage| c.programs.iter().find(|p| p.name == "ADD1").unwrap().covered;
    assert!(add1(&picked) > add1(&random) + 40, "{} against {}", picked.headline(), random.headline());
    // Each trace holds one rightmost column, a table of 100 cases of its
    // own, so no 64 traces hold all 301.
    assert!(!picked.complete());
    let (fewest, fewest_random) = (picked.enough.unwrap(), random.enough.unwrap());
    assert!((100..fewest_random / 2).contains(&fewest), "{fewest} against {fewest_random}");
    assert_eq!(random.enough_with_coverage, Some(fewest));
    let hint = random.details(2).join("\n");
    assert!(hint.contains(&format!("or set `sampling coverage` to pick each trace for unseen cases (its first {fewest} traces hold every case)")), "{hint}");
    assert!(npi::coverage(&task, &NpiConfig::default(), &cfg(fewest, npi::Sampling::Coverage)).unwrap().complete());
    // A prefix of a longer set is the shorter set, trace for trace; and
    // random sampling is what it always was.
    let traces = |n, sampling| npi::train::training_traces(&task, &NpiConfig::default(), &cfg(n, sampling)).unwrap();
    let (short, long) = (traces(20, npi::Sampling::Coverage), traces(40, npi::Sampling::Coverage));
    let steps = |t: &[synth_compiler::Trace]| t.iter().map(|t| (t.size, t.seed, t.steps.len())).collect::<Vec<_>>();
    assert_eq!(steps(&short), steps(&long[..20]));
    let plain = traces(8, npi::Sampling::Random);
    for (i, t) in plain.iter().enumerate() {
        assert_eq!((t.size, t.seed), (1 + i % 10, npi::train::derive_seed(0, 1, i as u64)));
    }
}

/// `observe: decisions`: a program's input keeps only the features its
/// decisions read, the shape (and so the checkpoint) carries them, and the
/// coverage report and coverage sampling count the cases of that model:
/// 64 picked traces show addition every case.
#[test]
fn observing_decisions_masks_the_input_and_shrinks_the_cases() {
    let task = compile(ADD, "add");
    let model = NpiConfig { observe: npi::Observe::Decisions, ..small() };
    let (all, some) = (ModelShape::of(&task), ModelShape::for_model(&task, &model));
    assert_eq!(ModelShape::for_model(&task, &small()), all);
    let add1 = task.program_id("ADD1").unwrap();
    let lshift = task.program_id("LSHIFT").unwrap();
    let trace = task.trace(3, 1).unwrap();
    let obs = trace.obs(0);
    let hot = |shape: &ModelShape, p| {
        let mut out = Vec::new();
        shape.hot(p, obs, &synth_compiler::NO_ARGS, &mut out);
        out
    };
    // The three digits and the three argument slots; the edge bits gone.
    let (full, kept) = (hot(&all, add1), hot(&some, add1));
    assert_eq!((full.len(), kept.len()), (obs.len() + 3, 3 + 3));
    assert!(kept.iter().all(|j| full.contains(j)));
    assert_eq!(hot(&some, lshift).len(), 3, "LSHIFT decides on nothing it sees");
    // The features travel with the model; a shape without them is written
    // as before.
    let json = serde_json::to_string(&some).unwrap();
    assert_eq!(serde_json::from_str::<ModelShape>(&json).unwrap(), some);
    assert!(!serde_json::to_string(&all).unwrap().contains("observed"));
    let net = Npi::new(&model, &some, 3).unwrap();
    assert_eq!(net.shape.observed, some.observed);
    // 201 cases instead of 301, and 64 picked traces hold them all.
    let cfg = TrainConfig { traces: 64, sampling: npi::Sampling::Coverage, ..TrainConfig::default() };
    let c = npi::coverage(&task, &model, &cfg).unwrap();
    let add1_cases = c.programs.iter().find(|p| p.name == "ADD1").unwrap();
    assert_eq!(add1_cases.met, 201);
    assert!(c.complete(), "{}", c.headline());
}
