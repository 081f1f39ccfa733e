//! `synth lte`: the Learning to Execute experiment from one command. For
//! each curriculum strategy, trains the character-level seq2seq model on
//! programs the compiler generates (up to `--length` digits and
//! `--nesting` operations), scores it on test programs of every
//! difficulty up to the target, and prints one table: teacher-forced
//! character accuracy (the paper's measure) and exact outputs under greedy
//! decoding, per difficulty and strategy. Each strategy's model goes to
//! `OUT/<strategy>/` and is reused when the same settings ask for it
//! again; `OUT/results.json` holds the table, `OUT/accuracy.svg` the
//! validation curves.

use super::failure::Failure;
use super::interrupt::interrupt_flag;
use super::plot::{self, Chart, Scale, Series};
use super::rundir::RunDir;
use super::seq2seq::progress_bar;
use super::settings::parse_setting;
use anyhow::anyhow;
use clap::Args;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use synth_compiler::SettingValue;
use synth_runtime::hooks::{Control, Hooks, StopReason};
use synth_runtime::lte::{self, Curriculum, Level, LevelScore, LteConfig, Strategy, StepReport, ValidationReport};
use synth_runtime::seq2seq::{Seq2Seq, Seq2SeqConfig};

#[derive(Args)]
pub struct LteArgs {
    /// Curriculum strategies to train (`none`, `naive`, `mixed`,
    /// `combined`; repeatable; default: all four).
    #[arg(long = "strategy", value_name = "STRATEGY", num_args = 1)]
    strategies: Vec<String>,
    /// Target digits per number.
    #[arg(long, default_value_t = 3)]
    length: usize,
    /// Target operations composed.
    #[arg(long, default_value_t = 2)]
    nesting: usize,
    /// Optimiser steps of each strategy.
    #[arg(long, default_value_t = 4000)]
    steps: u64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A model or training setting (`hidden=400`, `batch=100`, ...; see
    /// docs/lte.md), repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", num_args = 1)]
    set: Vec<String>,
    /// Test programs per difficulty.
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// Test programs shown with the model's output, per strategy.
    #[arg(long, default_value_t = 3)]
    show: usize,
    /// Where the models and results go.
    #[arg(long, value_name = "DIR", default_value = "runs/lte")]
    out: PathBuf,
    /// Train again even where a model of the same settings is there.
    #[arg(long)]
    retrain: bool,
    /// Print the results as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Training threads (default: one per physical core).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// What `OUT/<strategy>/lte.json` records beside the weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Meta {
    learner: String,
    model: Seq2SeqConfig,
    config: LteConfig,
    steps: u64,
    stop: StopReason,
    /// Where the curriculum ended and the learning rate it ended with.
    level: Level,
    lr: f64,
    seconds: f64,
    validations: Vec<ValidationReport>,
}

const META: &str = "lte.json";
const WEIGHTS: &str = "lte.safetensors";

/// One strategy's line of the results.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StrategyResult {
    strategy: Strategy,
    steps: u64,
    seconds: f64,
    /// Mean over the difficulties.
    char_accuracy: f64,
    exact_accuracy: f64,
    levels: Vec<LevelScore>,
}

#[derive(Serialize)]
struct Results<'a> {
    target: Level,
    count: usize,
    seed: u64,
    results: &'a [StrategyResult],
}

