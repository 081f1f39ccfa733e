//! `synth learn`: trains a learner on the task's traces. Training itself is
//! `synth_runtime::npi::train`; this command adds what needs the terminal,
//! the clock and the disk: the settings from the command line, the run
//! directory and its refusal to overwrite a model, resuming, the progress
//! and the time budget ([`super::progress`]), the plots and the final
//! generalisation table.

use super::charts;
use super::eval::table;
use super::failure::Failure;
use super::interrupt::interrupt_flag;
use super::model::{load_resumable, refusal, require_npi, threads};
use super::progress::{CliHooks, INTERRUPTED};
use super::rundir::{self, RunDir};
use super::settings::parse_setting;
use super::task::{compile, load, TaskArg};
use anyhow::anyhow;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;
use synth_runtime::npi::{self, Engine, Resumable, StopReason};

#[derive(Args)]
pub struct LearnArgs {
    #[command(flatten)]
    task: TaskArg,
    /// More tasks for one NPI to learn beside the first (`synth learn add
    /// bubblesort`): one core, one program memory, an encoder per world.
    #[arg(value_name = "MORE_TASKS")]
    more: Vec<String>,
    /// Add the tasks to the NPI model of several tasks in this run
    /// directory (its weights are copied; --out names the new run).
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    from: Option<PathBuf>,
    /// With --from: train only the new tasks' new programs (and the
    /// encoders of new worlds); every other weight stays as it was, so the
    /// model's old tasks cannot change. `core` is the only value.
    #[arg(long, value_name = "WHAT", requires = "from")]
    freeze: Option<Freeze>,
    /// The learner (default: the `learn` block's); `seq2seq` trains the
    /// baseline on any scratchpad or tape task, `ntm` the Neural Turing
    /// Machine on any tape task, their settings from --set (unless the
    /// block is theirs; docs/seq2seq.md, docs/ntm.md).
    #[arg(long)]
    learner: Option<String>,
    /// Where the checkpoint, metrics and plots go (default: runs/<task>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    seed: Option<u64>,
    /// Wall-clock budget in seconds.
    #[arg(long)]
    time: Option<u64>,
    /// Most optimiser steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Training traces in all, spread over the train sizes.
    #[arg(long)]
    traces: Option<usize>,
    /// Continue training the checkpoint in --out.
    #[arg(long, conflicts_with = "force")]
    resume: bool,
    /// Replace a checkpoint already in --out.
    #[arg(long)]
    force: bool,
    /// Inputs per size in the final table.
    #[arg(long, default_value_t = 32)]
    count: usize,
    /// Worker threads (default: one per physical core).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar (one line per validation instead).
    #[arg(long)]
    quiet: bool,
    /// Overrides a learner setting of the `learn` block, e.g. `--set hidden=128
    /// --set lr=3e-4 --set validation_sizes=20,40` (repeatable; see docs/npi.md).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// What `--freeze` keeps as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Freeze {
    /// Every weight the model already has.
    Core,
}

