//! Table worlds: the language spec's synthetic table task compiles; its
//! instances are deterministic, draw every question and template, and have
//! exact answers; every latent program, run by the hard executor, gives the
//! answer expression's value; and every misuse is a diagnostic or a run-time
//! error, never a panic.

mod common;

use common::{errors, task};
use std::collections::BTreeMap;
use synth_compiler::table::execute;
use synth_compiler::{Answer, Cell, Op};

const TABLEQA: &str = "// Neural Programmer's synthetic table questions (Neelakantan et al. 2016).
task tableqa

world table(rows: n) {
  column a
  column b
  column c
  column city: word
}

input(n) {
  fill(a, random_list(n, 0..100))
  fill(b, random_list(n, 0..100))
  fill(c, random_list(n, 0..100))
  fill(city, random_words(n, [\"oslo\", \"lima\", \"rome\", \"kiev\", \"doha\"]))
}

question \"sum of {x}\" (x: column) { sum(x) }
question \"how many rows have {x} greater than {v}\" (x: column, v: 0..100) { count(where x > v) }
question \"sum of {x} where {y} is less than {v}\" (x: column, y: column, v: 0..100) { sum(x where y < v) }
question \"print {x} where {y} is greater than {v} and {z} is less than {w}\"
  (x: column, y: column, z: column, v: 0..100, w: 0..100) { print(x where y > v && z < w) }
question \"total {x} in {t}\" | \"sum of {x} where city is {t}\" (x: column, t: word of city) { sum(x where city == t) }
question \"difference between sum of {x} where {y} is greater than {v} and where {y} is less than {w}\"
  (x: column, y: column, v: 0..100, w: 0..100) { sum(x where y > v) - sum(x where y < w) }

learn np {
  train sizes 30..=100, questions 50000
  test sizes [100, 500, 2000]
}
";

/// A copy of TABLEQA with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> String {
    assert!(TABLEQA.contains(from), "{from}");
    TABLEQA.replacen(from, to, 1)
}

/// The spec's example with its questions replaced by `questions`.
fn with_questions(questions: &str) -> String {
    let start = TABLEQA.find("question ").unwrap();
    let end = TABLEQA.find("learn np").unwrap();
    format!("{}{questions}\n{}", &TABLEQA[..start], &TABLEQA[end..])
}

#[test]
fn the_spec_example_compiles() {
    let t = task(TABLEQA);
    assert!(t.is_table() && !t.is_tape());
    assert_eq!(t.world().name(), "table");
    assert_eq!(t.learn.learner, "np");
    // The difference question is the longest: greater, sum, lesser, sum, difference.
    assert_eq!(t.table_timesteps(), Some(5));
    assert_eq!(t.table_columns().len(), 4);
    assert!(t.trace(3, 0).is_err() && t.sample(3, 0).is_err() && t.tape_example(3, 0).is_err());
    // The refusal names the table world and points to its own entry point.
    let e = t.tape_example(3, 0).unwrap_err();
    assert_eq!(e.message, "task `tableqa` has a table world, which has no input/output pairs");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("Task::table_example")), "{e:?}");
}

#[test]
fn examples_are_deterministic_and_sized() {
    let t = task(TABLEQA);
    for (size, seed) in [(30, 0), (100, 7), (2000, 3)] {
        let a = t.table_example(size, seed).unwrap();
        assert_eq!(a, t.table_example(size, seed).unwrap());
        assert_eq!(a.rows, size);
        assert!(a.columns.iter().all(|c| c.cells.len() == size));
    }
    assert_ne!(t.table_example(30, 0).unwrap(), t.table_example(30, 1).unwrap());
}

