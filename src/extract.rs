//! `synth extract`: a trained NRAM's discrete program as a complete NPL
//! file over the same tape world.
//!
//! The machine's [`CircuitTable`] (its live circuit for every zero pattern)
//! is written as a program by [`synth_runtime::nram::induced`]; here it
//! replaces the task's reference programs (and its `entry` item) in the
//! task's own source text, so the file keeps the task's `task`, `world`,
//! `input`, `expect` and `learn` items, comments included, and `synth
//! check` verifies the machine's program against the task's `expect` at
//! any size. The branches are ordered, and annotated with how often they
//! were taken, by running the discrete machine on the `learn` block's
//! train and test sizes.

use crate::source::Source;
use synth_compiler::Task;
use synth_dsl::ast::ItemKind;
use synth_runtime::nram::circuit::{CircuitError, CircuitTable, PatternTally};
use synth_runtime::nram::induced::{self, Usage};
use synth_runtime::nram::{Nram, Runner};

/// What to extract and how to annotate it.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// The extracted program's name.
    pub name: String,
    /// Where the machine comes from, for the program's comment: `the NRAM
    /// in runs/access (seed 1, step 1,400, converged)`.
    pub about: String,
    /// Seeds `0..seeds` of every size the sample runs use.
    pub seeds: u64,
    /// Sizes above this are not sampled (a test size may be huge).
    pub max_size: usize,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions { name: "EXTRACTED".into(), about: "an NRAM".into(), seeds: 4, max_size: 1000 }
    }
}

/// An extracted program and what it was made from.
#[derive(Clone, Debug)]
pub struct Extracted {
    /// The complete `.npl` file.
    pub text: String,
    pub table: CircuitTable,
    pub usage: Usage,
}

/// Why a machine cannot be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    Circuit(#[from] CircuitError),
    #[error("task `{0}` has no tape world; `synth extract` reads the program of an NRAM, which learns tape tasks")]
    NotTape(String),
    /// A sample run failed: the task's own reference, or the machine on it.
    #[error("running the machine on the task's sizes: {0}")]
    Run(String),
}

