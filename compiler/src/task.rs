//! The compiler's plain-data outputs: the API boundary with the runtime.
//!
//! A [`Task`](crate::Task) (in `compiled.rs`, beside the checked program it
//! runs) says what a learner must model, with the types of this module: the programs (index = program
//! id, id 0 is the primitive-action program `ACT`), the observation layout
//! (a fixed list of categorical features), the argument encoding, and the
//! `learn` defaults. A [`Trace`] is one reference run: a tree of [`Frame`]s
//! stored flat in pre-order, each frame a run of [`Step`]s, each step an
//! observation and what the program does next. Every frame is an independent
//! training sequence (NPI resets its LSTM state per call), so a learner can
//! batch frames from many traces.
//!
//! Architecture invariant: nothing here refers to the AST, to the IR or to
//! source strings other than names, and this module imports nothing from the
//! rest of the crate (the IR imports it, never the other way).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Index into [`Task::programs`](crate::Task::programs). `ACT` is always [`ACT`].
pub type ProgramId = u16;

/// The id of the primitive-action program.
pub const ACT: ProgramId = 0;

/// An argument slot with no value. Real values are `0..ArgSpec::classes`.
pub const NO_ARG: u16 = u16::MAX;

/// Number of argument slots of every call (the NPI paper's 3-tuple).
pub const ARG_SLOTS: usize = 3;

/// The arguments of one call; unused slots hold [`NO_ARG`].
pub type Args = [u16; ARG_SLOTS];

pub const NO_ARGS: Args = [NO_ARG; ARG_SLOTS];

/// What a learner needs to know about one program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramInfo {
    pub name: String,
    /// Number of parameters (0..=3). `ACT` has 3: action, pointer, value.
    pub arity: usize,
    /// Call-graph level: 0 for `ACT`, 1 for programs that only act, and so on
    /// (recursive programs take the level of their cycle).
    pub level: u32,
    pub recursive: bool,
}

/// One categorical feature of the observation: its value is `0..classes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    /// As shown in traces: `in1`, `in1.start`, `pos(lo) >= pos(hi)`.
    pub name: String,
    pub classes: u16,
    /// The learner does not see this feature's value: it sees the image
    /// [`ObsSpec::image`] draws from it (the pose world's camera pose and
    /// car). Traces keep the value so that a person, and the renderer, can
    /// read it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rendered: bool,
}

impl Feature {
    /// A feature the learner sees as it is.
    pub fn plain(name: impl Into<String>, classes: u16) -> Feature {
        Feature { name: name.into(), classes, rendered: false }
    }
}

/// The observation layout: every step observes `features.len()` values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObsSpec {
    pub features: Vec<Feature>,
    /// Worlds the learner sees as a picture: how to draw it from the
    /// rendered features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSpec>,
}

/// The picture of a pose world's observation: the car
/// ([`crate::car_render::Car::from_seed`] of feature `car`'s value) seen
/// from the camera pose of features `azimuth` and `elevation`, grayscale,
/// `side` pixels square. A pose feature's value `v` is the angle
/// `origin + step * v` degrees (the azimuth's origin and step, or the
/// elevation's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSpec {
    pub side: u16,
    /// Feature indices.
    pub car: usize,
    pub azimuth: usize,
    pub elevation: usize,
    /// Degrees per class of each pose feature.
    pub azimuth_step: i32,
    pub elevation_step: i32,
    /// Degrees of class 0.
    pub azimuth_origin: i32,
    pub elevation_origin: i32,
}

impl ImageSpec {
    /// The car seed, azimuth and elevation (degrees) an observation shows.
    pub fn pose(&self, obs: &[u16]) -> (u64, i32, i32) {
        (
            obs[self.car] as u64,
            self.azimuth_origin + self.azimuth_step * obs[self.azimuth] as i32,
            self.elevation_origin + self.elevation_step * obs[self.elevation] as i32,
        )
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.side as usize * self.side as usize
    }
}

impl ObsSpec {
    pub fn width(&self) -> usize {
        self.features.len()
    }

    /// Length of the concatenated one-hot encoding.
    /// Rendered features are not in it (see [`ImageSpec`]).
    pub fn one_hot_width(&self) -> usize {
        self.features.iter().filter(|f| !f.rendered).map(|f| f.classes as usize).sum()
    }
}

/// How call arguments are encoded: every slot is `0..classes` or [`NO_ARG`].
///
/// `ACT`'s arguments are `(action, pointer, value)`: the action's index in
/// [`Task::actions`](crate::Task::actions), the pointer's index in [`Task::pointers`](crate::Task::pointers), and a digit
/// (with `base` meaning blank), a direction (0 left, 1 right) or a second
/// pointer. A program parameter holding a pointer or direction is encoded the
/// same way; a boolean as 0/1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgSpec {
    pub classes: u16,
}

/// When a frame's *end* is predicted (NPL.md, "When a frame ends").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndConvention {
    /// After its last call the program observes once more and predicts end
    /// on a step of its own (the default).
    #[default]
    OwnStep,
    /// End is predicted on the same step as the last call (the paper's).
    AfterCall,
}

