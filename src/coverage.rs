//! The coverage of a task's training traces as `synth check` and `synth
//! learn` print it: a warning on the `learn` block's `traces` when the
//! traces miss decision cases the reference meets, a one-line note when they
//! hold them all. The counting is `synth_runtime::npi::coverage`.

use crate::source::Source;
use synth_compiler::Task;
use synth_dsl::ast::ItemKind;
use synth_dsl::{Diagnostic, Span};
use synth_runtime::npi::{Coverage, TrainConfig};

/// Missing cases listed per program; the rest are counted.
const SHOWN: usize = 6;

/// The warning for a coverage with missing cases (`None` when complete),
/// pointing at the `traces` setting when `at_traces` (the traces counted
/// are the file's, not a command-line override).
pub fn coverage_warning(source: &Source, coverage: &Coverage, at_traces: bool) -> Option<Diagnostic> {
    if coverage.complete() {
        return None;
    }
    let mut d = Diagnostic::warning(coverage.headline());
    if at_traces {
        if let Some(span) = traces_span(&source.text) {
            d = d.at_labelled(span, "too few traces to show every case");
        }
    }
    for line in coverage.details(SHOWN) {
        d = d.hint(line);
    }
    Some(d)
}

/// The note for a coverage with no missing case.
pub fn coverage_note(coverage: &Coverage) -> String {
    format!("coverage: {}", coverage.headline())
}

/// The coverage of the training set the file's `learn` block asks for, when
/// it trains an NPI with valid settings (a bad setting is `synth learn`'s
/// to report).
pub fn learn_block_coverage(task: &Task) -> Option<Result<Coverage, synth_runtime::TaskError>> {
    if task.learn.learner != "npi" {
        return None;
    }
    let (model, cfg): (_, TrainConfig) = synth_runtime::npi::settings(&task.learn).ok()?;
    if cfg.traces == 0 || cfg.train_sizes.is_empty() {
        return None;
    }
    Some(synth_runtime::npi::coverage(task, &model, &cfg))
}

/// The `traces` clause of the `learn` block, else the block's first line.
fn traces_span(src: &str) -> Option<Span> {
    let (file, _) = synth_dsl::parse(src);
    let learn = file.items.iter().find_map(|i| match &i.kind {
        ItemKind::Learn(l) => Some(l),
        _ => None,
    })?;
    let clauses = learn.lines.iter().flat_map(|l| l.clauses.iter());
    clauses.clone().find(|c| c.words.len() == 1 && c.words[0].name == "traces").map(|c| c.span).or_else(|| learn.lines.first().map(|l| l.span))
}
