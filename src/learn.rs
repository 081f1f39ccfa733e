//! `synth learn`, `synth eval` and `synth run`: the commands around a trained
//! model. Training itself is `synth_runtime::npi::train`; this module adds
//! what needs the terminal, the clock and the disk: the progress bar, the
//! time budget, Ctrl-C, atomic checkpoints, metrics, plots and the final
//! generalisation table.

use crate::{compile, load, EvalArgs, Failure, LearnArgs, RunArgs};
use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use synth::plot::{self, Chart, Series};
use synth::rundir::{RunDir, RunDirError};
use synth_compiler::{SettingValue, Task};
use synth_runtime::npi::{self, Checkpoint, Control, Engine, EvalReport, StepReport, StopReason, TrainHooks, ValidationReport};

impl From<RunDirError> for Failure {
    fn from(e: RunDirError) -> Self {
        match e {
            RunDirError::Write { .. } | RunDirError::Read { .. } => Failure::Io(e.into()),
            RunDirError::NoModel { .. } | RunDirError::BadMeta { .. } => Failure::Task(e.into()),
        }
    }
}

/// The one learner that trains today; the others are refused by name.
fn require_npi(learner: &str) -> Result<(), Failure> {
    if learner == "npi" {
        Ok(())
    } else {
        Err(Failure::Task(anyhow!("learner `{learner}` is not available yet; synth trains `npi` (the Neural Programmer-Interpreter) today")))
    }
}

/// Loads a checkpoint and checks that it belongs to `task`.
/// The checkpoint in `dir`, checked against `task`.
fn load_checkpoint(task: &Task, dir: &RunDir) -> Result<Checkpoint, Failure> {
    let ckpt = dir.load()?;
    require_npi(&ckpt.meta.learner)?;
    ckpt.check(task).map_err(|e| Failure::Task(anyhow!("cannot use the model in `{}`: {e}", dir.path.display())))?;
    Ok(ckpt)
}

fn load_model(task: &Task, dir: &RunDir) -> Result<(Checkpoint, npi::Npi), Failure> {
    let ckpt = load_checkpoint(task, dir)?;
    let model = ckpt.model().map_err(|e| Failure::Task(anyhow!("cannot use the model in `{}`: {e}", dir.path.display())))?;
    Ok((ckpt, model))
}

fn threads(flag: Option<usize>) -> usize {
    flag.filter(|&t| t > 0).unwrap_or_else(candle_core_threads)
}

fn candle_core_threads() -> usize {
    npi::TrainConfig::default().threads()
}

/// Ctrl-C: the first press asks training to stop after the current step
/// (the best checkpoint is already on disk and is kept); a second press
/// exits at once.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let presses = Arc::new(AtomicUsize::new(0));
    let f = flag.clone();
    // Failing to install the handler (another one exists) only loses the
    // graceful stop; training still works.
    let _ = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) >= 1 {
            eprintln!("\ninterrupted twice: exiting; the best checkpoint so far is kept");
            std::process::exit(130);
        }
        f.store(true, Ordering::SeqCst);
    });
    flag
}

struct CliHooks<'a> {
    dir: &'a RunDir,
    bar: ProgressBar,
    start: Instant,
    budget: Option<u64>,
    interrupted: Arc<AtomicBool>,
    /// Steps already taken by the checkpoint being resumed.
    offset: u64,
    /// `(step, mean loss)` every `every` steps, for the plot.
    losses: Vec<(f64, f64)>,
    window: (f64, usize),
    every: u64,
    validations: Vec<ValidationReport>,
    error: Option<RunDirError>,
    stopped_by: Option<&'static str>,
}

