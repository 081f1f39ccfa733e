//! Embeds every `stdlib/*.npl` file in the binary, so `synth learn add` works
//! from any directory.

use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new("stdlib");
    println!("cargo:rerun-if-changed=stdlib");
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("stdlib/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npl"))
        .collect();
    names.sort();
    let mut out = String::from("/// `(stem, source)` of every stdlib task, sorted by stem.\npub static STDLIB: &[(&str, &str)] = &[\n");
    for n in &names {
        println!("cargo:rerun-if-changed=stdlib/{n}");
        let stem = n.trim_end_matches(".npl");
        let path = fs::canonicalize(dir.join(n)).expect("stdlib file");
        out.push_str(&format!("    ({stem:?}, include_str!({:?})),\n", path.display().to_string()));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("stdlib.rs");
    fs::write(dest, out).unwrap();
}
