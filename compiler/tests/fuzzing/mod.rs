//! The fuzzing harness shared by `tests/robustness.rs` (a bounded run in CI)
//! and `examples/fuzz.rs` (millions of executions on every core), both in
//! this crate so that the fuzzer builds without the learners.
//!
//! An execution takes one NPL source through everything a user's file goes
//! through: parse, check, lowering, the call and operation graphs, the lint,
//! diagnostics rendering, and, when it compiles, sampling and tracing at a
//! few sizes and seeds under [`LIMITS`], rendering the trace, and driving the
//! sampled world with `act`/`observe`/`check` as a learner does. Sources come
//! from a grammar-aware generator of random programs, and from mutations of
//! the stdlib tasks and of generated programs; both are pure functions of
//! `(seed, index)`, so any offender is reproduced by its index.
//!
//! [`execute`] runs under `catch_unwind` and measures the execution's CPU
//! time and peak heap (through [`Counting`], which the harness binary
//! installs as its global allocator) against the run limits plus slack.

#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;
use synth_compiler::Limits;

/// The limits every fuzzed run gets, whatever its `learn` block says (a
/// file may only lower them). Chosen so that the slowest possible step
/// (sorting the longest list, scanning the widest row the memory allows,
/// dividing the longest integers) times the step limit stays well under
/// [`TIME_BUDGET`].
pub const LIMITS: Limits = Limits {
    max_steps: 2_000,
    max_depth: 200,
    max_int_bits: 8_192,
    max_list_len: 1_000,
    max_memory: 256 * 1024,
};

/// CPU time one execution may take (two traces at the step limit, the
/// compile and the graphs), generous because the machine is shared.
pub const TIME_BUDGET: Duration = Duration::from_secs(2);

/// Heap one execution may hold at its peak: twice each run's memory limit
/// (vectors grow by doubling), plus room for the compiler's own data, the
/// rendered trace and diagnostics of a source of a few kilobytes.
pub const HEAP_BUDGET: usize = 2 * LIMITS.max_memory as usize + 8 * 1024 * 1024;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// The system allocator, counting the bytes each thread holds and the
/// thread's peak since [`reset_peak`].
pub struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        grow(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // The old and the new block may both exist while copying.
            grow(new_size as isize);
            grow(-(layout.size() as isize));
        }
        p
    }
}

fn grow(by: isize) {
    // `try_with`: the thread's counters may already be gone while it exits.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + by;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

/// Starts measuring: the peak becomes what the thread holds now.
fn reset_peak() -> isize {
    let now = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(now));
    now
}

fn peak() -> isize {
    PEAK.with(Cell::get)
}

/// CPU time of the calling thread.
#[cfg(unix)]
fn thread_cpu() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[cfg(not(unix))]
fn thread_cpu() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// What one execution did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub compiled: bool,
    /// Traces that ran to the end and satisfied `expect`.
    pub traces: u32,
    /// Runs stopped by a limit (steps, depth, size or memory).
    pub limited: u32,
    pub panic: Option<String>,
    pub cpu: Duration,
    /// Peak heap above what the thread held when the execution started.
    pub heap: usize,
}

impl Outcome {
    /// Why this execution breaks a rule, if it does.
    pub fn violation(&self) -> Option<String> {
        if let Some(p) = &self.panic {
            return Some(format!("panic: {p}"));
        }
        if self.cpu > TIME_BUDGET {
            return Some(format!("took {:?} of CPU, over the budget of {TIME_BUDGET:?}", self.cpu));
        }
        if self.heap > HEAP_BUDGET {
            return Some(format!("held {} bytes at its peak, over the budget of {HEAP_BUDGET}", self.heap));
        }
        None
    }
}

/// Runs one source through the whole pipeline, measured and under
/// `catch_unwind`.
pub fn execute(src: &str, seed: u64) -> Outcome {
    let start_heap = reset_peak();
    let start = thread_cpu();
    let mut out = Outcome::default();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pipeline(src, seed, &mut out)));
    out.cpu = thread_cpu().saturating_sub(start);
    out.heap = (peak() - start_heap).max(0) as usize;
    if let Err(e) = result {
        let msg = e
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        out.panic = Some(msg);
    }
    out
}

