//! The Neural Random-Access Machine's side of `synth learn`, `synth eval`,
//! `synth run`, `synth extract` and `synth graph --model`, for tasks whose
//! world is a tape. Training itself is
//! `synth_runtime::nram::train`; this module adds the terminal, the clock
//! and the disk as [`super::learn`] does for NPI: settings from the command
//! line, the run directory, progress, Ctrl-C and the time budget, the best
//! checkpoint saved as soon as it is found, the plots and the final table.

use super::charts;
use super::failure::Failure;
use super::interrupt::interrupt_flag;
use super::progress::{why_stopped, Watch, INTERRUPTED};
use super::rundir::{self, RunDir, RunDirError};
use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use synth_compiler::{LearnSpec, Task};
use synth_runtime::nram::circuit::{CircuitError, CircuitTable, Inputs, Source};
use synth_runtime::nram::{self, Checkpoint, Control, EvalReport, Module, StepReport, TraceStep, TrainConfig, Hooks, ValidationReport};

use synth::trained::FUZZY_CELLS;

/// What `synth learn` was asked, as far as NRAM reads it.
pub struct LearnRequest<'a> {
    pub task_arg: &'a str,
    pub display: &'a str,
    pub learn: LearnSpec,
    pub from_set: bool,
    pub seed: Option<u64>,
    pub steps: Option<u64>,
    pub threads: Option<usize>,
    pub time: Option<u64>,
    pub out: &'a Path,
    pub resume: bool,
    pub force: bool,
    pub count: usize,
    pub quiet: bool,
}

impl LearnRequest<'_> {
    /// A learner's settings error, placed where the settings came from
    /// ([`Failure::settings`]); `block_ok` says whether the `learn` block
    /// alone is fine.
    pub fn settings_error(&self, e: impl std::fmt::Display, block_ok: impl FnOnce() -> bool) -> Failure {
        Failure::settings(self.display, self.from_set, e, block_ok)
    }

    /// The command line's `--seed`, `--steps` and `--threads` over the
    /// `learn` block's.
    pub fn overrides(&self, seed: &mut u64, steps: &mut u64, threads: &mut usize) {
        if let Some(s) = self.seed {
            *seed = s;
        }
        if let Some(s) = self.steps {
            *steps = s;
        }
        if let Some(t) = self.threads {
            *threads = t;
        }
    }

    /// Whether training resumes the model in `dir`: refuses `--resume`
    /// without a model there, and a model there without `--resume` or
    /// `--force`.
    pub fn claim(&self, dir: &RunDir) -> Result<bool, Failure> {
        match (self.resume, dir.has_model()) {
            (true, false) => Err(Failure::Task(anyhow!("nothing to resume: `{}` holds no model", dir.path.display()))),
            (false, true) if !self.force => Err(Failure::Task(anyhow!(
                "`{}` already holds a trained model; pass --resume to continue training it, --force to replace it, or --out DIR",
                dir.path.display()
            ))),
            (resume, _) => Ok(resume),
        }
    }

    /// Runs the task once at every training size before anything is
    /// written (a task that cannot produce its data fails here, with the
    /// files untouched), then creates `dir`, emptying the metrics log of a
    /// run that does not resume.
    pub fn prepare(&self, task: &Task, dir: &RunDir, sizes: &[usize], seed: u64, resuming: bool) -> Result<(), Failure> {
        let what = if task.is_table() { "questions" } else { "examples" };
        for &size in sizes {
            task.run_reference(size, seed).map_err(|e| Failure::Task(anyhow!("generating {what}: {e}")))?;
        }
        dir.create()?;
        if !resuming {
            let _ = std::fs::remove_file(dir.file(rundir::METRICS));
        }
        Ok(())
    }
}

