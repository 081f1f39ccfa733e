//! Tape worlds: the language spec's Copy compiles and runs; its examples
//! are deterministic and graded on the cells the reference wrote; the run
//! is bounded by the limits; the op graph maps onto NRAM's modules; and
//! every misuse is a diagnostic or a run-time error, never a panic.

mod common;

use common::{errors, task};
use synth_compiler::RunErrorKind;

const COPY: &str = "// NRAM's Copy (Kurach et al. 2016, appendix A): p, A[0..n-1]; p points just after A.
task copy
world tape(cells: 2 * n + 2)
input(n) {
  let xs = random_list(n, 1..n + 1)
  mem[0] = n + 1
  write_list(at: 1, xs)
}
expect read_list(at: n + 1, len: n) == xs
program COPY {
  let p = mem[0]
  let i = 1
  while i < p {
    mem[p + i - 1] = mem[i]
    i = i + 1
  }
}
learn nram {
  train sizes 1..=10
  test sizes [20, 50, 200]
  registers 4, timesteps: n + 3
}
";

/// A copy of COPY with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> String {
    assert!(COPY.contains(from), "{from}");
    COPY.replace(from, to)
}

#[test]
fn copy_examples_are_graded_on_the_written_cells() {
    let t = task(COPY);
    assert!(t.is_tape());
    for size in [1, 3, 10, 200] {
        let e = t.tape_example(size, 5).unwrap();
        assert_eq!((e.size, e.seed, e.cells, e.timesteps), (size, 5, 2 * size + 2, size + 3));
        assert_eq!(e.input.len(), e.cells);
        assert_eq!(e.input[0] as usize, size + 1);
        assert_eq!(e.graded, ((size + 1) as u32..(2 * size + 1) as u32).collect::<Vec<_>>());
        assert_eq!(&e.output[size + 1..2 * size + 1], &e.input[1..size + 1]);
        assert!(e.input.iter().chain(&e.output).all(|&v| (v as usize) < e.cells));
    }
    // Same seed, same example; another seed, another input.
    assert_eq!(t.tape_example(7, 1).unwrap(), t.tape_example(7, 1).unwrap());
    assert_ne!(t.tape_example(7, 1).unwrap().input, t.tape_example(7, 2).unwrap().input);
}

#[test]
fn copy_trace_lists_every_write() {
    let t = task(COPY);
    let tr = t.tape_trace(3, 1).unwrap();
    assert_eq!(tr.writes.len(), 3);
    assert!(tr.writes.iter().all(|w| w.program == "COPY"));
    assert_eq!(tr.graded, [4, 5, 6]);
    insta::assert_snapshot!(t.render_tape_trace(&tr));
    let json = serde_json::to_value(&tr).unwrap();
    assert_eq!(json["writes"][0]["program"], "COPY");
    assert_eq!(json["graded"], serde_json::json!([4, 5, 6]));
}

#[test]
fn npi_entry_points_refuse_a_tape_task() {
    let t = task(COPY);
    let e = t.trace(3, 0).unwrap_err();
    assert_eq!(e.kind, RunErrorKind::World);
    assert_eq!(e.message, "task `copy` has a tape world, which has no NPI trace");
    assert!(t.sample(3, 0).is_err());
    assert!(t.run(3, 0).is_err());
}

