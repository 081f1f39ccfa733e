//! Traces for people and for other tools: [`Task::render_trace`] is the text
//! snapshot format, [`Task::trace_json`] the same data as JSON with names.
//!
//! The text form, one line per step, indented by depth:
//!
//! ```text
//! // add, size 2, seed 1: 26 steps in 8 frames; each frame ends with a step of its own
//! // observation per pointer: its cell (_ = blank), [ = at the row's start, ] = at its end
//! ADD()                         in1=6 in2=7 carry=_] out=_]
//!   ADD1()                      in1=6 in2=7 carry=_] out=_]
//!     ACT(write, out, 3)        in1=6 in2=7 carry=_] out=_]
//!     CARRY()                   in1=6 in2=7 carry=_] out=3]
//!       ACT(move, carry, left)  in1=6 in2=7 carry=_] out=3]
//!       ...
//!       end                     in1=6 in2=7 carry=_] out=3]
//!     end                       ...
//! ```
//!
//! - The first line is the entry program's call; every other line is one
//!   step of the frame one level less indented: the call it makes (a program
//!   with its arguments, or `ACT(action, pointer, value)` with names), or
//!   `end` for a step that only ends the frame.
//! - The column on the right is the observation at that step, taken before
//!   the call runs: `name=cell` per pointer, the cell a digit or `_` for
//!   blank, with `[` before it when the pointer is in its row's first
//!   column and `]` after it when in the last; then each `observe` feature
//!   as `(expr)=value`.
//! - With `return: after_call` a frame's last call carries `; end` and no
//!   `end` line follows (a frame that made no call still gets an `end`).
//!
//! A tape task's reference run ([`Task::render_tape_trace`]) is the input
//! tape, every write the programs made, in order, with the program that made
//! it, and the final tape with the graded cells (those the programs wrote)
//! marked `*`; a tape is shown 16 cells a line, each line led by its first
//! address:
//!
//! ```text
//! // nram_copy, size 3, seed 1: a tape of 8 cells; 3 writes, 3 graded cells (marked *)
//! input
//! 0: 4  4  3  6  0  0  0  0
//! COPY  mem[4] = 4
//! COPY  mem[5] = 3
//! COPY  mem[6] = 6
//! output
//! 0: 4  4  3  6  4* 3* 6* 0
//! ```

use crate::ir::ParamKind;
use crate::task::{Call, EndConvention, TapeTrace, Trace, ACT};
use crate::Task;
use serde_json::{json, Value as Json};
use std::fmt::Write;

/// The observation column starts here at most; deeper lines push it out.
const MAX_COLUMN: usize = 60;