pub fn learn(task: &Task, r: LearnRequest) -> Result<(), Failure> {
    let (model_cfg, mut cfg) = nram::settings(task, &r.learn).map_err(|e| r.settings_error(e, || nram::settings(task, &task.learn).is_ok()))?;
    r.overrides(&mut cfg.seed, &mut cfg.steps, &mut cfg.threads);
    let dir = RunDir::new(r.out);
    // `--resume` continues the kept machine: one seed, from its saved
    // parameters, step and curriculum level, for at most `steps` more steps.
    let resumed = if r.claim(&dir)? {
        let (mut ckpt, _) = load(task, &dir)?;
        ckpt.optimizer = dir.optimizer()?;
        ckpt.check_config(&model_cfg).map_err(|e| Failure::Task(anyhow!("cannot resume `{}`: {e}", dir.path.display())))?;
        cfg.seed = ckpt.meta.seed;
        cfg.seeds = 1;
        Some(ckpt)
    } else {
        None
    };
    r.prepare(task, &dir, &cfg.train_sizes, cfg.seed, resumed.is_some())?;
    let sizes = &cfg.train_sizes;
    eprintln!(
        "{} nram on `{}`: {}{}, sizes {}..={}, {} seed{} from {}, at most {} steps each{}; writing to {}",
        match &resumed {
            Some(c) => format!("resuming (seed {}, step {}, level {}, {})", c.meta.seed, c.meta.step, c.meta.level + 1, RunDir::optimizer_words(c.optimizer.is_some())),
            None => "training".to_string(),
        },
        task.name,
        nram::checkpoint::describe(&model_cfg),
        match (&cfg.start, &resumed) {
            (Some(_), None) => format!(", started next to the `start` circuit (logit {})", cfg.start_logit),
            _ => String::new(),
        },
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        cfg.seeds,
        if cfg.seeds == 1 { "" } else { "s" },
        cfg.seed,
        cfg.steps,
        r.time.map(|b| format!(" or {b} s")).unwrap_or_default(),
        dir.path.display()
    );
    let total = cfg.steps * cfg.seeds as u64;
    let bar = if r.quiet { ProgressBar::hidden() } else { ProgressBar::new(total) };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps  {msg}").expect("valid template").progress_chars("=> "),
    );
    let mut hooks = NramHooks::new(&dir, bar.clone(), r.time, interrupt_flag(), &cfg);
    // A resumed run overwrites the saved machine only with a better one.
    hooks.saved = resumed.as_ref().map(Checkpoint::rank);
    let outcome = match &resumed {
        Some(c) => nram::resume(task, c, &cfg, &mut hooks),
        None => nram::train(task, &model_cfg, &cfg, &mut hooks),
    };
    bar.finish_and_clear();
    if let Some(e) = hooks.watch.error.take() {
        return Err(e.into());
    }
    let outcome = outcome.map_err(|e| Failure::Task(anyhow!("training failed: {e}")))?;
    // A resumed run keeps the machine it started from unless it found a
    // better one (converged first, then fewer wrong cells).
    let best = match &resumed {
        Some(old) if old.rank() <= outcome.best.rank() => old,
        _ => &outcome.best,
    };
    save(&dir, best)?;
    let seconds = hooks.watch.start.elapsed().as_secs_f64();
    for s in &outcome.seeds {
        let why = why_stopped(s.stop, hooks.watch.stopped_by, cfg.give_up).unwrap_or_else(|| {
            if outcome.enough {
                format!("stopped: {} seed{} converged, `enough {}`", cfg.enough, if cfg.enough == 1 { "" } else { "s" }, cfg.enough)
            } else {
                "stopped".into()
            }
        });
        let wrong: usize = s.best.meta.validation.iter().map(|v| v.wrong).sum();
        let graded: usize = s.best.meta.validation.iter().map(|v| v.graded).sum();
        // A fuzzy machine can be right where its discrete circuit is not
        // (the paper's hard tasks): say which, so that "0 wrong" next to
        // "did not converge" explains itself.
        let discrete: usize = s.best.meta.validation.iter().map(|v| v.discrete_wrong).sum();
        eprintln!(
            "  seed {}: {} after {} steps ({why}); best at step {}: level {}/{}, {wrong}/{graded} graded cells wrong (discrete {discrete}/{graded})",
            s.seed,
            if s.converged { "converged" } else { "did not converge" },
            s.steps,
            s.best.meta.step,
            s.best.meta.level + 1,
            cfg.train_sizes.len(),
        );
    }
    eprintln!(
        "{} of {} seed{} converged in {seconds:.1} s{}; kept seed {} (step {}) -> {}",
        outcome.converged(),
        outcome.seeds.len(),
        if outcome.seeds.len() == 1 { "" } else { "s" },
        match cfg.seeds.saturating_sub(outcome.seeds.len()) {
            0 => String::new(),
            k if outcome.enough => format!(" ({k} more not started: `enough {}` had converged; `--set enough=0` trains them all)", cfg.enough),
            k => format!(" ({k} more not started)"),
        },
        best.meta.seed,
        best.meta.step,
        dir.file(rundir::WEIGHTS).display()
    );
    dir.write("loss.svg", charts::seed_loss(&hooks.losses).as_bytes())?;
    dir.write("validation.svg", charts::nram_validation(&hooks.validations).as_bytes())?;
    if hooks.watch.stopped_by == Some(INTERRUPTED) {
        return Ok(());
    }
    let top = cfg.train_sizes.iter().copied().max().unwrap_or(1);
    let test_sizes = if task.learn.test_sizes.is_empty() { vec![2 * top, 5 * top] } else { task.learn.test_sizes.clone() };
    let machine = best.model().map_err(|e| Failure::Task(e.into()))?;
    let t = Instant::now();
    let report = nram::evaluate(task, &machine, &test_sizes, r.count, 0, FUZZY_CELLS).map_err(|e| Failure::Task(e.into()))?;
    dir.write("eval.json", serde_json::to_string_pretty(&report).expect("serialisable").as_bytes())?;
    dir.write("accuracy.svg", charts::nram_accuracy(&report).as_bytes())?;
    println!("{}", table(&report));
    eprintln!("evaluated in {:.1} s; plots and metrics in {} (`synth run {} --model {}` shows the machine at work)", t.elapsed().as_secs_f64(), dir.path.display(), r.task_arg, dir.path.display());
    Ok(())
}

