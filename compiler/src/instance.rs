//! Sampled inputs and the trace generator: [`Task::sample`] builds the world
//! for a size and runs `input` on a seeded RNG, [`Task::trace`] runs the
//! entry program on it, records the trace and checks `expect`. An
//! [`Instance`] is also what a learned model drives in closed loop:
//! [`Instance::observe`], [`Instance::act`], [`Instance::check`].

use crate::error::{Fault, RunError, RunErrorKind};
use crate::interp::{self, eval, Cx, Machine, Recorder};
use crate::ir::{ActArg, Action, Expr, Instr, Module, Ptr, Start, WorldArg};
use crate::tape::{Tape, MAX_CELLS};
use crate::task::{Args, PadExample, TapeExample, TapeTrace, TapeWrite, Trace};
use crate::value::{Dir, Meter, Value};
use crate::Task;
use crate::world::{Pad, BLANK};
use std::sync::Arc;

/// The most timesteps a `learn nram { timesteps: EXPR }` may ask for.
pub(crate) const MAX_TIMESTEPS: i64 = 1_000_000;

/// One sampled input in its world: the pad, the pointers, and the values
/// `input` bound (which `expect` reads). Cloning copies the pad.
#[derive(Clone)]
pub struct Instance {
    module: Arc<Module>,
    pad: Pad,
    /// A tape world's tape (empty in a scratchpad).
    tape: Tape,
    env: Vec<Value>,
    size: usize,
    seed: u64,
    /// Interpreter steps `input` used; a reference run continues the count.
    steps: u64,
    /// The limits of the task this instance was sampled from.
    limits: crate::Limits,
    /// Bytes charged for the values `input` bound; a reference run
    /// continues the account.
    held: u64,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("size", &self.size).field("seed", &self.seed).finish_non_exhaustive()
    }
}

impl Task {
    /// Samples the input of size `size` from seed `seed`: evaluates the
    /// world's shape with `n = size`, places the pointers, and runs `input`
    /// on a ChaCha8 RNG keyed by `(size, seed)` only, so an input is the same
    /// on every run and machine. A tape task has no instance for a learner
    /// to drive: it is refused (see [`Task::tape_example`]).
    pub fn sample(&self, size: usize, seed: u64) -> Result<Instance, RunError> {
        if self.module.is_tape() || self.is_table() {
            return Err(self.wrong_world(size, seed, "a world that a learner drives step by step"));
        }
        self.sample_world(size, seed)
    }

    /// The error of an entry point called on a tape or table task whose
    /// world has no `what`: it names the world and the entry point that
    /// world does have.
    fn wrong_world(&self, size: usize, seed: u64, what: &str) -> RunError {
        if self.is_table() {
            return RunError {
                kind: RunErrorKind::World,
                message: format!("task `{}` has a table world, which has no {what}", self.name),
                program: None,
                span: Some(self.module.world.span),
                label: Some("a table world".into()),
                hint: Some("a table task is learned from questions and answers (`Task::table_example`)".into()),
                size,
                seed,
            };
        }
        RunError {
            kind: RunErrorKind::World,
            message: format!("task `{}` has a tape world, which has no {what}", self.name),
            program: None,
            span: Some(self.module.world.span),
            label: Some("a tape world".into()),
            hint: Some(
                "a tape task is learned from input/output pairs (`Task::tape_example`); `synth trace` shows its memory writes (`Task::tape_trace`)"
                    .into(),
            ),
            size,
            seed,
        }
    }

