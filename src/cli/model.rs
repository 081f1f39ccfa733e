//! A trained model in a run directory, as `eval`, `run` and `learn --resume`
//! load it: the library's loading ([`synth::trained`]) with the CLI's
//! failures, and the check that a model's runs fit this machine's memory.

use super::failure::Failure;
use super::rundir::{RunDir, META};
use anyhow::anyhow;
use synth::trained::{self, LoadError};
use synth_compiler::Task;
use synth_runtime::npi::{self, Checkpoint};

pub use synth::trained::require_npi;

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::RunDir(e) => e.into(),
            LoadError::Refused(message) => Failure::Task(anyhow!(message)),
        }
    }
}

/// Why the NPI checkpoint in `dir` cannot be used, naming the file that
/// says so.
pub fn refusal(dir: &RunDir, e: &npi::LoadError) -> Failure {
    trained::npi_refusal(dir, e).into()
}

/// The NPI checkpoint in `dir` with its optimiser state, its metadata
/// checked against `task`, for `learn --resume`.
pub fn load_resumable(task: &Task, dir: &RunDir) -> Result<Checkpoint, Failure> {
    Ok(trained::npi_resumable(task, dir)?)
}

/// The checkpoint in `dir` and the model it holds, for `runs` closed-loop
/// runs at a time; a model whose runs would not fit in this machine's
/// memory is refused before they start.
pub fn load_model(task: &Task, dir: &RunDir, runs: usize) -> Result<(Checkpoint, npi::Npi), Failure> {
    let ckpt = trained::npi_checkpoint(task, dir)?;
    // The weights are checked against their config first: a config that
    // does not fit them is refused by name before anything is built.
    let model = ckpt.model().map_err(|e| refusal(dir, &e))?;
    super::machine::check_inference(&ckpt.meta.config, &ckpt.meta.shape, runs)
        .map_err(|e| Failure::Task(anyhow!("cannot use `{}`: {e}", dir.file(META).display())))?;
    Ok((ckpt, model))
}

/// Worker threads: the flag's, or one per physical core.
pub fn threads(flag: Option<usize>) -> usize {
    flag.filter(|&t| t > 0).unwrap_or_else(|| npi::TrainConfig::default().threads())
}
