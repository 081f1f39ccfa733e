//! The seq2seq baseline's side of `synth learn --learner seq2seq`, `synth
//! eval` and `synth run`: training in `synth_runtime::seq2seq`, and here
//! the terminal, the clock and the disk as for the other learners (the run
//! directory, progress, Ctrl-C and the time budget, the best checkpoint
//! saved as soon as it is found, the plots and the final table).

use super::charts;
use super::failure::Failure;
use super::interrupt::interrupt_flag;
use super::nram::LearnRequest;
use super::progress::{Watch, INTERRUPTED};
use super::rundir::{self, RunDir, RunDirError};
use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;
use synth_compiler::{SettingValue, Task};
use synth_runtime::seq2seq::{self, Checkpoint, Pair, EvalReport, StepReport, ValidationReport};
use synth_runtime::hooks::{Control, Hooks, StopReason};

/// `settings` are the `--set` values only: a `learn` block's own settings
/// belong to the learner it names.
pub fn learn(task: &Task, r: LearnRequest, settings: &BTreeMap<String, SettingValue>) -> Result<(), Failure> {
    let (values, words) = seq2seq::tokens(task, &r.learn.train_sizes).map_err(|e| Failure::Task(e.into()))?;
    let (mut model_cfg, mut cfg) = seq2seq::settings(values, &r.learn, settings).map_err(|e| Failure::Usage(anyhow!("{}: --set: {e}", r.display)))?;
    model_cfg.words = words;
    r.overrides(&mut cfg.seed, &mut cfg.steps, &mut cfg.threads);
    let dir = RunDir::new(r.out);
    // `--resume` continues the kept model: its seed and training set, from
    // its step and optimiser state, for at most `steps` more steps.
    let resumed = resumable(&r, &dir, &model_cfg, || Ok(synth::trained::seq2seq_model(task, &dir)?.0))?;
    if let Some(c) = &resumed {
        cfg.seed = c.meta.seed;
        cfg.examples = c.meta.examples;
        cfg.train_sizes = c.meta.train_sizes.clone();
    }
    r.prepare(task, &dir, &cfg.train_sizes, cfg.seed, resumed.is_some())?;
    if let Some(c) = &resumed {
        eprintln!("resuming at step {} ({})", c.meta.step, RunDir::optimizer_words(c.optimizer.is_some()));
    }
    eprintln!(
        "training seq2seq on `{}`: {} x {} LSTM encoder and decoder, {} examples of sizes {}..={}, seed {}, at most {} steps{}; writing to {}",
        task.name,
        model_cfg.layers,
        model_cfg.hidden,
        cfg.examples,
        cfg.train_sizes.iter().min().unwrap_or(&0),
        cfg.train_sizes.iter().max().unwrap_or(&0),
        cfg.seed,
        cfg.steps,
        r.time.map(|b| format!(" or {b} s")).unwrap_or_default(),
        dir.path.display()
    );
    let bar = progress_bar(cfg.steps, r.quiet);
    let mut hooks = PairHooks::new(Watch::new(&dir, bar.clone(), r.time, interrupt_flag()));
    let outcome = match &resumed {
        Some(c) => {
            // A resumed run overwrites the saved model only with a better one.
            hooks.keep(c.clone());
            seq2seq::resume(task, c, &cfg, &mut hooks)
        }
        None => seq2seq::train(task, &model_cfg, &cfg, &mut hooks),
    };
    bar.finish_and_clear();
    if let Some(e) = hooks.watch.error.take() {
        return Err(e.into());
    }
    let mut outcome = outcome.map_err(|e| Failure::Task(anyhow!("training failed: {e}")))?;
    outcome.best = better(resumed, outcome.best);
    outcome.best.save_to(&dir)?;
    let end = TrainingEnd { seed: outcome.seed, stop: outcome.stop, steps: outcome.steps, give_up: cfg.give_up, best_step: outcome.best.meta.step, validation: &outcome.best.meta.validation };
    if !end.report(&dir, &hooks)? {
        return Ok(());
    }
    let top = cfg.train_sizes.iter().copied().max().unwrap_or(1);
    let test_sizes = if task.learn.test_sizes.is_empty() { vec![top, 5 * top] } else { task.learn.test_sizes.clone() };
    let model = outcome.best.model().map_err(|e| Failure::Task(e.into()))?;
    let t = Instant::now();
    let report = seq2seq::evaluate(task, &model, &test_sizes, r.count, 0).map_err(|e| Failure::Task(e.into()))?;
    write_eval(&dir, &report, t)
}

