//! `synth::npl!` and `synth::include_npl!`: the embedded task
//! is the one a string gives, and the text `npl!` rebuilds from its tokens
//! is the source as written (comments aside), each token at its line and
//! column; and an NPL error is a compile error at the right place
//! (`npl_errors_are_compile_errors`, over `tests/embed/fail`).

use synth::embedded::EmbeddedTask;

/// `stdlib/increment.npl` written out as tokens.
const INCREMENT_LINE: u32 = line!() + 2;
static INCREMENT: EmbeddedTask = synth::npl! {
    // Adds one to a binary number: trailing pow2 become zeros, then the first
    // zero (or the blank column left of the number) becomes a one.
    task increment

    world scratchpad(rows: 1, cols: n + 1, base: 2) {
      pointer p on row 0 at right
    }

    // The work is in the run of trailing pow2, and a random number has about
    // one: make the run's length uniform in 0..=n instead, so that a test at
    // size 100 means carrying through up to 100 pow2.
    input(n) {
      let k = random_int(0..n + 1)
      let pow2 = 1
      for i in 0..k {
        pow2 = pow2 * 2
      }
      let a = random_number(digits: n) / pow2 * pow2 + pow2 - 1
      write_number(row: 0, a)
    }

    expect read_number(row: 0) == a + 1

    program INCREMENT {
      while p == 1 {
        FLIP()
      }
      write(p, 1)
    }

    program FLIP {
      write(p, 0)
      move(p, left)
    }

    learn npi {
      train sizes 1..=10, traces 64
      test sizes [50, 100]
    }
};

/// The same file read at build time.
static INCREMENT_FILE: EmbeddedTask = synth::include_npl!("stdlib/increment.npl");

/// `stdlib/tableqa.npl` as tokens: strings with `{x}` holes, `|`, `||`,
/// `&&`, `..=`.
static TABLEQA: EmbeddedTask = synth::npl! {
    // The Neural Programmer's synthetic table questions (Neelakantan, Le and
    // Sutskever, ICLR 2016): number columns, a word column, tables of 30 to 100
    // rows in training, single- and multi-column questions, `and`/`or`,
    // difference, print (lookup answers) and word match, each question with
    // paraphrased templates. The learner sees the question's tokens and the
    // table, never the answer expression: it induces the latent program.
    task tableqa

    world table(rows: n) {
      column a
      column b
      column c
      column city: word
    }

    input(n) {
      fill(a, random_list(n, 0..100))
      fill(b, random_list(n, 0..100))
      fill(c, random_list(n, 0..100))
      fill(city, random_words(n, ["oslo", "lima", "rome", "kiev", "doha"]))
    }

    // Single column.
    question "sum of {x}" | "what is the total of {x}" | "add up all {x}" (x: column) { sum(x) }
    question "how many rows have {x} greater than {v}" | "count the rows where {x} is more than {v}"
      (x: column, v: 0..100) { count(where x > v) }
    question "how many rows have {x} less than {v}" | "count the rows where {x} is below {v}"
      (x: column, v: 0..100) { count(where x < v) }
    question "sum of {x} greater than {v}" | "total of the {x} values above {v}"
      (x: column, v: 0..100) { sum(x where x > v) }
    question "print {x} less than {v}" | "list the {x} values below {v}"
      (x: column, v: 0..100) { print(x where x < v) }

    // Multi-column.
    question "sum of {x} where {y} is less than {v}" | "total {x} for rows whose {y} is below {v}"
      (x: column, y: column, v: 0..100) { sum(x where y < v) }
    question "print {x} where {y} is greater than {v}" | "list {x} for rows whose {y} is above {v}"
      (x: column, y: column, v: 0..100) { print(x where y > v) }

    // And, or.
    question "print {x} where {y} is greater than {v} and {z} is less than {w}"
      | "list {x} for rows with {y} above {v} and {z} below {w}"
      (x: column, y: column, z: column, v: 0..100, w: 0..100) { print(x where y > v && z < w) }
    question "how many rows have {y} greater than {v} or {z} less than {w}"
      | "count the rows where {y} is above {v} or {z} is below {w}"
      (y: column, z: column, v: 0..100, w: 0..100) { count(where y > v || z < w) }

    // Word match.
    question "total {x} in {t}" | "sum of {x} where city is {t}" (x: column, t: word of city) { sum(x where city == t) }
    question "how many rows are in {t}" | "count the rows whose city is {t}" (t: word of city) { count(where city == t) }

    // Difference.
    question "difference between sum of {x} where {y} is greater than {v} and where {y} is less than {w}"
      | "how much more {x} is there where {y} is above {v} than where {y} is below {w}"
      (x: column, y: column, v: 0..100, w: 0..100) { sum(x where y > v) - sum(x where y < w) }

    learn np {
      train sizes 30..=100, questions 50000
      test sizes [100, 500, 2000]
      hidden 64
    }
};

