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
use synth_compiler::{Answer, Cell, PadExample, TableExample, TapeExample, Task};

/// One input/output pair of the task's world.
#[derive(Clone, Debug)]
pub enum Pair {
    Pad(PadExample),
    Tape(TapeExample),
    Table(TableExample),
}

/// Examples of each training size read for a table task's words.
const VOCABULARY_EXAMPLES: u64 = 64;
/// The token of a word no training example held.
pub const UNKNOWN: &str = "<unknown>";

fn task_error(e: synth_compiler::RunError) -> TaskError {
    TaskError::new(e.to_string())
}

/// The number of cell values a model of `task` trained on `sizes` knows:
/// a pad's digits and blank, a tape's values up to its largest length at
/// those sizes (a larger value reads as the last), or a table task's words.
pub fn values(task: &Task, sizes: &[usize]) -> Result<u32, TaskError> {
    Ok(tokens(task, sizes)?.0)
}

/// The cell values of a model of `task` trained on `sizes` (see
/// [`values`]), and a table task's words (empty for other worlds): what
/// [`super::settings`] and [`super::Seq2SeqConfig::words`] take.
pub fn tokens(task: &Task, sizes: &[usize]) -> Result<(u32, Vec<String>), TaskError> {
    if task.is_table() {
        let words = vocabulary(task, sizes)?;
        return Ok((words.len() as u32, words));
    }
    let largest = sizes.iter().copied().max().unwrap_or(1);
    let values = if task.is_tape() {
        task.tape_example(largest, 0).map_err(task_error)?.cells as u32 + 1
    } else {
        task.pad_example(largest, 0).map_err(task_error)?.blank as u32 + 1
    };
    Ok((values, Vec::new()))
}

/// A table task's words, sorted: what the question, the column names, the
/// cells and the answers of examples at the training `sizes` hold, the
/// digits and `-` (a scalar answer is written digit by digit), and
/// [`UNKNOWN`] for a word none of them held. Empty for other worlds.
pub fn vocabulary(task: &Task, sizes: &[usize]) -> Result<Vec<String>, TaskError> {
    if !task.is_table() {
        return Ok(Vec::new());
    }
    let mut words: Vec<String> = (0..10).map(|d| d.to_string()).chain(["-".to_string(), UNKNOWN.to_string()]).collect();
    for &size in sizes {
        for seed in 0..VOCABULARY_EXAMPLES {
            let e = task.table_example(size, seed).map_err(task_error)?;
            words.extend(table_words(&e));
        }
    }
    words.sort();
    words.dedup();
    Ok(words)
}

/// Every word of a table example, input and answer.
fn table_words(e: &TableExample) -> Vec<String> {
    let mut out: Vec<String> = e.tokens.iter().map(Cell::to_string).collect();
    for c in &e.columns {
        out.push(c.name.clone());
        out.extend(c.cells.iter().map(Cell::to_string));
    }
    out.extend(answer_words(&e.answer));
    out
}

/// The answer's tokens under `config`, then a row-end: what a table pair's
/// decoder is taught to write.
fn answer_tokens(e: &TableExample, config: &Seq2SeqConfig) -> Vec<u32> {
    answer_words(&e.answer).iter().map(|w| config.word(w)).chain([config.row_end()]).collect()
}

/// The answer as words: a scalar's characters, a lookup's cells.
fn answer_words(a: &Answer) -> Vec<String> {
    match a {
        Answer::Scalar { value } => value.to_string().chars().map(String::from).collect(),
        Answer::Lookup { cells, .. } => cells.iter().map(Cell::to_string).collect(),
    }
}

impl Pair {
    pub fn of(task: &Task, size: usize, seed: u64) -> Result<Pair, TaskError> {
        if task.is_table() {
            task.table_example(size, seed).map(Pair::Table).map_err(task_error)
        } else if task.is_tape() {
            task.tape_example(size, seed).map(Pair::Tape).map_err(task_error)
        } else {
            task.pad_example(size, seed).map(Pair::Pad).map_err(task_error)
        }
    }

