//! The memory a run will need, estimated from its settings before anything
//! big is allocated, so that a setting like `hidden 1000000` is refused with
//! a message instead of aborting the process when an allocation fails.
//!
//! The estimates add up the big buffers from the model's config and shape:
//! the parameters and every copy of them a run keeps (gradients, Adam's
//! moments, checkpoints, the inference engine's transposed and packed
//! weights), the activations of a training batch, and the training data
//! (with the images a pose world's steps show), projected from one
//! reference trace per training size. They aim at the
//! right order of magnitude and err high. The budget is the caller's: the
//! runtime does no IO (the `synth` binary reads the machine's available
//! memory).

use super::config::{Fuse, NpiConfig, TrainConfig, Vision};
use super::data::{FrameData, ModelShape, Target};
use super::model::CNN_CHANNELS;
use super::sample::TrainingSet;
use crate::env::{Environment, TaskError};
use synth_compiler::{Frame, Step, ARG_SLOTS};

/// Bytes of an f32.
const F32: f64 = 4.0;

/// Estimated bytes, part by part.
#[derive(Clone, Debug, PartialEq)]
pub struct Footprint {
    /// `(what, bytes)`, in the order they were added.
    pub parts: Vec<(&'static str, f64)>,
}

impl Footprint {
    /// Bytes in all.
    pub fn total(&self) -> f64 {
        self.parts.iter().map(|(_, b)| b).sum()
    }

    /// The footprint, or [`MemoryError::TooLarge`] when its total is over
    /// `budget` bytes. `what` names the work in the message ("training
    /// this model").
    pub fn check(self, what: &'static str, budget: u64) -> Result<Footprint, MemoryError> {
        let total = self.total();
        if total.is_finite() && total <= budget as f64 {
            Ok(self)
        } else {
            Err(MemoryError::TooLarge { what, need: self, available: budget })
        }
    }
}

/// The largest parts, largest first, each at least a tenth of the total:
/// what to shrink.
impl std::fmt::Display for Footprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.total();
        let mut parts: Vec<&(&str, f64)> = self.parts.iter().filter(|(_, b)| *b >= total / 10.0).collect();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        let items: Vec<String> = parts.iter().map(|(what, b)| format!("{what} {}", bytes(*b))).collect();
        f.write_str(&items.join(", "))
    }
}

