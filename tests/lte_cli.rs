//! `synth lte`: the Learning to Execute experiment from one command, its
//! files, the reuse of a model trained with the same settings, and what it
//! refuses.

mod common;

use common::{scratch, stderr, stdout, synth};

fn small(out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["lte", "--length", "2", "--nesting", "1", "--steps", "12", "--count", "5", "--show", "1", "--out", out, "--quiet", "--threads", "1"];
    args.extend_from_slice(&["--set", "hidden=16", "--set", "embedding=8", "--set", "layers=1", "--set", "batch=8", "--set", "validate_every=6", "--set", "validation_count=8"]);
    args.extend_from_slice(extra);
    synth(&args)
}

#[test]
fn lte_trains_every_strategy_and_reports_each_difficulty() {
    let dir = scratch("lte");
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    let o = small(out_s, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for row in ["length 1, nesting 1", "length 2, nesting 1", "mean", "none chars/exact", "combined chars/exact", "model:"] {
        assert!(text.contains(row), "{row}:\n{text}");
    }
    for f in ["results.json", "accuracy.svg", "none/lte.json", "naive/lte.safetensors", "mixed/lte.json", "combined/lte.safetensors"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["results"].as_array().unwrap().len(), 4);
    assert_eq!(results["results"][3]["strategy"], "combined");
    assert_eq!(results["results"][0]["levels"][1]["length"], 2);
    assert_eq!(results["results"][0]["levels"][1]["count"], 5);

    // The same settings again: the models are reused, and the results are
    // the same bytes.
    let first = std::fs::read(out.join("results.json")).unwrap();
    let o = small(out_s, &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("naive: using the model trained before"), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("results.json")).unwrap(), first);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["target"]["length"], 2);

    // Other settings train again, and the same seed gives the same model.
    let again = dir.join("again");
    let o = small(again.to_str().unwrap(), &["--strategy", "naive"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("using the model"), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("naive/lte.safetensors")).unwrap(), std::fs::read(again.join("naive/lte.safetensors")).unwrap());
}

#[test]
fn lte_refuses_bad_settings_with_a_clear_message() {
    let dir = scratch("lte-bad");
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    let o = small(out_s, &["--strategy", "blend"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown strategy `blend`"), "{}", stderr(&o));
    let o = small(out_s, &["--set", "hiden=3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `hidden`"), "{}", stderr(&o));
    let o = synth(&["lte", "--length", "40", "--out", out_s]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("target length must be in 1..=18"), "{}", stderr(&o));
    assert!(!out.exists());
}