impl TrainHooks for CliHooks<'_> {
    fn on_step(&mut self, r: &StepReport) -> Control {
        let step = r.step + self.offset;
        self.bar.set_position(r.step);
        self.window = (self.window.0 + r.loss, self.window.1 + 1);
        if r.step % self.every == 0 {
            let mean = self.window.0 / self.window.1.max(1) as f64;
            self.window = (0.0, 0);
            self.losses.push((step as f64, mean));
            self.bar.set_message(format!("loss {mean:.4}"));
            let line = json!({"step": step, "loss": mean, "lr": r.lr, "grad_norm": r.grad_norm, "seconds": self.start.elapsed().as_secs_f64()});
            if let Err(e) = self.dir.log(&line) {
                self.error = Some(e);
                return Control::Stop;
            }
        }
        if self.interrupted.load(Ordering::SeqCst) {
            self.stopped_by = Some("interrupted");
            return Control::Stop;
        }
        if let Some(b) = self.budget {
            if self.start.elapsed().as_secs() >= b {
                self.stopped_by = Some("time budget reached");
                return Control::Stop;
            }
        }
        Control::Continue
    }

    fn on_validation(&mut self, r: &ValidationReport, best: &Checkpoint) -> Control {
        let step = r.step + self.offset;
        let scores: Vec<String> = r.scores.iter().map(|s| format!("n={}: {}/{}", s.size, s.exact, s.count)).collect();
        let text = format!(
            "{:>7.1}s  step {step:>6}  loss {:.4}  frames right {:.3}  closed loop {}{}",
            self.start.elapsed().as_secs_f64(),
            r.loss,
            r.frame_accuracy,
            scores.join(", "),
            if r.improved { "  (best, saved)" } else { "" }
        );
        // A hidden bar (not a terminal, or --quiet) swallows println.
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
        let mut line = serde_json::to_value(r).expect("serialisable");
        line["step"] = json!(step);
        line["seconds"] = json!(self.start.elapsed().as_secs_f64());
        let mut result = self.dir.log(&json!({"validation": line}));
        if r.improved && result.is_ok() {
            let mut ckpt = best.clone();
            ckpt.meta.step += self.offset;
            result = self.dir.save(&ckpt);
        }
        self.validations.push(r.clone());
        match result {
            Ok(()) => Control::Continue,
            Err(e) => {
                self.error = Some(e);
                Control::Stop
            }
        }
    }
}

/// `KEY=VALUE` of `--set`: an integer, a decimal, `true`/`false`, a
/// comma-separated list of integers, or a word.
fn parse_setting(s: &str) -> Result<(String, SettingValue), anyhow::Error> {
    let Some((key, value)) = s.split_once('=') else {
        return Err(anyhow!("--set expects KEY=VALUE (like `hidden=128`), found `{s}`"));
    };
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(anyhow!("--set: `{key}` is not a setting name (letters, digits and `_`)"));
    }
    if value.is_empty() {
        return Err(anyhow!("--set {key}: no value after `=`"));
    }
    let list = value.trim_start_matches('[').trim_end_matches(']');
    let value = if let Ok(i) = value.parse::<i64>() {
        SettingValue::Int(i)
    } else if let Ok(f) = value.parse::<f64>() {
        SettingValue::Float(f)
    } else if value == "true" || value == "false" {
        SettingValue::Flag(value == "true")
    } else if list.contains(',') || value.starts_with('[') {
        let items: Result<Vec<i64>, _> = list.split(',').map(|x| x.trim().parse::<i64>()).collect();
        SettingValue::List(items.map_err(|_| anyhow!("--set {key}: `{value}` is not a list of integers"))?)
    } else {
        SettingValue::Word(value.to_string())
    };
    Ok((key.to_string(), value))
}