/// The heart of the latent program: run exactly, it gives the value the
/// answer expression computes directly, on every question and many tables.
#[test]
fn latent_programs_compute_the_answers() {
    let t = task(TABLEQA);
    let mut seen = BTreeMap::new();
    for seed in 0..600 {
        let size = 1 + (seed as usize * 7) % 60;
        let e = t.table_example(size, seed).unwrap();
        let ran = execute(&e.columns, &e.program).unwrap_or_else(|err| panic!("seed {seed}: {err}\n{e:?}"));
        assert_eq!(ran, e.answer, "seed {seed}: {}", e.render("t"));
        assert!(e.program.len() <= 5);
        // Pivots come from the question: the learner can point at them.
        for s in &e.program {
            if let Some(p) = &s.pivot {
                assert_eq!(s.pivot_token.map(|i| &e.tokens[i]), Some(p), "seed {seed}");
            }
        }
        *seen.entry((e.question, e.template)).or_insert(0) += 1;
    }
    // Every question and template is drawn, about evenly (7 pairs; 600 draws).
    assert_eq!(seen.len(), 7, "{seen:?}");
    for (q, n) in &seen {
        let want = if q.0 == 4 { 50 } else { 100 };
        assert!((*n as i64 - want).abs() < want / 2, "{q:?} drawn {n} times: {seen:?}");
    }
}

#[test]
fn answers_match_a_direct_computation() {
    let t = task(&with_questions(
        "question \"sum of b where a is greater than {v}\" (v: 0..100) { sum(b where a > v) }",
    ));
    for seed in 0..50 {
        let e = t.table_example(20, seed).unwrap();
        let Cell::Number(v) = e.program[0].pivot.clone().unwrap() else { panic!() };
        let col = |name: &str| e.columns.iter().find(|c| c.name == name).unwrap().cells.clone();
        let (a, b) = (col("a"), col("b"));
        let mut want = 0;
        for (x, y) in a.iter().zip(&b) {
            if let (Cell::Number(x), Cell::Number(y)) = (x, y) {
                if *x > v {
                    want += y;
                }
            }
        }
        assert_eq!(e.answer, Answer::Scalar { value: want });
        assert_eq!(e.numbers, vec![v]);
        assert_eq!(e.program.iter().map(|s| s.op).collect::<Vec<_>>(), vec![Op::Greater, Op::Sum]);
    }
}

#[test]
fn mapping_rules() {
    let programs = |q: &str| -> String {
        let t = task(&with_questions(q));
        let e = t.table_example(30, 4).unwrap();
        e.program.iter().map(|s| s.op.name()).collect::<Vec<_>>().join(" ")
    };
    // A compound left side of `||` is fine; a compound right side is swapped.
    assert_eq!(
        programs("question \"{x} {y} {z} {v} {w} {u}\" (x: column, y: column, z: column, v: 0..100, w: 0..100, u: 0..100) { count(where x > v && y < w || z > u) }"),
        "greater lesser and greater or count"
    );
    assert_eq!(
        programs("question \"{x} {y} {z} {v} {w} {u}\" (x: column, y: column, z: column, v: 0..100, w: 0..100, u: 0..100) { count(where z > u || x > v && y < w) }"),
        "greater lesser and greater or count"
    );
    // A plain sum after a difference's first scalar resets the selection.
    assert_eq!(
        programs("question \"{x} {y} {v}\" (x: column, y: column, v: 0..100) { sum(x where y > v) - sum(x) }"),
        "greater sum reset sum difference"
    );
    assert_eq!(programs("question \"rows in {t}\" (t: word of city) { count(where city == t) }"), "word_match count");
    assert_eq!(programs("question \"a above 50\" { print(city where a > 50) }"), "greater print");
}

#[test]
fn lookup_answers_name_their_cells() {
    let t = task(&with_questions("question \"a above 50\" { print(city where a > 50) }"));
    let e = t.table_example(10, 2).unwrap();
    let Answer::Lookup { column, rows, cells } = &e.answer else { panic!() };
    assert_eq!(column, "city");
    let a = &e.columns[0].cells;
    let want: Vec<usize> = (0..10).filter(|&i| matches!(a[i], Cell::Number(v) if v > 50)).collect();
    assert_eq!(rows, &want);
    assert!(cells.iter().all(|c| matches!(c, Cell::Word(_))));
}

