//! The paper's easy tasks as small hand-written tape worlds, for tests,
//! benchmarks and experiments (the real tape worlds come from the
//! compiler). At size `n` the array `A` has `n` elements; every value is
//! in `0..M`; cells the layout does not name hold 0.
//!
//! | task | input tape | output | cells `M` | timesteps |
//! | --- | --- | --- | --- | --- |
//! | `access` | `k, A[0..n], 0` | cell 0 = `A[k]` | `n + 2` | 4 |
//! | `increment` | `A[0..n], 0` | `A[i] + 1` | `n + 2` | `n + 2` |
//! | `copy` | `p, A[0..n], 0..` with `p = n + 1` | `A` at `p..p+n` | `2n + 2` | `n + 2` |
//! | `reverse` | as `copy` | `A` reversed at `p..p+n` | `2n + 2` | `n + 2` |
//! | `swap` | `p, q, A[0..n], 0` | `A[p]` and `A[q]` swapped | `n + 3` | 6 |
//!
//! Array values are drawn from `1..M` (`1..M-1` for `increment`, so that
//! the result stays below `M`); the graded cells are those the task writes.

use crate::env::{TapeEnvironment, TaskError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synth_compiler::{LearnSpec, TapeExample};

/// One of the toy tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toy {
    Access,
    Increment,
    Copy,
    Reverse,
    Swap,
}

impl Toy {
    pub const ALL: [Toy; 5] = [Toy::Access, Toy::Increment, Toy::Copy, Toy::Reverse, Toy::Swap];

    pub fn name(self) -> &'static str {
        match self {
            Toy::Access => "access",
            Toy::Increment => "increment",
            Toy::Copy => "copy",
            Toy::Reverse => "reverse",
            Toy::Swap => "swap",
        }
    }

    /// The input/output pair at size `n` (at least 1) and `seed`.
    pub fn example(self, n: usize, seed: u64) -> TapeExample {
        let n = n.max(1);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (n as u64) << 32);
        let cells = match self {
            Toy::Access | Toy::Increment => n + 2,
            Toy::Copy | Toy::Reverse => 2 * n + 2,
            Toy::Swap => n + 3,
        };
        let top = (if self == Toy::Increment { cells - 1 } else { cells }) as u32;
        let array: Vec<u32> = (0..n).map(|_| rng.random_range(1..top)).collect();
        let mut input = vec![0u32; cells];
        let (mut output, graded): (Vec<u32>, Vec<u32>);
        let timesteps;
        match self {
            Toy::Access => {
                let k = rng.random_range(0..n);
                input[0] = k as u32;
                input[1..=n].copy_from_slice(&array);
                output = input.clone();
                output[0] = array[k];
                graded = vec![0];
                timesteps = 4;
            }
            Toy::Increment => {
                input[..n].copy_from_slice(&array);
                output = input.clone();
                for v in &mut output[..n] {
                    *v += 1;
                }
                graded = (0..n as u32).collect();
                timesteps = n + 2;
            }
            Toy::Copy | Toy::Reverse => {
                let p = n + 1;
                input[0] = p as u32;
                input[1..=n].copy_from_slice(&array);
                output = input.clone();
                for i in 0..n {
                    output[p + i] = if self == Toy::Copy { array[i] } else { array[n - 1 - i] };
                }
                graded = (p as u32..(p + n) as u32).collect();
                timesteps = n + 2;
            }
            Toy::Swap => {
                let (p, q) = (rng.random_range(0..n), rng.random_range(0..n));
                input[0] = p as u32;
                input[1] = q as u32;
                input[2..2 + n].copy_from_slice(&array);
                output = input.clone();
                output.swap(2 + p, 2 + q);
                let mut g = vec![(2 + p) as u32, (2 + q) as u32];
                g.sort_unstable();
                g.dedup();
                graded = g;
                timesteps = 6;
            }
        }
        TapeExample { size: n, seed, cells, timesteps, input, output, graded }
    }
}

/// A toy task as a [`TapeEnvironment`], with a `learn` block of its own.
pub struct ToyEnv {
    pub toy: Toy,
    pub learn: LearnSpec,
}

impl ToyEnv {
    /// `toy` trained on sizes `train_sizes`, with no other settings.
    pub fn new(toy: Toy, train_sizes: Vec<usize>) -> ToyEnv {
        let learn = LearnSpec { learner: "nram".into(), train_sizes, traces: 0, test_sizes: Vec::new(), steps: None, time: None, seed: None, settings: Default::default() };
        ToyEnv { toy, learn }
    }
}

impl TapeEnvironment for ToyEnv {
    fn name(&self) -> &str {
        self.toy.name()
    }
    fn source_hash(&self) -> &str {
        "toy"
    }
    fn learn(&self) -> &LearnSpec {
        &self.learn
    }
    fn example(&self, size: usize, seed: u64) -> Result<TapeExample, TaskError> {
        if size == 0 {
            return Err(TaskError::new(format!("{} has no examples of size 0", self.toy.name())));
        }
        Ok(self.toy.example(size, seed))
    }
    fn program_modules(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_well_formed_and_seeded() {
        for toy in Toy::ALL {
            for n in 1..6 {
                let e = toy.example(n, 3);
                crate::nram::fuzzy::check_example(&e).unwrap();
                assert_eq!(e, toy.example(n, 3));
                for c in 0..e.cells as u32 {
                    let changed = e.input[c as usize] != e.output[c as usize];
                    assert!(!changed || e.graded.contains(&c), "{toy:?} changes ungraded cell {c}");
                }
            }
        }
        let e = Toy::Copy.example(3, 1);
        assert_eq!(&e.output[4..7], &e.input[1..4]);
        let e = Toy::Reverse.example(3, 1);
        assert_eq!(e.output[4], e.input[3]);
    }
}
