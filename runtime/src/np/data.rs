//! What the model reads of an instance: the question as token ids with its
//! pivot candidates, and (for training) the table as flat arrays and the
//! answer as a target.
//!
//! - Token ids: [`UNK`] for a word the vocabulary lacks, [`NUM`] for every
//!   number (the model reads *that* a number stands there; its value only
//!   reaches the program as a pivot), then the vocabulary's words.
//! - Number pivot candidates: every number token, in order.
//! - Word pivot candidates: every word token that occurs in a word column
//!   of this table (a word match can only select rows with a word the
//!   question names).

use super::config::NpConfig;
use std::collections::HashMap;
use synth_compiler::{Answer, Cell, ColumnKind, TableColumn, TableExample};

/// The id of a word the vocabulary lacks.
pub const UNK: u32 = 0;
/// The id of every number token.
pub const NUM: u32 = 1;
/// The id of the vocabulary's first word.
pub const FIRST_WORD: u32 = 2;

/// Word ids by word, from a config's vocabulary.
#[derive(Clone, Debug, Default)]
pub struct Vocab {
    ids: HashMap<String, u32>,
}

impl Vocab {
    pub fn new(config: &NpConfig) -> Vocab {
        Vocab { ids: config.vocab.iter().enumerate().map(|(i, w)| (w.clone(), FIRST_WORD + i as u32)).collect() }
    }

    /// A token's id.
    pub fn id(&self, token: &Cell) -> u32 {
        match token {
            Cell::Number(_) => NUM,
            Cell::Word(w) => self.ids.get(w).copied().unwrap_or(UNK),
        }
    }

    /// Embedding rows: the two reserved ids and the words.
    pub fn rows(config: &NpConfig) -> usize {
        FIRST_WORD as usize + config.vocab.len()
    }
}

/// The sorted words of `tokens` (and the column names), for a vocabulary
/// built from training questions.
pub fn collect_words<'a>(questions: impl Iterator<Item = &'a [Cell]>, columns: &[(String, ColumnKind)]) -> Vec<String> {
    let mut words: std::collections::BTreeSet<String> = columns.iter().map(|(n, _)| n.to_lowercase()).collect();
    for q in questions {
        for t in q {
            if let Cell::Word(w) = t {
                words.insert(w.clone());
            }
        }
    }
    words.into_iter().collect()
}

/// A question as the selector reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub tokens: Vec<u32>,
    /// Number pivot candidates: token position and value.
    pub numbers: Vec<(usize, i64)>,
    /// Word pivot candidates: token position and word, each word once (at
    /// its first position).
    pub words: Vec<(usize, String)>,
}

impl Question {
    /// `tokens` against a table's `columns`.
    pub fn new(vocab: &Vocab, tokens: &[Cell], columns: &[TableColumn]) -> Question {
        let ids = tokens.iter().map(|t| vocab.id(t)).collect();
        let numbers = tokens.iter().enumerate().filter_map(|(i, t)| if let Cell::Number(v) = t { Some((i, *v)) } else { None }).collect();
        let in_table = |w: &str| columns.iter().any(|c| c.kind == ColumnKind::Word && c.cells.iter().any(|x| matches!(x, Cell::Word(y) if y == w)));
        let mut words: Vec<(usize, String)> = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            if let Cell::Word(w) = t {
                if !words.iter().any(|(_, x)| x == w) && in_table(w) {
                    words.push((i, w.clone()));
                }
            }
        }
        Question { tokens: ids, numbers, words }
    }
}

/// What a training question's answer is.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Scalar(f64),
    /// The cells of column `column` in these rows (ascending).
    Lookup { column: usize, rows: Vec<u32> },
}

/// A training instance in flat arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    pub question: Question,
    pub rows: usize,
    /// The number columns (in the config's order of number columns),
    /// column-major: `values[j * rows + i]`.
    pub values: Vec<f32>,
    /// The word columns likewise, each cell as 1 + the index of the word
    /// candidate it equals (0: none).
    pub matches: Vec<u16>,
    pub target: Target,
    /// Which `question` item it was drawn from.
    pub kind: usize,
}

impl Encoded {
    /// Encodes `e` for a model of `config`. Errors name what does not fit:
    /// a column the config lacks, a number too large to sum exactly.
    pub fn new(config: &NpConfig, vocab: &Vocab, e: &TableExample) -> Result<Encoded, String> {
        let question = Question::new(vocab, &e.tokens, &e.columns);
        let (num, word) = config.column_kinds();
        let col = |name: &str| e.columns.iter().find(|c| c.name == name).ok_or_else(|| format!("the table has no column `{name}`"));
        let rows = e.rows;
        let mut values = Vec::with_capacity(num.len() * rows);
        for &j in &num {
            for cell in &col(&config.columns[j].0)?.cells {
                match cell {
                    Cell::Number(v) if v.unsigned_abs() < 1 << 24 => values.push(*v as f32),
                    Cell::Number(v) => return Err(format!("the cell {v} of column `{}` is beyond 2^24, which training cannot sum exactly", config.columns[j].0)),
                    Cell::Word(w) => return Err(format!("column `{}` holds the word `{w}`", config.columns[j].0)),
                }
            }
        }
        let mut matches = Vec::with_capacity(word.len() * rows);
        for &j in &word {
            for cell in &col(&config.columns[j].0)?.cells {
                let m = match cell {
                    Cell::Word(w) => question.words.iter().position(|(_, q)| q == w).map_or(0, |k| k + 1),
                    Cell::Number(_) => 0,
                };
                matches.push(m as u16);
            }
        }
        if values.len() != num.len() * rows || matches.len() != word.len() * rows {
            return Err(format!("the table's columns do not all have {rows} rows"));
        }
        let target = match &e.answer {
            Answer::Scalar { value } => Target::Scalar(*value as f64),
            Answer::Lookup { column, rows, .. } => Target::Lookup {
                column: config.columns.iter().position(|c| &c.0 == column).ok_or_else(|| format!("the answer prints column `{column}`, which the model lacks"))?,
                rows: rows.iter().map(|&r| r as u32).collect(),
            },
        };
        Ok(Encoded { question, rows, values, matches, target, kind: e.question })
    }
}
