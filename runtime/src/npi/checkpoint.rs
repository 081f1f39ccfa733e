//! Checkpoints: the weights as safetensors bytes and a serde metadata record
//! saying what they were trained on. Nothing is written here; the caller
//! stores both (the `synth` binary writes `model.safetensors` and a JSON
//! sidecar).
//!
//! Loading checks the record against the task before touching the weights
//! and refuses, with a message that says what differs, a checkpoint for
//! another task, another version of the task's source, another program set,
//! or other observation (image included) or argument layouts. Then the
//! bytes: an image that cannot be drawn, weights that are not safetensors
//! or not finite, weights that are not the model the
//! record's config describes (checked by name and shape before the model
//! allocates anything), and an optimiser state that does not fit them are
//! refused too, each with its own [`LoadError`], so that a caller can name
//! the file at fault.

use super::config::NpiConfig;
use super::data::ModelShape;
use super::model::Npi;
use crate::env::Environment;
use serde::{Deserialize, Serialize};

/// The version of the checkpoint layout written by this code.
pub const FORMAT: u32 = 1;

/// How a checkpoint scored on one validation size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeScore {
    pub size: usize,
    pub count: usize,
    pub exact: usize,
    /// The task, in a model trained on several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// What a checkpoint's weights are and what they were trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: u32,
    pub learner: String,
    pub task: String,
    pub source_hash: String,
    pub config: NpiConfig,
    /// Programs, observation and argument layouts, end convention.
    pub shape: ModelShape,
    pub seed: u64,
    pub train_sizes: Vec<usize>,
    pub traces: usize,
    /// Optimiser steps taken when the weights were saved.
    pub step: u64,
    /// Mean training loss around that step.
    pub loss: f64,
    /// Closed-loop exact matches at that step.
    pub validation: Vec<SizeScore>,
}

/// A trained model: metadata plus safetensors bytes, and the optimiser's
/// state at the same step so that training can resume where it was.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub meta: CheckpointMeta,
    pub weights: Vec<u8>,
    /// Adam's moments and step count (`Adam::state_to_safetensors`); `None`
    /// for a checkpoint saved without them.
    pub optimizer: Option<Vec<u8>>,
}

/// Why a checkpoint cannot be used with a task.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("the checkpoint has format {found}, this synth reads format {FORMAT}")]
    Format { found: u32 },
    #[error("the checkpoint is for the {found} learner, not npi")]
    Learner { found: String },
    #[error("the model was trained on {tasks}, not on `{task}`")]
    NotInSuite { task: String, tasks: String },
    #[error("the checkpoint was trained on task `{found}`, not `{expected}`")]
    Task { expected: String, found: String },
    #[error("the checkpoint was trained on another version of `{task}` (source hash {found:.12}, the file now hashes to {expected:.12}); retrain it")]
    Source { task: String, expected: String, found: String },
    #[error("the checkpoint's programs are {found}, the task's are {expected}")]
    Programs { expected: String, found: String },
    #[error("the checkpoint observes {found}, the task observes {expected}")]
    Observation { expected: String, found: String },
    #[error("the checkpoint's arguments take {found} values, the task's take {expected}")]
    Arguments { expected: u16, found: u16 },
    #[error("the checkpoint ends frames {found:?}, the task {expected:?}")]
    EndConvention { expected: synth_compiler::EndConvention, found: synth_compiler::EndConvention },
    #[error("the checkpoint's model config is invalid: {0}")]
    Config(String),
    /// The weights are not safetensors, or hold values that are not finite.
    #[error("the checkpoint's weights do not load: {0}")]
    Weights(String),
    /// The weights load but are not the model the metadata describes.
    #[error("the checkpoint's weights do not fit its model config: {0}")]
    Mismatch(String),
    /// Adam's saved state does not load or does not fit the weights.
    #[error("the checkpoint's optimiser state does not load: {0}")]
    Optimizer(String),
}

/// A candle error's message without the backtrace candle attaches when
/// `RUST_BACKTRACE` is set: a refusal is one line for a user, not a report
/// of where in candle it was noticed.
pub(crate) fn message(e: &candle_core::Error) -> String {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => message(inner),
        e => e.to_string(),
    }
}

fn programs_list(shape: &ModelShape) -> String {
    let items: Vec<String> = shape.programs.iter().zip(&shape.arities).map(|(n, a)| format!("{n}/{a}")).collect();
    format!("[{}]", items.join(", "))
}

