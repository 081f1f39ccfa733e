//! Generalisation: closed-loop exact-match accuracy per input size.

use super::exec::{run_batch, Job, Limits};
use super::infer::Engine;
use super::train::derive_seed;
use crate::env::{Environment, TaskError};
use serde::{Deserialize, Serialize};

/// Exact matches at one input size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeReport {
    pub size: usize,
    pub count: usize,
    pub exact: usize,
    /// `exact / count`.
    pub accuracy: f64,
    /// Mean model steps per run.
    pub mean_steps: f64,
}

/// `{"task": "add", "learner": "npi", "results": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub task: String,
    pub learner: String,
    pub results: Vec<SizeReport>,
}

const STREAM_EVAL: u64 = 5;

/// The seed of evaluation input `i` of size `size`.
pub fn eval_seed(seed: u64, size: usize, i: usize) -> u64 {
    derive_seed(seed, STREAM_EVAL, ((size as u64) << 24) + i as u64)
}

/// Runs the model closed-loop on `count` inputs of every size (seeds from
/// [`eval_seed`]), with step and depth limits from each input's reference
/// run, over `threads` threads.
pub fn evaluate<E>(env: &E, engine: &Engine, sizes: &[usize], count: usize, seed: u64, threads: usize) -> Result<EvalReport, TaskError>
where
    E: Environment,
    E::Instance: Send,
{
    let mut results = Vec::new();
    for &size in sizes {
        let mut jobs = Vec::with_capacity(count);
        for i in 0..count {
            let s = eval_seed(seed, size, i);
            let reference = env.trace(size, s)?;
            jobs.push(Job { world: env.sample(size, s)?, limits: Limits::of_trace(&reference), size, seed: s });
        }
        let outcomes = run_batch(engine, env.entry(), env.end_convention(), jobs, threads, false);
        let exact = outcomes.iter().filter(|o| o.correct).count();
        let steps: usize = outcomes.iter().map(|o| o.steps).sum();
        results.push(SizeReport {
            size,
            count,
            exact,
            accuracy: if count > 0 { exact as f64 / count as f64 } else { 0.0 },
            mean_steps: if count > 0 { steps as f64 / count as f64 } else { 0.0 },
        });
    }
    Ok(EvalReport { task: env.name().into(), learner: "npi".into(), results })
}
