//! `synth test` end to end, and `synth::testing::assert_task_snapshots`
//! reading the snapshot files it writes.

mod common;
use common::{stderr, stdout, synth};
use std::path::{Path, PathBuf};

/// The stdlib's increment, written into `dir` as `increment.npl`.
fn write_task(dir: &Path) -> PathBuf {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/increment.npl")).unwrap();
    let path = dir.join("increment.npl");
    std::fs::write(&path, src).unwrap();
    path
}

fn snaps(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir.join("snapshots")) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[test]
fn pending_accept_pass_then_diff() {
    let dir = common::scratch("test-cycle");
    let task = write_task(&dir);
    let d = dir.to_str().unwrap();

    // No snapshots yet: the file fails and the new ones are pending.
    let o = synth(&["test", d]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("increment.npl ... FAILED"), "{out}");
    assert!(out.contains("snapshots/increment__trace.snap` is missing"), "{out}");
    assert!(out.contains("test result: FAILED. 0 passed; 1 failed"), "{out}");
    assert_eq!(snaps(&dir), ["increment__calls.snap.new", "increment__ops.snap.new", "increment__trace.snap.new"]);

    // Accepted: written as `.snap`, the pending files gone.
    let o = synth(&["test", d, "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("increment.npl ... ok (3 snapshots written)"), "{}", stdout(&o));
    assert_eq!(snaps(&dir), ["increment__calls.snap", "increment__ops.snap", "increment__trace.snap"]);
    let trace = std::fs::read_to_string(dir.join("snapshots/increment__trace.snap")).unwrap();
    assert!(trace.starts_with("---\nsource: increment.npl\nexpression: task.render_trace(&trace)\n---\n// increment, size 3, seed 1:"), "{trace}");

    // Now it passes, with the same output every time.
    let o = synth(&["test", d]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let again = synth(&["test", d]);
    assert_eq!(stdout(&o), stdout(&again));
    assert!(stdout(&o).ends_with("test result: ok. 1 passed; 0 failed\n"), "{}", stdout(&o));

    // The files `synth test` wrote are what insta reads.
    synth::testing::assert_task_snapshots(&task);

    // A change to the trace: a diff, a pending file, exit 1.
    let src = std::fs::read_to_string(&task).unwrap();
    std::fs::write(&task, src.replace("FLIP", "TOGGLE")).unwrap();
    let o = synth(&["test", d]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("snapshots/increment__trace.snap` differs"), "{out}");
    assert!(out.contains("\n-  FLIP()                p=1]\n+  TOGGLE()              p=1]\n"), "{out}");
    assert!(dir.join("snapshots/increment__trace.snap.new").exists());
    // insta sees the same change.
    let task2 = task.clone();
    let caught = std::panic::catch_unwind(move || synth::testing::assert_task_snapshots(&task2));
    assert!(caught.is_err(), "insta should fail on the changed trace");

    // Accepting again brings it back to passing.
    let o = synth(&["test", d, "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(snaps(&dir), ["increment__calls.snap", "increment__ops.snap", "increment__trace.snap"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn npl_error_fails_with_its_diagnostic() {
    let dir = common::scratch("test-broken");
    write_task(&dir);
    let src = "task broken\nworld scratchpad(rows: 1, cols: n, base: 10) {\n  pointer p on row 0 at left\n}\nprogram MAIN {\n  NOPE()\n}\n";
    std::fs::write(dir.join("broken.npl"), src).unwrap();
    let o = synth(&["test", dir.to_str().unwrap(), "--accept"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("broken.npl ... FAILED"), "{out}");
    assert!(out.contains("increment.npl ... ok"), "{out}");
    assert!(out.contains("error: unknown program `NOPE`"), "{out}");
    assert!(out.contains("broken.npl:6:3"), "{out}");
    assert!(out.contains("test result: FAILED. 1 passed; 1 failed"), "{out}");
    assert_eq!(snaps(&dir), ["increment__calls.snap", "increment__ops.snap", "increment__trace.snap"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn walks_directories_and_reports_bad_input() {
    let dir = common::scratch("test-walk");
    for sub in ["a", "a/b", "target", ".hidden"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    write_task(&dir.join("a/b"));
    write_task(&dir.join("target"));
    write_task(&dir.join(".hidden"));
    let o = synth(&["test", dir.to_str().unwrap(), "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("running 1 task\n"), "{}", stdout(&o));
    assert!(stdout(&o).contains("a/b/increment.npl ... ok"), "{}", stdout(&o));

    // A malformed snapshot file: a clear message, exit 1.
    std::fs::write(dir.join("a/b/snapshots/increment__calls.snap"), "entry INCREMENT\n").unwrap();
    let o = synth(&["test", dir.join("a").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("increment__calls.snap` cannot be read: not a snapshot file"), "{}", stdout(&o));

    // A path that does not exist is a usage error.
    let o = synth(&["test", dir.join("nope").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("no file or directory"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Files insta wrote (the stdlib's snapshots) pass `synth test`.
#[test]
fn reads_files_insta_wrote() {
    let dir = common::scratch("test-insta");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.join("snapshots")).unwrap();
    for (stem, views) in [("add", &["trace", "calls", "ops"][..]), ("nram_access", &["trace", "calls", "ops"][..]), ("tableqa", &["example", "example_json", "latent"][..])] {
        std::fs::copy(root.join(format!("stdlib/{stem}.npl")), dir.join(format!("{stem}.npl"))).unwrap();
        for view in views {
            std::fs::copy(root.join(format!("tests/snapshots/stdlib__{stem}_{view}.snap")), dir.join(format!("snapshots/{stem}__{view}.snap"))).unwrap();
        }
    }
    let o = synth(&["test", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).ends_with("test result: ok. 3 passed; 0 failed\n"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
