//! The Neural Turing Machine's side of `synth learn --learner ntm` (or a
//! task whose block is `learn ntm`), `synth eval` and `synth run`: training
//! in `synth_runtime::ntm`; here the run directory, progress, Ctrl-C and
//! the time budget, the best checkpoint saved as soon as it is found, the
//! plots and the final table, shared with the seq2seq baseline.

use super::failure::Failure;
use super::interrupt::interrupt_flag;
use super::nram::LearnRequest;
use super::progress::Watch;
use super::rundir::{RunDir, RunDirError};
use super::seq2seq::{better, progress_bar, resumable, table, write_eval, PairCheckpoint, PairHooks, PairStep, TrainingEnd};
use anyhow::anyhow;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;
use synth_compiler::{SettingValue, Task};
use synth_runtime::ntm::{self, Checkpoint, StepReport};

impl PairStep for StepReport {
    fn seed(&self) -> u64 {
        self.seed
    }
    fn step(&self) -> u64 {
        self.step
    }
    fn loss(&self) -> f64 {
        self.loss
    }
    fn line(&self, loss: f64, seconds: f64) -> serde_json::Value {
        json!({"seed": self.seed, "step": self.step, "loss": loss, "grad_norm": self.grad_norm, "seconds": seconds})
    }
    fn message(&self, loss: f64) -> String {
        format!("seed {}  loss {loss:.4}", self.seed)
    }
}

impl PairCheckpoint for Checkpoint {
    type Rank = (bool, usize, usize, u64);
    type Config = ntm::NtmConfig;
    const NOUN: &'static str = "machine";
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

/// `settings`: the block's own when it is `learn ntm`, and `--set`.
pub fn learn(task: &Task, r: LearnRequest, settings: &BTreeMap<String, SettingValue>) -> Result<(), Failure> {
    if !task.is_tape() {
        return Err(Failure::Task(anyhow!("the NTM learns tape worlds; `{}` has a {} world (seq2seq learns any task: --learner seq2seq)", task.name, if task.is_table() { "table" } else { "scratchpad" })));
    }
    let values = synth_runtime::seq2seq::values(task, &r.learn.train_sizes).map_err(|e| Failure::Task(e.into()))?;
    // The block alone: its own settings when it is `learn ntm`, else none.
    let block_ok = || task.learn.learner != "ntm" || ntm::settings(values, &task.learn, &task.learn.settings).is_ok();
    let (model_cfg, mut cfg) = ntm::settings(values, &r.learn, settings).map_err(|e| r.settings_error(e, block_ok))?;
    r.overrides(&mut cfg.seed, &mut cfg.steps, &mut cfg.threads);
    let dir = RunDir::new(r.out);
    // `--resume` continues the kept machine: its seed, from its step and
    // optimiser state, for at most `steps` more steps.
    let resumed = resumable(&r, &dir, &model_cfg, || Ok(synth::trained::ntm_machine(task, &dir)?.0))?;
    if let Some(c) = &resumed {
        cfg.seed = c.meta.seed;
        cfg.seeds = 1;
    }
    r.prepare(task, &dir, &cfg.train_sizes, cfg.seed, resumed.is_some())?;
    if let Some(c) = &resumed {
        eprintln!("resuming seed {} at step {} ({})", c.meta.seed, c.meta.step, RunDir::optimizer_words(c.optimizer.is_some()));
    }
    eprintln!(
        "training an NTM on `{}`: {} controller of {}, memory {} x {}, {} cell values, batches of {} fresh examples of sizes {}..={}, seed {}, at most {} steps{}; writing to {}",
        task.name,
        model_cfg.controller.name(),
        model_cfg.hidden,
        model_cfg.memory,
        model_cfg.width,
        model_cfg.values,
        cfg.batch,
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
            // A resumed run overwrites the saved machine only with a better one.
            hooks.keep(c.clone());
            ntm::resume(task, c, &cfg, &mut hooks)
        }
        None => ntm::train(task, &model_cfg, &cfg, &mut hooks),
    };
    bar.finish_and_clear();
    if let Some(e) = hooks.watch.error.take() {
        return Err(e.into());
    }
    let mut run = outcome.map_err(|e| Failure::Task(anyhow!("training failed: {e}")))?;
    run.best = better(resumed, run.best);
    run.best.save_to(&dir)?;
    let kept = &run.seeds[run.best_seed];
    if run.seeds.len() > 1 || cfg.seeds > 1 {
        let tried: Vec<String> = run.seeds.iter().map(|s| format!("{} {}", s.seed, if s.converged { "converged" } else { "did not" })).collect();
        eprintln!("seeds: {} ({} of {} converged); keeping seed {}", tried.join(", "), run.converged(), run.seeds.len(), kept.seed);
    }
    let end = TrainingEnd { seed: kept.seed, stop: kept.stop, steps: kept.steps, give_up: cfg.give_up, best_step: run.best.meta.step, validation: &run.best.meta.validation };
    if !end.report(&dir, &hooks)? {
        return Ok(());
    }
    let model = run.best.model().map_err(|e| Failure::Task(e.into()))?;
    let t = Instant::now();
    let report = ntm::evaluate(task, &model, &task.learn.test_sizes, r.count, 0, cfg.threads()).map_err(|e| Failure::Task(e.into()))?;
    write_eval(&dir, &report, t)
}