    /// [`Task::sample`] for either world kind.
    fn sample_world(&self, size: usize, seed: u64) -> Result<Instance, RunError> {
        let m = &*self.module;
        let fail = |f: Box<Fault>| f.into_run_error(None, Some(m.world.span), size, seed);
        let n = [Value::Int(size as i64)];
        let names: Arc<[String]> = m.world.pointers.iter().map(|p| p.name.clone()).collect();
        let scratch = Pad::new(1, 1, m.world.base, Arc::from(Vec::<String>::new())).map_err(fail)?;
        let no_tape = Tape::default();
        let meter = Meter::new(self.limits);
        let int = |e: &Expr, what: &str| -> Result<i64, RunError> {
            let mut cx = Cx { pad: &scratch, tape: &no_tape, locals: &n, names: &[], rng: None, meter: &meter };
            let v = eval(e, &mut cx).map_err(fail)?;
            v.as_i64().ok_or_else(|| {
                fail(Fault::new(RunErrorKind::World, format!("{what} is {}, not a small integer", v.describe())))
            })
        };
        if let Some(cells) = &m.world.cells {
            let cells = int(cells, "the tape's `cells`")?;
            return self.sample_tape(cells, size, seed);
        }
        let rows = int(&m.world.rows, "the world's `rows`")?;
        let cols = int(&m.world.cols, "the world's `cols`")?;
        if rows < 1 || cols < 1 {
            return Err(fail(
                Fault::new(RunErrorKind::World, format!("the pad would have {rows} rows and {cols} columns"))
                    .hint("a scratchpad needs at least one row and one column"),
            ));
        }
        let bytes = Pad::bytes_for((rows as u64).saturating_mul(cols as u64), names.len());
        if bytes > self.limits.max_memory {
            return Err(fail(
                Fault::new(
                    RunErrorKind::MemoryLimit,
                    format!(
                        "the pad would have {rows} rows of {cols} columns ({bytes} bytes), more than the memory limit of {} bytes",
                        self.limits.max_memory
                    ),
                )
                .label("too large")
                .hint("the limit is the `learn` setting `max_memory`"),
            ));
        }
        let mut pad = Pad::new(rows as usize, cols as usize, m.world.base, names).map_err(fail)?;
        if let Some(decl) = m.world.pose {
            pad.pose = Some(crate::world::PoseState { decl, car: self.car(size, seed) });
        }
        for (i, p) in m.world.pointers.iter().enumerate() {
            let at = |f: Box<Fault>| f.into_run_error(None, Some(p.span), size, seed);
            let row = int(&p.row, "the pointer's row")?;
            if row < 0 || row >= rows {
                return Err(at(Fault::new(
                    RunErrorKind::World,
                    format!("pointer `{}` is on row {row}, but the pad's rows are 0 to {}", p.name, rows - 1),
                )));
            }
            let col = match &p.start {
                Start::Left => 0,
                Start::Right => cols - 1,
                Start::Column(e) => int(e, "the pointer's column")?,
            };
            if col < 0 || col >= cols {
                return Err(at(Fault::new(
                    RunErrorKind::World,
                    format!("pointer `{}` starts at column {col}, but the pad's columns are 0 to {}", p.name, cols - 1),
                )
                .hint("start it `at left`, `at right`, or at a column computed from `n` that stays inside the pad")));
            }
            pad.ptr_row[i] = row as u32;
            pad.ptr_col[i] = col as u32;
        }
        if pad.pose.is_some() {
            // Camera and target start at azimuth 0, elevation 0 until `input` says.
            for (target, axis) in [(false, 0), (false, 1), (true, 0), (true, 1)] {
                pad.set_angle(target, axis, &Value::Int(0)).map_err(fail)?;
            }
        }

        self.run_input(pad, Tape::default(), size, seed)
    }

    /// The car of a pose world's instance: drawn from [`Task::cars`] with an
    /// RNG of its own, so that `input` draws the same poses whichever set
    /// the car comes from.
    fn car(&self, size: usize, seed: u64) -> u16 {
        let Some(decl) = self.module.world.pose else { return 0 };
        let mut rng = interp::seeded_rng(size, seed ^ 0x6361_7273_6361_7273);
        match self.cars {
            crate::CarSet::Seen => interp::uniform_below(&mut rng, decl.cars as u64) as u16,
            crate::CarSet::Unseen => {
                let first = crate::check::UNSEEN_CARS;
                first + interp::uniform_below(&mut rng, (u16::MAX - first) as u64) as u16
            }
        }
    }

