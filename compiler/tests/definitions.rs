//! Program definitions: the hashes a model trained on several tasks shares
//! programs by. The same program in two files is one program; a change to
//! it, to anything it calls or to the world it acts in is another.

use synth_compiler::{compile, Task, ACT_DEFINITION};

const WORLD: &str = "world scratchpad(rows: 1, cols: n + 1, base: 10) {
  pointer i on row 0 at left
  pointer j on row 0 at 1
}
input(n) { write_list(row: 0, random_list(n, 0..10)) }
expect true
";

fn task(world: &str, programs: &str, name: &str) -> Task {
    let src = format!("{world}{programs}");
    match compile(&src, name) {
        Ok(c) => c.task,
        Err(d) => panic!("{}", synth_dsl::render_all(&d, "t.npl", &src)),
    }
}

fn definition(t: &Task, name: &str) -> String {
    t.definitions[t.program_id(name).unwrap() as usize].clone()
}

const SHIFTS: &str = "
program MAIN { STEP() }
program STEP { SHIFT() }
program SHIFT {
  move(i, right)
  move(j, right)
}
";

#[test]
fn the_same_program_in_two_files_has_one_definition() {
    let a = task(WORLD, SHIFTS, "a");
    // Comments, layout and the order of the items do not count.
    let b = task(WORLD, "// shifts\nprogram SHIFT {\n    move(i,  right)\n\n  move(j, right)\n}\nprogram MAIN { STEP() }\nprogram STEP {\n  SHIFT() // once\n}\n", "b");
    for p in ["MAIN", "STEP", "SHIFT"] {
        assert_eq!(definition(&a, p), definition(&b, p), "{p}");
    }
    assert_eq!(a.definitions[0], ACT_DEFINITION);
    assert_eq!(a.world_definition, b.world_definition);
    assert_eq!(a.definitions.len(), a.programs.len());
}

#[test]
fn a_changed_callee_or_world_changes_every_caller() {
    let a = task(WORLD, SHIFTS, "a");
    let b = task(WORLD, &SHIFTS.replace("move(j, right)", "move(j, left)"), "b");
    for p in ["MAIN", "STEP", "SHIFT"] {
        assert_ne!(definition(&a, p), definition(&b, p), "{p}");
    }
    let c = task(&WORLD.replace("at 1", "at 2"), SHIFTS, "c");
    assert_ne!(definition(&a, "SHIFT"), definition(&c, "SHIFT"));
    assert_ne!(a.world_definition, c.world_definition);
    // Programs with different names are different programs, even with the
    // same body.
    let d = task(WORLD, &SHIFTS.replace("SHIFT", "MOVE2"), "d");
    assert_ne!(definition(&a, "SHIFT"), definition(&d, "MOVE2"));
}
