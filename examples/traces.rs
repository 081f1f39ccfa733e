//! Uses synth as a library: compiles a stdlib task, generates reference
//! traces and counts what a learner would be trained on.
//!
//! ```text
//! $ cargo run --release --example traces -- add 1000
//! add at size 1000: 11600 steps in 2521 frames (ADD 1, ADD1 1001, CARRY 518, LSHIFT 1001)
//! ```

use std::collections::BTreeMap;
use synth::{stdlib, Source};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "add".into());
    let size: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let source = Source::load(&name)?;
    let task = match synth::compile(&source) {
        Ok(c) => c.task,
        Err(diags) => anyhow::bail!("{}", synth::dsl::render_all(&diags, &source.display, &source.text)),
    };
    let trace = task.trace(size, 0).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut frames: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &trace.frames {
        *frames.entry(task.programs[f.program as usize].name.as_str()).or_default() += 1;
    }
    let per: Vec<String> = frames.iter().map(|(p, n)| format!("{p} {n}")).collect();
    println!("{} at size {size}: {} steps in {} frames ({})", task.name, trace.steps.len(), trace.frames.len(), per.join(", "));
    println!("stdlib tasks: {}", stdlib::names().collect::<Vec<_>>().join(", "));
    Ok(())
}
