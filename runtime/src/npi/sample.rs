//! The training set's inputs: drawn at random, or picked for coverage.
//!
//! An NPI learns each decision as a table of the cases it has seen
//! ([`super::coverage`]), so a training set is only as good as the cases
//! its traces hold. With [`Sampling::Coverage`] each training trace is the
//! best of [`CANDIDATES`] reference runs at its size: the one whose steps
//! hold the most decision cases the traces before it do not. Once a long
//! stretch of slots finds nothing new ([`STALE`]), the builder stops
//! searching and takes the plain random trace, so a set that is already
//! complete costs no more to build than a random one.
//!
//! Either way trace `i` depends only on the seed and on `i` (and, for
//! coverage, on the traces before it), never on how many traces there are:
//! more traces extend a training set without changing its start.

use super::config::{NpiConfig, Observe, TrainConfig};
use super::train::{derive_seed, STREAM_CANDIDATES, STREAM_TRACES};
use crate::env::{Environment, TaskError};
use serde::{Deserialize, Serialize};
use synth_compiler::{CaseSet, Trace};

/// How training inputs are drawn (`sampling`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// Each trace from its own seed.
    #[default]
    Random,
    /// Each trace the candidate that adds the most unseen decision cases.
    Coverage,
}

/// Reference runs tried per training trace under [`Sampling::Coverage`].
pub const CANDIDATES: usize = 64;
/// Slots in a row with no new case after which the search stops.
pub const STALE: usize = 64;

/// The training traces of a config, one at a time, in order.
pub struct TrainingSet<'a, E: ?Sized> {
    env: &'a E,
    cfg: &'a TrainConfig,
    next: usize,
    /// The cases of the traces so far, under coverage sampling while it
    /// still searches.
    seen: Option<CaseSet>,
    stale: usize,
}

impl<'a, E: Environment + ?Sized> TrainingSet<'a, E> {
    /// The training set of `cfg` for a model of `model` (whose `observe`
    /// says what a decision case is).
    pub fn new(env: &'a E, model: &NpiConfig, cfg: &'a TrainConfig) -> TrainingSet<'a, E> {
        let seen = match cfg.sampling {
            Sampling::Random => None,
            Sampling::Coverage => env.case_spec(model.observe == Observe::All).map(CaseSet::new),
        };
        TrainingSet { env, cfg, next: 0, seen, stale: 0 }
    }

    /// The next training trace.
    pub fn next_trace(&mut self) -> Result<Trace, TaskError> {
        let sizes = &self.cfg.train_sizes;
        if sizes.is_empty() {
            return Err(TaskError::new("no training sizes"));
        }
        let i = self.next;
        self.next += 1;
        let size = sizes[i % sizes.len()];
        let first = self.env.trace(size, derive_seed(self.cfg.seed, STREAM_TRACES, i as u64))?;
        let Some(seen) = &mut self.seen else { return Ok(first) };
        let mut best = (seen.count_new(&first), first);
        for k in 1..CANDIDATES {
            let t = self.env.trace(size, derive_seed(self.cfg.seed, STREAM_CANDIDATES, (i * CANDIDATES + k) as u64))?;
            let new = seen.count_new(&t);
            if new > best.0 {
                best = (new, t);
            }
        }
        seen.add(&best.1);
        self.stale = if best.0 == 0 { self.stale + 1 } else { 0 };
        if self.stale >= STALE {
            self.seen = None;
        }
        Ok(best.1)
    }

    /// The next `n` training traces.
    pub fn take(&mut self, n: usize) -> Result<Vec<Trace>, TaskError> {
        (0..n).map(|_| self.next_trace()).collect()
    }
}
