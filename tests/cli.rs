//! The `synth` binary end to end: exit codes, what goes to stdout and stderr.

mod common;
use common::{stderr, stdout, synth};


#[test]
fn check_stdlib_task_by_name() {
    let o = synth(&["check", "add"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("stdlib/add.npl: ok"), "{}", stdout(&o));
}

#[test]
fn check_file_path() {
    let o = synth(&["check", "stdlib/bubblesort.npl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn check_reports_errors_with_exit_1() {
    let dir = common::scratch("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.npl");
    let src = "task broken\nworld scratchpad(rows: 1, cols: n, base: 10) {\n  pointer p on row 0 at left\n}\nprogram MAIN {\n  NOPE()\n}\n";
    std::fs::write(&path, src).unwrap();
    let o = synth(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("error"), "{err}");
    assert!(err.contains("broken.npl:6:3"), "{err}");
}

#[test]
fn unknown_task_is_a_clear_error() {
    let o = synth(&["check", "no_such_task"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no task `no_such_task`"), "{}", stderr(&o));
    let o = synth(&["check", "missing/file.npl"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no task file"), "{}", stderr(&o));
}

#[test]
fn bad_flag_is_a_usage_error() {
    let o = synth(&["trace", "add", "--size", "many"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn trace_text_and_json() {
    let o = synth(&["trace", "add", "--size", "3", "--seed", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.lines().find(|l| !l.starts_with("//")).unwrap().starts_with("ADD()"), "{text}");
    assert!(text.contains("ACT(write, out,"), "{text}");

    let o = synth(&["trace", "add", "--size", "3", "--seed", "1", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.is_object());
}

#[test]
fn same_seed_same_trace() {
    let a = stdout(&synth(&["trace", "bubblesort", "--size", "6", "--seed", "9"]));
    let b = stdout(&synth(&["trace", "bubblesort", "--size", "6", "--seed", "9"]));
    assert_eq!(a, b);
    let c = stdout(&synth(&["trace", "bubblesort", "--size", "6", "--seed", "10"]));
    assert_ne!(a, c);
}

#[test]
fn graphs() {
    let o = synth(&["graph", "add", "--format", "dot"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("digraph"), "{}", stdout(&o));
    let o = synth(&["graph", "add", "--ops"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ADD1"), "{}", stdout(&o));
}

/// A tape task: `synth trace` shows its memory writes (text and JSON, the
/// same for the same seed), `synth graph --ops` its NRAM modules, and
/// `synth check` runs its input/output pairs.
#[test]
fn tape_tasks() {
    let o = synth(&["trace", "nram_copy", "--size", "3", "--seed", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("COPY  mem[4] = "), "{text}");
    assert_eq!(text, stdout(&synth(&["trace", "nram_copy", "--size", "3", "--seed", "1"])));

    let o = synth(&["trace", "nram_copy", "--size", "3", "--seed", "1", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cells"], 8);
    assert_eq!(v["graded"], serde_json::json!([4, 5, 6]));
    assert_eq!(v["writes"].as_array().map(Vec::len), Some(3));

    let o = synth(&["graph", "nram_copy", "--ops"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("nram modules: read, zero, one, inc, add, dec, lt, write"), "{}", stdout(&o));
    let o = synth(&["graph", "nram_copy", "--ops", "--format", "dot"]);
    assert!(stdout(&o).contains("[write]"), "{}", stdout(&o));

    let o = synth(&["check", "nram_copy"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A table task: `synth trace` prints an instance (text, stable; JSON with
/// the table, tokens, answer and latent program), `synth graph` its latent
/// programs, `synth check` answers questions at every size, and `synth
/// learn` refuses the learner that does not exist yet.
#[test]
fn table_tasks() {
    let o = synth(&["trace", "tableqa", "--size", "40", "--seed", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("table (40 rows)") && text.contains("rows not shown") && text.contains("latent program"), "{text}");
    assert_eq!(text, stdout(&synth(&["trace", "tableqa", "--size", "40", "--seed", "1"])));

    let o = synth(&["trace", "tableqa", "--size", "6", "--seed", "3", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 6);
    assert_eq!(v["columns"].as_array().map(Vec::len), Some(4));
    assert!(v["tokens"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(v["program"].as_array().is_some_and(|p| !p.is_empty()));
    assert!(v["answer"]["kind"] == "scalar" || v["answer"]["kind"] == "lookup", "{v}");

    let o = synth(&["graph", "tableqa_sales", "--ops"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("word_match product {p}"), "{}", stdout(&o));
    let o = synth(&["graph", "tableqa", "--format", "dot"]);
    assert!(stdout(&o).starts_with("digraph latent"), "{}", stdout(&o));

    let o = synth(&["check", "tableqa_sales"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("every question drawn has an exact answer"), "{}", stdout(&o));

}

/// `synth trace ... | head`: a reader that stops early ends synth quietly.
#[cfg(unix)]
#[test]
fn closed_stdout_is_not_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(["trace", "add", "--size", "3000"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