/// The progress bar of a pair learner's training (hidden with `--quiet`).
pub fn progress_bar(steps: u64, quiet: bool) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(steps) };
    bar.set_style(ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps  {msg}").expect("valid template").progress_chars("=> "));
    bar
}

/// How a pair learner's training ended, for [`TrainingEnd::report`].
pub struct TrainingEnd<'a> {
    /// The seed kept.
    pub seed: u64,
    pub stop: StopReason,
    pub steps: u64,
    pub give_up: usize,
    pub best_step: u64,
    pub validation: &'a [synth_runtime::seq2seq::SizeScore],
}

impl TrainingEnd<'_> {
    /// Says why training ended and where the best checkpoint is, and plots
    /// the kept seed's loss and validations; whether to go on and evaluate
    /// (not after Ctrl-C).
    pub fn report<C>(&self, dir: &RunDir, hooks: &PairHooks<C>) -> Result<bool, Failure> {
        let why = match (self.stop, hooks.watch.stopped_by) {
            (StopReason::Converged, _) => "every validation output exact".to_string(),
            (StopReason::Steps, _) => "step budget used".into(),
            (StopReason::Plateau, _) => format!("no better validation for {} validations in a row", self.give_up),
            (StopReason::Stopped, w) => w.unwrap_or("stopped").to_string(),
        };
        let (exact, count) = self.validation.iter().fold((0, 0), |(e, c), s| (e + s.exact, c + s.count));
        eprintln!(
            "trained in {:.1} s, {} steps ({why}); best at step {}: {exact}/{count} validation outputs exact -> {}",
            hooks.watch.seconds(),
            self.steps,
            self.best_step,
            dir.file(rundir::WEIGHTS).display()
        );
        let (losses, validations) = hooks.curves(self.seed);
        dir.write("loss.svg", charts::loss(losses).as_bytes())?;
        dir.write("validation.svg", charts::pairs_validation(validations).as_bytes())?;
        Ok(hooks.watch.stopped_by != Some(INTERRUPTED))
    }
}

/// The final evaluation of a pair learner (begun at `started`): its JSON,
/// its plot and its table.
pub fn write_eval(dir: &RunDir, report: &EvalReport, started: Instant) -> Result<(), Failure> {
    dir.write("eval.json", serde_json::to_string_pretty(report).expect("serialisable").as_bytes())?;
    dir.write("accuracy.svg", charts::pairs_accuracy(report).as_bytes())?;
    println!("{}", table(report));
    eprintln!("evaluated in {:.1} s; plots and metrics in {}", started.elapsed().as_secs_f64(), dir.path.display());
    Ok(())
}

/// Exact outputs and right cells per size.
pub fn table(report: &EvalReport) -> String {
    let mut out = format!("{:>8}  {:>7}  {:>9}  {:>12}\n", "size", "exact", "accuracy", "cells right");
    for r in &report.results {
        out.push_str(&format!("{:>8}  {:>3}/{:<3}  {:>8.1}%  {:>11.1}%\n", r.size, r.exact, r.count, 100.0 * r.accuracy, 100.0 * r.cell_accuracy));
    }
    out.trim_end().to_string()
}

