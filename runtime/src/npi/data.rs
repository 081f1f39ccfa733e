//! Training data: reference traces cut into frames, and frames packed into
//! batches of one-hot inputs and targets.
//!
//! Every frame is an independent sequence (the LSTM state starts fresh per
//! call). A step's input is its observation and the frame's arguments, plus
//! the frame's program (looked up in the model's program memory); its
//! targets are the end flag, the call's program and the call's arguments.
//!
//! In a world the learner sees as a picture ([`ModelShape::image`]), the
//! input also holds the image of the step's observation, one column per
//! pixel after the argument slots ([`super::images`]).

use super::lstm::Packing;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use synth_compiler::task::ImageSpec;
use synth_compiler::{Args, EndConvention, ProgramId, ProgramInfo, Trace, ARG_SLOTS, NO_ARG};

/// The task-dependent sizes of a model: what a checkpoint must agree on
/// with the task it is loaded for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelShape {
    /// Classes of every observation feature, in order; 0 for a feature
    /// the learner sees only through the image (a rendered feature).
    pub features: Vec<u16>,
    /// Argument values `0..arg_classes`; the model adds one class for
    /// `NO_ARG`.
    pub arg_classes: u16,
    /// Programs' names, index = program id (`[0]` is `ACT`).
    pub programs: Vec<String>,
    /// Programs' arities (argument slots they use).
    pub arities: Vec<usize>,
    pub end: EndConvention,
    /// Per program, the observation features its encoder input keeps
    /// (`observe: decisions`); `None`: every feature, for every program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Vec<Vec<bool>>>,
    /// The picture the input shows of every observation (pose worlds):
    /// [`ModelShape::image_pixels`] columns after the argument slots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSpec>,
}

impl ModelShape {
    /// A shape without an image: every feature one-hot.
    pub fn new(features: Vec<u16>, arg_classes: u16, programs: &[ProgramInfo], end: EndConvention) -> ModelShape {
        ModelShape {
            features,
            arg_classes,
            programs: programs.iter().map(|p| p.name.clone()).collect(),
            arities: programs.iter().map(|p| p.arity.min(ARG_SLOTS)).collect(),
            end,
            observed: None,
            image: None,
        }
    }

    /// The shape a task calls for. A rendered feature has no one-hot
    /// classes: the learner sees it through the task's image.
    pub fn of<E: crate::Environment + ?Sized>(env: &E) -> ModelShape {
        let obs = env.obs();
        let features = obs.features.iter().map(|f| if f.rendered { 0 } else { f.classes }).collect();
        let mut shape = ModelShape::new(features, env.args().classes, env.programs(), env.end_convention());
        shape.image = obs.image.clone();
        shape
    }

    /// The shape a model of `config` has on `env`: [`ModelShape::of`], with
    /// each program's observed features when `config` observes only what
    /// decisions read (every feature where the environment cannot say).
    pub fn for_model<E: crate::Environment + ?Sized>(env: &E, config: &super::config::NpiConfig) -> ModelShape {
        let mut shape = ModelShape::of(env);
        if config.observe == super::config::Observe::Decisions {
            shape.observed = env.decision_features();
        }
        shape
    }

    /// Observation features.
    pub fn obs_width(&self) -> usize {
        self.features.len()
    }

    /// Classes of one argument slot, `NO_ARG` included.
    pub fn arg_width(&self) -> usize {
        self.arg_classes as usize + 1
    }

    /// Width of the encoder input: every feature's one-hot, then 3
    /// argument slots, then the image's pixels (if any).
    pub fn input_width(&self) -> usize {
        self.pixel_offset() + self.image_pixels()
    }

    /// The first pixel column of the input: the width of its one-hot part.
    pub fn pixel_offset(&self) -> usize {
        self.features.iter().map(|&c| c as usize).sum::<usize>() + ARG_SLOTS * self.arg_width()
    }

    /// Pixels of the input's image; 0 without one.
    pub fn image_pixels(&self) -> usize {
        self.image.as_ref().map_or(0, ImageSpec::pixels)
    }

    /// Whether `program`'s input shows the image: always, unless the
    /// program observes only some features ([`ModelShape::observed`]) and
    /// none of those the image draws.
    pub fn shows_image(&self, program: ProgramId) -> bool {
        let Some(spec) = &self.image else { return false };
        match self.observed.as_ref().and_then(|o| o.get(program as usize)) {
            None => true,
            Some(keep) => [spec.car, spec.azimuth, spec.elevation].iter().any(|&f| keep.get(f).copied().unwrap_or(true)),
        }
    }

