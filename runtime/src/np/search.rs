//! Program search: every hard program of the model's length that answers a
//! training question exactly on its table, found by running programs
//! rather than by following the selector, the most likely of them under
//! the selector kept.
//!
//! The soft pass alone has a trap: a question whose answer needs several
//! steps to agree (a difference of two conditional sums) is best answered
//! by the constant 0 while the steps disagree, and the gradient toward the
//! right program vanishes there. Search finds that program from the answer
//! alone, and training then pulls the selector toward it
//! ([`super::model::Np::forward_toward`]).
//!
//! The search is breadth first over the machine's states after each step
//! (the last two row selections and the last three scalars), each state
//! kept once with the first program that reaches it, at most
//! [`Limits::states`] after each step, so that the many programs that
//! compute the same thing are run once. The last step reads only the
//! selection before it and, a difference, two earlier scalars: the states
//! before it are told apart by those alone, and each is tried at once with
//! the last steps that can give the answer (sum, count or difference for a
//! scalar, print for a lookup), so the last two steps are never cut short.
//! Programs whose answer is right by coincidence exist (a count that
//! happens to equal the answer); the selector's likelihood ranks them below
//! the ones that read the question's columns and pivots.

use super::data::{Encoded, Target};
use super::model::{Choice, Np, Workspace, AND, COUNT, DIFF, GREATER, LESSER, OR, PRINT, RESET, SUM, WORD};
use std::collections::{HashMap, HashSet};

/// A row selection as bits.
type Bits = Vec<u64>;

/// The machine between two steps: the last two row selections (ids into
/// the search's interned selections) and the last three scalars, newest
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct State {
    prev: u32,
    prev2: u32,
    s: [i64; 3],
}

/// The distinct row selections of one search, each with its count and
/// its sum over every number column.
struct Selections<'a> {
    e: &'a Encoded,
    cn: usize,
    bits: Vec<Bits>,
    scalars: Vec<(i64, Vec<i64>)>,
    ids: HashMap<Bits, u32>,
    pairs: HashMap<(u8, u32, u32), u32>,
}

impl Selections<'_> {
    fn intern(&mut self, b: Bits) -> u32 {
        if let Some(&id) = self.ids.get(&b) {
            return id;
        }
        let id = self.bits.len() as u32;
        let r = self.e.rows;
        let sums = (0..self.cn).map(|j| ones(&b).map(|i| self.e.values[j * r + i].round() as i64).sum()).collect();
        let count = b.iter().map(|w| w.count_ones() as i64).sum();
        self.scalars.push((count, sums));
        self.ids.insert(b.clone(), id);
        self.bits.push(b);
        id
    }

    /// `and` (0) or `or` (1) of two selections.
    fn combine(&mut self, how: u8, a: u32, b: u32) -> u32 {
        let key = (how, a.min(b), a.max(b));
        if let Some(&id) = self.pairs.get(&key) {
            return id;
        }
        let (x, y) = (&self.bits[a as usize], &self.bits[b as usize]);
        let c = x.iter().zip(y).map(|(p, q)| if how == 0 { p & q } else { p | q }).collect();
        let id = self.intern(c);
        self.pairs.insert(key, id);
        id
    }
}

/// The limits of one search.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most distinct states kept after each step but the last two.
    pub states: usize,
    /// Most right programs scored by the selector.
    pub programs: usize,
}

/// The right program of highest likelihood under `np`, if the search finds
/// one within `limits`.
pub fn search(np: &Np, e: &Encoded, limits: Limits, ws: &mut Workspace) -> Option<Vec<Choice>> {
    let right = right_programs(np, e, limits);
    right.into_iter().map(|p| (np.log_likelihood(&e.question, &p, ws), p)).fold(None, |best: Option<(f32, Vec<Choice>)>, (score, p)| match best {
        Some((b, _)) if b >= score => best,
        _ => Some((score, p)),
    })
    .map(|(_, p)| p)
}

