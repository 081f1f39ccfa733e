//! The Neural Programmer against its definitions: the hand-written
//! gradient against finite differences, the soft pass with one-hot choices
//! against exact execution, exact execution against the compiler's
//! executor, checkpoints refused when they do not belong, determinism, and
//! a small question set learned.

use super::*;
use crate::env::TableEnvironment;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synth_compiler::{table, Answer, Task};

pub(crate) const SMALL: &str = r#"task small

world table(rows: n) {
  column a
  column b
  column city: word
}

input(n) {
  fill(a, random_list(n, 0..50))
  fill(b, random_list(n, 0..50))
  fill(city, random_words(n, ["oslo", "lima", "rome"]))
}

question "sum of {x}" (x: column) { sum(x) }
question "how many rows have {x} greater than {v}" (x: column, v: 0..50) { count(where x > v) }
question "print {x} where {y} is less than {v}" (x: column, y: column, v: 0..50) { print(x where y < v) }
question "total {x} in {t}" (x: column, t: word of city) { sum(x where city == t) }
question "how many rows have {y} greater than {v} or {z} less than {w}"
  (y: column, z: column, v: 0..50, w: 0..50) { count(where y > v || z < w) }
question "difference between sum of {x} where {y} is greater than {v} and where {y} is less than {w}"
  (x: column, y: column, v: 0..50, w: 0..50) { sum(x where y > v) - sum(x where y < w) }

learn np {
  train sizes 4..=8, questions 300
  test sizes [20, 200]
}
"#;

pub(crate) fn small_task() -> Task {
    match synth_compiler::compile(SMALL, "small") {
        Ok(c) => c.task,
        Err(d) => panic!("{d:?}"),
    }
}

/// A model of the task's columns with a vocabulary from its questions.
fn model(task: &Task, hidden: usize, embedding: usize) -> (NpConfig, Vec<synth_compiler::TableExample>) {
    let examples: Vec<_> = (0..60).map(|i| task.table_example(4 + i % 5, i as u64).unwrap()).collect();
    let columns = TableEnvironment::columns(task);
    let vocab = data::collect_words(examples.iter().map(|e| e.tokens.as_slice()), &columns);
    let config = NpConfig { columns, vocab, timesteps: TableEnvironment::timesteps(task), hidden, embedding };
    (config, examples)
}

#[test]
fn the_task_needs_five_steps() {
    assert_eq!(TableEnvironment::timesteps(&small_task()), 5);
}

/// Exact execution agrees with the compiler's executor on every latent
/// program, and gives the reference answer.
#[test]
fn exact_execution_is_the_compilers() {
    let task = small_task();
    for i in 0..300 {
        let e = task.table_example(3 + i % 20, i as u64).unwrap();
        let want = table::execute(&e.columns, &e.program).unwrap();
        assert_eq!(want, e.answer);
        assert_eq!(exec::run(&e.columns, &e.program), want, "{}", e.text);
    }
}

/// Random one-hot choices: the soft pass's answer is the exact one.
#[test]
fn soft_execution_with_one_hot_choices_is_exact() {
    let task = small_task();
    let (config, examples) = model(&task, 6, 5);
    let np = Np::new(&config, 3);
    let mut ws = Workspace::new();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (num, word) = config.column_kinds();
    let mut kinds = [0usize; 2];
    for e in &examples {
        let enc = Encoded::new(&config, &np.vocab, e).unwrap();
        let q = &enc.question;
        for _ in 0..20 {
            let choices: Vec<Choice> = (0..config.timesteps)
                .map(|_| Choice {
                    op: rng.random_range(0..model::OPS),
                    column: rng.random_range(0..config.columns.len()),
                    number_column: Some(num[rng.random_range(0..num.len())]),
                    word_column: Some(word[rng.random_range(0..word.len())]),
                    greater: (!q.numbers.is_empty()).then(|| rng.random_range(0..q.numbers.len())),
                    lesser: (!q.numbers.is_empty()).then(|| rng.random_range(0..q.numbers.len())),
                    word: (!q.words.is_empty()).then(|| rng.random_range(0..q.words.len())),
                })
                .collect();
            let program = np.program(q, &e.tokens, &choices);
            let exact = exec::run(&e.columns, &program);
            // A target of the exact answer's kind, so that the pass reports
            // the right output.
            let target = match &exact {
                Answer::Scalar { value } => Target::Scalar(*value as f64 + 1.0),
                Answer::Lookup { .. } => Target::Lookup { column: 0, rows: vec![] },
            };
            let enc = Encoded { target, ..enc.clone() };
            let loss = np.forward(&enc, model::Objective { huber: 1.0, lookup_weight: 1.0, entropy: 0.0 }, Some(&choices), &mut ws);
            match exact {
                Answer::Scalar { value } => {
                    kinds[0] += 1;
                    assert_eq!(loss.scalar, value as f64, "{program:?} on {}", e.text);
                }
                Answer::Lookup { .. } => {
                    kinds[1] += 1;
                    let Answer::Lookup { column, rows, .. } = exact else { unreachable!() };
                    // The cells the soft lookup holds at 1 are the exact
                    // answer's: the loss against an empty target counts them.
                    let (r, c) = (e.rows, config.columns.len());
                    let ones = if column.is_empty() { 0 } else { rows.len() };
                    assert!((loss.cells_right - (r * c - ones) as f64 / (r * c) as f64).abs() < 1e-9, "{program:?}: {loss:?} vs {ones} rows");
                }
            }
        }
    }
    assert!(kinds[0] > 100 && kinds[1] > 10, "{kinds:?}");
}