    /// The pixels of a step of `program`'s input ([`super::images::pixels`]
    /// of `obs`); `None` where the input shows no image.
    pub fn pixels(&self, program: ProgramId, obs: &[u16]) -> Option<Arc<[f32]>> {
        let spec = self.image.as_ref().filter(|_| self.shows_image(program))?;
        Some(super::images::pixels(spec, obs))
    }

    /// Number of programs (`ACT` included).
    pub fn programs(&self) -> usize {
        self.programs.len()
    }

    /// The program head's classes: every program, then "no call".
    pub fn call_classes(&self) -> usize {
        self.programs.len() + 1
    }

    /// The program-head class meaning "no call".
    pub fn no_call(&self) -> u32 {
        self.programs.len() as u32
    }

    /// Index of an argument value's class (`NO_ARG` is the last).
    pub fn arg_class(&self, a: u16) -> u32 {
        if a == NO_ARG || a >= self.arg_classes {
            self.arg_classes as u32
        } else {
            a as u32
        }
    }

    /// The argument value of a class.
    pub fn arg_value(&self, class: usize) -> u16 {
        if class >= self.arg_classes as usize {
            NO_ARG
        } else {
            class as u16
        }
    }

    /// Positions of the ones of a step of `program`'s input: one per
    /// observation feature the program observes (a value out of range sets
    /// no bit) and one per argument slot.
    pub fn hot(&self, program: ProgramId, obs: &[u16], args: &Args, out: &mut Vec<usize>) {
        out.clear();
        let mut base = 0;
        let keep = self.observed.as_ref().and_then(|o| o.get(program as usize));
        for (f, (&v, &c)) in obs.iter().zip(&self.features).enumerate() {
            if v < c && keep.is_none_or(|k| k.get(f).copied().unwrap_or(true)) {
                out.push(base + v as usize);
            }
            base += c as usize;
        }
        for (s, &a) in args.iter().enumerate() {
            out.push(base + s * self.arg_width() + self.arg_class(a) as usize);
        }
    }
}

/// The targets of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub end: bool,
    /// The program-head class (a program id or [`ModelShape::no_call`]);
    /// `None` where the head is not trained (an own end step).
    pub call: Option<u32>,
    /// Argument-head classes; `None` where a slot is not trained (no call,
    /// or beyond the called program's arity).
    pub args: [Option<u32>; ARG_SLOTS],
}

/// One frame: a program invocation, its steps in [`Dataset`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameData {
    pub program: u16,
    pub args: Args,
    /// Index of the first step in the dataset's steps.
    pub first: usize,
    pub len: usize,
}

/// The frames of a set of traces.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub shape: ModelShape,
    pub frames: Vec<FrameData>,
    /// `shape.obs_width()` values per step.
    pub obs: Vec<u16>,
    pub targets: Vec<Target>,
}

impl Dataset {
    pub fn new(shape: ModelShape) -> Dataset {
        Dataset { shape, frames: Vec::new(), obs: Vec::new(), targets: Vec::new() }
    }

