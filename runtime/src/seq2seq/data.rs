//! What seq2seq reads and writes, derived from the task's world: an
//! input/output pair as token sequences, and how a decoded output is
//! graded.
//!
//! - Scratchpad: every row of the sampled pad in, the rows the programs
//!   write out (each row ended by a row-end token); exact when the task's
//!   `expect` holds with the decoded rows, cells counted over the output
//!   rows.
//! - Tape: the input tape in, the final tape out; exact when every graded
//!   cell (those the reference wrote) is right, cells counted over the
//!   graded cells, as for NRAM.

use super::config::Seq2SeqConfig;
use super::model::Encoded;
use crate::env::TaskError;
use synth_compiler::{PadExample, TapeExample, Task};

/// One input/output pair of the task's world.
#[derive(Clone, Debug)]
pub enum Pair {
    Pad(PadExample),
    Tape(TapeExample),
}

fn task_error(e: synth_compiler::RunError) -> TaskError {
    TaskError::new(e.to_string())
}

/// The number of cell values a model of `task` trained on `sizes` knows:
/// a pad's digits and blank, or a tape's values up to its largest length at
/// those sizes (a larger value reads as the last).
pub fn values(task: &Task, sizes: &[usize]) -> Result<u32, TaskError> {
    if task.is_table() {
        return Err(TaskError::new(format!("seq2seq learns scratchpad and tape tasks; `{}` has a table world", task.name)));
    }
    let largest = sizes.iter().copied().max().unwrap_or(1);
    if task.is_tape() {
        let cells = task.tape_example(largest, 0).map_err(task_error)?.cells;
        return Ok(cells as u32 + 1);
    }
    Ok(task.pad_example(largest, 0).map_err(task_error)?.blank as u32 + 1)
}

impl Pair {
    pub fn of(task: &Task, size: usize, seed: u64) -> Result<Pair, TaskError> {
        if task.is_tape() {
            task.tape_example(size, seed).map(Pair::Tape).map_err(task_error)
        } else {
            task.pad_example(size, seed).map(Pair::Pad).map_err(task_error)
        }
    }

    pub fn size(&self) -> usize {
        match self {
            Pair::Pad(e) => e.size,
            Pair::Tape(e) => e.size,
        }
    }

    pub fn seed(&self) -> u64 {
        match self {
            Pair::Pad(e) => e.seed,
            Pair::Tape(e) => e.seed,
        }
    }

    /// Cells per output row.
    pub fn cols(&self) -> usize {
        match self {
            Pair::Pad(e) => e.cols,
            Pair::Tape(e) => e.cells,
        }
    }

    pub fn encode(&self, config: &Seq2SeqConfig) -> Encoded {
        let rows = |cells: &mut dyn Iterator<Item = u32>, cols: usize| -> Vec<u32> {
            let mut out = Vec::new();
            let mut k = 0;
            for v in cells {
                out.push(config.token(v));
                k += 1;
                if k == cols {
                    out.push(config.row_end());
                    k = 0;
                }
            }
            out
        };
        match self {
            Pair::Pad(e) => Encoded {
                input: rows(&mut e.input.iter().map(|&v| v as u32), e.cols),
                target: rows(&mut e.output.iter().map(|&v| v as u32), e.cols),
            },
            Pair::Tape(e) => Encoded { input: rows(&mut e.input.iter().copied(), e.cells), target: rows(&mut e.output.iter().copied(), e.cells) },
        }
    }

    /// The output cells of decoded tokens (row ends dropped; on a pad, a
    /// token that is no cell value reads as blank).
    pub fn cells(&self, config: &Seq2SeqConfig, tokens: &[u32]) -> Vec<u32> {
        let cols = self.cols();
        let blank = config.values - 1;
        tokens.chunks(cols + 1).flat_map(|row| row.iter().take(cols).map(move |&t| if t < config.values { t } else { blank })).collect()
    }

    /// The reference's output cells.
    pub fn reference(&self) -> Vec<u32> {
        match self {
            Pair::Pad(e) => e.output.iter().map(|&v| v as u32).collect(),
            Pair::Tape(e) => e.output.clone(),
        }
    }

    /// Grades decoded `cells`: whether the output is exact, and the right
    /// cells among those counted.
    pub fn grade(&self, task: &Task, cells: &[u32]) -> Result<(bool, usize, usize), TaskError> {
        match self {
            Pair::Pad(e) => {
                let out: Vec<u16> = cells.iter().map(|&v| v.min(e.blank as u32) as u16).collect();
                let right = out.iter().zip(&e.output).filter(|(a, b)| a == b).count();
                let exact = task.check_pad_output(e.size, e.seed, &out).map_err(task_error)?;
                Ok((exact, right, e.output.len()))
            }
            Pair::Tape(e) => {
                let right = e.right_cells(cells);
                Ok((right == e.graded.len(), right, e.graded.len()))
            }
        }
    }
}
