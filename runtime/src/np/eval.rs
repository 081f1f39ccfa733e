//! How well a trained Neural Programmer answers, per table size and per
//! question.
//!
//! - **Answer accuracy**: the hard pass's program, run exactly
//!   ([`super::exec::run`]), gives the reference's answer.
//! - **Program accuracy**: the induced program is equivalent to the
//!   question's latent one, checked by running both, with the pivots the
//!   question gives them, on the question's table and on
//!   [`EQUIVALENCE_TABLES`] more tables of the same size: the same answer
//!   on every one. (Comparing text would call `greater a 30; count`
//!   wrong when written after a `reset`, and two programs that agree on
//!   one table may still differ.)

use super::exec;
use super::model::{Choice, Np, Workspace};
use super::train::TrainError;
use super::data::Question;
use crate::env::TableEnvironment;
use crate::npi::train::derive_seed;
use serde::{Deserialize, Serialize};
use synth_compiler::{table, Answer, Cell, LatentStep, TableColumn, TableExample};

/// Tables besides the question's own that program equivalence is checked
/// on.
pub const EQUIVALENCE_TABLES: usize = 4;

/// One size's scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeReport {
    pub size: usize,
    pub count: usize,
    /// Right answers, and their share (the fields every learner's eval
    /// JSON has).
    pub exact: usize,
    pub accuracy: f64,
    /// Steps the model runs per question (its `timesteps`).
    pub mean_steps: f64,
    /// Programs equivalent to the latent one, and their share.
    pub programs: usize,
    pub program_accuracy: f64,
}

/// One question item's scores over every size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionReport {
    /// Index of the `question` item, and its first template.
    pub question: usize,
    pub template: String,
    pub count: usize,
    pub exact: usize,
    pub accuracy: f64,
    pub programs: usize,
    pub program_accuracy: f64,
}

/// `{"task": "tableqa", "learner": "np", "results": [...], "questions": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub task: String,
    pub learner: String,
    pub results: Vec<SizeReport>,
    pub questions: Vec<QuestionReport>,
}

const STREAM_EVAL: u64 = 26;
const STREAM_TABLES: u64 = 27;

/// The seed of evaluation question `i` of size `size`.
pub fn eval_seed(seed: u64, size: usize, i: usize) -> u64 {
    derive_seed(seed, STREAM_EVAL, ((size as u64) << 24) + i as u64)
}

/// What the model makes of one question on one table.
#[derive(Clone, Debug, PartialEq)]
pub struct Asked {
    pub question: Question,
    pub choices: Vec<Choice>,
    /// The induced program, step by step.
    pub program: Vec<LatentStep>,
    pub answer: Answer,
}

/// The hard pass on a question's `tokens` against `columns`, and the
/// answer of the program it induces.
pub fn ask(np: &Np, tokens: &[Cell], columns: &[TableColumn], ws: &mut Workspace) -> Asked {
    let question = Question::new(&np.vocab, tokens, columns);
    let choices = np.select(&question, ws);
    let program = np.program(&question, tokens, &choices);
    let answer = exec::run(columns, &program);
    Asked { question, choices, program, answer }
}

/// Whether `program` and the latent program of `e` agree on `e`'s table
/// and on every one of `tables`.
pub fn equivalent(program: &[LatentStep], e: &TableExample, tables: &[Vec<TableColumn>]) -> bool {
    std::iter::once(&e.columns).chain(tables).all(|columns| match table::execute(columns, &e.program) {
        Ok(want) => exec::run(columns, program) == want,
        // The latent program has no answer on this table (a sum that
        // overflows): it says nothing either way.
        Err(_) => true,
    })
}

/// Scores `np` on `count` questions of every size (seeds from
/// [`eval_seed`]).
pub fn evaluate<E: TableEnvironment + ?Sized>(env: &E, np: &Np, sizes: &[usize], count: usize, seed: u64) -> Result<EvalReport, TrainError> {
    let names = env.question_names();
    let mut per_question: Vec<(usize, usize, usize)> = vec![(0, 0, 0); names.len()];
    let mut ws = Workspace::new();
    let mut results = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let tables: Vec<Vec<TableColumn>> = (0..EQUIVALENCE_TABLES)
            .map(|k| env.example(size, derive_seed(seed, STREAM_TABLES, ((size as u64) << 24) + k as u64)).map(|e| e.columns))
            .collect::<Result<_, _>>()?;
        let (mut exact, mut programs) = (0, 0);
        for i in 0..count {
            let e = env.example(size, eval_seed(seed, size, i))?;
            let asked = ask(np, &e.tokens, &e.columns, &mut ws);
            let right = asked.answer == e.answer;
            let same = equivalent(&asked.program, &e, &tables);
            exact += usize::from(right);
            programs += usize::from(same);
            if let Some(q) = per_question.get_mut(e.question) {
                *q = (q.0 + 1, q.1 + usize::from(right), q.2 + usize::from(same));
            }
        }
        let share = |k: usize| k as f64 / count.max(1) as f64;
        results.push(SizeReport { size, count, exact, accuracy: share(exact), mean_steps: np.config.timesteps as f64, programs, program_accuracy: share(programs) });
    }
    let questions = names
        .into_iter()
        .zip(per_question)
        .enumerate()
        .map(|(question, (template, (n, exact, programs)))| QuestionReport {
            question,
            template,
            count: n,
            exact,
            accuracy: exact as f64 / n.max(1) as f64,
            programs,
            program_accuracy: programs as f64 / n.max(1) as f64,
        })
        .collect();
    Ok(EvalReport { task: env.name().into(), learner: "np".into(), results, questions })
}