pub fn run(a: LteArgs) -> Result<(), Failure> {
    let strategies: Vec<Strategy> = if a.strategies.is_empty() {
        Strategy::ALL.to_vec()
    } else {
        a.strategies.iter().map(|s| Strategy::parse(s).ok_or_else(|| Failure::Usage(anyhow!("unknown strategy `{s}`: one of none, naive, mixed, combined")))).collect::<Result<_, _>>()?
    };
    let mut set: BTreeMap<String, SettingValue> = BTreeMap::new();
    for s in &a.set {
        let (k, v) = parse_setting(s).map_err(Failure::Usage)?;
        set.insert(k, v);
    }
    if let Some(t) = a.threads {
        set.insert("threads".into(), SettingValue::Int(t as i64));
    }
    let target = Level { length: a.length, nesting: a.nesting };
    if a.count == 0 {
        return Err(Failure::Usage(anyhow!("--count must be at least 1")));
    }
    let interrupted = interrupt_flag();
    let mut results = Vec::new();
    let mut curves = Vec::new();
    for &strategy in &strategies {
        let (config, cfg) = lte::settings(strategy, target, a.seed, a.steps, &set).map_err(|e| Failure::Usage(e.into()))?;
        let dir = RunDir::new(a.out.join(strategy.name()));
        let (model, meta) = match (!a.retrain).then(|| reuse(&dir, &config, &cfg)).flatten() {
            Some(found) => {
                eprintln!("{}: using the model trained before in {}", strategy.name(), dir.path.display());
                found
            }
            None => train(&dir, &config, &cfg, a.quiet, interrupted.clone())?,
        };
        let levels = lte::evaluate(&model, target, a.count, a.seed).map_err(|e| Failure::Task(anyhow!("{}", e)))?;
        let n = levels.len() as f64;
        results.push(StrategyResult {
            strategy,
            steps: meta.steps,
            seconds: meta.seconds,
            char_accuracy: levels.iter().map(|l| l.char_accuracy).sum::<f64>() / n,
            exact_accuracy: levels.iter().map(|l| l.exact_accuracy).sum::<f64>() / n,
            levels,
        });
        if !a.json && a.show > 0 {
            show(strategy, &model, target, a.show, a.seed)?;
        }
        curves.push((strategy, meta.validations));
        if interrupted.load(Ordering::SeqCst) {
            eprintln!("interrupted: the strategies after {} are not trained", strategy.name());
            break;
        }
    }
    let out = RunDir::new(&a.out);
    let json = serde_json::to_string_pretty(&Results { target, count: a.count, seed: a.seed, results: &results }).expect("results serialise");
    out.write("results.json", json.as_bytes())?;
    out.write("accuracy.svg", chart(target, &curves).as_bytes())?;
    if a.json {
        println!("{json}");
    } else {
        print!("{}", table(&results));
        println!("results in {}, validation curves in {}", out.file("results.json").display(), out.file("accuracy.svg").display());
    }
    Ok(())
}

/// The model saved in `dir` when it was trained with these settings.
fn reuse(dir: &RunDir, config: &Seq2SeqConfig, cfg: &LteConfig) -> Option<(Seq2Seq, Meta)> {
    let meta: Meta = serde_json::from_slice(&std::fs::read(dir.file(META)).ok()?).ok()?;
    let same = |c: &LteConfig| LteConfig { threads: 0, ..c.clone() };
    if meta.model != *config || same(&meta.config) != same(cfg) {
        return None;
    }
    let mut model = lte::load(config, &std::fs::read(dir.file(WEIGHTS)).ok()?).ok()?;
    model.set_threads(cfg.threads());
    Some((model, meta))
}

struct Progress {
    bar: ProgressBar,
    interrupted: Arc<AtomicBool>,
    strategy: Strategy,
}

impl Hooks<StepReport, ValidationReport, Curriculum> for Progress {
    fn on_step(&mut self, r: &StepReport) -> Control {
        self.bar.set_position(r.step);
        if self.interrupted.load(Ordering::SeqCst) {
            Control::Stop
        } else {
            Control::Continue
        }
    }

    fn on_validation(&mut self, r: &ValidationReport, _: &Curriculum) -> Control {
        self.bar.set_message(format!("{}: {} chars {:.1}% (target {:.1}%)", self.strategy.name(), r.level, 100.0 * r.accuracy, 100.0 * r.target_accuracy));
        if let Some(l) = r.raised {
            self.bar.println(format!("{}: step {}: {:.1}% of characters right, on to {l}", self.strategy.name(), r.step, 100.0 * r.accuracy));
        }
        Control::Continue
    }
}

