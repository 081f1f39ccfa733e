//! The Neural Programmer's side of `synth learn`, `synth eval`, `synth run`
//! and `synth ask`, for tasks whose world is a table. Training itself is
//! `synth_runtime::np::train`; this module adds the terminal, the clock
//! and the disk as [`super::nram`] does for NRAM: the run directory,
//! progress, Ctrl-C and the time budget, the best checkpoint saved as soon
//! as it is found, the plots and the final tables.

use super::charts;
use super::failure::Failure;
use super::interrupt::interrupt_flag;
use super::nram::LearnRequest;
use super::progress::{why_stopped, Watch, INTERRUPTED};
use super::rundir::{self, RunDir, RunDirError};
use super::task::{compile, load, TaskArg};
use anyhow::anyhow;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use synth_compiler::{table, Answer, Cell, LatentStep, TableColumn, TableExample, Task};
use synth_runtime::np::{self, data::UNK, Checkpoint, Control, EvalReport, Hooks, StepReport, TrainHooks, ValidationReport};

pub fn learn(task: &Task, r: LearnRequest) -> Result<(), Failure> {
    let (model_cfg, mut cfg) = np::settings(task, &r.learn).map_err(|e| r.settings_error(e, || np::settings(task, &task.learn).is_ok()))?;
    r.overrides(&mut cfg.seed, &mut cfg.steps, &mut cfg.threads);
    let dir = RunDir::new(r.out);
    // `--resume` continues the kept model: its seed, from its parameters
    // and step, for at most `steps` more steps.
    let resumed = if r.claim(&dir)? {
        let (mut ckpt, _) = load_checkpoint(task, &dir)?;
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
        "{} np on `{}`: {} steps of hidden {}, {} questions of {}..={} rows, {} seed{} from {}, at most {} steps each{}; writing to {}",
        match &resumed {
            Some(c) => format!("resuming (seed {}, step {}, {})", c.meta.seed, c.meta.step, RunDir::optimizer_words(c.optimizer.is_some())),
            None => "training".to_string(),
        },
        task.name,
        model_cfg.timesteps,
        model_cfg.hidden,
        cfg.questions,
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        cfg.seeds,
        if cfg.seeds == 1 { "" } else { "s" },
        cfg.seed,
        cfg.steps,
        r.time.map(|b| format!(" or {b} s")).unwrap_or_default(),
        dir.path.display()
    );
    let bar = if r.quiet { ProgressBar::hidden() } else { ProgressBar::new(cfg.steps * cfg.seeds as u64) };
    bar.set_style(ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps  {msg}").expect("valid template").progress_chars("=> "));
    let mut hooks = NpHooks::new(&dir, bar.clone(), r.time, interrupt_flag());
    hooks.saved = resumed.as_ref().map(Checkpoint::rank);
    let outcome = match &resumed {
        Some(c) => np::resume(task, c, &cfg, &mut hooks),
        None => np::train(task, &model_cfg, &cfg, &mut hooks),
    };
    bar.finish_and_clear();
    if let Some(e) = hooks.watch.error.take() {
        return Err(e.into());
    }
    let outcome = outcome.map_err(|e| Failure::Task(anyhow!("training failed: {e}")))?;
    let best = match &resumed {
        Some(old) if old.rank() <= outcome.best.rank() => old,
        _ => &outcome.best,
    };
    save(&dir, best)?;
    let seconds = hooks.watch.start.elapsed().as_secs_f64();
    for s in &outcome.seeds {
        let why = why_stopped(s.stop, hooks.watch.stopped_by, cfg.give_up).unwrap_or_else(|| "stopped".into());
        let (right, count) = (s.best.meta.validation.iter().map(|v| v.right).sum::<usize>(), s.best.meta.validation.iter().map(|v| v.count).sum::<usize>());
        eprintln!(
            "  seed {}: {} after {} steps ({why}); best at step {}: {right}/{count} validation answers right",
            s.seed,
            if s.converged { "converged" } else { "did not converge" },
            s.steps,
            s.best.meta.step,
        );
    }
    eprintln!("trained in {seconds:.1} s; kept seed {} (step {}) -> {}", best.meta.seed, best.meta.step, dir.file(rundir::WEIGHTS).display());
    dir.write("loss.svg", charts::seed_loss(&hooks.losses).as_bytes())?;
    dir.write("validation.svg", charts::np_validation(&hooks.validations).as_bytes())?;
    if hooks.watch.stopped_by == Some(INTERRUPTED) {
        return Ok(());
    }
    let top = cfg.train_sizes.iter().copied().max().unwrap_or(1);
    let test_sizes = if task.learn.test_sizes.is_empty() { vec![top, 5 * top, 20 * top] } else { task.learn.test_sizes.clone() };
    let model = best.model().map_err(|e| Failure::Task(e.into()))?;
    let t = Instant::now();
    let report = np::evaluate(task, &model, &test_sizes, r.count, 0).map_err(|e| Failure::Task(e.into()))?;
    dir.write("eval.json", serde_json::to_string_pretty(&report).expect("serialisable").as_bytes())?;
    dir.write("accuracy.svg", charts::np_accuracy(&report).as_bytes())?;
    println!("{}", tables(&report));
    eprintln!(
        "evaluated in {:.1} s; plots and metrics in {} (`synth run {} --model {}` shows an induced program, `synth ask` answers your own question)",
        t.elapsed().as_secs_f64(),
        dir.path.display(),
        r.task_arg,
        dir.path.display()
    );
    Ok(())
}

fn save(dir: &RunDir, c: &Checkpoint) -> Result<(), RunDirError> {
    dir.save_parts(&c.meta, &c.weights, c.optimizer.as_deref())
}

/// The Neural Programmer checkpoint in `dir`, checked against `task`, and
/// its model.
fn load_checkpoint(task: &Task, dir: &RunDir) -> Result<(Checkpoint, np::Np), Failure> {
    Ok(synth::trained::np_model(task, dir)?)
}

/// Answer and program accuracy per size, then per question.
pub fn tables(report: &EvalReport) -> String {
    let mut out = format!("{:>7}  {:>9}  {:>16}  {:>17}\n", "rows", "questions", "answers right", "programs right");
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    for r in &report.results {
        out.push_str(&format!("{:>7}  {:>9}  {:>16}  {:>17}\n", r.size, r.count, pct(r.accuracy), pct(r.program_accuracy)));
    }
    out.push_str(&format!("\n{:>9}  {:>16}  {:>17}  question\n", "questions", "answers right", "programs right"));
    for q in &report.questions {
        out.push_str(&format!("{:>9}  {:>16}  {:>17}  {}\n", q.count, pct(q.accuracy), pct(q.program_accuracy), q.template));
    }
    out.trim_end().to_string()
}

/// `synth eval` on a Neural Programmer checkpoint.
pub fn eval(task: &Task, dir: &RunDir, sizes: &[usize], count: usize, seed: u64, json: bool) -> Result<(), Failure> {
    let (_, model) = load_checkpoint(task, dir)?;
    let report = np::evaluate(task, &model, sizes, count, seed).map_err(|e| Failure::Task(e.into()))?;
    if json {
        println!("{}", serde_json::to_string(&report).expect("serialisable"));
    } else {
        println!("{}", tables(&report));
    }
    Ok(())
}

/// Rows of a table `run` and `ask` print in full; a longer one shows its
/// first [`HEAD`] rows.
const SHOWN_ROWS: usize = 12;
const HEAD: usize = 10;

/// The table, abridged when long.
fn show_table(columns: &[TableColumn]) -> String {
    let rows = columns.first().map_or(0, |c| c.cells.len());
    let width: Vec<usize> = columns.iter().map(|c| c.cells.iter().map(|x| x.to_string().len()).chain([c.name.len()]).max().unwrap_or(1)).collect();
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells.iter().zip(&width).map(|(c, w)| format!("{c:>w$}")).collect();
        padded.join("  ")
    };
    let mut out = format!("{:>5}  {}\n", "row", line(columns.iter().map(|c| c.name.clone()).collect()));
    let shown = if rows > SHOWN_ROWS { HEAD } else { rows };
    for i in 0..shown {
        out.push_str(&format!("{i:>5}  {}\n", line(columns.iter().map(|c| c.cells[i].to_string()).collect())));
    }
    if rows > shown {
        out.push_str(&format!("  ... {} more rows\n", rows - shown));
    }
    out
}

