//! What the CLI tests share: running the built `synth`, its output as text,
//! scratch directories, and the tiny task their short trainings use.
//!
//! Scratch directories live under cargo's temporary directory for
//! integration tests (inside `target/`), so a test that stops early leaves
//! nothing in the system's `/tmp`.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `synth ARGS` from the package root.
pub fn synth(args: &[&str]) -> Output {
    synth_env(args, &[])
}

/// Runs `synth ARGS` from the package root with extra environment variables.
pub fn synth_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synth")).args(args).envs(env.iter().copied()).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty directory for one test of one run of a test binary.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("synth-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The stdlib's binary increment with a small model, so that a few dozen
/// steps take a second or two; validation every `validate_every` steps on
/// `validation_count` inputs of size 4. Written into `dir`.
pub fn tiny_task(dir: &Path, validate_every: u32, validation_count: u32) -> PathBuf {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/increment.npl")).unwrap();
    let head = src.split("learn npi").next().unwrap();
    let learn = format!(
        "learn npi {{\n  train sizes 1..=4, traces 16\n  test sizes [6]\n  hidden 24\n  encoder 16\n  state 16\n  fuse_hidden 24\n  embedding 8\n  key 8\n  batch 16\n  validate_every {validate_every}\n  validation_sizes [4]\n  validation_count {validation_count}\n}}\n"
    );
    let path = dir.join("increment.npl");
    std::fs::write(&path, format!("{head}{learn}")).unwrap();
    path
}