/// `synth eval` on a seq2seq checkpoint.
pub fn eval(task: &Task, dir: &RunDir, sizes: &[usize], count: usize, seed: u64, json: bool) -> Result<(), Failure> {
    let (_, model) = synth::trained::seq2seq_model(task, dir)?;
    let report = seq2seq::evaluate(task, &model, sizes, count, seed).map_err(|e| Failure::Task(e.into()))?;
    if json {
        println!("{}", serde_json::to_string(&report).expect("serialisable"));
    } else {
        println!("{}", table(&report));
    }
    Ok(())
}

/// `synth run` on a seq2seq checkpoint: the input, and the output the
/// model writes beside the reference's.
pub fn run(task: &Task, dir: &RunDir, size: usize, seed: u64) -> Result<(), Failure> {
    let (_, model) = synth::trained::seq2seq_model(task, dir)?;
    let pair = Pair::of(task, size, seed).map_err(|e| Failure::Task(e.into()))?;
    let out = seq2seq::eval::outputs(&model, std::slice::from_ref(&pair)).map_err(|e| Failure::Task(e.into()))?.remove(0);
    let (exact, right, all) = pair.grade(task, &model.config, &out).map_err(|e| Failure::Task(e.into()))?;
    println!("// seq2seq in `{}` on `{}`, size {size}, seed {seed}", dir.path.display(), task.name);
    match &pair {
        Pair::Pad(e) => {
            let show = |cells: &mut dyn Iterator<Item = u32>| cells.map(|v| if v >= e.blank as u32 { "_".to_string() } else { v.to_string() }).collect::<Vec<_>>().join(" ");
            println!("// the sampled pad");
            for (r, row) in e.input.chunks(e.cols).enumerate() {
                println!("row {r}: {}", show(&mut row.iter().map(|&v| v as u32)));
            }
            println!("// the output rows: the model's, then the reference's");
            for (k, &r) in e.output_rows.iter().enumerate() {
                let (ours, theirs) = (&out[k * e.cols..(k + 1) * e.cols], &e.output[k * e.cols..(k + 1) * e.cols]);
                let same = ours.iter().zip(theirs).all(|(&a, &b)| a == b as u32);
                println!("row {r}: {}{}", show(&mut ours.iter().copied()), if same { "" } else { "    <-- differs" });
                println!("  ref: {}", show(&mut theirs.iter().map(|&v| v as u32)));
            }
            println!("// result: `expect` {} ({right}/{all} output cells as the reference's)", if exact { "holds" } else { "does not hold" });
        }
        Pair::Tape(e) => print_tape(e, &out),
        Pair::Table(e) => {
            println!("// the table ({} rows; the model reads every row)", e.rows);
            println!("{}", e.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join("\t"));
            for r in 0..e.rows.min(10) {
                println!("{}", e.columns.iter().map(|c| c.cells[r].to_string()).collect::<Vec<_>>().join("\t"));
            }
            if e.rows > 10 {
                println!("... {} rows more", e.rows - 10);
            }
            println!("// question: {}", e.text);
            println!("   model: {}", model.config.words_of(&out).join(" "));
            println!("  answer: {}", model.config.words_of(&pair.reference(&model.config)).join(" "));
            println!("// result: {} ({right}/{all} answer tokens right, the end included)", if exact { "exact" } else { "not exact" });
        }
    }
    Ok(())
}

/// A tape pair's cells: the input, the learner's final tape and the
/// reference's, graded cells marked, and the count of right ones.
pub fn print_tape(e: &synth_compiler::TapeExample, out: &[u32]) {
    println!("{:>6}  {:>6}  {:>6}  {:>9}", "cell", "input", "model", "reference");
    for (i, ((&input, &got), &want)) in e.input.iter().zip(out).zip(&e.output).enumerate() {
        let mark = match (e.graded.binary_search(&(i as u32)).is_ok(), got == want) {
            (true, true) => "  graded",
            (true, false) => "  graded, WRONG",
            (false, _) => "",
        };
        println!("{i:>6}  {input:>6}  {got:>6}  {want:>9}{mark}");
    }
    let right = e.right_cells(out);
    println!("// result: {right} of {} graded cells right{}", e.graded.len(), if right == e.graded.len() { "" } else { " (not exact)" });
}

