//! The plots a run directory holds: `loss.svg` and `validation.svg` from the
//! training history, `accuracy.svg` from the final generalisation table.
//! Each is a pure function of what it plots, so tests render them from
//! synthetic data; [`super::plot`] draws them.

use super::plot::{self, Chart, Scale, Series};
use synth_runtime::npi::{EvalReport, ValidationReport};

/// The training loss: `(step, mean loss)` points, on a log axis when it
/// falls by decades (as it does when a task is learned).
pub fn loss(losses: &[(f64, f64)]) -> String {
    plot::svg(
        &Chart {
            title: "training loss",
            x_label: "step",
            y_label: "loss (mean over 10 steps)",
            x_scale: Scale::Linear,
            y_scale: Scale::Auto,
            y_range: None,
        },
        &[Series { name: "loss", points: losses.to_vec() }],
    )
}

/// Closed-loop exact match per validation size and teacher-forced frame
/// accuracy, against the step (`offset` steps were taken before these).
pub fn validation(validations: &[ValidationReport], offset: u64) -> String {
    // One line per size, or per task and size for a model of several tasks,
    // in the order they first appear.
    let mut keys: Vec<(Option<String>, usize)> = Vec::new();
    for s in validations.iter().flat_map(|v| &v.scores) {
        if !keys.iter().any(|(t, n)| *t == s.task && *n == s.size) {
            keys.push((s.task.clone(), s.size));
        }
    }
    if keys.iter().all(|(t, _)| t.is_none()) {
        keys.sort_by_key(|k| k.1);
    }
    let names: Vec<String> = keys
        .iter()
        .map(|(t, n)| match t {
            Some(t) => format!("{t}, n={n}"),
            None => format!("closed loop, n={n}"),
        })
        .collect();
    let mut series: Vec<Series> = keys
        .iter()
        .zip(&names)
        .map(|((task, size), name)| Series {
            name,
            points: validations
                .iter()
                .filter_map(|v| {
                    v.scores.iter().find(|s| s.size == *size && s.task == *task).map(|s| ((v.step + offset) as f64, s.exact as f64 / s.count.max(1) as f64))
                })
                .collect(),
        })
        .collect();
    series.push(Series {
        name: "frames right (teacher forced)",
        points: validations.iter().map(|v| ((v.step + offset) as f64, v.frame_accuracy)).collect(),
    });
    plot::svg(
        &Chart { title: "validation", x_label: "step", y_label: "accuracy", x_scale: Scale::Linear, y_scale: Scale::Linear, y_range: Some((0.0, 1.0)) },
        &series,
    )
}

/// Exact match against input size, from the final table; sizes on a log
/// axis (test sizes grow geometrically: 20, 100, 1000).
pub fn accuracy(report: &EvalReport) -> String {
    plot::svg(
        &Chart {
            title: &format!("{}: exact match against input size", report.task),
            x_label: "input size",
            y_label: "exact match",
            x_scale: Scale::Log,
            y_scale: Scale::Linear,
            y_range: Some((0.0, 1.0)),
        },
        &[Series { name: &report.learner, points: report.results.iter().map(|r| (r.size as f64, r.accuracy)).collect() }],
    )
}

/// The training loss of NRAM or the Neural Programmer, one series per
/// seed.
pub fn seed_loss(per_seed: &[(u64, Vec<(f64, f64)>)]) -> String {
    let names: Vec<String> = per_seed.iter().map(|(s, _)| format!("seed {s}")).collect();
    let series: Vec<Series> = per_seed.iter().zip(&names).map(|((_, points), name)| Series { name, points: points.clone() }).collect();
    plot::svg(
        &Chart { title: "training loss", x_label: "step", y_label: "loss (mean over 10 steps)", x_scale: Scale::Linear, y_scale: Scale::Auto, y_range: None },
        &series,
    )
}

/// One `(step, value)` series per seed, in seed order.
fn per_seed<T>(items: &[T], seed: impl Fn(&T) -> u64, point: impl Fn(&T) -> (f64, f64)) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut seeds: Vec<u64> = items.iter().map(&seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    seeds.iter().map(|&s| (format!("seed {s}"), items.iter().filter(|v| seed(v) == s).map(&point).collect())).collect()
}

/// A validation figure against the step, one series per seed, on `[0, 1]`.
fn per_seed_chart(title: &str, y_label: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    let series: Vec<Series> = series.iter().map(|(name, points)| Series { name, points: points.clone() }).collect();
    plot::svg(&Chart { title, x_label: "step", y_label, x_scale: Scale::Linear, y_scale: Scale::Linear, y_range: Some((0.0, 1.0)) }, &series)
}

