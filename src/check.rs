//! `synth check`: parse, compile, lint, then run the reference programs on
//! sampled inputs at several sizes and verify `expect` (for a tape task,
//! build its input/output pairs, `timesteps` included), and warn when the
//! `learn` block's traces miss decision cases (`crate::coverage`). The same
//! function renders the snapshot of every `tests/ui` case, so what the tests
//! pin is exactly what a user sees.

use crate::source::Source;
use synth_compiler::Task;
use synth_dsl::{render_all, Diagnostic};

/// Which sizes and seeds the reference programs are run on.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Sizes always tried, besides the `learn` block's train and test sizes.
    pub sizes: Vec<usize>,
    /// Seeds `0..seeds` at every size.
    pub seeds: u64,
    /// Sizes above this are skipped (the learn block may test at thousands).
    pub max_size: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { sizes: vec![1, 2, 3, 4, 5, 8], seeds: 4, max_size: 1000 }
    }
}

/// What `check` found.
pub struct CheckReport {
    /// Errors first, then warnings, each group in source order.
    pub diagnostics: Vec<Diagnostic>,
    pub task: Option<Task>,
    /// `(size, runs)` of the reference runs that passed.
    pub runs: Vec<(usize, u64)>,
}

impl CheckReport {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }

    /// The diagnostics and a one-line summary, as `synth check` prints them.
    pub fn render(&self, source: &Source) -> String {
        let mut out = render_all(&self.diagnostics, &source.display, &source.text);
        let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = self.diagnostics.len() - errors;
        if !out.is_empty() {
            out.push('\n');
        }
        if errors > 0 {
            out.push_str(&format!("{}: {} error{}, {} warning{}\n", source.display, errors, plural(errors), warnings, plural(warnings)));
        } else {
            let total: u64 = self.runs.iter().map(|(_, r)| r).sum();
            let sizes: Vec<String> = self.runs.iter().map(|(s, _)| s.to_string()).collect();
            let what = if self.task.as_ref().is_some_and(|t| t.is_table()) {
                "every question drawn has an exact answer on"
            } else {
                "the reference satisfies `expect` on"
            };
            out.push_str(&format!(
                "{}: ok, {} warning{}; {what} {} inputs (sizes {})\n",
                source.display,
                warnings,
                plural(warnings),
                total,
                sizes.join(", ")
            ));
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Parses, compiles and lints `source`, then runs the reference programs.
pub fn check(source: &Source, opts: &CheckOptions) -> CheckReport {
    let compiled = match crate::compile(source) {
        Ok(c) => c,
        Err(diagnostics) => return CheckReport { diagnostics: sorted(diagnostics), task: None, runs: Vec::new() },
    };
    let task = compiled.task;
    let mut diagnostics = compiled.warnings;
    // The ranges and forms the compiler leaves to the learner (`lr 100`,
    // a `start` circuit naming a module the list does not have), refused
    // here as `synth learn` would refuse them.
    if let Some(e) = learner_settings_error(&task) {
        diagnostics.push(Diagnostic::error(format!("in the learn block: {e}")).hint("`synth learn` would refuse this before training"));
    }

    let mut sizes: Vec<usize> = opts.sizes.clone();
    sizes.extend(task.learn.train_sizes.iter().copied());
    sizes.extend(task.learn.test_sizes.iter().copied());
    sizes.retain(|&s| s <= opts.max_size);
    sizes.sort_unstable();
    sizes.dedup();

    let mut runs = Vec::new();
    'sizes: for &size in &sizes {
        // Big inputs take longer; two seeds are enough to catch a crash there.
        let seeds = if size > 100 { opts.seeds.min(2) } else { opts.seeds };
        for seed in 0..seeds {
            // A tape task's reference run is an input/output pair, with the
            // `learn nram` block's `timesteps` evaluated at this size.
            // A table task's is a question drawn on a table, answered exactly.
            let run = task.run_reference(size, seed);
            if let Err(e) = run {
                diagnostics.push(e.to_diagnostic());
                break 'sizes;
            }
        }
        runs.push((size, seeds));
    }
    // Whether the learn block's traces show every decision case.
    if !diagnostics.iter().any(|d| d.is_error()) {
        match crate::coverage::learn_block_coverage(&task) {
            Some(Ok(c)) => diagnostics.extend(crate::coverage::coverage_warning(source, &c, true)),
            Some(Err(e)) => diagnostics.push(Diagnostic::error(format!("a reference run failed while counting the decision cases of the training traces: {e}"))),
            None => {}
        }
    }
    CheckReport { diagnostics: sorted(diagnostics), task: Some(task), runs }
}

/// What the task's learner finds wrong with its `learn` block's
/// settings, for the learners that read them from the block alone.
fn learner_settings_error(task: &Task) -> Option<String> {
    use synth_runtime::{np, npi, nram};
    match task.learn.learner.as_str() {
        "npi" => npi::settings(&task.learn).err().map(|e| e.to_string()),
        "nram" => nram::settings(task, &task.learn).err().map(|e| e.to_string()),
        "np" => np::settings(task, &task.learn).err().map(|e| e.to_string()),
        _ => None,
    }
}

fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| (!d.is_error(), d.span.map(|s| s.start)));
    diags
}
