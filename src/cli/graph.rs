//! `synth graph`: the call graph or every program's operation graph, as
//! text or DOT; on a tape task the operation graph shows which NRAM module
//! each operation maps to, and `--model` draws a trained NRAM's discrete
//! program instead: its live circuit per branch of zero patterns. On a
//! table task both show every question's latent program.

use super::failure::Failure;
use super::nram::{about, load_program};
use super::rundir::RunDir;
use super::task::{compile, load, TaskArg};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Text,
    Dot,
}

#[derive(Args)]
pub struct GraphArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The call graph (the default).
    #[arg(long, conflicts_with = "ops")]
    calls: bool,
    /// The operation graph of every program (on a tape task, with the NRAM
    /// module each operation maps to).
    #[arg(long)]
    ops: bool,
    /// A trained NRAM's discrete program (the run directory): its live
    /// circuit for every branch of zero patterns.
    #[arg(long, conflicts_with_all = ["calls", "ops"])]
    model: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    format: GraphFormat,
}

pub fn run(a: GraphArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    if let Some(model) = &a.model {
        let dir = RunDir::new(model);
        let (ckpt, _, table) = load_program(&task, &dir)?;
        let text = match a.format {
            GraphFormat::Text => format!("// the discrete program of {}\n{}", about(&dir, &ckpt), table.to_text()),
            GraphFormat::Dot => format!("// the discrete program of {}\n{}", about(&dir, &ckpt), table.to_dot()),
        };
        print!("{text}");
        return Ok(());
    }
    if task.is_table() {
        // A table task has no programs: its graph is every question's
        // latent program.
        let programs = task.latent_programs();
        let text = match a.format {
            GraphFormat::Text => {
                synth_compiler::table::latent_programs_text(&programs, task.table_timesteps().unwrap_or(0))
            }
            GraphFormat::Dot => synth_compiler::table::latent_programs_dot(&programs),
        };
        print!("{text}");
        return Ok(());
    }
    let tape = task.is_tape();
    let text = match (a.ops, a.format) {
        (false, GraphFormat::Text) => task.call_graph().to_text(),
        (false, GraphFormat::Dot) => task.call_graph().to_dot(),
        (true, GraphFormat::Text) if tape => task.op_graph().to_text_nram(),
        (true, GraphFormat::Dot) if tape => task.op_graph().to_dot_nram(),
        (true, GraphFormat::Text) => task.op_graph().to_text(),
        (true, GraphFormat::Dot) => task.op_graph().to_dot(),
    };
    print!("{text}");
    Ok(())
}
