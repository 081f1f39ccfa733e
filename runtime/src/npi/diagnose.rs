//! The first wrong decision of a failed run: where a learned program's
//! trace departs from the reference's, as `synth run` shows it.
//!
//! Both traces are walked in execution order (a step, then the frame it
//! opened, then the caller's next step). Until the first difference the
//! model did what the reference did, so the world was in the same state and
//! both observed the same: the difference is one decision, taken by one
//! program on one observation, and that is what a user needs to fix a task
//! or its training data.

use super::exec::Failure;
use serde::{Deserialize, Serialize};
use synth_compiler::{Args, Call, ProgramId, Step, Task, Trace};

/// What one step decided: its call (if any) and whether the frame ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub call: Option<Call>,
    pub end: bool,
}

impl From<&Step> for Decided {
    fn from(s: &Step) -> Decided {
        Decided { call: s.call, end: s.end }
    }
}

/// The first step where a model's run departs from the reference's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// The input: its size and seed.
    pub size: usize,
    pub seed: u64,
    /// How the model's run ended.
    pub failure: Option<Failure>,
    /// Steps (of every frame, in execution order) before the wrong one.
    pub step: usize,
    /// The frames open at that step, outermost first: program and arguments.
    pub stack: Vec<(ProgramId, Args)>,
    /// The step's index within its frame.
    pub frame_step: usize,
    /// What was observed.
    pub obs: Vec<u16>,
    /// What the reference did (`None`: it had already finished).
    pub reference: Option<Decided>,
    /// What the model did (`None`: its run had stopped).
    pub model: Option<Decided>,
}

/// Every step of `trace` in execution order, as `(frame, step)` indices.
fn linear(trace: &Trace) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(trace.steps.len());
    let mut stack: Vec<(usize, usize)> = if trace.frames.is_empty() { Vec::new() } else { vec![(0, 0)] };
    while let Some(&mut (f, ref mut next)) = stack.last_mut() {
        let frame = &trace.frames[f];
        if *next >= frame.len as usize {
            stack.pop();
            continue;
        }
        let i = frame.first_step as usize + *next;
        out.push((f, *next));
        *next += 1;
        if let Some(c) = trace.steps.get(i).and_then(|s| s.child) {
            if (c as usize) < trace.frames.len() {
                stack.push((c as usize, 0));
            }
        }
    }
    out
}

/// The frames open at step `(f, _)`, outermost first.
fn stack_of(trace: &Trace, f: usize) -> Vec<(ProgramId, Args)> {
    let mut out = Vec::new();
    let mut at = Some(f);
    while let Some(f) = at {
        let frame = &trace.frames[f];
        out.push((frame.program, frame.args));
        at = frame.parent.map(|p| p as usize).filter(|&p| p < trace.frames.len() && p != f);
    }
    out.reverse();
    out
}

/// Where `model` first departs from `reference` (both recorded on the same
/// input); `None` when they agree step for step.
pub fn first_divergence(reference: &Trace, model: &Trace, failure: Option<Failure>) -> Option<Divergence> {
    let (ours, theirs) = (linear(model), linear(reference));
    let at = |t: &Trace, (f, k): (usize, usize)| t.frames[f].first_step as usize + k;
    for k in 0..ours.len().max(theirs.len()) {
        let m = ours.get(k).map(|&p| (p, &model.steps[at(model, p)]));
        let r = theirs.get(k).map(|&p| (p, &reference.steps[at(reference, p)]));
        let same = match (m, r) {
            (Some((pm, sm)), Some((pr, sr))) => {
                Decided::from(sm) == Decided::from(sr)
                    && model.frames[pm.0].program == reference.frames[pr.0].program
                    && model.frames[pm.0].args == reference.frames[pr.0].args
            }
            _ => false,
        };
        if same {
            continue;
        }
        // The side that still has a step says where it was taken.
        let ((f, fk), t) = match (m, r) {
            (Some((p, _)), _) => (p, model),
            (None, Some((p, _))) => (p, reference),
            (None, None) => return None,
        };
        return Some(Divergence {
            size: reference.size,
            seed: reference.seed,
            failure,
            step: k,
            stack: stack_of(t, f),
            frame_step: fk,
            obs: t.obs(at(t, (f, fk))).to_vec(),
            reference: r.map(|(_, s)| s.into()),
            model: m.map(|(_, s)| s.into()),
        });
    }
    None
}

impl Divergence {
    /// Lines for a person: the input, the program and step, the
    /// observation, and the two decisions.
    pub fn render(&self, task: &Task) -> Vec<String> {
        let call = |p: ProgramId, a: Args| task.render_call(&Call { program: p, args: a });
        let path: Vec<String> = self.stack.iter().map(|&(p, a)| call(p, a)).collect();
        let decided = |d: &Option<Decided>, none: &str| match d {
            None => none.to_string(),
            Some(Decided { call: Some(c), end: false }) => task.render_call(c),
            Some(Decided { call: Some(c), end: true }) => format!("{}; end", task.render_call(c)),
            Some(Decided { call: None, end: true }) => "end".to_string(),
            Some(Decided { call: None, end: false }) => "no call and no end".to_string(),
        };
        vec![
            format!(
                "in {}, step {} of its frame (step {} of the run), observing {}",
                path.join(" > "),
                self.frame_step + 1,
                self.step + 1,
                task.render_obs(&self.obs)
            ),
            format!("  the reference: {}", decided(&self.reference, "(had finished)")),
            format!("  the model:     {}", decided(&self.model, "(had stopped)")),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADD: &str = include_str!("../../../stdlib/add.npl");

    #[test]
    fn a_changed_digit_is_the_first_divergence() {
        let task = synth_compiler::compile(ADD, "add").unwrap().task;
        let reference = task.trace(3, 2).unwrap();
        assert_eq!(first_divergence(&reference, &reference, None), None);
        // The model writes another digit in the first column.
        let mut model = reference.clone();
        let write = linear(&model).into_iter().map(|(f, k)| model.frames[f].first_step as usize + k).find(|&i| model.steps[i].call.is_some_and(|c| c.program == 0)).unwrap();
        let mut c = model.steps[write].call.unwrap();
        c.args[2] = (c.args[2] + 1) % 10;
        model.steps[write].call = Some(c);
        let d = first_divergence(&reference, &model, Some(Failure::Wrong)).unwrap();
        assert_eq!(d.stack.iter().map(|s| task.programs[s.0 as usize].name.as_str()).collect::<Vec<_>>(), ["ADD", "ADD1"]);
        assert_eq!((d.step, d.frame_step), (1, 0));
        let text = d.render(&task).join("\n");
        assert!(text.starts_with("in ADD() > ADD1(), step 1 of its frame (step 2 of the run), observing in1="), "{text}");
        assert!(text.contains("the reference: ACT(write, out, "), "{text}");
        // A model that stops early: the reference's next step is shown.
        let mut short = reference.clone();
        short.frames[0].len = 0;
        let d = first_divergence(&reference, &short, Some(Failure::StepLimit)).unwrap();
        assert_eq!((d.step, d.model), (0, None));
    }
}