/// `5 features with [0, 4, 0, 0, 3] classes and a 32x32 image of car
/// feature 0 at azimuth feature 2 (-180 + 15 v degrees) and elevation
/// feature 3 (-90 + 15 v degrees)`.
fn features_list(shape: &ModelShape) -> String {
    let items: Vec<String> = shape.features.iter().map(|c| c.to_string()).collect();
    let image = match &shape.image {
        None => String::new(),
        Some(i) => format!(
            " and a {0}x{0} image of car feature {1} at azimuth feature {2} ({3} + {4} v degrees) and elevation feature {5} ({6} + {7} v degrees)",
            i.side, i.car, i.azimuth, i.azimuth_origin, i.azimuth_step, i.elevation, i.elevation_origin, i.elevation_step
        ),
    };
    format!("{} features with [{}] classes{image}", shape.features.len(), items.join(", "))
}

/// Why `shape`'s image cannot be drawn, if it cannot: a feature the
/// observation lacks, a side the renderer does not take, or angles out of
/// range.
fn image_fault(shape: &ModelShape) -> Option<String> {
    let i = shape.image.as_ref()?;
    let width = shape.obs_width();
    if [i.car, i.azimuth, i.elevation].iter().any(|&f| f >= width) {
        return Some(format!("the image draws features {}, {} and {} of an observation of {width}", i.car, i.azimuth, i.elevation));
    }
    let angles = format!("{} + {} v, {} + {} v", i.azimuth_origin, i.azimuth_step, i.elevation_origin, i.elevation_step);
    (!super::images::drawable(i)).then(|| format!("the {0}x{0} image (angles {angles}) cannot be drawn", i.side))
}

impl Checkpoint {
    /// Saves `npi` with `meta` (whose config and shape are taken from it).
    pub fn save(npi: &Npi, mut meta: CheckpointMeta) -> candle_core::Result<Checkpoint> {
        meta.config = npi.config.clone();
        meta.shape = npi.shape.clone();
        Ok(Checkpoint { meta, weights: crate::params::to_safetensors(&npi.varmap)?, optimizer: None })
    }

    /// The same checkpoint with `opt`'s state.
    pub fn with_optimizer(mut self, opt: &crate::optim::Adam) -> candle_core::Result<Checkpoint> {
        self.optimizer = Some(opt.state_to_safetensors()?);
        Ok(self)
    }

    /// Checks that the checkpoint fits `env` (see the module doc).
    pub fn check<E: Environment + ?Sized>(&self, env: &E) -> Result<(), LoadError> {
        let m = &self.meta;
        if m.format != FORMAT {
            return Err(LoadError::Format { found: m.format });
        }
        if m.learner != "npi" {
            return Err(LoadError::Learner { found: m.learner.clone() });
        }
        if m.task != env.name() {
            return Err(LoadError::Task { expected: env.name().into(), found: m.task.clone() });
        }
        let want = ModelShape::of(env);
        if m.shape.programs != want.programs || m.shape.arities != want.arities {
            return Err(LoadError::Programs { expected: programs_list(&want), found: programs_list(&m.shape) });
        }
        if m.shape.features != want.features || m.shape.image != want.image {
            return Err(LoadError::Observation { expected: features_list(&want), found: features_list(&m.shape) });
        }
        if m.shape.arg_classes != want.arg_classes {
            return Err(LoadError::Arguments { expected: want.arg_classes, found: m.shape.arg_classes });
        }
        if m.shape.end != want.end {
            return Err(LoadError::EndConvention { expected: want.end, found: m.shape.end });
        }
        if m.source_hash != env.source_hash() {
            return Err(LoadError::Source { task: m.task.clone(), expected: env.source_hash().into(), found: m.source_hash.clone() });
        }
        Ok(())
    }

    /// The model, after [`Checkpoint::check`].
    pub fn load<E: Environment + ?Sized>(&self, env: &E) -> Result<Npi, LoadError> {
        self.check(env)?;
        self.model()
    }