fn save(dir: &RunDir, c: &Checkpoint) -> Result<(), RunDirError> {
    dir.save_parts(&c.meta, &c.weights, c.optimizer.as_deref())
}

/// The NRAM checkpoint in `dir`, checked against `task`, and its machine.
pub fn load(task: &Task, dir: &RunDir) -> Result<(Checkpoint, nram::Nram), Failure> {
    Ok(synth::trained::nram_machine(task, dir)?)
}

/// The NRAM checkpoint in `dir`, checked against `task`, its machine, and
/// the machine's circuit table (its discrete program): refused by name
/// when `dir` holds another learner's checkpoint or a controller that is
/// not an MLP.
pub fn load_program(task: &Task, dir: &RunDir) -> Result<(Checkpoint, nram::Nram, CircuitTable), Failure> {
    let learner = dir.learner()?;
    if learner != "nram" {
        return Err(Failure::Task(anyhow!(
            "`{}` holds a checkpoint of the {learner} learner; only a trained NRAM (a tape task's `synth learn`) has a discrete program to show",
            dir.path.display()
        )));
    }
    let controller = dir.controller()?;
    if controller != "mlp" {
        let e = CircuitError::Controller { found: controller };
        return Err(Failure::Task(anyhow!("cannot use `{}`: {e}", dir.path.display())));
    }
    let (ckpt, machine) = load(task, dir)?;
    let table = CircuitTable::new(&machine).map_err(|e| Failure::Task(anyhow!("cannot use `{}`: {e}", dir.path.display())))?;
    Ok((ckpt, machine, table))
}

/// Where a machine comes from, for what `extract` and `graph` print: `the
/// NRAM in `runs/access` (seed 1, step 1400, converged)`.
pub fn about(dir: &RunDir, ckpt: &Checkpoint) -> String {
    let m = &ckpt.meta;
    format!("the NRAM in `{}` (seed {}, step {}, {})", dir.path.display(), m.seed, m.step, if m.converged { "converged" } else { "not converged" })
}

