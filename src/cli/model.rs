//! A trained model in a run directory, as `eval`, `run` and `learn --resume`
//! load it: the checkpoint read, checked against the task, and built, with
//! every refusal naming the file at fault.

use super::failure::Failure;
use super::rundir::{RunDir, META, OPTIMIZER, WEIGHTS};
use anyhow::anyhow;
use synth_compiler::Task;
use synth_runtime::npi::{self, Checkpoint, LoadError};

/// The learners the NPI code paths serve; `nram` has its own
/// ([`super::nram`]) and the others are refused by name.
pub fn require_npi(learner: &str) -> Result<(), Failure> {
    match learner {
        "npi" => Ok(()),
        "nram" => Err(Failure::Task(anyhow!("this is an NRAM checkpoint or task; the NPI commands cannot use it"))),
        _ => Err(Failure::Task(anyhow!("learner `{learner}` is not available yet; synth trains `npi` (the Neural Programmer-Interpreter) and `nram` (the Neural Random-Access Machine) today"))),
    }
}

/// Why the checkpoint in `dir` cannot be used, naming the file that says
/// so: the weights, the optimiser state, or the metadata (which records
/// the task, its source hash, the model's config and layout).
pub fn refusal(dir: &RunDir, e: &LoadError) -> Failure {
    let file = |name: &str| dir.file(name).display().to_string();
    let what = match e {
        LoadError::Weights(_) => format!("`{}`", file(WEIGHTS)),
        LoadError::Optimizer(_) => format!("`{}`", file(OPTIMIZER)),
        LoadError::Mismatch(_) => format!("`{}` with `{}`", file(WEIGHTS), file(META)),
        _ => format!("`{}`", file(META)),
    };
    Failure::Task(anyhow!("cannot use {what}: {e}"))
}

/// The checkpoint in `dir` (without its optimiser state), its metadata
/// checked against `task`.
pub fn load_checkpoint(task: &Task, dir: &RunDir) -> Result<Checkpoint, Failure> {
    if dir.is_suite()? {
        // A model of several tasks: this task's part of it, as a model of
        // its own.
        return dir.load_suite()?.task(task).map_err(|e| refusal(dir, &e));
    }
    checked(task, dir, dir.load()?)
}

/// The checkpoint in `dir` with its optimiser state, its metadata checked
/// against `task`, for `learn --resume`.
pub fn load_resumable(task: &Task, dir: &RunDir) -> Result<Checkpoint, Failure> {
    if dir.is_suite()? {
        return Err(Failure::Task(anyhow!(
            "`{}` holds a model of several tasks; train it further with `synth learn TASK... --from {}` (and another --out)",
            dir.path.display(),
            dir.path.display()
        )));
    }
    checked(task, dir, dir.load_with_optimizer()?)
}

fn checked(task: &Task, dir: &RunDir, ckpt: Checkpoint) -> Result<Checkpoint, Failure> {
    require_npi(&ckpt.meta.learner)?;
    ckpt.check(task).map_err(|e| refusal(dir, &e))?;
    Ok(ckpt)
}

/// The checkpoint in `dir` and the model it holds, for `runs` closed-loop
/// runs at a time; a model whose runs would not fit in this machine's
/// memory is refused before they start.
pub fn load_model(task: &Task, dir: &RunDir, runs: usize) -> Result<(Checkpoint, npi::Npi), Failure> {
    let ckpt = load_checkpoint(task, dir)?;
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