/// A `learn` setting's value, for settings the compiler does not interpret
/// itself (learner hyper-parameters such as `hidden 256` or `lr 3e-4`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Int(i64),
    Float(f64),
    Word(String),
    List(Vec<i64>),
    /// A list of words (`modules [read, inc, write]`).
    Words(Vec<String>),
    Flag(bool),
}

/// The defaults of `synth learn`, from the file's `learn` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnSpec {
    /// `npi` unless the file says otherwise.
    pub learner: String,
    /// The input sizes to train on (`train sizes 1..=10`).
    pub train_sizes: Vec<usize>,
    /// Traces in all, spread evenly over `train_sizes`.
    pub traces: usize,
    pub test_sizes: Vec<usize>,
    pub steps: Option<u64>,
    /// Wall-clock budget in seconds.
    pub time: Option<u64>,
    pub seed: Option<u64>,
    /// Every other setting, keyed by its words joined with `_`
    /// (`hidden`, `lr`, `batch`), for the learner to interpret.
    pub settings: BTreeMap<String, SettingValue>,
}

/// A call one step makes: a program (or `ACT`) and its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Call {
    pub program: ProgramId,
    pub args: Args,
}

/// One decision of one frame: given this step's observation (and the frame's
/// program and arguments), call `call` and/or end the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub call: Option<Call>,
    /// Whether the frame ends at this step. With [`EndConvention::OwnStep`]
    /// an ending step makes no call.
    pub end: bool,
    /// When `call` is a program other than `ACT`: the index of the frame it
    /// opened in [`Trace::frames`].
    pub child: Option<u32>,
}

/// One program invocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub program: ProgramId,
    pub args: Args,
    pub parent: Option<u32>,
    /// 0 for the entry program.
    pub depth: u32,
    /// Index of the frame's first step in [`Trace::steps`]; its steps are
    /// `first_step..first_step + len`.
    pub first_step: u32,
    pub len: u32,
}

impl Frame {
    pub fn step_range(&self) -> std::ops::Range<usize> {
        self.first_step as usize..(self.first_step + self.len) as usize
    }
}

/// One reference run on one sampled input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub size: usize,
    pub seed: u64,
    /// [`ObsSpec::width`].
    pub obs_width: usize,
    /// Frames in pre-order; `frames[0]` is the entry program's.
    pub frames: Vec<Frame>,
    /// Every frame's steps. A frame's steps are contiguous (see
    /// [`Frame::first_step`]); frames are stored in the order they end.
    pub steps: Vec<Step>,
    /// `obs_width` values per step, in the order of `steps`.
    pub obs: Vec<u16>,
}

impl Trace {
    /// The observation of step `i`.
    pub fn obs(&self, step: usize) -> &[u16] {
        &self.obs[step * self.obs_width..(step + 1) * self.obs_width]
    }
}

/// One input/output pair of a tape world: what NRAM learns from. The
/// learner is given `input`, runs for at most `timesteps` steps, and is
/// graded on the cells listed in `graded` (those the reference run wrote)
/// against `output`, the reference's final tape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeExample {
    pub size: usize,
    pub seed: u64,
    /// The tape's cell count `M` at this size; every value is in `0..M`.
    pub cells: usize,
    /// The `learn` block's `timesteps` expression at this size.
    pub timesteps: usize,
    /// The initial tape, `cells` values.
    pub input: Vec<u32>,
    /// The reference run's final tape, `cells` values.
    pub output: Vec<u32>,
    /// The cells the reference run wrote, ascending.
    pub graded: Vec<u32>,
}

impl TapeExample {
    /// Graded cells that a learner's final `tape` has right (a cell past
    /// its end is wrong): how every tape learner is scored.
    pub fn right_cells(&self, tape: &[u32]) -> usize {
        self.graded.iter().filter(|&&g| tape.get(g as usize) == Some(&self.output[g as usize])).count()
    }
}

/// One input/output pair of a scratchpad world, for a learner that maps
/// pads to pads (the seq2seq baseline): the sampled pad, and the rows the
/// programs write as the reference run leaves them. Cells hold digits
/// `0..blank`, and `blank` (the world's base) for an empty cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PadExample {
    pub size: usize,
    pub seed: u64,
    pub rows: usize,
    pub cols: usize,
    pub blank: u16,
    /// The sampled pad, row-major, `rows * cols` cells.
    pub input: Vec<u16>,
    /// The rows the programs can write (a `write` or `swap` names their
    /// pointers), ascending.
    pub output_rows: Vec<usize>,
    /// Those rows after the reference run, row-major.
    pub output: Vec<u16>,
}

/// One write of a tape task's reference run: `program` set `mem[address]`
/// to `value`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeWrite {
    pub program: String,
    pub address: u32,
    pub value: u32,
}

/// The reference run of a tape task, for people (`synth trace`): the input
/// tape, every write the programs made in order, the final tape and the
/// graded cells. A learner uses [`TapeExample`] instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeTrace {
    pub size: usize,
    pub seed: u64,
    pub cells: usize,
    pub input: Vec<u32>,
    pub writes: Vec<TapeWrite>,
    pub output: Vec<u32>,
    /// The cells the programs wrote, ascending.
    pub graded: Vec<u32>,
}