/// The generalisation table: per size, the fuzzy machine (where it was
/// scored) and the discrete one.
pub fn table(report: &EvalReport) -> String {
    let mut out = format!("{:>7}  {:>6}  {:>13}  {:>12}  {:>16}  {:>15}\n", "size", "cells", "fuzzy error", "fuzzy exact", "discrete error", "discrete exact");
    for r in &report.results {
        let pct = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}%", 100.0 * x));
        out.push_str(&format!(
            "{:>7}  {:>6}  {:>13}  {:>12}  {:>16}  {:>15}\n",
            r.size,
            r.cells,
            pct(r.fuzzy_error),
            pct(r.fuzzy_accuracy),
            pct(Some(r.discrete_error)),
            pct(Some(r.discrete_accuracy)),
        ));
    }
    out.trim_end().to_string()
}

/// `synth eval` on an NRAM checkpoint.
pub fn eval(task: &Task, dir: &RunDir, sizes: &[usize], count: usize, seed: u64, json: bool) -> Result<(), Failure> {
    let (_, machine) = load(task, dir)?;
    let report = nram::evaluate(task, &machine, sizes, count, seed, FUZZY_CELLS).map_err(|e| Failure::Task(e.into()))?;
    if json {
        println!("{}", serde_json::to_string(&report).expect("serialisable"));
    } else {
        println!("{}", table(&report));
    }
    Ok(())
}

/// Timesteps `synth run` shows in full; a longer run shows its first
/// [`HEAD`] and last [`TAIL`] timesteps.
const SHOWN: usize = 40;
const HEAD: usize = 20;
const TAIL: usize = 10;

/// `synth run` on an NRAM checkpoint: the discrete machine on one input,
/// timestep by timestep (its registers, the branch their zero pattern
/// takes, every live module with its inputs and output, the register
/// updates, halting), then its final tape beside the reference's, graded
/// cells that differ marked.
pub fn run(task: &Task, dir: &RunDir, size: usize, seed: u64) -> Result<(), Failure> {
    let (_, machine) = load(task, dir)?;
    let e = task.nram_example(size, seed).map_err(|e| Failure::Task(anyhow!("{e}")))?;
    let (out, trace) = nram::Runner::new().run_traced(&machine, &e).map_err(|e| Failure::Task(anyhow!("{e}")))?;
    let halted = trace.last().is_some_and(|s| s.halt);
    let ran = if halted { format!("halted after {} of {} timesteps", out.steps, e.timesteps) } else { format!("ran all {} timesteps without halting", e.timesteps) };
    println!("// the learned machine (discrete) on `{}`, size {size}, seed {seed}: {} cells, {ran}", task.name, e.cells);
    match CircuitTable::new(&machine) {
        Ok(table) => {
            println!("// per timestep: the registers, the branch their zero pattern takes (as in `synth graph --model`), each live module's inputs and output, the new registers");
            print!("{}", timesteps(Some(&table), &machine.layout.modules, &trace));
        }
        Err(_) => {
            println!("// per timestep: the registers, each live module's inputs and output, the new registers (the `{}` controller remembers: the same zero pattern can take other circuits at other timesteps)", machine.config.controller.name());
            print!("{}", timesteps(None, &machine.layout.modules, &trace));
        }
    }
    println!("// the final tape");
    println!("{:>6}  {:>6}  {:>8}  {:>9}", "cell", "input", "machine", "reference");
    let mut wrong = 0;
    for (i, ((&input, &got), &want)) in e.input.iter().zip(&out.tape).zip(&e.output).enumerate() {
        let graded = e.graded.binary_search(&(i as u32)).is_ok();
        let mark = match (graded, got == want) {
            (true, true) => "  graded",
            (true, false) => {
                wrong += 1;
                "  graded, WRONG"
            }
            (false, _) => "",
        };
        println!("{i:>6}  {input:>6}  {got:>8}  {want:>9}{mark}");
    }
    if wrong == 0 {
        println!("// result: every graded cell ({}) holds the reference's value", e.graded.len());
    } else {
        println!("// result: {wrong} of {} graded cells wrong", e.graded.len());
    }
    Ok(())
}