/// The sizes the sample runs use: the `learn` block's train and test sizes
/// up to `max_size` (1 to 10 when it names none), ascending.
fn sample_sizes(task: &Task, max_size: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = task.learn.train_sizes.iter().chain(&task.learn.test_sizes).copied().filter(|&s| s <= max_size).collect();
    if sizes.is_empty() {
        sizes = (1..=10).collect();
    }
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// How the discrete machine takes the table's branches on the sample runs.
fn usage(task: &Task, nram: &Nram, table: &CircuitTable, opts: &ExtractOptions) -> Result<(Usage, Vec<usize>), ExtractError> {
    let sizes = sample_sizes(task, opts.max_size);
    let mut tally = PatternTally::new(table.registers);
    let mut runner = Runner::new();
    let mut runs = 0;
    for &size in &sizes {
        for seed in 0..opts.seeds {
            let e = task.nram_example(size, seed).map_err(|e| ExtractError::Run(e.to_string()))?;
            runner.run_observed(nram, &e, &mut tally).map_err(ExtractError::Run)?;
            runs += 1;
        }
    }
    Ok((Usage::new(table, &tally, runs), sizes))
}

/// The sizes as `1..=3, 6, 50`: runs of consecutive sizes as ranges.
fn show_sizes(sizes: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sizes.len() {
        let mut j = i;
        while j + 1 < sizes.len() && sizes[j + 1] == sizes[j] + 1 {
            j += 1;
        }
        parts.push(if j > i + 1 { format!("{}..={}", sizes[i], sizes[j]) } else { (i..=j).map(|k| sizes[k].to_string()).collect::<Vec<_>>().join(", ") });
        i = j + 1;
    }
    parts.join(", ")
}

/// `text`'s words in lines of at most `width` characters (a longer word
/// gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The comment above the extracted program.
fn comment(table: &CircuitTable, usage: &Usage, sizes: &[usize], opts: &ExtractOptions) -> Vec<String> {
    let modules: Vec<&str> = table.modules.iter().map(|m| m.name()).collect();
    let met = usage.taken.iter().filter(|&&t| t > 0).count();
    let text = format!(
        "The discrete program of {about}, extracted by `synth extract`: every softmax replaced by its most likely choice, \
         halting when the halting logit is above 0. Its {r} registers (r0 to r{last}) start at 0; its modules are [{modules}]. \
         Its controller sees only which registers are 0, so each timestep runs the circuit of that zero pattern: \
         {patterns} patterns, {circuits} distinct circuits once the modules whose outputs reach no register or write are dropped. \
         A module's value is named after it and its place in the list (read0, inc4); arithmetic is modulo `cells`, as the machine's. \
         The world passes `cells` and `timesteps` (the learn block's, at each size; docs/npl.md, \"What a program sees\"). \
         Branches come in the order the machine first took them in {runs} sample runs (sizes {sizes}, {seeds} seeds each), \
         which took {met} of the {circuits} branches in {timesteps} timesteps.",
        about = opts.about,
        r = table.registers,
        last = table.registers - 1,
        modules = modules.join(", "),
        patterns = 1u64 << table.registers,
        circuits = table.branches.len(),
        runs = usage.runs,
        sizes = show_sizes(sizes),
        seeds = opts.seeds,
        timesteps = usage.timesteps,
    );
    wrap(&text, 77)
}

/// The source's text with the programs and `entry` items removed and
/// `program` put where the first program was (at the end if there was
/// none). A removed item takes with it the comment lines right above it
/// and the rest of its last line.
fn splice(text: &str, program: &str) -> String {
    let (file, _) = synth_dsl::parse(text);
    let mut cut: Vec<(usize, usize)> = Vec::new();
    for item in &file.items {
        if !matches!(item.kind, ItemKind::Program(_) | ItemKind::Entry(_)) {
            continue;
        }
        let (mut start, mut end) = (item.span.start as usize, item.span.end as usize);
        start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        while start > 0 {
            let prev = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
            if !text[prev..start].trim_start().starts_with("//") {
                break;
            }
            start = prev;
        }
        end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
        cut.push((start, end));
    }
    let mut out = String::with_capacity(text.len() + program.len());
    let mut at = 0;
    let mut placed = false;
    for (start, end) in cut {
        out.push_str(&text[at..start.max(at)]);
        if !placed {
            out.push_str(program);
            placed = true;
        }
        at = end.max(at);
    }
    out.push_str(&text[at..]);
    if !placed {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
        out.push_str(program);
    }
    // Removing items leaves runs of blank lines.
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

/// The program of `nram`, a machine trained on `task` (compiled from
/// `source`), as a complete `.npl` file.
pub fn extract(source: &Source, task: &Task, nram: &Nram, opts: &ExtractOptions) -> Result<Extracted, ExtractError> {
    if !task.is_tape() {
        return Err(ExtractError::NotTape(task.name.clone()));
    }
    let table = CircuitTable::new(nram)?;
    let (usage, sizes) = usage(task, nram, &table, opts)?;
    let program = induced::program(&table, &usage, &opts.name, &comment(&table, &usage, &sizes, opts));
    Ok(Extracted { text: splice(&source.text, &program), table, usage })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use synth_runtime::nram::{Layout, Module, NramConfig};

    fn stdlib(name: &str) -> (Source, Task) {
        let source = Source::load(name).unwrap();
        let task = crate::compile(&source).unwrap().task;
        (source, task)
    }

    /// Compiles an extracted file; `expect true` in place of the task's
    /// `expect` when the machine need not be right.
    fn compile_extracted(text: &str, keep_expect: bool) -> Task {
        let text = if keep_expect {
            text.to_string()
        } else {
            let start = text.find("\nexpect ").expect("an expect item") + 1;
            let end = start + text[start..].find('\n').unwrap();
            format!("{}expect true{}", &text[..start], &text[end..])
        };
        match synth_compiler::compile(&text, "extracted") {
            Ok(c) => c.task,
            Err(d) => panic!("{}\n{text}", synth_dsl::render_all(&d, "extracted.npl", &text)),
        }
    }

    /// The extracted program's final tape is the discrete machine's, cell
    /// for cell, on the same inputs.
    /// Returns how many runs changed the tape and how many timesteps they ran.
    fn assert_same(task: &Task, extracted: &Task, nram: &Nram, sizes: &[usize], seeds: u64) -> (usize, usize) {
        let mut runner = Runner::new();
        let (mut changed, mut steps) = (0, 0);
        for &size in sizes {
            for seed in 0..seeds {
                let e = task.tape_example(size, seed).unwrap();
                let ours = extracted.tape_example(size, seed).unwrap_or_else(|err| panic!("size {size}, seed {seed}: {err}"));
                assert_eq!(ours.input, e.input);
                assert_eq!(ours.timesteps, e.timesteps);
                let machine = runner.run(nram, &e).unwrap();
                assert!(ours.output == machine.tape, "size {size}, seed {seed}: the program's tape differs from the machine's");
                changed += (machine.tape != e.input) as usize;
                steps += machine.steps;
            }
        }
        (changed, steps)
    }

    /// A controller whose logits are `b3 + sum of W3's row i over the
    /// registers i that are zero`: the first R hidden units copy the
    /// input through both layers (identity weights, ReLU of 0 or 1).
    fn linear_controller(config: &NramConfig) -> Nram {
        let mut nram = Nram::new(config, 0);
        let l = nram.layout.clone();
        let (r, h) = (l.registers, l.hidden);
        nram.params.fill(0.0);
        for i in 0..r {
            nram.params[l.w1 + i * h + i] = 1.0;
            nram.params[l.w2 + i * h + i] = 1.0;
        }
        nram
    }

    /// The logit of choice `j` of module `k`'s input (`port` 0 for A).
    fn input_logit(l: &Layout, k: usize, port: usize, j: usize) -> usize {
        [l.a[k], l.b[k]][port].expect("the module takes this input") + j
    }

    /// The logit of choice `j` for register `i`'s new value.
    fn register_logit(l: &Layout, i: usize, j: usize) -> usize {
        l.c + i * (l.registers + l.q()) + j
    }

    /// Access, by hand, with the paper's fourteen modules and 2 registers.
    /// While r0 is 0 (the first timestep): read0 = mem[r0] is k, inc4 =
    /// k + 1 goes to r0, and write13 writes mem[r1] = read0, which is
    /// mem[0] = k (no change). Once r0 is not 0: read0 = mem[k + 1] =
    /// A[k], write13 puts it in mem[0], and the machine halts.
    fn access_machine() -> Nram {
        let config = NramConfig { registers: 2, hidden: 4, ..NramConfig::default() };
        let mut nram = linear_controller(&config);
        let l = nram.layout.clone();
        let (r, read0, inc4, write13) = (2, 0, 4, 13);
        let out = |k: usize| r + k;
        let mut bias = |at: usize, v: f32| nram.params[l.b3 + at] += v;
        bias(input_logit(&l, read0, 0, 0), 1.0);
        bias(input_logit(&l, inc4, 0, out(read0)), 1.0);
        bias(input_logit(&l, write13, 0, 1), 1.0);
        bias(input_logit(&l, write13, 1, out(read0)), 1.0);
        // r0 takes read0 (A[k]) once halting, inc4 while r0 is 0; r1 keeps
        // its value while r0 is 0 and takes r0 after.
        bias(register_logit(&l, 0, out(read0)), 1.0);
        bias(register_logit(&l, 1, 0), 1.0);
        bias(l.f, 1.0);
        let mut zero_r0 = |at: usize, v: f32| nram.params[l.w3 + at] += v;
        zero_r0(register_logit(&l, 0, out(inc4)), 2.0);
        zero_r0(register_logit(&l, 1, 1), 2.0);
        zero_r0(l.f, -2.0);
        nram
    }

    #[test]
    fn a_hand_built_access_machine_extracts_to_a_program_that_checks() {
        let (source, task) = stdlib("nram_access");
        let nram = access_machine();
        let x = extract(&source, &task, &nram, &ExtractOptions::default()).unwrap();
        // Two branches met, in order: r0 zero, then not.
        assert_eq!(x.table.branches.len(), 2);
        // Every sample run (4 seeds at each train and test size) takes each
        // branch once.
        let runs = 4 * (task.learn.train_sizes.len() + task.learn.test_sizes.len());
        let taken = format!("{runs} of {} timesteps", 2 * runs);
        assert!(x.text.contains(&format!("    if r0 == 0 {{\n      // branch 1: {taken}\n")), "{}", x.text);
        assert!(x.text.contains("      let inc4 = (read0 + 1) % cells\n      mem[r1] = read0\n      r0 = inc4\n"), "{}", x.text);
        assert!(x.text.contains(&format!("    }} else {{\n      // branch 0: {taken}\n")), "{}", x.text);
        assert!(x.text.contains("      r1 = r0\n      r0 = read0\n      return\n"), "{}", x.text);
        // The task's items stay, its reference goes.
        assert!(x.text.starts_with("// NRAM's Access") && x.text.contains("expect mem[0] == xs[k]") && x.text.contains("learn nram {"));
        assert!(!x.text.contains("ACCESS"), "{}", x.text);
        // `synth check` verifies it against `expect`, and it is the
        // machine, cell for cell, up to 1,000.
        let report = crate::check(&Source::from_text("extracted.npl", "extracted", x.text.clone()), &crate::CheckOptions::default());
        assert!(!report.has_errors() && report.diagnostics.is_empty(), "{}", report.render(&source));
        let extracted = compile_extracted(&x.text, true);
        assert_same(&task, &extracted, &nram, &[1, 2, 3, 7, 20, 100, 1000], 3);
    }

    /// Machines with random biases take many branches, halt at random and
    /// run every kind of module: the program still does what they do, on
    /// every cell.
    #[test]
    fn random_machines_extract_to_programs_that_do_what_they_do() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let configs = [
            NramConfig { registers: 4, hidden: 10, ..NramConfig::default() },
            NramConfig { registers: 3, hidden: 6, modules: vec![Module::Write, Module::Read, Module::Dec, Module::Sub, Module::Write, Module::Le, Module::Eq, Module::Max, Module::One, Module::Read], ..NramConfig::default() },
        ];
        let (source, task) = stdlib("nram_copy");
        let (mut branches, mut changed, mut steps) = (0, 0, 0);
        for config in &configs {
            for seed in 0..4 {
                let mut nram = Nram::new(config, seed);
                let l = nram.layout.clone();
                for range in [l.b1..l.w2, l.b2..l.w3, l.b3..l.params] {
                    for p in &mut nram.params[range] {
                        *p = rng.random_range(-0.5..0.5);
                    }
                }
                nram.params[l.b3 + l.f] = rng.random_range(-0.5..0.0);
                let x = extract(&source, &task, &nram, &ExtractOptions::default()).unwrap();
                branches += x.table.branches.len();
                let extracted = compile_extracted(&x.text, false);
                let (c, s) = assert_same(&task, &extracted, &nram, &[1, 2, 5, 13, 60, 400], 2);
                changed += c;
                steps += s;
            }
        }
        assert!(branches > 16 && changed > 40 && steps > 2000, "{branches} branches, {changed} runs changed the tape, {steps} timesteps");
    }

    #[test]
    fn splicing_keeps_every_item_but_the_programs() {
        let text = "// head\ntask t\n\nexpect x\n\n// the reference\n// in two lines\nprogram A {\n  B()\n}\nentry A\n\nprogram B {\n}\n\nlearn nram { timesteps: 1 }\n";
        assert_eq!(splice(text, "program X() {\n}\n"), "// head\ntask t\n\nexpect x\n\nprogram X() {\n}\n\nlearn nram { timesteps: 1 }\n");
        assert_eq!(splice("task t\n", "program X() {\n}\n"), "task t\n\nprogram X() {\n}\n");
        assert_eq!(show_sizes(&[1, 2, 3, 6, 7, 50]), "1..=3, 6, 7, 50");
        assert_eq!(wrap("a bb ccc dddddddd e", 6), ["a bb", "ccc", "dddddddd", "e"]);
    }
}