/// The induced program step by step, with the rows each selection holds.
fn show_program(columns: &[TableColumn], program: &[LatentStep]) -> String {
    let mut out = String::new();
    for t in 0..program.len() {
        let upto = &program[..=t];
        let step = &program[t];
        let effect = match step.op {
            synth_compiler::Op::Greater | synth_compiler::Op::Lesser | synth_compiler::Op::WordMatch | synth_compiler::Op::And | synth_compiler::Op::Or | synth_compiler::Op::Reset => {
                // The rows the selection holds: print them through a
                // program that ends by counting.
                let mut p = upto.to_vec();
                p.push(LatentStep { op: synth_compiler::Op::Count, column: None, pivot: None, pivot_token: None });
                match np::exec::run(columns, &p) {
                    Answer::Scalar { value } => format!("{value} rows selected"),
                    a => a.to_string(),
                }
            }
            _ => format!("= {}", brief(&np::exec::run(columns, upto))),
        };
        let pivot = step.pivot_token.map(|k| format!(" (question word {})", k + 1)).unwrap_or_default();
        out.push_str(&format!("  {}. {step}{pivot}: {effect}\n", t + 1));
    }
    out
}

/// Cells of a lookup answer shown before the rest is counted.
const SHOWN_CELLS: usize = 8;