    /// A tape of `cells` cells, checked against the limits before it is
    /// allocated, with `input` run on it.
    fn sample_tape(&self, cells: i64, size: usize, seed: u64) -> Result<Instance, RunError> {
        let m = &*self.module;
        let fail = |f: Box<Fault>| f.into_run_error(None, Some(m.world.span), size, seed);
        if cells < 1 {
            return Err(fail(
                Fault::new(RunErrorKind::World, format!("the tape would have {cells} cells"))
                    .hint("a tape needs at least one cell, e.g. `world tape(cells: n + 1)`"),
            ));
        }
        if cells as u64 > MAX_CELLS {
            return Err(fail(
                Fault::new(
                    RunErrorKind::MemoryLimit,
                    format!("the tape would have {cells} cells, more than synth can address ({MAX_CELLS})"),
                )
                .label("too large"),
            ));
        }
        let bytes = Tape::bytes_for(cells as u64);
        if bytes > self.limits.max_memory {
            return Err(fail(
                Fault::new(
                    RunErrorKind::MemoryLimit,
                    format!(
                        "the tape would have {cells} cells ({bytes} bytes), more than the memory limit of {} bytes",
                        self.limits.max_memory
                    ),
                )
                .label("too large")
                .hint("a tape takes 13 bytes a cell; the memory limit is the `learn` setting `max_memory`"),
            ));
        }
        let pad = Pad::new(1, 1, m.world.base, Arc::from(Vec::<String>::new())).map_err(fail)?;
        self.run_input(pad, Tape::new(cells as usize), size, seed)
    }

    /// Runs `input` on a new world: slot 0 holds the size and, on a tape,
    /// slot 1 the number of cells.
    fn run_input(&self, mut pad: Pad, mut tape: Tape, size: usize, seed: u64) -> Result<Instance, RunError> {
        let m = &*self.module;
        let fail = |f: Box<Fault>| f.into_run_error(None, Some(m.world.span), size, seed);
        let mut env = vec![Value::Unit; m.input.slots.max(1) as usize];
        env[0] = Value::Int(size as i64);
        if m.is_tape() {
            if let Some(slot) = env.get_mut(1) {
                *slot = Value::Int(tape.len() as i64);
            }
        }
        let mut rng = interp::seeded_rng(size, seed);
        let meter = Meter::new(self.limits);
        let fixed = pad.bytes() + tape.bytes() + (env.len() * std::mem::size_of::<Value>()) as u64;
        meter.set_fixed(fixed).map_err(fail)?;
        let mut machine = Machine {
            module: m,
            pad: &mut pad,
            tape: &mut tape,
            program: None,
            limits: self.limits,
            meter: &meter,
            steps: 0,
            size,
            seed,
        };
        machine.run_input(&m.input, &mut env, &mut rng)?;
        let steps = machine.steps;
        let held = meter.values();
        Ok(Instance { module: self.module.clone(), pad, tape, env, size, seed, steps, held, limits: self.limits })
    }

    /// Samples an input, runs the entry program on it recording every call,
    /// and checks `expect`: one training trace.
    pub fn trace(&self, size: usize, seed: u64) -> Result<Trace, RunError> {
        self.run(size, seed).map(|(trace, _)| trace)
    }

    /// As [`Task::trace`], and also returns the world after the run (to show
    /// the final pad beside a trace).
    pub fn run(&self, size: usize, seed: u64) -> Result<(Trace, Instance), RunError> {
        if self.module.is_tape() || self.is_table() {
            return Err(self.wrong_world(size, seed, "NPI trace"));
        }
        let mut inst = self.sample_world(size, seed)?;
        let rec = self.run_entry(&mut inst)?;
        let trace = Trace { size, seed, obs_width: rec.width(), frames: rec.frames, steps: rec.steps, obs: rec.obs };
        Ok((trace, inst))
    }

    /// Runs the entry program on a sampled instance, recording its calls,
    /// and checks `expect`.
    fn run_entry(&self, inst: &mut Instance) -> Result<Recorder, RunError> {
        let m = &*self.module;
        let (size, seed) = (inst.size, inst.seed);
        let args = self.entry_args(inst)?;
        let mut rec = Recorder::new(m.obs_width(), self.end);
        let meter = Meter::with_values(self.limits, inst.held);
        let mut machine = Machine {
            module: m,
            pad: &mut inst.pad,
            tape: &mut inst.tape,
            program: None,
            limits: self.limits,
            meter: &meter,
            steps: inst.steps,
            size,
            seed,
        };
        machine.run_program(m.entry, &args, &mut rec)?;
        inst.steps = machine.steps;
        inst.held = meter.values();
        if !inst.check()? {
            return Err(inst.expect_failed(&m.proc(m.entry).name));
        }
        Ok(rec)
    }

