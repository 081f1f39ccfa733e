//! `synth learn`, `eval` and `run` end to end on a tiny model: the files a
//! run writes, `eval --json`, resuming, and refusals with clear messages.

use std::path::Path;
use std::process::Output;

mod common;
use common::{scratch, stderr, synth, synth_env};

fn metric_steps(dir: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["step"].as_u64()).collect()
}

#[test]
fn learn_writes_a_run_that_eval_and_run_read_and_resume_continues() {
    let dir = scratch("flow");
    let task = common::tiny_task(&dir, 10, 4);
    let task = task.to_str().unwrap();
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();

    let o = synth(&["learn", task, "--out", out_s, "--steps", "30", "--count", "4", "--quiet", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["model.safetensors", "model.json", "optimizer.safetensors", "metrics.jsonl", "eval.json", "loss.svg", "validation.svg", "accuracy.svg"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    assert_eq!(meta["task"], "increment");
    assert_eq!(meta["learner"], "npi");
    let first = metric_steps(&out);
    assert_eq!(first.iter().max(), Some(&30));

    // eval --json is one object with the documented fields.
    let o = synth(&["eval", task, "--model", out_s, "--sizes", "3,6", "--count", "5", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("eval --json prints JSON");
    assert_eq!(v["task"], "increment");
    assert_eq!(v["learner"], "npi");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for (r, size) in results.iter().zip([3, 6]) {
        assert_eq!(r["size"], size);
        assert_eq!(r["count"], 5);
        let exact = r["exact"].as_u64().unwrap();
        assert!(exact <= 5);
        assert!((r["accuracy"].as_f64().unwrap() - exact as f64 / 5.0).abs() < 1e-9);
        assert!(r["mean_steps"].as_f64().unwrap() > 0.0);
    }

    // run shows the learned trace and says how it ended.
    let o = synth(&["run", task, "--model", out_s, "--size", "3", "--seed", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("INCREMENT()"), "{text}");
    assert!(text.contains("// result:"), "{text}");

    // A second learn into the same directory is refused, nothing touched.
    let before = std::fs::read(out.join("model.safetensors")).unwrap();
    let o = synth(&["learn", task, "--out", out_s, "--steps", "5", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("model.safetensors")).unwrap(), before);

    // Resume: the step count goes on from the checkpoint's.
    let saved = meta["step"].as_u64().unwrap();
    let o = synth(&["learn", task, "--out", out_s, "--steps", "20", "--count", "2", "--quiet", "--threads", "1", "--resume"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let steps = metric_steps(&out);
    assert!(steps.len() > first.len());
    assert_eq!(steps.iter().max(), Some(&(saved + 20)), "{steps:?}");
    let meta2: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    assert!(meta2["step"].as_u64().unwrap() >= saved);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_checkpoint_for_another_task_or_source_is_refused() {
    let dir = scratch("refuse");
    let task = common::tiny_task(&dir, 10, 4);
    let out = dir.join("run");
    let o = synth(&["learn", task.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "10", "--count", "1", "--quiet", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let o = synth(&["eval", "add", "--model", out.to_str().unwrap(), "--sizes", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("trained on task `increment`, not `add`"), "{}", stderr(&o));

    // The same task with its source changed.
    let src = std::fs::read_to_string(&task).unwrap().replace("write(p, 1)", "write(p, 1)\n  move(p, right)");
    let changed = dir.join("changed");
    std::fs::create_dir_all(&changed).unwrap();
    let changed = changed.join("increment.npl");
    std::fs::write(&changed, src).unwrap();
    let o = synth(&["eval", changed.to_str().unwrap(), "--model", out.to_str().unwrap(), "--sizes", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("another version"), "{}", stderr(&o));

    // A corrupt sidecar is an error message, not a panic.
    std::fs::write(out.join("model.json"), "{ not json").unwrap();
    let o = synth(&["eval", task.to_str().unwrap(), "--model", out.to_str().unwrap(), "--sizes", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error:"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));

    // --set overrides the learn block, and a misspelt setting is refused.
    let fresh = dir.join("set");
    let o = synth(&["learn", task.to_str().unwrap(), "--out", fresh.to_str().unwrap(), "--steps", "2", "--count", "1", "--quiet", "--set", "hidden=12", "--set", "lr=0.01"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(fresh.join("model.json")).unwrap()).unwrap();
    assert_eq!(meta["config"]["hidden"], 12);
    let o = synth(&["learn", task.to_str().unwrap(), "--out", fresh.to_str().unwrap(), "--force", "--set", "hiden=12"]);
    assert_eq!(o.status.code(), Some(2), "a bad --set is bad usage");
    assert!(stderr(&o).contains("did you mean `hidden`"), "{}", stderr(&o));
    let o = synth(&["learn", task.to_str().unwrap(), "--out", fresh.to_str().unwrap(), "--force", "--set", "hidden"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("KEY=VALUE"), "{}", stderr(&o));
    // The same mistake in the task's own learn block is the task's: exit 1,
    // and a good --set does not make it usage.
    let src = std::fs::read_to_string(&task).unwrap();
    let bad = dir.join("bad_block.npl");
    std::fs::write(&bad, src.replacen("learn npi {", "learn npi {\n  hiden 12", 1)).unwrap();
    for extra in [&[][..], &["--set", "lr=0.01"]] {
        let mut args = vec!["learn", bad.to_str().unwrap(), "--out", fresh.to_str().unwrap(), "--force"];
        args.extend_from_slice(extra);
        let o = synth(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("hiden"), "{}", stderr(&o));
    }

    // No model at all.
    let o = synth(&["eval", task.to_str().unwrap(), "--model", dir.join("nowhere").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("holds no model"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}


/// Asserts a clean refusal for want of memory: exit 1, a message that says
/// how much the run needs and how much there is, no panic.
fn refused_for_memory(o: &Output, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(&format!("{what} would need about ")), "{err}");
    assert!(err.contains("iB of memory") && err.contains("available"), "{err}");
    assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{err}");
}

#[test]
fn settings_that_imply_absurd_memory_are_refused_before_allocating() {
    let dir = scratch("memory");
    let task = common::tiny_task(&dir, 10, 4);
    let task = task.to_str().unwrap();

    // A fresh run: nothing is created.
    let out = dir.join("huge");
    let o = synth(&["learn", task, "--out", out.to_str().unwrap(), "--set", "hidden=1000000", "--quiet"]);
    refused_for_memory(&o, "training this model");
    assert!(stderr(&o).contains("lower the model's sizes"), "{}", stderr(&o));
    assert!(!out.exists());
    // The stdlib's own add task, as a user would type it.
    let o = synth(&["learn", "add", "--out", out.to_str().unwrap(), "--set", "hidden=1000000"]);
    refused_for_memory(&o, "training this model");
    let o = synth(&["learn", task, "--out", out.to_str().unwrap(), "--set", "batch=1000000000000", "--quiet"]);
    refused_for_memory(&o, "training this model");
    assert!(stderr(&o).contains("lower `batch`"), "{}", stderr(&o));
    assert!(!out.exists());

    // A trained model asked for more closed-loop runs at once than memory
    // holds: eval refuses before it starts them. (A model.json edited to an
    // absurd config no longer fits its weights and is refused for that:
    // tests/checkpoints.rs.)
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    let o = synth(&["learn", task, "--out", run_s, "--steps", "2", "--count", "1", "--quiet", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = synth(&["eval", task, "--model", run_s, "--sizes", "3", "--count", "1000000000000"]);
    refused_for_memory(&o, "running this model");
    assert!(stderr(&o).contains("cannot use `"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn synth_cpu_picks_a_kernel_path_and_refuses_unknown_ones() {
    let o = synth_env(&["eval", "add", "--model", "/nonexistent"], &[("SYNTH_CPU", "avx-512")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim_end(), "error: SYNTH_CPU: unknown instruction set `avx-512` (expected portable, avx2 or avx512)");

    let dir = scratch("cpu");
    let task = common::tiny_task(&dir, 10, 4);
    let task = task.to_str().unwrap();
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    let o = synth_env(&["learn", task, "--out", out_s, "--steps", "3", "--count", "2", "--quiet", "--threads", "1"], &[("SYNTH_CPU", "portable")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Every path the machine has runs the model; one it lacks is refused.
    for isa in ["portable", "avx2", "avx512"] {
        let o = synth_env(&["eval", task, "--model", out_s, "--sizes", "3", "--count", "3", "--json"], &[("SYNTH_CPU", isa)]);
        match o.status.code() {
            Some(0) => assert!(serde_json::from_slice::<serde_json::Value>(&o.stdout).is_ok()),
            Some(2) => assert!(stderr(&o).contains(&format!("SYNTH_CPU={isa}: this cpu lacks {isa}")), "{}", stderr(&o)),
            _ => panic!("{isa}: {}", stderr(&o)),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Addition with 8 traces and a model too small for it: `check` warns on the
/// `traces` setting, `learn` says so before training, and when validation
/// stops improving it stops, keeps the best checkpoint and shows the first
/// wrong decision.
#[test]
fn too_few_traces_are_reported_and_a_stalled_run_stops() {
    let dir = scratch("coverage");
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/add.npl")).unwrap();
    let head = src.split("learn npi {").next().unwrap();
    let learn = "learn npi {\n  train sizes 1..=3, traces 8\n  test sizes [6]\n  hidden 8\n  layers 1\n  encoder 8\n  state 8\n  fuse: concat\n  embedding 4\n  key 4\n  batch 16\n  validate_every 5\n  validation_sizes [6]\n  validation_count 2\n  give_up 2\n  plateau 1\n}\n";
    let path = dir.join("add.npl");
    std::fs::write(&path, format!("{head}{learn}")).unwrap();
    let task = path.to_str().unwrap();

    let o = synth(&["check", task]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("warning: 8 traces cover "), "{text}");
    assert!(text.contains("train sizes 1..=3, traces 8"), "the warning points at the setting: {text}");
    assert!(text.contains("= hint: missing ADD1 cases: in1="), "{text}");
    assert!(text.contains("raise `traces` ("), "{text}");
    assert!(text.contains("ok, 1 warning"), "{text}");

    let out = dir.join("run");
    let o = synth(&["learn", task, "--out", out.to_str().unwrap(), "--steps", "400", "--count", "2", "--quiet", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("warning: 8 traces cover "), "{err}");
    assert!(err.contains("(validation stopped improving: no more exact matches than its best for 2 validations in a row)"), "{err}");
    assert!(err.contains("its first wrong decision, on the input of size 6"), "{err}");
    assert!(err.contains("\n  in ADD()"), "{err}");
    assert!(err.contains("\n    the reference: ") && err.contains("\n    the model:     "), "{err}");
    assert!(out.join("model.safetensors").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// stdlib's reverse with the tiny task's learn block, written into `dir`.
fn tiny_reverse(dir: &Path) -> std::path::PathBuf {
    let inc = std::fs::read_to_string(common::tiny_task(dir, 10, 4)).unwrap();
    let learn = inc.split("learn npi").nth(1).unwrap();
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/reverse.npl")).unwrap();
    let path = dir.join("reverse.npl");
    std::fs::write(&path, format!("{}learn npi{learn}", src.split("learn npi").next().unwrap())).unwrap();
    path
}

#[test]
fn one_model_for_several_tasks_and_new_programs_on_its_frozen_core() {
    let dir = scratch("suite");
    let inc = common::tiny_task(&dir, 10, 4);
    let rev = tiny_reverse(&dir);
    let (inc, rev) = (inc.to_str().unwrap(), rev.to_str().unwrap());
    let out = dir.join("multi");
    let out_s = out.to_str().unwrap();
    let o = synth(&["learn", inc, rev, "--out", out_s, "--steps", "30", "--count", "4", "--quiet", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("training one npi on `increment`, `reverse`"), "{}", stderr(&o));
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    let tasks: Vec<&str> = meta["suite"]["tasks"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tasks, ["increment", "reverse"]);
    let eval: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("eval.json")).unwrap()).unwrap();
    assert_eq!(eval["reverse"]["results"][0]["count"], 4);

    // Each task reads the model as its own; another task is refused by name.
    let eval_inc = |model: &str| {
        let o = synth(&["eval", inc, "--model", model, "--sizes", "3,5", "--count", "4", "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o.stdout
    };
    let before = eval_inc(out_s);
    let o = synth(&["run", rev, "--model", out_s, "--size", "3", "--seed", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(common::stdout(&o).contains("REVERSE()"));
    let o = synth(&["eval", "add", "--model", out_s, "--sizes", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the model was trained on `increment`, `reverse`, not on `add`"), "{}", stderr(&o));

    // MAX on the frozen model: the old tasks' weights and results stay.
    let frozen = dir.join("max");
    let frozen_s = frozen.to_str().unwrap();
    let o = synth(&["learn", "max", "--from", out_s, "--freeze", "core", "--out", frozen_s, "--steps", "10", "--traces", "8", "--count", "1", "--quiet", "--threads", "1", "--set", "validation_sizes=3", "--set", "validation_count=2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("training only MAX, RJMP"), "{}", stderr(&o));
    assert!(stderr(&o).contains("the old tasks' weights are the same bits"), "{}", stderr(&o));
    assert_eq!(eval_inc(frozen_s), before);

    // Refusals, each with what to do instead.
    let refused = |args: &[&str], says: &str| {
        let o = synth(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    };
    refused(&["learn", "max", "--from", out_s, "--freeze", "core", "--out", frozen_s, "--steps", "1"], "already holds a trained model");
    refused(&["learn", inc, "--from", out_s, "--freeze", "core", "--out", dir.join("x").to_str().unwrap()], "is in `");
    refused(&["learn", inc, rev, "--out", out_s, "--resume"], "--from DIR");
    refused(&["learn", inc, "nram_copy", "--out", dir.join("y").to_str().unwrap()], "a model of several tasks is an NPI");
    let single = dir.join("single");
    let o = synth(&["learn", inc, "--out", single.to_str().unwrap(), "--steps", "2", "--count", "1", "--quiet", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    refused(&["learn", rev, "--from", single.to_str().unwrap(), "--out", dir.join("z").to_str().unwrap()], "holds a model of one task");
    refused(&["learn", rev, "--from", out_s, "--out", out_s, "--force"], "--out must differ from --from");
    let o = synth(&["learn", rev, "--freeze", "core"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
