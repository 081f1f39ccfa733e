//! Generalisation: closed-loop exact-match accuracy per input size.

use super::exec::{run_batch, run_policy, Job, Limits, Policy, RunOutcome};
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
        let jobs = size_jobs(env, size, count, seed)?;
        let outcomes = run_batch(engine, env.entry(), env.end_convention(), jobs, threads, false);
        results.push(size_report(size, &outcomes));
    }
    Ok(EvalReport { task: env.name().into(), learner: "npi".into(), results })
}

/// Why [`evaluate_policy`] stopped.
#[derive(Debug)]
pub enum PolicyEvalError<P> {
    /// The task could not give an input or its reference run.
    Task(TaskError),
    /// The policy raised.
    Policy(P),
}

/// [`evaluate`] for any [`Policy`]: the same inputs (seeds from
/// [`eval_seed`]), the same limits and the same scoring, each size's runs in
/// lockstep on this thread; `learner` names the policy in the report.
pub fn evaluate_policy<E, P>(env: &E, policy: &mut P, sizes: &[usize], count: usize, seed: u64, learner: &str) -> Result<EvalReport, PolicyEvalError<P::Error>>
where
    E: Environment,
    P: Policy,
{
    let mut results = Vec::new();
    for &size in sizes {
        let jobs = size_jobs(env, size, count, seed).map_err(PolicyEvalError::Task)?;
        let outcomes = run_policy(policy, env.entry(), env.end_convention(), jobs, false).map_err(PolicyEvalError::Policy)?;
        results.push(size_report(size, &outcomes));
    }
    Ok(EvalReport { task: env.name().into(), learner: learner.into(), results })
}

/// The `count` evaluation inputs of `size`, each limited by its reference
/// run.
fn size_jobs<E: Environment>(env: &E, size: usize, count: usize, seed: u64) -> Result<Vec<Job<E::Instance>>, TaskError> {
    let mut jobs = Vec::with_capacity(count);
    for i in 0..count {
        let s = eval_seed(seed, size, i);
        let reference = env.trace(size, s)?;
        jobs.push(Job { world: env.sample(size, s)?, limits: Limits::of_trace(&reference), size, seed: s });
    }
    Ok(jobs)
}

fn size_report(size: usize, outcomes: &[RunOutcome]) -> SizeReport {
    let count = outcomes.len();
    let exact = outcomes.iter().filter(|o| o.correct).count();
    let steps: usize = outcomes.iter().map(|o| o.steps).sum();
    SizeReport {
        size,
        count,
        exact,
        accuracy: if count > 0 { exact as f64 / count as f64 } else { 0.0 },
        mean_steps: if count > 0 { steps as f64 / count as f64 } else { 0.0 },
    }
}