    pub fn size(&self) -> usize {
        match self {
            Pair::Pad(e) => e.size,
            Pair::Tape(e) => e.size,
            Pair::Table(e) => e.size,
        }
    }

    pub fn seed(&self) -> u64 {
        match self {
            Pair::Pad(e) => e.seed,
            Pair::Tape(e) => e.seed,
            Pair::Table(e) => e.seed,
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
            Pair::Table(e) => {
                let word = |w: String| config.word(&w);
                let mut input: Vec<u32> = e.tokens.iter().map(|c| word(c.to_string())).collect();
                input.push(config.row_end());
                input.extend(e.columns.iter().map(|c| word(c.name.clone())));
                input.push(config.row_end());
                for r in 0..e.rows {
                    input.extend(e.columns.iter().map(|c| word(c.cells[r].to_string())));
                    input.push(config.row_end());
                }
                Encoded { input, target: answer_tokens(e, config) }
            }
        }
    }

    /// The output cells of decoded tokens (row ends dropped; on a pad, a
    /// token that is no cell value reads as blank).
    pub fn cells(&self, config: &Seq2SeqConfig, tokens: &[u32]) -> Vec<u32> {
        let cols = match self {
            Pair::Pad(e) => e.cols,
            Pair::Tape(e) => e.cells,
            // The answer's tokens as decoded, its row-end included.
            Pair::Table(_) => return tokens.to_vec(),
        };
        let blank = config.values - 1;
        tokens.chunks(cols + 1).flat_map(|row| row.iter().take(cols).map(move |&t| if t < config.values { t } else { blank })).collect()
    }

    /// The reference's output cells (a table: the answer's tokens under
    /// `config`, its row-end included).
    pub fn reference(&self, config: &Seq2SeqConfig) -> Vec<u32> {
        match self {
            Pair::Pad(e) => e.output.iter().map(|&v| v as u32).collect(),
            Pair::Tape(e) => e.output.clone(),
            Pair::Table(e) => answer_tokens(e, config),
        }
    }

    /// Grades decoded `cells`: whether the output is exact, and the right
    /// cells among those counted.
    pub fn grade(&self, task: &Task, config: &Seq2SeqConfig, cells: &[u32]) -> Result<(bool, usize, usize), TaskError> {
        match self {
            Pair::Table(_) => {
                let want = self.reference(config);
                let right = want.iter().zip(cells).filter(|(a, b)| a == b).count();
                Ok((right == want.len() && cells.len() >= want.len(), right, want.len()))
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A table pair: the question, a row-end, the column names, a row-end,
    /// each row ended by a row-end; the answer's words and a row-end; a
    /// word the vocabulary lacks reads as the unknown word.
    #[test]
    fn a_table_pair_reads_question_header_and_rows() {
        let task = synth_compiler::compile(include_str!("../../../stdlib/tableqa.npl"), "tableqa").unwrap().task;
        let (values, words) = tokens(&task, &[5]).unwrap();
        assert_eq!(values as usize, words.len());
        let config = Seq2SeqConfig { values, hidden: 4, layers: 1, embedding: 2, attention: false, words };
        assert!(config.is_valid());
        let pair = Pair::of(&task, 5, 3).unwrap();
        let Pair::Table(e) = &pair else { panic!("a table") };
        let enc = pair.encode(&config);
        let end = config.row_end();
        let q = e.tokens.len();
        let cols = e.columns.len();
        assert_eq!(enc.input.len(), q + 1 + (cols + 1) * (e.rows + 1));
        assert_eq!((enc.input[q], enc.input[q + 1 + cols], *enc.input.last().unwrap()), (end, end, end));
        assert_eq!(enc.input[q + 1], config.word(&e.columns[0].name));
        assert_eq!(*enc.target.last().unwrap(), end);
        assert_eq!(pair.grade(&task, &config, &enc.target).unwrap(), (true, enc.target.len(), enc.target.len()));
        let mut wrong = enc.target.clone();
        wrong[0] = config.word("zzz");
        assert_eq!(wrong[0], config.word(UNKNOWN));
        assert!(!pair.grade(&task, &config, &wrong).unwrap().0);
    }
}
