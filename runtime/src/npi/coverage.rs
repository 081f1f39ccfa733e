//! Coverage of a training set: which decision cases the training traces
//! hold, out of those the reference meets at the training sizes.
//!
//! An NPI learns a decision that depends on what it observes as a table of
//! the cases it has seen, and decides a case it never saw wrong at every
//! length, after reaching 100 % of its training frames. This module says so
//! before training. The cases are the compiler's ([`synth_compiler::cases`]:
//! a program's arguments and the observed values its decisions read). The
//! traces are exactly the ones [`super::train`] trains on (the same builder,
//! [`super::sample::TrainingSet`]). The cases the reference meets are
//! estimated by sampling more reference runs at the same sizes, in rounds
//! that double the runs seen, until a round finds nothing new (and at least
//! [`MIN_RUNS_FACTOR`] times the training traces were seen) or a cap is
//! reached. A program whose cases still grow by more than a twentieth in the
//! last round is reported as not enumerable (its decisions read something
//! that grows with the input) and left out of the verdict.

use super::config::{NpiConfig, Observe, TrainConfig};
use super::sample::{Sampling, TrainingSet};
use super::train::{derive_seed, STREAM_COVERAGE};
use crate::env::TaskError;
use serde::{Deserialize, Serialize};
use synth_compiler::{CaseSet, ProgramId, Task, Trace};

/// Sample at least this many times the training traces before calling the
/// cases settled.
pub const MIN_RUNS_FACTOR: usize = 4;
/// Sample at most this many times the training traces.
pub const MAX_RUNS_FACTOR: usize = 16;
/// Stop sampling past this many reference steps (a task whose runs are long
/// gets fewer rounds).
pub const MAX_STEPS: usize = 5_000_000;

/// One program's coverage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgramCoverage {
    pub program: ProgramId,
    pub name: String,
    /// Cases in the training traces.
    pub covered: usize,
    /// Cases met in all the runs sampled, the training traces included.
    pub met: usize,
    /// Whether the count settled (the last round added less than a
    /// twentieth); when not, the cases are not enumerable.
    pub settled: bool,
    /// The cases met but not in the training traces, as
    /// [`Task::render_case`] shows them, sorted.
    pub missing: Vec<String>,
}

impl ProgramCoverage {
    /// Whether the program decides on anything it observes or is passed.
    pub fn decides(&self) -> bool {
        self.met > 1
    }
}

/// What [`coverage`] found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Training traces.
    pub traces: usize,
    pub sizes: Vec<usize>,
    pub seed: u64,
    /// Reference runs sampled besides the training traces.
    pub sampled: usize,
    /// Every program that runs in some trace, in id order.
    pub programs: Vec<ProgramCoverage>,
    /// The fewest leading traces of the training-set builder (this seed)
    /// that hold every case of the settled programs, when at most
    /// [`MAX_RUNS_FACTOR`] times the traces do.
    pub enough: Option<usize>,
    /// How the training inputs were drawn.
    #[serde(default)]
    pub sampling: Sampling,
    /// With random sampling and cases missing: the fewest leading traces
    /// that hold them all when picked for coverage instead.
    #[serde(default)]
    pub enough_with_coverage: Option<usize>,
    /// The task's decisions read an image (a pose world): there is no
    /// table of cases, and nothing above was counted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub images: bool,
}

