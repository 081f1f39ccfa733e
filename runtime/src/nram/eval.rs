//! Generalisation: per input size, the fuzzy and the discrete machine's
//! error (wrong graded cells over graded cells) and exact matches.
//!
//! The discrete machine runs in O(M) memory at any size. The fuzzy one
//! costs O(T M^2) time and O(M^2) memory per example, so it is scored only
//! up to `fuzzy_cells` cells.

use super::checkpoint::SizeScore;
use super::discrete::Runner;
use super::fuzzy::Workspace;
use super::model::Nram;
use super::train::TrainError;
use crate::env::TapeEnvironment;
use crate::npi::train::derive_seed;
use serde::{Deserialize, Serialize};
use synth_compiler::TapeExample;

/// One size's scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeReport {
    pub size: usize,
    pub count: usize,
    /// Cells of the largest example.
    pub cells: usize,
    pub graded: usize,
    /// The fuzzy machine's error and exact-match share; `None` above
    /// `fuzzy_cells`.
    pub fuzzy_error: Option<f64>,
    pub fuzzy_accuracy: Option<f64>,
    /// The discrete machine's.
    pub discrete_error: f64,
    pub discrete_accuracy: f64,
    /// The fields every learner's eval JSON has, for the discrete machine
    /// (the one that runs at every size): exact matches, their share, and
    /// the mean timesteps it ran before halting.
    pub exact: usize,
    pub accuracy: f64,
    pub mean_steps: f64,
}

/// `{"task": "copy", "learner": "nram", "results": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub task: String,
    pub learner: String,
    pub results: Vec<SizeReport>,
}

const STREAM_EVAL: u64 = 16;

/// The seed of evaluation example `i` of size `size`.
pub fn eval_seed(seed: u64, size: usize, i: usize) -> u64 {
    derive_seed(seed, STREAM_EVAL, ((size as u64) << 24) + i as u64)
}

/// Scores `nram` on `count` examples of every size (seeds from
/// [`eval_seed`]); the fuzzy machine only on examples of at most
/// `fuzzy_cells` cells.
pub fn evaluate<E: TapeEnvironment + ?Sized>(env: &E, nram: &Nram, sizes: &[usize], count: usize, seed: u64, fuzzy_cells: usize) -> Result<EvalReport, TrainError> {
    let mut ws = Workspace::new();
    let mut runner = Runner::new();
    let mut results = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let mut examples: Vec<TapeExample> = Vec::with_capacity(count);
        for i in 0..count {
            let e = env.example(size, eval_seed(seed, size, i))?;
            super::fuzzy::check_example(&e).map_err(TrainError::Example)?;
            examples.push(e);
        }
        let cells = examples.iter().map(|e| e.cells).max().unwrap_or(0);
        let fuzzy = cells <= fuzzy_cells;
        let s = score(nram, size, &examples, fuzzy.then_some(&mut ws), &mut runner)?;
        let n = count.max(1) as f64;
        results.push(SizeReport {
            size,
            count,
            cells,
            graded: s.graded,
            fuzzy_error: fuzzy.then(|| s.error()),
            fuzzy_accuracy: fuzzy.then(|| s.exact as f64 / n),
            discrete_error: s.discrete_error(),
            discrete_accuracy: s.discrete_exact as f64 / n,
            exact: s.discrete_exact,
            accuracy: s.discrete_exact as f64 / n,
            mean_steps: s.discrete_steps as f64 / n,
        });
    }
    Ok(EvalReport { task: env.name().into(), learner: "nram".into(), results })
}

/// Scores `nram` on `examples` (of one size): the discrete machine, and
/// the fuzzy one when given a workspace for it.
pub fn score(nram: &Nram, size: usize, examples: &[TapeExample], fuzzy: Option<&mut Workspace>, runner: &mut Runner) -> Result<SizeScore, TrainError> {
    let mut s = SizeScore { size, count: examples.len(), ..SizeScore::default() };
    if let Some(ws) = fuzzy {
        for chunk in examples.chunks(32) {
            let refs: Vec<&TapeExample> = chunk.iter().collect();
            let st = ws.evaluate(nram, &refs);
            s.wrong += st.wrong;
            s.exact += st.exact;
        }
    }
    for e in examples {
        let out = runner.run(nram, e).map_err(TrainError::Example)?;
        let wrong = e.graded.len() - e.right_cells(&out.tape);
        s.graded += e.graded.len();
        s.discrete_wrong += wrong;
        s.discrete_exact += (wrong == 0) as usize;
        s.discrete_steps += out.steps;
    }
    Ok(s)
}
