//! `synth.load`: a trained model from a run directory, with no Python
//! involved. [`task_name`] reads which task a checkpoint was trained on,
//! [`synth::trained::load`] builds it, and [`run`] runs it on one input.

use serde_json::{json, Value};
use synth::rundir::RunDir;
use synth::trained::Trained;
use synth_compiler::{Task, Trace};
use synth_runtime::{np, npi, nram, ntm, seq2seq};

/// The task a run directory's model was trained on (`model.json`'s
/// `task`), or why there is no single one.
pub fn task_name(dir: &RunDir) -> Result<String, String> {
    let meta: Value = dir.meta_as().map_err(|e| e.to_string())?;
    if meta.get("suite").is_some() {
        // A model of several tasks lists what it was trained on.
        let names: Vec<&str> = meta.get("trained").and_then(Value::as_array).map(|t| t.iter().filter_map(|x| x.get("task").and_then(Value::as_str)).collect()).unwrap_or_default();
        return Err(format!(
            "`{}` holds a model of several tasks ({}); pass the one to run as task=",
            dir.path.display(),
            if names.is_empty() { "see its model.json".to_string() } else { names.join(", ") }
        ));
    }
    meta.get("task").and_then(Value::as_str).map(str::to_string).ok_or_else(|| format!("`{}` names no task", dir.file(synth::rundir::META).display()))
}

/// One run of a trained model.
pub enum Run {
    /// An NPI's closed-loop run: its trace (as a reference trace is
    /// recorded), whether `expect` holds, and why not.
    Npi { trace: Trace, correct: bool, failure: Option<String> },
    /// An NRAM's or a Neural Programmer's run, as a JSON object.
    Other(Value),
}

/// `trained` (a model of `task`) on the input of `size` drawn from `seed`.
///
/// - NPI: the model drives the task's world until its entry program ends
///   or a limit is reached (`synth run`).
/// - NRAM: the discrete machine on the input tape: `input`, the machine's
///   final tape `output`, the reference's `reference`, the `graded` cells,
///   the graded cells it got `wrong`, `correct`, `steps` (timesteps run, of
///   `timesteps`) and `halted`.
/// - Neural Programmer: the sampled table and question (`text`,
///   `columns`), the induced `program` and its `answer`, the `latent`
///   program and its answer `reference`, `correct` and `program_agrees`
///   (whether the two programs give the same answers on this table).
/// - seq2seq: the `input` (a pad: `rows` x `cols`, blank = `blank`; a
///   tape: `cells`), the decoded `output` (a pad's `output_rows`, a final
///   tape), the reference's `reference`, and `correct` (a pad: `expect`
///   holds with the decoded rows; a tape: every `graded` cell right).
pub fn run(task: &Task, trained: &Trained, size: usize, seed: u64) -> Result<Run, String> {
    match trained {
        Trained::Npi { model, .. } => {
            let engine = npi::Engine::new(model).map_err(|e| e.to_string())?;
            let outcome = npi::run(&engine, task, size, seed).map_err(|e| e.to_string())?;
            let trace = outcome.trace.expect("run records its trace");
            Ok(Run::Npi { trace, correct: outcome.correct, failure: outcome.failure.map(|f| f.to_string()) })
        }
        Trained::Nram { machine, .. } => {
            let e = task.nram_example(size, seed).map_err(|e| e.to_string())?;
            let (out, trace) = nram::Runner::new().run_traced(machine, &e)?;
            let wrong: Vec<u32> = e.graded.iter().copied().filter(|&c| out.tape[c as usize] != e.output[c as usize]).collect();
            Ok(Run::Other(json!({
                "task": task.name,
                "size": size,
                "seed": seed,
                "cells": e.cells,
                "timesteps": e.timesteps,
                "steps": out.steps,
                "halted": trace.last().is_some_and(|s| s.halt),
                "input": e.input,
                "output": out.tape,
                "reference": e.output,
                "graded": e.graded,
                "correct": wrong.is_empty(),
                "wrong": wrong,
            })))
        }
        Trained::Seq2Seq { model, .. } => {
            let pair = seq2seq::Pair::of(task, size, seed).map_err(|e| e.to_string())?;
            let output = seq2seq::eval::outputs(model, std::slice::from_ref(&pair)).map_err(|e| e.to_string())?.remove(0);
            let (correct, _, _) = pair.grade(task, &model.config, &output).map_err(|e| e.to_string())?;
            let reference = pair.reference(&model.config);
            let mut value = match &pair {
                seq2seq::Pair::Pad(e) => json!({"rows": e.rows, "cols": e.cols, "blank": e.blank, "input": e.input, "output_rows": e.output_rows}),
                seq2seq::Pair::Tape(e) => json!({"cells": e.cells, "input": e.input, "graded": e.graded}),
                // A table's answer as words, up to the end of the row.
                seq2seq::Pair::Table(e) => json!({"rows": e.rows, "question": e.text}),
            };
            let (output, reference) = match &pair {
                seq2seq::Pair::Table(_) => (json!(model.config.words_of(&output)), json!(model.config.words_of(&reference))),
                _ => (json!(output), json!(reference)),
            };
            value["task"] = json!(task.name);
            value["size"] = json!(size);
            value["seed"] = json!(seed);
            value["output"] = output;
            value["reference"] = reference;
            value["correct"] = json!(correct);
            Ok(Run::Other(value))
        }
        Trained::Ntm { machine, .. } => {
            let e = task.tape_example(size, seed).map_err(|e| e.to_string())?;
            let output = ntm::eval::output(machine, &e, &mut ntm::model::Episode::default());
            Ok(Run::Other(json!({
                "task": task.name,
                "size": size,
                "seed": seed,
                "cells": e.cells,
                "input": e.input,
                "output": output,
                "reference": e.output,
                "graded": e.graded,
                "correct": e.right_cells(&output) == e.graded.len(),
            })))
        }
        Trained::Np { model, .. } => {
            let e = task.table_example(size, seed).map_err(|e| e.to_string())?;
            let asked = np::eval::ask(model, &e.tokens, &e.columns, &mut np::Workspace::new());
            let agrees = np::eval::equivalent(&asked.program, &e, &[]);
            Ok(Run::Other(json!({
                "task": task.name,
                "size": size,
                "seed": seed,
                "text": e.text,
                "columns": e.columns,
                "program": asked.program,
                "answer": asked.answer,
                "latent": e.program,
                "reference": e.answer,
                "correct": asked.answer == e.answer,
                "program_agrees": agrees,
            })))
        }
    }
}
