//! Exact execution of a Neural Programmer program on a table: the hard
//! semantics the soft pass ([`super::model::Np::forward`]) agrees with on
//! one-hot choices.
//!
//! It is [`synth_compiler::table::execute`] made total, so that any
//! program the selector picks has an answer: before the first step the
//! last two selections are every row and the scalars are 0; an operation
//! given a column of the wrong kind, or no pivot of its kind, selects no
//! row (or sums nothing); a step that is neither a scalar nor print
//! answers the scalar 0. Where `execute` has an answer, this is the same
//! one.

use synth_compiler::{Answer, Cell, ColumnKind, LatentStep, Op, TableColumn};

/// Runs `program` on `columns` and returns its last step's answer.
pub fn run(columns: &[TableColumn], program: &[LatentStep]) -> Answer {
    let rows = columns.first().map_or(0, |c| c.cells.len());
    let all = vec![true; rows];
    let (mut prev2, mut prev) = (all.clone(), all.clone());
    let mut scalars: Vec<i64> = Vec::with_capacity(program.len());
    let mut answer = Answer::Scalar { value: 0 };
    let column = |s: &LatentStep, kind: ColumnKind| s.column.as_deref().and_then(|n| columns.iter().find(|c| c.name == n && c.kind == kind));
    for (t, s) in program.iter().enumerate() {
        let mut scalar = 0i64;
        let next = match s.op {
            Op::Greater | Op::Lesser => match (column(s, ColumnKind::Number), &s.pivot) {
                (Some(col), Some(Cell::Number(p))) => col
                    .cells
                    .iter()
                    .map(|c| matches!(c, Cell::Number(v) if if s.op == Op::Greater { v > p } else { v < p }))
                    .collect(),
                _ => vec![false; rows],
            },
            Op::WordMatch => match (column(s, ColumnKind::Word), &s.pivot) {
                (Some(col), Some(Cell::Word(p))) => col.cells.iter().map(|c| matches!(c, Cell::Word(w) if w == p)).collect(),
                _ => vec![false; rows],
            },
            Op::Reset => all.clone(),
            Op::And => prev.iter().zip(&prev2).map(|(a, b)| *a && *b).collect(),
            Op::Or => prev.iter().zip(&prev2).map(|(a, b)| *a || *b).collect(),
            Op::Sum => {
                if let Some(col) = column(s, ColumnKind::Number) {
                    for (c, sel) in col.cells.iter().zip(&prev) {
                        if let (Cell::Number(v), true) = (c, sel) {
                            scalar = scalar.saturating_add(*v);
                        }
                    }
                }
                prev.clone()
            }
            Op::Count => {
                scalar = prev.iter().filter(|s| **s).count() as i64;
                prev.clone()
            }
            Op::Difference => {
                let back = |k: usize| t.checked_sub(k).map_or(0, |i| scalars[i]);
                scalar = back(3).saturating_sub(back(1));
                prev.clone()
            }
            Op::Print => prev.clone(),
        };
        answer = match (s.op, column(s, ColumnKind::Number).or_else(|| column(s, ColumnKind::Word))) {
            (Op::Print, Some(col)) => {
                let rows: Vec<usize> = prev.iter().enumerate().filter(|(_, s)| **s).map(|(i, _)| i).collect();
                Answer::Lookup { column: col.name.clone(), cells: rows.iter().map(|&i| col.cells[i].clone()).collect(), rows }
            }
            (Op::Print, None) => Answer::Lookup { column: String::new(), rows: Vec::new(), cells: Vec::new() },
            _ => Answer::Scalar { value: scalar },
        };
        scalars.push(scalar);
        prev2 = std::mem::replace(&mut prev, next);
    }
    answer
}