impl Task {
    /// A call as the trace shows it: `ADD1()`, `SHIFT(in1, left)`,
    /// `ACT(write, out, 3)`.
    pub fn render_call(&self, call: &Call) -> String {
        let mut out = String::new();
        if call.program == ACT {
            let [a, p, v] = call.args;
            let action = self.actions.get(a as usize).map_or_else(|| format!("{a}?"), |s| s.clone());
            let _ = write!(out, "ACT({action}, {}, ", self.pointer_name(p));
            match action.as_str() {
                "write" if v == self.base => out.push_str("blank"),
                "write" if v < self.base => {
                    let _ = write!(out, "{v}");
                }
                "move" if v <= 1 => out.push_str(if v == 0 { "left" } else { "right" }),
                "rotate" if p == 1 && v <= 1 => out.push_str(if v == 0 { "down" } else { "up" }),
                "rotate" if v <= 1 => out.push_str(if v == 0 { "left" } else { "right" }),
                "swap" => out.push_str(&self.pointer_name(v)),
                _ => {
                    let _ = write!(out, "{v}?");
                }
            }
            out.push(')');
            return out;
        }
        let Some(info) = self.programs.get(call.program as usize) else {
            return format!("PROGRAM#{}?", call.program);
        };
        out.push_str(&info.name);
        out.push('(');
        let params = &self.module.proc(call.program).params;
        for (k, (_, kind)) in params.iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            let v = call.args[k];
            match kind {
                ParamKind::Pointer => out.push_str(&self.pointer_name(v)),
                ParamKind::Dir if v <= 1 => out.push_str(if v == 0 { "left" } else { "right" }),
                _ => {
                    let _ = write!(out, "{v}");
                }
            }
        }
        out.push(')');
        out
    }

    fn pointer_name(&self, p: u16) -> String {
        self.pointers.get(p as usize).map_or_else(|| format!("{p}?"), |s| s.clone())
    }

    /// An observation as the trace shows it: `in1=6 in2=[7 carry=_]`.
    pub fn render_obs(&self, obs: &[u16]) -> String {
        if let Some(pose) = self.module.world.pose {
            return render_pose(pose, obs);
        }
        let mut out = String::new();
        let np = self.pointers.len();
        for (p, name) in self.pointers.iter().enumerate() {
            if p > 0 {
                out.push(' ');
            }
            let (cell, start, end) = (obs.get(3 * p), obs.get(3 * p + 1), obs.get(3 * p + 2));
            let _ = write!(out, "{name}=");
            if start == Some(&1) {
                out.push('[');
            }
            match cell {
                Some(&c) if c == self.base => out.push('_'),
                Some(c) => {
                    let _ = write!(out, "{c}");
                }
                None => out.push('?'),
            }
            if end == Some(&1) {
                out.push(']');
            }
        }
        for (k, o) in self.module.world.observes.iter().enumerate() {
            let v = obs.get(3 * np + k).copied();
            let shown = match (o.kind, v) {
                (crate::ir::ObserveKind::Bool, Some(0)) => "false".to_string(),
                (crate::ir::ObserveKind::Bool, Some(1)) => "true".to_string(),
                (crate::ir::ObserveKind::Cell, Some(c)) if c == self.base => "_".to_string(),
                (_, Some(c)) => c.to_string(),
                (_, None) => "?".to_string(),
            };
            let _ = write!(out, " ({})={shown}", o.name);
        }
        out
    }

    /// The text form of a trace (see the module docs): stable, one line per
    /// step, meant for snapshots and for reading.
    pub fn render_trace(&self, trace: &Trace) -> String {
        // (indent, text, observation) per line, then aligned.
        let mut lines: Vec<(usize, String, String)> = Vec::new();
        if let Some(root) = trace.frames.first() {
            let call = Call { program: root.program, args: root.args };
            let first_obs =
                if root.len > 0 { self.render_obs(obs_of(trace, root.first_step as usize)) } else { String::new() };
            lines.push((0, self.render_call(&call), first_obs));
            for (i, frame) in in_order(trace) {
                let step = &trace.steps[i];
                let indent = 2 * (frame.depth as usize + 1);
                let mut text = match &step.call {
                    Some(c) => self.render_call(c),
                    None => "end".to_string(),
                };
                if step.end && step.call.is_some() {
                    text.push_str("; end");
                }
                lines.push((indent, text, self.render_obs(obs_of(trace, i))));
            }
        }
        let column = lines.iter().map(|(i, t, _)| i + t.len()).max().unwrap_or(0).saturating_add(2).min(MAX_COLUMN);

        let mut out = String::new();
        let convention = match self.end {
            EndConvention::OwnStep => "each frame ends with a step of its own",
            EndConvention::AfterCall => "a frame's last call ends it (return: after_call)",
        };
        let _ = writeln!(
            out,
            "// {}, size {}, seed {}: {} in {}; {convention}",
            self.name,
            trace.size,
            trace.seed,
            plural(trace.steps.len(), "step"),
            plural(trace.frames.len(), "frame")
        );
        let legend = match self.module.world.pose {
            Some(_) => "// observation: the camera's pose and car (the learner sees their image), the target pose",
            None => "// observation per pointer: its cell (_ = blank), [ = at the row's start, ] = at its end",
        };
        let _ = writeln!(out, "{legend}");
        for (indent, text, obs) in lines {
            let used = indent + text.len();
            let pad = if used + 2 <= column { column - used } else { 2 };
            let _ = writeln!(out, "{}{text}{}{obs}", " ".repeat(indent), " ".repeat(pad));
        }
        out
    }

    /// The text form of a tape task's reference run (see the module docs).
    pub fn render_tape_trace(&self, t: &TapeTrace) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "// {}, size {}, seed {}: a tape of {}; {}, {} (marked *)",
            self.name,
            t.size,
            t.seed,
            plural(t.cells, "cell"),
            plural(t.writes.len(), "write"),
            plural(t.graded.len(), "graded cell"),
        );
        out.push_str("input\n");
        out.push_str(&crate::tape::render_cells(&t.input, &[]));
        let width = t.writes.iter().map(|w| w.program.len()).max().unwrap_or(0);
        for w in &t.writes {
            let _ = writeln!(out, "{:<width$}  mem[{}] = {}", w.program, w.address, w.value);
        }
        out.push_str("output\n");
        out.push_str(&crate::tape::render_cells(&t.output, &t.graded));
        out
    }

    /// The trace as JSON, with names: the task, size, seed, end convention,
    /// feature names, and every frame with its steps.
    pub fn trace_json(&self, trace: &Trace) -> Json {
        let call_json = |c: &Call| {
            let arity = self.programs.get(c.program as usize).map_or(3, |p| p.arity);
            json!({
                "program": self.programs.get(c.program as usize).map(|p| p.name.clone()),
                "id": c.program,
                "args": c.args[..arity.min(3)].to_vec(),
                "text": self.render_call(c),
            })
        };
        let frames: Vec<Json> = trace
            .frames
            .iter()
            .map(|f| {
                let steps: Vec<Json> = f
                    .step_range()
                    .filter_map(|i| {
                        let s = trace.steps.get(i)?;
                        Some(json!({
                            "obs": obs_of(trace, i).to_vec(),
                            "call": s.call.as_ref().map(call_json),
                            "end": s.end,
                            "child": s.child,
                        }))
                    })
                    .collect();
                let call = Call { program: f.program, args: f.args };
                json!({
                    "call": call_json(&call),
                    "parent": f.parent,
                    "depth": f.depth,
                    "steps": steps,
                })
            })
            .collect();
        json!({
            "task": self.name,
            "size": trace.size,
            "seed": trace.seed,
            "end": self.end,
            "features": self.obs.features,
            "programs": self.programs.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            "actions": self.actions,
            "pointers": self.pointers,
            "frames": frames,
        })
    }
}