#[test]
fn unanswerable_questions_are_a_clear_error() {
    let t = task(&with_questions("question \"{x} over {v}\" (x: column, v: 200..300) { count(where x > v) }"));
    let e = t.table_example(10, 0).unwrap_err();
    assert!(e.message.contains("no question with a defined, non-empty answer"), "{e}");
}

#[test]
fn check_errors() {
    // Holes: unknown in the template, missing from a template, unused.
    insta::assert_snapshot!(errors(&edit("question \"sum of {x}\" (x: column)", "question \"sum of {y}\" | \"total\" (x: column, v: 0..9)")));
    // Answers: number equality, words summed, unknown operation, compound difference.
    insta::assert_snapshot!(errors(&with_questions(
        "question \"{x} {v}\" (x: column, v: 0..9) { count(where x == v) }
question \"sum of city\" { sum(city) }
question \"avg {x}\" (x: column) { mean(x) }
question \"{x} {y} {v} {w}\" (x: column, y: column, v: 0..9, w: 0..9) { sum(x) - sum(x where y > v && y < w) }
question \"{x} {y} {v} {w}\" (x: column, y: column, v: 0..9, w: 0..9) { count(where (x > v && y < w) || (x < w && y > v)) }"
    )));
    // Pivots the question does not say; too many column holes; word of a number column.
    insta::assert_snapshot!(errors(&with_questions(
        "question \"sum of a\" { sum(a where b > 50) }
question \"{x} {y} {z} {u}\" (x: column, y: column, z: column, u: column) { sum(x where y > 1) }
question \"{t}\" (t: word of a) { count(where city == t) }"
    )));
    // The world and input.
    insta::assert_snapshot!(errors(&edit("  column c\n", "  column c\n  column a\n  pointer p on row 0 at left\n")));
    insta::assert_snapshot!(errors(&edit("  fill(c, random_list(n, 0..100))\n", "  fill(c, shuffle(n))\n  fill(a, [1])\n  write(p, 1)\n")));
    insta::assert_snapshot!(errors(&edit("  fill(c, random_list(n, 0..100))\n", "")));
    // The learner: too few steps, a setting it does not have, the wrong learner.
    insta::assert_snapshot!(errors(&edit("questions 50000", "questions 50000, timesteps 4, registers 3")));
    insta::assert_snapshot!(errors(&edit("learn np", "learn npi")));
    // Programs do not belong to a table task; questions do not belong elsewhere.
    insta::assert_snapshot!(errors(&format!("{TABLEQA}program MAIN {{\n  return\n}}\n")));
}

#[test]
fn run_time_errors_name_size_and_seed() {
    let t = task(&edit("fill(a, random_list(n, 0..100))", "fill(a, random_list(n + 1, 0..100))"));
    let e = t.table_example(5, 3).unwrap_err();
    assert_eq!(e.to_string(), "column `a` filled with 6 values, but the table has 5 rows (size 5, seed 3)");
    let t = task(&edit("fill(city, random_words(n,", "fill(city, random_list(n, 0..3))\n  let u = (random_words(n,"));
    assert!(t.table_example(5, 3).unwrap_err().to_string().contains("column `city` holds words"));
    let t = task(&edit("fill(city, random_words(n,", "fill(city, [\"New York\"])\n  let u = (random_words(n,"));
    assert!(t.table_example(1, 3).unwrap_err().to_string().contains("`New York` in column `city` is not one word"));
    let t = task(&edit("world table(rows: n)", "world table(rows: n - 1)"));
    assert!(t.table_example(1, 0).unwrap_err().to_string().contains("the table would have 0 rows"));
}

