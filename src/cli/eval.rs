//! `synth eval`: a trained model's closed-loop exact-match accuracy per input
//! size, as a table or one JSON object; the table is also what `synth learn`
//! ends with.

use super::failure::Failure;
use super::model::{load_model, threads};
use super::rundir::RunDir;
use super::task::{compile, load, Cars, TaskArg};
use anyhow::anyhow;
use clap::Args;
use std::path::PathBuf;
use synth_runtime::npi::{self, Engine, EvalReport};

#[derive(Args)]
pub struct EvalArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The run directory of a trained model.
    #[arg(long)]
    model: PathBuf,
    /// Input sizes (default: the `learn` block's test sizes).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Inputs per size.
    #[arg(long, default_value_t = 32)]
    count: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    #[arg(long)]
    threads: Option<usize>,
    /// A pose task: evaluate on the cars seen in training or on cars never
    /// seen.
    #[arg(long, value_enum, default_value_t = Cars::Seen)]
    cars: Cars,
}

pub fn run(a: EvalArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let mut task = compile(&source)?;
    task.cars = a.cars.into();
    let dir = RunDir::new(&a.model);
    let sizes = a.sizes.clone().unwrap_or_else(|| task.learn.test_sizes.clone());
    if sizes.is_empty() {
        return Err(Failure::Task(anyhow!("no sizes to evaluate: pass --sizes or add `test sizes [...]` to the learn block")));
    }
    match dir.learner()?.as_str() {
        "np" => return super::np::eval(&task, &dir, &sizes, a.count, a.seed, a.json),
        "seq2seq" => return super::seq2seq::eval(&task, &dir, &sizes, a.count, a.seed, a.json),
        "nram" => return super::nram::eval(&task, &dir, &sizes, a.count, a.seed, a.json),
        "ntm" => return super::ntm::eval(&task, &dir, &sizes, a.count, a.seed, a.json, threads(a.threads)),
        _ => {}
    }
    let (_, model) = load_model(&task, &dir, a.count)?;
    let engine = Engine::new(&model).map_err(|e| Failure::Task(e.into()))?;
    let report = npi::evaluate(&task, &engine, &sizes, a.count, a.seed, threads(a.threads)).map_err(|e| Failure::Task(e.into()))?;
    let pose = task.obs.image.is_some();
    if a.json {
        let mut json = serde_json::to_value(&report).expect("serialisable");
        if pose {
            json["cars"] = task.cars.name().into();
        }
        println!("{json}");
    } else {
        if pose {
            println!("{} cars", task.cars.name());
        }
        println!("{}", table(&report));
    }
    Ok(())
}

/// The generalisation table.
pub fn table(report: &EvalReport) -> String {
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