/// Every step of the trace in the order it happened, with its frame.
fn in_order(trace: &Trace) -> Vec<(usize, &crate::task::Frame)> {
    let mut out = Vec::with_capacity(trace.steps.len());
    // Explicit stack of (frame, next step), so deep recursion does not
    // recurse here either.
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    while let Some(&mut (f, ref mut next)) = stack.last_mut() {
        let Some(frame) = trace.frames.get(f) else {
            stack.pop();
            continue;
        };
        if *next >= frame.len as usize {
            stack.pop();
            continue;
        }
        let i = frame.first_step as usize + *next;
        *next += 1;
        let Some(step) = trace.steps.get(i) else { continue };
        out.push((i, frame));
        // A child comes after its parent in pre-order; anything else (a
        // malformed trace from elsewhere) is not followed.
        if let Some(child) = step.child.filter(|&c| c as usize > f) {
            stack.push((child as usize, 0));
        }
    }
    out
}

impl Task {
    /// A pose task's views along a trace, in the order the camera saw
    /// them: the car seed, azimuth and elevation of the first step, then of
    /// every step whose pose differs from the one before. Empty for other
    /// worlds.
    pub fn trace_views(&self, trace: &Trace) -> Vec<(u64, i32, i32)> {
        let Some(image) = &self.obs.image else { return Vec::new() };
        let mut views: Vec<(u64, i32, i32)> = Vec::new();
        for (i, _) in in_order(trace) {
            let obs = obs_of(trace, i);
            if obs.len() < self.obs.width() {
                continue;
            }
            let view = image.pose(obs);
            if views.last() != Some(&view) {
                views.push(view);
            }
        }
        views
    }
}

