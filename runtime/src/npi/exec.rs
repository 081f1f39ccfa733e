//! Closed-loop execution: a trained NPI run as an interpreter.
//!
//! Every run keeps a stack of frames, each with its own LSTM state (fresh at
//! the call). At each step the top frame observes the world, the model
//! decides (end? which program? which arguments?), and the decision is
//! carried out: `ACT` changes the world, any other program pushes a frame,
//! an end pops one (with `EndConvention::AfterCall`, after the step's call
//! has run). Step and depth limits stop a model that loops; an action the
//! world refuses ends the run as a failure. The model's own [`Trace`] is
//! recorded in the compiler's format so it can be rendered beside the
//! reference.
//!
//! Many runs advance in lockstep so that each model step is one batched
//! forward pass over all of them ([`run_batch`]), split over threads.
//!
//! What decides is a [`Policy`]: the trained model's [`Engine`], or any
//! other decider given the same rows (a model outside synth, through the
//! Python package), so that every learner is scored by the same machine.

use super::data::ModelShape;
use super::infer::{Decision, Engine, Scratch, SplitCore, State, StepInputs};
use crate::pair::Pair;
use crate::env::{Environment, TaskError, World};
use serde::{Deserialize, Serialize};
use synth_compiler::{Args, Call, EndConvention, Frame, ProgramId, Step, Trace, ACT, ARG_SLOTS, NO_ARG, NO_ARGS};

/// When a closed-loop run gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Model steps in all.
    pub max_steps: usize,
    /// Frames on the stack.
    pub max_depth: usize,
}

impl Limits {
    /// Generous limits for a run whose reference took `steps` steps and
    /// reached call depth `depth`.
    pub fn from_reference(steps: usize, depth: usize) -> Limits {
        Limits { max_steps: 2 * steps + 64, max_depth: depth + 4 }
    }

    /// The limits [`Limits::from_reference`] gives for `trace`.
    pub fn of_trace(trace: &Trace) -> Limits {
        let depth = trace.frames.iter().map(|f| f.depth as usize + 1).max().unwrap_or(1);
        Limits::from_reference(trace.steps.len(), depth)
    }
}

/// Why a run did not finish with `expect` holding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "message")]
pub enum Failure {
    /// The entry program returned but `expect` does not hold.
    Wrong,
    StepLimit,
    DepthLimit,
    /// The world refused an action (or `expect` could not be evaluated).
    World(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Wrong => f.write_str("the program returned but `expect` does not hold"),
            Failure::StepLimit => f.write_str("the step limit was reached"),
            Failure::DepthLimit => f.write_str("the call-depth limit was reached"),
            Failure::World(m) => write!(f, "the world refused an action: {m}"),
        }
    }
}

/// The result of one closed-loop run.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Whether the entry program returned and `expect` holds.
    pub correct: bool,
    pub failure: Option<Failure>,
    /// Model steps taken.
    pub steps: usize,
    /// The model's own trace (when recording was asked for).
    pub trace: Option<Trace>,
}

struct ExecFrame<S> {
    program: ProgramId,
    args: Args,
    state: S,
    /// The frame's number in its run (0 for the entry program's).
    number: u32,
    /// No step of the frame has been decided yet.
    fresh: bool,
    /// `AfterCall`: this frame ends when the child it called returns.
    return_after_child: bool,
    index: u32,
    steps: Vec<Step>,
    obs: Vec<u16>,
}

/// One run in progress.
struct Machine<W, S> {
    world: W,
    stack: Vec<ExecFrame<S>>,
    /// Frames opened so far.
    opened: u32,
    limits: Limits,
    steps: usize,
    /// `Some` once the run is over.
    result: Option<Result<(), Failure>>,
    record: Option<Trace>,
    obs: Vec<u16>,
}

impl<W: World, S> Machine<W, S> {
    fn new<P: Policy<State = S>>(world: W, policy: &P, entry: ProgramId, limits: Limits, record: bool, size: usize, seed: u64) -> Machine<W, S> {
        let width = policy.shape().obs_width();
        let mut m = Machine {
            world,
            stack: Vec::new(),
            opened: 0,
            limits,
            steps: 0,
            result: None,
            record: record.then(|| Trace { size, seed, obs_width: width, frames: Vec::new(), steps: Vec::new(), obs: Vec::new() }),
            obs: vec![0; width],
        };
        m.push(policy, entry, NO_ARGS, None);
        m
    }