/// NRAM's validation error (wrong graded cells over graded cells, every
/// training size) against the step, one series per seed.
pub fn nram_validation(validations: &[synth_runtime::nram::ValidationReport]) -> String {
    per_seed_chart("validation error (graded cells)", "error", &per_seed(validations, |v| v.seed, |v| (v.step as f64, v.error())))
}

/// NRAM's exact match against input size, the fuzzy machine (where it was
/// scored) beside the discrete one.
pub fn nram_accuracy(report: &synth_runtime::nram::EvalReport) -> String {
    let fuzzy: Vec<(f64, f64)> = report.results.iter().filter_map(|r| r.fuzzy_accuracy.map(|a| (r.size as f64, a))).collect();
    let discrete: Vec<(f64, f64)> = report.results.iter().map(|r| (r.size as f64, r.discrete_accuracy)).collect();
    plot::svg(
        &Chart {
            title: &format!("{}: exact match against input size", report.task),
            x_label: "input size",
            y_label: "exact match",
            x_scale: Scale::Log,
            y_scale: Scale::Linear,
            y_range: Some((0.0, 1.0)),
        },
        &[Series { name: "discrete", points: discrete }, Series { name: "fuzzy", points: fuzzy }],
    )
}

/// The Neural Programmer's validation: the share of right answers against
/// the step, one series per seed.
pub fn np_validation(validations: &[synth_runtime::np::ValidationReport]) -> String {
    per_seed_chart("validation: answers right", "accuracy", &per_seed(validations, |v| v.seed, |v| (v.step as f64, v.accuracy())))
}

/// The Neural Programmer's answer and program accuracy against table
/// size (rows).
pub fn np_accuracy(report: &synth_runtime::np::EvalReport) -> String {
    let answers: Vec<(f64, f64)> = report.results.iter().map(|r| (r.size as f64, r.accuracy)).collect();
    let programs: Vec<(f64, f64)> = report.results.iter().map(|r| (r.size as f64, r.program_accuracy)).collect();
    plot::svg(
        &Chart {
            title: &format!("{}: accuracy against table rows", report.task),
            x_label: "rows",
            y_label: "accuracy",
            x_scale: Scale::Log,
            y_scale: Scale::Linear,
            y_range: Some((0.0, 1.0)),
        },
        &[Series { name: "answers right", points: answers }, Series { name: "programs equivalent to the latent one", points: programs }],
    )
}

/// The validation of a learner trained on pairs (seq2seq, the NTM): exact
/// outputs per validation size and the share of right output cells,
/// against the step.
pub fn pairs_validation(validations: &[synth_runtime::seq2seq::ValidationReport]) -> String {
    let mut sizes: Vec<usize> = validations.iter().flat_map(|v| v.scores.iter().map(|s| s.size)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut named: Vec<(String, Vec<(f64, f64)>)> = sizes
        .iter()
        .map(|&n| {
            let points = validations.iter().filter_map(|v| v.scores.iter().find(|s| s.size == n).map(|s| (v.step as f64, s.exact as f64 / s.count.max(1) as f64))).collect();
            (format!("exact, n={n}"), points)
        })
        .collect();
    let cells = |v: &synth_runtime::seq2seq::ValidationReport| {
        let (right, all) = v.scores.iter().fold((0, 0), |(r, a), s| (r + s.cells_right, a + s.cells));
        right as f64 / all.max(1) as f64
    };
    named.push(("output cells right".into(), validations.iter().map(|v| (v.step as f64, cells(v))).collect()));
    per_seed_chart("validation (most likely outputs)", "accuracy", &named)
}

/// The exact match and right output cells of a learner trained on pairs
/// (seq2seq, the NTM) against input size.
pub fn pairs_accuracy(report: &synth_runtime::seq2seq::EvalReport) -> String {
    let exact: Vec<(f64, f64)> = report.results.iter().map(|r| (r.size as f64, r.accuracy)).collect();
    let cells: Vec<(f64, f64)> = report.results.iter().map(|r| (r.size as f64, r.cell_accuracy)).collect();
    plot::svg(
        &Chart {
            title: &format!("{}: {} against input size", report.task, report.learner),
            x_label: "input size",
            y_label: "accuracy",
            x_scale: Scale::Log,
            y_scale: Scale::Linear,
            y_range: Some((0.0, 1.0)),
        },
        &[Series { name: "exact outputs", points: exact }, Series { name: "output cells right", points: cells }],
    )
}