/// The timesteps of a traced run, the middle of a long one elided.
fn timesteps(table: Option<&CircuitTable>, modules: &[Module], trace: &[TraceStep]) -> String {
    let mut out = String::new();
    let n = trace.len();
    for (t, step) in trace.iter().enumerate() {
        if n > SHOWN && t == HEAD {
            out.push_str(&format!("... {} timesteps elided ({} to {}) ...\n", n - HEAD - TAIL, HEAD + 1, n - TAIL));
        }
        if n > SHOWN && (HEAD..n - TAIL).contains(&t) {
            continue;
        }
        out.push_str(&timestep(table, modules, t + 1, step));
    }
    out
}

/// One timestep: `timestep 2: r0=4 r1=0 -> branch 0` (the branch when the
/// machine has a circuit table), then a line per live module
/// (`read0(r0=4) = 9`, `write13(r1=0, read0=9): mem[0] = 9`), the
/// registers' new values and `halt`.
fn timestep(table: Option<&CircuitTable>, modules: &[Module], t: usize, step: &TraceStep) -> String {
    let regs = |v: &[u32]| v.iter().enumerate().map(|(i, x)| format!("r{i}={x}")).collect::<Vec<_>>().join(" ");
    let c = &step.circuit;
    let branch = table.map(|table| format!(" -> branch {}", table.branch_of(CircuitTable::pattern(&step.registers)))).unwrap_or_default();
    let mut out = format!("timestep {t}: {}{branch}\n", regs(&step.registers));
    let value = |s: Source| s.value(&step.registers, &step.outputs);
    let arg = |s: Source| format!("{}={}", s.name(modules), value(s));
    for (k, Inputs { a, b }) in c.live() {
        let args: Vec<String> = a.into_iter().chain(b).map(arg).collect();
        let name = nram::circuit::module_name(modules, k);
        let line = match (modules[k], a, b) {
            (Module::Write, Some(a), Some(b)) => format!("{name}({}): mem[{}] = {}", args.join(", "), value(a), value(b)),
            _ => format!("{name}({}) = {}", args.join(", "), step.outputs[k]),
        };
        out.push_str(&format!("  {line}\n"));
    }
    let updates: Vec<String> = CircuitTable::updates(c).map(|(i, s)| format!("r{i} := {} = {}", s.name(modules), step.next[i])).collect();
    if !updates.is_empty() {
        out.push_str(&format!("  {}\n", updates.join(", ")));
    }
    if step.halt {
        out.push_str("  halt\n");
    }
    out
}

/// What training shows and records: a progress bar over every seed's
/// steps, `metrics.jsonl`, a line per validation, and the best checkpoint
/// of all seeds saved as soon as it is found.
struct NramHooks<'a> {
    watch: Watch<'a>,
    seeds: usize,
    /// Per seed: `(step, mean loss)` every 10 steps, and the running window.
    losses: Vec<(u64, Vec<(f64, f64)>)>,
    windows: Vec<(f64, usize)>,
    validations: Vec<ValidationReport>,
    /// The rank of the checkpoint on disk: not converged, then wrong cells.
    saved: Option<(bool, usize)>,
}

impl<'a> NramHooks<'a> {
    fn new(dir: &'a RunDir, bar: ProgressBar, budget: Option<u64>, interrupted: Arc<AtomicBool>, cfg: &TrainConfig) -> NramHooks<'a> {
        let seeds = cfg.seeds.max(1);
        NramHooks {
            watch: Watch::new(dir, bar, budget, interrupted),
            seeds,
            losses: (0..seeds as u64).map(|k| (cfg.seed.wrapping_add(k), Vec::new())).collect(),
            windows: vec![(0.0, 0); seeds],
            validations: Vec::new(),
            saved: None,
        }
    }

    fn slot(&self, seed: u64) -> usize {
        self.losses.iter().position(|(s, _)| *s == seed).unwrap_or(0)
    }

}

impl Hooks<StepReport, ValidationReport, Checkpoint> for NramHooks<'_> {
    fn on_step(&mut self, r: &StepReport) -> Control {
        self.watch.bar.inc(1);
        let k = self.slot(r.seed);
        let w = &mut self.windows[k];
        *w = (w.0 + r.loss, w.1 + 1);
        if r.step.is_multiple_of(10) {
            let mean = w.0 / w.1.max(1) as f64;
            *w = (0.0, 0);
            self.losses[k].1.push((r.step as f64, mean));
            if self.seeds == 1 {
                self.watch.bar.set_message(format!("loss {mean:.4}  level {}", r.level + 1));
            }
            let line = json!({"seed": r.seed, "step": r.step, "loss": mean, "entropy": r.entropy, "error": r.error, "grad_norm": r.grad_norm, "level": r.level, "seconds": self.watch.seconds()});
            if let Err(e) = self.watch.dir.log(&line) {
                return self.watch.fail(e);
            }
        }
        self.watch.check()
    }

