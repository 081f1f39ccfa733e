//! `synth test`: snapshot tests of task files. Each file is checked as
//! `synth check` does, then its views ([`synth::testing::task_snapshots`])
//! are compared with `snapshots/{stem}__{view}.snap` beside it, files in
//! insta's format that `cargo insta review` reads too. A snapshot that is
//! missing or differs is written as `.snap.new` and fails the file, unless
//! `--accept` writes it as `.snap`.

use super::failure::Failure;
use anyhow::anyhow;
use clap::Args;
use std::path::{Path, PathBuf};
use synth::testing::{checked_snapshots, diff, normalize, parse_file, render_file, snapshot_path};
use synth::Source;

#[derive(Args)]
pub struct TestArgs {
    /// `.npl` files, or directories searched recursively for them (skipping
    /// `target/` and hidden directories). The current directory if none.
    paths: Vec<PathBuf>,
    /// Write the snapshots that are missing or differ as `.snap` (removing
    /// their `.snap.new`) instead of failing.
    #[arg(long)]
    accept: bool,
}

pub fn run(a: TestArgs) -> Result<(), Failure> {
    let roots = if a.paths.is_empty() { vec![PathBuf::from(".")] } else { a.paths };
    let mut files = Vec::new();
    for root in &roots {
        collect(root, &mut files)?;
    }
    let mut seen = std::collections::BTreeSet::new();
    files.retain(|f| seen.insert(f.clone()));

    println!("running {} task{}", files.len(), plural(files.len()));
    let mut failed: Vec<(String, String)> = Vec::new();
    let mut pending = false;
    for file in &files {
        let shown = shown_path(file);
        match test_file(file, &shown, a.accept) {
            Ok(0) => println!("test {shown} ... ok"),
            Ok(n) => println!("test {shown} ... ok ({n} snapshot{} written)", plural(n)),
            Err(e) => {
                println!("test {shown} ... FAILED");
                pending |= e.pending;
                failed.push((shown, e.text));
            }
        }
    }
    let passed = files.len() - failed.len();
    if !failed.is_empty() {
        println!("\nfailures:\n");
        for (shown, text) in &failed {
            println!("---- {shown} ----");
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            println!();
        }
        println!("failures:");
        for (shown, _) in &failed {
            println!("    {shown}");
        }
        if pending {
            println!("\nthe new snapshots are in `.snap.new` files: accept them all with `synth test --accept`, or review them with `cargo insta review`");
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {} failed", failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

/// Why a file failed: the text to show, and whether it wrote a `.snap.new`.
struct FileFailure {
    text: String,
    pending: bool,
}

impl From<String> for FileFailure {
    fn from(text: String) -> Self {
        FileFailure { text, pending: false }
    }
}

/// Checks one file and compares (or, with `accept`, writes) its snapshots.
/// Gives the number of `.snap` files written.
fn test_file(file: &Path, shown: &str, accept: bool) -> Result<usize, FileFailure> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read `{shown}`: {e}\n"))?;
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let source = Source::from_text(shown, stem, text);
    let snapshots = checked_snapshots(&source)?;
    // The header's `source`: the task file, as named beside its snapshots.
    let source_name = file.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();

    let mut problems = String::new();
    let mut pending = false;
    let mut written = 0;
    for snap in &snapshots {
        let path = snapshot_path(file, snap.view);
        let new_path = path.with_extension("snap.new");
        let (path_shown, new_shown) = (shown_path(&path), shown_path(&new_path));
        let new = normalize(&snap.text);
        let old = match std::fs::read_to_string(&path) {
            Ok(t) => match parse_file(&t) {
                Ok(old) => Some(old),
                Err(_) if accept => None,
                Err(e) => {
                    problems.push_str(&format!("snapshot `{path_shown}` cannot be read: {e}\n"));
                    continue;
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                problems.push_str(&format!("cannot read `{path_shown}`: {e}\n"));
                continue;
            }
        };
        if old.as_deref() == Some(new.as_str()) {
            remove_stale(&new_path, &new_shown, &mut problems);
            continue;
        }
        let content = render_file(&source_name, snap.expression, &new);
        if accept {
            match write(&path, &content) {
                Ok(()) => written += 1,
                Err(e) => problems.push_str(&format!("cannot write `{path_shown}`: {e}\n")),
            }
            remove_stale(&new_path, &new_shown, &mut problems);
            continue;
        }
        if let Err(e) = write(&new_path, &content) {
            problems.push_str(&format!("cannot write `{new_shown}`: {e}\n"));
        } else {
            pending = true;
        }
        match old {
            None => problems.push_str(&format!("snapshot `{path_shown}` is missing; the new one is in `{new_shown}`\n")),
            Some(old) => {
                problems.push_str(&format!("snapshot `{path_shown}` differs; the new one is in `{new_shown}`:\n"));
                problems.push_str(&diff(&format!("{old}\n"), &format!("{new}\n"), &path_shown, &new_shown));
            }
        }
    }
    if problems.is_empty() {
        Ok(written)
    } else {
        Err(FileFailure { text: problems, pending })
    }
}

/// Removes a `.snap.new` left by an earlier run, now that the snapshot
/// matches (or was accepted).
fn remove_stale(new_path: &Path, new_shown: &str, problems: &mut String) {
    match std::fs::remove_file(new_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => problems.push_str(&format!("cannot remove `{new_shown}`: {e}\n")),
    }
}

fn write(path: &Path, content: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, content)
}

/// Adds `root` (a file as it is, a directory's `.npl` files recursively and
/// sorted) to `files`. A path that does not exist is a usage error.
fn collect(root: &Path, files: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Failure::Usage(anyhow!("no file or directory `{}`", root.display())),
        _ => Failure::Io(anyhow!("cannot read `{}`: {e}", root.display())),
    })?;
    if !meta.is_dir() {
        files.push(root.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<(PathBuf, bool)> = Vec::new();
    let read = std::fs::read_dir(root).map_err(|e| Failure::Io(anyhow!("cannot read directory `{}`: {e}", root.display())))?;
    for entry in read {
        let entry = entry.map_err(|e| Failure::Io(anyhow!("cannot read directory `{}`: {e}", root.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        // Symbolic links to directories are not followed (no cycles).
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            if !name.starts_with('.') && name != "target" {
                entries.push((path, true));
            }
        } else if name.ends_with(".npl") && path.is_file() {
            entries.push((path, false));
        }
    }
    entries.sort();
    for (path, is_dir) in entries {
        if is_dir {
            collect(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// A path as shown: without the `./` that walking the current directory
/// puts in front.
fn shown_path(p: &Path) -> String {
    p.strip_prefix(".").unwrap_or(p).display().to_string()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