fn from_string(stem: &str) -> synth::Task {
    let text = synth::stdlib::get(stem).unwrap();
    match synth::compile(&synth::Source::from_text(format!("stdlib/{stem}.npl"), stem, text)) {
        Ok(c) => c.task,
        Err(d) => panic!("{d:?}"),
    }
}

#[test]
fn embedded_tasks_trace_as_the_task_compiled_from_a_string() {
    let reference = from_string("increment");
    for embedded in [INCREMENT, INCREMENT_FILE] {
        assert_eq!(embedded.name(), "increment");
        let task = embedded.task();
        assert_eq!(task.name, "increment");
        assert_eq!(task.source_hash, reference.source_hash);
        for size in 1..=6 {
            for seed in 0..3 {
                let (a, b) = (task.trace(size, seed).unwrap(), reference.trace(size, seed).unwrap());
                assert_eq!(a, b, "size {size} seed {seed}");
                assert_eq!(task.render_trace(&a), reference.render_trace(&b));
            }
        }
    }
    assert_eq!(INCREMENT_FILE.text(), synth::stdlib::get("increment").unwrap());
    assert_eq!(INCREMENT_FILE.source().display, "stdlib/increment.npl");
}

/// The source's lines without comment lines and blank lines.
fn code_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//")).collect()
}

#[test]
fn npl_rebuilds_the_text_as_written_at_the_rust_lines() {
    let written: Vec<String> = code_lines(TABLEQA.text()).iter().map(|l| l.strip_prefix("    ").unwrap().to_string()).collect();
    assert_eq!(written, code_lines(synth::stdlib::get("tableqa").unwrap()));
    assert_eq!(TABLEQA.task().source_hash, from_string("tableqa").source_hash);

    // The text's line numbers are this file's.
    let text = INCREMENT.text();
    let line = text.lines().position(|l| l.trim() == "task increment").unwrap() + 1;
    let in_file = INCREMENT_LINE as usize + synth::stdlib::get("increment").unwrap().lines().position(|l| l == "task increment").unwrap();
    assert_eq!(line, in_file);
    assert!(INCREMENT.source().display.ends_with("embedded.rs"), "{}", INCREMENT.source().display);
    // `synth check` on it passes, reference runs included.
    let report = synth::check(&INCREMENT.source(), &synth::CheckOptions::default());
    assert!(!report.has_errors(), "{}", report.render(&INCREMENT.source()));
}

#[test]
fn a_task_without_a_task_line_is_named_embedded() {
    const NAMELESS: EmbeddedTask = synth::npl! {
        //! Doc comments, which Rust hands over as attributes, are dropped.
        /// Like `//` comments.
        world scratchpad(rows: 1, cols: n, base: 10) {
          pointer lo on row 0 at left
          pointer hi on row 0 at right
          observe pos(lo) < pos(hi)
        }
        input(n) {
          let xs = random_list(n, 0..10)
          write_list(row: 0, xs)
        }
        expect read_list(row: 0) == reversed(xs)
        program REVERSE {
          while pos(lo) < pos(hi) {
            swap(lo, hi)
            move(lo, right)
            move(hi, left)
          }
        }
    };
    assert_eq!(NAMELESS.name(), "embedded");
    assert_eq!(NAMELESS.task().name, "embedded");
    assert!(!NAMELESS.text().contains("doc"), "{}", NAMELESS.text());
}

