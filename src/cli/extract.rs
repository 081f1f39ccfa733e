//! `synth extract`: a trained NRAM's discrete program as a complete NPL
//! file (the task's items with the extracted program in place of the
//! reference; the work is [`synth::extract`]), on standard output or in a
//! file.

use super::failure::Failure;
use super::nram::{about, load_program};
use super::rundir::RunDir;
use super::task::{compile, load, TaskArg};
use anyhow::anyhow;
use clap::Args;
use std::path::PathBuf;
use synth::extract::{extract, ExtractOptions};

#[derive(Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The run directory of an NRAM trained on the task.
    #[arg(long)]
    model: PathBuf,
    /// Write the program here instead of to standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seeds per size of the sample runs that order the branches and count
    /// how often each is taken.
    #[arg(long, default_value_t = 4)]
    seeds: u64,
}

/// Whether `path` names the existing file `task` (a task given by path).
fn same_file(path: &std::path::Path, task: &str) -> bool {
    match (path.canonicalize(), std::path::Path::new(task).canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub fn run(a: ExtractArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    let dir = RunDir::new(&a.model);
    let (ckpt, machine, _) = load_program(&task, &dir)?;
    let opts = ExtractOptions { about: about(&dir, &ckpt), seeds: a.seeds, ..ExtractOptions::default() };
    let x = extract(&source, &task, &machine, &opts).map_err(|e| Failure::Task(anyhow!("{e}")))?;
    let taken = x.usage.taken.iter().filter(|&&t| t > 0).count();
    let summary = format!("{} branches ({taken} taken in {} sample runs) from {}", x.table.branches.len(), x.usage.runs, opts.about);
    if !ckpt.meta.converged {
        eprintln!("note: the machine did not converge, so its program may break `expect`; `synth check` shows the first input where it does");
    }
    match &a.out {
        Some(path) if same_file(path, &source.display) => {
            return Err(Failure::Task(anyhow!("--out `{}` is the task file itself; the checkpoint belongs to that text, so write the program elsewhere", path.display())));
        }
        Some(path) => {
            std::fs::write(path, &x.text).map_err(|e| Failure::Io(anyhow!("cannot write `{}`: {e}", path.display())))?;
            eprintln!("extracted {summary} into {}; `synth check {}` verifies it against the task's `expect`", path.display(), path.display());
        }
        None => {
            print!("{}", x.text);
            eprintln!("extracted {summary}");
        }
    }
    Ok(())
}