#[test]
fn parsing_keeps_templates_holes_and_where() {
    let (file, diags) = synth_dsl::parse(TABLEQA);
    assert!(diags.is_empty());
    let qs: Vec<_> = file
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            synth_dsl::ast::ItemKind::Question(q) => Some(q),
            _ => None,
        })
        .collect();
    assert_eq!(qs.len(), 6);
    assert_eq!(qs[4].templates.len(), 2);
    assert_eq!(qs[3].holes.len(), 5);
    let shown: Vec<String> = qs.iter().map(|q| q.body.stmts[0].to_string_for_test()).collect();
    assert_eq!(
        shown,
        [
            "sum(x)",
            "count(where x > v)",
            "sum(x where y < v)",
            "print(x where y > v && z < w)",
            "sum(x where city == t)",
            "sum(x where y > v) - sum(x where y < w)"
        ]
    );
}

trait Shown {
    fn to_string_for_test(&self) -> String;
}

impl Shown for synth_dsl::ast::Stmt {
    fn to_string_for_test(&self) -> String {
        match &self.kind {
            synth_dsl::ast::StmtKind::Expr(e) => e.to_string(),
            other => format!("{other:?}"),
        }
    }
}

/// The stdlib's table tasks: every latent program agrees with its answer
/// expression on random tables of every training size and beyond.
#[test]
fn stdlib_latent_programs_compute_the_answers() {
    for stem in ["tableqa", "tableqa_sales"] {
        let src = std::fs::read_to_string(format!("{}/../stdlib/{stem}.npl", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let t = task(&src);
        let steps = t.table_timesteps().unwrap();
        let questions = t.latent_programs().len();
        let mut seen = vec![0; questions];
        for seed in 0..400u64 {
            let size = [1, 2, 5, 30, 64, 100][seed as usize % 6];
            let e = t.table_example(size, seed).unwrap_or_else(|err| panic!("{stem}: {err}"));
            assert_eq!(execute(&e.columns, &e.program).as_ref(), Ok(&e.answer), "{stem}: {}", e.render(stem));
            assert!(e.program.len() <= steps);
            seen[e.question] += 1;
        }
        assert!(seen.iter().all(|&n| n > 0), "{stem}: {seen:?}");
    }
}

/// The executor refuses malformed programs instead of panicking.
#[test]
fn executor_refuses_malformed_programs() {
    use synth_compiler::{ColumnKind, LatentStep, TableColumn};
    let cols = vec![
        TableColumn { name: "a".into(), kind: ColumnKind::Number, cells: vec![Cell::Number(1), Cell::Number(5)] },
        TableColumn { name: "w".into(), kind: ColumnKind::Word, cells: vec![Cell::Word("x".into()), Cell::Word("y".into())] },
    ];
    let step = |op, column: Option<&str>, pivot: Option<Cell>| LatentStep {
        op,
        column: column.map(String::from),
        pivot,
        pivot_token: None,
    };
    assert!(execute(&cols, &[]).is_err());
    assert!(execute(&cols, &[step(Op::And, None, None)]).is_err());
    assert!(execute(&cols, &[step(Op::Sum, Some("w"), None)]).is_err());
    assert!(execute(&cols, &[step(Op::Greater, Some("a"), None)]).is_err());
    assert!(execute(&cols, &[step(Op::Sum, Some("zz"), None)]).is_err());
    assert!(execute(&cols, &[step(Op::Difference, None, None)]).is_err());
    assert!(execute(&cols, &[step(Op::Reset, None, None)]).is_err());
    // And one that is fine: rows with a > 2 or w == x: both rows.
    let p = [
        step(Op::Greater, Some("a"), Some(Cell::Number(2))),
        step(Op::WordMatch, Some("w"), Some(Cell::Word("x".into()))),
        step(Op::Or, None, None),
        step(Op::Count, None, None),
    ];
    assert_eq!(execute(&cols, &p), Ok(Answer::Scalar { value: 2 }));
}
