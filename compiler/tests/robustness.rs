//! No input makes the compiler or the reference interpreter panic: seeded
//! mutations of every stdlib file go through parse, check, lowering, the
//! graphs and the lint, and whatever still compiles is run on small inputs
//! under a small step limit. Bounded so the whole test takes seconds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synth::stdlib;

/// Fragments that are likely to produce interesting near-miss programs.
const SNIPPETS: &[&str] = &[
    "blank", "left", "right", "(", ")", "{", "}", "[", "]", ",", "\n", "ADD()", "move(p, left)", "write(out, 10)", "swap(i, i)",
    "while true { }", "if x { }", "let x = 1", "x = x + 1", "return", "0..n", "n", "-1", "99999999999999999999999", "digit(",
    "pos(i)", "at_end(k)", "random_int(0..0)", "/ 0", "% 0", "program Q(a, b, c, d) { }", "entry NOPE", "observe 1",
];

fn mutate(src: &str, rng: &mut ChaCha8Rng) -> String {
    let mut s: Vec<char> = src.chars().collect();
    for _ in 0..rng.random_range(1..=3) {
        if s.is_empty() {
            break;
        }
        let at = rng.random_range(0..s.len());
        match rng.random_range(0..4) {
            0 => {
                let end = (at + rng.random_range(1..20)).min(s.len());
                s.drain(at..end);
            }
            1 => {
                let snippet = SNIPPETS[rng.random_range(0..SNIPPETS.len())];
                s.splice(at..at, snippet.chars());
            }
            2 => {
                let end = (at + rng.random_range(1..30)).min(s.len());
                let copy: Vec<char> = s[at..end].to_vec();
                let to = rng.random_range(0..s.len());
                s.splice(to..to, copy);
            }
            _ => {
                // Swap a digit for another number, the way typos change values.
                if s[at].is_ascii_digit() {
                    s[at] = char::from(b'0' + rng.random_range(0..10u8));
                } else {
                    s.insert(at, '0');
                }
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn mutated_stdlib_never_panics() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut compiled = 0;
    for (stem, src) in stdlib::STDLIB {
        for _ in 0..400 {
            let text = mutate(src, &mut rng);
            let Ok(c) = synth_compiler::compile(&text, stem) else { continue };
            compiled += 1;
            let mut task = c.task;
            task.limits.max_steps = 20_000;
            task.limits.max_depth = 200;
            let _ = task.call_graph().to_dot();
            let _ = task.op_graph().to_text();
            for size in 1..=3 {
                if let Ok(trace) = task.trace(size, rng.random()) {
                    let _ = task.render_trace(&trace);
                }
            }
        }
    }
    // The mutations must leave some programs compiling, or the run half of
    // this test would test nothing.
    assert!(compiled > 50, "only {compiled} mutants compiled");
}