fn pipeline(src: &str, seed: u64, out: &mut Outcome) {
    let compiled = match synth_compiler::compile(src, "fuzz") {
        Ok(c) => c,
        Err(diags) => {
            // Every message is checked; the first two are rendered (the
            // parser's own tests render thousands more).
            for (k, d) in diags.iter().enumerate() {
                assert!(!d.message.is_empty() && !d.message.ends_with('.'), "bad message: {d:?}");
                if k < 2 {
                    let _ = d.render("fuzz.npl", src);
                }
            }
            return;
        }
    };
    out.compiled = true;
    for w in &compiled.warnings {
        let _ = w.render("fuzz.npl", src);
    }
    let mut task = compiled.task;
    let l = task.limits;
    task.limits = Limits {
        max_steps: l.max_steps.min(LIMITS.max_steps),
        max_depth: l.max_depth.min(LIMITS.max_depth),
        max_int_bits: l.max_int_bits.min(LIMITS.max_int_bits),
        max_list_len: l.max_list_len.min(LIMITS.max_list_len),
        max_memory: l.max_memory.min(LIMITS.max_memory),
    };
    let _ = task.call_graph().to_dot();
    let _ = task.op_graph().to_text();
    let _ = task.op_graph().to_text_nram();
    let _ = task.nram_modules();
    let _ = synth_compiler::table::latent_programs_dot(&task.latent_programs());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for size in [1usize, 4] {
        let run_seed = rng.random_range(0..4u64);
        // A tape task's reference run is its memory writes; a scratchpad's
        // is a trace (each refuses the other kind's entry point).
        let run = if task.is_table() {
            task.table_example(size, run_seed).map(|e| {
                if size == 1 {
                    let _ = e.render(&task.name);
                    let _ = serde_json::to_string(&e);
                    let _ = synth_compiler::table::execute(&e.columns, &e.program);
                }
            })
        } else if task.is_tape() {
            task.tape_trace(size, run_seed).map(|t| {
                if size == 1 {
                    let _ = task.render_tape_trace(&t);
                    let _ = serde_json::to_string(&t);
                    let _ = task.tape_example(size, run_seed);
                }
            })
        } else {
            task.run(size, run_seed).map(|(trace, _)| {
                if size == 1 {
                    let _ = task.render_trace(&trace);
                    let _ = task.trace_json(&trace);
                }
            })
        };
        match run {
            Ok(()) => out.traces += 1,
            Err(e) => {
                if matches!(
                    e.kind,
                    synth_compiler::RunErrorKind::StepLimit
                        | synth_compiler::RunErrorKind::DepthLimit
                        | synth_compiler::RunErrorKind::SizeLimit
                        | synth_compiler::RunErrorKind::MemoryLimit
                ) {
                    out.limited += 1;
                }
                let d = e.to_diagnostic();
                assert!(!d.message.ends_with('.'), "bad message: {d:?}");
                let _ = d.render("fuzz.npl", src);
            }
        }
        // Drive the sampled world as a learner would, with arbitrary actions.
        if size > 1 {
            continue;
        }
        if let Ok(mut inst) = task.sample(size, run_seed) {
            let mut obs = vec![0u16; task.obs.width()];
            for _ in 0..rng.random_range(0..8) {
                let args = [rng.random_range(0..4u16), rng.random_range(0..4u16), rng.random_range(0..12u16)];
                let _ = inst.act(args);
                inst.observe(&mut obs);
                let _ = inst.try_observe(&mut obs);
            }
            let _ = inst.check();
            let _ = inst.render();
        }
    }
}

/// The source of execution `index` of a campaign with `seed`.
pub fn source(seed: u64, index: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    match rng.random_range(0..10) {
        0..=4 => Gen::new(&mut rng).file(),
        5..=6 => {
            let (_, src) = STDLIB[rng.random_range(0..STDLIB.len())];
            mutate(src, &mut rng)
        }
        _ => {
            let src = Gen::new(&mut rng).file();
            mutate(&src, &mut rng)
        }
    }
}

