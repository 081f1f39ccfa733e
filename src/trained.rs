//! A trained model in a run directory, whichever learner trained it: the
//! checkpoint read ([`crate::rundir`]), checked against the task it is used
//! on, and built. `synth eval`, `synth run` and the Python package's
//! `synth.load` all start here, so a checkpoint is refused in the same words
//! everywhere, each refusal naming the file at fault.

use crate::rundir::{RunDir, RunDirError, META, OPTIMIZER, WEIGHTS};
use synth_compiler::Task;
use synth_runtime::{np, npi, nram, ntm, seq2seq};

/// Memory cells up to which `evaluate` also scores an NRAM's fuzzy machine
/// (it costs O(T M^2) per example); the discrete one runs at any size.
pub const FUZZY_CELLS: usize = 256;

/// Why a run directory's model cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The files could not be read, or are not a checkpoint.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    /// The checkpoint is there but does not fit the task or this synth; the
    /// message names the file.
    #[error("{0}")]
    Refused(String),
}

/// A trained model, ready to run.
pub enum Trained {
    /// A Neural Programmer-Interpreter (a scratchpad or other NPI world);
    /// a model of several tasks is loaded as its part for one task.
    Npi { checkpoint: npi::Checkpoint, model: npi::Npi },
    /// A Neural Random-Access Machine (a tape world).
    Nram { checkpoint: nram::Checkpoint, machine: nram::Nram },
    /// A Neural Programmer (a table world).
    Np { checkpoint: np::Checkpoint, model: np::Np },
    /// The seq2seq baseline (a scratchpad's pads or a tape).
    Seq2Seq { checkpoint: seq2seq::Checkpoint, model: seq2seq::Seq2Seq },
    /// The Neural Turing Machine baseline (a tape world).
    Ntm { checkpoint: ntm::Checkpoint, machine: ntm::Ntm },
}

/// The model in `dir`, checked against `task`, whichever learner it is.
pub fn load(task: &Task, dir: &RunDir) -> Result<Trained, LoadError> {
    match dir.learner()?.as_str() {
        "nram" => {
            let (checkpoint, machine) = nram_machine(task, dir)?;
            Ok(Trained::Nram { checkpoint, machine })
        }
        "np" => {
            let (checkpoint, model) = np_model(task, dir)?;
            Ok(Trained::Np { checkpoint, model })
        }
        "seq2seq" => {
            let (checkpoint, model) = seq2seq_model(task, dir)?;
            Ok(Trained::Seq2Seq { checkpoint, model })
        }
        "ntm" => {
            let (checkpoint, machine) = ntm_machine(task, dir)?;
            Ok(Trained::Ntm { checkpoint, machine })
        }
        _ => {
            let checkpoint = npi_checkpoint(task, dir)?;
            let model = checkpoint.model().map_err(|e| npi_refusal(dir, &e))?;
            Ok(Trained::Npi { checkpoint, model })
        }
    }
}

impl Trained {
    /// `npi`, `nram`, `np`, `seq2seq` or `ntm`.
    pub fn learner(&self) -> &'static str {
        match self {
            Trained::Npi { .. } => "npi",
            Trained::Nram { .. } => "nram",
            Trained::Np { .. } => "np",
            Trained::Seq2Seq { .. } => "seq2seq",
            Trained::Ntm { .. } => "ntm",
        }
    }

    /// The checkpoint's metadata, as `model.json` holds it.
    pub fn meta(&self) -> serde_json::Value {
        let value = match self {
            Trained::Npi { checkpoint, .. } => serde_json::to_value(&checkpoint.meta),
            Trained::Nram { checkpoint, .. } => serde_json::to_value(&checkpoint.meta),
            Trained::Np { checkpoint, .. } => serde_json::to_value(&checkpoint.meta),
            Trained::Seq2Seq { checkpoint, .. } => serde_json::to_value(&checkpoint.meta),
            Trained::Ntm { checkpoint, .. } => serde_json::to_value(&checkpoint.meta),
        };
        value.expect("metadata serialises")
    }

    /// What `synth eval --json` prints: the model's closed-loop results per
    /// size on `count` inputs of each size (NPI: exact match and steps;
    /// NRAM: the fuzzy and the discrete machine's errors; Neural
    /// Programmer: answers and programs, per size and per question;
    /// seq2seq and NTM: exact outputs and right cells).
    pub fn evaluate(&self, task: &Task, sizes: &[usize], count: usize, seed: u64, threads: usize) -> Result<serde_json::Value, String> {
        let value = match self {
            Trained::Npi { model, .. } => {
                let engine = npi::Engine::new(model).map_err(|e| e.to_string())?;
                serde_json::to_value(npi::evaluate(task, &engine, sizes, count, seed, threads).map_err(|e| e.to_string())?)
            }
            Trained::Nram { machine, .. } => serde_json::to_value(nram::evaluate(task, machine, sizes, count, seed, FUZZY_CELLS).map_err(|e| e.to_string())?),
            Trained::Np { model, .. } => serde_json::to_value(np::evaluate(task, model, sizes, count, seed).map_err(|e| e.to_string())?),
            Trained::Seq2Seq { model, .. } => serde_json::to_value(seq2seq::evaluate(task, model, sizes, count, seed).map_err(|e| e.to_string())?),
            Trained::Ntm { machine, .. } => serde_json::to_value(ntm::evaluate(task, machine, sizes, count, seed, threads).map_err(|e| e.to_string())?),
        };
        Ok(value.expect("reports serialise"))
    }
}

