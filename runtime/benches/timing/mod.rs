//! The clock every bench reads: thread CPU time where the OS reports it,
//! so that a single-threaded measurement is not skewed by other work on a
//! busy machine, and the median of timed rounds.

#![allow(dead_code)] // each bench uses what it needs

use std::time::Instant;

/// CPU time of the calling thread in ms (Linux), `None` elsewhere.
pub fn thread_cpu_ms() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e6)
}

/// Thread CPU time in ms, else wall time since `start`.
pub fn now_ms(start: &Instant) -> f64 {
    thread_cpu_ms().unwrap_or_else(|| start.elapsed().as_secs_f64() * 1e3)
}

/// The median of `xs` (the upper one of an even count).
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}