    /// The model, without checking it against a task.
    pub fn model(&self) -> Result<Npi, LoadError> {
        if !self.meta.config.is_valid() {
            return Err(LoadError::Config(format!("{:?}", self.meta.config)));
        }
        let shape = &self.meta.shape;
        if shape.programs.is_empty() || shape.programs.len() != shape.arities.len() {
            return Err(LoadError::Config(format!("{} programs with {} arities", shape.programs.len(), shape.arities.len())));
        }
        if let Some(fault) = image_fault(shape) {
            return Err(LoadError::Config(fault));
        }
        let varmap = crate::params::from_safetensors(&self.weights, &candle_core::Device::Cpu).map_err(|e| LoadError::Weights(message(&e)))?;
        // Corrupt bytes inside a well-formed file read as NaN or huge
        // values; a model of them would only ever produce garbage.
        for (name, var) in crate::params::sorted_vars(&varmap) {
            let values = var.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(|e| LoadError::Weights(message(&e)))?;
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                return Err(LoadError::Weights(format!("`{name}` holds {v}")));
            }
        }
        Npi::from_varmap(&self.meta.config, &self.meta.shape, varmap).map_err(|e| LoadError::Mismatch(message(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npi::config::{Observe, Vision};
    use crate::npi::data::tests::PoseTask;

    fn checkpoint(task: &PoseTask) -> Checkpoint {
        checkpoint_seeing(task, Vision::Pixels)
    }

    fn checkpoint_seeing(task: &PoseTask, vision: Vision) -> Checkpoint {
        let cfg = NpiConfig { hidden: 8, layers: 1, embedding: 4, key: 4, encoder: 8, state: 8, fuse_hidden: 8, observe: Observe::All, vision, ..NpiConfig::default() };
        let npi = Npi::new(&cfg, &ModelShape::of(task), 0).unwrap();
        let meta = CheckpointMeta {
            format: FORMAT,
            learner: "npi".into(),
            task: "pose".into(),
            source_hash: "0".into(),
            config: cfg,
            shape: npi.shape.clone(),
            seed: 0,
            train_sizes: vec![1],
            traces: 1,
            step: 0,
            loss: 0.0,
            validation: Vec::new(),
        };
        Checkpoint::save(&npi, meta).unwrap()
    }

    /// A checkpoint records its image, loads for a task with the same one
    /// and is refused, saying so, for a task with another.
    #[test]
    fn the_image_is_part_of_the_observation() {
        let ckpt = checkpoint(&PoseTask::new(8));
        let npi = ckpt.load(&PoseTask::new(8)).unwrap();
        assert_eq!(npi.shape.image_pixels(), 64);
        let e = ckpt.check(&PoseTask::new(16)).unwrap_err();
        assert!(matches!(e, LoadError::Observation { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains("a 16x16 image of car feature 0 at azimuth feature 2 (-180 + 15 v degrees)"), "{text}");
        assert!(text.contains("observes 5 features with [0, 5, 0, 0, 3] classes and a 8x8 image"), "{text}");
    }

    /// A checkpoint of a model with a CNN loads with it; weights whose
    /// vision is not the config's (an edited file) are refused by name.
    #[test]
    fn the_weights_must_see_as_the_config_says() {
        let task = PoseTask::new(8);
        let cnn = checkpoint_seeing(&task, Vision::Cnn);
        assert_eq!(cnn.meta.config.vision, Vision::Cnn);
        assert!(cnn.load(&task).unwrap().encoder.cnn.is_some());
        let mut edited = cnn.clone();
        edited.meta.config.vision = Vision::Pixels;
        assert!(matches!(edited.load(&task), Err(LoadError::Mismatch(m)) if m.contains("encoder.cnn")));
        let mut edited = checkpoint(&task);
        edited.meta.config.vision = Vision::Cnn;
        assert!(matches!(edited.load(&task), Err(LoadError::Mismatch(m)) if m.contains("encoder.cnn")));
    }

    /// An image the renderer cannot draw, or of features the observation
    /// lacks, is refused before the weights are read.
    #[test]
    fn an_undrawable_image_is_refused() {
        let mut ckpt = checkpoint(&PoseTask::new(8));
        if let Some(i) = ckpt.meta.shape.image.as_mut() {
            i.azimuth = 9;
        }
        assert!(matches!(ckpt.model(), Err(LoadError::Config(m)) if m.contains("features 0, 9 and 3 of an observation of 5")));
        let mut ckpt = checkpoint(&PoseTask::new(8));
        if let Some(i) = ckpt.meta.shape.image.as_mut() {
            i.azimuth_step = i32::MAX;
        }
        assert!(matches!(ckpt.model(), Err(LoadError::Config(m)) if m.contains("cannot be drawn")));
    }
}
