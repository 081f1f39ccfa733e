//! Trains an NPI on a stdlib task end to end and prints the generalisation
//! table. Expected on a 2-core CPU for `add` with its `learn` defaults
//! (train sizes 1..=10, 64 traces): 100% exact at 100 and 1000 digits.
//!
//! ```text
//! cargo run --release -p synth-runtime --example train_npi -- add
//! cargo run --release -p synth-runtime --example train_npi -- add hidden=128 lr=0.002 eval=100,1000,3000 count=32
//! cargo run --release -p synth-runtime --example train_npi -- bubblesort eval=20,60,100
//! ```
//!
//! Arguments after the task name are `learn` settings (`key=value`, lists
//! as `a,b,c`) plus `eval=SIZES`, `count=N`, `time=SECONDS`, `steps=N`,
//! `seed=N`, `sizes=A..=B`, `traces=N`.

use mimalloc::MiMalloc;
use std::time::Instant;
use synth_compiler::SettingValue;
use synth_runtime::npi::{self, Checkpoint, Control, Hooks, StepReport, ValidationReport};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

struct Progress {
    start: Instant,
    budget: Option<f64>,
    last_print: f64,
    loss: (f64, usize),
}

impl Hooks<StepReport, ValidationReport, Checkpoint> for Progress {
    fn on_step(&mut self, r: &StepReport) -> Control {
        let t = self.start.elapsed().as_secs_f64();
        self.loss = (self.loss.0 + r.loss, self.loss.1 + 1);
        if t - self.last_print > 5.0 {
            println!("{t:7.1}s step {:6} loss {:.5} lr {:.2e} |g| {:.3}", r.step, self.loss.0 / self.loss.1 as f64, r.lr, r.grad_norm);
            self.last_print = t;
            self.loss = (0.0, 0);
        }
        match self.budget {
            Some(b) if t > b => Control::Stop,
            _ => Control::Continue,
        }
    }

    fn on_validation(&mut self, r: &ValidationReport, _best: &npi::Checkpoint) -> Control {
        let t = self.start.elapsed().as_secs_f64();
        let scores: Vec<String> = r.scores.iter().map(|s| format!("{}:{}/{}", s.size, s.exact, s.count)).collect();
        println!(
            "{t:7.1}s step {:6} validation [{}] frames right {:.4} loss {:.5}{}",
            r.step,
            scores.join(" "),
            r.frame_accuracy,
            r.loss,
            if r.improved { " *" } else { "" }
        );
        Control::Continue
    }
}

/// The steps of a trace in execution order: (frame program, step, observation).
fn linearize(t: &synth_compiler::Trace) -> Vec<(u16, synth_compiler::Step, Vec<u16>)> {
    fn walk(t: &synth_compiler::Trace, f: usize, out: &mut Vec<(u16, synth_compiler::Step, Vec<u16>)>) {
        let fr = &t.frames[f];
        for i in fr.step_range() {
            out.push((fr.program, t.steps[i], t.obs(i).to_vec()));
            if let Some(c) = t.steps[i].child {
                walk(t, c as usize, out);
            }
        }
    }
    let mut out = Vec::new();
    if !t.frames.is_empty() {
        walk(t, 0, &mut out);
    }
    out
}

/// Prints where the model's run first departs from the reference.
fn show_divergence(task: &synth_compiler::Task, engine: &npi::Engine, size: usize, seed: u64) -> anyhow::Result<bool> {
    let run = npi::run(engine, task, size, seed)?;
    if run.correct {
        return Ok(true);
    }
    let (a, b) = (linearize(run.trace.as_ref().unwrap()), linearize(&task.trace(size, seed)?));
    let i = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let name = |p: u16| task.programs[p as usize].name.clone();
    println!("size {size} seed {seed}: {:?} after {} steps; first difference at step {i}", run.failure, run.steps);
    for k in i.saturating_sub(2)..(i + 1).min(a.len()).min(b.len()) {
        println!("   model {:8} {:?} obs {:?}", name(a[k].0), a[k].1, a[k].2);
        println!("   ref   {:8} {:?} obs {:?}", name(b[k].0), b[k].1, b[k].2);
    }
    Ok(false)
}

