//! `synth learn --learner seq2seq`, `eval` and `run` on a scratchpad task:
//! the baseline trained from the task's input/output pads, its checkpoint
//! in the run directory, the eval JSON, and what it refuses.

mod common;

use common::{scratch, stderr, stdout, synth};
use synth::runtime::seq2seq::CheckpointMeta;

#[test]
fn seq2seq_trains_saves_evaluates_and_runs() {
    let dir = scratch("seq2seq");
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    let learn = |extra: &[&str]| {
        let mut args = vec!["learn", "bubblesort", "--learner", "seq2seq", "--out", out_s, "--steps", "40", "--count", "4", "--quiet", "--threads", "1"];
        args.extend_from_slice(&["--set", "hidden=16", "--set", "embedding=8", "--set", "validate_every=20", "--set", "validation_count=4"]);
        args.extend_from_slice(extra);
        synth(&args)
    };
    let o = learn(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("training seq2seq on `bubblesort`: 2 x 16 LSTM"), "{}", stderr(&o));
    assert!(stdout(&o).contains("cells right"), "{}", stdout(&o));
    for f in ["model.json", "model.safetensors", "metrics.jsonl", "eval.json", "loss.svg", "validation.svg", "accuracy.svg"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let meta: CheckpointMeta = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    assert_eq!((meta.learner.as_str(), meta.task.as_str(), meta.config.hidden, meta.config.values), ("seq2seq", "bubblesort", 16, 11));
    assert!(meta.step == 20 || meta.step == 40);

    // The same seed gives the same model.
    let again = dir.join("again");
    let o = synth(&[
        "learn", "bubblesort", "--learner", "seq2seq", "--out", again.to_str().unwrap(), "--steps", "40", "--count", "4", "--quiet", "--threads", "1",
        "--set", "hidden=16", "--set", "embedding=8", "--set", "validate_every=20", "--set", "validation_count=4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("model.safetensors")).unwrap(), std::fs::read(again.join("model.safetensors")).unwrap());

    let o = synth(&["eval", "bubblesort", "--model", out_s, "--sizes", "3,8", "--count", "5", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["learner"], "seq2seq");
    assert_eq!(report["results"].as_array().unwrap().len(), 2);
    assert_eq!(report["results"][1]["count"], 5);
    assert!(report["results"][1]["cell_accuracy"].as_f64().is_some());

    let o = synth(&["run", "bubblesort", "--model", out_s, "--size", "5", "--seed", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("// the output rows: the model's, then the reference's"), "{}", stdout(&o));
    assert!(stdout(&o).contains("// result: `expect`"), "{}", stdout(&o));

    // Two models side by side: a table, the JSON of each one's eval, a plot.
    let plot = dir.join("compare.svg");
    let again_s = again.to_str().unwrap();
    let o = synth(&["compare", "bubblesort", "--model", out_s, "--model", again_s, "--sizes", "3,8", "--count", "5", "--plot", plot.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let both: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(both["models"][0], report);
    assert_eq!(both["models"][0], both["models"][1]);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("bubblesort: exact match against input size") && svg.contains(&format!("seq2seq ({again_s})")));
    let o = synth(&["compare", "bubblesort", "--model", out_s, "--sizes", "3,8", "--count", "5", "--plot", plot.to_str().unwrap()]);
    assert!(stdout(&o).lines().next().unwrap().contains("n=3") && stdout(&o).contains("seq2seq ("), "{}", stdout(&o));

    // --resume goes on from the kept model with its optimiser state.
    assert!(out.join("optimizer.safetensors").is_file());
    let o = learn(&["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("resuming at step {} (with its optimiser state)", meta.step)), "{}", stderr(&o));
    let resumed: CheckpointMeta = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    assert!(resumed.step >= meta.step);

    // A checkpoint is not silently replaced; other tasks and the NPI's
    // commands refuse it.
    let o = learn(&[]);
    assert!(!o.status.success() && stderr(&o).contains("already holds a trained model"), "{}", stderr(&o));
    let o = synth(&["eval", "add", "--model", out_s, "--sizes", "3", "--count", "2"]);
    assert!(!o.status.success() && stderr(&o).contains("trained on task `bubblesort`, not `add`"), "{}", stderr(&o));
}

#[test]
fn seq2seq_refuses_what_it_cannot_learn() {
    let dir = scratch("seq2seq-refuse");
    let out = dir.join("x");
    let o = synth(&["learn", "bubblesort", "--learner", "seq2seq", "--out", out.to_str().unwrap(), "--set", "hiden=16"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown seq2seq setting `hiden` (did you mean `hidden`?)"), "{}", stderr(&o));
    let o = synth(&["learn", "nram_copy", "--out", out.to_str().unwrap(), "--traces", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("NRAM draws fresh examples every step"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// On a table task: the question and the table in, the answer out, its
/// words the task's own and kept in the checkpoint.
#[test]
fn seq2seq_learns_a_table_task() {
    let dir = scratch("seq2seq-table");
    let out = dir.join("tableqa");
    let out_s = out.to_str().unwrap();
    let o = synth(&[
        "learn", "tableqa", "--learner", "seq2seq", "--out", out_s, "--steps", "20", "--traces", "16", "--count", "3", "--quiet", "--threads", "1",
        "--set", "hidden=16", "--set", "embedding=8", "--set", "batch=4", "--set", "validate_every=10", "--set", "validation_count=3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let meta: CheckpointMeta = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    let words = &meta.config.words;
    assert_eq!(words.len(), meta.config.values as usize);
    for w in ["sum", "city", "oslo", "0", "99", "-", "<unknown>"] {
        assert!(words.iter().any(|x| x == w), "{w} in {words:?}");
    }
    let o = synth(&["run", "tableqa", "--model", out_s, "--size", "12", "--seed", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("// question: ") && stdout(&o).contains("  answer: ") && stdout(&o).contains("answer tokens right"), "{}", stdout(&o));
    let o = synth(&["eval", "tableqa", "--model", out_s, "--sizes", "12,40", "--count", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((report["learner"].as_str(), report["results"][1]["size"].as_u64()), (Some("seq2seq"), Some(40)));
}

/// On a tape task: the input tape in, the final tape out, graded cells
/// scored as for NRAM.
#[test]
fn seq2seq_learns_a_tape_task() {
    let dir = scratch("seq2seq-tape");
    let out = dir.join("copy");
    let out_s = out.to_str().unwrap();
    let o = synth(&[
        "learn", "nram_copy", "--learner", "seq2seq", "--out", out_s, "--steps", "20", "--traces", "12", "--count", "3", "--quiet", "--threads", "1",
        "--set", "hidden=16", "--set", "embedding=8", "--set", "validate_every=10", "--set", "validation_count=3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let meta: CheckpointMeta = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    let copy = synth::compile(&synth::Source::load("nram_copy").unwrap()).unwrap().task;
    let largest = *copy.learn.train_sizes.iter().max().unwrap();
    assert_eq!(meta.config.values as usize, copy.tape_example(largest, 0).unwrap().cells + 1);
    assert_eq!(meta.examples, 12);
    let o = synth(&["run", "nram_copy", "--model", out_s, "--size", "3", "--seed", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("graded") && stdout(&o).contains("graded cells right"), "{}", stdout(&o));
    let o = synth(&["eval", "nram_copy", "--model", out_s, "--sizes", "3", "--count", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
}