pub fn run(a: LearnArgs) -> Result<(), Failure> {
    if !a.more.is_empty() || a.from.is_some() {
        return super::suite::learn(a.suite_request());
    }
    let source = load(&a.task)?;
    let task = compile(&source)?;
    let learner = a.learner.clone().unwrap_or_else(|| task.learn.learner.clone());
    let mut learn = task.learn.clone();
    // The --set values by themselves too: seq2seq takes only these (a
    // learn block's own settings belong to the learner it names).
    let mut only_set = std::collections::BTreeMap::new();
    for s in &a.set {
        let (key, value) = parse_setting(s).map_err(Failure::Usage)?;
        only_set.insert(key.clone(), value.clone());
        if key == "timesteps" && learner == "nram" {
            // The budget is an expression of the size that the compiler checks
            // and lowers with the task; a number here would be silently unused.
            return Err(Failure::Task(anyhow::anyhow!(
                "--set cannot change `timesteps` of `learn nram`: it is an expression of the size in the task's learn block (like `timesteps: n + 3`), checked with the task; edit it there, in a copy of the task if need be"
            )));
        }
        learn.settings.insert(key, value);
    }
    if let Some(t) = a.traces {
        match learner.as_str() {
            "nram" | "ntm" => return Err(Failure::Task(anyhow!("--traces is for learners trained on a fixed set (npi, seq2seq); {} draws fresh examples every step", learner.to_uppercase()))),
            "np" => return Err(Failure::Task(anyhow!("--traces is for learners trained on traces or pairs; the Neural Programmer's training set is `--set questions=N`"))),
            _ => learn.traces = t,
        }
    }
    if learner == "nram" || learner == "np" || learner == "seq2seq" || learner == "ntm" {
        let out = a.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(&task.name));
        let request = super::nram::LearnRequest {
            task_arg: &a.task.task,
            display: &source.display,
            learn,
            from_set: !a.set.is_empty(),
            seed: a.seed,
            steps: a.steps,
            threads: a.threads,
            time: a.time.or(task.learn.time),
            out: &out,
            resume: a.resume,
            force: a.force,
            count: a.count,
            quiet: a.quiet,
        };
        return match learner.as_str() {
            "np" => super::np::learn(&task, request),
            "nram" => super::nram::learn(&task, request),
            "ntm" => {
                // A `learn ntm` block's settings are the NTM's; another
                // learner's block gives it only the --set values.
                let settings = if task.learn.learner == "ntm" { request.learn.settings.clone() } else { only_set };
                super::ntm::learn(&task, request, &settings)
            }
            _ => super::seq2seq::learn(&task, request, &only_set),
        };
    }
    require_npi(&learner)?;
    let (model_cfg, mut cfg) = npi::settings(&learn).map_err(|e| Failure::settings(&source.display, !a.set.is_empty(), e, || npi::settings(&task.learn).is_ok()))?;
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    if let Some(s) = a.steps {
        cfg.steps = s;
    }
    if let Some(t) = a.traces {
        cfg.traces = t;
    }
    if let Some(t) = a.threads {
        cfg.threads = t;
    }
    if cfg.traces == 0 || cfg.train_sizes.is_empty() {
        return Err(Failure::Task(anyhow!("nothing to train on: the learn block needs `train sizes ...` and at least one trace")));
    }
    let budget = a.time.or(task.learn.time);
    let dir = RunDir::new(a.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(&task.name)));

    let resume = if dir.has_model() {
        if a.resume {
            Some(load_resumable(&task, &dir)?)
        } else if a.force {
            None
        } else {
            return Err(Failure::Task(anyhow!(
                "`{}` already holds a trained model; pass --resume to continue training it, --force to replace it, or --out DIR",
                dir.path.display()
            )));
        }
    } else if a.resume {
        return Err(Failure::Task(anyhow!("nothing to resume: `{}` holds no model (no {})", dir.path.display(), rundir::META)));
    } else {
        None
    };
    // The whole checkpoint (model and optimiser state) is checked before
    // anything is announced or written, so a bad one is refused with the
    // user's files untouched.
    let resumable = resume.as_ref().map(|c| Resumable::new(&task, c).map_err(|e| refusal(&dir, &e))).transpose()?;
    // A model or training data that would not fit in memory is refused
    // before the run is built or anything is written. (A checkpoint whose
    // weights do not fit its own config was refused just above, by name.)
    let model_to_train = resume.as_ref().map_or(&model_cfg, |c| &c.meta.config);
    super::machine::check_training(&task, model_to_train, &cfg).map_err(|e| Failure::Task(anyhow!("{}: {e}", source.display)))?;
    dir.create()?;
    if resume.is_none() {
        // A fresh run starts a fresh log.
        let _ = std::fs::remove_file(dir.file(rundir::METRICS));
    }

    let offset = resume.as_ref().map_or(0, |c| c.meta.step);
    if let Some(c) = &resume {
        let state = RunDir::optimizer_words(c.optimizer.is_some());
        eprintln!("resuming from the checkpoint at step {offset}, {state}");
    }
    let sizes = cfg.train_sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    eprintln!(
        "training npi on `{}`: {} traces of sizes {}..={}, at most {} steps{}, seed {}; writing to {}",
        task.name,
        cfg.traces,
        sizes.first().unwrap(),
        sizes.last().unwrap(),
        cfg.steps,
        budget.map(|b| format!(" or {b} s")).unwrap_or_default(),
        cfg.seed,
        dir.path.display()
    );
    // What the traces show, before spending minutes on them.
    let coverage = npi::coverage(&task, model_to_train, &cfg).map_err(|e| Failure::Task(anyhow!("generating training data: {e}")))?;
    match synth::coverage::coverage_warning(&source, &coverage, a.traces.is_none()) {
        Some(w) => eprint!("{}", w.render(&source.display, &source.text)),
        None => eprintln!("{}", synth::coverage::coverage_note(&coverage)),
    }
    let bar = if a.quiet { ProgressBar::hidden() } else { ProgressBar::new(cfg.steps) };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps  {msg}").expect("valid template").progress_chars("=> "),
    );
    let mut hooks = CliHooks::new(&dir, bar.clone(), budget, interrupt_flag(), offset);
    let outcome = match resumable {
        Some(r) => npi::resume_checked(&task, r, &cfg, &mut hooks),
        None => npi::train(&task, &model_cfg, &cfg, &mut hooks),
    };
    bar.finish_and_clear();
    if let Some(e) = hooks.watch.error.take() {
        return Err(e.into());
    }
    let outcome = outcome.map_err(|e| Failure::Task(anyhow!("training failed: {e}")))?;
    let mut best = outcome.best.clone();
    best.meta.step += offset;
    dir.save(&best)?;
    let seconds = hooks.watch.start.elapsed().as_secs_f64();
    let why = match (outcome.stop, hooks.watch.stopped_by) {
        (StopReason::Converged, _) => "validation perfect".to_string(),
        (StopReason::Steps, _) => "step budget used".to_string(),
        (StopReason::Plateau, _) => format!("validation stopped improving: no more exact matches than its best for {} validations in a row", cfg.give_up),
        (StopReason::Stopped, Some(w)) => w.to_string(),
        (StopReason::Stopped, None) => "stopped".to_string(),
    };
    eprintln!(
        "stopped after {} steps in {seconds:.1} s ({why}); best checkpoint: step {} -> {}",
        outcome.steps,
        best.meta.step,
        dir.file(rundir::WEIGHTS).display()
    );
    if let Some(d) = &outcome.diagnosis {
        let failed: usize = best.meta.validation.iter().map(|s| s.count - s.exact.min(s.count)).sum();
        let total: usize = best.meta.validation.iter().map(|s| s.count).sum();
        eprintln!(
            "the best checkpoint fails {failed} of {total} validation inputs; its first wrong decision, on the input of size {} and seed {} (`synth run {} --model {} --size {} --seed {}` shows the whole run):",
            d.size,
            d.seed,
            a.task.task,
            dir.path.display(),
            d.size,
            d.seed
        );
        for line in d.render(&task) {
            eprintln!("  {line}");
        }
    }
    dir.write("loss.svg", charts::loss(&hooks.losses).as_bytes())?;
    dir.write("validation.svg", charts::validation(&hooks.validations, offset).as_bytes())?;
    if hooks.watch.stopped_by == Some(INTERRUPTED) {
        return Ok(());
    }

    // The compiler fills in test sizes the file leaves out; this is a
    // fallback for a task built by hand.
    let top = cfg.train_sizes.iter().copied().max().unwrap_or(1);
    let test_sizes = if task.learn.test_sizes.is_empty() { vec![2 * top, 10 * top] } else { task.learn.test_sizes.clone() };
    let model = best.model().map_err(|e| Failure::Task(e.into()))?;
    let engine = Engine::new(&model).map_err(|e| Failure::Task(e.into()))?;
    let t = Instant::now();
    let report = npi::evaluate(&task, &engine, &test_sizes, a.count, 0, threads(a.threads)).map_err(|e| Failure::Task(e.into()))?;
    let eval_seconds = t.elapsed().as_secs_f64();
    dir.write("eval.json", serde_json::to_string_pretty(&report).expect("serialisable").as_bytes())?;
    dir.write("accuracy.svg", charts::accuracy(&report).as_bytes())?;
    println!("{}", table(&report));
    eprintln!("evaluated in {eval_seconds:.1} s; plots and metrics in {}", dir.path.display());
    Ok(())
}

impl LearnArgs {
    fn suite_request(&self) -> super::suite::SuiteRequest<'_> {
        super::suite::SuiteRequest {
            tasks: std::iter::once(self.task.task.clone()).chain(self.more.iter().cloned()).collect(),
            from: self.from.as_deref(),
            freeze: self.freeze.is_some(),
            set: &self.set,
            seed: self.seed,
            steps: self.steps,
            traces: self.traces,
            threads: self.threads,
            time: self.time,
            out: self.out.as_deref(),
            force: self.force,
            resume: self.resume,
            count: self.count,
            quiet: self.quiet,
            learner: self.learner.as_deref(),
        }
    }
}
