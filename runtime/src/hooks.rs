//! What every learner's training loop shares with its caller, whatever it
//! learns: the hooks it reports to ([`Hooks`]), whether to go on
//! ([`Control`]), the stop rule on validations ([`Stopping`]) and why a
//! seed stopped ([`StopReason`]), and, for the learners that train several
//! seeds, the outcome of each seed and of the run ([`SeedOutcome`],
//! [`RunOutcome`]). Each learner fills in its own report and checkpoint
//! types.

use serde::{Deserialize, Serialize};

/// Whether training goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// What the caller sees of training: `Step` after every optimiser step,
/// `Validation` after every validation with the seed's best checkpoint
/// `Best` so far. With several seeds in parallel the calls come from
/// several threads, one at a time.
pub trait Hooks<Step, Validation, Best> {
    fn on_step(&mut self, _report: &Step) -> Control {
        Control::Continue
    }
    fn on_validation(&mut self, _report: &Validation, _best: &Best) -> Control {
        Control::Continue
    }
}

/// Hooks that watch nothing.
pub struct NoHooks;
impl<S, V, B> Hooks<S, V, B> for NoHooks {}

/// Why training ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Validation was perfect `patience` times in a row.
    Converged,
    /// The step budget ran out.
    Steps,
    /// A hook said stop.
    Stopped,
    /// Validation scored no more exact matches than its best for
    /// `give_up` validations in a row.
    Plateau,
}

/// When a seed stops on its validations, the rule every learner shares:
/// after `patience` perfect validations in a row, or after `give_up` in a
/// row without progress (0: never).
#[derive(Clone, Copy, Debug)]
pub struct Stopping {
    patience: usize,
    give_up: usize,
    streak: usize,
    stale: usize,
}

impl Stopping {
    pub fn new(patience: usize, give_up: usize) -> Stopping {
        Stopping { patience, give_up, streak: 0, stale: 0 }
    }

    /// Records one validation (perfect or not, progress or not) and says
    /// why to stop, if it is time.
    pub fn record(&mut self, perfect: bool, progress: bool) -> Option<StopReason> {
        self.streak = if perfect { self.streak + 1 } else { 0 };
        self.stale = if progress { 0 } else { self.stale + 1 };
        if self.streak >= self.patience {
            Some(StopReason::Converged)
        } else if self.give_up > 0 && self.stale >= self.give_up {
            Some(StopReason::Plateau)
        } else {
            None
        }
    }
}

/// The result of one seed.
#[derive(Clone, Debug)]
pub struct SeedOutcome<Best, Validation> {
    pub seed: u64,
    /// Its best parameters by validation.
    pub best: Best,
    pub converged: bool,
    pub steps: u64,
    pub stop: StopReason,
    /// The batch loss of every step.
    pub losses: Vec<f32>,
    pub validations: Vec<Validation>,
}

/// The result of a run of several seeds.
#[derive(Clone, Debug)]
pub struct RunOutcome<Best, Validation> {
    /// The best seed's best checkpoint, by the learner's ranking.
    pub best: Best,
    /// Its index in `seeds`.
    pub best_seed: usize,
    /// Every seed trained, in seed order (seeds skipped once `enough`
    /// had converged are not among them).
    pub seeds: Vec<SeedOutcome<Best, Validation>>,
    /// Training ended early because `enough` seeds converged: the seeds
    /// that stopped then did not fail, they were cut short.
    pub enough: bool,
}

impl<B, V> RunOutcome<B, V> {
    /// Seeds that converged.
    pub fn converged(&self) -> usize {
        self.seeds.iter().filter(|s| s.converged).count()
    }
}
