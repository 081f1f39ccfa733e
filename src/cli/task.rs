//! The task every command starts from: the positional argument (a `.npl`
//! file or a stdlib task's name), loaded and compiled with its warnings
//! printed.

use super::failure::Failure;
use clap::Args;
use synth::Source;
use synth_dsl::render_all;

#[derive(Args)]
pub struct TaskArg {
    /// A `.npl` file, or the name of a stdlib task (`add`, `bubblesort`, ...).
    pub task: String,
}

/// Loads the task's source; an unreadable file is an IO failure, a missing
/// one or an unknown name a task failure.
pub fn load(arg: &TaskArg) -> Result<Source, Failure> {
    Source::load(&arg.task).map_err(|e| match e {
        synth::SourceError::Read { .. } => Failure::Io(e.into()),
        _ => Failure::Task(e.into()),
    })
}

/// Compiles, printing warnings; on errors prints them and fails.
pub fn compile(source: &Source) -> Result<synth_compiler::Task, Failure> {
    match synth::compile(source) {
        Ok(c) => {
            if !c.warnings.is_empty() {
                eprint!("{}", render_all(&c.warnings, &source.display, &source.text));
            }
            Ok(c.task)
        }
        Err(diags) => {
            eprint!("{}", render_all(&diags, &source.display, &source.text));
            Err(Failure::Reported)
        }
    }
}

/// Prints a reference run's error as a diagnostic on the source.
pub fn report_run_error(source: &Source, e: &synth_compiler::RunError) -> Failure {
    eprint!("{}", e.to_diagnostic().render(&source.display, &source.text));
    Failure::Reported
}

/// `--cars` of the commands that sample pose tasks.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Cars {
    Seen,
    Unseen,
}

impl From<Cars> for synth_compiler::CarSet {
    fn from(c: Cars) -> Self {
        match c {
            Cars::Seen => synth_compiler::CarSet::Seen,
            Cars::Unseen => synth_compiler::CarSet::Unseen,
        }
    }
}

/// `--frames` asks for a pose task's views; refused for any other task.
pub fn check_frames(task: &synth_compiler::Task, frames: Option<&std::path::Path>) -> Result<(), Failure> {
    if frames.is_some() && task.obs.image.is_none() {
        return Err(Failure::Usage(anyhow::anyhow!(
            "`--frames` writes the views of a pose task, and `{}` has no pose world",
            task.name
        )));
    }
    Ok(())
}

/// Writes a pose trace's views into `dir`, each as the learner sees it,
/// scaled up 4 times, and says on stderr which pose each file shows.
pub fn write_views(task: &synth_compiler::Task, trace: &synth_compiler::Trace, dir: &std::path::Path) -> Result<(), Failure> {
    use synth_compiler::car_render::{png, render, Car};
    let side = task.obs.image.as_ref().map_or(32, |i| i.side as usize);
    std::fs::create_dir_all(dir).map_err(|e| Failure::Io(anyhow::anyhow!("cannot create {}: {e}", dir.display())))?;
    for (k, &(car, az, el)) in task.trace_views(trace).iter().enumerate() {
        let path = dir.join(format!("view-{k:02}.png"));
        let image = render(&Car::from_seed(car), az, el, side).scaled(4);
        std::fs::write(&path, png(&image))
            .map_err(|e| Failure::Io(anyhow::anyhow!("cannot write {}: {e}", path.display())))?;
        eprintln!("{}: car {car}, azimuth {az}, elevation {el}", path.display());
    }
    Ok(())
}