    pub fn from_traces<'a>(shape: &ModelShape, traces: impl IntoIterator<Item = &'a Trace>) -> Dataset {
        let mut d = Dataset::new(shape.clone());
        for t in traces {
            d.push_trace(t);
        }
        d
    }

    /// Adds every non-empty frame of `trace`.
    pub fn push_trace(&mut self, trace: &Trace) {
        let w = self.shape.obs_width();
        for f in &trace.frames {
            if f.len == 0 {
                continue;
            }
            let first = self.targets.len();
            for i in f.step_range() {
                let step = &trace.steps[i];
                let obs = trace.obs(i);
                self.obs.extend((0..w).map(|j| obs.get(j).copied().unwrap_or(u16::MAX)));
                let own_end = step.end && step.call.is_none() && self.shape.end == EndConvention::OwnStep;
                let call = if own_end {
                    None
                } else {
                    Some(step.call.map(|c| c.program as u32).unwrap_or(self.shape.no_call()))
                };
                let mut args = [None; ARG_SLOTS];
                if let Some(c) = step.call {
                    let arity = self.shape.arities.get(c.program as usize).copied().unwrap_or(ARG_SLOTS);
                    for (s, a) in args.iter_mut().enumerate().take(arity) {
                        *a = Some(self.shape.arg_class(c.args[s]));
                    }
                }
                self.targets.push(Target { end: step.end, call, args });
            }
            self.frames.push(FrameData { program: f.program, args: f.args, first, len: f.len as usize });
        }
    }

    /// Total steps.
    pub fn steps(&self) -> usize {
        self.targets.len()
    }

    /// The observation of step `i`.
    pub fn obs(&self, i: usize) -> &[u16] {
        let w = self.shape.obs_width();
        &self.obs[i * w..(i + 1) * w]
    }

    /// Packs the frames `ids` (any order) into a batch, longest first.
    pub fn batch(&self, ids: &[usize], dev: &Device) -> candle_core::Result<Batch> {
        let mut order: Vec<usize> = ids.to_vec();
        // Stable, so equal lengths keep the caller's (seeded) order.
        order.sort_by(|&a, &b| self.frames[b].len.cmp(&self.frames[a].len));
        let lengths: Vec<usize> = order.iter().map(|&f| self.frames[f].len).collect();
        let packing = Packing::new(&lengths);
        let rows = packing.rows();
        let (iw, aw) = (self.shape.input_width(), ARG_SLOTS);
        let mut input = vec![0f32; rows * iw];
        let mut program = vec![0u32; rows];
        let mut end = vec![0f32; rows];
        let mut call = vec![0u32; rows];
        let mut call_mask = vec![0f32; rows];
        let mut args = vec![0u32; rows * aw];
        let mut arg_mask = vec![0f32; rows * aw];
        let mut targets = Vec::with_capacity(rows);
        let mut row_frame = Vec::with_capacity(rows);
        let mut hot = Vec::new();
        for t in 0..packing.steps() {
            for (b, &f) in order.iter().enumerate().take(packing.batch_size(t)) {
                let r = packing.row(t, b);
                let fr = &self.frames[f];
                let i = fr.first + t;
                self.shape.hot(fr.program, self.obs(i), &fr.args, &mut hot);
                for &j in &hot {
                    input[r * iw + j] = 1.0;
                }
                if let Some(px) = self.shape.pixels(fr.program, self.obs(i)) {
                    let (at, n) = (r * iw + self.shape.pixel_offset(), px.len().min(self.shape.image_pixels()));
                    input[at..at + n].copy_from_slice(&px[..n]);
                }
                program[r] = fr.program as u32;
                let tg = self.targets[i];
                end[r] = tg.end as u8 as f32;
                if let Some(c) = tg.call {
                    call[r] = c;
                    call_mask[r] = 1.0;
                }
                for s in 0..aw {
                    if let Some(a) = tg.args[s] {
                        args[r * aw + s] = a;
                        arg_mask[r * aw + s] = 1.0;
                    }
                }
                targets.push(tg);
                row_frame.push(f);
            }
        }
        Ok(Batch {
            packing: Arc::new(packing),
            input: Tensor::from_vec(input, (rows, iw), dev)?,
            program: Tensor::from_vec(program, rows, dev)?,
            end: Tensor::from_vec(end, rows, dev)?,
            call: Tensor::from_vec(call, rows, dev)?,
            call_mask: Tensor::from_vec(call_mask, rows, dev)?,
            args: Tensor::from_vec(args, (rows, aw), dev)?,
            arg_mask: Tensor::from_vec(arg_mask, (rows, aw), dev)?,
            targets,
            row_frame,
        })
    }
}

/// A packed batch of frames (see [`Packing`]); `rows` = total steps.
pub struct Batch {
    pub packing: Arc<Packing>,
    /// `(rows, input_width)` one-hot observation and frame arguments, then
    /// the observation's image, if the shape has one.
    pub input: Tensor,
    /// `(rows)` u32: the frame's program.
    pub program: Tensor,
    /// `(rows)` f32: 1 where the frame ends.
    pub end: Tensor,
    /// `(rows)` u32: the program-head target (0 where masked).
    pub call: Tensor,
    /// `(rows)` f32: 1 where the program head is trained.
    pub call_mask: Tensor,
    /// `(rows, 3)` u32: argument-head targets (0 where masked).
    pub args: Tensor,
    /// `(rows, 3)` f32: 1 where an argument head is trained.
    pub arg_mask: Tensor,
    /// The targets row by row, for scoring decisions.
    pub targets: Vec<Target>,
    /// The dataset frame of every row.
    pub row_frame: Vec<usize>,
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.targets.len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::npi::images;
    use synth_compiler::{ArgSpec, Call, Feature, Frame, LearnSpec, ObsSpec, Step, NO_ARGS};

