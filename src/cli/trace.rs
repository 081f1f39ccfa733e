//! `synth trace`: one execution trace of the reference programs, as text or
//! JSON; for a tape task, the reference run's memory writes and its input
//! and final tapes; for a table task, one instance: the table, the question
//! and its tokens, the answer and the latent program.

use super::failure::Failure;
use super::task::{compile, load, report_run_error, Cars, TaskArg};
use clap::{Args, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
enum TraceFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct TraceArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The input size `n`.
    #[arg(long, default_value_t = 3)]
    size: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    format: TraceFormat,
    /// A pose task: write every view the camera passes through, as the
    /// learner sees it (scaled up 4 times), into this directory as
    /// `view-00.png`, `view-01.png`, ...
    #[arg(long, value_name = "DIR")]
    frames: Option<std::path::PathBuf>,
    /// A pose task: draw the car from the cars seen in training or from
    /// cars never seen.
    #[arg(long, value_enum, default_value_t = Cars::Seen)]
    cars: Cars,
}

pub fn run(a: TraceArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let mut task = compile(&source)?;
    task.cars = a.cars.into();
    super::task::check_frames(&task, a.frames.as_deref())?;
    if task.is_table() {
        let example = task.table_example(a.size, a.seed).map_err(|e| report_run_error(&source, &e))?;
        match a.format {
            TraceFormat::Text => print!("{}", example.render(&task.name)),
            TraceFormat::Json => {
                let json = serde_json::to_string_pretty(&example).map_err(|e| Failure::Task(e.into()))?;
                println!("{json}");
            }
        }
        return Ok(());
    }
    if task.is_tape() {
        let trace = task.tape_trace(a.size, a.seed).map_err(|e| report_run_error(&source, &e))?;
        match a.format {
            TraceFormat::Text => print!("{}", task.render_tape_trace(&trace)),
            TraceFormat::Json => {
                let json = serde_json::to_string_pretty(&trace).map_err(|e| Failure::Task(e.into()))?;
                println!("{json}");
            }
        }
        return Ok(());
    }
    let trace = task.trace(a.size, a.seed).map_err(|e| report_run_error(&source, &e))?;
    if let Some(dir) = &a.frames {
        super::task::write_views(&task, &trace, dir)?;
    }
    match a.format {
        TraceFormat::Text => print!("{}", task.render_trace(&trace)),
        TraceFormat::Json => {
            let json = serde_json::to_string_pretty(&task.trace_json(&trace)).map_err(|e| Failure::Task(e.into()))?;
            println!("{json}");
        }
    }
    Ok(())
}