fn parse_value(v: &str) -> SettingValue {
    if let Ok(i) = v.parse::<i64>() {
        SettingValue::Int(i)
    } else if let Ok(f) = v.parse::<f64>() {
        SettingValue::Float(f)
    } else if v.contains(',') {
        SettingValue::List(v.split(',').map(|x| x.parse().expect("a list of integers")).collect())
    } else {
        SettingValue::Word(v.to_string())
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "add".into());
    let path = format!("{}/../stdlib/{name}.npl", env!("CARGO_MANIFEST_DIR"));
    let mut src = std::fs::read_to_string(&path)?;
    // `add4`: stdlib's addition in base 4 (as in the runtime's tests).
    if let Some(base) = std::env::var("SYNTH_ADD_BASE").ok().filter(|_| name == "add") {
        src = src.replace("base: 10", &format!("base: {base}")).replace("% 10", &format!("% {base}")).replace(">= 10", &format!(">= {base}"));
    }
    if std::env::var("SYNTH_RETURN").is_ok_and(|v| v == "after_call") {
        src = src.replace("learn npi {", "learn npi {\n  return: after_call");
    }
    let compiled = synth_compiler::compile(&src, &name).map_err(|d| anyhow::anyhow!("{d:?}"))?;
    let task = compiled.task;
    let mut learn = task.learn.clone();
    let mut eval_sizes = learn.test_sizes.clone();
    let mut count = 32;
    let mut budget = None;
    let mut show: Option<usize> = None;
    let mut save: Option<String> = None;
    let mut load: Option<String> = None;
    for a in args {
        let (k, v) = a.split_once('=').ok_or_else(|| anyhow::anyhow!("expected key=value, got {a}"))?;
        match k {
            "eval" => eval_sizes = v.split(',').map(|x| x.parse()).collect::<Result<_, _>>()?,
            "count" => count = v.parse()?,
            "show" => show = Some(v.parse()?),
            "save" => save = Some(v.to_string()),
            "load" => load = Some(v.to_string()),
            "time" => budget = Some(v.parse::<f64>()?),
            "steps" => learn.steps = Some(v.parse()?),
            "seed" => learn.seed = Some(v.parse()?),
            "traces" => learn.traces = v.parse()?,
            "sizes" => {
                let (a, b) = v.split_once("..=").ok_or_else(|| anyhow::anyhow!("sizes=A..=B"))?;
                learn.train_sizes = (a.parse()?..=b.parse()?).collect();
            }
            _ => {
                learn.settings.insert(k.to_string(), parse_value(v));
            }
        }
    }
    let (model, cfg) = npi::settings(&learn)?;
    println!("task {} | model {model:?}", task.name);
    println!("train {cfg:?}");
    {
        let traces = npi::train::training_traces(&task, &model, &cfg)?;
        let frames: usize = traces.iter().map(|t| t.frames.len()).sum();
        let steps: usize = traces.iter().map(|t| t.steps.len()).sum();
        let longest = traces.iter().flat_map(|t| t.frames.iter().map(|f| f.len)).max().unwrap_or(0);
        println!("data: {} traces, {frames} frames, {steps} steps, longest frame {longest}", traces.len());
    }
    let start = Instant::now();
    let best = match &load {
        Some(path) => npi::Checkpoint { meta: serde_json::from_str(&std::fs::read_to_string(format!("{path}.json"))?)?, weights: std::fs::read(path)?, optimizer: None },
        None => {
            let mut hooks = Progress { start, budget, last_print: 0.0, loss: (0.0, 0) };
            let outcome = npi::train(&task, &model, &cfg, &mut hooks)?;
            let train_time = start.elapsed().as_secs_f64();
            println!(
                "trained: {} steps in {train_time:.1}s ({:?}); best at step {} with validation {:?}",
                outcome.steps, outcome.stop, outcome.best.meta.step, outcome.best.meta.validation
            );
            outcome.best
        }
    };
    if let Some(path) = &save {
        std::fs::write(path, &best.weights)?;
        std::fs::write(format!("{path}.json"), serde_json::to_string_pretty(&best.meta)?)?;
    }
    let net = best.load(&task)?;
    let engine = npi::Engine::new(&net)?;
    let t0 = Instant::now();
    let report = npi::evaluate(&task, &engine, &eval_sizes, count, 12345, cfg.threads())?;
    println!("evaluation ({:.1}s):", t0.elapsed().as_secs_f64());
    for r in &report.results {
        println!("  size {:5}: {:3}/{:3} exact ({:6.2}%), {:.0} steps per run", r.size, r.exact, r.count, 100.0 * r.accuracy, r.mean_steps);
    }
    println!("{}", serde_json::to_string(&report)?);
    for &size in &eval_sizes {
        let mut shown = 0;
        for i in 0..count {
            if shown < 3 && !show_divergence(&task, &engine, size, npi::eval::eval_seed(12345, size, i))? {
                shown += 1;
            }
        }
    }
    if let Some(size) = show {
        for seed in 0..3 {
            let run = npi::run(&engine, &task, size, seed)?;
            println!("--- model, size {size} seed {seed}: {:?} after {} steps", run.failure, run.steps);
            println!("{}", task.render_trace(run.trace.as_ref().unwrap()));
            println!("--- reference");
            println!("{}", task.render_trace(&task.trace(size, seed)?));
        }
    }
    println!("total {:.1}s", start.elapsed().as_secs_f64());
    Ok(())
}