    fn on_validation(&mut self, r: &ValidationReport, best: &Checkpoint) -> Control {
        let exact: usize = r.scores.iter().map(|s| s.exact).sum();
        let count: usize = r.scores.iter().map(|s| s.count).sum();
        let discrete: usize = r.scores.iter().map(|s| s.discrete_exact).sum();
        let text = format!(
            "{:>7.1}s  seed {}  step {:>6}  level {:>2}/{}  loss {:.4}  error {:>5.1}%  exact {exact}/{count}, discrete {discrete}/{count}{}{}",
            self.watch.seconds(),
            r.seed,
            r.step,
            r.level + 1,
            r.scores.len(),
            r.loss,
            100.0 * r.error(),
            if r.converged { "  converged" } else { "" },
            if r.improved { "  (best of seed)" } else { "" },
        );
        self.watch.say(text);
        let mut line = serde_json::to_value(r).expect("serialisable");
        line["seconds"] = json!(self.watch.seconds());
        if let Err(e) = self.watch.dir.log(&json!({"validation": line})) {
            return self.watch.fail(e);
        }
        self.validations.push(r.clone());
        if r.improved {
            let rank = best.rank();
            if self.saved.is_none_or(|s| rank < s) {
                self.saved = Some(rank);
                if let Err(e) = save(self.watch.dir, best) {
                    return self.watch.fail(e);
                }
            }
        }
        Control::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synth_compiler::TapeExample;
    use synth_runtime::nram::{Nram, NramConfig, Runner};

    /// A long run shows its first and last timesteps; a short one all.
    #[test]
    fn long_runs_show_their_first_and_last_timesteps() {
        let config = NramConfig { registers: 1, hidden: 2, modules: vec![Module::Inc], ..NramConfig::default() };
        let mut nram = Nram::new(&config, 0);
        nram.params.fill(0.0);
        // Every logit 0 (the first choice) but r0's choice of inc0: r0 counts up.
        let l = nram.layout.clone();
        nram.params[l.b3 + l.c + 1] = 1.0;
        let table = CircuitTable::new(&nram).unwrap();
        let e = TapeExample { size: 1, seed: 0, cells: 1000, timesteps: 100, input: vec![0; 1000], output: vec![0; 1000], graded: vec![] };
        let (_, trace) = Runner::new().run_traced(&nram, &e).unwrap();
        let text = timesteps(Some(&table), &l.modules, &trace);
        assert!(text.starts_with("timestep 1: r0=0 -> branch 0\n  inc0(r0=0) = 1\n  r0 := inc0 = 1\ntimestep 2: r0=1 -> branch 0\n"), "{text}");
        assert!(text.contains("timestep 20: ") && !text.contains("timestep 21: "), "{text}");
        assert!(text.contains("... 70 timesteps elided (21 to 90) ...\ntimestep 91: r0=90 -> branch 0\n"), "{text}");
        assert_eq!(text.lines().filter(|l| l.starts_with("timestep")).count(), 30);
        assert_eq!(timesteps(Some(&table), &l.modules, &trace[..SHOWN]).lines().filter(|l| l.starts_with("timestep")).count(), SHOWN);
        // Without a circuit table (a recurrent controller) the same lines, no branch.
        let text = timesteps(None, &l.modules, &trace);
        assert!(text.starts_with("timestep 1: r0=0\n  inc0(r0=0) = 1\n  r0 := inc0 = 1\ntimestep 2: r0=1\n"), "{text}");
    }
}