/// What the hooks of a learner trained on input/output pairs (seq2seq,
/// the NTM) need of its step report.
pub trait PairStep {
    /// The seed being trained (learners of one seed: 0).
    fn seed(&self) -> u64 {
        0
    }
    fn step(&self) -> u64;
    fn loss(&self) -> f64;
    /// The metrics.jsonl line of a mean `loss` at this step.
    fn line(&self, loss: f64, seconds: f64) -> serde_json::Value;
    /// The progress bar's message.
    fn message(&self, loss: f64) -> String;
}

impl PairStep for StepReport {
    fn step(&self) -> u64 {
        self.step
    }
    fn loss(&self) -> f64 {
        self.loss
    }
    fn line(&self, loss: f64, seconds: f64) -> serde_json::Value {
        json!({"step": self.step, "epoch": self.epoch, "loss": loss, "grad_norm": self.grad_norm, "seconds": seconds})
    }
    fn message(&self, loss: f64) -> String {
        format!("loss {loss:.4}  epoch {}", self.epoch + 1)
    }
}

/// What the commands of the learners trained on pairs (seq2seq, the NTM)
/// need of their checkpoints: to save one, rank two of a run, and resume.
pub trait PairCheckpoint: Clone {
    /// Smaller is better: converged, then more exact validation outputs, ...
    type Rank: Ord;
    /// The model's shape, which a resumed run's settings must make again.
    type Config: PartialEq + std::fmt::Debug;
    /// What the learner calls its model in messages ("model", "machine").
    const NOUN: &'static str;
    fn ranking(&self) -> Self::Rank;
    fn config(&self) -> &Self::Config;
    fn optimizer_mut(&mut self) -> &mut Option<Vec<u8>>;
    fn save_to(&self, dir: &RunDir) -> Result<(), RunDirError>;
}

impl PairCheckpoint for Checkpoint {
    type Rank = (bool, usize, usize);
    type Config = seq2seq::Seq2SeqConfig;
    const NOUN: &'static str = "model";
    fn ranking(&self) -> Self::Rank {
        self.rank()
    }
    fn config(&self) -> &Self::Config {
        &self.meta.config
    }
    fn optimizer_mut(&mut self) -> &mut Option<Vec<u8>> {
        &mut self.optimizer
    }
    fn save_to(&self, dir: &RunDir) -> Result<(), RunDirError> {
        dir.save_parts(&self.meta, &self.weights, self.optimizer.as_deref())
    }
}

/// With `--resume`, the checkpoint kept in `dir` (read by `load`, with the
/// optimiser state saved beside it), refused when `wanted`, the model the
/// settings make now, is another; without, `None` (and a model already in
/// `dir` is refused by [`LearnRequest::claim`]).
pub fn resumable<C: PairCheckpoint>(r: &LearnRequest, dir: &RunDir, wanted: &C::Config, load: impl FnOnce() -> Result<C, synth::trained::LoadError>) -> Result<Option<C>, Failure> {
    if !r.claim(dir)? {
        return Ok(None);
    }
    let mut ckpt = load()?;
    *ckpt.optimizer_mut() = dir.optimizer()?;
    if ckpt.config() != wanted {
        return Err(Failure::Task(anyhow!(
            "cannot resume `{}`: its {} is {:?}, the settings now make {:?}; train again with --force, or --out DIR",
            dir.path.display(),
            C::NOUN,
            ckpt.config(),
            wanted
        )));
    }
    Ok(Some(ckpt))
}

/// The checkpoint to keep after training: `trained`'s best, unless the
/// run resumed from one at least as good.
pub fn better<C: PairCheckpoint>(resumed: Option<C>, trained: C) -> C {
    match resumed {
        Some(old) if old.ranking() <= trained.ranking() => old,
        _ => trained,
    }
}

