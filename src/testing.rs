//! Snapshot tests of a task: the texts that pin what a task does, the
//! format of the files that hold them, and a one-line test for a user's own
//! `.npl` files.
//!
//! [`task_snapshots`] gives a task's views, each at a fixed size and seed:
//!
//! - a scratchpad task: `trace` (the reference's trace at size 3, seed 1, as
//!   `synth trace` prints it), `calls` (the call graph) and `ops` (the
//!   operation graphs);
//! - a tape task: `trace` (its memory writes at size 3, seed 1), `calls` and
//!   `ops` (the operations as NRAM modules);
//! - a table task: `example` (one instance at size 40, seed 1), `example_json`
//!   (one at size 5, seed 2, as JSON) and `latent` (every question's latent
//!   program).
//!
//! The same function feeds the stdlib's snapshot test (`tests/stdlib.rs`),
//! `synth test`, and [`assert_task_snapshots`], so the three pin the same
//! texts. A snapshot file is in insta's format ([`render_file`],
//! [`parse_file`]): a header between two `---` lines, then the text, so that
//! `cargo insta review` and `synth test` read each other's files.

use crate::check::{check, CheckOptions};
use crate::source::Source;
use std::path::{Path, PathBuf};
use synth_compiler::{RunError, Task};

/// Size and seed of the trace of a scratchpad or tape task.
pub const TRACE_SIZE: usize = 3;
pub const TRACE_SEED: u64 = 1;
/// Size and seed of a table task's example, as text.
pub const EXAMPLE_SIZE: usize = 40;
pub const EXAMPLE_SEED: u64 = 1;
/// Size and seed of a table task's example, as JSON.
pub const EXAMPLE_JSON_SIZE: usize = 5;
pub const EXAMPLE_JSON_SEED: u64 = 2;

/// One view of a task, as pinned text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// `trace`, `calls`, `ops`, `example`, `example_json` or `latent`.
    pub view: &'static str,
    /// The expression that computes it, kept in the file's header.
    pub expression: &'static str,
    pub text: String,
}

impl Snapshot {
    /// The snapshot's name for the task `stem`: `{stem}_{view}`.
    pub fn name(&self, stem: &str) -> String {
        format!("{stem}_{}", self.view)
    }
}

/// A task's snapshots, in a fixed order (see the module's documentation).
/// A reference run that fails at the snapshot's size and seed is an error
/// (the compiler's own `RunError`, returned unboxed as `Task::trace` does).
#[allow(clippy::result_large_err)]
pub fn task_snapshots(task: &Task) -> Result<Vec<Snapshot>, RunError> {
    let snap = |view, expression, text| Snapshot { view, expression, text };
    if task.is_table() {
        let example = task.table_example(EXAMPLE_SIZE, EXAMPLE_SEED)?;
        let json_example = task.table_example(EXAMPLE_JSON_SIZE, EXAMPLE_JSON_SEED)?;
        let json = serde_json::to_string_pretty(&json_example).expect("a table example serialises to JSON");
        let latent = synth_compiler::table::latent_programs_text(&task.latent_programs(), task.table_timesteps().unwrap_or(0));
        return Ok(vec![
            snap("example", "example.render(&task.name)", example.render(&task.name)),
            snap("example_json", "task.table_example(5, 2).unwrap()", json),
            snap("latent", "latent", latent),
        ]);
    }
    if task.is_tape() {
        let trace = task.tape_trace(TRACE_SIZE, TRACE_SEED)?;
        return Ok(vec![
            snap("trace", "task.render_tape_trace(&trace)", task.render_tape_trace(&trace)),
            snap("calls", "task.call_graph().to_text()", task.call_graph().to_text()),
            snap("ops", "task.op_graph().to_text_nram()", task.op_graph().to_text_nram()),
        ]);
    }
    let trace = task.trace(TRACE_SIZE, TRACE_SEED)?;
    Ok(vec![
        snap("trace", "task.render_trace(&trace)", task.render_trace(&trace)),
        snap("calls", "task.call_graph().to_text()", task.call_graph().to_text()),
        snap("ops", "task.op_graph().to_text()", task.op_graph().to_text()),
    ])
}

/// Checks `source` as `synth check` does, then computes its snapshots. On
/// failure, the text to show: the rendered diagnostics of the check, or the
/// failed reference run as a diagnostic on the source.
pub fn checked_snapshots(source: &Source) -> Result<Vec<Snapshot>, String> {
    let report = check(source, &CheckOptions::default());
    let task = match report.task.as_ref() {
        Some(task) if !report.has_errors() => task,
        _ => return Err(report.render(source)),
    };
    task_snapshots(task).map_err(|e| e.to_diagnostic().render(&source.display, &source.text))
}

/// The file that holds a user task's snapshot: `snapshots/{stem}__{view}.snap`
/// beside the task file.
pub fn snapshot_path(task_file: &Path, view: &str) -> PathBuf {
    let stem = task_file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    task_file.parent().unwrap_or(Path::new("")).join("snapshots").join(format!("{stem}__{view}.snap"))
}