/// A pose world's observation: `azimuth=-45 elevation=30 car=7 target=(0, 15)`.
fn render_pose(pose: crate::ir::PoseDecl, obs: &[u16]) -> String {
    let angle = |row: usize, k: usize| {
        obs.get(k).map_or_else(|| "?".to_string(), |&v| pose.degrees(row, v as u32).to_string())
    };
    let car = obs.get(2).map_or_else(|| "?".to_string(), |c| c.to_string());
    format!("azimuth={} elevation={} car={car} target=({}, {})", angle(0, 0), angle(1, 1), angle(0, 3), angle(1, 4))
}

/// A step's observation, or nothing for a step the trace has no
/// observation for (rendering never panics on a malformed trace).
fn obs_of(trace: &Trace, step: usize) -> &[u16] {
    let w = trace.obs_width;
    trace.obs.get(step * w..(step + 1) * w).unwrap_or(&[])
}

/// `1 frame`, `2 frames`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use crate::task::{Call, ACT};

    fn task() -> crate::Task {
        let src = "world scratchpad(rows: 1, cols: n, base: 10) {
  pointer p on row 0 at left
  pointer q on row 0 at right
  observe pos(p) < pos(q)
}
input(n) { write_list(row: 0, [1, 2]) }
expect true
program MAIN { SHIFT(q, left, 7) }
program SHIFT(r, d, v) { move(r, d); write(r, v % 10) }
";
        crate::compile(src, "t").unwrap().task
    }

    #[test]
    fn calls_show_names() {
        let t = task();
        let act = |a, p, v| t.render_call(&Call { program: ACT, args: [a, p, v] });
        assert_eq!(act(0, 0, 3), "ACT(write, p, 3)");
        assert_eq!(act(0, 1, 10), "ACT(write, q, blank)");
        assert_eq!(act(1, 1, 0), "ACT(move, q, left)");
        assert_eq!(act(2, 0, 1), "ACT(swap, p, q)");
        assert_eq!(act(7, 9, 99), "ACT(7?, 9?, 99?)");
        let shift = t.program_id("SHIFT").unwrap();
        assert_eq!(t.render_call(&Call { program: shift, args: [1, 0, 7] }), "SHIFT(q, left, 7)");
    }

    #[test]
    fn observations_mark_edges() {
        let t = task();
        assert_eq!(t.render_obs(&[1, 1, 0, 10, 0, 1, 1]), "p=[1 q=_] (pos(p) < pos(q))=true");
        assert_eq!(t.render_obs(&[3, 1, 1]), "p=[3] q=? (pos(p) < pos(q))=?");
    }

    #[test]
    fn malformed_traces_render_without_panicking() {
        let t = task();
        let mut trace = t.trace(2, 0).unwrap();
        trace.obs.truncate(3);
        trace.steps[0].child = Some(99);
        trace.frames[1].first_step = 1000;
        let text = t.render_trace(&trace);
        assert!(text.contains("SHIFT(q, left, 7)"), "{text}");
        let _ = t.trace_json(&trace);
    }

    #[test]
    fn trace_lines_align() {
        let t = task();
        let text = t.render_trace(&t.trace(2, 0).unwrap());
        let expected = "\
// t, size 2, seed 0: 5 steps in 2 frames; each frame ends with a step of its own
// observation per pointer: its cell (_ = blank), [ = at the row's start, ] = at its end
MAIN()                  p=[1 q=2] (pos(p) < pos(q))=true
  SHIFT(q, left, 7)     p=[1 q=2] (pos(p) < pos(q))=true
    ACT(move, q, left)  p=[1 q=2] (pos(p) < pos(q))=true
    ACT(write, q, 7)    p=[1 q=[1 (pos(p) < pos(q))=false
    end                 p=[7 q=[7 (pos(p) < pos(q))=false
  end                   p=[7 q=[7 (pos(p) < pos(q))=false
";
        assert_eq!(text, expected);
    }
}
