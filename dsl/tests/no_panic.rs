//! The parser never panics, whatever it is given: seeded random text over
//! the characters NPL uses, and seeded mutations of every stdlib task. Each
//! diagnostic it returns must also point inside the source, on character
//! boundaries, and render. Deterministic (a fixed-seed xorshift) and
//! bounded to run in about a second.

use synth_dsl::{parse, Diagnostic};

/// xorshift64*: tiny, seeded, good enough to pick characters and offsets.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parses `src` and checks what it returned.
fn check(src: &str) {
    let (_, diags) = parse(src);
    for d in &diags {
        check_diag(d, src);
    }
}

fn check_diag(d: &Diagnostic, src: &str) {
    let spans = d.span.iter().copied().chain(d.labels.iter().map(|l| l.span));
    for s in spans {
        assert!(s.start <= s.end && (s.end as usize) <= src.len(), "span {s:?} outside {src:?}: {d:?}");
        assert!(src.is_char_boundary(s.start as usize) && src.is_char_boundary(s.end as usize), "{src:?}: {d:?}");
    }
    assert!(d.is_error());
    assert!(!d.message.is_empty() && !d.message.ends_with('.'), "{d:?}");
    let _ = d.render("fuzz.npl", src);
}

/// Random text weighted towards NPL's own pieces, so that the parser gets
/// deep into the grammar instead of failing on the first character.
#[test]
fn random_text() {
    const PIECES: &[&str] = &[
        "task", "world", "input", "expect", "program", "question", "learn", "entry", "let", "if", "else", "while",
        "for", "in", "return", "true", "blank", "left", "right", "pointer", "on", "row", "at", "observe", "x", "ADD",
        "f", "0", "10", "3e-4", "1.5", "..", "..=", "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "!",
        "=", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ";", "\"", "\"s\"", "//", " ", " ", "  ", "\n", "\n",
        "\t", "\\", "$", "é", "≤", "\r\n",
    ];
    let mut rng = Rng::new(0x5eed_1234);
    for _ in 0..3000 {
        let len = rng.below(60);
        let mut src = String::new();
        for _ in 0..len {
            if rng.below(4) == 0 {
                // A raw printable ASCII character, newline or brace.
                let c = match rng.below(100) {
                    0..=7 => '\n',
                    8..=11 => '{',
                    12..=15 => '}',
                    _ => (b' ' + rng.below(95) as u8) as char,
                };
                src.push(c);
            } else {
                src.push_str(PIECES[rng.below(PIECES.len())]);
                src.push(' ');
            }
        }
        check(&src);
    }
}

/// Random bytes from printable ASCII, newlines and braces only.
#[test]
fn random_ascii() {
    let mut rng = Rng::new(42);
    for _ in 0..3000 {
        let len = rng.below(80);
        let src: String = (0..len)
            .map(|_| match rng.below(10) {
                0 => '\n',
                1 => ['{', '}', '(', ')'][rng.below(4)],
                _ => (b' ' + rng.below(95) as u8) as char,
            })
            .collect();
        check(&src);
    }
}

/// Deletes, inserts and duplicates random spans of every stdlib task.
#[test]
fn mutated_stdlib() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../stdlib");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("stdlib directory")
        .map(|e| e.expect("stdlib entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "npl"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    const INSERTS: &[&str] =
        &["{", "}", "(", ")", "[", "]", "\"", "\n", ",", ":", "=", "..", "+", "while ", "program ", "é", "//"];
    for (k, path) in files.iter().enumerate() {
        let original = std::fs::read_to_string(path).expect("readable stdlib file");
        let mut rng = Rng::new(0xc0ffee + k as u64);
        for _ in 0..400 {
            let mut src = original.clone();
            for _ in 0..1 + rng.below(3) {
                let (a, b) = random_span(&mut rng, &src);
                match rng.below(3) {
                    0 => src.replace_range(a..b, ""),
                    1 => src.insert_str(a, INSERTS[rng.below(INSERTS.len())]),
                    _ => {
                        let piece = src[a..b].to_string();
                        src.insert_str(b, &piece);
                    }
                }
            }
            check(&src);
        }
    }
}

/// A random span of at most 40 bytes, on character boundaries.
fn random_span(rng: &mut Rng, src: &str) -> (usize, usize) {
    let floor = |mut i: usize| {
        while !src.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let a = floor(rng.below(src.len() + 1));
    let b = floor((a + rng.below(41)).min(src.len()));
    (a, b.max(a))
}

/// Pathological shapes: very deep, very long, unbalanced.
#[test]
fn pathological_inputs() {
    let n = 50_000;
    let cases = [
        "(".repeat(n),
        ")".repeat(n),
        "{".repeat(n),
        "}".repeat(n),
        "[".repeat(n),
        format!("expect {}", "-".repeat(n)),
        format!("expect {}", "!".repeat(n)),
        format!("expect 1{}", "+1".repeat(n)),
        format!("expect x{}", "[0]".repeat(n)),
        format!("expect {}", "f(".repeat(n)),
        format!("program P {{ {} }}", "while x { ".repeat(n)),
        format!("program P {{\n{}}}", "if x {\n".repeat(n)),
        format!("expect {}", "9".repeat(n)),
        "\"".repeat(n),
        "programm\n".repeat(1000),
        "task\n".repeat(1000),
    ];
    for src in &cases {
        check(src);
    }
}