/// An answer, a long lookup abridged: `b at rows [3:12, 8:40, ...] (20 cells)`.
fn brief(answer: &Answer) -> String {
    match answer {
        Answer::Lookup { column, rows, cells } if rows.len() > SHOWN_CELLS => {
            let shown: Vec<String> = rows.iter().zip(cells).take(SHOWN_CELLS).map(|(r, c)| format!("{r}:{c}")).collect();
            format!("{column} at rows [{}, ...] ({} cells)", shown.join(", "), rows.len())
        }
        Answer::Lookup { column, rows, .. } if column.is_empty() && rows.is_empty() => "nothing".into(),
        a => a.to_string(),
    }
}

/// `synth run` on a Neural Programmer checkpoint: one sampled question,
/// its table, the induced program step by step, and its answer beside the
/// reference's and the latent program.
pub fn run(task: &Task, dir: &RunDir, size: usize, seed: u64) -> Result<(), Failure> {
    let (_, model) = load_checkpoint(task, dir)?;
    let e: TableExample = task.table_example(size, seed).map_err(|e| Failure::Task(anyhow!("{e}")))?;
    let asked = np::eval::ask(&model, &e.tokens, &e.columns, &mut np::Workspace::new());
    println!("// the Neural Programmer in `{}` on `{}`, {size} rows, seed {seed}", dir.path.display(), task.name);
    print!("{}", show_table(&e.columns));
    println!("question: {}", e.text);
    println!("induced program:");
    print!("{}", show_program(&e.columns, &asked.program));
    println!("latent program: {}", e.program.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("; "));
    let same = np::eval::equivalent(&asked.program, &e, &[]);
    println!("answer:    {}", brief(&asked.answer));
    println!("reference: {}", brief(&e.answer));
    println!(
        "// {}; the induced program {} the latent one on this table",
        if asked.answer == e.answer { "right" } else { "WRONG" },
        if same { "agrees with" } else { "differs from" }
    );
    Ok(())
}

#[derive(Args)]
pub struct AskArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The run directory of a trained Neural Programmer.
    #[arg(long)]
    model: PathBuf,
    /// The question, in the words of the task's templates.
    question: String,
    /// Rows of the sampled table.
    #[arg(long, default_value_t = 20)]
    size: usize,
    /// Seed of the sampled table.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// `synth ask`: answers a typed question against a sampled table, showing
