//! `synth compare`: several trained models of one task (any learners: an
//! NPI beside the seq2seq baseline, say) scored on the same inputs, as one
//! table and one plot of exact match against input size (the NPI paper's
//! Figure 6). `--train LEARNER` trains a model of that learner first (with
//! `synth learn`, into `--runs DIR`), or reuses the one trained there
//! before.

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
    /// Run directories of trained models of the task (repeatable).
    #[arg(long = "model", num_args = 1)]
    models: Vec<PathBuf>,
    /// A learner to train on the task first (`npi`, `nram`, `np`,
    /// `seq2seq`, `ntm`; repeatable), each into DIR/<learner> under
    /// `--runs`; a model already there is used as it is.
    #[arg(long = "train", value_name = "LEARNER", num_args = 1)]
    train: Vec<String>,
    /// Where `--train` puts its run directories (default: runs/compare-<task>).
    #[arg(long, value_name = "DIR")]
    runs: Option<PathBuf>,
    /// Wall-clock budget of each `--train` run, in seconds.
    #[arg(long, value_name = "SECONDS")]
    time: Option<u64>,
    /// Optimiser steps of each `--train` run.
    #[arg(long)]
    steps: Option<u64>,
    /// A setting for every `--train` run, as `synth learn --set` takes it
    /// (each learner must know it).
    #[arg(long = "set", value_name = "KEY=VALUE", num_args = 1)]
    set: Vec<String>,
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
    if a.models.is_empty() && a.train.is_empty() {
        return Err(Failure::Task(anyhow!("nothing to compare: give models with --model DIR (trained) or --train LEARNER (trained here)")));
    }
    let runs = a.runs.clone().unwrap_or_else(|| PathBuf::from("runs").join(format!("compare-{}", task.name)));
    let mut models = Vec::new();
    for learner in &a.train {
        let out = runs.join(learner);
        if RunDir::new(&out).has_model() {
            eprintln!("{learner}: using the model trained before in {}", out.display());
        } else {
            train(&a, learner, &out)?;
        }
        models.push(out);
    }
    models.extend(a.models.iter().cloned());
    let mut rows = Vec::new();
    for path in &models {
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

/// Trains `learner` on the task into `out` with `synth learn` (this same
/// binary, so that its progress, refusals and Ctrl-C are `synth learn`'s).
fn train(a: &CompareArgs, learner: &str, out: &std::path::Path) -> Result<(), Failure> {
    eprintln!("{learner}: training into {}", out.display());
    let exe = std::env::current_exe().map_err(|e| Failure::Io(anyhow!("cannot find the synth binary to train with: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["learn", &a.task.task, "--learner", learner, "--out"]).arg(out);
    if let Some(t) = a.threads {
        cmd.args(["--threads", &t.to_string()]);
    }
    if let Some(t) = a.time {
        cmd.args(["--time", &t.to_string()]);
    }
    if let Some(s) = a.steps {
        cmd.args(["--steps", &s.to_string()]);
    }
    for s in &a.set {
        cmd.args(["--set", s]);
    }
    // Its table goes to stderr with its progress: stdout is the comparison's.
    cmd.stdout(std::process::Stdio::from(std::io::stderr()));
    let status = cmd.status().map_err(|e| Failure::Io(anyhow!("cannot run `synth learn`: {e}")))?;
    if !status.success() {
        return Err(Failure::Task(anyhow!("`synth learn {} --learner {learner}` failed ({status}); nothing compared", a.task.task)));
    }
    if !RunDir::new(out).has_model() {
        return Err(Failure::Task(anyhow!("`synth learn {} --learner {learner}` was stopped before it saved a model; nothing compared", a.task.task)));
    }
    Ok(())
}
