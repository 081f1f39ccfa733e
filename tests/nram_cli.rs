//! `synth learn`, `eval` and `run` on a tape task: an NRAM trained from
//! input/output pairs, its checkpoint in the run directory, the eval JSON
//! contract, and the checkpoints each learner refuses.

mod common;

use common::{scratch, stderr, stdout, synth, tiny_task};
use std::path::Path;

/// The stdlib's Access on tapes of 3 to 5 cells with a small controller,
/// so that training converges in a few seconds.
fn tiny_access(dir: &Path) -> String {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/nram_access.npl")).unwrap();
    let head = src.split("learn nram").next().unwrap();
    let learn = "learn nram {\n  train sizes 1..=3\n  test sizes [6, 50]\n  registers 2, timesteps: 4\n  hidden 16\n  seeds 2\n  validate_every 50\n  curriculum_gap 50\n}\n";
    let path = dir.join("access.npl");
    std::fs::write(&path, format!("{head}{learn}")).unwrap();
    path.display().to_string()
}

#[test]
fn nram_learns_access_and_eval_run_use_its_checkpoint() {
    let dir = scratch("nram-access");
    let task = tiny_access(&dir);
    let out = dir.join("run");
    let out = out.to_str().unwrap();
    let o = synth(&["learn", &task, "--out", out, "--quiet", "--steps", "3000", "--count", "8"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("training nram on `nram_access`"), "{err}");
    assert!(err.contains("seeds converged") || err.contains("of 2 seeds converged"), "{err}");
    for f in ["model.safetensors", "model.json", "metrics.jsonl", "eval.json", "loss.svg", "validation.svg", "accuracy.svg"] {
        assert!(Path::new(out).join(f).is_file(), "{f} missing: {err}");
    }

    let o = synth(&["eval", &task, "--model", out, "--sizes", "4,400", "--count", "8", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((v["task"].as_str(), v["learner"].as_str()), (Some("nram_access"), Some("nram")));
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        for key in ["size", "count", "exact", "accuracy", "mean_steps", "discrete_error", "cells"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
    }
    // The discrete machine runs at 402 cells; the fuzzy one is not scored there.
    assert!(results[1]["fuzzy_error"].is_null(), "{}", results[1]);

    let o = synth(&["run", &task, "--model", out, "--size", "5", "--seed", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("the learned machine (discrete)") && text.contains("graded"), "{text}");

    // An NRAM checkpoint of another task is refused by name.
    let o = synth(&["eval", "nram_copy", "--model", out, "--sizes", "3"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("trained on task `nram_access`, not `nram_copy`"), "{}", stderr(&o));
    // Training again into the same directory needs --force.
    let o = synth(&["learn", &task, "--out", out, "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
}

#[test]
fn each_learner_refuses_the_others_checkpoint() {
    let dir = scratch("nram-cross");
    let npi_task = tiny_task(&dir, 5, 2);
    let npi_task = npi_task.to_str().unwrap();
    let npi_out = dir.join("npi");
    let npi_out = npi_out.to_str().unwrap();
    let o = synth(&["learn", npi_task, "--out", npi_out, "--quiet", "--steps", "5", "--count", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A tape task with an NPI checkpoint: refused, not run.
    let o = synth(&["eval", "nram_access", "--model", npi_out, "--sizes", "3"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nram_access"), "{}", stderr(&o));
    let o = synth(&["run", "nram_access", "--model", npi_out]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}
