//! How fast and how reliably the NRAM learns the paper's easy tasks: trains
//! several seeds of each toy task (`synth_runtime::nram::toy`) and prints,
//! per seed, whether it converged, its steps and seconds, and the best
//! parameters' validation errors; then the discrete machine on larger
//! tapes.
//!
//! ```text
//! cargo run --release -p synth-runtime --example nram_toys -- [TASK..] [key=value..]
//! cargo run --release -p synth-runtime --example nram_toys -- copy seeds=4 lr=0.003 sizes=1..6
//! ```
//!
//! `key=value` pairs are `learn` settings (`lr=0.003`, `noise=0`), plus
//! `sizes=A..B` (training sizes), `steps=N`, `seed=N`, `test=N,N` (sizes the
//! discrete machine is evaluated at).

use std::collections::BTreeMap;
use std::time::Instant;
use synth_compiler::SettingValue;
use synth_runtime::nram::toy::{Toy, ToyEnv};
use synth_runtime::nram::{self, Checkpoint, Control, NramConfig, StepReport, TrainConfig, Hooks, ValidationReport};

/// Prints every validation of seed 0 when `verbose` is set.
struct Progress {
    verbose: bool,
}

impl Hooks<StepReport, ValidationReport, Checkpoint> for Progress {
    fn on_step(&mut self, _r: &StepReport) -> Control {
        Control::Continue
    }
    fn on_validation(&mut self, r: &ValidationReport, _best: &Checkpoint) -> Control {
        if self.verbose {
            let errs: Vec<String> = r.scores.iter().map(|s| format!("{}:{:.2}/{:.2}", s.size, s.error(), s.discrete_error())).collect();
            println!("  seed {} step {:5} level {} loss {:.3} err {}", r.seed, r.step, r.level, r.loss, errs.join(" "));
        }
        Control::Continue
    }
}

fn parse_value(v: &str) -> SettingValue {
    if let Ok(i) = v.parse::<i64>() {
        SettingValue::Int(i)
    } else if let Ok(f) = v.parse::<f64>() {
        SettingValue::Float(f)
    } else {
        SettingValue::Word(v.to_string())
    }
}

fn main() {
    let mut tasks = Vec::new();
    let mut settings = BTreeMap::new();
    let mut sizes: Option<Vec<usize>> = None;
    let mut steps = 5_000u64;
    let mut seed = 0u64;
    let mut test = vec![20usize, 50, 100];
    let mut verbose = false;
    for a in std::env::args().skip(1) {
        if a == "-v" {
            verbose = true;
        } else if let Some((k, v)) = a.split_once('=') {
            match k {
                "sizes" => {
                    let (lo, hi) = v.split_once("..").expect("sizes=A..B");
                    sizes = Some((lo.parse().unwrap()..=hi.parse().unwrap()).collect());
                }
                "steps" => steps = v.parse().expect("steps=N"),
                "seed" => seed = v.parse().expect("seed=N"),
                "test" => test = v.split(',').map(|x| x.parse().expect("test=N,N")).collect(),
                _ => {
                    settings.insert(k.to_string(), parse_value(v));
                }
            }
        } else {
            tasks.push(Toy::ALL.into_iter().find(|t| t.name() == a).unwrap_or_else(|| panic!("unknown task {a}")));
        }
    }
    if tasks.is_empty() {
        tasks = Toy::ALL.to_vec();
    }
    for toy in tasks {
        let train_sizes = sizes.clone().unwrap_or_else(|| (1..=5).collect());
        let mut env = ToyEnv::new(toy, train_sizes.clone());
        env.learn.settings = settings.clone();
        env.learn.steps = Some(steps);
        env.learn.seed = Some(seed);
        let (model, cfg): (NramConfig, TrainConfig) = nram::settings(&env, &env.learn).unwrap_or_else(|e| panic!("{e}"));
        let start = Instant::now();
        let out = nram::train(&env, &model, &cfg, &mut Progress { verbose }).unwrap_or_else(|e| panic!("{e}"));
        let secs = start.elapsed().as_secs_f64();
        println!("{} (sizes {:?}, {} seeds, {} threads): {}/{} converged in {:.1} s", toy.name(), train_sizes, cfg.seeds, cfg.threads(), out.converged(), out.seeds.len(), secs);
        for s in &out.seeds {
            let v = &s.best.meta.validation;
            let err: Vec<String> = v.iter().map(|x| format!("{:.2}", x.error())).collect();
            let derr: Vec<String> = v.iter().map(|x| format!("{:.2}", x.discrete_error())).collect();
            println!("  seed {:3}: {:9} after {:6} steps ({:?}), best at step {} level {}: fuzzy err [{}] discrete [{}]", s.seed, if s.converged { "converged" } else { "failed" }, s.steps, s.stop, s.best.meta.step, s.best.meta.level, err.join(" "), derr.join(" "));
        }
        let best = out.best.model().expect("own checkpoint loads");
        let report = nram::evaluate(&env, &best, &test, 20, 99, 60).expect("evaluation runs");
        for r in report.results {
            println!("  test size {:4} ({:5} cells): discrete error {:.3}, exact {:.2}{}", r.size, r.cells, r.discrete_error, r.discrete_accuracy, r.fuzzy_error.map_or(String::new(), |e| format!(", fuzzy error {e:.3}")));
        }
    }
}