/// Counts the decision cases `cfg`'s training traces hold, against those the
/// reference meets at the same sizes, for a model of `model` (a model that
/// observes only what decisions read has fewer cases to see).
pub fn coverage(task: &Task, model: &NpiConfig, cfg: &TrainConfig) -> Result<Coverage, TaskError> {
    let n = cfg.traces;
    let sizes = &cfg.train_sizes;
    if task.obs.image.is_some() {
        let (seed, sampling, sizes) = (cfg.seed, cfg.sampling, sizes.clone());
        return Ok(Coverage { traces: n, sizes, seed, sampling, sampled: 0, programs: Vec::new(), enough: None, enough_with_coverage: None, images: true });
    }
    let spec = task.case_spec_with(model.observe == Observe::All);
    let mut ours = CaseSet::new(spec.clone());
    let mut steps = 0usize;
    // The training traces, kept in order for `enough`.
    let mut train: Vec<Trace> = Vec::with_capacity(n);
    let mut builder = TrainingSet::new(task, model, cfg);
    for _ in 0..n {
        let t = builder.next_trace()?;
        ours.add(&t);
        steps += t.steps.len();
        train.push(t);
    }
    let programs = task.programs.len();
    let mut all = ours.clone();
    let mut sampled = 0usize;
    let mut last_new = vec![0usize; programs];
    if !sizes.is_empty() {
        let (min, max) = ((MIN_RUNS_FACTOR * n).max(512), (MAX_RUNS_FACTOR * n).max(2048));
        loop {
            let round = (n + sampled).max(64);
            let before: Vec<usize> = (0..programs).map(|p| all.len(p as ProgramId)).collect();
            let end = sampled + round;
            while sampled < end && steps <= MAX_STEPS {
                let t = task.trace(sizes[sampled % sizes.len()], derive_seed(cfg.seed, STREAM_COVERAGE, sampled as u64))?;
                steps += t.steps.len();
                all.add(&t);
                sampled += 1;
            }
            let over = steps > MAX_STEPS;
            for (p, b) in before.iter().enumerate() {
                last_new[p] = all.len(p as ProgramId) - b;
            }
            let quiet = last_new.iter().all(|&x| x == 0);
            if over || n + sampled >= max || (quiet && n + sampled >= min) {
                break;
            }
        }
    }
    let mut out = Vec::new();
    for (p, &new) in last_new.iter().enumerate().skip(1) {
        let id = p as ProgramId;
        let met = all.len(id);
        if met == 0 {
            continue;
        }
        let pc = &all.spec.programs[p];
        out.push(ProgramCoverage {
            program: id,
            name: task.programs[p].name.clone(),
            covered: ours.len(id),
            met,
            settled: 20 * new < met,
            missing: all.missing_from(&ours, id).into_iter().map(|c| task.render_case(pc, id, c)).collect(),
        });
    }
    // The fewest leading traces that cover every settled program's cases.
    let target: usize = out.iter().filter(|c| c.settled).map(|c| c.met).sum();
    let counted: Vec<bool> = (0..programs).map(|p| out.iter().any(|c| c.settled && c.program as usize == p)).collect();
    let goal = Goal { all: &all, counted: &counted, target, cap: (MAX_RUNS_FACTOR * n).max(2048) };
    let enough = if sizes.is_empty() { None } else { goal.fewest(&train, builder)? };
    drop(train);
    let mut report = Coverage { traces: n, sizes: sizes.clone(), seed: cfg.seed, sampling: cfg.sampling, sampled, programs: out, enough, enough_with_coverage: None, images: false };
    if cfg.sampling == Sampling::Random && !report.complete() && !sizes.is_empty() {
        let picked = TrainConfig { sampling: Sampling::Coverage, ..cfg.clone() };
        report.enough_with_coverage = goal.fewest(&[], TrainingSet::new(task, model, &picked))?;
    }
    Ok(report)
}

/// The cases a training set should hold: the settled programs' cases the
/// estimate met.
struct Goal<'a> {
    all: &'a CaseSet,
    counted: &'a [bool],
    target: usize,
    /// The most traces tried.
    cap: usize,
}

