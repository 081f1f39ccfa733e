//! What a model outside synth trains on and is scored by, with no Python
//! involved: a task's training traces as flat arrays ([`batches`]), and the
//! rows and decisions of closed-loop evaluation in the same encoding
//! ([`Rows`](synth_runtime::npi::Rows) to [`row_arrays`], decisions from
//! [`decisions`]). The Python module turns these into NumPy arrays.
//!
//! Encoding, the same everywhere: an argument is its class, `0..classes`
//! for a value and `classes` for "no argument" (`info()["args"]`); a call
//! target is a program id, or the number of programs for "no call"; a
//! target that is not trained is `-1`.

use synth_compiler::{Task, ARG_SLOTS, NO_ARG};
use synth_runtime::npi::{self, Dataset, Decision, ModelShape, Rows, TrainingSet};

/// One named array: its values (row-major) and its shape.
#[derive(Debug)]
pub struct Array {
    pub name: &'static str,
    pub data: Data,
    pub shape: Vec<usize>,
}

#[derive(Debug)]
pub enum Data {
    I64(Vec<i64>),
    /// Seeds, which use all 64 bits.
    U64(Vec<u64>),
    Bool(Vec<bool>),
}

fn int(name: &'static str, data: Vec<i64>, shape: Vec<usize>) -> Array {
    debug_assert_eq!(data.len(), shape.iter().product::<usize>());
    Array { name, data: Data::I64(data), shape }
}

/// The training traces `synth learn` would draw for `task` (its `learn`
/// block's sizes, trace count and sampling, unless `sizes`, `traces` or
/// `seed` say otherwise), cut into frames, as arrays:
///
/// - per step (`S` in all, frame by frame): `obs` `(S, W)` the observation;
///   `program` `(S)` and `args` `(S, 3)` the frame's program and argument
///   classes; `end` `(S)` bool, whether the frame ends at this step;
///   `call` `(S)` the call target (`-1` on an own end step) and
///   `call_args` `(S, 3)` its argument classes (`-1` beyond the called
///   program's arity, or with no call);
/// - per frame (`F`): `frame_offsets` `(F + 1)` (frame `f`'s steps are
///   `frame_offsets[f]..frame_offsets[f + 1]`), `frame_trace` `(F)` its
///   trace;
/// - per trace (`T`): `trace_size` `(T)`, `trace_seed` `(T)` (unsigned).
pub fn batches(task: &Task, sizes: Option<Vec<usize>>, traces: Option<usize>, seed: Option<u64>) -> Result<Vec<Array>, String> {
    if task.world() != synth_compiler::builtins::WorldKind::Scratchpad {
        return Err(format!(
            "`{}` is a {} task: batches are for scratchpad tasks (the NPI's traces) and tape tasks (input and output tapes); a table task's examples are trace(size, seed)",
            task.name,
            task.world().name()
        ));
    }
    let (model, mut cfg) = npi::settings(&task.learn).map_err(|e| e.to_string())?;
    if let Some(s) = sizes {
        cfg.train_sizes = s;
    }
    if let Some(t) = traces {
        cfg.traces = t;
    }
    if let Some(s) = seed {
        cfg.seed = s;
    }
    if cfg.train_sizes.is_empty() {
        return Err("no training sizes: pass sizes= or add `train sizes ...` to the learn block".into());
    }
    let list = TrainingSet::new(task, &model, &cfg).take(cfg.traces).map_err(|e| e.message)?;
    let shape = ModelShape::of(task);
    let mut frame_trace = Vec::new();
    let mut data = Dataset::new(shape.clone());
    for (i, t) in list.iter().enumerate() {
        let before = data.frames.len();
        data.push_trace(t);
        frame_trace.extend(std::iter::repeat_n(i as i64, data.frames.len() - before));
    }
    let (s, w, f) = (data.steps(), shape.obs_width(), data.frames.len());
    let mut program = Vec::with_capacity(s);
    let mut args = Vec::with_capacity(s * ARG_SLOTS);
    let mut offsets = Vec::with_capacity(f + 1);
    for fr in &data.frames {
        offsets.push(fr.first as i64);
        for _ in 0..fr.len {
            program.push(fr.program as i64);
            args.extend(fr.args.iter().map(|&a| shape.arg_class(a) as i64));
        }
    }
    offsets.push(s as i64);
    let end = data.targets.iter().map(|t| t.end).collect();
    let call = data.targets.iter().map(|t| t.call.map_or(-1, |c| c as i64)).collect();
    let call_args = data.targets.iter().flat_map(|t| t.args.map(|a| a.map_or(-1, |c| c as i64))).collect();
    Ok(vec![
        int("obs", data.obs.iter().map(|&v| v as i64).collect(), vec![s, w]),
        int("program", program, vec![s]),
        int("args", args, vec![s, ARG_SLOTS]),
        Array { name: "end", data: Data::Bool(end), shape: vec![s] },
        int("call", call, vec![s]),
        int("call_args", call_args, vec![s, ARG_SLOTS]),
        int("frame_offsets", offsets, vec![f + 1]),
        int("frame_trace", frame_trace, vec![f]),
        int("trace_size", list.iter().map(|t| t.size as i64).collect(), vec![list.len()]),
        Array { name: "trace_seed", data: Data::U64(list.iter().map(|t| t.seed).collect()), shape: vec![list.len()] },
    ])
}