/// The stdlib tasks, as the fuzzer's seeds.
pub const STDLIB: &[(&str, &str)] = &[
    ("add", include_str!("../../../stdlib/add.npl")),
    ("add_recursive", include_str!("../../../stdlib/add_recursive.npl")),
    ("bubblesort", include_str!("../../../stdlib/bubblesort.npl")),
    ("increment", include_str!("../../../stdlib/increment.npl")),
    ("mul_digit", include_str!("../../../stdlib/mul_digit.npl")),
    ("reverse", include_str!("../../../stdlib/reverse.npl")),
    ("sub", include_str!("../../../stdlib/sub.npl")),
    ("nram_access", include_str!("../../../stdlib/nram_access.npl")),
    ("nram_copy", include_str!("../../../stdlib/nram_copy.npl")),
    ("nram_listsearch", include_str!("../../../stdlib/nram_listsearch.npl")),
    ("nram_merge", include_str!("../../../stdlib/nram_merge.npl")),
    ("nram_walkbst", include_str!("../../../stdlib/nram_walkbst.npl")),
    ("tableqa", include_str!("../../../stdlib/tableqa.npl")),
    ("tableqa_sales", include_str!("../../../stdlib/tableqa_sales.npl")),
];

/// Fragments that are likely to produce interesting near-miss programs.
const SNIPPETS: &[&str] = &[
    "blank", "left", "right", "(", ")", "{", "}", "[", "]", ",", "\n", "ADD()", "move(p, left)", "write(out, 10)",
    "swap(i, i)", "while true { }", "if x { }", "let x = 1", "x = x + 1", "return", "0..n", "n", "-1",
    "99999999999999999999999", "digit(", "pos(i)", "at_end(k)", "random_int(0..0)", "/ 0", "% 0",
    "program Q(a, b, c, d) { }", "entry NOPE", "observe 1", " * a * a * a", "random_list(n * 1000, 0..10)",
    "random_number(digits: 100000)", "sorted(", "read_list(row: 0)", "read_number(row: 1)", "max steps 100000",
    "max memory 1000", "max int bits 64", "max list len 2", "é", "//", "\"", "..=", "for i in 0..n { }",
    "base: 256", "cols: 1000000", "rows: 0", "mem[0] = 1", "mem[n]", "mem[-1]", "cells", "world tape(cells: n)",
    "write_list(at: 0, [1])", "read_list(at: 0, len: 99)", "random_permutation(n)", "random_distinct(n, 0..n)",
    "timesteps: n", "modules: program", "cells: 100000000",
    "where", " where a > 1", "sum(a)", "count(where a < 2)", "print(city where city == \"oslo\")", "(x: column)",
    "(v: 0..0)", "word of city", " | \"sum {x}\"", "{", "{x}", "column a", "column z: word", "fill(a, [1, 2])",
    "random_words(n, [])", "rows: n * 1000000", "timesteps 1", "&& b > 3", "|| c < 4", " - sum(b)",
];

/// One to three edits of a source: cut a span, insert a snippet, copy a
/// span elsewhere, change a digit.
pub fn mutate(src: &str, rng: &mut ChaCha8Rng) -> String {
    let mut s: Vec<char> = src.chars().collect();
    for _ in 0..rng.random_range(1..=3) {
        if s.is_empty() {
            break;
        }
        let at = rng.random_range(0..s.len());
        match rng.random_range(0..4) {
            0 => {
                let end = (at + rng.random_range(1..20)).min(s.len());
                s.drain(at..end);
            }
            1 => {
                let snippet = SNIPPETS[rng.random_range(0..SNIPPETS.len())];
                s.splice(at..at, snippet.chars());
            }
            2 => {
                let end = (at + rng.random_range(1..30)).min(s.len());
                let copy: Vec<char> = s[at..end].to_vec();
                let to = rng.random_range(0..s.len());
                s.splice(to..to, copy);
            }
            _ => {
                if s[at].is_ascii_digit() {
                    s[at] = char::from(b'0' + rng.random_range(0..10u8));
                } else {
                    s.insert(at, char::from(b'0' + rng.random_range(0..10u8)));
                }
            }
        }
    }
    s.into_iter().collect()
}

