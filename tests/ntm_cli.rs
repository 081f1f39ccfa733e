//! `synth learn` of a `learn ntm` task and `--learner ntm` on an NRAM task,
//! `eval` and `run`: the Neural Turing Machine baseline trained from a
//! tape's input/output pairs, its checkpoint, and what it refuses.

mod common;

use common::{scratch, stderr, stdout, synth};
use synth::runtime::ntm::CheckpointMeta;

fn small(task: &str, out: &str, extra: &[&str]) -> std::process::Output {
    small_on(task, out, "1", extra)
}

fn small_on(task: &str, out: &str, threads: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["learn", task, "--out", out, "--steps", "30", "--count", "4", "--quiet", "--threads", threads];
    args.extend_from_slice(&["--set", "hidden=12", "--set", "width=6", "--set", "memory=16", "--set", "batch=4", "--set", "validate_every=15", "--set", "validation_count=4"]);
    args.extend_from_slice(extra);
    synth(&args)
}

#[test]
fn ntm_trains_saves_evaluates_and_runs() {
    let dir = scratch("ntm");
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    let o = small("copy", out_s, &["--set", "controller=lstm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("training an NTM on `copy`: lstm controller of 12, memory 16 x 6"), "{}", stderr(&o));
    assert!(stdout(&o).contains("cells right"), "{}", stdout(&o));
    for f in ["model.json", "model.safetensors", "metrics.jsonl", "eval.json", "loss.svg", "validation.svg", "accuracy.svg"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let meta: CheckpointMeta = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    assert_eq!((meta.learner.as_str(), meta.task.as_str(), meta.config.hidden, meta.config.width), ("ntm", "copy", 12, 6));
    assert!(meta.step == 15 || meta.step == 30);

    // The same seed gives the same machine, on one thread or two.
    let again = dir.join("again");
    let o = small_on("copy", again.to_str().unwrap(), "2", &["--set", "controller=lstm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("model.safetensors")).unwrap(), std::fs::read(again.join("model.safetensors")).unwrap());

    // Eval at sizes past the memory (16 locations): it grows to fit.
    let o = synth(&["eval", "copy", "--model", out_s, "--sizes", "3,40", "--count", "5", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["learner"], "ntm");
    assert_eq!(report["results"][1]["size"], 40);
    assert_eq!(report["results"][1]["count"], 5);
    assert!(report["results"][1]["cell_accuracy"].as_f64().is_some());

    let o = synth(&["run", "copy", "--model", out_s, "--size", "4", "--seed", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("4 input steps") && stdout(&o).contains("graded cells right"), "{}", stdout(&o));

    // Side by side with another model in `synth compare` (the plot goes
    // to the scratch directory, not the working one).
    let plot = dir.join("compare.svg");
    let o = synth(&["compare", "copy", "--model", out_s, "--model", again.to_str().unwrap(), "--sizes", "3", "--count", "3", "--json", "--plot", plot.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    // --resume goes on from the kept machine with its optimiser state, and
    // keeps it unless it finds a better one.
    assert!(out.join("optimizer.safetensors").is_file());
    let o = small("copy", out_s, &["--set", "controller=lstm", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("resuming seed {} at step {} (with its optimiser state)", meta.seed, meta.step)), "{}", stderr(&o));
    let resumed: CheckpointMeta = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    assert!(resumed.step >= meta.step && resumed.run_seed == 0);
    let o = small("copy", out_s, &["--resume"]);
    assert!(!o.status.success() && stderr(&o).contains("cannot resume"), "{}", stderr(&o));

    // Other tasks and the NPI's commands refuse the checkpoint; so does a
    // second run into the same directory.
    let o = synth(&["eval", "nram_copy", "--model", out_s, "--sizes", "3", "--count", "2"]);
    assert!(!o.status.success() && stderr(&o).contains("trained on task `copy`, not `nram_copy`"), "{}", stderr(&o));
    let o = small("copy", out_s, &[]);
    assert!(!o.status.success() && stderr(&o).contains("already holds a trained model"), "{}", stderr(&o));
}

/// `synth compare --train`: each learner trained by `synth learn` into
/// the runs directory, then all scored on the same inputs; a second
/// compare reuses them.
#[test]
fn compare_trains_the_learners_it_is_given() {
    let dir = scratch("ntm-compare");
    let runs = dir.join("runs");
    let plot = dir.join("compare.svg");
    let args = [
        "compare", "copy", "--train", "ntm", "--train", "seq2seq", "--runs", runs.to_str().unwrap(), "--steps", "10", "--threads", "1",
        "--set", "hidden=8", "--set", "validate_every=5", "--set", "validation_count=2", "--sizes", "2,3", "--count", "3", "--json",
        "--plot", plot.to_str().unwrap(),
    ];
    let o = synth(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(runs.join("ntm").join("model.json").is_file() && runs.join("seq2seq").join("model.json").is_file());
    let both: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(both["models"][0]["learner"], "ntm");
    assert_eq!(both["models"][1]["learner"], "seq2seq");
    let again = synth(&args);
    assert!(again.status.success() && stderr(&again).contains("ntm: using the model trained before"), "{}", stderr(&again));
    assert_eq!(stdout(&again), stdout(&o));

    let o = synth(&["compare", "copy"]);
    assert!(!o.status.success() && stderr(&o).contains("nothing to compare"), "{}", stderr(&o));
    let o = synth(&["compare", "copy", "--train", "npi", "--train", "ntm", "--runs", dir.join("other").to_str().unwrap(), "--steps", "1"]);
    assert!(!o.status.success() && stderr(&o).contains("`synth learn copy --learner npi` failed"), "{}", stderr(&o));
}

#[test]
fn ntm_learns_an_nram_task_and_refuses_what_it_cannot() {
    let dir = scratch("ntm-other");
    let out = dir.join("reverse");
    let o = small("nram_reverse", out.to_str().unwrap(), &["--learner", "ntm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A learn nram block's settings are NRAM's: the NTM takes --set only.
    let meta: CheckpointMeta = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    assert_eq!(meta.config.hidden, 12);

    // Several seeds, one after another: none converges in 30 steps, so
    // all three train, and the best is kept.
    let seeds = dir.join("seeds");
    let o = small("copy", seeds.to_str().unwrap(), &["--set", "seeds=3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("seeds: 0 did not, 1 did not, 2 did not (0 of 3 converged); keeping seed"), "{}", stderr(&o));
    let metrics = std::fs::read_to_string(seeds.join("metrics.jsonl")).unwrap();
    assert!(metrics.contains("\"seed\":2"), "{metrics}");

    let o = synth(&["learn", "copy", "--out", dir.join("x").to_str().unwrap(), "--set", "hiden=16"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown NTM setting `hiden` (did you mean `hidden`?)"), "{}", stderr(&o));
    let o = synth(&["learn", "bubblesort", "--learner", "ntm", "--out", dir.join("y").to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("the NTM learns tape worlds; `bubblesort` has a scratchpad world"), "{}", stderr(&o));
    let o = synth(&["learn", "copy", "--traces", "10", "--out", dir.join("z").to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("NTM draws fresh examples every step"), "{}", stderr(&o));
    // NRAM needs a step budget the copy task does not declare.
    let o = synth(&["learn", "copy", "--learner", "nram", "--out", dir.join("w").to_str().unwrap(), "--steps", "1"]);
    assert!(!o.status.success() && stderr(&o).contains("has no `timesteps` in a `learn nram` block"), "{}", stderr(&o));
}
