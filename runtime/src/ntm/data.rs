//! What the NTM reads and writes, derived from a tape world the same way
//! for every task: the input tape one cell a step (the value as a one-hot
//! token) up to its last nonzero cell (the zeros after it are room for the
//! output, and would only be steps to wait through), a delimiter step,
//! then one answer step per graded cell (the cells the reference run
//! wrote, ascending), at which the machine says that cell's final value.
//! This is the NTM paper's copy protocol with a tape's cells for its bit
//! vectors: the machine is told how many answers to give, never where
//! they go.

use super::config::NtmConfig;
use super::model::Layout;
use synth_compiler::TapeExample;

/// One episode: tokens in, the values due at the answer steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    pub tokens: Vec<u32>,
    pub targets: Vec<u32>,
}

pub fn encode(config: &NtmConfig, e: &TapeExample) -> Sequence {
    let l = Layout::new(config);
    let given = e.input.iter().rposition(|&v| v != 0).map_or(0, |i| i + 1);
    let mut tokens: Vec<u32> = e.input[..given].iter().map(|&v| config.token(v)).collect();
    tokens.push(l.delimiter());
    tokens.extend(e.graded.iter().map(|_| l.answer()));
    let targets = e.graded.iter().map(|&g| config.token(e.output[g as usize])).collect();
    Sequence { tokens, targets }
}

/// The final tape the machine's answers make: the input tape with every
/// graded cell set to its answer.
pub fn tape(e: &TapeExample, answers: &[u32]) -> Vec<u32> {
    let mut tape = e.input.clone();
    for (&g, &v) in e.graded.iter().zip(answers) {
        tape[g as usize] = v;
    }
    tape
}