    fn push<P: Policy<State = S>>(&mut self, policy: &P, program: ProgramId, args: Args, parent: Option<u32>) -> u32 {
        let depth = self.stack.len() as u32;
        let index = match &mut self.record {
            Some(t) => {
                t.frames.push(Frame { program, args, parent, depth, first_step: 0, len: 0 });
                (t.frames.len() - 1) as u32
            }
            None => 0,
        };
        let number = self.opened;
        self.opened += 1;
        self.stack.push(ExecFrame { program, args, state: policy.fresh_state(), number, fresh: true, return_after_child: false, index, steps: Vec::new(), obs: Vec::new() });
        index
    }

    /// Pops the top frame, and its callers that return with it.
    fn pop(&mut self) {
        while let Some(f) = self.stack.pop() {
            self.flush(f);
            match self.stack.last() {
                None => {
                    self.result = Some(match self.world.check() {
                        Ok(true) => Ok(()),
                        Ok(false) => Err(Failure::Wrong),
                        Err(e) => Err(Failure::World(e.message)),
                    });
                    return;
                }
                Some(p) if p.return_after_child => continue,
                Some(_) => return,
            }
        }
    }

    fn flush(&mut self, f: ExecFrame<S>) {
        if let Some(t) = &mut self.record {
            let fr = &mut t.frames[f.index as usize];
            fr.first_step = t.steps.len() as u32;
            fr.len = f.steps.len() as u32;
            t.steps.extend_from_slice(&f.steps);
            t.obs.extend_from_slice(&f.obs);
        }
    }

    fn fail(&mut self, why: Failure) {
        while let Some(f) = self.stack.pop() {
            self.flush(f);
        }
        self.result = Some(Err(why));
    }

    /// Carries out the decision taken on the observation in `self.obs`.
    fn apply<P: Policy<State = S>>(&mut self, policy: &P, end_convention: EndConvention, d: &Decision) {
        let shape = policy.shape();
        self.steps += 1;
        let end = d.end();
        let call = if end && end_convention == EndConvention::OwnStep { None } else { decode(shape, d) };
        let depth = self.stack.len();
        let top = self.stack.last_mut().expect("a running machine has a frame");
        top.fresh = false;
        let mut step = Step { call, end, child: None };
        if let Some(c) = call {
            if c.program != ACT {
                if depth >= self.limits.max_depth {
                    top.steps.push(step);
                    top.obs.extend_from_slice(&self.obs);
                    return self.fail(Failure::DepthLimit);
                }
                let parent = top.index;
                top.return_after_child = end;
                let child = self.push(policy, c.program, c.args, Some(parent));
                step.child = Some(child);
                let parent_frame = self.stack.len() - 2;
                let pf = &mut self.stack[parent_frame];
                pf.steps.push(step);
                pf.obs.extend_from_slice(&self.obs);
                return self.check_steps();
            }
        }
        top.steps.push(step);
        top.obs.extend_from_slice(&self.obs);
        if let Some(c) = call {
            // ACT: a model may send anything; the world says no, not panics.
            if let Err(e) = self.world.act(c.args) {
                return self.fail(Failure::World(e.message));
            }
        }
        if end {
            self.pop();
        }
        if self.result.is_none() {
            self.check_steps();
        }
    }

    fn check_steps(&mut self) {
        if self.steps >= self.limits.max_steps {
            self.fail(Failure::StepLimit);
        }
    }

    fn outcome(self) -> RunOutcome {
        let failure = match self.result {
            Some(Ok(())) => None,
            Some(Err(f)) => Some(f),
            None => Some(Failure::StepLimit),
        };
        RunOutcome { correct: failure.is_none(), failure, steps: self.steps, trace: self.record }
    }
}

/// The call a decision makes: `None` for "no call"; arguments beyond the
/// program's arity are `NO_ARG`.
fn decode(shape: &ModelShape, d: &Decision) -> Option<Call> {
    if d.call as usize >= shape.programs() {
        return None;
    }
    let arity = shape.arities[d.call as usize];
    let mut args = d.args;
    for a in args.iter_mut().skip(arity) {
        *a = NO_ARG;
    }
    debug_assert_eq!(args.len(), ARG_SLOTS);
    Some(Call { program: d.call as ProgramId, args })
}

/// One input to run: the world, its limits, and its size and seed (for the
/// recorded trace).
pub struct Job<W> {
    pub world: W,
    pub limits: Limits,
    pub size: usize,
    pub seed: u64,
}