/// the program the model induces for it.
pub fn ask(a: AskArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    if !task.is_table() {
        return Err(Failure::Task(anyhow!("`synth ask` answers questions about tables; task `{}` has no table world", task.name)));
    }
    let dir = RunDir::new(&a.model);
    let learner = dir.learner()?;
    if learner != "np" {
        return Err(Failure::Task(anyhow!("`{}` holds a checkpoint of the {learner} learner; `synth ask` needs a trained Neural Programmer", dir.path.display())));
    }
    let (_, model) = load_checkpoint(&task, &dir)?;
    let tokens = table::tokenize(&a.question);
    if tokens.is_empty() {
        return Err(Failure::Task(anyhow!("the question is empty")));
    }
    let unknown: Vec<String> = tokens.iter().filter_map(|t| match t {
        Cell::Word(w) if model.vocab.id(t) == UNK => Some(format!("`{w}`")),
        _ => None,
    }).collect();
    if !unknown.is_empty() {
        return Err(Failure::Task(anyhow!(
            "the model never saw {} in a training question; ask with the words of the task's templates (`synth trace {}` samples questions)",
            unknown.join(", "),
            a.task.task
        )));
    }
    let e = task.table_example(a.size, a.seed).map_err(|e| Failure::Task(anyhow!("{e}")))?;
    let asked = np::eval::ask(&model, &tokens, &e.columns, &mut np::Workspace::new());
    print!("{}", show_table(&e.columns));
    println!("question: {}", tokens.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" "));
    println!("induced program:");
    print!("{}", show_program(&e.columns, &asked.program));
    println!("answer: {}", brief(&asked.answer));
    Ok(())
}

/// What training shows and records: a progress bar, `metrics.jsonl`, a
/// line per validation, the best checkpoint saved as soon as it is found.
struct NpHooks<'a> {
    watch: Watch<'a>,
    losses: Vec<(u64, Vec<(f64, f64)>)>,
    window: (f64, usize),
    validations: Vec<ValidationReport>,
    saved: Option<(bool, usize)>,
}

impl<'a> NpHooks<'a> {
    fn new(dir: &'a RunDir, bar: ProgressBar, budget: Option<u64>, interrupted: Arc<AtomicBool>) -> NpHooks<'a> {
        NpHooks { watch: Watch::new(dir, bar, budget, interrupted), losses: Vec::new(), window: (0.0, 0), validations: Vec::new(), saved: None }
    }
}

impl TrainHooks for NpHooks<'_> {
    fn on_data(&mut self, questions: usize, vocab: usize) {
        self.watch.say(format!("{:>7.1}s  {questions} training questions, {vocab} words", self.watch.seconds()));
    }
}

impl Hooks<StepReport, ValidationReport, Checkpoint> for NpHooks<'_> {
    fn on_step(&mut self, r: &StepReport) -> Control {
        self.watch.bar.inc(1);
        if self.losses.last().is_none_or(|(s, _)| *s != r.seed) {
            self.losses.push((r.seed, Vec::new()));
            self.window = (0.0, 0);
        }
        self.window = (self.window.0 + r.loss, self.window.1 + 1);
        if r.step.is_multiple_of(10) {
            let mean = self.window.0 / self.window.1.max(1) as f64;
            self.window = (0.0, 0);
            if let Some((_, points)) = self.losses.last_mut() {
                points.push((r.step as f64, mean));
            }
            self.watch.bar.set_message(format!("loss {mean:.4}  epoch {}", r.epoch + 1));
            let line = json!({"seed": r.seed, "step": r.step, "epoch": r.epoch, "loss": mean, "grad_norm": r.grad_norm, "seconds": self.watch.seconds()});
            if let Err(e) = self.watch.dir.log(&line) {
                return self.watch.fail(e);
            }
        }
        self.watch.check()
    }

    fn on_validation(&mut self, r: &ValidationReport, best: &Checkpoint) -> Control {
        let (right, count) = r.right();
        let sizes: Vec<String> = r.scores.iter().map(|s| format!("{}:{}/{}", s.size, s.right, s.count)).collect();
        self.watch.say(format!(
            "{:>7.1}s  seed {}  step {:>6}  loss {:.4}  answers right {right}/{count} ({:.1}%)  [{}]{}{}{}",
            self.watch.seconds(),
            r.seed,
            r.step,
            r.loss,
            100.0 * r.accuracy(),
            sizes.join(" "),
            if r.converged { "  all right" } else { "" },
            if r.improved { "  (best of seed)" } else { "" },
            if r.searched > 0 { format!("  programs found {}/{} searched", r.found, r.searched) } else { String::new() },
        ));
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