    /// What the world passes the entry program: on a tape, `cells` and
    /// `timesteps` where its parameters ask for them.
    fn entry_args(&self, inst: &Instance) -> Result<Vec<Value>, RunError> {
        let cells = inst.tape.len();
        let arg = |w: &WorldArg| match w {
            WorldArg::Cells => Ok(Value::Int(cells as i64)),
            WorldArg::Timesteps => Ok(Value::Int(self.timesteps(inst.size, cells, inst.seed)? as i64)),
        };
        self.module.entry_args.iter().map(arg).collect()
    }

    /// A tape task's reference run: samples the input tape, runs the entry
    /// program marking (and, with `log`, logging) every write, and checks
    /// `expect`. Returns the instance after the run and the input tape.
    fn run_tape(&self, size: usize, seed: u64, log: bool, what: &str) -> Result<(Instance, Vec<u32>), RunError> {
        if self.is_table() {
            return Err(self.wrong_world(size, seed, what));
        }
        if !self.module.is_tape() {
            return Err(RunError {
                kind: RunErrorKind::World,
                message: format!("task `{}` has no tape world, so it has no {what}", self.name),
                program: None,
                span: None,
                label: None,
                hint: Some("a scratchpad task's reference runs are traces: `Task::trace`".into()),
                size,
                seed,
            });
        }
        let mut inst = self.sample_world(size, seed)?;
        let input = inst.tape.cells.clone();
        inst.tape.start_run(log);
        self.run_entry(&mut inst)?;
        Ok((inst, input))
    }

    /// The input/output pair of a tape world at this size and seed: the
    /// sampled tape, the reference run's final tape, the cells it wrote
    /// (graded), and the `learn nram` block's `timesteps` at this size (0
    /// for a task without one: the NTM and seq2seq need no budget;
    /// [`Task::nram_example`] refuses it).
    pub fn tape_example(&self, size: usize, seed: u64) -> Result<TapeExample, RunError> {
        let (inst, input) = self.run_tape(size, seed, false, "input/output pairs")?;
        let cells = inst.tape.len();
        let timesteps = if self.module.timesteps.is_some() { self.timesteps(size, cells, seed)? } else { 0 };
        let graded = inst.tape.graded();
        Ok(TapeExample { size, seed, cells, timesteps, input, output: inst.tape.cells, graded })
    }

    /// [`Task::tape_example`] for NRAM, which runs `timesteps` steps: an
    /// error naming the missing line when the task has no `learn nram`
    /// block with `timesteps`.
    pub fn nram_example(&self, size: usize, seed: u64) -> Result<TapeExample, RunError> {
        let e = self.tape_example(size, seed)?;
        if self.module.timesteps.is_none() {
            self.timesteps(size, e.cells, seed)?;
        }
        Ok(e)
    }

    /// A scratchpad task's input/output pair, for learners that see only
    /// the pads (the seq2seq baseline): the sampled pad, and the rows the
    /// programs write ([`Task::output_rows`]) as the reference run leaves
    /// them.
    pub fn pad_example(&self, size: usize, seed: u64) -> Result<PadExample, RunError> {
        if self.module.is_tape() || self.is_table() {
            return Err(self.wrong_world(size, seed, "scratchpad input/output pairs"));
        }
        let mut inst = self.sample_world(size, seed)?;
        let base = inst.pad.base;
        // Blank is the value after the digits.
        let cell = |v: u16| if v == BLANK { base } else { v };
        let input = inst.pad.cells.iter().map(|&v| cell(v)).collect();
        let output_rows = self.output_rows(&inst);
        self.run_entry(&mut inst)?;
        let cols = inst.pad.cols;
        let output = output_rows.iter().flat_map(|&r| inst.pad.cells[r * cols..(r + 1) * cols].iter().map(|&v| cell(v))).collect();
        Ok(PadExample { size, seed, rows: inst.pad.rows, cols, blank: base, input, output_rows, output })
    }

