//! What NPL expressions and statements compute, checked through `expect`:
//! each case is an `input` body and an expectation over its bindings.

use synth_compiler::{compile, RunErrorKind};

/// Whether `expect` holds after `input` runs (size 3, seed 1); `Err` holds
/// the run-time error's message.
fn holds(input: &str, expect: &str) -> Result<bool, String> {
    let src = format!(
        "world scratchpad(rows: 2, cols: n + 1, base: 10) {{
  pointer p on row 0 at left
}}
input(n) {{
{input}
}}
expect {expect}
program MAIN {{ return }}
"
    );
    let task = match compile(&src, "t") {
        Ok(c) => c.task,
        Err(d) => panic!("{}", synth_dsl::render_all(&d, "t.npl", &src)),
    };
    let inst = task.sample(3, 1).map_err(|e| e.to_string())?;
    inst.check().map_err(|e| e.to_string())
}

fn yes(input: &str, expect: &str) {
    assert_eq!(holds(input, expect), Ok(true), "{input} / {expect}");
}

#[test]
fn integer_arithmetic_rounds_down() {
    yes("let x = 7 / 2", "x == 3");
    yes("let x = -7 / 2", "x == -4");
    yes("let x = -7 % 2", "x == 1");
    yes("let x = 2 + 3 * 4 - 1", "x == 13");
    yes("let x = abs(-5)", "x == 5 && abs(5) == 5");
    assert!(holds("let x = 1 / (n - 3)", "x == 0").unwrap_err().contains("division by zero"));
}

#[test]
fn big_integers() {
    yes("let a = random_number(digits: 40)", "a + 1 - 1 == a && a * a / a == a && a > 999999999");
    yes("let a = 9223372036854775807", "a + 1 > a && (a + 1) - a == 1");
    yes("let a = random_number(digits: 30)\nlet b = random_int(0..a + 1)", "b <= a && b >= 0");
    yes("let a = random_number(digits: 1)", "a >= 0 && a < 10");
}

#[test]
fn lists_and_built_ins() {
    yes("let xs = [3, 1, 2]", "sorted(xs) == [1, 2, 3] && reversed(xs) == [2, 1, 3]");
    yes("let xs = [3, 1]", "repeat(xs, 3) == [3, 1, 3, 1, 3, 1] && repeat(xs, 0) == [] && repeat([], n) == []");
    assert!(holds("let xs = repeat([1], -1)", "true").unwrap_err().contains("`repeat` needs a number of copies in 0..="));
    yes("let xs = [3, 1, 2]", "min(xs) == 1 && max(xs) == 3 && min(4, 2, 8) == 2 && max(4, 9) == 9");
    yes("let xs = [3, 1, 2]\nxs[1] = 7", "xs == [3, 7, 2] && xs[0] == 3 && len(xs) == 3");
    yes("let xs = random_list(n, 5..6)", "xs == [5, 5, 5]");
    yes("let x = random_int(4..=4)", "x == 4");
    assert!(holds("let xs = [1]", "xs[3] == 1").unwrap_err().contains("out of range"));
    assert!(holds("let x = random_int(3..3)", "true").unwrap_err().contains("empty range"));
}

#[test]
fn control_flow() {
    yes("let s = 0\nfor i in 0..5 { s = s + i }", "s == 10");
    yes("let s = 0\nfor i in 1..=3 { s = s * 10 + i }", "s == 123");
    yes("let s = 0\nfor x in [4, 5] { s = s + x }", "s == 9");
    yes("let i = 0\nwhile i < 7 { i = i + 2 }", "i == 8");
    yes("let k = 0\nif n == 1 { k = 1 } else if n == 3 { k = 3 } else { k = 9 }", "k == 3");
    yes("let k = 1\nif false || !(n == 3) { k = 2 }", "k == 1");
    yes("let k = 0\nfor i in 0..10 { if i == 4 { return }\nk = i }", "k == 3");
}

#[test]
fn the_pad_round_trips() {
    yes("let a = random_number(digits: n)\nwrite_number(row: 0, a)", "read_number(row: 0) == a");
    yes("write_list(row: 1, [0, 9])", "read_list(row: 1) == [0, 9] && read_number(row: 1) == 9");
    yes("write_number(row: 0, 0)", "read_list(row: 0) == [0]");
    yes("write_list(row: 0, [4])", "p == 4 && digit(p) == 4 && pos(p) == 0 && at_start(p) && !at_end(p)");
    yes("let x = 1", "p == blank && digit(p) == 0");
    assert!(holds("write_list(row: 0, [1, 2, 3, 4, 5])", "true").unwrap_err().contains("too narrow"));
    assert!(holds("write_list(row: 0, [12])", "true").unwrap_err().contains("cannot write 12"));
    assert!(holds("write_number(row: 2, 1)", "true").unwrap_err().contains("row 2 does not exist"));
}

#[test]
fn blank_is_not_a_number() {
    let e = holds("let x = 1", "p + 1 == 1").unwrap_err();
    assert_eq!(e, "pointer `p` is on a blank cell, and `blank` cannot be used in `+` in `expect` (size 3, seed 1)");
    let e = holds("let x = 1", "p < 3").unwrap_err();
    assert!(e.contains("cannot be ordered with `<`"), "{e}");
}

