//! What `synth learn` shows and records while training runs: the progress
//! bar, one line per validation, `metrics.jsonl`, a new best checkpoint
//! saved as soon as it is found, and the stop conditions that need the
//! clock or the terminal (the time budget, Ctrl-C). The training loop calls
//! these hooks; it never sees the disk or the clock itself.

use super::rundir::{RunDir, RunDirError};
use indicatif::ProgressBar;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use synth_runtime::npi::{Checkpoint, Control, Hooks, StepReport, SuiteCheckpoint, ValidationReport};

/// Why the hooks stopped training, when they did.
pub const INTERRUPTED: &str = "interrupted";
const TIME_BUDGET: &str = "time budget reached";

pub struct CliHooks<'a> {
    pub watch: Watch<'a>,
    /// Steps already taken by the checkpoint being resumed.
    pub offset: u64,
    /// `(step, mean loss)` every `every` steps, for the plot.
    pub losses: Vec<(f64, f64)>,
    window: (f64, usize),
    every: u64,
    pub validations: Vec<ValidationReport>,
}

impl<'a> CliHooks<'a> {
    pub fn new(dir: &'a RunDir, bar: ProgressBar, budget: Option<u64>, interrupted: Arc<AtomicBool>, offset: u64) -> CliHooks<'a> {
        CliHooks { watch: Watch::new(dir, bar, budget, interrupted), offset, losses: Vec::new(), window: (0.0, 0), every: 10, validations: Vec::new() }
    }
}

/// What every learner's training hooks share: the run directory, the
/// progress bar, the clock and the time budget, Ctrl-C, the first failure
/// to write the run directory (training stops on it) and why the hooks
/// stopped training.
pub struct Watch<'a> {
    pub dir: &'a RunDir,
    pub bar: ProgressBar,
    pub start: Instant,
    /// Wall-clock budget in seconds.
    pub budget: Option<u64>,
    pub interrupted: Arc<AtomicBool>,
    pub error: Option<RunDirError>,
    pub stopped_by: Option<&'static str>,
}

impl<'a> Watch<'a> {
    pub fn new(dir: &'a RunDir, bar: ProgressBar, budget: Option<u64>, interrupted: Arc<AtomicBool>) -> Watch<'a> {
        Watch { dir, bar, start: Instant::now(), budget, interrupted, error: None, stopped_by: None }
    }

    pub fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Records a failure to write the run directory: training stops.
    pub fn fail(&mut self, e: RunDirError) -> Control {
        self.error = Some(e);
        Control::Stop
    }

    /// Appends `line` to `metrics.jsonl`; stops training if it cannot.
    pub fn log(&mut self, line: &serde_json::Value) -> Control {
        match self.dir.log(line) {
            Ok(()) => Control::Continue,
            Err(e) => self.fail(e),
        }
    }

    /// Stops training on Ctrl-C or when the time budget is used up.
    pub fn check(&mut self) -> Control {
        match stop_reason(self.start, self.budget, &self.interrupted) {
            Some(why) => {
                self.stopped_by = Some(why);
                Control::Stop
            }
            None => Control::Continue,
        }
    }

    /// A line above the bar (or on stderr when the bar is hidden: not a
    /// terminal, or --quiet).
    pub fn say(&self, text: String) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }
}

/// Why training must stop now, if it must: Ctrl-C, or the time budget
/// (in seconds since `start`) used up. Shared by every learner's hooks.
pub fn stop_reason(start: Instant, budget: Option<u64>, interrupted: &AtomicBool) -> Option<&'static str> {
    if interrupted.load(Ordering::SeqCst) {
        return Some(INTERRUPTED);
    }
    budget.filter(|&b| start.elapsed().as_secs() >= b).map(|_| TIME_BUDGET)
}

/// A best checkpoint the hooks save as soon as it is found: one task's, or
/// a model of several tasks.
pub trait SaveBest {
    /// Saves it in `dir`, its step counted from `offset`.
    fn save_best(&self, dir: &RunDir, offset: u64) -> Result<(), RunDirError>;
}

impl SaveBest for Checkpoint {
    fn save_best(&self, dir: &RunDir, offset: u64) -> Result<(), RunDirError> {
        let mut ckpt = self.clone();
        ckpt.meta.step += offset;
        dir.save(&ckpt)
    }
}

impl SaveBest for SuiteCheckpoint {
    fn save_best(&self, dir: &RunDir, _offset: u64) -> Result<(), RunDirError> {
        dir.save_parts(&self.meta, &self.weights, None)
    }
}

impl<C: SaveBest> Hooks<StepReport, ValidationReport, C> for CliHooks<'_> {
    fn on_step(&mut self, r: &StepReport) -> Control {
        let step = r.step + self.offset;
        self.watch.bar.set_position(r.step);
        self.window = (self.window.0 + r.loss, self.window.1 + 1);
        if r.step.is_multiple_of(self.every) {
            let mean = self.window.0 / self.window.1.max(1) as f64;
            self.window = (0.0, 0);
            self.losses.push((step as f64, mean));
            self.watch.bar.set_message(format!("loss {mean:.4}"));
            let line = json!({"step": step, "loss": mean, "lr": r.lr, "grad_norm": r.grad_norm, "seconds": self.watch.seconds()});
            if self.watch.log(&line) == Control::Stop {
                return Control::Stop;
            }
        }
        self.watch.check()
    }

    fn on_validation(&mut self, r: &ValidationReport, best: &C) -> Control {
        let step = r.step + self.offset;
        let scores: Vec<String> = r
            .scores
            .iter()
            .map(|s| match &s.task {
                Some(t) => format!("{t} n={}: {}/{}", s.size, s.exact, s.count),
                None => format!("n={}: {}/{}", s.size, s.exact, s.count),
            })
            .collect();
        let text = format!(
            "{:>7.1}s  step {step:>6}  loss {:.4}  frames right {:.3}  closed loop {}{}",
            self.watch.seconds(),
            r.loss,
            r.frame_accuracy,
            scores.join(", "),
            if r.improved { "  (best, saved)" } else { "" }
        );
        self.watch.say(text);
        let mut line = serde_json::to_value(r).expect("serialisable");
        line["step"] = json!(step);
        line["seconds"] = json!(self.watch.seconds());
        let mut result = self.watch.dir.log(&json!({"validation": line}));
        if r.improved && result.is_ok() {
            result = best.save_best(self.watch.dir, self.offset);
        }
        self.validations.push(r.clone());
        match result {
            Ok(()) => Control::Continue,
            Err(e) => self.watch.fail(e),
        }
    }
}

/// Why a seed stopped, in words, for the summary `synth learn` ends with;
/// `None` when a stop came from elsewhere (another seed) and the caller
/// knows why.
pub fn why_stopped(stop: synth_runtime::npi::StopReason, stopped_by: Option<&str>, give_up: usize) -> Option<String> {
    use synth_runtime::npi::StopReason;
    match (stop, stopped_by) {
        (StopReason::Converged, _) => Some("converged".into()),
        (StopReason::Steps, _) => Some("step budget used".into()),
        (StopReason::Plateau, _) => Some(format!("no better validation for {give_up} validations in a row")),
        (StopReason::Stopped, Some(w)) => Some(w.to_string()),
        (StopReason::Stopped, None) => None,
    }
}

