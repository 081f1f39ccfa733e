//! Learning to Execute (Zaremba & Sutskever 2014): a sequence model reads
//! a program's text character by character and writes what it prints. The
//! programs are the compiler's ([`synth_compiler::lte`]), the model is the
//! seq2seq baseline's LSTM encoder-decoder over characters, and the
//! paper's four curriculum strategies decide which difficulties training
//! sees.
//!
//! - [`curriculum`]: the strategies and the level they stand at.
//! - [`train`]: tokens, the training loop, and per-difficulty scores.

pub mod curriculum;
pub mod train;

pub use curriculum::{Curriculum, Level, Strategy};
pub use train::{evaluate, load, predict, save, settings, test_programs, train, ConfigError, LevelScore, LteConfig, Outcome, StepReport, ValidationReport, CHARS, SETTINGS};
