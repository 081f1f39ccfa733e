//! The `synth` command line: check, trace, graph, learn, eval, run.
//!
//! Exit codes: 0 success (warnings allowed), 1 the task or model has errors
//! (diagnostics printed), 2 bad usage (clap), 3 an input/output failure.

mod learn;
mod machine;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use synth::{check, CheckOptions, Source};
use synth_dsl::render_all;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "synth", version, about = "Neural program learning from reference programs written in NPL")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, compile and lint a task, then run its reference on sampled inputs.
    Check(CheckArgs),
    /// Print one execution trace of the reference programs.
    Trace(TraceArgs),
    /// Print the call graph or the operation graphs.
    Graph(GraphArgs),
    /// Train a learner on the task's traces; keeps the best checkpoint.
    Learn(LearnArgs),
    /// Closed-loop exact-match accuracy of a trained model per input size.
    Eval(EvalArgs),
    /// Run a trained model on one input, its trace beside the reference's.
    Run(RunArgs),
}

#[derive(Args)]
struct LearnArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The learner (default: the `learn` block's).
    #[arg(long)]
    learner: Option<String>,
    /// Where the checkpoint, metrics and plots go (default: runs/<task>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    seed: Option<u64>,
    /// Wall-clock budget in seconds.
    #[arg(long)]
    time: Option<u64>,
    /// Most optimiser steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Training traces in all, spread over the train sizes.
    #[arg(long)]
    traces: Option<usize>,
    /// Continue training the checkpoint in --out.
    #[arg(long, conflicts_with = "force")]
    resume: bool,
    /// Replace a checkpoint already in --out.
    #[arg(long)]
    force: bool,
    /// Inputs per size in the final table.
    #[arg(long, default_value_t = 32)]
    count: usize,
    /// Worker threads (default: one per physical core).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar (one line per validation instead).
    #[arg(long)]
    quiet: bool,
    /// Overrides a learner setting of the `learn` block, e.g. `--set hidden=128
    /// --set lr=3e-4 --set validation_sizes=20,40` (repeatable; see docs/npi.md).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The run directory of a trained model.
    #[arg(long)]
    model: PathBuf,
    /// Input sizes (default: the `learn` block's test sizes).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Inputs per size.
    #[arg(long, default_value_t = 32)]
    count: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    task: TaskArg,
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value_t = 5)]
    size: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Args)]
struct TaskArg {
    /// A `.npl` file, or the name of a stdlib task (`add`, `bubblesort`, ...).
    task: String,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    task: TaskArg,
    /// Sizes to run the reference on, besides the learn block's.
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Seeds per size.
    #[arg(long, default_value_t = 4)]
    seeds: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum TraceFormat {
    Text,
    Json,
}

#[derive(Args)]
struct TraceArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The input size `n`.
    #[arg(long, default_value_t = 3)]
    size: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    format: TraceFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Text,
    Dot,
}

#[derive(Args)]
struct GraphArgs {
    #[command(flatten)]
    task: TaskArg,
    /// The call graph (the default).
    #[arg(long, conflicts_with = "ops")]
    calls: bool,
    /// The operation graph of every program.
    #[arg(long)]
    ops: bool,
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    format: GraphFormat,
}

/// Why a command failed, and so which exit code it gets.
enum Failure {
    /// Diagnostics or a message already printed: exit 1.
    Reported,
    /// Exit 1 with this message.
    Task(anyhow::Error),
    /// Exit 3 with this message.
    Io(anyhow::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e.into())
    }
}

fn main() -> ExitCode {
    // `synth trace add --size 1000 | head` should stop quietly when `head`
    // has read enough, as other command-line tools do, not panic on the
    // closed pipe (Rust ignores SIGPIPE by default).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of a signal at start-up,
    // before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    if let Err(e) = machine::apply_cpu_override() {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Check(a) => cmd_check(a),
        Command::Trace(a) => cmd_trace(a),
        Command::Graph(a) => cmd_graph(a),
        Command::Learn(a) => learn::cmd_learn(a),
        Command::Eval(a) => learn::cmd_eval(a),
        Command::Run(a) => learn::cmd_run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::from(1),
        Err(Failure::Task(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        Err(Failure::Io(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
    }
}

fn load(arg: &TaskArg) -> Result<Source, Failure> {
    Source::load(&arg.task).map_err(|e| match e {
        synth::SourceError::Read { .. } => Failure::Io(e.into()),
        _ => Failure::Task(e.into()),
    })
}

/// Compiles, printing warnings; on errors prints them and fails.
fn compile(source: &Source) -> Result<synth_compiler::Task, Failure> {
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

fn cmd_check(a: CheckArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let mut opts = CheckOptions { seeds: a.seeds, ..CheckOptions::default() };
    if let Some(sizes) = a.sizes {
        opts.sizes = sizes;
    }
    let report = check(&source, &opts);
    let text = report.render(&source);
    if report.has_errors() {
        eprint!("{text}");
        Err(Failure::Reported)
    } else {
        print!("{text}");
        Ok(())
    }
}

fn cmd_trace(a: TraceArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    let trace = task.trace(a.size, a.seed).map_err(|e| {
        eprint!("{}", e.to_diagnostic().render(&source.display, &source.text));
        Failure::Reported
    })?;
    match a.format {
        TraceFormat::Text => print!("{}", task.render_trace(&trace)),
        TraceFormat::Json => {
            let json = serde_json::to_string_pretty(&task.trace_json(&trace)).map_err(|e| Failure::Task(e.into()))?;
            println!("{json}");
        }
    }
    Ok(())
}

fn cmd_graph(a: GraphArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let task = compile(&source)?;
    let text = match (a.ops, a.format) {
        (false, GraphFormat::Text) => task.call_graph().to_text(),
        (false, GraphFormat::Dot) => task.call_graph().to_dot(),
        (true, GraphFormat::Text) => task.op_graph().to_text(),
        (true, GraphFormat::Dot) => task.op_graph().to_dot(),
    };
    print!("{text}");
    Ok(())
}
