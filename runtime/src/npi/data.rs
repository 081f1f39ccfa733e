//! Training data: reference traces cut into frames, and frames packed into
//! batches of one-hot inputs and targets.
//!
//! Every frame is an independent sequence (the LSTM state starts fresh per
//! call). A step's input is its observation and the frame's arguments, plus
//! the frame's program (looked up in the model's program memory); its
//! targets are the end flag, the call's program and the call's arguments.

use super::lstm::Packing;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use synth_compiler::{Args, EndConvention, ProgramId, ProgramInfo, Trace, ARG_SLOTS, NO_ARG};

/// The task-dependent sizes of a model: what a checkpoint must agree on
/// with the task it is loaded for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelShape {
    /// Classes of every observation feature, in order.
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
}

impl ModelShape {
    pub fn new(features: Vec<u16>, arg_classes: u16, programs: &[ProgramInfo], end: EndConvention) -> ModelShape {
        ModelShape {
            features,
            arg_classes,
            programs: programs.iter().map(|p| p.name.clone()).collect(),
            arities: programs.iter().map(|p| p.arity.min(ARG_SLOTS)).collect(),
            end,
            observed: None,
        }
    }

    /// The shape a task calls for.
    pub fn of<E: crate::Environment + ?Sized>(env: &E) -> ModelShape {
        let features = env.obs().features.iter().map(|f| f.classes).collect();
        ModelShape::new(features, env.args().classes, env.programs(), env.end_convention())
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

    /// Width of the one-hot input: every feature, then 3 argument slots.
    pub fn input_width(&self) -> usize {
        self.features.iter().map(|&c| c as usize).sum::<usize>() + ARG_SLOTS * self.arg_width()
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
    /// `(rows, input_width)` one-hot observation and frame arguments.
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