/// Programs of `np`'s length that answer `e` exactly, at most
/// `limits.programs`, in the order the search meets them.
pub fn right_programs(np: &Np, e: &Encoded, limits: Limits) -> Vec<Vec<Choice>> {
    let r = e.rows;
    let words = r.div_ceil(64);
    let t_max = np.config.timesteps;
    if t_max == 0 {
        return Vec::new();
    }
    let bits = |f: &dyn Fn(usize) -> bool| -> Bits {
        let mut b = vec![0u64; words];
        for i in (0..r).filter(|&i| f(i)) {
            b[i / 64] |= 1 << (i % 64);
        }
        b
    };
    let mut sel = Selections { e, cn: np.num.len(), bits: Vec::new(), scalars: Vec::new(), ids: HashMap::new(), pairs: HashMap::new() };
    let all = sel.intern(bits(&|_| true));
    let value = |j: usize, i: usize| e.values[j * r + i].round() as i64;
    // Every selection a comparison or word match can make, with its choice.
    let mut made: Vec<(Choice, u32)> = Vec::new();
    let base = Choice { op: RESET, column: 0, number_column: None, word_column: None, greater: None, lesser: None, word: None };
    for (op, greater) in [(GREATER, true), (LESSER, false)] {
        for (jj, &j) in np.num.iter().enumerate() {
            for (k, &(_, n)) in e.question.numbers.iter().enumerate() {
                let b = sel.intern(bits(&|i| if greater { value(jj, i) > n } else { value(jj, i) < n }));
                let c = Choice { op, column: j, number_column: Some(j), ..base };
                let c = if greater { Choice { greater: Some(k), ..c } } else { Choice { lesser: Some(k), ..c } };
                made.push((c, b));
            }
        }
    }
    for (jj, &j) in np.word.iter().enumerate() {
        for k in 0..e.question.words.len() {
            let b = sel.intern(bits(&|i| e.matches[jj * r + i] as usize == k + 1));
            made.push((Choice { op: WORD, column: j, word_column: Some(j), word: Some(k), ..base }, b));
        }
    }

    // The states after each of the first `t_max - 2` steps, each with the
    // step of the first program that reaches it and the index of the state
    // before that step.
    let mut levels: Vec<Vec<(State, u32, Choice)>> = vec![vec![(State { prev: all, prev2: all, s: [0; 3] }, 0, base)]];
    // A state's successors: every step from it, with the new state.
    let steps = |st: &State, sel: &mut Selections, out: &mut Vec<(Choice, State)>| {
        out.clear();
        let (count, sums) = sel.scalars[st.prev as usize].clone();
        let mut push = |c: Choice, b: u32, scalar: i64| out.push((c, State { prev: b, prev2: st.prev, s: [scalar, st.s[0], st.s[1]] }));
        for (jj, &j) in np.num.iter().enumerate() {
            push(Choice { op: SUM, column: j, number_column: Some(j), ..base }, st.prev, sums[jj]);
        }
        push(Choice { op: COUNT, ..base }, st.prev, count);
        push(Choice { op: DIFF, ..base }, st.prev, st.s[2].saturating_sub(st.s[0]));
        for &(c, b) in &made {
            push(c, b, 0);
        }
        push(Choice { op: AND, ..base }, sel.combine(0, st.prev, st.prev2), 0);
        push(Choice { op: OR, ..base }, sel.combine(1, st.prev, st.prev2), 0);
        push(Choice { op: RESET, ..base }, all, 0);
    };
    let mut succ: Vec<(Choice, State)> = Vec::new();
    for _ in 2..t_max {
        let mut seen = HashSet::new();
        let mut next = Vec::new();
        for (parent, (st, _, _)) in levels.last().expect("a level").iter().enumerate() {
            steps(st, &mut sel, &mut succ);
            for &(c, new) in &succ {
                if seen.insert(new) {
                    next.push((new, parent as u32, c));
                }
            }
            if next.len() >= limits.states {
                break;
            }
        }
        levels.push(next);
    }
    // The program that first reached state `i` of the last level.
    let path = |mut i: usize| -> Vec<Choice> {
        let mut p = Vec::with_capacity(t_max);
        for level in levels[1..].iter().rev() {
            let (_, parent, c) = level[i];
            p.push(c);
            i = parent as usize;
        }
        p.reverse();
        p
    };

    // The last two steps. The last reads only the selection before it and
    // (a difference) the scalars of the steps two and four before the end,
    // so the states before it are told apart by those alone, and each is
    // tried at once with the last steps that can give the answer: sum,
    // count or difference for a scalar, print for a lookup.
    let want = match &e.target {
        Target::Lookup { rows, .. } => Some(bits(&|i| rows.binary_search(&(i as u32)).is_ok())),
        Target::Scalar(_) => None,
    };
    let finals = |st: &State, sel: &Selections, out: &mut Vec<Choice>| {
        out.clear();
        match &e.target {
            Target::Scalar(y) => {
                let y = y.round() as i64;
                let (count, sums) = &sel.scalars[st.prev as usize];
                for (jj, &j) in np.num.iter().enumerate() {
                    if sums[jj] == y {
                        out.push(Choice { op: SUM, column: j, number_column: Some(j), ..base });
                    }
                }
                if *count == y {
                    out.push(Choice { op: COUNT, ..base });
                }
                if st.s[2].saturating_sub(st.s[0]) == y {
                    out.push(Choice { op: DIFF, ..base });
                }
            }
            Target::Lookup { column, .. } => {
                if want.as_ref() == Some(&sel.bits[st.prev as usize]) {
                    out.push(Choice { op: PRINT, column: *column, ..base });
                }
            }
        }
    };
    let mut right = Vec::new();
    let mut last = Vec::new();
    if t_max == 1 {
        finals(&levels[0][0].0, &sel, &mut last);
        right.extend(last.iter().map(|&c| vec![c]));
    } else {
        let mut seen = HashSet::new();
        'all: for (i, (st, _, _)) in levels.last().expect("a level").iter().enumerate() {
            steps(st, &mut sel, &mut succ);
            for &(c, new) in &succ {
                let key = match want {
                    Some(_) => (new.prev, 0, 0),
                    None => (new.prev, new.s[0], new.s[2]),
                };
                if !seen.insert(key) {
                    continue;
                }
                finals(&new, &sel, &mut last);
                for &f in &last {
                    let mut p = path(i);
                    p.push(c);
                    p.push(f);
                    right.push(p);
                    if right.len() >= limits.programs {
                        break 'all;
                    }
                }
            }
        }
    }
    right
}

/// The set bits of `b`.
fn ones(b: &Bits) -> impl Iterator<Item = usize> + '_ {
    b.iter().enumerate().flat_map(|(w, &x)| {
        let mut x = x;
        std::iter::from_fn(move || {
            (x != 0).then(|| {
                let i = x.trailing_zeros() as usize;
                x &= x - 1;
                w * 64 + i
            })
        })
    })
}