#[test]
fn a_scratchpad_task_has_no_tape_examples() {
    let src = std::fs::read_to_string(format!("{}/../stdlib/add.npl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let t = task(&src);
    assert!(!t.is_tape());
    let e = t.tape_example(3, 0).unwrap_err();
    assert_eq!(e.message, "task `add` has no tape world, so it has no input/output pairs");
    assert!(t.tape_trace(3, 0).is_err());
    assert!(t.nram_modules().is_empty());
}

#[test]
fn copy_maps_onto_nram_modules() {
    let t = task(COPY);
    assert_eq!(t.nram_modules(), ["read", "zero", "one", "inc", "add", "dec", "lt", "write"]);
    insta::assert_snapshot!(t.op_graph().to_text_nram());
    let dot = t.op_graph().to_dot_nram();
    assert!(dot.contains("[inc]"), "{dot}");
}

#[test]
fn every_mapping_rule() {
    let src = edit(
        "    i = i + 1\n",
        "    i = 1 + i\n    let a = min(p, i) + max(i, 2) * 3\n    if a > 2 || a >= 1 || a != 0 || a <= p || p - a == 0 { a = -a / 2 % 5 }\n",
    );
    let t = task(&src);
    assert_eq!(t.nram_modules(), ["read", "zero", "one", "two", "inc", "add", "sub", "dec", "lt", "le", "eq", "min", "max", "write"]);
    let text = t.op_graph().to_text_nram();
    assert!(text.contains("no module"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn addresses_and_values_outside_the_tape_are_errors() {
    let t = task(&edit("mem[p + i - 1] = mem[i]", "mem[p + i + 1] = mem[i]"));
    let e = t.tape_example(3, 0).unwrap_err();
    assert_eq!(e.kind, RunErrorKind::World);
    assert_eq!(e.to_string(), "address 8 is outside the tape, whose 8 cells are 0 to 7 in program COPY (size 3, seed 0)");
    assert!(e.span.is_some());

    let t = task(&edit("mem[p + i - 1] = mem[i]", "mem[p + i - 1] = mem[i] + 2 * p"));
    let e = t.tape_example(3, 0).unwrap_err();
    assert!(e.message.starts_with("cannot store "), "{e}");
    assert!(e.message.ends_with("on a tape of 8 cells: a cell holds 0 to 7"), "{e}");

    let t = task(&edit("  mem[0] = n + 1\n", "  mem[0] = n + 1\n  let bad = mem[cells]\n"));
    let e = t.tape_example(2, 0).unwrap_err();
    assert_eq!(e.to_string(), "address 6 is outside the tape, whose 6 cells are 0 to 5 in `input` (size 2, seed 0)");

    let t = task(&edit("write_list(at: 1, xs)", "write_list(at: n + 3, xs)"));
    let e = t.tape_example(4, 0).unwrap_err();
    assert!(e.message.starts_with("a list of 4 written at address 7 does not fit"), "{e}");
}

#[test]
fn cells_are_checked_against_the_limits_before_the_tape_is_allocated() {
    let t = task(&edit("cells: 2 * n + 2", "cells: 1000000000000 * n"));
    let e = t.tape_example(3, 0).unwrap_err();
    assert_eq!(e.kind, RunErrorKind::MemoryLimit);
    let t = task(&edit("timesteps: n + 3", "timesteps: n + 3, max_memory 1000"));
    assert_eq!(t.tape_example(200, 0).unwrap_err().kind, RunErrorKind::MemoryLimit);
    assert!(t.tape_example(3, 0).is_ok());
    let t = task(&edit("cells: 2 * n + 2", "cells: 2 * n - 4"));
    assert_eq!(t.tape_example(2, 0).unwrap_err().message, "the tape would have 0 cells");
}

#[test]
fn runs_are_bounded_by_steps_and_the_log_by_memory() {
    let t = task(&edit("    i = i + 1\n", "").replace("timesteps: n + 3", "timesteps: n + 3, max_steps 100000"));
    assert_eq!(t.tape_example(3, 0).unwrap_err().kind, RunErrorKind::StepLimit);
    // An endless loop of writes: logging them stops at the memory limit.
    let t = task(&edit("    i = i + 1\n", "").replace("timesteps: n + 3", "timesteps: n + 3, max_memory 100000"));
    assert_eq!(t.tape_trace(3, 0).unwrap_err().kind, RunErrorKind::MemoryLimit);
}

#[test]
fn timesteps_is_an_expression_of_n_and_cells() {
    let t = task(&edit("timesteps: n + 3", "timesteps: cells - n"));
    assert_eq!(t.tape_example(5, 0).unwrap().timesteps, 7);
    let t = task(&edit("timesteps: n + 3", "timesteps: 5 - n"));
    let e = t.tape_example(6, 0).unwrap_err();
    assert_eq!(e.message, "`timesteps` is -1 at size 6 (14 cells), but it must be from 1 to 1000000");
    assert!(e.span.is_some());
}

/// An entry program may declare `cells` and `timesteps`, in any order,
/// and the world passes them (what a program extracted from a trained NRAM
/// needs); no other program sees them, and a program without them sees
/// neither.
#[test]
fn the_entry_may_take_cells_and_timesteps_from_the_world() {
    let copy = |params: &str, body: &str| {
        edit("program COPY {\n  let p = mem[0]\n", &format!("program COPY{params} {{\n{body}  let p = mem[0]\n"))
    };
    // The last cell is never written by Copy: mark it with both values
    // (`cells - timesteps` is `2 n + 2 - (n + 3)`).
    let t = task(&copy("(timesteps, cells)", "  mem[cells - 1] = cells - timesteps\n"));
    for size in [1, 4, 30] {
        let e = t.tape_example(size, 2).unwrap();
        assert_eq!(e.output[e.cells - 1] as usize, size - 1);
        assert_eq!(&e.output[size + 1..2 * size + 1], &e.input[1..size + 1]);
    }
    let t = task(&copy("(cells)", "  mem[cells - 1] = cells - 1\n"));
    let e = t.tape_example(3, 0).unwrap();
    assert_eq!(e.output[7], 7);
    // Another program does not see them, even when the entry does.
    let called = copy("(cells)", "  HELPER()\n") + "program HELPER {\n  mem[cells - 1] = 0\n}\n";
    assert!(errors(&called).contains("unknown variable `cells`"));
    // Only those two names, and `timesteps` only where there is one.
    insta::assert_snapshot!(errors(&copy("(cell, steps)", "")));
    insta::assert_snapshot!(errors(&copy("(timesteps)", "").replace("registers 4, timesteps: n + 3", "registers 4")));
}

#[test]
fn samplers_are_seeded_and_keep_their_promises() {
    let src = "world tape(cells: 3 * n + 3)
input(n) {
  let p = random_permutation(n)
  let d = random_distinct(n, 1..2 * n + 1)
  write_list(at: 0, p)
  write_list(at: n, d)
  mem[3 * n] = p[0]
}
expect sorted(read_list(at: 0, len: n)) == sorted(p) && len(d) == n && mem[3 * n] == p[0]
program P { mem[0] = mem[0] }
learn nram { timesteps: 1 }
";
    let t = task(src);
    for size in [1, 2, 9, 50] {
        let e = t.tape_example(size, 3).unwrap();
        let mut p = e.input[..size].to_vec();
        p.sort_unstable();
        assert_eq!(p, (0..size as u32).collect::<Vec<_>>());
        let mut d = e.input[size..2 * size].to_vec();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), size);
        assert!(d.iter().all(|&x| x >= 1 && x as usize <= 2 * size));
        assert_eq!(e.graded, [0]);
    }
    let e = task(&src.replace("random_distinct(n, 1..2 * n + 1)", "random_distinct(n + 1, 0..n)")).tape_example(2, 0);
    assert_eq!(e.unwrap_err().message, "`random_distinct` cannot draw 3 distinct integers from 0..2, which holds 2 in `input`");
}

#[test]
fn check_errors() {
    insta::assert_snapshot!(errors(&edit("  let p = mem[0]\n", "  let p = mem[0] + n + cells\n")));
    insta::assert_snapshot!(errors(&edit("registers 4, timesteps: n + 3", "registers 4")));
    insta::assert_snapshot!(errors(&edit("registers 4", "registers 4, hidden 32, wires 3, modules [read, inc, writ]")));
    insta::assert_snapshot!(errors(&edit("learn nram", "learn npi")));
    insta::assert_snapshot!(errors(&COPY[..COPY.find("learn nram").unwrap()]));
    insta::assert_snapshot!(errors(&edit("world tape(cells: 2 * n + 2)", "world tape(size: 16) {\n  register r\n}")));
    insta::assert_snapshot!(errors(&edit("  let i = 1\n", "  let i = 1\n  let mem = 2\n  let q = mem\n  write_list(at: 0, [1])\n")));
    insta::assert_snapshot!(errors(&edit("timesteps: n + 3", "timesteps: mem[0] + random_int(0..2)")));
}

#[test]
fn nram_settings_are_read() {
    let t = task(&edit(
        "registers 4",
        "registers 4, modules [read, inc, inc, write], controller: lstm, hidden 64, seeds 8, lr 0.01, entropy_decay 0.5",
    ));
    let s = &t.learn.settings;
    assert_eq!(t.learn.learner, "nram");
    assert_eq!(
        s.get("modules"),
        Some(&synth_compiler::SettingValue::Words(vec!["read".into(), "inc".into(), "inc".into(), "write".into()]))
    );
    assert_eq!(s.get("controller"), Some(&synth_compiler::SettingValue::Word("lstm".into())));
    assert!(!s.contains_key("timesteps"));
    let t = task(&edit("registers 4", "registers 4, modules: program"));
    assert_eq!(t.learn.settings.get("modules"), Some(&synth_compiler::SettingValue::Word("program".into())));
    // `start` takes a string (the runtime reads the circuit in it).
    let t = task(&edit("registers 4", "registers 4, start \"read0(r0) r0 := read0\", start logit 6"));
    assert_eq!(t.learn.settings.get("start"), Some(&synth_compiler::SettingValue::Word("read0(r0) r0 := read0".into())));
    let e = errors(&edit("registers 4", "registers 4, start: read"));
    assert!(e.contains("the nram setting `start` takes a string in double quotes, found `read`"), "{e}");
}