    pub(crate) fn programs() -> Vec<ProgramInfo> {
        [("ACT", 3), ("MAIN", 0), ("SUB", 1)].iter().map(|&(n, a)| ProgramInfo { name: n.into(), arity: a, level: 0, recursive: false }).collect()
    }

    /// A pose world's layout: features `car` (rendered), `f` (5 classes),
    /// `azimuth` and `elevation` (rendered, 15 degrees a class from -180
    /// and -90) and `g` (3 classes).
    pub(crate) fn image_spec(side: u16) -> ImageSpec {
        ImageSpec { side, car: 0, azimuth: 2, elevation: 3, azimuth_step: 15, elevation_step: 15, azimuth_origin: -180, elevation_origin: -90 }
    }

    /// What [`ModelShape::of`] makes of that layout, with 4 argument values.
    pub(crate) fn image_shape(side: u16) -> ModelShape {
        ModelShape { image: Some(image_spec(side)), ..ModelShape::new(vec![0, 5, 0, 0, 3], 4, &programs(), EndConvention::OwnStep) }
    }

    /// The range each feature of that layout draws from: 3 cars, 24
    /// azimuths, 13 elevations.
    pub(crate) const IMAGE_RANGES: [u16; 5] = [3, 5, 24, 13, 3];

    /// A task with the pose world's layout, for [`ModelShape::of`].
    pub(crate) struct PoseTask {
        obs: ObsSpec,
        args: ArgSpec,
        programs: Vec<ProgramInfo>,
        learn: LearnSpec,
    }

    pub(crate) struct NoWorld;

    impl crate::World for NoWorld {
        fn observe(&self, out: &mut [u16]) {
            out.fill(0);
        }
        fn act(&mut self, _: Args) -> Result<(), crate::TaskError> {
            Ok(())
        }
        fn check(&self) -> Result<bool, crate::TaskError> {
            Ok(true)
        }
    }

    impl PoseTask {
        pub(crate) fn new(side: u16) -> PoseTask {
            let rendered = |name: &str, classes| Feature { rendered: true, ..Feature::plain(name, classes) };
            let features = vec![rendered("car", 3), Feature::plain("f", 5), rendered("azimuth", 24), rendered("elevation", 13), Feature::plain("g", 3)];
            let learn = LearnSpec { learner: "npi".into(), train_sizes: vec![1], traces: 1, test_sizes: vec![1], steps: None, time: None, seed: None, settings: Default::default() };
            PoseTask { obs: ObsSpec { features, image: Some(image_spec(side)) }, args: ArgSpec { classes: 4 }, programs: programs(), learn }
        }
    }

    impl crate::Environment for PoseTask {
        type Instance = NoWorld;
        fn name(&self) -> &str {
            "pose"
        }
        fn source_hash(&self) -> &str {
            "0"
        }
        fn programs(&self) -> &[ProgramInfo] {
            &self.programs
        }
        fn entry(&self) -> ProgramId {
            1
        }
        fn obs(&self) -> &ObsSpec {
            &self.obs
        }
        fn args(&self) -> &ArgSpec {
            &self.args
        }
        fn end_convention(&self) -> EndConvention {
            EndConvention::OwnStep
        }
        fn learn(&self) -> &LearnSpec {
            &self.learn
        }
        fn trace(&self, _: usize, _: u64) -> Result<Trace, crate::TaskError> {
            Err(crate::TaskError::new("no traces"))
        }
        fn sample(&self, _: usize, _: u64) -> Result<NoWorld, crate::TaskError> {
            Ok(NoWorld)
        }
    }

