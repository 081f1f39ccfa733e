//! No input makes the compiler or the reference interpreter panic or run
//! over its limits: the fuzzing harness (`fuzzing/mod.rs`, which
//! `examples/fuzz.rs` runs by the million; see BENCHMARKS.md) on a bounded number of generated
//! and mutated files, each through parse, check, lowering, the graphs, the
//! lint, sampling and tracing, with its CPU time and peak heap measured.
//! Bounded so the whole test takes seconds.

mod fuzzing;

#[global_allocator]
static ALLOC: fuzzing::Counting = fuzzing::Counting;

/// Runs executions `from..to` of campaign `seed` and reports every offender.
fn campaign(seed: u64, from: u64, to: u64) -> (u64, u64) {
    let mut compiled = 0;
    let mut traces = 0;
    let mut offenders = Vec::new();
    for i in from..to {
        let src = fuzzing::source(seed, i);
        let mut out = fuzzing::execute(&src, seed ^ i);
        if out.violation().is_some() && out.panic.is_none() {
            // Time is measured on a shared machine: a one-off is noise.
            out = fuzzing::execute(&src, seed ^ i);
        }
        if let Some(v) = out.violation() {
            offenders.push(format!("execution {i}: {v}\n{src}"));
        }
        compiled += out.compiled as u64;
        traces += out.traces as u64;
    }
    assert!(offenders.is_empty(), "{} offenders:\n{}", offenders.len(), offenders.join("\n-----\n"));
    (compiled, traces)
}

#[test]
fn fuzzed_files_never_panic_nor_exceed_their_limits() {
    // Two threads, as the fuzzer runs; 6,000 executions in all, which take
    // a few seconds in the test profile (the fuzzer's millions run in
    // release).
    let (a, b) = std::thread::scope(|s| {
        let first = s.spawn(|| campaign(7, 0, 3_000));
        let second = s.spawn(|| campaign(7, 3_000, 6_000));
        (first.join().unwrap(), second.join().unwrap())
    });
    let (compiled, traces) = (a.0 + b.0, a.1 + b.1);
    // The generator must keep producing files that compile and run, or the
    // interpreter half of this test would test nothing.
    assert!(compiled > 1_500, "only {compiled} of 6000 files compiled");
    assert!(traces > 500, "only {traces} traces ran to the end");
}

#[test]
fn the_issue_file_stops_at_the_bit_limit_quickly() {
    let src = include_str!("../../tests/ui/run/integer_over_bit_limit.npl");
    let out = fuzzing::execute(src, 0);
    assert!(out.violation().is_none(), "{out:?}");
    assert!(out.compiled && out.limited > 0, "{out:?}");
}

#[test]
fn mutated_table_tasks_never_panic() {
    // Table worlds have their own checker and sampler: 1,500 mutations of
    // the stdlib's table tasks, each compiled and sampled.
    use rand::SeedableRng;
    let tables: Vec<&str> =
        fuzzing::STDLIB.iter().filter(|(stem, _)| stem.starts_with("tableqa")).map(|(_, src)| *src).collect();
    assert_eq!(tables.len(), 2);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let mut compiled = 0;
    for i in 0..1_500u64 {
        let src = fuzzing::mutate(tables[i as usize % 2], &mut rng);
        let out = fuzzing::execute(&src, i);
        assert!(out.violation().is_none(), "execution {i}: {:?}\n{src}", out.violation());
        compiled += out.compiled as u64;
    }
    assert!(compiled > 200, "only {compiled} of 1500 mutated table tasks compiled");
}
