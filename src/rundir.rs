//! A run directory (`runs/add` by default): what `synth learn` writes and
//! `synth eval`/`synth run` read.
//!
//! ```text
//! model.safetensors   the best weights so far
//! model.json          their metadata (task, source hash, learner, config, seed, sizes, validation)
//! metrics.jsonl       one JSON object per logged step and per validation
//! eval.json           the final generalisation table
//! loss.svg, validation.svg, accuracy.svg
//! ```
//!
//! Every file is written atomically (a temporary file in the same directory,
//! then a rename), so an interrupted run never leaves a half-written
//! checkpoint: the previous best stays in place until the next one is
//! complete.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use serde::de::DeserializeOwned;
use serde::Serialize;
use synth_runtime::npi::{Checkpoint, CheckpointMeta, SuiteCheckpoint};

pub const WEIGHTS: &str = "model.safetensors";
pub const META: &str = "model.json";
/// Adam's state at the checkpoint's step, for `synth learn --resume`.
pub const OPTIMIZER: &str = "optimizer.safetensors";
pub const METRICS: &str = "metrics.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error("cannot write `{path}`: {err}")]
    Write { path: String, err: std::io::Error },
    #[error("cannot read `{path}`: {err}")]
    Read { path: String, err: std::io::Error },
    #[error("`{path}` holds no model (no {META}); train one with `synth learn`")]
    NoModel { path: String },
    #[error("`{path}` is not a synth checkpoint: {err}")]
    BadMeta { path: String, err: serde_json::Error },
    #[error("`{path}` is missing: the run directory has the metadata ({META}) but not the file it goes with")]
    Missing { path: String },
}

pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    pub fn new(path: impl Into<PathBuf>) -> RunDir {
        RunDir { path: path.into() }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Whether a checkpoint is already there.
    pub fn has_model(&self) -> bool {
        self.file(META).is_file()
    }

    pub fn create(&self) -> Result<(), RunDirError> {
        fs::create_dir_all(&self.path).map_err(|err| RunDirError::Write { path: self.path.display().to_string(), err })
    }

    /// Writes `bytes` to `name` atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), RunDirError> {
        write_atomic(&self.file(name), bytes)
    }

    /// Saves a checkpoint: weights first, then the metadata that names them,
    /// each atomically.
    pub fn save(&self, ckpt: &Checkpoint) -> Result<(), RunDirError> {
        self.save_parts(&ckpt.meta, &ckpt.weights, ckpt.optimizer.as_deref())
    }

    /// Saves any learner's checkpoint: its weights, its optimiser state or
    /// none, then the metadata that names them.
    pub fn save_parts(&self, meta: &impl Serialize, weights: &[u8], optimizer: Option<&[u8]>) -> Result<(), RunDirError> {
        self.write(WEIGHTS, weights)?;
        match optimizer {
            Some(bytes) => self.write(OPTIMIZER, bytes)?,
            None => {
                // A stale state would not belong to these weights.
                let _ = fs::remove_file(self.file(OPTIMIZER));
            }
        }
        let meta = serde_json::to_vec_pretty(meta).expect("metadata serialises");
        self.write(META, &meta)
    }

    /// The checkpoint's metadata and weights, without the optimiser state
    /// (what `eval` and `run` need).
    pub fn load(&self) -> Result<Checkpoint, RunDirError> {
        let (meta, weights): (CheckpointMeta, _) = self.load_parts()?;
        Ok(Checkpoint { meta, weights, optimizer: None })
    }

    /// Any learner's metadata and weights.
    pub fn load_parts<M: DeserializeOwned>(&self) -> Result<(M, Vec<u8>), RunDirError> {
        let meta: M = self.meta_as()?;
        let weights = read(&self.file(WEIGHTS))?;
        Ok((meta, weights))
    }

    /// The learner that trained the checkpoint here (`model.json`'s
    /// `learner`), to pick the code that reads the rest.
    pub fn learner(&self) -> Result<String, RunDirError> {
        #[derive(serde::Deserialize)]
        struct Learner {
            learner: String,
        }
        Ok(self.meta_as::<Learner>()?.learner)
    }

    /// `model.json` read as `M`: a learner's metadata, a part of it, or the
    /// whole as a JSON value.
    pub fn meta_as<M: DeserializeOwned>(&self) -> Result<M, RunDirError> {
        let meta_path = self.file(META);
        if !meta_path.is_file() {
            return Err(RunDirError::NoModel { path: self.path.display().to_string() });
        }
        serde_json::from_slice(&read(&meta_path)?).map_err(|err| RunDirError::BadMeta { path: meta_path.display().to_string(), err })
    }

    /// Whether the checkpoint here is an NPI model of several tasks
    /// (`model.json` has a `suite`).
    pub fn is_suite(&self) -> Result<bool, RunDirError> {
        Ok(self.meta_as::<serde_json::Value>()?.get("suite").is_some())
    }

    /// The model of several tasks here.
    pub fn load_suite(&self) -> Result<SuiteCheckpoint, RunDirError> {
        let (meta, weights) = self.load_parts()?;
        Ok(SuiteCheckpoint { meta, weights })
    }

    /// The controller of the NRAM checkpoint here (`model.json`'s
    /// `config.controller`, `mlp` when absent), read before the metadata is
    /// parsed as a whole, so that a controller this synth cannot load is
    /// refused by name.
    pub fn controller(&self) -> Result<String, RunDirError> {
        let v: serde_json::Value = self.meta_as()?;
        Ok(v["config"]["controller"].as_str().unwrap_or("mlp").to_string())
    }

    /// The checkpoint with its optimiser state when there is one (what
    /// `learn --resume` needs).
    pub fn load_with_optimizer(&self) -> Result<Checkpoint, RunDirError> {
        let mut ckpt = self.load()?;
        ckpt.optimizer = self.optimizer()?;
        Ok(ckpt)
    }

    /// How `learn --resume` goes on: with the saved optimiser state or a
    /// fresh one.
    pub fn optimizer_words(saved: bool) -> &'static str {
        if saved {
            "with its optimiser state"
        } else {
            "with a fresh optimiser (no optimiser state saved)"
        }
    }

    /// Any learner's saved optimiser state, when there is one.
    pub fn optimizer(&self) -> Result<Option<Vec<u8>>, RunDirError> {
        let path = self.file(OPTIMIZER);
        if path.exists() {
            Ok(Some(read(&path)?))
        } else {
            Ok(None)
        }
    }

    /// Appends one line to `metrics.jsonl`.
    pub fn log(&self, line: &serde_json::Value) -> Result<(), RunDirError> {
        let path = self.file(METRICS);
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|err| RunDirError::Write { path: path.display().to_string(), err })?;
        writeln!(f, "{line}").map_err(|err| RunDirError::Write { path: path.display().to_string(), err })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, RunDirError> {
    fs::read(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => RunDirError::Missing { path: path.display().to_string() },
        _ => RunDirError::Read { path: path.display().to_string(), err },
    })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunDirError> {
    let err = |err| RunDirError::Write { path: path.display().to_string(), err };
    let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
    {
        let mut f = fs::File::create(&tmp).map_err(err)?;
        f.write_all(bytes).map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    fs::rename(&tmp, path).map_err(err)
}