/// One lockstep step's rows as arrays: `run`, `frame`, `new_frame` (bool),
/// `depth`, `program` `(N)`, `args` `(N, 3)` (classes), `obs` `(N, W)`.
pub fn row_arrays(shape: &ModelShape, rows: &Rows) -> Vec<Array> {
    let n = rows.len();
    vec![
        int("run", rows.run.iter().map(|&r| r as i64).collect(), vec![n]),
        int("frame", rows.frame.iter().map(|&f| f as i64).collect(), vec![n]),
        Array { name: "new_frame", data: Data::Bool(rows.new_frame.clone()), shape: vec![n] },
        int("depth", rows.depth.iter().map(|&d| d as i64).collect(), vec![n]),
        int("program", rows.program.iter().map(|&p| p as i64).collect(), vec![n]),
        int("args", rows.args.iter().flat_map(|a| a.map(|v| shape.arg_class(v) as i64)).collect(), vec![n, ARG_SLOTS]),
        int("obs", rows.obs.iter().map(|&v| v as i64).collect(), vec![n, rows.width]),
    ]
}

/// A policy's answer for `n` rows as decisions: `end` (truthy ends the
/// frame), `call` (a program id; the number of programs, or any larger
/// value, makes no call), `args` `(n, 3)` argument classes (`classes` or
/// larger: no argument).
pub fn decisions(shape: &ModelShape, n: usize, end: &[bool], call: &[i64], args: &[i64], out: &mut Vec<Decision>) -> Result<(), String> {
    if end.len() != n || call.len() != n || args.len() != n * ARG_SLOTS {
        return Err(format!(
            "the policy answered {} end flags, {} calls and {} arguments for {n} rows; it must give end ({n}), call ({n}) and args ({n}, {ARG_SLOTS})",
            end.len(),
            call.len(),
            args.len()
        ));
    }
    out.clear();
    for r in 0..n {
        if call[r] < 0 {
            return Err(format!("row {r}: call {} is negative (programs are 0..{}, {} is no call)", call[r], shape.programs(), shape.no_call()));
        }
        let mut a = [NO_ARG; ARG_SLOTS];
        for (s, slot) in a.iter_mut().enumerate() {
            let v = args[r * ARG_SLOTS + s];
            if v < 0 {
                return Err(format!("row {r}: argument {s} is {v}, negative (classes are 0..={}, {} meaning no argument)", shape.arg_classes, shape.arg_classes));
            }
            *slot = shape.arg_value(v.min(u16::MAX as i64) as usize);
        }
        out.push(Decision { end_logit: if end[r] { 1.0 } else { -1.0 }, call: call[r].min(u32::MAX as i64) as u32, args: a });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add() -> Task {
        synth::compile(&synth::Source::load("add").unwrap()).unwrap().task
    }

    fn ints<'a>(arrays: &'a [Array], name: &str) -> (&'a [i64], &'a [usize]) {
        let a = arrays.iter().find(|a| a.name == name).unwrap();
        match &a.data {
            Data::I64(v) => (v, &a.shape),
            _ => panic!("{name} is not int64"),
        }
    }

    /// The arrays hold the reference traces themselves: frame by frame, the
    /// frame's program, its arguments and every step's observation and
    /// targets, in the classes `synth learn` trains on.
    #[test]
    fn batches_hold_the_reference_frames() {
        let task = add();
        let arrays = batches(&task, Some(vec![2, 5]), Some(4), Some(7)).unwrap();
        let (sizes, _) = ints(&arrays, "trace_size");
        assert_eq!(sizes, &[2, 5, 2, 5]);
        let seeds = match &arrays.iter().find(|a| a.name == "trace_seed").unwrap().data {
            Data::U64(v) => v.clone(),
            _ => panic!("seeds are u64"),
        };
        let (offsets, _) = ints(&arrays, "frame_offsets");
        let (frame_trace, _) = ints(&arrays, "frame_trace");
        let (obs, obs_shape) = ints(&arrays, "obs");
        let (program, _) = ints(&arrays, "program");
        let (call, _) = ints(&arrays, "call");
        let w = obs_shape[1];
        let mut f = 0;
        for (t, (&size, &seed)) in sizes.iter().zip(&seeds).enumerate() {
            let trace = task.trace(size as usize, seed).unwrap();
            for fr in trace.frames.iter().filter(|fr| fr.len > 0) {
                assert_eq!(frame_trace[f], t as i64);
                let (a, b) = (offsets[f] as usize, offsets[f + 1] as usize);
                assert_eq!(b - a, fr.len as usize);
                for (k, i) in fr.step_range().enumerate() {
                    assert_eq!(program[a + k], fr.program as i64);
                    let want: Vec<i64> = trace.obs(i).iter().map(|&v| v as i64).collect();
                    assert_eq!(&obs[(a + k) * w..(a + k + 1) * w], &want[..]);
                    let step = &trace.steps[i];
                    if let Some(c) = step.call {
                        assert_eq!(call[a + k], c.program as i64);
                    }
                }
                f += 1;
            }
        }
        assert_eq!(f + 1, offsets.len());
    }

    #[test]
    fn batches_refuse_what_they_cannot_give() {
        let task = add();
        assert!(batches(&task, Some(vec![]), None, None).unwrap_err().contains("no training sizes"));
        let copy = synth::compile(&synth::Source::load("nram_copy").unwrap()).unwrap().task;
        assert!(batches(&copy, None, None, None).unwrap_err().contains("scratchpad tasks"));
    }

    #[test]
    fn decisions_are_checked() {
        let shape = ModelShape::of(&add());
        let mut out = Vec::new();
        assert!(decisions(&shape, 2, &[true], &[0, 0], &[0; 6], &mut out).unwrap_err().contains("end (2)"));
        assert!(decisions(&shape, 1, &[false], &[-1], &[0; 3], &mut out).unwrap_err().contains("negative"));
        let none = shape.arg_classes as i64;
        decisions(&shape, 1, &[false], &[1], &[0, none, 2], &mut out).unwrap();
        assert_eq!(out[0].args, [0, NO_ARG, 2]);
        assert!(!out[0].end());
    }
}
