//! Trace generation over the stdlib tasks: snapshots of the text form, the
//! reference programs satisfying `expect` across sizes, deep recursion,
//! determinism, and a learned model's view of the same world (replaying a
//! trace through `Instance::act` must see the trace's observations).

use synth_compiler::{compile, Call, RunErrorKind, Task, Trace, ACT};

fn stdlib(stem: &str) -> Task {
    let path = format!("{}/../stdlib/{stem}.npl", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap();
    task(&src, stem)
}

fn task(src: &str, stem: &str) -> Task {
    match compile(src, stem) {
        Ok(c) => c.task,
        Err(d) => panic!("{}", synth_dsl::render_all(&d, stem, src)),
    }
}

#[test]
fn add_trace_snapshot() {
    let t = stdlib("add");
    insta::assert_snapshot!(t.render_trace(&t.trace(3, 1).unwrap()));
}

#[test]
fn bubblesort_trace_snapshot() {
    let t = stdlib("bubblesort");
    insta::assert_snapshot!(t.render_trace(&t.trace(4, 1).unwrap()));
}

#[test]
fn after_call_trace_snapshot() {
    let src = std::fs::read_to_string(format!("{}/../stdlib/add.npl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let src = src.replace("learn npi {", "learn npi {\n  return: after_call");
    let t = task(&src, "add");
    insta::assert_snapshot!(t.render_trace(&t.trace(2, 1).unwrap()));
}

#[test]
fn add_satisfies_expect_at_every_size() {
    let t = stdlib("add");
    for size in 1..=30 {
        for seed in 0..4 {
            t.trace(size, seed).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    for size in [100, 1000] {
        t.trace(size, 7).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn add_at_3000_digits() {
    let t = stdlib("add");
    let trace = t.trace(3000, 3).unwrap();
    // Per digit: one ADD1 and one LSHIFT call in ADD, four moves and an end
    // in LSHIFT, a write and an end in ADD1, at least.
    assert!(trace.steps.len() > 3000 * 9, "{}", trace.steps.len());
}

#[test]
fn bubblesort_satisfies_expect_at_every_size() {
    let t = stdlib("bubblesort");
    for size in 1..=30 {
        for seed in 0..4 {
            t.trace(size, seed).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    t.trace(100, 7).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_stdlib_task_runs() {
    let dir = format!("{}/../stdlib", env!("CARGO_MANIFEST_DIR"));
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "npl").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    stems.sort();
    for stem in stems {
        let t = stdlib(&stem);
        for size in [1, 2, 5, 20] {
            if t.is_table() {
                t.table_example(size, 0).unwrap_or_else(|e| panic!("{stem}: {e}"));
            } else if t.is_tape() {
                t.tape_example(size, 0).unwrap_or_else(|e| panic!("{stem}: {e}"));
            } else {
                t.trace(size, 0).unwrap_or_else(|e| panic!("{stem}: {e}"));
            }
        }
    }
}

const WALK: &str = "world scratchpad(rows: 1, cols: n, base: 10) {
  pointer p on row 0 at left
}
input(n) {
  let xs = random_list(n, 0..10)
  write_list(row: 0, xs)
}
expect read_list(row: 0) == xs
program WALK {
  if !at_end(p) {
    move(p, right)
    WALK()
  }
}
";

#[test]
fn recursion_5000_deep() {
    let t = task(WALK, "walk");
    let trace = t.trace(5000, 1).unwrap();
    assert_eq!(trace.frames.len(), 5000);
    assert_eq!(trace.frames.iter().map(|f| f.depth).max(), Some(4999));
    // The text form walks the tree without recursing either.
    assert!(t.render_trace(&trace).lines().count() > 10_000);
}

#[test]
fn depth_and_step_limits_stop_runs() {
    let mut t = task(WALK, "walk");
    t.limits.max_depth = 100;
    assert_eq!(t.trace(101, 0).unwrap_err().kind, RunErrorKind::DepthLimit);
    t.trace(100, 0).unwrap();
    t.limits.max_steps = 50;
    assert_eq!(t.trace(100, 0).unwrap_err().kind, RunErrorKind::StepLimit);
}

#[test]
fn traces_are_deterministic() {
    let t = stdlib("bubblesort");
    assert_eq!(t.trace(6, 3).unwrap(), t.trace(6, 3).unwrap());
    assert_ne!(t.trace(6, 3).unwrap(), t.trace(6, 4).unwrap());
    let json = serde_json::to_string(&t.trace(6, 3).unwrap()).unwrap();
    assert_eq!(json, serde_json::to_string(&t.trace(6, 3).unwrap()).unwrap());
}

/// Frames are in pre-order, each frame's steps are contiguous, and every
/// program call points at the frame it opened.
fn check_shape(t: &Task, trace: &Trace) {
    assert_eq!(trace.obs.len(), trace.steps.len() * trace.obs_width);
    assert_eq!(trace.obs_width, t.obs.width());
    let mut covered = vec![false; trace.steps.len()];
    for (i, f) in trace.frames.iter().enumerate() {
        assert!(f.len >= 1);
        for s in f.step_range() {
            assert!(!std::mem::replace(&mut covered[s], true));
        }
        let last = &trace.steps[f.first_step as usize + f.len as usize - 1];
        assert!(last.end, "frame {i} ends on its last step");
        for s in f.step_range() {
            let step = &trace.steps[s];
            if s + 1 < f.first_step as usize + f.len as usize {
                assert!(!step.end);
            }
            match step.call {
                Some(Call { program, .. }) if program != ACT => {
                    let c = step.child.expect("a program call opens a frame") as usize;
                    assert!(c > i);
                    assert_eq!(trace.frames[c].parent, Some(i as u32));
                    assert_eq!(trace.frames[c].depth, f.depth + 1);
                    assert_eq!(trace.frames[c].program, program);
                }
                _ => assert_eq!(step.child, None),
            }
            for (k, &v) in trace.obs(s).iter().enumerate() {
                assert!(v < t.obs.features[k].classes);
            }
        }
    }
    assert!(covered.iter().all(|&c| c));
}

#[test]
fn traces_are_well_formed() {
    for stem in ["add", "bubblesort"] {
        let t = stdlib(stem);
        for size in [1, 3, 7] {
            check_shape(&t, &t.trace(size, 2).unwrap());
        }
    }
}

/// Replays a trace the way a learned model would run: the steps in
/// execution order, observing before each decision and applying ACT calls
/// through `Instance::act`. It must see the trace's observations and end
/// with `expect` holding.
fn replay(t: &Task, size: usize, seed: u64) {
    let trace = t.trace(size, seed).unwrap();
    let mut inst = t.sample(size, seed).unwrap();
    let mut obs = vec![0u16; t.obs.width()];
    let mut stack = vec![(0usize, 0usize)];
    while let Some(&mut (f, ref mut next)) = stack.last_mut() {
        let frame = &trace.frames[f];
        if *next == frame.len as usize {
            stack.pop();
            continue;
        }
        let i = frame.first_step as usize + *next;
        *next += 1;
        inst.observe(&mut obs);
        assert_eq!(obs, trace.obs(i), "step {i}");
        let step = trace.steps[i];
        if let Some(c) = step.call {
            if c.program == ACT {
                inst.act(c.args).unwrap();
            } else {
                stack.push((step.child.unwrap() as usize, 0));
            }
        }
    }
    assert!(inst.check().unwrap());
}

#[test]
fn closed_loop_replay_sees_the_same_world() {
    replay(&stdlib("add"), 12, 5);
    replay(&stdlib("bubblesort"), 9, 5);
}

#[test]
fn garbage_actions_are_errors_not_panics() {
    let t = stdlib("bubblesort");
    let mut inst = t.sample(5, 0).unwrap();
    let mut obs = vec![0u16; t.obs.width()];
    let mut errors = 0;
    for a in [0u16, 1, 2, 3, 77, u16::MAX] {
        for p in [0u16, 2, 3, 1000, u16::MAX] {
            for v in [0u16, 1, 9, 10, 11, 500, u16::MAX] {
                match inst.act([a, p, v]) {
                    Ok(()) => {}
                    Err(e) => {
                        errors += 1;
                        assert!(matches!(e.kind, RunErrorKind::BadAct | RunErrorKind::World), "{e}");
                    }
                }
                inst.observe(&mut obs);
            }
        }
    }
    assert!(errors > 100);
    let e = inst.act([9, 0, 0]).unwrap_err();
    assert_eq!(e.to_string(), "ACT got action 9, but the actions are 0 write, 1 move and 2 swap (size 5, seed 0)");
}

#[test]
fn instance_acts_and_checks() {
    let t = stdlib("bubblesort");
    let mut inst = t.sample(2, 1).unwrap();
    let before = inst.render();
    // Writing the sorted digits by hand satisfies `expect`.
    let sorted = inst.check().unwrap();
    let swap = t.actions.iter().position(|a| a == "swap").unwrap() as u16;
    inst.act([swap, 0, 1]).unwrap();
    assert_ne!(inst.check().unwrap(), sorted);
    assert_ne!(before, inst.render());
    let mv = t.actions.iter().position(|a| a == "move").unwrap() as u16;
    let e = inst.act([mv, 0, 0]).unwrap_err();
    assert_eq!(e.kind, RunErrorKind::World);
    assert!(e.message.contains("moved off the left edge"), "{}", e.message);
}

#[test]
fn json_names_everything() {
    let t = stdlib("add");
    let trace = t.trace(2, 1).unwrap();
    let j = t.trace_json(&trace);
    assert_eq!(j["task"], "add");
    assert_eq!(j["end"], "own_step");
    assert_eq!(j["features"][0]["name"], "in1");
    assert_eq!(j["frames"][0]["call"]["text"], "ADD()");
    assert_eq!(j["frames"][0]["steps"][0]["call"]["program"], "ADD1");
    assert_eq!(j["frames"].as_array().unwrap().len(), trace.frames.len());
    let steps: usize = j["frames"].as_array().unwrap().iter().map(|f| f["steps"].as_array().unwrap().len()).sum();
    assert_eq!(steps, trace.steps.len());
}

#[test]
fn tasks_and_instances_cross_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<Task>();
    send_sync::<synth_compiler::Instance>();
    let t = stdlib("add");
    let handles: Vec<_> = (0..2u64)
        .map(|seed| {
            let t = t.clone();
            std::thread::spawn(move || t.trace(20, seed).unwrap())
        })
        .collect();
    let traces: Vec<Trace> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(traces[1], t.trace(20, 1).unwrap());
}

/// The default limits leave every stdlib task room at the sizes the
/// benchmarks use and beyond: addition at 10,000 digits, bubble sort at 100.
#[test]
fn default_limits_hold_the_benchmark_sizes() {
    let add = stdlib("add");
    assert_eq!(add.limits, synth_compiler::Limits::default());
    for stem in ["add", "sub", "add_recursive"] {
        let t = stdlib(stem);
        t.trace(10_000, 0).unwrap_or_else(|e| panic!("{stem} at 10,000 digits: {e}"));
    }
    stdlib("bubblesort").trace(100, 0).unwrap();
}

/// Size limits stop a run with their own error kind, and a loop that
/// rebuilds one value does not use up the memory limit: the old value is
/// credited when the variable is overwritten.
#[test]
fn size_limits_stop_runs_and_rebuilt_values_are_credited() {
    let run = |input: &str, learn: &str| {
        let src = format!(
            "world scratchpad(rows: 1, cols: 2, base: 10) {{
  pointer p on row 0 at left
}}
input(n) {{
{input}
}}
expect true
program P {{ return }}
learn npi {{
  {learn}
}}
"
        );
        task(&src, "t").trace(1, 0).map(|_| ()).map_err(|e| e.kind)
    };
    // 20,000 rebuilds of a number of up to 66,000 bits: 80 MB in all, never
    // more than a few kilobytes at once.
    assert_eq!(run("let a = 0\nfor i in 0..20000 { a = a * 10 + 7 }", "max_memory 1000000"), Ok(()));
    assert_eq!(run("let a = 3\nfor i in 0..20 { a = a * a }", "max_int_bits 64"), Err(RunErrorKind::SizeLimit));
    assert_eq!(run("let xs = random_list(11, 0..10)", "max_list_len 10"), Err(RunErrorKind::SizeLimit));
    assert_eq!(run("let xs = random_list(10, 0..10)\nlet ys = sorted(xs)", "max_list_len 10"), Ok(()));
    assert_eq!(run("let xs = random_list(100000, 0..10)", "max_memory 1000000"), Err(RunErrorKind::MemoryLimit));
    assert_eq!(run("let a = random_number(digits: 100)", "max_int_bits 300"), Err(RunErrorKind::SizeLimit));
    // The same limits apply to sampling alone (what a learner's validation uses).
    assert!(stdlib("add").sample(400_000, 0).is_err_and(|e| e.kind == RunErrorKind::SizeLimit));
}
