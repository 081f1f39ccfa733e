//! An NTM's closed-loop results: every answer its most likely value,
//! graded by the tape's graded cells (exact when all are right), on the
//! inputs `synth eval` draws for every learner of tape worlds (NRAM's).
//! The report has the seq2seq baseline's shape, so that `synth compare`
//! and the plots read both.

use super::data::{encode, tape};
use super::model::{Episode, Ntm};
use crate::env::{eval_seed, TaskError};
pub use crate::seq2seq::{EvalReport, SizeReport, SizeScore};
use synth_compiler::{TapeExample, Task};

/// The machine's final tape for `e`.
pub fn output(ntm: &Ntm, e: &TapeExample, ep: &mut Episode) -> Vec<u32> {
    let seq = encode(&ntm.config, e);
    let answers = ntm.forward(&seq.tokens, None, ep);
    tape(e, &answers.values)
}

/// Scores `ntm` on the inputs of `size` drawn from `seeds`, on `threads`
/// threads (the score does not depend on how many).
pub fn score(task: &Task, ntm: &Ntm, size: usize, seeds: &[u64], threads: usize) -> Result<SizeScore, TaskError> {
    Ok(score_examples(ntm, size, &examples(task, size, seeds)?, threads))
}

/// The tape pairs of `size` from `seeds`.
pub fn examples(task: &Task, size: usize, seeds: &[u64]) -> Result<Vec<TapeExample>, TaskError> {
    seeds.iter().map(|&seed| task.tape_example(size, seed).map_err(|e| TaskError::new(e.to_string()))).collect()
}

/// Scores `ntm` on `examples`, all of size `size` (training validates on
/// the same ones every time, drawn once).
pub fn score_examples(ntm: &Ntm, size: usize, examples: &[TapeExample], threads: usize) -> SizeScore {
    let threads = threads.clamp(1, examples.len().max(1));
    let per: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                scope.spawn(move || {
                    let mut ep = Episode::default();
                    examples.iter().skip(k).step_by(threads).map(|e| (e.right_cells(&output(ntm, e, &mut ep)), e.graded.len())).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("an NTM evaluation thread panicked")).collect()
    });
    let mut s = SizeScore { size, count: examples.len(), ..SizeScore::default() };
    for (right, all) in per {
        s.exact += usize::from(right == all);
        s.cells_right += right;
        s.cells += all;
    }
    s
}

/// `count` inputs of every size, seeds from [`eval_seed`].
pub fn evaluate(task: &Task, ntm: &Ntm, sizes: &[usize], count: usize, seed: u64, threads: usize) -> Result<EvalReport, TaskError> {
    let mut results = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let seeds: Vec<u64> = (0..count).map(|i| eval_seed(task, seed, size, i)).collect();
        let s = score(task, ntm, size, &seeds, threads)?;
        results.push(SizeReport { size, count, exact: s.exact, accuracy: s.exact as f64 / count.max(1) as f64, cell_accuracy: s.cell_accuracy() });
    }
    Ok(EvalReport { task: task.name.clone(), learner: "ntm".into(), results })
}