pub(crate) fn cmd_learn(a: LearnArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    require_npi(a.learner.as_deref().unwrap_or(&task.learn.learner))?;
    let mut learn = task.learn.clone();
    for s in &a.set {
        let (key, value) = parse_setting(s).map_err(Failure::Task)?;
        learn.settings.insert(key, value);
    }
    let (model_cfg, mut cfg) = npi::settings(&learn).map_err(|e| {
        let place = if a.set.is_empty() { "in the learn block" } else { "in the learn block or --set" };
        Failure::Task(anyhow!("{}: {place}: {e}", source.display))
    })?;
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
            // Checked here for a clear message; `npi::resume` builds the model.
            Some(load_checkpoint(&task, &dir)?)
        } else if a.force {
            None
        } else {
            return Err(Failure::Task(anyhow!(
                "`{}` already holds a trained model; pass --resume to continue training it, --force to replace it, or --out DIR",
                dir.path.display()
            )));
        }
    } else if a.resume {
        return Err(Failure::Task(anyhow!("nothing to resume: `{}` holds no model", dir.path.display())));
    } else {
        None
    };
    dir.create()?;
    if resume.is_none() {
        // A fresh run starts a fresh log.
        let _ = std::fs::remove_file(dir.file(synth::rundir::METRICS));
    }

    let offset = resume.as_ref().map_or(0, |c| c.meta.step);
    if let Some(c) = &resume {
        let state = if c.optimizer.is_some() { "with its optimiser state" } else { "with a fresh optimiser (no optimiser state saved)" };
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
    let coverage = npi::coverage(&task, &cfg).map_err(|e| Failure::Task(anyhow!("generating training data: {e}")))?;
    match synth::coverage::coverage_warning(&source, &coverage, a.traces.is_none()) {
        Some(w) => eprint!("{}", w.render(&source.display, &source.text)),
        None => eprintln!("{}", synth::coverage::coverage_note(&coverage)),
    }
    let bar = if a.quiet { ProgressBar::hidden() } else { ProgressBar::new(cfg.steps) };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps  {msg}").expect("valid template").progress_chars("=> "),
    );
    let mut hooks = CliHooks {
        dir: &dir,
        bar: bar.clone(),
        start: Instant::now(),
        budget,
        interrupted: interrupt_flag(),
        offset,
        losses: Vec::new(),
        window: (0.0, 0),
        every: 10,
        validations: Vec::new(),
        error: None,
        stopped_by: None,
    };
    let outcome = match resume {
        Some(ckpt) => npi::resume(&task, &ckpt, &cfg, &mut hooks),
        None => npi::train(&task, &model_cfg, &cfg, &mut hooks),
    };
    bar.finish_and_clear();
    if let Some(e) = hooks.error.take() {
        return Err(e.into());
    }
    let outcome = outcome.map_err(|e| Failure::Task(anyhow!("training failed: {e}")))?;
    let mut best = outcome.best.clone();
    best.meta.step += offset;
    dir.save(&best)?;
    let seconds = hooks.start.elapsed().as_secs_f64();
    let why = match (outcome.stop, hooks.stopped_by) {
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
        dir.file(synth::rundir::WEIGHTS).display()
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
    write_training_plots(&dir, &hooks.losses, &hooks.validations, offset)?;
    if hooks.stopped_by == Some("interrupted") {
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
    write_accuracy_plot(&dir, &report)?;
    println!("{}", table(&report));
    eprintln!("evaluated in {eval_seconds:.1} s; plots and metrics in {}", dir.path.display());
    Ok(())
}

fn write_training_plots(dir: &RunDir, losses: &[(f64, f64)], validations: &[ValidationReport], offset: u64) -> Result<(), Failure> {
    let loss = plot::svg(
        &Chart { title: "training loss", x_label: "step", y_label: "loss (mean over 10 steps)", log_x: false, y_range: None },
        &[Series { name: "loss", points: losses.to_vec() }],
    );
    dir.write("loss.svg", loss.as_bytes())?;
    let mut sizes: Vec<usize> = validations.iter().flat_map(|v| v.scores.iter().map(|s| s.size)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let names: Vec<String> = sizes.iter().map(|s| format!("closed loop, n={s}")).collect();
    let mut series: Vec<Series> = sizes
        .iter()
        .zip(&names)
        .map(|(&size, name)| Series {
            name,
            points: validations
                .iter()
                .filter_map(|v| {
                    v.scores.iter().find(|s| s.size == size).map(|s| ((v.step + offset) as f64, s.exact as f64 / s.count.max(1) as f64))
                })
                .collect(),
        })
        .collect();
    series.push(Series {
        name: "frames right (teacher forced)",
        points: validations.iter().map(|v| ((v.step + offset) as f64, v.frame_accuracy)).collect(),
    });
    let acc = plot::svg(
        &Chart { title: "validation", x_label: "step", y_label: "accuracy", log_x: false, y_range: Some((0.0, 1.0)) },
        &series,
    );
    dir.write("validation.svg", acc.as_bytes())?;
    Ok(())
}

fn write_accuracy_plot(dir: &RunDir, report: &EvalReport) -> Result<(), Failure> {
    let svg = plot::svg(
        &Chart { title: &format!("{}: exact match against input size", report.task), x_label: "input size", y_label: "exact match", log_x: true, y_range: Some((0.0, 1.0)) },
        &[Series { name: &report.learner, points: report.results.iter().map(|r| (r.size as f64, r.accuracy)).collect() }],
    );
    dir.write("accuracy.svg", svg.as_bytes())?;
    Ok(())
}

/// The generalisation table.
fn table(report: &EvalReport) -> String {
    let mut out = format!("{:>8}  {:>7}  {:>9}  {:>12}\n", "size", "exact", "accuracy", "mean steps");
    for r in &report.results {
        out.push_str(&format!(
            "{:>8}  {:>3}/{:<3}  {:>8.1}%  {:>12.0}\n",
            r.size,
            r.exact,
            r.count,
            100.0 * r.accuracy,
            r.mean_steps
        ));
    }
    out.trim_end().to_string()
}

pub(crate) fn cmd_eval(a: EvalArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    let (_, model) = load_model(&task, &RunDir::new(&a.model))?;
    let sizes = a.sizes.clone().unwrap_or_else(|| task.learn.test_sizes.clone());
    if sizes.is_empty() {
        return Err(Failure::Task(anyhow!("no sizes to evaluate: pass --sizes or add `test sizes [...]` to the learn block")));
    }
    let engine = Engine::new(&model).map_err(|e| Failure::Task(e.into()))?;
    let report = npi::evaluate(&task, &engine, &sizes, a.count, a.seed, threads(a.threads)).map_err(|e| Failure::Task(e.into()))?;
    if a.json {
        println!("{}", serde_json::to_string(&report).expect("serialisable"));
    } else {
        println!("{}", table(&report));
    }
    Ok(())
}

pub(crate) fn cmd_run(a: RunArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    let (_, model) = load_model(&task, &RunDir::new(&a.model))?;
    let engine = Engine::new(&model).map_err(|e| Failure::Task(e.into()))?;
    let reference = task.trace(a.size, a.seed).map_err(|e| {
        eprint!("{}", e.to_diagnostic().render(&source.display, &source.text));
        Failure::Reported
    })?;
    let outcome = npi::run(&engine, &task, a.size, a.seed).map_err(|e| Failure::Task(e.into()))?;
    let model_trace = outcome.trace.as_ref().expect("run records its trace");
    let ours = body(&task.render_trace(model_trace));
    let theirs = body(&task.render_trace(&reference));
    // The two renderings align their observation columns to their own
    // deepest frame, so compare lines with the padding taken out.
    let first_diff = ours.iter().zip(&theirs).position(|(a, b)| split_line(a) != split_line(b)).or(if ours.len() != theirs.len() {
        Some(ours.len().min(theirs.len()))
    } else {
        None
    });
    println!("// the learned program on `{}`, size {}, seed {}: {} steps (the reference takes {})", task.name, a.size, a.seed, outcome.steps, reference.steps.len());
    for (i, line) in ours.iter().enumerate() {
        if Some(i) == first_diff {
            println!("{line}    <-- first difference");
            // Our observation column, for the reference line too.
            let col = line.len() - split_line(line).1.len();
            let reference = theirs.get(i).map_or("(the reference has ended)".to_string(), |l| {
                let (call, obs) = split_line(l);
                if obs.is_empty() { call.to_string() } else { format!("{call:<col$}{obs}") }
            });
            println!("{reference}    <-- the reference does this");
        } else {
            println!("{line}");
        }
    }
    if first_diff == Some(ours.len()) {
        println!("(the model has ended)    <-- first difference");
        println!("{}    <-- the reference does this", theirs[ours.len()]);
    }
    match (&outcome.failure, outcome.correct) {
        (_, true) => println!("// result: `expect` holds{}", if first_diff.is_none() { "; the trace matches the reference step for step" } else { "" }),
        (Some(f), false) => println!("// result: failed ({})", describe(f)),
        (None, false) => println!("// result: `expect` does not hold"),
    }
    Ok(())
}

fn describe(f: &npi::Failure) -> String {
    match f {
        npi::Failure::Wrong => "the program returned but `expect` does not hold".into(),
        npi::Failure::StepLimit => "the step limit was reached".into(),
        npi::Failure::DepthLimit => "the call-depth limit was reached".into(),
        npi::Failure::World(m) => format!("the world refused an action: {m}"),
    }
}

/// A rendered trace without its `//` header lines.
/// A trace line's call (with its indentation) and its observation, without
/// the padding between them.
fn split_line(line: &str) -> (&str, &str) {
    let indent = line.len() - line.trim_start().len();
    match line[indent..].find("  ") {
        Some(k) => (&line[..indent + k], line[indent + k..].trim_start()),
        None => (line.trim_end(), ""),
    }
}

fn body(text: &str) -> Vec<String> {
    text.lines().filter(|l| !l.starts_with("//")).map(str::to_string).collect()
}