/// `synth eval` on an NTM checkpoint.
pub fn eval(task: &Task, dir: &RunDir, sizes: &[usize], count: usize, seed: u64, json: bool, threads: usize) -> Result<(), Failure> {
    let (_, machine) = synth::trained::ntm_machine(task, dir)?;
    let report = ntm::evaluate(task, &machine, sizes, count, seed, threads).map_err(|e| Failure::Task(e.into()))?;
    if json {
        println!("{}", serde_json::to_string(&report).expect("serialisable"));
    } else {
        println!("{}", table(&report));
    }
    Ok(())
}

/// `synth run` on an NTM checkpoint: the input tape, the machine's final
/// tape beside the reference's, graded cells marked.
pub fn run(task: &Task, dir: &RunDir, size: usize, seed: u64) -> Result<(), Failure> {
    let (_, machine) = synth::trained::ntm_machine(task, dir)?;
    let e = task.tape_example(size, seed).map_err(|e| Failure::Task(anyhow!("{e}")))?;
    let mut episode = ntm::model::Episode::default();
    let out = ntm::eval::output(&machine, &e, &mut episode);
    let seq = ntm::data::encode(&machine.config, &e);
    let steps = seq.tokens.len();
    println!("// NTM in `{}` on `{}`, size {size}, seed {seed}: {} input steps (the tape to its last nonzero cell), a delimiter, {} answer steps; {} memory locations", dir.path.display(), task.name, steps - 1 - e.graded.len(), e.graded.len(), machine.locations(steps));
    println!("// per step: the input, where each head looks (its most weighted location and that weight), the answer");
    println!("{:>5}  {:>9}  {:>13}  {:>13}  {:>6}", "step", "input", "read head", "write head", "answer");
    let mut answers = e.graded.iter().zip(e.graded.iter().map(|&g| out[g as usize]));
    for (t, (token, [read, write])) in seq.tokens.iter().zip(episode.focus()).enumerate() {
        let input = match *token {
            v if v < machine.config.values => v.to_string(),
            v if v == machine.config.values => "delimiter".into(),
            _ => "answer".into(),
        };
        let answer = if *token == machine.config.values + 1 { answers.next().map(|(g, v)| format!("{v} (cell {g})")).unwrap_or_default() } else { String::new() };
        println!("{t:>5}  {input:>9}  {:>5} ({:.2})  {:>6} ({:.2})  {answer}", read.location, read.weight, write.location, write.weight);
    }
    println!("// the final tape");
    super::seq2seq::print_tape(&e, &out);
    Ok(())
}