/// Pins the snapshots of the task file at `path` (relative to the package's
/// manifest directory, as insta resolves paths; or absolute) with insta, in
/// `snapshots/{stem}__{view}.snap` beside the file: the files `synth test`
/// reads and writes. Panics when the task does not check clean (with its
/// diagnostics) or a snapshot differs (with insta's diff, leaving a pending
/// `.snap.new` for `cargo insta review`).
///
/// ```no_run
/// #[test]
/// fn my_task() {
///     synth::testing::assert_task_snapshots("tasks/my_task.npl");
/// }
/// ```
#[track_caller]
pub fn assert_task_snapshots(path: impl AsRef<Path>) {
    let path = path.as_ref();
    let base = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let file = base.join(path);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => panic!("cannot read `{}`: {e}", file.display()),
    };
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let source = Source::from_text(path.display().to_string(), stem.clone(), text);
    let snapshots = match checked_snapshots(&source) {
        Ok(s) => s,
        Err(report) => panic!("{report}"),
    };
    let dir = file.parent().unwrap_or(Path::new("")).join("snapshots");
    let named: Vec<(String, &str, &str)> = snapshots.iter().map(|s| (format!("{stem}__{}", s.view), s.expression, s.text.as_str())).collect();
    assert_snapshots_in(&dir, &named);
}

/// Asserts each `(name, expression, text)` with insta against
/// `{dir}/{name}.snap`, `dir` absolute. What [`assert_task_snapshots`] and
/// the stdlib's snapshot test share.
#[track_caller]
pub fn assert_snapshots_in(dir: &Path, snapshots: &[(String, &str, &str)]) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (name, expression, text) in snapshots {
            insta::assert_snapshot!(name.as_str(), text, expression);
        }
    });
}

/// A snapshot's text as it is compared: trailing whitespace trimmed and
/// `\r\n` read as `\n`, as insta compares.
pub fn normalize(text: &str) -> String {
    text.trim_end().replace("\r\n", "\n")
}

/// A snapshot file in insta's format: the header (`source` and `expression`,
/// quoted as insta quotes them), then the text and a newline.
pub fn render_file(source: &str, expression: &str, text: &str) -> String {
    format!("---\nsource: {}\nexpression: {}\n---\n{}\n", yaml_scalar(source), yaml_scalar(expression), normalize(text))
}

/// Why a snapshot file could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotFileError {
    #[error("not a snapshot file: the first line is not `---`")]
    NoHeader,
    #[error("not a snapshot file: the header that starts on line 1 has no closing `---`")]
    UnclosedHeader,
    #[error("the header is not `key: value` lines (line {line})")]
    BadHeader { line: usize },
}

/// The text of a snapshot file in insta's format, normalised
/// ([`normalize`]). Its header must be `key: value` lines (indented lines
/// continue the one before) between two `---` lines.
pub fn parse_file(file: &str) -> Result<String, SnapshotFileError> {
    let mut lines = file.split_inclusive('\n');
    match lines.next() {
        Some(first) if first.trim_end() == "---" => {}
        _ => return Err(SnapshotFileError::NoHeader),
    }
    let mut offset = file.split_inclusive('\n').next().map_or(0, str::len);
    let mut number = 1;
    for line in lines {
        number += 1;
        offset += line.len();
        let trimmed = line.trim_end();
        if trimmed == "---" {
            return Ok(normalize(&file[offset..]));
        }
        let continues = line.starts_with([' ', '\t']) && number > 2;
        if !continues && !trimmed.is_empty() && !trimmed.contains(':') {
            return Err(SnapshotFileError::BadHeader { line: number });
        }
    }
    Err(SnapshotFileError::UnclosedHeader)
}

/// A YAML scalar as insta's header writer gives it: plain when that reads
/// back as the same string, else double-quoted with escapes.
fn yaml_scalar(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@', '.'])
        || s.contains(|c: char| matches!(c, ':' | '{' | '}' | '[' | ']' | ',' | '#' | '`' | '"' | '\'' | '\\') || (c as u32) < 0x20 || c == '\x7f')
        || ["yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~"].contains(&s)
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok();
    if !needs_quotes {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A line diff of two snapshot texts, `-` for the old lines and `+` for the
/// new, with three lines of context, in unified format.
pub fn diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_round_trip() {
        let file = render_file("add.npl", "task.render_trace(&trace)", "ADD()\n  x\n\n");
        assert_eq!(file, "---\nsource: add.npl\nexpression: task.render_trace(&trace)\n---\nADD()\n  x\n");
        let quoted = render_file("../add.npl", "task.table_example(5, 2).unwrap()", "a");
        assert_eq!(quoted, "---\nsource: \"../add.npl\"\nexpression: \"task.table_example(5, 2).unwrap()\"\n---\na\n");
        assert_eq!(parse_file(&file).unwrap(), "ADD()\n  x");
        let plain = render_file("add.npl", "latent", "a");
        assert_eq!(plain, "---\nsource: add.npl\nexpression: latent\n---\na\n");
    }

    #[test]
    fn reads_insta_files() {
        let insta = "---\nsource: tests/stdlib.rs\nassertion_line: 12\nexpression: \"task.table_example(5, 2).unwrap()\"\ninfo:\n  a: 1\n---\n{\n  \"size\": 5\n}\n";
        assert_eq!(parse_file(insta).unwrap(), "{\n  \"size\": 5\n}");
        assert_eq!(parse_file("---\r\nsource: x\r\n---\r\na\r\nb\r\n").unwrap(), "a\nb");
    }

    #[test]
    fn malformed_files() {
        assert_eq!(parse_file(""), Err(SnapshotFileError::NoHeader));
        assert_eq!(parse_file("ADD()\n"), Err(SnapshotFileError::NoHeader));
        assert_eq!(parse_file("---\nsource: x\n"), Err(SnapshotFileError::UnclosedHeader));
        assert_eq!(parse_file("---\nsource x\n---\n"), Err(SnapshotFileError::BadHeader { line: 2 }));
    }
}