/// Runs every job to its end, all in lockstep (one batched forward pass per
/// step), over `threads` threads. `record`: keep each run's trace.
pub fn run_batch<W: World + Send>(engine: &Engine, entry: ProgramId, end: EndConvention, jobs: Vec<Job<W>>, threads: usize, record: bool) -> Vec<RunOutcome> {
    let n = jobs.len();
    if n == 1 && threads >= 2 {
        // One run: its LSTM layers split over two cores.
        let split = engine.split();
        return crate::pair::with_pair(|pair| run_lockstep(engine, entry, end, jobs, record, Some((split, pair))));
    }
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return run_lockstep(engine, entry, end, jobs, record, None);
    }
    // Deal the jobs round-robin so that long and short runs mix.
    let mut groups: Vec<Vec<(usize, Job<W>)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, j) in jobs.into_iter().enumerate() {
        groups[i % threads].push((i, j));
    }
    let mut results: Vec<Option<RunOutcome>> = (0..n).map(|_| None).collect();
    let done: Vec<Vec<(usize, RunOutcome)>> = std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|g| {
                s.spawn(move || {
                    let (ids, jobs): (Vec<usize>, Vec<Job<W>>) = g.into_iter().unzip();
                    ids.into_iter().zip(run_lockstep(engine, entry, end, jobs, record, None)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a run panicked")).collect()
    });
    for (i, o) in done.into_iter().flatten() {
        results[i] = Some(o);
    }
    results.into_iter().map(|o| o.expect("every job ran")).collect()
}

/// The rows of one lockstep step: one per run still going, in the order of
/// the runs, each the top frame of that run's stack.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    /// Observation features per row.
    pub width: usize,
    /// The run (index into the jobs) of every row.
    pub run: Vec<usize>,
    /// The frame's number in its run: 0 for the entry program, then in the
    /// order frames were called.
    pub frame: Vec<u32>,
    /// Whether this is the frame's first step (a recurrent policy starts a
    /// fresh state there).
    pub new_frame: Vec<bool>,
    /// Frames below the top one (0 in the entry program).
    pub depth: Vec<u32>,
    /// The frame's program.
    pub program: Vec<ProgramId>,
    /// The frame's arguments (`NO_ARG` in unused slots).
    pub args: Vec<Args>,
    /// `width` values per row: what the world shows now.
    pub obs: Vec<u16>,
}

impl Rows {
    fn clear(&mut self) {
        self.run.clear();
        self.frame.clear();
        self.new_frame.clear();
        self.depth.clear();
        self.program.clear();
        self.args.clear();
        self.obs.clear();
    }

    pub fn len(&self) -> usize {
        self.run.len()
    }

    pub fn is_empty(&self) -> bool {
        self.run.is_empty()
    }

    /// Row `r`'s observation.
    pub fn obs(&self, r: usize) -> &[u16] {
        &self.obs[r * self.width..(r + 1) * self.width]
    }
}

/// What decides the steps of closed-loop runs: one [`Decision`] per row.
/// Each frame carries a `State` of the policy's (fresh at every call), which
/// `decide` advances in place.
pub trait Policy {
    type State;
    /// Raised by `decide`; a run of [`run_policy`] stops at the first.
    type Error;
    /// The task's layout as the policy sees it: observation width, program
    /// arities (a decision's arguments are cut to the called program's).
    fn shape(&self) -> &ModelShape;
    fn fresh_state(&self) -> Self::State;
    /// Writes one decision per row of `rows` to `out` (cleared first);
    /// `states[r]` is row `r`'s frame state.
    fn decide(&mut self, rows: &Rows, states: &mut [&mut Self::State], out: &mut Vec<Decision>) -> Result<(), Self::Error>;
}

/// The trained model as a policy: one batched forward pass per step,
/// optionally with the LSTM layers split over a pair of threads.
struct EnginePolicy<'e, 'p> {
    engine: &'e Engine,
    split: Option<(&'e SplitCore, &'e Pair<'p>)>,
    inputs: StepInputs,
    scratch: Scratch,
    tmp: Vec<usize>,
}

impl Policy for EnginePolicy<'_, '_> {
    type State = State;
    type Error = std::convert::Infallible;

    fn shape(&self) -> &ModelShape {
        &self.engine.shape
    }

    fn fresh_state(&self) -> State {
        self.engine.fresh_state()
    }