    /// One frame per observation, of `program` with `args`: one step that
    /// calls `ACT(1, 2, 3)` and ends.
    pub(crate) fn trace_of(obs: &[[u16; 5]], program: ProgramId, args: Args) -> Trace {
        let mut t = Trace { size: 1, seed: 0, obs_width: 5, frames: Vec::new(), steps: Vec::new(), obs: Vec::new() };
        for (i, o) in obs.iter().enumerate() {
            t.frames.push(Frame { program, args, parent: None, depth: 0, first_step: i as u32, len: 1 });
            t.steps.push(Step { call: Some(Call { program: 0, args: [1, 2, 3] }), end: true, child: None });
            t.obs.extend_from_slice(o);
        }
        t
    }

    #[test]
    fn rendered_features_are_seen_through_the_image() {
        let shape = ModelShape::of(&PoseTask::new(8));
        assert_eq!(shape, image_shape(8));
        assert_eq!(shape.pixel_offset(), 5 + 3 + 3 * 5);
        assert_eq!(shape.image_pixels(), 64);
        assert_eq!(shape.input_width(), 23 + 64);
        // The pose features set no bit: the hot positions are where they
        // were without them.
        let mut hot = Vec::new();
        shape.hot(2, &[1, 4, 7, 2, 1], &[3, NO_ARG, NO_ARG], &mut hot);
        assert_eq!(hot, [4, 5 + 1, 8 + 3, 8 + 5 + 4, 8 + 10 + 4]);
    }

    /// A batch row: the one-hot bits of the observation and arguments, then
    /// the observation's image.
    #[test]
    fn a_batch_row_holds_the_one_hot_bits_and_the_pixels() {
        let shape = image_shape(16);
        let obs = [[1, 4, 12, 7, 2], [2, 0, 18, 9, 0], [1, 4, 12, 7, 2]];
        let data = Dataset::from_traces(&shape, [&trace_of(&obs, 2, [1, NO_ARG, NO_ARG])]);
        let batch = data.batch(&[0, 1, 2], &Device::Cpu).unwrap();
        let input: Vec<Vec<f32>> = batch.input.to_vec2().unwrap();
        let (at, iw) = (shape.pixel_offset(), shape.input_width());
        let mut hot = Vec::new();
        for (r, &f) in batch.row_frame.iter().enumerate() {
            let o = data.obs(data.frames[f].first);
            shape.hot(2, o, &data.frames[f].args, &mut hot);
            let ones: Vec<usize> = (0..at).filter(|&j| input[r][j] != 0.0).collect();
            assert_eq!(ones, hot);
            assert!(hot.iter().all(|&j| input[r][j] == 1.0));
            assert_eq!(input[r].len(), iw);
            assert_eq!(&input[r][at..], &*images::pixels(&image_spec(16), o));
            assert!(input[r][at..].iter().any(|&p| p > 0.0));
        }
        assert_ne!(&input[0][at..], &input[1][at..]);
    }

    /// With `observe: decisions`, a program whose decisions read none of
    /// the features the image draws sees a black image.
    #[test]
    fn a_program_that_reads_no_pose_sees_no_image() {
        let mut shape = image_shape(8);
        shape.observed = Some(vec![vec![true; 5], vec![false, true, true, false, true], vec![false, true, false, false, true]]);
        assert!(shape.shows_image(1));
        assert!(!shape.shows_image(2));
        assert!(shape.pixels(2, &[1, 4, 12, 7, 2]).is_none());
        let data = Dataset::from_traces(&shape, [&trace_of(&[[1, 4, 12, 7, 2]], 2, NO_ARGS)]);
        let input: Vec<Vec<f32>> = data.batch(&[0], &Device::Cpu).unwrap().input.to_vec2().unwrap();
        assert!(input[0][shape.pixel_offset()..].iter().all(|&p| p == 0.0));
    }

    /// A shape without an image is written as before, and one written
    /// before images reads back.
    #[test]
    fn a_shape_without_an_image_serialises_as_before() {
        let shape = ModelShape::new(vec![5, 2], 4, &programs(), EndConvention::OwnStep);
        let old = r#"{"features":[5,2],"arg_classes":4,"programs":["ACT","MAIN","SUB"],"arities":[3,0,1],"end":"own_step"}"#;
        assert_eq!(serde_json::to_string(&shape).unwrap(), old);
        assert_eq!(serde_json::from_str::<ModelShape>(old).unwrap(), shape);
        let with = image_shape(32);
        let text = serde_json::to_string(&with).unwrap();
        assert!(text.contains(r#""image":{"side":32,"#), "{text}");
        assert_eq!(serde_json::from_str::<ModelShape>(&text).unwrap(), with);
    }
}
