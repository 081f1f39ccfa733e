//! `synth learn A B ...` and `synth learn A --from DIR [--freeze core]`: one
//! NPI for several tasks (`synth_runtime::npi::suite`). The run directory
//! holds the whole model; `synth eval` and `synth run` take it with any
//! of its tasks.

use super::charts;
use super::eval::table;
use super::failure::Failure;
use super::interrupt::interrupt_flag;
use super::model::{refusal, threads};
use super::progress::{why_stopped, CliHooks, INTERRUPTED};
use super::rundir::{RunDir, METRICS};
use super::settings::parse_setting;
use super::task::{compile, load, TaskArg};
use anyhow::anyhow;
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use synth_compiler::Task;
use synth_runtime::npi::{self, growth_seed, Engine, SuiteJob, SuiteShape, Trainable};

/// The learning rate of a run on a frozen core where none is set: MAX on
/// the frozen add and bubble sort model is exact at step 400 with it and
/// still failing at 1,400 with the usual 1e-3.
pub const FROZEN_LR: f64 = 1e-2;

/// What `synth learn` was asked, for several tasks.
pub struct SuiteRequest<'a> {
    pub tasks: Vec<String>,
    pub from: Option<&'a Path>,
    pub freeze: bool,
    pub set: &'a [String],
    pub seed: Option<u64>,
    pub steps: Option<u64>,
    pub traces: Option<usize>,
    pub threads: Option<usize>,
    pub time: Option<u64>,
    pub out: Option<&'a Path>,
    pub force: bool,
    pub resume: bool,
    pub count: usize,
    pub quiet: bool,
    pub learner: Option<&'a str>,
}

