//! `synth compare`: several trained models of one task (any learners: an
//! NPI beside the seq2seq baseline, say) scored on the same inputs, as one
//! table and one plot of exact match against input size (the NPI paper's
//! Figure 6).

use super::failure::Failure;
use super::model::threads;
use super::plot::{self, Chart, Scale, Series};
use super::rundir::RunDir;
use super::task::{compile, load, TaskArg};
use anyhow::anyhow;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    task: TaskArg,
    /// Run directories of trained models of the task (repeatable, at least
    /// two).
    #[arg(long = "model", required = true, num_args = 1)]
    models: Vec<PathBuf>,
    /// Input sizes (default: the `learn` block's test sizes).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Inputs per size.
    #[arg(long, default_value_t = 32)]
    count: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the plot goes (SVG).
    #[arg(long, default_value = "compare.svg")]
    plot: PathBuf,
    /// Print one JSON object (each model's `synth eval --json`) instead of a table.
    #[arg(long)]
    json: bool,
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(a: CompareArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    let sizes = a.sizes.clone().unwrap_or_else(|| task.learn.test_sizes.clone());
    if sizes.is_empty() {
        return Err(Failure::Task(anyhow!("no sizes to compare on: pass --sizes or add `test sizes [...]` to the learn block")));
    }
    let mut rows = Vec::new();
    for path in &a.models {
        let dir = RunDir::new(path);
        let model = synth::trained::load(&task, &dir)?;
        let report = model.evaluate(&task, &sizes, a.count, a.seed, threads(a.threads)).map_err(|e| Failure::Task(anyhow!("{e}")))?;
        let name = format!("{} ({})", model.learner(), path.display());
        rows.push((name, report));
    }
    let accuracy = |report: &serde_json::Value, size: usize| -> f64 {
        report["results"].as_array().and_then(|r| r.iter().find(|x| x["size"] == size)).and_then(|x| x["accuracy"].as_f64()).unwrap_or(0.0)
    };
    let series: Vec<Series> = rows.iter().map(|(name, report)| Series { name, points: sizes.iter().map(|&s| (s as f64, accuracy(report, s))).collect() }).collect();
    let title = format!("{}: exact match against input size", task.name);
    let svg = plot::svg(&Chart { title: &title, x_label: "input size", y_label: "exact match", x_scale: Scale::Log, y_scale: Scale::Linear, y_range: Some((0.0, 1.0)) }, &series);
    std::fs::write(&a.plot, svg).map_err(|e| Failure::Io(anyhow!("cannot write `{}`: {e}", a.plot.display())))?;
    if a.json {
        let all: Vec<serde_json::Value> = rows.iter().map(|(_, r)| r.clone()).collect();
        println!("{}", serde_json::json!({ "task": task.name, "models": all }));
    } else {
        let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(5).max(5);
        let mut out = format!("{:<width$}", "model");
        for s in &sizes {
            out.push_str(&format!("  {:>7}", format!("n={s}")));
        }
        for (name, report) in &rows {
            out.push_str(&format!("\n{name:<width$}"));
            for &s in &sizes {
                out.push_str(&format!("  {:>6.1}%", 100.0 * accuracy(report, s)));
            }
        }
        println!("{out}");
    }
    eprintln!("exact match of {} models on {} inputs per size; plot in {}", rows.len(), a.count, a.plot.display());
    Ok(())
}