#[test]
fn thousands_of_digits() {
    let src = "world scratchpad(rows: 3, cols: n + 1, base: 10) {
  pointer p on row 0 at left
}
input(n) {
  let a = random_number(digits: n)
  let b = random_number(digits: n)
  write_number(row: 0, a)
  write_number(row: 1, a + b)
}
expect read_number(row: 1) - read_number(row: 0) == b && read_number(row: 0) >= 10
program MAIN { return }
";
    let task = compile(src, "t").unwrap().task;
    let inst = task.sample(3000, 9).unwrap();
    assert!(inst.check().unwrap());
    // No leading zero: the first cell of a 3000-digit number is not 0.
    let inst = task.sample(3000, 10).unwrap();
    let render = inst.render();
    let cells: Vec<&str> = render.lines().next().unwrap().split_whitespace().skip(2).collect();
    assert_eq!(cells.len(), 3001);
    assert_eq!(cells[0], "_");
    assert_ne!(cells[1], "0");
}

#[test]
fn the_step_limit_covers_input() {
    let src = "world scratchpad(rows: 1, cols: n, base: 10) {
  pointer p on row 0 at left
}
input(n) {
  while true { }
}
expect true
program MAIN { return }
learn npi { max_steps 1000 }
";
    let task = compile(src, "t").unwrap().task;
    let e = task.sample(1, 0).unwrap_err();
    assert_eq!(e.kind, RunErrorKind::StepLimit);
    assert!(e.to_string().contains("in `input`"), "{e}");
}

/// The source hash that checkpoints are checked against covers what the task
/// means, not comments, layout or the `learn` block.
#[test]
fn source_hash_ignores_comments_layout_and_learn() {
    let add = include_str!("../../stdlib/add.npl");
    let hash = |src: &str| compile(src, "add").unwrap().task.source_hash;
    let base = hash(add);
    let commented = add.replace("program ADD1 {", "// one column\nprogram   ADD1 {  // here");
    assert_eq!(hash(&commented), base);
    let relearned = add.replace("traces 320", "traces 64\n  hidden 128");
    assert_eq!(hash(&relearned), base);
    let changed = add.replace("write(out, s % 10)", "write(out, s % 10)\n  move(out, left)\n  move(out, right)");
    assert_ne!(hash(&changed), base);
    let renamed = add.replace("LSHIFT", "SHIFTL");
    assert_ne!(hash(&renamed), base);
}

/// `random_number` in base 256: 15 digits are 120 bits, past the i64 path
/// that 15 decimal digits take (it used to overflow).
#[test]
fn random_numbers_in_large_bases_do_not_overflow() {
    let src = "world scratchpad(rows: 1, cols: 16, base: 256) {
  pointer p on row 0 at left
}
input(n) {
  let a = random_number(digits: 15)
  write_number(row: 0, a)
}
expect read_number(row: 0) == a && a > 1000000000000000000000000000000
program P { write(p, digit(p)) }
";
    let task = synth_compiler::compile(src, "t").unwrap().task;
    for seed in 0..8 {
        task.trace(1, seed).unwrap();
    }
}

/// A scratchpad's input/output pair: the output rows are those the programs
/// write through (addition: the carry and output rows; sorting: its one
/// row), and `expect` grades an output written into them.
#[test]
fn pad_examples_hold_the_written_rows() {
    let add = compile(include_str!("../../stdlib/add.npl"), "add").unwrap().task;
    let e = add.pad_example(3, 4).unwrap();
    assert_eq!((e.rows, e.cols, e.blank), (4, 5, 10));
    assert_eq!(e.output_rows, vec![2, 3]);
    assert_eq!(e.input.len(), 20);
    assert_eq!(e.output.len(), 10);
    // The sampled carry and output rows are blank.
    assert!(e.input[10..].iter().all(|&v| v == 10));
    let number = |cells: &[u16]| cells.iter().filter(|&&v| v < 10).fold(0u64, |n, &d| 10 * n + d as u64);
    assert_eq!(number(&e.output[5..]), number(&e.input[..5]) + number(&e.input[5..10]));
    assert!(add.check_pad_output(3, 4, &e.output).unwrap());
    let mut wrong = e.output.clone();
    wrong[9] = (wrong[9] + 1) % 10;
    assert!(!add.check_pad_output(3, 4, &wrong).unwrap());
    // The carry row is scratch: `expect` reads only the output row.
    let mut carry = e.output.clone();
    carry[..5].fill(10);
    assert!(add.check_pad_output(3, 4, &carry).unwrap());
    assert!(add.check_pad_output(3, 4, &e.output[1..]).is_err());

    let sort = compile(include_str!("../../stdlib/bubblesort.npl"), "bubblesort").unwrap().task;
    let e = sort.pad_example(6, 1).unwrap();
    assert_eq!(e.output_rows, vec![0]);
    let mut want: Vec<u16> = e.input.iter().copied().filter(|&v| v < 10).collect();
    want.sort_unstable();
    assert_eq!(&e.output[..6], &want[..]);
    assert!(sort.check_pad_output(6, 1, &e.output).unwrap());

    let copy = compile(include_str!("../../stdlib/nram_copy.npl"), "nram_copy").unwrap().task;
    assert!(copy.pad_example(3, 0).unwrap_err().to_string().contains("tape world"));
}