/// Where `needle` starts in `text`: 1-based line and column.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap_or_else(|| panic!("no `{needle}`"));
    let line = text[..offset].matches('\n').count() + 1;
    let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Builds `tests/embed/fail/lib.rs` as a crate of its own (depending on
/// `synth-macros` only, offline, in this target directory: seconds once its
/// dependencies are built) and reads rustc's errors: each NPL error is a
/// compile error with `synth check`'s message and hints, at the NPL token
/// (`npl!`) or at the path, naming the file's line and column
/// (`include_npl!`).
#[test]
fn npl_errors_are_compile_errors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/embed/fail");
    let lib = std::fs::read_to_string(fixture.join("lib.rs")).unwrap();
    let bad = std::fs::read_to_string(fixture.join("bad.npl")).unwrap();
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join("npl-compile-fail");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let macros = root.join("macros");
    // The profile gives the macros' third-party dependencies the settings
    // they have in this workspace (`opt-level = 3` for non-members), so that
    // those already built are reused; the path crates are built again, as a
    // path crate's build is keyed by its path relative to the workspace.
    let manifest = format!(
        "[package]\nname = \"npl-compile-fail\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n\
         [dependencies]\nsynth-macros = {{ path = {:?} }}\n\n\
         [profile.dev]\nopt-level = 1\n\n[profile.dev.package.\"*\"]\nopt-level = 3\n\n\
         [profile.dev.package.synth-dsl]\nopt-level = 0\n\n[profile.dev.package.synth-compiler]\nopt-level = 0\n\n\
         [profile.dev.package.synth-macros]\nopt-level = 0\n",
        macros.to_str().unwrap()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's versions, so that nothing is resolved (offline).
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), &lib).unwrap();
    std::fs::write(dir.join("bad.npl"), &bad).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["build", "--offline", "--quiet", "--color", "never", "--lib"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", tmp.parent().unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("due to 4 previous errors"), "{stderr}");

    // `npl!`: the message, label and hint at the misspelt token.
    let (line, column) = position(&lib, "FLP()");
    let expected = format!(
        "error: unknown program `FLP`\n       = label: no program has this name\n       = hint: did you mean `FLIP`?\n  --> src/lib.rs:{line}:{column}\n"
    );
    assert!(stderr.contains(&expected), "expected\n{expected}\nin\n{stderr}");
    let (line, column) = position(&lib, "xs)\n");
    assert!(stderr.contains("error: expected `)` to close the argument list, found `xs`\n"), "{stderr}");
    assert!(stderr.contains(&format!("--> src/lib.rs:{line}:{column}\n")), "{stderr}");

    // A second label names its line and column in this file.
    let (first_line, first_column) = position(&lib, "STEP {\n          move(p, right)");
    let (line, column) = position(&lib, "STEP {\n          move(p, left)");
    let expected = format!(
        "error: the program `STEP` is defined twice\n       = label: defined again here\n       = note: line {first_line}, column {first_column}: first defined here\n       = hint: rename one of them; every program needs its own name\n  --> src/lib.rs:{line}:{column}\n"
    );
    assert!(stderr.contains(&expected), "expected\n{expected}\nin\n{stderr}");

    // `include_npl!`: the diagnostic as `synth check` renders it, at the path.
    let (line, column) = position(&bad, "right\n");
    let column = column + "right".len();
    assert!(stderr.contains("error: expected `)` to close the argument list, found `}`\n"), "{stderr}");
    assert!(stderr.contains(&format!("--> bad.npl:{line}:{column}\n")), "{stderr}");
    assert!(stderr.contains("  move(p, right\n"), "{stderr}");
    let (line, column) = position(&lib, "\"bad.npl\"");
    assert!(stderr.contains(&format!("--> src/lib.rs:{line}:{column}\n")), "{stderr}");
}