/// The backward of `pass` (a soft pass over `enc`) against central
/// differences on every parameter; how many were checked.
fn check_gradient(np: &mut Np, enc: &Encoded, text: &str, ws: &mut Workspace, pass: &dyn Fn(&Np, &mut Workspace) -> model::Loss) -> usize {
    let mut grad = vec![0f32; np.params.len()];
    pass(np, ws);
    np.backward(enc, ws, &mut grad);
    let scale = grad.iter().fold(0f32, |m, g| m.max(g.abs()));
    assert!(scale > 0.0, "no gradient for {text}");
    for i in 0..np.params.len() {
        let x = np.params[i];
        let h = 1e-2f32;
        np.params[i] = x + h;
        let up = pass(np, ws).objective;
        np.params[i] = x - h;
        let down = pass(np, ws).objective;
        np.params[i] = x;
        let numeric = ((up - down) / (2.0 * h as f64)) as f32;
        let tol = 2e-3 * scale + 0.03 * numeric.abs().max(grad[i].abs());
        assert!((numeric - grad[i]).abs() <= tol, "{text}: parameter {i}: numeric {numeric}, analytic {} (scale {scale})", grad[i]);
    }
    np.params.len()
}

/// The hand-written backward against central differences, on every kind
/// of question.
#[test]
fn gradient_matches_finite_differences() {
    let task = small_task();
    let (config, examples) = model(&task, 4, 3);
    let mut np = Np::new(&config, 5);
    let mut ws = Workspace::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut checked = 0;
    for e in &examples {
        if !seen.insert(e.question) {
            continue;
        }
        let enc = Encoded::new(&config, &np.vocab, e).unwrap();
        // A large Huber delta: the quadratic branch, smooth everywhere.
        let obj = model::Objective { huber: 100.0, lookup_weight: 3.0, entropy: 0.1 };
        checked += check_gradient(&mut np, &enc, &e.text, &mut ws, &|np, ws| np.forward(&enc, obj, None, ws));
    }
    assert!(seen.len() == 6 && checked > 1000, "{seen:?}");
}

/// The search finds, for every kind of question, a program that answers
/// it exactly, by the soft pass with one-hot choices and by exact
/// execution alike.
#[test]
fn search_finds_a_program_that_answers() {
    let task = small_task();
    let (config, _) = model(&task, 6, 5);
    let np = Np::new(&config, 3);
    let mut ws = Workspace::new();
    let limits = search::Limits { states: 20_000, programs: 64 };
    let mut kinds = std::collections::BTreeSet::new();
    for i in 0..120 {
        let e = task.table_example(4 + (i * 7) % 97, 1000 + i as u64).unwrap();
        let enc = Encoded::new(&config, &np.vocab, &e).unwrap();
        let found = search::search(&np, &enc, limits, &mut ws).unwrap_or_else(|| panic!("nothing found for {}", e.text));
        assert_eq!(found.len(), config.timesteps);
        assert!(np.answers(&enc, &found, &mut ws), "{found:?} on {}", e.text);
        let program = np.program(&enc.question, &e.tokens, &found);
        assert_eq!(exec::run(&e.columns, &program), e.answer, "{program:?} on {}", e.text);
        kinds.insert(e.question);
    }

    assert_eq!(kinds.len(), 6);
}

/// The gradient of the pull toward a program against central differences.
#[test]
fn imitation_gradient_matches_finite_differences() {
    let task = small_task();
    let (config, examples) = model(&task, 4, 3);
    let mut np = Np::new(&config, 6);
    let mut ws = Workspace::new();
    let limits = search::Limits { states: 2_000, programs: 8 };
    let obj = model::Objective { huber: 100.0, lookup_weight: 3.0, entropy: 0.0 };
    let mut seen = std::collections::BTreeSet::new();
    let mut checked = 0;
    for e in &examples {
        if !seen.insert(e.question) {
            continue;
        }
        let enc = Encoded::new(&config, &np.vocab, e).unwrap();
        let program = search::search(&np, &enc, limits, &mut ws).expect("a program");
        assert!(np.forward_toward(&enc, obj, &program, 0.7, &mut ws).imitation > 0.0);
        checked += check_gradient(&mut np, &enc, &e.text, &mut ws, &|np, ws| np.forward_toward(&enc, obj, &program, 0.7, ws));
    }
    assert!(seen.len() == 6 && checked > 1000, "{seen:?}");
}

fn small_cfg(steps: u64) -> (NpConfig, TrainConfig) {
    let task = small_task();
    let (mut model, mut cfg) = settings(&task, &task.learn).unwrap();
    model.hidden = 16;
    model.embedding = 8;
    cfg.steps = steps;
    cfg.validate_every = 20;
    cfg.validation_count = 10;
    cfg.threads = 1;
    (model, cfg)
}