pub fn learn(r: SuiteRequest) -> Result<(), Failure> {
    if r.resume {
        return Err(Failure::Task(anyhow!("--resume continues a model of one task; to train a model of several further, use --from DIR with another --out")));
    }
    if let Some(l) = r.learner.filter(|l| *l != "npi") {
        return Err(Failure::Task(anyhow!("a model of several tasks is an NPI; --learner {l} learns one task at a time")));
    }
    let mut tasks: Vec<(synth::Source, Task)> = Vec::new();
    for name in &r.tasks {
        let source = load(&TaskArg { task: name.clone() })?;
        let task = compile(&source)?;
        if task.learn.learner != "npi" {
            return Err(Failure::Task(anyhow!("{}: `{}` is a `{}` task; a model of several tasks is an NPI, and learns scratchpad tasks", source.display, task.name, task.learn.learner)));
        }
        if tasks.iter().any(|(_, t)| t.name == task.name) {
            return Err(Failure::Task(anyhow!("task `{}` is named twice", task.name)));
        }
        tasks.push((source, task));
    }
    // Every task's settings: its learn block, then --set, --traces, --threads.
    let mut configs = Vec::new();
    for (source, task) in &tasks {
        let mut learn = task.learn.clone();
        for s in r.set {
            let (key, value) = parse_setting(s).map_err(Failure::Usage)?;
            learn.settings.insert(key, value);
        }
        let (model, mut cfg) = npi::settings(&learn).map_err(|e| Failure::settings(&source.display, !r.set.is_empty(), e, || npi::settings(&task.learn).is_ok()))?;
        if let Some(t) = r.traces {
            cfg.traces = t;
        }
        if let Some(t) = r.threads {
            cfg.threads = t;
        }
        if cfg.traces == 0 || cfg.train_sizes.is_empty() {
            return Err(Failure::Task(anyhow!("{}: nothing to train on: the learn block needs `train sizes ...` and at least one trace", source.display)));
        }
        configs.push((model, cfg));
    }
    // The model's sizes and the loop's settings are the first task's; say so
    // where another task's learn block asks for other sizes.
    for ((source, task), (model, _)) in tasks.iter().zip(&configs).skip(1) {
        if *model != configs[0].0 && r.from.is_none() {
            eprintln!(
                "note: {}: the model's sizes are the first task's (`{}`); `{}`'s learn block asks for others, which a model of several tasks cannot have",
                source.display, tasks[0].1.name, task.name
            );
        }
    }
    let mut cfg = configs[0].1.clone();
    if let Some(s) = r.seed {
        cfg.seed = s;
    }
    if let Some(s) = r.steps {
        cfg.steps = s;
    }
    // On a frozen core a few rows of the program memory train, from far
    // away: ten times the usual rate, unless the learn block or --set says.
    let lr_set = tasks[0].1.learn.settings.contains_key("lr") || r.set.iter().filter_map(|s| parse_setting(s).ok()).any(|(k, _)| k == "lr");
    if r.freeze && !lr_set {
        cfg.lr = FROZEN_LR;
    }
    let budget = r.time.or(tasks[0].1.learn.time);

    // The model: a fresh one, or the one in --from with the new tasks added.
    let (base, suite, trainable, trained) = match r.from {
        None => {
            let envs: Vec<&Task> = tasks.iter().map(|(_, t)| t).collect();
            let suite = npi::new_suite(&envs, &configs[0].0, cfg.seed).map_err(|e| Failure::Task(anyhow!("{e}")))?;
            (None, suite, Trainable::All, Vec::new())
        }
        Some(path) => {
            let dir = RunDir::new(path);
            if !dir.is_suite()? {
                return Err(Failure::Task(anyhow!(
                    "`{}` holds a model of one task; --from takes a model of several (trained with `synth learn TASK TASK...`)",
                    path.display()
                )));
            }
            let ckpt = dir.load_suite()?;
            let base = ckpt.suite().map_err(|e| refusal(&dir, &e))?;
            let mut shape: SuiteShape = base.shape.clone();
            for (_, task) in &tasks {
                if shape.task(&task.name).is_some() {
                    if r.freeze {
                        return Err(Failure::Task(anyhow!(
                            "`{}` is in `{}` already: --freeze core trains only tasks the model does not have",
                            task.name,
                            path.display()
                        )));
                    }
                    // Trained again: its source must be the one the model knows.
                    ckpt.task(task).map_err(|e| refusal(&dir, &e))?;
                } else {
                    let grown = if r.freeze { shape.with_own_keys(task, &base.config) } else { shape.with(task, &base.config) };
                    shape = grown.map_err(|e| Failure::Task(anyhow!("{e}")))?;
                }
            }
            let grown = base.grown(&shape, growth_seed(cfg.seed, base.shape.tasks.len())).map_err(|e| Failure::Task(e.into()))?;
            let trainable = if r.freeze { Trainable::new_in(&base.shape) } else { Trainable::All };
            (Some(base), grown, trainable, ckpt.meta.trained.clone())
        }
    };
    for ((source, task), (_, task_cfg)) in tasks.iter().zip(&configs) {
        super::machine::check_training(task, &suite.config, task_cfg).map_err(|e| Failure::Task(anyhow!("{}: {e}", source.display)))?;
    }
    let names: Vec<&str> = tasks.iter().map(|(_, t)| t.name.as_str()).collect();
    let dir = RunDir::new(r.out.map(PathBuf::from).unwrap_or_else(|| PathBuf::from("runs").join(names.join("+"))));
    if r.from.is_some_and(|f| same_dir(f, &dir.path)) {
        return Err(Failure::Task(anyhow!("--out must differ from --from: the model in `{}` is the starting point and stays as it is", dir.path.display())));
    }
    if dir.has_model() && !r.force {
        return Err(Failure::Task(anyhow!("`{}` already holds a trained model; pass --force to replace it, or --out DIR", dir.path.display())));
    }
    dir.create()?;
    let _ = std::fs::remove_file(dir.file(METRICS));

    let shape = &suite.shape;
    let new_programs = match trainable {
        Trainable::New { programs, .. } => shape.programs[programs..].iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "),
        Trainable::All => String::new(),
    };
    eprintln!(
        "training one npi on {}: {} programs ({} shared), {} encoder{}, at most {} steps{}, seed {}; writing to {}",
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
        shape.programs.len(),
        shape.tasks.iter().map(|t| t.programs.len()).sum::<usize>() - shape.programs.len(),
        shape.worlds.len(),
        if shape.worlds.len() == 1 { "" } else { "s" },
        cfg.steps,
        budget.map(|b| format!(" or {b} s")).unwrap_or_default(),
        cfg.seed,
        dir.path.display()
    );
    if let Some(base) = &base {
        let old: Vec<&str> = base.shape.task_names();
        if r.freeze {
            eprintln!("the model's tasks {} stay frozen; training only {new_programs}, learning rate {}", old.join(", "), cfg.lr);
        } else {
            eprintln!("starting from the weights of {} in {}", old.join(", "), r.from.unwrap().display());
        }
    }
    for ((_, task), (_, task_cfg)) in tasks.iter().zip(&configs) {
        let coverage = npi::coverage(task, &suite.config, task_cfg).map_err(|e| Failure::Task(anyhow!("generating training data: {e}")))?;
        eprintln!("{}: {} traces of sizes {:?}; {}", task.name, task_cfg.traces, task_cfg.train_sizes, synth::coverage::coverage_note(&coverage));
    }

    let jobs: Vec<SuiteJob<Task>> = tasks.iter().zip(&configs).map(|((_, t), (_, c))| SuiteJob { env: t, cfg: c.clone() }).collect();
    let bar = if r.quiet { ProgressBar::hidden() } else { ProgressBar::new(cfg.steps) };
    let mut hooks = CliHooks::new(&dir, bar.clone(), budget, interrupt_flag(), 0);
    let before = base.as_ref().map(old_weights).transpose()?;
    let outcome = npi::train_suite(suite, &jobs, trainable, &cfg, trained, &mut hooks);
    bar.finish_and_clear();
    if let Some(e) = hooks.watch.error.take() {
        return Err(e.into());
    }
    let outcome = outcome.map_err(|e| Failure::Task(anyhow!("training failed: {e}")))?;
    dir.save_parts(&outcome.best.meta, &outcome.best.weights, None)?;
    let seconds = hooks.watch.start.elapsed().as_secs_f64();
    let why = why_stopped(outcome.stop, hooks.watch.stopped_by, cfg.give_up).unwrap_or_else(|| "stopped".into());
    eprintln!("stopped after {} steps in {seconds:.1} s ({why}); best checkpoint: step {} -> {}", outcome.steps, outcome.best.meta.step, dir.path.display());
    dir.write("loss.svg", charts::loss(&hooks.losses).as_bytes())?;
    dir.write("validation.svg", charts::validation(&hooks.validations, 0).as_bytes())?;

    let trained = outcome.best.suite().map_err(|e| refusal(&dir, &e))?;
    if let (Some(before), Trainable::New { .. }) = (&before, trainable) {
        // The promise of --freeze, checked on the saved model itself.
        let after = old_weights_of(&trained, before.keys().map(String::as_str))?;
        let moved: Vec<&String> = before.iter().filter(|(t, w)| after.get(*t) != Some(*w)).map(|(t, _)| t).collect();
        if !moved.is_empty() {
            return Err(Failure::Task(anyhow!("internal error: --freeze core changed the weights of {moved:?}; please report this")));
        }
        eprintln!("the old tasks' weights are the same bits as in {}: {}", r.from.unwrap().display(), before.keys().cloned().collect::<Vec<_>>().join(", "));
    }
    if hooks.watch.stopped_by == Some(INTERRUPTED) {
        return Ok(());
    }
    let mut reports = BTreeMap::new();
    for (_, task) in &tasks {
        let top = task.learn.test_sizes.clone();
        let sizes = if top.is_empty() { vec![2 * configs[0].1.train_sizes.iter().copied().max().unwrap_or(1)] } else { top };
        let t = trained.shape.task(&task.name).expect("a trained task is in the model");
        let view = trained.view(t).map_err(|e| Failure::Task(e.into()))?;
        let engine = Engine::new(&view).map_err(|e| Failure::Task(e.into()))?;
        let report = npi::evaluate(task, &engine, &sizes, r.count, 0, threads(r.threads)).map_err(|e| Failure::Task(e.into()))?;
        println!("{}\n{}", task.name, table(&report));
        reports.insert(task.name.clone(), report);
    }
    dir.write("eval.json", serde_json::to_string_pretty(&reports).expect("serialisable").as_bytes())?;
    eprintln!("plots and metrics in {}; `synth eval TASK --model {}` evaluates any of its tasks", dir.path.display(), dir.path.display());
    Ok(())
}

/// Each task's weights in `suite` (its view written out), by task name.
fn old_weights(suite: &npi::Suite) -> Result<BTreeMap<String, Vec<u8>>, Failure> {
    old_weights_of(suite, suite.shape.task_names().into_iter())
}

fn old_weights_of<'a>(suite: &npi::Suite, tasks: impl Iterator<Item = &'a str>) -> Result<BTreeMap<String, Vec<u8>>, Failure> {
    let mut out = BTreeMap::new();
    for name in tasks {
        let t = suite.shape.task(name).ok_or_else(|| Failure::Task(anyhow!("internal error: task `{name}` left the model")))?;
        out.insert(name.to_string(), suite.task_weights(t).map_err(|e| Failure::Task(e.into()))?);
    }
    Ok(out)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