/// One seed's curves: the seed, its mean losses by step, its validations.
pub type SeedCurves = (u64, Vec<(f64, f64)>, Vec<ValidationReport>);

/// The training hooks of the learners trained on pairs: the loss every 10
/// steps, validations printed and logged, the best checkpoint saved (of
/// any seed: a later seed's is saved only when it ranks better).
pub struct PairHooks<'a, C> {
    pub watch: Watch<'a>,
    /// Per seed trained, in order: the seed, its mean losses by step and
    /// its validations.
    pub seeds: Vec<SeedCurves>,
    window: (f64, usize),
    saved: Option<C>,
}

impl<'a, C> PairHooks<'a, C> {
    pub fn new(watch: Watch<'a>) -> PairHooks<'a, C> {
        PairHooks { watch, seeds: Vec::new(), window: (0.0, 0), saved: None }
    }

    /// Saves a new best only when it ranks before `c` (a resumed run's
    /// starting checkpoint).
    pub fn keep(&mut self, c: C) {
        self.saved = Some(c);
    }

    /// The loss curve and validations of `seed`.
    pub fn curves(&self, seed: u64) -> (&[(f64, f64)], &[ValidationReport]) {
        self.seeds.iter().find(|s| s.0 == seed).map_or((&[], &[]), |s| (&s.1[..], &s.2[..]))
    }

    fn current(&mut self, seed: u64) -> &mut SeedCurves {
        if self.seeds.last().is_none_or(|s| s.0 != seed) {
            if !self.seeds.is_empty() {
                self.watch.say(format!("seed {seed}"));
            }
            self.seeds.push((seed, Vec::new(), Vec::new()));
            self.window = (0.0, 0);
        }
        self.seeds.last_mut().expect("pushed above")
    }
}

impl<S: PairStep, C: PairCheckpoint> Hooks<S, ValidationReport, C> for PairHooks<'_, C> {
    fn on_step(&mut self, r: &S) -> Control {
        self.current(r.seed());
        self.watch.bar.set_position(r.step());
        self.window = (self.window.0 + r.loss(), self.window.1 + 1);
        if r.step().is_multiple_of(10) {
            let mean = self.window.0 / self.window.1.max(1) as f64;
            self.window = (0.0, 0);
            self.current(r.seed()).1.push((r.step() as f64, mean));
            self.watch.bar.set_message(r.message(mean));
            let line = r.line(mean, self.watch.seconds());
            if self.watch.log(&line) == Control::Stop {
                return Control::Stop;
            }
        }
        self.watch.check()
    }

    fn on_validation(&mut self, r: &ValidationReport, best: &C) -> Control {
        // A seed's new best is saved unless an earlier seed's ranks better.
        let save = r.improved && self.saved.as_ref().is_none_or(|s| best.ranking() < s.ranking());
        let sizes: Vec<String> = r.scores.iter().map(|s| format!("n={}: {}/{} ({:.1}% cells)", s.size, s.exact, s.count, 100.0 * s.cell_accuracy())).collect();
        self.watch.say(format!(
            "{:>7.1}s  step {:>6}  loss {:.4}  exact {}{}",
            self.watch.seconds(),
            r.step,
            r.loss,
            sizes.join(", "),
            match (save, r.improved) {
                (true, _) => "  (best, saved)",
                (false, true) => "  (this seed's best)",
                _ => "",
            }
        ));
        let mut line = serde_json::to_value(r).expect("serialisable");
        line["seconds"] = json!(self.watch.seconds());
        let seed = self.seeds.last().map_or(0, |s| s.0);
        line["seed"] = json!(seed);
        self.current(seed).2.push(r.clone());
        if self.watch.log(&json!({"validation": line})) == Control::Stop {
            return Control::Stop;
        }
        if save {
            if let Err(e) = best.save_to(self.watch.dir) {
                return self.watch.fail(e);
            }
            self.saved = Some(best.clone());
        }
        Control::Continue
    }
}
