//! Checkpoints from elsewhere: a run directory whose files were truncated,
//! corrupted, deleted or swapped for another run's. Every command that reads
//! a checkpoint (`eval`, `run`, `learn --resume`) refuses such a directory
//! with a message that names the file and says what is wrong, a non-zero
//! exit code and no panic; `learn --resume` leaves every file as it was.
//!
//! One tiny model is trained per test binary; each case damages a copy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

mod common;
use common::{scratch, stderr, synth};

/// The task file and a run directory trained on it, made once.
fn trained() -> &'static (PathBuf, PathBuf) {
    static RUN: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = scratch("trained");
        let task = common::tiny_task(&dir, 5, 2);
        let out = dir.join("run");
        let o = synth(&["learn", task.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "10", "--count", "1", "--quiet", "--threads", "1"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        for f in ["model.safetensors", "model.json", "optimizer.safetensors"] {
            assert!(out.join(f).is_file(), "{f} missing");
        }
        (task, out)
    })
}

/// A copy of the trained run directory.
fn copy_run(name: &str) -> PathBuf {
    let (_, run) = trained();
    let dir = scratch(name);
    for entry in std::fs::read_dir(run).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    dir
}

/// Every file of `dir` and its bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()).map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())).collect()
}

/// What a case does to one file of the run directory.
#[derive(Clone, Copy, Debug)]
enum Damage {
    /// The first half of the file.
    Truncate,
    /// Not the format at all.
    Garbage,
    /// safetensors: the header's length field says more bytes than there are.
    HugeHeader,
    /// safetensors: the last 64 bytes of tensor data set to 0xff (NaN).
    NanData,
    Delete,
    /// model.json: another task's name.
    OtherTask,
    /// model.json: another hidden size than the weights have.
    OtherConfig,
    /// model.json: the largest sizes the config accepts, which the weights
    /// do not have (must be refused without allocating such a model).
    HugeConfig,
    /// model.json: a later checkpoint format.
    OtherFormat,
}

fn damage(dir: &Path, file: &str, how: Damage) {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).unwrap();
    let edit_json = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        f(&mut v);
        std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    };
    match how {
        Damage::Truncate => std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap(),
        Damage::Garbage => std::fs::write(&path, b"this is not what synth wrote\n").unwrap(),
        Damage::HugeHeader => {
            let mut b = bytes.clone();
            b[..8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
            std::fs::write(&path, b).unwrap();
        }
        Damage::NanData => {
            let mut b = bytes.clone();
            let n = b.len();
            b[n - 64..].fill(0xff);
            std::fs::write(&path, b).unwrap();
        }
        Damage::Delete => std::fs::remove_file(&path).unwrap(),
        Damage::OtherTask => edit_json(&|v| v["task"] = "add".into()),
        Damage::OtherConfig => edit_json(&|v| v["config"]["hidden"] = 32.into()),
        Damage::HugeConfig => edit_json(&|v| {
            for k in ["hidden", "layers", "embedding", "key", "encoder", "state", "fuse_hidden"] {
                v["config"][k] = 65536.into();
            }
        }),
        Damage::OtherFormat => edit_json(&|v| v["format"] = 99.into()),
    }
}

/// Runs `command` (`eval`, `run` or `resume`) on the damaged directory.
fn command(name: &str, dir: &Path) -> Output {
    let (task, _) = trained();
    let (task, dir) = (task.to_str().unwrap(), dir.to_str().unwrap());
    match name {
        "eval" => synth(&["eval", task, "--model", dir, "--sizes", "3", "--count", "1", "--threads", "1"]),
        "run" => synth(&["run", task, "--model", dir, "--size", "3"]),
        "resume" => synth(&["learn", task, "--out", dir, "--resume", "--steps", "2", "--count", "1", "--quiet", "--threads", "1"]),
        _ => unreachable!(),
    }
}

/// Damages `file` with `how`, then runs every command in `commands` on a
/// fresh copy and checks that each refuses with a message holding `file`
/// and `what`; `learn --resume` must leave the files as they were.
fn refused(file: &str, how: Damage, commands: &[&str], what: &str) {
    for &cmd in commands {
        let dir = copy_run(&format!("{file}-{how:?}-{cmd}"));
        damage(&dir, file, how);
        let before = contents(&dir);
        let o = command(cmd, &dir);
        let err = stderr(&o);
        let case = format!("{cmd} with {file} {how:?}");
        assert!(!err.contains("panicked"), "{case}: {err}");
        assert!(matches!(o.status.code(), Some(1) | Some(3)), "{case}: exit {:?}: {err}", o.status.code());
        assert!(err.starts_with("error: "), "{case}: {err}");
        assert!(err.contains(file), "{case}: the message does not name {file}: {err}");
        assert!(err.contains(what), "{case}: the message does not say `{what}`: {err}");
        assert_eq!(err.lines().count(), 1, "{case}: one line: {err}");
        assert_eq!(contents(&dir), before, "{case}: the run directory changed");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Damages `file` with `how` and checks that `commands` still work (they do
/// not need that file).
fn unaffected(file: &str, how: Damage, commands: &[&str]) {
    for &cmd in commands {
        let dir = copy_run(&format!("{file}-{how:?}-{cmd}-ok"));
        damage(&dir, file, how);
        let o = command(cmd, &dir);
        assert_eq!(o.status.code(), Some(0), "{cmd} with {file} {how:?}: {}", stderr(&o));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

const ALL: &[&str] = &["eval", "run", "resume"];

#[test]
fn damaged_weights_are_refused() {
    refused("model.safetensors", Damage::Truncate, ALL, "do not load");
    refused("model.safetensors", Damage::Garbage, ALL, "do not load");
    refused("model.safetensors", Damage::HugeHeader, ALL, "do not load");
    refused("model.safetensors", Damage::NanData, ALL, "NaN");
    refused("model.safetensors", Damage::Delete, ALL, "is missing");
}

#[test]
fn damaged_optimizer_state_is_refused_by_resume_only() {
    refused("optimizer.safetensors", Damage::Truncate, &["resume"], "optimiser state does not load");
    refused("optimizer.safetensors", Damage::Garbage, &["resume"], "optimiser state does not load");
    refused("optimizer.safetensors", Damage::HugeHeader, &["resume"], "optimiser state does not load");
    refused("optimizer.safetensors", Damage::NanData, &["resume"], "NaN");
    // eval and run never read it.
    unaffected("optimizer.safetensors", Damage::Garbage, &["eval", "run"]);
    unaffected("optimizer.safetensors", Damage::Delete, &["eval", "run"]);
}

#[test]
fn resume_without_optimizer_state_starts_a_fresh_optimiser() {
    let dir = copy_run("no-optimizer");
    damage(&dir, "optimizer.safetensors", Damage::Delete);
    let o = command("resume", &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("with a fresh optimiser (no optimiser state saved)"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_metadata_is_refused() {
    refused("model.json", Damage::Truncate, ALL, "not a synth checkpoint");
    refused("model.json", Damage::Garbage, ALL, "not a synth checkpoint");
    refused("model.json", Damage::Delete, ALL, "holds no model");
    refused("model.json", Damage::OtherTask, ALL, "trained on task `add`, not `increment`");
    refused("model.json", Damage::OtherConfig, ALL, "do not fit its model config");
    refused("model.json", Damage::HugeConfig, ALL, "do not fit its model config");
    refused("model.json", Damage::OtherFormat, ALL, "format 99");
}