    fn decide(&mut self, rows: &Rows, states: &mut [&mut State], out: &mut Vec<Decision>) -> Result<(), Self::Error> {
        self.inputs.clear();
        for r in 0..rows.len() {
            self.inputs.push(&self.engine.shape, rows.program[r], rows.obs(r), &rows.args[r], &mut self.tmp);
        }
        self.engine.step_split(&self.inputs, states, out, &mut self.scratch, self.split);
        Ok(())
    }
}

fn run_lockstep<W: World>(engine: &Engine, entry: ProgramId, end: EndConvention, jobs: Vec<Job<W>>, record: bool, split: Option<(&SplitCore, &Pair)>) -> Vec<RunOutcome> {
    let mut policy = EnginePolicy { engine, split, inputs: StepInputs::default(), scratch: Scratch::default(), tmp: Vec::new() };
    let Ok(outcomes) = run_policy(&mut policy, entry, end, jobs, record);
    outcomes
}

/// Runs every job to its end under `policy`, all in lockstep on this
/// thread: at each step every run still going is one row of the policy's
/// `decide`. `record`: keep each run's trace.
pub fn run_policy<W: World, P: Policy>(policy: &mut P, entry: ProgramId, end: EndConvention, jobs: Vec<Job<W>>, record: bool) -> Result<Vec<RunOutcome>, P::Error> {
    let mut machines: Vec<Machine<W, P::State>> = jobs.into_iter().map(|j| Machine::new(j.world, policy, entry, j.limits, record, j.size, j.seed)).collect();
    let mut rows = Rows { width: policy.shape().obs_width(), ..Rows::default() };
    let mut decisions = Vec::new();
    let mut active: Vec<usize> = (0..machines.len()).collect();
    while !active.is_empty() {
        rows.clear();
        for &i in &active {
            let m = &mut machines[i];
            m.world.observe(&mut m.obs);
            let top = m.stack.last().unwrap();
            rows.run.push(i);
            rows.frame.push(top.number);
            rows.new_frame.push(top.fresh);
            rows.depth.push(m.stack.len() as u32 - 1);
            rows.program.push(top.program);
            rows.args.push(top.args);
            rows.obs.extend_from_slice(&m.obs);
        }
        {
            let mut states: Vec<&mut P::State> = Vec::with_capacity(active.len());
            // `active` is increasing, so the tops are distinct machines.
            let mut rest = &mut machines[..];
            let mut base = 0;
            for &i in &active {
                let (_, tail) = rest.split_at_mut(i - base);
                let (m, tail) = tail.split_first_mut().unwrap();
                states.push(&mut m.stack.last_mut().unwrap().state);
                rest = tail;
                base = i + 1;
            }
            policy.decide(&rows, &mut states, &mut decisions)?;
        }
        for (k, &i) in active.iter().enumerate() {
            machines[i].apply(policy, end, &decisions[k]);
        }
        active.retain(|&i| machines[i].result.is_none());
    }
    Ok(machines.into_iter().map(Machine::outcome).collect())
}

/// Runs the model on the input of `size` and `seed`, with limits taken from
/// the reference run, recording its trace.
pub fn run<E: Environment>(engine: &Engine, env: &E, size: usize, seed: u64) -> Result<RunOutcome, TaskError>
where
    E::Instance: Send,
{
    let reference = env.trace(size, seed)?;
    let job = Job { world: env.sample(size, seed)?, limits: Limits::of_trace(&reference), size, seed };
    Ok(run_batch(engine, env.entry(), env.end_convention(), vec![job], 1, true).pop().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npi::config::NpiConfig;
    use crate::npi::model::Npi;

    const ADD: &str = include_str!("../../../stdlib/add.npl");

    /// The reference trace's steps in execution order.
    fn linear(t: &Trace, f: usize, out: &mut Vec<Step>) {
        for i in t.frames[f].step_range() {
            out.push(t.steps[i]);
            if let Some(c) = t.steps[i].child {
                linear(t, c as usize, out);
            }
        }
    }

    /// The decision that makes the reference's step `s`.
    fn decision(shape: &ModelShape, s: &Step) -> Decision {
        Decision {
            end_logit: if s.end { 1.0 } else { -1.0 },
            call: s.call.map_or(shape.no_call(), |c| c.program as u32),
            args: s.call.map_or([NO_ARG; ARG_SLOTS], |c| c.args),
        }
    }

    /// Feeding the machine the reference's own decisions must reproduce the
    /// reference trace exactly, frame layout and observations included.
    fn replay(src: &str, end: EndConvention) {
        let task = synth_compiler::compile(src, "add").unwrap().task;
        assert_eq!(task.end, end);
        let shape = ModelShape::of(&task);
        let engine = Engine::new(&Npi::new(&NpiConfig { hidden: 4, fuse_hidden: 4, encoder: 4, state: 4, ..NpiConfig::default() }, &shape, 0).unwrap()).unwrap();
        for (size, seed) in [(1, 0), (3, 1), (7, 2)] {
            let reference = task.trace(size, seed).unwrap();
            let mut steps = Vec::new();
            linear(&reference, 0, &mut steps);
            let world = task.sample(size, seed).unwrap();
            let policy = EnginePolicy { engine: &engine, split: None, inputs: StepInputs::default(), scratch: Scratch::default(), tmp: Vec::new() };
            let mut m = Machine::new(world, &policy, task.entry, Limits::of_trace(&reference), true, size, seed);
            let mut next = steps.iter();
            while m.result.is_none() {
                m.world.observe(&mut m.obs);
                let s = next.next().expect("the machine runs no longer than the reference");
                m.apply(&policy, end, &decision(&shape, s));
            }
            let out = m.outcome();
            assert!(out.correct, "{:?}", out.failure);
            assert_eq!(out.trace.as_ref(), Some(&reference));
        }
    }

    #[test]
    fn replaying_the_reference_reproduces_it_own_step() {
        replay(ADD, EndConvention::OwnStep);
    }

    #[test]
    fn replaying_the_reference_reproduces_it_after_call() {
        replay(&ADD.replace("learn npi {", "learn npi {\n  return: after_call"), EndConvention::AfterCall);
    }

    /// A policy that replays each run's reference decisions, in the order
    /// the machine asks for them.
    struct Replay {
        shape: ModelShape,
        steps: Vec<Vec<Step>>,
        next: Vec<usize>,
        fresh_seen: usize,
    }

    impl Policy for Replay {
        type State = ();
        type Error = String;
        fn shape(&self) -> &ModelShape {
            &self.shape
        }
        fn fresh_state(&self) {}
        fn decide(&mut self, rows: &Rows, states: &mut [&mut ()], out: &mut Vec<Decision>) -> Result<(), String> {
            assert_eq!(states.len(), rows.len());
            out.clear();
            for r in 0..rows.len() {
                let run = rows.run[r];
                let s = self.steps[run].get(self.next[run]).ok_or("the run went on past its reference")?;
                self.next[run] += 1;
                self.fresh_seen += rows.new_frame[r] as usize;
                out.push(decision(&self.shape, s));
            }
            Ok(())
        }
    }

    /// Any policy runs on the same machine: replaying the references of
    /// inputs of several sizes at once reproduces each of them, is scored
    /// exact, and sees every frame begin once.
    #[test]
    fn a_policy_replaying_the_references_is_exact() {
        let task = synth_compiler::compile(ADD, "add").unwrap().task;
        let inputs = [(1, 0), (3, 1), (7, 2), (2, 5)];
        let mut policy = Replay { shape: ModelShape::of(&task), steps: Vec::new(), next: vec![0; inputs.len()], fresh_seen: 0 };
        let mut jobs = Vec::new();
        let mut references = Vec::new();
        for (size, seed) in inputs {
            let reference = task.trace(size, seed).unwrap();
            let mut steps = Vec::new();
            linear(&reference, 0, &mut steps);
            policy.steps.push(steps);
            jobs.push(Job { world: task.sample(size, seed).unwrap(), limits: Limits::of_trace(&reference), size, seed });
            references.push(reference);
        }
        let outcomes = run_policy(&mut policy, task.entry, task.end, jobs, true).unwrap();
        for (o, r) in outcomes.iter().zip(&references) {
            assert!(o.correct, "{:?}", o.failure);
            assert_eq!(o.trace.as_ref(), Some(r));
        }
        assert_eq!(policy.fresh_seen, references.iter().map(|r| r.frames.len()).sum::<usize>());
    }

    /// A policy's error stops the runs and comes back as it was raised.
    #[test]
    fn a_policy_error_stops_the_runs() {
        let task = synth_compiler::compile(ADD, "add").unwrap().task;
        let reference = task.trace(3, 0).unwrap();
        let mut policy = Replay { shape: ModelShape::of(&task), steps: vec![Vec::new()], next: vec![0], fresh_seen: 0 };
        let jobs = vec![Job { world: task.sample(3, 0).unwrap(), limits: Limits::of_trace(&reference), size: 3, seed: 0 }];
        let err = run_policy(&mut policy, task.entry, task.end, jobs, false).unwrap_err();
        assert_eq!(err, "the run went on past its reference");
    }
}
