//! The `synth` command line: check, test, trace, graph, learn, eval, run,
//! compare, lte, extract, ask.
//!
//! One module per command, each holding its flags (a clap `Args` struct) and
//! a `run` function; [`failure`] maps what went wrong to an exit code, and
//! [`task`] loads and compiles the task every command starts from. The
//! commands around a trained model share [`model`] (loading a checkpoint),
//! [`rundir`] (the files of a run), [`progress`] (what training shows and
//! logs while it runs), [`charts`] and [`plot`] (the SVG plots).
//!
//! Exit codes: 0 success (warnings allowed), 1 the task or model has errors
//! (diagnostics printed) or a snapshot test failed, 2 bad usage (clap, or a
//! path that does not exist), 3 an input/output failure.

mod charts;
mod check;
mod compare;
mod eval;
mod extract;
mod failure;
mod graph;
mod interrupt;
mod learn;
mod lte;
mod machine;
mod model;
mod np;
mod nram;
mod plot;
#[cfg(test)]
mod plot_tests;
mod progress;
mod run;
mod ntm;
mod seq2seq;
mod settings;
mod suite;
mod task;
mod test;
mod trace;

// The run directory is the library's (`synth::rundir`), so that the Python
// package and other embedders read the same files.
use synth::rundir;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "synth", version, about = "Neural program learning from reference programs written in NPL")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, compile and lint a task, then run its reference on sampled inputs.
    Check(check::CheckArgs),
    /// Check task files and compare their trace and graphs with the snapshots beside them.
    Test(test::TestArgs),
    /// Print one execution trace of the reference programs.
    Trace(trace::TraceArgs),
    /// Print the call graph or the operation graphs.
    Graph(graph::GraphArgs),
    /// Train a learner on the task's traces; keeps the best checkpoint.
    Learn(learn::LearnArgs),
    /// Closed-loop exact-match accuracy of a trained model per input size.
    Eval(eval::EvalArgs),
    /// Run a trained model on one input, its trace beside the reference's.
    Run(run::RunArgs),
    /// Score several trained models of a task on the same inputs: a table and one plot.
    Compare(compare::CompareArgs),
    /// Learning to Execute: train a character-level seq2seq on generated programs under each curriculum strategy; per-difficulty accuracy.
    Lte(lte::LteArgs),
    /// Print a trained NRAM's discrete program as an NPL file over the task's tape.
    Extract(extract::ExtractArgs),
    /// Answer a typed question about a sampled table with a trained Neural Programmer, showing the program it induces.
    Ask(np::AskArgs),
}

/// Runs the command, prints why it failed if it did, and gives its exit code.
pub fn run(cli: Cli) -> ExitCode {
    if let Err(e) = machine::apply_cpu_override() {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Check(a) => check::run(a),
        Command::Test(a) => test::run(a),
        Command::Trace(a) => trace::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Learn(a) => learn::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Run(a) => run::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Lte(a) => lte::run(a),
        Command::Extract(a) => extract::run(a),
        Command::Ask(a) => np::ask(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
