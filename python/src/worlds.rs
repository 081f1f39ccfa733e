//! Tape and table tasks (the NRAM's and the Neural Programmer's worlds) for
//! a model outside synth, with no Python involved: a tape task's examples
//! as flat arrays ([`tape_batches`]), and closed-loop scoring of any
//! model's final tapes ([`evaluate_tape`]) or answers
//! ([`evaluate_table`]) on the inputs `synth eval` draws, counted as
//! `synth eval` counts them.

use crate::learn::{Array, Data};
use serde::Serialize;
use synth_compiler::{Answer, TableExample, TapeExample, Task};
use synth_runtime::env::TableEnvironment;
use synth_runtime::env::eval_seed;
use synth_runtime::npi::train::derive_seed;

/// The seed stream of [`tape_batches`]' examples.
const STREAM_BATCHES: u64 = 0x7461_7065; // "tape"

fn int(name: &'static str, data: Vec<i64>, shape: Vec<usize>) -> Array {
    debug_assert_eq!(data.len(), shape.iter().product::<usize>());
    Array { name, data: Data::I64(data), shape }
}

/// `count` examples of a tape task (default: the `learn` block's `traces`,
/// or 1000), example `i` of size `sizes[i % len]` (default: the `learn`
/// block's training sizes) and seed `derive(seed, i)`, as arrays, each
/// tape padded with -1 to the longest (`C` cells):
///
/// - `input` `(N, C)`: the initial tape; `output` `(N, C)`: the reference
///   run's final tape; `graded` `(N, C)` bool: the cells it wrote (the ones
///   scored);
/// - `cells`, `timesteps`, `size` `(N)`, `seed` `(N)` unsigned: example
///   `i` is `task.trace(size[i], seed[i])`.
pub fn tape_batches(task: &Task, sizes: Option<Vec<usize>>, count: Option<usize>, seed: Option<u64>) -> Result<Vec<Array>, String> {
    if !task.is_tape() {
        return Err(format!("`{}` is a {} task: these batches are for tape tasks (the NRAM's)", task.name, task.world().name()));
    }
    let sizes = sizes.unwrap_or_else(|| task.learn.train_sizes.clone());
    if sizes.is_empty() {
        return Err("no sizes: pass sizes= or add `train sizes ...` to the learn block".into());
    }
    let count = count.unwrap_or(if task.learn.traces > 0 { task.learn.traces } else { 1000 });
    let seed = seed.or(task.learn.seed).unwrap_or(0);
    let examples = (0..count)
        .map(|i| task.tape_example(sizes[i % sizes.len()], derive_seed(seed, STREAM_BATCHES, i as u64)).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut arrays = tape_inputs(&examples);
    let c = examples.iter().map(|e| e.cells).max().unwrap_or(0);
    let mut output = vec![-1; count * c];
    let mut graded = vec![false; count * c];
    for (i, e) in examples.iter().enumerate() {
        for (k, &v) in e.output.iter().enumerate() {
            output[i * c + k] = v as i64;
        }
        for &g in &e.graded {
            graded[i * c + g as usize] = true;
        }
    }
    arrays.insert(1, int("output", output, vec![count, c]));
    arrays.insert(2, Array { name: "graded", data: Data::Bool(graded), shape: vec![count, c] });
    Ok(arrays)
}

/// What a tape model is given: `input` `(N, C)` (padded with -1),
/// `cells`, `timesteps`, `size` `(N)` and `seed` `(N)`.
pub fn tape_inputs(examples: &[TapeExample]) -> Vec<Array> {
    let n = examples.len();
    let c = examples.iter().map(|e| e.cells).max().unwrap_or(0);
    let mut input = vec![-1; n * c];
    for (i, e) in examples.iter().enumerate() {
        for (k, &v) in e.input.iter().enumerate() {
            input[i * c + k] = v as i64;
        }
    }
    vec![
        int("input", input, vec![n, c]),
        int("cells", examples.iter().map(|e| e.cells as i64).collect(), vec![n]),
        int("timesteps", examples.iter().map(|e| e.timesteps as i64).collect(), vec![n]),
        int("size", examples.iter().map(|e| e.size as i64).collect(), vec![n]),
        Array { name: "seed", data: Data::U64(examples.iter().map(|e| e.seed).collect()), shape: vec![n] },
    ]
}

/// Why a policy's evaluation stopped.
#[derive(Debug)]
pub enum EvalError<E> {
    /// The policy failed, or answered in a shape that cannot be scored.
    Policy(E),
    /// An input could not be drawn.
    Task(String),
}

/// A tape policy's results at one size: like `synth eval`'s for an NRAM,
/// for one machine (the model's).
#[derive(Debug, Serialize)]
pub struct TapeSize {
    pub size: usize,
    pub count: usize,
    /// The longest tape at this size.
    pub cells: usize,
    /// Graded cells over the `count` inputs.
    pub graded: usize,
    /// The share of graded cells the model got wrong (the NRAM paper's
    /// error).
    pub error: f64,
    /// Inputs with every graded cell right.
    pub exact: usize,
    pub accuracy: f64,
}

#[derive(Debug, Serialize)]
pub struct TapeReport {
    pub task: String,
    pub learner: String,
    pub results: Vec<TapeSize>,
}

/// Scores `policy` on `count` inputs of every size (the inputs `synth eval
/// --seed SEED` draws). `policy` is given one size's inputs at once and
/// returns each one's final tape (at least `cells` values; the rest is
/// ignored); it reports a shape it cannot be scored in as its own error
/// through `bad`.
pub fn evaluate_tape<E>(
    task: &Task,
    sizes: &[usize],
    count: usize,
    seed: u64,
    learner: &str,
    mut policy: impl FnMut(&[TapeExample]) -> Result<Vec<Vec<i64>>, E>,
    bad: impl Fn(String) -> E,
) -> Result<TapeReport, EvalError<E>> {
    if !task.is_tape() {
        return Err(EvalError::Task(format!("`{}` is a {} task, not a tape task", task.name, task.world().name())));
    }
    let mut results = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let examples = (0..count).map(|i| task.tape_example(size, eval_seed(task, seed, size, i)).map_err(|e| EvalError::Task(e.to_string()))).collect::<Result<Vec<_>, _>>()?;
        let tapes = policy(&examples).map_err(EvalError::Policy)?;
        if tapes.len() != examples.len() {
            return Err(EvalError::Policy(bad(format!("the policy returned {} tapes for {} inputs", tapes.len(), examples.len()))));
        }
        let (mut graded, mut wrong, mut exact) = (0, 0, 0);
        for (i, (e, tape)) in examples.iter().zip(&tapes).enumerate() {
            if tape.len() < e.cells {
                return Err(EvalError::Policy(bad(format!("input {i} (size {size}) has {} cells; the policy returned {} values", e.cells, tape.len()))));
            }
            let w = e.graded.iter().filter(|&&g| tape[g as usize] != e.output[g as usize] as i64).count();
            graded += e.graded.len();
            wrong += w;
            exact += usize::from(w == 0);
        }
        results.push(TapeSize {
            size,
            count,
            cells: examples.iter().map(|e| e.cells).max().unwrap_or(0),
            graded,
            error: wrong as f64 / graded.max(1) as f64,
            exact,
            accuracy: exact as f64 / count.max(1) as f64,
        });
    }
    Ok(TapeReport { task: task.name.clone(), learner: learner.into(), results })
}

