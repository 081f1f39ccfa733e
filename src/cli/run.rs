//! `synth run`: a trained model on one input, its trace printed and marked
//! where it first leaves the reference's.

use super::failure::Failure;
use super::model::load_model;
use super::rundir::RunDir;
use super::task::{compile, load, report_run_error, Cars, TaskArg};
use clap::Args;
use std::path::PathBuf;
use synth_runtime::npi::{self, Engine};

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    task: TaskArg,
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value_t = 5)]
    size: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A pose task: a car seen in training or one never seen.
    #[arg(long, value_enum, default_value_t = Cars::Seen)]
    cars: Cars,
    /// A pose task: write every view the learned program's camera passes
    /// through into this directory (as `synth trace --frames` does).
    #[arg(long, value_name = "DIR")]
    frames: Option<PathBuf>,
}

pub fn run(a: RunArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let mut task = compile(&source)?;
    task.cars = a.cars.into();
    super::task::check_frames(&task, a.frames.as_deref())?;
    let dir = RunDir::new(&a.model);
    match dir.learner()?.as_str() {
        "np" => return super::np::run(&task, &dir, a.size, a.seed),
        "seq2seq" => return super::seq2seq::run(&task, &dir, a.size, a.seed),
        "nram" => return super::nram::run(&task, &dir, a.size, a.seed),
        "ntm" => return super::ntm::run(&task, &dir, a.size, a.seed),
        _ => {}
    }
    let (_, model) = load_model(&task, &dir, 1)?;
    let engine = Engine::new(&model).map_err(|e| Failure::Task(e.into()))?;
    let reference = task.trace(a.size, a.seed).map_err(|e| report_run_error(&source, &e))?;
    let outcome = npi::run(&engine, &task, a.size, a.seed).map_err(|e| Failure::Task(e.into()))?;
    let model_trace = outcome.trace.as_ref().expect("run records its trace");
    if let Some(dir) = &a.frames {
        super::task::write_views(&task, model_trace, dir)?;
    }
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
        (Some(f), false) => println!("// result: failed ({f})"),
        (None, false) => println!("// result: `expect` does not hold"),
    }
    Ok(())
}

/// A trace line's call (with its indentation) and its observation, without
/// the padding between them.
fn split_line(line: &str) -> (&str, &str) {
    let indent = line.len() - line.trim_start().len();
    match line[indent..].find("  ") {
        Some(k) => (&line[..indent + k], line[indent + k..].trim_start()),
        None => (line.trim_end(), ""),
    }
}

/// A rendered trace without its `//` header lines.
fn body(text: &str) -> Vec<String> {
    text.lines().filter(|l| !l.starts_with("//")).map(str::to_string).collect()
}
