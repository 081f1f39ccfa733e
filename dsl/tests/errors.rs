//! Rendered syntax errors, exactly as a user sees them, as insta snapshots
//! (`tests/snapshots/`). One `check` renders every diagnostic of a source;
//! each snapshot holds the source and the rendered text together.

use synth_dsl::{parse, render_all};

/// The source followed by everything `parse` reports about it, rendered.
fn check(src: &str) -> String {
    let (_, diags) = parse(src);
    assert!(!diags.is_empty(), "no error for:\n{src}");
    format!("{src}\n---\n{}", render_all(&diags, "test.npl", src))
}

#[test]
fn missing_close_paren() {
    insta::assert_snapshot!(check("task add\nprogram ADD {\n    ADD1(a, b\n}\n"));
}

#[test]
fn missing_operand() {
    insta::assert_snapshot!(check("program ADD1 {\n  let s = digit(in1) +\n}\n"));
}

#[test]
fn misspelled_item_keyword() {
    insta::assert_snapshot!(check("task add\n\nprogramm ADD {\n  ADD1()\n}\n"));
}

#[test]
fn keyword_as_pointer_name() {
    insta::assert_snapshot!(check(
        "world scratchpad(rows: 1, cols: n, base: 10) {\n  pointer left on row 0 at left\n}\n"
    ));
}

#[test]
fn pointer_missing_row() {
    insta::assert_snapshot!(check("world scratchpad(rows: 1, cols: n, base: 10) {\n  pointer i at left\n}\n"));
}

#[test]
fn unterminated_string() {
    insta::assert_snapshot!(check("question \"Sum of {col} { sum(col) }\n"));
}

#[test]
fn unclosed_block_before_next_item() {
    insta::assert_snapshot!(check(
        "program ADD {\n  while in1 != blank {\n    ADD1()\n}\n\nprogram ADD1 {\n  write(out, 1)\n}\n"
    ));
}

#[test]
fn several_errors_in_one_file() {
    insta::assert_snapshot!(check(
        "task\n\nprogram ADD {\n  while in1 != blank || {\n    ADD1()\n  }\n  write(out, s % )\n}\n\nlearn npi {\n  train sizes 1..=10,\n}\n}\n"
    ));
}

#[test]
fn chained_comparison() {
    insta::assert_snapshot!(check("program COMPSWAP {\n  if 0 < i < j { swap(i, j) }\n}\n"));
}

#[test]
fn stray_character() {
    insta::assert_snapshot!(check("expect a ≤ b\n"));
}
