//! The checker's tests: whole files compiled, their errors and results.
use crate::ir::ParamKind;
use crate::task::EndConvention;
use crate::{compile, Compiled};

const WORLD: &str = "world scratchpad(rows: 2, cols: n + 1, base: 10) {
  pointer a on row 0 at left
  pointer b on row 1 at right
}
input(n) {
  let xs = random_list(n, 0..10)
  write_list(row: 0, xs)
}
expect read_list(row: 0) == xs
";

fn ok(programs: &str) -> Compiled {
    let src = format!("{WORLD}{programs}");
    match compile(&src, "t") {
        Ok(c) => c,
        Err(d) => panic!("{}", synth_dsl::render_all(&d, "t.npl", &src)),
    }
}

/// The error messages, in order.
fn errors(src: &str) -> Vec<String> {
    match compile(src, "t") {
        Ok(_) => Vec::new(),
        Err(d) => d.into_iter().filter(|d| d.is_error()).map(|d| d.message).collect(),
    }
}

#[test]
fn parameter_kinds_flow_through_calls() {
    let c = ok("program MAIN { OUTER(a, right) }
program OUTER(p, d) { INNER(p, d) }
program INNER(q, e) { move(q, e) }
");
    let m = &c.task.module;
    for name in ["OUTER", "INNER"] {
        let id = c.task.program_id(name).unwrap();
        let kinds: Vec<ParamKind> = m.proc(id).params.iter().map(|p| p.1).collect();
        assert_eq!(kinds, vec![ParamKind::Pointer, ParamKind::Dir], "{name}");
    }
    let t = c.task.trace(3, 0).unwrap();
    let text = c.task.render_trace(&t);
    assert!(text.contains("OUTER(a, right)") && text.contains("INNER(a, right)"), "{text}");
}

#[test]
fn entry_levels_and_layout() {
    let c = ok("program MAIN { STEP(); STEP() }
program STEP { move(a, right) }
program SPIN { SPIN() }
");
    let t = &c.task;
    assert_eq!(t.entry, 1);
    let names: Vec<&str> = t.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["ACT", "MAIN", "STEP", "SPIN"]);
    assert_eq!(t.programs.iter().map(|p| p.level).collect::<Vec<_>>(), [0, 2, 1, 1]);
    assert!(t.programs[3].recursive && !t.programs[1].recursive);
    let features: Vec<(&str, u16)> = t.obs.features.iter().map(|f| (f.name.as_str(), f.classes)).collect();
    assert_eq!(features, [("a", 11), ("a.start", 2), ("a.end", 2), ("b", 11), ("b.start", 2), ("b.end", 2)]);
    assert_eq!(t.args.classes, 11);
    assert_eq!(t.actions, ["write", "move", "swap"]);
    assert_eq!(t.end, EndConvention::OwnStep);

    let c = ok("entry STEP\nprogram MAIN { STEP() }\nprogram STEP { move(a, right) }\n");
    assert_eq!(c.task.entry, 2);
}

#[test]
fn reports_every_error_not_just_the_first() {
    let src = format!(
        "{WORLD}program MAIN {{
  move(a, 3)
  write(a, left)
  LSHIT()
  let x = y
  swap(a, 4)
}}
program LSHIFT {{ move(a, left) }}
"
    );
    let errs = errors(&src);
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert!(errs[0].contains("direction"));
    assert!(errs[1].contains("a digit or `blank`"));
    assert_eq!(errs[2], "unknown program `LSHIT`");
    assert_eq!(errs[3], "unknown variable `y`");
    assert!(errs[4].contains("must be a pointer"));
}

#[test]
fn contexts_are_enforced() {
    let src = "world scratchpad(rows: 1, cols: n, base: 10) {
  pointer p on row 0 at left
}
input(n) {
  move(p, right)
  MAIN()
}
expect random_int(0..2) == 1
program MAIN {
  let r = read_number(row: 0)
  let s = random_number(digits: 2)
}
";
    let errs = errors(src);
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert!(errs.iter().any(|e| e.contains("`move` is an action")));
    assert!(errs.iter().any(|e| e.starts_with("programs can only be called from programs")));
    assert_eq!(errs.iter().filter(|e| e.contains("draws a random value")).count(), 2, "{errs:#?}");
    assert!(errs.iter().any(|e| e.contains("`read_number` works on whole rows")));
}

#[test]
fn world_problems() {
    let errs = errors(
        "world scratchpad(rows: 2, colls: n, base: n) {
  pointer p on row 5 at 0
  pointer p on row 0 at left
  pointer WALL on row 0 at left
  register r
}
input(n) { write_number(row: 0, 1) }
expect true
program MAIN { return }
",
    );
    assert!(errs.iter().any(|e| e == "a scratchpad has no argument `colls`"), "{errs:#?}");
    assert!(errs.iter().any(|e| e == "the scratchpad is missing `cols`"));
    assert!(errs.iter().any(|e| e == "the base must be a constant"));
    assert!(errs.iter().any(|e| e.starts_with("pointer `p` is on row 5")));
    assert!(errs.iter().any(|e| e == "the pointer `p` is declared twice"));
    assert!(errs.iter().any(|e| e.contains("`WALL` is written like a program name")));
    assert!(errs.iter().any(|e| e.contains("not `register`")));
}

#[test]
fn missing_items() {
    let errs = errors("world scratchpad(rows: 1, cols: n, base: 10) { pointer p on row 0 at left }\n");
    assert_eq!(errs, ["the file has no `input` block", "the file has no `expect`", "the file has no programs"]);
    let errs = errors("task t\n");
    assert_eq!(errs, ["the file declares no world"]);
}

#[test]
fn learn_block_reaches_the_task() {
    let c = ok("program MAIN { return }
learn npi {
  train sizes [2, 4], traces 10
  test sizes 8..=9
  return: after_call
  max_steps 1234
  hidden 64, lr 3e-4
}
");
    let t = &c.task;
    assert_eq!(t.learn.train_sizes, [2, 4]);
    assert_eq!(t.learn.test_sizes, [8, 9]);
    assert_eq!(t.learn.traces, 10);
    assert_eq!(t.end, EndConvention::AfterCall);
    assert_eq!(t.limits.max_steps, 1234);
    assert_eq!(t.learn.settings.len(), 2);
}

#[test]
fn observe_features() {
    let src = "world scratchpad(rows: 1, cols: n, base: 4) {
  pointer lo on row 0 at left
  pointer hi on row 0 at right
  observe pos(lo) >= pos(hi)
  observe hi
}
input(n) { write_list(row: 0, [1, 2, 3]) }
expect true
program MAIN { return }
";
    let c = compile(src, "t").unwrap();
    let f: Vec<(&str, u16)> = c.task.obs.features.iter().map(|f| (f.name.as_str(), f.classes)).collect();
    assert_eq!(&f[6..], [("pos(lo) >= pos(hi)", 2), ("hi", 5)]);
    let inst = c.task.sample(3, 0).unwrap();
    let mut obs = vec![0; c.task.obs.width()];
    inst.observe(&mut obs);
    assert_eq!(obs, [1, 1, 0, 3, 0, 1, 0, 3]);
}