fn train(dir: &RunDir, config: &Seq2SeqConfig, cfg: &LteConfig, quiet: bool, interrupted: Arc<AtomicBool>) -> Result<(Seq2Seq, Meta), Failure> {
    let started = Instant::now();
    let mut hooks = Progress { bar: progress_bar(cfg.steps, quiet), interrupted, strategy: cfg.strategy };
    let o = lte::train(config, cfg, &mut hooks).map_err(|e| Failure::Task(anyhow!(e)))?;
    hooks.bar.finish_and_clear();
    let meta = Meta {
        learner: "lte".into(),
        model: config.clone(),
        config: cfg.clone(),
        steps: o.steps,
        stop: o.stop,
        level: o.curriculum.current,
        lr: o.lr,
        seconds: started.elapsed().as_secs_f64(),
        validations: o.validations,
    };
    eprintln!("{}: {} steps in {:.0} s, the curriculum at {}", cfg.strategy.name(), o.steps, meta.seconds, meta.level);
    // An interrupted strategy's model is scored but not kept for reuse:
    // it did not train for the steps its settings say.
    if o.stop != StopReason::Stopped {
        dir.create()?;
        dir.write(WEIGHTS, &lte::save(&o.model).map_err(|e| Failure::Task(anyhow!(e)))?)?;
        dir.write(META, serde_json::to_string_pretty(&meta).expect("meta serialises").as_bytes())?;
    }
    Ok((o.model, meta))
}

/// A few test programs of the target difficulty, with the model's output.
fn show(strategy: Strategy, model: &Seq2Seq, target: Level, count: usize, seed: u64) -> Result<(), Failure> {
    let programs = lte::test_programs(seed, target, count);
    let got = lte::predict(model, &programs).map_err(|e| Failure::Task(anyhow!("{e}")))?;
    println!("{} ({target}):", strategy.name());
    for (p, g) in programs.iter().zip(&got) {
        println!("{}", p.text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"));
        println!("  = {}, model: {g} {}", p.output, if *g == p.output { "(right)" } else { "(wrong)" });
    }
    println!();
    Ok(())
}

/// Rows: difficulties, then the mean; columns: each strategy's character
/// accuracy and exact outputs.
fn table(results: &[StrategyResult]) -> String {
    let mut s = format!("{:<22}", "difficulty");
    for r in results {
        s += &format!("  {:>20}", format!("{} chars/exact", r.strategy.name()));
    }
    s += "\n";
    let cell = |c: f64, e: f64| format!("{:>6.1}% {:>6.1}%", 100.0 * c, 100.0 * e);
    for (i, l) in results.first().map_or(&[][..], |r| &r.levels).iter().enumerate() {
        s += &format!("{:<22}", format!("length {}, nesting {}", l.length, l.nesting));
        for r in results {
            s += &format!("  {:>20}", cell(r.levels[i].char_accuracy, r.levels[i].exact_accuracy));
        }
        s += "\n";
    }
    s += &format!("{:<22}", "mean");
    for r in results {
        s += &format!("  {:>20}", cell(r.char_accuracy, r.exact_accuracy));
    }
    s + "\n"
}

/// Teacher-forced character accuracy on the target's validation programs
/// against the step, one line per strategy.
fn chart(target: Level, curves: &[(Strategy, Vec<ValidationReport>)]) -> String {
    let series: Vec<Series> = curves.iter().map(|(s, v)| Series { name: s.name(), points: v.iter().map(|r| (r.step as f64, r.target_accuracy)).collect() }).collect();
    plot::svg(
        &Chart {
            title: &format!("Learning to Execute, {target}: characters right (teacher forced)"),
            x_label: "step",
            y_label: "character accuracy",
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            y_range: Some((0.0, 1.0)),
        },
        &series,
    )
}