/// A run that would not fit.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("{what} would need about {} of memory ({need}), more than the {} available", bytes(.need.total()), bytes(*.available as f64))]
    TooLarge { what: &'static str, need: Footprint, available: u64 },
    #[error("generating training data: {0}")]
    Task(#[from] TaskError),
}

/// `bytes` for a person: `512 B`, `3.2 MiB`, `58.2 TiB`, `1.1e24 B`.
pub fn bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if !bytes.is_finite() || bytes >= 1024f64.powi(7) {
        return format!("{bytes:.1e} B");
    }
    let mut v = bytes.max(0.0);
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The sizes that decide the footprint, as floats (a config read from a
/// file may hold any `usize`; products must not overflow).
struct Dims {
    input: f64,
    encoder: f64,
    state: f64,
    embedding: f64,
    key: f64,
    hidden: f64,
    layers: f64,
    /// The first core layer's input width.
    core_input: f64,
    fuse_hidden: Option<f64>,
    programs: f64,
    arg_width: f64,
    /// With `vision: cnn` in a world with an image: the image's side.
    cnn_side: Option<f64>,
}

impl Dims {
    fn new(c: &NpiConfig, shape: &ModelShape) -> Dims {
        let f = |x: usize| x as f64;
        let fuse_hidden = (c.fuse == Fuse::Mlp).then(|| f(c.fuse_hidden));
        let cnn_side = shape.image.as_ref().filter(|_| c.vision == Vision::Cnn).map(|i| i.side as f64);
        // The CNN's features take the pixels' place.
        let image = match cnn_side {
            Some(side) => CNN_CHANNELS[1] as f64 * (side / 4.0).ceil().powi(2),
            None => f(shape.image_pixels()),
        };
        Dims {
            input: shape.features.iter().map(|&k| k as f64).sum::<f64>() + (ARG_SLOTS as f64) * f(shape.arg_width()) + image,
            encoder: f(c.encoder),
            state: f(c.state),
            embedding: f(c.embedding),
            key: f(c.key),
            hidden: f(c.hidden),
            layers: f(c.layers),
            core_input: fuse_hidden.unwrap_or(f(c.state) + f(c.embedding)),
            fuse_hidden,
            programs: f(shape.programs.len()),
            arg_width: f(shape.arg_width()),
            cnn_side,
        }
    }

    /// Weights of the core LSTM layers.
    fn core(&self) -> f64 {
        let h = self.hidden;
        let first = 4.0 * h * (self.core_input + 1.0 + h);
        first + (self.layers - 1.0).max(0.0) * 4.0 * h * (2.0 * h + 1.0)
    }

    /// The CNN's parameters: two 3x3 convolutions with biases.
    fn cnn(&self) -> f64 {
        let [a, b] = CNN_CHANNELS.map(|c| c as f64);
        self.cnn_side.map_or(0.0, |_| a * 9.0 + a + b * a * 9.0 + b)
    }

    /// Floats the CNN's forward pass keeps per row: each convolution's
    /// input with its padding column, its patches, and its product, bias
    /// sum and ReLU.
    fn cnn_row(&self) -> f64 {
        let Some(side) = self.cnn_side else { return 0.0 };
        let [a, b] = CNN_CHANNELS.map(|c| c as f64);
        let (h1, h2) = ((side / 2.0).ceil().powi(2), (side / 4.0).ceil().powi(2));
        let first = side * side + 1.0 + 9.0 * h1 + 3.0 * a * h1;
        let second = a * h1 + 1.0 + 9.0 * a * h2 + 3.0 * b * h2;
        first + second
    }

    /// Every parameter of the model.
    fn parameters(&self) -> f64 {
        let encoder = self.cnn() + self.input * self.encoder + self.encoder + self.encoder * self.state + self.state;
        let memory = self.programs * self.embedding + (self.programs + 1.0) * self.key;
        let fuse = self.fuse_hidden.map_or(0.0, |f| f * (self.state + self.embedding + 1.0));
        let heads = (self.hidden + 1.0) * (1.0 + self.key + ARG_SLOTS as f64 * self.arg_width);
        encoder + memory + fuse + self.core() + heads
    }

    /// Floats a training step keeps per row of its batch: the forward
    /// pass's tensors (and the LSTM's cache), their gradients, and the
    /// LSTM's own backward buffers.
    fn per_row(&self) -> f64 {
        let h = self.hidden;
        let fuse = self.fuse_hidden.map_or(self.state + self.embedding, |f| 4.0 * f);
        let core_cache = (self.core_input + 8.0 * h + 1.0) + (self.layers - 1.0).max(0.0) * (9.0 * h + 1.0);
        let heads = 2.0 + 2.0 * self.key + 3.0 * (self.programs + 1.0) + 6.0 * ARG_SLOTS as f64 * self.arg_width;
        let forward = self.cnn_row() + self.input + 3.0 * self.encoder + 2.0 * self.state + fuse + core_cache + heads;
        let lstm_backward = 4.0 * h * self.layers + self.core_input + (self.layers - 1.0).max(0.0) * h;
        2.0 * forward + lstm_backward
    }
}

/// Parameters of a model of `config` for `shape`.
pub fn parameters(config: &NpiConfig, shape: &ModelShape) -> f64 {
    Dims::new(config, shape).parameters()
}

/// Training `config` on `env`'s traces as `cfg` says: the model and its
/// copies, a batch's activations (a batch of the longest frames) and the
/// training data, projected from the run's first trace of every training
/// size (the same traces training starts with, so nothing else random).
pub fn training<E: Environment + ?Sized>(env: &E, config: &NpiConfig, cfg: &TrainConfig) -> Result<Footprint, TaskError> {
    let shape = ModelShape::of(env);
    let sizes = cfg.train_sizes.len();
    let mut data = 0.0;
    // Every step's image, at most (steps share poses), as the cache holds
    // them.
    let mut images = 0.0;
    let mut longest = 1usize;
    let mut builder = TrainingSet::new(env, config, cfg);
    for j in 0..sizes.min(cfg.traces) {
        let trace = builder.next_trace()?;
        // Traces spread round-robin over the sizes: `count` of them at size j.
        let count = (cfg.traces / sizes + usize::from(j < cfg.traces % sizes)) as f64;
        let steps = trace.steps.len() as f64;
        let frames = trace.frames.len() as f64;
        // The traces and the dataset cut from them are alive together.
        let trace_bytes = steps * std::mem::size_of::<Step>() as f64 + trace.obs.len() as f64 * 2.0 + frames * std::mem::size_of::<Frame>() as f64;
        let dataset_bytes = steps * (shape.obs_width() as f64 * 2.0 + std::mem::size_of::<Target>() as f64) + frames * std::mem::size_of::<FrameData>() as f64;
        data += count * (trace_bytes + dataset_bytes);
        images += count * steps * shape.image_pixels() as f64 * F32;
        longest = longest.max(trace.frames.iter().map(|f| f.len as usize).max().unwrap_or(1));
    }
    let images = images.min(super::images::CACHE_BYTES as f64);
    Ok(training_with(config, &shape, cfg, cfg.batch as f64 * longest as f64, data + images))
}

/// [`training`] with the rows of a batch and the data's bytes given.
pub fn training_with(config: &NpiConfig, shape: &ModelShape, cfg: &TrainConfig, rows: f64, data: f64) -> Footprint {
    let d = Dims::new(config, shape);
    let p = d.parameters() * F32;
    let threads = cfg.threads().max(1) as f64;
    let validation_runs = cfg.validation_count as f64 * cfg.validation_sizes.len().max(3) as f64;
    Footprint {
        parts: vec![
            ("parameters", p),
            ("gradients", p),
            ("optimiser moments", 2.0 * p),
            // The best checkpoint's weights and optimiser state, and the copy
            // handed to the caller to save.
            ("checkpoints", 6.0 * p),
            // Validation's engine: the weights transposed and packed.
            ("inference copy", 2.0 * p),
            // Per thread, a share of every layer's weight gradient; `W_hh`
            // packed for the forward and backward passes.
            ("lstm buffers", (threads + 1.0) * d.core() * F32),
            ("activations of a batch", rows * d.per_row() * F32),
            ("training data", data),
            ("validation runs", validation_runs * (2.0 * d.layers * d.hidden + 4.0 * d.hidden) * F32),
        ],
    }
}

/// Running `config` closed loop, `runs` runs in lockstep: the loaded
/// weights and their bytes, the inference engine's copies, and the runs'
/// states.
pub fn inference(config: &NpiConfig, shape: &ModelShape, runs: usize) -> Footprint {
    let d = Dims::new(config, shape);
    let p = d.parameters() * F32;
    Footprint {
        parts: vec![
            ("parameters", p),
            ("checkpoint bytes", p),
            // Transposed, packed, and the core split over two threads.
            ("inference copy", 2.0 * p + d.core() * F32),
            ("run states", runs.max(1) as f64 * (2.0 * d.layers * d.hidden + 8.0 * d.hidden) * F32),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npi::config::Observe;
    use crate::npi::model::Npi;
    use synth_compiler::{EndConvention, ProgramInfo};

    fn shape() -> ModelShape {
        let programs: Vec<ProgramInfo> = [("ACT", 3), ("ADD", 0), ("ADD1", 0)]
            .iter()
            .map(|&(n, a)| ProgramInfo { name: n.into(), arity: a, level: 0, recursive: false })
            .collect();
        ModelShape::new(vec![10, 10, 2, 2], 11, &programs, EndConvention::OwnStep)
    }

    /// The parameter count is exact: it is what the model allocates, an
    /// image's pixel columns included.
    #[test]
    fn parameters_match_the_model() {
        use crate::npi::data::tests::image_shape;
        for shape in [shape(), image_shape(16), image_shape(13)] {
            for fuse in [Fuse::Mlp, Fuse::Concat] {
                for (layers, vision) in [(1, Vision::Pixels), (3, Vision::Pixels), (1, Vision::Cnn)] {
                    let cfg = NpiConfig { hidden: 20, layers, embedding: 6, key: 5, encoder: 12, state: 10, fuse, fuse_hidden: 14, observe: Observe::All, vision };
                    let npi = Npi::new(&cfg, &shape, 1).unwrap();
                    let real: usize = npi.varmap.all_vars().iter().map(|v| v.elem_count()).sum();
                    assert_eq!(parameters(&cfg, &shape), real as f64, "{fuse:?}, {layers} layers, {vision:?}, image {:?}", shape.image);
                }
            }
        }
    }

    #[test]
    fn the_default_model_fits_in_a_small_machine() {
        let f = training_with(&NpiConfig::default(), &shape(), &TrainConfig::default(), 64.0 * 40.0, 50e6);
        assert!(f.total() < 1e9, "{}", bytes(f.total()));
        assert!(f.clone().check("training this model", 1 << 30).is_ok());
        assert!(inference(&NpiConfig::default(), &shape(), 32).check("running this model", 1 << 30).is_ok());
    }

    #[test]
    fn an_absurd_model_is_refused_with_what_it_needs() {
        let cfg = NpiConfig { hidden: 1_000_000, ..NpiConfig::default() };
        let e = training_with(&cfg, &shape(), &TrainConfig::default(), 64.0 * 40.0, 0.0).check("training this model", 16 << 30).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("training this model would need about "), "{text}");
        assert!(text.contains("TiB of memory (checkpoints "), "{text}");
        assert!(text.ends_with("more than the 16.0 GiB available"), "{text}");
        let e = inference(&cfg, &shape(), 1).check("running this model", 16 << 30).unwrap_err();
        assert!(e.to_string().contains("TiB of memory (inference copy"), "{e}");
        // Sizes no product of which fits in a usize.
        let huge = NpiConfig { hidden: usize::MAX, layers: usize::MAX, ..NpiConfig::default() };
        assert!(inference(&huge, &shape(), 1).check("running this model", u64::MAX).is_err());
    }

    #[test]
    fn a_batch_of_absurd_rows_is_refused() {
        let f = training_with(&NpiConfig::default(), &shape(), &TrainConfig::default(), 1e12, 0.0);
        let e = f.check("training this model", 16 << 30).unwrap_err();
        assert!(e.to_string().contains("(activations of a batch "), "{e}");
    }

    #[test]
    fn bytes_read_well() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(3.5 * 1024.0 * 1024.0), "3.5 MiB");
        assert_eq!(bytes(16004112000000.0), "14.6 TiB");
        assert_eq!(bytes(1.1e24), "1.1e24 B");
    }
}