    /// Whether `expect` holds when the rows [`Task::pad_example`] calls
    /// the output hold `output` instead of the reference's values (the
    /// rest of the pad as sampled): how a model that writes the output
    /// rows is graded, by the task's own `expect`.
    pub fn check_pad_output(&self, size: usize, seed: u64, output: &[u16]) -> Result<bool, RunError> {
        if self.module.is_tape() || self.is_table() {
            return Err(self.wrong_world(size, seed, "scratchpad input/output pairs"));
        }
        let mut inst = self.sample_world(size, seed)?;
        let rows = self.output_rows(&inst);
        let cols = inst.pad.cols;
        if output.len() != rows.len() * cols {
            return Err(RunError {
                kind: RunErrorKind::World,
                message: format!("an output of {} cells for {} rows of {cols} columns", output.len(), rows.len()),
                program: None,
                span: None,
                label: None,
                hint: None,
                size,
                seed,
            });
        }
        let base = inst.pad.base;
        for (k, &r) in rows.iter().enumerate() {
            for (c, &v) in output[k * cols..(k + 1) * cols].iter().enumerate() {
                // `base` (or more) is blank.
                inst.pad.cells[r * cols + c] = if v >= base { BLANK } else { v };
            }
        }
        inst.check()
    }

    /// The rows the programs can write: those of the pointers a `write` or
    /// a `swap` names, and every pointer's row when one of them goes
    /// through a program parameter (which could name any pointer).
    fn output_rows(&self, inst: &Instance) -> Vec<usize> {
        let m = &*self.module;
        let mut ptrs = Vec::new();
        let mut any = false;
        for proc in &m.procs {
            for instr in &proc.code {
                if let Instr::Act(action, p, arg) = instr {
                    if *action == Action::Move {
                        continue;
                    }
                    let mut note = |p: &Ptr| match p {
                        Ptr::Fixed(i) => ptrs.push(*i as usize),
                        Ptr::Param(_) => any = true,
                    };
                    note(p);
                    if let ActArg::Ptr(q) = arg {
                        note(q);
                    }
                }
            }
        }
        let mut rows: Vec<usize> = if any {
            inst.pad.ptr_row.iter().map(|&r| r as usize).collect()
        } else {
            ptrs.iter().filter_map(|&i| inst.pad.ptr_row.get(i)).map(|&r| r as usize).collect()
        };
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// A tape task's reference run for people: the input tape, every write
    /// of the programs in order, the final tape and the graded cells.
    pub fn tape_trace(&self, size: usize, seed: u64) -> Result<TapeTrace, RunError> {
        let (inst, input) = self.run_tape(size, seed, true, "tape trace")?;
        let m = &*self.module;
        let graded = inst.tape.graded();
        let writes = inst
            .tape
            .log
            .iter()
            .flatten()
            .map(|w| TapeWrite { program: m.proc(w.program).name.clone(), address: w.address, value: w.value })
            .collect();
        Ok(TapeTrace { size, seed, cells: inst.tape.len(), input, writes, output: inst.tape.cells, graded })
    }

    /// The `learn nram` block's `timesteps` at this size, at least 1 and at
    /// most [`MAX_TIMESTEPS`].
    fn timesteps(&self, size: usize, cells: usize, seed: u64) -> Result<usize, RunError> {
        let m = &*self.module;
        let Some((e, span)) = &m.timesteps else {
            return Err(RunError {
                kind: RunErrorKind::World,
                message: format!("task `{}` has no `timesteps` in a `learn nram` block", self.name),
                program: None,
                span: None,
                label: None,
                hint: Some("add `timesteps: EXPR` to its `learn nram` block".into()),
                size,
                seed,
            });
        };
        let fail = |f: Box<Fault>| f.into_run_error(None, Some(*span), size, seed);
        let locals = [Value::Int(size as i64), Value::Int(cells as i64)];
        let pad = Pad::new(1, 1, 0, Arc::from(Vec::<String>::new())).map_err(fail)?;
        let tape = Tape::default();
        let meter = Meter::new(self.limits);
        let mut cx = Cx { pad: &pad, tape: &tape, locals: &locals, names: &[], rng: None, meter: &meter };
        let v = eval(e, &mut cx).map_err(|f| fail(f.at(*span)))?;
        match v.as_i64() {
            Some(t) if (1..=MAX_TIMESTEPS).contains(&t) => Ok(t as usize),
            _ => Err(fail(
                Fault::new(
                    RunErrorKind::Value,
                    format!(
                        "`timesteps` is {} at size {size} ({cells} cells), but it must be from 1 to {MAX_TIMESTEPS}",
                        v.describe()
                    ),
                )
                .label("out of range")
                .at(*span),
            )),
        }
    }
}

impl Instance {
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Writes the current observation into `out`, whose length must be
    /// `task.obs.width()` (a shorter slice panics, like `copy_from_slice`).
    /// Never fails otherwise: an `observe` feature whose expression fails in
    /// this state (e.g. orders a `blank`) reads as 0. Does not allocate.
    pub fn observe(&self, out: &mut [u16]) {
        interp::observe_lenient(&self.module, &self.pad, out);
    }