/// A table policy's results at one size.
#[derive(Debug, Serialize)]
pub struct TableSize {
    pub size: usize,
    pub count: usize,
    /// Questions answered right.
    pub exact: usize,
    pub accuracy: f64,
}

/// A table policy's results on one question template.
#[derive(Debug, Serialize)]
pub struct TableQuestion {
    pub question: usize,
    pub template: String,
    pub count: usize,
    pub exact: usize,
    pub accuracy: f64,
}

#[derive(Debug, Serialize)]
pub struct TableReport {
    pub task: String,
    pub learner: String,
    pub results: Vec<TableSize>,
    pub questions: Vec<TableQuestion>,
}

/// Scores `policy` on `count` questions of every size (the tables and
/// questions `synth eval --seed SEED` draws): `policy` is given one size's
/// examples (without their answers and latent programs, which it must not
/// read: see [`question_only`]) and returns an answer for each; an answer
/// is right when it equals the reference's.
pub fn evaluate_table<E>(
    task: &Task,
    sizes: &[usize],
    count: usize,
    seed: u64,
    learner: &str,
    mut policy: impl FnMut(&[TableExample]) -> Result<Vec<Answer>, E>,
    bad: impl Fn(String) -> E,
) -> Result<TableReport, EvalError<E>> {
    if !task.is_table() {
        return Err(EvalError::Task(format!("`{}` is a {} task, not a table task", task.name, task.world().name())));
    }
    let names = task.question_names();
    let mut per_question = vec![(0usize, 0usize); names.len()];
    let mut results = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let examples = (0..count).map(|i| task.table_example(size, eval_seed(task, seed, size, i)).map_err(|e| EvalError::Task(e.to_string()))).collect::<Result<Vec<_>, _>>()?;
        let asked: Vec<TableExample> = examples.iter().map(question_only).collect();
        let answers = policy(&asked).map_err(EvalError::Policy)?;
        if answers.len() != examples.len() {
            return Err(EvalError::Policy(bad(format!("the policy returned {} answers for {} questions", answers.len(), examples.len()))));
        }
        let mut exact = 0;
        for (e, a) in examples.iter().zip(&answers) {
            let right = *a == e.answer;
            exact += usize::from(right);
            if let Some(q) = per_question.get_mut(e.question) {
                *q = (q.0 + 1, q.1 + usize::from(right));
            }
        }
        results.push(TableSize { size, count, exact, accuracy: exact as f64 / count.max(1) as f64 });
    }
    let questions = names
        .into_iter()
        .zip(per_question)
        .enumerate()
        .map(|(question, (template, (n, exact)))| TableQuestion { question, template, count: n, exact, accuracy: exact as f64 / n.max(1) as f64 })
        .collect();
    Ok(TableReport { task: task.name.clone(), learner: learner.into(), results, questions })
}

