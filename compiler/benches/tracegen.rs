//! Trace-generation speed: addition traces at 1000 digits and bubble-sort
//! traces at 100 elements, on one core, in trace steps (learner decisions,
//! `Trace::steps`) per second. Run with
//! `cargo bench -p synth-compiler --bench tracegen`.
//!
//! Plain `std::time`; each task runs for about two seconds after a warm-up
//! (`TRACEGEN_SECONDS` sets the time). `TRACEGEN_TRACES=n` runs exactly `n`
//! traces per task (seeds `0..n`) with no warm-up instead, so that the work
//! is the same on every run, for instruction counts under
//! `valgrind --tool=callgrind`. Task names as arguments (`-- add`) run only
//! those tasks.

use std::time::{Duration, Instant};

// The allocator the `synth` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use synth_compiler::{compile, Task};

fn load(stem: &str) -> Task {
    let path = format!("{}/../stdlib/{stem}.npl", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match compile(&src, stem) {
        Ok(c) => c.task,
        Err(d) => panic!("{}", synth_dsl::render_all(&d, &path, &src)),
    }
}

/// How long each task runs.
#[derive(Clone, Copy)]
enum Budget {
    Time(Duration),
    Traces(u64),
}

/// Traces at `size` with seeds 0, 1, ... until the budget is spent; returns
/// (traces, steps, frames, elapsed).
fn run(task: &Task, size: usize, budget: Budget) -> (u64, u64, u64, Duration) {
    let start = Instant::now();
    let (mut traces, mut steps, mut frames) = (0u64, 0u64, 0u64);
    let mut seed = 0;
    while match budget {
        Budget::Time(t) => start.elapsed() < t,
        Budget::Traces(n) => traces < n,
    } {
        let t = task.trace(size, seed).expect("the reference runs");
        steps += t.steps.len() as u64;
        frames += t.frames.len() as u64;
        traces += 1;
        seed += 1;
    }
    (traces, steps, frames, start.elapsed())
}

fn main() {
    let var = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    let budget = match var("TRACEGEN_TRACES") {
        Some(n) => Budget::Traces(n.max(1)),
        None => Budget::Time(Duration::from_secs(var("TRACEGEN_SECONDS").unwrap_or(2))),
    };
    // Cargo passes `--bench`; the other arguments name tasks.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    println!(
        "{:<12} {:>6} {:>8} {:>12} {:>12} {:>14} {:>12}",
        "task", "size", "traces", "steps/trace", "ms/trace", "steps/s", "frames/s"
    );
    for (stem, size) in [("add", 1000), ("bubblesort", 100)] {
        if !only.is_empty() && !only.iter().any(|o| o == stem) {
            continue;
        }
        let task = load(stem);
        if let Budget::Time(t) = budget {
            run(&task, size, Budget::Time(t / 10)); // warm-up
        }
        let (traces, steps, frames, elapsed) = run(&task, size, budget);
        let secs = elapsed.as_secs_f64();
        println!(
            "{:<12} {:>6} {:>8} {:>12} {:>12.3} {:>14.0} {:>12.0}",
            stem,
            size,
            traces,
            steps / traces,
            secs * 1e3 / traces as f64,
            steps as f64 / secs,
            frames as f64 / secs
        );
    }
}