    /// As [`Instance::observe`], but reports a failing `observe` feature.
    pub fn try_observe(&self, out: &mut [u16]) -> Result<(), RunError> {
        interp::observe(&self.module, &self.pad, out).map_err(|f| f.into_run_error(None, None, self.size, self.seed))
    }

    /// Applies `ACT(action, pointer, value)`, as a learned model calls it:
    /// the action's index in `Task::actions`, the pointer's in
    /// `Task::pointers`, and a digit (`base` = blank), a direction (0 left,
    /// 1 right) or a second pointer. Anything out of range is a
    /// [`RunErrorKind::BadAct`] error; moving off the pad is a
    /// [`RunErrorKind::World`] error. Nothing here panics.
    pub fn act(&mut self, args: Args) -> Result<(), RunError> {
        let [a, p, v] = args;
        if self.module.is_tape() {
            return Err(RunError {
                kind: RunErrorKind::BadAct,
                message: "a tape world has no actions".into(),
                program: None,
                span: None,
                label: None,
                hint: None,
                size: self.size,
                seed: self.seed,
            });
        }
        let np = self.pad.ptr_row.len();
        let base = self.pad.base;
        let bad = |msg: String| RunError {
            kind: RunErrorKind::BadAct,
            message: msg,
            program: None,
            span: None,
            label: None,
            hint: None,
            size: self.size,
            seed: self.seed,
        };
        let action = match (self.pad.pose.is_some(), a) {
            (true, 0) => Action::Rotate,
            (true, _) => return Err(bad(format!("ACT got action {a}, but a pose world's only action is 0 rotate"))),
            (false, _) => match Action::ALL.get(a as usize) {
                Some(&action) => action,
                None => return Err(bad(format!("ACT got action {a}, but the actions are 0 write, 1 move and 2 swap"))),
            },
        };
        // A pose world's pointers 2 and 3 are the target's: not the learner's to turn.
        let np = if self.pad.pose.is_some() { 2 } else { np };
        if p as usize >= np {
            return Err(bad(format!("ACT({}) got pointer {p}, but the pointers are 0 to {}", action.name(), np - 1)));
        }
        let p = p as usize;
        match action {
            Action::Write => {
                if v > base {
                    return Err(bad(format!(
                        "ACT(write) got value {v}, but a cell holds 0 to {} or blank ({base})",
                        base - 1
                    )));
                }
                self.pad.write(p, if v == base { BLANK } else { v });
            }
            Action::Move | Action::Rotate => {
                let d = match v {
                    0 => Dir::Left,
                    1 => Dir::Right,
                    _ => {
                        return Err(bad(format!(
                            "ACT({}) got direction {v}, but directions are 0 left and 1 right",
                            action.name()
                        )))
                    }
                };
                self.pad.move_ptr(p, d).map_err(|f| f.into_run_error(None, None, self.size, self.seed))?;
            }
            Action::Swap => {
                if v as usize >= np {
                    return Err(bad(format!("ACT(swap) got second pointer {v}, but the pointers are 0 to {}", np - 1)));
                }
                self.pad.swap(p, v as usize);
            }
        }
        Ok(())
    }