/// An example as a table policy sees it: the table and the question, with
/// the answer emptied (a scalar 0) and no latent program.
pub fn question_only(e: &TableExample) -> TableExample {
    TableExample { answer: Answer::Scalar { value: 0 }, program: Vec::new(), ..e.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str) -> Task {
        synth::compile(&synth::Source::load(name).unwrap()).unwrap().task
    }

    /// The arrays hold the examples `task.trace(size, seed)` gives.
    #[test]
    fn tape_batches_hold_the_reference_examples() {
        let copy = task("nram_copy");
        let arrays = tape_batches(&copy, Some(vec![2, 5]), Some(4), Some(7)).unwrap();
        let get = |name: &str| arrays.iter().find(|a| a.name == name).unwrap();
        let (Data::I64(input), Data::I64(output), Data::Bool(graded), Data::I64(size), Data::U64(seed)) =
            (&get("input").data, &get("output").data, &get("graded").data, &get("size").data, &get("seed").data)
        else {
            panic!("array types")
        };
        let c = get("input").shape[1];
        assert_eq!(size, &[2, 5, 2, 5]);
        for i in 0..4 {
            let e = copy.tape_example(size[i] as usize, seed[i]).unwrap();
            let row = |v: &[i64]| v[i * c..i * c + e.cells].to_vec();
            assert_eq!(row(input), e.input.iter().map(|&v| v as i64).collect::<Vec<_>>());
            assert_eq!(row(output), e.output.iter().map(|&v| v as i64).collect::<Vec<_>>());
            assert!(input[i * c + e.cells..(i + 1) * c].iter().all(|&v| v == -1));
            let marked: Vec<u32> = (0..c).filter(|&k| graded[i * c + k]).map(|k| k as u32).collect();
            assert_eq!(marked, e.graded);
        }
        assert!(tape_batches(&task("add"), None, None, None).unwrap_err().contains("tape tasks"));
    }

    /// The reference's own tapes score exact with no error; the input tape
    /// handed back unchanged scores the cells it leaves wrong.
    #[test]
    fn tape_scores_count_graded_cells() {
        let rev = task("nram_reverse");
        let perfect = evaluate_tape(&rev, &[4, 8], 5, 1, "test", |ex| Ok::<_, String>(ex.iter().map(|e| e.output.iter().map(|&v| v as i64).collect()).collect()), |m| m).unwrap();
        assert!(perfect.results.iter().all(|r| r.exact == 5 && r.error == 0.0 && r.graded > 0));
        let lazy = evaluate_tape(&rev, &[8], 5, 1, "test", |ex| Ok::<_, String>(ex.iter().map(|e| e.input.iter().map(|&v| v as i64).collect()).collect()), |m| m).unwrap();
        let mut wrong = 0;
        let mut graded = 0;
        for i in 0..5 {
            let e = rev.tape_example(8, eval_seed(&rev, 1, 8, i)).unwrap();
            graded += e.graded.len();
            wrong += e.graded.iter().filter(|&&g| e.input[g as usize] != e.output[g as usize]).count();
        }
        assert_eq!(lazy.results[0].graded, graded);
        assert_eq!(lazy.results[0].error, wrong as f64 / graded as f64);
        let short = evaluate_tape(&rev, &[8], 2, 1, "test", |_| Ok::<_, String>(vec![vec![0]; 2]), |m| m).unwrap_err();
        assert!(matches!(short, EvalError::Policy(m) if m.contains("cells")));
    }

    /// A policy sees no answers; the right answers score every question.
    #[test]
    fn table_scores_answers_per_size_and_question() {
        let tq = task("tableqa");
        let mut seen = Vec::new();
        let oracle = evaluate_table(
            &tq,
            &[5, 10],
            6,
            2,
            "test",
            |ex| {
                seen.extend(ex.iter().map(|e| (e.answer.clone(), e.program.len())));
                Ok::<_, String>(ex.iter().map(|e| tq.table_example(e.size, e.seed).unwrap().answer).collect())
            },
            |m| m,
        )
        .unwrap();
        assert!(seen.iter().all(|(a, p)| *a == Answer::Scalar { value: 0 } && *p == 0));
        assert!(oracle.results.iter().all(|r| r.exact == 6));
        assert_eq!(oracle.questions.iter().map(|q| q.count).sum::<usize>(), 12);
        let zero = evaluate_table(&tq, &[5], 6, 2, "test", |ex| Ok::<_, String>(vec![Answer::Scalar { value: -12345 }; ex.len()]), |m| m).unwrap();
        assert_eq!(zero.results[0].exact, 0);
    }
}
