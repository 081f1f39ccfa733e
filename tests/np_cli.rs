//! `synth learn`, `eval`, `run` and `ask` on a table task: a Neural
//! Programmer trained from questions and answers, its checkpoint in the run
//! directory, the eval JSON contract, the induced program shown, and the
//! checkpoints and questions each command refuses.

mod common;

use common::{scratch, stderr, stdout, synth, tiny_task};
use std::path::Path;
use synth::runtime::np::CheckpointMeta;

/// Two single-step question kinds on small tables, and a small model, so
/// that training takes seconds.
fn tiny_table(dir: &Path) -> String {
    let src = r#"task tinyqa

world table(rows: n) {
  column a
  column b
  column city: word
}

input(n) {
  fill(a, random_list(n, 0..50))
  fill(b, random_list(n, 0..50))
  fill(city, random_words(n, ["oslo", "lima", "rome"]))
}

question "sum of {x}" | "total of {x}" (x: column) { sum(x) }
question "how many rows have {x} greater than {v}" (x: column, v: 0..50) { count(where x > v) }
question "print {x} where city is {t}" (x: column, t: word of city) { print(x where city == t) }

learn np {
  train sizes 5..=10, questions 2000
  test sizes [20, 200]
  hidden 24, embedding 16
  validate_every 100, validation_count 20
}
"#;
    let path = dir.join("tinyqa.npl");
    std::fs::write(&path, src).unwrap();
    path.display().to_string()
}

#[test]
fn np_learns_and_eval_run_ask_use_its_checkpoint() {
    let dir = scratch("np-tiny");
    let task = tiny_table(&dir);
    let out = dir.join("run");
    let out = out.to_str().unwrap();
    let o = synth(&["learn", &task, "--out", out, "--quiet", "--steps", "1500", "--count", "50"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("training np on `tinyqa`") && err.contains("2000 training questions"), "{err}");
    for f in ["model.safetensors", "model.json", "metrics.jsonl", "eval.json", "loss.svg", "validation.svg", "accuracy.svg"] {
        assert!(Path::new(out).join(f).is_file(), "{f} missing: {err}");
    }
    let table = stdout(&o);
    assert!(table.contains("answers right") && table.contains("programs right") && table.contains("how many rows have {x} greater than {v}"), "{table}");

    let o = synth(&["eval", &task, "--model", out, "--sizes", "30,300", "--count", "40", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((v["task"].as_str(), v["learner"].as_str()), (Some("tinyqa"), Some("np")));
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        for key in ["size", "count", "exact", "accuracy", "mean_steps", "programs", "program_accuracy"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        // Learned from answers alone, and right on tables far larger than
        // the training ones.
        assert!(r["accuracy"].as_f64().unwrap() >= 0.9 && r["program_accuracy"].as_f64().unwrap() >= 0.9, "{v}");
    }
    assert_eq!(v["questions"].as_array().map(Vec::len), Some(3), "{v}");

    let o = synth(&["run", &task, "--model", out, "--size", "8", "--seed", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for part in ["question: ", "induced program:\n  1. ", "latent program: ", "answer:    ", "reference: "] {
        assert!(text.contains(part), "{part} missing: {text}");
    }

    let o = synth(&["ask", &task, "--model", out, "--size", "6", "sum of b"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("question: sum of b") && text.contains("answer: "), "{text}");
    // A word the model never saw is refused by name.
    let o = synth(&["ask", &task, "--model", out, "sum of zebras"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("never saw `zebras`"), "{}", stderr(&o));

    // Another table task's checkpoint is refused by name.
    let o = synth(&["eval", "tableqa", "--model", out, "--sizes", "30"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("trained on task `tinyqa`, not `tableqa`"), "{}", stderr(&o));
    let o = synth(&["learn", &task, "--out", out, "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));

    // --resume continues the kept model from its step and keeps it unless it
    // finds a better one.
    let before: CheckpointMeta = serde_json::from_str(&std::fs::read_to_string(Path::new(out).join("model.json")).unwrap()).unwrap();
    let o = synth(&["learn", &task, "--out", out, "--quiet", "--resume", "--steps", "100", "--count", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("resuming (seed {}, step {}, with its optimiser state)", before.seed, before.step)), "{}", stderr(&o));
    let after: CheckpointMeta = serde_json::from_str(&std::fs::read_to_string(Path::new(out).join("model.json")).unwrap()).unwrap();
    let wrong = |m: &CheckpointMeta| m.validation.iter().map(|s| s.count - s.right).sum::<usize>();
    assert!(wrong(&after) <= wrong(&before), "{before:?} -> {after:?}");
}

#[test]
fn table_commands_refuse_what_is_not_theirs() {
    let dir = scratch("np-refuse");
    // `ask` needs a table task and a Neural Programmer checkpoint.
    let npi_task = tiny_task(&dir, 5, 2);
    let npi_task = npi_task.to_str().unwrap();
    let npi_out = dir.join("npi");
    let npi_out = npi_out.to_str().unwrap();
    let o = synth(&["learn", npi_task, "--out", npi_out, "--quiet", "--steps", "5", "--count", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = synth(&["ask", "tableqa", "--model", npi_out, "sum of a"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds a checkpoint of the npi learner"), "{}", stderr(&o));
    let o = synth(&["ask", npi_task, "--model", npi_out, "sum of a"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("has no table world"), "{}", stderr(&o));
    // A table task with an NPI checkpoint: refused, not run.
    let o = synth(&["eval", "tableqa", "--model", npi_out, "--sizes", "30"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // An unknown setting is named.
    let o = synth(&["learn", "tableqa", "--out", dir.join("x").to_str().unwrap(), "--set", "hiden=8"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown np setting `hiden`"), "{}", stderr(&o));
}