    /// Whether `expect` holds in the current state.
    pub fn check(&self) -> Result<bool, RunError> {
        let m = &*self.module;
        let meter = Meter::with_values(self.limits, self.held);
        let mut cx =
            Cx { pad: &self.pad, tape: &self.tape, locals: &self.env, names: &m.input.slot_names, rng: None, meter: &meter };
        match eval(&m.expect, &mut cx) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(RunError {
                kind: RunErrorKind::Value,
                message: format!("`expect` gave {}, not a boolean", other.describe()),
                program: None,
                span: Some(m.expect_span),
                label: None,
                hint: None,
                size: self.size,
                seed: self.seed,
            }),
            Err(f) => {
                let mut f = f;
                f.message.push_str(" in `expect`");
                Err(f.into_run_error(None, Some(m.expect_span), self.size, self.seed))
            }
        }
    }

    /// The error for an `expect` that is false after the entry ran, showing
    /// both sides of a comparison.
    fn expect_failed(&self, entry: &str) -> RunError {
        let m = &*self.module;
        let mut hint = None;
        if let Expr::Compare(_, a, b, _) = &m.expect {
            let meter = Meter::with_values(self.limits, self.held);
            let mut cx = Cx {
                pad: &self.pad,
                tape: &self.tape,
                locals: &self.env,
                names: &m.input.slot_names,
                rng: None,
                meter: &meter,
            };
            if let (Ok(x), Ok(y)) = (eval(a, &mut cx), eval(b, &mut cx)) {
                hint = Some(format!("the left side is {}, the right side is {}", short(&x), short(&y)));
            }
        }
        RunError {
            kind: RunErrorKind::ExpectFailed,
            message: format!("`expect {}` does not hold after {entry} ran", m.expect_text),
            program: None,
            span: Some(m.expect_span),
            label: Some("false after the run".into()),
            hint,
            size: self.size,
            seed: self.seed,
        }
    }

    /// The pad for humans: one line per row, carets under the pointers (a
    /// tape: 16 cells a line, each line led by its first address).
    pub fn render(&self) -> String {
        if self.module.is_tape() {
            return self.tape.render();
        }
        self.pad.render()
    }
}

/// A value shortened for a message.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 60 {
        return s;
    }
    match v {
        Value::Int(_) | Value::Big(_) => crate::value::abbreviate(&s),
        _ => {
            let head: String = s.chars().take(57).collect();
            format!("{head}...")
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::error::RunErrorKind;

    #[test]
    fn act_validates_every_argument() {
        let src = "world scratchpad(rows: 1, cols: 3, base: 4) {
  pointer p on row 0 at left
  pointer q on row 0 at right
}
input(n) { write_list(row: 0, [1, 2, 3]) }
expect read_list(row: 0) == [3, 2]
program MAIN { return }
";
        let task = crate::compile(src, "t").unwrap().task;
        let mut inst = task.sample(1, 0).unwrap();
        assert_eq!(inst.act([3, 0, 0]).unwrap_err().kind, RunErrorKind::BadAct);
        assert_eq!(inst.act([0, 2, 0]).unwrap_err().kind, RunErrorKind::BadAct);
        assert_eq!(inst.act([0, 0, 5]).unwrap_err().kind, RunErrorKind::BadAct);
        assert_eq!(inst.act([1, 0, 2]).unwrap_err().kind, RunErrorKind::BadAct);
        assert_eq!(inst.act([2, 0, 2]).unwrap_err().kind, RunErrorKind::BadAct);
        assert_eq!(inst.act([1, 0, 0]).unwrap_err().kind, RunErrorKind::World);
        // swap p and q: [3, 2, 1]; then blank q's cell: [3, 2, _] reads [3, 2].
        inst.act([2, 0, 1]).unwrap();
        assert!(!inst.check().unwrap());
        inst.act([0, 1, 4]).unwrap();
        assert!(inst.check().unwrap());
        inst.act([1, 0, 1]).unwrap();
        let mut obs = [0u16; 6];
        inst.observe(&mut obs);
        assert_eq!(obs, [2, 0, 0, 4, 0, 1]);
        assert_eq!(inst.render(), "row 0   3 2 _\n          ^p\n            ^q\n");
    }
}