impl Goal<'_> {
    /// The fewest leading traces of the sequence that starts with `first`
    /// and goes on with `rest` that hold every case, if at most `cap` do
    /// (and the extra traces stay under [`MAX_STEPS`] steps).
    fn fewest<E: crate::env::Environment + ?Sized>(&self, first: &[Trace], mut rest: TrainingSet<'_, E>) -> Result<Option<usize>, TaskError> {
        let mut prefix = CaseSet::new(self.all.spec.clone());
        let count = |s: &CaseSet| (0..self.counted.len()).filter(|&p| self.counted[p]).map(|p| s.len(p as ProgramId)).sum::<usize>();
        let mut i = 0;
        let mut steps = 0;
        while i < self.cap && steps <= MAX_STEPS {
            let t;
            let trace = match first.get(i) {
                Some(t) => t,
                None => {
                    t = rest.next_trace()?;
                    steps += t.steps.len();
                    &t
                }
            };
            // Only the cases the estimate knows, so that a rare case seen
            // here first does not move the goal.
            prefix.add_known(trace, self.all);
            i += 1;
            if count(&prefix) >= self.target {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

impl Coverage {
    /// The programs the verdict is about: they decide on something and
    /// their cases settled.
    pub fn counted(&self) -> impl Iterator<Item = &ProgramCoverage> {
        self.programs.iter().filter(|p| p.decides() && p.settled)
    }

    /// Whether the training traces hold every case of every counted program.
    pub fn complete(&self) -> bool {
        self.counted().all(|p| p.missing.is_empty())
    }

    /// `640 traces cover 301/301 ADD1 cases and 5/5 ADD cases (sizes 1..=10)`.
    pub fn headline(&self) -> String {
        let mut parts: Vec<&ProgramCoverage> = self.counted().collect();
        // Programs with missing cases first, the worst first.
        parts.sort_by(|a, b| {
            let gap = |p: &ProgramCoverage| p.covered as f64 / p.met as f64;
            gap(a).total_cmp(&gap(b)).then(b.met.cmp(&a.met)).then(a.program.cmp(&b.program))
        });
        let listed: Vec<String> = parts.iter().map(|p| format!("{}/{} {} cases", p.covered, p.met, p.name)).collect();
        if self.images {
            return format!("{} trace{} (sizes {}); the decisions read images, so there is no table of cases to cover", self.traces, plural(self.traces), show_sizes(&self.sizes));
        }
        let what = match listed.len() {
            0 => "every decision case (no program decides on what it observes)".to_string(),
            1 => listed[0].clone(),
            k => format!("{} and {}", listed[..k - 1].join(", "), listed[k - 1]),
        };
        format!("{} trace{} cover{} {what} (sizes {})", self.traces, plural(self.traces), if self.traces == 1 { "s" } else { "" }, show_sizes(&self.sizes))
    }

    /// The lines under the headline: the missing cases of each program (at
    /// most `shown` each), the programs left out, what to do.
    pub fn details(&self, shown: usize) -> Vec<String> {
        let mut out = Vec::new();
        for p in self.counted().filter(|p| !p.missing.is_empty()) {
            let more = p.missing.len().saturating_sub(shown);
            out.push(format!(
                "missing {} cases: {}{}",
                p.name,
                p.missing[..p.missing.len().min(shown)].join(", "),
                if more > 0 { format!(", ... ({more} more)") } else { String::new() }
            ));
        }
        for p in self.programs.iter().filter(|p| !p.settled) {
            out.push(format!(
                "{}'s cases keep growing ({} in {} reference runs): its decisions read something that grows with the input, so they are not counted",
                p.name,
                p.met,
                self.traces + self.sampled
            ));
        }
        if !self.complete() {
            let fix = match self.enough {
                Some(k) => format!("the first {k} traces of seed {} hold every case", self.seed),
                None => format!("{} traces of seed {} still miss some", (MAX_RUNS_FACTOR * self.traces).max(2048), self.seed),
            };
            let or = match self.enough_with_coverage {
                Some(k) => format!(", or set `sampling coverage` to pick each trace for unseen cases (its first {k} traces hold every case)"),
                None if self.sampling == Sampling::Random => ", or set `sampling coverage` to pick each trace for unseen cases".to_string(),
                None => String::new(),
            };
            out.push(format!(
                "an NPI learns these decisions as a table of the cases it has seen and decides an unseen case wrong at every length: raise `traces` ({fix}){or}"
            ));
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `1..=10` for a run of consecutive sizes, else `2, 4, 8`.
fn show_sizes(sizes: &[usize]) -> String {
    match (sizes.first(), sizes.last()) {
        (Some(&a), Some(&b)) if sizes.len() > 2 && sizes.windows(2).all(|w| w[1] == w[0] + 1) => format!("{a}..={b}"),
        _ => sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
    }
}