/// The learners the NPI code paths serve; `nram`, `np`, `seq2seq` and `ntm` have
/// their own and the others are refused by name.
pub fn require_npi(learner: &str) -> Result<(), LoadError> {
    match learner {
        "npi" => Ok(()),
        "nram" => Err(LoadError::Refused("this is an NRAM checkpoint or task; the NPI commands cannot use it".into())),
        "np" => Err(LoadError::Refused("this is a Neural Programmer checkpoint or task; the NPI commands cannot use it".into())),
        "seq2seq" => Err(LoadError::Refused("this is a seq2seq checkpoint; the NPI commands cannot use it".into())),
        "ntm" => Err(LoadError::Refused("this is a Neural Turing Machine checkpoint or task; the NPI commands cannot use it".into())),
        _ => Err(LoadError::Refused(format!(
            "learner `{learner}` is not available yet; synth trains `npi` (the Neural Programmer-Interpreter), `nram` (the Neural Random-Access Machine), `np` (the Neural Programmer), and the baselines `seq2seq` and `ntm` (the Neural Turing Machine) today"
        ))),
    }
}

/// Why the NPI checkpoint in `dir` cannot be used, naming the file that
/// says so: the weights, the optimiser state, or the metadata (which
/// records the task, its source hash, the model's config and layout).
pub fn npi_refusal(dir: &RunDir, e: &npi::LoadError) -> LoadError {
    let file = |name: &str| dir.file(name).display().to_string();
    let what = match e {
        npi::LoadError::Weights(_) => format!("`{}`", file(WEIGHTS)),
        npi::LoadError::Optimizer(_) => format!("`{}`", file(OPTIMIZER)),
        npi::LoadError::Mismatch(_) => format!("`{}` with `{}`", file(WEIGHTS), file(META)),
        _ => format!("`{}`", file(META)),
    };
    LoadError::Refused(format!("cannot use {what}: {e}"))
}

/// The NPI checkpoint in `dir` (without its optimiser state), its metadata
/// checked against `task`; from a model of several tasks, `task`'s part.
pub fn npi_checkpoint(task: &Task, dir: &RunDir) -> Result<npi::Checkpoint, LoadError> {
    if dir.is_suite()? {
        return dir.load_suite()?.task(task).map_err(|e| npi_refusal(dir, &e));
    }
    npi_checked(task, dir, dir.load()?)
}

/// The NPI checkpoint in `dir` with its optimiser state, its metadata
/// checked against `task` (what `synth learn --resume` goes on from).
pub fn npi_resumable(task: &Task, dir: &RunDir) -> Result<npi::Checkpoint, LoadError> {
    if dir.is_suite()? {
        return Err(LoadError::Refused(format!(
            "`{}` holds a model of several tasks; train it further with `synth learn TASK... --from {}` (and another --out)",
            dir.path.display(),
            dir.path.display()
        )));
    }
    npi_checked(task, dir, dir.load_with_optimizer()?)
}

fn npi_checked(task: &Task, dir: &RunDir, ckpt: npi::Checkpoint) -> Result<npi::Checkpoint, LoadError> {
    require_npi(&ckpt.meta.learner)?;
    ckpt.check(task).map_err(|e| npi_refusal(dir, &e))?;
    Ok(ckpt)
}

/// The checkpoint of a flat-file learner in `dir` (metadata and weights,
/// made into a checkpoint by `make`), and what `build` makes of it after
/// checking it against the task; a refusal names the run directory.
fn checked<Meta: serde::de::DeserializeOwned, C, T, E: std::fmt::Display>(dir: &RunDir, make: impl FnOnce(Meta, Vec<u8>) -> C, build: impl FnOnce(&C) -> Result<T, E>) -> Result<(C, T), LoadError> {
    let (meta, weights): (Meta, _) = dir.load_parts()?;
    let ckpt = make(meta, weights);
    let built = build(&ckpt).map_err(|e| LoadError::Refused(format!("cannot use `{}`: {e}", dir.path.display())))?;
    Ok((ckpt, built))
}

/// The NRAM checkpoint in `dir`, checked against `task`, and its machine.
pub fn nram_machine(task: &Task, dir: &RunDir) -> Result<(nram::Checkpoint, nram::Nram), LoadError> {
    checked(dir, |meta, weights| nram::Checkpoint { meta, weights, optimizer: None }, |c| c.load(task))
}

/// The Neural Programmer checkpoint in `dir`, checked against `task`, and
/// its model.
pub fn np_model(task: &Task, dir: &RunDir) -> Result<(np::Checkpoint, np::Np), LoadError> {
    checked(dir, |meta, weights| np::Checkpoint { meta, weights, optimizer: None }, |c| c.load(task))
}

/// The seq2seq checkpoint in `dir`, checked against `task`, and its model.
pub fn seq2seq_model(task: &Task, dir: &RunDir) -> Result<(seq2seq::Checkpoint, seq2seq::Seq2Seq), LoadError> {
    checked(dir, |meta, weights| seq2seq::Checkpoint { meta, weights, optimizer: None }, |c| c.load(task))
}

/// The Neural Turing Machine checkpoint in `dir`, checked against `task`,
/// and its machine.
pub fn ntm_machine(task: &Task, dir: &RunDir) -> Result<(ntm::Checkpoint, ntm::Ntm), LoadError> {
    checked(dir, |meta, weights| ntm::Checkpoint { meta, weights, optimizer: None }, |c| c.load(task))
}
