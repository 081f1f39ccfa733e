//! A seq2seq model's closed-loop results: greedy decoding of the output,
//! graded as [`super::data`] says (a pad by the task's own `expect`, so
//! scratch rows such as addition's carries do not count; a tape by its
//! graded cells), on the inputs `synth eval` draws for every learner.

use super::checkpoint::SizeScore;
use super::data::Pair;
use super::model::{Encoded, Seq2Seq};
use crate::env::TaskError;
use crate::env::eval_seed;
use serde::{Deserialize, Serialize};
use synth_compiler::Task;

/// Inputs decoded at once.
const CHUNK: usize = 32;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeReport {
    pub size: usize,
    pub count: usize,
    /// Inputs whose decoded output is exact (a pad: `expect` holds; a
    /// tape: every graded cell right).
    pub exact: usize,
    pub accuracy: f64,
    /// Output cells equal to the reference run's (a pad: every output
    /// cell; a tape: the graded ones).
    pub cell_accuracy: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub task: String,
    pub learner: String,
    pub results: Vec<SizeReport>,
}

/// `model`'s output cells for each of `pairs`, decoded greedily as one
/// batch (what `synth run` shows and [`score`] grades).
pub fn outputs(model: &Seq2Seq, pairs: &[Pair]) -> Result<Vec<Vec<u32>>, TaskError> {
    let encoded: Vec<Encoded> = pairs.iter().map(|p| p.encode(&model.config)).collect();
    let inputs: Vec<&[u32]> = encoded.iter().map(|e| e.input.as_slice()).collect();
    let lengths: Vec<usize> = encoded.iter().map(|e| e.target.len()).collect();
    let decoded = model.decode(&inputs, &lengths).map_err(|e| TaskError::new(crate::npi::checkpoint::message(&e)))?;
    Ok(pairs.iter().zip(&decoded).map(|(p, tokens)| p.cells(&model.config, tokens)).collect())
}

/// Scores `model` on the inputs of `size` drawn from `seeds`.
pub fn score(task: &Task, model: &Seq2Seq, size: usize, seeds: &[u64]) -> Result<SizeScore, TaskError> {
    // Drawn a chunk at a time: `synth eval` may ask for many large inputs.
    let mut s = SizeScore { size, count: seeds.len(), ..SizeScore::default() };
    for chunk in seeds.chunks(CHUNK) {
        let pairs: Vec<Pair> = chunk.iter().map(|&seed| Pair::of(task, size, seed)).collect::<Result<_, _>>()?;
        s.add(&score_pairs(task, model, size, &pairs)?);
    }
    Ok(s)
}

/// Scores `model` on `pairs`, all of `size` (drawn once by the caller, as
/// training's validation does).
pub fn score_pairs(task: &Task, model: &Seq2Seq, size: usize, pairs: &[Pair]) -> Result<SizeScore, TaskError> {
    let mut s = SizeScore { size, count: pairs.len(), ..SizeScore::default() };
    for chunk in pairs.chunks(CHUNK) {
        for (p, cells) in chunk.iter().zip(outputs(model, chunk)?) {
            let (exact, right, all) = p.grade(task, &model.config, &cells)?;
            s.exact += usize::from(exact);
            s.cells_right += right;
            s.cells += all;
        }
    }
    Ok(s)
}

/// `count` inputs of every size, seeds from [`eval_seed`] (those the
/// world's own learner is evaluated on).
pub fn evaluate(task: &Task, model: &Seq2Seq, sizes: &[usize], count: usize, seed: u64) -> Result<EvalReport, TaskError> {
    let mut results = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let seeds: Vec<u64> = (0..count).map(|i| eval_seed(task, seed, size, i)).collect();
        let s = score(task, model, size, &seeds)?;
        results.push(SizeReport { size, count, exact: s.exact, accuracy: s.exact as f64 / count.max(1) as f64, cell_accuracy: s.cell_accuracy() });
    }
    Ok(EvalReport { task: task.name.clone(), learner: "seq2seq".into(), results })
}
