//! Uses synth as a library: how many of the decision cases the reference
//! meets a task's training traces hold, the report `synth learn` prints
//! before training, for any number of traces and seeds.
//!
//! ```text
//! $ cargo run --release --example coverage -- add 64 0 1 2
//! add, 64 traces, seed 0: 64 traces cover ... (... s)
//! ```
//!
//! Arguments: a task (a stdlib name or a file), the number of traces
//! (default: the `learn` block's), then seeds (default: the block's).
//! `--set KEY=WORD` anywhere overrides a word setting of the block:
//! `--set sampling=coverage`, `--set observe=decisions`.

use std::time::Instant;
use synth::runtime::npi;
use synth::Source;

fn main() -> anyhow::Result<()> {
    let mut all: Vec<String> = std::env::args().skip(1).collect();
    // `--set KEY=WORD`, any number of times, anywhere.
    let mut words: Vec<(String, String)> = Vec::new();
    while let Some(i) = all.iter().position(|a| a == "--set") {
        let Some((k, v)) = all.get(i + 1).and_then(|kv| kv.split_once('=')) else { anyhow::bail!("--set needs KEY=VALUE") };
        words.push((k.to_string(), v.to_string()));
        all.drain(i..i + 2);
    }
    let mut args = all.into_iter();
    let name = args.next().unwrap_or_else(|| "add".into());
    let traces: Option<usize> = args.next().map(|s| s.parse()).transpose()?;
    let seeds: Vec<u64> = args.map(|s| s.parse()).collect::<Result<_, _>>()?;
    let source = Source::load(&name)?;
    let task = match synth::compile(&source) {
        Ok(c) => c.task,
        Err(diags) => anyhow::bail!("{}", synth::dsl::render_all(&diags, &source.display, &source.text)),
    };
    let mut learn = task.learn.clone();
    for (k, v) in words {
        learn.settings.insert(k, synth::compiler::SettingValue::Word(v));
    }
    let (model, mut cfg) = npi::settings(&learn)?;
    if let Some(t) = traces {
        cfg.traces = t;
    }
    let seeds = if seeds.is_empty() { vec![cfg.seed] } else { seeds };
    for seed in seeds {
        cfg.seed = seed;
        let t = Instant::now();
        let c = npi::coverage(&task, &model, &cfg)?;
        let seconds = t.elapsed().as_secs_f64();
        println!("{}, {} traces, seed {seed}: {} ({:.2} s, {} more reference runs)", task.name, cfg.traces, c.headline(), seconds, c.sampled);
        for line in c.details(4) {
            println!("  {line}");
        }
        if c.complete() {
            if let Some(k) = c.enough {
                println!("  the first {k} traces already hold every case");
            }
        }
    }
    Ok(())
}
