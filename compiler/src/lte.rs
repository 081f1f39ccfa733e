//! Random small programs and their printed output, for the Learning to
//! Execute experiment (Zaremba & Sutskever 2014): a sequence model reads a
//! program's text character by character and predicts what it prints.
//!
//! The programs are NPL statements (the body of an `input` block) ending
//! in `print(EXPR)`, built from the paper's operations: addition and
//! subtraction of numbers, multiplication by a small number, a variable
//! assigned and used, `if`/`else` on a comparison, and a `for` loop that
//! adds to a variable a small number of times. Two knobs set the
//! difficulty, as in the paper: `length`, the digits of the numbers, and
//! `nesting`, how many operations are composed. The same `(length,
//! nesting, seed)` always gives the same program.
//!
//! The output is computed while the program is built; [`Program::source`]
//! wraps it as an NPL task whose `expect` holds exactly when the
//! interpreter prints the same, which the tests check on many programs.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One generated program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The statements, one per line, the last `print(...)`.
    pub text: String,
    /// What it prints: the decimal value of the printed expression.
    pub output: String,
    pub length: usize,
    pub nesting: usize,
}

/// Largest `length` (digits of a number) and `nesting`.
pub const MAX_LENGTH: usize = 18;
pub const MAX_NESTING: usize = 8;

struct Builder {
    rng: ChaCha8Rng,
    length: usize,
    lines: Vec<String>,
    vars: usize,
}

impl Builder {
    /// A number of `1..=length` digits (the paper draws each number's
    /// digits up to the length).
    fn number(&mut self) -> i128 {
        let digits = self.rng.random_range(1..=self.length as u32);
        let hi = 10i128.pow(digits);
        self.rng.random_range(0..hi)
    }

    /// A small number, for multiplications and loop counts: at most 4
    /// times the length, at least 1.
    fn small(&mut self) -> i128 {
        self.rng.random_range(1..=(4 * self.length as i128).max(2))
    }

    fn fresh(&mut self) -> String {
        let name = format!("v{}", self.vars);
        self.vars += 1;
        name
    }

    /// An expression of `depth` composed operations: its text and value.
    /// Operations that need statements (`let`, `if`, `for`) write them to
    /// `lines` and give back their variable.
    fn expr(&mut self, depth: usize) -> (String, i128) {
        if depth == 0 {
            let v = self.number();
            return (v.to_string(), v);
        }
        match self.rng.random_range(0..6) {
            0 => {
                let (a, va) = self.expr(depth - 1);
                let (b, vb) = self.operand();
                (format!("({a} + {b})"), va + vb)
            }
            1 => {
                let (a, va) = self.expr(depth - 1);
                let (b, vb) = self.operand();
                (format!("({a} - {b})"), va - vb)
            }
            2 => {
                let (a, va) = self.expr(depth - 1);
                let k = self.small();
                (format!("({a} * {k})"), va * k)
            }
            3 => {
                // A variable assigned, then used.
                let (a, va) = self.expr(depth - 1);
                let name = self.fresh();
                self.lines.push(format!("let {name} = {a}"));
                (name, va)
            }
            4 => {
                // if/else on a comparison with a number.
                let (a, va) = self.expr(depth - 1);
                let name = self.fresh();
                let c = self.number();
                let (t, e) = (self.number(), self.number());
                self.lines.push(format!("let {name} = {a}"));
                self.lines.push(format!("if {name} > {c} {{ {name} = {name} + {t} }} else {{ {name} = {name} - {e} }}"));
                (name.clone(), if va > c { va + t } else { va - e })
            }
            _ => {
                // A loop adding a number a small number of times.
                let (a, va) = self.expr(depth - 1);
                let name = self.fresh();
                let k = self.small();
                let step = self.number();
                self.lines.push(format!("let {name} = {a}"));
                self.lines.push(format!("for i in 0..{k} {{ {name} = {name} + {step} }}"));
                (name, va + k * step)
            }
        }
    }

    /// The other operand of an addition or subtraction: a number.
    fn operand(&mut self) -> (String, i128) {
        let v = self.number();
        (v.to_string(), v)
    }
}

/// The program of `length` digits and `nesting` operations from `seed`.
///
/// # Panics
/// If `length` is not in `1..=MAX_LENGTH` or `nesting` above `MAX_NESTING`
/// (so that every value fits an `i128`).
pub fn generate(length: usize, nesting: usize, seed: u64) -> Program {
    assert!((1..=MAX_LENGTH).contains(&length) && nesting <= MAX_NESTING, "length {length}, nesting {nesting}");
    let mut b = Builder { rng: ChaCha8Rng::seed_from_u64(seed), length, lines: Vec::new(), vars: 0 };
    let (e, v) = b.expr(nesting);
    b.lines.push(format!("print({e})"));
    Program { text: b.lines.join("\n"), output: v.to_string(), length, nesting }
}

impl Program {
    /// An NPL task whose `input` runs the program (`print(X)` becomes
    /// `let printed = X`) and whose `expect` holds when it prints
    /// [`Program::output`]: how the interpreter checks the generator.
    pub fn source(&self) -> String {
        let body: Vec<String> = self
            .text
            .lines()
            .map(|l| match l.strip_prefix("print(").and_then(|r| r.strip_suffix(')')) {
                Some(e) => format!("  let printed = {e}"),
                None => format!("  {l}"),
            })
            .collect();
        format!(
            "task lte\nworld scratchpad(rows: 1, cols: 1, base: 10) {{\n  pointer p on row 0 at left\n}}\ninput(n) {{\n{}\n}}\nexpect printed == {}\nprogram MAIN {{ return }}\n",
            body.join("\n"),
            self.output
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_program() {
        assert_eq!(generate(4, 3, 7), generate(4, 3, 7));
        assert_ne!(generate(4, 3, 7).text, generate(4, 3, 8).text);
        let p = generate(1, 0, 1);
        assert!(p.text.starts_with("print(") && p.output.len() == 1, "{p:?}");
    }

    /// The interpreter prints what the generator says, on programs of every
    /// difficulty.
    #[test]
    fn the_interpreter_agrees_with_the_output() {
        for length in [1, 2, 4, 9] {
            for nesting in 0..=4 {
                for seed in 0..12 {
                    let p = generate(length, nesting, seed);
                    let task = match crate::compile(&p.source(), "lte") {
                        Ok(c) => c.task,
                        Err(d) => panic!("{}\n{}", p.source(), synth_dsl::render_all(&d, "lte.npl", &p.source())),
                    };
                    let held = task.sample(1, 0).and_then(|i| i.check());
                    assert_eq!(held, Ok(true), "{}", p.source());
                }
            }
        }
    }

    /// Difficulty shows in the text: more nesting, longer programs.
    #[test]
    fn nesting_makes_longer_programs() {
        let mean = |nesting| (0..50).map(|s| generate(4, nesting, s).text.len()).sum::<usize>() / 50;
        assert!(mean(0) < mean(2) && mean(2) < mean(4), "{} {} {}", mean(0), mean(2), mean(4));
    }
}
