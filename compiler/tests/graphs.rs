//! Snapshots of the call graph and the operation graphs of the standard
//! library, and of the learnability lint over `tests/ui/lint/*.npl`.
//!
//! Every suite goes through one `check_*` function that is the only caller of
//! the API under test. A stdlib file must lint clean; a ui file must produce
//! at least one warning, and its snapshot holds the source and the rendered
//! warnings together.

use std::path::{Path, PathBuf};
use synth_compiler::builtins::WorldKind;
use synth_compiler::lint::lint;
use synth_compiler::Task;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
}

/// Compiles a file of the repository; it must have no error.
fn compile(rel: &str) -> (Task, String) {
    let path = root().join(rel);
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stem = Path::new(rel).file_stem().and_then(|s| s.to_str()).unwrap_or("task");
    match synth_compiler::compile(&src, stem) {
        Ok(c) => (c.task, src),
        Err(diags) => panic!("{}", synth_dsl::render_all(&diags, rel, &src)),
    }
}

/// The call graph's text, the operation graphs' text, and both DOT forms.
fn check_graphs(rel: &str) -> (String, String, String) {
    let (task, _) = compile(rel);
    let (calls, ops) = (task.call_graph(), task.op_graph());
    let dot = format!("{}\n{}", calls.to_dot(), ops.to_dot());
    (calls.to_text(), ops.to_text(), dot)
}

/// The file's source, then its lint warnings rendered.
fn check_lint(rel: &str) -> (usize, String) {
    let (task, src) = compile(rel);
    let diags = lint(task.op_graph(), task.call_graph(), task.world());
    let name = Path::new(rel).file_name().and_then(|n| n.to_str()).unwrap_or(rel);
    (diags.len(), format!("{src}\n---\n{}", synth_dsl::render_all(&diags, name, &src)))
}

#[test]
fn add_graphs() {
    let (calls, ops, dot) = check_graphs("stdlib/add.npl");
    insta::assert_snapshot!("add_calls", calls);
    insta::assert_snapshot!("add_ops", ops);
    insta::assert_snapshot!("add_dot", dot);
}

#[test]
fn bubblesort_graphs() {
    let (calls, ops, dot) = check_graphs("stdlib/bubblesort.npl");
    insta::assert_snapshot!("bubblesort_calls", calls);
    insta::assert_snapshot!("bubblesort_ops", ops);
    insta::assert_snapshot!("bubblesort_dot", dot);
}

fn npl_files(rel_dir: &str) -> Vec<String> {
    let dir = root().join(rel_dir);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npl"))
        .map(|n| format!("{rel_dir}/{n}"))
        .collect();
    files.sort();
    files
}

#[test]
fn stdlib_lints_clean() {
    let files = npl_files("stdlib");
    assert!(!files.is_empty());
    for rel in files {
        let (count, text) = check_lint(&rel);
        assert_eq!(count, 0, "{rel} should produce no warning:\n{text}");
    }
}

#[test]
fn ui_lint_cases_warn() {
    let files = npl_files("tests/ui/lint");
    assert!(files.len() >= 5, "expected at least five lint cases, found {files:?}");
    for rel in files {
        let (count, text) = check_lint(&rel);
        assert!(count > 0, "{rel} should produce at least one warning:\n{text}");
        let stem = Path::new(&rel).file_stem().and_then(|s| s.to_str()).unwrap_or("case").to_string();
        insta::assert_snapshot!(format!("lint_{stem}"), text);
    }
}

#[test]
fn recursive_addition_shares_a_level_with_its_cycle() {
    let (task, _) = compile("stdlib/add_recursive.npl");
    let calls = task.call_graph();
    assert_eq!(calls.levels(), vec![("ADD", 3), ("ADD1", 2), ("CARRY", 1), ("LSHIFT", 1)]);
    assert!(calls.is_recursive("ADD"));
    assert!(!calls.is_recursive("ADD1"));
    assert_eq!(calls.curriculum_order(), vec!["CARRY", "LSHIFT", "ADD1", "ADD"]);
    assert!(calls.to_text().contains("ADD    (level 3, recursive) -> ADD1, LSHIFT, ADD\n"), "{}", calls.to_text());
}

/// Files cut short after any line or open parenthesis (so with syntax
/// errors, and the partial trees the parser recovers) compile or fail
/// without panicking, and when they compile, their graphs print and lint.
#[test]
fn partial_files_never_panic() {
    for rel in npl_files("stdlib").into_iter().chain(npl_files("tests/ui/lint")) {
        let src = std::fs::read_to_string(root().join(&rel)).expect("readable");
        let cuts = src.match_indices('\n').map(|(i, _)| i).chain(src.match_indices('(').map(|(i, _)| i + 1));
        for cut in cuts {
            let Ok(c) = synth_compiler::compile(&src[..cut], "cut") else { continue };
            let (calls, ops) = (c.task.call_graph(), c.task.op_graph());
            let _ = (calls.to_text(), calls.to_dot(), calls.curriculum_order(), ops.to_text(), ops.to_dot());
            let _ = lint(ops, calls, WorldKind::Scratchpad);
        }
    }
}
