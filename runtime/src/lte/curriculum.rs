//! Which difficulty each training program is drawn at: the four strategies
//! of Learning to Execute (Zaremba & Sutskever 2014, section 4), over the
//! two knobs of [`synth_compiler::lte::generate`].
//!
//! - `none`: every program at the target difficulty.
//! - `naive`: every program at the current level, which starts at length
//!   1, nesting 1 and is raised when the model masters it: the length by
//!   one up to the target, then the nesting by one with the length back
//!   at 1.
//! - `mixed`: every program at a length and a nesting drawn uniformly up
//!   to the target's.
//! - `combined`: each program is mixed with probability 1/5, else at the
//!   naive level (the proportion of the authors' code).
//!
//! `none` and `mixed` stand at the target from the start: for them the
//! level only decides where validation is scored.

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    None,
    Naive,
    Mixed,
    Combined,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Strategy::None, Strategy::Naive, Strategy::Mixed, Strategy::Combined];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::None => "none",
            Strategy::Naive => "naive",
            Strategy::Mixed => "mixed",
            Strategy::Combined => "combined",
        }
    }

    pub fn parse(s: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Whether the strategy climbs from the easiest level.
    fn climbs(self) -> bool {
        matches!(self, Strategy::Naive | Strategy::Combined)
    }
}

/// One difficulty: digits per number and composed operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Level {
    pub length: usize,
    pub nesting: usize,
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "length {}, nesting {}", self.length, self.nesting)
    }
}

/// Share of a combined batch drawn as mixed.
const COMBINED_MIXED: f64 = 0.2;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Curriculum {
    pub strategy: Strategy,
    pub target: Level,
    /// The level the curriculum stands at.
    pub current: Level,
}

impl Curriculum {
    pub fn new(strategy: Strategy, target: Level) -> Curriculum {
        let current = if strategy.climbs() { Level { length: 1, nesting: 1 } } else { target };
        Curriculum { strategy, target, current }
    }

    /// The difficulty of the next training program.
    pub fn draw(&self, rng: &mut impl Rng) -> Level {
        let mixed = |rng: &mut dyn rand::RngCore| Level { length: rng.random_range(1..=self.target.length), nesting: rng.random_range(1..=self.target.nesting) };
        match self.strategy {
            Strategy::None => self.target,
            Strategy::Naive => self.current,
            Strategy::Mixed => mixed(rng),
            Strategy::Combined => {
                if rng.random_bool(COMBINED_MIXED) {
                    mixed(rng)
                } else {
                    self.current
                }
            }
        }
    }

    /// Raises the current level one step; false when it is the target.
    pub fn harder(&mut self) -> bool {
        let (c, t) = (&mut self.current, self.target);
        if c.length < t.length {
            c.length += 1;
        } else if c.nesting < t.nesting {
            c.nesting += 1;
            c.length = 1;
        } else {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn naive_raises_the_length_then_the_nesting() {
        let mut c = Curriculum::new(Strategy::Naive, Level { length: 2, nesting: 2 });
        let mut seen = vec![c.current];
        while c.harder() {
            seen.push(c.current);
        }
        let l = |length, nesting| Level { length, nesting };
        assert_eq!(seen, vec![l(1, 1), l(2, 1), l(1, 2), l(2, 2)]);
        assert_eq!(Curriculum::new(Strategy::Mixed, l(3, 2)).current, l(3, 2));
    }

    #[test]
    fn each_strategy_draws_what_it_says() {
        let target = Level { length: 4, nesting: 3 };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let draws = |s: Strategy, rng: &mut rand_chacha::ChaCha8Rng| (0..1000).map(|_| Curriculum::new(s, target).draw(rng)).collect::<Vec<_>>();
        assert!(draws(Strategy::None, &mut rng).iter().all(|&l| l == target));
        assert!(draws(Strategy::Naive, &mut rng).iter().all(|&l| l == Level { length: 1, nesting: 1 }));
        let mixed = draws(Strategy::Mixed, &mut rng);
        assert!(mixed.iter().all(|l| (1..=4).contains(&l.length) && (1..=3).contains(&l.nesting)));
        assert!(mixed.contains(&target) && mixed.contains(&Level { length: 1, nesting: 1 }));
        let combined = draws(Strategy::Combined, &mut rng);
        let easiest = combined.iter().filter(|l| l.length == 1 && l.nesting == 1).count();
        // 4/5 at the level, plus the mixed draws that land there (1/12 of 1/5).
        assert!((780..=880).contains(&easiest), "{easiest}");
        assert_eq!(Strategy::parse("combined"), Some(Strategy::Combined));
    }
}