/// Same seed, same losses and weights, on one thread or two.
#[test]
fn training_is_deterministic() {
    let task = small_task();
    let (model, mut cfg) = small_cfg(30);
    let a = train(&task, &model, &cfg, &mut NoHooks).unwrap();
    cfg.threads = 2;
    let b = train(&task, &model, &cfg, &mut NoHooks).unwrap();
    assert_eq!(a.seeds[0].losses, b.seeds[0].losses);
    assert_eq!(a.best, b.best);
    assert!(a.seeds[0].losses.iter().all(|l| l.is_finite()));
    cfg.seed = 1;
    let c = train(&task, &model, &cfg, &mut NoHooks).unwrap();
    assert_ne!(a.seeds[0].losses, c.seeds[0].losses);
}

/// A checkpoint of another task, source, learner or with broken weights is
/// refused by name; a good one loads to the same model.
#[test]
fn checkpoints_are_checked() {
    let task = small_task();
    let (model, cfg) = small_cfg(2);
    let out = train(&task, &model, &cfg, &mut NoHooks).unwrap();
    let good = out.best.clone();
    let np = good.load(&task).unwrap();
    assert!(good.optimizer.is_some(), "a trained checkpoint keeps Adam's state");
    assert_eq!(Checkpoint::save(&np, good.meta.clone()), Checkpoint { optimizer: None, ..good.clone() });
    let refuse = |c: Checkpoint, want: &str| {
        let e = c.load(&task).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    };
    let mut c = good.clone();
    c.meta.learner = "nram".into();
    refuse(c, "for the nram learner, not np");
    let mut c = good.clone();
    c.meta.task = "other".into();
    refuse(c, "trained on task `other`");
    let mut c = good.clone();
    c.meta.source_hash = "00".into();
    refuse(c, "another version of `small`");
    let mut c = good.clone();
    c.meta.config.columns.pop();
    refuse(c, "columns are");
    let mut c = good.clone();
    c.weights.truncate(40);
    refuse(c, "do not load");
    let mut c = good.clone();
    c.meta.config.hidden += 1;
    refuse(c, "do not fit");
}

/// Single-step questions (sum, count, print, word match) are learned from
/// answers alone: most answers right, and the induced programs the latent
/// ones, on tables far larger than the training ones.
#[test]
fn single_step_questions_are_learned() {
    let src = SMALL.split("question \"how many rows have {y}").next().unwrap().to_string() + "learn np {\n  train sizes 4..=8, questions 2000\n}\n";
    let task = synth_compiler::compile(&src, "easy").unwrap_or_else(|d| panic!("{d:?}")).task;
    let (mut model, mut cfg) = settings(&task, &task.learn).unwrap();
    model.hidden = 32;
    model.embedding = 16;
    cfg.steps = 2000;
    cfg.lr = 3e-3;
    // On tables of 4 to 8 rows the lookup loss needs no extra weight.
    cfg.lookup_weight = 1.0;
    cfg.validate_every = 100;
    cfg.validation_count = 10;
    cfg.threads = 2;
    let out = train(&task, &model, &cfg, &mut NoHooks).unwrap();
    let np = out.best.model().unwrap();
    let report = evaluate(&task, &np, &[50], 100, 0).unwrap();
    let r = &report.results[0];
    assert!(r.accuracy >= 0.9 && r.program_accuracy >= 0.9, "{report:#?}");
}

/// The difference of two conditional sums, which the soft pass alone does
/// not learn (its answer 0 is a trap), is learned with program search:
/// from answers alone, with the latent program induced, on tables far
/// larger than the training ones.
#[test]
fn the_difference_is_learned_with_program_search() {
    let head = SMALL.split("question").next().unwrap();
    let src = format!(
        "{head}question \"sum of {{x}}\" (x: column) {{ sum(x) }}
question \"difference between sum of {{x}} where {{y}} is greater than {{v}} and where {{y}} is less than {{w}}\"
  (x: column, y: column, v: 0..50, w: 0..50) {{ sum(x where y > v) - sum(x where y < w) }}
learn np {{
  train sizes 6..=12, questions 2000
}}
"
    );
    let task = synth_compiler::compile(&src, "diff").unwrap_or_else(|d| panic!("{d:?}")).task;
    let (mut model, mut cfg) = settings(&task, &task.learn).unwrap();
    model.hidden = 24;
    model.embedding = 16;
    cfg.steps = 1500;
    cfg.validate_every = 100;
    cfg.validation_count = 10;
    cfg.threads = 2;
    assert_eq!(cfg.search, 2, "search is on by default");
    let out = train(&task, &model, &cfg, &mut NoHooks).unwrap();
    let np = out.best.model().unwrap();
    let report = evaluate(&task, &np, &[60], 100, 0).unwrap();
    let r = &report.results[0];
    assert!(r.accuracy >= 0.9 && r.program_accuracy >= 0.9, "{report:#?}");
}