/// A grammar-aware generator of NPL files: a world with pointers, an
/// `input` block, an `expect`, a few programs calling each other, and
/// sometimes a `learn` block. Names are drawn from those in scope and of the
/// right kind (integer or list), so that most files compile and run; a few
/// deliberate slips (`blank` in arithmetic, a row off the pad) keep the
/// checker's and the interpreter's error paths busy.
pub struct Gen<'r> {
    rng: &'r mut ChaCha8Rng,
    pointers: Vec<String>,
    /// Integer variables in scope.
    ints: Vec<String>,
    /// List variables in scope.
    lists: Vec<String>,
    /// `input`'s top-level variables, for `expect`.
    input_scope: (Vec<String>, Vec<String>),
    programs: Vec<(String, usize)>,
    rows: usize,
    depth: usize,
    names: usize,
}

impl<'r> Gen<'r> {
    pub fn new(rng: &'r mut ChaCha8Rng) -> Gen<'r> {
        Gen {
            rng,
            pointers: Vec::new(),
            ints: Vec::new(),
            lists: Vec::new(),
            input_scope: (Vec::new(), Vec::new()),
            programs: Vec::new(),
            rows: 1,
            depth: 0,
            names: 0,
        }
    }

    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[self.rng.random_range(0..xs.len())]
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}{}", self.names)
    }

    fn row(&mut self) -> usize {
        let extra = usize::from(self.chance(3));
        self.rng.random_range(0..self.rows + extra)
    }

    pub fn file(&mut self) -> String {
        let mut out = String::new();
        if self.chance(50) {
            out.push_str("task fuzz\n");
        }
        self.rows = self.rng.random_range(1..=4);
        let cols = match self.rng.random_range(0..8) {
            0 => "n".to_string(),
            1 => format!("{}", self.rng.random_range(1..12)),
            2 => "2 * n + 1".to_string(),
            3 => self.size_expr(),
            _ => format!("n + {}", self.rng.random_range(1..4)),
        };
        let base = [2, 3, 10, 10, 10, 16, 256][self.rng.random_range(0..7)];
        out.push_str(&format!("world scratchpad(rows: {}, cols: {cols}, base: {base}) {{\n", self.rows));
        let np = self.rng.random_range(1..=4);
        for k in 0..np {
            let name = ["p", "q", "r", "s"][k].to_string();
            let row = self.row();
            let at = self.pick(&["left", "right", "left", "right", "0", "1"]);
            out.push_str(&format!("  pointer {name} on row {row} at {at}\n"));
            self.pointers.push(name);
        }
        if self.chance(30) {
            let p = self.pointer();
            let q = self.pointer();
            let obs = match self.rng.random_range(0..3) {
                0 => format!("pos({p}) < pos({q})"),
                1 => format!("{p} == {q}"),
                _ => format!("digit({p}) + 1 > 2"),
            };
            out.push_str(&format!("  observe {obs}\n"));
        }
        out.push_str("}\n\n");

        self.ints = vec!["n".into()];
        self.lists.clear();
        out.push_str("input(n) {\n");
        for _ in 0..self.rng.random_range(1..6) {
            let st = self.input_stmt(1);
            out.push_str(&st);
        }
        out.push_str("}\n\n");
        self.input_scope = (self.ints.clone(), self.lists.clone());

        let e = self.expect_expr();
        out.push_str(&format!("expect {e}\n\n"));

        // Programs: names and arities first, so calls can go either way.
        let count = self.rng.random_range(1..=4);
        self.programs = (0..count)
            .map(|k| {
                let arity = if k == 0 { 0 } else { self.rng.random_range(0..=2) };
                (["MAIN", "STEP", "AUX", "LOOP"][k].to_string(), arity)
            })
            .collect();
        for k in 0..count {
            let (name, arity) = self.programs[k].clone();
            let params: Vec<String> = (0..arity).map(|i| ["a", "b", "c"][i].to_string()).collect();
            self.ints = params.clone();
            self.lists.clear();
            if params.is_empty() {
                out.push_str(&format!("program {name} {{\n"));
            } else {
                out.push_str(&format!("program {name}({}) {{\n", params.join(", ")));
            }
            for _ in 0..self.rng.random_range(1..5) {
                let st = self.program_stmt(1, k);
                out.push_str(&st);
            }
            out.push_str("}\n\n");
        }
        if self.chance(30) {
            out.push_str("learn npi {\n");
            for _ in 0..self.rng.random_range(1..3) {
                let line = match self.rng.random_range(0..8) {
                    0 => format!("  max steps {}", self.rng.random_range(1..100_000)),
                    1 => format!("  max depth {}", self.rng.random_range(1..1000)),
                    2 => format!("  max int bits {}", self.rng.random_range(1..100_000)),
                    3 => format!("  max list len {}", self.rng.random_range(0..10_000)),
                    4 => format!("  max memory {}", self.rng.random_range(0..10_000_000)),
                    5 => "  train sizes 1..=4, traces 8".to_string(),
                    6 => "  return: after_call".to_string(),
                    _ => "  hidden 16".to_string(),
                };
                out.push_str(&line);
                out.push('\n');
            }
            out.push_str("}\n");
        }
        out
    }

    fn pointer(&mut self) -> String {
        let k = self.rng.random_range(0..self.pointers.len());
        self.pointers[k].clone()
    }

    fn int_var(&mut self) -> Option<String> {
        if self.ints.is_empty() {
            return None;
        }
        let k = self.rng.random_range(0..self.ints.len());
        Some(self.ints[k].clone())
    }

    fn list_var(&mut self) -> Option<String> {
        if self.lists.is_empty() {
            return None;
        }
        let k = self.rng.random_range(0..self.lists.len());
        Some(self.lists[k].clone())
    }

    fn indent(level: usize) -> String {
        "  ".repeat(level)
    }

    /// An integer that may grow with the size: loop bounds, lengths, digits.
    fn size_expr(&mut self) -> String {
        match self.rng.random_range(0..7) {
            0 | 1 => "n".into(),
            2 => format!("n * {}", self.rng.random_range(0..5)),
            3 => format!("{}", self.rng.random_range(0..20)),
            4 => "n + 1".into(),
            5 => format!("{}", [1_000, 100_000, 3_000_000][self.rng.random_range(0..3)]),
            _ => "n + n".into(),
        }
    }

    /// A block's statements, with the block's own variables scoped to it.
    fn block(&mut self, level: usize, program: Option<usize>) -> String {
        let saved = (self.ints.clone(), self.lists.clone());
        let mut body = String::new();
        for _ in 0..self.rng.random_range(1..3) {
            let st = match program {
                Some(me) => self.program_stmt(level, me),
                None => self.input_stmt(level),
            };
            body.push_str(&st);
        }
        (self.ints, self.lists) = saved;
        body
    }

    fn input_stmt(&mut self, level: usize) -> String {
        let ind = Self::indent(level);
        self.depth += 1;
        let s = match self.rng.random_range(0..13) {
            0 | 1 => {
                let (e, list) = self.sampler();
                let v = self.fresh(if list { "xs" } else { "x" });
                if list { self.lists.push(v.clone()) } else { self.ints.push(v.clone()) }
                format!("{ind}let {v} = {e}\n")
            }
            2 => {
                let e = self.int_expr(2);
                let v = self.fresh("x");
                self.ints.push(v.clone());
                format!("{ind}let {v} = {e}\n")
            }
            3 => {
                let (row, e) = (self.row(), self.int_expr(2));
                format!("{ind}write_number(row: {row}, {e})\n")
            }
            4 => {
                let (row, e) = (self.row(), self.list_expr(1));
                format!("{ind}write_list(row: {row}, {e})\n")
            }
            5 | 6 if self.depth < 3 => {
                let hi = self.size_expr();
                let i = self.fresh("i");
                self.ints.push(i.clone());
                let body = self.block(level + 1, None);
                self.ints.pop();
                format!("{ind}for {i} in 0..{hi} {{\n{body}{ind}}}\n")
            }
            7 if self.depth < 3 => {
                let c = self.bool_expr(2);
                let body = self.block(level + 1, None);
                format!("{ind}if {c} {{\n{body}{ind}}}\n")
            }
            8 => match (self.int_var(), self.list_var()) {
                (_, Some(l)) if self.chance(40) => {
                    let (i, e) = (self.int_expr(1), self.int_expr(2));
                    format!("{ind}{l}[{i}] = {e}\n")
                }
                (_, Some(l)) if self.chance(30) => {
                    let e = self.list_expr(1);
                    format!("{ind}{l} = {e}\n")
                }
                (Some(v), _) if v != "n" => {
                    let e = self.int_expr(2);
                    format!("{ind}{v} = {e}\n")
                }
                _ => String::new(),
            },
            9 if self.depth < 3 => match self.int_var() {
                Some(v) if v != "n" => format!("{ind}while {v} > 0 {{\n{ind}  {v} = {v} / 2\n{ind}}}\n"),
                _ => String::new(),
            },
            10 => match self.int_var() {
                Some(v) if v != "n" => {
                    let i = self.fresh("i");
                    let op = self.pick(&["*", "+", "*"]);
                    format!("{ind}for {i} in 0..{} {{ {v} = {v} {op} {v} }}\n", self.rng.random_range(1..70))
                }
                _ => String::new(),
            },
            11 => {
                let (row, l) = (self.row(), self.list_expr(1));
                format!("{ind}write_list(row: {row}, {l})\n")
            }
            _ => {
                let e = self.list_expr(2);
                let v = self.fresh("xs");
                self.lists.push(v.clone());
                format!("{ind}let {v} = {e}\n")
            }
        };
        self.depth -= 1;
        s
    }

    /// A sampler call, and whether it gives a list.
    fn sampler(&mut self) -> (String, bool) {
        let n = self.size_expr();
        match self.rng.random_range(0..5) {
            0 | 1 => (format!("random_number(digits: {n})"), false),
            2 => (format!("random_list({n}, 0..{})", self.rng.random_range(0..20)), true),
            3 => (format!("random_int(0..{n})"), false),
            _ => {
                let hi = self.pick(&["10", "1000000000000000000000000", "n + 5", "n * n * n * n * n * n * n * n"]);
                (format!("random_int({}..{hi})", self.rng.random_range(0..5)), false)
            }
        }
    }

    fn list_expr(&mut self, depth: usize) -> String {
        if depth == 0 {
            return self.list_var().unwrap_or_else(|| "[1, 2]".into());
        }
        match self.rng.random_range(0..8) {
            0 => "[]".into(),
            1 => {
                let (a, b) = (self.int_expr(1), self.int_expr(1));
                format!("[{a}, {b}]")
            }
            2 => format!("sorted({})", self.list_expr(depth - 1)),
            3 => format!("reversed({})", self.list_expr(depth - 1)),
            4 => format!("read_list(row: {})", self.row()),
            5 => format!("random_list({}, 0..10)", self.size_expr()),
            _ => self.list_var().unwrap_or_else(|| "[0]".into()),
        }
    }

    fn int_expr(&mut self, depth: usize) -> String {
        if depth == 0 || self.chance(30) {
            return match self.rng.random_range(0..30) {
                0..=13 => self.int_var().unwrap_or_else(|| "1".into()),
                14..=25 => format!("{}", self.rng.random_range(0..12)),
                26..=28 => "99999999999999999999".into(),
                _ => "blank".into(),
            };
        }
        let a = self.int_expr(depth - 1);
        let b = self.int_expr(depth - 1);
        match self.rng.random_range(0..14) {
            0 | 1 => format!("{a} + {b}"),
            2 => format!("{a} - {b}"),
            3 | 4 => format!("{a} * {b}"),
            5 => format!("{a} / {b}"),
            6 => format!("{a} % {b}"),
            7 => format!("-{a}"),
            8 => format!("abs({a})"),
            9 => format!("min({a}, {b})"),
            10 => format!("max({})", self.list_expr(1)),
            11 => format!("len({})", self.list_expr(1)),
            12 => format!("read_number(row: {})", self.row()),
            _ => match self.list_var() {
                Some(l) => format!("{l}[{a}]"),
                None => format!("({a})"),
            },
        }
    }

    fn bool_expr(&mut self, depth: usize) -> String {
        let a = self.int_expr(depth);
        let b = self.int_expr(depth);
        let op = self.pick(&["==", "!=", "<", "<=", ">", ">="]);
        match self.rng.random_range(0..6) {
            0 => format!("!({a} {op} {b})"),
            1 => format!("{a} {op} {b} && {}", self.pick(&["true", "false"])),
            2 => {
                let (l, m) = (self.list_expr(1), self.list_expr(1));
                format!("{l} == {m}")
            }
            _ => format!("{a} {op} {b}"),
        }
    }

    fn expect_expr(&mut self) -> String {
        (self.ints, self.lists) = self.input_scope.clone();
        let row = self.rng.random_range(0..self.rows);
        match self.rng.random_range(0..5) {
            0 => format!("read_number(row: {row}) == {}", self.int_expr(2)),
            1 => format!("read_list(row: {row}) == {}", self.list_expr(1)),
            2 => format!("read_list(row: {row}) == sorted(read_list(row: {row}))"),
            3 => "true".into(),
            _ => self.bool_expr(2),
        }
    }

    /// A condition a program may test: cells, boundaries, parameters.
    fn cond(&mut self) -> String {
        let p = self.pointer();
        match self.rng.random_range(0..7) {
            0 => format!("{p} != blank"),
            1 => format!("!at_end({p})"),
            2 => format!("!at_start({p})"),
            3 => format!("{p} != blank && {p} > {}", self.pointer()),
            4 => format!("digit({p}) >= {}", self.rng.random_range(0..10)),
            5 => match self.int_var() {
                Some(v) => format!("{v} == {}", self.rng.random_range(0..3)),
                None => "true".into(),
            },
            _ => format!("pos({p}) < {}", self.rng.random_range(0..5)),
        }
    }

    fn program_stmt(&mut self, level: usize, me: usize) -> String {
        let ind = Self::indent(level);
        self.depth += 1;
        let s = match self.rng.random_range(0..12) {
            0 | 1 => {
                let p = self.pointer();
                let d = self.pick(&["left", "right"]);
                if self.chance(80) {
                    format!("{ind}if !at_{}({p}) {{ move({p}, {d}) }}\n", if d == "left" { "start" } else { "end" })
                } else {
                    format!("{ind}move({p}, {d})\n")
                }
            }
            2 | 3 => {
                let p = self.pointer();
                let v = match self.rng.random_range(0..4) {
                    0 => "blank".to_string(),
                    1 => format!("{}", self.rng.random_range(0..3)),
                    2 => format!("(digit({p}) + 1) % 2"),
                    _ => self.int_var().unwrap_or_else(|| "0".into()),
                };
                format!("{ind}write({p}, {v})\n")
            }
            4 => {
                let (p, q) = (self.pointer(), self.pointer());
                format!("{ind}swap({p}, {q})\n")
            }
            5 | 6 => {
                let k = self.rng.random_range(0..self.programs.len());
                let (name, arity) = self.programs[k].clone();
                let args: Vec<String> = (0..arity)
                    .map(|_| match self.rng.random_range(0..4) {
                        0 => self.pointer(),
                        1 => self.pick(&["left", "right"]).to_string(),
                        2 => self.int_var().unwrap_or_else(|| "1".into()),
                        _ => format!("{}", self.rng.random_range(0..3)),
                    })
                    .collect();
                // A call down the list always ends; one up or to itself sits
                // under a condition, which may or may not end it.
                if k > me {
                    format!("{ind}{name}({})\n", args.join(", "))
                } else {
                    let c = self.cond();
                    format!("{ind}if {c} {{ {name}({}) }}\n", args.join(", "))
                }
            }
            7 | 8 if self.depth < 3 => {
                let c = self.cond();
                let body = self.block(level + 1, Some(me));
                if self.chance(50) {
                    format!("{ind}while {c} {{\n{body}{ind}}}\n")
                } else {
                    format!("{ind}if {c} {{\n{body}{ind}}} else {{\n{ind}  return\n{ind}}}\n")
                }
            }
            9 => {
                let p = self.pointer();
                let v = self.fresh("t");
                self.ints.push(v.clone());
                format!("{ind}let {v} = digit({p}) + {}\n", self.rng.random_range(0..10))
            }
            10 if self.depth < 3 => {
                let i = self.fresh("i");
                let body = self.block(level + 1, Some(me));
                format!("{ind}for {i} in 0..{} {{\n{body}{ind}}}\n", self.rng.random_range(0..4))
            }
            _ => format!("{ind}return\n"),
        };
        self.depth -= 1;
        s
    }
}
